//! `twinsync credentials`: provider secrets kept encrypted in the project's store. A value
//! comes in from an environment variable or stdin (never an argument, which `ps` and shell
//! history would show) and is never printed.

use std::collections::BTreeMap;
use std::io::Read;
use std::process::ExitCode;

use serde_json::json;
use twinsync::core::credential::{CredentialRecord, ProviderType};
use twinsync::core::secret::Secret;
use twinsync::NewCredential;

use crate::cmd_lock::parse_duration_ms;
use crate::cmd_project::{fail, print_json, Common};

/// Arguments of `twinsync credentials`.
#[derive(clap::Args, Debug)]
pub struct CredentialsArgs {
    #[command(subcommand)]
    command: CredentialsCommand,
}

/// Where the value comes from: exactly one of the two.
#[derive(clap::Args, Debug)]
#[group(required = true, multiple = false)]
struct ValueFrom {
    /// Read the value from environment variable VAR.
    #[arg(long, value_name = "VAR")]
    secret_env: Option<String>,
    /// Read the value from standard input (one trailing newline is dropped).
    #[arg(long)]
    secret_stdin: bool,
}

#[derive(clap::Subcommand, Debug)]
enum CredentialsCommand {
    /// Add credential NAME (status pending until validated).
    Add {
        /// A name for it (`figma`).
        name: String,
        /// notification, design, documentation, testing, ai or analytics.
        #[arg(long)]
        provider: ProviderType,
        #[command(flatten)]
        value: ValueFrom,
        /// Rotation period (`90d`): expires when not rotated in time; reminded before.
        #[arg(long, value_name = "PERIOD")]
        rotate_every: Option<String>,
        /// Metadata KEY=VALUE (repeatable); never put the secret here.
        #[arg(long = "meta", value_name = "KEY=VALUE")]
        meta: Vec<String>,
    },
    /// Credentials and where they stand (metadata only).
    List,
    /// Replace NAME's value (valid again if it had expired).
    Rotate {
        /// The credential.
        name: String,
        #[command(flatten)]
        value: ValueFrom,
        /// A new rotation period (`90d`).
        #[arg(long, value_name = "PERIOD")]
        rotate_every: Option<String>,
    },
    /// Revoke NAME for good; its encrypted value is dropped.
    Revoke {
        /// The credential.
        name: String,
    },
    /// Check NAME opens with this machine's key and is in date; pending becomes valid.
    Validate {
        /// The credential.
        name: String,
    },
}

fn invalid(message: String) -> twinsync::Error {
    twinsync::Error::Core(twinsync::core::Error::InvalidInput(message))
}

fn read_value(from: &ValueFrom) -> twinsync::Result<Secret> {
    if let Some(var) = &from.secret_env {
        return std::env::var(var)
            .map(Secret::new)
            .map_err(|_| invalid(format!("environment variable {var} is not set")));
    }
    let mut text = String::new();
    std::io::stdin().read_to_string(&mut text).map_err(|e| invalid(format!("reading the value from stdin: {e}")))?;
    let value = Secret::new(text);
    let trimmed = value.expose().strip_suffix('\n').map(|v| v.strip_suffix('\r').unwrap_or(v));
    Ok(match trimmed {
        Some(v) => Secret::new(v),
        None => value,
    })
}

fn period(text: &Option<String>) -> twinsync::Result<Option<i64>> {
    text.as_deref().map(|t| parse_duration_ms(t).map_err(|e| invalid(format!("--rotate-every {e}")))).transpose()
}

fn metadata(pairs: &[String]) -> twinsync::Result<BTreeMap<String, String>> {
    pairs
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .filter(|(k, _)| !k.is_empty())
                .ok_or_else(|| invalid(format!("--meta {p:?}: expected KEY=VALUE")))
        })
        .collect()
}

fn show(common: &Common, verb: &str, c: &CredentialRecord) {
    if common.json {
        print_json(c);
    } else {
        println!("{}: {verb} ({}, {})", c.name, c.provider, c.status);
    }
}

fn line(c: &CredentialRecord) -> String {
    let when = |t: Option<twinsync::core::Timestamp>| t.map(|t| t.to_rfc3339()).unwrap_or_else(|| "-".into());
    format!(
        "{:<20} {:<13} {:<8} validated {:<24} rotation due {}",
        c.name,
        c.provider.as_str(),
        c.status.as_str(),
        when(c.last_validated_at),
        when(c.rotation_due_at)
    )
}

/// `twinsync credentials add|list|rotate|revoke|validate`.
pub fn credentials(a: CredentialsArgs, common: &Common) -> ExitCode {
    let mut project = match common.open() {
        Ok(p) => p,
        Err(e) => return fail(common, &e),
    };
    let result = match a.command {
        CredentialsCommand::Add { name, provider, value, rotate_every, meta } => (|| {
            let new = NewCredential {
                provider: Some(provider),
                rotate_every_ms: period(&rotate_every)?,
                metadata: metadata(&meta)?,
            };
            let value = read_value(&value)?;
            project.credential_add(&name, &value, new)
        })()
        .map(|c| show(common, "added", &c)),
        CredentialsCommand::List => project.credentials().map(|list| {
            if common.json {
                print_json(&json!({ "credentials": list }));
            } else if list.is_empty() {
                println!(
                    "no credentials (add one with `twinsync credentials add NAME --provider TYPE --secret-env VAR`)"
                );
            } else {
                for c in &list {
                    println!("{}", line(c));
                }
            }
        }),
        CredentialsCommand::Rotate { name, value, rotate_every } => (|| {
            let every = period(&rotate_every)?;
            let value = read_value(&value)?;
            project.credential_rotate(&name, &value, every)
        })()
        .map(|c| show(common, "rotated", &c)),
        CredentialsCommand::Revoke { name } => project.credential_revoke(&name).map(|c| show(common, "revoked", &c)),
        CredentialsCommand::Validate { name } => {
            project.credential_validate(&name).map(|c| show(common, "validated", &c))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(common, &e),
    }
}
