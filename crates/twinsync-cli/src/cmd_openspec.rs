//! `twinsync openspec list|show|validate`: the OpenSpec CLI's read commands on the nearest
//! `openspec/` folder, with the same `--json` documents (`openspec` 1.13.2).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::Value;
use twinsync_openspec::{output, Parts, Scope, Sort, Workspace};

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
        OpenspecCommand::List(_) => twinsync_openspec::workspace::find_list_root(&start),
        _ => twinsync_openspec::find_root(&start),
    };
    let implicit = root.is_ok() && twinsync_openspec::find_root(&start).is_err();
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
