//! Renames: an item deleted on one side and an item with the same content added on that
//! side since the base is a move, not an unrelated delete and add. The other side then
//! gets a rename (no copy, the same file), and status, history and undo say `moved a -> b`.
//!
//! Drift stays per key (`deleted_left` for the old key, `added_left` for the new one);
//! moves are found from those pairs, so every reader of drift keeps working and a side
//! that cannot rename still converges through the two plain actions.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::drift::{DriftClass, DriftRef};
use crate::{Digest, Key, Side};

/// One rename found on a side since the base.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Move {
    /// The side the item was renamed on.
    pub side: Side,
    /// The key it had.
    pub from: Key,
    /// The key it has now.
    pub to: Key,
    /// Its digest, the same under both keys.
    pub digest: Digest,
}

impl std::fmt::Display for Move {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "moved {} -> {} on the {}", self.from, self.to, self.side)
    }
}

/// The moves among drifted `items`: on one side, an item deleted (the other side still
/// holds the base) paired with an item added there (absent on the other side) with the
/// base's digest. Several candidates with one digest pair in key order, so the answer is
/// deterministic; each key is in at most one move.
pub fn find<'a>(items: impl IntoIterator<Item = DriftRef<'a>>) -> Vec<Move> {
    // (side, digest) -> (deleted keys, added keys), each in key order as drift is.
    let mut candidates: BTreeMap<(Side, Digest), (Vec<Key>, Vec<Key>)> = BTreeMap::new();
    for item in items {
        let (side, digest, deleted) = match item.class {
            DriftClass::DeletedLeft => (Side::Left, item.base, true),
            DriftClass::DeletedRight => (Side::Right, item.base, true),
            DriftClass::AddedLeft => (Side::Left, item.left, false),
            DriftClass::AddedRight => (Side::Right, item.right, false),
            _ => continue,
        };
        let Some(digest) = digest else { continue };
        let entry = candidates.entry((side, *digest)).or_default();
        match deleted {
            true => entry.0.push(item.key.clone()),
            false => entry.1.push(item.key.clone()),
        }
    }
    let mut moves: Vec<Move> = candidates
        .into_iter()
        .flat_map(|((side, digest), (gone, new))| {
            gone.into_iter().zip(new).map(move |(from, to)| Move { side, from, to, digest })
        })
        .collect();
    moves.sort_by(|a, b| a.from.cmp(&b.from));
    moves
}

/// `items` with each pair of `partner` (an index -> the index of its partner) brought
/// together: every item once, in order, except that a partner comes right after the
/// item that names it, as `(item, Some(partner))`.
pub(crate) fn with_partners<T>(items: Vec<T>, partner: &BTreeMap<usize, usize>) -> Vec<(T, Option<T>)> {
    let partners: std::collections::BTreeSet<usize> = partner.values().copied().collect();
    let mut slots: Vec<Option<T>> = items.into_iter().map(Some).collect();
    let mut out = Vec::with_capacity(slots.len());
    for i in 0..slots.len() {
        if partners.contains(&i) {
            continue;
        }
        let item = slots[i].take().expect("each item once");
        out.push((item, partner.get(&i).map(|&p| slots[p].take().expect("each item once"))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::detect_owned;
    use crate::DriftSource;

    fn d(s: &str) -> Digest {
        Digest::of_bytes(s.as_bytes())
    }
    fn k(s: &str) -> Key {
        Key::new(s).unwrap()
    }
    fn map(pairs: &[(&str, &str)]) -> BTreeMap<Key, Digest> {
        pairs.iter().map(|(key, v)| (k(key), d(v))).collect()
    }

    #[test]
    fn a_delete_and_an_add_of_the_same_content_on_one_side_is_a_move() {
        let base = map(&[("a.md", "A"), ("b.md", "B"), ("c.md", "C")]);
        let left = map(&[("z.md", "A"), ("b.md", "B"), ("c.md", "C")]);
        let right = map(&[("a.md", "A"), ("b.md", "B"), ("c2.md", "C")]);
        let drift = detect_owned(&base, &left, &right);
        let moves = find(drift.drifted_items());
        assert_eq!(
            moves,
            vec![
                Move { side: Side::Left, from: k("a.md"), to: k("z.md"), digest: d("A") },
                Move { side: Side::Right, from: k("c.md"), to: k("c2.md"), digest: d("C") },
            ]
        );
        assert_eq!(moves[0].to_string(), "moved a.md -> z.md on the left");
    }

    #[test]
    fn other_content_an_edited_source_or_a_copy_is_not_a_move() {
        // x: deleted, and the added item differs. y: added on both sides. c: the old key
        // was edited on the other side (a conflict, not a delete). dup: only one of two
        // copies can be the rename; the other stays an add.
        let base = map(&[("x", "X"), ("c", "C"), ("dup", "D")]);
        let left = map(&[("x2", "X'"), ("y", "Y"), ("c2", "C"), ("dup1", "D"), ("dup2", "D")]);
        let right = map(&[("x", "X"), ("y", "Y"), ("c", "C!"), ("dup", "D")]);
        let moves = find(detect_owned(&base, &left, &right).drifted_items());
        assert_eq!(moves, vec![Move { side: Side::Left, from: k("dup"), to: k("dup1"), digest: d("D") }]);
    }
}
