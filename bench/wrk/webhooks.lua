-- wrk script for scripts/bench-webhooks: POST /v1/webhooks/stripe, each request the next line
-- of the file CHARTER_BENCH_EVENTS ("<Stripe-Signature>\t<body>", made and signed by the script),
-- the wrk threads taking alternate lines, so every event is delivered once while the file lasts
-- (after that, redeliveries: counted apart by the script from the database).
local events = {}
for line in io.lines(os.getenv("CHARTER_BENCH_EVENTS")) do
   local tab = line:find("\t", 1, true)
   if tab then
      events[#events + 1] = { line:sub(1, tab - 1), line:sub(tab + 1) }
   end
end
local threads = 0

function setup(thread)
   thread:set("thread_number", threads)
   threads = threads + 1
end

local counter = 0

request = function()
   local at = ((counter * 2 + (thread_number or 0)) % #events) + 1
   counter = counter + 1
   local event = events[at]
   return wrk.format("POST", "/v1/webhooks/stripe",
      { ["Content-Type"] = "application/json", ["Stripe-Signature"] = event[1] }, event[2])
end
