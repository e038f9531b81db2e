//! The scan: walk the root honouring ignore files and globs and stat every file (on two
//! threads), sort what was found, reuse the stat cache's digest where the stat is
//! unchanged (one merge against the sorted cache), and hash the rest (read once,
//! classify, hash) on two threads.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};
use twinsync_core::replica::{ReplicaError, ScanFailure};
use twinsync_core::{Digests, HashRules, Key};

use crate::cache::StatCache;
use crate::options::SymlinkMode;
use crate::paths::{digests_path, io_err, is_abandoned_temp, is_reserved_rel, is_temp_name, Stat};

/// Name of the per-directory ignore file twinsync reads besides `.gitignore` and `.ignore`.
pub(crate) const IGNORE_FILE: &str = ".twinsyncignore";

/// Threads a scan walks and hashes on.
const SCAN_THREADS: usize = 2;

/// One file as a scan found it.
pub(crate) struct Found {
    pub key: Key,
    pub stat: Stat,
    pub digests: Digests,
}

/// Where a found item's digest comes from when the cache cannot give it.
enum Source {
    /// The file at the key's path.
    File,
    /// A followed link: the file it resolves to, inside the root.
    Target(PathBuf),
    /// A link synced as a link: its target text.
    Link,
}

/// A file the walk found, before its digest is known.
struct Seen {
    key: Key,
    stat: Stat,
    source: Source,
}

/// What a scan produced besides the files.
pub(crate) struct ScanOutput {
    pub files: Vec<Found>,
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
}

struct Shared<'a> {
    job: &'a ScanJob<'a>,
    files: Mutex<Vec<Seen>>,
    warnings: Mutex<Vec<String>>,
    error: Mutex<Option<ReplicaError>>,
    failed: AtomicBool,
}

struct Visitor<'s, 'a> {
    shared: &'s Shared<'a>,
    files: Vec<Seen>,
}

impl Drop for Visitor<'_, '_> {
    fn drop(&mut self) {
        let mut all = self.shared.files.lock().unwrap_or_else(|p| p.into_inner());
        all.append(&mut self.files);
    }
}

impl<'s, 'a> ParallelVisitorBuilder<'s> for &'s Shared<'a> {
    fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
        Box::new(Visitor { shared: self, files: Vec::new() })
    }
}

impl ParallelVisitor for Visitor<'_, '_> {
    fn visit(&mut self, entry: Result<DirEntry, ignore::Error>) -> WalkState {
        if self.shared.failed.load(Ordering::Relaxed) {
            return WalkState::Quit;
        }
        match self.visit_entry(entry) {
            Ok(()) => WalkState::Continue,
            Err(e) => {
                self.shared.failed.store(true, Ordering::Relaxed);
                let mut slot = self.shared.error.lock().unwrap_or_else(|p| p.into_inner());
                slot.get_or_insert(e);
                WalkState::Quit
            }
        }
    }
}

impl Visitor<'_, '_> {
    fn warn(&self, w: String) {
        self.shared.warnings.lock().unwrap_or_else(|p| p.into_inner()).push(w);
    }

    fn visit_entry(&mut self, entry: Result<DirEntry, ignore::Error>) -> Result<(), ReplicaError> {
        let job = self.shared.job;
        let entry = match entry {
            Ok(e) => e,
            // An unreadable directory would make its files look deleted: fail the scan.
            Err(e) if e.io_error().is_some() => return Err(io_err(job.root.display(), format!("scan failed: {e}"))),
            // A bad line in an ignore file: the rest of that file still applies.
            Err(e) => {
                self.warn(format!("ignore rule skipped: {e}"));
                return Ok(());
            }
        };
        if entry.depth() == 0 {
            return Ok(());
        }
        let Some(ft) = entry.file_type() else { return Ok(()) };
        if ft.is_dir() {
            return Ok(());
        }
        let path = entry.path();
        let rel_path = relative(job.root, path);
        let Some(rel) = rel_path.to_str().map(|s| {
            if std::path::MAIN_SEPARATOR == '/' {
                std::borrow::Cow::Borrowed(s)
            } else {
                std::borrow::Cow::Owned(s.replace(std::path::MAIN_SEPARATOR, "/"))
            }
        }) else {
            self.warn(format!("{}: skipped, the name is not valid UTF-8", path.display()));
            return Ok(());
        };
        let key = match Key::new(&rel) {
            Ok(k) => k,
            Err(e) => {
                self.warn(format!("{}: skipped, {e}", path.display()));
                return Ok(());
            }
        };
        if ft.is_symlink() && job.symlinks == SymlinkMode::Links {
            let meta = match std::fs::symlink_metadata(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
                r => r.map_err(|e| io_err(&key, format!("cannot stat {}: {e}", path.display())))?,
            };
            self.files.push(Seen { key, stat: Stat::of(&meta), source: Source::Link });
            return Ok(());
        }
        let source = if ft.is_symlink() {
            match self.link_target(path) {
                Ok(t) => Source::Target(t),
                Err(w) => {
                    self.warn(format!("{rel}: skipped symbolic link, {w}"));
                    return Ok(());
                }
            }
        } else if ft.is_file() {
            Source::File
        } else {
            self.warn(format!("{rel}: skipped, not a regular file"));
            return Ok(());
        };
        // A file deleted while the scan runs is simply absent; any other failure fails
        // the scan, since a skipped file would look deleted and the deletion would sync.
        let stat_path = match &source {
            Source::Target(t) => t.as_path(),
            _ => path,
        };
        let meta = match std::fs::metadata(stat_path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            r => r.map_err(|e| io_err(&key, format!("cannot stat {}: {e}", stat_path.display())))?,
        };
        self.files.push(Seen { key, stat: Stat::of(&meta), source });
        Ok(())
    }

    /// The file a link stands for, when links are followed and it stays inside the root.
    fn link_target(&self, path: &Path) -> Result<PathBuf, String> {
        let job = self.shared.job;
        if job.symlinks == SymlinkMode::Skip {
            return Err("links are not followed (symlinks: skip)".into());
        }
        let target = std::fs::canonicalize(path).map_err(|e| format!("cannot resolve: {e}"))?;
        if !target.starts_with(job.canon_root) {
            return Err(format!("it points outside the root, to {}", target.display()));
        }
        if !target.is_file() {
            return Err("it points to a directory, whose files are scanned where they are".into());
        }
        Ok(target)
    }
}

/// `path` relative to `root`, which the walker built it from. Comparing bytes is several
/// times cheaper than `Path::strip_prefix`'s component walk, paid once per entry.
fn relative<'p>(root: &Path, path: &'p Path) -> &'p Path {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        let (r, p) = (root.as_os_str().as_bytes(), path.as_os_str().as_bytes());
        if let Some(rest) = p.strip_prefix(r) {
            if let Some(rest) = rest.strip_prefix(b"/") {
                return Path::new(std::ffi::OsStr::from_bytes(rest));
            }
        }
    }
    path.strip_prefix(root).unwrap_or(path)
}

/// Walks and hashes the tree; fails on the first unreadable file or directory.
pub(crate) fn run(job: &ScanJob<'_>) -> Result<ScanOutput, ReplicaError> {
    let mut b = WalkBuilder::new(job.root);
    b.hidden(false)
        .parents(false)
        .git_global(false)
        .git_exclude(false)
        .require_git(false)
        .follow_links(false)
        .add_custom_ignore_filename(IGNORE_FILE)
        .threads(SCAN_THREADS);
    let root = job.root.to_path_buf();
    let globs = job.globs.clone();
    let exclude = job.exclude.clone();
    b.filter_entry(move |e| {
        let rel = relative(&root, e.path());
        if e.depth() == 0 {
            return true;
        }
        if is_reserved_rel(rel) || exclude.as_deref().is_some_and(|x| e.path() == x) {
            // A writer killed between creating its temp file and the rename leaves the
            // temp behind; the scan that finds it clears it (a failure leaves it for later).
            let name = e.file_name().to_str().unwrap_or("");
            if is_temp_name(name) && is_abandoned_temp(e.path(), name) {
                let _ = std::fs::remove_file(e.path());
            }
            return false;
        }
        let is_dir = e.file_type().is_some_and(|t| t.is_dir());
        !globs.matched(rel, is_dir).is_ignore()
    });
    let shared = Shared {
        job,
        files: Mutex::new(Vec::new()),
        warnings: Mutex::new(Vec::new()),
        error: Mutex::new(None),
        failed: AtomicBool::new(false),
    };
    b.build_parallel().visit(&mut &shared);
    if let Some(e) = shared.error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        return Err(e);
    }
    let mut warnings = shared.warnings.into_inner().unwrap_or_else(|p| p.into_inner());
    warnings.sort();
    let mut seen = shared.files.into_inner().unwrap_or_else(|p| p.into_inner());
    seen.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    let digests: Vec<Option<Digests>> = job
        .cache
        .matches(&seen, |s| &s.key)
        .zip(&seen)
        .map(|(e, s)| e.and_then(|e| job.cache.reuse(e, &s.stat)))
        .collect();
    let (digests, hashed) = hash_misses(job, &seen, digests);
    let mut files = Vec::with_capacity(seen.len());
    let mut failures = Vec::new();
    for (s, d) in seen.into_iter().zip(digests) {
        match d {
            Ok(Some(digests)) => files.push(Found { key: s.key, stat: s.stat, digests }),
            // Deleted between the walk and the read.
            Ok(None) => {}
            Err(e) => failures.push(ScanFailure { key: s.key.as_str().to_string(), error: e.to_string() }),
        }
    }
    Ok(ScanOutput { files, hashed, warnings, failures })
}

/// Fills in the digests the cache could not give, reading and hashing those files on
/// [`SCAN_THREADS`] threads. A file gone since the walk is `Ok(None)`; a file that
/// cannot be read or parsed is its own error, and the others are still hashed.
fn hash_misses(
    job: &ScanJob<'_>,
    seen: &[Seen],
    cached: Vec<Option<Digests>>,
) -> (Vec<Result<Option<Digests>, ReplicaError>>, usize) {
    let mut digests: Vec<Result<Option<Digests>, ReplicaError>> = cached.into_iter().map(Ok).collect();
    let misses: Vec<usize> = (0..seen.len()).filter(|&i| matches!(digests[i], Ok(None))).collect();
    if misses.is_empty() {
        return (digests, 0);
    }
    let next = AtomicUsize::new(0);
    let work = || -> Vec<(usize, Result<Option<Digests>, ReplicaError>)> {
        let mut done = Vec::new();
        while let Some(&i) = misses.get(next.fetch_add(1, Ordering::Relaxed)) {
            done.push((i, hash_one(job, &seen[i])));
        }
        done
    };
    let results: Vec<_> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..SCAN_THREADS.min(misses.len())).map(|_| s.spawn(work)).collect();
        let mut all = vec![work()];
        all.extend(helpers.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))));
        all
    });
    for (i, d) in results.into_iter().flatten() {
        digests[i] = d;
    }
    (digests, misses.len())
}

/// Reads and hashes one item; `None` when it is gone.
fn hash_one(job: &ScanJob<'_>, item: &Seen) -> Result<Option<Digests>, ReplicaError> {
    let key = &item.key;
    let path = match &item.source {
        Source::Target(t) => t.clone(),
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
