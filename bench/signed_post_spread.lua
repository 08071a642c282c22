-- wrk script: POST one pre-signed Slack request over and over, spreading wrk's threads over several replicas.
-- Usage: BENCH_PORTS="18082 18083" wrk -t2 -s signed_post_spread.lua http://127.0.0.1:18082/PATH -- BODYFILE TIMESTAMP SIGNATURE
--   thread i sends to port i of BENCH_PORTS (round robin; the URL's host is kept, its port is replaced); without
--   BENCH_PORTS every thread uses the URL's. Prints the same RESULT line as ../shared/bench/signed_post.lua.
local threads = 0

function setup(thread)
  threads = threads + 1
  local ports = {}
  for port in string.gmatch(os.getenv("BENCH_PORTS") or "", "%d+") do table.insert(ports, port) end
  if #ports > 0 then
    thread.addr = wrk.lookup(wrk.host, ports[(threads - 1) % #ports + 1])[1]
  end
end

local body_file, ts, sig
function init(args)
  body_file, ts, sig = args[1], args[2], args[3]
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
  wrk.headers["X-Slack-Request-Timestamp"] = ts
  wrk.headers["X-Slack-Signature"] = sig
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_s=%.2f rps=%.1f p50_ms=%.3f p99_ms=%.3f non2xx=%d sockerr=%d\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
