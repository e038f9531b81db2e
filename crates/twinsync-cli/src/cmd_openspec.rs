//! `twinsync openspec list|show|validate`: the OpenSpec CLI's read commands on the nearest
//! `openspec/` folder, with the same `--json` documents (`openspec` 1.13.2); and
//! `sync|watch|query|edit|status`: shortcuts over the folder's `openspec` pair (the
//! project's, or an implicit one; see `Project::for_openspec`), whose database side is by
//! default `.twinsync/openspec.db` beside `openspec/` (backups of overwritten files in
//! `.twinsync/openspec-backups/`). Every sync they start is the pair's sync through the
//! engine: in `twinsync history`, undone with `twinsync undo --pair`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;
use twinsync::core::Trigger;
use twinsync::openspec::db::{Kind, Query, QuerySort, Status};
use twinsync::openspec::sync::{sync_report, SyncAnswer, SyncPolicy, SyncReport};
use twinsync::openspec::{output, Parts, Scope, Sort, Workspace};
use twinsync::{OpenspecSync, Project};

use crate::cmd_project::Common;

/// OpenSpec subcommands.
#[derive(Args)]
pub struct OpenspecArgs {
    #[command(subcommand)]
    command: OpenspecCommand,
}

#[derive(Subcommand)]
enum OpenspecCommand {
    /// Active changes with task progress (or main specs with --specs).
    List(ListArgs),
    /// One change or spec (markdown, or the CLI's JSON with --json).
    Show(ShowArgs),
    /// Check changes and specs as `openspec validate` does (exit 1 when any is invalid).
    Validate(ValidateArgs),
    /// Sync the folder with its database once (exit 1 on failures or open conflicts).
    Sync(SyncArgs),
    /// Sync on start, then on every file change and periodically, until stopped.
    Watch(WatchArgs),
    /// The work queue from the database: filter by status, search, sort.
    Query(QueryArgs),
    /// Set one document of a change or spec in the database and write it to disk at once.
    Edit(EditArgs),
    /// Set the lifecycle status of a change or spec in the database (approved, assigned, ...).
    Status(StatusArgs),
}

#[derive(Args)]
struct DbArgs {
    /// Folder holding openspec/ (default: found from the current folder as the OpenSpec CLI does).
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
    /// Database file (default: ROOT/.twinsync/openspec.db).
    #[arg(long, value_name = "FILE")]
    db: Option<PathBuf>,
    /// Project name stored on rows (default: the root folder's name).
    #[arg(long)]
    project: Option<String>,
}

#[derive(Args)]
struct SyncArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Who wins when a document changed on disk and in the database.
    #[arg(long, value_enum, default_value_t = PolicyArg::FsWins)]
    policy: PolicyArg,
    /// Only this change.
    #[arg(long)]
    change: Option<String>,
    /// Show what would change; change nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum PolicyArg {
    FsWins,
    Merge,
    Manual,
}

impl From<PolicyArg> for SyncPolicy {
    fn from(p: PolicyArg) -> Self {
        match p {
            PolicyArg::FsWins => SyncPolicy::FsWins,
            PolicyArg::Merge => SyncPolicy::Merge,
            PolicyArg::Manual => SyncPolicy::Manual,
        }
    }
}

#[derive(Args)]
struct WatchArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Conflict policy.
    #[arg(long, value_enum, default_value_t = PolicyArg::FsWins)]
    policy: PolicyArg,
    /// Seconds between full passes (archived changes, database edits, missed events).
    #[arg(long, default_value_t = 30.0)]
    period: f64,
    /// Milliseconds of quiet after a file event before syncing.
    #[arg(long, default_value_t = 200)]
    debounce: u64,
}

#[derive(Args)]
struct QueryArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Only this lifecycle status.
    #[arg(long, value_parser = parse_status)]
    status: Option<Status>,
    /// Full-text search of titles and documents (every word must occur).
    #[arg(long)]
    search: Option<String>,
    /// Order.
    #[arg(long, value_enum, default_value_t = QuerySortArg::Id)]
    sort: QuerySortArg,
    /// Only changes or only specs.
    #[arg(long = "type", value_enum)]
    kind: Option<KindArg>,
    /// Include rows whose folder was removed from disk.
    #[arg(long)]
    deleted: bool,
    /// At most this many rows.
    #[arg(long)]
    limit: Option<usize>,
}

fn parse_status(s: &str) -> Result<Status, String> {
    s.parse::<Status>().map_err(|e| e.to_string())
}

#[derive(Clone, Copy, ValueEnum)]
enum QuerySortArg {
    Id,
    Progress,
    Age,
}

#[derive(Args)]
struct EditArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Change (or spec, with --type spec) id.
    id: String,
    /// The document: proposal.md, design.md or tasks.md (spec.md for specs).
    file: String,
    /// Read the new text from this file (default: standard input).
    #[arg(long, value_name = "PATH")]
    from: Option<PathBuf>,
    /// Remove the document instead.
    #[arg(long, conflicts_with = "from")]
    delete: bool,
    /// Row type.
    #[arg(long = "type", value_enum, default_value_t = KindArg::Change)]
    kind: KindArg,
    /// Conflict policy when the file also changed since the last sync.
    #[arg(long, value_enum, default_value_t = PolicyArg::FsWins)]
    policy: PolicyArg,
}

#[derive(Args)]
struct StatusArgs {
    #[command(flatten)]
    db: DbArgs,
    /// Change (or spec, with --type spec) id.
    id: String,
    /// proposing, approved, assigned, in_progress, review or archived.
    #[arg(value_parser = parse_status)]
    status: Status,
    /// Row type.
    #[arg(long = "type", value_enum, default_value_t = KindArg::Change)]
    kind: KindArg,
}

#[derive(Args)]
struct ListArgs {
    /// List main specs instead of changes.
    #[arg(long)]
    specs: bool,
    /// List changes (the default).
    #[arg(long, conflicts_with = "specs")]
    changes: bool,
    /// Order of changes.
    #[arg(long, value_enum, default_value_t = SortArg::Recent)]
    sort: SortArg,
}

#[derive(Clone, Copy, ValueEnum)]
enum SortArg {
    Recent,
    Name,
}

#[derive(Args)]
struct ShowArgs {
    /// Change or spec id.
    id: String,
    /// Item type when the id is ambiguous.
    #[arg(long = "type", value_enum)]
    kind: Option<KindArg>,
}

#[derive(Clone, Copy, ValueEnum)]
enum KindArg {
    Change,
    Spec,
}

#[derive(Args)]
struct ValidateArgs {
    /// Validate all changes and specs.
    #[arg(long)]
    all: bool,
    /// Validate all changes.
    #[arg(long)]
    changes: bool,
    /// Validate all specs.
    #[arg(long)]
    specs: bool,
    /// Warnings fail too.
    #[arg(long)]
    strict: bool,
    /// Check archived changes for unfinished tasks instead.
    #[arg(long)]
    archived: bool,
    /// One change or spec id.
    id: Option<String>,
}

fn print(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_else(|_| "{}".into()));
}

fn fail(json: bool, code: &str, message: &str) -> ExitCode {
    if json {
        print(&output::status_json(code, message));
    } else {
        eprintln!("twinsync openspec: {message}");
    }
    ExitCode::from(1)
}

/// Runs an `openspec` subcommand.
pub fn openspec(args: OpenspecArgs, common: &Common) -> ExitCode {
    let start = common.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    let args = match args.command {
        OpenspecCommand::Sync(a) => return sync(a, &start, common.json),
        OpenspecCommand::Watch(a) => return watch(a, &start, common.json),
        OpenspecCommand::Query(a) => return query(a, &start, common.json),
        OpenspecCommand::Edit(a) => return edit(a, &start, common.json),
        OpenspecCommand::Status(a) => return set_status(a, &start, common.json),
        command => OpenspecArgs { command },
    };
    // Read only what the command needs: `list` touches nothing but task files.
    let parts = match &args.command {
        OpenspecCommand::List(a) if a.specs => Parts::SPECS,
        OpenspecCommand::List(_) => Parts::LIST,
        OpenspecCommand::Validate(a) if a.archived => {
            Parts { specs: false, changes: false, archived: true, change_files: false }
        }
        _ => Parts { archived: false, ..Parts::ALL },
    };
    let root = match &args.command {
        OpenspecCommand::List(_) => twinsync::openspec::workspace::find_list_root(&start),
        _ => twinsync::openspec::find_root(&start),
    };
    let implicit = root.is_ok() && twinsync::openspec::find_root(&start).is_err();
    let ws = match root.and_then(|r| Workspace::load_parts(&r, parts)) {
        Ok(mut ws) => {
            if implicit {
                ws.root_source = "implicit";
            }
            ws
        }
        Err(e) => return fail(common.json, "root_error", &e.to_string()),
    };
    for p in &ws.problems {
        if !common.json {
            eprintln!("warning: {}:{}: {}", p.file.display(), p.line, p.message);
        }
    }
    match args.command {
        OpenspecCommand::List(a) => list(&ws, a, common.json),
        OpenspecCommand::Show(a) => show(&ws, a, common.json),
        OpenspecCommand::Validate(a) => validate(&ws, a, common.json),
        OpenspecCommand::Sync(_)
        | OpenspecCommand::Watch(_)
        | OpenspecCommand::Query(_)
        | OpenspecCommand::Edit(_)
        | OpenspecCommand::Status(_) => unreachable!("dispatched above"),
    }
}

/// The folder holding `openspec/`: `--root` (or its parent when it names `openspec/` itself),
/// else found from `start` as the OpenSpec CLI finds it.
fn resolve_root(a: &DbArgs, start: &std::path::Path) -> Result<PathBuf, String> {
    match &a.root {
        Some(r) if r.file_name().is_some_and(|n| n == "openspec") && !r.join("openspec").is_dir() => Ok(r
            .parent()
            .map(|p| if p.as_os_str().is_empty() { PathBuf::from(".") } else { p.to_path_buf() })
            .unwrap_or_default()),
        Some(r) if r.join("openspec").is_dir() => Ok(r.clone()),
        Some(r) => Err(format!("{} holds no openspec/ folder", r.display())),
        None => twinsync::openspec::find_root(start).map_err(|e| e.to_string()),
    }
}

/// The project and pair the shortcut acts on (see `Project::for_openspec`).
fn open_pair(a: &DbArgs, start: &std::path::Path) -> Result<(Project, String), (&'static str, String)> {
    let root = resolve_root(a, start).map_err(|e| ("root_error", e))?;
    Project::for_openspec(&root, a.db.as_deref(), a.project.as_deref()).map_err(|e| ("root_error", e.to_string()))
}

fn kind_of(k: KindArg) -> Kind {
    match k {
        KindArg::Change => Kind::Change,
        KindArg::Spec => Kind::Spec,
    }
}

fn print_report(r: &SyncReport) {
    for i in &r.items {
        let dirs: Vec<&str> = i.directions.iter().map(|d| d.as_str()).collect();
        let what = match &i.error {
            Some(e) => format!("failed: {e}"),
            None if !i.conflicts.is_empty() => format!("{} (conflict in {})", i.outcome, i.conflicts.join(", ")),
            None => i.outcome.clone(),
        };
        println!("{} {:<40} {:<14} {what}", i.kind, i.id, dirs.join(","));
    }
}

fn report_code(r: &SyncReport) -> ExitCode {
    if r.failed > 0 || r.items.iter().any(|i| !i.conflicts.is_empty()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn sync(a: SyncArgs, start: &std::path::Path, json: bool) -> ExitCode {
    let (mut project, pair) = match open_pair(&a.db, start) {
        Ok(p) => p,
        Err((code, e)) => return fail(json, code, &e),
    };
    let req =
        OpenspecSync { change: a.change, dry_run: a.dry_run, policy: Some(a.policy.into()), trigger: Trigger::Manual };
    match project.openspec_sync(&pair, &req) {
        Err(e) => fail(json, "sync_error", &e.to_string()),
        Ok(answer) => {
            if json {
                print(&serde_json::to_value(&answer).unwrap_or(Value::Null));
            }
            match answer {
                SyncAnswer::Preview { rows, .. } => {
                    if !json {
                        for r in &rows {
                            println!("{} {:<40} {}", r.kind, r.id, r.row);
                            for (doc, action) in &r.docs {
                                println!("    {doc}: {action}");
                            }
                        }
                        println!("{} row(s) would change", rows.len());
                    }
                    ExitCode::SUCCESS
                }
                SyncAnswer::Synced { report, db } => {
                    if !json {
                        print_report(&report);
                        println!(
                            "{} checked, {} changed, {} failed, {} conflict(s) ({} ms) — {db}; operation {} of pair {pair}",
                            report.checked,
                            report.items.len() - report.failed,
                            report.failed,
                            report.conflicts,
                            report.duration_ms,
                            report.operation_id.get(..12).unwrap_or(&report.operation_id),
                        );
                    }
                    report_code(&report)
                }
            }
        }
    }
}

fn watch(a: WatchArgs, start: &std::path::Path, json: bool) -> ExitCode {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    if !(a.period.is_finite() && a.period > 0.0) {
        return fail(json, "bad_arguments", &format!("--period {}: expected a positive number of seconds", a.period));
    }
    let (mut project, pair) = match open_pair(&a.db, start) {
        Ok(p) => p,
        Err((code, e)) => return fail(json, code, &e),
    };
    let policy: SyncPolicy = a.policy.into();
    if let Err(e) = project.set_pair_policy(&pair, policy.core()) {
        return fail(json, "root_error", &e.to_string());
    }
    let (db, rows) = match project.openspec_db(&pair) {
        Ok(d) => d,
        Err(e) => return fail(json, "db_error", &e.to_string()),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, stop.clone()) {
            return fail(json, "watch_error", &format!("cannot handle signal {signal}: {e}"));
        }
    }
    if !json {
        eprintln!("watching {} (pair {pair}, database {}); stop with Ctrl-C", project.dir().display(), db.path());
    }
    let notes = Box::new(move |n: &twinsync::WatchNote| {
        use std::io::Write;
        match n {
            twinsync::WatchNote::Synced { report, .. } => {
                let checked =
                    db.query(&Query { project: Some(rows.clone()), ..Query::default() }).map_or(0, |r| r.len());
                let r = sync_report(report, policy.as_str(), &db, &rows, checked);
                if json {
                    // One JSON document per line, so a consumer can read the stream as it comes.
                    println!("{}", serde_json::to_string(&r).unwrap_or_default());
                } else {
                    println!("[{}] {} sync: {} row(s)", report.finished_at.to_rfc3339(), r.trigger, r.items.len());
                    print_report(&r);
                }
            }
            other => eprintln!("{}", serde_json::to_string(other).unwrap_or_default()),
        }
        let _ = std::io::stdout().flush();
    });
    let opts = twinsync::WatchOptions {
        pairs: vec![pair],
        debounce: std::time::Duration::from_millis(a.debounce),
        period: std::time::Duration::from_secs_f64(a.period),
        ..Default::default()
    };
    let mut handle = match project.watch(opts, notes) {
        Ok(h) => h,
        Err(e) => return fail(json, "sync_error", &e.to_string()),
    };
    let flag = handle.stop_flag();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    flag.store(true, Ordering::SeqCst);
    match handle.join() {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(json, "sync_error", &e.to_string()),
    }
}

fn query(a: QueryArgs, start: &std::path::Path, json: bool) -> ExitCode {
    let (project, pair) = match open_pair(&a.db, start) {
        Ok(p) => p,
        Err((code, e)) => return fail(json, code, &e),
    };
    let q = Query {
        project: None,
        kind: a.kind.map(kind_of),
        status: a.status,
        search: a.search,
        sort: match a.sort {
            QuerySortArg::Id => QuerySort::Id,
            QuerySortArg::Progress => QuerySort::Progress,
            QuerySortArg::Age => QuerySort::Age,
        },
        include_deleted: a.deleted,
        limit: a.limit,
    };
    let rows = match project.openspec_rows(&pair, &q) {
        Ok(r) => r,
        Err(e) => return fail(json, "db_error", &e.to_string()),
    };
    if json {
        // The queue without the documents' full text: ids, status, progress and sync state.
        let items: Vec<Value> = rows.iter().map(row_json).collect();
        print(&serde_json::json!({ "items": items, "count": items.len() }));
    } else if rows.is_empty() {
        println!("Nothing matches.");
    } else {
        for r in &rows {
            println!(
                "{:<7} {:<40} {:<12} {:>3}/{:<3} {}{}",
                r.kind.as_str(),
                r.id,
                r.status.as_str(),
                r.tasks_done,
                r.tasks_total,
                r.title,
                if r.deleted { " (deleted)" } else { "" }
            );
        }
    }
    ExitCode::SUCCESS
}

/// A row of the work queue as `query --json` and `status --json` print it.
fn row_json(r: &twinsync::openspec::ItemRow) -> Value {
    serde_json::json!({
        "type": r.kind, "id": r.id, "project": r.project, "title": r.title, "status": r.status,
        "path": r.path, "archivedOn": r.archived_on, "completedTasks": r.tasks_done,
        "totalTasks": r.tasks_total, "progress": r.progress(), "requirements": r.requirements,
        "lastSynced": r.last_synced.map(|t| t.to_rfc3339()),
        "fsModified": r.fs_modified.map(|t| t.to_rfc3339()),
        "dbModified": r.db_modified.map(|t| t.to_rfc3339()),
        "syncError": r.sync_error, "deleted": r.deleted,
    })
}

fn edit(a: EditArgs, start: &std::path::Path, json: bool) -> ExitCode {
    let text = if a.delete {
        None
    } else {
        let read = match &a.from {
            Some(p) => std::fs::read_to_string(p).map_err(|e| format!("cannot read {}: {e}", p.display())),
            None => std::io::read_to_string(std::io::stdin()).map_err(|e| format!("cannot read standard input: {e}")),
        };
        match read {
            Ok(t) => Some(t),
            Err(e) => return fail(json, "bad_arguments", &e),
        }
    };
    let (mut project, pair) = match open_pair(&a.db, start) {
        Ok(p) => p,
        Err((code, e)) => return fail(json, code, &e),
    };
    let kind = kind_of(a.kind);
    match project.openspec_edit(&pair, kind, &a.id, &a.file, text.as_deref(), Some(a.policy.into())) {
        Err(e) => fail(json, "edit_error", &e.to_string()),
        Ok(report) => {
            if json {
                print(&serde_json::to_value(&report).unwrap_or(Value::Null));
            } else {
                print_report(&report);
                if report.items.is_empty() {
                    println!("{} {}: {} unchanged", kind, a.id, a.file);
                }
            }
            report_code(&report)
        }
    }
}

fn set_status(a: StatusArgs, start: &std::path::Path, json: bool) -> ExitCode {
    let (mut project, pair) = match open_pair(&a.db, start) {
        Ok(p) => p,
        Err((code, e)) => return fail(json, code, &e),
    };
    match project.openspec_set_status(&pair, kind_of(a.kind), &a.id, a.status) {
        Err(e) => fail(json, "status_error", &e.to_string()),
        Ok(row) => {
            if json {
                print(&row_json(&row));
            } else {
                println!("{} {}: {}", row.kind, row.id, row.status.as_str());
            }
            ExitCode::SUCCESS
        }
    }
}

fn list(ws: &Workspace, a: ListArgs, json: bool) -> ExitCode {
    if a.specs {
        let doc = output::list_specs_json(ws);
        if json {
            print(&doc);
        } else if doc["specs"].as_array().map(|s| s.is_empty()).unwrap_or(true) {
            println!("No specs found.");
        } else {
            println!("Specs:");
            for s in doc["specs"].as_array().into_iter().flatten() {
                println!("  {:<40} requirements {}", s["id"].as_str().unwrap_or(""), s["requirementCount"]);
            }
        }
        return ExitCode::SUCCESS;
    }
    let sort = match a.sort {
        SortArg::Recent => Sort::Recent,
        SortArg::Name => Sort::Name,
    };
    let doc = output::list_json(ws, sort);
    if json {
        print(&doc);
        return ExitCode::SUCCESS;
    }
    let changes = doc["changes"].as_array().cloned().unwrap_or_default();
    if changes.is_empty() {
        println!("No active changes found.");
        return ExitCode::SUCCESS;
    }
    println!("Changes:");
    let width = changes.iter().filter_map(|c| c["name"].as_str()).map(str::len).max().unwrap_or(0);
    for c in &changes {
        let (done, total) = (c["completedTasks"].as_u64().unwrap_or(0), c["totalTasks"].as_u64().unwrap_or(0));
        let status = if total == 0 {
            "No tasks".to_string()
        } else if done == total {
            "✓ Complete".to_string()
        } else {
            format!("{done}/{total} tasks")
        };
        println!("  {:<width$}     {status}", c["name"].as_str().unwrap_or(""));
    }
    ExitCode::SUCCESS
}

fn show(ws: &Workspace, a: ShowArgs, json: bool) -> ExitCode {
    let kind = a.kind.map(|k| match k {
        KindArg::Change => "change",
        KindArg::Spec => "spec",
    });
    if json {
        return match output::show_json(ws, &a.id, kind) {
            Ok(v) => {
                print(&v);
                ExitCode::SUCCESS
            }
            Err(v) => {
                print(&v);
                ExitCode::from(1)
            }
        };
    }
    // Text mode passes the markdown through, as the CLI does.
    let text = match kind {
        Some("spec") => ws.spec(&a.id).map(|s| s.file.text.clone()),
        Some(_) => ws.change(&a.id).and_then(|c| c.proposal.as_ref()).map(|p| p.text.clone()),
        None => ws
            .change(&a.id)
            .and_then(|c| c.proposal.as_ref())
            .map(|p| p.text.clone())
            .or_else(|| ws.spec(&a.id).map(|s| s.file.text.clone())),
    };
    match text {
        Some(t) => {
            println!("{t}");
            ExitCode::SUCCESS
        }
        None => fail(false, "unknown_item", &format!("Unknown item '{}'.", a.id)),
    }
}

fn validate(ws: &Workspace, a: ValidateArgs, json: bool) -> ExitCode {
    if a.archived {
        let (doc, ok) = output::validate_archived_json(ws);
        if json {
            print(&doc);
        } else {
            doc["items"].as_array().into_iter().flatten().for_each(report_text);
        }
        return if ok { ExitCode::SUCCESS } else { ExitCode::from(1) };
    }
    let scope = if let Some(id) = &a.id {
        // A single item: run the bulk validator restricted to it.
        let (doc, _) = output::validate_json(ws, Scope { changes: true, specs: true }, a.strict);
        let items: Vec<Value> =
            doc["items"].as_array().into_iter().flatten().filter(|i| i["id"].as_str() == Some(id)).cloned().collect();
        let Some(item) = items.first().cloned() else {
            return fail(json, "unknown_item", &format!("Unknown item '{id}'."));
        };
        let ok = item["valid"].as_bool().unwrap_or(false);
        if json {
            let kind = item["type"].as_str().unwrap_or("change").to_string();
            let tally = serde_json::json!({ "items": 1, "passed": ok as u8, "failed": (!ok) as u8 });
            let mut by_type = serde_json::Map::new();
            by_type.insert(kind, tally.clone());
            print(&serde_json::json!({
                "items": [item], "summary": { "totals": tally, "byType": by_type },
                "version": "1.0", "root": output::root_json(ws),
            }));
        } else {
            report_text(&item);
        }
        return if ok { ExitCode::SUCCESS } else { ExitCode::from(1) };
    } else {
        let all = a.all || (!a.changes && !a.specs);
        Scope { changes: all || a.changes, specs: all || a.specs }
    };
    let (doc, ok) = output::validate_json(ws, scope, a.strict);
    if json {
        print(&doc);
    } else {
        for item in doc["items"].as_array().into_iter().flatten() {
            report_text(item);
        }
        let t = &doc["summary"]["totals"];
        println!("Totals: {} passed, {} failed ({} items)", t["passed"], t["failed"], t["items"]);
    }
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn report_text(item: &Value) {
    let mark = if item["valid"].as_bool().unwrap_or(false) { "✓" } else { "✗" };
    println!("{mark} {}/{}", item["type"].as_str().unwrap_or(""), item["id"].as_str().unwrap_or(""));
    for i in item["issues"].as_array().into_iter().flatten() {
        let level = i["level"].as_str().unwrap_or("");
        let line = i.get("line").and_then(Value::as_u64).map(|l| format!(":{l}")).unwrap_or_default();
        println!("  [{level}] {}{line}: {}", i["path"].as_str().unwrap_or(""), i["message"].as_str().unwrap_or(""));
    }
}
