#!/usr/bin/env bash
# Builds the uniffi library, generates the Kotlin, Swift and Python bindings, checks the
# checked-in Kotlin and Swift are current, then runs the Python (pytest) and Kotlin (JVM)
# suites against the built library. Prints one "N passed, N failed" line per suite and
# exits nonzero on any failure.
#
# Installs what it needs when missing: pytest in a venv, kotlinc from npm, both under
# bindings/uniffi/.tools (gitignored), and JNA from Debian's libjna-java.
set -uo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
target="${CARGO_TARGET_DIR:-$root/target}"
tools="$here/.tools"
build="$here/build"
fresh="$build/fresh"
KOTLIN_COMPILER_VERSION=2.4.20
PYTEST_VERSION=9.2.0
JNA_JAR=/usr/share/java/jna.jar
status=0
# RFC 8785 conformance data shared by every binding's suite.
export TWINSYNC_JCS_DIR="${TWINSYNC_JCS_DIR:-$root/tests/jcs}"
# The project's OpenSpec corpus; the suites compare with the real CLI's answers on it,
# which the "OpenSpec CLI answers" step below writes (never stored in the repository).
export TWINSYNC_OPENSPEC_DIR="${TWINSYNC_OPENSPEC_DIR:-$root/tests/openspec-corpus}"
export TWINSYNC_OPENSPEC_EXPECTED="$build/openspec-expected"
# A real Storybook index.json (public; see SOURCES.md beside it) for the design tests.
export TWINSYNC_STORYBOOK_INDEX="${TWINSYNC_STORYBOOK_INDEX:-$root/crates/twinsync-design/tests/fixtures/research/crayfisher-zari_digital-agency-design-system__index.v4.json}"

# The shared parity fixtures (bindings/fixtures) every binding's suite reads.
export TWINSYNC_FIXTURES_DIR="${TWINSYNC_FIXTURES_DIR:-$root/bindings/fixtures}"
fixtures="$TWINSYNC_FIXTURES_DIR"

step() { echo "== $*" >&2; }
fail() { echo "FAILED: $*" >&2; status=1; }

step "build (debug) twinsync-uniffi and uniffi-bindgen"
(cd "$root" && cargo build -q -p twinsync-uniffi -p uniffi-bindgen) || { echo "build failed" >&2; exit 1; }

step "OpenSpec CLI answers on $TWINSYNC_OPENSPEC_DIR into $TWINSYNC_OPENSPEC_EXPECTED"
"$here/openspec-expected.sh" "$TWINSYNC_OPENSPEC_DIR" "$TWINSYNC_OPENSPEC_EXPECTED" || { echo "the OpenSpec CLI did not answer" >&2; exit 1; }

step "generate Kotlin, Swift and Python into $fresh"
rm -rf "$fresh"
SKIP_BUILD=1 "$here/generate.sh" "$fresh" || { echo "generation failed" >&2; exit 1; }

# The checked-in sources must be exactly what the current code generates, so API
# changes show up in review.
step "staleness check of generated/kotlin and generated/swift"
stale=0
for lang in kotlin swift; do
    if ! diff -r -q "$here/generated/$lang" "$fresh/$lang" >&2; then
        stale=$((stale + 1))
        echo "generated/$lang is stale: run bindings/uniffi/generate.sh and commit the result" >&2
    fi
done
echo "generated: $((2 - stale)) passed, $stale failed"
[[ $stale == 0 ]] || status=1

step "rust: cargo test -p twinsync-uniffi (error mapping)"
rs_out="$(cd "$root" && cargo test -q -p twinsync-uniffi 2>&1)"
rs_rc=$?
rs_sum() { echo "$rs_out" | grep -Eo "[0-9]+ $1" | awk '{ n += $1 } END { print n + 0 }'; }
echo "rust: $(rs_sum passed) passed, $(rs_sum failed) failed"
[[ $rs_rc == 0 ]] || { echo "$rs_out" | tail -n 30 >&2; fail "rust tests (exit $rs_rc)"; }

step "python: pytest"
if [[ ! -x "$tools/venv/bin/python" ]] || ! "$tools/venv/bin/python" -c "import pytest" 2>/dev/null; then
    python3 -m venv "$tools/venv" && "$tools/venv/bin/pip" install -q "pytest==$PYTEST_VERSION" >&2
fi
py_out="$(PYTHONPATH="$fresh/python" "$tools/venv/bin/python" -m pytest -q -p no:cacheprovider "$here/tests/python" 2>&1)"
py_rc=$?
echo "$py_out" | tail -n 30 >&2
py_passed="$(echo "$py_out" | grep -Eo '[0-9]+ passed' | tail -1 | grep -Eo '[0-9]+')"
py_failed="$(echo "$py_out" | grep -Eo '[0-9]+ (failed|error|errors)' | awk "{ n += \$1 } END { print n + 0 }")"
echo "python: ${py_passed:-0} passed, ${py_failed:-0} failed"
[[ $py_rc == 0 ]] || fail "python suite (pytest exit $py_rc)"

step "kotlin: kotlinc $KOTLIN_COMPILER_VERSION + JNA on the JVM"
kc="$tools/kotlinc/node_modules/kotlin-compiler"
if [[ ! -x "$kc/bin/kotlinc" ]] || ! grep -q "\"version\": \"$KOTLIN_COMPILER_VERSION\"" "$kc/package.json"; then
    npm install --no-audit --no-fund --prefix "$tools/kotlinc" "kotlin-compiler@$KOTLIN_COMPILER_VERSION" >&2
fi
if [[ ! -f $JNA_JAR ]]; then
    sudo=""
    [[ $(id -u) == 0 ]] || sudo=sudo
    $sudo apt-get install -y libjna-java >&2 || { $sudo apt-get update >&2 && $sudo apt-get install -y libjna-java >&2; }
fi
jar="$build/kotlin-tests.jar"
# The parity suite reads the shared fixtures, checks API.md's Exports table against the
# generated code and the suite's sources, and seals credentials with the fixture's key.
master_key="$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["credential"]["master_key"])' "$fixtures/parity.json")"
if "$kc/bin/kotlinc" -nowarn -cp "$JNA_JAR" "$fresh"/kotlin/dev/twinsync/*.kt "$here"/tests/kotlin/*.kt -d "$jar" >&2; then
    kt_out="$(TWINSYNC_FIXTURES_DIR="$fixtures" TWINSYNC_API_MD="$root/bindings/API.md" TWINSYNC_MASTER_KEY="$master_key" \
        TWINSYNC_GENERATED_KOTLIN="$fresh/kotlin" TWINSYNC_KOTLIN_TESTS="$here/tests/kotlin" \
        java -Djna.library.path="$target/debug" -cp "$jar:$kc/lib/kotlin-stdlib.jar:$JNA_JAR" MainKt 2>&1)"
    kt_rc=$?
    echo "$kt_out" | grep -v -E '^[0-9]+ passed, [0-9]+ failed$' >&2
    kt_line="$(echo "$kt_out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)"
    echo "kotlin: ${kt_line:-0 passed, 1 failed}"
    [[ $kt_rc == 0 && -n $kt_line ]] || fail "kotlin suite (exit $kt_rc)"
else
    echo "kotlin: 0 passed, 1 failed"
    fail "kotlinc could not compile the bindings and the test program"
fi

echo "swift: not run (no Swift toolchain here); generated/swift is checked by the staleness check" >&2
exit $status
