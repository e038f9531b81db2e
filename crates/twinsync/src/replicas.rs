//! The kinds of replica a project config can name: a folder, the project database
//! (the documents table of the SQLite or the PostgreSQL store), the two sides of an
//! `openspec` pair, a components file of a design pair, or a folder of a git branch.

use twinsync_core::replica::{Flush, ItemReader, ReplicaError, ScanFailure, Snapshot, WriteContext};
use twinsync_core::{Content, Digest, HashRules, Key, Replica};
use twinsync_design::sync::ManifestReplica;
use twinsync_fs::FsReplica;
#[cfg(feature = "git")]
use twinsync_git::GitReplica;
use twinsync_openspec::{OpenSpecDb, OpenSpecFiles};
use twinsync_postgres::PgReplica;
use twinsync_sqlite::SqliteReplica;

/// A replica named in `.twinsync/config.toml`. Sides are opened once per operation, so
/// the size difference between variants costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
pub enum AnyReplica {
    /// A folder on disk.
    Fs(FsReplica),
    /// The `documents` table of the project's SQLite database.
    Db(SqliteReplica),
    /// The `documents` table of the project's PostgreSQL database (a team store).
    Pg(PgReplica),
    /// The `openspec/` folder of an `openspec` pair.
    OpenSpecFiles(OpenSpecFiles),
    /// The OpenSpec database of an `openspec` pair.
    OpenSpecDb(OpenSpecDb),
    /// The components of a design pair's side (code or design), one item per component.
    Design(ManifestReplica),
    /// A folder of a branch of a git repository (`git+URL#BRANCH:PATH`).
    #[cfg(feature = "git")]
    Git(GitReplica),
}

impl AnyReplica {
    fn inner(&self) -> &dyn Replica {
        match self {
            AnyReplica::Fs(r) => r,
            AnyReplica::Db(r) => r,
            AnyReplica::Pg(r) => r,
            AnyReplica::OpenSpecFiles(r) => r,
            AnyReplica::OpenSpecDb(r) => r,
            AnyReplica::Design(r) => r,
            #[cfg(feature = "git")]
            AnyReplica::Git(r) => r,
        }
    }
    fn inner_mut(&mut self) -> &mut dyn Replica {
        match self {
            AnyReplica::Fs(r) => r,
            AnyReplica::Db(r) => r,
            AnyReplica::Pg(r) => r,
            AnyReplica::OpenSpecFiles(r) => r,
            AnyReplica::OpenSpecDb(r) => r,
            AnyReplica::Design(r) => r,
            #[cfg(feature = "git")]
            AnyReplica::Git(r) => r,
        }
    }
}

impl Replica for AnyReplica {
    fn name(&self) -> &str {
        self.inner().name()
    }
    fn rules(&self) -> &HashRules {
        self.inner().rules()
    }
    fn scan(&mut self) -> Result<Snapshot, ReplicaError> {
        self.inner_mut().scan()
    }
    fn scan_failures(&self) -> Vec<ScanFailure> {
        self.inner().scan_failures()
    }
    fn read(&self, key: &Key) -> Result<Option<Content>, ReplicaError> {
        self.inner().read(key)
    }
    fn digest(&self, key: &Key) -> Result<Option<Digest>, ReplicaError> {
        self.inner().digest(key)
    }
    fn write(
        &mut self,
        key: &Key,
        content: &Content,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        self.inner_mut().write(key, content, expected, ctx)
    }
    fn read_expected(&self, key: &Key, expected: Option<&Digest>) -> Result<Option<Content>, ReplicaError> {
        self.inner().read_expected(key, expected)
    }
    fn write_digested(
        &mut self,
        key: &Key,
        content: &Content,
        post: &Digest,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        self.inner_mut().write_digested(key, content, post, expected, ctx)
    }
    fn delete(&mut self, key: &Key, expected: &Digest, ctx: &WriteContext) -> Result<(), ReplicaError> {
        self.inner_mut().delete(key, expected, ctx)
    }
    fn flush(&mut self) -> Result<(), ReplicaError> {
        self.inner_mut().flush()
    }
    fn flush_later(&mut self) -> Result<Option<Flush>, ReplicaError> {
        self.inner_mut().flush_later()
    }
    fn open(&self, key: &Key) -> Result<Option<ItemReader>, ReplicaError> {
        self.inner().open(key)
    }
    fn write_from(
        &mut self,
        key: &Key,
        src: &mut dyn std::io::Read,
        post: &Digest,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        self.inner_mut().write_from(key, src, post, expected, ctx)
    }
    fn rename(&mut self, from: &Key, to: &Key, expected: &Digest, ctx: &WriteContext) -> Result<Digest, ReplicaError> {
        self.inner_mut().rename(from, to, expected, ctx)
    }
    fn keeps_backups(&self) -> bool {
        self.inner().keeps_backups()
    }
    fn open_backup(&self, key: &Key, operation_id: &str) -> Result<Option<ItemReader>, ReplicaError> {
        self.inner().open_backup(key, operation_id)
    }
}
