//! Coverage history through the facade, on the twinsync-design fixtures with a manual
//! clock: each run writes one row per component; a component whose variant hash did not
//! change is reused, not computed; a changed one is computed and its trend moves; rows go
//! after `[coverage] retention_days`, each component's newest excepted.

use std::path::{Path, PathBuf};

use twinsync::core::coverage::CoverageOptions;
use twinsync::core::{ManualClock, Timestamp};
use twinsync::design::inputs::{load_components, load_index};
use twinsync::Project;

const DAY: i64 = 86_400_000;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../twinsync-design/tests/fixtures")
}

fn run(p: &mut Project, components: &Path, index: &Path) -> (twinsync::design::DesignCoverage, usize, usize) {
    let (comps, tests) = load_components(components).unwrap();
    let idx = load_index(index).unwrap();
    let (cov, stats) = p.coverage_run("components.json", &comps, &idx, &tests, &CoverageOptions::default()).unwrap();
    (cov, stats.hits, stats.misses)
}

#[test]
fn runs_write_rows_reuse_unchanged_components_and_prune_old_ones() {
    let dir = tempfile::tempdir().unwrap();
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(side)).unwrap();
    }
    let mut p = Project::init_with(dir.path(), twinsync::Config::new("a", "b")).unwrap();
    let clock = ManualClock::new(Timestamp::from_millis(1_800_000_000_000));
    p.set_clock(Box::new(clock.clone()));
    let components = fixtures().join("code/components.json");
    let index_text = std::fs::read_to_string(
        fixtures().join("research/crayfisher-zari_digital-agency-design-system__index.v4.json"),
    )
    .unwrap();
    let index = dir.path().join("index.json");
    std::fs::write(&index, &index_text).unwrap();

    let (first, hits, misses) = run(&mut p, &components, &index);
    let n = first.report.components.len();
    assert!(n >= 2, "the fixture has several components");
    assert_eq!((hits, misses), (0, n), "first run: every component computed");
    let button_before = first.report.components.iter().find(|c| c.component == "Button").unwrap().percent;
    assert!(button_before > 0.0);

    clock.advance(DAY);
    let (_, hits, misses) = run(&mut p, &components, &index);
    assert_eq!((hits, misses), (n, 0), "nothing changed: nothing computed again");

    // One of Button's stories goes: only Button's hash changes.
    let mut doc: serde_json::Value = serde_json::from_str(&index_text).unwrap();
    doc["entries"].as_object_mut().unwrap().remove("example-button--primary").unwrap();
    std::fs::write(&index, doc.to_string()).unwrap();
    clock.advance(DAY);
    let (third, hits, misses) = run(&mut p, &components, &index);
    assert_eq!((hits, misses), (n - 1, 1), "Button alone is computed");
    let button_after = third.report.components.iter().find(|c| c.component == "Button").unwrap().percent;
    assert!(button_after < button_before, "{button_after} < {button_before}");

    let history = p.coverage_history("Button", None, 10).unwrap();
    assert_eq!(history.len(), 3, "one row per run");
    let trend: Vec<f64> = history.iter().rev().map(|r| r.percentage).collect();
    assert_eq!(trend, [button_before, button_before, button_after]);
    assert_ne!(history[0].variant_hash, history[1].variant_hash);
    assert_eq!(history[1].variant_hash, history[2].variant_hash);
    assert_eq!(history[0].computed_at, clock_now(&clock));
    assert!(history[0].coverage.missing_variants_total > history[1].coverage.missing_variants_total);
    let others = p.coverage_history("Badge", None, 10).unwrap();
    assert_eq!(others.len(), 3, "every component gets a row each run, reused or not");

    // A month and a day later, a run prunes what is older than 30 days.
    clock.advance(31 * DAY);
    run(&mut p, &components, &index);
    let history = p.coverage_history("Button", None, 10).unwrap();
    assert_eq!(history.len(), 1, "only this run's row is within 30 days");
    assert_eq!(history[0].percentage, button_after);
}

fn clock_now(clock: &ManualClock) -> Timestamp {
    twinsync::core::Clock::now(clock)
}
