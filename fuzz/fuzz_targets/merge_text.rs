//! The line three-way merge (`git merge-file`), over the bytes of base, left and right.
//!
//! Properties: a side that did not change takes the other side, cleanly (merge of
//! (a, a, b) and of (a, b, a) is b); both sides making the same change is clean; a merge
//! that resolves conflicts by a side (`--ours`, `--theirs`, `--union`) is clean.
#![no_main]

use libfuzzer_sys::fuzz_target;
use twinsync_core::merge::{text3, text3_bytes, Aligner, ConflictStyle, Favor, TextMergeOptions};
use twinsync_fuzz::{selector, split_nul};

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = selector(data) else { return };
    let [base, left, right] = split_nul::<3>(rest);
    let opts = TextMergeOptions {
        style: [ConflictStyle::Merge, ConflictStyle::Diff3, ConflictStyle::Zdiff3][usize::from(sel % 3)],
        favor: [Favor::None, Favor::Ours, Favor::Theirs, Favor::Union][usize::from((sel >> 2) & 3)],
        aligner: if sel & 0x10 == 0 { Aligner::Git } else { Aligner::Similar },
        marker_size: if sel & 0x20 == 0 { 7 } else { usize::from(sel >> 6) },
        ..TextMergeOptions::default()
    };

    let m = text3_bytes(base, left, right, &opts);
    if opts.favor != Favor::None {
        assert!(m.is_clean(), "favor {:?} left {} conflicts", opts.favor, m.conflicts);
    }

    let unchanged_left = text3_bytes(base, base, right, &opts);
    assert_eq!((unchanged_left.bytes.as_slice(), unchanged_left.conflicts), (right, 0), "merge(a, a, b) != b");
    let unchanged_right = text3_bytes(base, left, base, &opts);
    assert_eq!((unchanged_right.bytes.as_slice(), unchanged_right.conflicts), (left, 0), "merge(a, b, a) != b");
    let same = text3_bytes(base, left, left, &opts);
    assert_eq!((same.bytes.as_slice(), same.conflicts), (left, 0), "merge(a, b, b) != b");

    if let (Ok(b), Ok(l), Ok(r)) = (std::str::from_utf8(base), std::str::from_utf8(left), std::str::from_utf8(right)) {
        let t = text3(b, l, r, &opts);
        assert_eq!((t.text.as_bytes(), t.conflicts), (m.bytes.as_slice(), m.conflicts), "text and bytes merges differ");
    }
});
