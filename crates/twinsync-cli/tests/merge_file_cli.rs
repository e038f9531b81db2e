//! `twinsync merge-file` against the real `git merge-file`: same output bytes, same exit
//! status, same file written, on generated and real triples and on error cases.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn twinsync() -> Command {
    Command::new(env!("CARGO_BIN_EXE_twinsync"))
}

fn git() -> Command {
    let mut c = Command::new("git");
    // Pin the conflict style: git would otherwise read merge.conflictStyle from config.
    c.args(["-c", "merge.conflictStyle=merge"]);
    c.env("GIT_CONFIG_NOSYSTEM", "1").env("GIT_CONFIG_GLOBAL", "/dev/null");
    c
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("twinsync-merge-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `merge-file ARGS` with both tools in `dir`.
fn both(dir: &Path, args: &[&str]) -> (Output, Output) {
    let mut g = git();
    let g = g.arg("merge-file").args(args).current_dir(dir).output().unwrap();
    let t = twinsync().arg("merge-file").args(args).current_dir(dir).output().unwrap();
    (g, t)
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const LINES: &[&str] = &["a", "b", "c", "}", "", "fn x() {", "  return;", "- [ ] todo", "```"];

fn random_text(r: &mut Rng, eol: &str) -> Vec<String> {
    (0..r.below(30)).map(|_| format!("{}{eol}", LINES[r.below(LINES.len() as u64) as usize])).collect()
}

/// Edits a few random places of `base`: replace, insert, delete.
fn mutate(r: &mut Rng, base: &[String], eol: &str) -> Vec<String> {
    let mut v = base.to_vec();
    for _ in 0..=r.below(4) {
        let at = r.below(v.len() as u64 + 1) as usize;
        match r.below(3) {
            0 if at < v.len() => v[at] = format!("{}{eol}", LINES[r.below(LINES.len() as u64) as usize]),
            1 => v.insert(at, format!("new {}{eol}", r.below(5))),
            _ if at < v.len() => {
                v.remove(at);
            }
            _ => {}
        }
    }
    v
}

fn write(dir: &Path, name: &str, lines: &[String], final_eol: bool) {
    let mut s: String = lines.concat();
    if !final_eol && s.ends_with('\n') {
        s.pop();
        if s.ends_with('\r') {
            s.pop();
        }
    }
    std::fs::write(dir.join(name), s).unwrap();
}

#[test]
fn random_triples_match_git_in_every_style() {
    let dir = scratch("random");
    let mut r = Rng(0x9e37_79b9_7f4a_7c15);
    let (mut runs, mut same) = (0, 0);
    let styles: [&[&str]; 5] = [&[], &["--diff3"], &["--zdiff3"], &["--union"], &["--marker-size", "4"]];
    for case in 0..300 {
        let eol = if case % 10 == 0 { "\r\n" } else { "\n" };
        let base = random_text(&mut r, eol);
        let ours = mutate(&mut r, &base, eol);
        let theirs = mutate(&mut r, &base, eol);
        write(&dir, "ours.txt", &ours, r.below(4) != 0);
        write(&dir, "base.txt", &base, r.below(4) != 0);
        write(&dir, "theirs.txt", &theirs, r.below(4) != 0);
        for style in styles {
            let mut args = vec!["-p"];
            args.extend_from_slice(style);
            args.extend_from_slice(&["ours.txt", "base.txt", "theirs.txt"]);
            let (g, t) = both(&dir, &args);
            runs += 1;
            if t.status.code() == g.status.code() && t.stdout == g.stdout {
                same += 1;
            }
        }
    }
    eprintln!("random: {same}/{runs} runs with identical output and exit status");
    // Tiny texts over a handful of distinct lines are full of equal-cost diffs: this is
    // where matching git's alignment choices shows.
    assert_eq!(same, runs, "random runs whose output or exit status differ from git's");
}

#[test]
fn real_triples_match_git() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/corpus/merges");
    let (mut n, mut same) = (0, 0);
    for e in std::fs::read_dir(&corpus).expect("corpus is committed") {
        let d = e.unwrap().path();
        if !d.join("base").is_file() {
            continue;
        }
        let (g, t) = both(&d, &["-p", "-L", "mine", "-L", "old", "ours", "base", "theirs"]);
        assert_eq!(t.status.code() == Some(0), g.status.code() == Some(0), "verdict on {d:?}");
        if t.status.code() == g.status.code() && t.stdout == g.stdout {
            same += 1;
        }
        n += 1;
    }
    eprintln!("corpus: {same}/{n} triples with identical output and exit status");
    assert!(n >= 200, "only {n} corpus triples");
    assert_eq!(same, n, "corpus triples whose output or exit status differ from git's");
}

#[test]
fn without_stdout_the_result_replaces_current() {
    let dir = scratch("inplace");
    std::fs::write(dir.join("base"), "a\nb\nc\n").unwrap();
    std::fs::write(dir.join("other"), "a\nX\nc\n").unwrap();
    for tool in ["git", "twinsync"] {
        std::fs::write(dir.join(format!("cur-{tool}")), "a\nB\nc\n").unwrap();
    }
    let g = git().args(["merge-file", "cur-git", "base", "other"]).current_dir(&dir).output().unwrap();
    let t = twinsync().args(["merge-file", "cur-twinsync", "base", "other"]).current_dir(&dir).output().unwrap();
    assert_eq!(g.status.code(), Some(1));
    assert_eq!(t.status.code(), Some(1));
    assert!(t.stdout.is_empty());
    let gt = std::fs::read_to_string(dir.join("cur-git")).unwrap();
    let tt = std::fs::read_to_string(dir.join("cur-twinsync")).unwrap();
    // Labels default to the file names given, so only the first marker's name differs.
    assert_eq!(tt, gt.replace("cur-git", "cur-twinsync"));
    assert!(tt.starts_with("a\n<<<<<<< cur-twinsync\nB\n=======\nX\n>>>>>>> other\n"));
}

#[test]
fn exit_status_is_the_conflict_count_capped_at_127() {
    let dir = scratch("many");
    let lines = |tag: &str| {
        (0..200).map(|i| format!("keep {i}\nkeep {i}b\nkeep {i}c\nkeep {i}d\n{tag} {i}\n")).collect::<String>()
    };
    std::fs::write(dir.join("base"), lines("base")).unwrap();
    std::fs::write(dir.join("ours"), lines("ours")).unwrap();
    std::fs::write(dir.join("theirs"), lines("theirs")).unwrap();
    let (g, t) = both(&dir, &["-p", "ours", "base", "theirs"]);
    assert_eq!(g.status.code(), Some(127));
    assert_eq!(t.status.code(), Some(127));
    assert!(t.stdout == g.stdout);
}

#[test]
fn errors_exit_like_git() {
    let dir = scratch("errors");
    std::fs::write(dir.join("a"), "x\n").unwrap();
    std::fs::write(dir.join("bin"), b"x\0y\n").unwrap();
    for args in [
        &["-p", "a", "missing", "a"][..],
        &["-p", "bin", "a", "a"],
        &["-q", "-p", "bin", "a", "a"],
        &["-p", "a", "a"],
        &["-p", "-L", "1", "-L", "2", "-L", "3", "-L", "4", "a", "a", "a"],
    ] {
        let (g, t) = both(&dir, args);
        assert_eq!(t.status.code(), g.status.code(), "exit status for {args:?}");
        assert_eq!(t.stderr.is_empty(), g.stderr.is_empty(), "stderr presence for {args:?}");
    }
    let (_, t) = both(&dir, &["-p", "bin", "a", "a"]);
    assert!(String::from_utf8_lossy(&t.stderr).contains("Cannot merge binary files: bin"));
}
