#!/usr/bin/env bash
# Installs the Debian packages the build links against, only when they are missing.
set -euo pipefail
needed=()
# zlib1g-dev: `sentry detect replay` reads gzip files.
for pkg in libcurl4-openssl-dev libssl-dev libsqlite3-dev zlib1g-dev; do
  dpkg -s "$pkg" >/dev/null 2>&1 || needed+=("$pkg")
done
# The manifest check needs python3 with jsonschema; Debian's own python3 refuses pip installs.
if ! python3 -c 'import jsonschema' >/dev/null 2>&1; then
  needed+=(python3 python3-jsonschema)
fi
# The deployment-file check (scripts/check_deploy.py) reads the Kubernetes manifests with PyYAML.
if ! python3 -c 'import yaml' >/dev/null 2>&1; then
  needed+=(python3 python3-yaml)
fi
# The store tests run against a real PostgreSQL server (scripts/pg-test-cluster.sh starts a throwaway one).
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  needed+=(postgresql)
fi
# It serves TLS with a certificate openssl makes for the run.
command -v openssl >/dev/null 2>&1 || needed+=(openssl)
if [ ${#needed[@]} -gt 0 ]; then
  echo "installing ${needed[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${needed[@]}"
  # Installing postgresql may start its default cluster; the tests use their own, so stop any it started.
  if command -v pg_lsclusters >/dev/null 2>&1; then
    pg_lsclusters --no-header 2>/dev/null | while read -r version cluster _ status _; do
      if [ "$status" = "online" ]; then $sudo_cmd pg_ctlcluster "$version" "$cluster" stop || true; fi
    done
  fi
fi
command -v swift >/dev/null 2>&1 || { [ -x /opt/swift/usr/bin/swift ] && export PATH="/opt/swift/usr/bin:$PATH"; }
command -v swift >/dev/null 2>&1 || { echo "swift is not on PATH (Swift 6.3 expected)"; exit 1; }
