//! The event outbox, from an id on, as `twinsync events --json` prints it.

use serde::Deserialize;
use twinsync::api;

use crate::error::Result;
use crate::functions::decode;
use crate::project::Project;

/// One outbox event. `payload` is JSON text: its shape depends on the type.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct Event {
    /// Increasing id: pass the last one seen to read only what is new.
    pub id: u64,
    /// What happened (`sync_completed`, `lock:acquired`, ...); `type` in the JSON.
    pub event_type: String,
    /// When (RFC 3339).
    pub time: String,
    /// The pair it concerns (empty for the project: locks, digests).
    pub pair: String,
    /// Ties the events of one operation together.
    pub correlation_id: String,
    /// Type-specific details as JSON text.
    pub payload: String,
}

#[derive(Deserialize)]
struct EventJson {
    id: u64,
    #[serde(rename = "type")]
    event_type: String,
    time: String,
    pair: String,
    correlation_id: String,
    payload: serde_json::Value,
}

#[uniffi::export]
impl Project {
    /// Events with an id above `since`, oldest first, at most `limit`.
    #[uniffi::method(default(since = 0, limit = 1000))]
    pub fn events(&self, since: u64, limit: u32) -> Result<Vec<Event>> {
        let list: Vec<EventJson> = decode("events", api::events(&self.lock(), since, limit as usize)?)?;
        Ok(list
            .into_iter()
            .map(|e| Event {
                id: e.id,
                event_type: e.event_type,
                time: e.time,
                pair: e.pair,
                correlation_id: e.correlation_id,
                payload: e.payload.to_string(),
            })
            .collect())
    }
}
