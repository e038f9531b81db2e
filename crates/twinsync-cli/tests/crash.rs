//! Crash safety: a real `twinsync sync` of 1,000 files is killed with SIGKILL at random
//! points, 100 times, each rerun continuing the job. After every kill each file is its
//! old or its new version (never torn), the store opens, and a final rerun finishes the
//! job with no edit lost, on either side.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FILES: usize = 1000;
const KILLS: usize = 100;
const NOTES: usize = 10;

fn twinsync(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync")).args(args).current_dir(dir).output().unwrap()
}

/// Generation `g` of file `i`: a few KB, so a torn write would show.
fn body(i: usize, g: usize) -> String {
    format!("# file {i} generation {g}\n{}", format!("line of file {i} in generation {g}\n").repeat(60))
}

fn note_body(j: usize, g: usize) -> String {
    format!("note {j}, edited on the right in generation {g}\n")
}

fn file(root: &Path, side: &str, i: usize) -> PathBuf {
    root.join(side).join(format!("d{:02}", i % 20)).join(format!("f{i:04}.md"))
}

fn note(root: &Path, side: &str, j: usize) -> PathBuf {
    root.join(side).join(format!("n{j}.md"))
}

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);
impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n.max(1)
    }
}

/// Edits every left file and every right note to generation `g`.
fn edit_generation(root: &Path, g: usize) {
    for i in 0..FILES {
        let p = file(root, "left", i);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, body(i, g)).unwrap();
    }
    for j in 0..NOTES {
        std::fs::write(note(root, "right", j), note_body(j, g)).unwrap();
    }
}

/// Every file on both sides holds generation `g` or `g - 1`, whole.
fn check_not_torn(root: &Path, g: usize, kill: usize) {
    for i in 0..FILES {
        let got = std::fs::read_to_string(file(root, "right", i)).unwrap();
        assert!(
            got == body(i, g) || (g > 0 && got == body(i, g - 1)),
            "kill {kill}: right file {i} is neither generation {g} nor {}:\n{got:.200}",
            g.saturating_sub(1)
        );
    }
    for j in 0..NOTES {
        let p = note(root, "left", j);
        if let Ok(got) = std::fs::read_to_string(&p) {
            assert!(
                got == note_body(j, g) || (g > 0 && got == note_body(j, g - 1)),
                "kill {kill}: left note {j} torn: {got}"
            );
        } else {
            assert_eq!(g, 0, "kill {kill}: note {j} vanished from the left");
        }
    }
}

#[test]
fn sigkill_at_random_points_never_tears_a_file_or_loses_an_edit() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("left")).unwrap();
    std::fs::create_dir_all(root.join("right")).unwrap();
    edit_generation(root, 0);
    assert!(twinsync(root, &["init", "left", "right", "--policy", "prefer-left"]).status.success());
    // The first sync, uninterrupted, to learn how long a whole job takes here.
    let started = Instant::now();
    let out = twinsync(root, &["sync"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let full_us = started.elapsed().as_micros() as u64;

    let mut rng = Lcg(0x5eed_cafe);
    let mut g = 1;
    edit_generation(root, g);
    let (mut mid_run, mut generations_finished) = (0, 0);
    for kill in 1..=KILLS {
        let mut child = Command::new(env!("CARGO_BIN_EXE_twinsync"))
            .arg("sync")
            .current_dir(root)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // A third of the kills land early (start-up, scan, first writes); the rest anywhere
        // in the first fifth of a whole job. Each rerun continues where the last one
        // stopped, so over the runs the kills sweep the whole job.
        let delay = if rng.below(3) == 0 { rng.below(60_000) } else { rng.below(full_us / 5) };
        std::thread::sleep(Duration::from_micros(delay));
        match child.try_wait().unwrap() {
            Some(status) => {
                // Finished before the kill: the generation is done; start the next.
                assert!(status.code().is_some_and(|c| c <= 1), "kill {kill}: sync failed with {status}");
                check_not_torn(root, g, kill);
                if twinsync(root, &["status", "--json"]).status.success() {
                    generations_finished += 1;
                    g += 1;
                    edit_generation(root, g);
                }
                continue;
            }
            None => {
                mid_run += 1;
                child.kill().unwrap(); // SIGKILL
                child.wait().unwrap();
            }
        }
        check_not_torn(root, g, kill);
    }
    assert!(mid_run >= KILLS * 3 / 4, "only {mid_run} of {KILLS} kills landed mid-run");

    // The rerun finishes the job: the newest edit of every file, on both sides.
    let out = twinsync(root, &["sync", "--json"]);
    assert!(out.status.success(), "final rerun failed: {}", String::from_utf8_lossy(&out.stderr));
    for i in 0..FILES {
        assert_eq!(std::fs::read_to_string(file(root, "right", i)).unwrap(), body(i, g), "file {i}");
    }
    for j in 0..NOTES {
        assert_eq!(std::fs::read_to_string(note(root, "left", j)).unwrap(), note_body(j, g), "note {j}");
    }
    let status = twinsync(root, &["status", "--json"]);
    let s: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(s["items"].as_array().unwrap().len(), 0, "{s}");
    // No temporary file was left behind anywhere in either replica.
    for side in ["left", "right"] {
        let mut stack = vec![root.join(side)];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(d).unwrap() {
                let e = e.unwrap();
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    let name = e.file_name().to_string_lossy().to_string();
                    assert!(name.ends_with(".md") && !name.starts_with('.'), "stray file {}", e.path().display());
                }
            }
        }
    }
    eprintln!("{mid_run} kills mid-run, {generations_finished} generations finished between kills");
}
