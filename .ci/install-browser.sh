#!/usr/bin/env bash
# Install Debian's Chromium (/usr/bin/chromium) for test/browser: the browser example is built
# with Vite and opened headless through playwright-core (no browser download of its own). WebGPU
# there runs on Chromium's bundled SwiftShader (Vulkan on the CPU), so no GPU or Mesa is needed.
#
# Idempotent; prints exactly one line saying what it did. Needs root (or sudo).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
BIN=/usr/bin/chromium
LOG="$(mktemp -t install-browser.XXXXXX.log)"
trap 'rm -f "$LOG"' EXIT

pkg_version() { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null | awk '$3=="installed"{print $4}'; }

if [[ -x "$BIN" && -n "$(pkg_version chromium)" ]]; then
  echo "install-browser: chromium $(pkg_version chromium) already present ($BIN); nothing to do"
  exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n env DEBIAN_FRONTEND=noninteractive)
  else
    echo "install-browser: must run as root (or with sudo available) to apt-get install chromium; neither is the case" >&2
    exit 1
  fi
fi

run() { "${SUDO[@]}" "$@" >>"$LOG" 2>&1; }
fail() { echo "install-browser: $1 (apt log follows)" >&2; tail -n 30 "$LOG" >&2; exit 1; }

run apt-get update -q || fail "apt-get update failed"
run apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold chromium \
  || fail "apt-get install chromium failed"
[[ -x "$BIN" ]] || fail "chromium installed but $BIN is missing"
echo "install-browser: installed chromium $(pkg_version chromium) ($BIN)"
