//! The store conformance suite from twinsync-core, run against `SqliteStore` in memory
//! and on a file.

mod common;

mod in_memory {
    use twinsync_sqlite::SqliteStore;

    twinsync_core::store_conformance_tests!(Box::new(SqliteStore::open_in_memory().expect("open in memory")));
}

mod on_file {
    use twinsync_sqlite::SqliteStore;

    use super::common::fresh_db;

    twinsync_core::store_conformance_tests!(Box::new(SqliteStore::open(&fresh_db("conformance")).expect("open file")));
}
