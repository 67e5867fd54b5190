# shellcheck shell=bash
# Shared helpers for simpledeploy's setup and test scripts. Source it; do not run it.

SD_TAG="${SD_TAG:-simpledeploy}"

sd_log() { printf '[%s] %s\n' "$SD_TAG" "$*" >&2; }
sd_warn() { printf '[%s] WARNING: %s\n' "$SD_TAG" "$*" >&2; }
sd_die() {
  printf '[%s] ERROR: %s\n' "$SD_TAG" "$*" >&2
  exit 1
}

sd_is_root() { [ "$(id -u)" = 0 ]; }
sd_is_debian() { [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; }

# True when a Debian package is fully installed (dpkg status, no network, ~5 ms).
sd_deb_installed() {
  [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = 'install ok installed' ]
}

# apt-get update at most once per run: the exported marker is shared with child scripts.
sd_apt_update_once() {
  if [ "${SD_APT_UPDATED:-0}" = 1 ]; then return 0; fi
  sd_log 'apt-get update'
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || sd_die 'apt-get update failed: are the Debian mirrors reachable?'
  export SD_APT_UPDATED=1
}

# Installs the given Debian packages; the caller has already checked they are missing.
sd_apt_install() {
  sd_is_root || sd_die "need to install Debian packages ($*) but not running as root: run 'sudo apt-get install -y $*' first"
  sd_is_debian || sd_die "need the packages $* but this is not a Debian system: install their equivalents by hand"
  sd_apt_update_once
  sd_log "apt-get install $*"
  # A policy-rc.d that answers 101 keeps postinst scripts from starting services
  # (docker.io would start its own dockerd that we did not record).
  local policy=/usr/sbin/policy-rc.d ours=0 rc=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && ours=1
  fi
  local log="${TMPDIR:-/tmp}/simpledeploy-apt.log"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" >"$log" 2>&1 || rc=$?
  if [ "$ours" = 1 ]; then rm -f "$policy"; fi
  if [ "$rc" != 0 ]; then
    tail -n 30 "$log" >&2
    sd_die "apt-get install $* failed (exit $rc); full log in $log"
  fi
}

# The Debian mirror this machine already uses (never hard-coded in the repo).
sd_debian_mirror() {
  local uri=''
  if [ -r /etc/apt/sources.list.d/debian.sources ]; then
    uri="$(awk 'tolower($1) == "uris:" && $2 !~ /security/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources)"
  fi
  if [ -z "$uri" ] && [ -r /etc/apt/sources.list ]; then
    uri="$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)"
  fi
  [ -n "$uri" ] || return 1
  printf '%s\n' "${uri%/}"
}

# Wall-clock seconds with millisecond precision, for phase timings.
sd_now() { date +%s.%N; }
sd_elapsed() { awk -v a="$1" -v b="$(sd_now)" 'BEGIN { printf "%.1f", b - a }'; }
