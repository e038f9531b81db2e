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
//! the CPU cache every time).
//!
//! In memory the entries keep the layout they have in the file, back to back in one
//! buffer, with the offset of each: a loaded cache is the bytes read plus 4 bytes an
//! entry, parsed in place. A warm status reads each entry's stat and digests once, to
//! compare them, so building a 100-byte struct for each of 100,000 entries (10 MB
//! written a side, and the page faults to hold it) was most of what loading cost.
//!
//! A cache describes one folder on one host (its inodes and times), so it also records
//! which folder: the root's inode. A cache of another folder (the pair's other side, a
//! copy on another machine) is refused whole, not merely missed entry by entry.

use std::cmp::Ordering;

use sha2::{Digest as _, Sha256};
use twinsync_core::{Digest, Digests, HashRules, Key};
use xxhash_rust::xxh3::xxh3_64;

use crate::paths::Stat;

/// Timestamp granularity assumed for every filesystem (FAT's is 2 s).
pub(crate) const RACY_WINDOW_NS: i64 = 2_000_000_000;

const MAGIC: &[u8; 4] = b"TWSC";
/// 2: each entry also records the digest of the file's bytes, so a warm status tells
/// formatting-only items apart without reading them.
/// 3: the header records the root's identity (caches moved from the store to a file).
/// 4: the checksum is XXH3-64, not SHA-256. It guards against damage, not forgery (whoever
/// can write the cache can write the files), and SHA-256 of two 8 MB caches was 2% of a
/// warm status of 100,000 files.
const VERSION: u8 = 4;
/// Bytes of the checksum that ends the file.
const SUM_LEN: usize = 8;
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

/// Bytes of an entry besides its name and its second digest: the name's length, the
/// stat, the canonical digest and the flag saying whether a second digest follows.
const ENTRY_FIXED: usize = 4 + STAT_LEN + 32 + 1;
const STAT_LEN: usize = 32;
/// Magic, version, rules fingerprint, root, capture time, entry count.
const HEADER_LEN: usize = 4 + 1 + 32 + 8 + 8 + 8;

/// A cache's bytes: built in memory, or its file mapped privately (copy on write, so
/// [`StatCache::forget`] marks an entry without touching the file, and loading costs
/// neither a copy nor zeroed pages).
#[derive(Debug)]
pub(crate) enum Bytes {
    Owned(Vec<u8>),
    Mapped(memmap2::MmapMut),
}

impl Bytes {
    /// The bytes as a vector to append to; a mapped cache is copied first.
    fn vec(&mut self) -> &mut Vec<u8> {
        if let Bytes::Mapped(m) = self {
            *self = Bytes::Owned(m.to_vec());
        }
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(_) => unreachable!("copied above"),
        }
    }
}

impl Default for Bytes {
    fn default() -> Self {
        Bytes::Owned(Vec::new())
    }
}

impl Clone for Bytes {
    fn clone(&self) -> Self {
        Bytes::Owned(self.to_vec())
    }
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

impl std::ops::DerefMut for Bytes {
    fn deref_mut(&mut self) -> &mut [u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes::Owned(v)
    }
}

/// Key (relative path) -> stat and digest, valid for one set of hash rules.
#[derive(Debug, Clone, Default)]
pub(crate) struct StatCache {
    /// The entries in their file layout (see [`StatCache::encode`]), back to back; a
    /// loaded cache keeps the whole file here, header and checksum included.
    bytes: Bytes,
    /// Where each entry starts in `bytes`, sorted by name, names unique.
    at: Vec<u32>,
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
            bytes: Bytes::default(),
            at: Vec::new(),
            captured_at_ns: 0,
            rules_fp: rules_fingerprint(rules),
            root,
        }
    }

    /// How many files the cache describes.
    pub(crate) fn len(&self) -> usize {
        self.at.len()
    }

    /// Room for `n` more entries of names about `name_bytes` long in all.
    pub(crate) fn reserve(&mut self, n: usize, name_bytes: usize) {
        self.at.reserve(n);
        self.bytes.vec().reserve(n * ENTRY_FIXED + name_bytes);
    }

    /// Adds the entry of `key`, which must sort after every key already in.
    pub(crate) fn push(&mut self, key: &str, entry: CacheEntry) {
        debug_assert!(self.at.last().is_none_or(|&a| self.name_at(a) < key.as_bytes()));
        // Entries past 4 GiB of cache cannot be addressed: such a cache keeps what fits,
        // and the files past it are hashed again, which is only slower.
        let (Ok(start), Ok(len)) = (u32::try_from(self.bytes.len()), u32::try_from(key.len())) else { return };
        if start.checked_add(len).and_then(|e| e.checked_add((ENTRY_FIXED + 32) as u32)).is_none() {
            return;
        }
        let out = self.bytes.vec();
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(key.as_bytes());
        put_stat(out, &entry.stat);
        out.extend_from_slice(entry.digests.canonical.as_bytes());
        // Most files' bytes are canonical already: a flag, not a second digest.
        if entry.digests.bytes == entry.digests.canonical {
            out.push(0);
        } else {
            out.push(1);
            out.extend_from_slice(entry.digests.bytes.as_bytes());
        }
        self.at.push(start);
    }

    /// The name of the entry at offset `a`.
    fn name_at(&self, a: u32) -> &[u8] {
        let a = a as usize;
        let len = u32::from_le_bytes(self.bytes[a..a + 4].try_into().expect("4 bytes")) as usize;
        &self.bytes[a + 4..a + 4 + len]
    }

    /// Where the stat of the entry at offset `a` starts.
    fn stat_offset(&self, a: u32) -> usize {
        a as usize + 4 + self.name_at(a).len()
    }

    fn stat_at(&self, a: u32) -> Stat {
        let o = self.stat_offset(a);
        let b = &self.bytes[o..o + STAT_LEN];
        let word = |i: usize| <[u8; 8]>::try_from(&b[i * 8..i * 8 + 8]).expect("8 bytes");
        Stat {
            size: u64::from_le_bytes(word(0)),
            mtime_ns: i64::from_le_bytes(word(1)),
            ctime_ns: i64::from_le_bytes(word(2)),
            ino: u64::from_le_bytes(word(3)),
        }
    }

    fn digests_at(&self, a: u32) -> Digests {
        let o = self.stat_offset(a) + STAT_LEN;
        let digest = |o: usize| Digest::from_bytes(self.bytes[o..o + 32].try_into().expect("32 bytes"));
        let canonical = digest(o);
        let bytes = if self.bytes[o + 32] == 0 { canonical } else { digest(o + 33) };
        Digests { canonical, bytes }
    }

    /// The bytes of the whole entry at offset `a`.
    fn entry_bytes(&self, a: u32) -> &[u8] {
        let o = self.stat_offset(a) + STAT_LEN + 32;
        let end = o + 1 + if self.bytes[o] == 0 { 0 } else { 32 };
        &self.bytes[a as usize..end]
    }

    fn find(&self, rel: &str) -> Option<u32> {
        self.at.binary_search_by(|&a| self.name_at(a).cmp(rel.as_bytes())).ok().map(|i| self.at[i])
    }

    /// True when the entry `at` (as [`matches`](Self::matches) gave it) still describes
    /// a file with `stat`: the stat is unchanged and the entry is not racy.
    pub(crate) fn still(&self, at: Entry, stat: &Stat) -> bool {
        let cached = self.stat_at(at.0);
        cached == *stat && !self.is_racy(&cached)
    }

    /// The digests the entry `at` records.
    pub(crate) fn digests(&self, at: Entry) -> Digests {
        self.digests_at(at.0)
    }

    /// The cached digests when the entry `at` still describes a file with `stat`.
    pub(crate) fn reuse(&self, at: Entry, stat: &Stat) -> Option<Digests> {
        self.still(at, stat).then(|| self.digests_at(at.0))
    }

    /// The cached digests of `rel` when its stat is unchanged and the entry is not racy.
    pub(crate) fn digests_of(&self, rel: &str, stat: &Stat) -> Option<Digests> {
        self.reuse(Entry(self.find(rel)?), stat)
    }

    #[cfg(test)]
    pub(crate) fn lookup(&self, rel: &str, stat: &Stat) -> Option<Digest> {
        self.digests_of(rel, stat).map(|d| d.canonical)
    }

    /// The size `rel` had when last scanned or hashed; `None` when unknown or forgotten.
    pub(crate) fn size_of(&self, rel: &str) -> Option<u64> {
        let stat = self.stat_at(self.find(rel)?);
        Some(stat.size).filter(|_| stat != FORGOTTEN)
    }

    /// Stops trusting the entry of `rel`, if any (its file was just written).
    pub(crate) fn forget(&mut self, rel: &str) {
        if let Some(a) = self.find(rel) {
            let o = self.stat_offset(a);
            let mut forgotten = Vec::with_capacity(STAT_LEN);
            put_stat(&mut forgotten, &FORGOTTEN);
            self.bytes[o..o + STAT_LEN].copy_from_slice(&forgotten);
        }
    }

    /// Pairs each key of `sorted` (ascending) with its cache entry, in one merge.
    pub(crate) fn matches<'a, T>(
        &'a self,
        sorted: &'a [T],
        key: impl Fn(&T) -> &Key + 'a,
    ) -> impl Iterator<Item = Option<Entry>> + 'a {
        let mut cached = self.at.iter().copied().peekable();
        sorted.iter().map(move |item| {
            let k = key(item).as_str().as_bytes();
            while let Some(a) = cached.peek().copied() {
                match self.name_at(a).cmp(k) {
                    Ordering::Less => {
                        cached.next();
                    }
                    Ordering::Equal => return Some(Entry(a)),
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

    /// Compact bytes: header, entries, then the XXH3-64 of everything before it. Each
    /// entry: the name's length (u32) and the name, size, mtime, ctime and inode (u64
    /// each), the canonical digest, then 0, or 1 and the digest of the bytes when they
    /// differ. Integers are little-endian.
    pub(crate) fn encode(&self) -> Vec<u8> {
        let kept = || self.at.iter().copied().filter(|&a| self.stat_at(a) != FORGOTTEN);
        let mut out = Vec::with_capacity(HEADER_LEN + self.bytes.len() + SUM_LEN);
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        out.extend_from_slice(&self.rules_fp);
        out.extend_from_slice(&self.root.to_le_bytes());
        out.extend_from_slice(&self.captured_at_ns.to_le_bytes());
        out.extend_from_slice(&(kept().count() as u64).to_le_bytes());
        for a in kept() {
            out.extend_from_slice(self.entry_bytes(a));
        }
        let sum = xxh3_64(&out);
        out.extend_from_slice(&sum.to_le_bytes());
        out
    }

    /// Parses [`encode`](Self::encode)'s bytes; `None` when they are damaged, of another
    /// version, made under other rules than `rules`, or of another folder than `root`.
    pub(crate) fn decode(bytes: &[u8], rules: &HashRules, root: u64) -> Option<StatCache> {
        Self::decode_owned(bytes.to_vec(), rules, root)
    }

    /// [`decode`](Self::decode), keeping `bytes` as the cache's own: the entries are
    /// checked and indexed where they lie, not copied.
    pub(crate) fn decode_owned(bytes: impl Into<Bytes>, rules: &HashRules, root: u64) -> Option<StatCache> {
        let bytes = bytes.into();
        if bytes.len() < SUM_LEN || u32::try_from(bytes.len()).is_err() {
            return None;
        }
        let (body, sum) = bytes.split_at(bytes.len() - SUM_LEN);
        if xxh3_64(body).to_le_bytes() != sum {
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
        let mut at = Vec::with_capacity(usize::try_from(n).ok()?.min(body.len() / ENTRY_FIXED));
        let mut last: Option<&[u8]> = None;
        for _ in 0..n {
            let start = (body.len() - r.b.len()) as u32;
            let len = u32::from_le_bytes(r.take(4)?.try_into().ok()?) as usize;
            let name = r.take(len)?;
            r.take(STAT_LEN + 32)?;
            match r.take(1)?[0] {
                0 => {}
                1 => {
                    r.take(32)?;
                }
                _ => return None,
            }
            // Written sorted: anything else is not a cache this code wrote.
            if last.is_some_and(|last| last >= name) {
                return None;
            }
            last = Some(name);
            at.push(start);
        }
        if !r.b.is_empty() || at.len() as u64 != n {
            return None;
        }
        Some(StatCache { bytes, at, captured_at_ns, rules_fp: fp, root })
    }
}

/// One entry of a [`StatCache`], as [`StatCache::matches`] finds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Entry(u32);

fn put_stat(out: &mut Vec<u8>, stat: &Stat) {
    out.extend_from_slice(&stat.size.to_le_bytes());
    out.extend_from_slice(&stat.mtime_ns.to_le_bytes());
    out.extend_from_slice(&stat.ctime_ns.to_le_bytes());
    out.extend_from_slice(&stat.ino.to_le_bytes());
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

    /// Every entry: name, stat and digests.
    fn entries(c: &StatCache) -> Vec<(Vec<u8>, Stat, Digests)> {
        c.at.iter().map(|&a| (c.name_at(a).to_vec(), c.stat_at(a), c.digests_at(a))).collect()
    }

    #[test]
    fn round_trips_and_rejects_damage() {
        let c = sample();
        let bytes = c.encode();
        let back = StatCache::decode(&bytes, &HashRules::default(), ROOT).unwrap();
        assert_eq!(entries(&back), entries(&c));
        assert_eq!(entries(&back)[1].2.bytes, Digest::of_bytes(b"x\r\n"), "the second digest is kept");
        assert_eq!(back.encode(), bytes);
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
        bytes[4] = 3;
        let body = bytes.len() - SUM_LEN;
        let sum = xxh3_64(&bytes[..body]).to_le_bytes();
        bytes[body..].copy_from_slice(&sum);
        assert!(StatCache::decode(&bytes, &HashRules::default(), ROOT).is_none());
    }

    #[test]
    fn entries_as_new_as_the_capture_are_racy() {
        let c = sample();
        let stat = entries(&c)[0].1;
        assert_eq!(c.lookup("a/b.md", &stat), Some(Digest::of_bytes(b"abc")));
        let fresh = Stat { mtime_ns: c.captured_at_ns - 1, ..stat };
        assert!(c.is_racy(&fresh));
        assert_eq!(c.lookup("a/b.md", &Stat { size: 4, ..stat }), None);
    }

    #[test]
    fn a_forgotten_entry_never_matches_and_is_not_saved() {
        let mut c = sample();
        let stat = entries(&c)[0].1;
        c.forget("a/b.md");
        c.forget("not/cached");
        assert_eq!(c.lookup("a/b.md", &stat), None);
        let back = StatCache::decode(&c.encode(), &HashRules::default(), ROOT).unwrap();
        assert_eq!(entries(&back).into_iter().map(|(n, ..)| n).collect::<Vec<_>>(), [b"a/c.md"]);
        assert_eq!(c.size_of("a/b.md"), None, "forgotten");
        assert_eq!(c.size_of("a/c.md"), Some(3));
    }

    #[test]
    fn matches_pairs_sorted_keys_with_their_entries() {
        let mut c = StatCache::new(&HashRules::default(), ROOT);
        let stat = Stat { size: 1, mtime_ns: 0, ctime_ns: 0, ino: 1 };
        for k in ["a", "c", "e"] {
            c.push(k, CacheEntry { stat, digests: Digests::same(Digest::of_bytes(k.as_bytes())) });
        }
        let found: Vec<Key> = ["a", "b", "e", "f"].iter().map(|k| Key::new(k).unwrap()).collect();
        let got: Vec<Option<Digest>> =
            c.matches(&found, |k| k).map(|e| e.map(|e| c.digests_at(e.0).canonical)).collect();
        assert_eq!(got, vec![Some(Digest::of_bytes(b"a")), None, Some(Digest::of_bytes(b"e")), None]);
    }

    #[test]
    fn unsorted_bytes_are_not_a_cache() {
        let mut c = sample();
        let (_, stat, digests) = entries(&c)[0];
        // `push` checks the order only in debug builds: write the bytes out of order.
        c.at.push(c.bytes.len() as u32);
        let mut other = StatCache::new(&HashRules::default(), ROOT);
        other.push("a", CacheEntry { stat, digests });
        c.bytes.vec().extend_from_slice(&other.bytes);
        assert!(StatCache::decode(&c.encode(), &HashRules::default(), ROOT).is_none());
    }
}
