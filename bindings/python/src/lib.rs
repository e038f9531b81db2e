//! Python bindings of twinsync (pyo3): every function converts Python values to the
//! plain shapes of [`twinsync::api`], calls it with the GIL released, and maps its
//! errors to the `TwinsyncError` hierarchy. No logic lives here; `bindings/API.md` is
//! the contract.

mod canon;

use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::Value;
use twinsync::api;
use twinsync::core::canonical::{write_f64, write_json_string};

create_exception!(twinsync, TwinsyncError, PyException, "Base class of every twinsync error; `code` says which kind.");
create_exception!(twinsync, InvalidInput, TwinsyncError, "Malformed input: JSON, key, pattern, policy or option.");
create_exception!(twinsync, NotFoundError, TwinsyncError, "No such project, operation or item.");
create_exception!(twinsync, ConflictError, TwinsyncError, "Someone else changed it; nothing was overwritten.");
create_exception!(twinsync, LockedError, TwinsyncError, "A lock is held by someone else, or not by the caller.");
create_exception!(
    twinsync,
    ExpiredError,
    TwinsyncError,
    "An undo window has closed, or the operation was already undone."
);
create_exception!(twinsync, UnsafeError, TwinsyncError, "The sync was stopped to protect data (mass deletion).");
create_exception!(twinsync, TwinsyncIOError, TwinsyncError, "Storage or I/O failed.");

/// The exception of `code`, with `code` set on the instance.
fn error(py: Python<'_>, code: &str, message: String) -> PyErr {
    let err = match code {
        "INVALID_INPUT" => InvalidInput::new_err(message),
        "NOT_FOUND" => NotFoundError::new_err(message),
        "CONFLICT" => ConflictError::new_err(message),
        "LOCKED" => LockedError::new_err(message),
        "EXPIRED" => ExpiredError::new_err(message),
        "UNSAFE" => UnsafeError::new_err(message),
        "IO" => TwinsyncIOError::new_err(message),
        _ => TwinsyncError::new_err(message),
    };
    // Setting an attribute on a fresh exception instance cannot fail in practice; if it
    // did, the class still says which kind it is.
    let _ = err.value(py).setattr("code", code);
    err
}

fn to_py_err(py: Python<'_>, e: twinsync::Error) -> PyErr {
    error(py, api::error_code(&e), e.to_string())
}

fn invalid(py: Python<'_>, message: String) -> PyErr {
    error(py, "INVALID_INPUT", message)
}

/// Deepest nesting of Python values read, whatever `max_depth` says: both walks recurse,
/// and a Python thread's stack may be small.
const MAX_NESTING: usize = 1000;

/// Writes a Python value as JSON text; an error names the path of the value at fault.
fn write_json(v: &Bound<'_, PyAny>, out: &mut Vec<u8>, depth: usize) -> Result<(), (Vec<String>, String)> {
    if depth > MAX_NESTING {
        return Err((Vec::new(), format!("nesting deeper than {MAX_NESTING} levels")));
    }
    if let Ok(s) = v.cast::<PyString>() {
        let s = s.to_cow().map_err(|e| (Vec::new(), format!("string is not valid Unicode: {e}")))?;
        write_json_string(out, &s);
    } else if v.is_none() {
        out.extend_from_slice(b"null");
    } else if let Ok(b) = v.cast::<PyBool>() {
        out.extend_from_slice(if b.is_true() { b"true" } else { b"false" });
    } else if let Ok(i) = v.cast::<PyInt>() {
        match i.extract::<i64>() {
            Ok(n) => out.extend_from_slice(n.to_string().as_bytes()),
            // Beyond 64 bits: its digits, for the canonicaliser's big-integer policy to judge.
            Err(_) => out.extend_from_slice(
                i.str().map_err(|e| (Vec::new(), e.to_string()))?.to_cow().unwrap_or_default().as_bytes(),
            ),
        }
    } else if let Ok(f) = v.cast::<PyFloat>() {
        let x = f.value();
        if !x.is_finite() {
            return Err((Vec::new(), format!("{x} is not a JSON number")));
        }
        write_f64(out, x);
    } else if let Ok(d) = v.cast::<PyDict>() {
        out.push(b'{');
        for (n, (k, val)) in d.iter().enumerate() {
            let key = k.cast::<PyString>().map_err(|_| {
                let shown = k.repr().map(|r| r.to_string()).unwrap_or_default();
                (Vec::new(), format!("object keys must be strings, got {shown}"))
            })?;
            let key = key.to_cow().map_err(|e| (Vec::new(), format!("key is not valid Unicode: {e}")))?;
            if n > 0 {
                out.push(b',');
            }
            write_json_string(out, &key);
            out.push(b':');
            write_json(&val, out, depth + 1).map_err(|(mut p, m)| {
                p.push(key.replace('~', "~0").replace('/', "~1"));
                (p, m)
            })?;
        }
        out.push(b'}');
    } else if v.cast::<PyList>().is_ok() || v.cast::<PyTuple>().is_ok() {
        out.push(b'[');
        for (n, item) in v.try_iter().map_err(|e| (Vec::new(), e.to_string()))?.enumerate() {
            let item = item.map_err(|e| (Vec::new(), e.to_string()))?;
            if n > 0 {
                out.push(b',');
            }
            write_json(&item, out, depth + 1).map_err(|(mut p, m)| {
                p.push(n.to_string());
                (p, m)
            })?;
        }
        out.push(b']');
    } else {
        let ty = v.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
        return Err((Vec::new(), format!("a {ty} is not JSON (use dict, list, tuple, str, int, float, bool or None)")));
    }
    Ok(())
}

/// JSON text of a Python value.
fn json_text(py: Python<'_>, what: &str, v: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    write_json(v, &mut out, 0).map_err(|(path, msg)| {
        let pointer: String = path.iter().rev().map(|s| format!("/{s}")).collect();
        invalid(py, format!("{what} at {}: {msg}", if pointer.is_empty() { "/" } else { &pointer }))
    })?;
    Ok(out)
}

/// A Python value as a JSON value.
fn to_value(py: Python<'_>, what: &str, v: &Bound<'_, PyAny>) -> PyResult<Value> {
    let text = json_text(py, what, v)?;
    serde_json::from_slice(&text).map_err(|e| invalid(py, format!("{what}: {e}")))
}

/// A JSON value as Python objects: dict, list, str, int, float, bool, None.
fn from_value<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(u)) => u.into_pyobject(py)?.into_any(),
            _ => n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any(),
        },
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(a) => {
            let list = PyList::empty(py);
            for item in a {
                list.append(from_value(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(o) => {
            let dict = PyDict::new(py);
            for (k, item) in o {
                dict.set_item(k, from_value(py, item)?)?;
            }
            dict.into_any()
        }
    })
}

/// Text or bytes as bytes.
fn text_bytes(py: Python<'_>, what: &str, v: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if let Ok(s) = v.cast::<PyString>() {
        return Ok(s.to_cow().map_err(|e| invalid(py, format!("{what}: {e}")))?.as_bytes().to_vec());
    }
    if let Ok(b) = v.cast::<PyBytes>() {
        return Ok(b.as_bytes().to_vec());
    }
    Err(invalid(py, format!("{what}: expected str or bytes, got {}", v.get_type().name()?)))
}

fn hash_options(
    ignore: Option<Vec<String>>,
    big_integers: Option<String>,
    max_depth: Option<usize>,
    trim_trailing_whitespace: bool,
) -> api::HashOptions {
    api::HashOptions { ignore: ignore.unwrap_or_default(), big_integers, max_depth, trim_trailing_whitespace }
}

/// The canonical form of `value` written by the direct walk (see `canon`), or `None`
/// when the general path must decide: ignore rules and big-integer policies other than
/// the default are applied there (an unknown policy name is an error there), as are
/// all errors.
fn fast_walk(value: &Bound<'_, PyAny>, opts: &api::HashOptions, sink: fn() -> canon::Sink) -> Option<canon::Sink> {
    if !opts.ignore.is_empty() || !matches!(opts.big_integers.as_deref(), None | Some("error")) {
        return None;
    }
    let mut sink = sink();
    let max_depth = opts.max_depth.unwrap_or_else(|| twinsync::core::canonical::CanonicalOptions::default().max_depth);
    // Beyond MAX_NESTING the general path reports the error.
    canon::Walk::new(max_depth.min(MAX_NESTING)).value(value, &mut sink, 0).ok().map(|()| sink)
}

/// RFC 8785 canonical JSON text of a Python value.
#[pyfunction]
#[pyo3(signature = (value, *, ignore=None, big_integers=None, max_depth=None))]
fn canonicalize(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    ignore: Option<Vec<String>>,
    big_integers: Option<String>,
    max_depth: Option<usize>,
) -> PyResult<String> {
    let opts = hash_options(ignore, big_integers, max_depth, false);
    if let Some(mut sink) = fast_walk(value, &opts, canon::Sink::text) {
        // The walk writes only JSON text it built from `str`s and ASCII.
        return Ok(String::from_utf8(std::mem::take(&mut sink.out)).expect("canonical JSON is UTF-8"));
    }
    let json = json_text(py, "value", value)?;
    py.detach(|| api::canonicalize_json(&json, &opts)).map_err(|e| to_py_err(py, e))
}

/// RFC 8785 canonical JSON text of a JSON document given as str or bytes.
#[pyfunction]
#[pyo3(signature = (text, *, ignore=None, big_integers=None, max_depth=None))]
fn canonicalize_json(
    py: Python<'_>,
    text: &Bound<'_, PyAny>,
    ignore: Option<Vec<String>>,
    big_integers: Option<String>,
    max_depth: Option<usize>,
) -> PyResult<String> {
    let json = text_bytes(py, "text", text)?;
    let opts = hash_options(ignore, big_integers, max_depth, false);
    py.detach(|| api::canonicalize_json(&json, &opts)).map_err(|e| to_py_err(py, e))
}

/// `sha256:<hex>` of the canonical JSON of a Python value, as `twinsync hash` prints it.
#[pyfunction]
#[pyo3(signature = (value, *, ignore=None, big_integers=None, max_depth=None))]
fn canonical_hash(
    py: Python<'_>,
    value: &Bound<'_, PyAny>,
    ignore: Option<Vec<String>>,
    big_integers: Option<String>,
    max_depth: Option<usize>,
) -> PyResult<String> {
    let opts = hash_options(ignore, big_integers, max_depth, false);
    if let Some(sink) = fast_walk(value, &opts, canon::Sink::hash) {
        return Ok(sink.digest());
    }
    let json = json_text(py, "value", value)?;
    // Small documents hash in well under a microsecond: releasing the GIL would cost more.
    let run = || api::canonical_hash_json(&json, &opts);
    let out = if json.len() < 64 * 1024 { run() } else { py.detach(run) };
    out.map_err(|e| to_py_err(py, e))
}

/// `sha256:<hex>` of the canonical form of a JSON document given as str or bytes.
#[pyfunction]
#[pyo3(signature = (text, *, ignore=None, big_integers=None, max_depth=None))]
fn canonical_hash_json(
    py: Python<'_>,
    text: &Bound<'_, PyAny>,
    ignore: Option<Vec<String>>,
    big_integers: Option<String>,
    max_depth: Option<usize>,
) -> PyResult<String> {
    let json = text_bytes(py, "text", text)?;
    let opts = hash_options(ignore, big_integers, max_depth, false);
    py.detach(|| api::canonical_hash_json(&json, &opts)).map_err(|e| to_py_err(py, e))
}

/// `sha256:<hex>` of normalised text (no BOM, LF line ends).
#[pyfunction]
#[pyo3(signature = (text, *, trim_trailing_whitespace=false))]
fn hash_text(py: Python<'_>, text: &str, trim_trailing_whitespace: bool) -> String {
    let opts = hash_options(None, None, None, trim_trailing_whitespace);
    py.detach(|| api::hash_text(text, &opts))
}

/// `sha256:<hex>` of bytes as they are.
#[pyfunction]
fn hash_bytes(py: Python<'_>, data: &[u8]) -> String {
    py.detach(|| api::hash_bytes(data))
}

/// The tree digest of `{key: digest | text | JSON}`.
#[pyfunction]
#[pyo3(signature = (entries, *, ignore=None, big_integers=None, trim_trailing_whitespace=false))]
fn tree_digest(
    py: Python<'_>,
    entries: &Bound<'_, PyAny>,
    ignore: Option<Vec<String>>,
    big_integers: Option<String>,
    trim_trailing_whitespace: bool,
) -> PyResult<String> {
    let entries = to_value(py, "entries", entries)?;
    let opts = hash_options(ignore, big_integers, None, trim_trailing_whitespace);
    py.detach(|| api::tree_digest(&entries, &opts)).map_err(|e| to_py_err(py, e))
}

/// Three-way drift of `{key: digest | text | JSON}` maps, as `twinsync status --json`.
#[pyfunction]
#[pyo3(signature = (base, left, right, *, ignore=None, big_integers=None, trim_trailing_whitespace=false))]
fn detect_drift<'py>(
    py: Python<'py>,
    base: &Bound<'py, PyAny>,
    left: &Bound<'py, PyAny>,
    right: &Bound<'py, PyAny>,
    ignore: Option<Vec<String>>,
    big_integers: Option<String>,
    trim_trailing_whitespace: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let (b, l, r) = (to_value(py, "base", base)?, to_value(py, "left", left)?, to_value(py, "right", right)?);
    let opts = hash_options(ignore, big_integers, None, trim_trailing_whitespace);
    let out = py.detach(|| api::detect_drift(&b, &l, &r, &opts)).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// The plan a sync of three `{key: digest | text | JSON}` maps would run.
#[pyfunction]
#[pyo3(signature = (base, left, right, *, policy=None, direction=None, now_ms=None, ignore=None, big_integers=None, trim_trailing_whitespace=false))]
#[allow(clippy::too_many_arguments)]
fn plan<'py>(
    py: Python<'py>,
    base: &Bound<'py, PyAny>,
    left: &Bound<'py, PyAny>,
    right: &Bound<'py, PyAny>,
    policy: Option<String>,
    direction: Option<String>,
    now_ms: Option<i64>,
    ignore: Option<Vec<String>>,
    big_integers: Option<String>,
    trim_trailing_whitespace: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let (b, l, r) = (to_value(py, "base", base)?, to_value(py, "left", left)?, to_value(py, "right", right)?);
    let opts = api::PlanOptions {
        policy,
        direction,
        now_ms,
        hash: hash_options(ignore, big_integers, None, trim_trailing_whitespace),
    };
    let out = py.detach(|| api::plan(&b, &l, &r, &opts)).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// diff3 merge of three texts: `{"text", "conflicts"}`, markers as `git merge-file` writes them.
#[pyfunction]
#[pyo3(signature = (base, left, right, *, labels=None, style=None, favor=None, marker_size=None))]
#[allow(clippy::too_many_arguments)]
fn merge_text<'py>(
    py: Python<'py>,
    base: &str,
    left: &str,
    right: &str,
    labels: Option<Vec<String>>,
    style: Option<String>,
    favor: Option<String>,
    marker_size: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let labels = match labels {
        None => None,
        Some(l) => Some(
            <[String; 3]>::try_from(l)
                .map_err(|l| invalid(py, format!("labels: expected 3 labels [left, base, right], got {}", l.len())))?,
        ),
    };
    let opts = api::MergeTextOptions { labels, style, favor, marker_size };
    let out = py.detach(|| api::merge_text(base, left, right, &opts)).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// Structural merge of three JSON values: `{"value", "conflicts": [{pointer, base, left, right}]}`.
#[pyfunction]
#[pyo3(signature = (base, left, right, *, array_id_field=None))]
fn merge_json<'py>(
    py: Python<'py>,
    base: &Bound<'py, PyAny>,
    left: &Bound<'py, PyAny>,
    right: &Bound<'py, PyAny>,
    array_id_field: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let (b, l, r) = (to_value(py, "base", base)?, to_value(py, "left", left)?, to_value(py, "right", right)?);
    let out = py.detach(|| api::merge_json(&b, &l, &r, array_id_field.as_deref())).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// Coverage of `{components, stories, tests}`, as `twinsync design coverage --json`.
#[pyfunction]
#[pyo3(signature = (input, *, missing_limit=None, required_kinds=None))]
fn coverage<'py>(
    py: Python<'py>,
    input: &Bound<'py, PyAny>,
    missing_limit: Option<usize>,
    required_kinds: Option<Vec<String>>,
) -> PyResult<Bound<'py, PyAny>> {
    let input = to_value(py, "coverage input", input)?;
    let mut opts = serde_json::Map::new();
    if let Some(n) = missing_limit {
        opts.insert("missing_limit".into(), n.into());
    }
    if let Some(k) = required_kinds {
        opts.insert("required_kinds".into(), k.into());
    }
    let opts = Value::Object(opts);
    let out = py.detach(|| api::coverage(&input, &opts)).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

type Shared = Arc<Mutex<twinsync::Project>>;

fn locked(p: &Shared) -> twinsync::Result<MutexGuard<'_, twinsync::Project>> {
    p.lock().map_err(|_| {
        twinsync::Error::Core(twinsync::core::Error::InvalidInput(
            "the project handle is unusable: an earlier call panicked while holding it".into(),
        ))
    })
}

/// Runs `f` on the project with the GIL released; the project mutex is taken inside, so a
/// thread waiting for it never holds the GIL the holder needs.
fn with_project<'py>(
    py: Python<'py>,
    p: &Shared,
    f: impl FnOnce(&mut twinsync::Project) -> twinsync::Result<Value> + Send,
) -> PyResult<Bound<'py, PyAny>> {
    let out = py.detach(|| locked(p).and_then(|mut g| f(&mut g))).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// An open project: its replicas, store and locks.
#[pyclass(module = "twinsync", frozen)]
struct Project {
    inner: Shared,
}

#[pymethods]
impl Project {
    /// The project folder (the one holding `.twinsync/`).
    #[getter]
    fn dir(&self, py: Python<'_>) -> PyResult<String> {
        Ok(locked(&self.inner).map_err(|e| to_py_err(py, e))?.dir().to_string_lossy().into_owned())
    }

    /// Who acts in history, audit and locks.
    #[getter]
    fn actor(&self, py: Python<'_>) -> PyResult<String> {
        Ok(locked(&self.inner).map_err(|e| to_py_err(py, e))?.actor().to_string())
    }

    /// The project's pairs: `{"pairs": [{name, kind, left, right, policy, direction, ...}]}`.
    fn pairs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, |p| Ok(api::pairs(p)))
    }

    /// The drift of every item of `pair` (default: the only pair, else `default`), as
    /// `twinsync status --json`.
    #[pyo3(signature = (*, pair=None))]
    fn status<'py>(&self, py: Python<'py>, pair: Option<String>) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::status_in(p, pair.as_deref()))
    }

    /// Syncs `pair` (or previews it with `dry_run`): the operation report, or `{plan, diffs}`.
    #[pyo3(signature = (*, pair=None, dry_run=false, policy=None, direction=None, allow_mass_delete=false, formatting=false))]
    #[allow(clippy::too_many_arguments)] // Python's keyword arguments, one each
    fn sync<'py>(
        &self,
        py: Python<'py>,
        pair: Option<String>,
        dry_run: bool,
        policy: Option<String>,
        direction: Option<String>,
        allow_mass_delete: bool,
        formatting: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = api::SyncOptions { dry_run, policy, direction, allow_mass_delete, formatting };
        with_project(py, &self.inner, move |p| api::sync_in(p, pair.as_deref(), &opts))
    }

    /// Undoes an operation (by default the newest undoable one, of `pair` when given).
    #[pyo3(signature = (operation_id=None, *, pair=None))]
    fn undo<'py>(
        &self,
        py: Python<'py>,
        operation_id: Option<String>,
        pair: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::undo_in(p, pair.as_deref(), operation_id.as_deref()))
    }

    /// Recent operations (of `pair` when given), newest first: `{"operations": [summary]}`.
    #[pyo3(signature = (limit=20, *, pair=None))]
    fn history<'py>(&self, py: Python<'py>, limit: usize, pair: Option<String>) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::history_in(p, pair.as_deref(), limit))
    }

    /// Operations (of `pair` when given) that can still be undone, the next `undo()`
    /// first: `{"operations": [summary]}`.
    #[pyo3(signature = (limit=50, *, pair=None))]
    fn undo_stack<'py>(&self, py: Python<'py>, limit: usize, pair: Option<String>) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::undo_stack_in(p, pair.as_deref(), limit))
    }

    /// Events with an id above `since`, oldest first, at most `limit`: a list of the
    /// lines of `twinsync events --json`.
    #[pyo3(signature = (since=0, limit=1000))]
    fn events<'py>(&self, py: Python<'py>, since: u64, limit: usize) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::events(p, since, limit))
    }

    /// Watches `pairs` (default: every pair) on a thread of its own: an iterator (and an
    /// async iterator) of the notes `twinsync watch --json` prints. `stop()` (or leaving a
    /// `with` / `async with` block) ends it.
    #[pyo3(signature = (*, pairs=None, debounce_ms=None, period_ms=None))]
    fn watch(
        &self,
        py: Python<'_>,
        pairs: Option<Vec<String>>,
        debounce_ms: Option<u64>,
        period_ms: Option<u64>,
    ) -> PyResult<Watch> {
        let opts = api::WatchOptions { pairs: pairs.unwrap_or_default(), debounce_ms, period_ms };
        let (tx, rx) = std::sync::mpsc::channel::<Value>();
        let waker = Arc::new(Mutex::new(None));
        let wakes = Arc::clone(&waker);
        let handle = py
            .detach(|| {
                locked(&self.inner).and_then(|p| {
                    api::watch(
                        &p,
                        &opts,
                        Box::new(move |n| {
                            // A dropped iterator just drops the note.
                            let _ = tx.send(api::watch_note_json(n));
                            wake(&wakes);
                        }),
                    )
                })
            })
            .map_err(|e| to_py_err(py, e))?;
        Ok(Watch { handle: Mutex::new(Some(handle)), notes: Mutex::new(rx), waker })
    }

    /// Component drift of design pair `pair` (default: the project's design pair), as
    /// `twinsync design drift --json`.
    #[pyo3(signature = (*, pair=None))]
    fn design_drift<'py>(&self, py: Python<'py>, pair: Option<String>) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::design_drift(p, pair.as_deref()))
    }

    /// Syncs a design pair through the engine (undoable), as `twinsync design sync --json`:
    /// the operation report, or with `dry_run` `{plan, diffs}`. `components` maps a
    /// component name to its own direction.
    #[pyo3(signature = (*, pair=None, direction=None, components=None, policy=None, dry_run=false))]
    fn design_sync<'py>(
        &self,
        py: Python<'py>,
        pair: Option<String>,
        direction: Option<String>,
        components: Option<std::collections::BTreeMap<String, String>>,
        policy: Option<String>,
        dry_run: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts =
            api::DesignSyncOptions { pair, direction, components: components.unwrap_or_default(), policy, dry_run };
        with_project(py, &self.inner, move |p| api::design_sync(p, &opts))
    }

    /// Every credential, metadata only: `{"credentials": [...]}`. No secret comes back.
    fn credentials<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, api::credentials)
    }

    /// One credential's metadata.
    fn credential<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::credential(p, &name))
    }

    /// Adds credential `name` holding `secret` (sealed; `pending` until validated): its metadata.
    #[pyo3(signature = (name, secret, *, provider, rotate_every_ms=None, metadata=None))]
    fn credential_add<'py>(
        &self,
        py: Python<'py>,
        name: String,
        secret: String,
        provider: String,
        rotate_every_ms: Option<i64>,
        metadata: Option<std::collections::BTreeMap<String, String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let opts = api::CredentialOptions {
            provider: Some(provider),
            rotate_every_ms,
            metadata: metadata.unwrap_or_default(),
        };
        with_project(py, &self.inner, move |p| api::credential_add(p, &name, &secret, &opts))
    }

    /// Replaces credential `name`'s value: its metadata.
    #[pyo3(signature = (name, secret, *, rotate_every_ms=None))]
    fn credential_rotate<'py>(
        &self,
        py: Python<'py>,
        name: String,
        secret: String,
        rotate_every_ms: Option<i64>,
    ) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::credential_rotate(p, &name, &secret, rotate_every_ms))
    }

    /// Revokes credential `name` for good: its metadata.
    fn credential_revoke<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::credential_revoke(p, &name))
    }

    /// Checks credential `name` opens and is in date (pending becomes valid): its metadata.
    fn credential_validate<'py>(&self, py: Python<'py>, name: String) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::credential_validate(p, &name))
    }

    /// Starts a browser test session of story `story_id`.
    #[pyo3(signature = (story_id, *, correlation_id=None))]
    fn test_session_start<'py>(
        &self,
        py: Python<'py>,
        story_id: String,
        correlation_id: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::test_session_start(p, &story_id, correlation_id.as_deref()))
    }

    /// Finishes session `id` as `passed`, `failed` or `aborted`, with a `performance` dict.
    #[pyo3(signature = (id, status, *, performance=None))]
    fn test_session_finish<'py>(
        &self,
        py: Python<'py>,
        id: String,
        status: String,
        performance: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let perf = performance.map(|v| to_value(py, "performance", &v)).transpose()?;
        with_project(py, &self.inner, move |p| api::test_session_finish(p, &id, &status, perf.as_ref()))
    }

    /// One test session.
    fn test_session<'py>(&self, py: Python<'py>, id: String) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::test_session(p, &id))
    }

    /// Test sessions, newest first (only `story`'s when given), at most `limit`: `{"sessions": [...]}`.
    #[pyo3(signature = (*, story=None, limit=50))]
    fn test_sessions<'py>(&self, py: Python<'py>, story: Option<String>, limit: usize) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::test_sessions(p, story.as_deref(), limit))
    }

    /// The project lock: `acquire`, `renew`, `release`, `status`.
    #[getter]
    fn lock(&self) -> ProjectLock {
        ProjectLock { inner: self.inner.clone() }
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        Ok(format!("<twinsync.Project {:?}>", self.dir(py)?))
    }
}

/// The project lock of one project handle.
#[pyclass(module = "twinsync", frozen)]
struct ProjectLock {
    inner: Shared,
}

#[pymethods]
impl ProjectLock {
    /// Takes the lock for the project's actor: `{"acquired", "lock"}` (the token appears only here).
    #[pyo3(signature = (*, ttl_ms=None, reason=None))]
    fn acquire<'py>(
        &self,
        py: Python<'py>,
        ttl_ms: Option<i64>,
        reason: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::lock_acquire(p, ttl_ms, reason.as_deref()))
    }

    /// Extends the lock; `caller` is the owner name or the token: `{"renewed", "lock"}`.
    #[pyo3(signature = (caller, *, ttl_ms=None))]
    fn renew<'py>(&self, py: Python<'py>, caller: String, ttl_ms: Option<i64>) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::lock_renew(p, &caller, ttl_ms))
    }

    /// Releases the lock (or, with `force`, whoever holds it): `{"released", "forced", "lock"}`.
    #[pyo3(signature = (caller, *, force=false, reason=None))]
    fn release<'py>(
        &self,
        py: Python<'py>,
        caller: String,
        force: bool,
        reason: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, move |p| api::lock_release(p, &caller, force, reason.as_deref()))
    }

    /// Whether the lock is held, and by whom: `{"held", "lock"}`.
    fn status<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        with_project(py, &self.inner, api::lock_status)
    }
}

/// A running watch: iterate it for its notes (dicts as `twinsync watch --json` prints
/// them); `stop()` ends it and returns what it did. A `with` block stops it on leaving.
#[pyclass(module = "twinsync", frozen)]
struct Watch {
    handle: Mutex<Option<twinsync::WatchHandle>>,
    notes: Mutex<std::sync::mpsc::Receiver<Value>>,
    /// What an `async for` waiting for a note left to be called when one arrives (or
    /// the watch stops): it wakes that event loop, so no thread sits blocked on the
    /// channel and a cancelled wait loses no note (the note stays in the channel).
    waker: Arc<Mutex<Option<Py<PyAny>>>>,
}

/// Calls (once) the waker an async iterator left, from whichever thread has news.
fn wake(waker: &Mutex<Option<Py<PyAny>>>) {
    let taken = waker.lock().unwrap_or_else(|e| e.into_inner()).take();
    if let Some(f) = taken {
        Python::attach(|py| {
            if let Err(e) = f.call0(py) {
                e.write_unraisable(py, None);
            }
        });
    }
}

/// The asyncio side of a watch (`twinsync/_aio.py`): coroutines are easier written in
/// Python, and the native class cannot take Python methods.
fn aio<'py>(py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("twinsync._aio")?.getattr(name)
}

/// How often a waiting iterator wakes to let Python handle a signal (Ctrl-C).
const SIGNAL_CHECK: std::time::Duration = std::time::Duration::from_millis(100);

#[pymethods]
impl Watch {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next note; `StopIteration` once the watch has stopped.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        use std::sync::mpsc::RecvTimeoutError;
        loop {
            let got = py.detach(|| {
                let rx = self.notes.lock().unwrap_or_else(|e| e.into_inner());
                rx.recv_timeout(SIGNAL_CHECK)
            });
            match got {
                Ok(note) => return from_value(py, &note).map(Some),
                // The sender lives in the watch thread's callback: gone means stopped.
                Err(RecvTimeoutError::Disconnected) => return Ok(None),
                Err(RecvTimeoutError::Timeout) => py.check_signals()?,
            }
        }
    }

    /// Stops the watch after the sync in flight: `{"syncs", "applied", "conflicts", "failed"}`.
    fn stop<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let handle = self.handle.lock().unwrap_or_else(|e| e.into_inner()).take();
        let out = py
            .detach(|| match handle {
                Some(h) => h.stop().map(|s| api::watch_summary_json(&s)),
                None => Ok(api::watch_summary_json(&Default::default())),
            })
            .map_err(|e| to_py_err(py, e))?;
        // An `async for` waiting on this watch learns that it ended.
        wake(&self.waker);
        from_value(py, &out)
    }

    fn __enter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<bool> {
        self.stop(py)?;
        Ok(false)
    }

    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next note, awaited without blocking the event loop; `StopAsyncIteration`
    /// once the watch has stopped.
    fn __anext__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        aio(slf.py(), "next_note")?.call1((slf,))
    }

    fn __aenter__<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        aio(slf.py(), "aenter")?.call1((slf,))
    }

    /// Stops the watch (in a thread: `stop` waits for the sync in flight).
    #[pyo3(signature = (*_exc))]
    fn __aexit__<'py>(slf: &Bound<'py, Self>, _exc: &Bound<'py, PyTuple>) -> PyResult<Bound<'py, PyAny>> {
        aio(slf.py(), "aexit")?.call1((slf,))
    }

    /// A note if one is waiting, else `None`; `StopAsyncIteration` once stopped.
    fn _try_next<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        use std::sync::mpsc::TryRecvError;
        let got = self.notes.lock().unwrap_or_else(|e| e.into_inner()).try_recv();
        match got {
            Ok(note) => from_value(py, &note).map(Some),
            Err(TryRecvError::Empty) => Ok(None),
            Err(TryRecvError::Disconnected) => Err(pyo3::exceptions::PyStopAsyncIteration::new_err(())),
        }
    }

    /// Leaves `waker` (or clears it, with `None`) to be called once when a note arrives
    /// or the watch stops.
    fn _set_waker(&self, waker: Option<Py<PyAny>>) {
        *self.waker.lock().unwrap_or_else(|e| e.into_inner()) = waker;
    }
}

fn project(p: twinsync::Project) -> Project {
    Project { inner: Arc::new(Mutex::new(p)) }
}

/// Opens the project containing `dir` (it or its nearest parent with `.twinsync/`).
#[pyfunction]
#[pyo3(signature = (dir, *, actor=None))]
fn open(py: Python<'_>, dir: String, actor: Option<String>) -> PyResult<Project> {
    py.detach(|| api::open(&dir, actor.as_deref())).map(project).map_err(|e| to_py_err(py, e))
}

/// Makes `dir` a project syncing `left` and `right` (folders relative to `dir`, or `db`), as `twinsync init`.
#[pyfunction]
#[pyo3(signature = (dir, left, right, *, actor=None))]
fn init(py: Python<'_>, dir: String, left: String, right: String, actor: Option<String>) -> PyResult<Project> {
    py.detach(|| api::init(&dir, &left, &right, actor.as_deref())).map(project).map_err(|e| to_py_err(py, e))
}

/// OpenSpec `list --json` (or, with `specs`, `list --specs --json`) of the `openspec/` folder found from `dir` upwards.
#[pyfunction]
#[pyo3(signature = (dir, *, specs=false))]
fn openspec_list<'py>(py: Python<'py>, dir: String, specs: bool) -> PyResult<Bound<'py, PyAny>> {
    let out = py.detach(|| api::openspec_list(&dir, specs)).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// OpenSpec `show <id> --json`: a change with its deltas, or a spec with its requirements.
#[pyfunction]
#[pyo3(signature = (dir, id, *, kind=None))]
fn openspec_show<'py>(py: Python<'py>, dir: String, id: String, kind: Option<String>) -> PyResult<Bound<'py, PyAny>> {
    let out = py.detach(|| api::openspec_show(&dir, &id, kind.as_deref())).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// OpenSpec `validate --all --json`, plus `valid`: whether every change and spec passed.
#[pyfunction]
#[pyo3(signature = (dir, *, strict=false))]
fn openspec_validate<'py>(py: Python<'py>, dir: String, strict: bool) -> PyResult<Bound<'py, PyAny>> {
    let out = py.detach(|| api::openspec_validate(&dir, strict)).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// OpenSpec `sync --json`: syncs the `openspec/` folder found from `dir` upwards with
/// `.twinsync/openspec.db`; with `dry_run`, the rows that would change.
#[pyfunction]
#[pyo3(signature = (dir, *, change=None, dry_run=false, policy=None))]
fn openspec_sync<'py>(
    py: Python<'py>,
    dir: String,
    change: Option<String>,
    dry_run: bool,
    policy: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = api::OpenspecSyncOptions { change, dry_run, policy };
    let out = py.detach(|| api::openspec_sync(&dir, &opts)).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// OpenSpec `status ID STATUS`: sets the lifecycle status of a change (or spec, with
/// `kind="spec"`) in the database of the `openspec/` folder found from `dir` upwards;
/// returns the row without its documents.
#[pyfunction]
#[pyo3(signature = (dir, id, status, *, kind=None))]
fn openspec_set_status<'py>(
    py: Python<'py>,
    dir: String,
    id: String,
    status: String,
    kind: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let out =
        py.detach(|| api::openspec_set_status(&dir, &id, &status, kind.as_deref())).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// Story coverage of a components file by a Storybook `index.json`, as `twinsync design coverage --json`.
#[pyfunction]
fn design_coverage<'py>(py: Python<'py>, components: String, stories: String) -> PyResult<Bound<'py, PyAny>> {
    let out = py.detach(|| api::design_coverage(&components, &stories)).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// CSF3 story files for a components file into `out_dir`, merging with hand edits, as
/// `twinsync design scaffold --json`.
#[pyfunction]
#[pyo3(signature = (components, out_dir, *, pairwise=false, dry_run=false, root=None))]
fn design_scaffold<'py>(
    py: Python<'py>,
    components: String,
    out_dir: String,
    pairwise: bool,
    dry_run: bool,
    root: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = api::DesignScaffoldOptions { pairwise, dry_run, root };
    let out = py.detach(|| api::design_scaffold(&components, &out_dir, &opts)).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// The work queue in the OpenSpec database of the folder found from `dir` upwards, as
/// `twinsync openspec query --json`: `{"items": [row], "count"}`.
#[pyfunction]
#[pyo3(signature = (dir, *, status=None, search=None, sort=None, kind=None, deleted=false, limit=None))]
#[allow(clippy::too_many_arguments)]
fn openspec_query<'py>(
    py: Python<'py>,
    dir: String,
    status: Option<String>,
    search: Option<String>,
    sort: Option<String>,
    kind: Option<String>,
    deleted: bool,
    limit: Option<usize>,
) -> PyResult<Bound<'py, PyAny>> {
    let opts = api::OpenspecQueryOptions { status, search, sort, kind, deleted, limit };
    let out = py.detach(|| api::openspec_query(&dir, &opts)).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// Sets document `doc` of change `id` (or spec, with `kind="spec"`) in the database to
/// `text` (`None` removes it) and syncs that row to disk at once: the sync report of
/// `twinsync openspec edit --json`.
#[pyfunction]
#[pyo3(signature = (dir, id, doc, text, *, kind=None, policy=None))]
fn openspec_edit<'py>(
    py: Python<'py>,
    dir: String,
    id: String,
    doc: String,
    text: Option<String>,
    kind: Option<String>,
    policy: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let out = py
        .detach(|| api::openspec_edit(&dir, &id, &doc, text.as_deref(), kind.as_deref(), policy.as_deref()))
        .map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// The syncs of the folder's `openspec` pair, newest first: `{"operations": [summary]}`.
#[pyfunction]
#[pyo3(signature = (dir, *, limit=20))]
fn openspec_history<'py>(py: Python<'py>, dir: String, limit: usize) -> PyResult<Bound<'py, PyAny>> {
    let out = py.detach(|| api::openspec_history(&dir, limit)).map_err(|e| to_py_err(py, e))?;
    from_value(py, &out)
}

/// The native module; `twinsync/__init__.py` re-exports it.
#[pymodule]
mod _twinsync {
    use super::*;

    #[pymodule_export]
    use super::{
        canonical_hash, canonical_hash_json, canonicalize, canonicalize_json, coverage, design_coverage,
        design_scaffold, detect_drift, hash_bytes, hash_text, init, merge_json, merge_text, open, openspec_edit,
        openspec_history, openspec_list, openspec_query, openspec_set_status, openspec_show, openspec_sync,
        openspec_validate, plan, tree_digest, Project, ProjectLock, Watch,
    };

    #[pymodule_init]
    fn init_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
        let py = m.py();
        for (name, ty, code) in [
            ("TwinsyncError", py.get_type::<TwinsyncError>(), None),
            ("InvalidInput", py.get_type::<InvalidInput>(), Some("INVALID_INPUT")),
            ("NotFoundError", py.get_type::<NotFoundError>(), Some("NOT_FOUND")),
            ("ConflictError", py.get_type::<ConflictError>(), Some("CONFLICT")),
            ("LockedError", py.get_type::<LockedError>(), Some("LOCKED")),
            ("ExpiredError", py.get_type::<ExpiredError>(), Some("EXPIRED")),
            ("UnsafeError", py.get_type::<UnsafeError>(), Some("UNSAFE")),
            ("TwinsyncIOError", py.get_type::<TwinsyncIOError>(), Some("IO")),
        ] {
            if let Some(code) = code {
                ty.setattr("code", code)?;
            }
            m.add(name, ty)?;
        }
        Ok(())
    }
}
