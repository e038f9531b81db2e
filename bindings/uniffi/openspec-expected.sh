#!/usr/bin/env bash
# Runs the pinned OpenSpec CLI on a corpus folder and writes the answers the uniffi suites
# compare with: list.json, list-specs.json, validate.json, validate-strict.json,
# show-change/<id>.json and show-spec/<id>.json. The CLI is TWINSYNC_OPENSPEC_CLI, else
# the one .ci/run installs in target/openspec-cli; a missing CLI is an error.
#   openspec-expected.sh CORPUS OUT
set -euo pipefail
corpus="$1" out="$2"
root="$(cd "$(dirname "$0")/../.." && pwd)"
cli="${TWINSYNC_OPENSPEC_CLI:-$root/target/openspec-cli/node_modules/.bin/openspec}"
[[ -x $cli ]] || { echo "no OpenSpec CLI at $cli: run .ci/run or set TWINSYNC_OPENSPEC_CLI" >&2; exit 1; }
export OPENSPEC_TELEMETRY=0 DO_NOT_TRACK=1 OPENSPEC_NO_UPDATE_CHECK=1 CI=1
rm -rf "$out" && mkdir -p "$out/show-change" "$out/show-spec"
cd "$corpus"
# validate exits 1 when an item is invalid, which this corpus has on purpose.
json() { local file="$1"; shift; "$cli" "$@" > "$out/$file" || [[ $1 == validate ]]; }
json list.json list --json
json list-specs.json list --specs --json
json validate.json validate --all --json
json validate-strict.json validate --all --strict --json
json show-change/add-update-workflow.json show add-update-workflow --json --type change
json show-spec/cli-list.json show cli-list --json --type spec
