//! # twinsync-core
//!
//! The pure engine of twinsync: it keeps two replicas of a set of artifacts in step.
//! No file, network or clock access of its own — replicas, the store, the clock and
//! event transports are traits the host provides.
//!
//! The flow of one sync:
//!
//! 1. scan both replicas into digests ([`Replica::scan`]) and load the base
//!    ([`Store::load_base`]);
//! 2. classify every key ([`drift::detect`]);
//! 3. plan actions by direction and policy ([`plan::plan`]);
//! 4. apply them in batches ([`Engine::sync`]): the batch's intents in one store
//!    transaction, each item compare-and-swap on its side, one flush per side, then one
//!    store transaction committing the batch; undo them later if needed
//!    ([`Engine::undo`]). A run killed anywhere in between is finished or dropped from
//!    its intents by the next writer ([`Engine::recover`]).
//!
//! ```
//! use twinsync_core::{Content, Engine, EngineConfig, Key, ManualClock, MemoryReplica, MemoryStore, SyncOptions, Timestamp};
//!
//! let mut store = MemoryStore::new();
//! let clock = ManualClock::new(Timestamp::from_millis(1_700_000_000_000));
//! let (mut left, mut right) = (MemoryReplica::new("left"), MemoryReplica::new("right"));
//! let key = Key::new("docs/intro.md").unwrap();
//! left.put(&key, Content::Text("# Intro\n".into()));
//!
//! let mut engine = Engine::new(&mut store, &clock, EngineConfig::default());
//! let report = engine.sync(&mut left, &mut right, &SyncOptions::default()).unwrap();
//! assert_eq!(report.counts.applied, 1);
//! assert_eq!(right.get(&key), Some(&Content::Text("# Intro\n".into())));
//!
//! // Undo puts the right side back as it was.
//! engine.undo(&mut left, &mut right, None).unwrap();
//! assert!(right.get(&key).is_none());
//! ```
#![warn(missing_docs)]

pub mod api_key;
pub mod audit;
pub mod canonical;
pub mod clock;
pub mod content;
pub mod coverage;
pub mod coverage_history;
pub mod credential;
pub mod delivery;
pub mod digest;
pub mod drift;
pub mod engine;
/// The engine's behaviour as tests, run with the state in every store (feature `conformance`).
#[cfg(feature = "conformance")]
pub mod engine_conformance;
pub mod error;
pub mod event;
pub mod key;
pub mod lock;
mod memory_store;
pub mod merge;
pub mod moves;
pub mod packing;
pub mod plan;
pub mod policy;
pub mod replica;
pub mod report;
#[cfg(feature = "schema")]
mod schema;
pub mod secret;
pub mod snapshot;
pub mod sql;
pub mod store;
/// The `Store` contract as tests, run by every implementation (feature `conformance`).
#[cfg(feature = "conformance")]
pub mod store_conformance;
mod store_thread;
pub mod test_session;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use content::{Compare, Content, ContentKind, Digests, HashRules};
pub use digest::{tree_digest, Digest};
pub use drift::{detect, detect_owned, Drift, DriftClass, DriftItem, DriftRef, DriftSource, DriftView, ItemError};
pub use engine::{Engine, EngineConfig, Preview, Resolution, SyncOptions};
pub use error::{Error, ErrorCode, Result};
pub use event::{Event, EventType};
pub use key::Key;
pub use memory_store::MemoryStore;
pub use moves::Move;
pub use plan::{plan, Action, ActionKind, Plan};
pub use policy::{Direction, Directions, Policy, Side, Strategy};
pub use replica::{Entry, MemoryReplica, Replica, ScanFailure, Snapshot};
pub use report::{OperationReport, OperationStatus, OperationSummary, Outcome, Trigger, UndoReport};
pub use store::{Intent, LockChange, Store, StoreError, UndoLimits};
