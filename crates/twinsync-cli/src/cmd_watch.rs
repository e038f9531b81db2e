//! `twinsync watch`: keeps the project's pairs in sync until stopped. SIGINT or SIGTERM
//! finishes the sync in flight, prints a one-line summary and exits 0.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use twinsync::{WatchNote, WatchOptions};

use crate::cmd_project::{fail, Common, PairArgs};

/// Arguments of `twinsync watch`.
#[derive(clap::Args, Debug)]
pub struct WatchArgs {
    #[command(flatten)]
    pairs: PairArgs,
    /// Quiet time after a file change before the pair syncs.
    #[arg(long, value_name = "MS", default_value_t = 100)]
    debounce: u64,
    /// Interval of the periodic pass, which catches what no watcher sees.
    #[arg(long, value_name = "SECS", default_value_t = 30)]
    period: u64,
    /// Print nothing but errors and the final summary.
    #[arg(long)]
    quiet: bool,
}

/// `twinsync watch [--pair NAME]... [--debounce MS] [--period SECS] [--quiet] [--json]`.
pub fn watch(a: WatchArgs, common: &Common) -> ExitCode {
    let project = match common.open() {
        Ok(p) => p,
        Err(e) => return fail(common, &e),
    };
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, stop.clone()) {
            eprintln!("twinsync watch: cannot handle signal {signal}: {e}");
            return ExitCode::from(2);
        }
    }
    let (json_out, quiet) = (common.json, a.quiet);
    let notes = Box::new(move |n: &WatchNote| {
        let line = if json_out {
            serde_json::to_string(n).unwrap_or_default()
        } else {
            match n {
                WatchNote::Synced { pair, reason, report } => format!(
                    "{pair}: {} applied, {} conflicts, {} failed ({reason}, operation {})",
                    report.counts.applied,
                    report.counts.conflicts,
                    report.counts.failed,
                    &report.operation_id[..12]
                ),
                WatchNote::Failed { pair, error, retry_in_ms } => {
                    format!("{pair}: {error}; retrying in {} s", retry_in_ms.div_ceil(1000))
                }
                WatchNote::Warning { pair, message } => format!("{pair}: warning: {message}"),
            }
        };
        let is_problem = !matches!(n, WatchNote::Synced { .. });
        if !quiet || is_problem {
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        }
    });
    let opts = WatchOptions {
        pairs: a.pairs.pairs,
        debounce: Duration::from_millis(a.debounce),
        period: Duration::from_secs(a.period.max(1)),
        ..Default::default()
    };
    let mut handle = match project.watch(opts, notes) {
        Ok(h) => h,
        Err(e) => return fail(common, &e),
    };
    let flag = handle.stop_flag();
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(50));
    }
    flag.store(true, Ordering::SeqCst);
    match handle.join() {
        Ok(s) => {
            if common.json {
                println!("{}", json!({ "stopped": true, "summary": s }));
            } else {
                println!(
                    "twinsync watch stopped: {} syncs, {} applied, {} conflicts, {} failed",
                    s.syncs, s.applied, s.conflicts, s.failed
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(common, &e),
    }
}
