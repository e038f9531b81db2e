//! `twinsync guard`: a Claude Code `PreToolUse` hook (and, with `--check`, a shell or git
//! hook) that stops agents writing protected paths or writing while someone else holds
//! the project lock.
//!
//! This module owns the hook's decision: whether the writes a tool call makes (found by
//! [`twinsync::guard_hook`], which reads the hook JSON) are allowed. Exit 0 allows
//! silently; exit 2 blocks with the reason on stderr (Claude Code shows it to the agent).
//! It never hangs: stdin and the store are read under deadlines, and an unreachable store
//! follows `guard.offline` (`allow` with a warning, or `block`).
//! With `[guard] server`, the lock comes from a `twinsync serve` server instead, and its
//! last answer stands in while it is unreachable (see `guard_server.rs`).

use std::io::{IsTerminal, Read};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use globset::{Glob, GlobBuilder, GlobMatcher};
use twinsync::{config, Config, Project};

use crate::cmd_project::Common;
use crate::guard_server::{self, Held, LockView};

/// Exit status that makes Claude Code block the tool call (and git hooks abort).
const EXIT_BLOCK: u8 = 2;
/// How long the hook waits for its JSON on stdin.
const STDIN_DEADLINE: Duration = Duration::from_secs(5);
/// How long the hook waits for the store before it counts as offline (ms; overridable by
/// `TWINSYNC_GUARD_TIMEOUT_MS`). Short, because every agent tool call waits on it.
const STORE_DEADLINE_MS: u64 = 2_000;
/// Largest hook input read; tool inputs carry file contents, but not gigabytes.
const MAX_INPUT: u64 = 64 << 20;

/// Arguments of `twinsync guard`.
#[derive(clap::Args, Debug)]
pub struct GuardArgs {
    /// Protect paths matching GLOB (relative to the project; `**` crosses folders), in
    /// addition to `guard.protect` in the config. Repeatable.
    #[arg(long = "protect", value_name = "GLOB")]
    pub protect: Vec<String>,
    /// No hook input: exit 2 if another owner holds the project lock (for shell and git hooks).
    #[arg(long)]
    pub check: bool,
    /// Act as NAME (default: $TWINSYNC_OWNER, else the OS user).
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
}

/// One write a tool call would make.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Write {
    /// The path as the tool named it.
    raw: String,
    /// Absolute, normalised.
    abs: PathBuf,
}

/// Why the guard could not decide from what it was given.
#[derive(Debug, thiserror::Error)]
enum GuardError {
    /// The project config is invalid.
    #[error("cannot read the project config: {0}")]
    Config(#[from] twinsync::Error),
    /// A protect glob does not parse.
    #[error("protect glob {glob:?}: {source}")]
    Glob {
        /// The glob as written.
        glob: String,
        /// What is wrong with it.
        source: globset::Error,
    },
    /// The store could not be opened or read.
    #[error("cannot read the project lock: {0}")]
    Store(String),
    /// The store did not answer in time.
    #[error("cannot read the project lock: the store did not answer within {0} ms (busy or locked)")]
    StoreTimeout(u64),
    /// Stdin is a terminal: nobody will send hook JSON.
    #[error("expects the Claude Code hook JSON on stdin (use --check in shells)")]
    Terminal,
    /// Reading stdin failed.
    #[error("cannot read the hook input on stdin: {0}")]
    Stdin(std::io::Error),
    /// Nothing arrived on stdin in time.
    #[error("no hook input on stdin within {0} s")]
    StdinTimeout(u64),
}

/// What the hook decided.
#[derive(Debug)]
enum Verdict {
    Allow,
    Warn(String),
    Block(String),
}

/// `twinsync guard [--check] [--protect GLOB]...`.
pub fn guard(a: GuardArgs, common: &Common) -> ExitCode {
    let owner = a.owner.clone().filter(|o| !o.trim().is_empty()).unwrap_or_else(twinsync::default_actor);
    let verdict = if a.check { check(&a, common, &owner) } else { hook(&a, common, &owner) };
    match verdict {
        Verdict::Allow => ExitCode::SUCCESS,
        Verdict::Warn(w) => {
            eprintln!("twinsync guard: warning: {w}");
            ExitCode::SUCCESS
        }
        Verdict::Block(reason) => {
            eprintln!("twinsync guard: {reason}");
            ExitCode::from(EXIT_BLOCK)
        }
    }
}

/// The project context: where it is, its guard config, and how to reach its store.
struct Context {
    /// Project folder (canonical), or the hook's folder when there is no project.
    root: PathBuf,
    /// Whether a `.twinsync/` project was found.
    project: bool,
    protect: Vec<(String, GlobMatcher)>,
    offline_block: bool,
    /// `[guard] server` and `server_project`: where the lock is asked instead of the store.
    server: Option<(String, String)>,
}

fn context(start: &Path, extra: &[String]) -> Result<Context, GuardError> {
    let (root, project) = match Project::find(start) {
        Ok(root) => (root, true),
        Err(_) => (resolve(start), false),
    };
    let mut globs: Vec<String> = extra.to_vec();
    let mut offline_block = false;
    let mut server = None;
    if project {
        let path = root.join(config::DIR).join(config::CONFIG_FILE);
        let cfg = Config::load(&path)?;
        globs.extend(cfg.guard.protect.iter().cloned());
        offline_block = cfg.guard.offline == "block";
        server = cfg.guard.server.clone().zip(cfg.guard.server_project.clone());
    }
    let mut protect = Vec::new();
    for g in globs {
        let m = GlobBuilder::new(g.trim_start_matches("./"))
            .literal_separator(true)
            .build()
            .map(|g: Glob| g.compile_matcher())
            .map_err(|source| GuardError::Glob { glob: g.clone(), source })?;
        protect.push((g, m));
    }
    Ok(Context { root, project, protect, offline_block, server })
}

fn deadline_ms() -> u64 {
    std::env::var("TWINSYNC_GUARD_TIMEOUT_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(STORE_DEADLINE_MS)
}

/// The lock as the server (with `[guard] server`) or the store sees it.
fn lock_view(ctx: &Context) -> LockView {
    if let Some((url, project)) = &ctx.server {
        return guard_server::ask(&ctx.root, url, project, Duration::from_millis(deadline_ms()));
    }
    match live_lock(&ctx.root) {
        Ok(lock) => {
            LockView::Live(lock.map(|l| Held { owner: l.owner, until: l.expires_at.to_string(), reason: l.reason }))
        }
        Err(e) => LockView::Unknown(e.to_string()),
    }
}

/// The verdict on writing `what` as `owner`, given what is known of the lock.
fn decide(ctx: &Context, view: LockView, owner: &str, what: &str) -> Verdict {
    match view {
        LockView::Live(Some(held)) => lock_block(&held, owner, what, "").unwrap_or(Verdict::Allow),
        LockView::Live(None) => Verdict::Allow,
        LockView::Cached { held, age, why } => {
            let age = guard_server::age_text(age);
            match held {
                Some(h) => lock_block(&h, owner, what, &format!(" [{why}; this is its answer from {age} ago]"))
                    .unwrap_or_else(|| Verdict::Warn(format!("{why}; its answer from {age} ago: you hold the lock"))),
                None => Verdict::Warn(format!("{why}; its answer from {age} ago: nobody holds the lock")),
            }
        }
        LockView::Unknown(why) => offline(ctx.offline_block, &why),
    }
}

/// The live project lock, read under a deadline so a busy or broken store cannot stall
/// the agent. `Err` means the store is unreachable.
fn live_lock(root: &Path) -> Result<Option<twinsync::core::lock::Lock>, GuardError> {
    let root = root.to_path_buf();
    let deadline = deadline_ms();
    let (tx, rx) = mpsc::channel();
    // Detached on purpose: if the store waits on a lock past the deadline the process exits
    // with the verdict and takes the thread with it.
    std::thread::spawn(move || {
        let result = twinsync::read_project_lock(&root).map_err(|e| GuardError::Store(e.to_string()));
        let _ = tx.send(result);
    });
    match rx.recv_timeout(Duration::from_millis(deadline)) {
        Ok(r) => r,
        Err(_) => Err(GuardError::StoreTimeout(deadline)),
    }
}

fn offline(ctx_block: bool, what: &str) -> Verdict {
    if ctx_block {
        Verdict::Block(format!("{what}; guard.offline = \"block\", so writes are refused until the lock can be read"))
    } else {
        Verdict::Warn(format!("{what}; guard.offline = \"allow\", so this write is let through unchecked"))
    }
}

fn lock_block(lock: &Held, owner: &str, what: &str, source: &str) -> Option<Verdict> {
    if lock.owner == owner {
        return None;
    }
    let why = lock.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
    Some(Verdict::Block(format!(
        "blocked {what}: the project lock is held by {} until {}{why}; you are {owner}. Wait for it, or ask {} to run `twinsync lock release`{source}",
        lock.owner, lock.until, lock.owner
    )))
}

fn check(a: &GuardArgs, common: &Common, owner: &str) -> Verdict {
    let start = common.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let ctx = match context(&start, &a.protect) {
        Ok(c) => c,
        Err(e) => return Verdict::Block(format!("{e}; fix it so the guard knows what to protect")),
    };
    if !ctx.project {
        return Verdict::Allow;
    }
    let view = lock_view(&ctx);
    decide(&ctx, view, owner, "changes")
}

fn read_stdin() -> Result<String, GuardError> {
    if std::io::stdin().is_terminal() {
        return Err(GuardError::Terminal);
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        let r = std::io::stdin().take(MAX_INPUT).read_to_string(&mut text).map(|_| text);
        let _ = tx.send(r);
    });
    match rx.recv_timeout(STDIN_DEADLINE) {
        Ok(Ok(t)) => Ok(t),
        Ok(Err(e)) => Err(GuardError::Stdin(e)),
        Err(_) => Err(GuardError::StdinTimeout(STDIN_DEADLINE.as_secs())),
    }
}

fn hook(a: &GuardArgs, common: &Common, owner: &str) -> Verdict {
    let text = match read_stdin() {
        Ok(t) => t,
        Err(e) => return Verdict::Block(e.to_string()),
    };
    let call = match twinsync::guard_hook::parse_hook_input(&text) {
        Ok(c) => c,
        Err(e) => return Verdict::Block(e.to_string()),
    };
    let tool = call.tool.as_str();
    let cwd = resolve(&call.cwd.or_else(|| common.dir.clone()).unwrap_or_else(|| PathBuf::from(".")));
    let writes: Vec<Write> = call.writes.into_iter().map(|raw| Write { abs: resolve(&cwd.join(&raw)), raw }).collect();
    if writes.is_empty() {
        return Verdict::Allow;
    }
    let ctx = match context(&cwd, &a.protect) {
        Ok(c) => c,
        Err(e) => return Verdict::Block(format!("{e}; fix it so the guard knows what to protect")),
    };
    for w in &writes {
        if let Some(rel) = relative(&ctx.root, &w.abs) {
            if let Some(glob) = protected(&ctx, &rel) {
                return Verdict::Block(format!(
                    "blocked {tool} to {}: {} is protected (glob {glob:?} in guard.protect or --protect); ask a person to change it, or sync it from its source of truth",
                    w.raw,
                    rel.display()
                ));
            }
        }
    }
    if !ctx.project || !writes.iter().any(|w| relative(&ctx.root, &w.abs).is_some()) {
        return Verdict::Allow;
    }
    let view = lock_view(&ctx);
    decide(&ctx, view, owner, &format!("{tool} to {}", writes[0].raw))
}

/// The glob protecting `rel` or one of its parent folders.
fn protected<'a>(ctx: &'a Context, rel: &Path) -> Option<&'a str> {
    let mut p = Some(rel);
    while let Some(cur) = p.filter(|c| !c.as_os_str().is_empty()) {
        if let Some((g, _)) = ctx.protect.iter().find(|(_, m)| m.is_match(cur)) {
            return Some(g);
        }
        p = cur.parent();
    }
    None
}

/// `abs` relative to `root`, if inside it.
fn relative(root: &Path, abs: &Path) -> Option<PathBuf> {
    abs.strip_prefix(root).ok().map(Path::to_path_buf)
}

/// Absolute and normalised: `..` folded lexically, the longest existing prefix
/// canonicalised so symlinked folders (`/tmp` on macOS) compare equal.
fn resolve(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() { p.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(p) };
    let mut norm = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                norm.pop();
            }
            Component::CurDir => {}
            other => norm.push(other),
        }
    }
    let mut rest = Vec::new();
    let mut cur = norm.as_path();
    loop {
        if let Ok(canon) = cur.canonicalize() {
            let mut out = canon;
            out.extend(rest.iter().rev());
            return out;
        }
        match (cur.file_name(), cur.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name.to_os_string());
                cur = parent;
            }
            _ => return norm,
        }
    }
}
