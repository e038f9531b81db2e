//! Ignore rules: JSON Pointer patterns naming volatile object members, compiled to a
//! small NFA that the streaming canonicaliser steps through one key at a time.

use serde::{Deserialize, Serialize};

use super::{CanonicalError, ErrorKind};

/// JSON Pointer patterns whose fields are dropped before hashing.
///
/// `*` matches one segment, `**` any number of segments (zero included): `/updatedAt`,
/// `/**/id`, `/variants/*/figmaNodeId`. `~0` and `~1` stand for `~` and `/` as in
/// RFC 6901. A segment matches an object key or an array index (`/items/0/id`), but
/// only object members are ever dropped.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct IgnoreRules {
    patterns: Vec<String>,
    #[serde(skip)]
    compiled: Vec<Vec<Segment>>,
}

/// One step of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Segment {
    /// Exactly this key (already unescaped).
    Literal(Vec<u8>),
    /// Any one key or index.
    Any,
    /// Any run of keys, possibly empty.
    AnyDepth,
}

impl IgnoreRules {
    /// Parses JSON Pointer patterns.
    pub fn new<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> Result<Self, CanonicalError> {
        let patterns: Vec<String> = patterns.into_iter().map(|p| p.as_ref().to_string()).collect();
        let compiled = patterns.iter().map(|p| compile(p)).collect::<Result<_, _>>()?;
        Ok(IgnoreRules { patterns, compiled })
    }

    /// True when there are no patterns.
    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// The patterns as given.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    pub(crate) fn compiled(&self) -> &[Vec<Segment>] {
        &self.compiled
    }
}

fn compile(p: &str) -> Result<Vec<Segment>, CanonicalError> {
    let bad = |why: &str| CanonicalError::new("", ErrorKind::BadPattern(format!("{p:?}: {why}")));
    let Some(rest) = p.strip_prefix('/') else {
        return Err(bad("a pattern is a JSON Pointer and starts with `/`"));
    };
    let mut segs = Vec::new();
    for raw in rest.split('/') {
        segs.push(match raw {
            "*" => Segment::Any,
            "**" => {
                // `/**/**` means the same as `/**`; keeping one keeps the NFA small.
                if segs.last() == Some(&Segment::AnyDepth) {
                    continue;
                }
                Segment::AnyDepth
            }
            _ => {
                let mut key = Vec::with_capacity(raw.len());
                let mut it = raw.bytes();
                while let Some(b) = it.next() {
                    if b == b'~' {
                        match it.next() {
                            Some(b'0') => key.push(b'~'),
                            Some(b'1') => key.push(b'/'),
                            _ => return Err(bad("`~` must be followed by 0 or 1")),
                        }
                    } else {
                        key.push(b);
                    }
                }
                Segment::Literal(key)
            }
        });
    }
    if segs.last() == Some(&Segment::AnyDepth) {
        return Err(bad("a pattern cannot end in `**`; name the member to drop"));
    }
    Ok(segs)
}

impl TryFrom<Vec<String>> for IgnoreRules {
    type Error = CanonicalError;
    fn try_from(v: Vec<String>) -> Result<Self, CanonicalError> {
        IgnoreRules::new(v)
    }
}

impl From<IgnoreRules> for Vec<String> {
    fn from(r: IgnoreRules) -> Self {
        r.patterns
    }
}

/// A live NFA state: pattern number and position within it.
pub(crate) type State = (u32, u32);

/// Adds `(p, i)` and, when segment `i` is `**`, everything reachable by matching it
/// against nothing.
fn add_state(rules: &[Vec<Segment>], states: &mut Vec<State>, from: usize, p: u32, mut i: u32) {
    loop {
        if !states[from..].contains(&(p, i)) {
            states.push((p, i));
        }
        match rules[p as usize].get(i as usize) {
            Some(Segment::AnyDepth) => i += 1,
            _ => return,
        }
    }
}

/// The states at the document root, appended to `states`.
pub(crate) fn start(rules: &[Vec<Segment>], states: &mut Vec<State>) {
    let from = states.len();
    for p in 0..rules.len() {
        add_state(rules, states, from, p as u32, 0);
    }
}

/// Steps the states in `states[range]` over one segment, appending the successors
/// to `states`; returns true when some pattern ends exactly here (the member is
/// ignored).
pub(crate) fn step(
    rules: &[Vec<Segment>],
    states: &mut Vec<State>,
    range: std::ops::Range<usize>,
    segment: &[u8],
) -> bool {
    let from = states.len();
    let mut matched = false;
    for idx in range {
        let (p, i) = states[idx];
        let pat = &rules[p as usize];
        let next = match &pat[i as usize] {
            Segment::Literal(l) if l.as_slice() == segment => Some(i + 1),
            Segment::Literal(_) => None,
            Segment::Any => Some(i + 1),
            Segment::AnyDepth => {
                // `**` consumes this segment and stays; its skip-over successor is
                // already in the set thanks to `add_state`.
                add_state(rules, states, from, p, i);
                None
            }
        };
        if let Some(n) = next {
            if n as usize == pat.len() {
                matched = true;
            } else {
                add_state(rules, states, from, p, n);
            }
        }
    }
    matched
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, path: &[&str]) -> bool {
        let rules = IgnoreRules::new([pattern]).unwrap();
        let rules = rules.compiled();
        let mut states = Vec::new();
        start(rules, &mut states);
        let mut range = 0..states.len();
        for (n, seg) in path.iter().enumerate() {
            let from = states.len();
            let hit = step(rules, &mut states, range, seg.as_bytes());
            if n + 1 == path.len() {
                return hit;
            }
            range = from..states.len();
        }
        false
    }

    #[test]
    fn wildcards_match_one_or_any_number_of_segments() {
        assert!(matches("/updatedAt", &["updatedAt"]));
        assert!(!matches("/updatedAt", &["a", "updatedAt"]));
        assert!(matches("/**/id", &["id"]));
        assert!(matches("/**/id", &["a", "0", "b", "id"]));
        assert!(!matches("/**/id", &["a", "idx"]));
        assert!(matches("/variants/*/figmaNodeId", &["variants", "3", "figmaNodeId"]));
        assert!(!matches("/variants/*/figmaNodeId", &["variants", "figmaNodeId"]));
        assert!(matches("/a/**/**/b", &["a", "b"]));
        assert!(matches("/a~1b/c~0d", &["a/b", "c~d"]));
        assert!(matches("/**/x/*", &["q", "x", "y"]));
    }

    #[test]
    fn malformed_patterns_are_rejected_with_the_reason() {
        for p in ["updatedAt", "/a~2", "/a/**"] {
            let e = IgnoreRules::new([p]).unwrap_err();
            assert!(matches!(e.kind, ErrorKind::BadPattern(_)), "{p}: {e}");
        }
    }
}
