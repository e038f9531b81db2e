//! RFC 8785 canonical JSON written straight from Python objects, for `canonical_hash`
//! and `canonicalize`.
//!
//! Writing JSON text first and canonicalising it afterwards parsed every document a
//! second time; most of the time went there and into copying strings. This walk
//! writes the canonical form at once: dict members are sorted by their keys' UTF-16
//! code units (RFC 8785 §3.2.3) through borrowed UTF-8 views of the `str` objects,
//! numbers are written in their ECMAScript form, and the bytes go to SHA-256 in
//! 64 KiB pieces instead of being kept.
//!
//! It settles only what it can write with certainty. Everything else (ignore rules,
//! integers beyond 2^53, NaN and the infinities, nesting at the depth limit, keys that
//! are not `str`, strings with lone surrogates, values of other types) is
//! [`Unsettled`]: the caller then takes the general path (JSON text, then the core
//! canonicaliser), which gives the same answer or the error with its path. So the two
//! paths cannot disagree on anything but speed.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use sha2::{Digest as _, Sha256};
use twinsync::core::canonical::{cmp_utf16, write_f64, write_json_string};

/// Integers up to this magnitude print as themselves; beyond it the core's big-integer
/// policy decides, so the general path does.
const MAX_SAFE_INT: i64 = 1 << 53;

/// Bytes gathered before they are fed to SHA-256: large enough that each update call
/// is amortised, small enough to stay in cache.
const CHUNK: usize = 64 * 1024;

/// The walk met something only the general path settles.
#[derive(Debug)]
pub(crate) struct Unsettled;

/// Where canonical bytes go: kept whole, or hashed as they come.
pub(crate) struct Sink {
    pub(crate) out: Vec<u8>,
    hasher: Option<Sha256>,
}

impl Sink {
    pub(crate) fn text() -> Self {
        Sink { out: Vec::with_capacity(1024), hasher: None }
    }

    pub(crate) fn hash() -> Self {
        Sink { out: Vec::with_capacity(1024), hasher: Some(Sha256::new()) }
    }

    fn spill(&mut self) {
        if let Some(h) = &mut self.hasher {
            if self.out.len() >= CHUNK {
                h.update(&self.out);
                self.out.clear();
            }
        }
    }

    /// `sha256:<hex>` of everything written (a hashing sink only).
    pub(crate) fn digest(mut self) -> String {
        let mut h = self.hasher.take().expect("a hashing sink");
        h.update(&self.out);
        twinsync::core::digest::Digest::from_hasher(h).to_string()
    }
}

/// One walk, with the member list every dict on the way shares as a stack, so that
/// sorting keys allocates nothing once the list has grown.
pub(crate) struct Walk<'py> {
    /// Containers may nest this deep; deeper goes to the general path for its error.
    max_depth: usize,
    members: Vec<(Bound<'py, PyString>, Bound<'py, PyAny>)>,
}

impl<'py> Walk<'py> {
    pub(crate) fn new(max_depth: usize) -> Self {
        Walk { max_depth, members: Vec::new() }
    }

    pub(crate) fn value(&mut self, v: &Bound<'py, PyAny>, sink: &mut Sink, depth: usize) -> Result<(), Unsettled> {
        // Exact types first, most frequent first; subclasses (and bool, an int subclass)
        // take the checks below, in the order the general path uses.
        if v.is_exact_instance_of::<PyString>() {
            // SAFETY of the cast: the type was just checked.
            return string(unsafe { v.cast_unchecked::<PyString>() }, sink);
        }
        if v.is_exact_instance_of::<PyDict>() {
            return self.dict(unsafe { v.cast_unchecked::<PyDict>() }, sink, depth);
        }
        if v.is_exact_instance_of::<PyList>() {
            return self.list(unsafe { v.cast_unchecked::<PyList>() }, sink, depth);
        }
        if v.is_exact_instance_of::<PyInt>() {
            return int(unsafe { v.cast_unchecked::<PyInt>() }, sink);
        }
        if v.is_exact_instance_of::<PyFloat>() {
            return float(unsafe { v.cast_unchecked::<PyFloat>() }, sink);
        }
        if let Ok(s) = v.cast::<PyString>() {
            return string(s, sink);
        }
        if v.is_none() {
            sink.out.extend_from_slice(b"null");
            return Ok(());
        }
        if let Ok(b) = v.cast::<PyBool>() {
            sink.out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
            return Ok(());
        }
        if let Ok(i) = v.cast::<PyInt>() {
            return int(i, sink);
        }
        if let Ok(f) = v.cast::<PyFloat>() {
            return float(f, sink);
        }
        if let Ok(d) = v.cast::<PyDict>() {
            return self.dict(d, sink, depth);
        }
        if let Ok(l) = v.cast::<PyList>() {
            return self.list(l, sink, depth);
        }
        if let Ok(t) = v.cast::<PyTuple>() {
            return self.items(t.iter(), sink, depth);
        }
        Err(Unsettled)
    }

    fn list(&mut self, l: &Bound<'py, PyList>, sink: &mut Sink, depth: usize) -> Result<(), Unsettled> {
        // Index access rather than an iterator that snapshots: nothing runs Python code
        // during the walk, so the list cannot change under it.
        if depth + 1 >= self.max_depth {
            return Err(Unsettled);
        }
        sink.out.push(b'[');
        for i in 0..l.len() {
            if i > 0 {
                sink.out.push(b',');
            }
            let item = l.get_item(i).map_err(|_| Unsettled)?;
            self.value(&item, sink, depth + 1)?;
            sink.spill();
        }
        sink.out.push(b']');
        Ok(())
    }

    fn items(
        &mut self,
        it: impl Iterator<Item = Bound<'py, PyAny>>,
        sink: &mut Sink,
        depth: usize,
    ) -> Result<(), Unsettled> {
        if depth + 1 >= self.max_depth {
            return Err(Unsettled);
        }
        sink.out.push(b'[');
        for (i, item) in it.enumerate() {
            if i > 0 {
                sink.out.push(b',');
            }
            self.value(&item, sink, depth + 1)?;
            sink.spill();
        }
        sink.out.push(b']');
        Ok(())
    }

    fn dict(&mut self, d: &Bound<'py, PyDict>, sink: &mut Sink, depth: usize) -> Result<(), Unsettled> {
        if depth + 1 >= self.max_depth {
            return Err(Unsettled);
        }
        let start = self.members.len();
        for (k, v) in d.iter() {
            let k = k.cast_into::<PyString>().map_err(|_| Unsettled)?;
            // Fails on lone surrogates, which the general path reports.
            k.to_str().map_err(|_| Unsettled)?;
            self.members.push((k, v));
        }
        // The UTF-8 of a `str` is cached in the object once made, so these views are
        // cheap and stay valid while the member list holds the key.
        self.members[start..].sort_unstable_by(|(a, _), (b, _)| {
            cmp_utf16(a.to_str().unwrap_or_default().as_bytes(), b.to_str().unwrap_or_default().as_bytes())
        });
        sink.out.push(b'{');
        let end = self.members.len();
        let mut result = Ok(());
        for i in start..end {
            if i > start {
                sink.out.push(b',');
            }
            let (k, v) = self.members[i].clone();
            write_json_string(&mut sink.out, k.to_str().unwrap_or_default());
            sink.out.push(b':');
            result = self.value(&v, sink, depth + 1);
            if result.is_err() {
                break;
            }
            sink.spill();
        }
        self.members.truncate(start);
        result?;
        sink.out.push(b'}');
        Ok(())
    }
}

fn string(s: &Bound<'_, PyString>, sink: &mut Sink) -> Result<(), Unsettled> {
    write_json_string(&mut sink.out, s.to_str().map_err(|_| Unsettled)?);
    Ok(())
}

fn int(i: &Bound<'_, PyInt>, sink: &mut Sink) -> Result<(), Unsettled> {
    match i.extract::<i64>() {
        Ok(n) if (-MAX_SAFE_INT..=MAX_SAFE_INT).contains(&n) => {
            let mut buf = itoa_buf();
            sink.out.extend_from_slice(itoa(n, &mut buf));
            Ok(())
        }
        _ => Err(Unsettled),
    }
}

fn float(f: &Bound<'_, PyFloat>, sink: &mut Sink) -> Result<(), Unsettled> {
    if write_f64(&mut sink.out, f.value()) {
        Ok(())
    } else {
        Err(Unsettled)
    }
}

fn itoa_buf() -> [u8; 20] {
    [0; 20]
}

/// Decimal digits of `n` without allocating (`to_string` allocated per number).
fn itoa(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut u = n.unsigned_abs();
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if n < 0 {
        at -= 1;
        buf[at] = b'-';
    }
    &buf[at..]
}

#[cfg(test)]
mod tests {
    use super::itoa;

    #[test]
    fn itoa_writes_decimal() {
        for n in [0i64, 7, -7, 10, 9_007_199_254_740_992, -9_007_199_254_740_992, i64::MIN, i64::MAX] {
            let mut buf = [0; 20];
            assert_eq!(itoa(n, &mut buf), n.to_string().as_bytes());
        }
    }
}
