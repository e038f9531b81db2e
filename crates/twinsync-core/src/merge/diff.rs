//! Line diff for the three-way merge: lines interned to integer ids, the problem shrunk the
//! way git's xdiff shrinks it (common ends trimmed, lines without a partner set aside,
//! very common lines inside runs of such lines set aside too), a Myers search on what is
//! left, then change groups slid into git's canonical places. The default search makes
//! the same choices as xdiff among equally short diffs, so hunks line up exactly with
//! `git merge-file`; `similar`'s Myers can be chosen instead ([`Aligner::Similar`]).

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

/// A change: `chg1` lines at `i1` of the old side became `chg2` lines at `i2` of the new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Change {
    pub i1: usize,
    pub chg1: usize,
    pub i2: usize,
    pub chg2: usize,
}

/// Splits `text` into lines, each keeping its `\n`; the last may lack one.
pub(crate) fn split_lines(text: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::with_capacity(text.len() / 32 + 1);
    let mut start = 0;
    // memchr-like scan: iterating positions of b'\n' is the hot loop at 1M lines.
    for (i, &b) in text.iter().enumerate() {
        if b == b'\n' {
            out.push(&text[start..=i]);
            start = i + 1;
        }
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// FNV-1a over the line, folded 8 bytes at a time; lines are short and SipHash would
/// dominate the cost of interning a million of them.
#[derive(Default)]
pub(crate) struct LineHasher(u64);

impl Hasher for LineHasher {
    fn finish(&self) -> u64 {
        // Final avalanche so the low bits hashbrown uses are well mixed.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }

    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0 ^ 0xcbf2_9ce4_8422_2325;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let w = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            h = (h ^ w).wrapping_mul(0x0100_0000_01b3).rotate_left(29);
        }
        for &b in chunks.remainder() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Maps distinct lines to dense ids.
pub(crate) struct Interner<'a> {
    map: HashMap<&'a [u8], u32, BuildHasherDefault<LineHasher>>,
}

impl<'a> Interner<'a> {
    /// An interner sized for about `n` distinct lines.
    pub(crate) fn with_capacity(n: usize) -> Self {
        Interner { map: HashMap::with_capacity_and_hasher(n, Default::default()) }
    }

    /// Ids of `lines`, allocating new ids for unseen lines.
    pub(crate) fn intern(&mut self, lines: &[&'a [u8]]) -> Vec<u32> {
        lines
            .iter()
            .map(|l| {
                let next = self.map.len() as u32;
                *self.map.entry(l).or_insert(next)
            })
            .collect()
    }

    /// Number of distinct lines seen.
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

/// Scratch space reused between diffs: per-id occurrence counts of both sides.
pub(crate) struct Scratch {
    count_a: Vec<u32>,
    count_b: Vec<u32>,
}

impl Scratch {
    /// Scratch for ids below `n_ids`.
    pub(crate) fn new(n_ids: usize) -> Self {
        Scratch { count_a: vec![0; n_ids], count_b: vec![0; n_ids] }
    }
}

/// Which lines of each side are changed: `chg[i + 1]` for line `i`, with a `false`
/// sentinel at both ends so group walks need no bounds checks.
struct Marks {
    a: Vec<bool>,
    b: Vec<bool>,
}

/// git's limit on how often a line may recur before it counts as "common" (`XDL_MAX_EQLIMIT`).
const MAX_EQ_LIMIT: usize = 1024;
/// How far the multi-match scan looks each way (`XDL_SIMSCAN_WINDOW`).
const SIMSCAN_WINDOW: usize = 100;
/// Ratio deciding when a common line inside a run of unmatched lines is set aside.
const KPDIS_RUN: usize = 4;

/// xdiff's cheap square root: the power of two near `sqrt(n)`.
fn bogo_sqrt(mut n: usize) -> usize {
    let mut i = 1;
    while n > 0 {
        i <<= 1;
        n >>= 2;
    }
    i
}

/// Classification of a line before diffing: 0 = no partner, 1 = keep, 2 = very common.
fn classify(own: &[u32], other_count: &[u32], start: usize, end: usize) -> Vec<u8> {
    let lim = bogo_sqrt(own.len()).min(MAX_EQ_LIMIT);
    let mut dis = vec![0u8; own.len()];
    for i in start..end {
        let nm = other_count[own[i] as usize] as usize;
        dis[i] = if nm == 0 {
            0
        } else if nm >= lim {
            2
        } else {
            1
        };
    }
    dis
}

/// Whether a very common line at `i` sits in a run dominated by unmatched lines, so it is
/// better treated as changed than as an anchor.
fn drop_common(dis: &[u8], i: usize, start: usize, end: usize) -> bool {
    // `end` is exclusive here; git's window bounds are inclusive of the last line.
    let s = if i - start > SIMSCAN_WINDOW { i - SIMSCAN_WINDOW } else { start };
    let last = end - 1;
    let e = if last - i > SIMSCAN_WINDOW { i + SIMSCAN_WINDOW } else { last };
    let (mut rdis0, mut rpdis0) = (0usize, 1usize);
    let mut r = 1;
    while i >= s + r {
        match dis[i - r] {
            0 => rdis0 += 1,
            2 => rpdis0 += 1,
            _ => break,
        }
        r += 1;
    }
    if rdis0 == 0 {
        return false;
    }
    let (mut rdis1, mut rpdis1) = (0usize, 1usize);
    r = 1;
    while i + r <= e {
        match dis[i + r] {
            0 => rdis1 += 1,
            2 => rpdis1 += 1,
            _ => break,
        }
        r += 1;
    }
    if rdis1 == 0 {
        return false;
    }
    let rdis = rdis0 + rdis1;
    let rpdis = rpdis0 + rpdis1;
    rpdis * KPDIS_RUN < rpdis + rdis
}

/// Collects the changed positions `similar` reports, mapped back to full-file lines.
struct MarkHook<'m> {
    index_a: &'m [usize],
    index_b: &'m [usize],
    marks: &'m mut Marks,
}

impl MarkHook<'_> {
    /// Marks reduced lines `[from, to)` of the old side as changed.
    fn mark_a(&mut self, from: usize, to: usize) {
        for k in from..to {
            self.marks.a[self.index_a[k] + 1] = true;
        }
    }

    /// Marks reduced lines `[from, to)` of the new side as changed.
    fn mark_b(&mut self, from: usize, to: usize) {
        for k in from..to {
            self.marks.b[self.index_b[k] + 1] = true;
        }
    }
}

impl similar::algorithms::DiffHook for MarkHook<'_> {
    type Error = std::convert::Infallible;

    fn delete(&mut self, old: usize, len: usize, _new: usize) -> Result<(), Self::Error> {
        self.mark_a(old, old + len);
        Ok(())
    }

    fn insert(&mut self, _old: usize, new: usize, len: usize) -> Result<(), Self::Error> {
        self.mark_b(new, new + len);
        Ok(())
    }
}

/// The Myers implementation that aligns lines once the problem is reduced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aligner {
    /// A Myers search with git xdiff's tie-breaks and cost cut-offs: the same alignment
    /// as `git merge-file`, even among several equally short diffs.
    #[default]
    Git,
    /// `similar`'s Myers: an equally minimal diff that may align ambiguous lines
    /// differently from git.
    Similar,
}

/// Diffs line ids `a` (old) against `b` (new) and returns the changes, in order.
pub(crate) fn diff(a: &[u32], b: &[u32], scratch: &mut Scratch, aligner: Aligner) -> Vec<Change> {
    let mut marks = Marks { a: vec![false; a.len() + 2], b: vec![false; b.len() + 2] };

    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let max_suffix = a.len().min(b.len()) - prefix;
    let suffix = a.iter().rev().zip(b.iter().rev()).take(max_suffix).take_while(|(x, y)| x == y).count();
    let (a_end, b_end) = (a.len() - suffix, b.len() - suffix);

    if prefix < a_end || prefix < b_end {
        for &x in a {
            scratch.count_a[x as usize] += 1;
        }
        for &y in b {
            scratch.count_b[y as usize] += 1;
        }
        let dis_a = classify(a, &scratch.count_b, prefix, a_end);
        let dis_b = classify(b, &scratch.count_a, prefix, b_end);
        for &x in a {
            scratch.count_a[x as usize] = 0;
        }
        for &y in b {
            scratch.count_b[y as usize] = 0;
        }

        let (mut ids_a, mut index_a) = (Vec::new(), Vec::new());
        for i in prefix..a_end {
            if dis_a[i] == 1 || (dis_a[i] == 2 && !drop_common(&dis_a, i, prefix, a_end)) {
                ids_a.push(a[i]);
                index_a.push(i);
            } else {
                marks.a[i + 1] = true;
            }
        }
        let (mut ids_b, mut index_b) = (Vec::new(), Vec::new());
        for i in prefix..b_end {
            if dis_b[i] == 1 || (dis_b[i] == 2 && !drop_common(&dis_b, i, prefix, b_end)) {
                ids_b.push(b[i]);
                index_b.push(i);
            } else {
                marks.b[i + 1] = true;
            }
        }
        let mut hook = MarkHook { index_a: &index_a, index_b: &index_b, marks: &mut marks };
        match aligner {
            Aligner::Git => git_myers(&ids_a, &ids_b, &mut hook),
            Aligner::Similar => {
                let Ok(()) =
                    similar::algorithms::myers::diff(&mut hook, &ids_a[..], 0..ids_a.len(), &ids_b[..], 0..ids_b.len());
            }
        }
    }

    compact(&mut marks.a, &marks.b, a);
    compact(&mut marks.b, &marks.a, b);
    build_script(&marks)
}

/// A group of changed lines `[start, end)` in one file (empty: a position between lines).
#[derive(Clone, Copy)]
struct Group {
    start: usize,
    end: usize,
}

/// Walks groups over a mark array where line `i` is at `chg[i + 1]`.
struct Groups<'c> {
    n: usize,
    chg: &'c [bool],
}

impl Groups<'_> {
    fn changed(&self, i: usize) -> bool {
        self.chg[i + 1]
    }

    fn first(&self) -> Group {
        let mut end = 0;
        while self.changed(end) {
            end += 1;
        }
        Group { start: 0, end }
    }

    fn next(&self, g: &mut Group) -> bool {
        if g.end == self.n {
            return false;
        }
        g.start = g.end + 1;
        g.end = g.start;
        while self.changed(g.end) {
            g.end += 1;
        }
        true
    }

    fn previous(&self, g: &mut Group) -> bool {
        if g.start == 0 {
            return false;
        }
        g.end = g.start - 1;
        g.start = g.end;
        while g.start > 0 && self.changed(g.start - 1) {
            g.start -= 1;
        }
        true
    }
}

/// Slides `g` one line down if the line after it equals its first line.
fn slide_down(chg: &mut [bool], ids: &[u32], g: &mut Group) -> bool {
    if g.end < ids.len() && ids[g.start] == ids[g.end] {
        chg[g.start + 1] = false;
        chg[g.end + 1] = true;
        g.start += 1;
        g.end += 1;
        while chg[g.end + 1] {
            g.end += 1;
        }
        true
    } else {
        false
    }
}

/// Slides `g` one line up if the line before it equals its last line.
fn slide_up(chg: &mut [bool], ids: &[u32], g: &mut Group) -> bool {
    if g.start > 0 && ids[g.start - 1] == ids[g.end - 1] {
        g.start -= 1;
        g.end -= 1;
        chg[g.start + 1] = true;
        chg[g.end + 1] = false;
        while g.start > 0 && chg[g.start] {
            g.start -= 1;
        }
        true
    } else {
        false
    }
}

/// Moves each change group of one file as far down as it goes, merging groups it runs
/// into, unless it can line up with a change in the other file (git's `xdl_change_compact`
/// without the indent heuristic, which `git merge-file` does not turn on).
fn compact(chg: &mut [bool], other: &[bool], ids: &[u32]) {
    let n = ids.len();
    let other_groups = Groups { n: other.len() - 2, chg: other };
    let mut g = Groups { n, chg }.first();
    let mut go = other_groups.first();
    loop {
        if g.end != g.start {
            let mut earliest_end;
            let mut end_matching_other;
            loop {
                let size = g.end - g.start;
                end_matching_other = None;
                while slide_up(chg, ids, &mut g) {
                    other_groups.previous(&mut go);
                }
                earliest_end = g.end;
                if go.end > go.start {
                    end_matching_other = Some(g.end);
                }
                while slide_down(chg, ids, &mut g) {
                    other_groups.next(&mut go);
                    if go.end > go.start {
                        end_matching_other = Some(g.end);
                    }
                }
                if size == g.end - g.start {
                    break;
                }
            }
            if g.end != earliest_end && end_matching_other.is_some() {
                while go.end == go.start {
                    slide_up(chg, ids, &mut g);
                    other_groups.previous(&mut go);
                }
            }
        }
        if !(Groups { n, chg: &*chg }).next(&mut g) {
            break;
        }
        other_groups.next(&mut go);
    }
}

/// Turns the two mark arrays into the list of changes.
fn build_script(marks: &Marks) -> Vec<Change> {
    let (n1, n2) = (marks.a.len() - 2, marks.b.len() - 2);
    let mut out = Vec::new();
    let (mut i1, mut i2) = (0usize, 0usize);
    while i1 < n1 || i2 < n2 {
        if marks.a[i1 + 1] || marks.b[i2 + 1] {
            let (s1, s2) = (i1, i2);
            while marks.a[i1 + 1] {
                i1 += 1;
            }
            while marks.b[i2 + 1] {
                i2 += 1;
            }
            out.push(Change { i1: s1, chg1: i1 - s1, i2: s2, chg2: i2 - s2 });
        } else {
            i1 += 1;
            i2 += 1;
        }
    }
    out
}

/// Edit cost below which the search never cuts corners (`XDL_HEUR_MIN_COST`).
const HEUR_MIN_COST: isize = 256;
/// Floor of the cost limit after which the best partial path is taken (`XDL_MAX_COST_MIN`).
const MAX_COST_MIN: isize = 256;
/// Length of a diagonal run that counts as a good snake (`XDL_SNAKE_CNT`).
const SNAKE_CNT: isize = 20;
/// Weight of a snake's progress against the edit cost (`XDL_K_HEUR`).
const K_HEUR: isize = 4;

/// Where a box is split, and whether each half must be diffed minimally.
struct Split {
    i1: isize,
    i2: isize,
    min_lo: bool,
    min_hi: bool,
}

/// Forward and backward furthest-reaching vectors, indexed by diagonal.
struct KVectors {
    f: Vec<isize>,
    b: Vec<isize>,
    offset: isize,
    max_cost: isize,
}

impl KVectors {
    #[inline]
    fn f(&self, d: isize) -> isize {
        self.f[(d + self.offset) as usize]
    }
    #[inline]
    fn b(&self, d: isize) -> isize {
        self.b[(d + self.offset) as usize]
    }
    #[inline]
    fn set_f(&mut self, d: isize, v: isize) {
        self.f[(d + self.offset) as usize] = v;
    }
    #[inline]
    fn set_b(&mut self, d: isize, v: isize) {
        self.b[(d + self.offset) as usize] = v;
    }
}

/// Finds the middle snake of the box `[off1, lim1) x [off2, lim2)` by searching from
/// both corners at once, the way git's xdiff does, including its tie-breaks and its
/// shortcuts for expensive boxes, so that equal-cost alignments come out as git's.
#[allow(clippy::too_many_arguments)]
fn split(
    a: &[u32],
    off1: isize,
    lim1: isize,
    b: &[u32],
    off2: isize,
    lim2: isize,
    kv: &mut KVectors,
    need_min: bool,
) -> Split {
    let ha1 = |i: isize| a[i as usize];
    let ha2 = |i: isize| b[i as usize];
    let (dmin, dmax) = (off1 - lim2, lim1 - off2);
    let (fmid, bmid) = (off1 - off2, lim1 - lim2);
    let odd = (fmid - bmid) & 1 != 0;
    let (mut fmin, mut fmax, mut bmin, mut bmax) = (fmid, fmid, bmid, bmid);
    kv.set_f(fmid, off1);
    kv.set_b(bmid, lim1);
    let mut ec: isize = 1;
    loop {
        let mut got_snake = false;
        if fmin > dmin {
            fmin -= 1;
            kv.set_f(fmin - 1, -1);
        } else {
            fmin += 1;
        }
        if fmax < dmax {
            fmax += 1;
            kv.set_f(fmax + 1, -1);
        } else {
            fmax -= 1;
        }
        let mut d = fmax;
        while d >= fmin {
            let mut i1 = if kv.f(d - 1) >= kv.f(d + 1) { kv.f(d - 1) + 1 } else { kv.f(d + 1) };
            let prev1 = i1;
            let mut i2 = i1 - d;
            while i1 < lim1 && i2 < lim2 && ha1(i1) == ha2(i2) {
                i1 += 1;
                i2 += 1;
            }
            if i1 - prev1 > SNAKE_CNT {
                got_snake = true;
            }
            kv.set_f(d, i1);
            if odd && bmin <= d && d <= bmax && kv.b(d) <= i1 {
                return Split { i1, i2, min_lo: true, min_hi: true };
            }
            d -= 2;
        }

        if bmin > dmin {
            bmin -= 1;
            kv.set_b(bmin - 1, isize::MAX);
        } else {
            bmin += 1;
        }
        if bmax < dmax {
            bmax += 1;
            kv.set_b(bmax + 1, isize::MAX);
        } else {
            bmax -= 1;
        }
        let mut d = bmax;
        while d >= bmin {
            let mut i1 = if kv.b(d - 1) < kv.b(d + 1) { kv.b(d - 1) } else { kv.b(d + 1) - 1 };
            let prev1 = i1;
            let mut i2 = i1 - d;
            while i1 > off1 && i2 > off2 && ha1(i1 - 1) == ha2(i2 - 1) {
                i1 -= 1;
                i2 -= 1;
            }
            if prev1 - i1 > SNAKE_CNT {
                got_snake = true;
            }
            kv.set_b(d, i1);
            if !odd && fmin <= d && d <= fmax && i1 <= kv.f(d) {
                return Split { i1, i2, min_lo: true, min_hi: true };
            }
            d -= 2;
        }

        if !need_min {
            if got_snake && ec > HEUR_MIN_COST {
                if let Some((i1, i2)) = good_forward_snake(a, b, kv, (off1, lim1, off2, lim2), fmin, fmax, fmid, ec) {
                    return Split { i1, i2, min_lo: true, min_hi: false };
                }
                if let Some((i1, i2)) = good_backward_snake(a, b, kv, (off1, lim1, off2, lim2), bmin, bmax, bmid, ec) {
                    return Split { i1, i2, min_lo: false, min_hi: true };
                }
            }
            if ec >= kv.max_cost {
                // Too expensive: take whichever partial path got furthest.
                let (mut fbest, mut fbest1) = (-1isize, -1isize);
                let mut d = fmax;
                while d >= fmin {
                    let mut i1 = kv.f(d).min(lim1);
                    let mut i2 = i1 - d;
                    if lim2 < i2 {
                        i1 = lim2 + d;
                        i2 = lim2;
                    }
                    if fbest < i1 + i2 {
                        fbest = i1 + i2;
                        fbest1 = i1;
                    }
                    d -= 2;
                }
                let (mut bbest, mut bbest1) = (isize::MAX, isize::MAX);
                let mut d = bmax;
                while d >= bmin {
                    let mut i1 = off1.max(kv.b(d));
                    let mut i2 = i1 - d;
                    if i2 < off2 {
                        i1 = off2 + d;
                        i2 = off2;
                    }
                    if i1 + i2 < bbest {
                        bbest = i1 + i2;
                        bbest1 = i1;
                    }
                    d -= 2;
                }
                return if (lim1 + lim2) - bbest < fbest - (off1 + off2) {
                    Split { i1: fbest1, i2: fbest - fbest1, min_lo: true, min_hi: false }
                } else {
                    Split { i1: bbest1, i2: bbest - bbest1, min_lo: false, min_hi: true }
                };
            }
        }
        ec += 1;
    }
}

/// A forward diagonal that has made much progress and ends in a long snake, if any.
#[allow(clippy::too_many_arguments)]
fn good_forward_snake(
    a: &[u32],
    b: &[u32],
    kv: &KVectors,
    (off1, lim1, off2, lim2): (isize, isize, isize, isize),
    fmin: isize,
    fmax: isize,
    fmid: isize,
    ec: isize,
) -> Option<(isize, isize)> {
    let (mut best, mut found) = (0isize, None);
    let mut d = fmax;
    while d >= fmin {
        let dd = (d - fmid).abs();
        let i1 = kv.f(d);
        let i2 = i1 - d;
        let v = (i1 - off1) + (i2 - off2) - dd;
        if v > K_HEUR * ec && v > best && off1 + SNAKE_CNT <= i1 && i1 < lim1 && off2 + SNAKE_CNT <= i2 && i2 < lim2 {
            let mut k = 1;
            while a[(i1 - k) as usize] == b[(i2 - k) as usize] {
                if k == SNAKE_CNT {
                    best = v;
                    found = Some((i1, i2));
                    break;
                }
                k += 1;
            }
        }
        d -= 2;
    }
    found
}

/// A backward diagonal that has made much progress and starts with a long snake, if any.
#[allow(clippy::too_many_arguments)]
fn good_backward_snake(
    a: &[u32],
    b: &[u32],
    kv: &KVectors,
    (off1, lim1, off2, lim2): (isize, isize, isize, isize),
    bmin: isize,
    bmax: isize,
    bmid: isize,
    ec: isize,
) -> Option<(isize, isize)> {
    let (mut best, mut found) = (0isize, None);
    let mut d = bmax;
    while d >= bmin {
        let dd = (d - bmid).abs();
        let i1 = kv.b(d);
        let i2 = i1 - d;
        let v = (lim1 - i1) + (lim2 - i2) - dd;
        if v > K_HEUR * ec && v > best && off1 < i1 && i1 <= lim1 - SNAKE_CNT && off2 < i2 && i2 <= lim2 - SNAKE_CNT {
            let mut k = 0;
            while a[(i1 + k) as usize] == b[(i2 + k) as usize] {
                if k == SNAKE_CNT - 1 {
                    best = v;
                    found = Some((i1, i2));
                    break;
                }
                k += 1;
            }
        }
        d -= 2;
    }
    found
}

/// git-compatible Myers over the reduced id lists: marks changed lines through `hook`.
fn git_myers(a: &[u32], b: &[u32], hook: &mut MarkHook) {
    let ndiags = (a.len() + b.len() + 3) as isize;
    let mut kv = KVectors {
        f: vec![0; ndiags as usize],
        b: vec![0; ndiags as usize],
        offset: b.len() as isize + 1,
        max_cost: (bogo_sqrt(ndiags as usize) as isize).max(MAX_COST_MIN),
    };
    // Boxes still to diff; the order does not matter since each marks its own lines.
    let mut stack = vec![(0isize, a.len() as isize, 0isize, b.len() as isize, false)];
    while let Some((mut off1, mut lim1, mut off2, mut lim2, need_min)) = stack.pop() {
        while off1 < lim1 && off2 < lim2 && a[off1 as usize] == b[off2 as usize] {
            off1 += 1;
            off2 += 1;
        }
        while off1 < lim1 && off2 < lim2 && a[lim1 as usize - 1] == b[lim2 as usize - 1] {
            lim1 -= 1;
            lim2 -= 1;
        }
        if off1 == lim1 {
            hook.mark_b(off2 as usize, lim2 as usize);
        } else if off2 == lim2 {
            hook.mark_a(off1 as usize, lim1 as usize);
        } else {
            let s = split(a, off1, lim1, b, off2, lim2, &mut kv, need_min);
            stack.push((s.i1, lim1, s.i2, lim2, s.min_hi));
            stack.push((off1, s.i1, off2, s.i2, s.min_lo));
        }
    }
}
