//! `design sync`: code components and a design manifest kept in step through the core
//! engine, so every sync is planned, applied per component with compare-and-swap,
//! recorded in the store and undoable.
//!
//! Each side is a [`ManifestReplica`]: a components file whose items are its
//! components, keyed `components/<normalised name>`, with the canonical component JSON
//! as content (so formatting, prop order and node ids never look like a change).
//! "Writing to design" means rewriting the design manifest file; the design tool itself
//! is reached by a transport the host provides. The left replica is code, the right
//! one design: `code_to_design` is [`Direction::LeftToRight`], `design_to_code`
//! [`Direction::RightToLeft`], `bidirectional` [`Direction::Both`].

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use twinsync_core::coverage::TestRecord;
use twinsync_core::replica::{ReplicaError, WriteContext};
use twinsync_core::{Content, Digest, Direction, Entry, HashRules, Key, Replica, Snapshot};

use crate::error::{DesignError, Result};
use crate::inputs::{load, Input};
use crate::model::{design_ignore_rules, normalise_name, DesignComponent};
use crate::storybook::ComponentManifest;

/// Which way one component flows, in design terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DesignDirection {
    /// Code is the source; the design manifest follows.
    CodeToDesign,
    /// Design is the source; code follows.
    DesignToCode,
    /// Both ways; conflicts go to the policy.
    Bidirectional,
}

impl DesignDirection {
    /// The core direction, code being the left replica.
    pub fn to_core(self) -> Direction {
        match self {
            DesignDirection::CodeToDesign => Direction::LeftToRight,
            DesignDirection::DesignToCode => Direction::RightToLeft,
            DesignDirection::Bidirectional => Direction::Both,
        }
    }
}

impl FromStr for DesignDirection {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.replace('-', "_").as_str() {
            "code_to_design" => Ok(DesignDirection::CodeToDesign),
            "design_to_code" => Ok(DesignDirection::DesignToCode),
            "bidirectional" | "both" => Ok(DesignDirection::Bidirectional),
            _ => Err(format!("unknown direction {s:?} (expected code_to_design, design_to_code or bidirectional)")),
        }
    }
}

/// The item key of a component.
pub fn component_key(name: &str) -> Result<Key> {
    let n = normalise_name(name);
    if n.is_empty() {
        return Err(DesignError::invalid(name, "", "a component name needs at least one letter or digit"));
    }
    Key::new(format!("components/{n}")).map_err(|e| DesignError::invalid(name, "", e.to_string()))
}

/// A components file as a replica: one item per component.
#[derive(Debug)]
pub struct ManifestReplica {
    name: String,
    path: PathBuf,
    components: Vec<DesignComponent>,
    tests: Vec<TestRecord>,
    writable: bool,
    rules: HashRules,
}

impl ManifestReplica {
    /// Opens `path`: twinsync `components.json` (writable; a missing file is an empty
    /// manifest), or a Storybook manifest or Figma file (read-only sources).
    pub fn open(path: &Path, name: &str) -> Result<Self> {
        let (components, tests, writable) = if path.exists() {
            match load(path)? {
                Input::Components(m) => {
                    let plain = std::fs::read(path)
                        .ok()
                        .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                        .is_some_and(|v| v.get("components").is_some_and(Value::is_array));
                    (m.components, m.tests, plain)
                }
                Input::Figma(c) => (c, Vec::new(), false),
                other => {
                    return Err(DesignError::UnknownFormat {
                        file: path.display().to_string(),
                        problem: format!("cannot sync a {}; expected a components manifest", other.kind()),
                    })
                }
            }
        } else {
            (Vec::new(), Vec::new(), true)
        };
        let mut seen = std::collections::BTreeSet::new();
        for c in &components {
            if !seen.insert(component_key(&c.name)?) {
                return Err(DesignError::invalid(
                    &path.display().to_string(),
                    "/components",
                    format!("two components are named {:?} once normalised", normalise_name(&c.name)),
                ));
            }
        }
        let rules = HashRules {
            json: twinsync_core::canonical::CanonicalOptions { ignore: design_ignore_rules(), ..Default::default() },
            ..Default::default()
        };
        Ok(ManifestReplica { name: name.to_string(), path: path.to_path_buf(), components, tests, writable, rules })
    }

    /// The components as they are now.
    pub fn components(&self) -> &[DesignComponent] {
        &self.components
    }

    fn find(&self, key: &Key) -> Option<usize> {
        self.components.iter().position(|c| component_key(&c.name).ok().as_ref() == Some(key))
    }

    fn content(c: &DesignComponent) -> Content {
        Content::Json(serde_json::to_string(&c.canonical()).expect("a component always serialises"))
    }

    fn check(&self, key: &Key, expected: Option<&Digest>) -> std::result::Result<(), ReplicaError> {
        let found = self.digest(key)?;
        if found.as_ref() != expected {
            return Err(ReplicaError::conflict(key, expected, found.as_ref()));
        }
        if !self.writable {
            return Err(ReplicaError::Unavailable {
                name: self.name.clone(),
                reason: format!("{} is read-only here (only twinsync components.json is written)", self.path.display()),
            });
        }
        Ok(())
    }

    fn persist(&self, key: &Key) -> std::result::Result<(), ReplicaError> {
        let doc = ComponentManifest { components: self.components.clone(), tests: self.tests.clone() };
        let mut text = serde_json::to_string_pretty(&doc).expect("a manifest always serialises");
        text.push('\n');
        let io = |e: std::io::Error| ReplicaError::Io {
            key: key.to_string(),
            message: format!("{}: {e}", self.path.display()),
        };
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let tmp = self.path.with_extension(format!("tmp.{}", std::process::id()));
        std::fs::write(&tmp, text).map_err(io)?;
        std::fs::rename(&tmp, &self.path).map_err(io)
    }
}

impl Replica for ManifestReplica {
    fn name(&self) -> &str {
        &self.name
    }

    fn rules(&self) -> &HashRules {
        &self.rules
    }

    fn scan(&mut self) -> std::result::Result<Snapshot, ReplicaError> {
        let mut entries = Vec::with_capacity(self.components.len());
        for c in &self.components {
            let key =
                component_key(&c.name).map_err(|e| ReplicaError::Io { key: c.name.clone(), message: e.to_string() })?;
            let content = Self::content(c);
            let digest = self
                .rules
                .digest(&content)
                .map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })?;
            let size = match &content {
                Content::Json(s) => s.len() as u64,
                _ => 0,
            };
            entries.push(Entry { key, digest, size, modified: None, bytes: None });
        }
        Ok(Snapshot::from_entries(entries))
    }

    fn scan_failures(&self) -> Vec<twinsync_core::ScanFailure> {
        // The manifest was parsed whole when loaded; a bad component fails that load.
        Vec::new()
    }

    fn read(&self, key: &Key) -> std::result::Result<Option<Content>, ReplicaError> {
        Ok(self.find(key).map(|i| Self::content(&self.components[i])))
    }

    fn write(
        &mut self,
        key: &Key,
        content: &Content,
        expected: Option<&Digest>,
        _ctx: &WriteContext,
    ) -> std::result::Result<Digest, ReplicaError> {
        self.check(key, expected)?;
        let Content::Json(text) = content else {
            return Err(ReplicaError::Io { key: key.to_string(), message: "a component must be JSON".into() });
        };
        let c: DesignComponent = serde_json::from_str(text)
            .map_err(|e| ReplicaError::Io { key: key.to_string(), message: format!("not a component: {e}") })?;
        match self.find(key) {
            Some(i) => self.components[i] = c,
            None => self.components.push(c),
        }
        self.persist(key)?;
        self.digest(key)?.ok_or_else(|| ReplicaError::NotFound(key.clone()))
    }

    fn delete(&mut self, key: &Key, expected: &Digest, _ctx: &WriteContext) -> std::result::Result<(), ReplicaError> {
        self.check(key, Some(expected))?;
        if let Some(i) = self.find(key) {
            self.components.remove(i);
        }
        self.persist(key)
    }

    fn flush(&mut self) -> std::result::Result<(), ReplicaError> {
        // Each write persists the manifest whole (temp file + rename) as it is made.
        Ok(())
    }
}
