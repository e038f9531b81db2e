//! `twinsync canonicalize` and `twinsync hash`.
//!
//! PLACEHOLDER: lands with the canonical hashing work.

use std::process::ExitCode;

/// Arguments of `twinsync canonicalize`.
#[derive(clap::Args)]
pub struct CanonicalizeArgs {
    /// The JSON file.
    pub file: std::path::PathBuf,
}

/// Arguments of `twinsync hash`.
#[derive(clap::Args)]
pub struct HashArgs {
    /// Files to hash.
    pub files: Vec<std::path::PathBuf>,
}

/// Runs `twinsync canonicalize`.
pub fn canonicalize(_a: CanonicalizeArgs) -> Result<ExitCode, String> {
    Err("not built yet".into())
}

/// Runs `twinsync hash`.
pub fn hash(_a: HashArgs) -> Result<ExitCode, String> {
    Err("not built yet".into())
}
