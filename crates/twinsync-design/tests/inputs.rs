//! Reading every supported input: real Storybook indexes and Figma responses from
//! public projects, and synthetic fixtures mixing all Figma property types.

use std::path::PathBuf;

use serde_json::json;
use twinsync_design::storybook::EntryType;
use twinsync_design::{load, parse_input, DesignError, Input, PropKind};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

#[test]
fn real_index_v5_reads_every_entry() {
    let Input::Index(ix) = load(&fixture("research/alaskaairlines_auro-formkit__index.v5.json")).unwrap() else {
        panic!("not recognised as an index")
    };
    assert_eq!(ix.version, 5);
    assert_eq!(ix.entries.len(), 238);
    let first = &ix.entries[0];
    assert_eq!(first.id, "checkbox-checkbox-group--basic");
    assert_eq!(first.title, "Checkbox & Checkbox Group");
    assert_eq!(first.tags, ["dev", "test"]);
    assert!(ix.stories().count() > 0 && ix.stories().count() < 238, "docs entries are told apart");
}

#[test]
fn real_index_v4_and_legacy_v3_agree() {
    let Input::Index(v4) =
        load(&fixture("research/crayfisher-zari_digital-agency-design-system__index.v4.json")).unwrap()
    else {
        panic!()
    };
    let Input::Index(v3) =
        load(&fixture("research/crayfisher-zari_digital-agency-design-system__stories.v3.json")).unwrap()
    else {
        panic!()
    };
    assert_eq!(v4.version, 4);
    assert_eq!(v3.version, 3);
    let ids4: Vec<_> = v4.stories().map(|e| (&e.id, &e.title, &e.name)).collect();
    let ids3: Vec<_> = v3.stories().map(|e| (&e.id, &e.title, &e.name)).collect();
    assert_eq!(ids4, ids3);
    assert!(v4.entries.iter().any(|e| e.id == "example-button--docs" && e.entry_type == EntryType::Docs));
}

#[test]
fn real_figma_file_component_sets_and_variants() {
    let Input::Figma(cs) = load(&fixture("research/figma-code-connect__wizard__GET_file_response.json")).unwrap()
    else {
        panic!()
    };
    let names: Vec<_> = cs.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Loading Spinner",
            "Loading Button",
            "Card.Foo",
            "Header",
            "Modal (FINAL)",
            "Primary Button",
            "Secondary Button"
        ]
    );
    let header = &cs[3];
    assert_eq!(header.props.len(), 1);
    assert_eq!(header.props[0].name, "Property 1");
    assert_eq!(header.props[0].options, [json!("Default"), json!("Variant2")]);
    assert_eq!(header.variants.len(), 2);
    assert_eq!(header.variants[1]["Property 1"], json!("Variant2"));
}

#[test]
fn figma_nodes_response_of_an_instance_defines_no_component() {
    let Input::Figma(cs) =
        load(&fixture("research/codingito-button-link__GET_file_nodes_response__instance.json")).unwrap()
    else {
        panic!()
    };
    assert!(cs.is_empty(), "an instance is a usage, not a definition: {cs:?}");
}

#[test]
fn synthetic_figma_mixes_all_property_types_and_strips_ids() {
    let Input::Figma(cs) = load(&fixture("figma/library.json")).unwrap() else { panic!() };
    let button = cs.iter().find(|c| c.name == "Button").unwrap();
    let kinds: Vec<_> = button.props.iter().map(|p| (p.name.as_str(), p.kind)).collect();
    assert_eq!(
        kinds,
        [
            ("Size", PropKind::Variant),
            ("Variant", PropKind::Variant),
            ("Show icon", PropKind::Boolean),
            ("Label", PropKind::Text),
            ("Icon", PropKind::InstanceSwap)
        ]
    );
    assert_eq!(button.prop("Icon").unwrap().default, None, "instance-swap defaults are node ids");
    assert_eq!(button.variants.len(), 6);
    let core = button.to_coverage();
    assert_eq!(core.axes.len(), 3, "variant and boolean props are axes; text and instance swap are not");
    assert!(cs.iter().any(|c| c.name == "Divider" && c.props.is_empty()));
}

#[test]
fn plain_components_fill_boolean_options() {
    let Input::Components(m) = load(&fixture("code/components.json")).unwrap() else { panic!() };
    assert_eq!(m.components.len(), 3);
    assert_eq!(m.components[0].prop("showIcon").unwrap().options, [json!(true), json!(false)]);
}

#[test]
fn storybook_manifest_reads_literal_unions() {
    let doc = json!({"v": 0, "components": {"example-button": {
    "id": "example-button", "name": "Button", "path": "./src/stories/Button.tsx",
    "reactDocgen": {"displayName": "Button", "props": {
        "size": {"required": false, "tsType": {"name": "union", "raw": "'small' | 'medium' | 'large'",
            "elements": [{"name": "literal", "value": "'small'"}, {"name": "literal", "value": "'medium'"},
                         {"name": "literal", "value": "'large'"}]},
            "defaultValue": {"value": "'medium'", "computed": false}},
        "primary": {"required": false, "tsType": {"name": "boolean"}, "defaultValue": {"value": "false", "computed": false}},
        "label": {"required": true, "tsType": {"name": "string"}},
        "onClick": {"required": false, "tsType": {"name": "signature", "type": "function", "raw": "() => void"}}
    }}}}});
    let Input::Components(m) = parse_input("components.json", &doc).unwrap() else { panic!() };
    let b = &m.components[0];
    assert_eq!(b.source.as_deref(), Some("./src/stories/Button.tsx"));
    let size = b.prop("size").unwrap();
    assert_eq!(
        (size.kind, &size.options[..]),
        (PropKind::Variant, &[json!("small"), json!("medium"), json!("large")][..])
    );
    assert_eq!(size.default, Some(json!("medium")));
    assert_eq!(b.prop("primary").unwrap().kind, PropKind::Boolean);
    assert_eq!(b.prop("label").unwrap().kind, PropKind::Text);
    assert!(b.prop("onClick").is_none(), "callbacks have no design counterpart");
}

#[test]
fn w3c_and_tokens_studio_resolve_to_the_same_values() {
    let Input::Tokens(w) = load(&fixture("tokens/w3c.json")).unwrap() else { panic!() };
    let Input::Tokens(s) = load(&fixture("tokens/studio.json")).unwrap() else { panic!() };
    let w: Vec<_> = w.tokens.iter().map(|t| (t.path.as_str(), &t.value, t.token_type.as_deref())).collect();
    let s: Vec<_> =
        s.tokens.iter().map(|t| (t.path.strip_prefix("global.").unwrap(), &t.value, t.token_type.as_deref())).collect();
    assert_eq!(w, s);
    assert!(w.contains(&("color.brand.primary", &json!("#1f6feb"), Some("color"))));
}

fn invalid(doc: serde_json::Value) -> (String, String) {
    match parse_input("in.json", &doc).unwrap_err() {
        DesignError::Invalid { file, path, problem } => {
            assert_eq!(file, "in.json");
            (path, problem)
        }
        other => panic!("expected an Invalid error, got {other}"),
    }
}

#[test]
fn errors_name_the_json_path_and_problem() {
    let (path, problem) =
        invalid(json!({"v": 4, "entries": {"a--b": {"id": "a--b", "type": "story", "title": 3, "name": "B"}}}));
    assert_eq!(path, "/entries/a--b/title");
    assert!(problem.contains("expected a string"), "{problem}");

    let (path, problem) = invalid(json!({"document": {"type": "DOCUMENT", "children": [
        {"type": "COMPONENT_SET", "name": "X", "componentPropertyDefinitions": {"Size": {"type": "VARIANT"}}}]}}));
    assert_eq!(path, "/document/children/0/componentPropertyDefinitions/Size");
    assert!(problem.contains("variantOptions"), "{problem}");

    let (path, problem) = invalid(json!({"a": {"$value": "{b}"}, "b": {"$value": "{a}"}}));
    assert_eq!(path, "/a");
    assert!(problem.contains("alias cycle: a -> b -> a"), "{problem}");

    let (_, problem) = invalid(json!({"a": {"$value": "{missing.token}"}}));
    assert!(problem.contains("{missing.token}"), "{problem}");

    let (path, _) = invalid(json!({"v": 9, "entries": {}}));
    assert_eq!(path, "/v");
}

#[test]
fn unknown_and_broken_files_are_errors_not_panics() {
    assert!(matches!(parse_input("x.json", &json!({"hello": 1})), Err(DesignError::UnknownFormat { .. })));
    let err = twinsync_design::inputs::load_bytes("x.json", b"{not json").unwrap_err();
    assert!(err.to_string().starts_with("x.json: not valid JSON"), "{err}");
}

#[test]
fn storybook_manifest_from_react_docgen_typescript_enums() {
    let doc = json!({"v": 0, "components": {"tag": {"id": "tag", "name": "Tag", "path": "./src/Tag.tsx",
    "reactDocgenTypescript": {"props": {
        "tone": {"type": {"name": "enum", "raw": "\"info\" | \"warn\"", "value": [{"value": "\"info\""}, {"value": "\"warn\""}]},
                 "defaultValue": {"value": "info"}},
        "dismissible": {"type": {"name": "boolean"}, "defaultValue": null}
    }}}}});
    let Input::Components(m) = parse_input("components.json", &doc).unwrap() else { panic!() };
    let t = &m.components[0];
    assert_eq!(t.prop("tone").unwrap().options, [json!("info"), json!("warn")]);
    assert_eq!(t.prop("tone").unwrap().default, Some(json!("info")), "unquoted defaults are read as text");
    assert_eq!(t.prop("dismissible").unwrap().kind, PropKind::Boolean);
}
