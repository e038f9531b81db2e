//! OpenSpec markdown: main specs, delta specs, proposals, validation, and the lossless
//! line model the writer edits.
//!
//! Properties: parse then render is byte-identical; replacing a requirement block by its
//! own text changes nothing; the readers and the validator answer for any text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinsync_openspec::change::{change_title, proposal_sections};
use twinsync_openspec::delta::main_spec_blocks;
use twinsync_openspec::validate::main_spec_structure_issues;
use twinsync_openspec::{change_deltas, parse_delta_spec, parse_spec, validate_spec_text, MarkdownDoc};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };

    let doc = MarkdownDoc::parse(text);
    assert_eq!(doc.render(), text, "parse -> render is not lossless");

    if let Ok(spec) = parse_spec(text) {
        assert!(!spec.overview.is_empty(), "a spec without a Purpose was accepted");
    }
    let plan = parse_delta_spec(text);
    let _ = plan.entry_count();
    for strict in [false, true] {
        let _ = validate_spec_text(text, strict);
    }
    let _ = main_spec_structure_issues(text);
    let _ = change_title(text, "fuzz-change");
    if let Ok((_why, what)) = proposal_sections(text) {
        let _ = change_deltas(&what, &[("specs/fuzz/spec.md".to_string(), text.to_string())]);
    }

    // The writer rewrites a block with the document's dominant line ending, so the
    // identity edit is exact only for documents with one kind of ending.
    if !text.contains('\r') {
        for block in main_spec_blocks(text).iter().take(4) {
            let mut edited = MarkdownDoc::parse(text);
            let Some((s, e)) = edited.requirement_range(&block.name) else { continue };
            let current: Vec<&str> = text.strip_prefix('\u{feff}').unwrap_or(text).split('\n').collect();
            let own = current[s..e].join("\n");
            edited.replace_requirement(&block.name, &own).expect("the range was found");
            assert_eq!(edited.render(), text, "replacing requirement {:?} by itself changed the file", block.name);
        }
    }
});
