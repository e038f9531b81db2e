//! Coverage history of the project: each coverage run writes one row per component, the
//! trend `twinsync design coverage --history` shows. A component whose variant hash (the
//! digest of its variants, stories and tests) is the same as at its last run is not
//! computed again: its last result is written with the new run's time. Rows older than
//! `[coverage] retention_days` go, each component's newest excepted.

use std::collections::HashMap;

use twinsync_core::coverage::{CacheStats, ComponentCoverage, CoverageCache, CoverageOptions, TestRecord};
use twinsync_core::coverage_history::CoverageRecord;
use twinsync_core::{Digest, StoreError};
use twinsync_design::storybook::StoryIndex;
use twinsync_design::{DesignComponent, DesignCoverage};

use crate::error::Result;
use crate::project::Project;

/// The last results of a scope, by variant hash; what is computed anew is kept aside.
struct LastRun {
    by_hash: HashMap<Digest, ComponentCoverage>,
}

impl CoverageCache for LastRun {
    fn get(&mut self, hash: &Digest) -> Result<Option<ComponentCoverage>, StoreError> {
        Ok(self.by_hash.get(hash).cloned())
    }
    fn put(&mut self, _hash: &Digest, _coverage: &ComponentCoverage) -> Result<(), StoreError> {
        // Every component's row, reused or computed, is written once the run is done.
        Ok(())
    }
}

impl Project {
    /// Computes coverage of `components` under `scope` (the manifest's path), reusing each
    /// component's last result while its variant hash is unchanged; writes one history row
    /// per component and the `coverage_summary` event; prunes old rows. Returns the report
    /// and how many components were reused (`hits`) or computed (`misses`).
    pub fn coverage_run(
        &mut self,
        scope: &str,
        components: &[DesignComponent],
        index: &StoryIndex,
        tests: &[TestRecord],
        opts: &CoverageOptions,
    ) -> Result<(DesignCoverage, CacheStats)> {
        let last = self.store_ref().latest_coverage(scope)?;
        let mut cache = LastRun { by_hash: last.into_iter().map(|r| (r.variant_hash, r.coverage)).collect() };
        let (report, stats) = twinsync_design::coverage_report_cached(components, index, tests, opts, &mut cache)
            .map_err(crate::api::design_error)?;
        let now = self.now();
        let rows: Vec<CoverageRecord> = report
            .report
            .components
            .iter()
            .filter_map(|c| {
                Some(CoverageRecord {
                    scope: scope.to_string(),
                    component: c.component.clone(),
                    computed_at: now,
                    variant_hash: c.variant_hash?,
                    percentage: c.percent,
                    coverage: c.clone(),
                })
            })
            .collect();
        self.store().append_coverage(&rows)?;
        self.record_coverage(scope, &report.report.totals)?;
        let days = i64::from(self.config().coverage.retention_days);
        let cutoff = now.plus_millis(-days * 86_400_000);
        self.store().prune_coverage(cutoff)?;
        tracing::info!(target: "twinsync", action = "coverage", subject = scope, actor = %self.actor(),
            computed = stats.misses, reused = stats.hits, components = rows.len(), "coverage run");
        Ok((report, stats))
    }

    /// `component`'s coverage rows (of `scope` when given), newest first, at most `limit`.
    pub fn coverage_history(&self, component: &str, scope: Option<&str>, limit: usize) -> Result<Vec<CoverageRecord>> {
        Ok(self.store_ref().coverage_history(scope, Some(component), limit)?)
    }
}
