//! Browser test sessions of stories, as `twinsync test-session ... --json` prints them.

use serde::Deserialize;
use twinsync::api;

use crate::error::{Result, TwinsyncError};
use crate::functions::decode;
use crate::project::Project;

/// One browser test session. `performance` is the runner's summary as JSON text.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct TestSession {
    /// The session id.
    pub id: String,
    /// The story under test.
    pub story_id: String,
    /// `running`, `passed`, `failed` or `aborted`.
    pub status: String,
    /// When it started (RFC 3339).
    pub started_at: String,
    /// When it finished (RFC 3339).
    pub ended_at: Option<String>,
    /// The performance summary (JSON text).
    pub performance: Option<String>,
    /// Ties it to what started it.
    pub correlation_id: String,
    /// Who ran it.
    pub actor: String,
    /// Milliseconds from start to finish (`null` while running).
    pub latency_ms: Option<i64>,
}

#[derive(Deserialize)]
struct SessionJson {
    id: String,
    story_id: String,
    status: String,
    started_at: String,
    ended_at: Option<String>,
    performance: Option<serde_json::Value>,
    correlation_id: String,
    actor: String,
    latency_ms: Option<i64>,
}

impl From<SessionJson> for TestSession {
    fn from(s: SessionJson) -> Self {
        TestSession {
            id: s.id,
            story_id: s.story_id,
            status: s.status,
            started_at: s.started_at,
            ended_at: s.ended_at,
            performance: s.performance.map(|p| p.to_string()),
            correlation_id: s.correlation_id,
            actor: s.actor,
            latency_ms: s.latency_ms,
        }
    }
}

#[derive(Deserialize)]
struct SessionsJson {
    sessions: Vec<SessionJson>,
}

fn session(v: serde_json::Value) -> Result<TestSession> {
    Ok(decode::<SessionJson>("test session", v)?.into())
}

#[uniffi::export]
impl Project {
    /// Starts a session of story `story_id`; `correlation_id` ties it to what started it.
    #[uniffi::method(default(correlation_id = None))]
    pub fn test_session_start(&self, story_id: String, correlation_id: Option<String>) -> Result<TestSession> {
        session(api::test_session_start(&mut self.lock(), &story_id, correlation_id.as_deref())?)
    }

    /// Finishes session `id` as `passed`, `failed` or `aborted`, with the runner's
    /// performance summary as JSON text.
    #[uniffi::method(default(performance = None))]
    pub fn test_session_finish(&self, id: String, status: String, performance: Option<String>) -> Result<TestSession> {
        let perf = performance
            .map(|p| {
                serde_json::from_str::<serde_json::Value>(&p)
                    .map_err(|e| TwinsyncError::invalid(format!("performance: not JSON: {e}")))
            })
            .transpose()?;
        session(api::test_session_finish(&mut self.lock(), &id, &status, perf.as_ref())?)
    }

    /// One session.
    pub fn test_session(&self, id: String) -> Result<TestSession> {
        session(api::test_session(&self.lock(), &id)?)
    }

    /// Sessions, newest first (only `story`'s when given), at most `limit`.
    #[uniffi::method(default(story = None, limit = 50))]
    pub fn test_sessions(&self, story: Option<String>, limit: u32) -> Result<Vec<TestSession>> {
        let list: SessionsJson =
            decode("test sessions", api::test_sessions(&self.lock(), story.as_deref(), limit as usize)?)?;
        Ok(list.sessions.into_iter().map(Into::into).collect())
    }
}
