//! The directory sync from the command line: `init`, `status`, `sync`, `undo`, `history`,
//! `lock`. Every command takes `--json`; conflicts left for a person exit with status 1,
//! errors with status 2.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use twinsync::core::{ActionKind, Compare, Direction, DriftClass, OperationReport, OperationStatus, Policy};
use twinsync::{Project, SyncRequest, Take};

/// Exit status when conflicts (or failed items) are left for a person.
const EXIT_CONFLICTS: u8 = 1;

/// Options every project command shares.
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Machine-readable output.
    #[arg(long, global = true)]
    pub json: bool,
    /// Run as if started in DIR.
    #[arg(short = 'C', long = "dir", value_name = "DIR", global = true)]
    pub dir: Option<PathBuf>,
}

impl Common {
    pub(crate) fn open(&self) -> twinsync::Result<Project> {
        Project::open(&self.start())
    }
    fn start(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| PathBuf::from("."))
    }
}

/// Arguments of `twinsync init`.
#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// Left replica: a folder (relative to the current folder), `db`, or a git branch's
    /// folder `git+URL#BRANCH[:PATH]`.
    pub left: String,
    /// Right replica: a folder, `db`, or `git+URL#BRANCH[:PATH]`.
    pub right: String,
    /// The credential (token) a git left side uses, by name: never the token itself.
    #[arg(long, value_name = "NAME")]
    pub left_credential: Option<String>,
    /// The credential a git right side uses, by name.
    #[arg(long, value_name = "NAME")]
    pub right_credential: Option<String>,
    /// Conflict policy.
    #[arg(long, default_value = "manual")]
    pub policy: Policy,
    /// Default direction.
    #[arg(long, default_value = "both")]
    pub direction: Direction,
    /// Extra ignore globs for folder replicas.
    #[arg(long = "ignore", value_name = "GLOB")]
    pub ignore: Vec<String>,
    /// What counts as a change: `canonical` (formatting never does) or `bytes`.
    #[arg(long, default_value = "canonical")]
    pub compare: Compare,
}

/// The pairs a command acts on (`--pair NAME`, repeatable; every pair when none).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct PairArgs {
    /// Only this pair (repeat for several); every pair by default.
    #[arg(long = "pair", value_name = "NAME")]
    pub pairs: Vec<String>,
}

/// Arguments of `twinsync status`.
#[derive(clap::Args, Debug)]
pub struct StatusArgs {
    #[command(flatten)]
    pub pairs: PairArgs,
    /// Compare by `canonical` content or by `bytes` for this run (default: each pair's).
    #[arg(long)]
    pub compare: Option<Compare>,
    /// No progress on stderr, even for a long scan on a terminal.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `twinsync sync`.
#[derive(clap::Args, Debug)]
pub struct SyncArgs {
    #[command(flatten)]
    pub pairs: PairArgs,
    /// Show the plan and diffs; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Conflict policy for this run.
    #[arg(long)]
    pub policy: Option<Policy>,
    /// Direction for this run.
    #[arg(long)]
    pub direction: Option<Direction>,
    /// Allow a sync that deletes most of a replica.
    #[arg(long)]
    pub allow_mass_delete: bool,
    /// Also make `formatting_only` items byte-equal (status lists them). Which side
    /// reformatted is not recorded, so the bytes come from a one-way direction's source,
    /// else the policy's side (prefer-left/right, newest-wins by mtime, merge:SIDE); under
    /// manual they stay as conflicts: add `--policy prefer-left` or `prefer-right`.
    #[arg(long)]
    pub formatting: bool,
    /// Seconds to wait while another sync of the same pair runs, then give up (LOCKED).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    pub wait: u64,
    /// Compare by `canonical` content or by `bytes` for this run (default: each pair's):
    /// `--compare bytes` carries formatting-only differences over, by the policy.
    #[arg(long)]
    pub compare: Option<Compare>,
    /// No progress on stderr, even for a long scan or sync on a terminal.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `twinsync undo`.
#[derive(clap::Args, Debug)]
pub struct UndoArgs {
    /// Operation id (or a unique prefix); the newest undoable operation by default.
    pub operation: Option<String>,
    /// The newest undoable operation of this pair (an operation id names its own pair).
    #[arg(long, value_name = "NAME")]
    pub pair: Option<String>,
}

/// Arguments of `twinsync history`.
#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    #[command(flatten)]
    pub pairs: PairArgs,
    /// How many operations to show.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

/// Arguments of `twinsync resolve`.
#[derive(clap::Args, Debug)]
pub struct ResolveArgs {
    /// The item (its path in the pair).
    pub key: String,
    /// The pair (may be left out when the project has one pair, or one named `default`).
    #[arg(long, value_name = "NAME")]
    pub pair: Option<String>,
    /// `left` or `right` takes that side's version; anything else is a FILE whose
    /// content is written to both sides.
    #[arg(long, value_name = "left|right|FILE")]
    pub take: String,
}

pub(crate) fn fail(common: &Common, e: &twinsync::Error) -> ExitCode {
    if common.json {
        println!("{}", json!({"error": {"code": e.code().as_str(), "message": e.to_string()}}));
    }
    eprintln!("twinsync: {e}");
    ExitCode::from(2)
}

pub(crate) fn print_json(v: &impl serde::Serialize) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let _ = serde_json::to_writer_pretty(&mut out, v);
    let _ = writeln!(out);
}

/// `twinsync init LEFT RIGHT`.
pub fn init(a: InitArgs, common: &Common) -> ExitCode {
    let mut config = twinsync::Config::new(&a.left, &a.right);
    if let Some(pair) = config.pairs.get_mut(twinsync::DEFAULT_PAIR) {
        pair.policy = a.policy;
        pair.direction = a.direction;
        pair.ignore = a.ignore;
        pair.compare = a.compare;
        pair.left_credential = a.left_credential;
        pair.right_credential = a.right_credential;
    }
    match Project::init_with(&common.start(), config) {
        Ok(p) => {
            if common.json {
                print_json(&json!({"project": p.dir(), "config": p.config()}));
            } else {
                println!("initialised {} syncing {} <-> {}", p.dir().display(), a.left, a.right);
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(common, &e),
    }
}

/// `twinsync status`: the items that are not in sync, pair by pair.
pub fn status(a: StatusArgs, common: &Common) -> ExitCode {
    let drawn = ScanLine::default();
    let opened = common.open().and_then(|mut p| {
        if let Some(c) = a.compare {
            p.set_compare(&a.pairs.pairs, c)?;
        }
        drawn.show_on(&mut p, a.quiet || common.json);
        p.status_pairs(&a.pairs.pairs)
    });
    drawn.clear();
    let pairs = match opened {
        Ok(s) => s,
        Err(e) => return fail(common, &e),
    };
    let conflicts: usize = pairs.iter().map(|p| p.conflicts).sum();
    let failed: usize = pairs.iter().map(|p| p.failed.len()).sum();
    if common.json {
        let items: Vec<_> = pairs
            .iter()
            .flat_map(|p| p.items.iter().map(|i| json!({"pair": p.pair, "key": i.key, "class": i.class})))
            .collect();
        let mut counts = serde_json::Map::new();
        for i in pairs.iter().flat_map(|p| &p.items) {
            let n = counts.get(&i.class).and_then(serde_json::Value::as_u64).unwrap_or(0);
            counts.insert(i.class.clone(), (n + 1).into());
        }
        let in_sync: usize = pairs.iter().map(|p| p.in_sync).sum();
        print_json(&json!({"items": items, "counts": counts, "in_sync": in_sync, "conflicts": conflicts,
            "failed": failed, "pairs": pairs}));
    } else {
        let color = std::io::stdout().is_terminal();
        // One buffered writer: stdout alone flushes every line, a syscall per item.
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        let several = pairs.len() > 1;
        for p in &pairs {
            if several {
                let _ = writeln!(out, "pair {} ({})", p.pair, p.kind);
            }
            // A rename shows once, as `moved a -> b`, where its old key would.
            let moved = |key: &str| p.moves.iter().find(|m| m.from.as_str() == key || m.to.as_str() == key);
            for i in &p.items {
                match moved(&i.key) {
                    Some(m) if m.from.as_str() == i.key => {
                        let _ = writeln!(out, "{:<24} {} -> {}", format!("moved_{}", m.side), m.from, m.to);
                    }
                    Some(_) => {}
                    None => {
                        let (on, off) = if color && i.conflict { ("\x1b[31m", "\x1b[0m") } else { ("", "") };
                        let _ = writeln!(out, "{on}{:<24}{off} {}", i.class, i.key);
                    }
                }
            }
            for f in &p.failed {
                let _ = writeln!(out, "{:<24} {}", "FAILED", f.error);
            }
            // Formatting is no drift: counted apart, and only where there is some.
            let formatting = p.items.iter().filter(|i| i.class == DriftClass::FormattingOnly.as_str()).count();
            let _ = writeln!(
                out,
                "{}{} in sync, {} drifted, {} in conflict{}{}",
                if several { "  " } else { "" },
                p.in_sync,
                p.items.len() - formatting,
                p.conflicts,
                if formatting == 0 {
                    String::new()
                } else {
                    format!(", {formatting} formatting only (`twinsync sync --formatting` makes them byte-equal)")
                },
                if p.failed.is_empty() { String::new() } else { format!(", {} unreadable", p.failed.len()) }
            );
        }
        if pairs.is_empty() {
            let _ = writeln!(out, "no pairs; add one with `twinsync pair add`");
        }
    }
    if conflicts > 0 || failed > 0 {
        ExitCode::from(EXIT_CONFLICTS)
    } else {
        ExitCode::SUCCESS
    }
}

/// `twinsync sync`: every pair (or the named ones), one after the other.
pub fn sync(a: SyncArgs, common: &Common) -> ExitCode {
    let mut project = match common.open() {
        Ok(p) => p,
        Err(e) => return fail(common, &e),
    };
    if let Some(c) = a.compare {
        if let Err(e) = project.set_compare(&a.pairs.pairs, c) {
            return fail(common, &e);
        }
    }
    let req = SyncRequest {
        policy: a.policy,
        direction: a.direction,
        allow_mass_delete: a.allow_mass_delete,
        formatting: a.formatting,
        ..Default::default()
    };
    if a.dry_run {
        return dry_run(&mut project, &a.pairs.pairs, &req, common);
    }
    let quiet = common.json;
    project.set_lease_wait(
        std::time::Duration::from_secs(a.wait),
        Some(Box::new(move |pair: &str, holder: &str| {
            if !quiet {
                eprintln!("twinsync: pair {pair}: waiting for another sync, by {holder}");
            }
        })),
    );
    let drawn = ScanLine::default();
    drawn.show_on(&mut project, a.quiet || common.json);
    if std::io::stderr().is_terminal() && !common.json && !a.quiet {
        project.set_progress(Box::new(progress_bar));
    }
    let results = project.sync_pairs(&a.pairs.pairs, &req);
    drawn.clear();
    let results = match results {
        Ok(r) => r,
        Err(e) => return fail(common, &e),
    };
    if common.json {
        print_json(&json!({ "pairs": results }));
    } else {
        let several = results.len() > 1;
        for r in &results {
            if several {
                println!("pair {} ({})", r.pair, r.kind);
            }
            match (&r.report, &r.skipped) {
                (Some(report), _) => {
                    if std::io::stderr().is_terminal() && report.counts.planned >= 200 {
                        eprintln!();
                    }
                    print_report(report);
                }
                (None, Some(why)) => println!("skipped: {why}"),
                (None, None) => {}
            }
        }
    }
    let left_for_a_person =
        results.iter().filter_map(|r| r.report.as_ref()).any(|r| r.counts.conflicts > 0 || r.counts.failed > 0);
    if left_for_a_person {
        ExitCode::from(EXIT_CONFLICTS)
    } else {
        ExitCode::SUCCESS
    }
}

fn dry_run(project: &mut Project, pairs: &[String], req: &SyncRequest, common: &Common) -> ExitCode {
    let names = match project.select_pairs(pairs) {
        Ok(n) => n,
        Err(e) => return fail(common, &e),
    };
    let mut previews = Vec::new();
    for name in names {
        match project.pair(&name).map(|p| p.kind) {
            Ok(twinsync::PairKind::Folders) => match project.preview_of(&name, req) {
                Ok(p) => previews.push((name, p)),
                Err(e) => return fail(common, &e),
            },
            Ok(_) => {}
            Err(e) => return fail(common, &e),
        }
    }
    let conflicts: usize =
        previews.iter().map(|(_, p)| p.plan.actions.iter().filter(|a| a.kind == ActionKind::Conflict).count()).sum();
    if common.json {
        let pairs: Vec<_> =
            previews.iter().map(|(n, p)| json!({"pair": n, "plan": p.plan, "diffs": p.diffs})).collect();
        print_json(&json!({ "pairs": pairs }));
    } else {
        let color = std::io::stdout().is_terminal();
        for (name, p) in &previews {
            if previews.len() > 1 {
                println!("pair {name}");
            }
            for action in &p.plan.actions {
                println!("{:<14} {:<24} {}", kind(action.kind), action.class.as_str(), action.key);
            }
            for d in &p.diffs {
                print_diff(&d.diff, color);
            }
            println!("dry run: {} actions planned, nothing changed", p.plan.actions.len());
        }
    }
    if conflicts > 0 {
        ExitCode::from(EXIT_CONFLICTS)
    } else {
        ExitCode::SUCCESS
    }
}

/// `twinsync resolve KEY --take left|right|FILE`: one conflict settled by hand, undoable.
pub fn resolve(a: ResolveArgs, common: &Common) -> ExitCode {
    let mut project = match common.open() {
        Ok(p) => p,
        Err(e) => return fail(common, &e),
    };
    let take = match a.take.as_str() {
        "left" => Take::Side(twinsync::core::Side::Left),
        "right" => Take::Side(twinsync::core::Side::Right),
        file => {
            let path = common.start().join(file);
            match std::fs::read(&path) {
                Ok(bytes) => Take::Bytes(bytes),
                Err(e) => return fail(common, &twinsync::Error::Io { path, source: e }),
            }
        }
    };
    let pair = match a.pair.clone().map(Ok).unwrap_or_else(|| project.default_pair()) {
        Ok(p) => p,
        Err(e) => return fail(common, &e),
    };
    match project.resolve(&pair, &a.key, take) {
        Ok(report) => {
            if common.json {
                print_json(&report);
            } else {
                print_report(&report);
            }
            if report.counts.conflicts > 0 || report.counts.failed > 0 {
                ExitCode::from(EXIT_CONFLICTS)
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(e) => fail(common, &e),
    }
}

/// A long scan's progress, one line on stderr redrawn in place, when stderr is a
/// terminal: how many files each side's walk has found, then how many it has hashed.
#[derive(Default)]
struct ScanLine {
    drawn: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl ScanLine {
    /// Scans shorter than this draw nothing: they end before anyone could read it.
    const AFTER: std::time::Duration = std::time::Duration::from_secs(1);

    fn show_on(&self, project: &mut twinsync::Project, quiet: bool) {
        if quiet || !std::io::stderr().is_terminal() {
            return;
        }
        // Tests set the delay to 0 to see the line on a small tree.
        let after = std::env::var("TWINSYNC_PROGRESS_AFTER_MS")
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(Self::AFTER, std::time::Duration::from_millis);
        let drawn = self.drawn.clone();
        project.set_scan_progress(
            after,
            std::sync::Arc::new(move |side: &str, p: twinsync::ScanProgress| {
                drawn.store(true, std::sync::atomic::Ordering::Relaxed);
                if p.to_hash == 0 {
                    eprint!("\r\x1b[Kscanning {side}: {} files", p.found);
                } else {
                    eprint!("\r\x1b[Khashing {side}: {}/{} files", p.hashed, p.to_hash);
                }
            }),
        );
    }

    /// Clears the line, if one was drawn, before the answer prints.
    fn clear(&self) {
        if self.drawn.load(std::sync::atomic::Ordering::Relaxed) {
            eprint!("\r\x1b[K");
        }
    }
}

fn progress_bar(done: usize, total: usize) {
    // Only long runs get a bar; short ones finish before anyone could read it.
    if total < 200 || (done % 64 != 0 && done + 1 != total) {
        return;
    }
    let width = 30;
    let filled = (done + 1) * width / total;
    eprint!("\r[{}{}] {}/{}", "=".repeat(filled), " ".repeat(width - filled), done + 1, total);
}

fn kind(k: ActionKind) -> &'static str {
    match k {
        ActionKind::CopyToRight => "copy ->",
        ActionKind::CopyToLeft => "copy <-",
        ActionKind::DeleteRight => "delete ->",
        ActionKind::DeleteLeft => "delete <-",
        ActionKind::Merge => "merge",
        ActionKind::UpdateBase => "base",
        ActionKind::Conflict => "CONFLICT",
        ActionKind::Skip => "skip",
    }
}

fn print_diff(diff: &str, color: bool) {
    for line in diff.lines() {
        let code = match line.as_bytes().first() {
            _ if !color => "",
            Some(b'+') if !line.starts_with("+++") => "\x1b[32m",
            Some(b'-') if !line.starts_with("---") => "\x1b[31m",
            Some(b'@') => "\x1b[36m",
            _ => "",
        };
        if code.is_empty() {
            println!("{line}");
        } else {
            println!("{code}{line}\x1b[0m");
        }
    }
}

fn print_report(r: &OperationReport) {
    // One buffered writer, as status has: stdout alone flushes every line, a syscall per
    // item (20,000 of them in a first sync of 20,000 files).
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for item in &r.items {
        let what = match &item.error {
            Some(e) => format!("FAILED: {e}"),
            None => item.note.clone().unwrap_or_default(),
        };
        let _ = writeln!(
            out,
            "{:<14} {:<10} {}  ({what})",
            kind(item.action),
            format!("{:?}", item.outcome).to_lowercase(),
            item.key
        );
    }
    for e in &r.item_errors {
        let _ = writeln!(out, "{:<14} {:<10} {}  ({})", "unreadable", "failed", e.key, e.error);
    }
    let status = match r.status {
        OperationStatus::Completed if r.replayed => "completed (already applied; nothing changed)",
        s => s.as_str(),
    };
    let _ = writeln!(
        out,
        "operation {}: {status}; {} applied, {} skipped, {} conflicts, {} failed in {} ms",
        &r.operation_id[..12],
        r.counts.applied,
        r.counts.skipped,
        r.counts.conflicts,
        r.counts.failed,
        r.duration_ms
    );
    if r.counts.conflicts > 0 {
        let _ = writeln!(
            out,
            "conflicts are left as they are; resolve them, or rerun with --policy prefer-left|prefer-right|merge"
        );
    }
}

/// `twinsync undo [OP]`.
pub fn undo(a: UndoArgs, common: &Common) -> ExitCode {
    match common.open().and_then(|mut p| p.undo_in(a.pair.as_deref(), a.operation.as_deref())) {
        Ok(u) => {
            if common.json {
                print_json(&u);
            } else {
                for m in &u.moves {
                    println!("moved back  {} -> {} on the {}", m.from, m.to, m.side);
                }
                for k in u.restored.iter().filter(|k| !u.moves.iter().any(|m| &m.from == *k || &m.to == *k)) {
                    println!("restored  {k}");
                }
                for r in &u.refused {
                    println!("refused   {}  ({})", r.key, r.reason);
                }
                println!(
                    "undid operation {}: {} restored, {} refused",
                    &u.operation_id[..12],
                    u.restored.len(),
                    u.refused.len()
                );
            }
            if u.refused.is_empty() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_CONFLICTS)
            }
        }
        Err(e) => fail(common, &e),
    }
}

/// `twinsync history`: recent operations, newest first.
pub fn history(a: HistoryArgs, common: &Common) -> ExitCode {
    match common.open().and_then(|p| p.operations_of(&a.pairs.pairs, a.limit)) {
        Ok(ops) => {
            if common.json {
                let rows: Vec<_> = ops
                    .iter()
                    .map(|o| {
                        let mut row = serde_json::to_value(o.summary()).unwrap_or_default();
                        row["pair"] = o.scope.clone().into();
                        if !o.recovered.is_empty() {
                            // Items a killed run wrote, committed for it by the next writer.
                            row["recovered"] = json!(o.recovered);
                        }
                        let moves = o.moves();
                        if !moves.is_empty() {
                            row["moves"] = json!(moves);
                        }
                        row
                    })
                    .collect();
                print_json(&json!({ "operations": rows }));
            } else {
                for o in &ops {
                    let undo = match (o.undone_at, o.reversible_until) {
                        (Some(t), _) => format!("undone {t}"),
                        (None, Some(u)) => format!("undoable until {u}"),
                        (None, None) => String::new(),
                    };
                    let recovered = match o.recovered.len() {
                        0 => String::new(),
                        n => format!("  interrupted; {n} recovered"),
                    };
                    println!(
                        "{}  {}  {:<12} {:<9} {:>4} applied {:>3} conflicts  {}{}",
                        &o.operation_id[..12],
                        o.started_at,
                        o.scope,
                        o.status.as_str(),
                        o.counts.applied,
                        o.counts.conflicts,
                        undo,
                        recovered
                    );
                    for m in o.moves() {
                        println!("    {m}");
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(common, &e),
    }
}
