#!/usr/bin/env bash
# `pnpm typecheck`: the whole repo, tests included, as two tsc programs run side by side.
#   node  tsconfig.json           packages/*, apps/server, apps/cli, scripts/bench
#   web   apps/web/tsconfig.json  apps/web (DOM and JSX) and its e2e tests
# One program per environment checks each source file once; `turbo run typecheck`
# (`pnpm typecheck:packages`) re-checks every imported package once per package.
# Incremental: .tsbuildinfo under node_modules/.cache/typecheck lets a re-run skip
# files whose inputs did not change; delete that directory to start cold.
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

TSC=node_modules/.bin/tsc
CACHE=node_modules/.cache/typecheck
OUT="$(mktemp -d "${TMPDIR:-/tmp}/simpledeploy-typecheck.XXXXXX")"
trap 'rm -rf "$OUT"' EXIT
mkdir -p "$CACHE"
pretty=false
if [ -t 1 ]; then pretty=true; fi

# Runs tsc for one program; its output goes to a file so the two do not interleave.
run() {
  local name="$1" project="$2"
  "$TSC" -p "$project" --noEmit --pretty "$pretty" \
    --incremental --tsBuildInfoFile "$CACHE/$name.tsbuildinfo" >"$OUT/$name.log" 2>&1
}

run node tsconfig.json &
node_pid=$!
run web apps/web/tsconfig.json &
web_pid=$!

rc=0
for name in node web; do
  pid_var="${name}_pid"
  if wait "${!pid_var}"; then
    echo "typecheck $name: ok"
  else
    rc=1
    cat "$OUT/$name.log"
    echo "typecheck $name: FAILED"
  fi
done
exit "$rc"
