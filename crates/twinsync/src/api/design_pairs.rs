//! Design pairs for the bindings: component drift and sync of a project's design pair,
//! as `twinsync design drift --json` and `twinsync design sync --json` print them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use twinsync_design::sync::{component_key, DesignDirection};

use super::{invalid, policy, to_json};
use crate::error::Result;
use crate::project::{Project, SyncRequest};

/// The design pair a call acts on: the one named, else the project's design pair (or its only pair).
fn design_pair(p: &Project, pair: Option<&str>) -> Result<String> {
    match pair {
        Some(name) => p.pair_config(name).map(|_| name.to_string()),
        None => p.default_design_pair(),
    }
}

/// Component drift of design pair `pair` (the project's design pair for `None`) against
/// the base its last sync committed, as `twinsync design drift --json`:
/// `{"components": [{component, status, ...}], "tokens": [..], "totals": {..}}`.
pub fn design_drift(p: &Project, pair: Option<&str>) -> Result<Value> {
    let name = design_pair(p, pair)?;
    to_json(&p.design_drift_of(&name)?)
}

/// What [`design_sync`] should do; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DesignSyncOptions {
    /// The design pair (default: the project's design pair).
    pub pair: Option<String>,
    /// Every component's direction: `code_to_design`, `design_to_code` or `bidirectional` (default).
    pub direction: Option<String>,
    /// One component's direction, by component name, over `direction`.
    pub components: BTreeMap<String, String>,
    /// Conflict policy for this run (default: the pair's).
    pub policy: Option<String>,
    /// Plan and diff only; change nothing.
    pub dry_run: bool,
}

fn design_direction(what: &str, d: &str) -> Result<DesignDirection> {
    d.parse::<DesignDirection>().map_err(|e| invalid(format!("{what}: {e}")))
}

/// Syncs design pair `opts.pair` through the engine (undoable), as `twinsync design sync
/// --json`: the operation report, or with `dry_run` the preview `{plan, diffs}`.
pub fn design_sync(p: &mut Project, opts: &DesignSyncOptions) -> Result<Value> {
    let name = design_pair(p, opts.pair.as_deref())?;
    let direction = design_direction("direction", opts.direction.as_deref().unwrap_or("bidirectional"))?;
    let mut req = SyncRequest {
        direction: Some(direction.to_core()),
        policy: policy(opts.policy.as_deref())?,
        ..Default::default()
    };
    for (component, d) in &opts.components {
        let key = component_key(component).map_err(|e| invalid(format!("components[{component:?}]: {e}")))?;
        req.item_directions
            .insert(key.to_string(), design_direction(&format!("components[{component:?}]"), d)?.to_core());
    }
    if opts.dry_run {
        to_json(&p.preview_of(&name, &req)?)
    } else {
        to_json(&p.sync_pair(&name, &req)?)
    }
}
