//! `TWINSYNC_STORE_URL` wins over `[store] url` (its own test binary: it sets the
//! process environment).

use twinsync::{Project, SyncRequest, STORE_URL_ENV};

#[test]
fn the_environment_names_the_store_over_the_config() {
    let dir = tempfile::tempdir().unwrap();
    for side in ["a", "b"] {
        std::fs::create_dir_all(dir.path().join(side)).unwrap();
    }
    std::fs::write(dir.path().join("a/one.md"), "# one\n").unwrap();
    let mut config = twinsync::Config::new("a", "b");
    config.store.url = Some("sqlite:state/configured.db".into());
    Project::init_with(dir.path(), config).unwrap();
    assert!(dir.path().join("state/configured.db").exists(), "the configured store is used");
    assert!(!dir.path().join(".twinsync/state.db").exists());

    std::env::set_var(STORE_URL_ENV, "sqlite:elsewhere/env.db");
    let mut p = Project::open(dir.path()).unwrap();
    p.sync(&SyncRequest::default()).unwrap();
    assert!(dir.path().join("elsewhere/env.db").exists(), "the environment wins");
    assert_eq!(p.store_url().sqlite_path(), Some(dir.path().join("elsewhere/env.db").as_path()));
    std::env::set_var(STORE_URL_ENV, "postgres://ann:hunter2@127.0.0.1:1/none");
    let e = Project::open(dir.path()).err().unwrap().to_string();
    assert!(!e.contains("hunter2"), "no password in errors: {e}");
    std::env::remove_var(STORE_URL_ENV);
}
