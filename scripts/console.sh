#!/usr/bin/env bash
# The web console (console/): build it into src/kairos/console_dist/, test it, and keep its
# API types in step with the backend. Needs Node 20.19+ and npm; see docs/console.md.
#
#   scripts/console.sh build        install dependencies if needed, type-check, build
#   scripts/console.sh test         type-check, unit tests (Vitest), build, size budget
#   scripts/console.sh types        regenerate console/openapi.json and src/api/schema.d.ts
#   scripts/console.sh check-types  fail when those differ from what the backend generates now
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONSOLE="$ROOT/console"
KAIROS="${KAIROS:-$ROOT/.venv/bin/kairos}"
TMP=""
trap '[[ -z "$TMP" ]] || rm -rf "$TMP"' EXIT

die() {
  echo "console: $*" >&2
  exit 1
}

check_node() {
  command -v node >/dev/null 2>&1 || die "Node.js 20.19 or newer is needed (node not found)"
  command -v npm >/dev/null 2>&1 || die "npm is needed (not found)"
  local version major minor
  version="$(node -p 'process.versions.node')"
  major="${version%%.*}"
  minor="${version#*.}"
  minor="${minor%%.*}"
  if ((major < 20 || (major == 20 && minor < 19))); then
    die "Node.js 20.19 or newer is needed (found $version)"
  fi
}

# npm ci when node_modules is missing or older than package-lock.json.
ensure_deps() {
  check_node
  local stamp="$CONSOLE/node_modules/.package-lock.json"
  if [[ ! -f "$stamp" || "$CONSOLE/package-lock.json" -nt "$stamp" ]]; then
    echo "console: installing dependencies (npm ci)"
    (cd "$CONSOLE" && npm ci --no-audit --no-fund)
  fi
}

kairos_bin() {
  if [[ -x "$KAIROS" ]]; then
    echo "$KAIROS"
  elif command -v kairos >/dev/null 2>&1; then
    command -v kairos
  else
    die "the kairos CLI is needed to read the OpenAPI document (run 'make install' or set KAIROS=)"
  fi
}

# Writes openapi.json and schema.d.ts into $1 (a directory).
generate_types() {
  local out="$1"
  "$(kairos_bin)" reference openapi -o "$out/openapi.json"
  (cd "$CONSOLE" && npx --no-install openapi-typescript "$out/openapi.json" -o "$out/schema.d.ts" >/dev/null)
}

cmd_build() {
  ensure_deps
  (cd "$CONSOLE" && npm run build)
}

cmd_test() {
  ensure_deps
  (cd "$CONSOLE" && npm run typecheck && npm test && npm run bundle && npm run size)
}

cmd_types() {
  ensure_deps
  TMP="$(mktemp -d)"
  generate_types "$TMP"
  cp "$TMP/openapi.json" "$CONSOLE/openapi.json"
  cp "$TMP/schema.d.ts" "$CONSOLE/src/api/schema.d.ts"
  echo "console: wrote console/openapi.json and console/src/api/schema.d.ts"
}

cmd_check_types() {
  ensure_deps
  local stale=0
  TMP="$(mktemp -d)"
  generate_types "$TMP"
  cmp -s "$TMP/openapi.json" "$CONSOLE/openapi.json" || { echo "console: console/openapi.json is out of date" >&2; stale=1; }
  cmp -s "$TMP/schema.d.ts" "$CONSOLE/src/api/schema.d.ts" || { echo "console: console/src/api/schema.d.ts is out of date" >&2; stale=1; }
  if ((stale)); then
    die "the API changed: run scripts/console.sh types"
  fi
  echo "console: API types are up to date"
}

case "${1:-}" in
  build) cmd_build ;;
  test) cmd_test ;;
  types) cmd_types ;;
  check-types) cmd_check_types ;;
  *)
    echo "usage: scripts/console.sh build|test|types|check-types" >&2
    exit 2
    ;;
esac
