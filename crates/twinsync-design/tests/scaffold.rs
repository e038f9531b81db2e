//! Scaffold generation and regeneration: what a generated file holds, and that hand
//! edits survive regeneration (merged by `text3`, conflicts written with markers).

use std::path::PathBuf;

use twinsync_design::scaffold::{generate, scaffold, Outcome, ScaffoldOptions, HEADER};
use twinsync_design::{load, DesignComponent, Input, Prop};

fn fixture_components(rel: &str) -> Vec<DesignComponent> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel);
    match load(&p).unwrap() {
        Input::Components(m) => m.components,
        other => panic!("{other:?}"),
    }
}

#[test]
fn generated_file_has_header_meta_and_one_export_per_variant() {
    let comps = fixture_components("code/components.json");
    let f = generate(&comps[0], &PathBuf::from("src/stories"), &ScaffoldOptions::default()).unwrap();
    assert_eq!(f.text.lines().next(), Some(HEADER));
    assert_eq!(f.file_name, "Button.stories.tsx");
    assert!(f.text.contains("import { Button } from '../Button';"), "import path relative to the output folder");
    assert!(f.text.contains("  title: 'Components/Button',\n  component: Button,\n"));
    assert!(f.text.contains("size: { control: 'select', options: ['sm', 'md', 'lg'] },"));
    assert!(f.text.contains("icon: { control: false },"));
    assert!(f.text.contains("    label: 'Button',\n"));
    assert_eq!((f.total_variants, f.skipped, f.pairwise), (12, 0, false));
    assert_eq!(f.stories.len(), 12);
    assert_eq!(f.stories[0].export_name, "SizeSmShowIcon", "non-default axes only; a true boolean is its name");
    assert!(f.stories.iter().any(|s| s.export_name == "Default" && s.story_id == "components-button--default"));
    assert!(f.stories.iter().any(|s| s.export_name == "VariantSecondaryShowIcon"));
    assert_eq!(f.text.matches("\nexport const ").count(), 12);
}

#[test]
fn many_axes_get_a_pairwise_set_and_say_what_was_skipped() {
    let comps = fixture_components("code/many-axes.json");
    let f = generate(&comps[0], &PathBuf::from("."), &ScaffoldOptions::default()).unwrap();
    assert!(f.pairwise);
    assert_eq!(f.total_variants, 3 * 2 * 2 * 2 * 3 * 4);
    assert_eq!(f.skipped, f.total_variants - f.stories.len() as u64);
    assert!(f.stories.len() < 20, "{}", f.stories.len());
    assert!(f.text.contains(&format!("Pairwise selection: {} of 288 combinations", f.stories.len())));
    // Below the limit the full product is used unless asked.
    let small = DesignComponent::new(
        "Tag",
        vec![Prop::variant("a", ["x", "y"]), Prop::boolean("b", None), Prop::boolean("c", None)],
    );
    let full = generate(&small, &PathBuf::from("."), &ScaffoldOptions::default()).unwrap();
    assert_eq!((full.stories.len(), full.skipped), (8, 0));
    let pw = generate(&small, &PathBuf::from("."), &ScaffoldOptions { pairwise: true, ..Default::default() }).unwrap();
    assert!(pw.pairwise && pw.stories.len() < 8 && pw.skipped == 8 - pw.stories.len() as u64);
}

#[test]
fn regeneration_keeps_hand_edits_and_marks_conflicts() {
    let dir = tempfile::tempdir().unwrap();
    let (out, state) = (dir.path().join("stories"), dir.path().join(".twinsync/design/generated"));
    let opts = ScaffoldOptions::default();
    let mut comps = vec![DesignComponent::new("Tag", vec![Prop::variant("tone", ["info", "warn"])])];

    let first = scaffold(&comps, &out, &state, &opts, false).unwrap();
    assert_eq!(first[0].outcome, Outcome::Created);
    let path = first[0].path.clone();
    assert_eq!(std::fs::read_to_string(state.join("Tag.stories.tsx")).unwrap(), first[0].file.text);

    // Rerun with nothing changed: nothing to do.
    assert_eq!(scaffold(&comps, &out, &state, &opts, false).unwrap()[0].outcome, Outcome::Unchanged);

    // A hand edit far from what the generator changes, then a new option in code.
    let edited = std::fs::read_to_string(&path)
        .unwrap()
        .replace("export default meta;", "export default meta;\n// my note: keep the tag compact\n");
    std::fs::write(&path, &edited).unwrap();
    assert_eq!(scaffold(&comps, &out, &state, &opts, false).unwrap()[0].outcome, Outcome::Unchanged);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited, "an unchanged generation leaves edits alone");
    comps[0].props[0].options.push("error".into());
    let r = scaffold(&comps, &out, &state, &opts, false).unwrap();
    assert_eq!(r[0].outcome, Outcome::Merged);
    let merged = std::fs::read_to_string(&path).unwrap();
    assert!(merged.contains("// my note: keep the tag compact"));
    assert!(merged.contains("export const ToneError: Story"));

    // An edit on the very line the generator changes next: a conflict, with markers.
    let edited = merged.replace("options: ['info', 'warn', 'error']", "options: ['info', 'warn', 'error', 'custom']");
    std::fs::write(&path, &edited).unwrap();
    comps[0].props[0].options.push("success".into());
    let dry = scaffold(&comps, &out, &state, &opts, true).unwrap();
    assert_eq!(dry[0].outcome, Outcome::Conflict);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), edited, "a dry run writes nothing");
    let r = scaffold(&comps, &out, &state, &opts, false).unwrap();
    assert_eq!((r[0].outcome, r[0].conflicts), (Outcome::Conflict, 1));
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("<<<<<<< yours\n") && text.contains(">>>>>>> generated\n"), "{text}");
    assert!(text.contains("'custom'") && text.contains("'success'"), "both versions kept");
}

#[test]
fn absurd_option_counts_are_refused_not_generated() {
    let many: Vec<String> = (0..3000).map(|i| format!("o{i}")).collect();
    let c = DesignComponent::new("Huge", vec![Prop::variant("a", many)]);
    let err = generate(&c, &PathBuf::from("."), &ScaffoldOptions::default()).unwrap_err();
    assert!(err.to_string().contains("more than 2000"), "{err}");
}
