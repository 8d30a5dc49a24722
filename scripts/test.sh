#!/usr/bin/env bash
# The whole test suite, from a clean clone: installs what is missing, checks types and format,
# builds the shim and both binaries, then runs every bun test (unit, http, native, e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "test: typecheck"
bunx tsc --noEmit -p .
echo "test: format"
bunx prettier --check . >/dev/null || { bunx prettier --check . || true; echo "test: run 'bun run fmt'"; exit 1; }
echo "test: build binaries"
bun scripts/build.ts
echo "test: bun test"
bun test --timeout 120000 "$@"
