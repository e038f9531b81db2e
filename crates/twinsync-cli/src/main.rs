//! The `twinsync` command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[cfg(target_os = "linux")]
mod allocator;
mod cmd_credentials;
mod cmd_demo;
mod cmd_design;
mod cmd_events;
mod cmd_guard;
mod cmd_hash;
mod cmd_keys;
mod cmd_lock;
mod cmd_mcp;
mod cmd_merge;
mod cmd_notify;
mod cmd_openspec;
mod cmd_pair;
mod cmd_project;
mod cmd_serve;
mod cmd_test_session;
mod cmd_watch;
mod guard_server;

#[cfg(target_os = "linux")]
#[global_allocator]
static ALLOCATOR: allocator::HugePages = allocator::HugePages;

/// Keep two replicas of your artifacts in sync.
#[derive(Parser)]
#[command(name = "twinsync", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    common: cmd_project::Common,
    /// Structured logs on stderr as `text` or `json` (level from TWINSYNC_LOG, default info).
    #[arg(long, global = true, value_name = "FORMAT")]
    log_format: Option<twinsync::LogFormat>,
}

#[derive(Subcommand)]
enum Command {
    /// Print the RFC 8785 canonical form of a JSON file.
    Canonicalize(cmd_hash::CanonicalizeArgs),
    /// Print canonical digests of files (`sha256:<hex>  FILE`).
    Hash(cmd_hash::HashArgs),
    /// Three-way merge of files, as `git merge-file` does it.
    MergeFile(cmd_merge::MergeFileArgs),
    /// Make this folder a project with a pair `default` syncing LEFT and RIGHT (folders or `db`).
    Init(cmd_project::InitArgs),
    /// The project's named pairs: add, list, remove.
    Pair(cmd_pair::PairCmd),
    /// Show the items that are not in sync, per pair (exit 1 on conflicts or unreadable items).
    Status(cmd_project::StatusArgs),
    /// Apply the drift of every pair by direction and policy (exit 1 on conflicts or failed items).
    Sync(cmd_project::SyncArgs),
    /// Settle one conflict by hand: take a side's version, or a file's (undoable).
    Resolve(cmd_project::ResolveArgs),
    /// Undo an operation, item by item, never overwriting later work.
    Undo(cmd_project::UndoArgs),
    /// Recent operations of every pair.
    History(cmd_project::HistoryArgs),
    /// The project's events (sync, conflict, lock, document), from an id on; --follow waits for more.
    Events(cmd_events::EventsArgs),
    /// Keep every pair in sync as it changes, until SIGINT or SIGTERM.
    Watch(cmd_watch::WatchArgs),
    /// Serve projects over HTTP and WebSocket (REST with JSON, live events).
    Serve(cmd_serve::ServeArgs),
    /// Webhooks: deliver events (run), test one, make a secret, delivery status, retry.
    Notify(cmd_notify::NotifyArgs),
    /// Print the project's metrics in the Prometheus text exposition (OpenMetrics).
    Metrics,
    /// Provider secrets, encrypted in the store: add, list, rotate, revoke, validate.
    Credentials(cmd_credentials::CredentialsArgs),
    /// API keys for a `twinsync serve` server's hook routes and agents: create, list, revoke.
    Keys(cmd_keys::KeysArgs),
    /// Browser test sessions of stories: start, finish (a failure is an event), show, list.
    TestSession(cmd_test_session::TestSessionArgs),
    /// The project lock: acquire, renew, release (--force is audited), status.
    Lock(cmd_lock::LockArgs),
    /// Claude Code PreToolUse hook: block writes to protected paths or under another's lock.
    Guard(cmd_guard::GuardArgs),
    /// Model Context Protocol server on stdio: sync, drift, undo, locks, history for agents.
    Mcp(cmd_mcp::McpArgs),
    /// A walk-through on a throwaway project: sync, conflict, merge, undo.
    Demo(cmd_demo::DemoArgs),
    /// OpenSpec folders: list, show and validate as the `openspec` CLI does.
    Openspec(cmd_openspec::OpenspecArgs),
    /// Design <-> code: drift against Figma and tokens, Storybook coverage, CSF3 scaffolds.
    Design(cmd_design::DesignArgs),
}

fn main() -> ExitCode {
    #[cfg(target_os = "linux")]
    allocator::tune();
    let cli = Cli::parse();
    let common = cli.common;
    if let Err(e) = twinsync::init_logging(cli.log_format) {
        eprintln!("twinsync: {e}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Canonicalize(a) => cmd_hash::canonicalize(a),
        Command::Hash(a) => cmd_hash::hash(a),
        Command::MergeFile(a) => cmd_merge::merge_file(a),
        Command::Init(a) => Ok(cmd_project::init(a, &common)),
        Command::Pair(a) => Ok(cmd_pair::pair(a, &common)),
        Command::Status(a) => Ok(cmd_project::status(a, &common)),
        Command::Sync(a) => Ok(cmd_project::sync(a, &common)),
        Command::Resolve(a) => Ok(cmd_project::resolve(a, &common)),
        Command::Events(a) => Ok(cmd_events::events(a, &common)),
        Command::Watch(a) => Ok(cmd_watch::watch(a, &common)),
        Command::Serve(a) => Ok(cmd_serve::serve(a, &common)),
        Command::Notify(a) => Ok(cmd_notify::notify(a, &common)),
        Command::Credentials(a) => Ok(cmd_credentials::credentials(a, &common)),
        Command::Keys(a) => Ok(cmd_keys::keys(a, &common)),
        Command::Metrics => Ok(metrics(&common)),
        Command::TestSession(a) => Ok(cmd_test_session::test_session(a, &common)),
        Command::Undo(a) => Ok(cmd_project::undo(a, &common)),
        Command::History(a) => Ok(cmd_project::history(a, &common)),
        Command::Lock(a) => Ok(cmd_lock::lock(a, &common)),
        Command::Guard(a) => Ok(cmd_guard::guard(a, &common)),
        Command::Mcp(a) => Ok(cmd_mcp::mcp(a, &common)),
        Command::Demo(a) => Ok(cmd_demo::demo(a)),
        Command::Openspec(a) => Ok(cmd_openspec::openspec(a, &common)),
        Command::Design(a) => cmd_design::design(a, &common),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("twinsync: {e}");
            ExitCode::from(255)
        }
    }
}

/// `twinsync metrics`: what the store says every process did, for a scraper or a person.
fn metrics(common: &cmd_project::Common) -> ExitCode {
    match common.open().and_then(|mut p| p.metrics_text()) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => cmd_project::fail(common, &e),
    }
}
