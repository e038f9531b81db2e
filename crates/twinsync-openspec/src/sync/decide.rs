//! Deciding one row: the base, files and database digests of its documents, run through
//! twinsync-core's drift detection and planner under the syncer's policy.

use std::collections::BTreeMap;

use twinsync_core::plan::PlanContext;
use twinsync_core::{detect, plan, Digest, Directions, Key, Plan};

use super::folder::FsItem;
use super::{DbState, Syncer};
use crate::db::text_digest;

impl Syncer<'_> {
    /// The plan for one row: what each of its documents needs, under the current policy.
    pub(super) fn plan_row(&self, item: &FsItem, state: Option<&DbState>) -> Plan {
        let (base, left, right) = digests(item, state);
        let drift = detect(&base, &left, &right);
        plan(&drift, &Directions::default(), &self.config.policy.core(), &PlanContext::at(self.clock.now()))
    }
}

type DigestMap = BTreeMap<Key, Digest>;

/// The base, files and database digests of a row's documents, keyed by document name.
fn digests(item: &FsItem, state: Option<&DbState>) -> (DigestMap, DigestMap, DigestMap) {
    let (mut base, mut left, mut right) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    for doc in item.kind.docs() {
        let k = Key::new(*doc).expect("document names are keys");
        if let Some(t) = item.docs.get(doc) {
            left.insert(k.clone(), text_digest(t));
        }
        if let Some((dbd, based)) = state.and_then(|s| s.docs.get(*doc)) {
            if let Some(d) = dbd {
                right.insert(k.clone(), *d);
            }
            if let Some(d) = based {
                base.insert(k, *d);
            }
        }
    }
    (base, left, right)
}
