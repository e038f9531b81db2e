//! The library's JSON documents equal the real OpenSpec CLI's, run live (the version in
//! `tests/openspec-corpus/CLI_VERSION`): field for field and in array order, ignoring
//! `root`, `lastModified` and `durationMs`, with the same pass/fail verdict. Compared on
//! the project's corpus, on a copy where the archived changes are active again, and on
//! mutated copies.

mod live;

use std::path::Path;

use serde_json::Value;
use twinsync_openspec::output::validate_archived_json;
use twinsync_openspec::{list_json, list_specs_json, show_json, validate_json, Scope, Sort, Workspace};

use live::Answer;

/// What the library answers for one CLI command line.
fn ours(ws: &Workspace, args: &[String]) -> Answer {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let ok = |doc| Answer { doc, code: Some(0) };
    let verdict = |(doc, valid): (Value, bool)| Answer { doc, code: Some(if valid { 0 } else { 1 }) };
    let all = Scope { changes: true, specs: true };
    match a.as_slice() {
        ["list", "--json", "--sort", "name"] => ok(list_json(ws, Sort::Name)),
        ["list", "--json"] => ok(list_json(ws, Sort::Recent)),
        ["list", "--specs", "--json"] => ok(list_specs_json(ws)),
        ["validate", "--all", "--json"] => verdict(validate_json(ws, all, false)),
        ["validate", "--all", "--strict", "--json"] => verdict(validate_json(ws, all, true)),
        ["validate", "--archived", "--json"] => verdict(validate_archived_json(ws)),
        ["show", id, "--json", "--type", kind] => match show_json(ws, id, Some(kind)) {
            Ok(doc) => ok(doc),
            Err(doc) => Answer { doc, code: Some(1) },
        },
        _ => panic!("no library call for {args:?}"),
    }
}

/// Compares every command on one folder; returns the CLI's answers for coverage checks.
fn compare(label: &str, dir: &Path, failures: &mut Vec<String>) -> Vec<(Vec<String>, Answer)> {
    let ws = Workspace::load(dir).unwrap_or_else(|e| panic!("{label}: {e}"));
    let cmds = live::commands(dir);
    let theirs = live::par_map(&cmds, |c| live::openspec(dir, c));
    for (c, t) in cmds.iter().zip(&theirs) {
        failures.extend(live::differ(label, c, &ours(&ws, c), t));
    }
    cmds.into_iter().zip(theirs).collect()
}

fn assert_no_failures(failures: &[String], compared: usize) {
    assert!(failures.is_empty(), "{} of {compared} documents differ:\n{}", failures.len(), failures.join("\n\n"));
}

/// Strings found anywhere in the CLI's answers: the corpus must keep exercising them.
fn all_text(answers: &[(Vec<String>, Answer)]) -> String {
    answers.iter().map(|(_, a)| a.doc.to_string()).collect::<Vec<_>>().join("\n")
}

#[test]
fn corpus_answers_equal_the_live_cli() {
    let mut failures = Vec::new();
    let answers = compare("corpus", &live::corpus(), &mut failures);
    assert!(answers.len() >= 23, "only {} commands", answers.len());
    assert_no_failures(&failures, answers.len());

    // The corpus is only worth comparing on if the CLI finds in it what it was written
    // to hold; if an edit loses a case, this says which.
    let text = all_text(&answers);
    for needle in [
        "\"operation\":\"ADDED\"",
        "\"operation\":\"MODIFIED\"",
        "\"operation\":\"REMOVED\"",
        "\"operation\":\"RENAMED\"",
        "\"level\":\"ERROR\"",
        "\"level\":\"WARNING\"",
        "\"level\":\"INFO\"",
        "\"code\":\"show_error\"",
        "\"id\":\"auth/login\"",
        "incomplete task",
        "\"name\":\".draft\"",
    ] {
        assert!(text.contains(needle), "no CLI answer on the corpus contains {needle}");
    }
    let failed_show = answers.iter().filter(|(c, a)| c[0] == "show" && a.code == Some(1)).count();
    assert!(failed_show >= 2, "show fails on no-why and broken, got {failed_show} failures");
}

#[test]
fn archived_changes_moved_up_equal_the_live_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let folders = live::folders(tmp.path(), 0);
    let (label, dir) = &folders[1];
    let mut failures = Vec::new();
    let answers = compare(label, dir, &mut failures);
    assert_eq!(live::change_ids(dir).len(), 3, "the three archived changes are active");
    assert_no_failures(&failures, answers.len());
}

#[test]
fn mutated_corpus_copies_equal_the_live_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut compared = 0;
    for (label, dir) in live::folders(tmp.path(), 3).iter().skip(2) {
        compared += compare(label, dir, &mut failures).len();
    }
    assert!(compared >= 60, "only {compared} documents compared");
    assert_no_failures(&failures, compared);
}

#[test]
fn partial_loads_give_the_same_lists() {
    use twinsync_openspec::Parts;
    let corpus = live::corpus();
    let full = Workspace::load(&corpus).unwrap();
    let list = Workspace::load_parts(&corpus, Parts::LIST).unwrap();
    let specs = Workspace::load_parts(&corpus, Parts::SPECS).unwrap();
    assert_eq!(list_json(&list, Sort::Name), list_json(&full, Sort::Name));
    assert_eq!(list_specs_json(&specs), list_specs_json(&full));
    assert!(full.changes.iter().any(|c| !c.deltas.is_empty()), "the full load reads deltas");
    assert!(list.specs.is_empty() && list.archived.is_empty() && list.changes.iter().all(|c| c.deltas.is_empty()));
}
