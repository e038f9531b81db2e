//! Canonical JSON from bytes (RFC 8785), the digest of every JSON item, and the text
//! normalisation of every markdown and text item.
//!
//! Properties: the canonical form re-parses and is a fixed point; the one-pass walk of
//! small documents and the full walk agree; the streamed digest is
//! the digest of the canonical bytes, and fails exactly when canonicalising fails; JSON
//! Lines digests are the per-line digests; normalised text is a fixed point and hashes
//! as `hash_text` streams it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinsync_core::canonical::{
    canonicalize, hash_json, hash_lines, hash_text, normalize_text, BigIntPolicy, CanonicalOptions, IgnoreRules,
    TextOptions,
};
use twinsync_core::Digest;
use twinsync_fuzz::selector;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the options, so every rule is fuzzed from one corpus.
    let Some((sel, json)) = selector(data) else { return };
    let opts = CanonicalOptions {
        big_integers: if sel & 1 == 0 { BigIntPolicy::Error } else { BigIntPolicy::KeepAsString },
        ignore: if sel & 2 == 0 {
            IgnoreRules::default()
        } else {
            IgnoreRules::new(["/updatedAt", "/**/id", "/items/*/meta"]).expect("valid patterns")
        },
        max_depth: if sel & 4 == 0 { 256 } else { 6 },
    };

    let canonical = canonicalize(json, &opts);
    let digest = hash_json(json, &opts);
    // Small documents take a one-pass walk; trailing spaces past 16 KiB send the same
    // document through the full walk, which must accept it exactly when the one pass
    // does, with the same output.
    if json.len() <= 16 << 10 {
        let mut padded = json.to_vec();
        padded.resize((16 << 10) + 1, b' ');
        assert_eq!(canonicalize(&padded, &opts).ok(), canonical.as_ref().ok().cloned(), "the two walks disagree");
    }
    match &canonical {
        Ok(out) => {
            assert_eq!(digest.as_ref().ok(), Some(&Digest::of_bytes(out)), "streamed digest differs");
            // Already canonical, with its big integers as strings and ignored fields gone:
            // the same options leave it unchanged, byte for byte.
            let again = canonicalize(out, &opts);
            assert_eq!(again.as_ref(), Ok(out), "not a fixed point: {:?}", String::from_utf8_lossy(out));
            if let Err(e) = serde_json::from_slice::<serde_json::Value>(out) {
                assert!(e.to_string().contains("recursion limit"), "serde_json rejects canonical output: {e}");
            }
        }
        Err(e) => {
            assert_eq!(digest.as_ref().err(), Some(e), "hashing and canonicalising disagree");
            assert!(e.offset.is_none_or(|o| o <= json.len()), "offset past the input: {e:?}");
            assert!(!e.to_string().is_empty());
        }
    }

    let lines = hash_lines(json, &opts);
    let mut records = json.split(|&b| b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace));
    for d in &lines.digests {
        let line = records.next().expect("more digests than records");
        assert_eq!(hash_json(line, &opts).as_ref(), Ok(d), "JSON Lines digest differs from its line's");
    }
    if let Some(bad) = &lines.error {
        let line = records.next().expect("an error past the last record");
        assert_eq!(hash_json(line, &opts).err().as_ref(), Some(&bad.error), "JSON Lines error differs from its line's");
    } else {
        assert!(records.next().is_none(), "a record was left out");
    }

    if let Ok(text) = std::str::from_utf8(json) {
        let topts = TextOptions { trim_trailing_whitespace: sel & 8 != 0 };
        let norm = normalize_text(text, &topts);
        assert_eq!(hash_text(text, &topts), Digest::of_bytes(norm.as_bytes()));
        assert!(!norm.contains('\r'), "a CR survived");
        // A BOM is stripped once; a second one after it is content.
        if !norm.starts_with('\u{feff}') {
            assert_eq!(normalize_text(&norm, &topts), norm, "normalised text is not a fixed point");
        }
    }
});
