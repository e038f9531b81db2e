//! `FsReplica`: a folder as a replica — scan, read, and atomic compare-and-swap writes
//! and deletes with backups.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use ignore::gitignore::Gitignore;
use twinsync_core::replica::{Flush, ItemReader, ReplicaError, ScanFailure, WriteContext};
use twinsync_core::{Content, Digest, Entry, HashRules, Key, Replica, Snapshot, Timestamp};

use crate::cache::{root_identity, CacheEntry, StatCache};
use crate::cache_file;
use crate::error::FsError;
use crate::options::{FsOptions, SymlinkMode};
use crate::paths::{
    check_key, checked_path, classify, content_of, copy_hashing, digest_file, digest_path, io_err, open_to_read,
    read_sized, system_time_ns, Stat, TMP_MARKER,
};
use crate::progress::{Observer, Reporter, ScanObserver};
use crate::scan::{self, Got, ScanJob};

/// What the last scan did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanStats {
    /// Files in the snapshot.
    pub files: usize,
    /// Files whose contents were read and hashed (the rest came from the stat cache).
    pub hashed: usize,
    /// Things skipped, each naming the path and why (links, unrepresentable names, bad ignore rules).
    pub warnings: Vec<String>,
    /// Files that could not be read or parsed (invalid JSON, permission denied, invalid
    /// UTF-8): left out of the snapshot, each failing alone.
    pub failures: Vec<ScanFailure>,
}

/// A folder on disk as a twinsync replica.
#[derive(Debug)]
pub struct FsReplica {
    name: String,
    root: PathBuf,
    canon_root: PathBuf,
    rules: HashRules,
    symlinks: SymlinkMode,
    backup_dir: Option<PathBuf>,
    globs: Arc<Gitignore>,
    cache: StatCache,
    /// Which folder the root is, for the stat cache (see `cache::root_identity`).
    root_id: u64,
    /// The cache differs from what the host last persisted (or imported).
    cache_dirty: bool,
    last_scan: ScanStats,
    /// Who hears of a scan's progress, and after how long.
    observer: Option<Observer>,
    /// Files written since the last flush, to fsync there.
    unflushed_files: Vec<PathBuf>,
    /// Folders whose entries changed since the last flush, each once.
    unflushed_dirs: BTreeSet<PathBuf>,
    /// The root folder, for reads resolved beneath it in one call (`read_beneath`).
    #[cfg(target_os = "linux")]
    root_fd: Option<std::os::fd::OwnedFd>,
}

/// A file's bytes and their digest as read for a copy; `None` when absent.
type Scanned = Option<(Vec<u8>, Digest)>;

/// Distinguishes the temporary files of concurrent writes within one process.
static TMP_COUNTER: AtomicU64 = AtomicU64::new(0);

impl FsReplica {
    /// Opens the folder at `root`; a missing root or one that is not a directory is
    /// [`ReplicaError::Unavailable`], an unparseable ignore glob an error naming it.
    pub fn open(root: &Path, opts: FsOptions) -> Result<FsReplica, ReplicaError> {
        let name = if opts.name.is_empty() { root.display().to_string() } else { opts.name.clone() };
        let unavailable = |reason: String| ReplicaError::Unavailable { name: name.clone(), reason };
        let root_id = match fs::metadata(root) {
            Ok(m) if m.is_dir() => root_identity(&m),
            Ok(_) => return Err(unavailable(format!("root {} is not a directory", root.display()))),
            Err(e) => return Err(unavailable(format!("root {}: {e}", root.display()))),
        };
        let canon_root = fs::canonicalize(root).map_err(|e| unavailable(format!("root {}: {e}", root.display())))?;
        let globs = scan::glob_matcher(root, &opts.ignore).map_err(|(glob, message)| ReplicaError::Io {
            key: name.clone(),
            message: FsError::Glob { glob, message }.to_string(),
        })?;
        Ok(FsReplica {
            cache: StatCache::new(&opts.rules, root_id),
            root_id,
            cache_dirty: true,
            name,
            root: root.to_path_buf(),
            canon_root,
            rules: opts.rules,
            symlinks: opts.symlinks,
            backup_dir: opts.backup_dir,
            globs: Arc::new(globs),
            last_scan: ScanStats::default(),
            observer: None,
            unflushed_files: Vec::new(),
            unflushed_dirs: BTreeSet::new(),
            #[cfg(target_os = "linux")]
            root_fd: {
                use rustix::fs::{Mode, OFlags};
                rustix::fs::open(root, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).ok()
            },
        })
    }

    /// Calls `observer` with the progress of each later scan that runs longer than
    /// `after`, about ten times a second, from the scan's threads.
    pub fn observe_scans(&mut self, observer: ScanObserver, after: Duration) {
        self.observer = Some(Observer { call: observer, after });
    }

    /// The folder this replica is.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// What the last scan did (how many files it hashed, what it skipped).
    pub fn last_scan(&self) -> &ScanStats {
        &self.last_scan
    }

    /// The stat cache as compact bytes, for the host to persist between runs.
    pub fn export_stat_cache(&self) -> Vec<u8> {
        self.cache.encode()
    }

    /// True when the stat cache changed since it was imported or marked saved, so a host
    /// can skip persisting an unchanged cache (8 MB at 100k files).
    pub fn stat_cache_dirty(&self) -> bool {
        self.cache_dirty
    }

    /// Records that the host persisted the current stat cache.
    pub fn mark_stat_cache_saved(&mut self) {
        self.cache_dirty = false;
    }

    /// Loads a stat cache exported earlier; damaged bytes, another format version or
    /// other hash rules are ignored (the next scan hashes everything). True when loaded.
    pub fn import_stat_cache(&mut self, bytes: &[u8]) -> bool {
        self.adopt_stat_cache(StatCache::decode(bytes, &self.rules, self.root_id))
    }

    fn adopt_stat_cache(&mut self, cache: Option<StatCache>) -> bool {
        match cache {
            Some(c) => {
                self.cache = c;
                self.cache_dirty = false;
                true
            }
            None => {
                self.cache = StatCache::new(&self.rules, self.root_id);
                false
            }
        }
    }

    /// Loads the stat cache [`save_stat_cache`](Self::save_stat_cache) left at `path`.
    /// A missing, unreadable or damaged file, one of another version, of other hash
    /// rules or of another folder, is no cache: the next scan hashes everything. True
    /// when loaded.
    pub fn load_stat_cache(&mut self, path: &Path) -> bool {
        match cache_file::read(path) {
            // The bytes read become the cache, parsed where they lie.
            Some(bytes) => {
                let cache = StatCache::decode_owned(bytes, &self.rules, self.root_id);
                self.adopt_stat_cache(cache)
            }
            None => false,
        }
    }

    /// Writes the stat cache to `path` when it changed since it was loaded or last
    /// saved, replacing the file atomically (temporary file, flush, rename). True when
    /// it wrote. The file holds names, stats and digests, never contents.
    pub fn save_stat_cache(&mut self, path: &Path) -> std::io::Result<bool> {
        if !self.cache_dirty {
            return Ok(false);
        }
        cache_file::write_atomically(path, &self.cache.encode())?;
        self.cache_dirty = false;
        Ok(true)
    }

    fn path_of(&self, key: &Key) -> Result<PathBuf, ReplicaError> {
        checked_path(&self.root, &self.canon_root, key, self.symlinks == SymlinkMode::FollowWithinRoot)
    }

    /// The file `path` stands for: itself, or the target of a link when links are
    /// followed. `Ok(None)` when absent or a skipped link.
    fn resolve_file(&self, key: &Key, path: &Path) -> Result<Option<PathBuf>, ReplicaError> {
        let meta = match fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io_err(key, format!("cannot stat {}: {e}", path.display()))),
            Ok(m) => m,
        };
        if meta.file_type().is_symlink() {
            if self.symlinks == SymlinkMode::Skip {
                return Ok(None);
            }
            let target = match fs::canonicalize(path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io_err(key, format!("cannot resolve link {}: {e}", path.display()))),
                Ok(t) => t,
            };
            if !target.starts_with(&self.canon_root) || !target.is_file() {
                return Ok(None);
            }
            return Ok(Some(target));
        }
        if meta.is_dir() {
            return Err(io_err(key, format!("{} is a directory, not a file", path.display())));
        }
        Ok(Some(path.to_path_buf()))
    }

    /// Reads the file at `path` (for `key`), or `None` when absent.
    fn read_bytes(&self, key: &Key, path: &Path) -> Result<Option<(PathBuf, Vec<u8>)>, ReplicaError> {
        let Some(file) = self.resolve_file(key, path)? else { return Ok(None) };
        match fs::read(&file) {
            Ok(b) => Ok(Some((file, b))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(key, format!("cannot read {}: {e}", file.display()))),
        }
    }

    /// The current digest at `path`, checked against `expected` (compare-and-swap).
    fn check(&self, key: &Key, path: &Path, expected: Option<&Digest>) -> Result<Option<PathBuf>, ReplicaError> {
        if let Some(target) = self.link_at(key, path)? {
            let found = self.link_digest(key, target)?;
            return expect(key, expected, Some(&found)).map(|()| Some(path.to_path_buf()));
        }
        let Some(file) = self.resolve_file(key, path)? else {
            return expect(key, expected, None).map(|()| None);
        };
        let found = digest_path(&self.rules, key, &file)?;
        expect(key, expected, found.as_ref())?;
        Ok(found.map(|_| file))
    }

    /// Bookkeeping after `path`, item `key`, went: its cache entry, and the folders the
    /// removal left empty, up to (not including) the root; the nearest folder that stays
    /// is the one whose entry changed.
    fn removed(&mut self, key: &Key, path: &Path) {
        self.cache.forget(key.as_str());
        self.cache_dirty = true;
        let mut dir = path.parent().map(Path::to_path_buf);
        while let Some(d) = dir {
            if d == self.root || !d.starts_with(&self.root) || fs::remove_dir(&d).is_err() {
                self.unflushed_dirs.insert(d);
                break;
            }
            dir = d.parent().map(Path::to_path_buf);
        }
    }

    /// The folder an item at `path` goes in.
    fn folder_of(&self, path: &Path) -> PathBuf {
        path.parent().unwrap_or(&self.root).to_path_buf()
    }

    /// A fresh temporary name in `dir` for the item at `path`. The pid in it lets a later
    /// scan clear what a killed writer left.
    fn temp_in(dir: &Path, path: &Path) -> PathBuf {
        let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("item");
        dir.join(format!(
            ".{file_name}{TMP_MARKER}{}-{}",
            std::process::id(),
            TMP_COUNTER.fetch_add(1, Ordering::Relaxed)
        ))
    }

    /// Creates the temporary file `tmp` in `dir`, creating the folders it needs. Most
    /// writes go to a folder that exists, so it is tried first; folders made here are
    /// flushed with the batch, each with its parent, so the new entries survive a power
    /// cut as the file does.
    fn create_temp(&mut self, key: &Key, dir: &Path, tmp: &Path) -> Result<File, ReplicaError> {
        let create = || OpenOptions::new().write(true).create_new(true).open(tmp);
        let fail = |e: std::io::Error| io_err(key, format!("cannot create {}: {e}", tmp.display()));
        match create() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            r => return r.map_err(fail),
        }
        self.make_dirs(key, dir)?;
        create().map_err(fail)
    }

    /// A file with no name yet in `dir` (`O_TMPFILE`), for a new item: it gets its name
    /// only once written ([`Self::link_new`]), so a kill leaves nothing behind, and the
    /// folder gets one entry instead of a temporary one and a rename. `None` where the
    /// system or the filesystem cannot, or `/proc` is not there to name it by.
    #[cfg(target_os = "linux")]
    fn create_unnamed(&mut self, key: &Key, dir: &Path) -> Result<Option<File>, ReplicaError> {
        use rustix::fs::{openat, Mode, OFlags, CWD};
        if !unnamed_files() {
            return Ok(None);
        }
        // The mode is what `File::create` asks for; the umask applies to both.
        let open = || openat(CWD, dir, OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC, Mode::from(0o666));
        let fd = match open() {
            Err(rustix::io::Errno::NOENT) => {
                self.make_dirs(key, dir)?;
                open()
            }
            r => r,
        };
        match fd {
            Ok(fd) => Ok(Some(File::from(fd))),
            // Not supported here (an old kernel, a filesystem without it): a named temp file.
            Err(rustix::io::Errno::OPNOTSUPP | rustix::io::Errno::ISDIR | rustix::io::Errno::INVAL) => Ok(None),
            Err(e) => Err(io_err(key, format!("cannot create a file in {}: {e}", dir.display()))),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn create_unnamed(&mut self, _key: &Key, _dir: &Path) -> Result<Option<File>, ReplicaError> {
        Ok(None)
    }

    /// [`Self::create_unnamed`] for the new item `key` in fewer calls: the file is
    /// created in its folder by one `openat2` beneath the root that refuses any link on
    /// the way, so the folders need no stat first. `None` when that does not settle it
    /// (a missing folder, a link on the way, an older kernel): the checked path then
    /// makes the folders or refuses, as it always did. As there, a link made on the way
    /// between this check and the file's naming is not seen.
    #[cfg(target_os = "linux")]
    fn create_beneath(&self, key: &Key) -> Result<Option<File>, ReplicaError> {
        use rustix::fs::{Mode, OFlags};
        let Some(root) = &self.root_fd else { return Ok(None) };
        if !unnamed_files() {
            return Ok(None);
        }
        check_key(key)?;
        let dir = key.as_str().rsplit_once('/').map_or(".", |(dir, _)| dir);
        // The mode is what `File::create` asks for; the umask applies to both.
        let flags = OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC;
        Ok(open_beneath(root, dir, flags, Mode::from(0o666)).ok().map(File::from))
    }

    #[cfg(not(target_os = "linux"))]
    fn create_beneath(&self, _key: &Key) -> Result<Option<File>, ReplicaError> {
        Ok(None)
    }

    /// Names the written file `f` as `target`, only where nothing is: the link fails
    /// when something is there, which is a conflict (or the skipped link's error).
    /// With `beneath`, the new name is walked from the root's descriptor, not from `/`.
    #[cfg(target_os = "linux")]
    fn link_new(&self, key: &Key, f: &File, target: &Path, beneath: bool) -> Result<(), ReplicaError> {
        use rustix::fs::{linkat, AtFlags, CWD};
        use std::os::fd::{AsFd, AsRawFd};
        let name = format!("/proc/self/fd/{}", f.as_raw_fd());
        let (dir, new) = match (&self.root_fd, beneath) {
            (Some(root), true) => (root.as_fd(), Path::new(key.as_str())),
            _ => (CWD, target),
        };
        // Something there is a conflict; gone again by the time it is checked, the link
        // is tried again, a few times.
        for _ in 0..3 {
            match linkat(CWD, name.as_str(), dir, new, AtFlags::SYMLINK_FOLLOW) {
                Ok(()) => return Ok(()),
                Err(rustix::io::Errno::EXIST) => {
                    self.refuse_skipped_link(key, target)?;
                    self.check(key, target, None)?;
                }
                Err(e) => return Err(io_err(key, format!("cannot create {}: {e}", target.display()))),
            }
        }
        Err(io_err(key, format!("cannot create {}: something keeps appearing and vanishing there", target.display())))
    }

    #[cfg(not(target_os = "linux"))]
    fn link_new(&self, _key: &Key, _f: &File, _target: &Path, _beneath: bool) -> Result<(), ReplicaError> {
        unreachable!("no unnamed files to link without Linux's O_TMPFILE")
    }

    /// Creates `dir` and the folders above it that are missing; each new folder's parent
    /// is flushed with the batch.
    fn make_dirs(&mut self, key: &Key, dir: &Path) -> Result<(), ReplicaError> {
        let mut missing = dir;
        while missing != self.root && !missing.exists() {
            let parent = missing.parent().unwrap_or(&self.root);
            self.unflushed_dirs.insert(parent.to_path_buf());
            missing = parent;
        }
        fs::create_dir_all(dir).map_err(|e| io_err(key, format!("cannot create {}: {e}", dir.display())))
    }

    /// The target text of the link at `path`, when links are items (`symlinks: links`).
    fn link_at(&self, key: &Key, path: &Path) -> Result<Option<String>, ReplicaError> {
        if self.symlinks != SymlinkMode::Links {
            return Ok(None);
        }
        match fs::symlink_metadata(path) {
            Ok(m) if m.file_type().is_symlink() => {
                let target = fs::read_link(path)
                    .map_err(|e| io_err(key, format!("cannot read link {}: {e}", path.display())))?;
                target
                    .to_str()
                    .map(|t| Some(t.to_string()))
                    .ok_or_else(|| io_err(key, format!("link {} has a target that is not UTF-8", path.display())))
            }
            _ => Ok(None),
        }
    }

    fn link_digest(&self, key: &Key, target: String) -> Result<Digest, ReplicaError> {
        self.rules
            .digest(&Content::Link(target))
            .map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })
    }

    /// Writes a link atomically: a temporary link renamed over the item, with the same
    /// compare-and-swap and backup as a file.
    fn write_link(
        &mut self,
        key: &Key,
        path: &Path,
        target: &str,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        if self.symlinks != SymlinkMode::Links {
            return Err(io_err(key, "is a symbolic link on the other side; set symlinks = \"links\" to sync links"));
        }
        check_link_target(key, target)?;
        let digest = self.link_digest(key, target.to_string())?;
        self.check(key, path, expected)?;
        let dir = self.folder_of(path);
        let tmp = Self::temp_in(&dir, path);
        self.make_dirs(key, &dir)?;
        let result = (|| -> Result<(), ReplicaError> {
            make_symlink(Path::new(target), &tmp)
                .map_err(|e| io_err(key, format!("cannot create link {}: {e}", tmp.display())))?;
            if let Some(old) = self.check(key, path, expected)? {
                self.backup(key, &old, ctx)?;
            }
            fs::rename(&tmp, path).map_err(|e| io_err(key, format!("cannot rename into {}: {e}", path.display())))
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result?;
        self.unflushed_dirs.insert(dir);
        self.cache.forget(key.as_str());
        self.cache_dirty = true;
        Ok(digest)
    }

    /// Writes `bytes` as the item `key` with [`Self::replace_with`]; a new item, where
    /// the system can, in a file created beneath the root (`create_beneath`).
    fn write_bytes(
        &mut self,
        key: &Key,
        bytes: &[u8],
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<(), ReplicaError> {
        let fill = |f: &mut File, tmp: &Path| {
            f.write_all(bytes).map_err(|e| io_err(key, format!("cannot write {}: {e}", tmp.display())))
        };
        if expected.is_none() {
            if let Some(mut f) = self.create_beneath(key)? {
                let target = self.root.join(key.as_str());
                fill(&mut f, &target)?;
                self.link_new(key, &f, &target, true)?;
                self.wrote(key, target);
                return Ok(());
            }
        }
        let path = self.path_of(key)?;
        self.replace_with(key, &path, expected, ctx, fill)
    }

    /// Bookkeeping after the item `key` was written at `target`: the file and its
    /// folder wait for the batch's flush, and its cache entry is stale.
    fn wrote(&mut self, key: &Key, target: PathBuf) {
        let dir = self.folder_of(&target);
        self.unflushed_files.push(target);
        self.unflushed_dirs.insert(dir);
        self.cache.forget(key.as_str());
        self.cache_dirty = true;
    }

    /// Replaces the item at `path` atomically: `fill` writes the new bytes into a fresh
    /// temporary file beside it, which is renamed over the item only if the item still
    /// has digest `expected` (checked before and right before the rename), after the old
    /// file is backed up. A new item (`expected` is `None`) is written unnamed where the
    /// system can and linked in, else renamed in, only where nothing is. The flush of the
    /// file and its folder waits for [`Replica::flush`].
    fn replace_with(
        &mut self,
        key: &Key,
        path: &Path,
        expected: Option<&Digest>,
        ctx: &WriteContext,
        fill: impl FnOnce(&mut File, &Path) -> Result<(), ReplicaError>,
    ) -> Result<(), ReplicaError> {
        // Fail fast before creating anything; checked again right before the rename. A
        // new item is only checked there: the early checks would cost stats per file
        // of a first sync to catch a race the late one catches anyway.
        let target = match expected {
            None => path.to_path_buf(),
            Some(_) => {
                self.refuse_skipped_link(key, path)?;
                self.check(key, path, expected)?.unwrap_or_else(|| path.to_path_buf())
            }
        };
        let dir = self.folder_of(&target);
        let unnamed = match expected {
            None => self.create_unnamed(key, &dir)?,
            Some(_) => None,
        };
        match unnamed {
            Some(mut f) => {
                fill(&mut f, &target)?;
                self.link_new(key, &f, &target, false)?;
            }
            None => self.replace_through_temp(key, path, &target, &dir, expected, ctx, fill)?,
        }
        self.wrote(key, target);
        Ok(())
    }

    /// [`Self::replace_with`] through a named temporary file in `dir`, renamed over
    /// `target` once the item still holds `expected`.
    #[allow(clippy::too_many_arguments)]
    fn replace_through_temp(
        &mut self,
        key: &Key,
        path: &Path,
        target: &Path,
        dir: &Path,
        expected: Option<&Digest>,
        ctx: &WriteContext,
        fill: impl FnOnce(&mut File, &Path) -> Result<(), ReplicaError>,
    ) -> Result<(), ReplicaError> {
        let tmp = Self::temp_in(dir, target);
        let result = (|| -> Result<(), ReplicaError> {
            let mut f = self.create_temp(key, dir, &tmp)?;
            fill(&mut f, &tmp)?;
            // A new item has no permissions to keep (and no file to ask).
            if expected.is_some() {
                if let Ok(m) = fs::metadata(target) {
                    f.set_permissions(m.permissions())
                        .map_err(|e| io_err(key, format!("cannot copy permissions to {}: {e}", tmp.display())))?;
                }
            }
            // Durability waits for `flush`, once per batch: a kill cannot tear the file
            // (the rename is atomic and the page cache survives the process).
            drop(f);
            if expected.is_none() {
                if self.rename_new(key, &tmp, target)? {
                    return Ok(());
                }
                self.refuse_skipped_link(key, path)?;
            }
            let current = self.check(key, path, expected)?;
            if let Some(old) = &current {
                self.backup(key, old, ctx)?;
            }
            fs::rename(&tmp, target)
                .map_err(|e| io_err(key, format!("cannot rename into {}: {e}", target.display())))?;
            Ok(())
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result
    }

    /// Refuses to replace a link that is not an item here (`symlinks: skip`).
    fn refuse_skipped_link(&self, key: &Key, path: &Path) -> Result<(), ReplicaError> {
        if self.symlinks == SymlinkMode::Skip && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(io_err(key, format!("{} is a symbolic link; not replaced (symlinks: skip)", path.display())));
        }
        Ok(())
    }

    /// Renames `tmp` to `target` only if nothing is at `target`, in one system call:
    /// `Ok(true)` when done, a conflict (or the skipped link's error) when something is
    /// there, and `Ok(false)` when this filesystem cannot rename that way, so the caller
    /// checks then renames.
    #[cfg(target_os = "linux")]
    fn rename_new(&self, key: &Key, tmp: &Path, target: &Path) -> Result<bool, ReplicaError> {
        use rustix::fs::{renameat_with, RenameFlags, CWD};
        match renameat_with(CWD, tmp, CWD, target, RenameFlags::NOREPLACE) {
            Ok(()) => Ok(true),
            Err(rustix::io::Errno::EXIST) => {
                self.refuse_skipped_link(key, target)?;
                self.check(key, target, None)?;
                // Gone again since: the caller's check and rename settle it.
                Ok(false)
            }
            Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::NOTSUP) => Ok(false),
            Err(e) => Err(io_err(key, format!("cannot rename into {}: {e}", target.display()))),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn rename_new(&self, _key: &Key, _tmp: &Path, _target: &Path) -> Result<bool, ReplicaError> {
        Ok(false)
    }

    /// The bytes of the file at `path` (for `key`) and their digest, `None` when absent.
    /// The file the scan hashed, by the scan's own rule (same stat, not racy), still has
    /// the digest it recorded; only a file whose stat moved is hashed again.
    fn read_scanned(&self, key: &Key, path: &Path) -> Result<Scanned, ReplicaError> {
        let Some(file) = self.resolve_file(key, path)? else { return Ok(None) };
        let fail = |e: std::io::Error| io_err(key, format!("cannot read {}: {e}", file.display()));
        let f = match open_to_read(&file) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            r => r.map_err(fail)?,
        };
        let meta = f.metadata().map_err(fail)?;
        self.read_digested(key, &file, f, &meta).map(Some)
    }

    /// The bytes of the open file `f` (`file` in errors), whose stat is `meta`, and
    /// their digest: the scan's when the stat is the one it recorded, else hashed now.
    fn read_digested(
        &self,
        key: &Key,
        file: &Path,
        mut f: File,
        meta: &fs::Metadata,
    ) -> Result<(Vec<u8>, Digest), ReplicaError> {
        let bytes =
            read_sized(&mut f, meta.len()).map_err(|e| io_err(key, format!("cannot read {}: {e}", file.display())))?;
        let digest = match self.cache.digests_of(key.as_str(), &Stat::of(meta)) {
            Some(d) if bytes.len() as u64 == meta.len() => d.canonical,
            _ => digest_file(&self.rules, key, &bytes)?,
        };
        Ok((bytes, digest))
    }

    /// [`Self::read_scanned`] in fewer calls where the system can: the file is opened
    /// beneath the root by one `openat2` that refuses any link on the way, so neither
    /// its folders nor the file need a stat first (3 of the 7 calls of a file read).
    /// `None` when that does not settle it (a link, a folder, an older kernel, links
    /// as items): the checked path then tells those cases apart, as it always did.
    #[cfg(target_os = "linux")]
    fn read_beneath(&self, key: &Key) -> Result<Option<Scanned>, ReplicaError> {
        use rustix::fs::{Mode, OFlags};
        use rustix::io::Errno;
        let Some(root) = &self.root_fd else { return Ok(None) };
        if self.symlinks == SymlinkMode::Links {
            return Ok(None);
        }
        check_key(key)?;
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        // Access time as `open_to_read` leaves it: untouched for the owner's files.
        let opened = match open_beneath(root, key.as_str(), flags | OFlags::NOATIME, Mode::empty()) {
            Err(Errno::PERM) => open_beneath(root, key.as_str(), flags, Mode::empty()),
            r => r,
        };
        let f = match opened {
            Ok(fd) => File::from(fd),
            // Absent, and no link on the way could have hidden it: absent for the
            // checked path too.
            Err(Errno::NOENT) => return Ok(Some(None)),
            Err(_) => return Ok(None),
        };
        let file = self.root.join(key.as_str());
        let meta = f.metadata().map_err(|e| io_err(key, format!("cannot read {}: {e}", file.display())))?;
        if !meta.is_file() {
            return Ok(None);
        }
        self.read_digested(key, &file, f, &meta).map(|read| Some(Some(read)))
    }

    #[cfg(not(target_os = "linux"))]
    fn read_beneath(&self, _key: &Key) -> Result<Option<Scanned>, ReplicaError> {
        Ok(None)
    }

    /// Where operation `operation_id` keeps its backup of `key`.
    fn backup_path(&self, key: &Key, operation_id: &str) -> Option<PathBuf> {
        let dir = self.backup_dir.as_ref()?;
        let op: String = operation_id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' })
            .collect();
        let op = if op.is_empty() || op.starts_with('.') { "no-operation".to_string() } else { op };
        Some(dir.join(op).join(key.as_str()))
    }

    fn backup(&self, key: &Key, file: &Path, ctx: &WriteContext) -> Result<(), ReplicaError> {
        let Some(dest) = self.backup_path(key, &ctx.operation_id) else { return Ok(()) };
        if dest.exists() {
            // The first backup in an operation is the state before it; keep that one.
            return Ok(());
        }
        let fail =
            |e: std::io::Error| io_err(key, format!("backup to {} failed, nothing changed: {e}", dest.display()));
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(fail)?;
        }
        if fs::symlink_metadata(file).is_ok_and(|m| m.file_type().is_symlink()) {
            // A link is backed up as the link, never as what it points to.
            let target = fs::read_link(file).map_err(fail)?;
            make_symlink(&target, &dest).map_err(fail)?;
            return Ok(());
        }
        // A hard link keeps the old file at no cost: the write renames a new file over
        // the item and a delete unlinks it, so the old inode is never changed again, and
        // a large file costs neither a copy nor the time to make one. Across filesystems
        // (or where links are refused) it is copied.
        if fs::hard_link(file, &dest).is_ok() {
            return Ok(());
        }
        fs::copy(file, &dest).map_err(fail)?;
        File::open(&dest).and_then(|f| f.sync_all()).map_err(fail)?;
        Ok(())
    }
}

/// Compare-and-swap's check: `Ok` when the item holds `expected` (`None`: absent).
fn expect(key: &Key, expected: Option<&Digest>, found: Option<&Digest>) -> Result<(), ReplicaError> {
    match found == expected {
        true => Ok(()),
        false => Err(ReplicaError::conflict(key, expected, found)),
    }
}

/// Refuses a link target that is absolute or climbs above the root from where the link sits.
fn check_link_target(key: &Key, target: &str) -> Result<(), ReplicaError> {
    let refuse = |why: &str| io_err(key, format!("link target {target:?} {why}; refused"));
    if target.is_empty() {
        return Err(refuse("is empty"));
    }
    if Path::new(target).is_absolute() || target.contains('\0') {
        return Err(refuse("is absolute"));
    }
    // Depth below the root of the folder holding the link, then walk the target.
    let mut depth = key.as_str().matches('/').count() as i64;
    for seg in target.split('/') {
        match seg {
            "" | "." => {}
            ".." => depth -= 1,
            _ => depth += 1,
        }
        if depth < 0 {
            return Err(refuse("points outside the root"));
        }
    }
    Ok(())
}

#[cfg(unix)]
fn make_symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn make_symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(std::io::ErrorKind::Unsupported, "syncing links is supported on Unix only"))
}

/// Above this many files and folders to flush, one `syncfs` per filesystem replaces an
/// fsync of each.
#[cfg(target_os = "linux")]
const SYNCFS_ABOVE: usize = 8;

/// Flushes, with one `syncfs` each, every filesystem holding one of `dirs` (a folder of
/// every written file is among them). False when any fails: the caller falls back to
/// an fsync of each file and folder.
#[cfg(target_os = "linux")]
fn syncfs_all(dirs: &BTreeSet<PathBuf>) -> bool {
    use std::os::unix::fs::MetadataExt;
    use std::os::unix::io::AsRawFd;
    let mut devices = BTreeSet::new();
    for dir in dirs {
        let Ok(f) = File::open(dir) else { return false };
        let Ok(meta) = f.metadata() else { return false };
        if !devices.insert(meta.dev()) {
            continue;
        }
        // SAFETY: `f` is an open descriptor for the whole call; syncfs only reads it.
        if unsafe { libc::syncfs(f.as_raw_fd()) } != 0 {
            return false;
        }
    }
    true
}

/// Makes the writes of `files` and the entry changes of `dirs` durable: one `syncfs` per
/// filesystem when there are many, else an fsync of each. A file or folder gone since
/// (replaced or deleted by a later write of the sync) has nothing left to keep.
fn flush_written(files: Vec<PathBuf>, dirs: BTreeSet<PathBuf>) -> Result<(), ReplicaError> {
    #[cfg(target_os = "linux")]
    if files.len() + dirs.len() > SYNCFS_ABOVE && syncfs_all(&dirs) {
        return Ok(());
    }
    let kept = |path: &Path, flushed: std::io::Result<()>, what: &str| match flushed {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(ReplicaError::Io { key: path.display().to_string(), message: format!("{what}: {e}") })
        }
        _ => Ok(()),
    };
    for file in files {
        kept(&file, File::open(&file).and_then(|f| f.sync_all()), "written, but flushing it failed")?;
    }
    for dir in dirs {
        kept(&dir, sync_dir(&dir), "changed, but flushing the folder failed")?;
    }
    Ok(())
}

/// Flushes a directory entry change (a rename or unlink) to disk.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

impl Replica for FsReplica {
    fn name(&self) -> &str {
        &self.name
    }

    fn rules(&self) -> &HashRules {
        &self.rules
    }

    fn scan(&mut self) -> Result<Snapshot, ReplicaError> {
        if !self.root.is_dir() {
            return Err(ReplicaError::Unavailable {
                name: self.name.clone(),
                reason: format!("root {} is missing or not a directory", self.root.display()),
            });
        }
        let started = system_time_ns(Some(SystemTime::now()));
        let exclude = self.backup_dir.as_ref().filter(|b| b.starts_with(&self.root)).cloned();
        let out = scan::run(&ScanJob {
            root: &self.root,
            canon_root: &self.canon_root,
            rules: &self.rules,
            cache: &self.cache,
            globs: self.globs.clone(),
            symlinks: self.symlinks,
            exclude,
            progress: &Reporter::new(self.observer.as_ref()),
        })?;
        // Nothing rehashed and no file came or went: the cache already describes this
        // tree (its older capture time keeps racy judgements conservative), so keep it.
        let unchanged = out.hashed == 0 && out.files == self.cache.len();
        let mut cache = StatCache::new(&self.rules, self.root_id);
        if !unchanged {
            cache.captured_at_ns = started;
            cache.reserve(out.files, out.seen.iter().map(|f| f.key.as_str().len()).sum());
        }
        // The scan's files come sorted, so this list is the snapshot as it is. Sized
        // exactly: a filtering iterator would make a collect grow it by doubling, copying
        // 12 MB at 100k files.
        let mut entries = Vec::with_capacity(out.files);
        for (f, got) in out.seen.into_iter().zip(out.got) {
            let digests = match got {
                Got::Cached(e) => self.cache.digests(e),
                Got::Fresh(i) => out.fresh[i as usize],
                Got::Gone => continue,
            };
            if !unchanged {
                cache.push(f.key.as_str(), CacheEntry { stat: f.stat, digests });
            }
            let modified = Some(Timestamp::from_millis(f.stat.mtime_ns.div_euclid(1_000_000)));
            let (digest, bytes) = (digests.canonical, Some(digests.bytes));
            entries.push(Entry { key: f.key, digest, size: f.stat.size, modified, bytes });
        }
        let snap = Snapshot::from_entries(entries);
        if !unchanged {
            self.cache = cache;
            self.cache_dirty = true;
        }
        self.last_scan =
            ScanStats { files: snap.len(), hashed: out.hashed, warnings: out.warnings, failures: out.failures };
        Ok(snap)
    }

    fn scan_failures(&self) -> Vec<ScanFailure> {
        self.last_scan.failures.clone()
    }

    fn read(&self, key: &Key) -> Result<Option<Content>, ReplicaError> {
        let path = self.path_of(key)?;
        if let Some(target) = self.link_at(key, &path)? {
            return Ok(Some(Content::Link(target)));
        }
        match self.read_bytes(key, &path)? {
            None => Ok(None),
            Some((_, bytes)) => content_of(&self.rules, key, bytes).map(Some),
        }
    }

    fn read_expected(&self, key: &Key, expected: Option<&Digest>) -> Result<Option<Content>, ReplicaError> {
        if let Some(scanned) = self.read_beneath(key)? {
            expect(key, expected, scanned.as_ref().map(|(_, d)| d))?;
            return scanned.map(|(bytes, _)| content_of(&self.rules, key, bytes)).transpose();
        }
        let path = self.path_of(key)?;
        if let Some(target) = self.link_at(key, &path)? {
            let found = self.link_digest(key, target.clone())?;
            return expect(key, expected, Some(&found)).map(|()| Some(Content::Link(target)));
        }
        let scanned = self.read_scanned(key, &path)?;
        expect(key, expected, scanned.as_ref().map(|(_, d)| d))?;
        scanned.map(|(bytes, _)| content_of(&self.rules, key, bytes)).transpose()
    }

    fn digest(&self, key: &Key) -> Result<Option<Digest>, ReplicaError> {
        let path = self.path_of(key)?;
        if let Some(target) = self.link_at(key, &path)? {
            return self.link_digest(key, target).map(Some);
        }
        match self.resolve_file(key, &path)? {
            None => Ok(None),
            Some(file) => digest_path(&self.rules, key, &file),
        }
    }

    fn write(
        &mut self,
        key: &Key,
        content: &Content,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        if let Content::Link(target) = content {
            let path = self.path_of(key)?;
            return self.write_link(key, &path, target, expected, ctx);
        }
        let bytes = content.as_bytes();
        // The digest a later scan will see, so the engine's base matches the next scan.
        let digest = digest_file(&self.rules, key, bytes)?;
        self.write_bytes(key, bytes, expected, ctx)?;
        Ok(digest)
    }

    fn write_digested(
        &mut self,
        key: &Key,
        content: &Content,
        post: &Digest,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        // A scan reads the file as `classify` says; content of that kind digests as the
        // caller did. Any other (a link, JSON text under a `.txt` name) is digested here.
        let bytes = content.as_bytes();
        if matches!(content, Content::Link(_)) || classify(&self.rules, key.as_str(), bytes) != content.kind() {
            return self.write(key, content, expected, ctx);
        }
        self.write_bytes(key, bytes, expected, ctx)?;
        Ok(*post)
    }

    fn write_from(
        &mut self,
        key: &Key,
        src: &mut dyn std::io::Read,
        post: &Digest,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        let path = self.path_of(key)?;
        let rules = self.rules.clone();
        self.replace_with(key, &path, expected, ctx, |f, tmp| {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, f);
            let (found, len) = copy_hashing(src, &mut out)
                .map_err(|e| io_err(key, format!("cannot copy into {}: {e}", tmp.display())))?;
            out.flush().map_err(|e| io_err(key, format!("cannot write {}: {e}", tmp.display())))?;
            drop(out);
            // A large item is digested as its bytes; a small one (an earlier version
            // restored from a backup) as a scan digests it, which needs it whole.
            let found = match rules.is_large(len) {
                true => found,
                false => {
                    let bytes =
                        fs::read(tmp).map_err(|e| io_err(key, format!("cannot read {}: {e}", tmp.display())))?;
                    digest_file(&rules, key, &bytes)?
                }
            };
            if &found != post {
                return Err(ReplicaError::conflict(key, Some(post), Some(&found)));
            }
            Ok(())
        })?;
        Ok(*post)
    }

    fn delete(&mut self, key: &Key, expected: &Digest, ctx: &WriteContext) -> Result<(), ReplicaError> {
        let path = self.path_of(key)?;
        let Some(file) = self.check(key, &path, Some(expected))? else {
            return Err(ReplicaError::conflict(key, Some(expected), None));
        };
        self.backup(key, &file, ctx)?;
        // A followed link is removed itself, never its target.
        fs::remove_file(&path).map_err(|e| io_err(key, format!("cannot delete {}: {e}", path.display())))?;
        self.removed(key, &path);
        Ok(())
    }

    /// Moves the file itself: the target gets the same inode, nothing is copied, and
    /// nothing is backed up since nothing is lost (undo renames it back). A hard link
    /// then an unlink, because a link never replaces what is at `to`, where a rename
    /// would; a kill in between leaves both names, which the next sync settles as a
    /// delete of the old one. Links, and folders that refuse hard links, are written and
    /// deleted instead.
    fn rename(&mut self, from: &Key, to: &Key, expected: &Digest, ctx: &WriteContext) -> Result<Digest, ReplicaError> {
        let (src, dst) = (self.path_of(from)?, self.path_of(to)?);
        let Some(file) = self.check(from, &src, Some(expected))? else {
            return Err(ReplicaError::conflict(from, Some(expected), None));
        };
        self.check(to, &dst, None)?;
        let is_link = fs::symlink_metadata(&file).is_ok_and(|m| m.file_type().is_symlink());
        let dir = self.folder_of(&dst);
        self.make_dirs(to, &dir)?;
        let linked = match is_link {
            true => Err(std::io::Error::other("a link is written, not linked")),
            false => fs::hard_link(&file, &dst),
        };
        match linked {
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let found = digest_path(&self.rules, to, &dst)?;
                return Err(ReplicaError::conflict(to, None, found.as_ref()));
            }
            Err(_) => return twinsync_core::replica::rename_by_copy(self, from, to, expected, ctx),
            Ok(()) => {}
        }
        self.unflushed_dirs.insert(dir);
        self.cache.forget(to.as_str());
        fs::remove_file(&file)
            .map_err(|e| io_err(from, format!("renamed, but cannot remove {}: {e}", file.display())))?;
        self.removed(from, &file);
        Ok(*expected)
    }

    /// Makes the writes since the last flush durable: the files, then their folders,
    /// each once. On Linux a batch of more than a few is flushed with one `syncfs` per
    /// filesystem it touched instead: an fsync per file costs a journal commit each
    /// (1.3 ms here), which made a first sync of small files ten times slower than
    /// `rsync -a`; one `syncfs` writes the batch back together.
    fn flush(&mut self) -> Result<(), ReplicaError> {
        flush_written(std::mem::take(&mut self.unflushed_files), std::mem::take(&mut self.unflushed_dirs))
    }

    fn flush_later(&mut self) -> Result<Option<Flush>, ReplicaError> {
        if self.unflushed_files.is_empty() && self.unflushed_dirs.is_empty() {
            return Ok(None);
        }
        let (files, dirs) = (std::mem::take(&mut self.unflushed_files), std::mem::take(&mut self.unflushed_dirs));
        Ok(Some(Box::new(move || flush_written(files, dirs))))
    }

    fn open(&self, key: &Key) -> Result<Option<ItemReader>, ReplicaError> {
        // The engine asks this of every item it copies; the scan just recorded each
        // file's size, so a file it saw small costs no syscall here. One that grew since
        // is then read whole, and its write refuses it: it no longer has the scanned digest.
        if self.cache.size_of(key.as_str()).is_some_and(|size| !self.rules.is_large(size)) {
            return Ok(None);
        }
        let path = self.path_of(key)?;
        if self.link_at(key, &path)?.is_some() {
            return Ok(None);
        }
        let Some(file) = self.resolve_file(key, &path)? else { return Ok(None) };
        open_large(&self.rules, key, &file)
    }

    fn keeps_backups(&self) -> bool {
        self.backup_dir.is_some()
    }

    fn open_backup(&self, key: &Key, operation_id: &str) -> Result<Option<ItemReader>, ReplicaError> {
        let Some(path) = self.backup_path(key, operation_id) else { return Ok(None) };
        if fs::symlink_metadata(&path).map_or(true, |m| !m.is_file()) {
            return Ok(None);
        }
        let f = File::open(&path).map_err(|e| io_err(key, format!("cannot read backup {}: {e}", path.display())))?;
        let len = f.metadata().map_err(|e| io_err(key, format!("cannot stat backup {}: {e}", path.display())))?.len();
        Ok(Some(ItemReader { len, reader: Box::new(f) }))
    }
}

/// The file at `path` as a stream when it is large under `rules`; `None` when small or gone.
fn open_large(rules: &HashRules, key: &Key, path: &Path) -> Result<Option<ItemReader>, ReplicaError> {
    let f = match File::open(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        r => r.map_err(|e| io_err(key, format!("cannot read {}: {e}", path.display())))?,
    };
    let len = f.metadata().map_err(|e| io_err(key, format!("cannot stat {}: {e}", path.display())))?.len();
    if !rules.is_large(len) {
        return Ok(None);
    }
    Ok(Some(ItemReader { len, reader: Box::new(f) }))
}

impl Drop for FsReplica {
    /// Writes made outside the engine (which flushes each batch) are flushed on the way out.
    fn drop(&mut self) {
        let _ = Replica::flush(self);
    }
}

/// Removes backup folders (one per operation) under `dir` last modified before
/// `older_than`; returns how many were removed. A missing `dir` has nothing to prune.
pub fn prune_backups(dir: &Path, older_than: SystemTime) -> Result<usize, FsError> {
    let entries = match fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(FsError::io(dir, e)),
        Ok(it) => it,
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.map_err(|e| FsError::io(dir, e))?;
        let path = entry.path();
        let meta = entry.metadata().map_err(|e| FsError::io(&path, e))?;
        if !meta.is_dir() {
            continue;
        }
        if meta.modified().map_err(|e| FsError::io(&path, e))? < older_than {
            fs::remove_dir_all(&path).map_err(|e| FsError::io(&path, e))?;
            removed += 1;
        }
    }
    Ok(removed)
}

/// Opens `rel` beneath the folder `root` in one `openat2` that refuses any link on the
/// way and any path out of `root`. A kernel without `openat2` answers `NOSYS`, and is
/// not asked again.
#[cfg(target_os = "linux")]
fn open_beneath(
    root: &std::os::fd::OwnedFd,
    rel: &str,
    flags: rustix::fs::OFlags,
    mode: rustix::fs::Mode,
) -> rustix::io::Result<std::os::fd::OwnedFd> {
    use rustix::fs::ResolveFlags;
    static UNSUPPORTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if UNSUPPORTED.load(Ordering::Relaxed) {
        return Err(rustix::io::Errno::NOSYS);
    }
    let how = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    let opened = rustix::fs::openat2(root, rel, flags, mode, how);
    if matches!(opened, Err(rustix::io::Errno::NOSYS)) {
        UNSUPPORTED.store(true, Ordering::Relaxed);
    }
    opened
}

/// Whether new files can be created unnamed and named once written: Linux's
/// `O_TMPFILE`, linked in through `/proc`, unless a test asked for named files.
#[cfg(target_os = "linux")]
fn unnamed_files() -> bool {
    static PROC_FDS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *PROC_FDS.get_or_init(|| Path::new("/proc/self/fd").is_dir()) && !named_only()
}

/// Whether a test asked for named temporary files only.
fn named_only() -> bool {
    #[cfg(test)]
    return tests::named_only();
    #[cfg(not(test))]
    false
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        /// Writes new files through a named temporary file, as where `O_TMPFILE` is missing.
        static NAMED_ONLY: Cell<bool> = const { Cell::new(false) };
    }

    pub(super) fn named_only() -> bool {
        NAMED_ONLY.with(Cell::get)
    }

    /// New files, unnamed or through a named temporary file, land whole in new folders, a
    /// create over an existing file is refused and keeps it, and nothing else is left.
    #[test]
    fn a_new_file_is_created_only_where_nothing_is_either_way() {
        for named in [false, true] {
            NAMED_ONLY.with(|n| n.set(named));
            let dir = tempfile::tempdir().unwrap();
            let mut r = FsReplica::open(dir.path(), FsOptions::default()).unwrap();
            let ctx = WriteContext { operation_id: "op".into() };
            let k = Key::new("deep/er/a.md").unwrap();
            r.write(&k, &Content::Text("one\n".into()), None, &ctx).unwrap();
            r.flush().unwrap();
            assert_eq!(fs::read_to_string(dir.path().join("deep/er/a.md")).unwrap(), "one\n", "named: {named}");
            let e = r.write(&k, &Content::Text("two\n".into()), None, &ctx).unwrap_err();
            assert!(matches!(&e, ReplicaError::Conflict { key, .. } if key == &k), "named: {named}: {e}");
            assert_eq!(fs::read_to_string(dir.path().join("deep/er/a.md")).unwrap(), "one\n", "named: {named}");
            let names: Vec<_> =
                fs::read_dir(dir.path().join("deep/er")).unwrap().map(|e| e.unwrap().file_name()).collect();
            assert_eq!(names, ["a.md"], "named: {named}");
        }
        NAMED_ONLY.with(|n| n.set(false));
    }

    #[test]
    fn a_flush_handed_over_takes_what_was_written_and_runs_on_another_thread() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = FsReplica::open(dir.path(), FsOptions::default()).unwrap();
        let ctx = WriteContext { operation_id: "op".into() };
        assert!(r.flush_later().unwrap().is_none(), "nothing written, nothing to flush");
        // Past SYNCFS_ABOVE, and a few below it, so both ways of flushing run.
        for n in [3, 20] {
            for i in 0..n {
                let k = Key::new(format!("batch{n}/f{i}.md")).unwrap();
                r.write(&k, &Content::Text(format!("{i}\n")), None, &ctx).unwrap();
            }
            let flush = r.flush_later().unwrap().expect("the writes' flush");
            assert!(r.flush_later().unwrap().is_none(), "handed over once");
            // A file replaced since (as a later batch may) has nothing left to flush.
            fs::remove_file(dir.path().join(format!("batch{n}/f0.md"))).unwrap();
            std::thread::spawn(flush).join().unwrap().unwrap();
        }
    }
}
