# Sourced by scripts/test, scripts/pg-throwaway and scripts/e2e: installs Debian packages that
# are missing, with apt, as root.
#
#   apt_ensure LABEL PACKAGE...   installs those of PACKAGE... that are not installed
#
# A fresh Debian container has no package lists, so `apt-get install` alone fails there: the
# lists are refreshed (`apt-get update`) once before the first install, and not again in the same
# run (scripts/test exports TRAIL_APT_UPDATED=1 after refreshing them, so the scripts it runs do
# not refresh them a second time). Not root, or no apt-get: fails saying what to install.

apt_ensure() {
  local label=$1
  shift
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" = 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "$label: ${missing[*]} not installed and this is not root: run 'sudo apt-get update && sudo apt-get install -y ${missing[*]}'" >&2
    return 1
  fi
  if ! command -v apt-get >/dev/null; then
    echo "$label: ${missing[*]} not installed and apt-get is not available: install them by hand" >&2
    return 1
  fi
  local log
  log=$(mktemp)
  if [ "${TRAIL_APT_UPDATED:-}" != 1 ]; then
    echo "$label: apt-get update" >&2
    if ! DEBIAN_FRONTEND=noninteractive apt-get update -q >"$log" 2>&1; then
      cat "$log" >&2
      rm -f "$log"
      echo "$label: apt-get update failed (log above)" >&2
      return 1
    fi
    export TRAIL_APT_UPDATED=1
  fi
  echo "$label: apt-get install ${missing[*]}" >&2
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$log" 2>&1; then
    cat "$log" >&2
    rm -f "$log"
    echo "$label: apt-get install ${missing[*]} failed (log above)" >&2
    return 1
  fi
  rm -f "$log"
}
