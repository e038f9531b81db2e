//! `twinsync lock acquire|renew|release|status`: the project lock from the command line.
//!
//! Identity is `--owner`, else `TWINSYNC_OWNER`, else the OS user. Only the holder (same
//! owner, or the token `acquire` printed) renews or releases; `release --force` clears
//! anyone's lock and is recorded in the audit log. Exit 0 on success, 1 when the lock is
//! held by someone else (or not held), 2 on errors.

use std::process::ExitCode;

use serde_json::json;
use twinsync::core::lock::{Lock, LockError};
use twinsync::Project;

use crate::cmd_project::Common;

/// Exit status when another owner holds the lock, or the caller holds nothing.
const EXIT_CONTENDED: u8 = 1;

/// Arguments of `twinsync lock`.
#[derive(clap::Args, Debug)]
pub struct LockArgs {
    #[command(subcommand)]
    command: LockCommand,
}

#[derive(clap::Subcommand, Debug)]
enum LockCommand {
    /// Take the project lock (or refresh it if you already hold it); prints the token.
    Acquire {
        /// How long it holds unless renewed: 90s, 30m, 2h, 1d (default from config, 30m).
        #[arg(long, value_parser = parse_duration_ms)]
        ttl: Option<i64>,
        /// Why, shown to anyone who finds it held.
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        who: Who,
    },
    /// Extend the lock you hold.
    Renew {
        /// The token `acquire` printed (default: prove ownership by owner name).
        #[arg(long)]
        token: Option<String>,
        /// New lifetime from now: 90s, 30m, 2h, 1d.
        #[arg(long, value_parser = parse_duration_ms)]
        ttl: Option<i64>,
        #[command(flatten)]
        who: Who,
    },
    /// Release the lock you hold; `--force` releases anyone's (audited).
    Release {
        /// The token `acquire` printed (default: prove ownership by owner name).
        #[arg(long)]
        token: Option<String>,
        /// Release whoever holds it; recorded in the audit log with your name.
        #[arg(long)]
        force: bool,
        /// Why (recorded with --force).
        #[arg(long)]
        reason: Option<String>,
        #[command(flatten)]
        who: Who,
    },
    /// Who holds the lock, why and until when.
    Status,
}

/// Who is asking.
#[derive(clap::Args, Debug)]
struct Who {
    /// Act as NAME (default: $TWINSYNC_OWNER, else the OS user).
    #[arg(long, value_name = "NAME")]
    owner: Option<String>,
}

impl Who {
    fn name(&self) -> String {
        self.owner.clone().filter(|o| !o.trim().is_empty()).unwrap_or_else(twinsync::default_actor)
    }
}

/// Parses `90s`, `30m`, `2h`, `1d` (or a bare number of seconds) into milliseconds.
pub fn parse_duration_ms(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: i64 = num.parse().map_err(|_| format!("{text:?} is not a duration; write it like 90s, 30m, 2h or 1d"))?;
    let unit_ms = match unit {
        "" | "s" => 1_000,
        "ms" => 1,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        _ => return Err(format!("{text:?}: unknown unit {unit:?}; use ms, s, m, h or d")),
    };
    match n.checked_mul(unit_ms) {
        Some(ms) if ms > 0 => Ok(ms),
        Some(_) => Err(format!("{text:?}: must be longer than zero")),
        None => Err(format!("{text:?} is too long")),
    }
}

fn fail(common: &Common, e: &twinsync::Error) -> ExitCode {
    let contended = matches!(e, twinsync::Error::Core(twinsync::core::Error::Lock(_)));
    if common.json {
        println!("{}", json!({"error": {"code": e.code().as_str(), "message": e.to_string()}}));
    }
    eprintln!("twinsync: {e}");
    if let twinsync::Error::Core(twinsync::core::Error::Lock(LockError::Held { .. })) = e {
        eprintln!("twinsync: wait for it to expire, ask the holder, or `twinsync lock release --force --reason ...`");
    }
    ExitCode::from(if contended { EXIT_CONTENDED } else { 2 })
}

/// A lock as shown to anyone but its acquirer: the (already blanked) token field left out.
fn public(l: &Lock) -> serde_json::Value {
    let mut v = serde_json::to_value(l.without_token()).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.remove("token");
    }
    v
}

fn describe(l: &Lock) -> String {
    let why = l.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
    format!("held by {} since {} until {}{why}", l.owner, l.acquired_at, l.expires_at)
}

/// `twinsync lock ...`.
pub fn lock(a: LockArgs, common: &Common) -> ExitCode {
    let mut project = match Project::open(&common.dir.clone().unwrap_or_else(|| ".".into())) {
        Ok(p) => p,
        Err(e) => return fail(common, &e),
    };
    let result = match a.command {
        LockCommand::Acquire { ttl, reason, who } => {
            project.set_actor(who.name());
            project.lock_acquire(ttl, reason.as_deref()).map(|l| {
                if common.json {
                    println!("{}", json!({"acquired": true, "lock": l}));
                } else {
                    println!("acquired lock {:?}: {}", l.name, describe(&l));
                    println!("token: {}", l.token);
                    println!("(keep the token: renew or release with --token, or as the same owner)");
                }
            })
        }
        LockCommand::Renew { token, ttl, who } => {
            let caller = token.unwrap_or_else(|| who.name());
            project.lock_renew(&caller, ttl).map(|l| {
                if common.json {
                    println!("{}", json!({"renewed": true, "lock": public(&l)}));
                } else {
                    println!("renewed lock {:?}: {}", l.name, describe(&l));
                }
            })
        }
        LockCommand::Release { token, force, reason, who } => {
            project.set_actor(who.name());
            if force {
                project.lock_force_release(reason.as_deref()).map(|prev| {
                    if common.json {
                        println!(
                            "{}",
                            json!({"released": prev.is_some(), "forced": true, "lock": prev.as_ref().map(public)})
                        );
                    } else {
                        match prev {
                            Some(l) => println!(
                                "force-released lock {:?} ({}); recorded in the audit log",
                                l.name,
                                describe(&l)
                            ),
                            None => println!("lock was not held; the forced release is recorded in the audit log"),
                        }
                    }
                })
            } else {
                let caller = token.unwrap_or_else(|| who.name());
                project.lock_release(&caller).map(|l| {
                    if common.json {
                        println!("{}", json!({"released": true, "forced": false, "lock": public(&l)}));
                    } else {
                        println!("released lock {:?} (was {})", l.name, describe(&l));
                    }
                })
            }
        }
        LockCommand::Status => project.lock_status().map(|l| {
            if common.json {
                println!("{}", json!({"held": l.is_some(), "lock": l.as_ref().map(public)}));
            } else {
                match l {
                    Some(l) => println!("lock {:?} {}", l.name, describe(&l)),
                    None => println!("lock {:?} is free", twinsync::PROJECT_LOCK),
                }
            }
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(common, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_duration_ms;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(parse_duration_ms("90s"), Ok(90_000));
        assert_eq!(parse_duration_ms("30m"), Ok(1_800_000));
        assert_eq!(parse_duration_ms("2h"), Ok(7_200_000));
        assert_eq!(parse_duration_ms("1d"), Ok(86_400_000));
        assert_eq!(parse_duration_ms("45"), Ok(45_000));
        assert!(parse_duration_ms("0m").unwrap_err().contains("longer than zero"));
        assert!(parse_duration_ms("3w").unwrap_err().contains("unknown unit"));
        assert!(parse_duration_ms("soon").unwrap_err().contains("not a duration"));
        assert!(parse_duration_ms("99999999999999999d").unwrap_err().contains("too long"));
    }
}
