//! The crate's error type: every input problem names the file, the JSON Pointer of the
//! value at fault and what was expected.

use std::path::PathBuf;

/// Anything that can go wrong reading design or code inputs, or writing scaffolds.
#[derive(Debug, thiserror::Error)]
pub enum DesignError {
    /// A file could not be read or written.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The file is not JSON at all.
    #[error("{file}: not valid JSON: {problem}")]
    Syntax {
        /// The file (or a label for in-memory input).
        file: String,
        /// What the JSON parser said.
        problem: String,
    },
    /// The JSON is well formed but a value is not what the format requires.
    #[error("{file}: at {}: {problem}", if .path.is_empty() { "/" } else { .path.as_str() })]
    Invalid {
        /// The file (or a label for in-memory input).
        file: String,
        /// JSON Pointer of the value at fault.
        path: String,
        /// What is wrong and what was expected.
        problem: String,
    },
    /// The file's format could not be recognised.
    #[error("{file}: {problem}")]
    UnknownFormat {
        /// The file.
        file: String,
        /// Which formats were tried.
        problem: String,
    },
    /// Canonical hashing failed (only for values beyond what JCS can represent).
    #[error("component {component:?}: {source}")]
    Canonical {
        /// The component being hashed.
        component: String,
        /// The canonicaliser's error.
        source: twinsync_core::canonical::CanonicalError,
    },
    /// Coverage arithmetic rejected the model (e.g. an axis without options).
    #[error(transparent)]
    Coverage(#[from] twinsync_core::coverage::CoverageError),
    /// The engine or its store failed while syncing.
    #[error("sync: {0}")]
    Sync(String),
}

impl DesignError {
    /// An `Invalid` error at `path` in `file`.
    pub fn invalid(file: &str, path: &str, problem: impl Into<String>) -> Self {
        DesignError::Invalid { file: file.to_string(), path: path.to_string(), problem: problem.into() }
    }
}

/// Result with [`DesignError`].
pub type Result<T, E = DesignError> = std::result::Result<T, E>;
