//! The scan: walk the root honouring ignore files and globs and stat every file (see
//! [`crate::walk`], which returns them in key order), reuse the stat cache's digest
//! where the stat is unchanged (one merge against the sorted cache), and hash the rest
//! (read once, classify, hash) on two threads.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use twinsync_core::replica::{ReplicaError, ScanFailure};
use twinsync_core::{Digests, HashRules, Key};

use crate::cache::{Entry, StatCache};
use crate::options::SymlinkMode;
use crate::paths::{digests_path, io_err, Stat};
use crate::progress::Reporter;
use crate::walk;

/// Threads a scan hashes on.
const SCAN_THREADS: usize = 2;

/// Where a found item's digest comes from when the cache cannot give it.
pub(crate) enum Source {
    /// The file at the key's path.
    File,
    /// A followed link: the file it resolves to, inside the root. Boxed, so the common
    /// case costs a pointer: every file found is one of these in lists of 100,000.
    Target(Box<PathBuf>),
    /// A link synced as a link: its target text.
    Link,
}

/// A file the walk found, before its digest is known.
pub(crate) struct Seen {
    pub key: Key,
    pub stat: Stat,
    pub source: Source,
}

/// Where a found file's digests are: 8 bytes a file rather than the 72 of the digests
/// themselves, since a warm scan takes nearly all from the cache, which already holds
/// them.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Got {
    /// In the stat cache the scan ran with.
    Cached(Entry),
    /// In [`ScanOutput::fresh`], at this index.
    Fresh(u32),
    /// Nowhere: the file was gone before it was read, or it is in `failures`.
    Gone,
}

/// What a scan produced: the files the walk found, in key order, and where each one's
/// digests are.
pub(crate) struct ScanOutput {
    pub seen: Vec<Seen>,
    pub got: Vec<Got>,
    /// The digests of the files hashed.
    pub fresh: Vec<Digests>,
    /// How many of `got` are not [`Got::Gone`].
    pub files: usize,
    pub hashed: usize,
    pub warnings: Vec<String>,
    /// Files found but not readable or parsable, each failing alone.
    pub failures: Vec<ScanFailure>,
}

/// Builds a matcher for the configured globs, relative to `root`.
pub(crate) fn glob_matcher(root: &Path, globs: &[String]) -> Result<Gitignore, (String, String)> {
    let mut b = GitignoreBuilder::new(root);
    for g in globs {
        b.add_line(None, g).map_err(|e| (g.clone(), e.to_string()))?;
    }
    b.build().map_err(|e| (globs.join(", "), e.to_string()))
}

/// Everything a scan needs, shared by the walker threads.
pub(crate) struct ScanJob<'a> {
    pub root: &'a Path,
    pub canon_root: &'a Path,
    pub rules: &'a HashRules,
    pub cache: &'a StatCache,
    pub globs: Arc<Gitignore>,
    pub symlinks: SymlinkMode,
    /// A directory under the root never scanned (the backup directory), if any.
    pub exclude: Option<PathBuf>,
    /// Counts what the scan found and hashed, for a progress display.
    pub progress: &'a Reporter,
}

/// Walks and hashes the tree; fails on the first unreadable file or directory.
pub(crate) fn run(job: &ScanJob<'_>) -> Result<ScanOutput, ReplicaError> {
    let walked = walk::run(job)?;
    let warnings = walked.warnings;
    let seen = walked.files;
    debug_assert!(seen.is_sorted_by(|a, b| a.key < b.key), "the walk returns its files in key order");
    let mut got: Vec<Got> = job
        .cache
        .matches(&seen, |s| &s.key)
        .zip(&seen)
        .map(|(e, s)| match e {
            Some(e) if job.cache.still(e, &s.stat) => Got::Cached(e),
            _ => Got::Gone,
        })
        .collect();
    let misses: Vec<usize> = (0..seen.len()).filter(|&i| matches!(got[i], Got::Gone)).collect();
    let hashed = misses.len();
    // A warm scan hashes nothing: the files go straight from what the walk found.
    let mut failures = Vec::new();
    let mut fresh = Vec::new();
    for (&i, d) in misses.iter().zip(hash_misses(job, &seen, &misses)) {
        match d {
            Ok(Some(d)) => {
                got[i] = Got::Fresh(fresh.len() as u32);
                fresh.push(d);
            }
            Ok(None) => {}
            Err(e) => failures.push(ScanFailure { key: seen[i].key.as_str().to_string(), error: e.to_string() }),
        }
    }
    let files = got.iter().filter(|g| !matches!(g, Got::Gone)).count();
    Ok(ScanOutput { seen, got, fresh, files, hashed, warnings, failures })
}

/// The digests of the files `misses` (indices into `seen`) that the cache could not
/// give, in that order, read and hashed on [`SCAN_THREADS`] threads. A file gone since
/// the walk is `Ok(None)`; a file that cannot be read or parsed is its own error, and
/// the others are still hashed.
fn hash_misses(job: &ScanJob<'_>, seen: &[Seen], misses: &[usize]) -> Vec<Result<Option<Digests>, ReplicaError>> {
    if misses.is_empty() {
        return Vec::new();
    }
    job.progress.to_hash(misses.len());
    let next = AtomicUsize::new(0);
    let work = || -> Vec<(usize, Result<Option<Digests>, ReplicaError>)> {
        let mut done = Vec::new();
        loop {
            let n = next.fetch_add(1, Ordering::Relaxed);
            let Some(&i) = misses.get(n) else { break };
            done.push((n, hash_one(job, &seen[i])));
            job.progress.hashed();
        }
        done
    };
    let results: Vec<_> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..SCAN_THREADS.min(misses.len())).map(|_| s.spawn(work)).collect();
        let mut all = vec![work()];
        all.extend(helpers.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))));
        all
    });
    let mut digests: Vec<Result<Option<Digests>, ReplicaError>> = (0..misses.len()).map(|_| Ok(None)).collect();
    for (n, d) in results.into_iter().flatten() {
        digests[n] = d;
    }
    digests
}

/// Reads and hashes one item; `None` when it is gone.
fn hash_one(job: &ScanJob<'_>, item: &Seen) -> Result<Option<Digests>, ReplicaError> {
    let key = &item.key;
    let path = match &item.source {
        Source::Target(t) => PathBuf::clone(t),
        Source::File | Source::Link => job.root.join(key.as_str()),
    };
    if let Source::Link = item.source {
        let target = match std::fs::read_link(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            r => r.map_err(|e| io_err(key, format!("cannot read link {}: {e}", path.display())))?,
        };
        let target = target
            .to_str()
            .ok_or_else(|| io_err(key, format!("link {} has a target that is not UTF-8", path.display())))?;
        return job
            .rules
            .digest(&twinsync_core::Content::Link(target.to_string()))
            .map(|d| Some(Digests::same(d)))
            .map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source });
    }
    digests_path(job.rules, key, &path)
}
