//! Big files in constant memory: a real `twinsync` syncs a folder holding a 1 GiB file,
//! an edit of it, and an undo, each in well under 100 MB of peak RSS (measured by the
//! kernel for that one child process), and the state folder stays a sliver of the tree:
//! a large item's content is never copied into the store, and what an edit overwrites
//! is kept for undo as a hard link, not a copy.

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};

const GIB: u64 = 1 << 30;
/// The ceiling the issue sets for syncing a tree that holds a 1 GB file.
const MAX_RSS_KB: i64 = 100 * 1024;

/// Runs `twinsync args` in `dir`; answers its exit code, stdout and peak RSS in KiB, as
/// `wait4` reports it for exactly this child.
// Reaped by `wait4` below, which std's `wait` cannot replace: only it gives the rusage.
#[allow(clippy::zombie_processes)]
fn run(dir: &Path, args: &[&str]) -> (i32, String, i64) {
    let child = Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .args(args)
        .current_dir(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut out = String::new();
    child.stdout.unwrap().read_to_string(&mut out).unwrap();
    let mut status = 0;
    // SAFETY: rusage is plain data the kernel fills; the pid is our own unreaped child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = std::process::ExitStatus::from_raw(status).code().unwrap_or(-1);
    (code, out, usage.ru_maxrss)
}

/// A sparse 1 GiB file with a few marked places, so a copy that dropped or moved a
/// chunk would compare unequal.
fn make_big(path: &Path, mark: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut f = File::create(path).unwrap();
    f.set_len(GIB).unwrap();
    for at in [0, 4096 * 1000 + 7, GIB / 2 + 1, GIB - mark.len() as u64] {
        f.seek(SeekFrom::Start(at)).unwrap();
        f.write_all(mark).unwrap();
    }
}

/// True when both files hold the same bytes, compared a chunk at a time.
fn same_bytes(a: &Path, b: &Path) -> bool {
    let (mut fa, mut fb) = (File::open(a).unwrap(), File::open(b).unwrap());
    if fa.metadata().unwrap().len() != fb.metadata().unwrap().len() {
        return false;
    }
    let (mut ba, mut bb) = (vec![0u8; 1 << 20], vec![0u8; 1 << 20]);
    loop {
        let n = fa.read(&mut ba).unwrap();
        if n == 0 {
            return true;
        }
        fb.read_exact(&mut bb[..n]).unwrap();
        if ba[..n] != bb[..n] {
            return false;
        }
    }
}

/// Bytes the files under `dir` take, each inode once (hard links are not counted twice).
fn disk_usage(dir: &Path, seen: &mut std::collections::BTreeSet<u64>) -> u64 {
    let mut total = 0;
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let m = fs::symlink_metadata(e.path()).unwrap();
        if m.is_dir() {
            total += disk_usage(&e.path(), seen);
        } else if seen.insert(m.ino()) {
            total += m.blocks() * 512;
        }
    }
    total
}

#[test]
fn a_1_gib_file_syncs_edits_and_undoes_in_constant_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    let (left, right) = (root.join("left"), root.join("right"));
    fs::create_dir_all(&left).unwrap();
    fs::create_dir_all(&right).unwrap();
    fs::write(left.join("readme.md"), "# assets\n").unwrap();
    let big = Path::new("assets/big.bin");
    make_big(&left.join(big), b"version one");

    let (code, out, _) = run(root, &["init", "left", "right"]);
    assert_eq!(code, 0, "{out}");

    // First sync: the file is created on the right by a stream.
    let (code, out, rss) = run(root, &["sync"]);
    assert_eq!(code, 0, "{out}");
    assert!(same_bytes(&left.join(big), &right.join(big)), "the right holds the same 1 GiB");
    assert!(rss < MAX_RSS_KB, "first sync peak RSS {rss} KiB, over {MAX_RSS_KB} KiB");
    let state = disk_usage(&root.join(".twinsync"), &mut Default::default());
    assert!(state < GIB / 20, ".twinsync/ takes {state} bytes after the first sync: over 5% of the tree");

    // An edit on the left overwrites the right; the old right file becomes the backup
    // undo reads, the same inode rather than a copy.
    let old_inode = fs::metadata(right.join(big)).unwrap().ino();
    let mut f = OpenOptions::new().write(true).open(left.join(big)).unwrap();
    f.seek(SeekFrom::Start(GIB / 3)).unwrap();
    f.write_all(b"version two").unwrap();
    drop(f);
    let (code, out, rss) = run(root, &["sync", "--json"]);
    assert_eq!(code, 0, "{out}");
    assert!(same_bytes(&left.join(big), &right.join(big)), "the edit reached the right");
    assert!(rss < MAX_RSS_KB, "edit sync peak RSS {rss} KiB");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let op = report["pairs"][0]["report"]["operation_id"]
        .as_str()
        .unwrap_or_else(|| panic!("no operation id in {out}"))
        .to_string();
    let backup = root.join(".twinsync/backups").join(&op).join(big);
    assert_eq!(fs::metadata(&backup).unwrap().ino(), old_inode, "the backup is a hard link of the old file");
    let state = disk_usage(&root.join(".twinsync"), &mut Default::default());
    assert!(state < GIB + GIB / 20, ".twinsync/ holds one earlier version, no more: {state} bytes");

    // Undo puts the first version back on the right, streamed from the backup.
    let (code, out, rss) = run(root, &["undo", &op]);
    assert_eq!(code, 0, "{out}");
    assert!(rss < MAX_RSS_KB, "undo peak RSS {rss} KiB");
    make_big(&root.join("expected.bin"), b"version one");
    assert!(same_bytes(&root.join("expected.bin"), &right.join(big)), "undo restored the first version");
    assert!(!same_bytes(&left.join(big), &right.join(big)), "the left keeps its edit");
}
