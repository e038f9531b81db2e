//! What JCS cannot represent is rejected with the JSON Pointer of the culprit, and
//! ignore rules drop exactly the members they name.

use twinsync_core::canonical::{self, BigIntPolicy, CanonicalOptions, ErrorKind, IgnoreRules};

fn canon(json: &str) -> String {
    String::from_utf8(canonical::canonicalize(json.as_bytes(), &CanonicalOptions::default()).unwrap()).unwrap()
}

fn err(json: &[u8]) -> canonical::CanonicalError {
    canonical::canonicalize(json, &CanonicalOptions::default()).unwrap_err()
}

#[test]
fn duplicate_keys_name_the_member_in_order_or_not() {
    let e = err(br#"{"a": {"x": 1, "y": 2, "x": 3}}"#);
    assert_eq!(e.kind, ErrorKind::DuplicateKey("x".into()));
    assert_eq!(e.path, "/a/x");
    assert_eq!(e.offset, Some(23));
    // Out of order: found only after sorting; still names the later occurrence.
    let e = err(br#"{"b": 1, "z": 0, "b": 2}"#);
    assert_eq!((e.path.as_str(), e.offset), ("/b", Some(17)));
    // Escaped spelling of the same key is the same key.
    let e = err(br#"{"list": [{"k": 1, "\u006b": 2}]}"#);
    assert_eq!(e.path, "/list/0/k");
    assert!(e.to_string().contains("duplicate key \"k\""), "{e}");
}

#[test]
fn non_finite_numbers_are_rejected_with_their_path() {
    let e = err(br#"{"a": [1, 2, 1e400]}"#);
    assert_eq!((e.kind, e.path.as_str()), (ErrorKind::NonFinite, "/a/2"));
    assert_eq!(err(b"-1e400").kind, ErrorKind::NonFinite);
    assert!(matches!(err(b"[NaN]").kind, ErrorKind::Syntax(_)));
    assert!(matches!(err(b"[Infinity]").kind, ErrorKind::Syntax(_)));
    // Underflow is representable: it is zero.
    assert_eq!(canon("[1e-400, -0.0, -0]"), "[0,0,0]");
}

#[test]
fn lone_surrogates_are_rejected() {
    for (doc, path) in [
        (r#"{"s": "\ud800"}"#, "/s"),
        (r#"{"s": "x\ud800y"}"#, "/s"),
        (r#"["\udc00"]"#, "/0"),
        (r#"["\ud800\u0041"]"#, "/0"),
    ] {
        let e = err(doc.as_bytes());
        assert_eq!((e.kind, e.path.as_str()), (ErrorKind::LoneSurrogate, path), "{doc}");
    }
    assert_eq!(canon(r#""\ud83d\ude02""#), "\"😂\"");
}

#[test]
fn big_integers_follow_the_policy() {
    let doc = br#"{"id": 12345678901234567890, "n": 9007199254740992, "m": -9007199254740993}"#;
    let e = err(doc);
    assert_eq!(e.path, "/id");
    assert_eq!(e.kind, ErrorKind::BigInteger("12345678901234567890".into()));
    let opts = CanonicalOptions { big_integers: BigIntPolicy::KeepAsString, ..Default::default() };
    let out = canonical::canonicalize(doc, &opts).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        r#"{"id":"12345678901234567890","m":"-9007199254740993","n":9007199254740992}"#
    );
    // Integers whose digits a double does hold keep their value and stay stable.
    assert_eq!(
        canon("[333333333333333300000, 1000000000000000000000, 9007199254740994]"),
        "[333333333333333300000,1e+21,9007199254740994]"
    );
}

#[test]
fn nesting_beyond_the_limit_is_rejected() {
    let opts = CanonicalOptions { max_depth: 3, ..Default::default() };
    assert!(canonical::canonicalize(b"[[[1]]]", &opts).is_ok());
    let e = canonical::canonicalize(br#"[[{"a": [1]}]]"#, &opts).unwrap_err();
    assert_eq!((e.kind, e.path.as_str()), (ErrorKind::TooDeep(3), "/0/0/a"));
    // The default limit holds against a pathological document without overflowing.
    let deep = "[".repeat(100_000);
    assert_eq!(err(deep.as_bytes()).kind, ErrorKind::TooDeep(256));
}

#[test]
fn invalid_utf8_and_syntax_errors_give_the_byte_offset() {
    let e = err(b"{\"a\": \"ok \xff\"}");
    assert_eq!((e.kind, e.path.as_str(), e.offset), (ErrorKind::InvalidUtf8, "/a", Some(10)));
    let e = err(b"{\"\xc3\": 1}");
    assert_eq!(e.kind, ErrorKind::InvalidUtf8);
    for (doc, offset) in [
        (&b"{\"a\" 1}"[..], 5),
        (b"[1, 2,]", 6),
        (b"[01]", 1),
        (b"{\"a\": tru}", 6),
        (b"[1] x", 4),
        (b"", 0),
        (b"\"abc", 0),
        (b"[\"a\tb\"]", 3),
        (b"[\"\\x\"]", 2),
        (b"[1.]", 3),
        (b"[1e]", 3),
        (b"{1: 2}", 1),
    ] {
        let e = err(doc);
        assert!(matches!(e.kind, ErrorKind::Syntax(_)), "{doc:?}: {e}");
        assert_eq!(e.offset, Some(offset), "{:?}: {e}", String::from_utf8_lossy(doc));
        assert!(e.to_string().contains(&format!("(byte {offset})")), "{e}");
    }
}

/// The whole input is checked for UTF-8 before the walk; a failure there must still
/// be reported at the first bad byte with its path, wherever it is: in a key, after
/// an escape, at the very end, or deep in a large array walked on several threads.
#[test]
fn bad_utf8_anywhere_is_found_where_it_is() {
    let filler = "{\"name\": \"Zoë Ångström 🎨\", \"n\": [1.5, \"中文\"]}";
    let big = format!("[{}]", vec![filler; 40_000].join(", "));
    let cases: Vec<(Vec<u8>, &str, usize)> = vec![
        // A lone continuation byte, an overlong form, a UTF-16 surrogate spelled in
        // UTF-8, a code point beyond U+10FFFF, a sequence cut short by a quote.
        (b"{\"k\": [\"\xc3\xa9\", \"x\x80\"]}".to_vec(), "/k/1", 15),
        (b"{\"k\": \"\xc0\xaf\"}".to_vec(), "/k", 7),
        (b"{\"k\": \"ab\\n\xed\xa0\x80\"}".to_vec(), "/k", 11),
        (b"{\"k\xf4\x90\x80\x80\": 1}".to_vec(), "", 3),
        (b"[\"\xe4\xb8\"]".to_vec(), "/0", 2),
        // The same bytes past the 64-byte blocks of the first pass.
        ([&b"[\""[..], &[b'a'; 70], b"\xe4\xb8\"]"].concat(), "/0", 72),
    ];
    for (doc, path, offset) in cases {
        let e = err(&doc);
        assert_eq!((&e.kind, e.path.as_str(), e.offset), (&ErrorKind::InvalidUtf8, path, Some(offset)), "{doc:?}");
    }
    // Deep in a document large enough to be walked in parts.
    let at = big.len() * 3 / 4;
    let at = at + big[at..].find('ë').unwrap();
    let mut doc = big.clone().into_bytes();
    doc[at + 1] = b'x';
    let e = err(&doc);
    assert_eq!((e.kind, e.offset), (ErrorKind::InvalidUtf8, Some(at)));
    let element = big[..at].matches(filler).count();
    assert_eq!(e.path, format!("/{element}/name"));
    // Valid text outside a string is still not JSON.
    let e = err("[1, é]".as_bytes());
    assert!(matches!(e.kind, ErrorKind::Syntax(_)), "{e}");
    // And the valid document comes out as its elements do alone.
    assert_eq!(canon(&big), format!("[{}]", vec![canon(filler); 40_000].join(",")));
}

#[test]
fn strings_and_numbers_come_out_canonical() {
    assert_eq!(
        canon(r#""\u0041\/\b\f\n\r\t\u0000\u001F\u007f\u2028""#),
        "\"A/\\b\\f\\n\\r\\t\\u0000\\u001f\u{7f}\u{2028}\""
    );
    assert_eq!(
        canon("[1E2, 1.50e-3, 0.000001, 1e-7, 1.23456789012345678e17, 1.0, -0.0e5, 100e-2, 0.1e1]"),
        "[100,0.0015,0.000001,1e-7,123456789012345680,1,0,1,1]"
    );
    assert_eq!(canon("\u{feff} {\"b\" : [ ] , \"a\" : { } } "), r#"{"a":{},"b":[]}"#);
}

#[test]
fn keys_sort_by_utf16_code_units() {
    // U+1F600 (D83D DE00 in UTF-16) sorts before U+FF61, unlike in UTF-8.
    assert_eq!(
        canon("{\"\u{ff61}\": 1, \"\u{1f600}\": 2, \"z\": 3, \"\u{e000}\": 4}"),
        "{\"z\":3,\"\u{1f600}\":2,\"\u{e000}\":4,\"\u{ff61}\":1}"
    );
}

fn with_rules(json: &str, rules: &[&str]) -> String {
    let opts = CanonicalOptions { ignore: IgnoreRules::new(rules).unwrap(), ..Default::default() };
    String::from_utf8(canonical::canonicalize(json.as_bytes(), &opts).unwrap()).unwrap()
}

#[test]
fn ignore_rules_drop_the_named_members_only() {
    let doc = r#"{"updatedAt": "x", "id": 1, "a": {"id": 2, "updatedAt": "y", "b": [{"id": 3, "k": 4}]},
                  "variants": [{"figmaNodeId": "1:2", "name": "A"}, {"name": "B", "figmaNodeId": "3:4"}],
                  "a/b": 5, "t~": 6}"#;
    assert_eq!(
        with_rules(doc, &["/updatedAt"]),
        r#"{"a":{"b":[{"id":3,"k":4}],"id":2,"updatedAt":"y"},"a/b":5,"id":1,"t~":6,"variants":[{"figmaNodeId":"1:2","name":"A"},{"figmaNodeId":"3:4","name":"B"}]}"#
    );
    assert_eq!(
        with_rules(doc, &["/**/id", "/variants/*/figmaNodeId", "/a~1b", "/t~0"]),
        r#"{"a":{"b":[{"k":4}],"updatedAt":"y"},"updatedAt":"x","variants":[{"name":"A"},{"name":"B"}]}"#
    );
    // A dropped member at the front of an object leaves no stray comma.
    assert_eq!(with_rules(r#"{"a": 1, "b": 2}"#, &["/a"]), r#"{"b":2}"#);
    assert_eq!(with_rules(r#"{"a": 1}"#, &["/a"]), "{}");
    // Array elements are never dropped, even when a pattern names them.
    assert_eq!(with_rules(r#"{"l": [1, 2]}"#, &["/l/0"]), r#"{"l":[1,2]}"#);
    // The digest ignores what the rules drop.
    let opts = CanonicalOptions { ignore: IgnoreRules::new(["/**/updatedAt"]).unwrap(), ..Default::default() };
    let d1 = canonical::hash_json(br#"{"v": 1, "updatedAt": "2024-01-01"}"#, &opts).unwrap();
    let d2 = canonical::hash_json(br#"{"updatedAt": "2025-02-02", "v": 1}"#, &opts).unwrap();
    assert_eq!(d1, d2);
}

#[test]
fn unbalanced_documents_are_reported_where_the_grammar_breaks() {
    // Brackets that do not pair up: the error names the innermost open value.
    let e = err(br#"{"a": {"b": [1, 2}}"#);
    assert!(matches!(e.kind, ErrorKind::Syntax(_)), "{e}");
    assert_eq!((e.path.as_str(), e.offset), ("/a/b/1", Some(17)));
    let e = err(br#"{"a": [1, {"c": 2]}"#);
    assert_eq!((e.path.as_str(), e.offset), ("/a/1/c", Some(17)));
    // Errors before the unbalanced part come first, in document order.
    let e = err(br#"{"z": [1e999], "a": [1, 2}"#);
    assert_eq!((e.kind, e.path.as_str()), (ErrorKind::NonFinite, "/z/0"));
    let e = err(br#"[{"a": "\x"}, ["#);
    assert_eq!((e.path.as_str(), e.offset), ("/0/a", Some(8)));
    // A string that never ends, deep inside.
    let e = err(br#"{"a": [{"b": "abc]}"#);
    assert_eq!((e.path.as_str(), e.offset), ("/a/0/b", Some(13)));
    // Stray closers.
    assert_eq!(err(b"[1]]").offset, Some(3));
    assert_eq!(err(b"}").offset, Some(0));
}
