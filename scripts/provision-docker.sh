#!/usr/bin/env bash
# Makes sure a Docker engine answers `docker info` and `docker compose` is v2.
#
#   scripts/provision-docker.sh          provision (idempotent; quick when all is there)
#   scripts/provision-docker.sh --stop   stop the dockerd this script started, and nothing else
#
# As root on Debian it installs what is missing: docker.io (Engine 20.10) started
# without systemd, and compose v2 taken from Debian trixie's docker-compose package.
# Anywhere else it stops and says what is missing. It never stops or restarts an
# engine it did not start.
#
# Environment:
#   SD_DOCKERD_PIDFILE       where the pid of the dockerd we start is kept
#                            (default /tmp/simpledeploy-dockerd.pid); its presence is
#                            the marker that we started that engine
#   SD_DOCKERD_LOG           dockerd's log (default /tmp/simpledeploy-dockerd.log)
#   SD_DOCKERD_STARTED_FILE  if set, the pid is also written here when this run started
#                            dockerd (scripts/test.sh uses it to decide what to clean up)
set -euo pipefail
export SD_TAG='provision-docker'
# shellcheck source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"

PIDFILE="${SD_DOCKERD_PIDFILE:-/tmp/simpledeploy-dockerd.pid}"
LOGFILE="${SD_DOCKERD_LOG:-/tmp/simpledeploy-dockerd.log}"
SOCKET=/var/run/docker.sock
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins

engine_answers() { docker info --format '{{.ServerVersion}}' >/dev/null 2>&1; }

# Prints the pid from our pid file when that process is still a dockerd.
our_dockerd_pid() {
  [ -r "$PIDFILE" ] || return 1
  local pid
  pid="$(head -n1 "$PIDFILE" | tr -dc 0-9)"
  [ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ] || return 1
  printf '%s\n' "$pid"
}

stop_our_dockerd() {
  local pid
  if ! pid="$(our_dockerd_pid)"; then
    rm -f "$PIDFILE"
    sd_log 'no dockerd started by simpledeploy is running; leaving any other engine alone'
    return 0
  fi
  sd_log "stopping dockerd pid $pid (started by simpledeploy)"
  kill -TERM "$pid" 2>/dev/null || true

  for _ in $(seq 1 60); do
    [ -d "/proc/$pid" ] || break
    sleep 0.5
  done
  if [ -d "/proc/$pid" ]; then
    sd_warn "dockerd pid $pid still running after 30 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$PIDFILE"
}

wait_for_engine() {
  # $1 = seconds, $2 = pid to watch (optional)
  local deadline=$((SECONDS + $1))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if engine_answers; then return 0; fi
    if [ -n "${2:-}" ] && [ ! -d "/proc/$2" ]; then
      tail -n 30 "$LOGFILE" >&2 || true
      sd_die "dockerd (pid $2) exited while starting; its log is $LOGFILE"
    fi
    sleep 0.3
  done
  return 1
}

install_engine() {
  if ! sd_is_root || ! sd_is_debian; then
    sd_die "no Docker engine answers 'docker info' and dockerd is not installed. Install Docker Engine and start it (on Debian as root: 'apt-get install -y docker.io', then run this script again), or set DOCKER_HOST to an engine that runs."
  fi
  sd_apt_install docker.io
}

start_engine() {
  if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != "unix://$SOCKET" ]; then
    sd_die "DOCKER_HOST=$DOCKER_HOST does not answer 'docker info'. Start that engine, or unset DOCKER_HOST to use a local one."
  fi
  local pid
  if pid="$(our_dockerd_pid)"; then
    sd_log "dockerd pid $pid (ours) is running but not answering yet; waiting"
    wait_for_engine 60 "$pid" && return 0
    sd_die "the dockerd we started (pid $pid) does not answer; see $LOGFILE, stop it with '$0 --stop' and retry"
  fi
  command -v dockerd >/dev/null 2>&1 || install_engine
  sd_is_root || sd_die "no Docker engine answers and starting dockerd needs root: run 'sudo $0', or start Docker yourself"
  # Another engine we did not start may own the socket: wait for it, never touch it.
  if [ -r /var/run/docker.pid ]; then
    local other
    other="$(tr -dc 0-9 </var/run/docker.pid)"
    if [ -n "$other" ] && [ "$(cat "/proc/$other/comm" 2>/dev/null)" = dockerd ]; then
      sd_log "a dockerd we did not start (pid $other) is running; waiting for it to answer"
      wait_for_engine 60 && return 0
      sd_die "dockerd pid $other (not started by simpledeploy) does not answer 'docker info'; fix or restart it yourself"
    fi
    # Left behind by a dockerd that died: the new one refuses to start while it exists.
    rm -f /var/run/docker.pid
  fi
  sd_log "starting dockerd (log: $LOGFILE)"
  # setsid: the engine must outlive the shell job that started it (test.sh stops it explicitly).
  setsid dockerd --host "unix://$SOCKET" >>"$LOGFILE" 2>&1 </dev/null &
  pid=$!
  printf '%s\n' "$pid" >"$PIDFILE"
  if [ -n "${SD_DOCKERD_STARTED_FILE:-}" ]; then printf '%s\n' "$pid" >"$SD_DOCKERD_STARTED_FILE"; fi
  if ! wait_for_engine 60 "$pid"; then
    tail -n 30 "$LOGFILE" >&2 || true
    sd_die "dockerd (pid $pid) did not answer within 60 s; see $LOGFILE"
  fi
  sd_log "dockerd pid $pid answers"
}

compose_major() {
  local v
  v="$(docker compose version --short 2>/dev/null)" || return 1
  v="${v#v}"
  printf '%s\n' "${v%%.*}"
}

install_compose_v2() {
  if ! sd_is_root || ! sd_is_debian; then
    sd_die "'docker compose' v2 is missing. Install the Docker Compose v2 CLI plugin (e.g. into ~/.docker/cli-plugins/docker-compose or $PLUGIN_DIR/docker-compose; on Debian as root this script fetches it from Debian trixie)."
  fi
  local mirror tmp
  mirror="$(sd_debian_mirror)" || sd_die 'cannot find the Debian mirror in /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list'
  tmp="$(mktemp -d)"
  # apt downloads as user _apt: it must be able to enter the temp dir.
  chmod 755 "$tmp"
  mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/x"
  printf 'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s trixie main\n' "$mirror" >"$tmp/sources.list"
  # Separate lists and caches: the system's apt configuration stays untouched.
  local opts=(-o "Dir::Etc::SourceList=$tmp/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache" -o APT::Get::List-Cleanup=0 -o APT::Sandbox::User=root)
  sd_log "fetching compose v2 from Debian trixie's docker-compose package ($mirror)"
  apt-get "${opts[@]}" update -qq >&2 || sd_die 'apt-get update for trixie failed'
  (cd "$tmp" && apt-get "${opts[@]}" download -qq docker-compose >&2) || sd_die 'apt-get download docker-compose (trixie) failed'
  dpkg -x "$tmp"/docker-compose_*.deb "$tmp/x"
  local bin="$tmp/x/usr/libexec/docker/cli-plugins/docker-compose"
  [ -x "$bin" ] || sd_die "the trixie docker-compose package has no $bin"
  install -D -m 0755 "$bin" "$PLUGIN_DIR/docker-compose"
  rm -rf "$tmp"
}

if [ "${1:-}" = --stop ]; then
  stop_our_dockerd
  exit 0
fi
[ "$#" -eq 0 ] || sd_die "unknown argument: $1 (usage: $0 [--stop])"

command -v docker >/dev/null 2>&1 || {
  if sd_is_root && sd_is_debian; then sd_apt_install docker.io; else
    sd_die "the docker CLI is missing: install Docker (Debian: 'apt-get install -y docker.io')"
  fi
}

if ! engine_answers; then start_engine; fi

if [ "$(compose_major || true)" != 2 ]; then
  install_compose_v2
  [ "$(compose_major || true)" = 2 ] || sd_die "'docker compose version' is still not v2 after installing $PLUGIN_DIR/docker-compose"
fi

# The client may be newer than the engine (Docker 28 CLI, Engine 20.10): API version
# negotiation must work, which `docker version` proves.
server="$(docker version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>&1)" ||
  sd_die "the docker client cannot talk to the engine: $server. Try DOCKER_API_VERSION=<the engine's API version>."
sd_log "ready: engine $server, client $(docker version --format '{{.Client.Version}}'), compose $(docker compose version --short)"
