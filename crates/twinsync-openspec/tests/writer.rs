//! The writer: every corpus file round-trips byte for byte, and each edit changes only the
//! lines it targets.

use std::fs;
use std::path::{Path, PathBuf};

use twinsync_openspec::writer::render_requirement;
use twinsync_openspec::{count_tasks, parse_delta_spec, parse_spec, EditError, MarkdownDoc, Workspace};

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/openspec-corpus/openspec")
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn every_corpus_file_round_trips_byte_identical() {
    let mut files = Vec::new();
    walk(&corpus(), &mut files);
    assert!(files.len() >= 50, "corpus has {} files", files.len());
    for f in &files {
        let bytes = fs::read(f).unwrap();
        let text = String::from_utf8(bytes.clone()).expect("corpus is UTF-8");
        assert_eq!(MarkdownDoc::parse(&text).render().as_bytes(), &bytes[..], "{}", f.display());
    }
}

#[test]
fn loaded_workspace_files_write_back_unchanged() {
    let ws = Workspace::load(corpus().parent().unwrap()).unwrap();
    let mut n = 0;
    for c in ws.changes.iter().chain(&ws.archived) {
        let files = c.proposal.iter().chain(&c.design).chain(&c.task_files).chain(c.deltas.iter().map(|d| &d.file));
        for f in files {
            assert_eq!(
                MarkdownDoc::parse(&f.text).render(),
                fs::read_to_string(&f.path).unwrap(),
                "{}",
                f.path.display()
            );
            n += 1;
        }
    }
    for s in &ws.specs {
        assert_eq!(MarkdownDoc::parse(&s.file.text).render(), fs::read_to_string(&s.file.path).unwrap());
        n += 1;
    }
    assert!(n >= 40, "{n} files");
}

#[test]
fn crlf_bom_and_missing_final_newline_survive() {
    for text in ["\u{feff}# T\r\n\r\n- [ ] a\r\n", "a\rb\r\nc\n", "no newline", "", "\n\n", "\u{feff}"] {
        assert_eq!(MarkdownDoc::parse(text).render(), text);
    }
}

fn changed_lines(a: &str, b: &str) -> Vec<usize> {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.split('\n').collect(), b.split('\n').collect());
    assert_eq!(la.len(), lb.len(), "line count changed");
    (0..la.len()).filter(|&i| la[i] != lb[i]).collect()
}

#[test]
fn ticking_one_task_changes_only_that_line() {
    let path = corpus().join("changes/add-global-install-scope/tasks.md");
    let text = fs::read_to_string(&path).unwrap();
    let before = count_tasks(&text);
    let mut doc = MarkdownDoc::parse(&text);
    doc.set_task(3, true).unwrap();
    let out = doc.render();
    let changed = changed_lines(&text, &out);
    assert_eq!(changed.len(), 1);
    let (old, new) = (text.split('\n').nth(changed[0]).unwrap(), out.split('\n').nth(changed[0]).unwrap());
    assert_eq!(old.replacen("[ ]", "[x]", 1), new);
    assert_eq!(count_tasks(&out).completed, before.completed + 1);
    assert_eq!(count_tasks(&out).total, before.total);
    // Unticking restores the original bytes.
    doc.set_task(3, false).unwrap();
    assert_eq!(doc.render(), text);
}

#[test]
fn task_edits_keep_unusual_boxes_and_crlf() {
    // `[ ](x)` is an open task; `[](y)` is a link, not a task.
    let text = "1. [~] one\r\n  + [X] two\r\n- [ x ] three\r\n* [ ](x) four\r\n- [](y) link\r\n";
    let mut doc = MarkdownDoc::parse(text);
    assert_eq!(doc.task_count(), 4);
    doc.set_task(0, true).unwrap();
    doc.set_task(1, false).unwrap();
    doc.set_task(2, false).unwrap();
    doc.set_task(3, true).unwrap();
    assert_eq!(doc.render(), "1. [x] one\r\n  + [ ] two\r\n- [ ] three\r\n* [x] (x) four\r\n- [](y) link\r\n");
    assert_eq!(doc.set_task(9, true), Err(EditError::NoSuchTask { index: 9, count: 4 }));
}

#[test]
fn replacing_one_requirement_changes_only_its_block() {
    let path = corpus().join("specs/cli-list/spec.md");
    let text = fs::read_to_string(&path).unwrap();
    let spec = parse_spec(&text).unwrap();
    let mut doc = MarkdownDoc::parse(&text);
    let (start, end) = doc.requirement_range("Output Format").expect("requirement exists");
    let block = render_requirement(
        "Output Format",
        "The command SHALL print a table.",
        &[("Table", "- **WHEN** run\n- **THEN** a table")],
    );
    doc.replace_requirement("Output Format", &block).unwrap();
    let out = doc.render();
    let (a, b): (Vec<&str>, Vec<&str>) = (text.split('\n').collect(), out.split('\n').collect());
    assert_eq!(a[..start], b[..start], "lines before the block");
    let new_len = block.trim_end().split('\n').count();
    assert_eq!(a[end..], b[start + new_len..], "lines after the block");
    let reparsed = parse_spec(&out).unwrap();
    assert_eq!(reparsed.requirements.len(), spec.requirements.len());
    let idx = spec.requirements.iter().position(|r| r.title == "Requirement: Output Format").unwrap();
    assert_eq!(reparsed.requirements[idx].text, "The command SHALL print a table.");
    for (i, (x, y)) in spec.requirements.iter().zip(&reparsed.requirements).enumerate() {
        if i != idx {
            assert_eq!(x, &{ y.clone() }.with_lines_of(x), "requirement {i} untouched");
        }
    }
    assert!(matches!(doc.replace_requirement("Nope", "x"), Err(EditError::NoSuchRequirement(_))));
}

trait SameLines {
    fn with_lines_of(self, other: &Self) -> Self;
}

impl SameLines for twinsync_openspec::Requirement {
    /// Line numbers shift after an edit; compare everything else.
    fn with_lines_of(mut self, other: &Self) -> Self {
        self.line = other.line;
        for (s, o) in self.scenarios.iter_mut().zip(&other.scenarios) {
            s.line = o.line;
        }
        self
    }
}

#[test]
fn replacing_a_section_changes_only_its_body() {
    let text = "# Change\n\n## Why\nOld reason.\nMore.\n\n## What Changes\n- x\n\n```md\n## Why\n```\n";
    let mut doc = MarkdownDoc::parse(text);
    doc.replace_section("why", "New reason.").unwrap();
    assert_eq!(doc.render(), "# Change\n\n## Why\nNew reason.\n\n## What Changes\n- x\n\n```md\n## Why\n```\n");
    assert!(matches!(doc.replace_section("Impact", "x"), Err(EditError::NoSuchSection(_))));
}

#[test]
fn editing_a_delta_file_keeps_other_deltas() {
    let path = corpus().join("changes/add-init-agents-target/specs/ai-tool-paths/spec.md");
    let text = fs::read_to_string(&path).unwrap();
    let plan = parse_delta_spec(&text);
    let name = plan.added[0].name.clone();
    let mut doc = MarkdownDoc::parse(&text);
    doc.replace_requirement(&name, &render_requirement(&name, "It SHALL work.", &[("Works", "- **THEN** ok")]))
        .unwrap();
    let after = parse_delta_spec(&doc.render());
    assert_eq!(after.added.len(), plan.added.len());
    // The edited block may change length, shifting the line numbers of later blocks.
    let blocks = |b: &[twinsync_openspec::RequirementBlock]| {
        b.iter().map(|r| (r.name.clone(), r.raw.clone())).collect::<Vec<_>>()
    };
    assert!(!plan.modified.is_empty(), "the file also holds a MODIFIED delta");
    assert_eq!(blocks(&after.modified), blocks(&plan.modified));
    assert!(after.added[0].raw.contains("It SHALL work."));
}
