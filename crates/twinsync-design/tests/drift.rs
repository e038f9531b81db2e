//! Drift between code and design: formatting-only differences are never drift (the
//! equivalence corpus), real changes are attributed to the side that made them, and
//! renames are reported as renames.

use std::path::PathBuf;

use serde_json::json;
use twinsync_design::drift::{detect, Base, BaseEntry, ComponentStatus, Origin, Sides};
use twinsync_design::{load, normalise_name, DesignComponent, Input, Prop};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

fn figma(rel: &str) -> Vec<DesignComponent> {
    match load(&fixture(rel)).unwrap() {
        Input::Figma(c) => c,
        other => panic!("{rel}: {other:?}"),
    }
}

fn code() -> Vec<DesignComponent> {
    match load(&fixture("code/components.json")).unwrap() {
        Input::Components(m) => m.components,
        other => panic!("{other:?}"),
    }
}

fn base_of(code: &[DesignComponent], design: &[DesignComponent]) -> Base {
    let mut base = Base::default();
    for c in code {
        base.components.entry(normalise_name(&c.name)).or_insert(BaseEntry { code: None, design: None }).code =
            Some(c.clone());
    }
    for d in design {
        base.components.entry(normalise_name(&d.name)).or_insert(BaseEntry { code: None, design: None }).design =
            Some(d.clone());
    }
    base
}

const FIGMA_CORPUS: [&str; 4] = [
    "equivalent/figma-original.json",
    "equivalent/figma-sorted-minified.json",
    "equivalent/figma-reversed-crlf.json",
    "equivalent/figma-volatile-ids.json",
];

#[test]
fn equivalent_figma_exports_show_zero_drift() {
    let parsed: Vec<_> = FIGMA_CORPUS.iter().map(|f| figma(f)).collect();
    for (i, a) in parsed.iter().enumerate() {
        for (j, b) in parsed.iter().enumerate() {
            // Same canonical digest per component...
            for (x, y) in a.iter().zip(b) {
                assert_eq!(
                    x.digest().unwrap(),
                    y.digest().unwrap(),
                    "{} vs {}: {}",
                    FIGMA_CORPUS[i],
                    FIGMA_CORPUS[j],
                    x.name
                );
            }
            // ...and no drift, neither two-way nor against a base taken from the other export.
            let sides = Sides { code: a, design: b, ..Default::default() };
            let two_way = detect(&sides, &Base::default()).unwrap();
            assert!(!two_way.has_drift(), "{} vs {}: {two_way:#?}", FIGMA_CORPUS[i], FIGMA_CORPUS[j]);
            let three_way =
                detect(&Sides { code: &code(), design: b, ..Default::default() }, &base_of(&code(), a)).unwrap();
            assert!(!three_way.has_drift(), "{} vs {}: {three_way:#?}", FIGMA_CORPUS[i], FIGMA_CORPUS[j]);
        }
    }
}

#[test]
fn equivalent_token_files_show_zero_drift() {
    let corpus = ["equivalent/tokens-a.json", "equivalent/tokens-b.json", "equivalent/tokens-c-studio.json"];
    let sets: Vec<_> = corpus
        .iter()
        .map(|f| match load(&fixture(f)).unwrap() {
            Input::Tokens(t) => t,
            other => panic!("{other:?}"),
        })
        .collect();
    for a in &sets {
        for b in &sets {
            let r =
                detect(&Sides { code_tokens: Some(a), design_tokens: Some(b), ..Default::default() }, &Base::default())
                    .unwrap();
            assert!(r.tokens.is_empty(), "{:?}", r.tokens);
        }
    }
}

#[test]
fn code_and_design_fixtures_agree_across_naming_conventions() {
    // `showIcon` ~ `Show icon`, `size` ~ `Size`: same props, no drift.
    let r =
        detect(&Sides { code: &code(), design: &figma("figma/library.json"), ..Default::default() }, &Base::default())
            .unwrap();
    assert!(!r.has_drift(), "{r:#?}");
    assert_eq!(r.totals.components, 3);
}

#[test]
fn rename_in_design_is_reported_as_a_rename() {
    let code = code();
    let before = figma("figma/library.json");
    let mut after = before.clone();
    let button = after.iter_mut().find(|c| c.name == "Button").unwrap();
    button.props.iter_mut().find(|p| p.name == "Show icon").unwrap().name = "Icon visible".into();
    let r = detect(&Sides { code: &code, design: &after, ..Default::default() }, &base_of(&code, &before)).unwrap();
    let b = r.components.iter().find(|c| c.component == "Button").unwrap();
    assert_eq!(b.status, ComponentStatus::ChangedInDesign);
    assert_eq!(b.findings.len(), 1, "{:#?}", b.findings);
    let f = &b.findings[0];
    assert_eq!(f.origin, Origin::Design);
    assert!(f.message.starts_with("prop \"Show icon\" renamed in design to \"Icon visible\""), "{}", f.message);
}

#[test]
fn variant_axis_rename_by_option_set_and_normalised_name() {
    let base = DesignComponent::new(
        "Chip",
        vec![Prop::variant("Tone", ["info", "warn", "error"]), Prop::boolean("Show label", None)],
    );
    let design = DesignComponent::new(
        "Chip",
        vec![Prop::variant("Intent", ["info", "warn", "error"]), Prop::boolean("show-label", None)],
    );
    let changes = twinsync_design::drift::diff_component(&base, &design, false);
    let json = serde_json::to_value(&changes).unwrap();
    assert_eq!(json[0]["change"], "prop_renamed");
    assert_eq!((json[0]["from"].as_str(), json[0]["to"].as_str()), (Some("Tone"), Some("Intent")));
    assert!(json[0]["confidence"].as_f64().unwrap() >= 0.7);
    assert_eq!(json[1]["change"], "prop_renamed");
    assert_eq!(json[1]["confidence"], json!(0.95));
    assert_eq!(changes.len(), 2, "no remove+add: {json:#}");
}

#[test]
fn both_sides_changing_one_prop_differently_is_a_conflict() {
    let code0 = vec![DesignComponent::new("Tag", vec![Prop::variant("size", ["sm", "md"])])];
    let design0 = vec![DesignComponent::new("Tag", vec![Prop::variant("Size", ["sm", "md"])])];
    let base = base_of(&code0, &design0);
    let code1 = vec![DesignComponent::new("Tag", vec![Prop::variant("size", ["sm", "md", "lg"])])];
    let design1 = vec![DesignComponent::new("Tag", vec![Prop::variant("Size", ["sm", "md", "xl"])])];
    let r = detect(&Sides { code: &code1, design: &design1, ..Default::default() }, &base).unwrap();
    assert_eq!(r.components[0].status, ComponentStatus::Conflict);
    assert_eq!(r.components[0].conflicts, ["size"]);
    // The same change on both sides is no conflict and no drift.
    let design_same = vec![DesignComponent::new("Tag", vec![Prop::variant("Size", ["sm", "md", "lg"])])];
    let r = detect(&Sides { code: &code1, design: &design_same, ..Default::default() }, &base).unwrap();
    assert_eq!(r.components[0].status, ComponentStatus::InSync);
}

#[test]
fn two_way_reports_code_props_without_design_counterpart() {
    let code =
        vec![DesignComponent::new("Tag", vec![Prop::variant("size", ["sm", "md"]), Prop::boolean("loading", None)])];
    let design = vec![DesignComponent::new("Tag", vec![Prop::variant("Size", ["sm", "md"])])];
    let r = detect(&Sides { code: &code, design: &design, ..Default::default() }, &Base::default()).unwrap();
    assert_eq!(r.components[0].status, ComponentStatus::Differs);
    assert_eq!(
        r.components[0].findings[0].message,
        "boolean prop \"loading\" is in code but has no design counterpart"
    );
}

#[test]
fn design_variants_without_story_are_listed() {
    let index = json!({"v": 5, "entries": {
        "components-badge--default": {"type": "story", "id": "components-badge--default", "title": "Components/Badge", "name": "Default", "importPath": "./Badge.stories.tsx", "tags": []},
        "components-badge--tone-success": {"type": "story", "id": "components-badge--tone-success", "title": "Components/Badge", "name": "Tone Success", "importPath": "./Badge.stories.tsx", "tags": []}
    }});
    let Input::Index(ix) = twinsync_design::parse_input("index.json", &index).unwrap() else { panic!() };
    let code = code();
    let design = figma("figma/library.json");
    let r = detect(&Sides { code: &code, design: &design, stories: Some(&ix), ..Default::default() }, &Base::default())
        .unwrap();
    let badge = r.components.iter().find(|c| c.component == "Badge").unwrap();
    assert_eq!(badge.variants_without_story, ["Tone=danger"]);
    assert!(r.has_drift());
}

#[test]
fn token_value_difference_is_attributed_with_a_base() {
    let load_t = |f: &str| match load(&fixture(f)).unwrap() {
        Input::Tokens(t) => t,
        other => panic!("{other:?}"),
    };
    let code_t = load_t("tokens/w3c.json");
    let mut design_t = load_t("tokens/w3c.json");
    let mut base = Base::default();
    for t in &code_t.tokens {
        base.code_tokens.insert(t.path.clone(), t.value.clone());
        base.design_tokens.insert(t.path.clone(), t.value.clone());
    }
    design_t.tokens.iter_mut().find(|t| t.path == "space.md").unwrap().value = json!("10px");
    let r = detect(&Sides { code_tokens: Some(&code_t), design_tokens: Some(&design_t), ..Default::default() }, &base)
        .unwrap();
    assert_eq!(r.tokens.len(), 1);
    assert_eq!((r.tokens[0].path.as_str(), r.tokens[0].origin), ("space.md", Origin::Design));
    assert_eq!(r.tokens[0].design, Some(json!("10px")));
}
