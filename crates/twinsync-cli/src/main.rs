//! The `twinsync` command.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd_hash;
mod cmd_merge;

/// Keep two replicas of your artifacts in sync.
#[derive(Parser)]
#[command(name = "twinsync", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the RFC 8785 canonical form of a JSON file.
    Canonicalize(cmd_hash::CanonicalizeArgs),
    /// Print canonical digests of files (`sha256:<hex>  FILE`).
    Hash(cmd_hash::HashArgs),
    /// Three-way merge of files, as `git merge-file` does it.
    MergeFile(cmd_merge::MergeFileArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Canonicalize(a) => cmd_hash::canonicalize(a),
        Command::Hash(a) => cmd_hash::hash(a),
        Command::MergeFile(a) => cmd_merge::merge_file(a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("twinsync: {e}");
            ExitCode::from(255)
        }
    }
}
