//! Scans a folder as a twinsync replica and prints what the scan did; with `--cache FILE`
//! the stat cache is loaded from and saved to FILE, as the facade does between runs.
//!
//! ```text
//! cargo run --release -p twinsync-fs --example scan -- /tmp/tree100k --cache /tmp/tree100k.cache
//! ```

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use twinsync_core::{tree_digest, Replica};
use twinsync_fs::{FsOptions, FsReplica};

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (mut root, mut cache): (Option<PathBuf>, Option<PathBuf>) = (None, None);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--cache" => cache = args.next().map(PathBuf::from),
            _ if root.is_none() => root = Some(PathBuf::from(a)),
            _ => {
                eprintln!("usage: scan ROOT [--cache FILE]");
                return ExitCode::from(2);
            }
        }
    }
    let Some(root) = root else {
        eprintln!("usage: scan ROOT [--cache FILE]");
        return ExitCode::from(2);
    };
    let start = Instant::now();
    let mut replica = match FsReplica::open(&root, FsOptions::default()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Some(c) = &cache {
        replica.load_stat_cache(c);
    }
    let loaded = start.elapsed();
    let snap = match replica.scan() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    let scanned = start.elapsed();
    // As the facade does: an unchanged cache is not written back.
    if let Some(c) = &cache {
        if let Err(e) = replica.save_stat_cache(c) {
            eprintln!("error: cannot save the stat cache to {}: {e}", c.display());
            return ExitCode::FAILURE;
        }
    }
    let stats = replica.last_scan();
    let tree = tree_digest(snap.values().map(|e| (&e.key, &e.digest)));
    println!(
        "files {} hashed {} warnings {} tree {tree} in {:.1} ms (cache loaded {:.1} ms, scanned {:.1} ms)",
        stats.files,
        stats.hashed,
        stats.warnings.len(),
        start.elapsed().as_secs_f64() * 1e3,
        loaded.as_secs_f64() * 1e3,
        (scanned - loaded).as_secs_f64() * 1e3
    );
    ExitCode::SUCCESS
}
