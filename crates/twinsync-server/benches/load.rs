//! Load on a real server (issue 23): a benchmark, not a test, so `cargo test` never runs
//! it. It starts a server on 127.0.0.1:0 over a real project in a temporary folder and
//! measures, with real clients in this process:
//!
//! - the hook route `GET /hook/status/:id` with an API key, from 50 concurrent clients
//!   (one keep-alive connection each) making 4,000 requests each: throughput, p50, p99;
//! - 500 WebSocket clients following one project: the time from a
//!   `PUT /projects/:id/docs/one.md` (with `If-Match`) to the last client's `doc:updated`
//!   carrying the new hash, over 20 PUTs: p50 and max, next to the PUT's own answer time.
//!
//! `cargo bench -p twinsync-server --bench load` (release). Arguments, all optional:
//! `--clients N --requests N --ws N --puts N`. Run without `--bench` or sizes (as
//! `cargo test --all-targets` does), it only says how to run it.

use std::collections::HashMap;
use std::sync::{Arc, Barrier, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{json, Value};
use twinsync_server::{ServeOptions, Server};

struct Args {
    clients: usize,
    requests: usize,
    ws: usize,
    puts: usize,
}

fn args() -> Args {
    let mut a = Args { clients: 50, requests: 4000, ws: 500, puts: 20 };
    let argv: Vec<String> = std::env::args().collect();
    for w in argv.windows(2) {
        let n = || w[1].parse().unwrap_or_else(|_| panic!("{}: not a number: {}", w[0], w[1]));
        match w[0].as_str() {
            "--clients" => a.clients = n(),
            "--requests" => a.requests = n(),
            "--ws" => a.ws = n(),
            "--puts" => a.puts = n(),
            _ => {}
        }
    }
    a
}

/// 500 sockets on each side need more descriptors than some shells allow by default.
fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        let mut l = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut l) == 0 && l.rlim_cur < l.rlim_max {
            l.rlim_cur = l.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &l);
        }
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// The `q` quantile of sorted `v`.
fn quantile(v: &[Duration], q: f64) -> Duration {
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

fn post(url: &str, body: Value) -> Value {
    ureq::post(url).send_json(body).unwrap_or_else(|e| panic!("POST {url}: {e}")).into_json().unwrap()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` (or `--all-targets`) runs
    // this binary without it, and a test run must not start a load run.
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.is_empty() || !argv.iter().any(|a| a == "--bench" || a.starts_with("--clients") || a.starts_with("--ws")) {
        println!("load: a benchmark; run it with `cargo bench -p twinsync-server --bench load`");
        return;
    }
    let a = args();
    raise_fd_limit();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("docs");
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.join(side)).unwrap();
    }
    std::fs::write(dir.join("a/one.md"), "# one\n").unwrap();
    twinsync::Project::init(&dir, "a", "b").unwrap();
    let server = Server::start(ServeOptions::new("127.0.0.1:0".parse().unwrap(), tmp.path().join("data"))).unwrap();
    let base = format!("http://{}", server.addr());
    let id =
        post(&format!("{base}/projects"), json!({"name": "docs", "path": dir}))["id"].as_str().unwrap().to_string();
    post(&format!("{base}/projects/{id}/docs/sync"), json!({}));
    let key =
        post(&format!("{base}/projects/{id}/api-keys"), json!({"name": "bench"}))["key"].as_str().unwrap().to_string();

    println!(
        "load: {} cores, load average before {}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        loadavg()
    );
    hook_status(&base, &id, &key, a.clients, a.requests);
    println!("load: load average after the hook run {}", loadavg());
    ws_fanout(&server, &base, &id, a.ws, a.puts);
    println!("load: load average after the WebSocket run {}", loadavg());
    server.stop().unwrap();
}

fn hook_status(base: &str, id: &str, key: &str, clients: usize, requests: usize) {
    let url = format!("{base}/hook/status/{id}");
    let auth = format!("Bearer {key}");
    let start = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let (url, auth, start) = (url.clone(), auth.clone(), start.clone());
            std::thread::spawn(move || {
                let agent = ureq::AgentBuilder::new().max_idle_connections_per_host(1).build();
                let get = || {
                    let r = agent.get(&url).set("Authorization", &auth).call().expect("hook status");
                    assert_eq!(r.status(), 200);
                    r.into_string().unwrap();
                };
                for _ in 0..20 {
                    get(); // warm: the connection, the pool's projects
                }
                start.wait();
                let mut took = Vec::with_capacity(requests);
                for _ in 0..requests {
                    let t = Instant::now();
                    get();
                    took.push(t.elapsed());
                }
                took
            })
        })
        .collect();
    start.wait();
    let t = Instant::now();
    let mut all: Vec<Duration> = threads.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let wall = t.elapsed();
    all.sort();
    println!(
        "hook_status: {clients} clients x {requests} requests = {} in {:.2} s: {:.0} req/s; p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        all.len(),
        wall.as_secs_f64(),
        all.len() as f64 / wall.as_secs_f64(),
        ms(quantile(&all, 0.5)),
        ms(quantile(&all, 0.99)),
        ms(*all.last().unwrap()),
    );
}

/// Per new hash: how many clients saw its `doc:updated`, and when the last did.
type Seen = Arc<Mutex<HashMap<String, (usize, Instant)>>>;

fn ws_fanout(server: &Server, base: &str, id: &str, clients: usize, puts: usize) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let seen: Seen = Arc::default();
    let addr = server.addr();
    let t = Instant::now();
    rt.block_on(async {
        for _ in 0..clients {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            let (mut ws, _) = tokio_tungstenite::client_async(format!("ws://{addr}/projects/{id}/ws"), stream)
                .await
                .expect("WebSocket handshake");
            let seen = seen.clone();
            tokio::spawn(async move {
                while let Some(Ok(m)) = ws.next().await {
                    let tokio_tungstenite::tungstenite::Message::Text(t) = m else { continue };
                    let e: Value = serde_json::from_str(t.as_str()).unwrap();
                    if e["type"] == "doc:updated" {
                        let hash = e["payload"]["hash"].as_str().or(e["payload"]["digest"].as_str()).unwrap_or("");
                        let mut seen = seen.lock().unwrap();
                        let entry = seen.entry(hash.to_string()).or_insert((0, Instant::now()));
                        *entry = (entry.0 + 1, Instant::now());
                    }
                }
            });
        }
    });
    println!("ws_fanout: {clients} clients connected in {:.2} s", t.elapsed().as_secs_f64());

    let doc = format!("{base}/projects/{id}/docs/one.md");
    let current: Value = ureq::get(&doc).call().unwrap().into_json().unwrap();
    let mut digest = current["digest"].as_str().unwrap().to_string();
    let (mut answered, mut reached) = (Vec::new(), Vec::new());
    for i in 0..puts {
        let t = Instant::now();
        let r: Value = ureq::put(&doc)
            .set("If-Match", &format!("\"{digest}\""))
            .send_json(json!({ "content": format!("# one, edit {i}\n") }))
            .expect("PUT")
            .into_json()
            .unwrap();
        answered.push(t.elapsed());
        digest = r["digest"].as_str().unwrap().to_string();
        let deadline = Instant::now() + Duration::from_secs(30);
        let last = loop {
            if let Some(&(n, at)) = seen.lock().unwrap().get(&digest) {
                if n == clients {
                    break at;
                }
            }
            assert!(Instant::now() < deadline, "PUT {i}: not every client saw doc:updated in 30 s");
            std::thread::sleep(Duration::from_millis(1));
        };
        reached.push(last - t);
        std::thread::sleep(Duration::from_millis(100));
    }
    answered.sort();
    reached.sort();
    println!(
        "ws_fanout: {clients} clients, {puts} PUTs: PUT answered p50 {:.1} ms, max {:.1} ms; PUT to the last client's doc:updated p50 {:.1} ms, max {:.1} ms",
        ms(quantile(&answered, 0.5)),
        ms(*answered.last().unwrap()),
        ms(quantile(&reached, 0.5)),
        ms(*reached.last().unwrap()),
    );
    rt.shutdown_background();
}
