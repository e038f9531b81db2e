//! The store conformance suite run against `MemoryStore`, the reference implementation.

use twinsync_core::store_conformance::{run_all, CASES};
use twinsync_core::{MemoryStore, Store};

twinsync_core::store_conformance_tests!(Box::new(MemoryStore::new()));

#[test]
fn run_all_runs_every_case() {
    let mut made = 0;
    run_all(&mut || {
        made += 1;
        Box::new(MemoryStore::new()) as Box<dyn Store>
    });
    assert_eq!(made, CASES.len(), "one fresh store per case");
}
