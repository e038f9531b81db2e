//! # twinsync-git
//!
//! A folder of a branch of a git repository as a twinsync [`Replica`](twinsync_core::Replica):
//! a side spelled `git+https://host/owner/repo.git#main:docs` or
//! `git+file:///srv/repo.git#main:docs`.
//!
//! - **Scan** fetches the branch into a local bare mirror (no working copy) and reads
//!   the tree at its head; the items are the files under the folder, digested with the
//!   pair's rules and classified by extension exactly as a folder side does
//!   ([`twinsync_fs::content_of`]).
//! - **Writes and deletes** are compare-and-swap against that head and staged in memory;
//!   **flush** makes one commit of the batch (its message names the operation and the
//!   items, its author is the actor) and pushes it without force. A remote that moved
//!   meanwhile is fetched: if none of the batch's items changed there the commit is
//!   rebuilt on the new head, else the flush fails naming them, so the engine records no
//!   base and the next sync sees the upstream change as a conflict, never overwriting it.
//! - **Undo** writes the old versions back through the same path: a new commit. History
//!   is never rewritten.
//! - **Credentials**: a token, sent as the password of HTTP basic auth, only when the
//!   repository's own host asks. It never appears in a URL, a message or an error.
//!
//! ## Why libgit2 (`git2`)
//!
//! gitoxide (`gix`) reads and fetches well but cannot push yet, and a side that cannot
//! push is no side. libgit2 fetches and pushes over `file://` and smart HTTP(S) in
//! process, so the library never shells out to a `git` binary. It is built with HTTPS
//! only (system OpenSSL), without SSH, to keep the tree lean.
#![warn(missing_docs)]

mod replica;
pub mod spec;

pub use replica::{mirror_dir, GitOptions, GitReplica, REMOTE_MOVED};
pub use spec::{redact_url, GitSpec, SpecError};

/// The email commits are authored with when the project sets no `[git] author_email`:
/// the user's `user.email` from their git config (read by libgit2, no `git` process),
/// else `twinsync@localhost`.
pub fn default_author_email() -> String {
    git2::Config::open_default()
        .and_then(|c| c.get_string("user.email"))
        .ok()
        .filter(|e| !e.trim().is_empty())
        .unwrap_or_else(|| "twinsync@localhost".to_string())
}
