//! The real OpenSpec CLI, run at test time: the ground truth the equality tests compare
//! with. Nothing the CLI once printed is stored; every expected document comes from
//! running the pinned CLI now, on the project's corpus (`tests/openspec-corpus`) or on a
//! mutated copy of it. Shared by `twinsync-openspec` and `twinsync-cli` tests through
//! `#[path]`, so both compare the same commands on the same folders.
#![allow(dead_code)] // each test binary uses a different part

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

mod mutate;
pub use mutate::mutate_tree;

pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The folder that holds the corpus's `openspec/`.
pub fn corpus() -> PathBuf {
    workspace_root().join("tests/openspec-corpus")
}

/// The CLI version the comparison is pinned to (`.ci/run` installs the same one).
pub fn pinned_version() -> String {
    let p = corpus().join("CLI_VERSION");
    fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).trim().to_string()
}

/// The pinned CLI's executable. Missing is a failure, never a skip: the equality claims
/// mean nothing without it.
pub fn cli() -> &'static Path {
    static CLI: OnceLock<PathBuf> = OnceLock::new();
    CLI.get_or_init(|| {
        let path = match std::env::var_os("TWINSYNC_OPENSPEC_CLI") {
            Some(p) => PathBuf::from(p),
            None => workspace_root().join("target/openspec-cli/node_modules/.bin/openspec"),
        };
        let version = pinned_version();
        assert!(
            path.is_file(),
            "the OpenSpec CLI is missing at {}: run .ci/run, or `npm install --prefix target/openspec-cli \
             @fission-ai/openspec@{version}` at the workspace root, or set TWINSYNC_OPENSPEC_CLI",
            path.display()
        );
        let out = quiet(Command::new(&path)).arg("--version").output().expect("the OpenSpec CLI runs");
        let got = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert_eq!(got, version, "{} is not the pinned OpenSpec CLI", path.display());
        path
    })
}

/// Telemetry, update checks and prompts off, as the corpus notes ran it.
fn quiet(mut c: Command) -> Command {
    c.env("OPENSPEC_TELEMETRY", "0").env("DO_NOT_TRACK", "1").env("OPENSPEC_NO_UPDATE_CHECK", "1").env("CI", "1");
    c
}

/// One JSON answer and the exit code it came with.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub doc: Value,
    pub code: Option<i32>,
}

/// Runs `openspec ARGS` in `dir`.
pub fn openspec(dir: &Path, args: &[String]) -> Answer {
    let mut c = quiet(Command::new(cli()));
    answer(c.current_dir(dir).args(args), "openspec", args)
}

/// Runs a command that prints one JSON document and keeps its exit code.
pub fn answer(c: &mut Command, who: &str, args: &[String]) -> Answer {
    let out = c.output().unwrap_or_else(|e| panic!("{who} {args:?} does not run: {e}"));
    let doc = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{who} {args:?}: stdout is not JSON ({e}):\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Answer { doc, code: out.status.code() }
}

/// Drops what depends on the machine or the clock: the root path, file times, timings.
pub fn scrub(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("root");
            m.remove("lastModified");
            m.remove("durationMs");
            m.values_mut().for_each(scrub);
        }
        Value::Array(a) => a.iter_mut().for_each(scrub),
        _ => {}
    }
}

/// `list --json` sorts by file time by default, which differs between checkouts and
/// copies: compare its rows in name order.
fn by_name(args: &[String], v: &mut Value) {
    let default_sort =
        args.first().is_some_and(|a| a == "list") && !args.iter().any(|a| a == "--sort" || a == "--specs");
    if let Some(rows) = v.get_mut("changes").and_then(Value::as_array_mut).filter(|_| default_sort) {
        rows.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
    }
}

/// None when both answers agree, else a short report around the first differing line.
pub fn differ(what: &str, args: &[String], ours: &Answer, theirs: &Answer) -> Option<String> {
    let (mut a, mut b) = (ours.doc.clone(), theirs.doc.clone());
    for v in [&mut a, &mut b] {
        scrub(v);
        by_name(args, v);
    }
    if a == b && ours.code == theirs.code {
        return None;
    }
    let (x, y) = (serde_json::to_string_pretty(&a).unwrap(), serde_json::to_string_pretty(&b).unwrap());
    let first = x.lines().zip(y.lines()).position(|(p, q)| p != q).unwrap_or(0);
    let ctx = |s: &str| s.lines().skip(first.saturating_sub(3)).take(10).collect::<Vec<_>>().join("\n");
    Some(format!(
        "{what} {args:?}: exit {:?} vs {:?}, differs at line {first}\n--- ours\n{}\n--- cli\n{}",
        ours.code,
        theirs.code,
        ctx(&x),
        ctx(&y)
    ))
}

/// Active change folders the CLI can show and validate: not `archive`, not dot-folders.
pub fn change_ids(root: &Path) -> Vec<String> {
    let mut ids: Vec<String> = fs::read_dir(root.join("openspec/changes"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != "archive" && !n.starts_with('.'))
        .collect();
    ids.sort();
    ids
}

/// Spec ids as the CLI discovers them: a `spec.md` with at least one folder above it.
pub fn spec_ids(root: &Path) -> Vec<String> {
    fn walk(dir: &Path, rel: &str, out: &mut Vec<String>) {
        for e in fs::read_dir(dir).unwrap().flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') {
                continue;
            }
            if e.file_type().unwrap().is_dir() {
                let id = if rel.is_empty() { name.clone() } else { format!("{rel}/{name}") };
                if e.path().join("spec.md").is_file() {
                    out.push(id.clone());
                }
                walk(&e.path(), &id, out);
            }
        }
    }
    let mut ids = Vec::new();
    walk(&root.join("openspec/specs"), "", &mut ids);
    ids.sort();
    ids
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// Every JSON command whose answer the tests compare on a folder: both lists, every
/// `show` of a change and of a spec, and `validate` plain, strict and archived.
pub fn commands(root: &Path) -> Vec<Vec<String>> {
    let mut cmds = vec![
        args(&["list", "--json", "--sort", "name"]),
        args(&["list", "--json"]),
        args(&["list", "--specs", "--json"]),
        args(&["validate", "--all", "--json"]),
        args(&["validate", "--all", "--strict", "--json"]),
        args(&["validate", "--archived", "--json"]),
    ];
    cmds.extend(change_ids(root).iter().map(|id| args(&["show", id, "--json", "--type", "change"])));
    cmds.extend(spec_ids(root).iter().map(|id| args(&["show", id, "--json", "--type", "spec"])));
    cmds
}

/// Maps `f` over `items` on a few threads: the CLI is a Node process per call, and
/// waiting on them one at a time would dominate the test's run time.
pub fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let workers = 4.min(items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<(usize, R)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(item) = items.get(i) else { break mine };
                        mine.push((i, f(item)));
                    }
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    out.sort_by_key(|(i, _)| *i);
    out.into_iter().map(|(_, r)| r).collect()
}

pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// A copy of the corpus in `to` (which will hold `openspec/`).
pub fn corpus_copy(to: &Path) {
    copy_tree(&corpus().join("openspec"), &to.join("openspec"));
}

/// Moves every archived change up into `changes/` (replacing the active ones): the CLI
/// cannot `show` archived changes, so this is how they get compared too.
pub fn archived_as_active(root: &Path) {
    let changes = root.join("openspec/changes");
    for e in fs::read_dir(&changes).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() && e.file_name() != "archive" {
            fs::remove_dir_all(e.path()).unwrap();
        }
    }
    for e in fs::read_dir(changes.join("archive")).unwrap().flatten() {
        fs::rename(e.path(), changes.join(e.file_name())).unwrap();
    }
    fs::remove_dir(changes.join("archive")).unwrap();
}

/// The folders every equality test compares on: the corpus, its archived changes made
/// active, and mutated copies (seeds 1..=`mutations`). Returns them with their labels;
/// `tmp` must outlive the comparison.
pub fn folders(tmp: &Path, mutations: u64) -> Vec<(String, PathBuf)> {
    let mut out = vec![("corpus".to_string(), corpus())];
    let moved = tmp.join("archived-as-active");
    corpus_copy(&moved);
    archived_as_active(&moved);
    out.push(("archived-as-active".into(), moved));
    for seed in 1..=mutations {
        let dir = tmp.join(format!("mutation-{seed}"));
        corpus_copy(&dir);
        mutate_tree(seed, &dir.join("openspec"));
        out.push((format!("mutation-{seed}"), dir));
    }
    out
}
