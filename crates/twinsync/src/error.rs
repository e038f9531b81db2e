//! The facade's error: the core's errors plus what opening a project can get wrong.

use std::path::{Path, PathBuf};

use twinsync_core::ErrorCode;

/// Everything that can go wrong opening or running a project.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No `.twinsync/` folder in the start folder or any parent.
    #[error("not a twinsync project (no .twinsync/ in {start} or any parent); run `twinsync init LEFT RIGHT` first")]
    NotAProject {
        /// Where the search started.
        start: PathBuf,
    },
    /// `init` in a folder that already has a project.
    #[error("{0} is already a twinsync project")]
    AlreadyInitialized(PathBuf),
    /// The config file is invalid.
    #[error("{}: {message}", path.display())]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file or folder could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// A core error (drift, merge, replica, store, lock, undo).
    #[error(transparent)]
    Core(#[from] twinsync_core::Error),
}

impl Error {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        Error::Io { path: path.to_path_buf(), source }
    }

    /// The binding-level code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::NotAProject { .. } => ErrorCode::NotFound,
            Error::AlreadyInitialized(_) | Error::Config { .. } => ErrorCode::InvalidInput,
            Error::Io { .. } => ErrorCode::Io,
            Error::Core(e) => e.code(),
        }
    }
}

impl From<twinsync_core::StoreError> for Error {
    fn from(e: twinsync_core::StoreError) -> Self {
        Error::Core(e.into())
    }
}

impl From<twinsync_core::replica::ReplicaError> for Error {
    fn from(e: twinsync_core::replica::ReplicaError) -> Self {
        Error::Core(e.into())
    }
}

/// Result with the facade error.
pub type Result<T, E = Error> = std::result::Result<T, E>;
