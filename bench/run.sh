#!/usr/bin/env bash
# Benchmark: a release `sentry serve` against the Bolt for Python peer (../shared/bench), in one run.
#   /slack/commands      signed `/sentry help` (ephemeral answer, no database)
#   /slack/interactivity signed `ack` clicks on a real alert (each click is a transaction: audit/outbox rows)
# Prints requests/s and p50/p99 for both. Needs wrk (apt) and, for the peer, slack-bolt + gunicorn (PyPI).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
shared="$root/../shared/bench"
duration=${BENCH_DURATION:-15s}
connections=${BENCH_CONNECTIONS:-32}
secret="bench-secret-0123456789"
work=$(mktemp -d /tmp/sentry-bench.XXXXXX)
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

if ! command -v wrk >/dev/null; then
  echo "installing wrk"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq wrk >/dev/null
fi
swift build -c release --product sentry >/dev/null
bin="$root/.build/release/sentry"

wait_port() { for _ in $(seq 1 100); do (echo > /dev/tcp/127.0.0.1/$1) 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 did not open"; exit 1; }

"$bin" slack-simulator --port 18091 --token xoxb-bench-not-real >"$work/sim.log" 2>&1 & pids+=($!)
wait_port 18091
SLACK_SIGNING_SECRET=$secret SLACK_BOT_TOKEN=xoxb-bench-not-real SLACK_ALERT_CHANNEL=C0BENCH \
SLACK_API_URL=http://127.0.0.1:18091/api SENTRY_WEBHOOK_TOKEN=bench-webhook-token \
SENTRY_DATABASE_URL="sqlite:$work/sentry.db" SENTRY_PLAYBOOKS="$root/Playbooks" \
SENTRY_HTTP_HOST=127.0.0.1 SENTRY_HTTP_PORT=18080 SENTRY_LOG_LEVEL=warning \
  "$bin" serve >"$work/sentry.log" 2>&1 & pids+=($!)
wait_port 18080

alert=$(curl -s -X POST http://127.0.0.1:18080/hooks/detections -H 'Content-Type: application/json' \
  -H 'Authorization: Bearer bench-webhook-token' \
  -d '{"id":"bench-1","detection":"slack.failed_logins_by_ip","subject":{"ip":"203.0.113.7"},"title":"bench"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["alert_id"])')
python3 - "$alert" > "$work/ack.form" <<'PY'
import json, sys, urllib.parse
payload = {"type": "block_actions", "user": {"id": "U0BENCH", "username": "bench"}, "api_app_id": "A0BENCH",
           "trigger_id": "1.2.3", "container": {"type": "message", "message_ts": "1.0", "channel_id": "C0BENCH"},
           "channel": {"id": "C0BENCH"}, "response_url": "http://127.0.0.1:18091/response/bench",
           "actions": [{"type": "button", "action_id": "ack", "block_id": "alert_actions", "value": sys.argv[1]}]}
sys.stdout.write("payload=" + urllib.parse.quote(json.dumps(payload)))
PY

run_wrk() { # url bodyfile
  read -r ts sig < <(python3 "$shared/sign.py" "$secret" "$2")
  wrk -t2 -c"$connections" -d"$duration" --latency -s "$shared/signed_post.lua" "$1" -- "$2" "$ts" "$sig" | grep RESULT
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

sentry_cmd=$(run_wrk http://127.0.0.1:18080/slack/commands "$shared/slash_help.form")
sentry_ack=$(run_wrk http://127.0.0.1:18080/slack/interactivity "$work/ack.form")
rss_kb=$(ps -o rss= -p "${pids[1]}" | tr -d ' ')
clicks=$(sqlite3 "$work/sentry.db" "SELECT COUNT(*) FROM outbox" 2>/dev/null || echo "?")

peer_cmd="RESULT requests=0 rps=n/a p50_ms=n/a p99_ms=n/a non2xx=0 sockerr=0"; peer_ack="$peer_cmd"
if python3 -c 'import slack_bolt, gunicorn, flask' 2>/dev/null || python3 -m pip install -q slack-bolt==1.30.0 gunicorn flask >/dev/null 2>&1; then
  (cd "$shared" && SLACK_SIGNING_SECRET=$secret python3 -m gunicorn -w 2 -k gthread --threads 8 -b 127.0.0.1:18090 bolt_peer:flask_app >"$work/peer.log" 2>&1) & pids+=($!)
  wait_port 18090
  peer_cmd=$(run_wrk http://127.0.0.1:18090/slack/commands "$shared/slash_help.form")
  peer_ack=$(run_wrk http://127.0.0.1:18090/slack/interactivity "$work/ack.form")
else
  echo "(Bolt peer not installed: pip install slack-bolt==1.30.0 gunicorn flask)"
fi

echo
echo "Benchmark $(date -u +%Y-%m-%d), $(nproc) cores, wrk -t2 -c$connections -d$duration, server and load on the same machine"
printf '%-34s %10s %9s %9s %8s\n' "endpoint" "req/s" "p50 ms" "p99 ms" "non-2xx"
for row in "sentry /slack/commands (help)|$sentry_cmd" "bolt   /slack/commands (help)|$peer_cmd" \
           "sentry /slack/interactivity (ack)|$sentry_ack" "bolt   /slack/interactivity (ack)|$peer_ack"; do
  name=${row%%|*}; r=${row#*|}
  printf '%-34s %10s %9s %9s %8s\n' "$name" "$(field rps "$r")" "$(field p50_ms "$r")" "$(field p99_ms "$r")" "$(field non2xx "$r")"
done
s=$(field rps "$sentry_cmd"); p=$(field rps "$peer_cmd")
python3 -c "import sys; s,p=sys.argv[1],sys.argv[2]; print(f'slash commands: sentry/bolt = {float(s)/float(p):.1f}x' if p not in ('n/a','0','0.0') else '')" "$s" "$p" || true
echo "sentry RSS after load: $((rss_kb / 1024)) MiB; outbox rows written by the clicks: $clicks"

# Replay: the built-in rules over a generated audit log, one core, memory measured for two file sizes.
python3 bench/generate_audit_log.py 1000000 > "$work/audit1m.jsonl"
python3 bench/generate_audit_log.py 100000 > "$work/audit100k.jsonl"
for f in audit100k audit1m; do
  /usr/bin/time -f "max_rss_kb=%M" taskset -c 0 "$bin" detect replay "$work/$f.jsonl" 2>&1 >/dev/null | tr '\n' ' '
  echo
done
