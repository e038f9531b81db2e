//! [`GitReplica`]: the files under one folder of one branch, read from a local bare
//! mirror of the remote, written as one commit per flush pushed without force.

use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use git2::build::TreeUpdateBuilder;
use git2::{
    AutotagOption, CredentialType, ErrorCode, FetchOptions, FileMode, ObjectType, Oid, PushOptions, RemoteCallbacks,
    Repository, Signature, TreeWalkMode, TreeWalkResult,
};
use sha2::{Digest as _, Sha256};
use twinsync_core::replica::{Entry, ReplicaError, ScanFailure, Snapshot, WriteContext};
use twinsync_core::secret::Secret;
use twinsync_core::{Content, Digest, HashRules, Key, Replica};

use crate::spec::{host_of, redact_url, GitSpec};

/// The user name sent with a token when the URL names none: GitHub and Gitea accept
/// any name with a personal access token; a host that wants a particular one (GitLab's
/// `oauth2`) takes it from the URL, `https://oauth2@host/...`.
const TOKEN_USER: &str = "x-access-token";

/// What the error of a flush says when the branch moved under it and changed one of its
/// items: the facade runs the sync once more against the new head when it sees it.
pub const REMOTE_MOVED: &str = "moved on the remote since the scan";

/// How many times a flush rebuilds its commit on a remote head that moved without
/// touching its items, before it gives up and leaves the items to the next sync.
const PUSH_ATTEMPTS: usize = 3;

/// How a [`GitReplica`] is opened.
#[derive(Debug, Clone)]
pub struct GitOptions {
    /// A short name for messages (the side spec, credentials redacted).
    pub name: String,
    /// The rules items are digested with (the pair's).
    pub rules: HashRules,
    /// The folder holding the local mirrors, one per remote URL (`.twinsync/git`).
    pub cache_dir: PathBuf,
    /// The token sent (as the password of HTTP basic auth) to the repository's host only.
    pub token: Option<Secret>,
    /// The name the token is known by, for messages (never the token).
    pub credential: Option<String>,
    /// Commit author and committer name (the actor).
    pub author_name: String,
    /// Commit author and committer email.
    pub author_email: String,
    /// Gitignore-style globs of paths never scanned or written (the pair's `ignore`).
    pub ignore: Vec<String>,
}

/// One staged change to an item, applied by the next flush.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    /// The item holds this blob with this mode.
    Put(Oid, i32),
    /// The item is gone.
    Delete,
}

/// A folder of a branch of a git repository as a replica.
///
/// Scans and reads see the branch head as last fetched, plus what was written since
/// the last flush. Writes and deletes are compare-and-swap against that view and are
/// staged in memory (their blobs go to the mirror's object store); [`Replica::flush`]
/// makes one commit of everything staged on top of the scanned head and pushes it
/// without force. Nothing reaches the remote, or is reported durable, before that push
/// succeeds.
pub struct GitReplica {
    spec: GitSpec,
    opts: GitOptions,
    repo: Repository,
    ignore: Option<ignore::gitignore::Gitignore>,
    /// The branch head last fetched (`None`: the branch does not exist yet).
    head: Option<Oid>,
    /// The head the staged changes were compared against.
    staged_on: Option<Oid>,
    staged: BTreeMap<Key, Change>,
    /// Operation ids of the staged changes, for the commit message.
    operations: BTreeSet<String>,
    scanned: bool,
    failures: Vec<ScanFailure>,
}

/// Why a push did not land.
enum PushError {
    /// The remote refused the update as not a fast-forward: its branch is probably no
    /// longer where we built on (what it said, for when it is).
    Moved(String),
    /// Anything else, already a replica error.
    Other(ReplicaError),
}

impl GitReplica {
    /// Opens the side `spec`: creates or reuses its mirror under `opts.cache_dir` and
    /// fetches the branch, so the first scan (and any recovery before it) sees the
    /// remote as it is now. A refused credential is an error here, before anything is
    /// written.
    pub fn open(spec: &GitSpec, opts: GitOptions) -> Result<GitReplica, ReplicaError> {
        let mirror = mirror_dir(&opts.cache_dir, &spec.url);
        let name = opts.name.clone();
        let unavailable = |reason: String| ReplicaError::Unavailable { name: name.clone(), reason };
        std::fs::create_dir_all(&opts.cache_dir)
            .map_err(|e| unavailable(format!("cannot create {}: {e}", opts.cache_dir.display())))?;
        let repo = open_or_create_mirror(&mirror)
            .map_err(|e| unavailable(format!("cannot create the mirror {}: {e}", mirror.display())))?;
        clear_stale_scratch_refs(&repo);
        let ignore = if opts.ignore.is_empty() {
            None
        } else {
            let mut b = ignore::gitignore::GitignoreBuilder::new("");
            for glob in &opts.ignore {
                b.add_line(None, glob).map_err(|e| unavailable(format!("ignore {glob:?}: {e}")))?;
            }
            Some(b.build().map_err(|e| unavailable(format!("ignore rules: {e}")))?)
        };
        let mut r = GitReplica {
            spec: spec.clone(),
            opts,
            repo,
            ignore,
            head: None,
            staged_on: None,
            staged: BTreeMap::new(),
            operations: BTreeSet::new(),
            scanned: false,
            failures: Vec::new(),
        };
        r.fetch()?;
        Ok(r)
    }

    /// The branch head as last fetched or pushed (`None` before the branch exists).
    pub fn head(&self) -> Option<Oid> {
        self.head
    }

    /// The side this replica reads and writes.
    pub fn spec(&self) -> &GitSpec {
        &self.spec
    }

    fn unavailable(&self, reason: impl Into<String>) -> ReplicaError {
        ReplicaError::Unavailable { name: self.opts.name.clone(), reason: reason.into() }
    }

    fn tracking_ref(&self) -> String {
        format!("refs/twinsync/heads/{}", self.spec.branch)
    }

    /// Callbacks that answer a credential request with the token, only for the
    /// repository's own host and only once (a second request means it was refused).
    fn callbacks<'a>(&'a self, refused: &'a Cell<Option<AuthProblem>>) -> RemoteCallbacks<'a> {
        let mut cb = RemoteCallbacks::new();
        let asked = Cell::new(false);
        cb.credentials(move |url, user, allowed| {
            let problem = if asked.replace(true) {
                AuthProblem::Refused
            } else if self.opts.token.is_none() {
                AuthProblem::NoCredential
            } else if host_of(url).map(str::to_ascii_lowercase) != self.spec.host().map(str::to_ascii_lowercase) {
                AuthProblem::OtherHost(host_of(url).unwrap_or("").to_string())
            } else if !allowed.contains(CredentialType::USER_PASS_PLAINTEXT) {
                AuthProblem::Unsupported
            } else {
                let token = self.opts.token.as_ref().map(Secret::expose).unwrap_or_default();
                return git2::Cred::userpass_plaintext(user.unwrap_or(TOKEN_USER), token);
            };
            refused.set(Some(problem));
            Err(git2::Error::from_str("no credential to offer"))
        });
        cb
    }

    /// A network failure as a replica error: authentication problems in our own words
    /// (naming the credential, never its value), others with libgit2's message.
    fn network_error(&self, what: &str, e: &git2::Error, auth: Option<AuthProblem>) -> ReplicaError {
        let url = redact_url(&self.spec.url);
        let cred = self.opts.credential.as_deref().map_or_else(String::new, |c| format!(" (credential {c})"));
        let reason = match auth {
            Some(AuthProblem::Refused) => format!(
                "{what} {url}: authentication failed (HTTP 401): the token{cred} was refused; nothing was written"
            ),
            Some(AuthProblem::NoCredential) => format!(
                "{what} {url}: the server asks for credentials (HTTP 401); name one with left_credential / right_credential"
            ),
            Some(AuthProblem::OtherHost(h)) => {
                format!("{what} {url}: credentials were asked for by another host ({h}); the token was not sent")
            }
            Some(AuthProblem::Unsupported) => {
                format!("{what} {url}: the server asks for a kind of credential other than a token")
            }
            None if e.class() == git2::ErrorClass::Http && e.code() == ErrorCode::Auth => {
                format!("{what} {url}: authentication failed (HTTP 401){cred}; nothing was written")
            }
            None => format!("{what} {url}: {}", e.message()),
        };
        self.unavailable(reason)
    }

    /// Fetches the branch into the mirror and moves `head` to it.
    ///
    /// The branch lands on a ref of this fetch alone, read and deleted at once: no
    /// FETCH_HEAD and no shared ref is written under a lock, so a process killed
    /// mid-fetch leaves nothing that refuses the next one. (Reading the remote's
    /// advertisement instead is unsound in git2 0.20 when it is empty: an empty
    /// repository.)
    fn fetch(&mut self) -> Result<(), ReplicaError> {
        let refused = Cell::new(None);
        let scratch = format!("refs/twinsync/fetch/{}", unique_suffix());
        {
            let mut remote = self
                .repo
                .remote_anonymous(&self.spec.url)
                .map_err(|e| self.unavailable(format!("{}: {}", redact_url(&self.spec.url), e.message())))?;
            let mut fo = FetchOptions::new();
            fo.remote_callbacks(self.callbacks(&refused)).download_tags(AutotagOption::None).update_fetchhead(false);
            // Forced: the mirror follows the remote as it is, even after a force-push there.
            let refspec = format!("+{}:{scratch}", self.spec.remote_ref());
            remote
                .fetch(&[&refspec], Some(&mut fo), None)
                .map_err(|e| self.network_error("fetch from", &e, refused.take()))?;
        }
        // No ref: the branch does not exist upstream (yet): the first flush creates it.
        self.head = match self.repo.find_reference(&scratch) {
            Ok(mut r) => {
                let oid = r.target();
                let _ = r.delete();
                oid
            }
            Err(_) => None,
        };
        if let Some(oid) = self.head {
            self.remember_head(oid);
        }
        Ok(())
    }

    /// Points the tracking ref at `oid`. It is a hint for the next fetch's negotiation,
    /// never read as the truth (`head` is), so failing to set it (a lock left by a killed
    /// process) costs a larger fetch, not a sync; a lock that old is cleared.
    fn remember_head(&self, oid: Oid) {
        let tracking = self.tracking_ref();
        if self.repo.reference(&tracking, oid, true, "twinsync: fetch").is_err() {
            let lock = self.repo.path().join(format!("{tracking}.lock"));
            let stale = std::fs::metadata(&lock)
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > STALE_LOCK);
            if stale {
                let _ = std::fs::remove_file(&lock);
            }
        }
    }

    fn git_err(&self, e: &git2::Error) -> ReplicaError {
        self.unavailable(format!("{}: {}", redact_url(&self.spec.url), e.message()))
    }

    /// The path of `key` inside the repository.
    fn repo_path(&self, key: &Key) -> String {
        if self.spec.path.is_empty() {
            key.as_str().to_string()
        } else {
            format!("{}/{}", self.spec.path, key.as_str())
        }
    }

    /// The blob and mode at `key` in commit `at`, if a file is there.
    fn entry_at(&self, at: Option<Oid>, key: &Key) -> Result<Option<(Oid, i32)>, ReplicaError> {
        let Some(at) = at else { return Ok(None) };
        let tree = self.repo.find_commit(at).and_then(|c| c.tree()).map_err(|e| self.git_err(&e))?;
        match tree.get_path(Path::new(&self.repo_path(key))) {
            Ok(e) if e.kind() == Some(ObjectType::Blob) && e.filemode() != i32::from(FileMode::Link) => {
                Ok(Some((e.id(), e.filemode())))
            }
            Ok(_) => Ok(None),
            Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
            Err(e) => Err(self.git_err(&e)),
        }
    }

    /// The blob at `key` as this replica sees it: staged, else at the head.
    fn current(&self, key: &Key) -> Result<Option<(Oid, i32)>, ReplicaError> {
        match self.staged.get(key) {
            Some(Change::Put(oid, mode)) => Ok(Some((*oid, *mode))),
            Some(Change::Delete) => Ok(None),
            None => self.entry_at(self.head, key),
        }
    }

    fn content(&self, key: &Key, blob: Oid) -> Result<Content, ReplicaError> {
        let blob = self.repo.find_blob(blob).map_err(|e| ReplicaError::Io {
            key: key.to_string(),
            message: format!("cannot read from {}: {}", self.opts.name, e.message()),
        })?;
        twinsync_fs::content_of(&self.opts.rules, key, blob.content().to_vec())
    }

    fn check(&self, key: &Key, expected: Option<&Digest>) -> Result<Option<(Oid, i32)>, ReplicaError> {
        let current = self.current(key)?;
        let found = match current {
            None => None,
            Some((oid, _)) => Some(self.digest_of(key, &self.content(key, oid)?)?),
        };
        if found.as_ref() != expected {
            return Err(ReplicaError::conflict(key, expected, found.as_ref()));
        }
        Ok(current)
    }

    fn digest_of(&self, key: &Key, content: &Content) -> Result<Digest, ReplicaError> {
        self.opts.rules.digest(content).map_err(|source| ReplicaError::InvalidContent { key: key.clone(), source })
    }

    fn ignored(&self, rel: &str) -> bool {
        self.ignore.as_ref().is_some_and(|g| g.matched_path_or_any_parents(rel, false).is_ignore())
    }

    fn stage(&mut self, key: &Key, change: Change, ctx: &WriteContext) {
        if self.staged.is_empty() {
            self.staged_on = self.head;
        }
        self.staged.insert(key.clone(), change);
        if !ctx.operation_id.is_empty() {
            self.operations.insert(ctx.operation_id.clone());
        }
    }

    /// One commit of everything staged, on top of `parent`.
    fn commit_on(&self, parent: Option<Oid>) -> Result<Oid, ReplicaError> {
        let err = |e: git2::Error| self.git_err(&e);
        let base = match parent {
            Some(p) => self.repo.find_commit(p).and_then(|c| c.tree()).map_err(err)?,
            None => {
                let empty = self.repo.treebuilder(None).and_then(|b| b.write()).map_err(err)?;
                self.repo.find_tree(empty).map_err(err)?
            }
        };
        let mut update = TreeUpdateBuilder::new();
        let mut lines = Vec::with_capacity(self.staged.len());
        for (key, change) in &self.staged {
            let path = self.repo_path(key);
            let was = self.entry_at(parent, key)?.is_some();
            match change {
                Change::Put(oid, mode) => {
                    let mode = if *mode == i32::from(FileMode::BlobExecutable) {
                        FileMode::BlobExecutable
                    } else {
                        FileMode::Blob
                    };
                    update.upsert(&path, *oid, mode);
                    lines.push(format!("{} {path}", if was { 'M' } else { 'A' }));
                }
                Change::Delete => {
                    update.remove(&path);
                    lines.push(format!("D {path}"));
                }
            }
        }
        let tree = update.create_updated(&self.repo, &base).and_then(|t| self.repo.find_tree(t)).map_err(err)?;
        let ops: Vec<&str> = self.operations.iter().map(String::as_str).collect();
        let subject = match ops.as_slice() {
            [] => format!("twinsync: {} item(s)", lines.len()),
            [op] => format!("twinsync: operation {op} ({} item(s))", lines.len()),
            many => format!("twinsync: operations {} ({} item(s))", many.join(", "), lines.len()),
        };
        let message = format!("{subject}\n\n{}\n", lines.join("\n"));
        let sig = Signature::now(&self.opts.author_name, &self.opts.author_email)
            .map_err(|e| self.unavailable(format!("commit author {:?}: {}", self.opts.author_name, e.message())))?;
        let parents = match parent {
            Some(p) => vec![self.repo.find_commit(p).map_err(err)?],
            None => vec![],
        };
        let parents: Vec<&git2::Commit> = parents.iter().collect();
        self.repo.commit(None, &sig, &sig, &message, &tree, &parents).map_err(err)
    }

    /// Pushes `commit` to the branch, never forced: the remote takes it only as a
    /// fast-forward of what it holds, which is our compare-and-swap on the ref.
    fn push(&self, commit: Oid) -> Result<(), PushError> {
        // A ref of this push alone (libgit2 pushes from a ref): no two processes, and no
        // killed one, ever hold its lock.
        let pending = format!("refs/twinsync/push/{}", unique_suffix());
        self.repo
            .reference(&pending, commit, true, "twinsync: push")
            .map_err(|e| PushError::Other(self.git_err(&e)))?;
        let refused = Cell::new(None);
        let rejected: RefCell<Option<String>> = RefCell::new(None);
        let mut cb = self.callbacks(&refused);
        cb.push_update_reference(|_, status| {
            if let Some(s) = status {
                *rejected.borrow_mut() = Some(s.to_string());
            }
            Ok(())
        });
        let mut remote = self.repo.remote_anonymous(&self.spec.url).map_err(|e| PushError::Other(self.git_err(&e)))?;
        let mut po = PushOptions::new();
        po.remote_callbacks(cb);
        // No '+': a push that is not a fast-forward is refused by the remote (or by libgit2
        // before sending), never forced.
        let refspec = format!("{pending}:{}", self.spec.remote_ref());
        let pushed = remote.push(&[&refspec], Some(&mut po));
        drop(po);
        drop(remote);
        let _ = self.repo.find_reference(&pending).and_then(|mut r| r.delete());
        match pushed {
            Err(e) if e.code() == ErrorCode::NotFastForward => Err(PushError::Moved(e.message().to_string())),
            Err(e) => {
                let auth = refused.take();
                if auth.is_none() && is_rejection(e.message()) {
                    return Err(PushError::Moved(e.message().to_string()));
                }
                Err(PushError::Other(self.network_error("push to", &e, auth)))
            }
            Ok(()) => match rejected.take() {
                None => Ok(()),
                Some(s) if is_rejection(&s) => Err(PushError::Moved(s)),
                Some(s) => Err(PushError::Other(self.unavailable(format!(
                    "push to {}: the remote refused {}: {s}",
                    redact_url(&self.spec.url),
                    self.spec.branch
                )))),
            },
        }
    }

    /// Commits and pushes what is staged; on a remote that moved, rebuilds on its new
    /// head when none of the staged items changed there, else refuses naming them.
    fn commit_and_push(&mut self) -> Result<(), ReplicaError> {
        let scanned = self.staged_on;
        let mut parent = scanned;
        for _ in 0..PUSH_ATTEMPTS {
            let commit = self.commit_on(parent)?;
            match self.push(commit) {
                Ok(()) => {
                    self.head = Some(commit);
                    self.remember_head(commit);
                    return Ok(());
                }
                Err(PushError::Other(e)) => return Err(e),
                Err(PushError::Moved(said)) => {
                    self.fetch()?;
                    if self.head == parent {
                        // Refused although the branch did not move (a hook, a protected
                        // branch): say what the remote said rather than retry.
                        return Err(self.unavailable(format!(
                            "push to {}: the remote refused {}: {said}; nothing was pushed",
                            redact_url(&self.spec.url),
                            self.spec.branch
                        )));
                    }
                    let mut changed = Vec::new();
                    for key in self.staged.keys() {
                        if self.entry_at(scanned, key)? != self.entry_at(self.head, key)? {
                            changed.push(self.repo_path(key));
                        }
                    }
                    if !changed.is_empty() {
                        return Err(ReplicaError::Io {
                            key: self.opts.name.clone(),
                            message: format!(
                                "branch {} {REMOTE_MOVED} and changed {}; nothing was pushed and nothing \
                                 overwritten: the next sync compares with the new head",
                                self.spec.branch,
                                changed.join(", ")
                            ),
                        });
                    }
                    // The items we write are upstream as we scanned them: the same
                    // compare-and-swap holds on the new head, so build on it.
                    parent = self.head;
                }
            }
        }
        Err(ReplicaError::Io {
            key: self.opts.name.clone(),
            message: format!(
                "branch {} kept moving on the remote ({PUSH_ATTEMPTS} tries); nothing was pushed, the next sync retries",
                self.spec.branch
            ),
        })
    }
}

/// Why a credential was not offered (or was offered and refused).
#[derive(Debug, Clone, PartialEq, Eq)]
enum AuthProblem {
    /// The token was sent and the server asked again: it was refused.
    Refused,
    /// The server wants credentials and the side names none.
    NoCredential,
    /// A host other than the repository's asked (a redirect): the token stays home.
    OtherHost(String),
    /// The server wants SSH keys or the like.
    Unsupported,
}

/// True for a server's "not a fast-forward" refusal, in the words git servers use.
fn is_rejection(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "non-fast-forward",
        "fast forward",
        "fast-forward",
        "fetch first",
        "stale info",
        "failed to update ref",
        "failed to lock",
        "cannot lock ref",
    ]
    .iter()
    .any(|s| m.contains(s))
}

/// A name part no other fetch or push, in this process or another, uses: pid and time.
fn unique_suffix() -> String {
    static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{nanos}-{seq}", std::process::id())
}

/// Deletes the per-fetch and per-push refs that killed processes left, once they are
/// old enough that no live process can still be using them.
fn clear_stale_scratch_refs(repo: &Repository) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let Ok(refs) = repo.references_glob("refs/twinsync/[fp]*/*") else { return };
    let stale: Vec<String> = refs
        .flatten()
        .filter_map(|r| r.name().map(str::to_string))
        .filter(|name| {
            let born = name.rsplit('/').next().and_then(|n| n.split('-').nth(1)).and_then(|t| t.parse::<u128>().ok());
            born.is_some_and(|t| now.saturating_sub(t) > STALE_LOCK.as_nanos())
        })
        .collect();
    for name in stale {
        if let Ok(mut r) = repo.find_reference(&name) {
            let _ = r.delete();
        }
    }
}

/// How old a lock file on our tracking ref must be to be taken as left by a killed
/// process (a live one holds it for microseconds).
const STALE_LOCK: std::time::Duration = std::time::Duration::from_secs(60);

/// Opens the bare mirror at `dir`, creating it whole or not at all: it is made under a
/// temporary name and renamed into place, so a process killed while creating it leaves
/// no half-made repository (with its `config.lock`) that no later run could open.
fn open_or_create_mirror(dir: &Path) -> Result<Repository, String> {
    if let Ok(r) = Repository::open_bare(dir) {
        return Ok(r);
    }
    let parent = dir.parent().ok_or("no parent folder")?;
    let name = dir.file_name().and_then(|n| n.to_str()).ok_or("bad mirror name")?;
    // Leftovers of creations killed long ago go first.
    if let Ok(entries) = std::fs::read_dir(parent) {
        for e in entries.flatten() {
            let old = e.file_name().to_str().is_some_and(|n| n.starts_with(&format!("{name}.tmp-")))
                && e.metadata()
                    .and_then(|m| m.modified())
                    .ok()
                    .and_then(|t| t.elapsed().ok())
                    .is_some_and(|a| a > STALE_LOCK);
            if old {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let tmp = parent.join(format!("{name}.tmp-{}-{nanos}", std::process::id()));
    Repository::init_bare(&tmp).map_err(|e| e.message().to_string())?;
    if std::fs::rename(&tmp, dir).is_err() {
        // Another process made it first (or a broken one is in the way, reported below).
        let _ = std::fs::remove_dir_all(&tmp);
    }
    Repository::open_bare(dir).map_err(|e| e.message().to_string())
}

/// Where the mirror of `url` lives: a folder named by a digest of the URL, so two
/// pairs on one repository share it and no URL text becomes a path.
pub fn mirror_dir(cache_dir: &Path, url: &str) -> PathBuf {
    let hex: String = Sha256::digest(url.as_bytes()).iter().take(12).map(|b| format!("{b:02x}")).collect();
    cache_dir.join(hex)
}

impl Replica for GitReplica {
    fn name(&self) -> &str {
        &self.opts.name
    }

    fn rules(&self) -> &HashRules {
        &self.opts.rules
    }

    fn scan(&mut self) -> Result<Snapshot, ReplicaError> {
        // Open fetched already; a replica scanned again (a long-lived one) fetches anew.
        if self.scanned && self.staged.is_empty() {
            self.fetch()?;
        }
        self.scanned = true;
        self.failures.clear();
        let Some(head) = self.head else { return Ok(Snapshot::new()) };
        let root = self.repo.find_commit(head).and_then(|c| c.tree()).map_err(|e| self.git_err(&e))?;
        let tree = if self.spec.path.is_empty() {
            root
        } else {
            match root.get_path(Path::new(&self.spec.path)) {
                Ok(e) if e.kind() == Some(ObjectType::Tree) => {
                    self.repo.find_tree(e.id()).map_err(|e| self.git_err(&e))?
                }
                // The folder does not exist on the branch yet: no items, the first write creates it.
                Ok(_) | Err(_) => return Ok(Snapshot::new()),
            }
        };
        let mut files: Vec<(String, Oid)> = Vec::new();
        tree.walk(TreeWalkMode::PreOrder, |dir, entry| {
            let name = entry.name().unwrap_or("");
            let rel = format!("{dir}{name}");
            if dir.is_empty() && name == ".twinsync" {
                // A folder side never syncs its own state folder; neither do we.
                return TreeWalkResult::Skip;
            }
            if self.ignored(&rel) {
                return TreeWalkResult::Skip;
            }
            // Symbolic links and submodules are skipped, as a folder side skips links.
            if entry.kind() == Some(ObjectType::Blob) && entry.filemode() != i32::from(FileMode::Link) {
                files.push((rel, entry.id()));
            }
            TreeWalkResult::Ok
        })
        .map_err(|e| self.git_err(&e))?;
        // A tree walk visits paths in byte order, so the snapshot is this list as it is.
        let mut entries = Vec::with_capacity(files.len());
        for (rel, oid) in files {
            let key = match Key::new(&rel) {
                Ok(k) => k,
                Err(e) => {
                    self.failures.push(ScanFailure { key: rel, error: e.to_string() });
                    continue;
                }
            };
            let read = self.content(&key, oid).and_then(|c| Ok((self.digest_of(&key, &c)?, c.len() as u64)));
            match read {
                Ok((digest, size)) => entries.push(Entry { key, digest, size, modified: None, bytes: None }),
                Err(e) => self.failures.push(ScanFailure { key: rel, error: e.to_string() }),
            }
        }
        let mut snapshot = Snapshot::from_entries(entries);
        // What was written since the last flush is part of what this replica holds.
        for (key, change) in &self.staged {
            match change {
                Change::Delete => {
                    snapshot.remove(key);
                }
                Change::Put(oid, _) => {
                    let c = self.content(key, *oid)?;
                    let digest = self.digest_of(key, &c)?;
                    snapshot.insert(Entry {
                        key: key.clone(),
                        digest,
                        size: c.len() as u64,
                        modified: None,
                        bytes: None,
                    });
                }
            }
        }
        Ok(snapshot)
    }

    fn scan_failures(&self) -> Vec<ScanFailure> {
        self.failures.clone()
    }

    fn read(&self, key: &Key) -> Result<Option<Content>, ReplicaError> {
        match self.current(key)? {
            None => Ok(None),
            Some((oid, _)) => self.content(key, oid).map(Some),
        }
    }

    fn write(
        &mut self,
        key: &Key,
        content: &Content,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        if matches!(content, Content::Link(_)) {
            return Err(ReplicaError::Io {
                key: key.to_string(),
                message: format!("{}: symbolic links are not written to a git side", self.opts.name),
            });
        }
        if self.ignored(key.as_str()) {
            return Err(ReplicaError::Io {
                key: key.to_string(),
                message: "ignored by the pair's ignore rules".into(),
            });
        }
        let current = self.check(key, expected)?;
        let digest = self.digest_of(key, content)?;
        let blob = self.repo.blob(content.as_bytes()).map_err(|e| ReplicaError::Io {
            key: key.to_string(),
            message: format!("cannot store in the mirror of {}: {}", self.opts.name, e.message()),
        })?;
        // An executable file stays executable when its content is replaced.
        let mode = current.map_or(i32::from(FileMode::Blob), |(_, m)| m);
        self.stage(key, Change::Put(blob, mode), ctx);
        Ok(digest)
    }

    fn delete(&mut self, key: &Key, expected: &Digest, ctx: &WriteContext) -> Result<(), ReplicaError> {
        self.check(key, Some(expected))?;
        self.stage(key, Change::Delete, ctx);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), ReplicaError> {
        if self.staged.is_empty() {
            return Ok(());
        }
        let result = self.commit_and_push();
        // Pushed or not, what was staged is settled: on failure the engine fails these
        // items (no base is recorded) and the next sync compares with the remote anew.
        self.staged.clear();
        self.operations.clear();
        self.staged_on = None;
        result
    }
}
