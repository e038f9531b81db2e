//! API keys through the facade, on a real project with its SQLite store: shown once,
//! stored as a hash, named, revocable, their last use kept at most once a minute.

use twinsync::core::{ManualClock, Timestamp};
use twinsync::{KeyCheck, Project};

const T0: i64 = 1_800_000_000_000;

fn project(root: &std::path::Path) -> (Project, ManualClock) {
    for side in ["a", "b"] {
        std::fs::create_dir_all(root.join(side)).unwrap();
    }
    let mut p = Project::init(root, "a", "b").unwrap();
    let clock = ManualClock::new(Timestamp(T0));
    p.set_clock(Box::new(clock.clone()));
    (p, clock)
}

/// Every byte of every file under `dir`.
fn all_bytes(dir: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(all_bytes(&path));
        } else {
            out.extend(std::fs::read(&path).unwrap());
        }
    }
    out
}

#[test]
fn a_key_is_shown_once_stored_as_a_hash_accepted_until_revoked() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut p, clock) = project(tmp.path());
    let made = p.api_key_create("  alice's hook ").unwrap();
    let key = made.key.expose().to_string();
    assert!(twinsync::looks_like_api_key(&key), "{}", made.info.id);
    assert!(!format!("{made:?}").contains(&key), "Debug redacts the key");
    assert_eq!(made.info.name, "alice's hook");
    assert!(made.info.id.starts_with("key_") && !key.contains(&made.info.id[4..]));
    clock.advance(1);
    let other = p.api_key_create("ci").unwrap();
    assert_ne!(other.key.expose(), key);

    let listed = p.api_key_list().unwrap();
    assert_eq!(listed.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["alice's hook", "ci"]);
    let json = serde_json::to_string(&listed).unwrap();
    assert!(!json.contains(&key) && !json.contains("hash"), "{json}");
    assert!(json.contains("\"lastUsedAt\":null") && json.contains("\"revoked\":false"), "{json}");

    // Used: the last use is kept, then not written again within the minute.
    let KeyCheck::Accepted(k) = p.api_key_verify(&key).unwrap() else { panic!("accepted") };
    assert_eq!((k.id.as_str(), k.last_used_at), (made.info.id.as_str(), Some(Timestamp(T0 + 1))));
    clock.advance(59_000);
    p.api_key_verify(&key).unwrap();
    assert_eq!(p.api_key_list().unwrap()[0].last_used_at, Some(Timestamp(T0 + 1)), "not rewritten within the minute");
    clock.advance(1_000);
    p.api_key_verify(&key).unwrap();
    assert_eq!(p.api_key_list().unwrap()[0].last_used_at, Some(Timestamp(T0 + 60_001)), "a minute on: written");
    assert_eq!(p.api_key_list().unwrap()[1].last_used_at, None, "the other key was not used");

    // Unknown: a key of the right shape that is not ours, and anything else.
    let unknown = format!("tsk_{}", "0".repeat(64));
    assert_eq!(p.api_key_verify(&unknown).unwrap(), KeyCheck::Unknown);
    assert_eq!(p.api_key_verify("").unwrap(), KeyCheck::Unknown);
    assert_eq!(p.api_key_verify(&key.to_uppercase()).unwrap(), KeyCheck::Unknown);

    // Revoked: refused for good, the first revocation time kept.
    clock.advance(5_000);
    let revoked = p.api_key_revoke(&made.info.id).unwrap();
    assert_eq!((revoked.revoked, revoked.revoked_at), (true, Some(Timestamp(T0 + 65_001))));
    clock.advance(5_000);
    assert_eq!(p.api_key_revoke(&made.info.id).unwrap().revoked_at, Some(Timestamp(T0 + 65_001)));
    assert!(matches!(p.api_key_verify(&key).unwrap(), KeyCheck::Revoked(k) if k.id == made.info.id));
    assert!(matches!(p.api_key_verify(other.key.expose()).unwrap(), KeyCheck::Accepted(_)));

    // The store (and everything else under .twinsync/) holds neither key.
    drop(p);
    let bytes = all_bytes(&tmp.path().join(".twinsync"));
    for k in [&key, other.key.expose()] {
        assert!(!bytes.windows(k.len()).any(|w| w == k.as_bytes()), "a key in clear under .twinsync/");
    }
}

#[test]
fn bad_names_and_unknown_ids_are_named_in_the_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut p, _) = project(tmp.path());
    let e = p.api_key_create("   ").unwrap_err();
    assert!(e.to_string().contains("must not be empty"), "{e}");
    let e = p.api_key_create(&"x".repeat(101)).unwrap_err();
    assert!(e.to_string().contains("longer than 100"), "{e}");
    let e = p.api_key_create("a\nb").unwrap_err();
    assert!(e.to_string().contains("control characters"), "{e}");
    let e = p.api_key_revoke("key_nope").unwrap_err();
    assert!(e.to_string().contains("key_nope") && e.to_string().contains("no such key"), "{e}");
    assert_eq!(twinsync::api::error_code(&e), "NOT_FOUND");
}
