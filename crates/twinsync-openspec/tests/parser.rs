//! The markdown rules the OpenSpec CLI 1.13 applies, checked on small hand-written inputs:
//! normalisation, fences, section lookup, tasks, requirements, deltas, folder layout.

use std::fs;

use proptest::prelude::*;
use twinsync_openspec::change::{change_deltas, change_title, proposal_sections};
use twinsync_openspec::delta::normalize_requirement_name;
use twinsync_openspec::{
    count_tasks, find_root, parse_delta_spec, parse_spec, parse_tasks, validate_spec_text, ArchiveName, Level,
    MarkdownDoc, Operation, Workspace,
};

#[test]
fn tasks_follow_the_1_13_checkbox_grammar() {
    let text = "\
- [ ] open
* [x] done
+ [X] done upper
1. [ ] ordered
2) [~] tilde is open
  - [ x ] padded x is done
-[x]tight
- [] empty is open
- [WIP] not a task
- [A](https://a) link
- [1](./one) ref link
- [ ](./x) open with link
1234567890. [ ] ten digits is not a list marker
<!-- - [ ] a line starting with a comment is not a task -->
<!--
- [ ] inside a multi-line comment still counts
-->
```
- [ ] inside a fence still counts
```
";
    let p = count_tasks(text);
    assert_eq!((p.completed, p.total), (4, 11));
    let tasks = parse_tasks(text);
    assert_eq!(tasks[0].description, "open");
    assert_eq!(tasks[6].description, "tight");
}

#[test]
fn crlf_and_bom_are_normalised_for_sections_but_not_the_title() {
    let proposal =
        "\u{feff}# Change: Title\r\n\r\n## Why\r\nBecause.\r\n\r\n## What Changes\r\n- **auth:** Add login\r\n";
    let (why, what) = proposal_sections(proposal).unwrap();
    assert_eq!(why, "Because.");
    assert_eq!(what, "- **auth:** Add login");
    // The CLI's title regex reads raw text: the BOM hides the H1.
    assert_eq!(change_title(proposal, "c1"), "c1");
    assert_eq!(change_title("# Change: Fix it\r\n", "c1"), "Fix it");
    assert_eq!(change_title("# Proposal\n", "c1"), "c1");
    assert_eq!(change_title("```bash\n# comment\n```\n# Real\n", "c1"), "comment");
}

#[test]
fn section_lookup_is_whole_title_case_insensitive_any_level_outside_fences() {
    assert!(proposal_sections("# why\nx\n# WHAT CHANGES\ny\n").is_ok());
    assert_eq!(
        proposal_sections("## Why?\nx\n## What Changes\ny\n").unwrap_err().message,
        "Change must have a Why section"
    );
    assert_eq!(
        proposal_sections("```\n## Why\nx\n```\n## What Changes\ny\n").unwrap_err().message,
        "Change must have a Why section"
    );
    assert_eq!(
        proposal_sections("## Why\nx\n## What Changes\n").unwrap_err().message,
        "Change must have a What Changes section"
    );
}

#[test]
fn spec_requirements_text_and_scenarios() {
    let spec = "# S\n## Purpose\nThe purpose of this capability, long enough to pass checks.\n## Requirements\n\
### Requirement: With body\n**ID**: R1\nThe system SHALL do it.\n```\nfenced SHALL\n```\nsecond line\n\n\
#### Scenario: Works\n- **WHEN** x\n- **THEN** y\n#### Scenario: Empty\n\n### Requirement: Metadata only\n**Constraint**: MUST hold\n\
#### Any title counts\nbody\n### No prefix\n";
    let s = parse_spec(spec).unwrap();
    assert_eq!(s.requirements.len(), 3);
    assert_eq!(s.requirements[0].text, "The system SHALL do it.\nsecond line");
    assert_eq!(s.requirements[0].scenarios.len(), 1, "a scenario with no body is dropped");
    assert_eq!(s.requirements[0].scenarios[0].raw_text, "- **WHEN** x\n- **THEN** y");
    assert_eq!(s.requirements[1].text, "**Constraint**: MUST hold");
    assert_eq!(s.requirements[1].scenarios.len(), 1);
    assert_eq!(s.requirements[2].text, "No prefix");
    assert_eq!(parse_spec("## Requirements\n").unwrap_err().message, "Spec must have a Purpose section");
    assert_eq!(parse_spec("## Purpose\nx\n").unwrap_err().message, "Spec must have a Requirements section");
}

#[test]
fn main_spec_validation_reports_missing_scenarios_twice() {
    let r = validate_spec_text("## Purpose\nshort\n## Requirements\n### Requirement: A\nIt SHALL.\n", false);
    let levels: Vec<(Level, &str)> = r.issues.iter().map(|i| (i.level, i.path.as_str())).collect();
    assert_eq!(
        levels,
        vec![
            (Level::Error, "requirements.0.scenarios"),
            (Level::Warning, "overview"),
            (Level::Warning, "requirements[0].scenarios")
        ]
    );
    assert!(!r.valid);
}

#[test]
fn deltas_all_four_sections_1_13_rules() {
    let d = "## ADDED Requirements\n### Requirement: New\nIt SHALL.\n#### Scenario: s\n- ok\n### Divider\n\
## added requirements\n###Requirement: Tight\nIt MUST.\n#### Scenario: t\n- ok\n\
## MODIFIED Requirements\n### Requirement: Old ###\nIt SHALL change.\n#### Scenario: m\n- ok\n\
## REMOVED Requirements\n### Requirement: Gone\n**Reason**: obsolete\n- `### Requirement: Bullet gone`\n* ### Requirement: Star gone\n\
## RENAMED Requirements\n- FROM: `### Requirement: A`\n- TO: `### Requirement: B`\n+ FROM: `### Requirement: C`\n\
## Notes\n### Requirement: Orphan\n```\n## ADDED Requirements\n### Requirement: Fenced\n```\n";
    let p = parse_delta_spec(d);
    let names = |v: &[twinsync_openspec::RequirementBlock]| v.iter().map(|b| b.name.clone()).collect::<Vec<_>>();
    assert_eq!(names(&p.added), ["New", "Tight"], "repeated, case-variant sections merge");
    assert_eq!(names(&p.modified), ["Old"], "closing ### is stripped");
    assert_eq!(p.removed, ["Gone", "Bullet gone", "Star gone"]);
    assert_eq!(p.renamed.len(), 1);
    assert_eq!((p.renamed[0].from.as_str(), p.renamed[0].to.as_str()), ("A", "B"));
    assert_eq!(p.unpaired_renames.len(), 1);
    assert_eq!(p.unpaired_renames[0].name, "C");
    assert_eq!(p.orphans.len(), 1);
    assert_eq!(p.orphans[0].line, 27);
    assert_eq!(p.skipped_headers.len(), 1);
    assert_eq!(p.skipped_headers[0].header, "Divider");
    let shown = change_deltas("", &[("cap".into(), d.into())]);
    let ops: Vec<Operation> = shown.iter().map(|d| d.operation).collect();
    use Operation::*;
    assert_eq!(ops, [Added, Added, Modified, Removed, Removed, Removed, Renamed]);
    // Checked against `openspec show --json` 1.13.2: bullets under a REMOVED header become
    // its body, so metadata lines drop out.
    assert_eq!(
        shown[3].description,
        "Remove requirement: - `### Requirement: Bullet gone`\n* ### Requirement: Star gone"
    );
    assert_eq!(shown[4].description, "Remove requirement: Requirement: Bullet gone");
    assert_eq!(shown[6].description, "Rename requirement from \"A\" to \"B\"");
    assert_eq!(normalize_requirement_name("C# ###"), "C#");
}

#[test]
fn what_changes_bullets_are_used_only_without_delta_sections() {
    let what = "- **auth:** Add login\n- **billing**: Rename plans\n- **x:** Remove y\n- **z:** tweak";
    let ops: Vec<Operation> = change_deltas(what, &[]).iter().map(|d| d.operation).collect();
    assert_eq!(ops, [Operation::Added, Operation::Renamed, Operation::Removed, Operation::Modified]);
    let with_file = change_deltas(what, &[("a".into(), "## REMOVED Requirements\n- `### Requirement: Q`\n".into())]);
    assert_eq!(with_file.len(), 1);
}

#[test]
fn archive_names() {
    let a = ArchiveName::parse("2025-11-08-2025-11-08-remove-x").unwrap();
    assert_eq!((a.date.as_str(), a.id.as_str()), ("2025-11-08", "2025-11-08-remove-x"));
    assert!(ArchiveName::parse("add-x").is_none());
    assert_eq!(ArchiveName::dir_for("2026-01-02", "add-x"), "2026-01-02-add-x");
    assert_eq!(ArchiveName::dir_for("2026-01-02", "2025-01-01-add-x"), "2025-01-01-add-x");
}

#[test]
fn a_broken_folder_still_loads_and_says_where_the_problems_are() {
    let tmp = tempfile::tempdir().unwrap();
    let os = tmp.path().join("openspec");
    for d in [
        "specs/good",
        "specs/bad",
        "specs/area/nested",
        "changes/c1/specs/cap",
        "changes/.hidden",
        "changes/archive/junk",
    ] {
        fs::create_dir_all(os.join(d)).unwrap();
    }
    fs::write(os.join("specs/good/spec.md"), "## Purpose\np\n## Requirements\n### Requirement: A\nx\n").unwrap();
    fs::write(os.join("specs/bad/spec.md"), "# nothing here\n```\nunclosed fence").unwrap();
    fs::write(os.join("specs/area/nested/spec.md"), [0xffu8, 0xfe, b'\n']).unwrap();
    fs::write(os.join("changes/c1/tasks.md"), "- [x] a\n- [ ] b\n").unwrap();
    fs::write(os.join("changes/c1/specs/cap/spec.md"), "## RENAMED Requirements\n- TO: `### Requirement: X`\n")
        .unwrap();
    fs::write(os.join("changes/IMPLEMENTATION_ORDER.md"), "stray").unwrap();
    let ws = Workspace::load(tmp.path()).unwrap();
    assert_eq!(ws.specs.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(), ["area/nested", "bad", "good"]);
    assert_eq!(ws.changes.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [".hidden", "c1"]);
    assert!(ws.change(".hidden").is_none(), "show/validate skip dot-directories");
    assert_eq!(ws.changes[1].progress().total, 2);
    let has = |file: &str, line: usize, text: &str| {
        ws.problems.iter().any(|p| p.file.ends_with(file) && p.line == line && p.message.contains(text))
    };
    assert!(has("specs/bad/spec.md", 1, "Purpose"), "{:#?}", ws.problems);
    assert!(has("area/nested/spec.md", 0, "UTF-8"), "{:#?}", ws.problems);
    assert!(has("cap/spec.md", 2, "RENAMED TO"), "{:#?}", ws.problems);
    assert!(has("archive/junk", 0, "YYYY-MM-DD"), "{:#?}", ws.problems);
    // The root is found from deep inside, as the CLI does.
    assert_eq!(find_root(&os.join("changes/c1/specs")).unwrap(), fs::canonicalize(tmp.path()).unwrap());
    assert!(find_root(&std::env::temp_dir().join("definitely-not-here-xyz")).is_err());
    // A legacy folder with only project.md is a root for `list` alone.
    let legacy = tempfile::tempdir().unwrap();
    fs::create_dir_all(legacy.path().join("openspec")).unwrap();
    fs::write(legacy.path().join("openspec/project.md"), "# P\n").unwrap();
    assert!(find_root(legacy.path()).is_err());
    assert_eq!(
        twinsync_openspec::workspace::find_list_root(legacy.path()).unwrap(),
        fs::canonicalize(legacy.path()).unwrap()
    );
}

proptest! {
    #[test]
    fn arbitrary_markdown_never_panics_and_round_trips(s in "(?s)(#{0,7}[ \t]?|[-*+] \\[[ xX~]?\\] ?|```|~~~|\r\n|\r|\n|\u{feff}|Requirement: |FROM: |TO: |## (ADDED|REMOVED|RENAMED|MODIFIED) Requirements|Purpose|[a-zé`*]){0,60}") {
        let _ = parse_spec(&s);
        let _ = parse_delta_spec(&s);
        let _ = parse_tasks(&s);
        let _ = validate_spec_text(&s, true);
        let _ = change_deltas(&s, &[("x".into(), s.clone())]);
        let _ = change_title(&s, "id");
        let mut doc = MarkdownDoc::parse(&s);
        prop_assert_eq!(doc.render(), s.clone());
        if doc.task_count() > 0 {
            doc.set_task(0, true).unwrap();
            prop_assert_eq!(parse_tasks(&doc.render()).first().map(|t| t.done), Some(true));
        }
    }
}

#[test]
fn a_folder_wrapping_changes_is_reported_not_counted() {
    // Checked against `openspec list --json` / `validate --all --json` 1.13.2.
    let tmp = tempfile::tempdir().unwrap();
    let ch = tmp.path().join("openspec/changes");
    fs::create_dir_all(ch.join("group/a")).unwrap();
    fs::create_dir_all(ch.join("group/deep/b/specs/x")).unwrap();
    fs::write(ch.join("group/a/tasks.md"), "- [ ] t\n").unwrap();
    fs::write(ch.join("group/deep/b/specs/x/spec.md"), "n\n").unwrap();
    let ws = Workspace::load(tmp.path()).unwrap();
    assert_eq!(ws.changes[0].nested, ["group/a", "group/deep/b"]);
    let doc = twinsync_openspec::list_json(&ws, twinsync_openspec::Sort::Name);
    assert_eq!(doc["changes"][0]["nested"][1], "group/deep/b");
    assert_eq!(doc["warnings"][0]["code"], "nested_change_directory");
    let r = twinsync_openspec::validate_change(&ws, &ws.changes[0], false);
    assert_eq!(r.issues.len(), 1);
    assert!(r.issues[0]
        .message
        .starts_with("\"group\" is not a change: it is a folder wrapping openspec/changes/group/a/"));
}
