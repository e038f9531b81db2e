//! What differs between kinds of pair, until every kind syncs through the engine:
//! `folders` and `openspec` pairs report the engine's drift (an `openspec` pair's sides
//! are twinsync-openspec's replicas); a `design` pair's status comes from
//! twinsync-design's drift check.

use std::path::{Path, PathBuf};

use twinsync_core::{Drift, DriftClass};
use twinsync_design::drift::{Base, ComponentStatus, DriftReport, Sides};
use twinsync_design::{DesignComponent, Input};

use crate::config::PairConfig;
use crate::error::{Error, Result};
use crate::project::{PairStatus, StatusItem};
use crate::PairKind;

/// The status of a pair that syncs through the engine (`folders`, `openspec`), from its drift.
pub(crate) fn engine_status(name: &str, kind: PairKind, drift: &Drift) -> PairStatus {
    PairStatus {
        pair: name.to_string(),
        kind,
        items: drift
            .drifted()
            .map(|i| StatusItem {
                key: i.key.to_string(),
                class: i.class.as_str().to_string(),
                conflict: i.class.is_conflict(),
            })
            .collect(),
        in_sync: drift.counts.get(DriftClass::InSync),
        conflicts: drift.counts.conflicts(),
        failed: drift.failed.clone(),
    }
}

/// Why a `design` pair does not sync here yet, and what does.
pub(crate) fn design_sync_unsupported(name: &str) -> Error {
    Error::Unsupported {
        pair: name.to_string(),
        kind: "design".into(),
        message: "design pairs are synced with `twinsync design sync` until they run on the engine".into(),
    }
}

/// Components and tokens of one `design` side.
#[derive(Default)]
struct DesignSide {
    components: Vec<DesignComponent>,
    index: Option<twinsync_design::storybook::StoryIndex>,
    tokens: Option<twinsync_design::tokens::TokenSet>,
}

fn read_design_side(dir: &Path, files: &[PathBuf]) -> std::result::Result<DesignSide, String> {
    let mut side = DesignSide::default();
    for f in files {
        match twinsync_design::load(&dir.join(f)).map_err(|e| e.to_string())? {
            Input::Components(m) => side.components.extend(m.components),
            Input::Figma(c) => side.components.extend(c),
            Input::Index(ix) => {
                if side.index.replace(ix).is_some() {
                    return Err(format!("{}: a second Storybook index; give one per side", f.display()));
                }
            }
            Input::Tokens(t) => {
                if side.tokens.replace(t).is_some() {
                    return Err(format!("{}: a second token file; give one per side", f.display()));
                }
            }
        }
    }
    Ok(side)
}

/// Three-way drift between code files and design files (relative to `dir`) against
/// `base`: what `twinsync design drift` and a `design` pair's status report.
pub fn design_drift(
    dir: &Path,
    code: &[PathBuf],
    design: &[PathBuf],
    base: &Base,
) -> std::result::Result<DriftReport, String> {
    let code = read_design_side(dir, code)?;
    let design = read_design_side(dir, design)?;
    // With stories but no component props on the code side, design is checked against
    // the stories only: each design component reads the stories itself.
    let code_components =
        if code.components.is_empty() && code.index.is_some() { design.components.clone() } else { code.components };
    let sides = Sides {
        code: &code_components,
        design: &design.components,
        stories: code.index.as_ref(),
        code_tokens: code.tokens.as_ref(),
        design_tokens: design.tokens.as_ref(),
    };
    twinsync_design::drift::detect(&sides, base).map_err(|e| e.to_string())
}

/// A `design` pair's status: components and tokens that differ between code and design.
pub(crate) fn design_status(dir: &Path, name: &str, pair: &PairConfig) -> Result<PairStatus> {
    let files = |side: &str| PairConfig::files(side).into_iter().map(PathBuf::from).collect::<Vec<_>>();
    let report = design_drift(dir, &files(&pair.left), &files(&pair.right), &Base::default())
        .map_err(|m| Error::Unsupported { pair: name.to_string(), kind: "design".into(), message: m })?;
    let class = |s: ComponentStatus| {
        serde_json::to_value(s).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default()
    };
    let mut items: Vec<StatusItem> = report
        .components
        .iter()
        .filter(|c| c.status != ComponentStatus::InSync)
        .map(|c| StatusItem {
            key: c.component.clone(),
            class: class(c.status),
            conflict: c.status == ComponentStatus::Conflict,
        })
        .collect();
    items.extend(report.tokens.iter().map(|t| StatusItem {
        key: format!("tokens/{}", t.path),
        class: "token_differs".into(),
        conflict: false,
    }));
    let in_sync = report.components.iter().filter(|c| c.status == ComponentStatus::InSync).count();
    Ok(PairStatus {
        pair: name.to_string(),
        kind: PairKind::Design,
        conflicts: report.totals.conflicts,
        items,
        in_sync,
        failed: vec![],
    })
}
