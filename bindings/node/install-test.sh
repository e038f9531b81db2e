#!/usr/bin/env bash
# Installs the package as users get it: `npm pack` here, then `npm install` of the
# tarball in a fresh temporary folder, and checks from CommonJS `require` and ESM
# `import` that the prebuilt addon for this platform is inside and works, errors
# included. Run by test.sh after the build; exits nonzero on any failure.
set -euo pipefail
cd "$(dirname "$0")"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

tarball="$tmp/$(npm pack --silent --pack-destination "$tmp" | tail -1)"
addon="$(node -p "require('./package.json').napi.binaryName").linux-x64-gnu.node"
listing="$(tar -tzf "$tarball")"
if ! grep -qx "package/$addon" <<<"$listing"; then
  echo "install test: $addon is not in $(basename "$tarball")" >&2
  exit 1
fi

mkdir "$tmp/app"
cd "$tmp/app"
echo '{"name": "app", "version": "1.0.0", "private": true}' > package.json
npm install --no-audit --no-fund --loglevel=error "$tarball"

# sha256 of {"a":2,"b":1}: the canonical form of both inputs below.
want=sha256:d3626ac30a87e6f7a6428233b3c68299976865fa5508e4267c5415c76af7a772
cat > check.cjs <<JS
const assert = require('node:assert')
const ts = require('twinsync')
assert.strictEqual(require.resolve('twinsync').startsWith(__dirname + '/node_modules/twinsync/'), true)
assert.strictEqual(ts.canonicalHash({ b: 1, a: 2 }), '$want')
assert.strictEqual(ts.canonicalHashJson('{"b":1,"a":2.0}'), '$want')
assert.throws(() => ts.canonicalHashJson('[1,'), (e) => e instanceof ts.InvalidInputError && e instanceof ts.TwinsyncError && e.code === 'INVALID_INPUT')
console.log('cjs ok')
JS
cat > check.mjs <<JS
import assert from 'node:assert'
import ts, { canonicalHash, canonicalHashJson, InvalidInputError, TwinsyncError } from 'twinsync'
assert.strictEqual(canonicalHash({ b: 1, a: 2 }), '$want')
assert.strictEqual(canonicalHashJson(Buffer.from('{"b":1,"a":2.0}')), '$want')
assert.strictEqual(ts.canonicalHash, canonicalHash)
assert.throws(() => canonicalHash({ n: 1n }), (e) => e instanceof InvalidInputError && e instanceof TwinsyncError)
console.log('esm ok')
JS
node check.cjs
node check.mjs
echo "install test: $(basename "$tarball") installs in a fresh folder and works from require and import"
