//! A webhook receiver for tests: the Node script in crates/twinsync-notify/tests/receiver,
//! which verifies every message with the Standard Webhooks reference library.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Receiver {
    child: Child,
    pub port: u16,
    lines: Arc<Mutex<Vec<Value>>>,
}

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../twinsync-notify/tests/receiver")
}

impl Receiver {
    /// Starts a receiver that verifies with `secret`, answers 500 to the first
    /// `fail_first` messages, and waits `delay_ms` before each answer.
    pub fn start(secret: &str, fail_first: u32, delay_ms: u64) -> Receiver {
        let dir = dir();
        assert!(
            dir.join("node_modules/standardwebhooks").is_dir(),
            "the receiver needs the Standard Webhooks library: run {}/setup.sh (.ci/run does)",
            dir.display()
        );
        let mut child = Command::new("node")
            .arg(dir.join("receiver.mjs"))
            .env("SECRET", secret)
            .env("FAIL_FIRST", fail_first.to_string())
            .env("DELAY_MS", delay_ms.to_string())
            .stdout(Stdio::piped())
            .spawn()
            .expect("node runs the receiver");
        let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
        let first: Value = serde_json::from_str(&out.next().unwrap().unwrap()).unwrap();
        let port = first["port"].as_u64().unwrap() as u16;
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in out.map_while(Result::ok) {
                sink.lock().unwrap().push(serde_json::from_str(&line).unwrap());
            }
        });
        Receiver { child, port, lines }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Every message seen so far, in arrival order.
    pub fn messages(&self) -> Vec<Value> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits until `n` messages were answered 200.
    pub fn wait_for_accepted(&self, n: usize, limit: Duration) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let ok: Vec<Value> = self.messages().into_iter().filter(|m| m["answer"] == 200).collect();
            if ok.len() >= n {
                return ok;
            }
            assert!(started.elapsed() < limit, "only {} of {n} messages arrived: {:?}", ok.len(), self.messages());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
