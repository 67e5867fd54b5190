#!/usr/bin/env bash
# Builds the image of the integration tests' extra Docker hosts (packages/testing,
# test-hosts): a Debian bookworm rootfs from debootstrap with docker.io and sshd,
# imported with `docker import`. Offline except for this machine's own Debian mirror.
#
#   scripts/build-test-host-image.sh              build unless the image exists (idempotent)
#   scripts/build-test-host-image.sh --print-tag  print the image's tag and exit
#
# The tag is `simpledeploy-test-host:<first 12 hex of sha256 of this file>`: any change
# to this recipe builds a new image, an unchanged one is reused across runs. Builds run
# under a file lock, so parallel test files (or a test racing provisioning) build once.
# About 80 s and ~450 MB on a first run; well under a second when the image exists.
#
# Environment:
#   SD_TEST_HOST_LOCK  lock file (default /tmp/simpledeploy-test-host-image.lock)
set -euo pipefail
export SD_TAG='test-host-image'
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

REPOSITORY=simpledeploy-test-host
SELF="${BASH_SOURCE[0]}"
TAG="$REPOSITORY:$(sha256sum "$SELF" | cut -c1-12)"
if [ "${1:-}" = --print-tag ]; then
  printf '%s\n' "$TAG"
  exit 0
fi
[ "$#" -eq 0 ] || sd_die "unknown argument: $1 (usage: $0 [--print-tag])"

image_exists() { docker image inspect "$TAG" >/dev/null 2>&1; }
if image_exists; then
  sd_log "$TAG is cached"
  exit 0
fi

sd_is_root || sd_die "building $TAG needs root (debootstrap): run 'sudo $0' once, the image is then reused"
command -v debootstrap >/dev/null 2>&1 || sd_die "debootstrap is missing: run scripts/ensure-tools.sh (or 'apt-get install -y debootstrap')"
mirror="$(sd_debian_mirror)" || sd_die 'cannot find the Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list'

LOCK="${SD_TEST_HOST_LOCK:-/tmp/simpledeploy-test-host-image.lock}"
exec 9>>"$LOCK"
if ! flock -n 9; then
  sd_log "another process is building $TAG; waiting for its lock ($LOCK)"
  flock 9
fi
# The process that held the lock may have built it meanwhile.
if image_exists; then
  sd_log "$TAG was built by another process"
  exit 0
fi

started="$(sd_now)"
work="$(mktemp -d "${TMPDIR:-/tmp}/simpledeploy-test-host.XXXXXX")"
trap 'rm -rf "$work"' EXIT
rootfs="$work/rootfs"
sd_log "debootstrap bookworm from $mirror (about a minute)"
if ! debootstrap --variant=minbase \
  --include=docker.io,openssh-server,iptables,ca-certificates,procps,iproute2,rsync \
  bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1; then
  tail -n 30 "$work/debootstrap.log" >&2
  sd_die "debootstrap failed; is $mirror reachable?"
fi

# Smaller image: the downloaded .debs, docs and translations are never used.
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
  "$rootfs"/usr/share/doc/* "$rootfs"/usr/share/man/* "$rootfs"/usr/share/locale/*
# Every host gets the key its test generates and pins: none may be shared through the image.
rm -f "$rootfs"/etc/ssh/ssh_host_*
mkdir -p "$rootfs/root/.ssh" "$rootfs/run/sshd"
chmod 700 "$rootfs/root/.ssh"

# The test copies its keys and certificates into /etc/sdtest before the host starts.
cat >"$rootfs/etc/ssh/sshd_config.d/simpledeploy-test.conf" <<'EOF'
HostKey /etc/sdtest/ssh_host_ed25519_key
AuthorizedKeysFile /etc/sdtest/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UseDNS no
EOF

# The host's entrypoint (under docker-init): sshd in the background, dockerd in front with the
# arguments the test passes (listeners, TLS, insecure registry, cgroup parent).
cat >"$rootfs/usr/local/sbin/simpledeploy-test-host" <<'EOF'
#!/bin/sh
set -eu
chmod 700 /etc/sdtest
chmod 600 /etc/sdtest/*
mkdir -p /run/sshd
/usr/sbin/sshd -E /var/log/sshd.log
exec dockerd "$@"
EOF
chmod 755 "$rootfs/usr/local/sbin/simpledeploy-test-host"

sd_log "docker import as $TAG"
tar -C "$rootfs" -c . | docker import \
  --change 'LABEL simpledeploy.test-host-image=1' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'CMD ["/usr/local/sbin/simpledeploy-test-host"]' \
  - "$TAG" >/dev/null

# Images of older recipes are 450 MB each: drop the ones no container uses.
for old in $(docker images --format '{{.Repository}}:{{.Tag}}' "$REPOSITORY"); do
  [ "$old" = "$TAG" ] || docker rmi "$old" >/dev/null 2>&1 || true
done
sd_log "$TAG built in $(sd_elapsed "$started")s"
