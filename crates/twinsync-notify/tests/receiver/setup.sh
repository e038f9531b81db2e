#!/usr/bin/env bash
# Installs the Standard Webhooks reference library the receiver verifies with.
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d node_modules/standardwebhooks ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
