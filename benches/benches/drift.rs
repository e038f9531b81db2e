//! detect() on 10k / 100k / 1M items, against a plain hash-map join of the same three
//! maps (the floor any three-way classification has to pay).
//!
//! `detect` is the borrowed result every caller that holds the maps gets; `detect_owned`
//! is the owned one the engine keeps beside its scans. Each timing includes dropping the
//! result, which the caller pays too; the ratio printout after criterion's report also
//! shows the drop alone.

use std::collections::{BTreeMap, HashMap};

use std::time::{Duration, Instant};

use criterion::{black_box, criterion_group, BenchmarkId, Criterion, Throughput};
use twinsync_benches::median;
use twinsync_core::{detect, detect_owned, Digest, DriftClass, Key};

type Maps = (BTreeMap<Key, Digest>, BTreeMap<Key, Digest>, BTreeMap<Key, Digest>);

/// A deterministic pair with 5% changed left, 5% changed right, 1% added on each side,
/// 1% deleted on each side, and 0.5% conflicts.
fn inputs(n: usize) -> Maps {
    let (mut b, mut l, mut r) = (BTreeMap::new(), BTreeMap::new(), BTreeMap::new());
    let d = |i: usize, v: u8| {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
        bytes[8] = v;
        Digest::from_bytes(bytes)
    };
    for i in 0..n {
        let name = format!("components/group{:04}/item{i:07}.json", i / 1000);
        let roll = (i.wrapping_mul(2_654_435_761)) % 1000;
        let (bv, lv, rv) = match roll {
            0..=49 => (Some(0), Some(1), Some(0)),
            50..=99 => (Some(0), Some(0), Some(1)),
            100..=109 => (None, Some(0), None),
            110..=119 => (None, None, Some(0)),
            120..=129 => (Some(0), None, Some(0)),
            130..=139 => (Some(0), Some(0), None),
            140..=144 => (Some(0), Some(1), Some(2)),
            _ => (Some(0), Some(0), Some(0)),
        };
        for (m, v) in [(&mut b, bv), (&mut l, lv), (&mut r, rv)] {
            if let Some(v) = v {
                // Each map gets its own allocation, as separate scans and the store
                // would give it: no pointer-equality shortcuts.
                m.insert(Key::new(&name).unwrap(), d(i, v));
            }
        }
    }
    (b, l, r)
}

/// The baseline: a hash join over the union of keys, classifying with the same rule.
fn hash_join(b: &HashMap<Key, Digest>, l: &HashMap<Key, Digest>, r: &HashMap<Key, Digest>) -> Vec<(Key, DriftClass)> {
    let mut out = Vec::with_capacity(b.len().max(l.len()));
    for (k, bd) in b {
        out.push((k.clone(), DriftClass::classify(Some(bd), l.get(k), r.get(k))));
    }
    for (k, ld) in l {
        if !b.contains_key(k) {
            out.push((k.clone(), DriftClass::classify(None, Some(ld), r.get(k))));
        }
    }
    for (k, rd) in r {
        if !b.contains_key(k) && !l.contains_key(k) {
            out.push((k.clone(), DriftClass::classify(None, None, Some(rd))));
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("detect");
    g.sample_size(10);
    for n in [10_000usize, 100_000, 1_000_000] {
        let (b, l, r) = inputs(n);
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("detect", n), &n, |bch, _| bch.iter(|| black_box(detect(&b, &l, &r))));
        g.bench_with_input(BenchmarkId::new("detect_owned", n), &n, |bch, _| {
            bch.iter(|| black_box(detect_owned(&b, &l, &r)))
        });
        let (hb, hl, hr) = hash_maps(&b, &l, &r);
        g.bench_with_input(BenchmarkId::new("hash_join", n), &n, |bch, _| {
            bch.iter(|| black_box(hash_join(&hb, &hl, &hr)))
        });
    }
    g.finish();
}

type HashMaps = (HashMap<Key, Digest>, HashMap<Key, Digest>, HashMap<Key, Digest>);

/// The same three maps as hash maps (keys shared with the B-tree maps: the join only hashes
/// and compares them).
fn hash_maps(b: &BTreeMap<Key, Digest>, l: &BTreeMap<Key, Digest>, r: &BTreeMap<Key, Digest>) -> HashMaps {
    (b.clone().into_iter().collect(), l.clone().into_iter().collect(), r.clone().into_iter().collect())
}

/// Median time of `f` including the drop of its result, and of that drop alone.
fn with_drop<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, Duration) {
    let mut drops = Vec::with_capacity(runs);
    let total = median(runs, || {
        let out = black_box(f());
        let t = Instant::now();
        drop(out);
        drops.push(t.elapsed());
    });
    drops.sort();
    (total, drops[runs / 2])
}

/// The targets from one run: 1M within 12x of 100k, and within 2x of the hash join.
fn ratios() {
    let mut rows = Vec::new();
    for n in [10_000usize, 100_000, 1_000_000] {
        let (b, l, r) = inputs(n);
        let runs = if n >= 1_000_000 { 7 } else { 21 };
        let (view, view_drop) = with_drop(runs, || detect(&b, &l, &r));
        let (owned, owned_drop) = with_drop(runs, || detect_owned(&b, &l, &r));
        let (hb, hl, hr) = hash_maps(&b, &l, &r);
        let (join, _) = with_drop(runs.min(7), || hash_join(&hb, &hl, &hr));
        println!(
            "drift n={n}: detect {view:?} (drop {view_drop:?}), detect_owned {owned:?} (drop {owned_drop:?}), hash join {join:?}; detect/join {:.2}, detect_owned/join {:.2}",
            view.as_secs_f64() / join.as_secs_f64(),
            owned.as_secs_f64() / join.as_secs_f64(),
        );
        rows.push((view, owned, join));
    }
    let r = |f: fn(&(Duration, Duration, Duration)) -> Duration| f(&rows[2]).as_secs_f64() / f(&rows[1]).as_secs_f64();
    println!(
        "drift scaling 1M/100k (linear = 10, target <= 12): detect {:.1}, detect_owned {:.1}, hash join {:.1}",
        r(|x| x.0),
        r(|x| x.1),
        r(|x| x.2)
    );
}

criterion_group!(benches, bench);

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --benches` runs each benchmark once as a smoke test; ratios need timing.
    if !std::env::args().any(|a| a == "--test") {
        ratios();
    }
}
