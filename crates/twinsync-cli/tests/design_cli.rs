//! `twinsync design ...` end to end on the twinsync-design fixtures: exit codes CI can
//! gate on, the HTML report, scaffold reruns, and sync/undo with the drift base.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../twinsync-design/tests/fixtures")
}

fn twinsync(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_twinsync")).args(args).current_dir(dir).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn drift_gates_ci_with_exit_status() {
    let f = fixtures();
    let same = twinsync(
        &f,
        &["design", "drift", "--code", "code/components.json", "--design", "figma/library.json", "--fail-on", "drift"],
    );
    assert_eq!(same.status.code(), Some(0), "{}", stdout(&same));
    let other = twinsync(
        &f,
        &[
            "design",
            "drift",
            "--code",
            "code/components.json",
            "--design",
            "research/figma-code-connect__wizard__GET_file_response.json",
            "--fail-on",
            "drift",
            "--json",
        ],
    );
    assert_eq!(other.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&other.stdout).unwrap();
    assert!(report["totals"]["drifted"].as_u64().unwrap() > 0);
    let broken = twinsync(&f, &["design", "drift", "--code", "missing.json", "--design", "figma/library.json"]);
    assert_eq!(broken.status.code(), Some(255));
    assert!(String::from_utf8_lossy(&broken.stderr).contains("missing.json"));
}

#[test]
fn coverage_text_json_html_and_gates() {
    let f = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("coverage.html");
    let index = "research/crayfisher-zari_digital-agency-design-system__index.v4.json";
    let o = twinsync(
        &f,
        &[
            "design",
            "coverage",
            "--components",
            "code/components.json",
            "--stories",
            index,
            "--html",
            html.to_str().unwrap(),
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let page = std::fs::read_to_string(&html).unwrap();
    assert_eq!(page.matches("class=\"bar\"").count(), 3);
    let o = twinsync(
        &f,
        &[
            "design",
            "coverage",
            "--components",
            "code/components.json",
            "--stories",
            index,
            "--fail-on",
            "missing-variants",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("missing {size=\"sm\""), "{}", stdout(&o));
    let o = twinsync(
        &f,
        &[
            "design",
            "coverage",
            "--components",
            "code/components.json",
            "--stories",
            index,
            "--json",
            "--min-percent",
            "5",
        ],
    );
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["totals"]["components"], 3);
}

#[test]
fn scaffold_then_rerun_is_unchanged() {
    let f = fixtures();
    let dir = tempfile::tempdir().unwrap();
    let comps = f.join("code/components.json");
    let args = ["design", "scaffold", "--components", comps.to_str().unwrap(), "--out", "stories"];
    let dry = twinsync(dir.path(), &[&args[..], &["--dry-run"]].concat());
    assert!(stdout(&dry).contains("would be "));
    assert!(!dir.path().join("stories").exists());
    let first = twinsync(dir.path(), &args);
    assert_eq!(first.status.code(), Some(0));
    assert!(stdout(&first).contains("Button.stories.tsx: created, 12 stories"), "{}", stdout(&first));
    assert!(dir.path().join(".twinsync/design/generated/Button.stories.tsx").exists());
    let again = twinsync(dir.path(), &args);
    assert_eq!(stdout(&again).matches(": unchanged").count(), 3, "{}", stdout(&again));
}

#[test]
fn sync_records_a_base_and_undo_restores_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(fixtures().join("code/components.json"), dir.path().join("components.json")).unwrap();
    let files = ["--code", "components.json", "--design", "design.json"];
    let o = twinsync(dir.path(), &[&["design", "sync", "--direction", "code_to_design"][..], &files].concat());
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    let drift = |dir: &Path| twinsync(dir, &[&["design", "drift"][..], &files, &["--fail-on", "drift"]].concat());
    assert_eq!(drift(dir.path()).status.code(), Some(0));

    let design = dir.path().join("design.json");
    std::fs::write(
        &design,
        std::fs::read_to_string(&design).unwrap().replacen("\"danger\"", "\"danger\", \"info\"", 1),
    )
    .unwrap();
    let d = drift(dir.path());
    assert_eq!(d.status.code(), Some(1));
    assert!(stdout(&d).contains("Badge: changed in design"), "{}", stdout(&d));

    let o = twinsync(
        dir.path(),
        &[&["design", "sync", "--direction", "code_to_design", "--component", "Badge=design_to_code"][..], &files]
            .concat(),
    );
    assert!(stdout(&o).contains("1 applied"), "{}", stdout(&o));
    assert!(std::fs::read_to_string(dir.path().join("components.json")).unwrap().contains("\"info\""));
    assert_eq!(drift(dir.path()).status.code(), Some(0));

    let u = twinsync(dir.path(), &[&["design", "undo"][..], &files].concat());
    assert!(stdout(&u).contains("1 restored"), "{}", stdout(&u));
    assert!(!std::fs::read_to_string(dir.path().join("components.json")).unwrap().contains("\"info\""));
    assert!(stdout(&drift(dir.path())).contains("Badge: changed in design"), "the base before the undone sync is back");
}

#[test]
fn coverage_reads_test_kinds_from_test_files() {
    let f = fixtures();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Button.test.tsx"),
        "await userEvent.click(b); expect(await axe(c)).toHaveNoViolations(); await expect(page).toHaveScreenshot();",
    )
    .unwrap();
    let index = f.join("research/crayfisher-zari_digital-agency-design-system__index.v4.json");
    let comps = f.join("code/components.json");
    let o = twinsync(
        dir.path(),
        &[
            "design",
            "coverage",
            "--components",
            comps.to_str().unwrap(),
            "--stories",
            index.to_str().unwrap(),
            "--tests",
            ".",
            "--json",
        ],
    );
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let button = v["components"].as_array().unwrap().iter().find(|c| c["component"] == "Button").unwrap();
    assert_eq!(button["missing_test_kinds"], serde_json::json!([]));
    let badge = v["components"].as_array().unwrap().iter().find(|c| c["component"] == "Badge").unwrap();
    assert_eq!(badge["missing_test_kinds"], serde_json::json!(["interaction", "visual", "a11y"]));
}
