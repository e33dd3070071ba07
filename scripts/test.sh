#!/usr/bin/env bash
# The whole test suite, on both stores: type check and lint, then unit + integration (Vitest) and
# end-to-end (Playwright in Chromium) on SQLite, then the same on a throwaway Postgres cluster.
# Needs Debian's chromium and postgresql: installed here when missing and run as root, otherwise
# this stops at once with the command that installs them. TEST_STORES=sqlite (or postgres) runs one store.
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
stores="${TEST_STORES:-sqlite postgres}"
missing=()
[ -x "$chromium" ] || missing+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's ${missing[*]} for the tests…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "The tests need Debian's ${missing[*]}. Install with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

echo "== type check"
node_modules/.bin/tsc --noEmit
echo "== lint and format"
node_modules/.bin/eslint .
node_modules/.bin/prettier --check . --log-level warn

# A throwaway Postgres cluster for the Postgres run, and for the tests that copy between stores in the SQLite run.
cluster="$(mktemp -d /tmp/lastmile-pg.XXXXXX)"
trap 'scripts/pg-cluster.sh stop "$cluster"' EXIT
pg_url="$(scripts/pg-cluster.sh start "$cluster" "${PG_TEST_PORT:-$((54400 + RANDOM % 500))}")"
export TEST_POSTGRES_URL="$pg_url"

for store in $stores; do
  case "$store" in
    sqlite)
      echo "== SQLite: unit and integration tests"
      node_modules/.bin/vitest run --config tests/vitest.config.ts
      echo "== SQLite: end-to-end tests"
      node_modules/.bin/playwright test -c tests/playwright.config.ts
      ;;
    postgres)
      echo "== Postgres ($pg_url): unit and integration tests"
      TEST_DATABASE_URL="$pg_url" node_modules/.bin/vitest run --config tests/vitest.config.ts
      echo "== Postgres: end-to-end tests"
      e2e_url="$(scripts/pg-cluster.sh createdb "$cluster" lastmile_e2e)"
      E2E_DATABASE_URL="$e2e_url" E2E_PORT="${E2E_PG_PORT:-3211}" node_modules/.bin/playwright test -c tests/playwright.config.ts
      ;;
    *) echo "unknown store $store (sqlite, postgres)" >&2; exit 2 ;;
  esac
done
