//! RFC 8785 conformance: every vector in `tests/jcs/` at the workspace root, byte for
//! byte, and the ES6 number-formatting vector, which Node generates at test time (its own
//! `Number#toString` is the spelling RFC 8785 requires).

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use sha2::{Digest as _, Sha256};
use twinsync_core::canonical::{self, write_f64, CanonicalOptions};

fn jcs_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/jcs")
}

/// SHA-256 of the first 100,000 lines, as the upstream testdata README publishes it: the
/// generated vector must be the upstream one, not merely whatever this Node prints.
const VECTOR_100K_SHA256: &str = "22776e6d4b49fa294a0d0f349268e5c28808fe7e0cb2bcbe28f63894e494d4c7";

/// The first 100,000 lines of the ES6 vector, generated once per test binary.
fn es6_vector_100k() -> &'static str {
    static VECTOR: OnceLock<String> = OnceLock::new();
    VECTOR.get_or_init(|| {
        let script = jcs_dir().join("es6numbers.mjs");
        let out = Command::new("node").arg(&script).arg("100000").output().unwrap_or_else(|e| {
            panic!("node must be installed to generate the ES6 vector ({}): {e}", script.display())
        });
        assert!(out.status.success(), "{} failed: {}", script.display(), String::from_utf8_lossy(&out.stderr));
        let hex: String = Sha256::digest(&out.stdout).iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, VECTOR_100K_SHA256, "the generated vector is not the upstream one");
        String::from_utf8(out.stdout).unwrap()
    })
}

fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("conformance data {} is missing: {e}", path.display()))
}

#[test]
fn every_input_vector_gives_the_expected_bytes() {
    let dir = jcs_dir();
    let mut names: Vec<_> = std::fs::read_dir(dir.join("input"))
        .expect("conformance input directory")
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(names.len() >= 6, "expected the six upstream vectors, found {names:?}");
    let opts = CanonicalOptions::default();
    for name in &names {
        let input = read(dir.join("input").join(name));
        let expected = read(dir.join("output").join(name));
        let got = canonical::canonicalize(&input, &opts).unwrap_or_else(|e| panic!("{name:?}: {e}"));
        assert_eq!(
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(&expected),
            "{name:?} differs from the expected output"
        );
        assert_eq!(got, expected, "{name:?}: bytes differ");

        // The hex rendering must agree too (guards against any text decoding).
        let stem = PathBuf::from(name).with_extension("txt");
        let hex_path = dir.join("outhex").join(&stem);
        if hex_path.exists() {
            let hex = String::from_utf8(read(hex_path)).unwrap();
            let bytes: Vec<u8> = hex.split_whitespace().map(|h| u8::from_str_radix(h, 16).unwrap()).collect();
            assert_eq!(got, bytes, "{name:?}: differs from outhex");
        }

        // The digest streams the same bytes.
        let digest = canonical::hash_json(&input, &opts).unwrap();
        assert_eq!(digest, twinsync_core::Digest::of_bytes(&expected), "{name:?}: digest");
        // Canonical output is a fixed point.
        assert_eq!(canonical::canonicalize(&got, &opts).unwrap(), got, "{name:?}: not idempotent");
    }
}

fn format_f64(v: f64) -> String {
    let mut out = Vec::new();
    assert!(write_f64(&mut out, v), "{v} is finite");
    String::from_utf8(out).unwrap()
}

fn canonical_number(literal: &str) -> String {
    let out = canonical::canonicalize(literal.as_bytes(), &CanonicalOptions::default())
        .unwrap_or_else(|e| panic!("{literal}: {e}"));
    String::from_utf8(out).unwrap()
}

/// Every line of the 100k ES6 vector: from the double, from its own canonical
/// spelling (the digit-layout path), and from a 17-digit spelling (the float path).
#[test]
fn es6_number_vector_100k() {
    let mut lines = 0;
    for line in es6_vector_100k().lines() {
        let (hex, expected) = line.split_once(',').unwrap_or_else(|| panic!("bad line {line:?}"));
        let bits = u64::from_str_radix(hex, 16).unwrap();
        let v = f64::from_bits(bits);
        assert_eq!(format_f64(v), expected, "bits {hex}");
        assert_eq!(canonical_number(expected), expected, "literal {expected} (bits {hex})");
        let long = format!("{v:.16e}");
        assert_eq!(canonical_number(&long), expected, "literal {long} (bits {hex})");
        lines += 1;
    }
    assert_eq!(lines, 100_000);
}

/// The hand-picked bit patterns open the 100k vector, and each one formats to a
/// string that reads back as the same double.
#[test]
fn es6_static_bit_patterns() {
    let statics = String::from_utf8(read(jcs_dir().join("numbers/es6_static_u64.txt"))).unwrap();
    let mut count = 0;
    for (s, line) in statics.lines().zip(es6_vector_100k().lines()) {
        let bits = u64::from_str_radix(s.trim(), 16).unwrap();
        let (hex, expected) = line.split_once(',').unwrap();
        assert_eq!(u64::from_str_radix(hex, 16).unwrap(), bits, "static pattern {s} out of step with the vector");
        let v = f64::from_bits(bits);
        let got = format_f64(v);
        assert_eq!(got, expected, "bits {s}");
        let back: f64 = got.parse().unwrap();
        if v == 0.0 {
            assert_eq!(back, 0.0);
        } else {
            assert_eq!(back.to_bits(), bits, "{got} does not read back as {s}");
        }
        count += 1;
    }
    assert_eq!(count, 168);
}
