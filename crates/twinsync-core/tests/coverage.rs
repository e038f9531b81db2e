//! Coverage numbers on a small hand-checked example, the warnings, the errors, the JSON
//! shape `twinsync design coverage --json` prints, and the cache.

use serde_json::json;
use twinsync_core::coverage::{
    compute, compute_cached, CacheStats, CoverageCache, CoverageError, CoverageInput, CoverageOptions, CoverageWarning,
    MemoryCoverageCache, StoreCoverageCache, TestKind, Variant, CACHE_NAMESPACE,
};
use twinsync_core::{MemoryStore, Store};

/// Button: size sm|md|lg × disabled false|true = 6 variants; Icon: no axes = 1 variant;
/// Card: elevation 0|1|2 = 3 variants, no stories.
fn example() -> CoverageInput {
    serde_json::from_value(json!({
        "components": [
            { "name": "Button", "source": "src/Button.tsx", "axes": [
                { "name": "size", "options": ["sm", "md", "lg"] },
                { "name": "disabled", "options": [false, true] }
            ]},
            { "name": "Icon" },
            { "name": "Card", "axes": [{ "name": "elevation", "options": [0, 1, 2], "default": 1 }] }
        ],
        "stories": [
            { "id": "button--small", "title": "Button", "name": "Small", "component": "Button",
              "args": { "size": "sm" }, "tags": ["a11y"] },
            { "id": "button--large-disabled", "component": "Button",
              "args": { "size": "lg", "disabled": true }, "has_play": true },
            { "id": "button--default", "component": "Button" },
            { "id": "button--disabled", "component": "Button", "variant": { "disabled": "true" } },
            { "id": "button--huge", "component": "Button", "args": { "size": "xl" } },
            { "id": "button--themed", "component": "Button", "args": { "theme": "dark" } },
            { "id": "icon--default", "component": "Icon", "tags": ["chromatic"] },
            { "id": "ghost--x", "component": "Ghost" }
        ],
        "tests": [
            { "component": "Icon", "kind": "interaction" },
            { "component": "Icon", "story_id": "icon--default", "kind": "a11y" },
            { "component": "Icon", "kind": "unit" },
            { "component": "Phantom", "kind": "unit" }
        ]
    }))
    .unwrap()
}

#[test]
fn hand_checked_numbers() {
    let report = compute(&example(), &CoverageOptions::default()).unwrap();
    let names: Vec<_> = report.components.iter().map(|c| c.component.as_str()).collect();
    assert_eq!(names, ["Card", "Button", "Icon"], "worst first");

    let button = &report.components[1];
    assert_eq!(button.source.as_deref(), Some("src/Button.tsx"));
    assert_eq!((button.total_variants, button.covered_variants), (6, 3));
    assert_eq!(button.percent, 50.0);
    assert_eq!(button.stories, 6);
    assert_eq!(button.missing_variants_total, 3);
    assert_eq!(
        serde_json::to_value(&button.missing_variants).unwrap(),
        json!([
            { "size": "md", "disabled": false },
            { "size": "md", "disabled": true },
            { "size": "lg", "disabled": false }
        ])
    );
    assert_eq!(button.test_kinds.to_vec(), [TestKind::Interaction, TestKind::A11y]);
    assert_eq!(button.missing_test_kinds.to_vec(), [TestKind::Visual]);

    let card = &report.components[0];
    assert_eq!((card.total_variants, card.covered_variants, card.percent), (3, 0, 0.0));
    assert_eq!(card.missing_test_kinds.to_vec(), [TestKind::Interaction, TestKind::Visual, TestKind::A11y]);

    let icon = &report.components[2];
    assert_eq!((icon.total_variants, icon.covered_variants, icon.percent), (1, 1, 100.0));
    assert!(icon.missing_variants.is_empty());
    assert_eq!(icon.test_kinds.to_vec(), TestKind::ALL);
    assert!(icon.missing_test_kinds.is_empty());
    assert_eq!(icon.test_kinds.len(), 4);
    assert!(icon.warnings.is_empty());

    let t = &report.totals;
    assert_eq!((t.components, t.total_variants, t.covered_variants, t.percent), (3, 10, 4, 40.0));
    assert_eq!((t.stories, t.fully_covered_components, t.components_missing_test_kinds), (7, 1, 2));
    assert_eq!(t.warnings, 5);
}

#[test]
fn warnings_name_the_story_and_the_problem() {
    let report = compute(&example(), &CoverageOptions::default()).unwrap();
    let button = report.components.iter().find(|c| c.component == "Button").unwrap();
    assert_eq!(
        button.warnings,
        vec![
            CoverageWarning::UnknownOption { story_id: "button--huge".into(), axis: "size".into(), value: json!("xl") },
            CoverageWarning::UnknownAxis { story_id: "button--themed".into(), axis: "theme".into() },
            CoverageWarning::DuplicateStories {
                variant: Variant::from_pairs([("size".into(), json!("sm")), ("disabled".into(), json!(false))]),
                story_ids: vec!["button--small".into(), "button--default".into()],
            },
        ]
    );
    assert_eq!(
        report.warnings,
        vec![
            CoverageWarning::StoryForUnknownComponent { story_id: "ghost--x".into(), component: "Ghost".into() },
            CoverageWarning::TestForUnknownComponent { component: "Phantom".into(), test_kind: TestKind::Unit },
        ]
    );
    assert_eq!(
        button.warnings[0].to_string(),
        r#"story "button--huge" sets "size" to "xl", which is not one of its options"#
    );
    let json = serde_json::to_value(&button.warnings[1]).unwrap();
    assert_eq!(json, json!({ "kind": "unknown_axis", "story_id": "button--themed", "axis": "theme" }));

    let mut input = example();
    input.tests.push(
        serde_json::from_value(json!({ "component": "Card", "story_id": "card--gone", "kind": "visual" })).unwrap(),
    );
    let report = compute(&input, &CoverageOptions::default()).unwrap();
    let card = report.components.iter().find(|c| c.component == "Card").unwrap();
    assert_eq!(
        card.warnings,
        [CoverageWarning::TestForUnknownStory { component: "Card".into(), story_id: "card--gone".into() }]
    );
    assert_eq!(card.test_kinds.to_vec(), [TestKind::Visual], "the test still counts for its component");
}

#[test]
fn unassigned_axes_take_the_default_option() {
    let input: CoverageInput = serde_json::from_value(json!({
        "components": [{ "name": "Card", "axes": [{ "name": "elevation", "options": [0, 1, 2], "default": 1 }] }],
        "stories": [{ "id": "card--plain", "component": "Card" }, { "id": "card--flat", "component": "Card", "args": { "elevation": "0" } }]
    }))
    .unwrap();
    let report = compute(&input, &CoverageOptions::default()).unwrap();
    let card = &report.components[0];
    assert_eq!(card.covered_variants, 2);
    assert_eq!(card.percent, 66.66, "floored, not rounded");
    assert_eq!(serde_json::to_value(&card.missing_variants).unwrap(), json!([{ "elevation": 2 }]));
}

#[test]
fn missing_variants_are_capped_but_counted() {
    let options: Vec<String> = (0..10).map(|i| format!("o{i}")).collect();
    let input: CoverageInput = serde_json::from_value(json!({
        "components": [{ "name": "Grid", "axes": [{ "name": "a", "options": options }, { "name": "b", "options": options }] }],
        "stories": [{ "id": "grid--first", "component": "Grid" }]
    }))
    .unwrap();
    let opts = CoverageOptions { missing_limit: 5, ..Default::default() };
    let report = compute(&input, &opts).unwrap();
    let grid = &report.components[0];
    assert_eq!((grid.total_variants, grid.covered_variants, grid.missing_variants_total), (100, 1, 99));
    assert_eq!(grid.percent, 1.0);
    assert_eq!(grid.missing_variants.len(), 5);
    assert_eq!(serde_json::to_value(grid.missing_variants.get(0).unwrap()).unwrap(), json!({ "a": "o0", "b": "o1" }));
}

#[test]
fn bad_components_are_errors_naming_the_component_and_problem() {
    let cases = [
        (json!([{ "name": "A" }, { "name": "A" }]), "component \"A\" is defined more than once"),
        (json!([{ "name": "B", "axes": [{ "name": "size", "options": [] }] }]), "axis \"size\" has no options"),
        (
            json!([{ "name": "C", "axes": [{ "name": "x", "options": [1] }, { "name": "x", "options": [2] }] }]),
            "axis \"x\" is listed more than once",
        ),
        (
            json!([{ "name": "D", "axes": [{ "name": "x", "options": ["a", "b", "a"] }] }]),
            "option \"a\" is listed more than once",
        ),
        (
            json!([{ "name": "E", "axes": [{ "name": "x", "options": [{ "k": 1 }] }] }]),
            "not a string, number or boolean",
        ),
        (
            json!([{ "name": "F", "axes": [{ "name": "x", "options": ["a"], "default": "z" }] }]),
            "default \"z\" is not one of its options",
        ),
        (json!([{ "name": " " }]), "the name is empty"),
    ];
    for (components, expected) in cases {
        let input: CoverageInput = serde_json::from_value(json!({ "components": components })).unwrap();
        let err = compute(&input, &CoverageOptions::default()).unwrap_err();
        assert!(err.to_string().contains(expected), "{err} should contain {expected}");
    }
    let axes: Vec<_> =
        (0..20).map(|i| json!({ "name": format!("a{i}"), "options": (0..10).collect::<Vec<_>>() })).collect();
    let input: CoverageInput =
        serde_json::from_value(json!({ "components": [{ "name": "Huge", "axes": axes }] })).unwrap();
    let err = compute(&input, &CoverageOptions::default()).unwrap_err();
    assert_eq!(
        err,
        CoverageError::InvalidComponent { component: "Huge".into(), problem: "has more than 2^64 variants".into() }
    );

    let input: CoverageInput = serde_json::from_value(
        json!({ "components": [{ "name": "G" }], "stories": [{ "id": "", "component": "G", "name": "Oops" }] }),
    )
    .unwrap();
    let err = compute(&input, &CoverageOptions::default()).unwrap_err();
    assert!(err.to_string().contains("\"G\"") && err.to_string().contains("empty id"), "{err}");
}

#[test]
fn json_shape_is_snake_case_and_stable() {
    let report = compute(&example(), &CoverageOptions::default()).unwrap();
    let v = serde_json::to_value(&report).unwrap();
    let keys = |o: &serde_json::Value| o.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&v), ["totals", "components", "warnings"]);
    assert_eq!(
        keys(&v["totals"]),
        [
            "components",
            "total_variants",
            "covered_variants",
            "percent",
            "stories",
            "fully_covered_components",
            "components_missing_test_kinds",
            "warnings"
        ]
    );
    assert_eq!(
        keys(&v["components"][1]),
        [
            "component",
            "source",
            "total_variants",
            "covered_variants",
            "percent",
            "stories",
            "missing_variants",
            "missing_variants_total",
            "test_kinds",
            "missing_test_kinds",
            "warnings"
        ]
    );
    assert_eq!(v["components"][0]["missing_test_kinds"], json!(["interaction", "visual", "a11y"]));
    let back: twinsync_core::coverage::CoverageReport = serde_json::from_value(v).unwrap();
    assert_eq!(back, report);
}

#[test]
fn cache_hits_skip_recomputation_and_changes_miss() {
    let opts = CoverageOptions::default();
    let mut cache = MemoryCoverageCache::new();
    let (first, stats) = compute_cached(&example(), &opts, &mut cache).unwrap();
    assert_eq!(stats, CacheStats { hits: 0, misses: 3 });
    assert_eq!(cache.len(), 3);
    let plain = compute(&example(), &opts).unwrap();
    for (c, p) in first.components.iter().zip(&plain.components) {
        assert!(c.variant_hash.is_some());
        assert_eq!(c.component, p.component);
        assert_eq!(c.percent, p.percent);
        assert_eq!(c.missing_variants, p.missing_variants);
    }

    // Plant a marker under Icon's hash: a hit must return it as is, not recompute.
    let icon = first.components.iter().find(|c| c.component == "Icon").unwrap();
    let hash = icon.variant_hash.unwrap();
    let mut marked = icon.clone();
    marked.percent = 12.34;
    cache.put(&hash, &marked).unwrap();
    let (second, stats) = compute_cached(&example(), &opts, &mut cache).unwrap();
    assert_eq!(stats, CacheStats { hits: 3, misses: 0 });
    assert_eq!(second.components.iter().find(|c| c.component == "Icon").unwrap().percent, 12.34);

    // Changing one Button story recomputes Button only.
    let mut changed = example();
    changed.stories[0].args.insert("size".into(), json!("md"));
    let (third, stats) = compute_cached(&changed, &opts, &mut cache).unwrap();
    assert_eq!(stats, CacheStats { hits: 2, misses: 1 });
    let button = third.components.iter().find(|c| c.component == "Button").unwrap();
    assert_eq!(button.covered_variants, 4);
    assert_ne!(button.variant_hash, first.components.iter().find(|c| c.component == "Button").unwrap().variant_hash);

    // Other options are another key.
    let (_, stats) =
        compute_cached(&example(), &CoverageOptions { missing_limit: 1, ..Default::default() }, &mut cache).unwrap();
    assert_eq!(stats.misses, 3);
}

#[test]
fn store_cache_persists_in_the_coverage_namespace() {
    let mut store = MemoryStore::new();
    let opts = CoverageOptions::default();
    let (first, stats) = compute_cached(&example(), &opts, &mut StoreCoverageCache(&mut store)).unwrap();
    assert_eq!(stats.misses, 3);
    let hash = first.components[0].variant_hash.unwrap();
    assert!(store.kv_get(CACHE_NAMESPACE, &hash.to_hex()).unwrap().is_some());
    let (again, stats) = compute_cached(&example(), &opts, &mut StoreCoverageCache(&mut store)).unwrap();
    assert_eq!(stats, CacheStats { hits: 3, misses: 0 });
    assert_eq!(again, first);

    // A damaged entry is recomputed, not an error.
    store.kv_put(CACHE_NAMESPACE, &hash.to_hex(), b"{not json").unwrap();
    let (healed, stats) = compute_cached(&example(), &opts, &mut StoreCoverageCache(&mut store)).unwrap();
    assert_eq!(stats, CacheStats { hits: 2, misses: 1 });
    assert_eq!(healed, first);
}
