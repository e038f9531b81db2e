//! diff3 line merge with conflict markers as `git merge-file` writes them.
//!
//! PLACEHOLDER: trivial cases only; the real diff3 merge replaces this.

use serde::{Deserialize, Serialize};

/// How conflict hunks are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConflictStyle {
    /// `<<<<<<<`, `=======`, `>>>>>>>` (git's default).
    #[default]
    Merge,
    /// Also the base between `|||||||` and `=======` (`git merge-file --diff3`).
    Diff3,
}

/// Options of a text merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TextMergeOptions {
    /// Labels after the markers: ours (left), base, theirs (right).
    pub labels: [String; 3],
    /// Conflict style.
    pub style: ConflictStyle,
    /// Marker length (git's default 7).
    pub marker_size: usize,
}

impl Default for TextMergeOptions {
    fn default() -> Self {
        TextMergeOptions {
            labels: ["left".into(), "base".into(), "right".into()],
            style: ConflictStyle::Merge,
            marker_size: 7,
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

/// Merges `ours` and `theirs`, both derived from `base`.
pub fn text3(base: &str, ours: &str, theirs: &str, opts: &TextMergeOptions) -> TextMerge {
    if ours == theirs || theirs == base {
        return TextMerge { text: ours.to_string(), conflicts: 0 };
    }
    if ours == base {
        return TextMerge { text: theirs.to_string(), conflicts: 0 };
    }
    let m = "<".repeat(opts.marker_size);
    let text = format!(
        "{m} {}\n{ours}{}\n{theirs}{} {}\n",
        opts.labels[0],
        "=".repeat(opts.marker_size),
        ">".repeat(opts.marker_size),
        opts.labels[2]
    );
    TextMerge { text, conflicts: 1 }
}
