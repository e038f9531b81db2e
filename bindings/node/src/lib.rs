//! Node.js bindings of twinsync (napi-rs): every export converts JS values to the
//! plain shapes of [`twinsync::api`], calls it, and maps its errors to JS errors whose
//! class and `code` say what went wrong. No logic lives here; `bindings/API.md` is the
//! contract.
#![deny(clippy::all)]

use std::cell::RefCell;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::{Env, JsValue, Task};
use napi_derive::napi;
use serde_json::{json, Value};
use twinsync::api;

thread_local! {
    /// The error classes `errors.js` registers (code -> constructor), one set per JS
    /// thread: each worker thread loads its own copy of the addon.
    static ERROR_CLASSES: RefCell<Option<ObjectRef<false>>> = const { RefCell::new(None) };
}

/// Registers the JS error classes by code (`{CONFLICT: ConflictError, ...}`); called once by the package entry.
#[napi(js_name = "__setErrorClasses")]
pub fn set_error_classes(classes: Object) -> Result<()> {
    let r = classes.create_ref::<false>()?;
    ERROR_CLASSES.with(|c| *c.borrow_mut() = Some(r));
    Ok(())
}

/// A JS error of the registered class for `code` (a plain `Error` before registration), with `code` set.
fn js_error(env: &Env, code: &str, message: &str) -> Error {
    let build = || -> Result<Error> {
        let class = ERROR_CLASSES.with(|c| -> Result<Option<Function<String, Unknown>>> {
            match c.borrow().as_ref() {
                Some(r) => r.get_value(env)?.get_named_property::<Option<Function<String, Unknown>>>(code),
                None => Ok(None),
            }
        })?;
        let mut obj = match class {
            Some(ctor) => Object::from_unknown(ctor.new_instance(message.to_string())?)?,
            None => env.create_error(Error::new(Status::GenericFailure, message))?,
        };
        obj.set_named_property("code", code)?;
        Ok(Error::from(obj.to_unknown()))
    };
    build().unwrap_or_else(|e| e)
}

fn to_js(env: &Env, e: twinsync::Error) -> Error {
    js_error(env, api::error_code(&e), &e.to_string())
}

fn invalid(env: &Env, message: &str) -> Error {
    js_error(env, "INVALID_INPUT", message)
}

/// How JSON and text are hashed (see `bindings/API.md`).
#[napi(object)]
#[derive(Default)]
pub struct HashOptions {
    /// JSON Pointer patterns of volatile members to drop: `/updatedAt`, `/**/id`.
    pub ignore: Option<Vec<String>>,
    /// Integers beyond 2^53: `error` (default) or `string`.
    #[napi(ts_type = "'error' | 'string'")]
    pub big_integers: Option<String>,
    /// Deepest nesting accepted (default 256).
    pub max_depth: Option<u32>,
    /// Text: also strip spaces and tabs at line ends.
    pub trim_trailing_whitespace: Option<bool>,
}

impl HashOptions {
    fn api(self) -> api::HashOptions {
        api::HashOptions {
            ignore: self.ignore.unwrap_or_default(),
            big_integers: self.big_integers,
            max_depth: self.max_depth.map(|d| d as usize),
            trim_trailing_whitespace: self.trim_trailing_whitespace.unwrap_or(false),
        }
    }
}

fn hash_opts(o: Option<HashOptions>) -> api::HashOptions {
    o.unwrap_or_default().api()
}

thread_local! {
    /// The last JS string read by [`with_json_bytes`], as UTF-16 and as UTF-8, kept
    /// (at their full length, so never zeroed again) so that hashing many small
    /// documents allocates once.
    static TEXT: RefCell<(Vec<u16>, Vec<u8>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Buffers larger than this (in bytes) are freed after the call rather than kept.
const TEXT_KEEP: usize = 1 << 20;

/// The bytes of a JSON text argument.
enum JsonText<'a> {
    /// Transcoded here from a JS string, and so UTF-8.
    Str(&'a str),
    /// A Buffer's bytes, or V8's UTF-8 of a large string: the canonicaliser checks them.
    Bytes(&'a [u8]),
}

impl JsonText<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            JsonText::Str(s) => s.as_bytes(),
            JsonText::Bytes(b) => b,
        }
    }
}

/// Calls `f` with the bytes of a JSON text argument: a JS string as UTF-8, or a
/// Buffer's bytes in place.
///
/// napi-rs's own `String` conversion asks V8 for the UTF-8 length (a full pass over
/// the string) and then copies into a fresh zeroed `Vec`; its `Buffer` takes a
/// reference handle. For documents of a kilobyte those costs were as large as
/// canonicalising them. V8's own UTF-8 writer (`napi_get_value_string_utf8`) goes a
/// character at a time through a two-byte string, which any text outside Latin-1
/// makes: profiles of the bench put it at 8-17% of a call. So the string is copied
/// out as UTF-16 (a plain copy, or a widening of a one-byte string) into a reused
/// buffer and transcoded here, 16 units at a time while they are ASCII. A Buffer is
/// read through `napi_get_buffer_info` without a handle.
fn with_json_bytes<R>(env: &Env, text: Unknown, f: impl FnOnce(JsonText<'_>) -> R) -> Result<R> {
    let (mut wide, mut utf8) = TEXT.with(RefCell::take);
    let out = read_json_text(env, text, &mut wide, &mut utf8, f);
    if wide.len() * 2 + utf8.len() <= TEXT_KEEP {
        TEXT.with(|cell| cell.replace((wide, utf8)));
    }
    out
}

/// [`with_json_bytes`] with the kept buffers taken out.
fn read_json_text<R>(
    env: &Env,
    text: Unknown,
    wide: &mut Vec<u16>,
    utf8: &mut Vec<u8>,
    f: impl FnOnce(JsonText<'_>) -> R,
) -> Result<R> {
    use napi::sys;
    let (raw_env, raw) = (env.raw(), text.raw());
    let mut copied = 0usize;
    if !wide.is_empty() {
        // Straight into the kept buffer first: most texts fit, and then neither the
        // value's type nor the string's length takes a call of its own. napi writes at
        // most `wide.len()` units, its NUL included, so fewer than `wide.len() - 1`
        // copied units are the whole string. (A kept buffer is below `TEXT_KEEP / 5`
        // units, so a string that fits is never one for V8's UTF-8 writer.) Anything
        // but a string fails here with `napi_string_expected`, and is looked at below.
        // SAFETY: `raw` is a value of this env; `wide` holds `wide.len()` initialised units.
        let status =
            unsafe { sys::napi_get_value_string_utf16(raw_env, raw, wide.as_mut_ptr(), wide.len(), &mut copied) };
        if status == sys::Status::napi_ok && copied + 1 < wide.len() {
            return Ok(transcoded(&wide[..copied], utf8, f));
        }
    }
    match text.get_type()? {
        ValueType::String => {
            let mut units = 0usize;
            // SAFETY: `raw` is a JS string of this env; a null buffer asks only for the length.
            check(unsafe { sys::napi_get_value_string_utf16(raw_env, raw, std::ptr::null_mut(), 0, &mut units) })?;
            if units * 3 > TEXT_KEEP {
                return Ok(f(JsonText::Bytes(&large_string_utf8(raw_env, raw, units)?)));
            }
            // One more unit for the terminating NUL napi writes.
            if wide.len() < units + 1 {
                wide.resize(units + 1, 0);
            }
            // SAFETY: `wide` holds at least `units + 1` initialised units, the most napi writes.
            check(unsafe {
                sys::napi_get_value_string_utf16(raw_env, raw, wide.as_mut_ptr(), units + 1, &mut copied)
            })?;
            Ok(transcoded(&wide[..copied], utf8, f))
        }
        ValueType::Object if is_buffer(raw_env, raw)? => {
            // SAFETY: checked to be a Buffer just above.
            let slice = unsafe { BufferSlice::from_napi_value(raw_env, raw) }?;
            Ok(f(JsonText::Bytes(&slice)))
        }
        _ => Err(Error::new(Status::InvalidArg, "expected JSON text as a string or a Buffer")),
    }
}

/// Calls `f` with the UTF-8 of the UTF-16 units `wide`, written into `utf8`.
fn transcoded<R>(wide: &[u16], utf8: &mut Vec<u8>, f: impl FnOnce(JsonText<'_>) -> R) -> R {
    let n = utf16_to_utf8(wide, utf8);
    // SAFETY: `utf16_to_utf8` writes only well-formed UTF-8 (see there), and these are
    // the `n` bytes it wrote.
    f(JsonText::Str(unsafe { std::str::from_utf8_unchecked(&utf8[..n]) }))
}

/// A string too large for the kept buffers, as UTF-8 written by V8 into a fresh
/// buffer: filling the two buffers of the transcoding path with zeros first would
/// cost more than V8's slower conversion saves.
fn large_string_utf8(env: napi::sys::napi_env, raw: napi::sys::napi_value, units: usize) -> Result<Vec<u8>> {
    // At most 3 UTF-8 bytes per UTF-16 unit, and one more for the terminating NUL.
    let cap = units * 3 + 1;
    let mut buf: Vec<u8> = Vec::with_capacity(cap);
    let mut written = 0usize;
    // SAFETY: `raw` is a JS string of this env; napi writes at most `cap` bytes into
    // the spare capacity, and on success `written` of them (without the NUL) are
    // initialised.
    unsafe {
        check(napi::sys::napi_get_value_string_utf8(env, raw, buf.as_mut_ptr().cast(), cap, &mut written))?;
        buf.set_len(written);
    }
    Ok(buf)
}

/// Writes `src` as UTF-8 at the start of `dst` (grown as needed, never shrunk) and
/// returns the length written. A lone surrogate becomes U+FFFD, as V8's own UTF-8
/// conversion makes it, so that what is written is always well-formed UTF-8: each
/// unit below 0x800 takes its one- or two-byte form, a surrogate pair the four-byte
/// form of the code point it makes, and any other unit (U+FFFD for a lone
/// surrogate) its three-byte form. Callers rely on that (tested below).
fn utf16_to_utf8(src: &[u16], dst: &mut Vec<u8>) -> usize {
    // At most three bytes per unit: a pair of surrogates (two units) takes four.
    if dst.len() < src.len() * 3 {
        dst.resize(src.len() * 3, 0);
    }
    let out = &mut dst[..src.len() * 3];
    let (mut i, mut o) = (0, 0);
    while i < src.len() {
        // ASCII runs, 16 units at a time.
        if let (Some(chunk), Some(to)) = (src.get(i..i + 16), out.get_mut(o..o + 16)) {
            let chunk: &[u16; 16] = chunk.try_into().expect("16 units");
            if let Some(bytes) = ascii16(chunk) {
                to.copy_from_slice(&bytes);
                i += 16;
                o += 16;
                continue;
            }
        }
        // One unit (or pair) at a time up to the end of this chunk.
        let stop = (i + 16).min(src.len());
        while i < stop {
            let c = u32::from(src[i]);
            i += 1;
            if c < 0x80 {
                out[o] = c as u8;
                o += 1;
            } else if c < 0x800 {
                out[o] = 0xC0 | (c >> 6) as u8;
                out[o + 1] = 0x80 | (c & 0x3F) as u8;
                o += 2;
            } else {
                let lo = src.get(i).map_or(0, |&u| u32::from(u));
                let cp = if (0xD800..0xDC00).contains(&c) && (0xDC00..0xE000).contains(&lo) {
                    i += 1;
                    0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00)
                } else if (0xD800..0xE000).contains(&c) {
                    0xFFFD
                } else {
                    c
                };
                if cp >= 0x10000 {
                    out[o] = 0xF0 | (cp >> 18) as u8;
                    out[o + 1] = 0x80 | ((cp >> 12) & 0x3F) as u8;
                    out[o + 2] = 0x80 | ((cp >> 6) & 0x3F) as u8;
                    out[o + 3] = 0x80 | (cp & 0x3F) as u8;
                    o += 4;
                } else {
                    out[o] = 0xE0 | (cp >> 12) as u8;
                    out[o + 1] = 0x80 | ((cp >> 6) & 0x3F) as u8;
                    out[o + 2] = 0x80 | (cp & 0x3F) as u8;
                    o += 3;
                }
            }
        }
    }
    o
}

/// The 16 units as bytes, if all are ASCII.
#[inline(always)]
fn ascii16(chunk: &[u16; 16]) -> Option<[u8; 16]> {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::*;
        // SAFETY: SSE2 is part of the x86_64 baseline; the two unaligned loads read
        // the 32 bytes of `chunk`, and the store writes the 16 of `bytes`.
        unsafe {
            let a = _mm_loadu_si128(chunk.as_ptr() as *const __m128i);
            let b = _mm_loadu_si128(chunk.as_ptr().add(8) as *const __m128i);
            // Units of 0x80 and up have a bit in 0xFF80.
            if _mm_movemask_epi8(_mm_cmpeq_epi16(
                _mm_and_si128(_mm_or_si128(a, b), _mm_set1_epi16(0xFF80u16 as i16)),
                _mm_setzero_si128(),
            )) != 0xFFFF
            {
                return None;
            }
            let mut bytes = [0u8; 16];
            _mm_storeu_si128(bytes.as_mut_ptr() as *mut __m128i, _mm_packus_epi16(a, b));
            Some(bytes)
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        if chunk.iter().any(|&u| u >= 0x80) {
            return None;
        }
        Some(chunk.map(|u| u as u8))
    }
}

fn is_buffer(env: napi::sys::napi_env, v: napi::sys::napi_value) -> Result<bool> {
    let mut yes = false;
    // SAFETY: `v` is a value of this env.
    check(unsafe { napi::sys::napi_is_buffer(env, v, &mut yes) })?;
    Ok(yes)
}

fn check(status: napi::sys::napi_status) -> Result<()> {
    if status == napi::sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(status), "reading a JSON text argument failed"))
    }
}

// `canonicalize` and `canonicalHash` of JS values are defined in index.js: they run
// `JSON.stringify` in JS (V8's fast path, no call across napi) and pass the text to
// the `…Json` forms below.

/// RFC 8785 canonical JSON text of a JSON document given as text or bytes.
#[napi(ts_args_type = "text: string | Buffer, options?: HashOptions | undefined | null")]
pub fn canonicalize_json(env: Env, text: Unknown, options: Option<HashOptions>) -> Result<String> {
    let opts = hash_opts(options);
    with_json_bytes(&env, text, |json| api::canonicalize_json(json.bytes(), &opts))?.map_err(|e| to_js(&env, e))
}

// This declares the export (its types, its place in `native.js`); the function JS
// calls is `canonical_hash_json_fast`, put in its place when the module loads, which
// does the same through `hash_json_text`.
/// `sha256:<hex>` of the canonical form of a JSON document given as text or bytes.
#[napi(ts_args_type = "text: string | Buffer, options?: HashOptions | undefined | null")]
pub fn canonical_hash_json(env: Env, text: Unknown, options: Option<HashOptions>) -> Result<String> {
    let options = options.map(HashOptions::api);
    let digest = hash_json_text(&env, text.raw(), options.as_ref())?;
    Ok(digest.to_string())
}

/// The digest of a JSON text argument (string or Buffer), with JS errors.
fn hash_json_text(
    env: &Env,
    text: napi::sys::napi_value,
    opts: Option<&api::HashOptions>,
) -> Result<twinsync::core::Digest> {
    // SAFETY: `text` is a value of this env, passed by the call being handled.
    let text = unsafe { Unknown::from_raw_unchecked(env.raw(), text) };
    with_json_bytes(env, text, |json| match json {
        JsonText::Str(s) => api::canonical_digest_json_str(s, opts),
        JsonText::Bytes(b) => api::canonical_digest_json(b, opts),
    })?
    .map_err(|e| to_js(env, e))
}

/// `canonicalHashJson` as JS calls it: a plain Node-API callback. For a document of
/// a kilobyte the rest of the call is about 2.5 µs, and napi-rs's generated wrapper
/// (its borrow scope, with a lock and a reference count, and the argument and
/// `String` conversions) and building default options took about a twentieth of it.
/// Here the options are read only when given, and the digest becomes a one-byte JS
/// string straight from the stack.
unsafe extern "C" fn canonical_hash_json_fast(
    raw_env: napi::sys::napi_env,
    info: napi::sys::napi_callback_info,
) -> napi::sys::napi_value {
    use napi::sys;
    let env = Env::from_raw(raw_env);
    let call = || -> Result<sys::napi_value> {
        let mut argc = 2usize;
        let mut argv = [std::ptr::null_mut(); 2];
        // SAFETY: `info` is this call's; `argv` has room for `argc` values, and napi
        // fills the ones not passed with `undefined`.
        check(unsafe {
            sys::napi_get_cb_info(
                raw_env,
                info,
                &mut argc,
                argv.as_mut_ptr(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        })?;
        let options = if argc < 2 {
            None
        } else {
            // SAFETY: a value of this env; the conversion napi-rs's wrapper makes.
            unsafe { <Option<HashOptions> as FromNapiValue>::from_napi_value(raw_env, argv[1]) }?.map(HashOptions::api)
        };
        let digest = hash_json_text(&env, argv[0], options.as_ref())?;
        let text = digest.text();
        let mut out = std::ptr::null_mut();
        // SAFETY: `text` holds `text.len()` bytes, all ASCII.
        check(unsafe { sys::napi_create_string_latin1(raw_env, text.as_ptr().cast(), text.len() as isize, &mut out) })?;
        Ok(out)
    };
    // A panic must not unwind into Node (it would abort the process): it becomes a JS
    // error, as napi-rs's generated wrappers make it.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).unwrap_or_else(|p| {
        let what = p.downcast_ref::<&str>().copied().or_else(|| p.downcast_ref::<String>().map(String::as_str));
        Err(napi::Error::from_reason(format!("canonicalHashJson panicked: {}", what.unwrap_or("(no message)"))))
    });
    match result {
        Ok(v) => v,
        Err(e) => {
            // SAFETY: `raw_env` is the env of the call being handled.
            unsafe { JsError::from(e).throw_into(raw_env) };
            std::ptr::null_mut()
        }
    }
}

/// Puts [`canonical_hash_json_fast`] in the place of the generated
/// `canonicalHashJson`, after napi-rs has defined every export.
#[napi(module_exports)]
pub fn install_fast_exports(exports: Object, env: Env) -> Result<()> {
    use napi::sys;
    let mut f = std::ptr::null_mut();
    let name = "canonicalHashJson";
    // SAFETY: `name` is `name.len()` bytes; the callback has napi's signature.
    check(unsafe {
        sys::napi_create_function(
            env.raw(),
            name.as_ptr().cast(),
            name.len() as isize,
            Some(canonical_hash_json_fast),
            std::ptr::null_mut(),
            &mut f,
        )
    })?;
    // SAFETY: `exports` and `f` are values of this env.
    check(unsafe { sys::napi_set_named_property(env.raw(), exports.raw(), c"canonicalHashJson".as_ptr(), f) })
}

/// `sha256:<hex>` of normalised text (no BOM, LF line ends).
#[napi]
pub fn hash_text(text: String, options: Option<HashOptions>) -> String {
    api::hash_text(&text, &hash_opts(options))
}

/// `sha256:<hex>` of bytes as they are.
#[napi]
pub fn hash_bytes(data: Buffer) -> String {
    api::hash_bytes(&data)
}

/// The tree digest of `{key: digest | text | JSON}`.
#[napi]
pub fn tree_digest(env: Env, entries: Value, options: Option<HashOptions>) -> Result<String> {
    api::tree_digest(&entries, &hash_opts(options)).map_err(|e| to_js(&env, e))
}

/// Three-way drift of `{key: digest | text | JSON}` maps, as `twinsync status --json`.
#[napi(ts_return_type = "DriftReport")]
pub fn detect_drift(env: Env, base: Value, left: Value, right: Value, options: Option<HashOptions>) -> Result<Value> {
    api::detect_drift(&base, &left, &right, &hash_opts(options)).map_err(|e| to_js(&env, e))
}

/// Options of `plan`.
#[napi(object)]
#[derive(Default)]
pub struct PlanOptions {
    /// Conflict policy as `--policy` takes it (default `manual`).
    pub policy: Option<String>,
    /// `left-to-right`, `right-to-left` or `both` (default).
    pub direction: Option<String>,
    /// Now in milliseconds since the epoch, for the operation hash (default: now).
    pub now_ms: Option<i64>,
    /// JSON Pointer patterns of volatile members to drop.
    pub ignore: Option<Vec<String>>,
    /// Integers beyond 2^53: `error` (default) or `string`.
    #[napi(ts_type = "'error' | 'string'")]
    pub big_integers: Option<String>,
    /// Text: also strip spaces and tabs at line ends.
    pub trim_trailing_whitespace: Option<bool>,
}

/// The plan a sync of three `{key: digest | text | JSON}` maps would run.
#[napi(ts_return_type = "Record<string, any>")]
pub fn plan(env: Env, base: Value, left: Value, right: Value, options: Option<PlanOptions>) -> Result<Value> {
    let o = options.unwrap_or_default();
    let opts = api::PlanOptions {
        policy: o.policy,
        direction: o.direction,
        now_ms: o.now_ms,
        hash: HashOptions {
            ignore: o.ignore,
            big_integers: o.big_integers,
            max_depth: None,
            trim_trailing_whitespace: o.trim_trailing_whitespace,
        }
        .api(),
    };
    api::plan(&base, &left, &right, &opts).map_err(|e| to_js(&env, e))
}

/// Options of `mergeText`.
#[napi(object)]
#[derive(Default)]
pub struct MergeTextOptions {
    /// Labels after the markers: `[left, base, right]`.
    pub labels: Option<Vec<String>>,
    /// Conflict style.
    #[napi(ts_type = "'merge' | 'diff3' | 'zdiff3'")]
    pub style: Option<String>,
    /// Resolve conflicts instead of marking them.
    #[napi(ts_type = "'none' | 'ours' | 'theirs' | 'union'")]
    pub favor: Option<String>,
    /// Marker length (default 7).
    pub marker_size: Option<u32>,
}

/// diff3 merge of three texts: `{text, conflicts}`, markers as `git merge-file` writes them.
#[napi(ts_return_type = "{ text: string; conflicts: number }")]
pub fn merge_text(
    env: Env,
    base: String,
    left: String,
    right: String,
    options: Option<MergeTextOptions>,
) -> Result<Value> {
    let o = options.unwrap_or_default();
    let labels =
        match o.labels {
            None => None,
            Some(l) => Some(<[String; 3]>::try_from(l).map_err(|l| {
                invalid(&env, &format!("labels: expected 3 labels [left, base, right], got {}", l.len()))
            })?),
        };
    let opts = api::MergeTextOptions {
        labels,
        style: o.style,
        favor: o.favor,
        marker_size: o.marker_size.map(|n| n as usize),
    };
    api::merge_text(&base, &left, &right, &opts).map_err(|e| to_js(&env, e))
}

/// Options of `mergeJson`.
#[napi(object)]
#[derive(Default)]
pub struct MergeJsonOptions {
    /// Field that identifies array elements (`id`), so arrays of objects merge per element.
    pub array_id_field: Option<String>,
}

/// Structural merge of three JSON values: `{value, conflicts: [{pointer, base, left, right}]}`.
#[napi(ts_return_type = "{ value: any; conflicts: Array<{ pointer: string; base: any; left: any; right: any }> }")]
pub fn merge_json(
    env: Env,
    base: Value,
    left: Value,
    right: Value,
    options: Option<MergeJsonOptions>,
) -> Result<Value> {
    let field = options.and_then(|o| o.array_id_field);
    api::merge_json(&base, &left, &right, field.as_deref()).map_err(|e| to_js(&env, e))
}

/// Options of `coverage`.
#[napi(object)]
#[derive(Default)]
pub struct CoverageOptions {
    /// Most missing variants listed per component (default 20).
    pub missing_limit: Option<u32>,
    /// Test kinds every component should have (default interaction, visual, a11y).
    #[napi(ts_type = "Array<'interaction' | 'visual' | 'a11y' | 'unit'>")]
    pub required_kinds: Option<Vec<String>>,
}

/// Coverage of `{components, stories, tests}`, as `twinsync design coverage --json`.
#[napi(ts_return_type = "Record<string, any>")]
pub fn coverage(env: Env, input: Value, options: Option<CoverageOptions>) -> Result<Value> {
    let mut opts = serde_json::Map::new();
    if let Some(o) = options {
        if let Some(n) = o.missing_limit {
            opts.insert("missing_limit".into(), n.into());
        }
        if let Some(k) = o.required_kinds {
            opts.insert("required_kinds".into(), k.into());
        }
    }
    api::coverage(&input, &Value::Object(opts)).map_err(|e| to_js(&env, e))
}

/// Options of `open`.
#[napi(object)]
#[derive(Default)]
pub struct OpenOptions {
    /// Who acts in history, audit and locks (default `TWINSYNC_OWNER`, else the OS user).
    pub actor: Option<String>,
}

/// An operation run on the libuv thread pool (project I/O, OpenSpec folder parsing).
pub enum ProjectOp {
    /// Open a project.
    Open(String, Option<String>),
    /// Make a folder a project: dir, left, right, actor.
    Init(String, String, String, Option<String>),
    /// OpenSpec list: dir, specs instead of changes.
    OpenspecList(String, bool),
    /// OpenSpec show: dir, id, kind.
    OpenspecShow(String, String, Option<String>),
    /// OpenSpec validate: dir, strict.
    OpenspecValidate(String, bool),
    /// OpenSpec sync: dir, options.
    OpenspecSync(String, api::OpenspecSyncOptions),
    /// OpenSpec lifecycle status: dir, id, status, kind.
    OpenspecSetStatus(String, String, String, Option<String>),
    /// Design coverage: components file, Storybook index.
    DesignCoverage(String, String),
    /// Design scaffold: components file, output folder, options.
    DesignScaffold(String, String, api::DesignScaffoldOptions),
    /// Any other call that answers JSON: named pairs, design pairs, the OpenSpec database.
    Json(Box<dyn FnOnce() -> twinsync::Result<Value> + Send>),
}

type Shared = Arc<Mutex<twinsync::Project>>;

fn locked(p: &Shared) -> twinsync::Result<std::sync::MutexGuard<'_, twinsync::Project>> {
    p.lock().map_err(|_| {
        twinsync::Error::Core(twinsync::core::Error::InvalidInput(
            "the project handle is unusable: an earlier call panicked while holding it".into(),
        ))
    })
}

/// What a finished [`ProjectOp`] hands back to the JS thread.
pub enum ProjectOut {
    /// An opened project.
    Opened(Shared),
    /// A JSON result.
    Json(Value),
}

/// A JSON result handed to JS as a plain object.
pub struct Json(Value);

impl TypeName for Json {
    fn type_name() -> &'static str {
        "Object"
    }
    fn value_type() -> ValueType {
        ValueType::Object
    }
}

impl ToNapiValue for Json {
    unsafe fn to_napi_value(env: napi::sys::napi_env, val: Self) -> Result<napi::sys::napi_value> {
        // SAFETY: forwarded unchanged from the caller, who holds the same contract.
        unsafe { Value::to_napi_value(env, val.0) }
    }
}

/// The task wrapper napi runs off the JS thread.
pub struct ProjectTask(Option<ProjectOp>);

impl Task for ProjectTask {
    type Output = twinsync::Result<ProjectOut>;
    type JsValue = Either<Project, Json>;

    fn compute(&mut self) -> Result<Self::Output> {
        let op = self.0.take().ok_or_else(|| Error::new(Status::GenericFailure, "task ran twice"))?;
        Ok(match op {
            ProjectOp::Open(dir, actor) => {
                api::open(&dir, actor.as_deref()).map(|p| ProjectOut::Opened(Arc::new(Mutex::new(p))))
            }
            ProjectOp::Init(dir, l, r, actor) => {
                api::init(&dir, &l, &r, actor.as_deref()).map(|p| ProjectOut::Opened(Arc::new(Mutex::new(p))))
            }
            ProjectOp::OpenspecList(dir, specs) => api::openspec_list(&dir, specs).map(ProjectOut::Json),
            ProjectOp::OpenspecShow(dir, id, kind) => {
                api::openspec_show(&dir, &id, kind.as_deref()).map(ProjectOut::Json)
            }
            ProjectOp::OpenspecValidate(dir, strict) => api::openspec_validate(&dir, strict).map(ProjectOut::Json),
            ProjectOp::OpenspecSync(dir, o) => api::openspec_sync(&dir, &o).map(ProjectOut::Json),
            ProjectOp::OpenspecSetStatus(dir, id, status, kind) => {
                api::openspec_set_status(&dir, &id, &status, kind.as_deref()).map(ProjectOut::Json)
            }
            ProjectOp::DesignCoverage(c, s) => api::design_coverage(&c, &s).map(ProjectOut::Json),
            ProjectOp::DesignScaffold(c, out, o) => api::design_scaffold(&c, &out, &o).map(ProjectOut::Json),
            ProjectOp::Json(f) => f().map(ProjectOut::Json),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        match output {
            Ok(ProjectOut::Opened(inner)) => Ok(Either::A(Project { inner })),
            Ok(ProjectOut::Json(v)) => Ok(Either::B(Json(v))),
            Err(e) => Err(to_js(&env, e)),
        }
    }
}

/// Opens the project containing `dir` (it or its nearest parent with `.twinsync/`).
#[napi(ts_return_type = "Promise<Project>")]
pub fn open(dir: String, options: Option<OpenOptions>) -> AsyncTask<ProjectTask> {
    AsyncTask::new(ProjectTask(Some(ProjectOp::Open(dir, options.and_then(|o| o.actor)))))
}

/// Makes `dir` a project syncing `left` and `right` (folders relative to `dir`, or `db`), as `twinsync init`.
#[napi(ts_return_type = "Promise<Project>")]
pub fn init(dir: String, left: String, right: String, options: Option<OpenOptions>) -> AsyncTask<ProjectTask> {
    AsyncTask::new(ProjectTask(Some(ProjectOp::Init(dir, left, right, options.and_then(|o| o.actor)))))
}

/// A JSON answer computed on the libuv thread pool.
fn json_task(f: impl FnOnce() -> twinsync::Result<Value> + Send + 'static) -> AsyncTask<ProjectTask> {
    AsyncTask::new(ProjectTask(Some(ProjectOp::Json(Box::new(f)))))
}

/// The pair a project call acts on.
#[napi(object)]
#[derive(Default)]
pub struct PairOptions {
    /// The pair's name (default: the only pair, else the one named `default`; for design
    /// calls, the project's design pair).
    pub pair: Option<String>,
}

/// Options of `Project.watch`.
#[napi(object)]
#[derive(Default)]
pub struct WatchOptions {
    /// The pairs to watch (default: every pair).
    pub pairs: Option<Vec<String>>,
    /// Quiet time after a file event before the pair syncs, in ms (default 100).
    pub debounce_ms: Option<u32>,
    /// Interval of the periodic pass, in ms (default 30000).
    pub period_ms: Option<u32>,
}

/// Options of `Project.designSync`.
#[napi(object)]
#[derive(Default)]
pub struct DesignSyncOptions {
    /// The design pair (default: the project's design pair).
    pub pair: Option<String>,
    /// Every component's direction (default `bidirectional`).
    #[napi(ts_type = "'code_to_design' | 'design_to_code' | 'bidirectional'")]
    pub direction: Option<String>,
    /// One component's direction, by component name.
    #[napi(ts_type = "Record<string, 'code_to_design' | 'design_to_code' | 'bidirectional'>")]
    pub components: Option<std::collections::HashMap<String, String>>,
    /// Conflict policy for this run.
    pub policy: Option<String>,
    /// Plan and diff only; change nothing.
    pub dry_run: Option<bool>,
}

/// Options of `Project.credentialAdd`.
#[napi(object)]
pub struct CredentialOptions {
    /// `notification`, `design`, `documentation`, `testing`, `ai` or `analytics`.
    pub provider: String,
    /// Rotation period in ms: it expires when not rotated in time.
    pub rotate_every_ms: Option<i64>,
    /// Free metadata; never the secret.
    pub metadata: Option<std::collections::HashMap<String, String>>,
}

/// Options of `Project.credentialRotate`.
#[napi(object)]
#[derive(Default)]
pub struct RotateOptions {
    /// A new rotation period in ms.
    pub rotate_every_ms: Option<i64>,
}

/// Options of `Project.testSessionStart`.
#[napi(object)]
#[derive(Default)]
pub struct TestSessionStartOptions {
    /// Ties the session to what started it (default: the session id).
    pub correlation_id: Option<String>,
}

/// Options of `Project.testSessionFinish`.
#[napi(object)]
#[derive(Default)]
pub struct TestSessionFinishOptions {
    /// The runner's performance summary (`{lcp_ms: 812}`).
    #[napi(ts_type = "Record<string, any>")]
    pub performance: Option<Value>,
}

/// Options of `Project.testSessions`.
#[napi(object)]
#[derive(Default)]
pub struct TestSessionsOptions {
    /// Only this story's sessions.
    pub story: Option<String>,
    /// At most this many (default 50).
    pub limit: Option<u32>,
}

/// A running watch: an async iterator of its notes (`for await (const note of watch)`).
#[napi]
pub struct Watch {
    handle: Arc<Mutex<Option<twinsync::WatchHandle>>>,
    notes: Arc<Mutex<std::sync::mpsc::Receiver<Value>>>,
}

/// Waits off the JS thread for a watch's next note.
pub struct NextNote(Arc<Mutex<std::sync::mpsc::Receiver<Value>>>);

impl Task for NextNote {
    type Output = Option<Value>;
    type JsValue = Json;

    fn compute(&mut self) -> Result<Self::Output> {
        let rx = self.0.lock().map_err(|_| Error::new(Status::GenericFailure, "watch notes unusable"))?;
        // The sender lives in the watch thread's callback: when the watch stops, it is
        // dropped and this wakes up with the iteration's end.
        Ok(rx.recv().ok())
    }

    fn resolve(&mut self, _env: Env, output: Self::Output) -> Result<Self::JsValue> {
        Ok(Json(match output {
            Some(note) => json!({"value": note, "done": false}),
            None => json!({"done": true}),
        }))
    }
}

/// Stops a watch off the JS thread (it finishes the sync in flight first).
pub struct StopWatch(Arc<Mutex<Option<twinsync::WatchHandle>>>);

impl Task for StopWatch {
    type Output = twinsync::Result<Value>;
    type JsValue = Json;

    fn compute(&mut self) -> Result<Self::Output> {
        let handle = self.0.lock().map_err(|_| Error::new(Status::GenericFailure, "watch handle unusable"))?.take();
        Ok(match handle {
            Some(h) => h.stop().map(|s| api::watch_summary_json(&s)),
            // Stopped already: nothing more happened.
            None => Ok(api::watch_summary_json(&Default::default())),
        })
    }

    fn resolve(&mut self, env: Env, output: Self::Output) -> Result<Self::JsValue> {
        output.map(Json).map_err(|e| to_js(&env, e))
    }
}

#[napi]
impl Watch {
    /// The next note, `{value, done}` as the async iterator protocol wants it; `done`
    /// once the watch has stopped.
    #[napi(ts_return_type = "Promise<IteratorResult<WatchNote, undefined>>")]
    pub fn next(&self) -> AsyncTask<NextNote> {
        AsyncTask::new(NextNote(self.notes.clone()))
    }

    /// Stops the watch after the sync in flight: what it did, `{syncs, applied, conflicts, failed}`.
    #[napi(ts_return_type = "Promise<WatchSummary>")]
    pub fn stop(&self) -> AsyncTask<StopWatch> {
        AsyncTask::new(StopWatch(self.handle.clone()))
    }
}

/// Options of `Project.sync`.
#[napi(object)]
#[derive(Default)]
pub struct SyncOptions {
    /// The pair (default: the only pair, else the one named `default`).
    pub pair: Option<String>,
    /// Plan and diff only; change nothing.
    pub dry_run: Option<bool>,
    /// Overrides the configured policy (`prefer-left`, `merge:right`, ...).
    pub policy: Option<String>,
    /// Overrides the configured direction.
    pub direction: Option<String>,
    /// Lets a sync delete most of a replica.
    pub allow_mass_delete: Option<bool>,
    /// Also makes formatting-only items byte-equal (the direction's or policy's side gives its bytes).
    pub formatting: Option<bool>,
}

/// An open project: its replicas, store and locks.
#[napi]
pub struct Project {
    inner: Shared,
}

#[napi]
impl Project {
    /// The project folder (the one holding `.twinsync/`).
    #[napi(getter)]
    pub fn dir(&self, env: Env) -> Result<String> {
        let p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        Ok(p.dir().to_string_lossy().into_owned())
    }

    /// Who acts in history, audit and locks.
    #[napi(getter)]
    pub fn actor(&self, env: Env) -> Result<String> {
        Ok(locked(&self.inner).map_err(|e| to_js(&env, e))?.actor().to_string())
    }

    /// The project's pairs: `{pairs: [{name, kind, left, right, policy, direction, ...}]}`.
    #[napi(
        ts_return_type = "{ pairs: Array<Record<string, any> & { name: string; kind: string; left: string; right: string }> }"
    )]
    pub fn pairs(&self, env: Env) -> Result<Value> {
        let p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        Ok(api::pairs(&p))
    }

    /// The drift of every item of a pair (`{pair}`; default: the project's default pair),
    /// scanned off the JS thread.
    #[napi(ts_return_type = "Promise<DriftReport>")]
    pub fn status(&self, options: Option<PairOptions>) -> AsyncTask<ProjectTask> {
        let (inner, pair) = (self.inner.clone(), options.and_then(|o| o.pair));
        json_task(move || locked(&inner).and_then(|mut p| api::status_in(&mut p, pair.as_deref())))
    }

    /// Syncs a pair (or previews it with `dryRun`): the operation report, or `{plan, diffs}`.
    #[napi(ts_return_type = "Promise<Record<string, any>>")]
    pub fn sync(&self, options: Option<SyncOptions>) -> AsyncTask<ProjectTask> {
        let o = options.unwrap_or_default();
        let opts = api::SyncOptions {
            dry_run: o.dry_run.unwrap_or(false),
            policy: o.policy,
            direction: o.direction,
            allow_mass_delete: o.allow_mass_delete.unwrap_or(false),
            formatting: o.formatting.unwrap_or(false),
        };
        let (inner, pair) = (self.inner.clone(), o.pair);
        json_task(move || locked(&inner).and_then(|mut p| api::sync_in(&mut p, pair.as_deref(), &opts)))
    }

    /// Undoes an operation (the newest undoable one, of `{pair}` when given, when
    /// `operationId` is omitted).
    #[napi(
        ts_return_type = "Promise<{ operation_id: string; restored: string[]; refused: Array<{ key: string; reason: string }>; at: string }>"
    )]
    pub fn undo(&self, operation_id: Option<String>, options: Option<PairOptions>) -> AsyncTask<ProjectTask> {
        let (inner, pair) = (self.inner.clone(), options.and_then(|o| o.pair));
        json_task(move || {
            locked(&inner).and_then(|mut p| api::undo_in(&mut p, pair.as_deref(), operation_id.as_deref()))
        })
    }

    /// Recent operations (of `{pair}` when given), newest first: `{operations: [summary]}`.
    #[napi(ts_return_type = "{ operations: OperationSummary[] }")]
    pub fn history(&self, env: Env, limit: Option<u32>, options: Option<PairOptions>) -> Result<Value> {
        let p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        let pair = options.and_then(|o| o.pair);
        api::history_in(&p, pair.as_deref(), limit.unwrap_or(20) as usize).map_err(|e| to_js(&env, e))
    }

    /// Operations (of `{pair}` when given) that can still be undone, the next `undo()`
    /// first: `{operations: [summary]}`.
    #[napi(ts_return_type = "{ operations: OperationSummary[] }")]
    pub fn undo_stack(&self, env: Env, limit: Option<u32>, options: Option<PairOptions>) -> Result<Value> {
        let p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        let pair = options.and_then(|o| o.pair);
        api::undo_stack_in(&p, pair.as_deref(), limit.unwrap_or(50) as usize).map_err(|e| to_js(&env, e))
    }

    /// Events with an id above `since` (default 0), oldest first, at most `limit`
    /// (default 1000), each as a line of `twinsync events --json`.
    #[napi(ts_return_type = "TwinsyncEvent[]")]
    pub fn events(&self, env: Env, since: Option<i64>, limit: Option<u32>) -> Result<Value> {
        let since = u64::try_from(since.unwrap_or(0)).map_err(|_| invalid(&env, "since: must not be negative"))?;
        let p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::events(&p, since, limit.unwrap_or(1000) as usize).map_err(|e| to_js(&env, e))
    }

    /// Watches the pairs (every pair, or `{pairs}`) on a thread of its own: an async
    /// iterator of the notes `twinsync watch --json` prints; `stop()` (or leaving a
    /// `for await` loop) ends it.
    #[napi]
    pub fn watch(&self, env: Env, options: Option<WatchOptions>) -> Result<Watch> {
        let o = options.unwrap_or_default();
        let opts = api::WatchOptions {
            pairs: o.pairs.unwrap_or_default(),
            debounce_ms: o.debounce_ms.map(u64::from),
            period_ms: o.period_ms.map(u64::from),
        };
        let (tx, rx) = std::sync::mpsc::channel::<Value>();
        let p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        let handle = api::watch(
            &p,
            &opts,
            Box::new(move |n| {
                // A closed receiver (the JS side dropped its iterator) just drops the note.
                let _ = tx.send(api::watch_note_json(n));
            }),
        )
        .map_err(|e| to_js(&env, e))?;
        Ok(Watch { handle: Arc::new(Mutex::new(Some(handle))), notes: Arc::new(Mutex::new(rx)) })
    }

    /// Component drift of a design pair (`{pair}`; default: the project's design pair), as
    /// `twinsync design drift --json` (off the JS thread).
    #[napi(ts_return_type = "Promise<Record<string, any>>")]
    pub fn design_drift(&self, options: Option<PairOptions>) -> AsyncTask<ProjectTask> {
        let (inner, pair) = (self.inner.clone(), options.and_then(|o| o.pair));
        json_task(move || locked(&inner).and_then(|p| api::design_drift(&p, pair.as_deref())))
    }

    /// Syncs a design pair through the engine (undoable), as `twinsync design sync --json`:
    /// the operation report, or with `dryRun` `{plan, diffs}` (off the JS thread).
    #[napi(ts_return_type = "Promise<Record<string, any>>")]
    pub fn design_sync(&self, options: Option<DesignSyncOptions>) -> AsyncTask<ProjectTask> {
        let o = options.unwrap_or_default();
        let opts = api::DesignSyncOptions {
            pair: o.pair,
            direction: o.direction,
            components: o.components.unwrap_or_default().into_iter().collect(),
            policy: o.policy,
            dry_run: o.dry_run.unwrap_or(false),
        };
        let inner = self.inner.clone();
        json_task(move || locked(&inner).and_then(|mut p| api::design_sync(&mut p, &opts)))
    }

    /// Every credential, metadata only: `{credentials: [...]}`. No secret ever comes back.
    #[napi(ts_return_type = "{ credentials: CredentialInfo[] }")]
    pub fn credentials(&self, env: Env) -> Result<Value> {
        let mut p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::credentials(&mut p).map_err(|e| to_js(&env, e))
    }

    /// One credential's metadata.
    #[napi(ts_return_type = "CredentialInfo")]
    pub fn credential(&self, env: Env, name: String) -> Result<Value> {
        let mut p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::credential(&mut p, &name).map_err(|e| to_js(&env, e))
    }

    /// Adds credential `name` holding `secret` (sealed; `pending` until validated): its metadata.
    #[napi(ts_return_type = "CredentialInfo")]
    pub fn credential_add(&self, env: Env, name: String, secret: String, options: CredentialOptions) -> Result<Value> {
        let opts = api::CredentialOptions {
            provider: Some(options.provider),
            rotate_every_ms: options.rotate_every_ms,
            metadata: options.metadata.unwrap_or_default().into_iter().collect(),
        };
        let mut p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::credential_add(&mut p, &name, &secret, &opts).map_err(|e| to_js(&env, e))
    }

    /// Replaces credential `name`'s value: its metadata.
    #[napi(ts_return_type = "CredentialInfo")]
    pub fn credential_rotate(
        &self,
        env: Env,
        name: String,
        secret: String,
        options: Option<RotateOptions>,
    ) -> Result<Value> {
        let every = options.and_then(|o| o.rotate_every_ms);
        let mut p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::credential_rotate(&mut p, &name, &secret, every).map_err(|e| to_js(&env, e))
    }

    /// Revokes credential `name` for good: its metadata.
    #[napi(ts_return_type = "CredentialInfo")]
    pub fn credential_revoke(&self, env: Env, name: String) -> Result<Value> {
        let mut p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::credential_revoke(&mut p, &name).map_err(|e| to_js(&env, e))
    }

    /// Checks credential `name` opens and is in date (pending becomes valid): its metadata.
    #[napi(ts_return_type = "CredentialInfo")]
    pub fn credential_validate(&self, env: Env, name: String) -> Result<Value> {
        let mut p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::credential_validate(&mut p, &name).map_err(|e| to_js(&env, e))
    }

    /// Starts a browser test session of story `storyId`.
    #[napi(ts_return_type = "TestSession")]
    pub fn test_session_start(
        &self,
        env: Env,
        story_id: String,
        options: Option<TestSessionStartOptions>,
    ) -> Result<Value> {
        let correlation = options.and_then(|o| o.correlation_id);
        let mut p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::test_session_start(&mut p, &story_id, correlation.as_deref()).map_err(|e| to_js(&env, e))
    }

    /// Finishes session `id` as `passed`, `failed` or `aborted`, with `{performance}`.
    #[napi(ts_return_type = "TestSession")]
    pub fn test_session_finish(
        &self,
        env: Env,
        id: String,
        #[napi(ts_arg_type = "'passed' | 'failed' | 'aborted'")] status: String,
        options: Option<TestSessionFinishOptions>,
    ) -> Result<Value> {
        let performance = options.and_then(|o| o.performance);
        let mut p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::test_session_finish(&mut p, &id, &status, performance.as_ref()).map_err(|e| to_js(&env, e))
    }

    /// One test session.
    #[napi(ts_return_type = "TestSession")]
    pub fn test_session(&self, env: Env, id: String) -> Result<Value> {
        let p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::test_session(&p, &id).map_err(|e| to_js(&env, e))
    }

    /// Test sessions, newest first (`{story}` only; at most `{limit}`, default 50): `{sessions}`.
    #[napi(ts_return_type = "{ sessions: TestSession[] }")]
    pub fn test_sessions(&self, env: Env, options: Option<TestSessionsOptions>) -> Result<Value> {
        let o = options.unwrap_or_default();
        let p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::test_sessions(&p, o.story.as_deref(), o.limit.unwrap_or(50) as usize).map_err(|e| to_js(&env, e))
    }

    /// The project lock: `acquire`, `renew`, `release`, `status`.
    #[napi(getter)]
    pub fn lock(&self) -> ProjectLock {
        ProjectLock { inner: self.inner.clone() }
    }
}

/// Options of `lock.acquire` and `lock.renew`.
#[napi(object)]
#[derive(Default)]
pub struct LockOptions {
    /// Lifetime in milliseconds (default: the project's `guard.lock_ttl_minutes`).
    pub ttl_ms: Option<i64>,
    /// Why it is taken (acquire only).
    pub reason: Option<String>,
}

/// Options of `lock.release`.
#[napi(object)]
#[derive(Default)]
pub struct ReleaseOptions {
    /// Release whoever holds it; recorded in the audit log.
    pub force: Option<bool>,
    /// Why (recorded with a forced release).
    pub reason: Option<String>,
}

/// The project lock of one project handle.
#[napi]
pub struct ProjectLock {
    inner: Shared,
}

#[napi]
impl ProjectLock {
    /// Takes the lock for the project's actor: `{acquired, lock}` (the token appears only here).
    #[napi(ts_return_type = "{ acquired: boolean; lock: LockInfo & { token: string } }")]
    pub fn acquire(&self, env: Env, options: Option<LockOptions>) -> Result<Value> {
        let o = options.unwrap_or_default();
        let mut p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::lock_acquire(&mut p, o.ttl_ms, o.reason.as_deref()).map_err(|e| to_js(&env, e))
    }

    /// Extends the lock; `caller` is the owner name or the token: `{renewed, lock}`.
    #[napi(ts_return_type = "{ renewed: boolean; lock: LockInfo }")]
    pub fn renew(&self, env: Env, caller: String, options: Option<LockOptions>) -> Result<Value> {
        let ttl = options.and_then(|o| o.ttl_ms);
        let mut p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::lock_renew(&mut p, &caller, ttl).map_err(|e| to_js(&env, e))
    }

    /// Releases the lock (or, with `force`, whoever holds it): `{released, forced, lock}`.
    #[napi(ts_return_type = "{ released: boolean; forced: boolean; lock: LockInfo | null }")]
    pub fn release(&self, env: Env, caller: String, options: Option<ReleaseOptions>) -> Result<Value> {
        let o = options.unwrap_or_default();
        let mut p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::lock_release(&mut p, &caller, o.force.unwrap_or(false), o.reason.as_deref()).map_err(|e| to_js(&env, e))
    }

    /// Whether the lock is held, and by whom: `{held, lock}`.
    #[napi(ts_return_type = "{ held: boolean; lock: LockInfo | null }")]
    pub fn status(&self, env: Env) -> Result<Value> {
        let mut p = locked(&self.inner).map_err(|e| to_js(&env, e))?;
        api::lock_status(&mut p).map_err(|e| to_js(&env, e))
    }
}

/// Options of `openspecList`.
#[napi(object)]
#[derive(Default)]
pub struct OpenspecListOptions {
    /// List main specs instead of active changes.
    pub specs: Option<bool>,
}

/// OpenSpec `list --json` of the `openspec/` folder found from `dir` upwards (parsed off the JS thread).
#[napi(ts_return_type = "Promise<Record<string, any>>")]
pub fn openspec_list(dir: String, options: Option<OpenspecListOptions>) -> AsyncTask<ProjectTask> {
    let specs = options.and_then(|o| o.specs).unwrap_or(false);
    AsyncTask::new(ProjectTask(Some(ProjectOp::OpenspecList(dir, specs))))
}

/// Options of `openspecShow`.
#[napi(object)]
#[derive(Default)]
pub struct OpenspecShowOptions {
    /// `change` or `spec` (default: whichever the id names).
    #[napi(js_name = "type", ts_type = "'change' | 'spec'")]
    pub kind: Option<String>,
}

/// OpenSpec `show <id> --json`: a change with its deltas, or a spec with its requirements.
#[napi(ts_return_type = "Promise<Record<string, any>>")]
pub fn openspec_show(dir: String, id: String, options: Option<OpenspecShowOptions>) -> AsyncTask<ProjectTask> {
    let kind = options.and_then(|o| o.kind);
    AsyncTask::new(ProjectTask(Some(ProjectOp::OpenspecShow(dir, id, kind))))
}

/// Options of `openspecValidate`.
#[napi(object)]
#[derive(Default)]
pub struct OpenspecValidateOptions {
    /// Warnings fail too.
    pub strict: Option<bool>,
}

/// OpenSpec `validate --all --json`, plus `valid`: whether every change and spec passed.
#[napi(ts_return_type = "Promise<Record<string, any> & { valid: boolean }>")]
pub fn openspec_validate(dir: String, options: Option<OpenspecValidateOptions>) -> AsyncTask<ProjectTask> {
    let strict = options.and_then(|o| o.strict).unwrap_or(false);
    AsyncTask::new(ProjectTask(Some(ProjectOp::OpenspecValidate(dir, strict))))
}

/// Options of `openspecSync`.
#[napi(object)]
#[derive(Default)]
pub struct OpenspecSyncOptions {
    /// Only this change (default: every change and spec).
    pub change: Option<String>,
    /// Report what would change; change nothing.
    pub dry_run: Option<bool>,
    /// Who wins a document edited on disk and in the database since the last sync (default `fs-wins`).
    #[napi(ts_type = "'fs-wins' | 'merge' | 'manual'")]
    pub policy: Option<String>,
}

/// OpenSpec `sync --json`: syncs the `openspec/` folder found from `dir` upwards with
/// `.twinsync/openspec.db` (off the JS thread).
#[napi(ts_return_type = "Promise<OpenspecSyncAnswer>")]
pub fn openspec_sync(dir: String, options: Option<OpenspecSyncOptions>) -> AsyncTask<ProjectTask> {
    let o = options.unwrap_or_default();
    let opts = api::OpenspecSyncOptions { change: o.change, dry_run: o.dry_run.unwrap_or(false), policy: o.policy };
    AsyncTask::new(ProjectTask(Some(ProjectOp::OpenspecSync(dir, opts))))
}

/// Options of `openspecSetStatus`.
#[napi(object)]
#[derive(Default)]
pub struct OpenspecSetStatusOptions {
    /// `change` (default) or `spec`.
    #[napi(js_name = "type", ts_type = "'change' | 'spec'")]
    pub kind: Option<String>,
}

/// OpenSpec `status ID STATUS`: sets the lifecycle status of a change (or spec) in the
/// database of the `openspec/` folder found from `dir` upwards; resolves to the row
/// without its documents (off the JS thread).
#[napi(ts_return_type = "Promise<Record<string, any>>")]
pub fn openspec_set_status(
    dir: String,
    id: String,
    #[napi(ts_arg_type = "'proposing' | 'approved' | 'assigned' | 'in_progress' | 'review' | 'archived'")]
    status: String,
    options: Option<OpenspecSetStatusOptions>,
) -> AsyncTask<ProjectTask> {
    let kind = options.and_then(|o| o.kind);
    AsyncTask::new(ProjectTask(Some(ProjectOp::OpenspecSetStatus(dir, id, status, kind))))
}

/// Options of `openspecQuery`.
#[napi(object)]
#[derive(Default)]
pub struct OpenspecQueryOptions {
    /// Only this lifecycle status.
    #[napi(ts_type = "'proposing' | 'approved' | 'assigned' | 'in_progress' | 'review' | 'archived'")]
    pub status: Option<String>,
    /// Full-text search of titles and documents (every word must occur).
    pub search: Option<String>,
    /// Order: `id` (default), `progress` or `age`.
    #[napi(ts_type = "'id' | 'progress' | 'age'")]
    pub sort: Option<String>,
    /// Only changes or only specs.
    #[napi(js_name = "type", ts_type = "'change' | 'spec'")]
    pub kind: Option<String>,
    /// Also rows whose folder was removed from disk.
    pub deleted: Option<bool>,
    /// At most this many rows.
    pub limit: Option<u32>,
}

/// The work queue in the OpenSpec database of the folder found from `dir` upwards, as
/// `twinsync openspec query --json`: `{items, count}` (off the JS thread).
#[napi(ts_return_type = "Promise<{ items: Array<Record<string, any>>; count: number }>")]
pub fn openspec_query(dir: String, options: Option<OpenspecQueryOptions>) -> AsyncTask<ProjectTask> {
    let o = options.unwrap_or_default();
    let opts = api::OpenspecQueryOptions {
        status: o.status,
        search: o.search,
        sort: o.sort,
        kind: o.kind,
        deleted: o.deleted.unwrap_or(false),
        limit: o.limit.map(|l| l as usize),
    };
    json_task(move || api::openspec_query(&dir, &opts))
}

/// Options of `openspecEdit`.
#[napi(object)]
#[derive(Default)]
pub struct OpenspecEditOptions {
    /// `change` (default) or `spec`.
    #[napi(js_name = "type", ts_type = "'change' | 'spec'")]
    pub kind: Option<String>,
    /// Who wins when the file also changed since the last sync (default `fs-wins`).
    #[napi(ts_type = "'fs-wins' | 'merge' | 'manual'")]
    pub policy: Option<String>,
}

/// Sets document `doc` of a change (or spec) in the database to `text` (`null` removes
/// it) and syncs that row to disk at once: the sync report of `twinsync openspec edit --json`.
#[napi(ts_return_type = "Promise<Record<string, any>>")]
pub fn openspec_edit(
    dir: String,
    id: String,
    doc: String,
    text: Option<String>,
    options: Option<OpenspecEditOptions>,
) -> AsyncTask<ProjectTask> {
    let o = options.unwrap_or_default();
    json_task(move || api::openspec_edit(&dir, &id, &doc, text.as_deref(), o.kind.as_deref(), o.policy.as_deref()))
}

/// Options of `openspecHistory`.
#[napi(object)]
#[derive(Default)]
pub struct OpenspecHistoryOptions {
    /// At most this many operations (default 20).
    pub limit: Option<u32>,
}

/// The syncs of the folder's `openspec` pair, newest first: `{operations: [summary]}`.
#[napi(ts_return_type = "Promise<{ operations: OperationSummary[] }>")]
pub fn openspec_history(dir: String, options: Option<OpenspecHistoryOptions>) -> AsyncTask<ProjectTask> {
    let limit = options.and_then(|o| o.limit).unwrap_or(20) as usize;
    json_task(move || api::openspec_history(&dir, limit))
}

/// Story coverage of a components file by a Storybook `index.json`, as
/// `twinsync design coverage --json` (read off the JS thread).
#[napi(ts_return_type = "Promise<Record<string, any>>")]
pub fn design_coverage(components: String, stories: String) -> AsyncTask<ProjectTask> {
    AsyncTask::new(ProjectTask(Some(ProjectOp::DesignCoverage(components, stories))))
}

/// Options of `designScaffold`.
#[napi(object)]
#[derive(Default)]
pub struct DesignScaffoldOptions {
    /// Pairwise covering set for components with three or more axes.
    pub pairwise: Option<bool>,
    /// Report what would be written; write nothing.
    pub dry_run: Option<bool>,
    /// Project root: relative paths and component sources are taken from it, and the last
    /// generation is kept under its `.twinsync/design/generated` (default: the current folder).
    pub root: Option<String>,
}

/// CSF3 story files for a components file into `outDir`, merging with hand edits, as
/// `twinsync design scaffold --json` (off the JS thread).
#[napi(ts_return_type = "Promise<DesignScaffoldAnswer>")]
pub fn design_scaffold(
    components: String,
    out_dir: String,
    options: Option<DesignScaffoldOptions>,
) -> AsyncTask<ProjectTask> {
    let o = options.unwrap_or_default();
    let opts = api::DesignScaffoldOptions {
        pairwise: o.pairwise.unwrap_or(false),
        dry_run: o.dry_run.unwrap_or(false),
        root: o.root,
    };
    AsyncTask::new(ProjectTask(Some(ProjectOp::DesignScaffold(components, out_dir, opts))))
}

/// The error codes, as `e.code` carries them.
#[napi(ts_return_type = "string[]")]
pub fn error_codes() -> Value {
    json!(["INVALID_INPUT", "NOT_FOUND", "CONFLICT", "LOCKED", "EXPIRED", "UNSAFE", "IO"])
}

#[cfg(test)]
mod tests {
    use super::utf16_to_utf8;

    /// The transcoder's output is what the canonicaliser is told is UTF-8 without a
    /// check: it must equal the standard library's lossy conversion for every unit,
    /// every pair and every lone surrogate, alone, inside an ASCII run of 16 units, and
    /// at each offset around the 16-unit chunks.
    #[test]
    fn transcoding_is_the_lossy_utf8_of_every_unit_and_pair() {
        let mut dst = Vec::new();
        let mut agree = |src: &[u16]| {
            let n = utf16_to_utf8(src, &mut dst);
            assert_eq!(&dst[..n], String::from_utf16_lossy(src).as_bytes(), "{src:04x?}");
        };
        for u in 0..=0xFFFFu16 {
            agree(&[u]);
            agree(&[u, b'a' as u16]);
        }
        for hi in (0xD800..0xDC00u16).step_by(0x3F) {
            for lo in 0xDBF0..=0xE010u16 {
                agree(&[hi, lo]);
                agree(&[lo, hi]);
            }
        }
        let odd = [0xE9, 0x6F22, 0xD83C, 0xDFA8, 0xDC00, 0xD800];
        for at in 0..40 {
            for len in [1, 2] {
                let mut src = vec![b'x' as u16; 48];
                src[at..at + len].copy_from_slice(&odd[2..2 + len]);
                agree(&src);
                for (i, &u) in odd.iter().enumerate() {
                    src[at] = u;
                    agree(&src[..=at + i % 2]);
                    agree(&src);
                }
            }
        }
    }
}
