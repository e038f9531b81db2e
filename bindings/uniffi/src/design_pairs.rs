//! A project's design pairs: component drift and sync through the engine, as
//! `twinsync design drift --json` and `twinsync design sync --json`.

use std::collections::HashMap;

use twinsync::api;
use twinsync_core as core;

use crate::error::Result;
use crate::functions::decode;
use crate::project::Project;
use crate::types::{OperationReport, Preview};

/// What a design sync should do; every field may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct DesignSyncOptions {
    /// The design pair (default: the project's design pair).
    #[uniffi(default = None)]
    pub pair: Option<String>,
    /// Every component's direction: `code_to_design`, `design_to_code` or `bidirectional` (default).
    #[uniffi(default = None)]
    pub direction: Option<String>,
    /// One component's direction, by component name (none by default).
    #[uniffi(default = None)]
    pub components: Option<HashMap<String, String>>,
    /// Conflict policy for this run (default: the pair's).
    #[uniffi(default = None)]
    pub policy: Option<String>,
}

impl DesignSyncOptions {
    fn api(options: Option<DesignSyncOptions>, dry_run: bool) -> api::DesignSyncOptions {
        let o = options.unwrap_or_default();
        api::DesignSyncOptions {
            pair: o.pair,
            direction: o.direction,
            components: o.components.unwrap_or_default().into_iter().collect(),
            policy: o.policy,
            dry_run,
        }
    }
}

#[uniffi::export]
impl Project {
    /// Component drift of design pair `pair` (default: the project's design pair)
    /// against the base its last sync committed, as JSON text: `{"components", "tokens", "totals"}`.
    #[uniffi::method(default(pair = None))]
    pub fn design_drift(&self, pair: Option<String>) -> Result<String> {
        Ok(api::design_drift(&self.lock(), pair.as_deref())?.to_string())
    }

    /// Syncs a design pair through the engine (undoable): the operation report.
    #[uniffi::method(default(options = None))]
    pub fn design_sync(&self, options: Option<DesignSyncOptions>) -> Result<OperationReport> {
        let v = api::design_sync(&mut self.lock(), &DesignSyncOptions::api(options, false))?;
        Ok(decode::<core::OperationReport>("design sync", v)?.into())
    }

    /// A dry run of [`Project::design_sync`]: the plan and its diffs; changes nothing.
    #[uniffi::method(default(options = None))]
    pub fn design_preview(&self, options: Option<DesignSyncOptions>) -> Result<Preview> {
        let v = api::design_sync(&mut self.lock(), &DesignSyncOptions::api(options, true))?;
        Ok(decode::<core::Preview>("design preview", v)?.into())
    }
}
