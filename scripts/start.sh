#!/usr/bin/env bash
# Starts simpledeploy on this machine with defaults that work: installs pnpm 10 when
# missing, installs dependencies, builds, makes sure Docker answers (with
# scripts/provision-docker.sh), then runs the server in the foreground.
#
#   ./scripts/start.sh
#
# Data (SQLite database, stack files, the generated API key) lives in ./data and the
# API listens on port 8000. Every variable in the README's configuration table is
# honoured, e.g. `PORT=9000 SIMPLEDEPLOY_API_KEY=... ./scripts/start.sh`.
# SD_SKIP_DOCKER=1 skips the Docker provisioning step.
set -euo pipefail
export SD_TAG=start
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
# shellcheck source-path=SCRIPTDIR source=lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/common.sh"
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v node >/dev/null 2>&1 || sd_die 'Node.js is missing: install Node.js 20 (with npm) first'
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" = 20 ] || sd_warn "Node.js $(node --version) found; simpledeploy is built and tested on Node.js 20"

pnpm_version="$(pnpm --version 2>/dev/null || true)"
if [ "${pnpm_version%%.*}" != 10 ]; then
  command -v npm >/dev/null 2>&1 || sd_die 'npm is missing: install Node.js 20 (with npm) first'
  # corepack's signature check fails on some machines, so pnpm comes from npm.
  sd_log 'installing pnpm 10 (npm install -g pnpm@10.34.9)'
  npm install -g --no-fund --no-audit pnpm@10.34.9 >&2
  hash -r
  pnpm --version >/dev/null 2>&1 || sd_die "pnpm was installed but is not on PATH ($(npm prefix -g)/bin)"
fi

sd_log 'installing dependencies (the first time, better-sqlite3 compiles: a few minutes)'
pnpm install --config.confirmModulesPurge=false >&2
sd_log 'building'
pnpm build >&2

if [ "${SD_SKIP_DOCKER:-0}" = 1 ]; then
  sd_log 'SD_SKIP_DOCKER=1: not provisioning Docker'
elif [ -f scripts/provision-docker.sh ]; then
  bash scripts/provision-docker.sh ||
    sd_warn 'Docker is not ready (see above): simpledeploy starts, but /health reports it and deployments fail until it is'
else
  sd_warn "scripts/provision-docker.sh not found: make sure 'docker info' and 'docker compose version' work"
fi

export PORT="${PORT:-8000}"
export SIMPLEDEPLOY_DATA_DIR="${SIMPLEDEPLOY_DATA_DIR:-./data}"
sd_log "starting simpledeploy on port $PORT with data in $SIMPLEDEPLOY_DATA_DIR"
# What `pnpm start` runs, but exec'd directly: pnpm does not pass SIGTERM on to its
# child, and the server needs it to shut down gracefully.
exec node apps/server/dist/main.js
