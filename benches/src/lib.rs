//! Shared helpers for the criterion benchmarks.

use std::time::{Duration, Instant};

/// Median wall time of `runs` calls of `f`, for ratios printed from one run.
pub fn median(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}
