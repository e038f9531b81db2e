//! Deliveries: what became of one outbox event sent to one endpoint (a webhook). Each
//! (endpoint, event) pair moves queued -> retrying -> sent | failed, with its attempts,
//! the last status code and the last error, and when it is next due. The store keeps
//! them, so a worker that dies resumes where it was; the event id is the message id, so
//! a resend after a crash is the same message and the receiver processes it once.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::clock::Timestamp;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Waiting for its first attempt.
    Queued,
    /// An attempt failed; another is scheduled.
    Retrying,
    /// The endpoint accepted it.
    Sent,
    /// Every attempt failed; `notify retry` queues it again.
    Failed,
}

impl DeliveryStatus {
    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Retrying => "retrying",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
        }
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DeliveryStatus {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        [DeliveryStatus::Queued, DeliveryStatus::Retrying, DeliveryStatus::Sent, DeliveryStatus::Failed]
            .into_iter()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("unknown delivery status {s:?}; expected queued, retrying, sent or failed"))
    }
}

/// One event's delivery to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The endpoint's name (`[[notify.webhooks]] name`).
    pub endpoint: String,
    /// The outbox event.
    pub event_id: u64,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: u32,
    /// When the next attempt is due (queued and retrying deliveries).
    pub next_attempt_at: Timestamp,
    /// The HTTP status of the last attempt, when there was an answer.
    pub last_status: Option<u16>,
    /// What went wrong last, when something did (never a secret).
    pub last_error: Option<String>,
    /// When it was queued.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

/// Waits after each failed attempt, the Standard Webhooks schedule: 5 s, 5 min, 30 min,
/// 2 h, 5 h, 10 h, 10 h; after the eighth attempt a delivery has failed.
pub const RETRY_SCHEDULE_MS: [i64; 7] = [5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000];

/// The wait before attempt `attempts + 1` after `attempts` failures (`None`: give up),
/// with up to 20 % jitter drawn from `seed` so many endpoints failing together do not
/// all come back at once.
pub fn retry_delay_ms(attempts: u32, seed: u64) -> Option<i64> {
    let base = *RETRY_SCHEDULE_MS.get(attempts.checked_sub(1)? as usize)?;
    // A splitmix64 step: cheap, deterministic per delivery, spread over the range.
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15).wrapping_mul(u64::from(attempts) | 1);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    let jitter = (base / 5) as u64;
    Some(base + if jitter == 0 { 0 } else { (z % jitter) as i64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_schedule_grows_with_bounded_jitter_then_gives_up() {
        for (i, base) in RETRY_SCHEDULE_MS.iter().enumerate() {
            for seed in 0..50 {
                let d = retry_delay_ms(i as u32 + 1, seed).unwrap();
                assert!(d >= *base && d < base + base / 5 + 1, "attempt {}: {d}", i + 1);
            }
        }
        assert_eq!(retry_delay_ms(0, 1), None);
        assert_eq!(retry_delay_ms(8, 1), None, "eight attempts in all");
        let spread: std::collections::BTreeSet<i64> = (0..50).map(|s| retry_delay_ms(2, s).unwrap()).collect();
        assert!(spread.len() > 10, "jitter spreads retries: {spread:?}");
    }

    #[test]
    fn statuses_round_trip() {
        for s in ["queued", "retrying", "sent", "failed"] {
            assert_eq!(s.parse::<DeliveryStatus>().unwrap().as_str(), s);
        }
        assert!("done".parse::<DeliveryStatus>().is_err());
    }
}
