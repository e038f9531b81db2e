//! `twinsync guard`: a Claude Code `PreToolUse` hook (and, with `--check`, a shell or git
//! hook) that stops agents writing protected paths or writing while someone else holds
//! the project lock.
//!
//! This module owns the hook's decision: which tool calls write (Write, Edit, MultiEdit,
//! NotebookEdit, and Bash commands that redirect, `tee`, `sed -i`, `cp`/`mv`/`install`
//! into, `rm`, `touch`, `truncate`, `dd of=`), where they write, and whether that is
//! allowed. Exit 0 allows silently; exit 2 blocks with the reason on stderr (Claude Code
//! shows it to the agent). It never hangs: stdin and the store are read under deadlines,
//! and an unreachable store follows `guard.offline` (`allow` with a warning, or `block`).
//! With `[guard] server`, the lock comes from a `twinsync serve` server instead, and its
//! last answer stands in while it is unreachable (see `guard_server.rs`).

use std::io::{IsTerminal, Read};
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use globset::{Glob, GlobBuilder, GlobMatcher};
use serde_json::Value;
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
    let input: Value = match serde_json::from_str(&text) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return Verdict::Block(
            "hook input is JSON but not an object; expected Claude Code PreToolUse JSON with tool_name and tool_input"
                .into(),
        ),
        Err(e) => {
            return Verdict::Block(format!(
            "hook input is not valid JSON ({e}); expected Claude Code PreToolUse JSON with tool_name and tool_input"
        ))
        }
    };
    let Some(tool) = input.get("tool_name").and_then(Value::as_str) else {
        return Verdict::Block("hook input has no \"tool_name\"; is this registered as a PreToolUse hook?".into());
    };
    let cwd = input
        .get("cwd")
        .and_then(Value::as_str)
        .map(PathBuf::from)
        .or_else(|| common.dir.clone())
        .unwrap_or_else(|| PathBuf::from("."));
    let cwd = resolve(&cwd);
    let tool_input = input.get("tool_input").cloned().unwrap_or(Value::Null);
    let writes: Vec<Write> =
        writes_of(tool, &tool_input).into_iter().map(|raw| Write { abs: resolve(&cwd.join(&raw)), raw }).collect();
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

/// The paths a tool call writes, as the tool spelled them.
fn writes_of(tool: &str, input: &Value) -> Vec<String> {
    let field = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_string);
    match tool {
        "Write" | "Edit" | "MultiEdit" => field("file_path").into_iter().collect(),
        "NotebookEdit" => field("notebook_path").or_else(|| field("file_path")).into_iter().collect(),
        "Bash" => field("command").map(|c| bash_writes(&c)).unwrap_or_default(),
        _ => vec![],
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    /// `;`, `&&`, `||`, `|`, `&`, newline, `(`, `)`.
    Sep,
    /// An output redirection (`>`, `>>`, `>|`, `&>`, `2>`...).
    Redirect,
}

/// Splits a shell command into words, separators and output redirections (quotes and
/// backslashes honoured; enough of sh to find write targets, not an interpreter).
fn tokenize(cmd: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = cmd.chars().peekable();
    let flush = |word: &mut String, in_word: &mut bool, toks: &mut Vec<Tok>| {
        if *in_word {
            toks.push(Tok::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    word.push(d);
                }
            }
            '"' => {
                in_word = true;
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                word.push(e);
                            }
                        }
                        _ => word.push(d),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(e) = chars.next() {
                    if e != '\n' {
                        word.push(e);
                    }
                }
            }
            '>' => {
                // `2>file`: the digits were a file descriptor, not a word.
                if in_word && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                }
                flush(&mut word, &mut in_word, &mut toks);
                if matches!(chars.peek(), Some('>') | Some('|')) {
                    chars.next();
                }
                if chars.peek() == Some(&'&') {
                    // `>&2`: duplicates a descriptor; writes no file.
                    chars.next();
                    while chars.peek().is_some_and(|d| d.is_ascii_digit() || *d == '-') {
                        chars.next();
                    }
                    continue;
                }
                toks.push(Tok::Redirect);
            }
            '&' if chars.peek() == Some(&'>') => {
                flush(&mut word, &mut in_word, &mut toks);
                chars.next();
                if chars.peek() == Some(&'>') {
                    chars.next();
                }
                toks.push(Tok::Redirect);
            }
            ';' | '|' | '&' | '\n' | '(' | ')' => {
                flush(&mut word, &mut in_word, &mut toks);
                if toks.last() != Some(&Tok::Sep) {
                    toks.push(Tok::Sep);
                }
            }
            c if c.is_whitespace() => flush(&mut word, &mut in_word, &mut toks),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    flush(&mut word, &mut in_word, &mut toks);
    toks
}

/// The files a Bash command writes: redirection targets, and the targets of the usual
/// writing commands.
fn bash_writes(cmd: &str) -> Vec<String> {
    let toks = tokenize(cmd);
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut targets: Vec<String> = Vec::new();
    // Where `cd` has moved the command so far, relative to the hook's folder.
    let mut here = PathBuf::new();
    let mut i = 0;
    while i <= toks.len() {
        match toks.get(i) {
            Some(Tok::Redirect) => {
                if let Some(Tok::Word(w)) = toks.get(i + 1) {
                    targets.push(w.clone());
                    i += 1;
                }
            }
            Some(Tok::Word(w)) => words.push(w.clone()),
            Some(Tok::Sep) | None => {
                targets.extend(command_writes(&words));
                for t in targets.drain(..).filter(|p| !p.is_empty() && !p.starts_with("/dev/")) {
                    out.push(here.join(&t).to_string_lossy().into_owned());
                }
                if let [cd, dir] = words.as_slice() {
                    if cd == "cd" || cd == "pushd" {
                        here = here.join(dir);
                    }
                }
                words.clear();
            }
        }
        i += 1;
    }
    out
}

fn command_writes(words: &[String]) -> Vec<String> {
    // Skip `VAR=value`, `sudo`, `env`, `command`, `nohup`, `time` prefixes.
    let mut rest = words;
    while let Some(first) = rest.first() {
        let is_assign = first.contains('=') && !first.starts_with('=') && !first.starts_with('-');
        if is_assign || matches!(first.as_str(), "sudo" | "env" | "command" | "nohup" | "time" | "exec") {
            rest = &rest[1..];
        } else {
            break;
        }
    }
    let Some((prog, args)) = rest.split_first() else { return vec![] };
    let prog = prog.rsplit('/').next().unwrap_or(prog);
    let operands = |args: &[String]| -> Vec<String> { args.iter().filter(|a| !a.starts_with('-')).cloned().collect() };
    match prog {
        "tee" | "rm" | "touch" | "truncate" | "mkdir" | "rmdir" | "unlink" | "shred" => operands(args),
        "sed" | "perl" => {
            // `-i`, `-i.bak`, or a cluster such as `-ni` / `-pi`.
            let in_place = args.iter().any(|a| {
                a == "--in-place"
                    || a.starts_with("--in-place=")
                    || (a.starts_with('-') && !a.starts_with("--") && a.contains('i'))
            });
            if !in_place {
                return vec![];
            }
            let mut files = Vec::new();
            let mut script_given = false;
            let mut it = args.iter();
            while let Some(a) = it.next() {
                if a == "-e" || a == "-f" || a == "--expression" || a == "--file" {
                    it.next();
                    script_given = true;
                } else if a.starts_with("--expression=") || a.starts_with("--file=") {
                    script_given = true;
                } else if a.starts_with('-') {
                    continue;
                } else if !script_given {
                    script_given = true;
                } else {
                    files.push(a.clone());
                }
            }
            files
        }
        "cp" | "mv" | "install" | "ln" | "rsync" => {
            let mut target_dir = None;
            let mut ops = Vec::new();
            let mut it = args.iter();
            while let Some(a) = it.next() {
                if a == "-t" || a == "--target-directory" {
                    target_dir = it.next().cloned();
                } else if let Some(d) = a.strip_prefix("--target-directory=") {
                    target_dir = Some(d.to_string());
                } else if !a.starts_with('-') {
                    ops.push(a.clone());
                }
            }
            let (sources, dest) = match target_dir {
                Some(d) => (ops, d),
                None => match ops.split_last() {
                    Some((d, s)) if !s.is_empty() => (s.to_vec(), d.clone()),
                    _ => return vec![],
                },
            };
            let mut out = vec![dest.clone()];
            // A copy into a folder writes `dest/<name>`, which a `dest/**` glob protects.
            for s in &sources {
                if let Some(name) = Path::new(s).file_name() {
                    out.push(Path::new(&dest).join(name).to_string_lossy().into_owned());
                }
            }
            if prog == "mv" {
                out.extend(sources);
            }
            out
        }
        "dd" => args.iter().filter_map(|a| a.strip_prefix("of=")).map(str::to_string).collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::bash_writes;

    fn w(cmd: &str) -> Vec<String> {
        bash_writes(cmd)
    }

    #[test]
    fn finds_redirections_and_writing_commands() {
        assert_eq!(w("echo hi > docs/a.md"), ["docs/a.md"]);
        assert_eq!(w("echo hi >>docs/a.md"), ["docs/a.md"]);
        assert_eq!(w("make 2>err.log 1>&2"), ["err.log"]);
        assert_eq!(w("cat x | tee -a 'docs/my file.md' out.txt"), ["docs/my file.md", "out.txt"]);
        assert_eq!(w("sed -i 's/a/b/' docs/a.md docs/b.md"), ["docs/a.md", "docs/b.md"]);
        assert_eq!(w("sed -i -e s/a/b/ docs/a.md"), ["docs/a.md"]);
        assert_eq!(w("sed 's/a/b/' docs/a.md"), Vec::<String>::new());
        assert_eq!(w("cp -r src/x.md docs"), ["docs", "docs/x.md"]);
        assert_eq!(w("mv a.md docs/b.md"), ["docs/b.md", "docs/b.md/a.md", "a.md"]);
        assert_eq!(w("cd docs && rm -f old.md; touch new.md"), ["docs/old.md", "docs/new.md"]);
        assert_eq!(w("cd /srv && cd site && echo x > a.md"), ["/srv/site/a.md"]);
        assert_eq!(w("FOO=1 sudo dd if=/dev/zero of=disk.img"), ["disk.img"]);
        assert_eq!(w("echo 'a > b' && grep x docs/a.md 2>/dev/null"), Vec::<String>::new());
        assert_eq!(w("ls -la docs; cat docs/a.md"), Vec::<String>::new());
    }
}
