//! `twinsync serve`: the team server (crates/twinsync-server) on this machine.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use crate::cmd_project::Common;

/// Arguments of `twinsync serve`.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Where to listen; anything but loopback needs --admin-token.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7878")]
    listen: SocketAddr,
    /// Where the server keeps its list of projects (default: the user's data folder).
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// The token callers must send when the server listens beyond loopback (at least 16
    /// characters; or TWINSYNC_ADMIN_TOKEN). Never printed.
    #[arg(long, value_name = "TOKEN", env = "TWINSYNC_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// The largest request body accepted, in bytes (larger: 413).
    #[arg(long, value_name = "BYTES", default_value_t = 1 << 20)]
    max_body: usize,
    /// Seconds a request may take to be answered (longer: 503).
    #[arg(long, value_name = "SECS", default_value_t = 120)]
    timeout: u64,
}

fn default_data() -> PathBuf {
    let base = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("twinsync/server")
}

/// `twinsync serve [--listen ADDR] [--data DIR] [--admin-token TOKEN] [--max-body BYTES] [--timeout SECS]`.
pub fn serve(a: ServeArgs, common: &Common) -> ExitCode {
    let mut opts = twinsync_server::ServeOptions::new(a.listen, a.data.unwrap_or_else(default_data));
    opts.admin_token = a.admin_token;
    opts.max_body = a.max_body;
    opts.timeout = std::time::Duration::from_secs(a.timeout.max(1));
    let json = common.json;
    let data = opts.data.clone();
    let result = twinsync_server::serve(opts, |addr| {
        if json {
            println!("{}", serde_json::json!({ "listening": format!("http://{addr}"), "data": data }));
        } else {
            eprintln!("twinsync serve: listening on http://{addr} (projects in {}); stop with Ctrl-C", data.display());
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("twinsync serve: {e}");
            ExitCode::from(2)
        }
    }
}
