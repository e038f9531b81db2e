//! The core's error type and the small set of codes bindings map it to.

use serde::{Deserialize, Serialize};

use crate::canonical::CanonicalError;
use crate::content::ContentError;
use crate::coverage::CoverageError;
use crate::key::{Key, KeyError};
use crate::lock::LockError;
use crate::policy::ParseError;
use crate::replica::ReplicaError;
use crate::store::StoreError;

/// Everything that can go wrong in the core. Each variant names the item or record.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// JSON that cannot be canonicalised.
    #[error(transparent)]
    Canonical(#[from] CanonicalError),
    /// A key that is not valid.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// An item whose content cannot be read as its kind.
    #[error("{key}: {source}")]
    Content {
        /// The item.
        key: Key,
        /// What is wrong.
        source: ContentError,
    },
    /// A direction, side or policy that cannot be parsed.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A replica failure.
    #[error(transparent)]
    Replica(#[from] ReplicaError),
    /// A store failure.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A lock refusal.
    #[error(transparent)]
    Lock(#[from] LockError),
    /// Coverage input that cannot be computed from (or its cache failed).
    #[error(transparent)]
    Coverage(#[from] CoverageError),
    /// No such operation (or nothing to undo).
    #[error("{0}")]
    NotFound(String),
    /// The operation was undone already.
    #[error("operation {0} was already undone")]
    AlreadyUndone(String),
    /// The operation is past its undo window.
    #[error("operation {operation_id} can no longer be undone (reversible until {until})")]
    Expired {
        /// The operation.
        operation_id: String,
        /// When its window closed.
        until: String,
    },
    /// A replica scans empty (or nearly) while the base holds many items: most likely
    /// an unmounted disk or a wrong path, so the sync stops instead of deleting.
    #[error("replica {replica} would lose {deletions} of {base_items} items in one sync; this looks like a missing or wrong root. Nothing was changed. Pass --allow-mass-delete if this is intended")]
    MassDeletion {
        /// The replica that scanned (nearly) empty.
        replica: String,
        /// Deletions the sync would propagate.
        deletions: usize,
        /// Items in the base.
        base_items: usize,
    },
    /// Bad input that fits no other variant.
    #[error("invalid input: {0}")]
    InvalidInput(String),
}

/// The small set of error codes every binding exposes (`e.code` in Node, the exception
/// class in Python, the error case in Kotlin and Swift).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    /// The input is malformed.
    InvalidInput,
    /// Something named does not exist.
    NotFound,
    /// Someone else changed it: nothing was overwritten.
    Conflict,
    /// A lock is held by someone else, or the caller does not hold it.
    Locked,
    /// An undo window has closed, or an operation was already undone.
    Expired,
    /// The sync was stopped to protect data (mass deletion).
    Unsafe,
    /// Storage or I/O failed.
    Io,
}

impl ErrorCode {
    /// The code as written in bindings (`INVALID_INPUT`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidInput => "INVALID_INPUT",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Conflict => "CONFLICT",
            ErrorCode::Locked => "LOCKED",
            ErrorCode::Expired => "EXPIRED",
            ErrorCode::Unsafe => "UNSAFE",
            ErrorCode::Io => "IO",
        }
    }
}

impl Error {
    /// The binding-level code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::Canonical(_) | Error::Key(_) | Error::Content { .. } | Error::Parse(_) | Error::InvalidInput(_) => {
                ErrorCode::InvalidInput
            }
            Error::Replica(r) => match r {
                ReplicaError::Conflict { .. } => ErrorCode::Conflict,
                ReplicaError::NotFound(_) => ErrorCode::NotFound,
                ReplicaError::InvalidKey(_) | ReplicaError::InvalidContent { .. } => ErrorCode::InvalidInput,
                ReplicaError::Unavailable { .. } | ReplicaError::Io { .. } => ErrorCode::Io,
            },
            Error::Store(StoreError::NotFound(_)) | Error::NotFound(_) => ErrorCode::NotFound,
            Error::Store(_) => ErrorCode::Io,
            Error::Lock(_) => ErrorCode::Locked,
            Error::Coverage(CoverageError::Cache(_)) => ErrorCode::Io,
            Error::Coverage(_) => ErrorCode::InvalidInput,
            Error::AlreadyUndone(_) | Error::Expired { .. } => ErrorCode::Expired,
            Error::MassDeletion { .. } => ErrorCode::Unsafe,
        }
    }
}

/// Result with the core error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::CoverageError;

    #[test]
    fn coverage_errors_are_bad_input_unless_the_cache_failed() {
        let bad = Error::from(CoverageError::DuplicateComponent("Button".into()));
        assert_eq!(bad.code(), ErrorCode::InvalidInput);
        assert!(bad.to_string().contains("Button"), "{bad}");
        let io = Error::from(CoverageError::Cache(StoreError::Backend("disk full".into())));
        assert_eq!(io.code(), ErrorCode::Io);
    }
}
