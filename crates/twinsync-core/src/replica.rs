//! The `Replica` trait: one copy of the artifacts, scanned into digests, read and
//! written item by item with compare-and-swap on the expected digest.

use std::collections::BTreeMap;
use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;
use crate::content::{Content, ContentError, HashRules};
use crate::digest::Digest;
use crate::key::{Key, KeyError};

/// What a scan sees of one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The item.
    pub key: Key,
    /// Digest of its canonical content.
    pub digest: Digest,
    /// Size in bytes as stored.
    pub size: u64,
    /// Last modification time, when the replica knows it.
    pub modified: Option<Timestamp>,
    /// SHA-256 of its bytes as stored, when the replica knows it (equal to `digest` when
    /// the bytes are canonical already). Items whose sides agree in `digest` and differ
    /// here differ in formatting only; a replica that cannot tell leaves it `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<Digest>,
}

pub use crate::snapshot::Snapshot;

/// A flush handed over by [`Replica::flush_later`], to run once on any thread.
pub type Flush = Box<dyn FnOnce() -> Result<(), ReplicaError> + Send>;

/// An item a scan found but could not read or digest (invalid JSON, permission denied,
/// invalid UTF-8). It is left out of the snapshot, and the engine keeps it out of the
/// sync on both sides, so a bad file fails alone and nothing about it changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanFailure {
    /// The item, as the replica spells it (a relative path or an id).
    pub key: String,
    /// What is wrong, naming the item.
    pub error: String,
}

/// Why a replica operation failed. Every variant names the item or root at fault.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplicaError {
    /// The item changed since it was scanned: the write was not made.
    #[error("{key}: changed since it was scanned (expected {expected}, found {found}); not overwritten")]
    Conflict {
        /// The item.
        key: Key,
        /// What the caller expected (`absent` for none).
        expected: String,
        /// What the replica holds now (`absent` for none).
        found: String,
    },
    /// The item does not exist.
    #[error("{0}: not found")]
    NotFound(Key),
    /// A key that cannot name an item here.
    #[error(transparent)]
    InvalidKey(#[from] KeyError),
    /// The item exists but cannot be read as its kind.
    #[error("{key}: {source}")]
    InvalidContent {
        /// The item.
        key: Key,
        /// What is wrong with it.
        source: ContentError,
    },
    /// The replica as a whole cannot be used (a missing root, an unmounted disk).
    #[error("replica {name} is unavailable: {reason}")]
    Unavailable {
        /// The replica.
        name: String,
        /// Why.
        reason: String,
    },
    /// An I/O or backend failure on one item.
    #[error("{key}: {message}")]
    Io {
        /// The item (or path) at fault.
        key: String,
        /// What failed.
        message: String,
    },
}

impl ReplicaError {
    /// A conflict error from optional digests.
    pub fn conflict(key: &Key, expected: Option<&Digest>, found: Option<&Digest>) -> Self {
        let show = |d: Option<&Digest>| d.map_or_else(|| "absent".to_string(), |d| d.to_string());
        ReplicaError::Conflict { key: key.clone(), expected: show(expected), found: show(found) }
    }
}

/// Context of a write: which operation makes it, so a replica can keep backups per operation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriteContext {
    /// The operation id (empty outside an operation).
    pub operation_id: String,
}

/// An item's bytes as a stream, for items too large to hold in memory.
pub struct ItemReader {
    /// Size in bytes.
    pub len: u64,
    /// The bytes.
    pub reader: Box<dyn Read + Send>,
}

impl std::fmt::Debug for ItemReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ItemReader").field("len", &self.len).finish_non_exhaustive()
    }
}

/// One copy of the artifacts.
///
/// Writes and deletes are compare-and-swap: `expected` is the digest the caller saw
/// (`None`: the item must not exist), and a replica holding anything else refuses
/// with [`ReplicaError::Conflict`] and changes nothing.
pub trait Replica: Send {
    /// A short name for messages (`left`, a path, `db`).
    fn name(&self) -> &str;

    /// The rules this replica digests content with.
    fn rules(&self) -> &HashRules;

    /// Every item with its digest. An item that cannot be read or digested is left out
    /// and reported by [`Replica::scan_failures`]; only a replica that cannot be scanned
    /// at all is an error.
    fn scan(&mut self) -> Result<Snapshot, ReplicaError>;

    /// The items the last [`Replica::scan`] left out, each with why. Required, not
    /// defaulted: a wrapper that forgot to pass it on would hide failed items.
    fn scan_failures(&self) -> Vec<ScanFailure>;

    /// The item's content, or `None` when absent.
    fn read(&self, key: &Key) -> Result<Option<Content>, ReplicaError>;

    /// The item's current digest, or `None` when absent.
    fn digest(&self, key: &Key) -> Result<Option<Digest>, ReplicaError> {
        match self.read(key)? {
            None => Ok(None),
            Some(c) => self
                .rules()
                .digest(&c)
                .map(Some)
                .map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source }),
        }
    }

    /// The item's content, checked to still have digest `expected` (`None`: absent), as
    /// a copy reads its source; anything else is [`ReplicaError::Conflict`]. The default
    /// reads and digests it. A folder trusts the digest its scan recorded while the
    /// file's stat is unchanged, by the scan's own rule, so a first sync hashes each
    /// file once.
    fn read_expected(&self, key: &Key, expected: Option<&Digest>) -> Result<Option<Content>, ReplicaError> {
        let content = self.read(key)?;
        let found = match &content {
            None => None,
            Some(c) => Some(
                self.rules().digest(c).map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })?,
            ),
        };
        if found.as_ref() != expected {
            return Err(ReplicaError::conflict(key, expected, found.as_ref()));
        }
        Ok(content)
    }

    /// Writes `content` if the item still has digest `expected`; returns the new digest.
    fn write(
        &mut self,
        key: &Key,
        content: &Content,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError>;

    /// [`Replica::write`] of content the caller has digested under this replica's
    /// rules: `post`. The default ignores it and digests again; a folder uses it when
    /// the bytes are read as the content's kind, which is what a scan would digest.
    fn write_digested(
        &mut self,
        key: &Key,
        content: &Content,
        post: &Digest,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        let _ = post;
        self.write(key, content, expected, ctx)
    }

    /// Deletes the item if it still has digest `expected`.
    fn delete(&mut self, key: &Key, expected: &Digest, ctx: &WriteContext) -> Result<(), ReplicaError>;

    /// Makes every write and delete since the last flush durable (a folder fsyncs the
    /// files it wrote and their folders, each folder once). The engine writes a batch of
    /// items, flushes each side once, and only then commits the batch to the store.
    /// Required, not defaulted: a wrapper that forgot to pass it on would lose writes on
    /// a power cut after the store recorded them.
    fn flush(&mut self) -> Result<(), ReplicaError>;

    /// [`Replica::flush`], handed over: the work that makes the writes since the last
    /// flush durable, made of owned data so the engine can run it on another thread
    /// (before the batch's commit) while this side goes on writing the next batch. The
    /// writes are durable once it returns `Ok`. By default the side flushes now and
    /// hands over nothing; a side whose flush waits on a disk overrides it.
    fn flush_later(&mut self) -> Result<Option<Flush>, ReplicaError> {
        self.flush().map(|()| None)
    }

    /// The item as a stream when it is large (over [`HashRules::bytes_above`], so opaque
    /// bytes): the engine copies it without ever holding it. `None` when absent or small
    /// enough to [`Replica::read`]. A replica that holds items in memory anyway keeps
    /// this default; a wrapper must pass it on, or large items are read whole.
    fn open(&self, key: &Key) -> Result<Option<ItemReader>, ReplicaError> {
        let _ = key;
        Ok(None)
    }

    /// Writes the bytes `src` yields if the item still has digest `expected`. They must
    /// digest, as bytes, to `post` (what the source held when scanned); otherwise nothing
    /// is written and the answer is [`ReplicaError::Conflict`]: the source changed while
    /// it was copied. Returns the new digest. The default reads the bytes whole and
    /// calls [`Replica::write`].
    fn write_from(
        &mut self,
        key: &Key,
        src: &mut dyn Read,
        post: &Digest,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        let mut bytes = Vec::new();
        src.read_to_end(&mut bytes)
            .map_err(|e| ReplicaError::Io { key: key.to_string(), message: format!("cannot read the source: {e}") })?;
        let found = Digest::of_bytes(&bytes);
        if &found != post {
            return Err(ReplicaError::conflict(key, Some(post), Some(&found)));
        }
        self.write(key, &Content::Bytes(bytes), expected, ctx)
    }

    /// Renames item `from` to `to` if `from` still has digest `expected` and nothing is
    /// at `to`; returns the digest `to` then has. Nothing is overwritten: otherwise the
    /// answer is [`ReplicaError::Conflict`]. The default writes `to` and deletes `from`;
    /// a folder renames the file itself, so nothing is copied or backed up.
    fn rename(&mut self, from: &Key, to: &Key, expected: &Digest, ctx: &WriteContext) -> Result<Digest, ReplicaError> {
        rename_by_copy(self, from, to, expected, ctx)
    }

    /// True when the replica keeps what each operation overwrites or deletes, readable
    /// with [`Replica::open_backup`]; the store then need not keep a copy of large items
    /// for undo. A wrapper must pass this and `open_backup` on together.
    fn keeps_backups(&self) -> bool {
        false
    }

    /// The item as it was before operation `operation_id` first overwrote or deleted it,
    /// when the replica kept that backup.
    fn open_backup(&self, key: &Key, operation_id: &str) -> Result<Option<ItemReader>, ReplicaError> {
        let _ = (key, operation_id);
        Ok(None)
    }
}

/// [`Replica::rename`] as a write of `to` and a delete of `from`: the default, and what a
/// replica that renames in place falls back to where it cannot.
pub fn rename_by_copy<R: Replica + ?Sized>(
    replica: &mut R,
    from: &Key,
    to: &Key,
    expected: &Digest,
    ctx: &WriteContext,
) -> Result<Digest, ReplicaError> {
    let content = replica.read(from)?.ok_or_else(|| ReplicaError::conflict(from, Some(expected), None))?;
    let found = replica
        .rules()
        .digest(&content)
        .map_err(|source| ReplicaError::InvalidContent { key: from.clone(), source })?;
    if &found != expected {
        return Err(ReplicaError::conflict(from, Some(expected), Some(&found)));
    }
    let written = replica.write(to, &content, None, ctx)?;
    replica.delete(from, expected, ctx)?;
    Ok(written)
}

/// A replica held in memory, for tests and for hosts that keep items themselves.
#[derive(Debug, Clone, Default)]
pub struct MemoryReplica {
    name: String,
    rules: HashRules,
    items: BTreeMap<Key, (Content, Option<Timestamp>)>,
}

impl MemoryReplica {
    /// An empty replica named `name`.
    pub fn new(name: impl Into<String>) -> Self {
        MemoryReplica { name: name.into(), ..Default::default() }
    }

    /// An empty replica digesting with `rules`.
    pub fn with_rules(name: impl Into<String>, rules: HashRules) -> Self {
        MemoryReplica { name: name.into(), rules, items: BTreeMap::new() }
    }

    /// Puts `content` at `key` directly, as an outside edit would (no compare-and-swap).
    pub fn put(&mut self, key: &Key, content: Content) {
        self.items.insert(key.clone(), (content, None));
    }

    /// Puts `content` with a modification time.
    pub fn put_at(&mut self, key: &Key, content: Content, modified: Timestamp) {
        self.items.insert(key.clone(), (content, Some(modified)));
    }

    /// Removes `key` directly, as an outside edit would.
    pub fn remove(&mut self, key: &Key) -> Option<Content> {
        self.items.remove(key).map(|(c, _)| c)
    }

    /// The content at `key`, if any.
    pub fn get(&self, key: &Key) -> Option<&Content> {
        self.items.get(key).map(|(c, _)| c)
    }

    /// Number of items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn check(&self, key: &Key, expected: Option<&Digest>) -> Result<(), ReplicaError> {
        let current = self.digest(key)?;
        if current.as_ref() != expected {
            return Err(ReplicaError::conflict(key, expected, current.as_ref()));
        }
        Ok(())
    }
}

impl Replica for MemoryReplica {
    fn name(&self) -> &str {
        &self.name
    }

    fn rules(&self) -> &HashRules {
        &self.rules
    }

    fn scan(&mut self) -> Result<Snapshot, ReplicaError> {
        self.items
            .iter()
            .map(|(k, (c, m))| {
                let d =
                    self.rules.digests(c).map_err(|source| ReplicaError::InvalidContent { key: k.clone(), source })?;
                let entry = Entry {
                    key: k.clone(),
                    digest: d.canonical,
                    size: c.len() as u64,
                    modified: *m,
                    bytes: Some(d.bytes),
                };
                Ok(entry)
            })
            .collect()
    }

    fn scan_failures(&self) -> Vec<ScanFailure> {
        // Items in memory are held as content already: there is nothing to fail to read.
        Vec::new()
    }

    fn read(&self, key: &Key) -> Result<Option<Content>, ReplicaError> {
        Ok(self.get(key).cloned())
    }

    fn write(
        &mut self,
        key: &Key,
        content: &Content,
        expected: Option<&Digest>,
        _ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        self.check(key, expected)?;
        let digest =
            self.rules.digest(content).map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })?;
        self.items.insert(key.clone(), (content.clone(), None));
        Ok(digest)
    }

    fn delete(&mut self, key: &Key, expected: &Digest, _ctx: &WriteContext) -> Result<(), ReplicaError> {
        self.check(key, Some(expected))?;
        self.items.remove(key);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ReplicaError> {
        // Memory is as durable as it gets once written.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_are_compare_and_swap() {
        let mut r = MemoryReplica::new("m");
        let k = Key::new("a.md").unwrap();
        let ctx = WriteContext::default();
        let d1 = r.write(&k, &Content::Text("one".into()), None, &ctx).unwrap();
        // A second create over an existing item is a conflict, and changes nothing.
        let e = r.write(&k, &Content::Text("two".into()), None, &ctx).unwrap_err();
        assert!(matches!(e, ReplicaError::Conflict { .. }), "{e}");
        assert_eq!(r.get(&k), Some(&Content::Text("one".into())));
        let d2 = r.write(&k, &Content::Text("two".into()), Some(&d1), &ctx).unwrap();
        assert!(r.delete(&k, &d1, &ctx).is_err());
        r.delete(&k, &d2, &ctx).unwrap();
        assert!(r.is_empty());
    }
}
