#!/usr/bin/env bash
# Group commit on and off in one run: two `sentry serve` on SQLite, SENTRY_SQLITE_COMMIT_BATCH=1 (each transaction
# commits alone) and =64 (the default), both answering the Slack simulator; signed `ack` clicks on one alert, then
# webhook detections (bench/webhook_post.lua), alternated between the two for ROUNDS rounds of DURATION each.
# Prints wrk's RESULT line per run; take the medians. Knobs: SENTRY_BIN (.build/release/sentry), DURATION (8s),
# ROUNDS (3), CONNECTIONS (32). Needs wrk and python3; listens on 127.0.0.1:18181, 18182 and 18191 only.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="$root/../shared/bench"
bin=${SENTRY_BIN:-$root/.build/release/sentry}
duration=${DURATION:-8s} rounds=${ROUNDS:-3} connections=${CONNECTIONS:-32}
secret="bench-secret-0123456789" token="bench-webhook-token"
[ -x "$bin" ] || { echo "no sentry binary at $bin (swift build -c release --product sentry, or set SENTRY_BIN)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 1; }
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT
declare -A port=([1]=18181 [64]=18182)

"$bin" slack-simulator --port 18191 --token xoxb-bench-not-real >"$work/simulator.log" 2>&1 & pids+=($!)
for batch in 1 64; do
  env SLACK_SIGNING_SECRET=$secret SLACK_BOT_TOKEN=xoxb-bench-not-real SLACK_ALERT_CHANNEL=C0BENCH \
    SLACK_API_URL=http://127.0.0.1:18191/api SENTRY_WEBHOOK_TOKEN=$token SENTRY_PLAYBOOKS="$root/Playbooks" \
    SENTRY_HTTP_HOST=127.0.0.1 SENTRY_LOG_LEVEL=warning SENTRY_DATABASE_URL="sqlite:$work/batch$batch.db" \
    SENTRY_HTTP_PORT=${port[$batch]} SENTRY_SQLITE_COMMIT_BATCH=$batch "$bin" serve >"$work/batch$batch.log" 2>&1 & pids+=($!)
done
for batch in 1 64; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:${port[$batch]}/readyz" && break; sleep 0.1; done
  alert=$(curl -sf -X POST "http://127.0.0.1:${port[$batch]}/hooks/detections" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $token" -d '{"id":"bench-1","detection":"slack.failed_logins_by_ip","subject":{"ip":"203.0.113.7"}}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["alert_id"])')
  python3 "$root/bench/bench_tools.py" ack-form "$alert" 18191 >"$work/ack$batch.form"
done
for round in $(seq 1 "$rounds"); do
  for batch in 1 64; do
    read -r ts sig < <(python3 "$shared/sign.py" "$secret" "$work/ack$batch.form")
    echo "round $round batch $batch clicks $(wrk -t2 -c"$connections" -d"$duration" --latency -s "$shared/signed_post.lua" \
      "http://127.0.0.1:${port[$batch]}/slack/interactivity" -- "$work/ack$batch.form" "$ts" "$sig" | grep '^RESULT')"
  done
  for batch in 1 64; do
    echo "round $round batch $batch webhooks $(wrk -t2 -c"$connections" -d"$duration" --latency -s "$root/bench/webhook_post.lua" \
      "http://127.0.0.1:${port[$batch]}/hooks/detections" -- "$token" "ab$round-$batch" 256 | grep '^RESULT')"
  done
done
