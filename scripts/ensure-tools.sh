#!/usr/bin/env bash
# Installs the tools the build and the test suite need, each only when missing:
# pnpm 10, and Debian's git, docker-registry, apache2-utils (htpasswd), busybox-static,
# chromium, and for the extra Docker hosts of the integration tests debootstrap (their
# image), openssh-client (ssh to them) and openssl (their TLS certificates), and wrk
# (the load generator of pnpm bench).
# Idempotent; a second run only checks and takes well under a second.
# SD_SKIP_BROWSER=1 leaves chromium out.
set -euo pipefail
export SD_TAG='ensure-tools'
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

missing=()
need_deb() {
  # $1 = package, $2 = a file it provides (a cheap first check)
  if [ -e "$2" ] && sd_deb_installed "$1"; then return 0; fi
  if [ -e "$2" ] && ! sd_is_debian; then return 0; fi
  missing+=("$1")
}

need_deb git /usr/bin/git
need_deb docker-registry /usr/bin/docker-registry
need_deb apache2-utils /usr/bin/htpasswd
need_deb busybox-static /bin/busybox
# The test hosts (packages/testing/src/test-hosts, scripts/build-test-host-image.sh).
need_deb debootstrap /usr/sbin/debootstrap
need_deb openssh-client /usr/bin/ssh
need_deb openssl /usr/bin/openssl
# The load generator of `pnpm bench`, run as its own process (scripts/bench/wrk.ts).
need_deb wrk /usr/bin/wrk
if [ "${SD_SKIP_BROWSER:-0}" != 1 ]; then
  need_deb chromium /usr/bin/chromium
  # Without a font, pages render as boxes in screenshots.
  need_deb fonts-liberation /usr/share/fonts/truetype/liberation
fi

if [ "${#missing[@]}" -gt 0 ]; then
  if ! sd_is_root || ! sd_is_debian; then
    sd_die "missing: ${missing[*]}. Install them as root on Debian ('apt-get install -y ${missing[*]}') or their equivalents on this system, then rerun."
  fi
  sd_apt_install "${missing[@]}"
fi

if [ -e /bin/busybox ] && ! /bin/busybox --list 2>/dev/null | grep -qx httpd; then
  sd_die '/bin/busybox has no httpd applet: install the busybox-static package'
fi

pnpm_version="$(pnpm --version 2>/dev/null || true)"
if [ "${pnpm_version%%.*}" != 10 ]; then
  command -v npm >/dev/null 2>&1 || sd_die 'npm is missing: install Node.js 20 (with npm) first'
  # corepack's signature check fails on these machines, so pnpm comes from npm.
  sd_log 'npm install -g pnpm@10.34.9'
  npm install -g --no-fund --no-audit pnpm@10.34.9 >&2
  hash -r
  pnpm_version="$(pnpm --version 2>/dev/null)" || sd_die "pnpm was installed but is not on PATH ($(npm prefix -g)/bin)"
fi
sd_log "tools ready: pnpm $pnpm_version, $(git --version)"
