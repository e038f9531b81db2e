//! Design pairs on the engine. A `design` pair's sides are its components files (code
//! and design), opened as twinsync-design replicas; sync, preview, undo and history run
//! through the core `Engine` over the project's store like every pair. What stays
//! special is the status: twinsync-design's component drift (with rename detection),
//! compared against the engine's base of the pair, read back from the store.
//!
//! `twinsync design sync|undo|drift` name files instead of a pair. Files a configured
//! design pair has act on that pair; other files act on the *implicit* design pair,
//! [`IMPLICIT_DESIGN_PAIR`], whose files are kept in the store (so `twinsync undo --pair
//! design:implicit` can open them later). Its name cannot clash with a configured pair,
//! whose names never hold a `:`. It is one pair, as the one `.twinsync/design/` state
//! of earlier releases was, so an upgraded project keeps its base and undo stack.

mod migrate;

use std::path::{Component, Path, PathBuf};

use twinsync_core::{Key, Store};
use twinsync_design::drift::{Base, BaseEntry, ComponentStatus, DriftReport, Sides};
use twinsync_design::sync::ManifestReplica;
use twinsync_design::{DesignComponent, Input};

use crate::config::{PairConfig, PairKind};
use crate::error::{Error, Result};
use crate::project::{PairStatus, Project, StatusItem};
use crate::replicas::AnyReplica;

pub(crate) use migrate::{has_old_design_state, migrate_old_design_state, write_config_for_old_state};

/// The design pair of files no configured pair has (see the module docs).
pub const IMPLICIT_DESIGN_PAIR: &str = "design:implicit";
/// Store namespace holding the implicit pair's config (its files).
const IMPLICIT_NS: &str = "design_pairs";
/// Item keys of components start with this (see `twinsync_design::sync::component_key`).
const COMPONENT_PREFIX: &str = "components/";

fn design_error(pair: &str, message: impl std::fmt::Display) -> Error {
    Error::Unsupported { pair: pair.to_string(), kind: "design".into(), message: message.to_string() }
}

/// `path` relative to `dir` when it lies inside it, with `.` and `..` folded, as `/`-joined
/// text: the spelling config files use, so files given on the command line compare equal.
fn spelled(dir: &Path, path: &Path) -> String {
    let abs = if path.is_absolute() { path.to_path_buf() } else { dir.join(path) };
    let mut clean = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    match clean.strip_prefix(dir) {
        Ok(rel) => rel.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect::<Vec<_>>().join("/"),
        Err(_) => clean.to_string_lossy().into_owned(),
    }
}

fn spelled_all(dir: &Path, files: &[PathBuf]) -> Vec<String> {
    files.iter().map(|f| spelled(dir, f)).collect()
}

fn side_files(dir: &Path, side: &str) -> Vec<String> {
    PairConfig::files(side).into_iter().map(|f| spelled(dir, Path::new(f))).collect()
}

impl Project {
    /// Pair `name`'s config: a configured pair, or the implicit design pair the `twinsync
    /// design` shortcuts keep in the store.
    pub(crate) fn pair_config(&self, name: &str) -> Result<PairConfig> {
        if let Some(p) = self.config().pairs.get(name) {
            return Ok(p.clone());
        }
        if name != IMPLICIT_DESIGN_PAIR {
            return self.pair(name).cloned();
        }
        match self.store_ref().kv_get(IMPLICIT_NS, name)? {
            Some(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| design_error(name, format!("its files, as kept in the store, do not read: {e}"))),
            None => Err(design_error(
                name,
                "no `twinsync design sync` has named its files yet; run `twinsync design sync|undo --code FILE \
                 --design FILE` once",
            )),
        }
    }

    /// The configured design pair whose sides are exactly `code` and `design`.
    fn configured_design_pair(&self, code: &[String], design: &[String]) -> Option<String> {
        self.config()
            .pairs
            .iter()
            .find(|(_, p)| {
                p.kind == PairKind::Design
                    && side_files(self.dir(), &p.left) == code
                    && side_files(self.dir(), &p.right) == design
            })
            .map(|(n, _)| n.clone())
    }

    /// The design pair over `code` and `design` files (relative to the project folder or
    /// absolute): the configured design pair with exactly these files, else the implicit
    /// pair, which from now on stands for them.
    pub fn design_pair_for(&mut self, code: &[PathBuf], design: &[PathBuf]) -> Result<String> {
        let (code, design) = (spelled_all(self.dir(), code), spelled_all(self.dir(), design));
        if let Some(name) = self.configured_design_pair(&code, &design) {
            return Ok(name);
        }
        let pair = PairConfig::new(PairKind::Design, &code.join(","), &design.join(","));
        // Checked under a stand-in name: the real one holds a `:` no configured pair may.
        pair.validate("design-implicit").map_err(|m| design_error(IMPLICIT_DESIGN_PAIR, m))?;
        let bytes = serde_json::to_vec(&pair).expect("a pair config always serialises");
        if self.store_ref().kv_get(IMPLICIT_NS, IMPLICIT_DESIGN_PAIR)?.as_deref() != Some(bytes.as_slice()) {
            self.store().kv_put(IMPLICIT_NS, IMPLICIT_DESIGN_PAIR, &bytes)?;
        }
        Ok(IMPLICIT_DESIGN_PAIR.to_string())
    }

    /// The pair whose base `twinsync design drift` compares `code` and `design` against:
    /// the configured design pair with these files, else the implicit pair (whatever
    /// files it last synced: one design base per project, as before pairs).
    pub fn design_base_pair(&self, code: &[PathBuf], design: &[PathBuf]) -> String {
        let (code, design) = (spelled_all(self.dir(), code), spelled_all(self.dir(), design));
        self.configured_design_pair(&code, &design).unwrap_or_else(|| IMPLICIT_DESIGN_PAIR.to_string())
    }

    /// Component drift of `code` and `design` files against the base of pair `name` in
    /// the store (empty when the pair never synced: a two-way comparison).
    pub fn design_drift_against(&self, name: &str, code: &[PathBuf], design: &[PathBuf]) -> Result<DriftReport> {
        let base = design_base(self.store_ref(), name)?;
        design_drift(self.dir(), code, design, &base).map_err(|m| design_error(name, m))
    }

    /// Whether pair `name` has a base in the store (it synced at least once).
    pub fn design_has_base(&self, name: &str) -> Result<bool> {
        Ok(!self.store_ref().load_base(name)?.is_empty())
    }

    /// Component drift of design pair `name` (its files against its base).
    pub fn design_drift_of(&self, name: &str) -> Result<DriftReport> {
        let pair = self.pair_config(name)?;
        if pair.kind != PairKind::Design {
            return Err(Error::Unsupported {
                pair: name.to_string(),
                kind: pair.kind.to_string(),
                message: "component drift needs a design pair".into(),
            });
        }
        let files = |side: &str| PairConfig::files(side).into_iter().map(PathBuf::from).collect::<Vec<_>>();
        self.design_drift_against(name, &files(&pair.left), &files(&pair.right))
    }

    /// The pair the MCP `design.*` tools act on without a `pair`: the project's one
    /// design pair, else its only pair.
    pub fn default_design_pair(&self) -> Result<String> {
        let designs: Vec<&String> =
            self.config().pairs.iter().filter(|(_, p)| p.kind == PairKind::Design).map(|(n, _)| n).collect();
        match designs.as_slice() {
            [one] => Ok((*one).clone()),
            [] if self.config().pairs.len() == 1 => Ok(self.pair_names().remove(0)),
            _ => Err(Error::Core(twinsync_core::Error::InvalidInput(format!(
                "this project has {} design pair(s) among its pairs ({}); name one with `pair`",
                designs.len(),
                self.pair_names().join(", ")
            )))),
        }
    }

    /// Story coverage of design pair `name`, as `twinsync design coverage` computes it,
    /// from the pair's own files: the code side's components (the design side's when the
    /// code side holds only stories, as drift reads them) and the tests its manifest
    /// records, against the code side's Storybook index. Read only: unlike a `design
    /// coverage` run it writes no history row, so a page may ask as often as it likes.
    pub fn design_coverage_of(&self, name: &str) -> Result<twinsync_design::DesignCoverage> {
        let pair = self.pair_config(name)?;
        if pair.kind != PairKind::Design {
            return Err(Error::Unsupported {
                pair: name.to_string(),
                kind: pair.kind.to_string(),
                message: "story coverage needs a design pair".into(),
            });
        }
        let files = |side: &str| PairConfig::files(side).into_iter().map(PathBuf::from).collect::<Vec<_>>();
        let code = read_design_side(self.dir(), &files(&pair.left)).map_err(|m| design_error(name, m))?;
        let Some(index) = code.index else {
            return Err(design_error(
                name,
                format!(
                    "its code side ({}) has no Storybook index.json; add the built index to the pair's left side",
                    pair.left
                ),
            ));
        };
        let components = if code.components.is_empty() {
            read_design_side(self.dir(), &files(&pair.right)).map_err(|m| design_error(name, m))?.components
        } else {
            code.components
        };
        let opts = twinsync_core::coverage::CoverageOptions::default();
        twinsync_design::coverage_report(&components, &index, &code.tests, &opts).map_err(crate::api::design_error)
    }

    /// A design pair's status: components and tokens that differ, by component drift.
    pub(crate) fn design_status(&self, name: &str) -> Result<PairStatus> {
        let report = self.design_drift_of(name)?;
        Ok(status_of_report(name, &report))
    }
}

/// The base component drift compares against: each component of the engine's base of
/// `scope`, as its content blob holds it. The engine sets the base only when both sides
/// hold the same component, so one entry serves code and design.
fn design_base(store: &dyn Store, scope: &str) -> Result<Base> {
    let mut base = Base::default();
    for (key, digest) in store.load_base(scope)? {
        let Some(name) = key.as_str().strip_prefix(COMPONENT_PREFIX) else { continue };
        let Some(content) = store.blob(&digest)? else {
            return Err(design_error(scope, format!("{key}: the base's content {digest} is missing from the store")));
        };
        let component: DesignComponent = match &content {
            twinsync_core::Content::Json(text) => serde_json::from_str(text)
                .map_err(|e| design_error(scope, format!("{key}: the base is not a component: {e}")))?,
            _ => return Err(design_error(scope, format!("{key}: the base is not a component"))),
        };
        base.components.insert(name.to_string(), BaseEntry { code: Some(component.clone()), design: Some(component) });
    }
    Ok(base)
}

fn status_of_report(name: &str, report: &DriftReport) -> PairStatus {
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
    PairStatus {
        pair: name.to_string(),
        kind: PairKind::Design,
        conflicts: report.totals.conflicts,
        items,
        in_sync,
        failed: vec![],
        moves: vec![],
    }
}

/// Opens the two sides of design pair `name`: on each side, its one components file
/// (a twinsync `components.json`, written; a Storybook manifest or Figma file, read
/// only). A side's Storybook index and token files are compared by drift, not synced.
pub(crate) fn open_design_sides(dir: &Path, name: &str, pair: &PairConfig) -> Result<(AnyReplica, AnyReplica)> {
    let open = |side: &str, label: &str| -> Result<AnyReplica> {
        let files: Vec<PathBuf> = PairConfig::files(side).into_iter().map(|f| dir.join(f)).collect();
        let mut synced: Vec<&PathBuf> = Vec::new();
        for f in &files {
            // A missing file is a manifest to create; otherwise only components sync.
            let syncs = !f.exists()
                || matches!(
                    twinsync_design::load(f).map_err(|e| design_error(name, e))?,
                    Input::Components(_) | Input::Figma(_)
                );
            if syncs {
                synced.push(f);
            }
        }
        match synced.as_slice() {
            [one] => Ok(AnyReplica::Design(ManifestReplica::open(one, label).map_err(|e| design_error(name, e))?)),
            [] => Err(design_error(
                name,
                format!("the {label} side ({side}) has no components file to sync (a Storybook index or tokens are only compared)"),
            )),
            many => Err(design_error(
                name,
                format!(
                    "the {label} side has {} components files ({}); a design pair syncs one per side",
                    many.len(),
                    many.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
                ),
            )),
        }
    };
    Ok((open(&pair.left, "code")?, open(&pair.right, "design")?))
}

/// The item key of component `name` in a design pair.
pub(crate) fn design_component_key(name: &str) -> std::result::Result<Key, String> {
    twinsync_design::sync::component_key(name).map_err(|e| e.to_string())
}

/// Components and tokens of one `design` side.
#[derive(Default)]
struct DesignSide {
    components: Vec<DesignComponent>,
    /// Tests a components manifest records (for coverage).
    tests: Vec<twinsync_core::coverage::TestRecord>,
    index: Option<twinsync_design::storybook::StoryIndex>,
    tokens: Option<twinsync_design::tokens::TokenSet>,
}

fn read_design_side(dir: &Path, files: &[PathBuf]) -> std::result::Result<DesignSide, String> {
    let mut side = DesignSide::default();
    for f in files {
        match twinsync_design::load(&dir.join(f)).map_err(|e| e.to_string())? {
            Input::Components(m) => {
                side.components.extend(m.components);
                side.tests.extend(m.tests);
            }
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
