//! Story coverage over a real Storybook index (the sample `Example/Button` of a
//! Storybook 7.6 project) and the HTML report.

use std::path::PathBuf;

use twinsync_core::coverage::CoverageOptions;
use twinsync_design::{coverage_report, html_report, load, DesignComponent, Input, Prop};

fn real_index() -> twinsync_design::storybook::StoryIndex {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/research/crayfisher-zari_digital-agency-design-system__index.v4.json");
    match load(&p).unwrap() {
        Input::Index(ix) => ix,
        other => panic!("{other:?}"),
    }
}

/// The sample Button's props as Storybook's manifest lists them (`primary: boolean`,
/// `size: 'small' | 'medium' | 'large'`).
fn button() -> DesignComponent {
    let mut size = Prop::variant("size", ["small", "medium", "large"]);
    size.default = Some("medium".into());
    let mut b = DesignComponent::new("Button", vec![Prop::boolean("primary", Some(false)), size]);
    b.source = Some("./src/stories/Button.vue".into());
    b
}

#[test]
fn real_index_stories_map_to_variants() {
    let cov = coverage_report(&[button()], &real_index(), &[], &CoverageOptions::default()).unwrap();
    let c = &cov.report.components[0];
    // Primary -> primary=true; Large / Small -> size; Secondary names no variant.
    assert_eq!((c.total_variants, c.covered_variants, c.stories), (6, 3, 3));
    assert_eq!(c.percent, 50.0);
    assert_eq!(cov.unmatched_stories.len(), 1);
    assert_eq!(cov.unmatched_stories[0].story_id, "example-button--secondary");
    // Header and Page stories belong to no known component.
    assert!(cov.orphan_stories.iter().any(|s| s.starts_with("example-header--")));
    let missing: Vec<String> = c.missing_variants.iter().map(|v| v.to_string()).collect();
    assert!(missing.contains(&"{primary=true, size=\"small\"}".to_string()), "{missing:?}");
    assert_eq!(c.missing_test_kinds.len(), 3, "no play, visual or a11y tags in that project");
}

#[test]
fn html_report_is_self_contained_and_lists_missing_variants() {
    let mut other = DesignComponent::new("Card <b>", vec![Prop::boolean("elevated", None)]);
    other.title = Some("Example/Card".into());
    let cov = coverage_report(&[button(), other], &real_index(), &[], &CoverageOptions::default()).unwrap();
    let html = html_report(&cov);
    assert!(html.starts_with("<!doctype html>"));
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="), "no external resources");
    assert_eq!(html.matches("class=\"bar\"").count(), 2, "a bar per component");
    // Worst first: the card has no stories at all.
    assert!(html.find("Card &lt;b&gt;").unwrap() < html.find("<strong>Button</strong>").unwrap());
    assert!(html.contains("{primary=true, size=&quot;small&quot;}"));
    assert!(html.contains("example-button--secondary"));
}
