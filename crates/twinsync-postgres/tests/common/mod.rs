//! Helpers shared by the PostgreSQL tests: the server from `TWINSYNC_TEST_POSTGRES_URL`
//! (a test fails, never skips, without it), fresh project ids, fresh databases.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

/// The variable naming the test server.
pub const URL_ENV: &str = "TWINSYNC_TEST_POSTGRES_URL";

const HOW: &str = "`.ci/run` starts a throwaway cluster and sets it (by hand: \
    `source .ci/postgres.sh && twinsync_pg_start` from the repository root, which installs \
    Debian's postgresql if missing, runs initdb under target/pg as the postgres user and \
    starts it on 127.0.0.1:55432)";

static NEXT: AtomicUsize = AtomicUsize::new(0);

/// The test server's URL, checked reachable once; panics saying how to start one.
pub fn url() -> String {
    static CHECKED: OnceLock<Result<String, String>> = OnceLock::new();
    CHECKED
        .get_or_init(|| {
            let url = std::env::var(URL_ENV)
                .ok()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| format!("{URL_ENV} is not set: these tests need a real PostgreSQL server; {HOW}"))?;
            let mut client = postgres::Client::connect(&url, postgres::NoTls)
                .map_err(|e| format!("{URL_ENV} is set but the server cannot be reached ({e}); {HOW}"))?;
            client.simple_query("SELECT 1").map_err(|e| format!("{URL_ENV}: the server answered with {e}; {HOW}"))?;
            Ok(url)
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A project id no other test (in this run or an earlier one) uses.
pub fn fresh_project(name: &str) -> String {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    format!("{name}-{}-{n}-{nanos}", std::process::id())
}

/// `url` with its database replaced by `db`.
pub fn with_database(url: &str, db: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let query = tail.split_once('?').map(|(_, q)| format!("?{q}")).unwrap_or_default();
    format!("{scheme}://{authority}/{db}{query}")
}

/// `url` with password `password` added to its user.
pub fn with_password(url: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let (user, host) = rest.split_once('@').expect("a URL with a user");
    let user = user.split_once(':').map_or(user, |(u, _)| u);
    format!("{scheme}://{user}:{password}@{host}")
}

/// A new, empty database on the test server; returns its URL.
pub fn fresh_database(name: &str) -> String {
    let base = url();
    let db = fresh_project(name).replace('-', "_").to_ascii_lowercase();
    let db = format!("ts_{}", &db[..db.len().min(55)]);
    let mut admin = postgres::Client::connect(&with_database(&base, "postgres"), postgres::NoTls)
        .expect("connect to the postgres database to create a test database");
    admin.batch_execute(&format!("CREATE DATABASE \"{db}\"")).expect("create a test database");
    with_database(&base, &db)
}

/// Drops a database made by [`fresh_database`] (best effort).
pub fn drop_database(url: &str) {
    let db = url.rsplit('/').next().unwrap_or_default().split('?').next().unwrap_or_default().to_string();
    if let Ok(mut admin) = postgres::Client::connect(&with_database(url, "postgres"), postgres::NoTls) {
        let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS \"{db}\" WITH (FORCE)"));
    }
}

/// A plain connection to the test server (for SQL written straight into the tables).
pub fn client(url: &str) -> postgres::Client {
    let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    c.batch_execute("SET search_path TO twinsync").expect("search_path");
    c
}
