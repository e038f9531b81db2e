//! detect() on 10k / 100k / 1M items, against a plain hash-map join of the same three
//! maps (the floor any three-way classification has to pay).

use std::collections::{BTreeMap, HashMap};

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use twinsync_core::{detect, Digest, DriftClass, Key};

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
        let (hb, hl, hr): (HashMap<_, _>, HashMap<_, _>, HashMap<_, _>) =
            (b.clone().into_iter().collect(), l.clone().into_iter().collect(), r.clone().into_iter().collect());
        g.bench_with_input(BenchmarkId::new("hash_join", n), &n, |bch, _| {
            bch.iter(|| black_box(hash_join(&hb, &hl, &hr)))
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
