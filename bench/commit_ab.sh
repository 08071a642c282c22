#!/usr/bin/env bash
# Two `sentry serve` on SQLite side by side, A and B, both answering the Slack simulator, alternated for ROUNDS
# rounds of DURATION per path: signed `/sentry help`, signed `ack` clicks on one alert, then webhook detections
# (bench/webhook_post.lua). By default A and B are the same build with SENTRY_SQLITE_COMMIT_BATCH=1 (each
# transaction commits alone) and =64 (the default): group commit on and off. BIN_A and BIN_B compare two builds
# (set BATCH_A=64 too). Prints wrk's RESULT line per run, then the medians of each path and the ratio B/A.
# Knobs: SENTRY_BIN (.build/release/sentry), BIN_A, BIN_B (SENTRY_BIN), BATCH_A (1), BATCH_B (64), DURATION (8s),
# ROUNDS (3), CONNECTIONS (32). Needs wrk and python3; listens on 127.0.0.1:18181, 18182 and 18191 only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="$root/../shared/bench"
bin=${SENTRY_BIN:-$root/.build/release/sentry}
declare -A binary=([A]=${BIN_A:-$bin} [B]=${BIN_B:-$bin}) batch=([A]=${BATCH_A:-1} [B]=${BATCH_B:-64}) port=([A]=18181 [B]=18182)
duration=${DURATION:-8s} rounds=${ROUNDS:-3} connections=${CONNECTIONS:-32}
secret="bench-secret-0123456789" token="bench-webhook-token"
for side in A B; do
  [ -x "${binary[$side]}" ] || { echo "no sentry binary at ${binary[$side]} (swift build -c release --product sentry, or set BIN_$side)" >&2; exit 1; }
done
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

"${binary[A]}" slack-simulator --port 18191 --token xoxb-bench-not-real >"$work/simulator.log" 2>&1 & pids+=($!)
for side in A B; do
  env SLACK_SIGNING_SECRET=$secret SLACK_BOT_TOKEN=xoxb-bench-not-real SLACK_ALERT_CHANNEL=C0BENCH \
    SLACK_API_URL=http://127.0.0.1:18191/api SENTRY_WEBHOOK_TOKEN=$token SENTRY_PLAYBOOKS="$root/Playbooks" \
    SENTRY_HTTP_HOST=127.0.0.1 SENTRY_LOG_LEVEL=warning SENTRY_DATABASE_URL="sqlite:$work/$side.db" \
    SENTRY_HTTP_PORT=${port[$side]} SENTRY_SQLITE_COMMIT_BATCH=${batch[$side]} "${binary[$side]}" serve >"$work/$side.log" 2>&1 & pids+=($!)
done
for side in A B; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:${port[$side]}/readyz" && break; sleep 0.1; done
  alert=$(curl -sf -X POST "http://127.0.0.1:${port[$side]}/hooks/detections" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $token" -d '{"id":"bench-1","detection":"slack.failed_logins_by_ip","subject":{"ip":"203.0.113.7"}}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["alert_id"])')
  python3 "$root/bench/bench_tools.py" ack-form "$alert" 18191 >"$work/ack$side.form"
done
echo "A: ${binary[A]} batch ${batch[A]}; B: ${binary[B]} batch ${batch[B]}"
signed() { # side path form: wrk with the form signed now (Slack's window is 5 minutes)
  local ts sig
  read -r ts sig < <(python3 "$shared/sign.py" "$secret" "$3")
  wrk -t2 -c"$connections" -d"$duration" --latency -s "$shared/signed_post.lua" "http://127.0.0.1:${port[$1]}$2" -- "$3" "$ts" "$sig" | grep '^RESULT'
}
for round in $(seq 1 "$rounds"); do
  for side in A B; do echo "round $round $side slash $(signed $side /slack/commands "$shared/slash_help.form")"; done
  for side in A B; do echo "round $round $side clicks $(signed $side /slack/interactivity "$work/ack$side.form")"; done
  for side in A B; do
    echo "round $round $side webhooks $(wrk -t2 -c"$connections" -d"$duration" --latency -s "$root/bench/webhook_post.lua" \
      "http://127.0.0.1:${port[$side]}/hooks/detections" -- "$token" "ab$round-$side" 256 | grep '^RESULT')"
  done
done | tee "$work/runs"
python3 - "$work/runs" <<'PY'
import re, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    _, _, side, path = line.split()[:4]
    rps, p99 = (float(re.search(pattern, line).group(1)) for pattern in (r" rps=([\d.]+)", r"p99_ms=([\d.]+)"))
    runs.setdefault(path, {}).setdefault(side, []).append((rps, p99))
for path, sides in runs.items():
    a, b = (statistics.median(r for r, _ in sides[s]) for s in "AB")
    p99 = {s: statistics.median(p for _, p in sides[s]) for s in "AB"}
    print(f"median {path}: A {a:,.0f}/s (p99 {p99['A']:.1f} ms), B {b:,.0f}/s (p99 {p99['B']:.1f} ms), B/A {b / a:.2f}x")
PY
