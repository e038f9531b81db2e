//! `twinsync keys`: the project's API keys, which editor hooks, agents and scripts send to
//! a `twinsync serve` server (`Authorization: Bearer tsk_...`). A key is printed once, at
//! creation, alone on stdout so `export TWINSYNC_API_KEY=$(twinsync keys create hook)`
//! works; the store keeps only its hash.

use std::process::ExitCode;

use serde_json::json;
use twinsync::ApiKeyInfo;

use crate::cmd_project::{fail, print_json, Common};

/// Arguments of `twinsync keys`.
#[derive(clap::Args, Debug)]
pub struct KeysArgs {
    #[command(subcommand)]
    command: KeysCommand,
}

#[derive(clap::Subcommand, Debug)]
enum KeysCommand {
    /// Create a key named NAME and print it (the only time it is shown).
    Create {
        /// What the key is for (`alice's editor hook`).
        name: String,
    },
    /// The keys: id, name, created, last used, revoked (never a key).
    List,
    /// Revoke key ID for good.
    Revoke {
        /// The key's id (`key_...`), from `twinsync keys list`.
        id: String,
    },
}

fn when(t: Option<twinsync::core::Timestamp>) -> String {
    t.map(|t| t.to_rfc3339()).unwrap_or_else(|| "never".into())
}

fn line(k: &ApiKeyInfo) -> String {
    let state = if k.revoked { format!("revoked {}", when(k.revoked_at)) } else { "active".into() };
    format!(
        "{:<16} {:<24} created {:<24} last used {:<24} {state}",
        k.id,
        k.name,
        k.created_at.to_rfc3339(),
        when(k.last_used_at)
    )
}

/// `twinsync keys create NAME | list | revoke ID`.
pub fn keys(a: KeysArgs, common: &Common) -> ExitCode {
    let mut project = match common.open() {
        Ok(p) => p,
        Err(e) => return fail(common, &e),
    };
    let result = match a.command {
        KeysCommand::Create { name } => project.api_key_create(&name).map(|made| {
            if common.json {
                print_json(&json!({
                    "id": made.info.id, "name": made.info.name, "key": made.key.expose(),
                    "createdAt": made.info.created_at,
                }));
            } else {
                eprintln!(
                    "created API key {} ({}); it is shown once, below: keep it now (e.g. as TWINSYNC_API_KEY)",
                    made.info.id, made.info.name
                );
                println!("{}", made.key.expose());
            }
        }),
        KeysCommand::List => project.api_key_list().map(|list| {
            if common.json {
                print_json(&json!({ "keys": list }));
            } else if list.is_empty() {
                println!("no API keys (create one with `twinsync keys create NAME`)");
            } else {
                for k in &list {
                    println!("{}", line(k));
                }
            }
        }),
        KeysCommand::Revoke { id } => project.api_key_revoke(&id).map(|k| {
            if common.json {
                print_json(&k);
            } else {
                println!("{}: revoked ({})", k.id, k.name);
            }
        }),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(common, &e),
    }
}
