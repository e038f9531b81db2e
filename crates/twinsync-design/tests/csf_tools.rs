//! Proof with real tooling: every generated story file is parsed by Storybook's own
//! CSF parser (`@storybook/csf-tools`, installed by `tests/js/setup.sh`), and the story
//! ids it derives must be the ids the scaffold planned and the ones coverage expects.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Map, Value};
use twinsync_core::coverage::CoverageOptions;
use twinsync_design::scaffold::{scaffold, ScaffoldOptions};
use twinsync_design::{coverage_report, load, parse_input, DesignComponent, Input};

fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn components(rel: &str) -> Vec<DesignComponent> {
    match load(&crate_dir().join("tests/fixtures").join(rel)).unwrap() {
        Input::Components(m) => m.components,
        Input::Figma(c) => c,
        other => panic!("{rel}: {other:?}"),
    }
}

/// Runs Storybook's parser over `files`; panics with the fix when it is not installed.
fn parse_with_storybook(files: &[PathBuf]) -> Vec<Value> {
    let js = crate_dir().join("tests/js");
    assert!(
        js.join("node_modules/@storybook/csf-tools").is_dir(),
        "Storybook's CSF parser is not installed: run {}/setup.sh (needs node and npm)",
        js.display()
    );
    let out = Command::new("node")
        .arg(js.join("parse-csf.cjs"))
        .args(files)
        .output()
        .expect("node must be on PATH to run Storybook's CSF parser");
    assert!(out.status.success(), "csf-tools failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap()
}

fn scaffold_and_parse(comps: &[DesignComponent], opts: &ScaffoldOptions, dir: &Path) {
    let out_dir = dir.join("stories");
    let results = scaffold(comps, &out_dir, &dir.join("state"), opts, false).unwrap();
    let files: Vec<PathBuf> = results.iter().map(|r| r.path.clone()).collect();
    let parsed = parse_with_storybook(&files);
    assert_eq!(parsed.len(), results.len());

    // Storybook's ids are the planned ids, in order, each story with its play test.
    let mut entries = Map::new();
    for (r, p) in results.iter().zip(&parsed) {
        assert_eq!(p["title"], json!(r.file.title), "{}", r.path.display());
        let ids: Vec<&str> = p["stories"].as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap()).collect();
        let planned: Vec<&str> = r.file.stories.iter().map(|s| s.story_id.as_str()).collect();
        assert_eq!(ids, planned, "{}", r.path.display());
        for s in p["stories"].as_array().unwrap() {
            assert_eq!(s["play"], json!(true));
            // The index Storybook would build from these files.
            let id = s["id"].as_str().unwrap();
            entries.insert(
                id.into(),
                json!({"type": "story", "id": id, "title": p["title"], "name": s["name"],
                       "importPath": format!("./stories/{}", r.file.file_name), "tags": ["dev", "test", "play-fn"],
                       "exportName": s["exportName"]}),
            );
        }
    }

    // Coverage reads that index back: every story shows the variant it was made for.
    let Input::Index(index) = parse_input("index.json", &json!({"v": 5, "entries": entries})).unwrap() else {
        panic!()
    };
    let cov = coverage_report(comps, &index, &[], &CoverageOptions::default()).unwrap();
    assert!(cov.unmatched_stories.is_empty(), "{:?}", cov.unmatched_stories);
    assert!(cov.orphan_stories.is_empty(), "{:?}", cov.orphan_stories);
    assert!(cov.report.warnings.is_empty() && cov.report.components.iter().all(|c| c.warnings.is_empty()));
    for r in &results {
        let c = cov.report.components.iter().find(|c| c.component == r.file.component).unwrap();
        assert_eq!(c.covered_variants, r.file.stories.len() as u64, "{}", r.file.component);
        assert_eq!(c.missing_variants_total, r.file.skipped, "{}", r.file.component);
        assert!(!c.missing_test_kinds.iter().any(|k| k.as_str() == "interaction"), "play tests count");
    }
}

#[test]
fn generated_stories_parse_with_storybook_and_ids_match_coverage() {
    let dir = tempfile::tempdir().unwrap();
    let mut comps = components("code/components.json");
    comps.extend(components("code/many-axes.json"));
    scaffold_and_parse(&comps, &ScaffoldOptions::default(), dir.path());
}

#[test]
fn pairwise_scaffolds_parse_and_report_skipped_combinations() {
    let dir = tempfile::tempdir().unwrap();
    let comps = components("code/many-axes.json");
    let opts = ScaffoldOptions { pairwise: true, ..Default::default() };
    scaffold_and_parse(&comps, &opts, dir.path());
}

#[test]
fn figma_components_with_spaced_prop_names_parse() {
    // Design-side names (`Show icon`, `Modal (FINAL)`) become quoted keys and identifiers.
    let dir = tempfile::tempdir().unwrap();
    let mut comps = components("figma/library.json");
    comps.extend(components("research/figma-code-connect__wizard__GET_file_response.json"));
    scaffold_and_parse(&comps, &ScaffoldOptions::default(), dir.path());
}
