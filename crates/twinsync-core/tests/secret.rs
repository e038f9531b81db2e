//! `Secret` never shows its value: not in Debug, Display, serde output, nor in an error
//! or config struct that wraps it.

use serde::{Deserialize, Serialize};
use twinsync_core::secret::{Secret, REDACTED};

const VALUE: &str = "ghp_Sup3rS3cretT0ken-DO-NOT-LEAK";

#[derive(Debug, Serialize, Deserialize)]
struct WebhookConfig {
    url: String,
    signing_key: Secret,
}

#[derive(Debug, thiserror::Error)]
enum ConnectError {
    #[error("cannot connect with token {token}: {reason}")]
    Refused { token: Secret, reason: String },
}

#[test]
fn debug_and_display_are_redacted() {
    let s = Secret::new(VALUE);
    for shown in [format!("{s:?}"), format!("{s:#?}"), format!("{s}"), s.to_string(), format!("{s:>40}")] {
        assert!(!shown.contains(VALUE), "leaked in {shown:?}");
        assert!(shown.contains(REDACTED), "{shown:?}");
    }
    let cfg = WebhookConfig { url: "https://hooks.example/x".into(), signing_key: Secret::new(VALUE) };
    assert!(!format!("{cfg:?}").contains(VALUE));
    assert!(!format!("{cfg:#?}").contains(VALUE));
    assert!(format!("{cfg:?}").contains("https://hooks.example/x"));
}

#[test]
fn serialising_writes_the_placeholder_and_config_files_still_load() {
    let cfg: WebhookConfig =
        serde_json::from_str(&format!(r#"{{"url":"https://hooks.example/x","signing_key":"{VALUE}"}}"#)).unwrap();
    assert_eq!(cfg.signing_key.expose(), VALUE);
    assert_eq!(cfg.signing_key.expose_secret(), VALUE);

    let json = serde_json::to_string(&cfg).unwrap();
    assert!(!json.contains(VALUE), "{json}");
    assert_eq!(json, r#"{"url":"https://hooks.example/x","signing_key":"[redacted]"}"#);
    let pretty = serde_json::to_string_pretty(&serde_json::json!({ "nested": [&cfg] })).unwrap();
    assert!(!pretty.contains(VALUE));
}

#[test]
fn reloading_redacted_output_is_refused_with_a_clear_error() {
    let err = serde_json::from_str::<WebhookConfig>(r#"{"url":"u","signing_key":"[redacted]"}"#).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("placeholder"), "{msg}");
    assert!(msg.contains("real value"), "{msg}");
}

#[test]
fn errors_that_wrap_a_secret_do_not_show_it() {
    let err = ConnectError::Refused { token: Secret::new(VALUE), reason: "401".into() };
    assert!(!err.to_string().contains(VALUE), "{err}");
    assert!(!format!("{err:?}").contains(VALUE), "{err:?}");
    assert!(err.to_string().contains("401"));
}

#[test]
fn equality_and_length() {
    let a = Secret::new(VALUE);
    let b: Secret = VALUE.parse().unwrap();
    assert_eq!(a, b);
    assert_ne!(a, Secret::new(&VALUE[..VALUE.len() - 1]));
    let mut flipped = VALUE.to_string().into_bytes();
    flipped[0] ^= 1;
    assert_ne!(a, Secret::new(String::from_utf8(flipped).unwrap()));
    assert_eq!(a.len(), VALUE.len());
    assert!(!a.is_empty());
    assert!(Secret::default().is_empty());
    // Clones are independent values, each zeroed on its own drop.
    let c = a.clone();
    drop(a);
    assert_eq!(c.expose(), VALUE);
}
