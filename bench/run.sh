#!/usr/bin/env bash
# Benchmark: `sentry serve` against the Bolt for Python peer (../shared/bench), in one run, one table.
#   /slack/commands      signed `/sentry help` (ephemeral answer, no database)           sentry and peer
#   /slack/interactivity signed `ack` clicks on a real alert (each click a transaction)  sentry and peer
#   /hooks/detections    bearer-token detections, a unique id each (bench/webhook_post.lua); the rows
#                        stored are counted afterwards to show nothing accepted was lost
#   Socket Mode against HTTP: `sentry bench socket` (envelopes acked/s and ack latency p50/p99 over one loopback
#                        socket, then the same `/sentry help` over HTTP), median of BENCH_SOCKET_RUNS runs
#   replicas            the same clicks and webhooks on SQLite (1 replica), PostgreSQL (1) and PostgreSQL (2, wrk's
#                        threads spread over both: BENCH_PORTS in the lua scripts), alternated, rows counted after;
#                        and a click on replica A whose chat.update replica B sends (bench/cross_replica.py)
#                        (needs psql)
#   RSS idle and at peak under load, start-up time to /readyz, `sentry detect replay` rate and peak RSS (over the
#   generated audit log and one a quarter as long, to show memory flat in file size), the uplink replay
#   (`--source meraki-uplinks`, statuses/s), and orjson reading each replayed file (the cost of reading it with a
#   fast parser, to compare the rules with), and `/sentry stats 30d` over BENCH_STATS_ALERTS alerts (`sentry bench stats`)
# The table (markdown, for the README) goes to standard output; progress and failures to standard error.
# Two builds' replays against each other, alternated over the same files: bench/compare_replay.py.
#   ceilings            the same `/sentry help` to a bare Hummingbird route (sentry-bench-ceiling, BENCH_CEILING_ROUNDS
#                        rounds alternated with sentry, medians, the ratio printed), and the `ack` click's transaction
#                        through the engine and SQLite store with no HTTP (`sentry bench clicks`, BENCH_STORE_CLICKS),
#                        and the same SQL on raw SQLite from Python's sqlite3 (`bench_tools.py sqlite-ceiling`)
#   scale               the same clicks and detections (no HTTP) on an empty store and on one with BENCH_SCALE_ALERTS
#                        finished alerts and BENCH_SCALE_AUDIT audit entries, rounds alternated (`sentry bench scale`)
# Knobs: BENCH_DURATION (15s), BENCH_CONNECTIONS (32), BENCH_REPLAY_LINES (1000000), BENCH_CEILING_ROUNDS (3),
#        BENCH_STORE_CLICKS (20000), BENCH_SCALE_ALERTS (1000000), BENCH_SCALE_AUDIT (10000000), CEILING_BIN (default: beside SENTRY_BIN),
#        BENCH_SOCKET_RUNS (5), BENCH_SOCKET_COMMANDS (3000), BENCH_SOCKET_WINDOW (1), BENCH_SOCKET_PIN (yes: taskset -c 0),
#        BENCH_UPLINK_APPLIANCES (100), BENCH_UPLINK_POLLS (3000), BENCH_STATS_ALERTS (100000),
#        BENCH_REPLICA_ROUNDS (1: rounds of the replica rows, each SQLite, PostgreSQL ×1, PostgreSQL ×2 in turn;
#        the table gives medians), BENCH_CROSS_CLICKS (30), BENCH_POSTGRES_URL (default: a throwaway cluster from
#        scripts/pg-test-cluster.sh start, a database per configuration; the rows say so when there is none),
#        SENTRY_BIN (default: `swift build -c release --product sentry`, then .build/release/sentry).
# Needs wrk (apt), python3, curl; the peer needs slack-bolt==1.30.0 gunicorn flask (PyPI), the parse rows orjson
# (PyPI, the rows say so if it cannot be installed); each is installed
# if missing. Everything listens on 127.0.0.1 only.
set -euo pipefail
case "${SENTRY_BIN:-}" in "" | /*) ;; *) SENTRY_BIN="$PWD/$SENTRY_BIN" ;; esac
cd "$(dirname "$0")/.."
root=$(pwd)
shared="$root/../shared/bench"
tools="$root/bench/bench_tools.py"
duration=${BENCH_DURATION:-15s}
connections=${BENCH_CONNECTIONS:-32}
replay_lines=${BENCH_REPLAY_LINES:-1000000}
secret="bench-secret-0123456789"
webhook_token="bench-webhook-token"
subjects=256 # subject ips per wrk thread for the webhook run
startup_runs=5
sim_port=18091 sentry_port=18080 peer_port=18090 startup_port=18081 ceiling_port=18092 replica_ports=(18082 18083)
replica_rounds=${BENCH_REPLICA_ROUNDS:-1}
cross_clicks=${BENCH_CROSS_CLICKS:-30}
[[ $connections =~ ^[0-9]+$ ]] && [ "$connections" -ge 2 ] || { echo "BENCH_CONNECTIONS must be a number >= 2 (wrk -t2)" >&2; exit 1; }
[[ $replica_rounds =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_REPLICA_ROUNDS must be a number >= 1" >&2; exit 1; }
[[ $cross_clicks =~ ^[1-9][0-9]*$ ]] || { echo "BENCH_CROSS_CLICKS must be a number >= 1" >&2; exit 1; }
[[ $replay_lines =~ ^[0-9]+$ ]] || { echo "BENCH_REPLAY_LINES must be a number" >&2; exit 1; }
work=$(mktemp -d /tmp/sentry-bench.XXXXXX)
results="$work/results"
: >"$results"
pids=()
pg_dir="" # the throwaway PostgreSQL cluster, when this run started one

log() { echo "bench: $*" >&2; }
put() { printf '%s=%s\n' "$1" "$2" >>"$results"; }
fail_step() { log "FAILED: $2"; put "$1.error" "$(tr '\n' ' ' <<<"$2")"; } # key message: shown in the table cell
die() { log "$*"; exit 1; }
alive() { local state; state=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $state != Z* ]]; }
stop() { # pid: TERM, up to 10 s to finish, then KILL
  local pid=$1 p keep=()
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do alive "$pid" || break; sleep 0.1; done
    alive "$pid" && { log "pid $pid ignored SIGTERM for 10 s; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
  fi
  wait "$pid" 2>/dev/null || true
  for p in ${pids[@]+"${pids[@]}"}; do [ "$p" = "$pid" ] || keep+=("$p"); done
  pids=(${keep[@]+"${keep[@]}"})
}
cleanup() {
  local pid
  for pid in ${pids[@]+"${pids[@]}"}; do stop "$pid"; done
  [ -z "$pg_dir" ] || bash "$root/scripts/pg-test-cluster.sh" stop "$pg_dir" || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

port_free() { ! (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_http() { # name pid url want(any|CODE): until the URL answers, or the process dies, or 30 s pass
  local name=$1 pid=$2 url=$3 want=$4 code
  for _ in $(seq 1 300); do
    if ! alive "$pid"; then
      log "$name exited during start-up; the end of $work/$name.log:"; tail -n 20 "$work/$name.log" >&2; return 1
    fi
    code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 "$url" 2>/dev/null || true)
    if { [ "$want" = any ] && [ "${code:-000}" != 000 ]; } || [ "$code" = "$want" ]; then return 0; fi
    sleep 0.1
  done
  log "$name did not answer $url with ${want/any/anything} within 30 s; the end of its log:"
  tail -n 20 "$work/$name.log" >&2
  return 1
}
wrk_error() { # wrk's output: its first line, unless that is only the usage text
  if [[ $1 == Usage:* ]]; then echo "wrk rejected -t2 -c$connections -d$duration (check BENCH_DURATION, BENCH_CONNECTIONS)"; else head -n 1 <<<"$1"; fi
}
record() { # key "k=v k=v ...": one result per pair
  local kv
  for kv in $2; do put "$1.${kv%%=*}" "${kv#*=}"; done
}

# ---- tools ----
if ! command -v wrk >/dev/null; then
  log "installing wrk"
  sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  { $sudo_cmd apt-get update -qq && $sudo_cmd apt-get install -y -qq wrk; } >"$work/apt.log" 2>&1 ||
    { tail -n 5 "$work/apt.log" >&2; die "wrk is missing and apt-get could not install it"; }
fi
for tool in python3 curl; do command -v "$tool" >/dev/null || die "$tool is required"; done
if [ -n "${SENTRY_BIN:-}" ]; then
  bin=$SENTRY_BIN
else
  log "building release sentry and the bare route (swift build -c release --product sentry --product sentry-bench-ceiling)"
  swift build -c release --product sentry >"$work/build.log" 2>&1 &&
    swift build -c release --product sentry-bench-ceiling >>"$work/build.log" 2>&1 || { tail -n 30 "$work/build.log" >&2; die "release build failed"; }
  bin="$root/.build/release/sentry"
fi
ceiling_bin=${CEILING_BIN:-$(dirname "$bin")/sentry-bench-ceiling}
[ -x "$bin" ] || die "sentry binary $bin does not exist or is not executable (set SENTRY_BIN)"
case "$bin" in */debug/*) log "note: $bin is a debug build; its figures are not the ones to publish" ;; esac
for port in $sim_port $sentry_port $peer_port $startup_port $ceiling_port "${replica_ports[@]}"; do
  port_free "$port" || die "127.0.0.1:$port is already in use (another benchmark still running?)"
done

serve_env=(SLACK_SIGNING_SECRET=$secret SLACK_BOT_TOKEN=xoxb-bench-not-real SLACK_ALERT_CHANNEL=C0BENCH
  SLACK_API_URL=http://127.0.0.1:$sim_port/api SENTRY_WEBHOOK_TOKEN=$webhook_token
  SENTRY_PLAYBOOKS="$root/Playbooks" SENTRY_HTTP_HOST=127.0.0.1 SENTRY_LOG_LEVEL=warning)

run_signed() { # key url bodyfile [ports]: wrk with a pre-signed Slack request, after one request to check it is accepted
  # ports: wrk's threads spread over these replicas (bench/signed_post_spread.lua), each checked first
  local key=$1 url=$2 body=$3 ports=${4:-} ts sig code out line script="$shared/signed_post.lua" port check
  read -r ts sig < <(python3 "$shared/sign.py" "$secret" "$body")
  [ -z "$ports" ] || script="$root/bench/signed_post_spread.lua"
  for port in ${ports:-none}; do
    check=$url; [ "$port" = none ] || check=$(sed -E "s#^(http://[^:/]+):[0-9]+#\1:$port#" <<<"$url")
    code=$(curl -s -o "$work/preflight" -w '%{http_code}' --max-time 10 -X POST "$check" \
      -H 'Content-Type: application/x-www-form-urlencoded' -H "X-Slack-Request-Timestamp: $ts" -H "X-Slack-Signature: $sig" \
      --data-binary @"$body" 2>/dev/null || true)
    if [[ $code != 2* ]]; then
      fail_step "$key" "a single signed POST $check answered ${code:-nothing} $(head -c 120 "$work/preflight" 2>/dev/null | tr -s '\n|' '  ')"
      return 0
    fi
  done
  log "wrk $url${ports:+ (ports $ports)} ($duration)"
  if ! out=$(BENCH_PORTS=$ports wrk -t2 -c"$connections" -d"$duration" --latency -s "$script" "$url" -- "$body" "$ts" "$sig" 2>&1); then
    fail_step "$key" "wrk failed against $url: $(wrk_error "$out")"; return 0
  fi
  line=$(grep '^RESULT' <<<"$out" || true)
  [ -n "$line" ] || { fail_step "$key" "wrk printed no RESULT line against $url"; return 0; }
  record "$key" "${line#RESULT }"
}
ack_form() { # alert file: the form body of a click on that alert's `ack` button
  python3 "$tools" ack-form "$1" $sim_port >"$2"
}

run_hooks() { # key url tag [ports]: wrk posting detections with unique ids (bench/webhook_post.lua), after one to check
  local key=$1 hook_url=$2 tag=$3 ports=${4:-} code out line
  code=$(curl -s -o "$work/preflight" -w '%{http_code}' --max-time 10 -X POST "$hook_url" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $webhook_token" \
    -d '{"id":"bench-preflight-1","detection":"slack.failed_logins_by_ip","subject":{"ip":"10.0.0.1"}}' 2>/dev/null || true)
  if [ "$code" != 202 ]; then
    fail_step "$key" "a single POST $hook_url answered ${code:-nothing} $(head -c 120 "$work/preflight" 2>/dev/null | tr -s '\n|' '  ')"
    return 0
  fi
  log "wrk $hook_url${ports:+ (ports $ports)} ($duration)"
  if ! out=$(BENCH_PORTS=$ports wrk -t2 -c"$connections" -d"$duration" --latency -s "$root/bench/webhook_post.lua" "$hook_url" -- \
    "$webhook_token" "$tag" $subjects 2>&1); then
    fail_step "$key" "wrk failed against $hook_url: $(wrk_error "$out")"
  elif line=$(grep '^RESULT' <<<"$out"); then
    record "$key" "${line#RESULT }"
  else
    fail_step "$key" "wrk printed no RESULT line against $hook_url: $(tail -n 1 <<<"$out")"
  fi
}

# ---- sentry serve: idle RSS, commands, clicks, webhook ingest, peak RSS ----
"$bin" slack-simulator --port $sim_port --token xoxb-bench-not-real >"$work/simulator.log" 2>&1 & pids+=($!)
sim_pid=$!
wait_http simulator $sim_pid "http://127.0.0.1:$sim_port/api/api.test" any || die "the Slack simulator did not start"

env "${serve_env[@]}" SENTRY_DATABASE_URL="sqlite:$work/sentry.db" SENTRY_HTTP_PORT=$sentry_port \
  "$bin" serve >"$work/sentry.log" 2>&1 & pids+=($!)
sentry_pid=$!
wait_http sentry $sentry_pid "http://127.0.0.1:$sentry_port/readyz" 200 || die "sentry serve did not become ready"
sleep 1
if out=$(python3 "$tools" rss $sentry_pid 2>&1); then record idle.sentry "$out"; else fail_step idle.sentry "$out"; fi

alert=$(curl -s --max-time 10 -X POST "http://127.0.0.1:$sentry_port/hooks/detections" -H 'Content-Type: application/json' \
  -H "Authorization: Bearer $webhook_token" \
  -d '{"id":"bench-1","detection":"slack.failed_logins_by_ip","subject":{"ip":"203.0.113.7"},"title":"bench"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["alert_id"])' 2>/dev/null || true)
[ -n "$alert" ] || log "could not create the alert the clicks act on; the click rows will fail"
ack_form "${alert:-none}" "$work/ack.form"

run_signed cmd.sentry "http://127.0.0.1:$sentry_port/slack/commands" "$shared/slash_help.form"
# The framework's ceiling: the same signed form to a bare Hummingbird route, alternated with sentry, medians after.
ceiling_rounds=${BENCH_CEILING_ROUNDS:-3}
[[ $ceiling_rounds =~ ^[1-9][0-9]*$ ]] || die "BENCH_CEILING_ROUNDS must be a number >= 1"
put ceiling.rounds "$ceiling_rounds"
if [ ! -x "$ceiling_bin" ]; then
  fail_step ceiling.route "$ceiling_bin is missing (swift build -c release --product sentry-bench-ceiling, or set CEILING_BIN)"
else
  for round in $(seq 1 "$ceiling_rounds"); do
    "$ceiling_bin" $ceiling_port >"$work/ceiling.log" 2>&1 & pids+=($!)
    ceiling_pid=$!
    if wait_http ceiling $ceiling_pid "http://127.0.0.1:$ceiling_port/slack/commands" any; then
      run_signed "ceiling.route.r$round" "http://127.0.0.1:$ceiling_port/slack/commands" "$shared/slash_help.form"
    else
      fail_step "ceiling.route.r$round" "the bare route did not start"
    fi
    stop $ceiling_pid
    run_signed "ceiling.sentry.r$round" "http://127.0.0.1:$sentry_port/slack/commands" "$shared/slash_help.form"
  done
fi
run_signed ack.sentry "http://127.0.0.1:$sentry_port/slack/interactivity" "$work/ack.form"
if out=$(python3 "$tools" count "$work/sentry.db" "bench-" 2>&1); then put ack.outbox "$(sed -n 's/.*outbox=\([0-9]*\).*/\1/p' <<<"$out")"; fi

tag="run$(date +%s)"
put hook.subjects $subjects
run_hooks hook "http://127.0.0.1:$sentry_port/hooks/detections" "$tag"

if out=$(python3 "$tools" rss $sentry_pid 2>&1); then record load.sentry "$out"; else fail_step load.sentry "$out"; fi
log "stopping sentry serve, then counting what the webhook run stored"
stop $sentry_pid
if out=$(python3 "$tools" count "$work/sentry.db" "bench-$tag-" 2>&1); then
  put hook.stored "$(sed -n 's/.*detections=\([0-9]*\).*/\1/p' <<<"$out")"
  put hook.alerts "$(sed -n 's/.*alerts=\([0-9]*\).*/\1/p' <<<"$out")"
else
  fail_step hook.stored "could not count rows in $work/sentry.db: $out"
fi

# ---- the Bolt peer: idle RSS, commands, clicks, peak RSS ----
peer_ok=yes
if ! python3 -c 'import slack_bolt, gunicorn, flask' 2>/dev/null; then
  log "installing the Bolt peer (pip install slack-bolt==1.30.0 gunicorn flask)"
  python3 -m pip install -q slack-bolt==1.30.0 gunicorn flask >"$work/pip.log" 2>&1 || { tail -n 5 "$work/pip.log" >&2; peer_ok=no; }
fi
peer_failed() { local key; for key in cmd.peer ack.peer idle.peer load.peer; do fail_step $key "$1"; done; }
if [ $peer_ok = no ]; then
  peer_failed "peer not installed (pip install slack-bolt==1.30.0 gunicorn flask failed)"
else
  SLACK_SIGNING_SECRET=$secret python3 -m gunicorn --chdir "$shared" -w 2 -k gthread --threads 8 \
    -b 127.0.0.1:$peer_port bolt_peer:flask_app >"$work/peer.log" 2>&1 & pids+=($!)
  peer_pid=$!
  if ! wait_http peer $peer_pid "http://127.0.0.1:$peer_port/slack/commands" any; then
    peer_failed "the peer did not start (gunicorn bolt_peer:flask_app)"
  else
    sleep 2 # both workers import the app after the master binds the port
    peer_tree() { echo "$peer_pid" $(ps -o pid= --ppid "$peer_pid"); }
    if out=$(python3 "$tools" rss $(peer_tree) 2>&1); then record idle.peer "$out"; else fail_step idle.peer "$out"; fi
    run_signed cmd.peer "http://127.0.0.1:$peer_port/slack/commands" "$shared/slash_help.form"
    run_signed ack.peer "http://127.0.0.1:$peer_port/slack/interactivity" "$work/ack.form"
    if out=$(python3 "$tools" rss $(peer_tree) 2>&1); then record load.peer "$out"; else fail_step load.peer "$out"; fi
  fi
  stop $peer_pid
fi

# ---- start-up time to ready (the simulator stays up: serve may call Slack while starting) ----
log "start-up: $startup_runs starts of sentry serve on fresh databases"
if out=$(env "${serve_env[@]}" python3 "$tools" startup "$bin" $startup_port $startup_runs "$work/startup" 2>&1); then
  record startup "$out"
else
  fail_step startup "$(tail -n 3 <<<"$out" | tr '\n|' '  ')"
fi

# ---- replicas: SQLite ×1, PostgreSQL ×1, PostgreSQL ×2, alternated, then a click on A updated by B ----
pg_url="" pg_error=""
if [ -n "${BENCH_POSTGRES_URL:-}" ]; then
  pg_url=$BENCH_POSTGRES_URL
elif ! command -v psql >/dev/null; then
  pg_error="PostgreSQL not available: psql is not installed (scripts/install-deps.sh)"
elif out=$(bash "$root/scripts/pg-test-cluster.sh" start 2>&1); then
  pg_url=$(sed -n "s/^export SENTRY_TEST_POSTGRES_URL='\(.*\)'\$/\1/p" <<<"$out")
  pg_dir=$(sed -n 's/^# stop it with: .* stop //p' <<<"$out")
  [ -n "$pg_url" ] || pg_error="PostgreSQL not available: scripts/pg-test-cluster.sh start printed no URL"
else
  pg_error="PostgreSQL not available: scripts/pg-test-cluster.sh start failed: $(tail -n 1 <<<"$out")"
fi
if [ -n "$pg_url" ] && ! out=$(psql -qtA "$pg_url" -c 'SELECT 1' 2>&1); then
  pg_error="PostgreSQL not available: psql $pg_url: $(head -n 1 <<<"$out")"; pg_url=""
fi
[ -z "$pg_error" ] || log "$pg_error; the PostgreSQL rows say so"
pg_database() { # name: a fresh database on the PostgreSQL server; prints its URL
  psql -qtA "$pg_url" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1" >/dev/null 2>"$work/psql.log" ||
    { head -n 1 "$work/psql.log" >&2; return 1; }
  sed -E "s#^(postgres(ql)?://[^/]+)/[^?]*#\\1/$1#" <<<"$pg_url"
}
pg_count() { # url sql: one row, fields separated by spaces
  psql -qtA -F ' ' "$1" -c "$2"
}
put rep.rounds "$replica_rounds"
replica_round() { # config round: one replica configuration's clicks and webhooks, then its rows counted
  local config=$1 round=$2 key="rep.$1.r$2" url count=1 ports="" pid rpids=() port alert tag="rep$2$1$(date +%s)" out
  case $config in pg2) count=2 ;; esac
  if [ "$config" = sqlite1 ]; then
    url="sqlite:$work/rep-$round.db"
  else
    [ -n "$pg_url" ] || { fail_step "$key.ack" "$pg_error"; fail_step "$key.hook" "$pg_error"; return 0; }
    url=$(pg_database "bench_${config}_r$round" 2>&1) || { fail_step "$key.ack" "could not create a database: $url"; fail_step "$key.hook" "could not create a database: $url"; return 0; }
  fi
  for port in "${replica_ports[@]:0:$count}"; do
    env "${serve_env[@]}" SENTRY_DATABASE_URL="$url" SENTRY_HTTP_PORT=$port \
      "$bin" serve >"$work/rep-$config-$round-$port.log" 2>&1 & pids+=($!)
    rpids+=($!)
    if ! wait_http "rep-$config-$round-$port" $! "http://127.0.0.1:$port/readyz" 200; then
      fail_step "$key.ack" "sentry serve on $url (port $port) did not become ready"; fail_step "$key.hook" "sentry serve did not become ready"
      for pid in "${rpids[@]}"; do stop "$pid"; done
      return 0
    fi
  done
  [ "$count" -eq 1 ] || ports="${replica_ports[*]:0:$count}"
  log "replicas: $config, round $round"
  alert=$(curl -s --max-time 10 -X POST "http://127.0.0.1:${replica_ports[0]}/hooks/detections" -H 'Content-Type: application/json' \
    -H "Authorization: Bearer $webhook_token" \
    -d "{\"id\":\"bench-$tag-alert\",\"detection\":\"slack.failed_logins_by_ip\",\"subject\":{\"ip\":\"203.0.113.9\"},\"title\":\"bench\"}" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["alert_id"])' 2>/dev/null || true)
  ack_form "${alert:-none}" "$work/rep-ack.form"
  run_signed "$key.ack" "http://127.0.0.1:${replica_ports[0]}/slack/interactivity" "$work/rep-ack.form" "$ports"
  run_hooks "$key.hook" "http://127.0.0.1:${replica_ports[0]}/hooks/detections" "$tag" "$ports"
  for pid in "${rpids[@]}"; do stop "$pid"; done
  if [ "$config" = sqlite1 ]; then
    out=$(python3 "$tools" count "$work/rep-$round.db" "bench-$tag-" 2>&1) || { fail_step "$key.hook.stored" "could not count rows: $out"; return 0; }
    record "$key" "$out"
  elif out=$(pg_count "$url" "SELECT (SELECT COUNT(*) FROM detection_seen WHERE id LIKE 'bench-$tag-%'),
      (SELECT COUNT(DISTINCT alert_id) FROM detection_seen WHERE id LIKE 'bench-$tag-%'), (SELECT COUNT(*) FROM outbox),
      (SELECT COUNT(*) FROM audit)" 2>&1); then
    read -r d a o u <<<"$out"
    record "$key" "detections=$d alerts=$a outbox=$o audit=$u"
  else
    fail_step "$key.hook.stored" "could not count rows: $out"
  fi
}
for round in $(seq 1 "$replica_rounds"); do
  for config in sqlite1 pg1 pg2; do replica_round $config "$round"; done
done
if [ -z "$pg_url" ]; then
  fail_step cross "$pg_error"
elif ! url=$(pg_database bench_cross 2>&1); then
  fail_step cross "could not create a database: $url"
else
  log "replicas: $cross_clicks clicks on replica A, chat.update from replica B (bench/cross_replica.py)"
  if out=$(env "${serve_env[@]}" python3 "$root/bench/cross_replica.py" "$bin" $sim_port "$url" "${replica_ports[@]}" \
    "$cross_clicks" "$work" 2>&1); then
    record cross "$(tail -n 1 <<<"$out")"
  else
    fail_step cross "$(tail -n 2 <<<"$out" | tr '\n|' '  ')"
  fi
fi
[ -z "$pg_dir" ] || { bash "$root/scripts/pg-test-cluster.sh" stop "$pg_dir" || true; pg_dir=""; } # not running under the replays
stop $sim_pid

# ---- Socket Mode against HTTP: one process (simulator, app, driver), alternating socket and HTTP halves ----
socket_runs=${BENCH_SOCKET_RUNS:-5} socket_commands=${BENCH_SOCKET_COMMANDS:-3000} socket_window=${BENCH_SOCKET_WINDOW:-1}
log "socket mode: $socket_runs runs of sentry bench socket --commands $socket_commands --window $socket_window"
if out=$(python3 "$tools" socket "$bin" "$socket_runs" "$socket_commands" "$socket_window" "${BENCH_SOCKET_PIN:-yes}" 2>&1); then
  record socket "$out"
else
  fail_step socket "$(tail -n 2 <<<"$out" | tr '\n|' '  ')"
fi

# ---- replay: the built-in rules over a generated audit log, one core ----
log "replay: generating $replay_lines audit lines"
put replay.requested "$replay_lines"
if python3 bench/generate_audit_log.py "$replay_lines" >"$work/audit.jsonl" 2>"$work/generate.log"; then
  log "replay: sentry detect replay (taskset -c 0)"
  if out=$(python3 "$tools" replay "$bin" "$work/audit.jsonl" "$root/Playbooks" 2>&1); then
    record replay "$(grep '^lines=' <<<"$out")"
  else
    fail_step replay "$(tail -n 2 <<<"$out" | tr '\n|' '  ')"
  fi
else
  fail_step replay "generate_audit_log.py failed: $(tail -n 1 "$work/generate.log")"
fi
orjson_ok=yes
if ! python3 -c 'import orjson' 2>/dev/null; then
  log "installing orjson (pip install orjson), the fast parser the replays are compared with"
  python3 -m pip install -q orjson >"$work/pip-orjson.log" 2>&1 || { tail -n 5 "$work/pip-orjson.log" >&2; orjson_ok=no; }
fi
parse_file() { # key file: orjson reading the same file, one core
  if [ $orjson_ok = no ]; then fail_step "$1" "orjson not installed (pip install orjson failed)"; return 0; fi
  if out=$(python3 "$tools" parse "$2" 2>&1); then record "$1" "$out"; else fail_step "$1" "$(tail -n 2 <<<"$out" | tr '\n|' '  ')"; fi
}
[ -s "$work/audit.jsonl" ] && { log "replay: orjson over the same audit lines"; parse_file parse.audit "$work/audit.jsonl"; }
rm -f "$work/audit.jsonl"
# Peak memory against file size: the same replay over a file a quarter as long (it is to stay flat).
quarter=$((replay_lines / 4))
put replay.small.requested "$quarter"
log "replay: generating $quarter audit lines (peak RSS for a quarter of the file)"
if python3 bench/generate_audit_log.py "$quarter" >"$work/audit-small.jsonl" 2>"$work/generate.log"; then
  if out=$(python3 "$tools" replay "$bin" "$work/audit-small.jsonl" "$root/Playbooks" 2>&1); then
    record replay.small "$(grep '^lines=' <<<"$out")"
  else
    fail_step replay.small "$(tail -n 2 <<<"$out" | tr '\n|' '  ')"
  fi
else
  fail_step replay.small "generate_audit_log.py failed: $(tail -n 1 "$work/generate.log")"
fi
rm -f "$work/audit-small.jsonl"

# ---- uplink replay: a generated organisation poll per line, one core ----
uplink_appliances=${BENCH_UPLINK_APPLIANCES:-100} uplink_polls=${BENCH_UPLINK_POLLS:-3000}
put uplinks.requested "$uplink_polls polls of $uplink_appliances appliances"
log "uplinks: generating $uplink_polls polls of $uplink_appliances appliances"
if python3 bench/generate_uplinks.py "$uplink_appliances" "$uplink_polls" >"$work/uplinks.jsonl" 2>"$work/generate.log"; then
  log "uplinks: sentry detect replay --source meraki-uplinks (taskset -c 0)"
  if out=$(python3 "$tools" replay "$bin" "$work/uplinks.jsonl" "$root/Playbooks" meraki-uplinks "$uplink_appliances" 2>&1); then
    record uplinks "$(grep '^lines=' <<<"$out")"
  else
    fail_step uplinks "$(tail -n 2 <<<"$out" | tr '\n|' '  ')"
  fi
  log "uplinks: orjson over the same polls"
  parse_file parse.uplinks "$work/uplinks.jsonl"
else
  fail_step uplinks "generate_uplinks.py failed: $(tail -n 1 "$work/generate.log")"
fi
rm -f "$work/uplinks.jsonl"

# ---- /sentry stats over a large store (the engine's read and count, no HTTP) ----
stats_alerts=${BENCH_STATS_ALERTS:-100000}
[[ $stats_alerts =~ ^[0-9]+$ ]] || { echo "BENCH_STATS_ALERTS must be a number" >&2; exit 1; }
log "stats: sentry bench stats --alerts $stats_alerts"
if out=$(python3 "$tools" stats "$bin" "$stats_alerts" 5 2>&1); then record stats "$out"; else fail_step stats "$(tail -n 2 <<<"$out" | tr '\n|' '  ')"; fi

# ---- the click's transaction without HTTP: engine and SQLite store only (`sentry bench clicks`) ----
store_clicks=${BENCH_STORE_CLICKS:-20000}
[[ $store_clicks =~ ^[1-9][0-9]*$ ]] || die "BENCH_STORE_CLICKS must be a number >= 1"
log "store only: sentry bench clicks --clicks $store_clicks (taskset -c 0)"
if out=$(python3 "$tools" clicks "$bin" "$store_clicks" 5 2>&1); then record ceiling.store "$out"; else fail_step ceiling.store "$(tail -n 2 <<<"$out" | tr '\n|' '  ')"; fi
log "store only: the same SQL on raw SQLite (bench_tools.py sqlite-ceiling, taskset -c 0)"
if out=$(taskset -c 0 python3 "$tools" sqlite-ceiling "$store_clicks" 5 2>&1); then record ceiling.sqlite "$out"; else fail_step ceiling.sqlite "$(tail -n 2 <<<"$out" | tr '\n|' '  ')"; fi

# ---- cost against store size: clicks and detections on an empty store and on a year of history ----
scale_alerts=${BENCH_SCALE_ALERTS:-1000000} scale_audit=${BENCH_SCALE_AUDIT:-10000000}
[[ $scale_alerts =~ ^[1-9][0-9]*$ && $scale_audit =~ ^[0-9]+$ ]] || die "BENCH_SCALE_ALERTS must be a number >= 1, BENCH_SCALE_AUDIT a number"
log "scale: sentry bench scale --alerts $scale_alerts --audit $scale_audit (seeding takes about a minute per million alerts)"
if out=$(python3 "$tools" scale "$bin" "$scale_alerts" "$scale_audit" 3 2>&1); then record scale "$out"; else fail_step scale "$(tail -n 2 <<<"$out" | tr '\n|' '  ')"; fi

# ---- the table ----
cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo
echo "Measured $(date -u '+%Y-%m-%d %H:%M UTC') on $(nproc) cores, ${cpu:-unknown CPU}, $(uname -sr); wrk -t2 -c$connections -d$duration; server and load on the same machine"
echo
python3 "$tools" table "$results"
