//! The store conformance suite from twinsync-core, run against `PgStore` on a real
//! PostgreSQL server (`TWINSYNC_TEST_POSTGRES_URL`), each case in a fresh project of
//! one shared database, so the cases run in parallel.

mod common;

use twinsync_postgres::PgStore;

twinsync_core::store_conformance_tests!(Box::new(
    PgStore::open(&common::url(), &common::fresh_project("conformance")).expect("open the PostgreSQL store")
));
