//! Docs: the items of a `folders` pair as the team platform edits them, one at a time,
//! with no lost update.
//!
//! - **The side edited** is the pair's database side (`db`, `db:NAME`), else its left
//!   side: the platform's copy, which the sync then carries to the other side.
//! - **Digest**: the item's canonical digest on that side (`sha256:<hex>`), what a write
//!   must name to replace it (HTTP `If-Match`).
//! - **Version**: how many times the store saw the item change, that is the item's
//!   successful rows in the pair's sync history (each sync that moved it, each resolve,
//!   each undo). An edit not synced yet is not counted; a write through
//!   [`Project::doc_put`] is synced at once, so it counts.
//! - **A write** is compare-and-swap on the edited side under the pair's lease and the
//!   project lock, then a sync of that item (`only` its key, so items sharing its prefix
//!   ride along), which carries it over or reports a conflict when the other side changed
//!   too. That sync's `doc:updated` event announces the write; only when the sync wrote
//!   nothing (a one-way pair, a conflict) is one appended for the edited side, so a write
//!   is announced once.

use std::collections::HashMap;

use twinsync_core::event::{Event, EventType};
use twinsync_core::replica::{Replica, WriteContext};
use twinsync_core::{Content, Digest, Key, OperationReport, Side, Trigger};

use crate::config::{Config, PairKind};
use crate::error::{Error, Result};
use crate::project::{Project, SyncRequest};

/// One item of a pair's edited side.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DocEntry {
    /// Its path in the pair (`guides/setup.md`).
    pub path: String,
    /// Its canonical digest on the edited side.
    pub digest: Digest,
    /// How many times the store saw it change (see the module docs).
    pub version: u64,
}

/// One item with its content.
#[derive(Debug, Clone, PartialEq)]
pub struct Doc {
    /// Its path, digest and version.
    pub entry: DocEntry,
    /// What the edited side holds.
    pub content: Content,
}

/// What a write expects to replace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocPrecondition {
    /// The item as it was when read: its digest.
    Digest(Digest),
    /// No item: the write creates it.
    Absent,
}

/// What a write did.
#[derive(Debug, Clone, PartialEq)]
pub struct DocWrite {
    /// The item after the write (and its sync).
    pub entry: DocEntry,
    /// Whether the item was new.
    pub created: bool,
    /// Whether its content changed (writing what it holds changes nothing, syncs nothing).
    pub changed: bool,
    /// The sync of the item that followed, when it changed.
    pub sync: Option<OperationReport>,
}

impl Project {
    /// Pair `pair`, or the default one, checked to be a pair whose items can be edited.
    pub fn docs_pair(&self, pair: Option<&str>) -> Result<String> {
        let name = match pair {
            Some(p) => p.to_string(),
            None => self.default_pair()?,
        };
        let config = self.pair(&name)?;
        if config.kind != PairKind::Folders {
            return Err(Error::Unsupported {
                pair: name,
                kind: config.kind.to_string(),
                message: "its items are edited through its own commands; docs are the items of a folders pair".into(),
            });
        }
        Ok(name)
    }

    /// The side of `pair` the platform edits: its database side, else its left side.
    pub fn docs_side(&self, pair: &str) -> Result<Side> {
        let config = self.pair(pair)?;
        let db = |spec: &str| Config::db_side(spec).is_some();
        Ok(if !db(&config.left) && db(&config.right) { Side::Right } else { Side::Left })
    }

    /// Runs `f` on the edited side of `pair`, keeping the folder stat caches after.
    fn on_docs_side<T>(&mut self, pair: &str, f: impl FnOnce(&mut dyn Replica) -> Result<T>) -> Result<(T, Side)> {
        let side = self.docs_side(pair)?;
        let (mut left, mut right) = self.sides(pair)?;
        let out = f(match side {
            Side::Left => &mut left,
            Side::Right => &mut right,
        });
        self.save_stat_caches(pair, &mut left, &mut right)?;
        Ok((out?, side))
    }

    /// How many times the store saw each item of `pair` change.
    fn doc_versions(&self, pair: &str) -> Result<HashMap<String, u64>> {
        let mut out = HashMap::new();
        for row in self.store_ref().history(Some(pair), usize::MAX)? {
            if row.success {
                *out.entry(row.key.as_str().to_string()).or_insert(0) += 1;
            }
        }
        Ok(out)
    }

    /// The items of `pair`'s edited side, by path.
    pub fn docs_list(&mut self, pair: &str) -> Result<Vec<DocEntry>> {
        let (snapshot, _) = self.on_docs_side(pair, |r| Ok(r.scan()?))?;
        let versions = self.doc_versions(pair)?;
        Ok(snapshot
            .into_iter()
            .map(|e| DocEntry {
                version: versions.get(e.key.as_str()).copied().unwrap_or(0),
                path: e.key.as_str().to_string(),
                digest: e.digest,
            })
            .collect())
    }

    /// One digest for every item of `pair`'s edited side (paths and contents): equal
    /// whenever the items are, whatever their order or modification times.
    pub fn docs_digest(&mut self, pair: &str) -> Result<Digest> {
        let (snapshot, _) = self.on_docs_side(pair, |r| Ok(r.scan()?))?;
        Ok(twinsync_core::tree_digest(snapshot.values().map(|e| (&e.key, &e.digest))))
    }

    /// Item `path` of `pair`'s edited side.
    pub fn doc_get(&mut self, pair: &str, path: &str) -> Result<Doc> {
        let key = doc_key(path)?;
        let (found, _) = self.on_docs_side(pair, |r| {
            let Some(content) = r.read(&key)? else { return Ok(None) };
            let digest = r
                .rules()
                .digest(&content)
                .map_err(|source| twinsync_core::replica::ReplicaError::InvalidContent { key: key.clone(), source })?;
            Ok(Some((content, digest)))
        })?;
        let (content, digest) = found.ok_or_else(|| no_doc(pair, path))?;
        let version = self.doc_versions(pair)?.get(key.as_str()).copied().unwrap_or(0);
        Ok(Doc { entry: DocEntry { path: key.as_str().to_string(), digest, version }, content })
    }

    /// Writes `bytes` (read as a folder reads a file at `path`: `.json` must be JSON, a
    /// text extension UTF-8) to item `path` of `pair`'s edited side if it still is what
    /// `pre` says, then syncs the item. A stale `pre` is [`Error::StaleDoc`] and writes
    /// nothing; so is a change that lands between the check and the write.
    pub fn doc_put(&mut self, pair: &str, path: &str, bytes: Vec<u8>, pre: &DocPrecondition) -> Result<DocWrite> {
        let key = doc_key(path)?;
        let rules = self.config().hash_rules(&self.pair_config(pair)?);
        let content = twinsync_fs::content_of(&rules, &key, bytes)?;
        let before = self.newest_event_id()?;
        let what = format!("write of {path} in pair {pair}");
        let expected = match pre {
            DocPrecondition::Digest(d) => Some(*d),
            DocPrecondition::Absent => None,
        };
        let (old, new, side) = self.writing(pair, &what, |p| {
            let ((old, new), side) = p.on_docs_side(pair, |r| {
                let found = r.digest(&key)?;
                if found != expected {
                    return Err(stale(path, expected.as_ref(), found.as_ref()));
                }
                let new = r.rules().digest(&content).map_err(|source| {
                    twinsync_core::replica::ReplicaError::InvalidContent { key: key.clone(), source }
                })?;
                if Some(&new) == found.as_ref() {
                    return Ok((found, new));
                }
                let ctx = WriteContext { operation_id: String::new() };
                let written = match r.write(&key, &content, found.as_ref(), &ctx) {
                    Ok(d) => d,
                    Err(twinsync_core::replica::ReplicaError::Conflict { found: now, .. }) => {
                        return Err(Error::StaleDoc {
                            path: path.to_string(),
                            expected: show(expected.as_ref()),
                            found: now,
                        })
                    }
                    Err(e) => return Err(e.into()),
                };
                r.flush()?;
                Ok((found, written))
            })?;
            Ok((old, new, side))
        })?;
        let changed = old.as_ref() != Some(&new);
        let sync = if changed {
            let req =
                SyncRequest { trigger: Trigger::UserEdit, only: vec![key.as_str().to_string()], ..Default::default() };
            let report = self.sync_pair(pair, &req)?;
            self.announce_once(pair, &key, side, &new, before, &report.operation_id)?;
            Some(report)
        } else {
            None
        };
        let version = self.doc_versions(pair)?.get(key.as_str()).copied().unwrap_or(0);
        let entry = DocEntry { path: key.as_str().to_string(), digest: new, version };
        Ok(DocWrite { entry, created: old.is_none(), changed, sync })
    }

    /// Appends `doc:updated` for the write of `key` unless an event since `before`
    /// (the sync's, or another writer's) announced the item already.
    fn announce_once(
        &mut self,
        pair: &str,
        key: &Key,
        side: Side,
        digest: &Digest,
        before: u64,
        operation_id: &str,
    ) -> Result<()> {
        let mut after = before;
        loop {
            let events = self.events(after, 500)?;
            let Some(last) = events.last() else { break };
            after = last.id;
            let announced = events
                .iter()
                .any(|e| e.event_type == EventType::DocUpdated && e.pair == pair && e.payload["key"] == key.as_str());
            if announced {
                return Ok(());
            }
        }
        let event = Event::doc_updated(self.now(), pair, operation_id, key.as_str(), side, Some(digest));
        self.store().append_events(&[event])?;
        Ok(())
    }
}

fn doc_key(path: &str) -> Result<Key> {
    Key::new(path).map_err(|e| Error::Core(twinsync_core::Error::InvalidInput(format!("doc path {path:?}: {e}"))))
}

fn no_doc(pair: &str, path: &str) -> Error {
    Error::Core(twinsync_core::Error::NotFound(format!("doc {path} in pair {pair}")))
}

fn show(d: Option<&Digest>) -> String {
    d.map_or_else(|| "absent".to_string(), |d| d.to_string())
}

fn stale(path: &str, expected: Option<&Digest>, found: Option<&Digest>) -> Error {
    Error::StaleDoc { path: path.to_string(), expected: show(expected), found: show(found) }
}
