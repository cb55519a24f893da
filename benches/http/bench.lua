-- wrk script for benches/http/run.sh. The scenario comes from $SCENARIO:
--   get     GET  /bench/book/{random id 1..100000}
--   filter  GET  /bench/book?author_id=eq.{random 1..1000}&order=published.desc,id&limit=20
--   embed   GET  /bench/book?select=id,title,author(name)&id=gt.{random 0..99980}&order=id&limit=20
--   create  POST /bench/book  (Prefer: return=representation, random author)
-- Every thread draws from its own fixed seed, so both servers get the same
-- sequence of requests. done() prints one machine-readable RESULT line.

local scenario = os.getenv("SCENARIO") or "get"
local threads = 0

function setup(thread)
   threads = threads + 1
   thread:set("tid", threads)
end

function init(args)
   math.randomseed(7919 * (tid or 1))
   -- baas+auth: every request signed in (run.sh exports the credentials).
   if os.getenv("SIGNED") == "1" then
      wrk.headers["apikey"] = os.getenv("APIKEY")
      wrk.headers["Authorization"] = "Bearer " .. os.getenv("BEARER")
   end
   if scenario == "create" then
      wrk.method = "POST"
      wrk.headers["Content-Type"] = "application/json"
      wrk.headers["Prefer"] = "return=representation"
   end
end

function request()
   if scenario == "get" then
      return wrk.format(nil, "/bench/book/" .. math.random(1, 100000))
   elseif scenario == "filter" then
      return wrk.format(nil, "/bench/book?author_id=eq." .. math.random(1, 1000)
         .. "&order=published.desc,id&limit=20")
   elseif scenario == "embed" then
      return wrk.format(nil, "/bench/book?select=id,title,author(name)&id=gt."
         .. math.random(0, 99980) .. "&order=id&limit=20")
   else
      local body = '{"title":"Load test book","author_id":' .. math.random(1, 1000)
         .. ',"published":"2024-05-01","price":"19.99","pages":321}'
      return wrk.format(nil, "/bench/book", nil, body)
   end
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("RESULT rps=%.1f p50_us=%d p99_us=%d max_us=%d requests=%d non2xx=%d socket_errors=%d\n",
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99), latency.max, summary.requests,
      e.status, e.connect + e.read + e.write + e.timeout))
end
