//! The guard's view of the project lock when `[guard] server` names a `twinsync serve`
//! server: `GET /hook/status/:id` with the API key from `TWINSYNC_API_KEY`, under the
//! guard's deadline.
//!
//! Each answer is cached in `.twinsync/guard-server.json` (the server, the project, the
//! answer and when it came; never the key). When the server cannot be reached (no
//! connection, the deadline, a 5xx), the guard decides from that cached answer and says
//! how old it is; a lock it shows whose time has run out since counts as gone. Without a
//! cached answer, `[guard] offline` decides, as it does for an unreachable store. A
//! server that answers but refuses (no key, a revoked or wrong one, an unknown project)
//! is not unreachable: its cached answers belong to access that no longer works, so
//! `offline` decides, and the message says why.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use twinsync::core::Timestamp;

/// The environment variable holding the API key the guard sends.
pub(crate) const API_KEY_ENV: &str = "TWINSYNC_API_KEY";

/// Where the last answer is kept, in the project's `.twinsync/`.
const CACHE_FILE: &str = "guard-server.json";

/// A lock someone holds, as the guard reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Held {
    pub owner: String,
    /// RFC 3339.
    pub until: String,
    pub reason: Option<String>,
}

/// What the guard learnt about the lock.
#[derive(Debug)]
pub(crate) enum LockView {
    /// A live answer (the store's, or the server's).
    Live(Option<Held>),
    /// The server's last answer, `age` old, used because it could not be reached now.
    Cached { held: Option<Held>, age: Duration, why: String },
    /// No answer: `[guard] offline` decides.
    Unknown(String),
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cache {
    server: String,
    project: String,
    fetched_at: Timestamp,
    held: Option<Held>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    locked: bool,
    locked_by: Option<String>,
    expires_at: Option<String>,
    reason: Option<String>,
}

fn cache_path(root: &Path) -> PathBuf {
    root.join(twinsync::config::DIR).join(CACHE_FILE)
}

fn now() -> Timestamp {
    let ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    Timestamp::from_millis(ms as i64)
}

/// Asks the server at `url` about project `project`'s lock, within `deadline`.
pub(crate) fn ask(root: &Path, url: &str, project: &str, deadline: Duration) -> LockView {
    let Some(key) = std::env::var(API_KEY_ENV).ok().filter(|k| !k.trim().is_empty()) else {
        return LockView::Unknown(format!(
            "guard.server is {url} but {API_KEY_ENV} is not set (an API key of project {project}: \
             `twinsync keys create NAME`)"
        ));
    };
    let agent = ureq::AgentBuilder::new().timeout(deadline).build();
    let endpoint = format!("{}/hook/status/{project}", url.trim_end_matches('/'));
    let unreachable = match agent.get(&endpoint).set("Authorization", &format!("Bearer {}", key.trim())).call() {
        Ok(resp) => match resp.into_json::<Status>() {
            Ok(s) => {
                let held = s.locked.then(|| Held {
                    owner: s.locked_by.unwrap_or_else(|| "someone".into()),
                    until: s.expires_at.unwrap_or_else(|| "an unknown time".into()),
                    reason: s.reason,
                });
                save(root, url, project, &held);
                return LockView::Live(held);
            }
            Err(e) => format!("the server at {url} answered something that is not a lock status ({e})"),
        },
        Err(ureq::Error::Status(code, resp)) if code < 500 => {
            let message = resp
                .into_json::<serde_json::Value>()
                .ok()
                .and_then(|v| v["error"]["message"].as_str().map(str::to_string))
                .unwrap_or_default();
            return LockView::Unknown(format!("the server at {url} refused the lock check ({code}: {message})"));
        }
        Err(ureq::Error::Status(code, _)) => format!("the server at {url} failed ({code})"),
        Err(e) => format!("the server at {url} did not answer within {} ms ({e})", deadline.as_millis()),
    };
    match load(root, url, project) {
        Some(cache) => {
            let now = now();
            let age = Duration::from_millis(now.millis().saturating_sub(cache.fetched_at.millis()).max(0) as u64);
            // A lock whose time ran out since the answer is over, whatever the server said.
            let lapsed = |h: &Held| Timestamp::parse_rfc3339(&h.until).is_ok_and(|t| t <= now);
            LockView::Cached { held: cache.held.filter(|h| !lapsed(h)), age, why: unreachable }
        }
        None => LockView::Unknown(format!("{unreachable}, and no earlier answer of it is cached")),
    }
}

/// Keeps the answer, written whole and renamed into place; a failure only costs the cache.
fn save(root: &Path, url: &str, project: &str, held: &Option<Held>) {
    let cache = Cache { server: url.to_string(), project: project.to_string(), fetched_at: now(), held: held.clone() };
    let path = cache_path(root);
    let tmp = path.with_extension(format!("json.{}.tmp", std::process::id()));
    let bytes = serde_json::to_vec_pretty(&cache).expect("a cache entry serialises");
    if std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &path)).is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
}

/// The cached answer of this server about this project, if there is one.
fn load(root: &Path, url: &str, project: &str) -> Option<Cache> {
    let cache: Cache = serde_json::from_slice(&std::fs::read(cache_path(root)).ok()?).ok()?;
    (cache.server == url && cache.project == project).then_some(cache)
}

/// `42 s`, `5 min`, `3 h`, `2 days`.
pub(crate) fn age_text(age: Duration) -> String {
    match age.as_secs() {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}
