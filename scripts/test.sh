#!/usr/bin/env bash
# The whole suite, from a machine with nothing installed: tools, dependencies, a Docker
# engine with compose v2, then lint, typecheck, the migrations check, unit and
# integration tests. Ends with one line `N passed, N failed` (lint, typecheck and
# migrations count as one check each; the test counts come from vitest's JSON reports).
# Exits non-zero on any failure, a missing Docker engine included: integration tests
# never skip.
#
# Environment:
#   SD_KEEP_DOCKERD=1   leave running a dockerd this run started (default: stop it)
#   SD_SKIP_BROWSER=1   do not install chromium
#   SD_TEST_RESULTS_DIR where vitest's JSON reports go (default: $TMPDIR/simpledeploy-test-results;
#                       outside the repo, so that biome does not lint them)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export SD_TAG='test'
# shellcheck source=lib/common.sh
. scripts/lib/common.sh

export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1
STATE="$(mktemp -d "${TMPDIR:-/tmp}/simpledeploy-test.XXXXXX")"
export SD_TEST_PID_DIR="$STATE/pids"
export SD_DOCKERD_STARTED_FILE="$STATE/dockerd-started"
mkdir -p "$SD_TEST_PID_DIR"
RESULTS="${SD_TEST_RESULTS_DIR:-${TMPDIR:-/tmp}/simpledeploy-test-results}"
mkdir -p "$RESULTS"

PASSED=0
FAILED=0
TIMINGS=()
RUN_STARTED="$(sd_now)"

# Runs one phase: name, then the command. Records its time; returns the command's status.
phase() {
  local name="$1" started rc=0
  shift
  sd_log "── $name"
  started="$(sd_now)"
  "$@" || rc=$?
  local took
  took="$(sd_elapsed "$started")"
  if [ "$rc" = 0 ]; then
    TIMINGS+=("$(printf '%-12s ok      %7ss' "$name" "$took")")
  else
    TIMINGS+=("$(printf '%-12s FAILED  %7ss' "$name" "$took")")
  fi
  sd_log "── $name: $([ "$rc" = 0 ] && echo ok || echo "failed (exit $rc)") in ${took}s"
  return "$rc"
}

# A check that is not a test runner (lint, typecheck, migrations) counts as one test.
check() {
  if phase "$@"; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); fi
}

# Runs a vitest project with a JSON report and adds its real test counts.
vitest_project() {
  local project="$1" report="$RESULTS/$1.json" rc=0
  shift
  rm -f "$report"
  phase "$project" pnpm exec vitest run --project "$project" --passWithNoTests "$@" \
    --reporter=default --reporter=json --outputFile.json="$report" || rc=$?
  local counts
  if [ -s "$report" ] && counts="$(node -e '
    const r = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    console.log(r.numPassedTests, r.numFailedTests, r.numPendingTests + r.numTodoTests, r.numTotalTests);
  ' "$report")"; then
    local passed failed skipped total
    read -r passed failed skipped total <<<"$counts"
    sd_log "$project: $passed passed, $failed failed, $skipped skipped of $total"
    PASSED=$((PASSED + passed))
    FAILED=$((FAILED + failed))
    # A run that failed outside any test (a setup error, a file that does not load) is one more failure.
    if [ "$rc" != 0 ] && [ "$failed" = 0 ]; then FAILED=$((FAILED + 1)); fi
  else
    sd_warn "$project: no JSON report at $report; counting the run as one failure"
    FAILED=$((FAILED + 1))
  fi
}

remove_test_resources() {
  docker info >/dev/null 2>&1 || return 0
  local ids
  ids="$(docker ps -aq --filter label=simpledeploy.test=1)"
  # shellcheck disable=SC2086
  if [ -n "$ids" ]; then docker rm -f -v $ids >/dev/null || true; fi
  local projects
  projects="$(
    {
      docker ps -a --filter label=com.docker.compose.project --format '{{.Label "com.docker.compose.project"}}'
      docker network ls --filter label=com.docker.compose.project --format '{{.Label "com.docker.compose.project"}}'
      docker volume ls --filter label=com.docker.compose.project --format '{{.Label "com.docker.compose.project"}}'
    } 2>/dev/null | grep '^sdtest-' | sort -u || true
  )"
  local project filter
  for project in $projects; do
    filter="label=com.docker.compose.project=$project"
    ids="$(docker ps -aq --filter "$filter")"
    # shellcheck disable=SC2086
    if [ -n "$ids" ]; then docker rm -f -v $ids >/dev/null || true; fi
    ids="$(docker network ls -q --filter "$filter")"
    # shellcheck disable=SC2086
    if [ -n "$ids" ]; then docker network rm $ids >/dev/null || true; fi
    ids="$(docker volume ls -q --filter "$filter")"
    # shellcheck disable=SC2086
    if [ -n "$ids" ]; then docker volume rm -f $ids >/dev/null || true; fi
  done
  if [ -n "$projects" ]; then sd_log "removed leftover test projects: $(printf '%s' "$projects" | tr '\n' ' ')"; fi
  # Networks of test hosts (their containers carry simpledeploy.test=1 and are gone by now).
  ids="$(docker network ls -q --filter label=simpledeploy.test-host=1)"
  # shellcheck disable=SC2086
  if [ -n "$ids" ]; then docker network rm $ids >/dev/null || true; fi
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  # A test hosts image build still running in the background (its whole session).
  if [ -n "${HOSTS_IMAGE_PID:-}" ]; then kill -TERM -- "-$HOSTS_IMAGE_PID" 2>/dev/null; fi
  # Registries a crashed test run left behind (the harness records their pids).
  local file pid
  for file in "$SD_TEST_PID_DIR"/*; do
    [ -e "$file" ] || continue
    pid="$(basename "$file")"
    if [ -d "/proc/$pid" ]; then
      sd_log "stopping leftover $(cat "$file") (pid $pid)"
      kill -TERM "$pid" 2>/dev/null
    fi
  done
  remove_test_resources
  if [ -s "$SD_DOCKERD_STARTED_FILE" ]; then
    if [ "${SD_KEEP_DOCKERD:-0}" = 1 ]; then
      sd_log "leaving dockerd pid $(cat "$SD_DOCKERD_STARTED_FILE") running (SD_KEEP_DOCKERD=1)"
    else
      bash scripts/provision-docker.sh --stop
    fi
  fi
  rm -rf "$STATE"
  # Anything that failed before the suites ran (setup) counts as a failure too.
  if [ "$rc" != 0 ] && [ "$FAILED" = 0 ]; then FAILED=1; fi
  [ "$FAILED" = 0 ] || [ "$rc" != 0 ] || rc=1
  sd_log 'phase timings:'
  local line
  for line in "${TIMINGS[@]}"; do sd_log "  $line"; done
  sd_log "  $(printf '%-12s         %7ss' total "$(sd_elapsed "$RUN_STARTED")")"
  printf '%s passed, %s failed\n' "$PASSED" "$FAILED"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

install_deps() {
  # No TTY in CI: pnpm must never stop to ask before re-creating node_modules.
  local opts=(--prefer-offline --config.confirmModulesPurge=false)
  if [ -f pnpm-lock.yaml ]; then
    pnpm install --frozen-lockfile "${opts[@]}" || {
      sd_warn 'pnpm install --frozen-lockfile failed: if pnpm-lock.yaml is out of date, run "pnpm install" and commit it'
      return 1
    }
  else
    sd_warn 'no pnpm-lock.yaml yet: plain pnpm install'
    pnpm install "${opts[@]}"
  fi
}

phase tools bash scripts/ensure-tools.sh
phase install install_deps
docker_ok=1
phase docker bash scripts/provision-docker.sh || docker_ok=0
# The image of the integration tests' extra Docker hosts: 1-4 min once, then cached by recipe
# hash. It builds in the background (its own session, so cleanup can stop all of it) while
# lint, typecheck, build and unit tests run; the test-hosts phase waits for what is left.
HOSTS_IMAGE_PID=''
if [ "$docker_ok" = 1 ]; then
  setsid -w bash scripts/build-test-host-image.sh >"$STATE/test-hosts-image.log" 2>&1 </dev/null &
  HOSTS_IMAGE_PID=$!
fi
wait_for_hosts_image() {
  local rc=0
  wait "$HOSTS_IMAGE_PID" || rc=$?
  HOSTS_IMAGE_PID=''
  cat "$STATE/test-hosts-image.log" >&2
  return "$rc"
}

check lint pnpm lint
# Two tsc programs side by side (scripts/typecheck.sh), not one per package.
check typecheck pnpm typecheck
# migrations/ must match the drizzle schema (scripts/check-migrations.sh).
check migrations pnpm db:check
# The integration suite starts the bundled server and serves the built web UI.
check build pnpm build
vitest_project unit
if [ -n "$HOSTS_IMAGE_PID" ]; then
  # Should it fail, the tests that start test hosts try again and fail; the others still run.
  phase test-hosts wait_for_hosts_image ||
    sd_warn 'the test hosts image was not built; the tests that start test hosts will fail'
fi
if [ "$docker_ok" = 1 ]; then
  # One file at a time on two cores (vitest reads fileParallelism only at the root, not per project).
  vitest_project integration --no-file-parallelism
else
  sd_warn 'integration tests not run: no Docker engine with compose v2 (see above). This is a failure, not a skip.'
  FAILED=$((FAILED + 1))
fi

[ "$FAILED" = 0 ]
