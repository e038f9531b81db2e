//! `twinsync notify` end to end: a worker killed with SIGKILL mid-delivery, twenty
//! times, still gets every event to the receiver under its one webhook-id, and none is
//! missing; the secret shows nowhere.

#[path = "../../twinsync/tests/common/receiver.rs"]
mod receiver;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, SystemTime};

use receiver::Receiver;

const SECRET_ENV: &str = "TWINSYNC_WEBHOOK_SECRET";

fn cmd(dir: &Path, secret: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_twinsync"));
    c.args(args).current_dir(dir).env(SECRET_ENV, secret).env_remove("TWINSYNC_STORE_URL");
    c
}

fn ok(out: Output) -> Output {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    out
}

fn random_ms(lo: u64, hi: u64) -> u64 {
    let n = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().subsec_nanos() as u64;
    lo + n.wrapping_mul(2_654_435_761) % (hi - lo)
}

#[test]
fn sigkill_mid_delivery_loses_nothing_and_never_changes_a_webhook_id() {
    let secret = String::from_utf8(
        ok(Command::new(env!("CARGO_BIN_EXE_twinsync")).args(["notify", "secret"]).output().unwrap()).stdout,
    )
    .unwrap()
    .trim()
    .to_string();
    assert!(secret.starts_with("whsec_"));
    let rx = Receiver::start(&secret, 0, 40);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    for side in ["a", "b"] {
        std::fs::create_dir(root.join(side)).unwrap();
    }
    ok(cmd(root, &secret, &["init", "a", "b"]).output().unwrap());
    let config = root.join(".twinsync/config.toml");
    let mut text = std::fs::read_to_string(&config).unwrap();
    text.push_str(&format!(
        "\n[[notify.webhooks]]\nname = \"team\"\nurl = \"{}\"\nsecret_env = \"{SECRET_ENV}\"\ncategories = [\"doc:updated\", \"sync_completed\"]\n",
        rx.url()
    ));
    std::fs::write(&config, text).unwrap();
    for i in 0..30 {
        std::fs::write(root.join(format!("a/f{i:02}.md")), format!("{i}\n")).unwrap();
    }
    ok(cmd(root, &secret, &["sync"]).output().unwrap());
    let events = String::from_utf8(ok(cmd(root, &secret, &["events", "--json"]).output().unwrap()).stdout).unwrap();
    let project: String = {
        let cfg = std::fs::read_to_string(&config).unwrap();
        cfg.lines().find_map(|l| l.strip_prefix("project = ")).unwrap().trim_matches('"').to_string()
    };
    let expected: BTreeSet<String> = events
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["type"] == "doc:updated" || e["type"] == "sync_completed")
        .map(|e| format!("evt_{project}_{}", e["id"]))
        .collect();
    assert_eq!(expected.len(), 31);

    let mut mid_run = 0;
    for _ in 0..20 {
        let mut worker =
            cmd(root, &secret, &["notify", "run"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(random_ms(30, 250)));
        if worker.try_wait().unwrap().is_none() {
            mid_run += 1;
        }
        worker.kill().unwrap(); // SIGKILL
        worker.wait().unwrap();
    }
    assert!(mid_run >= 15, "only {mid_run} kills landed while the worker ran");
    let out = ok(cmd(root, &secret, &["notify", "run", "--once", "--json"]).output().unwrap());
    let last: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(last["failed"], 0, "{last}");

    let accepted = rx.wait_for_accepted(expected.len(), Duration::from_secs(60));
    let ids: BTreeSet<String> = accepted.iter().map(|m| m["id"].as_str().unwrap().to_string()).collect();
    assert_eq!(ids, expected, "every event arrived, under its own id and no other");
    assert_eq!(accepted.iter().filter(|m| m["first"] == true).count(), expected.len(), "each processed once");
    assert!(rx.messages().iter().all(|m| m["bad"].is_null()), "every signature verified");
    let status = ok(cmd(root, &secret, &["notify", "status", "--json", "--state", "sent"]).output().unwrap());
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["deliveries"].as_array().unwrap().len(), expected.len());

    // The secret shows in no output and not in the store's bytes.
    let mut seen = Vec::new();
    for args in [&["notify", "status"][..], &["events", "--json"], &["status", "--json"], &["pair", "list", "--json"]] {
        let o = cmd(root, &secret, args).output().unwrap();
        seen.extend(o.stdout);
        seen.extend(o.stderr);
    }
    for entry in std::fs::read_dir(root.join(".twinsync")).unwrap() {
        if let Ok(bytes) = std::fs::read(entry.unwrap().path()) {
            seen.extend(bytes);
        }
    }
    let needle = &secret.as_bytes()[6..];
    assert!(!seen.windows(needle.len()).any(|w| w == needle), "the secret leaked");
}
