//! `design sync` through the core engine: code components flow into the design
//! manifest (and back) per component direction, and an undo restores the files.

use std::path::PathBuf;

use twinsync_core::{
    Directions, Engine, EngineConfig, ManualClock, MemoryStore, OperationStatus, SyncOptions, Timestamp,
};
use twinsync_design::sync::{component_key, DesignDirection, ManifestReplica};
use twinsync_design::{load, Input};

fn fixture(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

fn names(path: &std::path::Path) -> Vec<String> {
    match load(path).unwrap() {
        Input::Components(m) => m.components.into_iter().map(|c| c.name).collect(),
        other => panic!("{other:?}"),
    }
}

#[test]
fn code_to_design_then_design_to_code_then_undo() {
    let dir = tempfile::tempdir().unwrap();
    let code_path = dir.path().join("components.json");
    std::fs::copy(fixture("code/components.json"), &code_path).unwrap();
    let design_path = dir.path().join("design/components.json");

    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp::from_millis(1_800_000_000_000));
    let mut code = ManifestReplica::open(&code_path, "code").unwrap();
    let mut design = ManifestReplica::open(&design_path, "design").unwrap();
    let opts =
        SyncOptions { directions: Directions::all(DesignDirection::CodeToDesign.to_core()), ..Default::default() };
    let report = Engine::new(&mut store, &clock, EngineConfig::default()).sync(&mut code, &mut design, &opts).unwrap();
    assert_eq!(report.status, OperationStatus::Completed);
    assert_eq!(report.counts.applied, 3);
    assert_eq!(names(&design_path), ["Badge", "Button", "Divider"], "applied in key order");

    // The designer adds an option; only Button flows design -> code.
    let text =
        std::fs::read_to_string(&design_path).unwrap().replacen("\"danger\"", "\"danger\",\n        \"info\"", 1);
    std::fs::write(&design_path, text).unwrap();
    let before = std::fs::read_to_string(&code_path).unwrap();
    let mut code = ManifestReplica::open(&code_path, "code").unwrap();
    let mut design = ManifestReplica::open(&design_path, "design").unwrap();
    let mut directions = Directions::all(DesignDirection::CodeToDesign.to_core());
    directions.overrides.insert(component_key("Badge").unwrap().to_string(), DesignDirection::DesignToCode.to_core());
    let opts = SyncOptions { directions, ..Default::default() };
    let mut engine = Engine::new(&mut store, &clock, EngineConfig::default());
    let report = engine.sync(&mut code, &mut design, &opts).unwrap();
    assert_eq!(report.counts.applied, 1, "{report:#?}");
    let badge = code.components().iter().find(|c| c.name == "Badge").unwrap();
    assert_eq!(badge.prop("tone").unwrap().options.len(), 4);
    assert!(std::fs::read_to_string(&code_path).unwrap().contains("\"info\""));

    // Undo puts the code file's Badge back.
    engine.undo(&mut code, &mut design, None).unwrap();
    let Input::Components(m) = load(&code_path).unwrap() else { panic!() };
    let Input::Components(orig) = twinsync_design::inputs::load_bytes("before", before.as_bytes()).unwrap() else {
        panic!()
    };
    let canon = |v: &[twinsync_design::DesignComponent]| v.iter().map(|c| c.canonical()).collect::<Vec<_>>();
    assert_eq!(canon(&m.components), canon(&orig.components));
}

#[test]
fn read_only_sources_refuse_writes() {
    let dir = tempfile::tempdir().unwrap();
    let mut figma = ManifestReplica::open(&fixture("figma/library.json"), "design").unwrap();
    let code_path = dir.path().join("components.json");
    let mut code = ManifestReplica::open(&code_path, "code").unwrap();
    let mut store = MemoryStore::new();
    let clock = ManualClock::new(Timestamp::from_millis(1_800_000_000_000));
    // design -> code into an empty manifest works; code -> design into Figma JSON is refused per item.
    let opts =
        SyncOptions { directions: Directions::all(DesignDirection::DesignToCode.to_core()), ..Default::default() };
    let r = Engine::new(&mut store, &clock, EngineConfig::default()).sync(&mut code, &mut figma, &opts).unwrap();
    assert_eq!(r.counts.applied, 3);
    assert_eq!(names(&code_path), ["Badge", "Button", "Divider"], "applied in key order");
    let mut code = ManifestReplica::open(&code_path, "code").unwrap();
    let mut c = code.components().to_vec();
    c[0].props.pop();
    std::fs::write(&code_path, serde_json::to_string(&serde_json::json!({"components": c})).unwrap()).unwrap();
    code = ManifestReplica::open(&code_path, "code").unwrap();
    let opts =
        SyncOptions { directions: Directions::all(DesignDirection::CodeToDesign.to_core()), ..Default::default() };
    let r = Engine::new(&mut store, &clock, EngineConfig::default()).sync(&mut code, &mut figma, &opts).unwrap();
    assert_ne!(r.status, OperationStatus::Completed);
    assert_eq!(r.counts.applied, 0);
}
