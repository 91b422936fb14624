#!/usr/bin/env bash
# Install a CPU WebGPU stack for Node: Mesa's lavapipe (Vulkan on the CPU),
# which the `webgpu` npm package (Dawn's Node binding) drives.
#
# Debian 12's stock Mesa 22 is too old for Dawn's Vulkan backend, so on
# bookworm we take Mesa >= 25 from bookworm-backports (a Debian suite, same
# mirror and keyring as the machine's existing debian.sources). If that is not
# possible we install stock Mesa's EGL/GLES instead: runtime/webgpu/device.ts
# then falls back to Dawn's `opengles` backend with EGL_PLATFORM=surfaceless.
#
# Idempotent; prints exactly one line saying what it did. Needs root (or sudo).
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
MIN_MESA_MAJOR=25
# Mesa >= 24 names the lavapipe ICD lvp_icd.json; older Mesa used lvp_icd.<arch>.json.
ICD_DIR=/usr/share/vulkan/icd.d
BACKPORTS_LIST=/etc/apt/sources.list.d/bookworm-backports.sources
LOG="$(mktemp -t install-webgpu.XXXXXX.log)"
NAME=install-webgpu WHAT="Mesa lavapipe"
# shellcheck source=apt-lib.sh
source "$(dirname "$0")/apt-lib.sh"
trap 'rm -f "$LOG"' EXIT

mesa_major() { local v; v="$(pkg_version mesa-vulkan-drivers)"; v="${v#*:}"; echo "${v%%.*}"; }

lavapipe_ok() {
  [[ -f "$ICD_DIR/lvp_icd.json" || -f "$ICD_DIR/lvp_icd.$(uname -m).json" ]] || return 1
  [[ -n "$(pkg_version libvulkan1)" ]] || return 1
  local m; m="$(mesa_major)"
  [[ "$m" =~ ^[0-9]+$ ]] && (( m >= MIN_MESA_MAJOR ))
}

if lavapipe_ok; then
  echo "install-webgpu: lavapipe already present (mesa-vulkan-drivers $(pkg_version mesa-vulkan-drivers)); nothing to do"
  exit 0
fi

become_root
APT_OPTS=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)

codename=""
if [[ -r /etc/os-release ]]; then
  codename="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
fi

write_backports_source() {
  # Reuse the mirror and keyring of the machine's own Debian source (the
  # stanza that is not debian-security), so no host name is hard-coded.
  local uri="" key=""
  if [[ -r /etc/apt/sources.list.d/debian.sources ]]; then
    uri="$(awk 'BEGIN{RS="";FS="\n"} !/debian-security/ { for(i=1;i<=NF;i++) if($i ~ /^URIs:/){sub(/^URIs:[ \t]*/,"",$i); split($i,a,/[ \t]+/); print a[1]; exit} }' /etc/apt/sources.list.d/debian.sources)"
    key="$(awk 'BEGIN{RS="";FS="\n"} !/debian-security/ { for(i=1;i<=NF;i++) if($i ~ /^Signed-By:/){sub(/^Signed-By:[ \t]*/,"",$i); print $i; exit} }' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [[ -z "$uri" && -r /etc/apt/sources.list ]]; then
    # One-line format: deb [opts] URI bookworm main
    uri="$(awk '$1=="deb" { for(i=2;i<=NF;i++) if($i !~ /^\[/ && $i !~ /\]$/ && $i ~ /:\/\//){ if($i !~ /security/){print $i; exit} } }' /etc/apt/sources.list)"
  fi
  [[ -n "$uri" ]] || fail "no Debian mirror found in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list"
  [[ -n "$key" ]] || key="/usr/share/keyrings/debian-archive-keyring.gpg"
  local body
  body="Types: deb
URIs: ${uri}
Suites: bookworm-backports
Components: main
Signed-By: ${key}
"
  if [[ ! -f "$BACKPORTS_LIST" ]] || [[ "$(cat "$BACKPORTS_LIST")"$'\n' != "$body" ]]; then
    printf '%s' "$body" | "${SUDO[@]}" tee "$BACKPORTS_LIST" >/dev/null
  fi
}

if [[ "$codename" == "bookworm" ]]; then
  # A backports entry may already be configured another way; only add ours if none is.
  if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
    write_backports_source
  fi
  run apt-get update -q || fail "apt-get update failed"
  if run apt-get install "${APT_OPTS[@]}" --no-install-recommends -t bookworm-backports mesa-vulkan-drivers libvulkan1 \
      && lavapipe_ok; then
    echo "install-webgpu: installed lavapipe from bookworm-backports (mesa-vulkan-drivers $(pkg_version mesa-vulkan-drivers), libvulkan1 $(pkg_version libvulkan1))"
    exit 0
  fi
else
  # Newer Debian (trixie+) ships Mesa >= 25 in its main suite.
  run apt-get update -q || fail "apt-get update failed"
  if run apt-get install "${APT_OPTS[@]}" --no-install-recommends mesa-vulkan-drivers libvulkan1 && lavapipe_ok; then
    echo "install-webgpu: installed lavapipe from ${codename:-the default suite} (mesa-vulkan-drivers $(pkg_version mesa-vulkan-drivers))"
    exit 0
  fi
fi

# Fallback: stock Mesa EGL + GLES (llvmpipe) for Dawn's opengles backend.
run apt-get install "${APT_OPTS[@]}" --no-install-recommends libegl1 libegl-mesa0 libgles2 libgl1-mesa-dri \
  || fail "could not install lavapipe (Mesa >= ${MIN_MESA_MAJOR}) nor the stock Mesa EGL/GLES fallback"
echo "install-webgpu: Mesa >= ${MIN_MESA_MAJOR} lavapipe unavailable; installed stock Mesa EGL/GLES $(pkg_version libegl-mesa0) for Dawn's opengles fallback (EGL_PLATFORM=surfaceless, featureLevel compatibility)"
