-- wrk script for scripts/bench-fairness: customers fetching the RubyGems source as Bundler does,
-- each with its own download credential (CHARTER_BENCH_CREDENTIALS: the Authorization values,
-- "Basic …", separated by commas), /rubygems/versions and /rubygems/info/NAME (NAME from
-- CHARTER_BENCH_INFO) in turn, each connection pausing CHARTER_BENCH_DELAY_MS between requests
-- (a customer's client is not a closed loop; the latency wrk reports excludes the pause).
local auths = {}
for value in string.gmatch(os.getenv("CHARTER_BENCH_CREDENTIALS"), "[^,]+") do
   table.insert(auths, value)
end
local info = "/rubygems/info/" .. os.getenv("CHARTER_BENCH_INFO")
local pause = tonumber(os.getenv("CHARTER_BENCH_DELAY_MS") or "10")
local counter = 0

request = function()
   counter = counter + 1
   local auth = auths[(counter % #auths) + 1]
   local path = (counter % 2 == 0) and "/rubygems/versions" or info
   return wrk.format("GET", path, { ["Authorization"] = auth })
end

delay = function()
   return pause
end
