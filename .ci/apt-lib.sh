# Shared by the .ci/install-*.sh scripts: run apt as root (or through sudo), logging to $LOG,
# and fail with the log's tail. Set NAME (the script's name for messages), WHAT (what it
# installs) and LOG before sourcing.
pkg_version() { dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null | awk '$3=="installed"{print $4}'; }

SUDO=()
become_root() {
  [[ "$(id -u)" -ne 0 ]] || return 0
  if command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n env DEBIAN_FRONTEND=noninteractive)
  else
    echo "$NAME: must run as root (or with sudo available) to apt-get install $WHAT; neither is the case" >&2
    exit 1
  fi
}

run() { "${SUDO[@]}" "$@" >>"$LOG" 2>&1; }
fail() { echo "$NAME: $1 (apt log follows)" >&2; tail -n 30 "$LOG" >&2; exit 1; }
