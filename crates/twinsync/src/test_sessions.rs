//! Browser test sessions of the project: started and finished by whoever drives the
//! browser (a CLI call, an agent through MCP), kept in the store, and a failure reported
//! as a `browser_test_failure` event in the same transaction as the session's end.

use serde_json::{json, Value};
use twinsync_core::event::{Event, EventType};
use twinsync_core::test_session::{TestSession, TestSessionStatus};

use crate::error::{Error, Result};
use crate::project::Project;

/// Largest performance summary kept, in bytes of JSON: a summary, not a trace.
pub const MAX_PERFORMANCE_BYTES: usize = 64 * 1024;

fn invalid(message: String) -> Error {
    Error::Core(twinsync_core::Error::InvalidInput(message))
}

fn new_id() -> Result<String> {
    let mut bytes = [0u8; 8];
    getrandom::getrandom(&mut bytes).map_err(|e| invalid(format!("no random bytes for a session id: {e}")))?;
    Ok(format!("bts_{}", bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()))
}

impl Project {
    /// Starts a session of story `story_id` (status running); `correlation_id` ties it to
    /// what started it (the session's own id when `None`).
    pub fn test_session_start(&mut self, story_id: &str, correlation_id: Option<&str>) -> Result<TestSession> {
        let story = story_id.trim();
        if story.is_empty() || story.len() > 500 || story.chars().any(char::is_control) {
            return Err(invalid(format!("story id {story_id:?}: expected 1 to 500 printable characters")));
        }
        let id = new_id()?;
        let session = TestSession {
            correlation_id: correlation_id.map(str::to_string).unwrap_or_else(|| id.clone()),
            id,
            story_id: story.to_string(),
            status: TestSessionStatus::Running,
            started_at: self.now(),
            ended_at: None,
            performance: None,
            actor: self.actor().to_string(),
        };
        self.store().put_test_session(&session, &[])?;
        Ok(session)
    }

    /// Finishes running session `id` as `status` (passed, failed or aborted) with the
    /// runner's `performance` summary; a failure emits `browser_test_failure`. A session
    /// finishes once: finishing it again is an error naming how it ended.
    pub fn test_session_finish(
        &mut self,
        id: &str,
        status: TestSessionStatus,
        performance: Option<Value>,
    ) -> Result<TestSession> {
        if !status.is_final() {
            return Err(invalid(format!("test session {id}: finish it as passed, failed or aborted, not {status}")));
        }
        if let Some(p) = &performance {
            let size = p.to_string().len();
            if size > MAX_PERFORMANCE_BYTES {
                return Err(invalid(format!(
                    "test session {id}: performance summary is {size} bytes; at most {MAX_PERFORMANCE_BYTES}"
                )));
            }
        }
        let mut session = self.test_session(id)?;
        if session.status.is_final() {
            return Err(invalid(format!("test session {id} already finished: {}", session.status)));
        }
        session.status = status;
        session.ended_at = Some(self.now());
        session.performance = performance;
        let events = if status == TestSessionStatus::Failed {
            vec![Event::new(
                EventType::BrowserTestFailure,
                self.now(),
                "",
                &session.correlation_id,
                json!({
                    "session_id": session.id,
                    "story_id": session.story_id,
                    "component": session.story_id,
                    "test": session.id,
                    "message": format!("browser test session of {} failed", session.story_id),
                    "latency_ms": session.latency_ms(),
                    "performance": session.performance,
                    "actor": session.actor,
                }),
            )]
        } else {
            Vec::new()
        };
        self.store().put_test_session(&session, &events)?;
        let latency = session.latency_ms().unwrap_or(0);
        crate::logging::done(
            "test_session_finish",
            &session.story_id,
            &session.actor,
            &session.correlation_id,
            latency,
            1,
        );
        Ok(session)
    }

    /// Session `id`.
    pub fn test_session(&self, id: &str) -> Result<TestSession> {
        self.store_ref().test_session(id)?.ok_or_else(|| {
            Error::Core(twinsync_core::Error::NotFound(format!(
                "no test session {id}; `twinsync test-session list` shows them"
            )))
        })
    }

    /// Sessions (of one story when given), newest first, at most `limit`.
    pub fn test_sessions(&self, story: Option<&str>, limit: usize) -> Result<Vec<TestSession>> {
        Ok(self.store_ref().test_sessions(story, limit)?)
    }
}
