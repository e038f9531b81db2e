//! The Claude Code `PreToolUse` hook JSON `twinsync guard` reads on stdin, and the
//! shell reader that finds the files a Bash command writes.
//!
//! Properties: a bad input is an error that says what was expected; a Bash call's writes
//! are exactly what the shell reader finds in its command, and never empty strings or
//! `/dev/` devices; a Write or Edit call writes its `file_path`, verbatim.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use twinsync::guard_hook::{bash_writes, parse_hook_input};

fn check_bash(cmd: &str) {
    let writes = bash_writes(cmd);
    assert!(writes.iter().all(|w| !w.is_empty()), "an empty write target from {cmd:?}");
    assert!(!writes.iter().any(|w| w.starts_with("/dev/")), "a device counted as a write in {cmd:?}: {writes:?}");
    let hook = json!({"tool_name": "Bash", "cwd": "/p", "tool_input": {"command": cmd}}).to_string();
    let call = parse_hook_input(&hook).expect("well-formed hook JSON");
    assert_eq!(call.writes, writes);
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match parse_hook_input(text) {
        Err(e) => assert!(e.to_string().contains("hook input"), "unclear error: {e}"),
        Ok(call) => {
            let v: Value = serde_json::from_str(text).expect("parsed as JSON");
            assert_eq!(Some(call.tool.as_str()), v["tool_name"].as_str());
            let input = &v["tool_input"];
            match call.tool.as_str() {
                "Bash" => {
                    if let Some(cmd) = input["command"].as_str() {
                        check_bash(cmd);
                    }
                }
                "Write" | "Edit" | "MultiEdit" => {
                    let want: Vec<String> = input["file_path"].as_str().map(str::to_string).into_iter().collect();
                    assert_eq!(call.writes, want);
                }
                "NotebookEdit" => assert!(call.writes.len() <= 1),
                _ => assert!(call.writes.is_empty(), "tool {:?} cannot write", call.tool),
            }
        }
    }
    // Most inputs are not hook JSON; read them as a command too, where the shell reader
    // gets the most out of them.
    check_bash(text);
});
