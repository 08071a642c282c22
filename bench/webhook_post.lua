-- wrk script: POST /hooks/detections with a distinct detection id in every request, so that dedupe
-- (the same id twice is "duplicate" and writes nothing) never short-circuits the ingest path.
-- Usage: wrk -s webhook_post.lua URL -- TOKEN RUN_TAG [SUBJECTS_PER_THREAD]
--   ids are "bench-RUN_TAG-THREAD-N"; the subject ip cycles through SUBJECTS_PER_THREAD addresses
--   (10.THREAD.x.1-254, default 256), so the first detection of each ip creates an alert and the rest are
--   grouped onto it, as a real engine's repeated findings are.
-- BENCH_PORTS="18082 18083" spreads wrk's threads over several replicas (thread i to port i, round robin; the URL's
-- host is kept, its port replaced).
-- Prints one RESULT line: requests, rps, accepted (202) and accepted/s, duplicates, p50/p99 in ms,
-- responses >= 400 (non2xx, wrk's count) and socket errors.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
  local ports = {}
  for port in string.gmatch(os.getenv("BENCH_PORTS") or "", "%d+") do table.insert(ports, port) end
  if #ports > 0 then
    thread.addr = wrk.lookup(wrk.host, ports[(#threads - 1) % #ports + 1])[1]
  end
end

local token, tag, subjects
local counter = 0
-- Globals, not locals: done() reads them from each thread with thread:get.
accepted, duplicates = 0, 0

function init(args)
  token, tag, subjects = args[1], args[2], tonumber(args[3] or "256")
  assert(token and tag, "usage: wrk -s webhook_post.lua URL -- TOKEN RUN_TAG [SUBJECTS_PER_THREAD]")
  wrk.method = "POST"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Authorization"] = "Bearer " .. token
end

function request()
  counter = counter + 1
  local n = (counter - 1) % subjects
  local ip = string.format("10.%d.%d.%d", tid % 256, math.floor(n / 254) % 256, n % 254 + 1)
  local body = string.format(
    '{"id":"bench-%s-%d-%d","detection":"slack.failed_logins_by_ip","severity":"high",' ..
    '"title":"Failed logins from %s","summary":"25 failed logins in 10 minutes",' ..
    '"subject":{"ip":"%s"},"evidence":{"failed_logins":25,"window":"10m"}}',
    tag, tid, counter, ip, ip)
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 202 then
    accepted = accepted + 1
    if body and string.find(body, '"duplicate"', 1, true) then duplicates = duplicates + 1 end
  end
end

function done(summary, latency, requests)
  local ok, dup = 0, 0
  for _, thread in ipairs(threads) do
    ok = ok + (thread:get("accepted") or 0)
    dup = dup + (thread:get("duplicates") or 0)
  end
  local seconds = summary.duration / 1e6
  io.write(string.format(
    "RESULT requests=%d duration_s=%.2f rps=%.1f accepted=%d accepted_rps=%.1f duplicates=%d p50_ms=%.3f p99_ms=%.3f non2xx=%d sockerr=%d\n",
    summary.requests, seconds, summary.requests / seconds, ok, ok / seconds, dup,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
