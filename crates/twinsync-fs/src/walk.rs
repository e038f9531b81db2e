//! The walk: every file under the root with its stat, honouring ignore files and the
//! configured globs, on [`WALK_THREADS`] threads.
//!
//! Each directory is opened relative to its parent's descriptor and its files are
//! stat'ed relative to its own (`fstatat`), so the kernel resolves one name per file
//! instead of every component of an absolute path: those path walks were the top of a
//! warm status's profile (a fifth of its CPU on a 100,000-file pair). Ignore files are
//! seen in the directory listing itself, so no directory is probed for them.
//!
//! The files come out sorted by key, with no sort of the whole list: each directory's
//! listing is sorted on its own (a folder's name as if it ended in `/`, as git's index
//! orders them), so visiting the folders depth first in that order visits every path in
//! byte order. Threads list folders in any order; each folder's files are kept apart and
//! stitched together at the end. One sort of 100,000 keys spread over the heap cost more
//! than the thousand small sorts of names that sit side by side in one buffer.
//!
//! Ignore files mean what they mean to git and ripgrep, with the `ignore` crate's
//! matchers and its precedence: `.twinsyncignore` over `.ignore` over `.gitignore`, and
//! within each kind the deepest directory's file that says anything about a path
//! decides. Hidden files are walked; ignore files above the root, git's global and
//! `info/exclude` files are not read, so a pair syncs the same wherever it is cloned.

use std::cmp::Ordering as Order;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
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

/// What a walk found: the files, sorted by key, and what it skipped, said once each.
pub(crate) struct Walked {
    pub files: Vec<Seen>,
    pub warnings: Vec<String>,
}

/// What one thread found: each folder's part, and what it skipped.
struct Harvest {
    parts: Vec<(usize, Part)>,
    warnings: Vec<String>,
}

/// One folder's files in key order, and where its subfolders' parts go among them.
#[derive(Default)]
struct Part {
    files: Vec<Seen>,
    /// (how many of `files` come before it, the subfolder's part), in order.
    subdirs: Vec<(usize, usize)>,
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
        queue: Mutex::new(Queue {
            dirs: vec![Task { dir: root, rel: String::new(), ignores: None, part: 0 }],
            busy: 0,
        }),
        ready: Condvar::new(),
        failed: AtomicBool::new(false),
        parts: AtomicUsize::new(1),
    };
    let results: Vec<Result<Harvest, ReplicaError>> = std::thread::scope(|s| {
        let helpers: Vec<_> = (1..WALK_THREADS).map(|_| s.spawn(|| walk.work())).collect();
        let mut all = vec![walk.work()];
        all.extend(helpers.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))));
        all
    });
    let mut parts: Vec<Option<Part>> = Vec::new();
    parts.resize_with(walk.parts.load(Ordering::Relaxed), || None);
    let mut warnings = Vec::new();
    let mut total = 0;
    for r in results {
        let mut harvest = r?;
        for (id, part) in harvest.parts {
            total += part.files.len();
            parts[id] = Some(part);
        }
        warnings.append(&mut harvest.warnings);
    }
    warnings.sort();
    Ok(Walked { files: stitch(parts, total), warnings })
}

/// The files of every part, depth first from the root's: each subfolder's files where
/// its name sorts among its parent's files, so the whole comes out in key order.
fn stitch(mut parts: Vec<Option<Part>>, total: usize) -> Vec<Seen> {
    struct Open {
        files: std::vec::IntoIter<Seen>,
        subdirs: std::iter::Peekable<std::vec::IntoIter<(usize, usize)>>,
        taken: usize,
    }
    let open = |p: Part| Open { files: p.files.into_iter(), subdirs: p.subdirs.into_iter().peekable(), taken: 0 };
    let mut out = Vec::with_capacity(total);
    let mut stack: Vec<Open> = parts.first_mut().and_then(Option::take).map(open).into_iter().collect();
    while let Some(top) = stack.last_mut() {
        if let Some(&(_, id)) = top.subdirs.next_if(|&(at, _)| at == top.taken).as_ref() {
            // A folder listed but gone before it was opened has no part.
            if let Some(p) = parts.get_mut(id).and_then(Option::take) {
                stack.push(open(p));
            }
            continue;
        }
        match top.files.next() {
            Some(f) => {
                out.push(f);
                top.taken += 1;
            }
            None => {
                stack.pop();
            }
        }
    }
    out
}

/// What a walker thread reuses from one folder to the next: the listing with its read
/// buffer, the sort order and the relative path being built. Fresh ones for each folder
/// took a third of a warm status's page faults (the kernel filling a new 32 KiB buffer
/// for every folder).
#[derive(Default)]
struct Scratch {
    listing: sys::Listing,
    order: Vec<(u64, u32)>,
    /// Each entry's relative path, copied out only for what is kept (a folder's task, a
    /// file's key).
    rel: String,
}

/// A directory to list: its open descriptor, its path relative to the root (`""` for
/// the root), the ignore files of the directories above it, and the number of its part.
struct Task {
    dir: sys::Dir,
    rel: String,
    ignores: Option<Arc<Ignores>>,
    part: usize,
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
    /// Parts numbered so far (the root's is 0).
    parts: AtomicUsize,
}

impl Walk<'_> {
    /// One thread: takes directories until none is left and none is being listed.
    fn work(&self) -> Result<Harvest, ReplicaError> {
        let mut out = Harvest { parts: Vec::new(), warnings: Vec::new() };
        let mut scratch = Scratch::default();
        while let Some(task) = self.next() {
            let mut found = Vec::new();
            let id = task.part;
            let mut part = Part::default();
            let listed = self.list(task, &mut part, &mut out.warnings, &mut found, &mut scratch);
            self.job.progress.found(part.files.len());
            out.parts.push((id, part));
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

    /// Lists one directory: its files go to `part` in key order, its subdirectories to
    /// `subdirs`.
    fn list(
        &self,
        mut task: Task,
        part: &mut Part,
        warnings: &mut Vec<String>,
        subdirs: &mut Vec<Task>,
        scratch: &mut Scratch,
    ) -> Result<(), ReplicaError> {
        let job = self.job;
        // The folder's path is for messages, ignore files and temp clean-up only: most
        // folders need none of them, so it is built when asked for.
        let here = || job.root.join(&task.rel);
        let Scratch { listing, order, rel } = scratch;
        task.dir
            .list_into(listing)
            .map_err(|e| io_err(here().display(), format!("scan failed: cannot list it: {e}")))?;
        order.clear();
        for i in 0..listing.len() {
            let Some(name) = listing.name(i).to_str() else {
                warnings
                    .push(format!("{}: skipped, the name is not valid UTF-8", here().join(listing.name(i)).display()));
                continue;
            };
            if listing.kind(i) == Kind::Unknown {
                // Filesystems that do not say a type in their listings. The type decides
                // where a name sorts, so it is asked before sorting.
                let kind = task
                    .dir
                    .kind_of(listing.name(i))
                    .map_err(|e| io_err(child(&task.rel, name), format!("cannot stat it: {e}")))?;
                listing.set_kind(i, kind);
            }
            order.push((order_prefix(listing.bytes(i), listing.kind(i) == Kind::Dir), i as u32));
        }
        // Most names of a folder differ in their first eight bytes, so most comparisons
        // are of two integers; only names sharing those go to the full comparison.
        order.sort_unstable_by(|&(pa, a), &(pb, b)| {
            pa.cmp(&pb).then_with(|| {
                let (a, b) = (a as usize, b as usize);
                path_order(
                    listing.bytes(a),
                    listing.kind(a) == Kind::Dir,
                    listing.bytes(b),
                    listing.kind(b) == Kind::Dir,
                )
            })
        });
        let ignores = match Ignores::read(job.root, &task.rel, listing, &task.ignores, warnings) {
            Some(level) => Some(Arc::new(level)),
            None => task.ignores.clone(),
        };
        let at_root = task.rel.is_empty();
        part.files.reserve(order.len());
        for &(_, i) in order.iter() {
            let i = i as usize;
            let (entry_name, kind) = (listing.name(i), listing.kind(i));
            // SAFETY: only names that passed `to_str` above were put in `order`; checking
            // again cost 1% of a warm status.
            let name = unsafe { std::str::from_utf8_unchecked(listing.bytes(i)) };
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
                Kind::Dir => match task.dir.open_dir(entry_name) {
                    Ok(dir) => {
                        let id = self.parts.fetch_add(1, Ordering::Relaxed);
                        part.subdirs.push((part.files.len(), id));
                        subdirs.push(Task { dir, rel: rel.clone(), ignores: ignores.clone(), part: id });
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(io_err(&*rel, format!("scan failed: cannot open the folder: {e}"))),
                },
                Kind::File | Kind::Link => {
                    self.file(&task.dir, entry_name, rel, kind, &mut part.files, warnings)?;
                }
                Kind::Other | Kind::Unknown => warnings.push(format!("{rel}: skipped, not a regular file")),
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
        files: &mut Vec<Seen>,
        warnings: &mut Vec<String>,
    ) -> Result<(), ReplicaError> {
        let job = self.job;
        let key = match Key::new(rel) {
            Ok(k) => k,
            Err(e) => {
                warnings.push(format!("{}: skipped, {e}", job.root.join(rel).display()));
                return Ok(());
            }
        };
        let (stat, source) = match kind {
            Kind::Link if job.symlinks == SymlinkMode::Links => (dir.stat(name, false), Source::Link),
            Kind::Link => match link_target(job, &job.root.join(rel)) {
                Ok(t) => (sys::stat_path(&t), Source::Target(Box::new(t))),
                Err(w) => {
                    warnings.push(format!("{rel}: skipped symbolic link, {w}"));
                    return Ok(());
                }
            },
            _ => (dir.stat(name, true), Source::File),
        };
        // A file deleted while the walk runs is simply absent.
        match stat {
            Ok(stat) => files.push(Seen { key, stat, source }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&key, format!("cannot stat {}: {e}", job.root.join(rel).display()))),
        }
        Ok(())
    }
}

/// The order of two names of one folder's entries that keeps whole paths in byte order
/// when folders are visited depth first: a folder's name compares as if it ended in `/`,
/// which every path under it has next.
fn path_order(a: &[u8], a_dir: bool, b: &[u8], b_dir: bool) -> Order {
    let n = a.len().min(b.len());
    match a[..n].cmp(&b[..n]) {
        Order::Equal => {}
        o => return o,
    }
    // One name starts the other: what follows the shorter one is its `/` or nothing.
    let next = |s: &[u8], dir: bool| s.get(n).copied().or(dir.then_some(b'/'));
    next(a, a_dir).cmp(&next(b, b_dir))
}

/// The first eight bytes of a name as [`path_order`] sees it (a folder's followed by
/// `/`), big-endian and padded with zeros: integers in the same order as the names,
/// where they differ. Names hold no NUL, so a name ending within the eight sorts before
/// any longer one it starts, as it should.
fn order_prefix(name: &[u8], dir: bool) -> u64 {
    let mut b = [0u8; 8];
    let n = name.len().min(8);
    b[..n].copy_from_slice(&name[..n]);
    if dir && n < 8 {
        b[n] = b'/';
    }
    u64::from_be_bytes(b)
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
    /// The ignore files among the `listing` of the directory `rel` under `root`, on top of
    /// `parent`; `None` when it has none. A bad line is a warning and the rest applies.
    fn read(
        root: &Path,
        rel: &str,
        listing: &sys::Listing,
        parent: &Option<Arc<Ignores>>,
        warnings: &mut Vec<String>,
    ) -> Option<Ignores> {
        let has = |n: &str| (0..listing.len()).any(|i| listing.name(i) == n && listing.kind(i) != Kind::Dir);
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

#[cfg(unix)]
mod sys {
    //! Directories as descriptors: entries are opened and stat'ed relative to them.

    use std::ffi::OsStr;
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    use rustix::fs::{AtFlags, FileType, Mode, OFlags};

    use super::Kind;
    use crate::paths::Stat;

    /// One directory's entries, their names back to back in one buffer: one allocation
    /// a folder rather than one a file. A walker lists every folder into the same one.
    #[derive(Default)]
    pub(crate) struct Listing {
        names: Vec<u8>,
        /// Where each name lies in `names`, and what the listing says it is.
        entries: Vec<(u32, u32, Kind)>,
        /// What `getdents` writes into, kept between folders.
        #[cfg(target_os = "linux")]
        raw: Vec<u8>,
    }

    impl Listing {
        fn clear(&mut self) {
            self.names.clear();
            self.entries.clear();
        }

        pub(crate) fn len(&self) -> usize {
            self.entries.len()
        }

        pub(crate) fn bytes(&self, i: usize) -> &[u8] {
            let (start, len, _) = self.entries[i];
            &self.names[start as usize..(start + len) as usize]
        }

        pub(crate) fn name(&self, i: usize) -> &OsStr {
            OsStr::from_bytes(self.bytes(i))
        }

        pub(crate) fn kind(&self, i: usize) -> Kind {
            self.entries[i].2
        }

        pub(crate) fn set_kind(&mut self, i: usize, kind: Kind) {
            self.entries[i].2 = kind;
        }

        /// Adds an entry as the directory lists it; `.` and `..` are not entries.
        fn push(&mut self, name: &[u8], t: FileType) -> std::io::Result<()> {
            if name == b"." || name == b".." {
                return Ok(());
            }
            // A listing of 4 GiB of names is not one a folder has.
            let (Ok(start), Ok(len)) = (u32::try_from(self.names.len()), u32::try_from(name.len())) else {
                return Err(std::io::Error::other("the folder's listing is too large"));
            };
            self.names.extend_from_slice(name);
            self.entries.push((start, len, kind(t)));
            Ok(())
        }
    }

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
    pub(crate) struct Dir(OwnedFd);

    const DIR_FLAGS: OFlags = OFlags::RDONLY.union(OFlags::DIRECTORY).union(OFlags::CLOEXEC).union(OFlags::NOFOLLOW);

    /// Bytes of listing one `getdents` call reads: a folder of several hundred entries
    /// in one call. (rustix's `Dir` starts at 768 bytes and grows, which took four calls
    /// and three reallocations for a folder of a hundred files.)
    #[cfg(target_os = "linux")]
    const LISTING_BUFFER: usize = 32 << 10;

    /// Adds the entries of the directory `fd` to `out`, `getdents` writing into `raw`.
    #[cfg(target_os = "linux")]
    fn read_raw(fd: &OwnedFd, raw: &mut Vec<u8>, out: &mut Listing) -> std::io::Result<()> {
        let mut dir = rustix::fs::RawDir::new(fd, raw.spare_capacity_mut());
        loop {
            match dir.next() {
                None => return Ok(()),
                Some(Ok(e)) => out.push(e.file_name().to_bytes(), e.file_type())?,
                // Deleted while listed: nothing more is in it, as rustix's `Dir` says.
                Some(Err(rustix::io::Errno::NOENT)) => return Ok(()),
                Some(Err(e)) => return Err(e.into()),
            }
        }
    }

    fn dir(fd: OwnedFd) -> std::io::Result<Dir> {
        Ok(Dir(fd))
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
        /// Lists the directory into `out`, replacing what it held.
        #[cfg(target_os = "linux")]
        pub(crate) fn list_into(&mut self, out: &mut Listing) -> std::io::Result<()> {
            out.clear();
            // The buffer leaves the listing while `getdents` fills it and the names go in.
            let mut raw = std::mem::take(&mut out.raw);
            raw.reserve(LISTING_BUFFER);
            let listed = read_raw(&self.0, &mut raw, out);
            out.raw = raw;
            listed
        }

        /// Lists the directory into `out`, replacing what it held.
        #[cfg(not(target_os = "linux"))]
        pub(crate) fn list_into(&mut self, out: &mut Listing) -> std::io::Result<()> {
            out.clear();
            let mut dir = rustix::fs::Dir::read_from(&self.0)?;
            while let Some(e) = dir.read() {
                let e = e?;
                out.push(e.file_name().to_bytes(), e.file_type())?;
            }
            Ok(())
        }

        fn at<T>(&self, f: impl FnOnce(std::os::fd::BorrowedFd<'_>) -> rustix::io::Result<T>) -> std::io::Result<T> {
            Ok(f(self.0.as_fd())?)
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

    use super::Kind;
    use crate::paths::Stat;

    /// One directory's entries.
    #[derive(Default)]
    pub(crate) struct Listing(Vec<(std::ffi::OsString, Kind)>);

    impl Listing {
        pub(crate) fn len(&self) -> usize {
            self.0.len()
        }

        pub(crate) fn bytes(&self, i: usize) -> &[u8] {
            self.0[i].0.as_encoded_bytes()
        }

        pub(crate) fn name(&self, i: usize) -> &OsStr {
            &self.0[i].0
        }

        pub(crate) fn kind(&self, i: usize) -> Kind {
            self.0[i].1
        }

        pub(crate) fn set_kind(&mut self, i: usize, kind: Kind) {
            self.0[i].1 = kind;
        }
    }

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
        /// Lists the directory into `out`, replacing what it held.
        pub(crate) fn list_into(&mut self, out: &mut Listing) -> std::io::Result<()> {
            out.0.clear();
            for e in std::fs::read_dir(&self.0)? {
                let e = e?;
                out.0.push((e.file_name(), e.file_type().map(kind).unwrap_or(Kind::Unknown)));
            }
            Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::StatCache;
    use crate::progress::Reporter;
    use twinsync_core::HashRules;

    fn walk_keys(root: &Path) -> Vec<String> {
        let rules = HashRules::default();
        let cache = StatCache::new(&rules, 0);
        let progress = Reporter::new(None);
        let job = ScanJob {
            root,
            canon_root: root,
            rules: &rules,
            cache: &cache,
            globs: Arc::new(Gitignore::empty()),
            symlinks: SymlinkMode::Skip,
            exclude: None,
            progress: &progress,
        };
        run(&job).unwrap().files.into_iter().map(|s| s.key.as_str().to_string()).collect()
    }

    /// Names that sort before `/` (`-`, `.`), after it (`0`, letters, non-ASCII), and
    /// names that start other names, at several depths and across many folders (so both
    /// threads list some): the walk's files come out in the keys' byte order.
    #[test]
    fn files_come_out_in_key_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut files = vec![
            "a/x",
            "a/b/c",
            "a/a-",
            "a/a/z",
            "a/a.",
            "a/a0",
            "a-b/x",
            "a.b",
            "a0",
            "a0d/x",
            "ab/x",
            "z",
            "B",
            "ü/x",
            "ü-",
            "a/b-/c",
            "a/b.c",
            "a/b/cd/e",
            "a/b/c-",
            "a/b/c.d/e",
            // Names around the eight bytes the sort compares as integers first.
            "longnamf",
            "longname-",
            "longname/x",
            "longname.d/x",
            "longname0",
            "longnam/x",
            "longnam-",
            "longna/x",
            "longnameü/x",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        for i in 0..40 {
            for j in 0..5 {
                files.push(format!("many/d{i}/f{j}"));
                files.push(format!("many/d{i}-{j}"));
                files.push(format!("many/d{i}/sub{j}/f"));
            }
        }
        for f in &files {
            let path = dir.path().join(f);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, f).unwrap();
        }
        files.sort();
        assert_eq!(walk_keys(dir.path()), files);
    }

    /// A folder whose listing does not fit one read of the listing buffer (3,000 names
    /// of about 60 bytes: some 240 KB of entries against 32 KiB) is listed whole, over
    /// several calls, and in order.
    #[test]
    fn a_folder_larger_than_one_read_is_listed_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut files: Vec<String> = (0..3000)
            .map(|i| format!("big/{}-{i:05}.md", "a-rather-long-name-for-a-file-in-one-folder".repeat(1 + i % 2)))
            .collect();
        std::fs::create_dir(dir.path().join("big")).unwrap();
        for f in &files {
            std::fs::write(dir.path().join(f), "x").unwrap();
        }
        files.sort();
        assert_eq!(walk_keys(dir.path()), files);
    }

    /// Comparing the packed prefixes first, then the names, orders every pair of names
    /// of lengths 6 to 10 built on one stem exactly as the names alone do.
    #[test]
    fn the_packed_prefix_keeps_the_order_of_names() {
        let mut names = Vec::new();
        for stem in ["abcdef", "abcdefg", "abcdefgh", "abcdefghi"] {
            for tail in ["", "-", ".", "0", "z", "\u{fc}", "--", "-0", "0-", "zz"] {
                for dir in [false, true] {
                    names.push((format!("{stem}{tail}"), dir));
                }
            }
        }
        for (a, ad) in &names {
            for (b, bd) in &names {
                let (a, b) = (a.as_bytes(), b.as_bytes());
                let packed = order_prefix(a, *ad).cmp(&order_prefix(b, *bd)).then_with(|| path_order(a, *ad, b, *bd));
                assert_eq!(packed, path_order(a, *ad, b, *bd), "{:?}/{ad} vs {:?}/{bd}", a, b);
            }
        }
    }

    #[test]
    fn a_folder_sorts_as_its_name_and_a_slash() {
        let order = |a: &str, ad, b: &str, bd| path_order(a.as_bytes(), ad, b.as_bytes(), bd);
        assert_eq!(order("a", true, "a-b", false), Order::Greater, "a/ after a-b");
        assert_eq!(order("a", true, "a0", false), Order::Less, "a/ before a0");
        assert_eq!(order("a", false, "a-b", false), Order::Less);
        assert_eq!(order("ab", true, "a", true), Order::Greater);
        assert_eq!(order("a", true, "a", true), Order::Equal);
        assert_eq!(order("b", false, "a", true), Order::Greater);
    }
}
