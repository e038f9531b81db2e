//! The daily digest: event types an endpoint takes once a day instead of at once. At the
//! configured wall-clock time in the configured zone, the day's events of those types
//! become one `digest` outbox event addressed to the endpoint — counts by type and the top
//! items, conflicts first — delivered, signed and retried like any other event.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use serde_json::{json, Value};
use twinsync_core::event::{Event, EventType};
use twinsync_core::Timestamp;

/// Items listed in a digest beyond the counts.
pub const TOP_ITEMS: usize = 10;

/// When digests go out: a wall-clock time in a named zone.
#[derive(Debug, Clone)]
pub struct DigestSchedule {
    hour: i8,
    minute: i8,
    zone: TimeZone,
    zone_name: String,
}

impl DigestSchedule {
    /// `at` as `HH:MM` (24 h) in IANA zone `zone` (`Europe/Paris`, `UTC`).
    pub fn parse(at: &str, zone: &str) -> Result<DigestSchedule, String> {
        let bad = || format!("digest_at = {at:?}: expected HH:MM, 24-hour (\"09:00\")");
        let (h, m) = at.split_once(':').ok_or_else(bad)?;
        let (hour, minute): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
        if !(0..24).contains(&hour) || !(0..60).contains(&minute) || h.len() != 2 || m.len() != 2 {
            return Err(bad());
        }
        let tz = TimeZone::get(zone)
            .map_err(|_| format!("timezone = {zone:?}: not an IANA time zone (\"Europe/Paris\", \"UTC\")"))?;
        Ok(DigestSchedule { hour, minute, zone: tz, zone_name: zone.to_string() })
    }

    /// The zone's name as configured.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    /// The latest digest time at or before `now`: today's `digest_at` in the zone if it
    /// has passed, else yesterday's. A time a DST change skips resolves to the instant
    /// after the gap; one it repeats, to the first.
    pub fn slot_at_or_before(&self, now: Timestamp) -> Timestamp {
        let at = |date: jiff::civil::Date| -> Option<i64> {
            let zoned = date.at(self.hour, self.minute, 0, 0).to_zoned(self.zone.clone()).ok()?;
            Some(zoned.timestamp().as_millisecond())
        };
        let slot = jiff::Timestamp::from_millisecond(now.millis()).ok().and_then(|t| {
            let today = t.to_zoned(self.zone.clone()).date();
            match at(today)? {
                s if s <= now.millis() => Some(s),
                _ => at(today.yesterday().ok()?),
            }
        });
        // Outside jiff's range (years beyond ±9999): a day before, which never happens.
        Timestamp::from_millis(slot.unwrap_or(now.millis() - 86_400_000))
    }
}

/// The digest of `events` (already filtered to the endpoint's digest types and to the
/// window `(from, to]`) for endpoint `endpoint`: counts by type and the top items,
/// conflicts first, then newest first.
pub fn digest_event(endpoint: &str, from: Timestamp, to: Timestamp, zone: &str, events: &[Event]) -> Event {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for e in events {
        *counts.entry(e.event_type.as_str()).or_default() += 1;
    }
    let mut top: Vec<&Event> = events.iter().collect();
    top.sort_by_key(|e| (e.event_type != EventType::ConflictDetected, std::cmp::Reverse(e.id)));
    let items: Vec<Value> = top
        .into_iter()
        .take(TOP_ITEMS)
        .map(|e| {
            json!({
                "event_id": e.id,
                "type": e.event_type.as_str(),
                "time": e.time,
                "pair": e.pair,
                "key": e.payload.get("key"),
            })
        })
        .collect();
    Event::new(
        EventType::Digest,
        to,
        "",
        &format!("digest-{endpoint}-{}", to.millis()),
        json!({
            "endpoint": endpoint,
            "from": from,
            "to": to,
            "timezone": zone,
            "total": events.len(),
            "counts": counts,
            "top": items,
        }),
    )
}

/// The endpoint a digest event is for, when `e` is one.
pub(crate) fn addressee(e: &Event) -> Option<&str> {
    (e.event_type == EventType::Digest).then(|| e.payload["endpoint"].as_str()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Timestamp {
        Timestamp::from_millis(text.parse::<jiff::Timestamp>().unwrap().as_millisecond())
    }

    #[test]
    fn the_slot_follows_the_zone_through_daylight_saving() {
        let paris = DigestSchedule::parse("09:00", "Europe/Paris").unwrap();
        // Winter: UTC+1; summer: UTC+2.
        assert_eq!(paris.slot_at_or_before(utc("2026-01-15T08:00:00Z")), utc("2026-01-15T08:00:00Z"));
        assert_eq!(paris.slot_at_or_before(utc("2026-01-15T07:59:59Z")), utc("2026-01-14T08:00:00Z"));
        assert_eq!(paris.slot_at_or_before(utc("2026-07-15T12:00:00Z")), utc("2026-07-15T07:00:00Z"));
        // The night clocks go forward (29 March 2026): the day before's 09:00 was UTC+1.
        assert_eq!(paris.slot_at_or_before(utc("2026-03-29T06:00:00Z")), utc("2026-03-28T08:00:00Z"));
        assert_eq!(paris.slot_at_or_before(utc("2026-03-29T07:00:00Z")), utc("2026-03-29T07:00:00Z"));
    }

    #[test]
    fn bad_times_and_zones_are_named() {
        for at in ["9:00", "24:00", "09:60", "0900", "09:00:00"] {
            assert!(DigestSchedule::parse(at, "UTC").unwrap_err().contains("HH:MM"), "{at}");
        }
        assert!(DigestSchedule::parse("09:00", "Europe/Atlantis").unwrap_err().contains("Europe/Atlantis"));
    }

    #[test]
    fn conflicts_come_first_then_newest() {
        let t = Timestamp::from_millis(1_800_000_000_000);
        let mut events = Vec::new();
        for (id, ty) in [(1, EventType::DocUpdated), (2, EventType::ConflictDetected), (3, EventType::DocUpdated)] {
            let mut e = Event::new(ty, t, "docs", "c", json!({"key": format!("k{id}")}));
            e.id = id;
            events.push(e);
        }
        let d = digest_event("team", t, t.plus_millis(1), "UTC", &events);
        assert_eq!(d.event_type, EventType::Digest);
        assert_eq!(d.payload["total"], 3);
        assert_eq!(d.payload["counts"]["doc:updated"], 2);
        let order: Vec<u64> =
            d.payload["top"].as_array().unwrap().iter().map(|i| i["event_id"].as_u64().unwrap()).collect();
        assert_eq!(order, [2, 3, 1]);
        assert_eq!(addressee(&d), Some("team"));
    }
}
