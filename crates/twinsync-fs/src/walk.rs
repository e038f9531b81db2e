//! The walk: every file under the root with its stat, honouring ignore files and the
//! configured globs, on [`WALK_THREADS`] threads.
//!
//! Each directory is opened relative to its parent's descriptor and its files are
//! stat'ed relative to its own (`fstatat`), so the kernel resolves one name per file
//! instead of every component of an absolute path: those path walks were the top of a
//! warm status's profile (a fifth of its CPU on a 100,000-file pair). Ignore files are
//! seen in the directory listing itself, so no directory is probed for them.
//!
//! Ignore files mean what they mean to git and ripgrep, with the `ignore` crate's
//! matchers and its precedence: `.twinsyncignore` over `.ignore` over `.gitignore`, and
//! within each kind the deepest directory's file that says anything about a path
//! decides. Hidden files are walked; ignore files above the root, git's global and
//! `info/exclude` files are not read, so a pair syncs the same wherever it is cloned.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::Match;
use twinsync_core::replica::ReplicaError;
use twinsync_core::Key;

use crate::options::SymlinkMode;
use crate::paths::{io_err, is_abandoned_temp, is_reserved_name, is_temp_name};
use crate::scan::{ScanJob, Seen, Source};

/// Name of the per-directory ignore file twinsync reads besides `.gitignore` and `.ignore`.
pub(crate) const IGNORE_FILE: &str = ".twinsyncignore";

/// Threads a walk stats on.
const WALK_THREADS: usize = 2;

/// What a walk found: the files (in no order) and what it skipped, said once each.
pub(crate) struct Walked {
    pub files: Vec<Seen>,
    pub warnings: Vec<String>,
}

/// Walks the tree under `job.root`; fails on the first directory or file it cannot read,
/// since what it skipped would look deleted and the deletion would sync.
pub(crate) fn run(job: &ScanJob<'_>) -> Result<Walked, ReplicaError> {
    let root = sys::open_root(job.root)
        .map_err(|e| io_err(job.root.display(), format!("scan failed: cannot read the root: {e}")))?;
    let exclude = job.exclude.as_deref().and_then(|x| x.strip_prefix(job.root).ok()).and_then(Path::to_str);
    let walk = Walk {
        job,
        exclude,
        queue: Mutex::new(Queue { dirs: vec![Task { dir: root, rel: String::new(), ignores: None }], busy: 0 }),
        ready: Condvar::new(),
        failed: AtomicBool::new(false),
    };
    let results: Vec<Result<Walked, ReplicaError>> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..WALK_THREADS).map(|_| s.spawn(|| walk.work())).collect();
        let mut all = vec![walk.work()];
        all.extend(helpers.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))));
        all
    });
    let mut out = Walked { files: Vec::new(), warnings: Vec::new() };
    for r in results {
        let mut w = r?;
        out.files.append(&mut w.files);
        out.warnings.append(&mut w.warnings);
    }
    out.warnings.sort();
    Ok(out)
}

/// A directory to list: its open descriptor, its path relative to the root (`""` for
/// the root), and the ignore files of the directories above it.
struct Task {
    dir: sys::Dir,
    rel: String,
    ignores: Option<Arc<Ignores>>,
}

struct Queue {
    dirs: Vec<Task>,
    /// Threads listing a directory, which may queue more.
    busy: usize,
}

struct Walk<'a> {
    job: &'a ScanJob<'a>,
    exclude: Option<&'a str>,
    queue: Mutex<Queue>,
    ready: Condvar,
    failed: AtomicBool,
}

impl Walk<'_> {
    /// One thread: takes directories until none is left and none is being listed.
    fn work(&self) -> Result<Walked, ReplicaError> {
        let mut out = Walked { files: Vec::new(), warnings: Vec::new() };
        // Each entry's relative path is built here, and copied out only for what is kept
        // (a folder's task, a file's key).
        let mut rel = String::new();
        while let Some(task) = self.next() {
            let mut found = Vec::new();
            let before = out.files.len();
            let listed = self.list(task, &mut out, &mut found, &mut rel);
            self.job.progress.found(out.files.len() - before);
            let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
            q.busy -= 1;
            if let Err(e) = listed {
                self.failed.store(true, Ordering::Relaxed);
                self.ready.notify_all();
                return Err(e);
            }
            q.dirs.append(&mut found);
            self.ready.notify_all();
        }
        Ok(out)
    }

    fn next(&self) -> Option<Task> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.failed.load(Ordering::Relaxed) {
                return None;
            }
            if let Some(t) = q.dirs.pop() {
                q.busy += 1;
                return Some(t);
            }
            if q.busy == 0 {
                return None;
            }
            q = self.ready.wait(q).unwrap_or_else(|p| p.into_inner());
        }
    }

    /// Lists one directory: its files go to `out`, its subdirectories to `subdirs`.
    fn list(
        &self,
        mut task: Task,
        out: &mut Walked,
        subdirs: &mut Vec<Task>,
        rel: &mut String,
    ) -> Result<(), ReplicaError> {
        let job = self.job;
        // The folder's path is for messages, ignore files and temp clean-up only: most
        // folders need none of them, so it is built when asked for.
        let here = || job.root.join(&task.rel);
        let entries =
            task.dir.entries().map_err(|e| io_err(here().display(), format!("scan failed: cannot list it: {e}")))?;
        let ignores = match Ignores::read(job.root, &task.rel, &entries, &task.ignores, &mut out.warnings) {
            Some(level) => Some(Arc::new(level)),
            None => task.ignores.clone(),
        };
        let at_root = task.rel.is_empty();
        for entry in entries {
            let Some(name) = entry.name.to_str() else {
                out.warnings
                    .push(format!("{}: skipped, the name is not valid UTF-8", here().join(&entry.name).display()));
                continue;
            };
            let mut kind = entry.kind;
            if kind == Kind::Unknown {
                // Filesystems that do not say a type in their listings.
                kind = task
                    .dir
                    .kind_of(&entry.name)
                    .map_err(|e| io_err(child(&task.rel, name), format!("cannot stat it: {e}")))?;
            }
            let is_dir = kind == Kind::Dir;
            if is_reserved_name(at_root, name) {
                // A writer killed between creating its temp file and the rename leaves the
                // temp behind; the scan that finds it clears it (a failure leaves it for later).
                if !is_dir && is_temp_name(name) {
                    let path = here().join(name);
                    if is_abandoned_temp(&path, name) {
                        let _ = std::fs::remove_file(&path);
                    }
                }
                continue;
            }
            rel.clear();
            if !at_root {
                rel.push_str(&task.rel);
                rel.push('/');
            }
            rel.push_str(name);
            if self.exclude == Some(rel.as_str())
                || job.globs.matched(&*rel, is_dir).is_ignore()
                || ignores.as_deref().is_some_and(|i| i.ignore(rel, is_dir))
            {
                continue;
            }
            match kind {
                Kind::Dir => match task.dir.open_dir(&entry.name) {
                    Ok(dir) => subdirs.push(Task { dir, rel: rel.clone(), ignores: ignores.clone() }),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err(&*rel, format!("scan failed: cannot open the folder: {e}"))),
                },
                Kind::File | Kind::Link => {
                    self.file(&task.dir, &entry.name, rel, kind, out)?;
                }
                Kind::Other | Kind::Unknown => out.warnings.push(format!("{rel}: skipped, not a regular file")),
            }
        }
        Ok(())
    }

    /// One file or link, `name` in the directory `dir`, at `rel` under the root.
    fn file(
        &self,
        dir: &sys::Dir,
        name: &std::ffi::OsStr,
        rel: &str,
        kind: Kind,
        out: &mut Walked,
    ) -> Result<(), ReplicaError> {
        let job = self.job;
        let key = match Key::new(rel) {
            Ok(k) => k,
            Err(e) => {
                out.warnings.push(format!("{}: skipped, {e}", job.root.join(rel).display()));
                return Ok(());
            }
        };
        let (stat, source) = match kind {
            Kind::Link if job.symlinks == SymlinkMode::Links => (dir.stat(name, false), Source::Link),
            Kind::Link => match link_target(job, &job.root.join(rel)) {
                Ok(t) => (sys::stat_path(&t), Source::Target(t)),
                Err(w) => {
                    out.warnings.push(format!("{rel}: skipped symbolic link, {w}"));
                    return Ok(());
                }
            },
            _ => (dir.stat(name, true), Source::File),
        };
        // A file deleted while the walk runs is simply absent.
        match stat {
            Ok(stat) => out.files.push(Seen { key, stat, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&key, format!("cannot stat {}: {e}", job.root.join(rel).display()))),
        }
        Ok(())
    }
}

/// `name` under the directory `rel` (`""` for the root), in one allocation.
fn child(rel: &str, name: &str) -> String {
    if rel.is_empty() {
        return name.to_string();
    }
    let mut s = String::with_capacity(rel.len() + 1 + name.len());
    s.push_str(rel);
    s.push('/');
    s.push_str(name);
    s
}

/// The file a link stands for, when links are followed and it stays inside the root.
fn link_target(job: &ScanJob<'_>, path: &Path) -> Result<std::path::PathBuf, String> {
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

/// The ignore files of one directory, and those of the directories above it.
struct Ignores {
    custom: Gitignore,
    ignore: Gitignore,
    git: Gitignore,
    parent: Option<Arc<Ignores>>,
}

impl Ignores {
    /// The ignore files among `entries` of the directory `rel` under `root`, on top of
    /// `parent`; `None` when it has none. A bad line is a warning and the rest applies.
    fn read(
        root: &Path,
        rel: &str,
        entries: &[Entry],
        parent: &Option<Arc<Ignores>>,
        warnings: &mut Vec<String>,
    ) -> Option<Ignores> {
        let has = |n: &str| entries.iter().any(|e| e.name == n && e.kind != Kind::Dir);
        let (custom, ignore, git) = (has(IGNORE_FILE), has(".ignore"), has(".gitignore"));
        if !(custom || ignore || git) {
            return None;
        }
        let mut matcher = |present: bool, name: &str| {
            if !present {
                return Gitignore::empty();
            }
            // Rooted at the relative path, as the walk's paths are relative.
            let mut b = GitignoreBuilder::new(rel);
            if let Some(e) = b.add(root.join(rel).join(name)) {
                warnings.push(format!("ignore rule skipped: {e}"));
            }
            b.build().unwrap_or_else(|e| {
                warnings.push(format!("ignore rule skipped: {e}"));
                Gitignore::empty()
            })
        };
        Some(Ignores {
            custom: matcher(custom, IGNORE_FILE),
            ignore: matcher(ignore, ".ignore"),
            git: matcher(git, ".gitignore"),
            parent: parent.clone(),
        })
    }

    /// True when the ignore files say `rel` is ignored.
    fn ignore(&self, rel: &str, is_dir: bool) -> bool {
        let (mut custom, mut ignore, mut git) = (Match::None, Match::None, Match::None);
        let mut level = Some(self);
        while let Some(l) = level {
            if custom.is_none() {
                custom = l.custom.matched(rel, is_dir);
            }
            if ignore.is_none() {
                ignore = l.ignore.matched(rel, is_dir);
            }
            if git.is_none() {
                git = l.git.matched(rel, is_dir);
            }
            level = l.parent.as_deref();
        }
        custom.or(ignore).or(git).is_ignore()
    }
}

/// What a directory listing says an entry is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Dir,
    File,
    Link,
    Other,
    /// The filesystem did not say (some do not): a stat tells.
    Unknown,
}

/// One entry of a directory listing.
struct Entry {
    name: std::ffi::OsString,
    kind: Kind,
}

#[cfg(unix)]
mod sys {
    //! Directories as descriptors: entries are opened and stat'ed relative to them.

    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    use rustix::fs::{AtFlags, FileType, Mode, OFlags};

    use super::{Entry, Kind};
    use crate::paths::Stat;

    fn kind(t: FileType) -> Kind {
        match t {
            FileType::Directory => Kind::Dir,
            FileType::RegularFile => Kind::File,
            FileType::Symlink => Kind::Link,
            FileType::Unknown => Kind::Unknown,
            _ => Kind::Other,
        }
    }

    /// An open directory: listed once, then its entries are opened and stat'ed
    /// relative to it.
    pub(crate) struct Dir(rustix::fs::Dir);

    const DIR_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC).union(OFlags::NOFOLLOW);

    fn dir(fd: std::os::fd::OwnedFd) -> std::io::Result<Dir> {
        Ok(Dir(rustix::fs::Dir::new(fd)?))
    }

    pub(crate) fn open_root(path: &Path) -> std::io::Result<Dir> {
        // The root itself may be a link to a folder: followed, as the user named it.
        let flags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC);
        dir(rustix::fs::open(path, flags, Mode::empty())?)
    }

    fn stat_of(s: &rustix::fs::Stat) -> Stat {
        #[allow(clippy::unnecessary_cast)] // the field types differ between platforms
        Stat {
            size: s.st_size as u64,
            mtime_ns: (s.st_mtime as i64).saturating_mul(1_000_000_000).saturating_add(s.st_mtime_nsec as i64),
            ctime_ns: (s.st_ctime as i64).saturating_mul(1_000_000_000).saturating_add(s.st_ctime_nsec as i64),
            ino: s.st_ino as u64,
        }
    }

    pub(crate) fn stat_path(path: &Path) -> std::io::Result<Stat> {
        Ok(stat_of(&rustix::fs::stat(path)?))
    }

    impl Dir {
        pub(crate) fn entries(&mut self) -> std::io::Result<Vec<Entry>> {
            let mut out = Vec::new();
            while let Some(e) = self.0.read() {
                let e = e?;
                let name = e.file_name().to_bytes();
                if name == b"." || name == b".." {
                    continue;
                }
                out.push(Entry { name: OsStr::from_bytes(name).to_os_string(), kind: kind(e.file_type()) });
            }
            Ok(out)
        }

        fn at<T>(&self, f: impl FnOnce(std::os::fd::BorrowedFd<'_>) -> rustix::io::Result<T>) -> std::io::Result<T> {
            Ok(f(self.0.fd()?)?)
        }

        pub(crate) fn open_dir(&self, name: &OsStr) -> std::io::Result<Dir> {
            dir(self.at(|fd| rustix::fs::openat(fd, name, DIR_FLAGS, Mode::empty()))?)
        }

        pub(crate) fn stat(&self, name: &OsStr, follow: bool) -> std::io::Result<Stat> {
            let flags = if follow { AtFlags::empty() } else { AtFlags::SYMLINK_NOFOLLOW };
            Ok(stat_of(&self.at(|fd| rustix::fs::statat(fd, name, flags))?))
        }

        pub(crate) fn kind_of(&self, name: &OsStr) -> std::io::Result<Kind> {
            let s = self.at(|fd| rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW))?;
            Ok(kind(FileType::from_raw_mode(s.st_mode as _)))
        }
    }
}

#[cfg(not(unix))]
mod sys {
    //! Directories as paths, where descriptors relative to a directory are not at hand.

    use std::ffi::OsStr;
    use std::path::{Path, PathBuf};

    use super::{Entry, Kind};
    use crate::paths::Stat;

    fn kind(t: std::fs::FileType) -> Kind {
        if t.is_dir() {
            Kind::Dir
        } else if t.is_file() {
            Kind::File
        } else if t.is_symlink() {
            Kind::Link
        } else {
            Kind::Other
        }
    }

    pub(crate) struct Dir(PathBuf);

    pub(crate) fn open_root(path: &Path) -> std::io::Result<Dir> {
        std::fs::read_dir(path)?;
        Ok(Dir(path.to_path_buf()))
    }

    pub(crate) fn stat_path(path: &Path) -> std::io::Result<Stat> {
        Ok(Stat::of(&std::fs::metadata(path)?))
    }

    impl Dir {
        pub(crate) fn entries(&mut self) -> std::io::Result<Vec<Entry>> {
            let mut out = Vec::new();
            for e in std::fs::read_dir(&self.0)? {
                let e = e?;
                out.push(Entry { name: e.file_name(), kind: e.file_type().map(kind).unwrap_or(Kind::Unknown) });
            }
            Ok(out)
        }

        pub(crate) fn open_dir(&self, name: &OsStr) -> std::io::Result<Dir> {
            let path = self.0.join(name);
            std::fs::read_dir(&path)?;
            Ok(Dir(path))
        }

        pub(crate) fn stat(&self, name: &OsStr, follow: bool) -> std::io::Result<Stat> {
            let path = self.0.join(name);
            let m = if follow { std::fs::metadata(path)? } else { std::fs::symlink_metadata(path)? };
            Ok(Stat::of(&m))
        }

        pub(crate) fn kind_of(&self, name: &OsStr) -> std::io::Result<Kind> {
            Ok(kind(std::fs::symlink_metadata(self.0.join(name))?.file_type()))
        }
    }
}
