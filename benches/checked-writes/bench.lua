-- wrk script for benches/checked-writes/run.sh: POST one row with
-- `Prefer: return=representation`; $SELECT is the representation's select.
-- done() prints one machine-readable RESULT line.
local select = os.getenv("SELECT") or "id,code"
local counter = 0

function init(args)
   wrk.method = "POST"
   wrk.headers["Content-Type"] = "application/json"
   wrk.headers["Prefer"] = "return=representation"
end

function request()
   counter = counter + 1
   local body = '{"code":"' .. (counter % 1000) .. '","n":' .. counter .. '}'
   return wrk.format(nil, "/w/item?select=" .. select, nil, body)
end

function done(summary, latency, requests)
   local e = summary.errors
   io.write(string.format("RESULT rps=%.1f p50_us=%d p99_us=%d requests=%d non2xx=%d\n",
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99), summary.requests, e.status))
end
