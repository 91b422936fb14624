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
NAME=install-browser WHAT="chromium"
# shellcheck source=apt-lib.sh
source "$(dirname "$0")/apt-lib.sh"
trap 'rm -f "$LOG"' EXIT


if [[ -x "$BIN" && -n "$(pkg_version chromium)" ]]; then
  echo "install-browser: chromium $(pkg_version chromium) already present ($BIN); nothing to do"
  exit 0
fi

become_root

run apt-get update -q || fail "apt-get update failed"
run apt-get install -y -q --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold chromium \
  || fail "apt-get install chromium failed"
[[ -x "$BIN" ]] || fail "chromium installed but $BIN is missing"
echo "install-browser: installed chromium $(pkg_version chromium) ($BIN)"
