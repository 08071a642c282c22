#!/usr/bin/env bash
# Memory under a long load (issue 18, point 4): `sentry serve` on a fresh SQLite file takes distinct detections
# (bench/webhook_post.lua: each a new or grouped alert, each new one posted to the Slack simulator) and signed
# `/sentry help` commands at the same time for SOAK_DURATION seconds, while its VmRSS is sampled every
# SOAK_INTERVAL seconds. Prints one line per sample, then a SOAK line: RSS after the first minute (the caches
# warm), at the end and at most, the growth from the one to the other, and what the load did; and the same for
# RSS less what SQLite holds (`sentry_storage_memory_bytes` on /metrics: its page caches, bounded per connection).
# Knobs: SENTRY_BIN (.build/release/sentry), SOAK_DURATION (600), SOAK_INTERVAL (30), SOAK_CONNECTIONS (8 per load),
#        SOAK_SUBJECTS (20000 subject addresses: new alerts keep coming for the whole run, the rest group onto them).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=$root/../shared/bench
bin=${SENTRY_BIN:-$root/.build/release/sentry}
duration=${SOAK_DURATION:-600} interval=${SOAK_INTERVAL:-30} connections=${SOAK_CONNECTIONS:-8}
for value in "$duration" "$interval" "$connections"; do
  [[ $value =~ ^[1-9][0-9]*$ ]] || { echo "SOAK_DURATION, SOAK_INTERVAL and SOAK_CONNECTIONS must be positive numbers" >&2; exit 1; }
done
[ "$duration" -gt 60 ] || { echo "SOAK_DURATION must be over 60 s: the first minute is the warm-up" >&2; exit 1; }
[ -x "$bin" ] || { echo "no sentry binary at $bin (swift build -c release --product sentry, or set SENTRY_BIN)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 1; }
sim_port=18291 port=18280 secret=bench-secret-0123456789 token=bench-webhook-token
for p in $sim_port $port; do
  if (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "127.0.0.1:$p is in use (another benchmark running?)" >&2; exit 1; fi
done
work=$(mktemp -d /tmp/sentry-soak.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

"$bin" slack-simulator --port $sim_port --token xoxb-bench-not-real >"$work/simulator.log" 2>&1 & pids+=($!)
env SLACK_SIGNING_SECRET=$secret SLACK_BOT_TOKEN=xoxb-bench-not-real SLACK_ALERT_CHANNEL=C0BENCH \
  SLACK_API_URL=http://127.0.0.1:$sim_port/api SENTRY_WEBHOOK_TOKEN=$token SENTRY_PLAYBOOKS="$root/Playbooks" \
  SENTRY_HTTP_HOST=127.0.0.1 SENTRY_LOG_LEVEL=warning SENTRY_DATABASE_URL="sqlite:$work/sentry.db" SENTRY_HTTP_PORT=$port \
  "$bin" serve >"$work/sentry.log" 2>&1 & pids+=($!)
sentry=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$port/readyz" >/dev/null || { tail -n 20 "$work/sentry.log" >&2; echo "sentry serve did not become ready" >&2; exit 1; }

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$sentry/status"; }
# What SQLite itself holds (its page caches and statements: bounded), from /metrics; 0 when the gauge is missing.
sqlite_kb() { curl -sf --max-time 5 "http://127.0.0.1:$port/metrics" | awk '/^sentry_storage_memory_bytes / {printf "%d", $2 / 1024; found=1} END {if (!found) print 0}'; }
wrk -t1 -c"$connections" -d"${duration}s" -s "$root/bench/webhook_post.lua" "http://127.0.0.1:$port/hooks/detections" -- \
  "$token" soak "${SOAK_SUBJECTS:-20000}" >"$work/hooks.out" 2>&1 & pids+=($!)
hooks=$!
# Slack refuses a signature older than 5 minutes: the commands go in chunks of at most 4, each signed afresh.
(
  left=$duration
  while [ "$left" -gt 0 ]; do
    chunk=$((left < 240 ? left : 240))
    read -r ts sig < <(python3 "$shared/sign.py" "$secret" "$shared/slash_help.form")
    wrk -t1 -c"$connections" -d"${chunk}s" -s "$shared/signed_post.lua" "http://127.0.0.1:$port/slack/commands" -- \
      "$shared/slash_help.form" "$ts" "$sig" 2>&1 | grep '^RESULT' || echo "RESULT requests=0 non2xx=0 failed_chunk=1"
    left=$((left - chunk))
  done
) >"$work/slash.out" & pids+=($!)
slash=$!

start=$SECONDS warm="" peak=0 last=0 warm_rest="" rest=0
echo "t_s=0 rss_kb=$(rss_kb) sqlite_kb=$(sqlite_kb)"
while kill -0 $hooks 2>/dev/null || kill -0 $slash 2>/dev/null; do
  sleep "$interval"
  kill -0 "$sentry" 2>/dev/null || { tail -n 20 "$work/sentry.log" >&2; echo "sentry serve died under the load" >&2; exit 1; }
  last=$(rss_kb) sqlite=$(sqlite_kb) elapsed=$((SECONDS - start))
  rest=$((last - sqlite))
  [ "$last" -gt "$peak" ] && peak=$last
  [ -z "$warm" ] && [ "$elapsed" -ge 60 ] && warm=$last warm_rest=$rest
  echo "t_s=$elapsed rss_kb=$last sqlite_kb=$sqlite rest_kb=$rest"
done
wait $hooks $slash || true
hooks_line=$(grep '^RESULT' "$work/hooks.out" | sed 's/^RESULT //') || true
slash_line=$(python3 - "$work/slash.out" <<'PY'
import re, sys
lines = [line for line in open(sys.argv[1]) if line.startswith("RESULT")]
total = lambda key: sum(int(m[1]) for line in lines for m in [re.search(rf"\b{key}=(\d+)", line)] if m)
if lines:
    print(f"chunks={len(lines)} requests={total('requests')} non2xx={total('non2xx')} sockerr={total('sockerr')}")
PY
)
[ -n "$hooks_line" ] && [ -n "$slash_line" ] || { cat "$work/hooks.out" "$work/slash.out" >&2; echo "wrk printed no RESULT line" >&2; exit 1; }
alerts=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from alert").fetchone()[0])' "$work/sentry.db")
percent() { python3 -c "import sys; w, l = int(sys.argv[1]), int(sys.argv[2]); print(f'{(l - w) * 100 / w:.1f}')" "$1" "$2"; }
growth=$(percent "${warm:-$last}" "$last")
rest_growth=$(percent "${warm_rest:-$rest}" "$rest")
echo "SOAK duration_s=$duration after_1min_kb=${warm:-$last} end_kb=$last peak_kb=$peak growth_pct=$growth" \
  "rest_after_1min_kb=${warm_rest:-$rest} rest_end_kb=$rest rest_growth_pct=$rest_growth alerts=$alerts" \
  "hooks: $hooks_line | slash: $slash_line"
