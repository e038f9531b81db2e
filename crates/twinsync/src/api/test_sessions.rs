//! Browser test sessions for the bindings, as `twinsync test-session ... --json` prints
//! them: the session record plus its `latency_ms` (`null` while running).

use serde_json::{json, Value};
use twinsync_core::test_session::{TestSession, TestSessionStatus};

use super::invalid;
use crate::error::Result;
use crate::project::Project;

fn session_json(s: &TestSession) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["latency_ms"] = json!(s.latency_ms());
    v
}

/// Starts a session of story `story_id`; `correlation_id` ties it to what started it
/// (default: the session id).
pub fn test_session_start(p: &mut Project, story_id: &str, correlation_id: Option<&str>) -> Result<Value> {
    Ok(session_json(&p.test_session_start(story_id, correlation_id)?))
}

/// Finishes running session `id` as `passed`, `failed` or `aborted`, with the runner's
/// `performance` summary (a JSON object); a failure emits `browser_test_failure`.
pub fn test_session_finish(p: &mut Project, id: &str, status: &str, performance: Option<&Value>) -> Result<Value> {
    let status: TestSessionStatus = status.parse().map_err(|e: String| invalid(format!("test session {id}: {e}")))?;
    Ok(session_json(&p.test_session_finish(id, status, performance.cloned())?))
}

/// One session.
pub fn test_session(p: &Project, id: &str) -> Result<Value> {
    Ok(session_json(&p.test_session(id)?))
}

/// Sessions, newest first (only `story`'s when given), at most `limit`: `{"sessions": [..]}`.
pub fn test_sessions(p: &Project, story: Option<&str>, limit: usize) -> Result<Value> {
    let list: Vec<Value> = p.test_sessions(story, limit)?.iter().map(session_json).collect();
    Ok(json!({ "sessions": list }))
}
