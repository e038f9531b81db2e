//! A long scan shows its progress on stderr when stderr is a terminal (a real pty, from
//! `script`), and `--quiet` or a pipe silences it. `TWINSYNC_PROGRESS_AFTER_MS=0` makes
//! every scan "long", so a small tree is enough.

use std::fs;
use std::path::Path;
use std::process::Command;

/// Runs `twinsync ARGS` on a pseudo-terminal; returns what the terminal showed.
fn on_a_terminal(dir: &Path, args: &str) -> String {
    let line = format!("{} {args}", env!("CARGO_BIN_EXE_twinsync"));
    let out = Command::new("script")
        .args(["-qec", &line, "/dev/null"])
        .current_dir(dir)
        .env("TWINSYNC_PROGRESS_AFTER_MS", "0")
        .output()
        .expect("script(1), from util-linux, runs the command on a pty");
    let shown = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "twinsync {args}: {shown}");
    shown
}

#[test]
fn a_long_scan_shows_progress_on_a_terminal_and_quiet_or_a_pipe_silence_it() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    for i in 0..300 {
        let d = dir.join(format!("left/d{}", i % 3));
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join(format!("f{i}.md")), format!("# {i}\n")).unwrap();
    }
    fs::create_dir_all(dir.join("right")).unwrap();
    let init = Command::new(env!("CARGO_BIN_EXE_twinsync")).args(["init", "left", "right"]).current_dir(dir).output();
    assert!(init.unwrap().status.success());

    // The first sync walks, then hashes every file: both show, and the line is cleared
    // before the report prints.
    let sync = on_a_terminal(dir, "sync");
    assert!(sync.contains("scanning left: "), "{sync:?}");
    assert!(sync.contains("hashing left: ") && sync.contains("/300 files"), "{sync:?}");
    let cleared = sync.rfind("\r\x1b[K").expect("the line is cleared");
    assert!(!sync[cleared..].contains("scanning") && !sync[cleared..].contains("hashing"), "{sync:?}");
    assert_eq!(fs::read_dir(dir.join("right/d0")).unwrap().count(), 100);

    let status = on_a_terminal(dir, "status");
    assert!(status.contains("scanning left: ") && status.contains("scanning right: "), "{status:?}");
    assert!(status.contains("300 in sync"), "{status:?}");

    for quiet in ["status --quiet", "status -q", "sync --quiet", "status --json"] {
        let shown = on_a_terminal(dir, quiet);
        assert!(!shown.contains("scanning") && !shown.contains("\x1b[K"), "{quiet}: {shown:?}");
    }
    // Not a terminal: nothing on stderr but what a script reads.
    let piped = Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .arg("status")
        .current_dir(dir)
        .env("TWINSYNC_PROGRESS_AFTER_MS", "0")
        .output()
        .unwrap();
    assert!(piped.status.success());
    assert_eq!(String::from_utf8_lossy(&piped.stderr), "");
}
