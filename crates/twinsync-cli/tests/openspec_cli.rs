//! `twinsync openspec …` as a process beside the real OpenSpec CLI, run live in the same
//! folders: the same JSON documents (ignoring `root`, `lastModified`, `durationMs`) and
//! the same exit codes, on the project's corpus and on copies of it.

#[path = "../../twinsync-openspec/tests/live/mod.rs"]
mod live;

use std::path::Path;
use std::process::{Command, Output};

use live::Answer;
use serde_json::Value;

fn twinsync(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync")).current_dir(dir).args(args).output().expect("twinsync runs")
}

fn ours(dir: &Path, args: &[String]) -> Answer {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twinsync"));
    live::answer(c.current_dir(dir).arg("openspec").args(args), "twinsync openspec", args)
}

fn strings(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// Beyond the JSON commands every folder gets: `show` without `--type`, `validate` of
/// one item plain and strict, and the failures for ids that do not exist.
fn corpus_extras(dir: &Path) -> Vec<Vec<String>> {
    let mut cmds = Vec::new();
    for id in live::change_ids(dir).iter().chain(&live::spec_ids(dir)) {
        cmds.push(strings(&["show", id, "--json"]));
        cmds.push(strings(&["validate", id, "--json"]));
        cmds.push(strings(&["validate", id, "--strict", "--json"]));
    }
    cmds.push(strings(&["show", "no-such-thing", "--json"]));
    // A near miss: the CLI's "Did you mean" suggestions, in its order.
    cmds.push(strings(&["show", "cli-lst", "--json"]));
    cmds.push(strings(&["show", "nope", "--json", "--type", "spec"]));
    cmds.push(strings(&["show", "cli-list", "--json", "--type", "change"]));
    cmds.push(strings(&["validate", "--changes", "--json"]));
    cmds.push(strings(&["validate", "--specs", "--strict", "--json"]));
    cmds
}

fn compare_all(label: &str, dir: &Path, cmds: &[Vec<String>]) -> Vec<String> {
    let theirs = live::par_map(cmds, |c| live::openspec(dir, c));
    let mine = live::par_map(cmds, |c| ours(dir, c));
    cmds.iter().zip(mine.iter().zip(&theirs)).filter_map(|(c, (m, t))| live::differ(label, c, m, t)).collect()
}

#[test]
fn every_answer_equals_the_live_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut compared = 0;
    for (label, dir) in live::folders(tmp.path(), 1) {
        let mut cmds = live::commands(&dir);
        if label == "corpus" {
            cmds.extend(corpus_extras(&dir));
        }
        compared += cmds.len();
        failures.extend(compare_all(&label, &dir, &cmds));
    }
    assert!(compared >= 100, "only {compared} commands compared");
    assert!(failures.is_empty(), "{} of {compared} answers differ:\n{}", failures.len(), failures.join("\n\n"));
}

#[test]
fn the_root_is_found_from_a_subdirectory_as_the_cli_finds_it() {
    // The root is the nearest ancestor with openspec/{specs,changes}.
    let sub = live::corpus().join("openspec/changes/add-update-workflow");
    for cmd in [strings(&["list", "--json", "--sort", "name"]), strings(&["validate", "--all", "--json"])] {
        let (mine, theirs) = (ours(&sub, &cmd), live::openspec(&sub, &cmd));
        assert_eq!(mine.doc["root"]["source"], "nearest");
        assert_eq!(mine.doc["root"]["source"], theirs.doc["root"]["source"]);
        assert_eq!(live::differ("subdirectory", &cmd, &mine, &theirs), None);
    }
}

#[test]
fn text_mode_show_passes_the_markdown_through_as_the_cli_does() {
    let corpus = live::corpus();
    for id in ["cli-list", "billing", "add-update-workflow", "crlf-login-hints"] {
        let mine = twinsync(&corpus, &["openspec", "show", id]);
        let theirs = Command::new(live::cli())
            .current_dir(&corpus)
            .args(["show", id])
            .env("OPENSPEC_TELEMETRY", "0")
            .env("CI", "1")
            .output()
            .unwrap();
        assert!(mine.status.success(), "{id}");
        assert_eq!(String::from_utf8_lossy(&mine.stdout), String::from_utf8_lossy(&theirs.stdout), "{id}");
    }
}

#[test]
fn legacy_project_md_folder_is_an_implicit_root_for_list_as_in_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(tmp.path().join("openspec")).unwrap();
    std::fs::write(tmp.path().join("openspec/project.md"), "# P\n").unwrap();
    let cmd = strings(&["list", "--json"]);
    let (mine, theirs) = (ours(tmp.path(), &cmd), live::openspec(tmp.path(), &cmd));
    assert_eq!(live::differ("project.md", &cmd, &mine, &theirs), None);
    assert_eq!(mine.doc["root"]["source"], "implicit");
    assert_eq!(theirs.doc["root"]["source"], "implicit");
    // Bulk validate never takes the implicit root; both fail (with their own wording).
    let cmd = strings(&["validate", "--all", "--json"]);
    let (mine, theirs) = (ours(tmp.path(), &cmd), live::openspec(tmp.path(), &cmd));
    assert_eq!((mine.code, theirs.code), (Some(1), Some(1)));
    assert_eq!(mine.doc["status"][0]["code"], "root_error");
}

#[test]
fn no_openspec_folder_is_a_clear_json_error() {
    // twinsync's own wording: the CLI says `no_openspec_root` and suggests `openspec init`.
    let tmp = tempfile::tempdir().unwrap();
    let out = twinsync(tmp.path(), &["openspec", "list", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["status"][0]["code"], "root_error");
    assert!(doc["status"][0]["message"].as_str().unwrap().contains("no openspec/ folder"));
}
