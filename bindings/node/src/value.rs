//! `canonicalHash(value)` reading the JS value through Node-API instead of
//! `JSON.stringify`.
//!
//! `JSON.stringify` was more than half of hashing a small object (about 4.3 µs of 7.7
//! for the bench's records), and its result is a cons string of parts that every
//! Node-API read first flattens into a new string. Here the value is walked with
//! Node-API calls as `JSON.stringify` reads it (own enumerable string keys, `toJSON`
//! called with its key, `undefined`, functions and symbols dropped from objects and
//! `null` in arrays, non-finite numbers `null`) and written as JSON text into a
//! buffer, which then takes the text path. Member order does not matter: the
//! canonicaliser sorts.
//!
//! Only plain objects (`Object.prototype`) and arrays (`Array.prototype`) are read
//! here. Anything else that is an object or a BigInt (class instances, `Map`, wrapper
//! objects such as `new Number(1)`, proxies of arrays, objects without a prototype)
//! is written by the package's `jsonText` (`JSON.stringify` with the package's
//! errors), called on that value alone, so such values read exactly as before.
//! Two cases start over with `jsonText` of the whole value: a JS exception from the
//! value (a getter, a `toJSON`, a proxy trap), so the error raised is the one
//! `JSON.stringify` gives, and nesting deeper than [`DEPTH_LIMIT`], which is how a
//! cycle is found without keeping the objects open around each value. In those two
//! cases getters and `toJSON` run twice.

use napi::sys;

use crate::utf16_to_utf8_append;

/// Containers open at once before the whole value is handed to `jsonText`: a cycle,
/// or nesting that only `JSON.stringify` and the canonicaliser's own depth check
/// should judge. Also bounds this walk's recursion.
const DEPTH_LIMIT: usize = 128;

/// Handles made in one handle scope before a container's loop opens a fresh one:
/// a large document would otherwise hold one per value until the call returns.
const HANDLES_MAX: usize = 4096;

/// Why the walk stopped.
pub(crate) enum Stop {
    /// Read the whole value again with `jsonText` (a JS exception, or too deep).
    Whole,
    /// A JS exception is pending that is the call's error (`jsonText` threw it).
    Thrown,
    /// A Node-API call failed.
    Failed(sys::napi_status),
}

/// The argument `toJSON` gets: the member's key or the element's index.
#[derive(Clone, Copy)]
enum Key {
    Root,
    Name(sys::napi_value),
    Index(u32),
}

pub(crate) struct Walk<'a> {
    pub env: sys::napi_env,
    pub out: &'a mut Vec<u8>,
    pub wide: &'a mut Vec<u16>,
    /// The string `"toJSON"`.
    pub to_json: sys::napi_value,
    pub object_proto: sys::napi_value,
    pub array_proto: sys::napi_value,
    /// The package's `jsonText(value)`.
    pub json_text: sys::napi_value,
    pub undefined: sys::napi_value,
    depth: usize,
    handles: usize,
}

type Step<T> = Result<T, Stop>;

/// A status of a call that reads the value (and so may run its getters, traps or
/// `toJSON`): an exception from those means starting over with `jsonText`. Node-API
/// reports such an exception as `napi_pending_exception` from some calls and as
/// `napi_generic_failure` with the exception pending from others.
#[inline(always)]
fn user(env: sys::napi_env, status: sys::napi_status) -> Step<()> {
    if status == sys::Status::napi_ok {
        return Ok(());
    }
    let mut pending = false;
    // SAFETY: a plain query of this env.
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    Err(if pending { Stop::Whole } else { Stop::Failed(status) })
}

#[inline(always)]
fn ok(status: sys::napi_status) -> Step<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Stop::Failed(status))
    }
}

/// Closes a handle scope when the loop that opened it ends, however it ends.
struct Scope(sys::napi_env, sys::napi_handle_scope);

impl Drop for Scope {
    fn drop(&mut self) {
        // SAFETY: the scope was opened in this env and is the innermost one open:
        // scopes are opened and dropped in nesting order by the walk.
        unsafe { sys::napi_close_handle_scope(self.0, self.1) };
    }
}

impl<'a> Walk<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        env: sys::napi_env,
        out: &'a mut Vec<u8>,
        wide: &'a mut Vec<u16>,
        to_json: sys::napi_value,
        object_proto: sys::napi_value,
        array_proto: sys::napi_value,
        json_text: sys::napi_value,
        undefined: sys::napi_value,
    ) -> Self {
        Walk { env, out, wide, to_json, object_proto, array_proto, json_text, undefined, depth: 0, handles: 0 }
    }

    /// Writes the JSON of `root`; false when it has none (`undefined`, a function, a symbol).
    pub(crate) fn root(&mut self, root: sys::napi_value) -> Step<bool> {
        self.value(root, Key::Root, true)
    }

    fn type_of(&mut self, v: sys::napi_value) -> Step<sys::napi_valuetype> {
        let mut t = 0;
        // SAFETY: `v` is a live value of this env.
        ok(unsafe { sys::napi_typeof(self.env, v, &mut t) })?;
        Ok(t)
    }

    /// Writes `v` as `JSON.stringify` would inside its holder; false (nothing written)
    /// for a value it leaves out. `to_json` is false for what a `toJSON` returned.
    #[inline(always)]
    fn value(&mut self, v: sys::napi_value, key: Key, to_json: bool) -> Step<bool> {
        use sys::ValueType as T;
        let env = self.env;
        match self.type_of(v)? {
            T::napi_string => {
                self.string(v)?;
            }
            T::napi_number => {
                let mut x = 0f64;
                // SAFETY: `v` is a number of this env.
                ok(unsafe { sys::napi_get_value_double(env, v, &mut x) })?;
                if !twinsync::core::canonical::write_f64(self.out, x) {
                    self.out.extend_from_slice(b"null");
                }
            }
            T::napi_object | T::napi_bigint | T::napi_external => return self.object_like(v, key, to_json),
            T::napi_boolean => {
                let mut b = false;
                // SAFETY: `v` is a boolean of this env.
                ok(unsafe { sys::napi_get_value_bool(env, v, &mut b) })?;
                self.out.extend_from_slice(if b { b"true" } else { b"false" });
            }
            T::napi_null => self.out.extend_from_slice(b"null"),
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// An object or a BigInt: its `toJSON` first, then a plain object or array here,
    /// anything else through `jsonText`.
    #[inline(never)]
    fn object_like(&mut self, v: sys::napi_value, key: Key, to_json: bool) -> Step<bool> {
        let env = self.env;
        if to_json {
            let mut f = std::ptr::null_mut();
            // SAFETY: values of this env; a BigInt is looked up on its prototype, as
            // `JSON.stringify` does.
            user(env, unsafe { sys::napi_get_property(env, v, self.to_json, &mut f) })?;
            self.handles += 1;
            if self.type_of(f)? == sys::ValueType::napi_function {
                let k = self.key_value(key)?;
                let mut r = std::ptr::null_mut();
                // SAFETY: `f` is a function of this env, called on `v` with one argument.
                user(env, unsafe { sys::napi_call_function(env, v, f, 1, &k, &mut r) })?;
                self.handles += 1;
                return self.value(r, key, false);
            }
        }
        if self.depth >= DEPTH_LIMIT {
            return Err(Stop::Whole);
        }
        let mut is_array = false;
        let mut proto = std::ptr::null_mut();
        let mut plain = false;
        // SAFETY: values of this env (a BigInt's prototype is `BigInt.prototype`);
        // a proxy's `getPrototypeOf` trap runs here.
        unsafe {
            user(env, sys::napi_is_array(env, v, &mut is_array))?;
            user(env, sys::napi_get_prototype(env, v, &mut proto))?;
            let expected = if is_array { self.array_proto } else { self.object_proto };
            user(env, sys::napi_strict_equals(env, proto, expected, &mut plain))?;
        }
        self.handles += 1;
        if !plain && !to_json {
            // What a `toJSON` returned, not plain: `jsonText` of it alone would call
            // its own `toJSON`, which `JSON.stringify` does not.
            return Err(Stop::Whole);
        }
        self.depth += 1;
        let r = if !plain {
            self.through_json_text(v)
        } else if is_array {
            self.array(v)
        } else {
            self.object(v)
        };
        self.depth -= 1;
        r.map(|()| true)
    }

    /// The key as a JS value, for `toJSON`.
    fn key_value(&mut self, key: Key) -> Step<sys::napi_value> {
        let text = match key {
            Key::Name(k) => return Ok(k),
            Key::Root => String::new(),
            Key::Index(i) => i.to_string(),
        };
        let mut k = std::ptr::null_mut();
        // SAFETY: `text` is `text.len()` ASCII bytes.
        ok(unsafe { sys::napi_create_string_latin1(self.env, text.as_ptr().cast(), text.len() as isize, &mut k) })?;
        self.handles += 1;
        Ok(k)
    }

    /// Opens a fresh handle scope in a loop when enough handles have piled up.
    #[inline(always)]
    fn rescope(&mut self, scope: &mut Option<Scope>) -> Step<()> {
        if self.handles >= HANDLES_MAX {
            // The loop's previous scope (if any) closes first: scopes nest.
            *scope = None;
            let mut s = std::ptr::null_mut();
            // SAFETY: a scope of this env, closed by `Scope`'s drop.
            ok(unsafe { sys::napi_open_handle_scope(self.env, &mut s) })?;
            *scope = Some(Scope(self.env, s));
            self.handles = 0;
        }
        Ok(())
    }

    fn array(&mut self, v: sys::napi_value) -> Step<()> {
        let env = self.env;
        let mut len = 0u32;
        // SAFETY: `v` is an array of this env.
        ok(unsafe { sys::napi_get_array_length(env, v, &mut len) })?;
        self.out.push(b'[');
        let mut scope = None;
        for i in 0..len {
            self.rescope(&mut scope)?;
            if i > 0 {
                self.out.push(b',');
            }
            let mut e = std::ptr::null_mut();
            // SAFETY: `v` is an array of this env; a hole reads as `undefined`.
            user(env, unsafe { sys::napi_get_element(env, v, i, &mut e) })?;
            self.handles += 1;
            if !self.value(e, Key::Index(i), true)? {
                self.out.extend_from_slice(b"null");
            }
        }
        self.out.push(b']');
        Ok(())
    }

    fn object(&mut self, v: sys::napi_value) -> Step<()> {
        let env = self.env;
        let mut keys = std::ptr::null_mut();
        // SAFETY: `v` is an object of this env. Own, enumerable, string keys (index
        // keys as strings), in `JSON.stringify`'s order; a proxy's traps run here.
        user(env, unsafe {
            sys::napi_get_all_property_names(
                env,
                v,
                sys::KeyCollectionMode::own_only,
                sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                sys::KeyConversion::numbers_to_strings,
                &mut keys,
            )
        })?;
        let mut len = 0u32;
        // SAFETY: `keys` is an array of this env.
        ok(unsafe { sys::napi_get_array_length(env, keys, &mut len) })?;
        self.handles += 1;
        self.out.push(b'{');
        let mut first = true;
        let mut scope = None;
        for i in 0..len {
            self.rescope(&mut scope)?;
            let mut k = std::ptr::null_mut();
            let mut m = std::ptr::null_mut();
            // SAFETY: `keys` holds strings; `v` is an object of this env.
            unsafe {
                ok(sys::napi_get_element(env, keys, i, &mut k))?;
                user(env, sys::napi_get_property(env, v, k, &mut m))?;
            }
            self.handles += 2;
            let mark = self.out.len();
            if !first {
                self.out.push(b',');
            }
            self.string(k)?;
            self.out.push(b':');
            if self.value(m, Key::Name(k), true)? {
                first = false;
            } else {
                self.out.truncate(mark);
            }
        }
        self.out.push(b'}');
        Ok(())
    }

    /// Copies a JS string's UTF-16 into the kept buffer; returns its length.
    fn read_utf16(&mut self, s: sys::napi_value) -> Step<usize> {
        let env = self.env;
        if self.wide.len() < 64 {
            self.wide.resize(64, 0);
        }
        let mut copied = 0usize;
        // SAFETY: `s` is a string of this env; napi writes at most `wide.len()` units.
        ok(unsafe { sys::napi_get_value_string_utf16(env, s, self.wide.as_mut_ptr(), self.wide.len(), &mut copied) })?;
        if copied + 1 < self.wide.len() {
            return Ok(copied);
        }
        let mut units = 0usize;
        // SAFETY: a null buffer asks only for the length.
        ok(unsafe { sys::napi_get_value_string_utf16(env, s, std::ptr::null_mut(), 0, &mut units) })?;
        self.wide.resize(units + 1, 0);
        // SAFETY: `wide` holds `units + 1` units, the most napi writes.
        ok(unsafe { sys::napi_get_value_string_utf16(env, s, self.wide.as_mut_ptr(), units + 1, &mut copied) })?;
        Ok(copied)
    }

    /// Writes a JS string as a JSON string literal.
    fn string(&mut self, s: sys::napi_value) -> Step<()> {
        let n = self.read_utf16(s)?;
        write_json_string_utf16(&self.wide[..n], self.out);
        Ok(())
    }

    /// Writes what `jsonText(v)` returns (a JSON text), or stops with its exception.
    fn through_json_text(&mut self, v: sys::napi_value) -> Step<()> {
        let mut r = std::ptr::null_mut();
        // SAFETY: `json_text` is a function of this env, called with one argument.
        let status = unsafe { sys::napi_call_function(self.env, self.undefined, self.json_text, 1, &v, &mut r) };
        self.handles += 1;
        match user(self.env, status) {
            Ok(()) => {}
            Err(Stop::Whole) => return Err(Stop::Thrown),
            Err(e) => return Err(e),
        }
        let n = self.read_utf16(r)?;
        // `JSON.stringify` escaped what needs it; its text is copied as UTF-8.
        utf16_to_utf8_append(&self.wide[..n], self.out);
        Ok(())
    }
}

/// Appends `src` as a JSON string literal in UTF-8, escaped as `JSON.stringify`
/// escapes (quote, backslash, controls, and lone surrogates as `\udxxx`), so that
/// the canonicaliser sees the text it saw before.
pub(crate) fn write_json_string_utf16(src: &[u16], out: &mut Vec<u8>) {
    out.push(b'"');
    let mut i = 0;
    while i < src.len() {
        // Runs needing no escape and all ASCII, 16 units at a time.
        let run = plain_run(&src[i..]);
        if run > 0 {
            out.extend(src[i..i + run].iter().map(|&u| u as u8));
            i += run;
            if i == src.len() {
                break;
            }
        }
        let c = src[i];
        match c {
            0x22 => out.extend_from_slice(b"\\\""),
            0x5C => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0C => out.extend_from_slice(b"\\f"),
            0x0A => out.extend_from_slice(b"\\n"),
            0x0D => out.extend_from_slice(b"\\r"),
            0x09 => out.extend_from_slice(b"\\t"),
            0..0x20 => hex_escape(c, out),
            0xD800..0xDC00 if src.get(i + 1).is_some_and(|&lo| (0xDC00..0xE000).contains(&lo)) => {
                utf16_to_utf8_append(&src[i..i + 2], out);
                i += 1;
            }
            0xD800..0xE000 => hex_escape(c, out),
            _ => utf16_to_utf8_append(&src[i..i + 1], out),
        }
        i += 1;
    }
    out.push(b'"');
}

fn hex_escape(c: u16, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(b"\\u");
    for shift in [12, 8, 4, 0] {
        out.push(HEX[usize::from((c >> shift) & 0xF)]);
    }
}

/// How many units at the start of `src` are printable ASCII other than `"` and `\`,
/// found 8 at a time (then one at a time for the rest of the run).
#[inline(always)]
fn plain_run(src: &[u16]) -> usize {
    let plain = |u: u16| (0x20..0x80).contains(&u) && u != 0x22 && u != 0x5C;
    let mut n = 0;
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        while n + 8 <= src.len() {
            // SAFETY: SSE2 is part of the x86_64 baseline; the load reads 8 units
            // inside `src`.
            let all = unsafe {
                let a = _mm_loadu_si128(src.as_ptr().add(n) as *const __m128i);
                // Below 0x20 or 0x80 and up: bits outside 0x7F, or none of 0x60 set.
                let high = _mm_cmpeq_epi16(_mm_and_si128(a, _mm_set1_epi16(0xFF80u16 as i16)), _mm_setzero_si128());
                let low = _mm_cmpgt_epi16(a, _mm_set1_epi16(0x1F));
                let quote = _mm_cmpeq_epi16(a, _mm_set1_epi16(0x22));
                let slash = _mm_cmpeq_epi16(a, _mm_set1_epi16(0x5C));
                let good = _mm_andnot_si128(_mm_or_si128(quote, slash), _mm_and_si128(high, low));
                _mm_movemask_epi8(good) == 0xFFFF
            };
            if !all {
                break;
            }
            n += 8;
        }
    }
    while n < src.len() && plain(src[n]) {
        n += 1;
    }
    n
}
