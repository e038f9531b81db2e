//! Arrays of a mebibyte or more are walked in parts on several threads: the result,
//! the errors and the ignore rules must be exactly those of a single walk.

use twinsync_core::canonical::{self, CanonicalOptions, ErrorKind, IgnoreRules};

/// Element `i`: an object with keys out of order, nested containers and escapes.
fn element(i: usize) -> String {
    format!(
        r#"{{"name": "item \u00e9 {i}", "id": {i}, "tags": ["a", "b\n", {i}.50], "meta": {{"z": null, "a": [{{"k": true}}]}}, "ratio": 1E2}}"#
    )
}

/// A pretty-printed array of `n` elements (about 150 bytes each), with `bad`
/// spliced in place of some elements.
fn array(n: usize, bad: &[(usize, &str)]) -> String {
    let mut doc = String::from("[\n");
    for i in 0..n {
        if i > 0 {
            doc.push_str(",\n  ");
        }
        match bad.iter().find(|(at, _)| *at == i) {
            Some((_, text)) => doc.push_str(text),
            None => doc.push_str(&element(i)),
        }
    }
    doc.push_str("\n]");
    doc
}

/// The canonical array built from each element canonicalised on its own (each far
/// below the size that is split).
fn expected(n: usize, opts: &CanonicalOptions) -> Vec<u8> {
    let mut out = b"[".to_vec();
    for i in 0..n {
        if i > 0 {
            out.push(b',');
        }
        out.extend(canonical::canonicalize(element(i).as_bytes(), opts).unwrap());
    }
    out.push(b']');
    out
}

const N: usize = 20_000;

#[test]
fn a_large_array_comes_out_as_its_elements_do_alone() {
    let doc = array(N, &[]);
    assert!(doc.len() > 2 << 20, "{} bytes: not large enough to be split", doc.len());
    let opts = CanonicalOptions::default();
    let want = expected(N, &opts);
    assert_eq!(canonical::canonicalize(doc.as_bytes(), &opts).unwrap(), want);
    assert_eq!(canonical::hash_json(doc.as_bytes(), &opts).unwrap(), twinsync_core::Digest::of_bytes(&want));
    // Nested one level down, inside an object with members on both sides.
    let wrapped = format!(r#"{{"z": 1, "list": {doc}, "a": [2]}}"#);
    let mut want_wrapped = br#"{"a":[2],"list":"#.to_vec();
    want_wrapped.extend(&want);
    want_wrapped.extend(br#","z":1}"#);
    assert_eq!(canonical::canonicalize(wrapped.as_bytes(), &opts).unwrap(), want_wrapped);
}

#[test]
fn ignore_rules_apply_in_every_part() {
    let doc = array(N, &[]);
    let opts = CanonicalOptions { ignore: IgnoreRules::new(["/*/id", "/**/k"]).unwrap(), ..Default::default() };
    let got = canonical::canonicalize(doc.as_bytes(), &opts).unwrap();
    let text = String::from_utf8(got).unwrap();
    assert!(!text.contains("\"id\"") && !text.contains("\"k\""), "rules not applied");
    assert_eq!(text.matches("\"name\"").count(), N);
    // Elements canonicalised alone see the same rules one level up.
    let alone = CanonicalOptions { ignore: IgnoreRules::new(["/id", "/**/k"]).unwrap(), ..Default::default() };
    assert_eq!(text.into_bytes(), expected(N, &alone));
}

#[test]
fn errors_name_the_same_element_as_a_single_walk_would() {
    let opts = CanonicalOptions::default();
    // One bad element near the end (in the last part), one near the start.
    for at in [N - 3, 2, N / 2] {
        let doc = array(N, &[(at, r#"{"a": 1, "b": [1, 2, 1e999]}"#)]);
        let e = canonical::canonicalize(doc.as_bytes(), &opts).unwrap_err();
        assert_eq!((e.kind, e.path), (ErrorKind::NonFinite, format!("/{at}/b/2")));
    }
    // Two bad elements: the first one is reported, whichever part finds its error first.
    let doc = array(N, &[(N - 10, r#"{"x": 1, "x": 2}"#), (10, r#"{"y": "\ud800"}"#)]);
    let e = canonical::canonicalize(doc.as_bytes(), &opts).unwrap_err();
    assert_eq!((e.kind, e.path.as_str()), (ErrorKind::LoneSurrogate, "/10/y"));
    // A syntax error between two elements of a later part.
    let mut doc = array(N, &[]);
    let cut = doc.rfind(",\n").unwrap();
    doc.replace_range(cut..cut + 1, ";");
    let e = canonical::canonicalize(doc.as_bytes(), &opts).unwrap_err();
    assert!(matches!(e.kind, ErrorKind::Syntax(_)), "{e}");
    assert_eq!((e.path, e.offset), (format!("/{}", N - 2), Some(cut)));
}
