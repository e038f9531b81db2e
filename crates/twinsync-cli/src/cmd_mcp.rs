//! `twinsync mcp`: the facade's Model Context Protocol server ([`twinsync::mcp`]) over
//! stdio, so agents can drive the project's sync, undo, locks and history.
//!
//! The tool catalogue and the answer to each JSON-RPC message live in the facade, where
//! the HTTP server serves them too; this module is only the stdio transport of MCP
//! 2025-06-18: one message per line on stdin, one reply per line on stdout, logs on
//! stderr. A synchronous loop is all a stdio server needs, and it keeps tokio off a
//! small machine.

use std::io::{BufRead, Write};
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
    let mut server = McpServer::new(common.dir.clone().unwrap_or_else(|| PathBuf::from(".")), a.owner);
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let mut out = std::io::stdout().lock();
    let mut line = Vec::new();
    loop {
        line.clear();
        match input.read_until(b'\n', &mut line) {
            Ok(0) => return ExitCode::SUCCESS,
            Ok(_) => {}
            Err(e) => {
                eprintln!("twinsync mcp: cannot read stdin: {e}");
                return ExitCode::from(2);
            }
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if let Some(reply) = server.handle_json(&line) {
            // A JSON value always prints, on one line.
            if writeln!(out, "{reply}").and_then(|_| out.flush()).is_err() {
                // The client went away; nothing left to serve.
                return ExitCode::SUCCESS;
            }
        }
    }
}
