#!/usr/bin/env bash
# Generates the Kotlin, Swift and Python bindings from the built library, with the
# workspace's pinned uniffi-bindgen (library mode reads the metadata out of the .so).
#
#   bindings/uniffi/generate.sh [OUT_DIR]
#
# OUT_DIR defaults to bindings/uniffi/generated. Kotlin and Swift land there as they are
# checked in; Python goes to OUT_DIR/python (not checked in) next to a copy of the library.
# Set SKIP_BUILD=1 when the library and the bindgen are already built.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$here/generated}"
target="${CARGO_TARGET_DIR:-$root/target}"
lib="$target/debug/libtwinsync_uniffi.so"
bindgen="$target/debug/uniffi-bindgen"

if [[ "${SKIP_BUILD:-0}" != 1 ]]; then
    # `cargo test` does not refresh target/debug/lib*.so; an explicit build does.
    (cd "$root" && cargo build -q -p twinsync-uniffi -p uniffi-bindgen)
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
"$bindgen" generate "$lib" --no-format \
    --language kotlin --language swift --language python --out-dir "$tmp" >/dev/null

rm -rf "$out/kotlin" "$out/swift" "$out/python"
mkdir -p "$out/kotlin" "$out/swift" "$out/python"
cp -r "$tmp/dev" "$out/kotlin/"
cp "$tmp/twinsync_uniffi.swift" "$tmp/twinsync_uniffiFFI.h" "$tmp/twinsync_uniffiFFI.modulemap" "$out/swift/"
cp "$tmp/twinsync_uniffi.py" "$out/python/"
cp "$lib" "$out/python/"
