//! Test kinds from test files: a component's tests are the files named after it
//! (`Button.test.tsx`, `Button.a11y.spec.ts`, `button.visual.test.js`), and what they
//! do says which kind they are — an accessibility check (`axe`, `toHaveNoViolations`),
//! a screenshot comparison (`toHaveScreenshot`, `toMatchImageSnapshot`), an interaction
//! (`userEvent`, `fireEvent`, `.click(`), else a unit test. One file can be several kinds.

use std::path::{Path, PathBuf};

use twinsync_core::coverage::{TestKind, TestRecord};

use crate::error::{DesignError, Result};
use crate::model::{normalise_name, DesignComponent};

/// Folders never searched.
const SKIP_DIRS: [&str; 5] = ["node_modules", ".git", "target", "dist", "storybook-static"];

fn is_test_file(name: &str) -> Option<&str> {
    for ext in [".tsx", ".ts", ".jsx", ".js", ".mjs", ".cjs"] {
        if let Some(stem) = name.strip_suffix(ext) {
            for marker in [".test", ".spec"] {
                if let Some(s) = stem.strip_suffix(marker) {
                    return Some(s);
                }
            }
        }
    }
    None
}

/// The kinds a test file's text shows, and any kind its name states (`.a11y.`, `.visual.`).
pub fn kinds_of(name_stem: &str, text: &str) -> Vec<TestKind> {
    let mut kinds = Vec::new();
    let lower = name_stem.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| text.contains(n));
    if lower.ends_with(".a11y") || has(&["toHaveNoViolations", "axe(", "checkA11y", "AxeBuilder"]) {
        kinds.push(TestKind::A11y);
    }
    if lower.ends_with(".visual") || has(&["toHaveScreenshot", "toMatchImageSnapshot", "toMatchScreenshot"]) {
        kinds.push(TestKind::Visual);
    }
    if has(&["userEvent", "fireEvent", ".click(", ".type(", ".hover("]) {
        kinds.push(TestKind::Interaction);
    }
    if kinds.is_empty() {
        kinds.push(TestKind::Unit);
    }
    kinds
}

/// Test records for `components` from the test files under `dir`, sorted by path.
pub fn scan_tests(dir: &Path, components: &[DesignComponent]) -> Result<Vec<TestRecord>> {
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|source| DesignError::Io { path: d.clone(), source })?;
        for e in rd {
            let e = e.map_err(|source| DesignError::Io { path: d.clone(), source })?;
            let ft = e.file_type().map_err(|source| DesignError::Io { path: e.path(), source })?;
            let name = e.file_name().to_string_lossy().into_owned();
            if ft.is_dir() && !SKIP_DIRS.contains(&name.as_str()) {
                stack.push(e.path());
            } else if ft.is_file() && is_test_file(&name).is_some() {
                files.push(e.path());
            }
        }
    }
    files.sort();
    let by_name: std::collections::HashMap<String, &str> =
        components.iter().map(|c| (normalise_name(&c.name), c.name.as_str())).collect();
    let mut out = Vec::new();
    for f in files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let Some(stem) = is_test_file(&name) else { continue };
        // `Button.a11y` names Button: the component is the part before the first dot.
        let component = stem.split('.').next().unwrap_or(stem);
        let Some(&comp) = by_name.get(&normalise_name(component)) else { continue };
        let text = std::fs::read_to_string(&f).map_err(|source| DesignError::Io { path: f.clone(), source })?;
        for kind in kinds_of(stem, &text) {
            out.push(TestRecord { component: comp.to_string(), story_id: None, kind });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Prop;

    #[test]
    fn files_named_after_components_give_their_kinds() {
        let dir = tempfile::tempdir().unwrap();
        let src = dir.path().join("src/button");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::create_dir_all(dir.path().join("node_modules/x")).unwrap();
        std::fs::write(
            src.join("Button.test.tsx"),
            "await userEvent.click(btn); expect(await axe(el)).toHaveNoViolations();",
        )
        .unwrap();
        std::fs::write(src.join("button.visual.spec.ts"), "await page.goto(url);").unwrap();
        std::fs::write(src.join("Button.stories.tsx"), "export default {}").unwrap();
        std::fs::write(src.join("Other.test.ts"), "expect(1).toBe(1)").unwrap();
        std::fs::write(dir.path().join("node_modules/x/Button.test.js"), "toHaveScreenshot").unwrap();
        let comps = [DesignComponent::new("Button", vec![Prop::boolean("disabled", None)])];
        let tests = scan_tests(dir.path(), &comps).unwrap();
        let kinds: Vec<TestKind> = tests.iter().map(|t| t.kind).collect();
        assert_eq!(kinds, [TestKind::A11y, TestKind::Interaction, TestKind::Visual]);
        assert!(tests.iter().all(|t| t.component == "Button"));
        assert!(matches!(scan_tests(&dir.path().join("missing"), &comps), Err(DesignError::Io { .. })));
    }
}
