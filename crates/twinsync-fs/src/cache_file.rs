//! The stat cache as a file of its own, beside the host's state rather than in its store.
//!
//! A stat cache describes this host's copy of a folder (inodes, times), so it has no
//! place in a store other hosts share, and loading it is one mapping of a file rather than
//! a walk of a database's overflow pages. The file is replaced whole, through a temporary
//! file that is flushed and renamed over it, so a reader sees the old cache or the new
//! one; whatever else it may find (a torn write after a power cut, another version, a
//! cache of another folder) fails the cache's checks and costs a full rehash, never a
//! wrong digest.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::cache::Bytes;

/// Saves made by this process so far, for unique temporary names.
static SAVES: AtomicU64 = AtomicU64::new(0);

/// The bytes of the cache file at `path`, mapped; `None` when there is none or it cannot
/// be read.
pub(crate) fn read(path: &Path) -> Option<Bytes> {
    let file = File::open(path).ok()?;
    if file.metadata().ok()?.len() == 0 {
        return Some(Bytes::default());
    }
    // A private, pre-faulted mapping: no copy into a zeroed buffer, and the cache's own
    // marks (`forget`) stay in this process.
    // SAFETY: the mapping outlives no change to the file by this program, which only
    // ever replaces a cache by renaming a new file over it (the mapped inode stays as it
    // was). Another program truncating the file in place while it is mapped would fault
    // the reader, as it would `git status` reading a mapped index.
    let map = unsafe { memmap2::MmapOptions::new().populate().map_copy(&file) }.ok()?;
    Some(Bytes::Mapped(map))
}

/// Replaces the file at `path` with `bytes`, creating its folder if needed.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    fs::create_dir_all(dir)?;
    // The pid and a counter keep two savers from writing into one temporary file: two
    // processes, or two requests of one server saving the same pair's cache at once.
    // The later rename wins, and either cache is a valid one.
    let mut tmp = PathBuf::from(path.as_os_str());
    tmp.as_mut_os_string().push(format!(".tmp-{}-{}", std::process::id(), SAVES.fetch_add(1, Ordering::Relaxed)));
    let written = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A server saves a pair's cache from concurrent requests: every save succeeds, the
    /// file is one whole cache, and no temporary file stays.
    #[test]
    fn concurrent_saves_in_one_process_each_succeed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("stat-cache/default.left");
        std::thread::scope(|s| {
            for t in 0..8u8 {
                let path = &path;
                s.spawn(move || {
                    for _ in 0..50 {
                        write_atomically(path, &[t; 4096]).unwrap();
                    }
                });
            }
        });
        let got = read(&path).unwrap().to_vec();
        assert_eq!(got.len(), 4096);
        assert!(got.iter().all(|b| *b == got[0]), "one saver's bytes, whole");
        let names: Vec<_> = fs::read_dir(path.parent().unwrap()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["default.left"]);
    }
}
