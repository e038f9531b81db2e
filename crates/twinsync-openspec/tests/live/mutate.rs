//! Mutated copies of the corpus: lines that change how the CLI reads a file (fences,
//! headers, delta sections, odd task boxes) inserted at random places, lines deleted,
//! whole files turned CRLF or given a BOM. The hand-written corpus covers each rule once;
//! mutations find the combinations nobody thought to write down. Deterministic per seed,
//! so a failure names a folder that can be rebuilt.

use std::fs;
use std::path::Path;

/// Lines whose meaning to the CLI depends on where they land.
const INSERTS: &[&str] = &[
    "```",
    "```md",
    "~~~~",
    "- [~] odd task",
    "* [ ](x) link task",
    "   - [x] nested",
    "1) [ ] numbered",
    "- [ ] 1.1 a",
    "- [ ] 2.1 b",
    "## 1. Group",
    "## Notes",
    "# Why",
    "## What Changes",
    "- **auth:** add thing",
    "## Purpose",
    "## Requirements",
    "### Requirement: Injected",
    "###Requirement: Tight",
    "#### Scenario: injected",
    "The system SHALL be injected.",
    "## ADDED Requirements",
    "## MODIFIED Requirements",
    "## REMOVED Requirements",
    "## RENAMED Requirements",
    "- FROM: `### Requirement: Injected`",
    "- TO: `### Requirement: Other`",
    "- `### Requirement: Output Format`",
    "**ID**: x",
    "<!--",
    "-->",
    "",
];

/// splitmix64: small, seedable, and the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn mutate_text(rng: &mut Rng, text: &str) -> String {
    let mut lines: Vec<&str> = text.split('\n').collect();
    for _ in 0..1 + rng.below(10) {
        let at = rng.below(lines.len() + 1);
        if rng.chance(25) && !lines.is_empty() {
            lines.remove(at.min(lines.len() - 1));
        } else {
            lines.insert(at, INSERTS[rng.below(INSERTS.len())]);
        }
    }
    let mut out = lines.join("\n");
    match rng.below(10) {
        0 | 1 => out = out.replace('\n', "\r\n"),
        2 => out.insert(0, '\u{feff}'),
        _ => {}
    }
    out
}

/// Mutates about 70% of the markdown files under `dir`, in a fixed walk order.
pub fn mutate_tree(seed: u64, dir: &Path) {
    let mut files = Vec::new();
    collect(dir, &mut files);
    files.sort();
    let mut rng = Rng(seed);
    for f in files {
        if f.extension().is_some_and(|e| e == "md") && rng.chance(70) {
            let text = fs::read_to_string(&f).unwrap();
            fs::write(&f, mutate_text(&mut rng, &text)).unwrap();
        }
    }
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in fs::read_dir(dir).unwrap().flatten() {
        if e.file_type().unwrap().is_dir() {
            collect(&e.path(), out);
        } else {
            out.push(e.path());
        }
    }
}
