//! Three-way drift: every key of base, left and right classified against the base.
//!
//! [`detect`] returns a [`DriftView`] that borrows keys and digests from the three maps:
//! no key is cloned and nothing is left to drop but three flat vectors, which keeps a million-item
//! walk close to the cost of reading the maps. [`Drift`] is the owned form, for results
//! that outlive the maps (an engine scan, `status`); [`DriftSource`] lets planning and
//! reporting read either.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::digest::Digest;
use crate::key::Key;
use crate::replica::Entry;
use crate::snapshot::Snapshot;

/// How one key differs between the base and the two replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum DriftClass {
    /// Both sides equal the base.
    InSync,
    /// Only the left side changed.
    ChangedLeft,
    /// Only the right side changed.
    ChangedRight,
    /// Both sides changed to the same content.
    ChangedAlike,
    /// New on the left only.
    AddedLeft,
    /// New on the right only.
    AddedRight,
    /// New on both sides with the same content.
    AddedAlike,
    /// Deleted on the left; the right still equals the base.
    DeletedLeft,
    /// Deleted on the right; the left still equals the base.
    DeletedRight,
    /// Deleted on both sides.
    DeletedBoth,
    /// Both sides changed, differently.
    ConflictModifyModify,
    /// Left modified, right deleted.
    ConflictModifyDelete,
    /// Left deleted, right modified.
    ConflictDeleteModify,
    /// New on both sides with different content.
    ConflictAddAdd,
    /// In sync in canonical content, but the two sides hold different bytes (line ends,
    /// a BOM, the order of JSON keys): not drift, and only `sync --formatting` copies it.
    FormattingOnly,
}

impl DriftClass {
    /// Every class, in declaration order.
    pub const ALL: [DriftClass; 15] = [
        DriftClass::InSync,
        DriftClass::ChangedLeft,
        DriftClass::ChangedRight,
        DriftClass::ChangedAlike,
        DriftClass::AddedLeft,
        DriftClass::AddedRight,
        DriftClass::AddedAlike,
        DriftClass::DeletedLeft,
        DriftClass::DeletedRight,
        DriftClass::DeletedBoth,
        DriftClass::ConflictModifyModify,
        DriftClass::ConflictModifyDelete,
        DriftClass::ConflictDeleteModify,
        DriftClass::ConflictAddAdd,
        DriftClass::FormattingOnly,
    ];

    /// The snake_case name used in JSON and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            DriftClass::InSync => "in_sync",
            DriftClass::ChangedLeft => "changed_left",
            DriftClass::ChangedRight => "changed_right",
            DriftClass::ChangedAlike => "changed_alike",
            DriftClass::AddedLeft => "added_left",
            DriftClass::AddedRight => "added_right",
            DriftClass::AddedAlike => "added_alike",
            DriftClass::DeletedLeft => "deleted_left",
            DriftClass::DeletedRight => "deleted_right",
            DriftClass::DeletedBoth => "deleted_both",
            DriftClass::ConflictModifyModify => "conflict_modify_modify",
            DriftClass::ConflictModifyDelete => "conflict_modify_delete",
            DriftClass::ConflictDeleteModify => "conflict_delete_modify",
            DriftClass::ConflictAddAdd => "conflict_add_add",
            DriftClass::FormattingOnly => "formatting_only",
        }
    }

    /// True for the four conflict classes.
    pub fn is_conflict(self) -> bool {
        matches!(
            self,
            DriftClass::ConflictModifyModify
                | DriftClass::ConflictModifyDelete
                | DriftClass::ConflictDeleteModify
                | DriftClass::ConflictAddAdd
        )
    }

    /// True for the classes whose base, left and right digests are one and the same.
    #[inline]
    const fn agrees(self) -> bool {
        matches!(self, DriftClass::InSync | DriftClass::FormattingOnly)
    }

    /// Classifies one key from the digest each place holds (`None`: absent).
    ///
    /// Only ever called for keys present somewhere, so `(None, None, None)` is in sync.
    #[inline]
    pub fn classify(base: Option<&Digest>, left: Option<&Digest>, right: Option<&Digest>) -> DriftClass {
        use DriftClass::*;
        match (base, left, right) {
            (None, None, None) => InSync,
            (None, Some(_), None) => AddedLeft,
            (None, None, Some(_)) => AddedRight,
            (None, Some(l), Some(r)) => {
                if l == r {
                    AddedAlike
                } else {
                    ConflictAddAdd
                }
            }
            (Some(_), None, None) => DeletedBoth,
            (Some(b), Some(l), None) => {
                if l == b {
                    DeletedRight
                } else {
                    ConflictModifyDelete
                }
            }
            (Some(b), None, Some(r)) => {
                if r == b {
                    DeletedLeft
                } else {
                    ConflictDeleteModify
                }
            }
            (Some(b), Some(l), Some(r)) => match (l == b, r == b) {
                (true, true) => InSync,
                (false, true) => ChangedLeft,
                (true, false) => ChangedRight,
                (false, false) => {
                    if l == r {
                        ChangedAlike
                    } else {
                        ConflictModifyModify
                    }
                }
            },
        }
    }
}

impl std::fmt::Display for DriftClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One key's drift, owned: its class and the digest each place holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DriftItem {
    /// The item.
    pub key: Key,
    /// How it differs.
    pub class: DriftClass,
    /// Digest in the base, if any.
    pub base: Option<Digest>,
    /// Digest on the left, if present.
    pub left: Option<Digest>,
    /// Digest on the right, if present.
    pub right: Option<Digest>,
}

impl DriftItem {
    /// The item as a borrowed [`DriftRef`].
    pub fn view(&self) -> DriftRef<'_> {
        DriftRef {
            key: &self.key,
            class: self.class,
            base: self.base.as_ref(),
            left: self.left.as_ref(),
            right: self.right.as_ref(),
        }
    }
}

/// One key's drift, borrowed from the maps it was detected in (or from a [`DriftItem`]).
///
/// Serialises exactly as [`DriftItem`] does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DriftRef<'a> {
    /// The item.
    pub key: &'a Key,
    /// How it differs.
    pub class: DriftClass,
    /// Digest in the base, if any.
    pub base: Option<&'a Digest>,
    /// Digest on the left, if present.
    pub left: Option<&'a Digest>,
    /// Digest on the right, if present.
    pub right: Option<&'a Digest>,
}

impl DriftRef<'_> {
    /// The item with its key and digests copied out of the maps.
    pub fn to_owned_item(&self) -> DriftItem {
        DriftItem {
            key: self.key.clone(),
            class: self.class,
            base: self.base.copied(),
            left: self.left.copied(),
            right: self.right.copied(),
        }
    }
}

/// Number of items in each class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct DriftCounts(BTreeMap<DriftClass, usize>);

impl DriftCounts {
    /// Items in `class`.
    pub fn get(&self, class: DriftClass) -> usize {
        self.0.get(&class).copied().unwrap_or(0)
    }
    /// Items in conflict.
    pub fn conflicts(&self) -> usize {
        self.0.iter().filter(|(c, _)| c.is_conflict()).map(|(_, n)| n).sum()
    }
    /// Items not in sync; formatting-only items are in sync, since formatting is no drift.
    pub fn drifted(&self) -> usize {
        self.total() - self.get(DriftClass::InSync) - self.get(DriftClass::FormattingOnly)
    }
    /// All items.
    pub fn total(&self) -> usize {
        self.0.values().sum()
    }
    /// Non-zero classes and their counts, in class order.
    pub fn iter(&self) -> impl Iterator<Item = (DriftClass, usize)> + '_ {
        self.0.iter().map(|(c, n)| (*c, *n))
    }
    /// Counts from a tally indexed by `class as usize`.
    fn from_tally(tally: [usize; DriftClass::ALL.len()]) -> Self {
        DriftCounts(DriftClass::ALL.into_iter().zip(tally).filter(|(_, n)| *n > 0).collect())
    }
}

/// The drift of a whole pair, owned: every key, in key order, with counts per class.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Drift {
    /// Every key seen in base, left or right, sorted by key.
    pub items: Vec<DriftItem>,
    /// Items per class.
    pub counts: DriftCounts,
    /// Items a side could not read or digest; kept out of `items` and of any sync.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<ItemError>,
}

/// An item one side could not read or digest, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ItemError {
    /// The item.
    pub key: String,
    /// The side it failed on.
    pub side: crate::policy::Side,
    /// What is wrong, naming the item.
    pub error: String,
}

impl Drift {
    /// The items that are not in sync, formatting-only ones included.
    pub fn drifted(&self) -> impl Iterator<Item = &DriftItem> {
        self.items.iter().filter(|i| i.class != DriftClass::InSync)
    }
    /// True when every item is in sync and every item could be read.
    pub fn is_clean(&self) -> bool {
        self.counts.drifted() == 0 && self.failed.is_empty()
    }
}

/// The drift of a whole pair, borrowing keys and digests from the three maps: what
/// [`detect`] returns. [`DriftView::into_owned`] makes a [`Drift`] that outlives them.
///
/// Stored compactly, about 17 bytes a key: a key reference, a class byte and, for an
/// in-sync key, one digest reference. At a million keys writing this costs a few percent
/// of the walk, where 120-byte owned items with cloned keys cost more than the walk itself.
/// Serialises exactly as [`Drift`] does.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct DriftView<'a> {
    keys: Vec<&'a Key>,
    /// The class of each key (a separate vector: no padding beside the references).
    classes: Vec<DriftClass>,
    /// The digests of each key in turn, as [`stored_sides`] lays them out.
    digests: Vec<&'a Digest>,
    /// Items per class.
    pub counts: DriftCounts,
}

/// Which of base, left and right hold the key in `class`, and so have a stored digest;
/// an in-sync key stores one digest for all three, since they are equal.
const fn stored_sides(class: DriftClass) -> [bool; 3] {
    use DriftClass::*;
    match class {
        InSync | FormattingOnly => [true, false, false],
        ChangedLeft | ChangedRight | ChangedAlike | ConflictModifyModify => [true, true, true],
        AddedLeft => [false, true, false],
        AddedRight => [false, false, true],
        AddedAlike | ConflictAddAdd => [false, true, true],
        DeletedLeft | ConflictDeleteModify => [true, false, true],
        DeletedRight | ConflictModifyDelete => [true, true, false],
        DeletedBoth => [true, false, false],
    }
}

impl<'a> DriftView<'a> {
    /// Number of keys.
    pub fn len(&self) -> usize {
        self.keys.len()
    }
    /// True when the three maps were empty.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
    /// Every key seen in base, left or right, sorted by key.
    pub fn items(&self) -> Items<'_, 'a> {
        Items { keys: self.keys.iter(), classes: self.classes.iter(), digests: &self.digests }
    }
    /// The items that are not in sync.
    pub fn drifted(&self) -> impl Iterator<Item = DriftRef<'a>> + '_ {
        self.items().filter(|i| i.class != DriftClass::InSync)
    }
    /// True when every item is in sync.
    pub fn is_clean(&self) -> bool {
        self.counts.drifted() == 0
    }
    /// The owned drift: keys and digests copied out of the maps.
    pub fn into_owned(self) -> Drift {
        Drift { items: self.items().map(|i| i.to_owned_item()).collect(), counts: self.counts, failed: Vec::new() }
    }

    fn push(&mut self, item: DriftRef<'a>) {
        self.keys.push(item.key);
        self.classes.push(item.class);
        // Pushed one by one: `extend` over a flattened array costs a capacity check and a
        // loop per key, which shows at a million keys.
        if let Some(b) = item.base {
            self.digests.push(b);
        }
        if !item.class.agrees() {
            if let Some(l) = item.left {
                self.digests.push(l);
            }
            if let Some(r) = item.right {
                self.digests.push(r);
            }
        }
    }
}

/// The items of a [`DriftView`], in key order.
#[derive(Debug, Clone)]
pub struct Items<'v, 'a> {
    keys: std::slice::Iter<'v, &'a Key>,
    classes: std::slice::Iter<'v, DriftClass>,
    digests: &'v [&'a Digest],
}

impl<'a> Iterator for Items<'_, 'a> {
    type Item = DriftRef<'a>;

    fn next(&mut self) -> Option<DriftRef<'a>> {
        let (key, class) = (*self.keys.next()?, *self.classes.next()?);
        let mut side = [None; 3];
        for (d, stored) in side.iter_mut().zip(stored_sides(class)) {
            if stored {
                if let Some((first, rest)) = self.digests.split_first() {
                    *d = Some(*first);
                    self.digests = rest;
                }
            }
        }
        if class.agrees() {
            side = [side[0]; 3];
        }
        Some(DriftRef { key, class, base: side[0], left: side[1], right: side[2] })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.keys.size_hint()
    }
}

impl ExactSizeIterator for Items<'_, '_> {}

impl std::fmt::Debug for DriftView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriftView").field("items", &ItemList(self)).field("counts", &self.counts).finish()
    }
}

/// A view's items as one list, for `Debug` and serde.
struct ItemList<'v, 'a>(&'v DriftView<'a>);

impl std::fmt::Debug for ItemList<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.0.items()).finish()
    }
}

impl Serialize for ItemList<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.items())
    }
}

impl Serialize for DriftView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Drift", 2)?;
        st.serialize_field("items", &ItemList(self))?;
        st.serialize_field("counts", &self.counts)?;
        st.end()
    }
}

/// What planning and reporting read from a drift, owned ([`Drift`]) or borrowed ([`DriftView`]).
pub trait DriftSource {
    /// Items per class.
    fn counts(&self) -> &DriftCounts;
    /// The items that are not in sync, in key order.
    fn drifted_items(&self) -> impl Iterator<Item = DriftRef<'_>>;
}

impl DriftSource for Drift {
    fn counts(&self) -> &DriftCounts {
        &self.counts
    }
    fn drifted_items(&self) -> impl Iterator<Item = DriftRef<'_>> {
        self.drifted().map(DriftItem::view)
    }
}

impl DriftSource for DriftView<'_> {
    fn counts(&self) -> &DriftCounts {
        &self.counts
    }
    fn drifted_items(&self) -> impl Iterator<Item = DriftRef<'_>> {
        self.drifted()
    }
}

/// Anything that carries a digest: base digests and scanned entries alike.
pub trait HasDigest {
    /// The digest.
    fn digest(&self) -> &Digest;
    /// The digest of the bytes as stored, when known (see [`Entry::bytes`]).
    #[inline]
    fn bytes_digest(&self) -> Option<&Digest> {
        None
    }
}

impl HasDigest for Digest {
    fn digest(&self) -> &Digest {
        self
    }
}

impl HasDigest for Entry {
    fn digest(&self) -> &Digest {
        &self.digest
    }
    #[inline]
    fn bytes_digest(&self) -> Option<&Digest> {
        self.bytes.as_ref()
    }
}

/// Items in key order, each with a digest: a base map, or a replica's [`Snapshot`].
pub trait Sorted {
    /// What each key holds.
    type Item: HasDigest;
    /// Number of keys.
    fn count(&self) -> usize;
    /// Each key with what it holds, in key order, keys unique.
    fn sorted(&self) -> impl Iterator<Item = (&Key, &Self::Item)>;
}

impl<T: HasDigest> Sorted for BTreeMap<Key, T> {
    type Item = T;
    fn count(&self) -> usize {
        self.len()
    }
    fn sorted(&self) -> impl Iterator<Item = (&Key, &T)> {
        self.iter()
    }
}

impl Sorted for Snapshot {
    type Item = Entry;
    fn count(&self) -> usize {
        self.len()
    }
    fn sorted(&self) -> impl Iterator<Item = (&Key, &Entry)> {
        self.iter()
    }
}

/// Three-way classification of every key in `base`, `left` and `right`, borrowing from them.
///
/// One merge walk over the three sorted sets: O(n) in items, deterministic key order.
pub fn detect<'a, B: Sorted, L: Sorted, R: Sorted>(base: &'a B, left: &'a L, right: &'a R) -> DriftView<'a> {
    let (n, digests) = capacity(base.count(), left.count(), right.count());
    let mut view = DriftView {
        keys: Vec::with_capacity(n),
        classes: Vec::with_capacity(n),
        digests: Vec::with_capacity(digests),
        ..Default::default()
    };
    let tally = walk(base, left, right, |item| view.push(item));
    view.counts = DriftCounts::from_tally(tally);
    view
}

/// [`detect`], owned: for a result that outlives the maps, built in the same single walk.
pub fn detect_owned<B: Sorted, L: Sorted, R: Sorted>(base: &B, left: &L, right: &R) -> Drift {
    let mut items = Vec::with_capacity(capacity(base.count(), left.count(), right.count()).0);
    let tally = walk(base, left, right, |item| items.push(item.to_owned_item()));
    Drift { items, counts: DriftCounts::from_tally(tally), failed: Vec::new() }
}

/// Room for the keys and the stored digests of a walk over maps of these sizes.
///
/// The keys number at least the largest map and at most the three together; growing a
/// vector of a million past its capacity copies it and faults in twice the memory, so the
/// guess leaves an eighth more for keys added on the other sides, and a quarter more again
/// for drifted keys' extra digests. Neither is ever more than the three maps hold.
fn capacity(b: usize, l: usize, r: usize) -> (usize, usize) {
    let (max, sum) = (b.max(l).max(r), b.saturating_add(l).saturating_add(r));
    let keys = sum.min(max.saturating_add(max / 8));
    (keys, sum.min(keys.saturating_add(keys / 4)))
}

/// The merge walk: calls `emit` once per key in key order; returns the tally per class.
#[inline]
fn walk<'a, B: Sorted, L: Sorted, R: Sorted>(
    base: &'a B,
    left: &'a L,
    right: &'a R,
    mut emit: impl FnMut(DriftRef<'a>),
) -> [usize; DriftClass::ALL.len()] {
    let mut tally = [0usize; DriftClass::ALL.len()];
    let (mut bi, mut li, mut ri) = (base.sorted().peekable(), left.sorted().peekable(), right.sorted().peekable());
    loop {
        let (bh, lh, rh) = (bi.peek().copied(), li.peek().copied(), ri.peek().copied());
        // Most keys are in all three places: one equality check per side decides that,
        // where finding the minimum first would cost twice the key comparisons.
        let (key, at) = match (bh, lh, rh) {
            (Some((bk, _)), Some((lk, _)), Some((rk, _))) if bk == lk && bk == rk => (bk, [true; 3]),
            _ => {
                let Some(k) = [bh.map(|e| e.0), lh.map(|e| e.0), rh.map(|e| e.0)].into_iter().flatten().min() else {
                    break;
                };
                (k, [bh.map(|e| e.0) == Some(k), lh.map(|e| e.0) == Some(k), rh.map(|e| e.0) == Some(k)])
            }
        };
        let b = bh.filter(|_| at[0]).map(|e| e.1.digest());
        let (le, re) = (lh.filter(|_| at[1]).map(|e| e.1), rh.filter(|_| at[2]).map(|e| e.1));
        let (l, r) = (le.map(HasDigest::digest), re.map(HasDigest::digest));
        if at[0] {
            bi.next();
        }
        if at[1] {
            li.next();
        }
        if at[2] {
            ri.next();
        }
        let mut class = DriftClass::classify(b, l, r);
        if class == DriftClass::InSync {
            // Only sides that both know their bytes can tell formatting apart.
            if let (Some(lb), Some(rb)) = (le.and_then(HasDigest::bytes_digest), re.and_then(HasDigest::bytes_digest)) {
                if lb != rb {
                    class = DriftClass::FormattingOnly;
                }
            }
        }
        tally[class as usize] += 1;
        emit(DriftRef { key, class, base: b, left: l, right: r });
    }
    tally
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Digest {
        Digest::of_bytes(s.as_bytes())
    }
    fn map(pairs: &[(&str, &str)]) -> BTreeMap<Key, Digest> {
        pairs.iter().map(|(k, v)| (Key::new(k).unwrap(), d(v))).collect()
    }

    #[test]
    fn every_class_is_recognised() {
        let base = map(&[
            ("same", "1"),
            ("cl", "1"),
            ("cr", "1"),
            ("ca", "1"),
            ("dl", "1"),
            ("dr", "1"),
            ("db", "1"),
            ("mm", "1"),
            ("md", "1"),
            ("dm", "1"),
        ]);
        let left = map(&[
            ("same", "1"),
            ("cl", "2"),
            ("cr", "1"),
            ("ca", "2"),
            ("dr", "1"),
            ("mm", "2"),
            ("md", "2"),
            ("al", "1"),
            ("aa", "1"),
            ("aa2", "1"),
        ]);
        let right = map(&[
            ("same", "1"),
            ("cl", "1"),
            ("cr", "2"),
            ("ca", "2"),
            ("dl", "1"),
            ("mm", "3"),
            ("dm", "2"),
            ("ar", "1"),
            ("aa", "1"),
            ("aa2", "2"),
        ]);
        let drift = detect(&base, &left, &right);
        let got: BTreeMap<&str, DriftClass> = drift.items().map(|i| (i.key.as_str(), i.class)).collect();
        use DriftClass::*;
        let want = [
            ("same", InSync),
            ("cl", ChangedLeft),
            ("cr", ChangedRight),
            ("ca", ChangedAlike),
            ("dl", DeletedLeft),
            ("dr", DeletedRight),
            ("db", DeletedBoth),
            ("mm", ConflictModifyModify),
            ("md", ConflictModifyDelete),
            ("dm", ConflictDeleteModify),
            ("al", AddedLeft),
            ("ar", AddedRight),
            ("aa", AddedAlike),
            ("aa2", ConflictAddAdd),
        ];
        assert_eq!(got.len(), want.len());
        for (k, c) in want {
            assert_eq!(got[k], c, "{k}");
        }
        for i in drift.items() {
            // The compact layout gives back each side's digest for every class.
            assert_eq!((i.base, i.left, i.right), (base.get(i.key), left.get(i.key), right.get(i.key)), "{}", i.key);
        }
        assert_eq!(drift.counts.conflicts(), 4);
        assert_eq!(drift.counts.total(), 14);
        assert_eq!(drift.counts.drifted(), 13);
        let keys: Vec<_> = drift.items().map(|i| i.key.clone()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted, "items come out in key order");
    }

    fn fixture() -> [BTreeMap<Key, Digest>; 3] {
        [
            map(&[("same", "1"), ("cl", "1"), ("mm", "1"), ("md", "1"), ("db", "1")]),
            map(&[("same", "1"), ("cl", "2"), ("mm", "2"), ("md", "2"), ("al", "1")]),
            map(&[("same", "1"), ("cl", "1"), ("mm", "3"), ("ar", "1")]),
        ]
    }

    #[test]
    fn owned_and_borrowed_results_agree_and_serialise_alike() {
        let [b, l, r] = fixture();
        let view = detect(&b, &l, &r);
        let owned = detect_owned(&b, &l, &r);
        assert_eq!(view.clone().into_owned(), owned);
        assert_eq!((view.len(), view.items().len()), (7, 7));
        for (v, o) in view.items().zip(&owned.items) {
            assert_eq!(v, o.view());
            assert_eq!((v.base, v.left, v.right), (b.get(v.key), l.get(v.key), r.get(v.key)), "{}", v.key);
        }
        let (vj, oj) = (serde_json::to_value(&view).unwrap(), serde_json::to_value(&owned).unwrap());
        assert_eq!(vj, oj);
        assert_eq!(serde_json::from_value::<Drift>(vj).unwrap(), owned, "a serialised view reads back as a Drift");
        let drifted: Vec<&str> = view.drifted().map(|i| i.key.as_str()).collect();
        assert_eq!(drifted, ["al", "ar", "cl", "db", "md", "mm"]);
        assert_eq!(owned.drifted().map(|i| i.key.as_str()).collect::<Vec<_>>(), drifted);
        assert!(!view.is_clean() && !owned.is_clean());
        assert!(detect(&b, &b, &b).is_clean());
    }

    #[test]
    fn plans_from_owned_and_borrowed_drift_are_equal() {
        use crate::plan::{plan, PlanContext};
        use crate::policy::{Directions, Policy};
        let [b, l, r] = fixture();
        let ctx = PlanContext::at(crate::clock::Timestamp(90_000));
        for policy in [Policy::manual(), "prefer-left".parse().unwrap(), "merge:right".parse().unwrap()] {
            let from_view = plan(&detect(&b, &l, &r), &Directions::default(), &policy, &ctx);
            let from_owned = plan(&detect_owned(&b, &l, &r), &Directions::default(), &policy, &ctx);
            assert_eq!(from_view, from_owned);
            assert_eq!(from_view.actions.len(), 6);
        }
    }

    #[test]
    fn scanned_entries_classify_by_their_digest() {
        let [b, l, _] = fixture();
        let entries = |m: &BTreeMap<Key, Digest>| -> crate::replica::Snapshot {
            m.iter().map(|(k, d)| Entry { key: k.clone(), digest: *d, size: 1, modified: None, bytes: None }).collect()
        };
        let (le, re) = (entries(&l), entries(&b));
        let drift = detect(&b, &le, &re);
        assert_eq!(drift.items().find(|i| i.key.as_str() == "cl").unwrap().class, DriftClass::ChangedLeft);
        assert_eq!(drift.items().find(|i| i.key.as_str() == "same").unwrap().left, Some(&d("1")));
        assert_eq!(drift.into_owned(), detect_owned(&b, &l, &b));
    }

    #[test]
    fn sides_equal_in_content_and_not_in_bytes_differ_in_formatting_only() {
        let base = map(&[("crlf", "1"), ("same", "1"), ("unknown", "1"), ("changed", "1")]);
        let entry = |k: &str, d: &str, bytes: Option<&str>| Entry {
            key: Key::new(k).unwrap(),
            digest: self::d(d),
            size: 1,
            modified: None,
            bytes: bytes.map(self::d),
        };
        let left: crate::replica::Snapshot = [
            entry("crlf", "1", Some("1")),
            entry("same", "1", Some("x")),
            entry("unknown", "1", None),
            entry("changed", "2", Some("2")),
        ]
        .into_iter()
        .collect();
        let right: crate::replica::Snapshot = [
            entry("crlf", "1", Some("1\r")),
            entry("same", "1", Some("x")),
            entry("unknown", "1", Some("y")),
            entry("changed", "1", Some("1\r")),
        ]
        .into_iter()
        .collect();
        let view = detect(&base, &left, &right);
        let got: BTreeMap<&str, DriftClass> = view.items().map(|i| (i.key.as_str(), i.class)).collect();
        assert_eq!(got["crlf"], DriftClass::FormattingOnly);
        assert_eq!(got["same"], DriftClass::InSync);
        assert_eq!(got["unknown"], DriftClass::InSync, "a side that does not know its bytes cannot tell");
        assert_eq!(got["changed"], DriftClass::ChangedLeft);
        let crlf = view.items().find(|i| i.key.as_str() == "crlf").unwrap();
        assert_eq!((crlf.base, crlf.left, crlf.right), (Some(&d("1")), Some(&d("1")), Some(&d("1"))));
        assert_eq!(view.counts.drifted(), 1, "formatting is no drift");
        assert_eq!(view.counts.get(DriftClass::FormattingOnly), 1);
        assert_eq!(view.clone().into_owned(), detect_owned(&base, &left, &right));
        assert_eq!(view.drifted().map(|i| i.key.as_str()).collect::<Vec<_>>(), ["changed", "crlf"]);
    }

    #[test]
    fn class_names_are_snake_case_in_json() {
        for c in DriftClass::ALL {
            assert_eq!(serde_json::to_value(c).unwrap(), serde_json::Value::String(c.as_str().into()));
        }
    }
}
