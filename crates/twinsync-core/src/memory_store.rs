//! `MemoryStore`: the `Store` trait in memory, for tests and short-lived hosts.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::api_key::ApiKeyRecord;
use crate::audit::AuditRecord;
use crate::clock::Timestamp;
use crate::content::Content;
use crate::coverage_history::CoverageRecord;
use crate::credential::CredentialRecord;
use crate::delivery::{Delivery, DeliveryStatus};
use crate::digest::Digest;
use crate::event::Event;
use crate::key::Key;
use crate::lock::{Lock, LockError};
use crate::report::OperationReport;
use crate::store::{
    HistoryEntry, Intent, ItemCommit, LockChange, PruneStats, Store, StoreError, UndoCommit, UndoEntry, UndoLimits,
};
use crate::test_session::TestSession;

/// Everything in memory; lost when dropped.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    bases: HashMap<String, BTreeMap<Key, Digest>>,
    blobs: HashMap<Digest, Content>,
    /// Operations in insertion order (oldest first).
    operations: Vec<OperationReport>,
    undo: Vec<UndoEntry>,
    history: Vec<HistoryEntry>,
    locks: BTreeMap<String, Lock>,
    audit: Vec<AuditRecord>,
    /// The outbox, oldest first; `last_event_id` survives pruning.
    events: Vec<Event>,
    last_event_id: u64,
    kv: HashMap<(String, String), Vec<u8>>,
    deliveries: BTreeMap<(u64, String), Delivery>,
    /// Open intents, oldest first.
    intents: Vec<Intent>,
    credentials: BTreeMap<String, CredentialRecord>,
    /// API keys, oldest first.
    api_keys: Vec<ApiKeyRecord>,
    test_sessions: BTreeMap<String, TestSession>,
    /// Coverage history, oldest first.
    coverage: Vec<CoverageRecord>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of stored blobs (for tests of pruning).
    pub fn blob_count(&self) -> usize {
        self.blobs.len()
    }
}

impl Store for MemoryStore {
    fn load_base(&self, scope: &str) -> Result<BTreeMap<Key, Digest>, StoreError> {
        Ok(self.bases.get(scope).cloned().unwrap_or_default())
    }

    fn blob(&self, digest: &Digest) -> Result<Option<Content>, StoreError> {
        Ok(self.blobs.get(digest).cloned())
    }

    fn operation(&self, operation_id: &str) -> Result<Option<OperationReport>, StoreError> {
        Ok(self.operations.iter().find(|o| o.operation_id == operation_id).cloned())
    }

    fn operations(&self, scope: Option<&str>, limit: usize) -> Result<Vec<OperationReport>, StoreError> {
        Ok(self.operations.iter().rev().filter(|o| scope.is_none_or(|s| o.scope == s)).take(limit).cloned().collect())
    }

    fn put_operation(&mut self, report: &OperationReport, events: &[Event]) -> Result<(), StoreError> {
        match self.operations.iter_mut().find(|o| o.operation_id == report.operation_id) {
            Some(o) => *o = report.clone(),
            None => self.operations.push(report.clone()),
        }
        self.append_events(events)?;
        Ok(())
    }

    fn commit_item(&mut self, c: &ItemCommit) -> Result<(), StoreError> {
        self.intents.retain(|i| !(i.scope == c.scope && i.operation_id == c.history.operation_id && i.key == c.key));
        let base = self.bases.entry(c.scope.clone()).or_default();
        match c.base_after {
            Some(d) => base.insert(c.key.clone(), d),
            None => base.remove(&c.key),
        };
        for (d, content) in &c.blobs {
            self.blobs.entry(*d).or_insert_with(|| content.clone());
        }
        self.undo.extend(c.undo.iter().cloned());
        self.history.push(c.history.clone());
        self.append_events(&c.events)?;
        Ok(())
    }

    fn commit_items(&mut self, commits: &[ItemCommit]) -> Result<(), StoreError> {
        for c in commits {
            self.commit_item(c)?;
        }
        Ok(())
    }

    fn record_intents(&mut self, intents: &[Intent], blobs: &[(Digest, Content)]) -> Result<(), StoreError> {
        for (d, content) in blobs {
            self.blobs.entry(*d).or_insert_with(|| content.clone());
        }
        self.intents.extend(intents.iter().cloned());
        Ok(())
    }

    fn open_intents(&self, scope: &str) -> Result<Vec<Intent>, StoreError> {
        Ok(self.intents.iter().filter(|i| i.scope == scope).cloned().collect())
    }

    fn drop_intents(&mut self, scope: &str, operation_id: &str, key: &Key) -> Result<(), StoreError> {
        self.intents.retain(|i| !(i.scope == scope && i.operation_id == operation_id && &i.key == key));
        Ok(())
    }

    fn undo_entries(&self, operation_id: &str) -> Result<Vec<UndoEntry>, StoreError> {
        Ok(self.undo.iter().filter(|u| u.operation_id == operation_id).cloned().collect())
    }

    fn commit_undo(&mut self, c: &UndoCommit) -> Result<(), StoreError> {
        let base = self.bases.entry(c.scope.clone()).or_default();
        match c.base {
            Some(d) => base.insert(c.key.clone(), d),
            None => base.remove(&c.key),
        };
        for u in self.undo.iter_mut().filter(|u| u.operation_id == c.operation_id && u.key == c.key) {
            u.undone_at = Some(c.at);
        }
        self.history.push(c.history.clone());
        self.append_events(&c.events)?;
        Ok(())
    }

    fn prune(&mut self, now: Timestamp, limits: &UndoLimits) -> Result<PruneStats, StoreError> {
        // The newest `max_operations` operations that still have undo entries stay.
        let mut keep: BTreeSet<&str> = BTreeSet::new();
        for op in self.operations.iter().rev() {
            if keep.len() >= limits.max_operations {
                break;
            }
            if self.undo.iter().any(|u| u.operation_id == op.operation_id) {
                keep.insert(&op.operation_id);
            }
        }
        let keep: BTreeSet<String> = keep.into_iter().map(String::from).collect();
        let before = self.undo.len();
        let mut dropped_ops = BTreeSet::new();
        self.undo.retain(|u| {
            let ok = keep.contains(&u.operation_id)
                && u.expires_at > now
                && now.millis() - u.created_at.millis() <= limits.max_age_ms;
            if !ok {
                dropped_ops.insert(u.operation_id.clone());
            }
            ok
        });
        let mut referenced: BTreeSet<Digest> = self.bases.values().flat_map(|b| b.values().copied()).collect();
        referenced.extend(self.undo.iter().flat_map(|u| [u.pre, u.post]).flatten());
        referenced.extend(self.intents.iter().flat_map(|i| [i.pre, i.post]).flatten());
        let blobs_before = self.blobs.len();
        self.blobs.retain(|d, _| referenced.contains(d));
        Ok(PruneStats {
            operations: dropped_ops.len(),
            undo_entries: before - self.undo.len(),
            blobs: blobs_before - self.blobs.len(),
        })
    }

    fn history(&self, scope: Option<&str>, limit: usize) -> Result<Vec<HistoryEntry>, StoreError> {
        Ok(self.history.iter().rev().filter(|h| scope.is_none_or(|s| h.scope == s)).take(limit).cloned().collect())
    }

    fn update_lock(
        &mut self,
        name: &str,
        f: &mut dyn FnMut(Option<Lock>) -> Result<LockChange, LockError>,
    ) -> Result<Result<Option<Lock>, LockError>, StoreError> {
        let current = self.locks.get(name).cloned();
        let change = match f(current) {
            Ok(change) => change,
            Err(refused) => return Ok(Err(refused)),
        };
        match &change.lock {
            Some(l) => self.locks.insert(name.to_string(), l.clone()),
            None => self.locks.remove(name),
        };
        self.append_events(&change.events)?;
        Ok(Ok(change.lock))
    }

    fn locks(&self) -> Result<Vec<Lock>, StoreError> {
        Ok(self.locks.values().cloned().collect())
    }

    fn append_audit(&mut self, record: &AuditRecord) -> Result<String, StoreError> {
        let mut r = record.clone();
        if r.id.is_empty() {
            r.id = format!("audit-{}", self.audit.len() + 1);
        }
        let id = r.id.clone();
        self.audit.push(r);
        Ok(id)
    }

    fn audit_log(&self, limit: usize) -> Result<Vec<AuditRecord>, StoreError> {
        Ok(self.audit.iter().rev().take(limit).cloned().collect())
    }

    fn append_events(&mut self, events: &[Event]) -> Result<u64, StoreError> {
        for e in events {
            self.last_event_id += 1;
            self.events.push(Event { id: self.last_event_id, ..e.clone() });
        }
        Ok(self.last_event_id)
    }

    fn events_since(&self, after: u64, limit: usize) -> Result<Vec<Event>, StoreError> {
        Ok(self.events.iter().filter(|e| e.id > after).take(limit).cloned().collect())
    }

    fn prune_events(&mut self, before: Timestamp) -> Result<usize, StoreError> {
        let n = self.events.len();
        let last = self.last_event_id;
        self.events.retain(|e| e.time >= before || e.id == last);
        Ok(n - self.events.len())
    }

    fn put_delivery(&mut self, d: &Delivery) -> Result<(), StoreError> {
        self.deliveries.insert((d.event_id, d.endpoint.clone()), d.clone());
        Ok(())
    }

    fn deliveries(
        &self,
        endpoint: Option<&str>,
        status: Option<DeliveryStatus>,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        Ok(self
            .deliveries
            .values()
            .filter(|d| endpoint.is_none_or(|e| d.endpoint == e) && status.is_none_or(|s| d.status == s))
            .take(limit)
            .cloned()
            .collect())
    }

    fn prune_deliveries(&mut self, before: Timestamp) -> Result<usize, StoreError> {
        let n = self.deliveries.len();
        self.deliveries.retain(|_, d| {
            !(matches!(d.status, DeliveryStatus::Sent | DeliveryStatus::Failed) && d.updated_at < before)
        });
        Ok(n - self.deliveries.len())
    }

    fn append_coverage(&mut self, records: &[CoverageRecord]) -> Result<(), StoreError> {
        self.coverage.extend_from_slice(records);
        Ok(())
    }

    fn coverage_history(
        &self,
        scope: Option<&str>,
        component: Option<&str>,
        limit: usize,
    ) -> Result<Vec<CoverageRecord>, StoreError> {
        Ok(self
            .coverage
            .iter()
            .rev()
            .filter(|r| scope.is_none_or(|s| r.scope == s) && component.is_none_or(|c| r.component == c))
            .take(limit)
            .cloned()
            .collect())
    }

    fn latest_coverage(&self, scope: &str) -> Result<Vec<CoverageRecord>, StoreError> {
        let mut latest: BTreeMap<&str, &CoverageRecord> = BTreeMap::new();
        for r in self.coverage.iter().filter(|r| r.scope == scope) {
            latest.insert(&r.component, r);
        }
        Ok(latest.into_values().cloned().collect())
    }

    fn prune_coverage(&mut self, before: Timestamp) -> Result<usize, StoreError> {
        let mut newest: HashMap<(String, String), usize> = HashMap::new();
        for (i, r) in self.coverage.iter().enumerate() {
            newest.insert((r.scope.clone(), r.component.clone()), i);
        }
        let keep: BTreeSet<usize> = newest.into_values().collect();
        let n = self.coverage.len();
        let mut i = 0;
        self.coverage.retain(|r| {
            let kept = keep.contains(&i) || r.computed_at >= before;
            i += 1;
            kept
        });
        Ok(n - self.coverage.len())
    }

    fn put_test_session(&mut self, session: &TestSession, events: &[Event]) -> Result<(), StoreError> {
        self.test_sessions.insert(session.id.clone(), session.clone());
        self.append_events(events).map(drop)
    }

    fn test_session(&self, id: &str) -> Result<Option<TestSession>, StoreError> {
        Ok(self.test_sessions.get(id).cloned())
    }

    fn test_sessions(&self, story: Option<&str>, limit: usize) -> Result<Vec<TestSession>, StoreError> {
        let mut all: Vec<TestSession> =
            self.test_sessions.values().filter(|s| story.is_none_or(|st| s.story_id == st)).cloned().collect();
        all.sort_by(|a, b| b.started_at.cmp(&a.started_at).then_with(|| b.id.cmp(&a.id)));
        all.truncate(limit);
        Ok(all)
    }

    fn put_credential(&mut self, record: &CredentialRecord, events: &[Event]) -> Result<(), StoreError> {
        self.credentials.insert(record.name.clone(), record.clone());
        self.append_events(events).map(drop)
    }

    fn credential(&self, name: &str) -> Result<Option<CredentialRecord>, StoreError> {
        Ok(self.credentials.get(name).cloned())
    }

    fn credentials(&self) -> Result<Vec<CredentialRecord>, StoreError> {
        Ok(self.credentials.values().cloned().collect())
    }

    fn put_api_key(&mut self, key: &ApiKeyRecord) -> Result<(), StoreError> {
        if self.api_keys.iter().any(|k| k.id == key.id || k.hash == key.hash) {
            return Err(StoreError::Backend(format!("api key {}: its id or hash is stored already", key.id)));
        }
        self.api_keys.push(key.clone());
        self.api_keys.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
        Ok(())
    }

    fn api_keys(&self) -> Result<Vec<ApiKeyRecord>, StoreError> {
        Ok(self.api_keys.clone())
    }

    fn api_key_by_hash(&self, hash: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(self.api_keys.iter().find(|k| k.hash == hash).cloned())
    }

    fn revoke_api_key(&mut self, id: &str, at: Timestamp) -> Result<Option<ApiKeyRecord>, StoreError> {
        Ok(self.api_keys.iter_mut().find(|k| k.id == id).map(|k| {
            k.revoked_at.get_or_insert(at);
            k.clone()
        }))
    }

    fn touch_api_key(&mut self, id: &str, at: Timestamp) -> Result<(), StoreError> {
        if let Some(k) = self.api_keys.iter_mut().find(|k| k.id == id) {
            if k.last_used_at.is_none_or(|last| last < at) {
                k.last_used_at = Some(at);
            }
        }
        Ok(())
    }

    fn kv_get(&self, namespace: &str, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.kv.get(&(namespace.to_string(), key.to_string())).cloned())
    }

    fn kv_put(&mut self, namespace: &str, key: &str, value: &[u8]) -> Result<(), StoreError> {
        self.kv.insert((namespace.to_string(), key.to_string()), value.to_vec());
        Ok(())
    }

    fn kv_delete(&mut self, namespace: &str, key: &str) -> Result<(), StoreError> {
        self.kv.remove(&(namespace.to_string(), key.to_string()));
        Ok(())
    }
}
