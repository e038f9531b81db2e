//! `twinsync serve` as a process: it says where it listens, answers, and SIGTERM ends it
//! with exit 0 after requests in flight.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::time::Duration;

fn get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn serve_listens_on_loopback_answers_and_stops_on_sigterm() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .args(["serve", "--json", "--listen", "127.0.0.1:0", "--data"])
        .arg(tmp.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"));
    let addr = v["listening"].as_str().unwrap().trim_start_matches("http://").to_string();
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    let health = get(&addr, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200") && health.contains("\"ok\":true"), "{health}");
    let projects = get(&addr, "/projects");
    assert!(projects.contains("\"projects\":[]"), "{projects}");
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "SIGTERM ends the server cleanly");
}

#[test]
fn serve_beyond_loopback_without_a_token_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_twinsync"))
        .args(["serve", "--listen", "0.0.0.0:0", "--data"])
        .arg(tmp.path().join("data"))
        .env_remove("TWINSYNC_ADMIN_TOKEN")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--admin-token") && err.contains("reverse proxy"), "{err}");
}
