//! Browser test sessions, as the hub's data model has them: one run of a story's browser
//! tests, recorded by whoever drives the browser (twinsync records and notifies; running
//! the browser stays the caller's job). A session moves running -> passed | failed |
//! aborted, once, and carries a performance summary and a correlation id that ties it to
//! the sync or agent call it belongs to.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TestSessionStatus {
    /// Started, not finished.
    Running,
    /// Every test passed.
    Passed,
    /// A test failed (emits `browser_test_failure`).
    Failed,
    /// Stopped before an outcome (the browser crashed, the run was cancelled).
    Aborted,
}

impl TestSessionStatus {
    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            TestSessionStatus::Running => "running",
            TestSessionStatus::Passed => "passed",
            TestSessionStatus::Failed => "failed",
            TestSessionStatus::Aborted => "aborted",
        }
    }

    /// Whether the session is over (every status but running).
    pub const fn is_final(self) -> bool {
        !matches!(self, TestSessionStatus::Running)
    }
}

impl fmt::Display for TestSessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TestSessionStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [TestSessionStatus::Running, TestSessionStatus::Passed, TestSessionStatus::Failed, TestSessionStatus::Aborted]
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| format!("unknown test session status {s:?}; expected running, passed, failed or aborted"))
    }
}

/// One browser test session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct TestSession {
    /// Its id (`bts_...`).
    pub id: String,
    /// The story under test (a Storybook story id such as `button--primary`).
    pub story_id: String,
    /// Where it stands.
    pub status: TestSessionStatus,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished.
    pub ended_at: Option<Timestamp>,
    /// The performance summary the runner reported (timings, Web Vitals), as given.
    pub performance: Option<serde_json::Value>,
    /// Ties the session to what started it.
    pub correlation_id: String,
    /// Who started it.
    pub actor: String,
}

impl TestSession {
    /// Milliseconds from start to end, once finished.
    pub fn latency_ms(&self) -> Option<i64> {
        self.ended_at.map(|e| e.millis() - self.started_at.millis())
    }
}
