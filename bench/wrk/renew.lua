-- wrk script for scripts/bench-server: POST /v1/licenses/{id}/renew {"by":"1d"} with an admin
-- token (CHARTER_BENCH_TOKEN), round-robin over the licenses listed one per line in the file
-- CHARTER_BENCH_RENEW_IDS, each wrk thread starting at another place in the list. Each request
-- signs and stores a new version of a license's key (a day later than the one before it).
local ids = {}
for line in io.lines(os.getenv("CHARTER_BENCH_RENEW_IDS")) do
   if line ~= "" then
      ids[#ids + 1] = line
   end
end
local threads = 0

function setup(thread)
   thread:set("thread_number", threads)
   threads = threads + 1
end

local counter = 0
local headers = {
   ["Content-Type"] = "application/json",
   ["Authorization"] = "Bearer " .. os.getenv("CHARTER_BENCH_TOKEN"),
}

request = function()
   counter = counter + 1
   local id = ids[((counter + (thread_number or 0) * 7919) % #ids) + 1]
   return wrk.format("POST", "/v1/licenses/" .. id .. "/renew", headers, '{"by":"1d"}')
end
