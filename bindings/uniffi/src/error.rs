//! The one error type every exported function and method returns, one case per core
//! [`ErrorCode`]: `TwinsyncException.Conflict` in Kotlin, `TwinsyncError.conflict` in
//! Swift, `TwinsyncError.Conflict` in Python.

use twinsync_core::ErrorCode;

/// A twinsync failure; the case is the error code, the message names the item and the
/// problem. Flat: hosts see the message (`e.message` in Kotlin, `str(e)` in Python).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
#[uniffi(flat_error)]
pub enum TwinsyncError {
    /// The input is malformed (bad JSON, key, digest, policy, direction, option).
    #[error("{reason}")]
    InvalidInput {
        /// What is wrong, naming the item.
        reason: String,
    },
    /// Something named does not exist (operation, project, item).
    #[error("{reason}")]
    NotFound {
        /// What was not found.
        reason: String,
    },
    /// Someone else changed it: nothing was overwritten.
    #[error("{reason}")]
    Conflict {
        /// Which item, and how.
        reason: String,
    },
    /// A lock is held by someone else, or the caller does not hold it.
    #[error("{reason}")]
    Locked {
        /// Which lock and who holds it.
        reason: String,
    },
    /// An undo window has closed, or the operation was already undone.
    #[error("{reason}")]
    Expired {
        /// Which operation.
        reason: String,
    },
    /// The sync was stopped to protect data (mass deletion).
    #[error("{reason}")]
    Unsafe {
        /// What would have been lost.
        reason: String,
    },
    /// Storage or I/O failed.
    #[error("{reason}")]
    Io {
        /// The path or store and the failure.
        reason: String,
    },
}

impl TwinsyncError {
    /// The error of `code` with message `reason`.
    pub fn new(code: ErrorCode, reason: impl Into<String>) -> Self {
        let reason = reason.into();
        match code {
            ErrorCode::InvalidInput => TwinsyncError::InvalidInput { reason },
            ErrorCode::NotFound => TwinsyncError::NotFound { reason },
            ErrorCode::Conflict => TwinsyncError::Conflict { reason },
            ErrorCode::Locked => TwinsyncError::Locked { reason },
            ErrorCode::Expired => TwinsyncError::Expired { reason },
            ErrorCode::Unsafe => TwinsyncError::Unsafe { reason },
            ErrorCode::Io => TwinsyncError::Io { reason },
        }
    }

    /// Bad input, described by `reason`.
    pub(crate) fn invalid(reason: impl Into<String>) -> Self {
        TwinsyncError::InvalidInput { reason: reason.into() }
    }

    /// The core error code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            TwinsyncError::InvalidInput { .. } => ErrorCode::InvalidInput,
            TwinsyncError::NotFound { .. } => ErrorCode::NotFound,
            TwinsyncError::Conflict { .. } => ErrorCode::Conflict,
            TwinsyncError::Locked { .. } => ErrorCode::Locked,
            TwinsyncError::Expired { .. } => ErrorCode::Expired,
            TwinsyncError::Unsafe { .. } => ErrorCode::Unsafe,
            TwinsyncError::Io { .. } => ErrorCode::Io,
        }
    }
}

impl From<twinsync::Error> for TwinsyncError {
    fn from(e: twinsync::Error) -> Self {
        TwinsyncError::new(e.code(), e.to_string())
    }
}

impl From<twinsync_core::Error> for TwinsyncError {
    fn from(e: twinsync_core::Error) -> Self {
        TwinsyncError::new(e.code(), e.to_string())
    }
}

impl From<twinsync_core::canonical::CanonicalError> for TwinsyncError {
    fn from(e: twinsync_core::canonical::CanonicalError) -> Self {
        twinsync_core::Error::from(e).into()
    }
}

impl From<twinsync_core::coverage::CoverageError> for TwinsyncError {
    fn from(e: twinsync_core::coverage::CoverageError) -> Self {
        twinsync_core::Error::from(e).into()
    }
}

/// Result with the binding error.
pub type Result<T, E = TwinsyncError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    const CODES: [ErrorCode; 7] = [
        ErrorCode::InvalidInput,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::Locked,
        ErrorCode::Expired,
        ErrorCode::Unsafe,
        ErrorCode::Io,
    ];

    #[test]
    fn every_core_code_has_its_own_case_and_keeps_the_message() {
        let cases: Vec<TwinsyncError> = CODES.iter().map(|c| TwinsyncError::new(*c, c.as_str())).collect();
        for (case, code) in cases.iter().zip(CODES) {
            assert_eq!(case.code(), code);
            assert_eq!(case.to_string(), code.as_str());
        }
        for (i, a) in cases.iter().enumerate() {
            for b in &cases[i + 1..] {
                assert_ne!(std::mem::discriminant(a), std::mem::discriminant(b));
            }
        }
    }

    #[test]
    fn facade_errors_keep_their_code_and_message() {
        let conflict = twinsync_core::Error::Replica(twinsync_core::replica::ReplicaError::Conflict {
            key: twinsync_core::Key::new("a.md").unwrap(),
            expected: "absent".into(),
            found: "sha256:00".into(),
        });
        let message = conflict.to_string();
        let e = TwinsyncError::from(twinsync::Error::Core(conflict));
        assert_eq!(e, TwinsyncError::Conflict { reason: message });

        let e = TwinsyncError::from(twinsync::Error::NotAProject { start: "/tmp/x".into() });
        assert_eq!(e.code(), ErrorCode::NotFound);
        assert!(e.to_string().contains("/tmp/x"), "{e}");
    }

    #[test]
    fn coverage_cache_failures_are_io_and_bad_input_is_invalid() {
        use twinsync_core::coverage::CoverageError;
        let io = TwinsyncError::from(CoverageError::Cache(twinsync_core::StoreError::Backend("disk full".into())));
        assert_eq!(io.code(), ErrorCode::Io);
        let bad = TwinsyncError::from(CoverageError::DuplicateComponent("Button".into()));
        assert_eq!(
            bad,
            TwinsyncError::InvalidInput { reason: "component \"Button\" is defined more than once".into() }
        );
    }
}
