#!/usr/bin/env bash
# Builds and tests the Node package from a clean checkout: installs the pinned npm
# dependencies (@napi-rs/cli, TypeScript), builds the addon with the `bindings` cargo
# profile, runs `node --test` and the TypeScript check, checks that the checked-in
# generated files (native.js, native.d.ts) match the build, and prints a summary.
set -euo pipefail
cd "$(dirname "$0")"
export TWINSYNC_JCS_DIR="${TWINSYNC_JCS_DIR:-$(cd ../.. && pwd)/tests/jcs}"
log="$(mktemp)"
calls="$(mktemp -d)"
trap 'rm -rf "$log" "$calls"' EXIT

t0=$SECONDS
# `npm ci` trips over npm 11 listing optional platform packages of @napi-rs/cli's own
# dependencies as missing; `npm install` with the committed lock file installs the same tree.
npm install --no-audit --no-fund --loglevel=error
t1=$SECONDS
npm run --silent build
t2=$SECONDS
if ! git diff --quiet -- native.js native.d.ts 2>/dev/null; then
  git --no-pager diff --stat -- native.js native.d.ts
  echo "node: the generated native.js / native.d.ts differ from the checked-in ones; commit the rebuilt files" >&2
  exit 1
fi
status=0
# Every test process records the exports it calls (__test__/calls/record.cjs); then one
# more test checks that every export API.md lists was called in this run.
TWINSYNC_CALLS_DIR="$calls" NODE_OPTIONS="--require $PWD/__test__/calls/record.cjs" \
  node --test __test__/ 2>&1 | tee "$log" || status=$?
TWINSYNC_CALLS_DIR="$calls" node --test __test__/calls/every-export-called.mjs 2>&1 | tee -a "$log" || status=$?
npm run --silent typecheck || status=$?
t3=$SECONDS

# The package as users install it: `npm pack`, then install the tarball in a fresh
# folder (it has no dependencies, so nothing is fetched) and use it from CommonJS
# and from an ES module, prebuilt addon included.
install_ok=0
if ./install-test.sh; then install_ok=1; else status=1; fi
t4=$SECONDS

pass=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
fail=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' "$log" | awk '{ s += $1 } END { print s + 0 }')
echo "node bindings: npm install $((t1 - t0)) s, build $((t2 - t1)) s, tests $((t3 - t2)) s, install test $((t4 - t3)) s"
echo "node: $(( ${pass:-0} + install_ok )) passed, $(( ${fail:-0} + 1 - install_ok )) failed"
exit "$status"
