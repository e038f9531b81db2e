#!/bin/sh
# Installs Storybook's CSF parser for the twinsync-design real-tooling test (tests/csf_tools.rs).
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
