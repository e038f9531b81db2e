//! Keys as paths: turning a key into a path under the root safely, the stat fields the
//! cache compares, and how a file's bytes are classified and digested.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

use sha2::{Digest as _, Sha256};
use twinsync_core::content::ContentKind;
use twinsync_core::replica::ReplicaError;
use twinsync_core::{Content, Digest, Digests, HashRules, Key};

/// Directory names a replica never scans, writes or reports.
pub(crate) const RESERVED_DIRS: [&str; 2] = [".git", ".twinsync"];

/// Marker inside the names of in-flight temporary files.
pub(crate) const TMP_MARKER: &str = ".twinsync-tmp-";

/// True for our own in-flight temporary files (`.<name>.twinsync-tmp-<pid>-<n>`).
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.contains(TMP_MARKER)
}

/// True for a temp file whose writer is gone (killed mid-write): the file was never
/// renamed into place, so nothing refers to it and it can be removed.
///
/// On Linux the writer's pid in the name is checked against `/proc`; elsewhere a temp
/// file older than an hour is taken as abandoned.
pub(crate) fn is_abandoned_temp(path: &Path, name: &str) -> bool {
    let pid = name.split(TMP_MARKER).nth(1).and_then(|rest| rest.split('-').next()).and_then(|p| p.parse::<u32>().ok());
    match pid {
        Some(pid) if pid == std::process::id() => false,
        #[cfg(target_os = "linux")]
        Some(pid) => !Path::new(&format!("/proc/{pid}")).exists(),
        _ => std::fs::symlink_metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > std::time::Duration::from_secs(3600)),
    }
}

/// True for a directory entry a replica never scans or reports, with what lies under
/// it: a reserved folder at the root, or one of our temporary files anywhere. The one
/// rule of the walk (entry by entry, on names it already has) and of the watcher (on
/// whole paths, through [`is_reserved_rel`]).
pub(crate) fn is_reserved_name(parent_is_root: bool, name: &str) -> bool {
    (parent_is_root && RESERVED_DIRS.contains(&name)) || is_temp_name(name)
}

/// True when a path relative to the root is reserved or lies under a reserved entry
/// (see [`is_reserved_name`]).
pub(crate) fn is_reserved_rel(rel: &Path) -> bool {
    rel.components().enumerate().any(|(i, c)| match c {
        Component::Normal(name) => name.to_str().is_some_and(|n| is_reserved_name(i == 0, n)),
        _ => false,
    })
}

/// Extensions of files that are text by definition: invalid UTF-8 in one of them is an
/// error of that item, not a reason to sync it as opaque bytes.
const TEXT_EXTENSIONS: &[&str] = &["md", "markdown", "mdx", "txt", "yaml", "yml", "toml"];

/// How a file's bytes are read: larger than the rules' `bytes_above`, bytes; `.json` is
/// JSON; a text extension is text; otherwise UTF-8 without NUL is text, and anything
/// else bytes.
pub(crate) fn classify(rules: &HashRules, key: &str, bytes: &[u8]) -> ContentKind {
    if rules.is_large(bytes.len() as u64) {
        return ContentKind::Bytes;
    }
    let ext = key.rsplit_once('.').map(|(_, e)| e).filter(|e| !e.contains('/')).unwrap_or("");
    if ext.eq_ignore_ascii_case("json") {
        ContentKind::Json
    } else if TEXT_EXTENSIONS.iter().any(|t| ext.eq_ignore_ascii_case(t))
        || (!bytes.contains(&0) && std::str::from_utf8(bytes).is_ok())
    {
        ContentKind::Text
    } else {
        ContentKind::Bytes
    }
}

/// The digest a scan gives a file at `key` holding `bytes`.
pub(crate) fn digest_file(rules: &HashRules, key: &Key, bytes: &[u8]) -> Result<Digest, ReplicaError> {
    rules
        .digest_bytes(classify(rules, key.as_str(), bytes), bytes)
        .map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })
}

/// [`digest_file`] and the digest of the bytes themselves.
pub(crate) fn digests_file(rules: &HashRules, key: &Key, bytes: &[u8]) -> Result<Digests, ReplicaError> {
    rules
        .digests_bytes(classify(rules, key.as_str(), bytes), bytes)
        .map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })
}

/// The content a read returns for a file at `key` holding `bytes`, consistent with the
/// digest a scan gives it under `rules`: `.json` is JSON, a text extension must be UTF-8
/// text, and anything over the rules' `bytes_above` is bytes.
pub fn content_of(rules: &HashRules, key: &Key, bytes: Vec<u8>) -> Result<Content, ReplicaError> {
    let kind = classify(rules, key.as_str(), &bytes);
    Content::from_bytes(kind, bytes).map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })
}

/// How much of a large file is read at a time.
const CHUNK: usize = 1 << 20;

/// The digest a scan gives the file at `path` (for `key`), or `None` when it is gone. A
/// large file (over the rules' `bytes_above`) is hashed as a stream of bytes, in
/// constant memory; any other is read whole and classified.
pub(crate) fn digest_path(rules: &HashRules, key: &Key, path: &Path) -> Result<Option<Digest>, ReplicaError> {
    hash_path(rules, key, path, digest_file)
}

/// [`digest_path`] and the digest of the file's bytes, as a scan records them.
pub(crate) fn digests_path(rules: &HashRules, key: &Key, path: &Path) -> Result<Option<Digests>, ReplicaError> {
    hash_path(rules, key, path, digests_file)
}

/// What `hash` makes of the file at `path`; a large file is its streamed bytes digest.
fn hash_path<D: From<Digest>>(
    rules: &HashRules,
    key: &Key,
    path: &Path,
    hash: fn(&HashRules, &Key, &[u8]) -> Result<D, ReplicaError>,
) -> Result<Option<D>, ReplicaError> {
    let mut file = match open_to_read(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        r => r.map_err(|e| io_err(key, format!("cannot read {}: {e}", path.display())))?,
    };
    let len = file.metadata().map_err(|e| io_err(key, format!("cannot stat {}: {e}", path.display())))?.len();
    if rules.is_large(len) {
        return hash_stream(&mut file)
            .map(|d| Some(D::from(d)))
            .map_err(|e| io_err(key, format!("cannot read {}: {e}", path.display())));
    }
    let bytes = read_sized(&mut file, len).map_err(|e| io_err(key, format!("cannot read {}: {e}", path.display())))?;
    // A file that grew past the limit since the stat is bytes: `classify` goes by length.
    hash(rules, key, &bytes).map(Some)
}

/// Opens `path` to read it, leaving its access time alone where the system allows it
/// (Linux's `O_NOATIME`, for the owner's files): a sync's reads are no one's use of the
/// file, and each access-time update dirties the inode.
pub(crate) fn open_to_read(path: &Path) -> std::io::Result<File> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::OpenOptionsExt;
        let noatime = rustix::fs::OFlags::NOATIME.bits() as i32;
        match std::fs::OpenOptions::new().read(true).custom_flags(noatime).open(path) {
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::PERM.raw_os_error()) => {}
            r => return r,
        }
    }
    File::open(path)
}

/// The whole of `file`, whose size was just found to be `len` (it may have changed
/// since). `read_to_end` would stat it again, and then read once more to find the end;
/// here the buffer has room for a byte more than `len`, and a read that leaves room
/// unfilled once `len` bytes are in has met the end: one read for a small file.
pub(crate) fn read_sized(file: &mut File, len: u64) -> std::io::Result<Vec<u8>> {
    let len = usize::try_from(len).unwrap_or(usize::MAX - 1);
    let mut bytes = vec![0u8; len.saturating_add(1)];
    let mut filled = 0;
    loop {
        let asked = bytes.len() - filled;
        let n = match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        filled += n;
        if n < asked && filled >= len {
            break;
        }
        if filled == bytes.len() {
            // It grew since its size was taken.
            bytes.resize(bytes.len() * 2, 0);
        }
    }
    bytes.truncate(filled);
    Ok(bytes)
}

/// SHA-256 of everything `r` yields, read a chunk at a time.
pub(crate) fn hash_stream(r: &mut dyn Read) -> std::io::Result<Digest> {
    copy_hashing(r, &mut std::io::sink()).map(|(d, _)| d)
}

/// Copies `r` into `w` a chunk at a time; answers the SHA-256 of the bytes and their count.
pub(crate) fn copy_hashing(r: &mut dyn Read, w: &mut dyn Write) -> std::io::Result<(Digest, u64)> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match r.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        w.write_all(&buf[..n])?;
        total += n as u64;
    }
    Ok((Digest::from_hasher(hasher), total))
}

/// An I/O failure on `path`, reported against the item or path.
pub(crate) fn io_err(what: impl std::fmt::Display, message: impl std::fmt::Display) -> ReplicaError {
    ReplicaError::Io { key: what.to_string(), message: message.to_string() }
}

/// The stat fields the cache compares: size, mtime and ctime in ns, inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stat {
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub ino: u64,
}

impl Stat {
    /// The stat of an open file, as the walk records it (`fstatat` gives the same fields).
    #[cfg(unix)]
    pub(crate) fn of(m: &std::fs::Metadata) -> Stat {
        use std::os::unix::fs::MetadataExt;
        Stat {
            size: m.size(),
            mtime_ns: m.mtime().saturating_mul(1_000_000_000).saturating_add(m.mtime_nsec()),
            ctime_ns: m.ctime().saturating_mul(1_000_000_000).saturating_add(m.ctime_nsec()),
            ino: m.ino(),
        }
    }

    #[cfg(not(unix))]
    pub(crate) fn of(m: &std::fs::Metadata) -> Stat {
        Stat { size: m.len(), mtime_ns: system_time_ns(m.modified().ok()), ctime_ns: 0, ino: 0 }
    }
}

/// Nanoseconds since the epoch (0 when unknown, negative before 1970).
pub(crate) fn system_time_ns(t: Option<std::time::SystemTime>) -> i64 {
    match t {
        None => 0,
        Some(t) => match t.duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
            Err(e) => -i64::try_from(e.duration().as_nanos()).unwrap_or(i64::MAX),
        },
    }
}

/// Refuses a key a folder never holds as an item: one in `.git/` or `.twinsync/`, or
/// with the name of a twinsync temporary file.
pub(crate) fn check_key(key: &Key) -> Result<(), ReplicaError> {
    let first = key.as_str().split('/').next().unwrap_or_default();
    if RESERVED_DIRS.contains(&first) {
        return Err(ReplicaError::InvalidKey(twinsync_core::key::KeyError {
            key: key.to_string(),
            reason: "lies in .git/ or .twinsync/, which a filesystem replica never touches",
        }));
    }
    if key.as_str().rsplit('/').next().is_some_and(is_temp_name) {
        return Err(ReplicaError::InvalidKey(twinsync_core::key::KeyError {
            key: key.to_string(),
            reason: "has the name of a twinsync temporary file",
        }));
    }
    Ok(())
}

/// Where `key` lives under `root`, after checking that no existing ancestor of it is a
/// symbolic link (or a file), so a write can never land outside the root.
pub(crate) fn checked_path(root: &Path, canon_root: &Path, key: &Key, follow: bool) -> Result<PathBuf, ReplicaError> {
    check_key(key)?;
    let segs: Vec<&str> = key.as_str().split('/').collect();
    let mut path = root.to_path_buf();
    let last = segs.len() - 1;
    for (i, seg) in segs[..last].iter().enumerate() {
        path.push(seg);
        match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                // Nothing below a missing directory exists yet, so nothing can be a link.
                for rest in &segs[i + 1..] {
                    path.push(rest);
                }
                return Ok(path);
            }
            Err(e) => return Err(io_err(key, format!("cannot inspect {}: {e}", path.display()))),
            Ok(m) if m.file_type().is_symlink() => {
                let target = std::fs::canonicalize(&path)
                    .map_err(|e| io_err(key, format!("cannot resolve link {}: {e}", path.display())))?;
                if !target.starts_with(canon_root) {
                    return Err(io_err(
                        key,
                        format!(
                            "{} is a symbolic link to {} outside the root; refused",
                            path.display(),
                            target.display()
                        ),
                    ));
                }
                if !follow {
                    return Err(io_err(
                        key,
                        format!("{} is a symbolic link; links are not followed (symlinks: skip)", path.display()),
                    ));
                }
            }
            Ok(m) if !m.is_dir() => {
                return Err(io_err(key, format!("{} is not a directory", path.display())));
            }
            Ok(_) => {}
        }
    }
    path.push(segs[last]);
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_read_whole_whatever_its_size_was_said_to_be() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let body: Vec<u8> = (0..20_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &body).unwrap();
        // The size as taken, one that grew since (0, short) and one that shrank since.
        for len in [20_000, 0, 1, 4096, 19_999, 20_001, 1 << 20] {
            let mut f = File::open(&path).unwrap();
            assert_eq!(read_sized(&mut f, len).unwrap(), body, "said to be {len} bytes");
        }
        std::fs::write(&path, b"").unwrap();
        assert_eq!(read_sized(&mut File::open(&path).unwrap(), 0).unwrap(), b"");
    }

    #[test]
    fn a_path_is_reserved_when_one_of_its_entries_is() {
        for rel in
            [".twinsync", ".twinsync/state.db", ".git/HEAD", "d/.a.md.twinsync-tmp-1-2", "d/.x.twinsync-tmp-1-2/y"]
        {
            assert!(is_reserved_rel(Path::new(rel)), "{rel}");
        }
        // Reserved folders are reserved at the root only, as the walk skips them.
        for rel in ["docs/.git/x", "docs/.twinsync", "a.md", ".gitignore", ".twinsyncignore"] {
            assert!(!is_reserved_rel(Path::new(rel)), "{rel}");
        }
        assert!(is_reserved_name(true, ".git") && !is_reserved_name(false, ".git"));
    }
}
