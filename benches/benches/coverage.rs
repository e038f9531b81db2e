//! Coverage of generated design systems: computing coverage must cost less than parsing
//! the JSON inputs, and scale linearly (1k vs 10k components).
//!
//! Run: `cargo bench -p twinsync-benches --bench coverage`. After criterion's groups it
//! prints the ratios (coverage / parse, 10k / 1k) measured in the same run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, BatchSize, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};
use twinsync_benches::median;
use twinsync_core::coverage::{compute, compute_cached, CoverageInput, CoverageOptions, MemoryCoverageCache};

const SIZES: [usize; 2] = [1_000, 10_000];

/// A deterministic design system of `n` components: 1–4 axes of 2–4 options (booleans
/// among them), 0–6 stories each with a few tags and the odd unknown option, 0–3 tests.
fn generate(n: usize) -> Vec<u8> {
    let kinds = ["interaction", "visual", "a11y", "unit"];
    let (mut components, mut stories, mut tests) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        let name = format!("Component{i}");
        let axis_count = 1 + i % 4;
        let axes: Vec<Value> = (0..axis_count)
            .map(|a| {
                if a == 1 {
                    json!({ "name": "disabled", "options": [false, true] })
                } else {
                    let opts: Vec<String> = (0..2 + (i + a) % 3).map(|o| format!("opt{o}")).collect();
                    json!({ "name": format!("axis{a}"), "options": opts })
                }
            })
            .collect();
        components.push(json!({ "name": name, "source": format!("src/components/{name}.tsx"), "axes": axes }));
        for s in 0..(i * 7) % 7 {
            let mut args = serde_json::Map::new();
            for a in 0..axis_count {
                if (s + a) % 3 == 0 {
                    continue; // leave some axes to their default
                }
                let v = if a == 1 { json!(s % 2 == 0) } else { json!(format!("opt{}", (s + a) % 2)) };
                args.insert(if a == 1 { "disabled".into() } else { format!("axis{a}") }, v);
            }
            if s == 5 {
                args.insert("axis0".into(), json!("not-an-option"));
            }
            let tags: Vec<&str> = ["autodocs", "a11y", "chromatic", "play-fn"].into_iter().take(s % 4 + 1).collect();
            stories.push(json!({
                "id": format!("component{i}--story{s}"),
                "title": format!("Library/{name}"),
                "name": format!("Story {s}"),
                "component": name,
                "args": args,
                "tags": tags,
                "has_play": s % 3 == 1,
            }));
        }
        for t in 0..i % 4 {
            tests.push(
                json!({ "component": name, "story_id": format!("component{i}--story0"), "kind": kinds[(i + t) % 4] }),
            );
        }
    }
    serde_json::to_vec(&json!({ "components": components, "stories": stories, "tests": tests })).unwrap()
}

fn parse(bytes: &[u8]) -> CoverageInput {
    serde_json::from_slice(bytes).expect("generated input parses")
}

fn bench(c: &mut Criterion) {
    let opts = CoverageOptions::default();
    let mut group = c.benchmark_group("coverage");
    group.sample_size(20).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    for n in SIZES {
        let bytes = generate(n);
        let input = parse(&bytes);
        group.throughput(Throughput::Elements(n as u64));
        group
            .bench_with_input(BenchmarkId::new("parse_json", n), &bytes, |b, bytes| b.iter(|| parse(black_box(bytes))));
        group.bench_with_input(BenchmarkId::new("compute", n), &input, |b, input| {
            b.iter(|| compute(black_box(input), &opts).unwrap())
        });
        group.bench_with_input(BenchmarkId::new("compute_cached_cold", n), &input, |b, input| {
            b.iter_batched(
                MemoryCoverageCache::new,
                |mut cache| compute_cached(black_box(input), &opts, &mut cache).unwrap(),
                BatchSize::LargeInput,
            )
        });
        let mut warm = MemoryCoverageCache::new();
        compute_cached(&input, &opts, &mut warm).unwrap();
        group.bench_with_input(BenchmarkId::new("compute_cached_warm", n), &input, |b, input| {
            b.iter(|| compute_cached(black_box(input), &opts, &mut warm).unwrap())
        });
    }
    group.finish();
}

/// Ratios from one run, printed after criterion's own report.
fn ratios() {
    let opts = CoverageOptions::default();
    let mut rows = Vec::new();
    for n in SIZES {
        let bytes = generate(n);
        let input = parse(&bytes);
        let parse_t = median(11, || drop(black_box(parse(&bytes))));
        let compute_t = median(11, || drop(black_box(compute(&input, &opts).unwrap())));
        let cold_t =
            median(5, || drop(black_box(compute_cached(&input, &opts, &mut MemoryCoverageCache::new()).unwrap())));
        let mut warm = MemoryCoverageCache::new();
        compute_cached(&input, &opts, &mut warm).unwrap();
        let warm_t = median(5, || drop(black_box(compute_cached(&input, &opts, &mut warm).unwrap())));
        println!(
            "coverage n={n}: input {} KiB, parse {parse_t:?}, compute {compute_t:?} ({:.2}x parse), cached cold {cold_t:?} ({:.2}x), cached warm {warm_t:?} ({:.2}x)",
            bytes.len() / 1024,
            compute_t.as_secs_f64() / parse_t.as_secs_f64(),
            cold_t.as_secs_f64() / parse_t.as_secs_f64(),
            warm_t.as_secs_f64() / parse_t.as_secs_f64(),
        );
        rows.push((parse_t, compute_t, cold_t, warm_t));
    }
    let r = |f: fn(&(Duration, Duration, Duration, Duration)) -> Duration| {
        f(&rows[1]).as_secs_f64() / f(&rows[0]).as_secs_f64()
    };
    println!(
        "coverage scaling 10k/1k (linear = 10): parse {:.1}, compute {:.1}, cached cold {:.1}, cached warm {:.1}",
        r(|x| x.0),
        r(|x| x.1),
        r(|x| x.2),
        r(|x| x.3)
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
