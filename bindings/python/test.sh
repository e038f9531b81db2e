#!/usr/bin/env bash
# Builds and tests the Python package from a clean checkout: builds the abi3 wheel
# with maturin (`bindings` cargo profile), installs it with pytest and mypy into a
# fresh virtualenv, runs the tests there (outside the source tree, so the installed
# wheel is what is tested), and prints a summary.
set -euo pipefail
cd "$(dirname "$0")"
export TWINSYNC_JCS_DIR="${TWINSYNC_JCS_DIR:-$(cd ../.. && pwd)/tests/jcs}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
PY="${PYTHON:-python3}"

t0=$SECONDS
"$PY" -m venv "$work/build-env"
"$work/build-env/bin/pip" install --quiet --disable-pip-version-check "maturin==1.16.0"
t1=$SECONDS
# Same target triple and profile as the Node build, so both packages share the
# compiled workspace crates and dependencies in target/.
"$work/build-env/bin/maturin" build --profile bindings --target x86_64-unknown-linux-gnu --out "$work/dist" --quiet
t2=$SECONDS
"$PY" -m venv "$work/test-env"
"$work/test-env/bin/pip" install --quiet --disable-pip-version-check "$work"/dist/twinsync-*.whl "pytest==9.2.0" "mypy==2.4.1"
cp -r tests "$work/tests"
status=0
(cd "$work" && test-env/bin/python -m pytest -q -p no:cacheprovider tests) 2>&1 | tee "$work/pytest.log" || status=$?
t3=$SECONDS

summary=$(grep -E '^[0-9]+ (passed|failed)|^=+ .*(passed|failed)' "$work/pytest.log" | tail -1 | tr -d '=' | sed 's/^ *//; s/ in [0-9.]*s.*$//')
pass=$(echo "$summary" | sed -n 's/.*\b\([0-9][0-9]*\) passed.*/\1/p')
fail=$(echo "$summary" | sed -n 's/.*\b\([0-9][0-9]*\) failed.*/\1/p')
errors=$(echo "$summary" | sed -n 's/.*\b\([0-9][0-9]*\) errors\{0,1\}\b.*/\1/p')
fail=$(( ${fail:-0} + ${errors:-0} ))
echo "python bindings: tools $((t1 - t0)) s, wheel $((t2 - t1)) s ($(basename "$work"/dist/*.whl)), tests $((t3 - t2)) s"
echo "python: ${pass:-0} passed, ${fail:-0} failed"
exit "$status"
