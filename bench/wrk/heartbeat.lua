-- wrk script for scripts/bench-heartbeats: POST /v1/activations/{id}/heartbeat with the license
-- key (CHARTER_BENCH_KEY) as Bearer, round-robin over the activations listed one per line in the
-- file CHARTER_BENCH_ACTIVATION_IDS, each wrk thread starting at another place in the list. Each
-- request renews a lease in the database and signs a new activation token.
local ids = {}
for line in io.lines(os.getenv("CHARTER_BENCH_ACTIVATION_IDS")) do
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
   ["Authorization"] = "Bearer " .. os.getenv("CHARTER_BENCH_KEY"),
}

request = function()
   counter = counter + 1
   local id = ids[((counter + (thread_number or 0) * 7919) % #ids) + 1]
   return wrk.format("POST", "/v1/activations/" .. id .. "/heartbeat", headers, "")
end
