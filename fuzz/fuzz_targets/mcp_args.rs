//! The MCP server's `tools/call` decoding: a tool name and its JSON arguments turned into
//! the tool's typed arguments, before any project is opened.
//!
//! Properties: a decoded call is for the tool named; arguments that are not an object
//! (or absent) are refused; an unknown tool is refused naming it; arguments are refused,
//! naming the tool, when they do not fit its schema, and in particular when they carry a
//! member the tool does not take.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use twinsync::mcp::decode_tool_call;
use twinsync_fuzz::selector;

const TOOLS: [&str; 15] = [
    "design.sync",
    "design.driftReport",
    "design.undo",
    "design.coverageReport",
    "design.browserTestSession.start",
    "design.browserTestSession.status",
    "design.browserTestSession.finish",
    "openspec.sync",
    "openspec.list",
    "openspec.show",
    "openspec.setStatus",
    "lock.acquire",
    "lock.release",
    "lock.status",
    "history.list",
];

fuzz_target!(|data: &[u8]| {
    let Some((sel, rest)) = selector(data) else { return };
    // Most inputs name a real tool; the rest spell a name of their own before a NUL.
    let (name, args) = match TOOLS.get(usize::from(sel)) {
        Some(t) => (t.to_string(), rest),
        None => {
            let at = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            (String::from_utf8_lossy(&rest[..at]).into_owned(), rest.get(at + 1..).unwrap_or_default())
        }
    };
    // An empty rest stands for a call without `arguments`.
    let args = if args.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(args) {
            Ok(v) => Some(v),
            Err(_) => return,
        }
    };
    let known = TOOLS.contains(&name.as_str());
    match decode_tool_call(&name, args.as_ref()) {
        Ok(call) => {
            assert_eq!(call.tool(), name, "decoded as another tool");
            let _ = format!("{call:?}");
            let mut members = match args {
                None | Some(Value::Null) => Map::new(),
                Some(Value::Object(m)) => m,
                Some(other) => panic!("{name} took arguments that are not an object: {other}"),
            };
            members.insert("fuzzExtraMember".into(), Value::Bool(true));
            let e = decode_tool_call(&name, Some(&Value::Object(members))).expect_err("an unknown member was accepted");
            assert!(e.contains(&name) && e.contains("fuzzExtraMember"), "unclear error: {e}");
        }
        Err(e) if !known => assert!(e.contains(&name), "the error does not name the tool: {e}"),
        Err(e) => assert!(e.starts_with(&format!("{name}: ")), "the error does not name the tool: {e}"),
    }
});
