#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# What the end-to-end tests drive, from Debian's packages: chromium for the
# incident pages (through Playwright) and tmux for the console in a real terminal.
#
# Playwright never downloads a browser of its own here: the tests launch
# /usr/bin/chromium, which this script installs with apt-get when it is missing
# (plus fonts-dejavu-core so pages render with real glyphs). Idempotent: when
# chromium is already there it only says so.
set -euo pipefail

LOG_TAG=browser
# shellcheck source=lib.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/lib.sh"

CHROMIUM="${FIRESTORM_CHROMIUM:-/usr/bin/chromium}"
PACKAGES=(chromium fonts-dejavu-core tmux)

usage() {
  cat <<EOF
Usage: $(basename "$0") [install|status]

  install  (default) apt-get install ${PACKAGES[*]} when chromium or tmux is missing
  status   exit 0 when ${CHROMIUM} runs, 3 when it is missing

Environment:
  FIRESTORM_CHROMIUM  the browser the tests launch (default /usr/bin/chromium)
EOF
}

version() { "$CHROMIUM" --version 2>/dev/null | head -n 1; }

install_browser() {
  if [[ -x "$CHROMIUM" ]] && command -v tmux >/dev/null 2>&1; then
    log "chromium present: $(version || echo "$CHROMIUM"); tmux present"
    return 0
  fi
  command -v apt-get >/dev/null 2>&1 \
    || die "$CHROMIUM not found and no apt-get: install Chromium and set FIRESTORM_CHROMIUM"
  local t0 rc=0
  t0="$(now)"
  log "chromium or tmux missing: installing Debian's ${PACKAGES[*]} (apt-get update; apt-get install)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || rc=$?
  if ((rc == 0)); then
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${PACKAGES[@]}" || rc=$?
  fi
  ((rc == 0)) || die "apt-get failed (exit $rc) installing ${PACKAGES[*]}"
  [[ -x "$CHROMIUM" ]] || die "installed ${PACKAGES[*]} but $CHROMIUM is still missing"
  log "installed $(version || echo chromium) in $(elapsed "$t0")s"
}

case "${1:-install}" in
  install) install_browser ;;
  status)
    if [[ -x "$CHROMIUM" ]]; then
      log "chromium present: $(version || echo "$CHROMIUM")"
    else
      log "$CHROMIUM missing: run $(basename "$0") install"
      exit 3
    fi
    ;;
  -h | --help | help) usage ;;
  *)
    usage >&2
    exit 2
    ;;
esac
