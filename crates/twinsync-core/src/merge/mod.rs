//! Three-way merges: `text3` (diff3 lines, as `git merge-file` does it) and `json3`
//! (JSON objects key by key).

mod diff;

pub use diff::Aligner;
mod json3;
mod text3;

pub use json3::{json3, JsonConflict, JsonMerge, JsonMergeOptions};
pub use text3::{text3, text3_bytes, ByteMerge, ConflictStyle, Favor, TextMerge, TextMergeOptions};
