-- wrk script for scripts/bench-server: POST /v1/validate with one valid license key
-- (CHARTER_BENCH_KEY) for the product acme-pro, on every request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"key":"' .. os.getenv("CHARTER_BENCH_KEY") .. '","product":"acme-pro"}'
