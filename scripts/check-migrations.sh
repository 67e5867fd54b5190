#!/usr/bin/env bash
# Fails when migrations/ and the drizzle schema (packages/db/src/schema) disagree.
#   1. `drizzle-kit check`: the snapshots in migrations/meta form one consistent chain.
#   2. `drizzle-kit generate` against a copy of migrations/: a schema change without its
#      migration would produce a new SQL file there (check alone does not notice that).
# The fix for 2 is `pnpm db:generate --name <what-changed>`, then commit the files.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
CONFIG=packages/db/drizzle.config.ts
DRIZZLE_KIT="$ROOT/node_modules/.bin/drizzle-kit"

"$DRIZZLE_KIT" check --config "$CONFIG"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/simpledeploy-migrations.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
# The real config, run from a directory where its relative `out` (./migrations) is the copy
# and its relative `schema` (./packages/...) is the real schema.
cp -R migrations "$WORK/migrations"
ln -s "$ROOT/packages" "$WORK/packages"
# drizzle-kit can exit 0 after an error, so success is judged by its output, not its status.
if ! output="$(cd "$WORK" && "$DRIZZLE_KIT" generate --config "$CONFIG" --name drift_check </dev/null 2>&1)"; then
  printf '%s\n' "$output" >&2
  echo 'drizzle-kit generate failed' >&2
  exit 1
fi
if ! diff -rq migrations "$WORK/migrations" >/dev/null; then
  echo 'The drizzle schema has changes that no migration covers. They would need:' >&2
  cat "$WORK"/migrations/*_drift_check.sql >&2 2>/dev/null || printf '%s\n' "$output" >&2
  echo >&2
  echo 'Run `pnpm db:generate --name <what-changed>` and commit migrations/.' >&2
  exit 1
fi
if ! grep -q 'No schema changes' <<<"$output"; then
  printf '%s\n' "$output" >&2
  echo 'drizzle-kit generate did not confirm the schema matches migrations/' >&2
  exit 1
fi
echo 'migrations/ matches the drizzle schema'
