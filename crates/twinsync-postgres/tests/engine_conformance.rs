//! The engine conformance suite from twinsync-core with the state in `PgStore` on a real
//! PostgreSQL server (`TWINSYNC_TEST_POSTGRES_URL`): the same cases `MemoryStore` and
//! SQLite run, each in a fresh project of one shared database, so they run in parallel.

mod common;

use twinsync_postgres::PgStore;

twinsync_core::engine_conformance_tests!(Box::new(
    PgStore::open(&common::url(), &common::fresh_project("engine")).expect("open the PostgreSQL store")
));
