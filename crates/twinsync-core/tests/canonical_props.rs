//! Properties of the canonical form: the digest ignores key order, whitespace and
//! number/string spelling; canonicalising is idempotent; the output reads back as
//! the same value.

use proptest::prelude::*;
use serde_json::{Map, Number, Value};
use twinsync_core::canonical::{self, CanonicalOptions};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-(1i64 << 53)..=(1i64 << 53)).prop_map(|i| Value::Number(i.into())),
        any::<f64>().prop_filter_map("finite", |f| Number::from_f64(f).map(Value::Number)),
        prop_oneof![Just(0.5f64), Just(1e21), Just(1e-7), Just(-0.0), Just(5e-324), Just(123.0)]
            .prop_map(|f| Value::Number(Number::from_f64(f).unwrap())),
        any::<String>().prop_map(Value::String),
        "[a-c\u{e000}\u{ff61}\u{1f600}\"\\\\\u{0}-\u{1f}]{0,4}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(5, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-c\u{e000}\u{ff61}\u{1f600}]{0,3}|\\PC{0,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A small deterministic generator, so one proptest seed picks a key order and a
/// spelling for every object and number.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

/// Writes `v` as JSON with shuffled keys, optional indentation and varied spellings.
fn write(v: &Value, rng: &mut Rng, pretty: bool, depth: usize, out: &mut String) {
    let nl = |out: &mut String, d: usize| {
        if pretty {
            out.push('\n');
            out.push_str(&"  ".repeat(d));
        }
    };
    match v {
        Value::Object(m) => {
            let mut entries: Vec<_> = m.iter().collect();
            for i in (1..entries.len()).rev() {
                entries.swap(i, (rng.next() % (i as u64 + 1)) as usize);
            }
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                write_string(k, rng, out);
                out.push_str(if pretty { ": " } else { ":" });
                write(v, rng, pretty, depth + 1, out);
            }
            nl(out, depth);
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, depth + 1);
                write(v, rng, pretty, depth + 1, out);
            }
            nl(out, depth);
            out.push(']');
        }
        Value::String(s) => write_string(s, rng, out),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) if rng.next() % 3 == 0 => out.push_str(&format!("{i}.000e0")),
            (None, Some(f)) if rng.next() % 2 == 0 => out.push_str(&format!("{f:e}")),
            (None, Some(f)) if rng.next() % 2 == 0 => out.push_str(&format!("{f:.17e}")),
            _ => out.push_str(&n.to_string()),
        },
        other => out.push_str(&other.to_string()),
    }
}

/// Either serde_json's spelling or every character as a `\u` escape.
fn write_string(s: &str, rng: &mut Rng, out: &mut String) {
    if rng.next() % 2 == 0 {
        out.push_str(&serde_json::to_string(s).unwrap());
    } else {
        out.push('"');
        for u in s.encode_utf16() {
            out.push_str(&format!("\\u{u:04X}"));
        }
        out.push('"');
    }
}

fn spell(v: &Value, seed: u64, pretty: bool) -> String {
    let mut out = String::new();
    write(v, &mut Rng(seed | 1), pretty, 0, &mut out);
    out
}

/// Equality with numbers compared by value (canonical `56` reads back as an
/// integer where the original held the double `56.0`).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn digest_ignores_key_order_whitespace_and_spelling(v in value(), s1 in any::<u64>(), s2 in any::<u64>()) {
        let opts = CanonicalOptions::default();
        let a = spell(&v, s1, true);
        let b = spell(&v, s2, false);
        let ha = canonical::hash_json(a.as_bytes(), &opts).map_err(|e| TestCaseError::fail(format!("{e}\n{a}")))?;
        let hb = canonical::hash_json(b.as_bytes(), &opts).map_err(|e| TestCaseError::fail(format!("{e}\n{b}")))?;
        prop_assert_eq!(ha, hb, "\n{}\n{}", a, b);
        prop_assert_eq!(canonical::hash_value(&v, &opts).unwrap(), ha);
    }

    #[test]
    fn canonical_form_is_a_fixed_point_and_reads_back(v in value(), seed in any::<u64>()) {
        let opts = CanonicalOptions::default();
        let text = spell(&v, seed, seed % 2 == 0);
        let c = canonical::canonicalize(text.as_bytes(), &opts).unwrap();
        prop_assert_eq!(&canonical::canonicalize(&c, &opts).unwrap(), &c);
        prop_assert_eq!(canonical::canonicalize_value(&v, &opts).unwrap(), c.clone());
        let back: Value = serde_json::from_slice(&c).unwrap();
        prop_assert!(same(&back, &v), "{} vs {:?}", String::from_utf8_lossy(&c), v);
        // Compact output: no whitespace outside strings, and keys in UTF-16 order.
        if let Value::Object(m) = &back {
            let keys: Vec<Vec<u16>> = m.keys().map(|k| k.encode_utf16().collect()).collect();
            prop_assert!(keys.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
