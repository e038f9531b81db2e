//! Properties of `text3` and the git behaviours users see: markers, identical changes,
//! missing final newlines, CRLF files, zealous narrowing of conflicts.

use proptest::prelude::*;
use twinsync_core::merge::{text3, ConflictStyle, Favor, TextMergeOptions};

fn opts() -> TextMergeOptions {
    TextMergeOptions { labels: ["ours".into(), "base".into(), "theirs".into()], ..TextMergeOptions::default() }
}

/// Lines from a small alphabet, so that diffs are full of ambiguous matches.
fn text() -> impl Strategy<Value = String> {
    (prop::collection::vec(prop::sample::select(vec!["a", "b", "c", "}", "", "- x"]), 0..24), any::<bool>()).prop_map(
        |(lines, final_nl)| {
            let mut s = lines.join("\n");
            if final_nl && !s.is_empty() {
                s.push('\n');
            }
            s
        },
    )
}

/// An edit of the base: replace `len` lines at `start` with `new` fresh lines.
#[derive(Debug, Clone)]
struct Site {
    start: usize,
    len: usize,
    new: usize,
    ours: bool,
}

/// A base of unique lines and non-overlapping edit sites with untouched lines between.
fn base_and_sites() -> impl Strategy<Value = (usize, Vec<Site>)> {
    (4usize..60, prop::collection::vec((1usize..4, 0usize..3, 0usize..3, any::<bool>()), 0..10)).prop_map(|(n, raw)| {
        let mut sites = Vec::new();
        let mut pos = 0;
        for (gap, len, new, ours) in raw {
            let start = pos + gap;
            if start + len > n {
                break;
            }
            sites.push(Site { start, len, new, ours });
            // At least one untouched line before the next site.
            pos = start + len + 1;
        }
        (n, sites)
    })
}

fn apply(n: usize, sites: &[Site], pick: impl Fn(&Site) -> bool) -> String {
    let mut out = String::new();
    let mut i = 0;
    for (k, s) in sites.iter().enumerate() {
        while i < s.start {
            out.push_str(&format!("line {i}\n"));
            i += 1;
        }
        if pick(s) {
            for j in 0..s.new {
                out.push_str(&format!("new {k}.{j}\n"));
            }
            i = s.start + s.len;
        }
    }
    while i < n {
        out.push_str(&format!("line {i}\n"));
        i += 1;
    }
    out
}

proptest! {
    #[test]
    fn same_change_on_both_sides_is_taken(b in text(), x in text()) {
        let m = text3(&b, &x, &x, &opts());
        prop_assert_eq!(m.conflicts, 0);
        prop_assert_eq!(m.text, x);
    }

    #[test]
    fn change_on_theirs_only_is_taken(b in text(), x in text()) {
        let m = text3(&b, &b, &x, &opts());
        prop_assert_eq!(m.conflicts, 0);
        prop_assert_eq!(m.text, x);
    }

    #[test]
    fn change_on_ours_only_is_taken(b in text(), x in text()) {
        let m = text3(&b, &x, &b, &opts());
        prop_assert_eq!(m.conflicts, 0);
        prop_assert_eq!(m.text, x);
    }

    #[test]
    fn separate_edits_merge_cleanly((n, sites) in base_and_sites()) {
        let base = apply(n, &sites, |_| false);
        let ours = apply(n, &sites, |s| s.ours);
        let theirs = apply(n, &sites, |s| !s.ours);
        let expected = apply(n, &sites, |_| true);
        let m = text3(&base, &ours, &theirs, &opts());
        prop_assert_eq!(m.conflicts, 0);
        prop_assert_eq!(m.text, expected);
    }

    #[test]
    fn favoring_a_side_leaves_no_markers(b in text(), x in text(), y in text()) {
        for favor in [Favor::Ours, Favor::Theirs, Favor::Union] {
            let m = text3(&b, &x, &y, &TextMergeOptions { favor, ..opts() });
            prop_assert_eq!(m.conflicts, 0);
        }
    }
}

#[test]
fn conflict_is_marked_with_labels() {
    let m = text3("a\nb\nc\n", "a\nB\nc\n", "a\nX\nc\n", &opts());
    assert_eq!(m.conflicts, 1);
    assert_eq!(m.text, "a\n<<<<<<< ours\nB\n=======\nX\n>>>>>>> theirs\nc\n");
}

#[test]
fn diff3_style_shows_the_base() {
    let o = TextMergeOptions { style: ConflictStyle::Diff3, ..opts() };
    let m = text3("a\nb\nc\n", "a\nB\nc\n", "a\nX\nc\n", &o);
    assert_eq!(m.text, "a\n<<<<<<< ours\nB\n||||||| base\nb\n=======\nX\n>>>>>>> theirs\nc\n");
}

#[test]
fn unterminated_last_lines_get_a_newline_before_markers() {
    let m = text3("a\nb", "a\nB", "a\nX", &opts());
    assert_eq!(m.text, "a\n<<<<<<< ours\nB\n=======\nX\n>>>>>>> theirs\n");
}

#[test]
fn crlf_files_get_crlf_markers() {
    let m = text3("a\r\nb\r\nc\r\n", "a\r\nB\r\nc\r\n", "a\r\nX\r\nc\r\n", &opts());
    assert_eq!(m.text, "a\r\n<<<<<<< ours\r\nB\r\n=======\r\nX\r\n>>>>>>> theirs\r\nc\r\n");
}

#[test]
fn zealous_merge_keeps_common_lines_out_of_conflicts() {
    // Both sides rewrote the same three lines, agreeing on the first and last.
    let m = text3("a\nb\nc\n", "A\nB\nC\n", "A\nX\nC\n", &opts());
    assert_eq!(m.text, "A\n<<<<<<< ours\nB\n=======\nX\n>>>>>>> theirs\nC\n");
}

#[test]
fn marker_size_is_honoured() {
    let o = TextMergeOptions { marker_size: 3, ..opts() };
    let m = text3("b\n", "B\n", "X\n", &o);
    assert_eq!(m.text, "<<< ours\nB\n===\nX\n>>> theirs\n");
}
