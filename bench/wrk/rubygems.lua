-- wrk script for scripts/bench-rubygems: GET of one /rubygems/ index with the license key as
-- HTTP Basic credentials (CHARTER_BENCH_AUTH, the whole header value "Basic …"); when
-- CHARTER_BENCH_ETAG is set, If-None-Match with that ETag (Bundler's request with a warm
-- cache); when CHARTER_BENCH_GZIP is set, Accept-Encoding: gzip (Bundler's first request).
wrk.headers["Authorization"] = os.getenv("CHARTER_BENCH_AUTH")
local etag = os.getenv("CHARTER_BENCH_ETAG")
if etag ~= nil and etag ~= "" then
   wrk.headers["If-None-Match"] = etag
end
local gzip = os.getenv("CHARTER_BENCH_GZIP")
if gzip ~= nil and gzip ~= "" then
   wrk.headers["Accept-Encoding"] = "gzip"
end
