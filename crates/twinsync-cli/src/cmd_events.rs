//! `twinsync events`: the project's event outbox, from an id on, and as it grows.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use crate::cmd_project::{fail, Common};

/// Arguments of `twinsync events`.
#[derive(clap::Args, Debug)]
pub struct EventsArgs {
    /// Only events with an id above ID.
    #[arg(long, value_name = "ID", default_value_t = 0)]
    since: u64,
    /// Keep printing events as they are written, by this process or any other.
    #[arg(long)]
    follow: bool,
    /// Most events printed before returning (without --follow).
    #[arg(long, default_value_t = 1000)]
    limit: usize,
}

/// How often `--follow` looks for new events.
const POLL: Duration = Duration::from_millis(200);
/// Events read per query.
const PAGE: usize = 500;

/// `twinsync events [--since ID] [--follow] [--json]`: JSON Lines with `--json`.
pub fn events(a: EventsArgs, common: &Common) -> ExitCode {
    let project = match common.open() {
        Ok(p) => p,
        Err(e) => return fail(common, &e),
    };
    let mut since = a.since;
    let mut printed = 0usize;
    loop {
        let page = match project.events(since, PAGE) {
            Ok(p) => p,
            Err(e) => return fail(common, &e),
        };
        let mut out = std::io::stdout().lock();
        for e in &page {
            if !a.follow && printed >= a.limit {
                return ExitCode::SUCCESS;
            }
            let line = if common.json {
                serde_json::to_string(e).unwrap_or_default()
            } else {
                let pair = if e.pair.is_empty() { "-" } else { &e.pair };
                format!("{:>6}  {}  {:<18} {:<12} {}", e.id, e.time, e.event_type.as_str(), pair, e.payload)
            };
            // A closed pipe (`| head`) ends the command quietly.
            if writeln!(out, "{line}").and_then(|()| out.flush()).is_err() {
                return ExitCode::SUCCESS;
            }
            since = e.id;
            printed += 1;
        }
        if page.len() == PAGE {
            continue;
        }
        if !a.follow {
            return ExitCode::SUCCESS;
        }
        std::thread::sleep(POLL);
    }
}
