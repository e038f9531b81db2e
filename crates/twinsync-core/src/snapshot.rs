//! `Snapshot`: a replica as one scan saw it, its entries in key order.
//!
//! A scan of a folder finds its files in key order already, and a status reads the
//! snapshot once, in order, beside the base and the other side. A sorted vector is what
//! both want: built from the scan's list without a copy, walked without chasing nodes,
//! and half the memory of a map that would also repeat each key beside its entry. At
//! 100,000 files a side, the maps' build, nodes and drop were 7% of a warm status.

use std::borrow::Borrow;

use crate::key::Key;
use crate::replica::Entry;

/// A whole replica as scanned: its entries, one per key, in key order.
///
/// Looking a key up is a binary search. [`Snapshot::insert`] is cheapest in key order (an
/// append); entries in any order are best collected, which sorts them once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// Sorted by key, keys unique.
    entries: Vec<Entry>,
}

impl Snapshot {
    /// An empty snapshot.
    pub fn new() -> Self {
        Snapshot::default()
    }

    /// A snapshot of `entries`. They are sorted here unless they come in key order
    /// already; of entries sharing a key, the last one stays, as a map's insert keeps it.
    pub fn from_entries(mut entries: Vec<Entry>) -> Self {
        if !entries.is_sorted_by(|a, b| a.key < b.key) {
            // Stable, so "the last one" is the last given.
            entries.sort_by(|a, b| a.key.cmp(&b.key));
            let mut kept: Vec<Entry> = Vec::with_capacity(entries.len());
            for e in entries {
                match kept.last_mut() {
                    Some(last) if last.key == e.key => *last = e,
                    _ => kept.push(e),
                }
            }
            entries = kept;
        }
        Snapshot { entries }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when the replica holds nothing.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position<Q: Ord + ?Sized>(&self, key: &Q) -> Result<usize, usize>
    where
        Key: Borrow<Q>,
    {
        self.entries.binary_search_by(|e| e.key.borrow().cmp(key))
    }

    /// The entry of `key`.
    pub fn get<Q: Ord + ?Sized>(&self, key: &Q) -> Option<&Entry>
    where
        Key: Borrow<Q>,
    {
        self.position(key).ok().map(|i| &self.entries[i])
    }

    /// True when `key` has an entry.
    pub fn contains_key<Q: Ord + ?Sized>(&self, key: &Q) -> bool
    where
        Key: Borrow<Q>,
    {
        self.position(key).is_ok()
    }

    /// Adds `entry`, replacing and returning the one of the same key if any.
    pub fn insert(&mut self, entry: Entry) -> Option<Entry> {
        if self.entries.last().is_none_or(|last| last.key < entry.key) {
            self.entries.push(entry);
            return None;
        }
        match self.position(&entry.key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i], entry)),
            Err(i) => {
                self.entries.insert(i, entry);
                None
            }
        }
    }

    /// Removes and returns the entry of `key`.
    pub fn remove<Q: Ord + ?Sized>(&mut self, key: &Q) -> Option<Entry>
    where
        Key: Borrow<Q>,
    {
        self.position(key).ok().map(|i| self.entries.remove(i))
    }

    /// Keeps only the entries `keep` says yes to, in one pass.
    pub fn retain(&mut self, keep: impl FnMut(&Entry) -> bool) {
        self.entries.retain(keep);
    }

    /// Each key with its entry, in key order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&Key, &Entry)> + ExactSizeIterator + Clone {
        self.entries.iter().map(|e| (&e.key, e))
    }

    /// The keys, in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &Key> + ExactSizeIterator + Clone {
        self.entries.iter().map(|e| &e.key)
    }

    /// The entries, in key order.
    pub fn values(&self) -> std::slice::Iter<'_, Entry> {
        self.entries.iter()
    }

    /// The entries, in key order, as a slice.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The entries, in key order, owned.
    pub fn into_entries(self) -> Vec<Entry> {
        self.entries
    }
}

/// The entry of a key, as a map indexes: panics when there is none.
impl<Q: Ord + ?Sized> std::ops::Index<&Q> for Snapshot
where
    Key: Borrow<Q>,
{
    type Output = Entry;
    fn index(&self, key: &Q) -> &Entry {
        self.get(key).expect("no entry for the key in the snapshot")
    }
}

impl FromIterator<Entry> for Snapshot {
    fn from_iter<I: IntoIterator<Item = Entry>>(iter: I) -> Self {
        Snapshot::from_entries(iter.into_iter().collect())
    }
}

impl Extend<Entry> for Snapshot {
    fn extend<I: IntoIterator<Item = Entry>>(&mut self, iter: I) {
        let mut entries = std::mem::take(&mut self.entries);
        entries.extend(iter);
        *self = Snapshot::from_entries(entries);
    }
}

impl<'a> IntoIterator for &'a Snapshot {
    type Item = (&'a Key, &'a Entry);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, Entry>, fn(&'a Entry) -> (&'a Key, &'a Entry)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.iter().map(|e| (&e.key, e))
    }
}

impl IntoIterator for Snapshot {
    type Item = Entry;
    type IntoIter = std::vec::IntoIter<Entry>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::Digest;

    fn entry(key: &str, content: &str) -> Entry {
        Entry {
            key: Key::new(key).unwrap(),
            digest: Digest::of_bytes(content.as_bytes()),
            size: content.len() as u64,
            modified: None,
            bytes: None,
        }
    }

    fn keys(s: &Snapshot) -> Vec<&str> {
        s.keys().map(Key::as_str).collect()
    }

    #[test]
    fn entries_in_any_order_come_out_sorted_and_the_last_of_a_key_stays() {
        let s: Snapshot = [entry("b", "1"), entry("a/x", "2"), entry("a", "3"), entry("b", "4"), entry("a-", "5")]
            .into_iter()
            .collect();
        assert_eq!(keys(&s), ["a", "a-", "a/x", "b"]);
        assert_eq!(s.get("b").unwrap().digest, Digest::of_bytes(b"4"));
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn insert_get_and_remove_behave_as_a_map() {
        let mut s = Snapshot::new();
        assert_eq!(s.insert(entry("m", "1")), None);
        assert_eq!(s.insert(entry("z", "2")), None);
        assert_eq!(s.insert(entry("a", "3")), None, "before the first");
        assert_eq!(s.insert(entry("n", "4")), None, "in the middle");
        assert_eq!(s.insert(entry("m", "5")).map(|e| e.digest), Some(Digest::of_bytes(b"1")));
        assert_eq!(keys(&s), ["a", "m", "n", "z"]);
        assert_eq!(s.get("m").unwrap().digest, Digest::of_bytes(b"5"));
        assert!(s.contains_key(&Key::new("n").unwrap()));
        assert!(s.get("q").is_none());
        assert_eq!(s.remove("n").map(|e| e.key.to_string()), Some("n".into()));
        assert_eq!(s.remove("n"), None);
        s.retain(|e| e.key.as_str() != "z");
        assert_eq!(keys(&s), ["a", "m"]);
        s.extend([entry("b", "6"), entry("a", "7")]);
        assert_eq!(keys(&s), ["a", "b", "m"]);
        assert_eq!(s.get("a").unwrap().digest, Digest::of_bytes(b"7"));
    }
}
