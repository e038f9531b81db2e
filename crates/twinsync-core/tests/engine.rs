//! The engine conformance suite run with the state in `MemoryStore`; the SQLite and
//! PostgreSQL crates run the same cases on theirs.

use twinsync_core::engine_conformance::{run_all, CASES};
use twinsync_core::{MemoryStore, Store};

twinsync_core::engine_conformance_tests!(Box::new(MemoryStore::new()));

#[test]
fn run_all_runs_every_case() {
    let mut made = 0;
    run_all(&mut || {
        made += 1;
        Box::new(MemoryStore::new()) as Box<dyn Store>
    });
    assert_eq!(made, CASES.len(), "one fresh store per case");
}
