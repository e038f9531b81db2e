//! `twinsync test-session`: record browser test runs of stories. twinsync records and
//! notifies (a failure emits `browser_test_failure`); running the browser is the caller's.

use std::process::ExitCode;

use serde_json::{json, Value};
use twinsync::core::test_session::{TestSession, TestSessionStatus};

use crate::cmd_project::{fail, print_json, Common};

/// Arguments of `twinsync test-session`.
#[derive(clap::Args, Debug)]
pub struct TestSessionArgs {
    #[command(subcommand)]
    command: TestSessionCommand,
}

#[derive(clap::Subcommand, Debug)]
enum TestSessionCommand {
    /// Start a session of STORY (a Storybook story id); prints the session id.
    Start {
        /// The story under test.
        story: String,
        /// Ties the session to what started it (default: the session id).
        #[arg(long)]
        correlation_id: Option<String>,
    },
    /// Finish session ID as passed, failed or aborted.
    Finish {
        /// The session.
        id: String,
        /// passed, failed or aborted.
        #[arg(long)]
        status: TestSessionStatus,
        /// The performance summary as JSON (`{"lcp_ms": 812}`), or `@FILE` to read it.
        #[arg(long, value_name = "JSON|@FILE")]
        performance: Option<String>,
    },
    /// One session.
    Show {
        /// The session.
        id: String,
    },
    /// Sessions, newest first.
    List {
        /// Only this story's.
        #[arg(long)]
        story: Option<String>,
        /// Most sessions shown.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

fn invalid(message: String) -> twinsync::Error {
    twinsync::Error::Core(twinsync::core::Error::InvalidInput(message))
}

fn performance(text: &str) -> twinsync::Result<Value> {
    let (json, from) = match text.strip_prefix('@') {
        Some(file) => (std::fs::read_to_string(file).map_err(|e| invalid(format!("--performance {file}: {e}")))?, file),
        None => (text.to_string(), "--performance"),
    };
    serde_json::from_str(&json).map_err(|e| invalid(format!("{from}: not JSON: {e}")))
}

fn with_latency(s: &TestSession) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or_default();
    v["latency_ms"] = json!(s.latency_ms());
    v
}

fn line(s: &TestSession) -> String {
    format!(
        "{}  {:<8} {:<30} started {}{}",
        s.id,
        s.status.as_str(),
        s.story_id,
        s.started_at.to_rfc3339(),
        s.latency_ms().map(|ms| format!("  {ms} ms")).unwrap_or_default()
    )
}

/// `twinsync test-session start|finish|show|list`.
pub fn test_session(a: TestSessionArgs, common: &Common) -> ExitCode {
    let mut project = match common.open() {
        Ok(p) => p,
        Err(e) => return fail(common, &e),
    };
    let shown = |s: TestSession| {
        if common.json {
            print_json(&with_latency(&s));
        } else {
            println!("{}", line(&s));
        }
    };
    let result = match a.command {
        TestSessionCommand::Start { story, correlation_id } => {
            project.test_session_start(&story, correlation_id.as_deref()).map(|s| {
                if common.json {
                    print_json(&with_latency(&s));
                } else {
                    println!("{}", s.id);
                }
            })
        }
        TestSessionCommand::Finish { id, status, performance: perf } => perf
            .as_deref()
            .map(performance)
            .transpose()
            .and_then(|perf| project.test_session_finish(&id, status, perf))
            .map(shown),
        TestSessionCommand::Show { id } => project.test_session(&id).map(shown),
        TestSessionCommand::List { story, limit } => project.test_sessions(story.as_deref(), limit).map(|list| {
            if common.json {
                print_json(&json!({ "sessions": list.iter().map(with_latency).collect::<Vec<_>>() }));
            } else {
                for s in &list {
                    println!("{}", line(s));
                }
            }
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(common, &e),
    }
}
