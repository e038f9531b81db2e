//! `twinsync design coverage --history COMPONENT` end to end: two runs in a project, the
//! second after one of Button's stories went, show Button's trend oldest first with the
//! change; outside a project there is no history to show.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../twinsync-design/tests/fixtures")
}

fn run(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .args(args)
        .current_dir(dir)
        .env_remove("TWINSYNC_STORE_URL")
        .output()
        .unwrap()
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

#[test]
fn the_history_shows_a_components_trend() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for side in ["a", "b"] {
        std::fs::create_dir(root.join(side)).unwrap();
    }
    ok(run(root, &["init", "a", "b"]));
    std::fs::copy(fixtures().join("code/components.json"), root.join("components.json")).unwrap();
    let index_text = std::fs::read_to_string(
        fixtures().join("research/crayfisher-zari_digital-agency-design-system__index.v4.json"),
    )
    .unwrap();
    std::fs::write(root.join("index.json"), &index_text).unwrap();
    let cover = ["design", "coverage", "--components", "components.json", "--stories", "index.json"];

    let none = run(root, &["design", "coverage", "--history", "Button"]);
    assert!(!none.status.success());
    assert!(String::from_utf8_lossy(&none.stderr).contains("no coverage history of component \"Button\""));

    ok(run(root, &cover));
    let mut doc: serde_json::Value = serde_json::from_str(&index_text).unwrap();
    doc["entries"].as_object_mut().unwrap().remove("example-button--primary").unwrap();
    std::fs::write(root.join("index.json"), doc.to_string()).unwrap();
    ok(run(root, &cover));

    let json: serde_json::Value =
        serde_json::from_slice(&ok(run(root, &["--json", "design", "coverage", "--history", "Button"])).stdout)
            .unwrap();
    assert_eq!(json["component"], "Button");
    let rows = json["history"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{json}");
    let (first, second) = (rows[0]["percentage"].as_f64().unwrap(), rows[1]["percentage"].as_f64().unwrap());
    assert!(second < first, "oldest first, coverage dropped: {json}");
    assert!(rows[1]["missing_variants"].as_u64() > rows[0]["missing_variants"].as_u64());
    assert_eq!(rows[0]["scope"], "components.json");

    let text = String::from_utf8(ok(run(root, &["design", "coverage", "--history", "Button"])).stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert!(lines[1].contains(&format!("{:+.2}", second - first)), "the change is shown: {text}");
    let scoped = run(root, &["--json", "design", "coverage", "--history", "Button", "--components", "other.json"]);
    assert!(String::from_utf8_lossy(&scoped.stderr).contains("no coverage history"), "scoped to that manifest");
}
