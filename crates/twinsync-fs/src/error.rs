//! The crate's error type for what is not a replica operation (watching, pruning backups).

use std::path::PathBuf;

/// A filesystem failure outside the `Replica` trait; each variant names the path.
#[derive(Debug, thiserror::Error)]
pub enum FsError {
    /// An I/O call failed on `path`.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path at fault.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The watcher could not start or keep watching `path`.
    #[error("cannot watch {}: {message}", path.display())]
    Watch {
        /// The watched root.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An ignore glob that cannot be parsed.
    #[error("invalid ignore glob {glob:?}: {message}")]
    Glob {
        /// The glob as given.
        glob: String,
        /// Why it is invalid.
        message: String,
    },
}

impl FsError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        FsError::Io { path: path.into(), source }
    }
}
