//! `twinsync notify`: webhooks that carry the project's events, signed as Standard
//! Webhooks, retried until they land.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use twinsync::core::delivery::DeliveryStatus;

use crate::cmd_project::{fail, print_json, Common};

/// Arguments of `twinsync notify`.
#[derive(clap::Args, Debug)]
pub struct NotifyArgs {
    #[command(subcommand)]
    command: NotifyCommand,
}

#[derive(clap::Subcommand, Debug)]
enum NotifyCommand {
    /// Deliver new events to every webhook; keeps running until SIGINT/SIGTERM.
    Run {
        /// One pass, then exit.
        #[arg(long)]
        once: bool,
        /// Seconds between passes.
        #[arg(long, default_value_t = 1)]
        interval: u64,
    },
    /// Send a signed test message to webhook NAME.
    Test {
        /// The webhook.
        name: String,
    },
    /// Print a fresh `whsec_` secret.
    Secret,
    /// Deliveries and where they stand.
    Status {
        /// Only this webhook.
        #[arg(long)]
        webhook: Option<String>,
        /// Only deliveries in this state (queued, retrying, sent, failed).
        #[arg(long)]
        state: Option<DeliveryStatus>,
        /// Most deliveries shown.
        #[arg(long, default_value_t = 100)]
        limit: usize,
    },
    /// Queue a failed delivery again: WEBHOOK/EVENT_ID, as `notify status` lists it.
    Retry {
        /// WEBHOOK/EVENT_ID.
        id: String,
    },
}

/// `twinsync notify run|test|secret|status|retry`.
pub fn notify(a: NotifyArgs, common: &Common) -> ExitCode {
    if let NotifyCommand::Secret = a.command {
        // Shown once, for the person to put in their secret store and receiver.
        println!("{}", twinsync::new_secret().expose());
        return ExitCode::SUCCESS;
    }
    let mut project = match common.open() {
        Ok(p) => p,
        Err(e) => return fail(common, &e),
    };
    match a.command {
        NotifyCommand::Secret => unreachable!("handled above"),
        NotifyCommand::Run { once, interval } => {
            let stop = Arc::new(AtomicBool::new(false));
            for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
                let _ = signal_hook::flag::register(signal, stop.clone());
            }
            let mut total = twinsync::NotifyReport::default();
            loop {
                match project.notify_run_once() {
                    Ok(r) => {
                        if r.sent + r.retrying + r.failed > 0 && !common.json {
                            eprintln!("{} sent, {} retrying, {} failed", r.sent, r.retrying, r.failed);
                        }
                        total.queued += r.queued;
                        total.sent += r.sent;
                        total.retrying += r.retrying;
                        total.failed += r.failed;
                    }
                    Err(e) => return fail(common, &e),
                }
                if once || stop.load(Ordering::SeqCst) {
                    break;
                }
                for _ in 0..interval.max(1) * 10 {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            if common.json {
                print_json(&total);
            } else {
                println!(
                    "{} queued, {} sent, {} retrying, {} failed",
                    total.queued, total.sent, total.retrying, total.failed
                );
            }
            ExitCode::SUCCESS
        }
        NotifyCommand::Test { name } => match project.notify_test(&name) {
            Ok(code) => {
                if common.json {
                    print_json(&json!({ "webhook": name, "status": code }));
                } else {
                    println!("{name}: delivered (HTTP {code})");
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(common, &e),
        },
        NotifyCommand::Status { webhook, state, limit } => {
            match project.notify_status(webhook.as_deref(), state, limit) {
                Ok(list) => {
                    if common.json {
                        print_json(&json!({ "deliveries": list }));
                    } else {
                        for d in &list {
                            println!(
                                "{}/{:<8} {:<9} {} attempts  {}{}",
                                d.endpoint,
                                d.event_id,
                                d.status.as_str(),
                                d.attempts,
                                d.last_status.map(|c| format!("HTTP {c} ")).unwrap_or_default(),
                                d.last_error.as_deref().unwrap_or("")
                            );
                        }
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(common, &e),
            }
        }
        NotifyCommand::Retry { id } => {
            let parsed = id.rsplit_once('/').and_then(|(w, e)| e.parse::<u64>().ok().map(|e| (w.to_string(), e)));
            let Some((webhook, event)) = parsed else {
                let e = twinsync::Error::Core(twinsync::core::Error::InvalidInput(format!(
                    "{id:?}: expected WEBHOOK/EVENT_ID, as `twinsync notify status` lists deliveries"
                )));
                return fail(common, &e);
            };
            match project.notify_retry(&webhook, event) {
                Ok(d) => {
                    if common.json {
                        print_json(&d);
                    } else {
                        println!("{webhook}/{event} queued again");
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(common, &e),
            }
        }
    }
}
