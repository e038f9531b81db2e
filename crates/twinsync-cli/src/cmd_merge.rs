//! `twinsync merge-file`: `git merge-file`'s arguments, output and exit status.
//!
//! PLACEHOLDER: lands with the merge work.

use std::process::ExitCode;

/// Arguments of `twinsync merge-file`.
#[derive(clap::Args)]
pub struct MergeFileArgs {
    /// CURRENT BASE OTHER.
    pub files: Vec<std::path::PathBuf>,
}

/// Runs `twinsync merge-file`.
pub fn merge_file(_a: MergeFileArgs) -> Result<ExitCode, String> {
    Err("not built yet".into())
}
