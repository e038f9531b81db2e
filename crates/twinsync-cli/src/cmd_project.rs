//! The directory sync from the command line: `init`, `status`, `sync`, `undo`, `history`,
//! `lock`. Every command takes `--json`; conflicts left for a person exit with status 1,
//! errors with status 2.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::json;
use twinsync::core::{ActionKind, Direction, DriftClass, OperationReport, OperationStatus, Policy};
use twinsync::{Project, SyncRequest};

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
    fn open(&self) -> twinsync::Result<Project> {
        Project::open(&self.start())
    }
    fn start(&self) -> PathBuf {
        self.dir.clone().unwrap_or_else(|| PathBuf::from("."))
    }
}

/// Arguments of `twinsync init`.
#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// Left replica: a folder (relative to the current folder) or `db`.
    pub left: String,
    /// Right replica: a folder or `db`.
    pub right: String,
    /// Conflict policy.
    #[arg(long, default_value = "manual")]
    pub policy: Policy,
    /// Default direction.
    #[arg(long, default_value = "both")]
    pub direction: Direction,
    /// Extra ignore globs for folder replicas.
    #[arg(long = "ignore", value_name = "GLOB")]
    pub ignore: Vec<String>,
}

/// Arguments of `twinsync sync`.
#[derive(clap::Args, Debug)]
pub struct SyncArgs {
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
}

/// Arguments of `twinsync undo`.
#[derive(clap::Args, Debug)]
pub struct UndoArgs {
    /// Operation id (or a unique prefix); the newest undoable operation by default.
    pub operation: Option<String>,
}

/// Arguments of `twinsync history`.
#[derive(clap::Args, Debug)]
pub struct HistoryArgs {
    /// How many operations to show.
    #[arg(long, default_value_t = 20)]
    pub limit: usize,
}

fn fail(common: &Common, e: &twinsync::Error) -> ExitCode {
    if common.json {
        println!("{}", json!({"error": {"code": e.code().as_str(), "message": e.to_string()}}));
    }
    eprintln!("twinsync: {e}");
    ExitCode::from(2)
}

fn print_json(v: &impl serde::Serialize) {
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let _ = serde_json::to_writer_pretty(&mut out, v);
    let _ = writeln!(out);
}

/// `twinsync init LEFT RIGHT`.
pub fn init(a: InitArgs, common: &Common) -> ExitCode {
    let mut config = twinsync::Config::new(&a.left, &a.right);
    config.pair.policy = a.policy;
    config.pair.direction = a.direction;
    config.pair.ignore = a.ignore;
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

/// `twinsync status`: the items that are not in sync.
pub fn status(common: &Common) -> ExitCode {
    let drift = match common.open().and_then(|mut p| p.status()) {
        Ok(d) => d,
        Err(e) => return fail(common, &e),
    };
    if common.json {
        let items: Vec<_> = drift.drifted().map(|i| json!({"key": i.key, "class": i.class})).collect();
        let counts: serde_json::Map<String, serde_json::Value> = drift
            .counts
            .iter()
            .filter(|(c, _)| *c != DriftClass::InSync)
            .map(|(c, n)| (c.as_str().into(), n.into()))
            .collect();
        print_json(&json!({"items": items, "counts": counts, "in_sync": drift.counts.get(DriftClass::InSync)}));
    } else {
        let color = std::io::stdout().is_terminal();
        // One buffered writer: stdout alone flushes every line, a syscall per item.
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for i in drift.drifted() {
            let (on, off) = if color && i.class.is_conflict() { ("\x1b[31m", "\x1b[0m") } else { ("", "") };
            let _ = writeln!(out, "{on}{:<24}{off} {}", i.class.as_str(), i.key);
        }
        let _ = writeln!(
            out,
            "{} in sync, {} drifted, {} in conflict",
            drift.counts.get(DriftClass::InSync),
            drift.counts.drifted(),
            drift.counts.conflicts()
        );
    }
    if drift.counts.conflicts() > 0 {
        ExitCode::from(EXIT_CONFLICTS)
    } else {
        ExitCode::SUCCESS
    }
}

/// `twinsync sync`.
pub fn sync(a: SyncArgs, common: &Common) -> ExitCode {
    let mut project = match common.open() {
        Ok(p) => p,
        Err(e) => return fail(common, &e),
    };
    let req = SyncRequest {
        policy: a.policy,
        direction: a.direction,
        allow_mass_delete: a.allow_mass_delete,
        ..Default::default()
    };
    if a.dry_run {
        return match project.preview(&req) {
            Ok(p) => {
                if common.json {
                    print_json(&p);
                } else {
                    let color = std::io::stdout().is_terminal();
                    for action in &p.plan.actions {
                        println!("{:<14} {:<24} {}", kind(action.kind), action.class.as_str(), action.key);
                    }
                    for d in &p.diffs {
                        print_diff(&d.diff, color);
                    }
                    println!("dry run: {} actions planned, nothing changed", p.plan.actions.len());
                }
                let conflicts = p.plan.actions.iter().filter(|a| a.kind == ActionKind::Conflict).count();
                if conflicts > 0 {
                    ExitCode::from(EXIT_CONFLICTS)
                } else {
                    ExitCode::SUCCESS
                }
            }
            Err(e) => fail(common, &e),
        };
    }
    if std::io::stderr().is_terminal() && !common.json {
        project.set_progress(Box::new(progress_bar));
    }
    match project.sync(&req) {
        Ok(report) => {
            if std::io::stderr().is_terminal() && !common.json && report.counts.planned >= 200 {
                eprintln!();
            }
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
    for item in &r.items {
        let what = match &item.error {
            Some(e) => format!("FAILED: {e}"),
            None => item.note.clone().unwrap_or_default(),
        };
        println!(
            "{:<14} {:<10} {}  ({what})",
            kind(item.action),
            format!("{:?}", item.outcome).to_lowercase(),
            item.key
        );
    }
    let status = match r.status {
        OperationStatus::Completed if r.replayed => "completed (already applied; nothing changed)",
        s => s.as_str(),
    };
    println!(
        "operation {}: {status}; {} applied, {} skipped, {} conflicts, {} failed in {} ms",
        &r.operation_id[..12],
        r.counts.applied,
        r.counts.skipped,
        r.counts.conflicts,
        r.counts.failed,
        r.duration_ms
    );
    if r.counts.conflicts > 0 {
        println!("conflicts are left as they are; resolve them, or rerun with --policy prefer-left|prefer-right|merge");
    }
}

/// `twinsync undo [OP]`.
pub fn undo(a: UndoArgs, common: &Common) -> ExitCode {
    match common.open().and_then(|mut p| p.undo(a.operation.as_deref())) {
        Ok(u) => {
            if common.json {
                print_json(&u);
            } else {
                for k in &u.restored {
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
    match common.open().and_then(|p| p.operations(a.limit)) {
        Ok(ops) => {
            if common.json {
                let rows: Vec<_> = ops.iter().map(OperationReport::summary).collect();
                print_json(&json!({ "operations": rows }));
            } else {
                for o in &ops {
                    let undo = match (o.undone_at, o.reversible_until) {
                        (Some(t), _) => format!("undone {t}"),
                        (None, Some(u)) => format!("undoable until {u}"),
                        (None, None) => String::new(),
                    };
                    println!(
                        "{}  {}  {:<9} {:>4} applied {:>3} conflicts  {}",
                        &o.operation_id[..12],
                        o.started_at,
                        o.status.as_str(),
                        o.counts.applied,
                        o.counts.conflicts,
                        undo
                    );
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(common, &e),
    }
}
