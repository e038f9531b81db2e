//! The conflict policies of the OpenSpec sync, their names and what each means in
//! twinsync-core's terms (the files are the left side, the database the right).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use twinsync_core::{Policy, Side, Strategy};

/// How a document edited on both sides since the last sync is resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SyncPolicy {
    /// The files win; the database's version is kept in `versions`.
    #[default]
    FsWins,
    /// Three-way merge of the markdown; a conflicting merge falls back to the files and is recorded.
    Merge,
    /// Leave the conflict for a person: neither side changes, the row carries the error.
    Manual,
}

impl SyncPolicy {
    /// `fs-wins`, `merge` or `manual`.
    pub const fn as_str(self) -> &'static str {
        match self {
            SyncPolicy::FsWins => "fs-wins",
            SyncPolicy::Merge => "merge",
            SyncPolicy::Manual => "manual",
        }
    }
    /// The core policy (files are the left side, the database the right).
    pub fn core(self) -> Policy {
        match self {
            SyncPolicy::FsWins => Policy::prefer(Side::Left),
            SyncPolicy::Merge => Policy::new(Strategy::Merge { fallback: Some(Side::Left) }),
            SyncPolicy::Manual => Policy::manual(),
        }
    }
}

impl fmt::Display for SyncPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A policy name that is not `fs-wins`, `merge` or `manual`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown sync policy {0:?}; expected fs-wins, merge or manual")]
pub struct UnknownPolicy(pub String);

impl FromStr for SyncPolicy {
    type Err = UnknownPolicy;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "fs-wins" => Ok(SyncPolicy::FsWins),
            "merge" => Ok(SyncPolicy::Merge),
            "manual" => Ok(SyncPolicy::Manual),
            _ => Err(UnknownPolicy(s.to_string())),
        }
    }
}
