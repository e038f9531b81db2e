//! Design coverage of generated design systems as twinsync-design sees them: a plain
//! `components.json` and a Storybook `index.json` v5. Computing coverage (matching each
//! story's id to a variant, then the core arithmetic) must cost less than parsing the
//! two inputs, and scale linearly (2.5k, 5k, 10k components).
//!
//! Run: `cargo bench -p twinsync-benches --bench design`. After criterion's groups it
//! prints the ratios (coverage / parse, 10k / 2.5k) measured in the same run.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Map, Value};
use twinsync_benches::median;
use twinsync_core::coverage::CoverageOptions;
use twinsync_design::inputs::load_bytes;
use twinsync_design::naming::{export_name, story_id};
use twinsync_design::storybook::StoryIndex;
use twinsync_design::{coverage_report, DesignComponent, Input};

const SIZES: [usize; 3] = [2_500, 5_000, 10_000];

/// `n` components with 1–4 axes (a boolean among them, 2–4 options each) plus text and
/// slot props, and a v5 index with 0–6 stories each named as the scaffold names them,
/// one in seven with a hand-written name that spells no variant.
fn generate(n: usize) -> (Vec<u8>, Vec<u8>) {
    let mut comps = Vec::with_capacity(n);
    let mut entries = Map::new();
    for i in 0..n {
        let name = format!("Component {i}");
        let axis_count = 1 + i % 4;
        let mut props: Vec<Value> = (0..axis_count)
            .map(|a| {
                if a == 1 {
                    json!({"name": "disabled", "kind": "boolean"})
                } else {
                    let opts: Vec<String> = (0..2 + (i + a) % 3).map(|o| format!("opt{o}")).collect();
                    json!({"name": format!("axis{a}"), "kind": "variant", "options": opts})
                }
            })
            .collect();
        props.push(json!({"name": "label", "kind": "text", "default": "Label"}));
        props.push(json!({"name": "icon", "kind": "instance_swap"}));
        let title = format!("Library/Component {i}");
        let comp = json!({"name": name, "source": format!("src/c{i}.tsx"), "title": title, "props": props});
        let Input::Components(m) = twinsync_design::parse_input("gen", &json!({"components": [comp.clone()]})).unwrap()
        else {
            unreachable!()
        };
        let model: &DesignComponent = &m.components[0];
        let sizes: Vec<usize> = model.props.iter().filter(|p| p.kind.is_axis()).map(|p| p.options.len()).collect();
        for s in 0..i % 7 {
            let picks: Vec<usize> = sizes.iter().enumerate().map(|(a, &k)| (s + a) % k).collect();
            let export = if s == 5 { "HandWritten".to_string() } else { export_name(model, &picks) };
            let id = story_id(&title, &export);
            entries.insert(
                id.clone(),
                json!({"type": "story", "id": id, "title": title, "name": export, "importPath": format!("./c{i}.stories.tsx"),
                       "tags": ["dev", "test", "play-fn"], "exportName": export}),
            );
        }
        comps.push(comp);
    }
    (
        serde_json::to_vec(&json!({"components": comps})).unwrap(),
        serde_json::to_vec(&json!({"v": 5, "entries": entries})).unwrap(),
    )
}

fn parse(comps: &[u8], index: &[u8]) -> (Vec<DesignComponent>, StoryIndex) {
    let Input::Components(m) = load_bytes("components.json", comps).unwrap() else { unreachable!() };
    let Input::Index(ix) = load_bytes("index.json", index).unwrap() else { unreachable!() };
    (m.components, ix)
}

fn bench(c: &mut Criterion) {
    let opts = CoverageOptions::default();
    let mut group = c.benchmark_group("design_coverage");
    group.sample_size(10).measurement_time(Duration::from_secs(4)).warm_up_time(Duration::from_secs(1));
    for n in SIZES {
        let (cb, ib) = generate(n);
        let (comps, index) = parse(&cb, &ib);
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("parse_inputs", n), &(&cb, &ib), |b, (cb, ib)| {
            b.iter(|| parse(black_box(cb), black_box(ib)))
        });
        group.bench_with_input(BenchmarkId::new("coverage", n), &(&comps, &index), |b, (comps, index)| {
            b.iter(|| coverage_report(black_box(comps), black_box(index), &[], &opts).unwrap())
        });
    }
    group.finish();
}

/// Ratios from one run, printed after criterion's own report.
fn ratios() {
    let opts = CoverageOptions::default();
    let mut rows = Vec::new();
    for n in SIZES {
        let (cb, ib) = generate(n);
        let (comps, index) = parse(&cb, &ib);
        let parse_t = median(7, || drop(black_box(parse(&cb, &ib))));
        let cov_t = median(7, || drop(black_box(coverage_report(&comps, &index, &[], &opts).unwrap())));
        println!(
            "design coverage n={n}: inputs {} KiB, {} stories; parse {parse_t:?}, coverage {cov_t:?} ({:.2}x parse)",
            (cb.len() + ib.len()) / 1024,
            index.entries.len(),
            cov_t.as_secs_f64() / parse_t.as_secs_f64()
        );
        rows.push((parse_t, cov_t));
    }
    let last = rows.len() - 1;
    println!(
        "design coverage scaling 10k/2.5k (linear = 4): parse {:.2}, coverage {:.2}",
        rows[last].0.as_secs_f64() / rows[0].0.as_secs_f64(),
        rows[last].1.as_secs_f64() / rows[0].1.as_secs_f64()
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
