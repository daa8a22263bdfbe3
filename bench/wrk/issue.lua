-- wrk script for scripts/bench-server: POST /v1/licenses, a distinct body per request (an
-- order number made of the wrk thread's number and a counter), with an admin token
-- (CHARTER_BENCH_TOKEN) for the customer CHARTER_BENCH_CUSTOMER.
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
local customer = os.getenv("CHARTER_BENCH_CUSTOMER")

request = function()
   counter = counter + 1
   local body = string.format('{"product":"acme-pro","customer":"%s","seats":5,"entitlements":["sso"],"meta":{"order":"T%d-%d"}}',
      customer, thread_number, counter)
   return wrk.format("POST", "/v1/licenses", headers, body)
end
