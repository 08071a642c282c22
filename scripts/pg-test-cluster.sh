#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests: initdb in a temporary folder (as the postgres user when run as
# root), fsync off, listening on 127.0.0.1 on a free port with its unix socket in that folder, and TLS with a
# certificate for localhost made for the run (SENTRY_TEST_POSTGRES_CA is its PEM, for sslmode=verify-full).
#
#   scripts/pg-test-cluster.sh run CMD [ARGS…]   start, run CMD with SENTRY_TEST_POSTGRES_URL set, then stop and
#                                                 remove the cluster whatever happens; exits with CMD's status
#   scripts/pg-test-cluster.sh start              start one and print `export …` lines (for running tests by hand)
#   scripts/pg-test-cluster.sh stop DIR           stop and remove the cluster `start` made in DIR
#
# PostgreSQL itself comes from scripts/install-deps.sh (Debian's postgresql) when initdb is missing.
set -euo pipefail

pg_bin() {
  if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$found" ] || [ ! -x "$found/initdb" ]; then
    echo "pg-test-cluster: no initdb under /usr/lib/postgresql/*/bin (run scripts/install-deps.sh, or set PG_BIN)" >&2
    exit 1
  fi
  echo "$found"
}

# Runs a PostgreSQL program as the cluster's owner: initdb and postgres refuse to run as root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "pg-test-cluster: running as root but there is no postgres user (Debian's postgresql package creates it)" >&2
      exit 1
    fi
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Starts a cluster in a new folder; prints the folder and the port.
start_cluster() {
  local bin dir port attempt
  bin=$(pg_bin)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/sentry-pg.XXXXXX")
  chmod 755 "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
  as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres -E UTF8 --no-sync --no-instructions >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2; rm -rf "$dir"; return 1; }
  # A self-signed certificate for localhost and 127.0.0.1; the server wants its key private to its owner.
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/data/server.key" -out "$dir/data/server.crt" >/dev/null 2>&1 || {
    echo "pg-test-cluster: openssl could not make a certificate" >&2; rm -rf "$dir"; return 1; }
  cp "$dir/data/server.crt" "$dir/ca.pem"
  chmod 600 "$dir/data/server.key"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$dir/data/server.key" "$dir/data/server.crt"
  # Another process may take the free port between the look and the bind: try a few.
  for attempt in 1 2 3; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400 -c ssl=on" \
      >/dev/null; then
      echo "$dir $port"
      return 0
    fi
  done
  tail -n 20 "$dir/server.log" >&2 || true
  rm -rf "$dir"
  return 1
}

stop_cluster() {
  local dir=$1 bin
  [ -d "$dir/data" ] || { rm -rf "$dir"; return 0; }
  bin=$(pg_bin)
  as_owner "$bin/pg_ctl" -D "$dir/data" -m fast -w -t 30 stop >/dev/null 2>&1 ||
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}

case "${1:-}" in
  run)
    shift
    [ $# -gt 0 ] || { echo "usage: $0 run CMD [ARGS…]" >&2; exit 2; }
    read -r dir port < <(start_cluster)
    [ -n "${dir:-}" ] || { echo "pg-test-cluster: could not start PostgreSQL" >&2; exit 1; }
    trap 'stop_cluster "$dir"' EXIT
    echo "pg-test-cluster: PostgreSQL $("$(pg_bin)/postgres" --version | awk '{print $3}') on 127.0.0.1:$port ($dir)"
    export SENTRY_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable"
    export SENTRY_TEST_POSTGRES_CA="$dir/ca.pem"
    # In the background so that a signal to this script is handled at once (bash runs traps only between
    # foreground commands): it is passed on to the command, and the cluster goes with the script.
    "$@" <&0 &
    child=$!
    trap 'kill -INT "$child" 2>/dev/null; wait "$child"; exit 130' INT
    trap 'kill -TERM "$child" 2>/dev/null; wait "$child"; exit 143' TERM
    status=0
    wait "$child" || status=$?
    exit "$status"
    ;;
  start)
    read -r dir port < <(start_cluster)
    [ -n "${dir:-}" ] || { echo "pg-test-cluster: could not start PostgreSQL" >&2; exit 1; }
    echo "export SENTRY_TEST_POSTGRES_URL='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
    echo "export SENTRY_TEST_POSTGRES_CA='$dir/ca.pem'"
    echo "# stop it with: $0 stop $dir"
    ;;
  stop)
    [ -n "${2:-}" ] || { echo "usage: $0 stop DIR" >&2; exit 2; }
    case "$2" in */sentry-pg.*) stop_cluster "$2" ;; *) echo "pg-test-cluster: $2 is not a folder this script made" >&2; exit 2 ;; esac
    ;;
  *)
    echo "usage: $0 run CMD [ARGS…] | start | stop DIR" >&2
    exit 2
    ;;
esac
