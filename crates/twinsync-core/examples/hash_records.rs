//! Hashes each record of a JSON Lines file on its own, as a binding does for many
//! small documents, and prints the best time per record over several rounds: a
//! harness for comparing versions of the small-document walk and for profilers.
//!
//! `cargo run --release -p twinsync-core --example hash_records -- FILE [ROUNDS] [--canon]`
//! (`--canon` writes the canonical bytes without hashing them; `--str` hashes each
//! record as a `str`, whose UTF-8 is then not checked again, as the Node binding does).
use twinsync_core::canonical::{self, CanonicalOptions};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = std::fs::read(&args[0]).expect("read");
    let rounds: usize = args.iter().skip(1).filter_map(|a| a.parse().ok()).next().unwrap_or(20);
    let canon = args.iter().any(|a| a == "--canon");
    let as_str = args.iter().any(|a| a == "--str");
    let records: Vec<&[u8]> = data.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
    let opts = CanonicalOptions::default();
    let mut best = f64::MAX;
    let mut check = 0u64;
    for _ in 0..rounds {
        let t = std::time::Instant::now();
        for r in &records {
            if canon {
                check += canonical::canonicalize(r, &opts).expect("valid").len() as u64;
            } else if as_str {
                let text = std::str::from_utf8(r).expect("UTF-8");
                check += u64::from(canonical::hash_json_str(text, &opts).expect("valid").as_bytes()[0]);
            } else {
                check += u64::from(canonical::hash_json(r, &opts).expect("valid").as_bytes()[0]);
            }
        }
        best = best.min(t.elapsed().as_secs_f64() / records.len() as f64);
    }
    eprintln!("{:.3} µs per record (best of {rounds}), {} records", best * 1e6, records.len());
    println!("{check}");
}
