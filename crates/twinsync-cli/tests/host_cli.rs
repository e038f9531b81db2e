//! A folder side belongs to one host: `init` and `pair add` record it, a process on
//! another host (`TWINSYNC_HOST`) refuses to run the pair naming the pair, the side and
//! both hosts, and a config written before (no host) runs anywhere.

use std::fs;
use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, host: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .args(args)
        .current_dir(dir)
        .env("TWINSYNC_HOST", host)
        .env_remove("TWINSYNC_STORE_URL")
        .output()
        .expect("twinsync runs")
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn a_folder_side_runs_on_its_host_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for f in ["a", "b"] {
        fs::create_dir_all(d.join(f)).unwrap();
    }
    fs::write(d.join("a/x.md"), "x\n").unwrap();
    ok(run(d, "alpha", &["init", "a", "b"]));
    fs::create_dir_all(d.join("openspec/specs")).unwrap();
    ok(run(d, "alpha", &["pair", "add", "docs", "a", "db"]));
    ok(run(d, "alpha", &["pair", "add", "specs", ".", "db", "--kind", "openspec"]));
    let config = fs::read_to_string(d.join(".twinsync/config.toml")).unwrap();
    let parsed: toml::Value = toml::from_str(&config).unwrap();
    let pairs = &parsed["pairs"];
    assert_eq!(pairs["default"]["left_host"].as_str(), Some("alpha"), "{config}");
    assert_eq!(pairs["default"]["right_host"].as_str(), Some("alpha"), "{config}");
    assert_eq!(pairs["docs"]["left_host"].as_str(), Some("alpha"), "{config}");
    assert!(pairs["docs"].get("right_host").is_none(), "the database is no folder: {config}");
    assert_eq!(pairs["specs"]["left_host"].as_str(), Some("alpha"), "{config}");

    // On its host it runs; on another it is refused, naming pair, side and both hosts.
    ok(run(d, "alpha", &["sync", "--pair", "default"]));
    assert_eq!(fs::read_to_string(d.join("b/x.md")).unwrap(), "x\n");
    fs::write(d.join("a/y.md"), "y\n").unwrap();
    for args in [&["sync", "--pair", "default"][..], &["status", "--pair", "default"], &["sync", "--pair", "specs"]] {
        let out = run(d, "beta", args);
        assert!(!out.status.success(), "{args:?} ran on another host");
        let e = stderr(&out);
        let pair = args[2];
        assert!(e.contains(&format!("pair {pair}")), "{args:?}: {e}");
        assert!(e.contains("left side") && e.contains("\"alpha\"") && e.contains("\"beta\""), "{args:?}: {e}");
    }
    assert!(!d.join("b/y.md").exists(), "nothing was synced on the other host");
    // Host names compare without case, as DNS names do.
    ok(run(d, "ALPHA", &["sync", "--pair", "default"]));

    // A config written before sides had hosts runs anywhere, and is not rewritten.
    let unbound: String = config.lines().filter(|l| !l.contains("_host")).map(|l| format!("{l}\n")).collect();
    fs::write(d.join(".twinsync/config.toml"), &unbound).unwrap();
    fs::write(d.join("a/z.md"), "z\n").unwrap();
    ok(run(d, "beta", &["sync", "--pair", "default"]));
    assert!(d.join("b/z.md").is_file());
    assert_eq!(fs::read_to_string(d.join(".twinsync/config.toml")).unwrap(), unbound);
}
