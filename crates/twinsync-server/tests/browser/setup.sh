#!/usr/bin/env bash
# Installs playwright-core (the pinned driver; no browser download: the test runs
# Debian's chromium) for the page's browser test, crates/twinsync-server/tests/page.rs.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/playwright-core ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
