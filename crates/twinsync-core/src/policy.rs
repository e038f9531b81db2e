//! Which way changes flow (`Direction`) and how conflicts are resolved (`Policy`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::key::Key;

/// One of the two replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The left replica.
    Left,
    /// The right replica.
    Right,
}

impl Side {
    /// The other side.
    pub fn other(self) -> Side {
        match self {
            Side::Left => Side::Right,
            Side::Right => Side::Left,
        }
    }
    /// `left` or `right`.
    pub fn as_str(self) -> &'static str {
        match self {
            Side::Left => "left",
            Side::Right => "right",
        }
    }
}

impl fmt::Display for Side {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a string is not a direction or policy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {input:?}; expected one of: {expected}")]
pub struct ParseError {
    /// What was being parsed.
    pub what: &'static str,
    /// The rejected input.
    pub input: String,
    /// The accepted spellings.
    pub expected: &'static str,
}

impl FromStr for Side {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "left" => Ok(Side::Left),
            "right" => Ok(Side::Right),
            _ => Err(ParseError { what: "side", input: s.into(), expected: "left, right" }),
        }
    }
}

/// Which way changes flow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Left changes go to the right; right-only changes are left alone and reported.
    LeftToRight,
    /// Right changes go to the left; left-only changes are left alone and reported.
    RightToLeft,
    /// Changes go both ways; conflicts go to the policy.
    #[default]
    Both,
}

impl Direction {
    /// The side changes come from, for a one-way direction.
    pub fn source(self) -> Option<Side> {
        match self {
            Direction::LeftToRight => Some(Side::Left),
            Direction::RightToLeft => Some(Side::Right),
            Direction::Both => None,
        }
    }
    /// `left_to_right`, `right_to_left` or `both`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::LeftToRight => "left_to_right",
            Direction::RightToLeft => "right_to_left",
            Direction::Both => "both",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Direction {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s.replace('-', "_").as_str() {
            "left_to_right" | "ltr" | "push" => Ok(Direction::LeftToRight),
            "right_to_left" | "rtl" | "pull" => Ok(Direction::RightToLeft),
            "both" | "bidirectional" => Ok(Direction::Both),
            _ => Err(ParseError { what: "direction", input: s.into(), expected: "left-to-right, right-to-left, both" }),
        }
    }
}

/// The default direction and per-item overrides.
///
/// An override key ending in `/` applies to every key under that folder; the longest
/// matching override wins.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(default)]
pub struct Directions {
    /// Direction for items without an override.
    pub default: Direction,
    /// Overrides by exact key or by folder prefix ending in `/`.
    pub overrides: BTreeMap<String, Direction>,
}

impl Directions {
    /// Every item flows `d`.
    pub fn all(d: Direction) -> Self {
        Directions { default: d, overrides: BTreeMap::new() }
    }

    /// The direction for `key`.
    pub fn for_key(&self, key: &Key) -> Direction {
        if self.overrides.is_empty() {
            return self.default;
        }
        let k = key.as_str();
        if let Some(d) = self.overrides.get(k) {
            return *d;
        }
        // Longest folder prefix first: walk the key's ancestors from deepest.
        let mut end = k.len();
        while let Some(pos) = k[..end].rfind('/') {
            if let Some(d) = self.overrides.get(&k[..=pos]) {
                return *d;
            }
            end = pos;
        }
        self.default
    }
}

/// How a conflict is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "strategy", rename_all = "snake_case")]
pub enum Strategy {
    /// The named side wins.
    Prefer {
        /// The winning side.
        side: Side,
    },
    /// The side with the later modification time wins; ties (or unknown times) go to `tie`.
    NewestWins {
        /// Who wins a tie.
        tie: Side,
    },
    /// Three-way merge (text or JSON); when the merge conflicts, `fallback` decides.
    Merge {
        /// A side that wins a conflicting merge, or `None` to leave it for a person.
        fallback: Option<Side>,
    },
    /// Leave every conflict for a person.
    Manual,
}

/// The conflict policy of a sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Policy {
    /// How modify/modify and add/add conflicts are resolved.
    #[serde(flatten)]
    pub strategy: Strategy,
    /// When true, a modify/delete conflict follows the strategy, so a deletion can win
    /// over an edit. By default the modification is kept: a deletion never silently
    /// destroys an edit.
    #[serde(default)]
    pub deletions_win: bool,
}

impl Policy {
    /// A policy with the default modify/delete rule.
    pub const fn new(strategy: Strategy) -> Self {
        Policy { strategy, deletions_win: false }
    }
    /// The named side wins.
    pub const fn prefer(side: Side) -> Self {
        Policy::new(Strategy::Prefer { side })
    }
    /// Leave every conflict for a person.
    pub const fn manual() -> Self {
        Policy::new(Strategy::Manual)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::manual()
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.strategy {
            Strategy::Prefer { side } => write!(f, "prefer-{side}"),
            Strategy::NewestWins { tie } => write!(f, "newest-wins:{tie}"),
            Strategy::Merge { fallback: Some(s) } => write!(f, "merge:{s}"),
            Strategy::Merge { fallback: None } => f.write_str("merge"),
            Strategy::Manual => f.write_str("manual"),
        }?;
        if self.deletions_win {
            f.write_str("+deletions-win")?;
        }
        Ok(())
    }
}

impl FromStr for Policy {
    type Err = ParseError;
    /// `prefer-left`, `prefer-right`, `newest-wins[:left|right]`, `merge[:left|right|manual]`,
    /// `manual`, each optionally followed by `+deletions-win`.
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let err = || {
            ParseError {
            what: "policy",
            input: s.into(),
            expected: "prefer-left, prefer-right, newest-wins[:left|right], merge[:left|right|manual], manual (optionally +deletions-win)",
        }
        };
        let (body, deletions_win) = match s.strip_suffix("+deletions-win") {
            Some(b) => (b, true),
            None => (s, false),
        };
        let (name, arg) = match body.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (body, None),
        };
        let side = |a: Option<&str>, default: Side| -> Result<Side, ParseError> {
            a.map_or(Ok(default), |a| a.parse().map_err(|_| err()))
        };
        let strategy = match (name, arg) {
            ("prefer-left" | "left-wins", None) => Strategy::Prefer { side: Side::Left },
            ("prefer-right" | "right-wins", None) => Strategy::Prefer { side: Side::Right },
            ("newest-wins" | "newest", a) => Strategy::NewestWins { tie: side(a, Side::Left)? },
            ("merge", None | Some("manual")) => Strategy::Merge { fallback: None },
            ("merge", a) => Strategy::Merge { fallback: Some(side(a, Side::Left)?) },
            ("manual", None) => Strategy::Manual,
            _ => return Err(err()),
        };
        Ok(Policy { strategy, deletions_win })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_round_trip_through_their_names() {
        for s in [
            "prefer-left",
            "prefer-right",
            "newest-wins:right",
            "merge",
            "merge:left",
            "manual",
            "prefer-left+deletions-win",
        ] {
            let p: Policy = s.parse().unwrap();
            assert_eq!(p.to_string(), s);
            let json = serde_json::to_string(&p).unwrap();
            assert_eq!(serde_json::from_str::<Policy>(&json).unwrap(), p, "{json}");
        }
        let e = "yolo".parse::<Policy>().unwrap_err();
        assert!(e.to_string().contains("prefer-left"), "{e}");
    }

    #[test]
    fn folder_overrides_apply_to_descendants() {
        let mut d = Directions::all(Direction::Both);
        d.overrides.insert("docs/".into(), Direction::LeftToRight);
        d.overrides.insert("docs/api/".into(), Direction::RightToLeft);
        d.overrides.insert("README.md".into(), Direction::RightToLeft);
        let k = |s| Key::new(s).unwrap();
        assert_eq!(d.for_key(&k("docs/a.md")), Direction::LeftToRight);
        assert_eq!(d.for_key(&k("docs/api/x/y.md")), Direction::RightToLeft);
        assert_eq!(d.for_key(&k("README.md")), Direction::RightToLeft);
        assert_eq!(d.for_key(&k("src/x.rs")), Direction::Both);
        assert_eq!("left-to-right".parse::<Direction>().unwrap(), Direction::LeftToRight);
    }
}
