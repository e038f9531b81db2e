//! Credentials through the facade, with a manual clock: the status machine transition by
//! transition, the rotation reminder and the expiry event, and the value readable only
//! through `credential_secret`.

use twinsync::core::credential::{CredentialStatus, ProviderType};
use twinsync::core::event::EventType;
use twinsync::core::secret::Secret;
use twinsync::core::{Clock, ManualClock, Timestamp};
use twinsync::{NewCredential, Project};

const DAY: i64 = 86_400_000;
/// One key for every test of this binary: the variable is process-wide, and setting it to
/// the same value from parallel tests cannot race into a different key.
const KEY_B64: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";

fn project() -> (tempfile::TempDir, Project, ManualClock) {
    std::env::set_var(twinsync::MASTER_KEY_ENV, KEY_B64);
    let dir = tempfile::tempdir().unwrap();
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(side)).unwrap();
    }
    let mut p = Project::init_with(dir.path(), twinsync::Config::new("a", "b")).unwrap();
    let clock = ManualClock::new(Timestamp::from_millis(1_800_000_000_000));
    p.set_clock(Box::new(clock.clone()));
    (dir, p, clock)
}

fn design(days: Option<i64>) -> NewCredential {
    NewCredential { provider: Some(ProviderType::Design), rotate_every_ms: days.map(|d| d * DAY), ..Default::default() }
}

fn credential_events(p: &Project) -> Vec<serde_json::Value> {
    p.events(0, 1000)
        .unwrap()
        .into_iter()
        .filter(|e| e.event_type == EventType::CredentialStatus)
        .map(|e| e.payload)
        .collect()
}

#[test]
fn each_transition_of_the_status_machine() {
    let (_dir, mut p, clock) = project();
    let token = Secret::new("figd_first-value-0001");

    // added: pending, due in 90 days, not validated.
    let c = p.credential_add("figma", &token, design(Some(90))).unwrap();
    assert_eq!(c.status, CredentialStatus::Pending);
    assert_eq!(c.rotation_due_at, Some(clock.now().plus_millis(90 * DAY)));
    assert_eq!(c.last_validated_at, None);
    assert!(p.credential_add("figma", &token, design(None)).unwrap_err().to_string().contains("already exists"));

    // pending -> valid by validation, which records the time.
    clock.advance(1000);
    let c = p.credential_validate("figma").unwrap();
    assert_eq!((c.status, c.last_validated_at), (CredentialStatus::Valid, Some(clock.now())));
    assert_eq!(p.credential_secret("figma").unwrap(), token, "the value reads back, only here");

    // valid -> expired when the rotation date passes unrotated.
    clock.advance(90 * DAY);
    let c = p.credential("figma").unwrap();
    assert_eq!(c.status, CredentialStatus::Expired);
    assert!(p.credential_validate("figma").unwrap_err().to_string().contains("rotate"));
    assert!(p.credential_secret("figma").is_err(), "an expired value is not handed out");

    // expired -> valid by rotation, with a new due date from now.
    let second = Secret::new("figd_second-value-0002");
    let c = p.credential_rotate("figma", &second, Some(30 * DAY)).unwrap();
    assert_eq!(c.status, CredentialStatus::Valid);
    assert_eq!(c.rotation_due_at, Some(clock.now().plus_millis(30 * DAY)));
    assert_eq!(c.rotated_at, Some(clock.now()));
    assert_eq!(p.credential_secret("figma").unwrap(), second);

    // valid -> revoked: final, and the sealed value is gone.
    let c = p.credential_revoke("figma").unwrap();
    assert_eq!(c.status, CredentialStatus::Revoked);
    assert!(p.store().credential("figma").unwrap().unwrap().sealed.is_empty());
    for e in [
        p.credential_validate("figma").unwrap_err(),
        p.credential_rotate("figma", &second, None).unwrap_err(),
        p.credential_secret("figma").unwrap_err(),
    ] {
        assert!(e.to_string().starts_with("credential figma: is revoked"), "{e}");
    }
    clock.advance(365 * DAY);
    assert_eq!(p.credential("figma").unwrap().status, CredentialStatus::Revoked, "revoked never expires");

    // pending -> revoked, and pending stays pending through a rotation.
    p.credential_add("slack", &Secret::new("xoxb-1"), design(None)).unwrap();
    let c = p.credential_rotate("slack", &Secret::new("xoxb-2"), None).unwrap();
    assert_eq!(c.status, CredentialStatus::Pending, "a rotation does not validate");
    assert_eq!(p.credential_revoke("slack").unwrap().status, CredentialStatus::Revoked);

    // pending -> expired too: an unvalidated credential still runs out.
    p.credential_add("docs", &Secret::new("doc-token"), design(Some(1))).unwrap();
    clock.advance(DAY);
    assert_eq!(p.credential("docs").unwrap().status, CredentialStatus::Expired);

    let e = p.credential_validate("nope").unwrap_err();
    assert!(e.to_string().contains("credential nope: no such credential"), "{e}");
    assert_eq!(e.code(), twinsync::core::ErrorCode::NotFound);
}

#[test]
fn a_reminder_fires_once_within_remind_days_then_expiry_fires() {
    let (_dir, mut p, clock) = project();
    assert_eq!(p.config().credentials.remind_days, 14, "the default");
    p.credential_add("figma", &Secret::new("figd_reminded-token"), design(Some(90))).unwrap();
    p.credential_validate("figma").unwrap();
    let due = p.credential("figma").unwrap().rotation_due_at.unwrap();

    clock.set(due.plus_millis(-14 * DAY - 1));
    assert!(p.credentials_check().unwrap().is_empty(), "a millisecond before the window: nothing");
    clock.set(due.plus_millis(-14 * DAY));
    assert_eq!(p.credentials_check().unwrap().len(), 1, "at the window's start: the reminder");
    clock.advance(DAY);
    assert!(p.credentials_check().unwrap().is_empty(), "once per due date, not every check");
    p.credentials().unwrap();
    let events = credential_events(&p);
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["reason"], "rotation_due");
    assert_eq!(events[0]["name"], "figma");
    assert_eq!(events[0]["status"], "valid");

    clock.set(due);
    assert_eq!(p.credentials_check().unwrap().len(), 1);
    let events = credential_events(&p);
    assert_eq!(events.len(), 2);
    assert_eq!((events[1]["reason"].as_str(), events[1]["status"].as_str()), (Some("expired"), Some("expired")));
    assert!(p.credentials_check().unwrap().is_empty(), "expiry fires once");

    // A rotation sets a new due date, which gets its own reminder.
    p.credential_rotate("figma", &Secret::new("figd_next"), None).unwrap();
    clock.advance(90 * DAY - 14 * DAY);
    assert_eq!(p.credentials_check().unwrap().len(), 1);
    assert!(credential_events(&p).iter().all(|e| !e.to_string().contains("figd_")), "events never carry the value");
}
