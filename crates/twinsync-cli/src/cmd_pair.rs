//! `twinsync pair`: the project's named pairs. Adding or removing a pair changes the
//! config only; neither side's data is touched.

use std::process::ExitCode;

use serde_json::json;
use twinsync::core::{Direction, Policy};
use twinsync::{PairConfig, PairKind};

use crate::cmd_project::{fail, print_json, Common};

/// Arguments of `twinsync pair`.
#[derive(clap::Args, Debug)]
pub struct PairCmd {
    #[command(subcommand)]
    command: PairCommand,
}

#[derive(clap::Subcommand, Debug)]
enum PairCommand {
    /// Add a pair. folders: LEFT and RIGHT are folders, `db` or `git+URL#BRANCH[:PATH]`; openspec: LEFT holds
    /// `openspec/`, RIGHT is `db`; design: LEFT code files, RIGHT design files
    /// (comma-separated).
    Add(AddArgs),
    /// List the pairs.
    List,
    /// Remove a pair from the config; neither side's data is touched.
    Remove {
        /// The pair.
        name: String,
    },
}

#[derive(clap::Args, Debug)]
struct AddArgs {
    /// The pair's name.
    name: String,
    /// Left side.
    left: String,
    /// Right side.
    right: String,
    /// `folders`, `openspec` or `design`.
    #[arg(long, default_value = "folders")]
    kind: PairKind,
    /// Conflict policy.
    #[arg(long)]
    policy: Option<Policy>,
    /// Default direction.
    #[arg(long, default_value = "both")]
    direction: Direction,
    /// Extra ignore globs for folder sides.
    #[arg(long = "ignore", value_name = "GLOB")]
    ignore: Vec<String>,
    /// What counts as a change: `canonical` (formatting never does) or `bytes`.
    #[arg(long, default_value = "canonical")]
    compare: twinsync::core::Compare,
    /// The credential (token) a git left side uses, by name: never the token itself.
    #[arg(long, value_name = "NAME")]
    left_credential: Option<String>,
    /// The credential a git right side uses, by name.
    #[arg(long, value_name = "NAME")]
    right_credential: Option<String>,
}

/// `twinsync pair add|list|remove`.
pub fn pair(a: PairCmd, common: &Common) -> ExitCode {
    let mut project = match common.open() {
        Ok(p) => p,
        Err(e) => return fail(common, &e),
    };
    match a.command {
        PairCommand::Add(add) => {
            let mut pair = PairConfig::new(add.kind, &add.left, &add.right);
            // OpenSpec's files win by default: the database's losing version stays recoverable.
            pair.policy = add.policy.unwrap_or(match add.kind {
                PairKind::Openspec => Policy::prefer(twinsync::core::Side::Left),
                _ => Policy::default(),
            });
            pair.direction = add.direction;
            pair.ignore = add.ignore;
            pair.compare = add.compare;
            pair.left_credential = add.left_credential;
            pair.right_credential = add.right_credential;
            match project.pair_add(&add.name, pair.clone()) {
                Ok(()) => {
                    if common.json {
                        print_json(&json!({"added": add.name, "pair": pair}));
                    } else {
                        println!("added pair {} ({}): {} <-> {}", add.name, add.kind, add.left, add.right);
                    }
                    ExitCode::SUCCESS
                }
                Err(e) => fail(common, &e),
            }
        }
        PairCommand::List => {
            let pairs = &project.config().pairs;
            if common.json {
                let list: Vec<_> = pairs
                    .iter()
                    .map(|(name, p)| {
                        let mut v = serde_json::to_value(p).unwrap_or_default();
                        v["name"] = name.clone().into();
                        v
                    })
                    .collect();
                print_json(&json!({ "pairs": list }));
            } else {
                for (name, p) in pairs {
                    println!(
                        "{name:<16} {:<9} {} <-> {}  ({}, {})",
                        p.kind.as_str(),
                        p.left,
                        p.right,
                        p.direction,
                        p.policy
                    );
                }
            }
            ExitCode::SUCCESS
        }
        PairCommand::Remove { name } => match project.pair_remove(&name) {
            Ok(_) => {
                if common.json {
                    print_json(&json!({ "removed": name }));
                } else {
                    println!("removed pair {name}; its sides and history are untouched");
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(common, &e),
        },
    }
}
