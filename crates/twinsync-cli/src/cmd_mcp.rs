//! `twinsync mcp`: the facade's Model Context Protocol server ([`twinsync::mcp`]) over
//! stdio, so agents can drive the project's sync, undo, locks and history.
//!
//! The tool catalogue and the protocol (the official Rust SDK, rmcp) live in the facade,
//! where the HTTP server serves them too; this command only picks the folder and owner:
//! one message per line on stdin, one reply per line on stdout, logs on stderr.

use std::path::PathBuf;
use std::process::ExitCode;

use twinsync::mcp::McpServer;

use crate::cmd_project::Common;

/// Arguments of `twinsync mcp`.
#[derive(clap::Args, Debug)]
pub struct McpArgs {
    /// Act as NAME in history, audit and locks (default: $TWINSYNC_OWNER, else the OS user).
    #[arg(long, value_name = "NAME")]
    pub owner: Option<String>,
}

/// `twinsync mcp`: serves until stdin closes.
pub fn mcp(a: McpArgs, common: &Common) -> ExitCode {
    let server = McpServer::new(common.dir.clone().unwrap_or_else(|| PathBuf::from(".")), a.owner);
    match server.serve_stdio() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("twinsync mcp: {e}");
            ExitCode::from(2)
        }
    }
}
