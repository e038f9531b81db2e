//! The engine conformance suite from twinsync-core with the state in `SqliteStore`, in
//! memory and on a file: the same cases `MemoryStore` and PostgreSQL run.

mod common;

mod in_memory {
    use twinsync_sqlite::SqliteStore;

    twinsync_core::engine_conformance_tests!(Box::new(SqliteStore::open_in_memory().expect("open in memory")));
}

mod on_file {
    use twinsync_sqlite::SqliteStore;

    use super::common::fresh_db;

    twinsync_core::engine_conformance_tests!(Box::new(SqliteStore::open(&fresh_db("engine")).expect("open file")));
}
