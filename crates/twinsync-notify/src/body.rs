//! What a webhook receives: the Standard Webhooks body, or a Slack incoming-webhook body.

use serde_json::{json, Value};
use twinsync_core::event::{Event, EventType};

/// How an endpoint wants its messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `{"type", "timestamp", "data"}`, as the Standard Webhooks spec recommends.
    #[default]
    Standard,
    /// A Slack incoming-webhook body: `text` and `blocks`.
    Slack,
}

/// The body of the message that carries `event` of `project`.
pub fn body(event: &Event, project: &str, format: Format) -> Vec<u8> {
    let value = match format {
        Format::Standard => json!({
            "type": event.event_type.as_str(),
            "timestamp": event.time,
            "data": {
                "id": event.id,
                "project": project,
                "pair": event.pair,
                "correlation_id": event.correlation_id,
                "payload": event.payload,
            },
        }),
        Format::Slack => {
            let text = headline(event, project);
            json!({
                "text": text,
                "blocks": [
                    {"type": "section", "text": {"type": "mrkdwn", "text": text}},
                    {"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
                        "event {} · {} · {}", event.id, event.event_type.as_str(), event.time.to_rfc3339()
                    )}]},
                ],
            })
        }
    };
    serde_json::to_vec(&value).expect("a JSON value serialises")
}

/// One line a person reads in a chat.
fn headline(e: &Event, project: &str) -> String {
    let p = &e.payload;
    let n = |v: &Value| v.as_u64().unwrap_or(0);
    let pair = if e.pair.is_empty() { String::new() } else { format!(" `{}`", e.pair) };
    match e.event_type {
        EventType::SyncCompleted | EventType::SyncFailed => format!(
            "*{project}*{pair}: sync {} — {} applied, {} conflicts, {} failed",
            p["status"].as_str().unwrap_or("finished"),
            n(&p["counts"]["applied"]),
            n(&p["counts"]["conflicts"]),
            n(&p["counts"]["failed"])
        ),
        EventType::ConflictDetected => {
            format!(
                "*{project}*{pair}: conflict on `{}` — {}",
                p["key"].as_str().unwrap_or("?"),
                p["reason"].as_str().unwrap_or("")
            )
        }
        EventType::DriftDetected => format!("*{project}*{pair}: {} items drifted", n(&p["drifted"])),
        EventType::LockAcquired => format!("*{project}*: locked by {}", p["owner"].as_str().unwrap_or("?")),
        EventType::LockReleased => format!("*{project}*: lock of {} released", p["owner"].as_str().unwrap_or("?")),
        EventType::Digest if p.get("total").is_some() => format!(
            "*{project}*: daily digest — {} events, {} conflicts",
            n(&p["total"]),
            n(&p["counts"]["conflict_detected"])
        ),
        other => format!("*{project}*{pair}: {}", other.as_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use twinsync_core::Timestamp;

    #[test]
    fn standard_and_slack_bodies() {
        let e = Event {
            id: 42,
            ..Event::conflict_detected(
                Timestamp::from_millis(1_700_000_000_000),
                "docs",
                "op1",
                "a.md",
                &"conflict_modify_modify",
                "both edited",
            )
        };
        let v: Value = serde_json::from_slice(&body(&e, "acme", Format::Standard)).unwrap();
        assert_eq!(v["type"], "conflict_detected");
        assert_eq!(v["timestamp"], "2023-11-14T22:13:20.000Z");
        assert_eq!(v["data"]["id"], 42);
        assert_eq!(v["data"]["payload"]["key"], "a.md");
        let s: Value = serde_json::from_slice(&body(&e, "acme", Format::Slack)).unwrap();
        assert_eq!(s["text"], "*acme* `docs`: conflict on `a.md` — both edited");
        assert_eq!(s["blocks"][0]["text"]["text"], s["text"]);
    }
}
