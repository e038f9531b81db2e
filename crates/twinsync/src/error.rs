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
    /// The store named by a URL cannot be used (the URL's password is never shown).
    #[error("store {url}: {message}")]
    Store {
        /// The URL, password redacted.
        url: String,
        /// What is wrong.
        message: String,
    },
    /// Another sync of the pair held its lease for longer than the caller would wait.
    #[error("pair {pair}: another sync is running, by {holder}; gave up after waiting {} s (--wait)", waited.as_secs())]
    Busy {
        /// The pair.
        pair: String,
        /// Who runs the other sync.
        holder: String,
        /// How long the caller waited.
        waited: std::time::Duration,
    },
    /// Another owner holds the project lock, so nothing may be written.
    #[error("blocked {what}: the project lock is held by {holder} until {until}{}; you are {actor}. Wait for it, or ask {holder} to run `twinsync lock release`", reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default())]
    Locked {
        /// What was refused (`sync of pair docs`, `undo`).
        what: String,
        /// The lock's owner.
        holder: String,
        /// When the lock runs out.
        until: twinsync_core::Timestamp,
        /// Why it was taken.
        reason: Option<String>,
        /// Who asked.
        actor: String,
    },
    /// No pair of that name in the project.
    #[error("no pair {name:?} in this project; pairs: {}", if known.is_empty() { "none (add one with `twinsync pair add`)".to_string() } else { known.join(", ") })]
    UnknownPair {
        /// The name asked for.
        name: String,
        /// The project's pairs.
        known: Vec<String>,
    },
    /// What this kind of pair cannot do yet.
    #[error("pair {pair} ({kind}): {message}")]
    Unsupported {
        /// The pair.
        pair: String,
        /// Its kind.
        kind: String,
        /// What it cannot do, and what to use instead.
        message: String,
    },
    /// A credential (or the master key that seals them) cannot be used as asked. The
    /// message never holds a secret value or the key.
    #[error("credential {name}: {message}")]
    Credential {
        /// The credential's name (`master key` for the key itself).
        name: String,
        /// What is wrong, and what to do.
        message: String,
    },
    /// No credential of that name.
    #[error("credential {name}: no such credential; `twinsync credentials list` shows them, `add` creates one")]
    NoCredential {
        /// The name asked for.
        name: String,
    },
    /// An API key (or its name) cannot be used as asked. The message never holds a key.
    #[error("API key {subject}: {message}")]
    ApiKey {
        /// The key's id, or what about it is wrong (`name "..."`).
        subject: String,
        /// What is wrong.
        message: String,
    },
    /// No API key of that id.
    #[error("API key {id}: no such key in this project; `twinsync keys list` shows them")]
    NoApiKey {
        /// The id asked for.
        id: String,
    },
    /// A doc write named a version of the item that is no longer there: nothing written.
    #[error("doc {path}: it changed since it was read (you expected {expected}, it is {found}); read it again and redo the edit")]
    StaleDoc {
        /// The item.
        path: String,
        /// The digest the write expected (`absent`: none).
        expected: String,
        /// The digest found (`absent`: none).
        found: String,
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
            Error::Store { .. } => ErrorCode::Io,
            Error::Busy { .. } | Error::Locked { .. } => ErrorCode::Locked,
            Error::UnknownPair { .. } => ErrorCode::NotFound,
            Error::Unsupported { .. } => ErrorCode::InvalidInput,
            Error::NoCredential { .. } => ErrorCode::NotFound,
            Error::Credential { .. } => ErrorCode::InvalidInput,
            Error::ApiKey { .. } => ErrorCode::InvalidInput,
            Error::NoApiKey { .. } => ErrorCode::NotFound,
            Error::StaleDoc { .. } => ErrorCode::Conflict,
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
