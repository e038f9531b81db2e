//! Design token files (W3C `$value`/`$type`, and Tokens Studio `value`/`type`), with
//! aliases resolved.
//!
//! Properties: a bad file is an error that names the file; tokens come sorted by path,
//! each path once; no resolved value is itself an alias; an alias points at a token of
//! the set, and a token aliasing another has that token's value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use twinsync_design::tokens::{looks_like_tokens, parse_tokens};

const FILE: &str = "tokens/tokens.json";

fn is_alias(v: &Value) -> bool {
    let Some(s) = v.as_str() else { return false };
    let s = s.trim();
    s.strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .is_some_and(|inner| !inner.is_empty() && !inner.contains(['{', '}']))
}

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else { return };
    let looks = looks_like_tokens(&v);
    match parse_tokens(FILE, &v) {
        Err(e) => assert!(e.to_string().starts_with(FILE), "error does not name the file: {e}"),
        Ok(set) => {
            assert!(looks, "parsed a document that does not look like tokens");
            assert!(set.tokens.windows(2).all(|w| w[0].path < w[1].path), "tokens not sorted by path, or repeated");
            let by_path = set.by_path();
            for t in &set.tokens {
                assert!(!is_alias(&t.value), "token {:?} still holds an alias: {}", t.path, t.value);
                if let Some(target) = &t.alias_of {
                    let to =
                        by_path.get(target.as_str()).unwrap_or_else(|| panic!("{:?} aliases a missing token", t.path));
                    assert_eq!(to.value, t.value, "{:?} does not have the value of {target:?}", t.path);
                }
            }
        }
    }
});
