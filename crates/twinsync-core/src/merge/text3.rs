//! diff3 line merge with conflict markers as `git merge-file` writes them.
//!
//! The merge follows the behaviour of git's xdiff merge (`xdl_merge`) at the level
//! `git merge-file` uses ("zealous, alnum"): overlapping changes conflict unless they are
//! identical; conflicts are then narrowed to the lines where the two sides really differ,
//! and conflicts separated by at most three lines (or only by lines without letters or
//! digits) are joined. `diff3` style shows the base and skips the narrowing, as git does;
//! `zdiff3` only trims lines common to both sides at the ends of each conflict.

use serde::{Deserialize, Serialize};

use super::diff::{diff, split_lines, Aligner, Change, Interner, Scratch};

/// How conflict hunks are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictStyle {
    /// `<<<<<<<`, `=======`, `>>>>>>>` (git's default).
    #[default]
    Merge,
    /// Also the base between `|||||||` and `=======` (`git merge-file --diff3`).
    Diff3,
    /// diff3 with lines common to both sides moved out of the hunk (`--zdiff3`).
    Zdiff3,
}

/// How conflicts are resolved instead of being marked (`--ours`, `--theirs`, `--union`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Favor {
    /// Write conflict markers.
    #[default]
    None,
    /// Take our side of each conflict.
    Ours,
    /// Take their side of each conflict.
    Theirs,
    /// Take both sides, ours first.
    Union,
}

/// Options of a text merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TextMergeOptions {
    /// Labels after the markers: ours (left), base, theirs (right).
    pub labels: [String; 3],
    /// Conflict style.
    pub style: ConflictStyle,
    /// Marker length (git's default 7; 0 means the default).
    pub marker_size: usize,
    /// Conflict resolution instead of markers.
    pub favor: Favor,
    /// Which Myers search aligns lines (git's by default).
    pub aligner: Aligner,
}

impl Default for TextMergeOptions {
    fn default() -> Self {
        TextMergeOptions {
            labels: ["left".into(), "base".into(), "right".into()],
            style: ConflictStyle::Merge,
            marker_size: 7,
            favor: Favor::None,
            aligner: Aligner::Git,
        }
    }
}

/// A merge result: the text (with markers where it conflicted) and the conflict count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TextMerge {
    /// The merged text.
    pub text: String,
    /// Number of conflict hunks.
    pub conflicts: usize,
}

impl TextMerge {
    /// True when the merge needed no person.
    pub fn is_clean(&self) -> bool {
        self.conflicts == 0
    }
}

/// A merge result over raw bytes (see [`text3_bytes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ByteMerge {
    /// The merged bytes.
    pub bytes: Vec<u8>,
    /// Number of conflict hunks.
    pub conflicts: usize,
}

impl ByteMerge {
    /// True when the merge needed no person.
    pub fn is_clean(&self) -> bool {
        self.conflicts == 0
    }
}

/// Merges `ours` and `theirs`, both derived from `base`.
pub fn text3(base: &str, ours: &str, theirs: &str, opts: &TextMergeOptions) -> TextMerge {
    let m = text3_bytes(base.as_bytes(), ours.as_bytes(), theirs.as_bytes(), opts);
    // Output is made of whole lines of valid UTF-8 inputs plus ASCII markers and labels
    // that are themselves `String`s, so it is valid UTF-8; the lossy path never allocates.
    let text = match String::from_utf8(m.bytes) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    TextMerge { text, conflicts: m.conflicts }
}

/// Merges byte contents line by line, exactly as `git merge-file` does.
pub fn text3_bytes(base: &[u8], ours: &[u8], theirs: &[u8], opts: &TextMergeOptions) -> ByteMerge {
    let lb = split_lines(base);
    let lo = split_lines(ours);
    let lt = split_lines(theirs);
    let mut interner = Interner::with_capacity(lb.len() + lb.len() / 4 + 16);
    let ib = interner.intern(&lb);
    let io = interner.intern(&lo);
    let it = interner.intern(&lt);
    let mut scratch = Scratch::new(interner.len());

    let d1 = diff(&ib, &io, &mut scratch, opts.aligner);
    let d2 = diff(&ib, &it, &mut scratch, opts.aligner);
    if d1.is_empty() {
        return ByteMerge { bytes: theirs.to_vec(), conflicts: 0 };
    }
    if d2.is_empty() {
        return ByteMerge { bytes: ours.to_vec(), conflicts: 0 };
    }
    let files = Files { base: &lb, ours: &lo, theirs: &lt, ours_ids: &io, theirs_ids: &it };
    let mut hunks = combine(&d1, &d2, &files);
    let aligner = opts.aligner;
    match opts.style {
        ConflictStyle::Zdiff3 => trim_common_ends(&mut hunks, &files),
        ConflictStyle::Diff3 => {}
        ConflictStyle::Merge => {
            hunks = refine(hunks, &files, &mut scratch, aligner);
            join_close_conflicts(&mut hunks, &files);
        }
    }
    let size = base.len().max(ours.len()).max(theirs.len()) + 64;
    let mut out = Vec::with_capacity(size);
    let conflicts = write_result(&mut hunks, &files, opts, &mut out);
    ByteMerge { bytes: out, conflicts }
}

/// The three inputs split into lines, plus the sides' line ids.
struct Files<'a, 'b> {
    base: &'b [&'a [u8]],
    ours: &'b [&'a [u8]],
    theirs: &'b [&'a [u8]],
    ours_ids: &'b [u32],
    theirs_ids: &'b [u32],
}

/// What a hunk of the result is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Conflict,
    Ours,
    Theirs,
    /// Both sides (only from `Favor::Union`).
    Both,
    /// Both sides made the same change (found while refining): nothing to write.
    Same,
}

/// A region of the result: base lines `[i0, i0+chg0)`, ours `[i1, i1+chg1)`,
/// theirs `[i2, i2+chg2)`.
#[derive(Debug, Clone, Copy)]
struct Hunk {
    mode: Mode,
    i0: isize,
    chg0: isize,
    i1: isize,
    chg1: isize,
    i2: isize,
    chg2: isize,
}

impl Hunk {
    /// Our lines of the hunk.
    fn ours(&self) -> std::ops::Range<usize> {
        self.i1 as usize..(self.i1 + self.chg1) as usize
    }

    /// Their lines of the hunk.
    fn theirs(&self) -> std::ops::Range<usize> {
        self.i2 as usize..(self.i2 + self.chg2) as usize
    }
}

/// Adds a hunk, folding it into the previous one when they touch on either side; a
/// fold of different kinds becomes a conflict.
fn append(hunks: &mut Vec<Hunk>, h: Hunk) {
    if let Some(m) = hunks.last_mut() {
        if h.i1 <= m.i1 + m.chg1 || h.i2 <= m.i2 + m.chg2 {
            if h.mode != m.mode {
                m.mode = Mode::Conflict;
            }
            m.chg0 = h.i0 + h.chg0 - m.i0;
            m.chg1 = h.i1 + h.chg1 - m.i1;
            m.chg2 = h.i2 + h.chg2 - m.i2;
            return;
        }
    }
    hunks.push(h);
}

/// A change in signed coordinates: the merge arithmetic goes negative on the way.
#[derive(Clone, Copy)]
struct SChange {
    i1: isize,
    chg1: isize,
    i2: isize,
    chg2: isize,
}

impl From<&Change> for SChange {
    fn from(c: &Change) -> Self {
        SChange { i1: c.i1 as isize, chg1: c.chg1 as isize, i2: c.i2 as isize, chg2: c.chg2 as isize }
    }
}

/// Walks both change lists (in base coordinates) and classifies each region: one side's
/// change, or a conflict where the changes overlap or touch, unless they are identical.
fn combine(d1: &[Change], d2: &[Change], f: &Files) -> Vec<Hunk> {
    let d1: Vec<SChange> = d1.iter().map(SChange::from).collect();
    let d2: Vec<SChange> = d2.iter().map(SChange::from).collect();
    let mut hunks: Vec<Hunk> = Vec::new();
    let (mut a, mut b) = (0usize, 0usize);
    while a < d1.len() && b < d2.len() {
        let (x, y) = (d1[a], d2[b]);
        if x.i1 + x.chg1 < y.i1 {
            let i2 = y.i2 - y.i1 + x.i1;
            let h = Hunk { mode: Mode::Ours, i0: x.i1, chg0: x.chg1, i1: x.i2, chg1: x.chg2, i2, chg2: x.chg1 };
            append(&mut hunks, h);
            a += 1;
            continue;
        }
        if y.i1 + y.chg1 < x.i1 {
            let i1 = x.i2 - x.i1 + y.i1;
            let h = Hunk { mode: Mode::Theirs, i0: y.i1, chg0: y.chg1, i1, chg1: y.chg1, i2: y.i2, chg2: y.chg2 };
            append(&mut hunks, h);
            b += 1;
            continue;
        }
        let same = x.i1 == y.i1
            && x.chg1 == y.chg1
            && x.chg2 == y.chg2
            && f.ours_ids[x.i2 as usize..(x.i2 + x.chg2) as usize]
                == f.theirs_ids[y.i2 as usize..(y.i2 + y.chg2) as usize];
        if !same {
            // The conflict spans the union of both base ranges; each side's range is
            // widened by the base lines only the other side touched.
            let off = x.i1 - y.i1;
            let ffo = off + x.chg1 - y.chg1;
            let (mut i0, mut i1, mut i2) = (x.i1, x.i2, y.i2);
            if off > 0 {
                i0 -= off;
                i1 -= off;
            } else {
                i2 += off;
            }
            let mut chg0 = x.i1 + x.chg1 - i0;
            let mut chg1 = x.i2 + x.chg2 - i1;
            let mut chg2 = y.i2 + y.chg2 - i2;
            if ffo < 0 {
                chg0 -= ffo;
                chg1 -= ffo;
            } else {
                chg2 += ffo;
            }
            append(&mut hunks, Hunk { mode: Mode::Conflict, i0, chg0, i1, chg1, i2, chg2 });
        }
        let (end1, end2) = (x.i1 + x.chg1, y.i1 + y.chg1);
        if end1 >= end2 {
            b += 1;
        }
        if end2 >= end1 {
            a += 1;
        }
    }
    let (n0, n1, n2) = (f.base.len() as isize, f.ours.len() as isize, f.theirs.len() as isize);
    for x in &d1[a..] {
        let i2 = x.i1 + n2 - n0;
        let h = Hunk { mode: Mode::Ours, i0: x.i1, chg0: x.chg1, i1: x.i2, chg1: x.chg2, i2, chg2: x.chg1 };
        append(&mut hunks, h);
    }
    for y in &d2[b..] {
        let i1 = y.i1 + n1 - n0;
        let h = Hunk { mode: Mode::Theirs, i0: y.i1, chg0: y.chg1, i1, chg1: y.chg1, i2: y.i2, chg2: y.chg2 };
        append(&mut hunks, h);
    }
    hunks
}

/// Narrows each conflict to the lines where ours and theirs differ, splitting it where
/// they agree in between.
fn refine(hunks: Vec<Hunk>, f: &Files, scratch: &mut Scratch, aligner: Aligner) -> Vec<Hunk> {
    let mut out = Vec::with_capacity(hunks.len());
    for m in hunks {
        if m.mode != Mode::Conflict || m.chg1 <= 0 || m.chg2 <= 0 {
            out.push(m);
            continue;
        }
        let changes = diff(&f.ours_ids[m.ours()], &f.theirs_ids[m.theirs()], scratch, aligner);
        if changes.is_empty() {
            out.push(Hunk { mode: Mode::Same, ..m });
            continue;
        }
        for c in &changes {
            let c = SChange::from(c);
            out.push(Hunk { mode: Mode::Conflict, i1: m.i1 + c.i1, chg1: c.chg1, i2: m.i2 + c.i2, chg2: c.chg2, ..m });
        }
    }
    out
}

/// Whether any line contains an ASCII letter or digit (git's `isalnum` in the C locale).
fn any_alnum(lines: &[&[u8]]) -> bool {
    lines.iter().any(|l| l.iter().any(u8::is_ascii_alphanumeric))
}

/// Joins conflicts separated by at most three lines, or only by lines with no letter or
/// digit: one bigger hunk reads more easily than two with a sliver between them.
fn join_close_conflicts(hunks: &mut Vec<Hunk>, f: &Files) {
    let mut k = 0;
    while k + 1 < hunks.len() {
        let (m, next) = (hunks[k], hunks[k + 1]);
        let begin = m.i1 + m.chg1;
        let end = next.i1;
        let joinable = m.mode == Mode::Conflict
            && next.mode == Mode::Conflict
            && (end - begin <= 3 || !any_alnum(&f.ours[begin as usize..end as usize]));
        if joinable {
            let j = &mut hunks[k];
            j.chg1 = next.i1 + next.chg1 - j.i1;
            j.chg2 = next.i2 + next.chg2 - j.i2;
            hunks.remove(k + 1);
        } else {
            k += 1;
        }
    }
}

/// zdiff3: moves lines equal on both sides at the start and end of a conflict out of it.
fn trim_common_ends(hunks: &mut [Hunk], f: &Files) {
    let (o, t) = (f.ours_ids, f.theirs_ids);
    for m in hunks.iter_mut().filter(|m| m.mode == Mode::Conflict) {
        while m.chg1 > 0 && m.chg2 > 0 && o[m.i1 as usize] == t[m.i2 as usize] {
            m.chg1 -= 1;
            m.chg2 -= 1;
            m.i1 += 1;
            m.i2 += 1;
        }
        while m.chg1 > 0 && m.chg2 > 0 && o[(m.i1 + m.chg1 - 1) as usize] == t[(m.i2 + m.chg2 - 1) as usize] {
            m.chg1 -= 1;
            m.chg2 -= 1;
        }
    }
}

/// Line-ending style of line `i` of `lines`: `Some(true)` for CRLF, `None` when unknown.
/// A last line without newline is judged by the line before it.
fn eol_crlf(lines: &[&[u8]], i: usize) -> Option<bool> {
    let crlf = |l: &[u8]| l.len() > 1 && l[l.len() - 2] == b'\r';
    if lines.is_empty() {
        return None;
    }
    if i + 1 < lines.len() {
        return Some(crlf(lines[i]));
    }
    let l = lines[i];
    if l.last() == Some(&b'\n') {
        return Some(crlf(l));
    }
    if i == 0 {
        return None;
    }
    Some(crlf(lines[i - 1]))
}

/// Whether markers (and added line ends) of hunk `m` need CRLF: when the lines before
/// the hunk on both sides (or the base's first line) end in CRLF.
fn needs_cr(f: &Files, m: &Hunk) -> bool {
    let before = |i: isize| (i - 1).max(0) as usize;
    let mut r = eol_crlf(f.ours, before(m.i1));
    if r != Some(false) {
        r = eol_crlf(f.theirs, before(m.i2));
    }
    if r != Some(false) {
        r = eol_crlf(f.base, 0);
    }
    r.unwrap_or(false)
}

/// Lines `[start, end)`; empty when the range is (as git allows) empty or reversed.
fn span<'l, 'a>(lines: &'l [&'a [u8]], start: isize, end: isize) -> &'l [&'a [u8]] {
    let end = end.clamp(0, lines.len() as isize) as usize;
    let start = start.clamp(0, end as isize) as usize;
    &lines[start..end]
}

/// Appends lines; with `add_nl`, ends an unterminated last line (before a marker).
fn put_lines(out: &mut Vec<u8>, lines: &[&[u8]], add_nl: bool, cr: bool) {
    for l in lines {
        out.extend_from_slice(l);
    }
    if add_nl {
        if let Some(last) = lines.last() {
            if last.last() != Some(&b'\n') {
                if cr {
                    out.push(b'\r');
                }
                out.push(b'\n');
            }
        }
    }
}

/// Appends a marker line: `size` copies of `ch`, then ` label` if any.
fn put_marker(out: &mut Vec<u8>, ch: u8, size: usize, label: Option<&str>, cr: bool) {
    out.extend(std::iter::repeat_n(ch, size));
    if let Some(label) = label {
        out.push(b' ');
        out.extend_from_slice(label.as_bytes());
    }
    if cr {
        out.push(b'\r');
    }
    out.push(b'\n');
}

/// Writes the merged text and returns the number of conflicts left in it.
fn write_result(hunks: &mut [Hunk], f: &Files, opts: &TextMergeOptions, out: &mut Vec<u8>) -> usize {
    let size = if opts.marker_size == 0 { 7 } else { opts.marker_size };
    let favor = match opts.favor {
        Favor::None => None,
        Favor::Ours => Some(Mode::Ours),
        Favor::Theirs => Some(Mode::Theirs),
        Favor::Union => Some(Mode::Both),
    };
    let mut conflicts = 0;
    let mut i = 0;
    for m in hunks.iter_mut() {
        if m.mode == Mode::Conflict {
            if let Some(fv) = favor {
                m.mode = fv;
            }
        }
        match m.mode {
            Mode::Same => continue,
            Mode::Conflict => {
                conflicts += 1;
                let cr = needs_cr(f, m);
                put_lines(out, span(f.ours, i, m.i1), false, false);
                put_marker(out, b'<', size, Some(&opts.labels[0]), cr);
                put_lines(out, span(f.ours, m.i1, m.i1 + m.chg1), true, cr);
                if opts.style != ConflictStyle::Merge {
                    put_marker(out, b'|', size, Some(&opts.labels[1]), cr);
                    put_lines(out, span(f.base, m.i0, m.i0 + m.chg0), true, cr);
                }
                put_marker(out, b'=', size, None, cr);
                put_lines(out, span(f.theirs, m.i2, m.i2 + m.chg2), true, cr);
                put_marker(out, b'>', size, Some(&opts.labels[2]), cr);
            }
            Mode::Ours | Mode::Theirs | Mode::Both => {
                put_lines(out, span(f.ours, i, m.i1), false, false);
                if matches!(m.mode, Mode::Ours | Mode::Both) {
                    let cr = needs_cr(f, m);
                    let ours = span(f.ours, m.i1, m.i1 + m.chg1);
                    put_lines(out, ours, m.mode == Mode::Both, cr);
                }
                if matches!(m.mode, Mode::Theirs | Mode::Both) {
                    put_lines(out, span(f.theirs, m.i2, m.i2 + m.chg2), false, false);
                }
            }
        }
        i = m.i1 + m.chg1;
    }
    put_lines(out, span(f.ours, i, f.ours.len() as isize), false, false);
    conflicts
}
