//! Options of a filesystem replica.

use std::path::PathBuf;

use twinsync_core::HashRules;

/// What a scan does with symbolic links. Links are never followed out of the root.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum SymlinkMode {
    /// Leave links alone: a scan skips them (with a warning) and writes refuse to replace them.
    #[default]
    Skip,
    /// A link to a regular file inside the root is read and written as that file; links
    /// to directories or out of the root are skipped with a warning.
    FollowWithinRoot,
    /// A link is an item of its own: its target text is synced as a link and never
    /// followed. Writes refuse a target that is absolute or climbs out of the root.
    Links,
}

/// How a folder is opened as a replica.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FsOptions {
    /// Name for messages; the root path when empty.
    pub name: String,
    /// How content is digested (must match the other replica's rules).
    pub rules: HashRules,
    /// Extra gitignore-style globs to skip, on top of `.gitignore`, `.ignore` and `.twinsyncignore` files.
    pub ignore: Vec<String>,
    /// What to do with symbolic links.
    pub symlinks: SymlinkMode,
    /// Where overwritten and deleted files are copied to, as `<backup_dir>/<operation_id>/<key>`.
    pub backup_dir: Option<PathBuf>,
}
