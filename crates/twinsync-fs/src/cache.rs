//! The stat cache: what each file looked like (size, mtime, ctime, inode) when it was
//! last hashed, so an unchanged tree rescans without reading contents.
//!
//! Racy entries (git's term): a file whose mtime is not strictly older than the scan
//! that hashed it, minus the timestamp granularity, may still change without its stat
//! changing, so it is never trusted and is rehashed on the next scan.
//!
//! Entries are kept sorted by key, as they are stored: loading is one sequential pass,
//! and a scan, which sorts what it found anyway, matches its files against the cache in
//! one merge rather than a hash lookup per file (100k lookups in a table that size miss
//! the CPU cache every time). A cached name is only ever compared with the name of a
//! file the walk found, so names are bytes in one buffer, not a [`Key`] each: loading a
//! 100k-entry cache allocates twice rather than 100k times, and validates nothing twice.
//!
//! A cache describes one folder on one host (its inodes and times), so it also records
//! which folder: the root's inode. A cache of another folder (the pair's other side, a
//! copy on another machine) is refused whole, not merely missed entry by entry.

use std::cmp::Ordering;

use sha2::{Digest as _, Sha256};
use twinsync_core::{Digest, Digests, HashRules, Key};

/// Where one entry's name lies in [`StatCache::names`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Name {
    start: u32,
    len: u32,
}

use crate::paths::Stat;

/// Timestamp granularity assumed for every filesystem (FAT's is 2 s).
pub(crate) const RACY_WINDOW_NS: i64 = 2_000_000_000;

const MAGIC: &[u8; 4] = b"TWSC";
/// 2: each entry also records the digest of the file's bytes, so a warm status tells
/// formatting-only items apart without reading them.
/// 3: the header records the root's identity (caches moved from the store to a file).
const VERSION: u8 = 3;
/// Bumped when classification (which kind a file is hashed as) changes.
const CLASSIFY_VERSION: &[u8] = b"classify-v1";

/// One cached file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CacheEntry {
    pub stat: Stat,
    pub digests: Digests,
}

/// A stat no file has: an entry carrying it never matches, and is not saved.
const FORGOTTEN: Stat = Stat { size: u64::MAX, mtime_ns: i64::MIN, ctime_ns: i64::MIN, ino: u64::MAX };

/// Key (relative path) -> stat and digest, valid for one set of hash rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatCache {
    /// Every entry's name, back to back.
    names: Vec<u8>,
    /// Sorted by name, names unique.
    entries: Vec<(Name, CacheEntry)>,
    /// When the newest entries were captured (start of the scan that hashed them), ns.
    pub captured_at_ns: i64,
    /// Fingerprint of the rules the digests were made with.
    pub rules_fp: [u8; 32],
    /// The identity of the folder the entries describe (see [`root_identity`]).
    pub root: u64,
}

/// Which folder a cache describes: its inode, where the platform has one (0 elsewhere,
/// where the entries' own stats are the only check).
pub(crate) fn root_identity(meta: &std::fs::Metadata) -> u64 {
    #[cfg(unix)]
    {
        std::os::unix::fs::MetadataExt::ino(meta)
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        0
    }
}

/// Fingerprint of hash rules: digests made under other rules are never reused.
pub(crate) fn rules_fingerprint(rules: &HashRules) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(CLASSIFY_VERSION);
    h.update(serde_json::to_vec(rules).unwrap_or_default());
    h.finalize().into()
}

impl StatCache {
    /// An empty cache for `rules` of the folder `root` (see [`root_identity`]).
    pub(crate) fn new(rules: &HashRules, root: u64) -> Self {
        StatCache {
            names: Vec::new(),
            entries: Vec::new(),
            captured_at_ns: 0,
            rules_fp: rules_fingerprint(rules),
            root,
        }
    }

    /// How many files the cache describes.
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Room for `n` more entries of names about `name_bytes` long in all.
    pub(crate) fn reserve(&mut self, n: usize, name_bytes: usize) {
        self.entries.reserve(n);
        self.names.reserve(name_bytes);
    }

    /// Adds the entry of `key`, which must sort after every key already in.
    pub(crate) fn push(&mut self, key: &str, entry: CacheEntry) {
        debug_assert!(self.entries.last().is_none_or(|(n, _)| self.name(n) < key.as_bytes()));
        self.push_name(key.as_bytes(), entry);
    }

    fn push_name(&mut self, name: &[u8], entry: CacheEntry) {
        // Names past 4 GiB in all cannot be addressed: such a cache keeps what fits,
        // and the files past it are hashed again, which is only slower.
        let (Ok(start), Ok(len)) = (u32::try_from(self.names.len()), u32::try_from(name.len())) else { return };
        if start.checked_add(len).is_none() {
            return;
        }
        self.names.extend_from_slice(name);
        self.entries.push((Name { start, len }, entry));
    }

    fn name(&self, n: &Name) -> &[u8] {
        &self.names[n.start as usize..(n.start + n.len) as usize]
    }

    fn find(&self, rel: &str) -> Option<usize> {
        self.entries.binary_search_by(|(n, _)| self.name(n).cmp(rel.as_bytes())).ok()
    }

    /// The cached digests when `entry` (the cache's entry for a file) still describes a
    /// file with `stat`: the stat is unchanged and the entry is not racy.
    pub(crate) fn reuse(&self, entry: &CacheEntry, stat: &Stat) -> Option<Digests> {
        (entry.stat == *stat && !self.is_racy(&entry.stat)).then_some(entry.digests)
    }

    /// The cached digests of `rel` when its stat is unchanged and the entry is not racy.
    pub(crate) fn digests_of(&self, rel: &str, stat: &Stat) -> Option<Digests> {
        let i = self.find(rel)?;
        self.reuse(&self.entries[i].1, stat)
    }

    #[cfg(test)]
    pub(crate) fn lookup(&self, rel: &str, stat: &Stat) -> Option<Digest> {
        self.digests_of(rel, stat).map(|d| d.canonical)
    }

    /// The size `rel` had when last scanned or hashed; `None` when unknown or forgotten.
    pub(crate) fn size_of(&self, rel: &str) -> Option<u64> {
        let i = self.find(rel)?;
        Some(self.entries[i].1.stat.size).filter(|_| self.entries[i].1.stat != FORGOTTEN)
    }

    /// Stops trusting the entry of `rel`, if any (its file was just written).
    pub(crate) fn forget(&mut self, rel: &str) {
        if let Some(i) = self.find(rel) {
            self.entries[i].1.stat = FORGOTTEN;
        }
    }

    /// Pairs each key of `sorted` (ascending) with its cache entry, in one merge.
    pub(crate) fn matches<'a, T>(
        &'a self,
        sorted: &'a [T],
        key: impl Fn(&T) -> &Key + 'a,
    ) -> impl Iterator<Item = Option<&'a CacheEntry>> + 'a {
        let mut cached = self.entries.iter().peekable();
        sorted.iter().map(move |item| {
            let k = key(item).as_str().as_bytes();
            while let Some((name, e)) = cached.peek().copied() {
                match self.name(name).cmp(k) {
                    Ordering::Less => {
                        cached.next();
                    }
                    Ordering::Equal => return Some(e),
                    Ordering::Greater => return None,
                }
            }
            None
        })
    }

    /// True when a file with this stat could change without its stat changing.
    pub(crate) fn is_racy(&self, stat: &Stat) -> bool {
        // Only mtime, as git does: ctime is compared for equality, but a content change
        // always moves mtime past a capture that was more than the granularity later.
        stat.mtime_ns.saturating_add(RACY_WINDOW_NS) >= self.captured_at_ns
    }

    /// Compact bytes: header, entries, then a SHA-256 of everything before it.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(64 + self.entries.len() * 96);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.rules_fp);
        out.extend_from_slice(&self.root.to_le_bytes());
        out.extend_from_slice(&self.captured_at_ns.to_le_bytes());
        let kept = || self.entries.iter().filter(|(_, e)| e.stat != FORGOTTEN);
        out.extend_from_slice(&(kept().count() as u64).to_le_bytes());
        for (n, e) in kept() {
            out.extend_from_slice(&n.len.to_le_bytes());
            out.extend_from_slice(self.name(n));
            out.extend_from_slice(&e.stat.size.to_le_bytes());
            out.extend_from_slice(&e.stat.mtime_ns.to_le_bytes());
            out.extend_from_slice(&e.stat.ctime_ns.to_le_bytes());
            out.extend_from_slice(&e.stat.ino.to_le_bytes());
            out.extend_from_slice(e.digests.canonical.as_bytes());
            // Most files' bytes are canonical already: a flag, not a second digest.
            if e.digests.bytes == e.digests.canonical {
                out.push(0);
            } else {
                out.push(1);
                out.extend_from_slice(e.digests.bytes.as_bytes());
            }
        }
        let sum: [u8; 32] = Sha256::digest(&out).into();
        out.extend_from_slice(&sum);
        out
    }

    /// Parses [`encode`](Self::encode)'s bytes; `None` when they are damaged, of another
    /// version, made under other rules than `rules`, or of another folder than `root`.
    pub(crate) fn decode(bytes: &[u8], rules: &HashRules, root: u64) -> Option<StatCache> {
        if bytes.len() < 32 {
            return None;
        }
        let (body, sum) = bytes.split_at(bytes.len() - 32);
        if Sha256::digest(body).as_slice() != sum {
            return None;
        }
        let mut r = Reader { b: body };
        if r.take(4)? != MAGIC || r.take(1)?[0] != VERSION {
            return None;
        }
        let fp: [u8; 32] = r.take(32)?.try_into().ok()?;
        if fp != rules_fingerprint(rules) || r.u64()? != root {
            return None;
        }
        let captured_at_ns = r.i64()?;
        let n = r.u64()?;
        let mut cache = StatCache { names: Vec::new(), entries: Vec::new(), captured_at_ns, rules_fp: fp, root };
        cache.reserve(usize::try_from(n).ok()?.min(body.len() / 69), body.len());
        for _ in 0..n {
            let len = u32::from_le_bytes(r.take(4)?.try_into().ok()?) as usize;
            let name = r.take(len)?;
            let stat = Stat { size: r.u64()?, mtime_ns: r.i64()?, ctime_ns: r.i64()?, ino: r.u64()? };
            let canonical = Digest::from_bytes(r.take(32)?.try_into().ok()?);
            let bytes = match r.take(1)?[0] {
                0 => canonical,
                1 => Digest::from_bytes(r.take(32)?.try_into().ok()?),
                _ => return None,
            };
            // Written sorted: anything else is not a cache this code wrote.
            if cache.entries.last().is_some_and(|(last, _)| cache.name(last) >= name) {
                return None;
            }
            cache.push_name(name, CacheEntry { stat, digests: Digests { canonical, bytes } });
        }
        if !r.b.is_empty() || cache.entries.len() as u64 != n {
            return None;
        }
        Some(cache)
    }
}

struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.b.len() < n {
            return None;
        }
        let (h, t) = self.b.split_at(n);
        self.b = t;
        Some(h)
    }
    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
    fn i64(&mut self) -> Option<i64> {
        Some(i64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT: u64 = 42;

    fn sample() -> StatCache {
        let mut c = StatCache::new(&HashRules::default(), ROOT);
        c.captured_at_ns = 10 * RACY_WINDOW_NS;
        let stat = Stat { size: 3, mtime_ns: RACY_WINDOW_NS, ctime_ns: RACY_WINDOW_NS, ino: 7 };
        c.push("a/b.md", CacheEntry { stat, digests: Digests::same(Digest::of_bytes(b"abc")) });
        let reformatted = Digests { canonical: Digest::of_bytes(b"x\n"), bytes: Digest::of_bytes(b"x\r\n") };
        c.push("a/c.md", CacheEntry { stat, digests: reformatted });
        c
    }

    #[test]
    fn round_trips_and_rejects_damage() {
        let c = sample();
        let bytes = c.encode();
        let back = StatCache::decode(&bytes, &HashRules::default(), ROOT).unwrap();
        assert_eq!((back.entries, back.names), (c.entries, c.names));
        assert_eq!(back.captured_at_ns, c.captured_at_ns);
        for i in [0, 5, bytes.len() / 2, bytes.len() - 1] {
            let mut bad = bytes.clone();
            bad[i] ^= 1;
            assert!(StatCache::decode(&bad, &HashRules::default(), ROOT).is_none(), "flip at {i}");
        }
        assert!(StatCache::decode(&bytes[..bytes.len() - 1], &HashRules::default(), ROOT).is_none());
        assert!(StatCache::decode(b"", &HashRules::default(), ROOT).is_none());
    }

    #[test]
    fn other_rules_invalidate_the_cache() {
        let mut rules = HashRules::default();
        rules.json.ignore = twinsync_core::canonical::IgnoreRules::new(["/updatedAt"]).unwrap();
        assert!(StatCache::decode(&sample().encode(), &rules, ROOT).is_none());
    }

    #[test]
    fn a_cache_of_another_folder_is_refused() {
        let bytes = sample().encode();
        assert!(StatCache::decode(&bytes, &HashRules::default(), ROOT).is_some());
        assert!(StatCache::decode(&bytes, &HashRules::default(), ROOT + 1).is_none());
    }

    #[test]
    fn a_cache_of_the_previous_version_is_refused() {
        let mut bytes = sample().encode();
        bytes[4] = 2;
        let body = bytes.len() - 32;
        let sum: [u8; 32] = Sha256::digest(&bytes[..body]).into();
        bytes[body..].copy_from_slice(&sum);
        assert!(StatCache::decode(&bytes, &HashRules::default(), ROOT).is_none());
    }

    #[test]
    fn entries_as_new_as_the_capture_are_racy() {
        let c = sample();
        let stat = c.entries[0].1.stat;
        assert_eq!(c.lookup("a/b.md", &stat), Some(Digest::of_bytes(b"abc")));
        let fresh = Stat { mtime_ns: c.captured_at_ns - 1, ..stat };
        assert!(c.is_racy(&fresh));
        assert_eq!(c.lookup("a/b.md", &Stat { size: 4, ..stat }), None);
    }

    #[test]
    fn a_forgotten_entry_never_matches_and_is_not_saved() {
        let mut c = sample();
        let stat = c.entries[0].1.stat;
        c.forget("a/b.md");
        c.forget("not/cached");
        assert_eq!(c.lookup("a/b.md", &stat), None);
        let back = StatCache::decode(&c.encode(), &HashRules::default(), ROOT).unwrap();
        assert_eq!(back.entries.iter().map(|(n, _)| back.name(n)).collect::<Vec<_>>(), [b"a/c.md"]);
    }

    #[test]
    fn matches_pairs_sorted_keys_with_their_entries() {
        let mut c = StatCache::new(&HashRules::default(), ROOT);
        let stat = Stat { size: 1, mtime_ns: 0, ctime_ns: 0, ino: 1 };
        for k in ["a", "c", "e"] {
            c.push(k, CacheEntry { stat, digests: Digests::same(Digest::of_bytes(k.as_bytes())) });
        }
        let found: Vec<Key> = ["a", "b", "e", "f"].iter().map(|k| Key::new(k).unwrap()).collect();
        let got: Vec<Option<Digest>> = c.matches(&found, |k| k).map(|e| e.map(|e| e.digests.canonical)).collect();
        assert_eq!(got, vec![Some(Digest::of_bytes(b"a")), None, Some(Digest::of_bytes(b"e")), None]);
    }

    #[test]
    fn unsorted_bytes_are_not_a_cache() {
        let mut c = sample();
        let e = c.entries[0].1;
        c.push_name(b"a", e);
        assert!(StatCache::decode(&c.encode(), &HashRules::default(), ROOT).is_none());
    }
}
