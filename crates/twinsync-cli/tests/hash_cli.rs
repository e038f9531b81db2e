//! `twinsync canonicalize` and `twinsync hash`, run as the real binary.

use std::path::Path;
use std::process::{Command, Output};

fn twinsync(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync")).args(args).current_dir(dir).output().expect("run twinsync")
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

fn sha(bytes: &[u8]) -> String {
    twinsync::core::Digest::of_bytes(bytes).to_string()
}

#[test]
fn canonicalize_prints_the_jcs_bytes_without_a_newline() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.json"), "{\n  \"b\": [1.50, 1E30],\n  \"a\": \"\\u20ac\"\n}\n").unwrap();
    let o = twinsync(&["canonicalize", "a.json"], dir.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "{\"a\":\"€\",\"b\":[1.5,1e+30]}");

    std::fs::write(dir.path().join("bad.json"), "{\"a\": 1, \"a\": 2}").unwrap();
    let o = twinsync(&["canonicalize", "bad.json"], dir.path());
    assert!(!o.status.success());
    assert!(stdout(&o).is_empty());
    let err = stderr(&o);
    assert!(err.contains("bad.json") && err.contains("/a") && err.contains("duplicate key"), "{err}");
}

#[test]
fn hash_picks_json_text_or_bytes_and_honours_ignore_rules() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("x.json"), "{\"b\": 1, \"updatedAt\": \"now\", \"a\": {\"id\": 7, \"k\": true}}").unwrap();
    std::fs::write(p.join("notes.md"), "\u{feff}# Title\r\nbody\r\n").unwrap();
    std::fs::write(p.join("blob.bin"), [0xff, 0x00, 0xfe]).unwrap();

    let o = twinsync(&["hash", "x.json", "notes.md", "blob.bin"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    let expected = format!(
        "{}  x.json\n{}  notes.md\n{}  blob.bin\n",
        sha(br#"{"a":{"id":7,"k":true},"b":1,"updatedAt":"now"}"#),
        sha(b"# Title\nbody\n"),
        sha(&[0xff, 0x00, 0xfe]),
    );
    assert_eq!(stdout(&o), expected);

    let o = twinsync(&["hash", "--ignore", "/updatedAt", "--ignore", "/**/id", "x.json"], p);
    assert_eq!(stdout(&o), format!("{}  x.json\n", sha(br#"{"a":{"k":true},"b":1}"#)));

    // Forced kinds: JSON read as bytes, markdown read as bytes.
    let o = twinsync(&["hash", "--as", "bytes", "notes.md"], p);
    assert_eq!(stdout(&o), format!("{}  notes.md\n", sha("\u{feff}# Title\r\nbody\r\n".as_bytes())));
    let o = twinsync(&["hash", "--as", "text", "blob.bin"], p);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("blob.bin: not valid UTF-8 at byte 0"), "{}", stderr(&o));
}

#[test]
fn hash_reports_each_bad_file_and_still_hashes_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("ok.json"), "[1]").unwrap();
    std::fs::write(p.join("nan.json"), "{\"a\": [1, 1e400]}").unwrap();
    let o = twinsync(&["hash", "nan.json", "missing.json", "ok.json"], p);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), format!("{}  ok.json\n", sha(b"[1]")));
    let err = stderr(&o);
    assert!(err.contains("nan.json: at /a/1 (byte 10)"), "{err}");
    assert!(err.contains("missing.json"), "{err}");
    let o = twinsync(&["hash", "--ignore", "updatedAt", "ok.json"], p);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("updatedAt"), "{}", stderr(&o));
}

#[test]
fn jsonl_prints_one_digest_per_record_and_names_the_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    std::fs::write(p.join("r.jsonl"), "{\"b\":1,\"a\":2}\r\n\n[ true ]\n{\"z\": null}").unwrap();
    let o = twinsync(&["hash", "--jsonl", "r.jsonl"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{}\n{}\n{}\n", sha(br#"{"a":2,"b":1}"#), sha(b"[true]"), sha(br#"{"z":null}"#)));

    std::fs::write(p.join("bad.jsonl"), "[1]\n[2]\n{\"x\": \"\\ud800\"}\n[4]\n").unwrap();
    let o = twinsync(&["hash", "--jsonl", "bad.jsonl"], p);
    assert!(!o.status.success());
    assert_eq!(stdout(&o), format!("{}\n{}\n", sha(b"[1]"), sha(b"[2]")));
    assert!(stderr(&o).contains("bad.jsonl:3: at /x"), "{}", stderr(&o));
}

#[test]
fn large_files_hash_as_small_ones_do() {
    // Above the size at which files are mapped instead of read, and at which arrays
    // and JSON Lines are split across threads.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let records: Vec<String> =
        (0..40_000).map(|i| format!("{{\"name\": \"item {i}\", \"id\": {i}, \"w\": {i}.50}}")).collect();
    let array = format!("[\n  {}\n]\n", records.join(",\n  "));
    assert!(array.len() > 2 << 20);
    std::fs::write(p.join("big.json"), &array).unwrap();
    let canonical: Vec<String> =
        (0..40_000).map(|i| format!("{{\"id\":{i},\"name\":\"item {i}\",\"w\":{i}.5}}")).collect();
    let want = sha(format!("[{}]", canonical.join(",")).as_bytes());
    let o = twinsync(&["hash", "big.json"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{want}  big.json\n"));
    let o = twinsync(&["canonicalize", "big.json"], p);
    assert_eq!(sha(&o.stdout), want);

    std::fs::write(p.join("big.jsonl"), records.join("\n")).unwrap();
    let o = twinsync(&["hash", "--jsonl", "big.jsonl"], p);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<String> = canonical.iter().map(|c| sha(c.as_bytes())).collect();
    assert_eq!(stdout(&o), format!("{}\n", lines.join("\n")));
    // A bad record deep in the second half: the digests before it, then its line.
    let mut bad = records.clone();
    bad[35_000] = "{\"id\": 1e999}".into();
    std::fs::write(p.join("bad.jsonl"), bad.join("\n")).unwrap();
    let o = twinsync(&["hash", "--jsonl", "bad.jsonl"], p);
    assert!(!o.status.success());
    assert_eq!(stdout(&o).lines().count(), 35_000);
    assert!(stderr(&o).contains("bad.jsonl:35001: at /id"), "{}", stderr(&o));
}
