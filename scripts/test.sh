#!/usr/bin/env bash
# The whole test suite: type check, unit + integration (Vitest), end-to-end (Playwright in Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

chromium="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
    echo "Chromium is missing: installing Debian's chromium for the browser tests…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "The browser tests need Debian's Chromium. Install it with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y chromium" >&2
    exit 1
  fi
fi

echo "== type check"
node_modules/.bin/tsc --noEmit
echo "== unit and integration tests"
node_modules/.bin/vitest run --config tests/vitest.config.ts
echo "== end-to-end tests"
node_modules/.bin/playwright test -c tests/playwright.config.ts
