//! Hashes a JSON document (or each record of a JSON Lines file) N times and prints
//! the time per pass: a harness for profilers (`perf record`, `valgrind --tool=callgrind`)
//! that runs nothing but the canonicaliser.
//!
//! `cargo run --release -p twinsync-core --example hash_file -- FILE [--lines] [N]`
use twinsync_core::canonical::{self, CanonicalOptions, Canonicalizer};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let data = std::fs::read(&args[0]).expect("read");
    let lines = args.iter().any(|a| a == "--lines");
    let n: usize = args.iter().filter_map(|a| a.parse().ok()).next().unwrap_or(1);
    let opts = CanonicalOptions::default();
    let mut c = Canonicalizer::new(&opts);
    let t = std::time::Instant::now();
    let mut last = None;
    for _ in 0..n {
        if lines {
            last = canonical::hash_lines(&data, &opts).digests.pop();
        } else {
            last = Some(c.hash(&data).unwrap());
        }
    }
    let per = t.elapsed() / n as u32;
    eprintln!("{per:?} per run, {:.0} MB/s", data.len() as f64 / per.as_secs_f64() / 1e6);
    println!("{}", last.unwrap());
}
