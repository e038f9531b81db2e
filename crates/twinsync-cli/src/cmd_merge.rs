//! `twinsync merge-file`: `git merge-file`'s arguments, output and exit status.
//!
//! Exit status: the number of conflicts (at most 127), 255 when a file cannot be read or
//! written or is binary, 129 for a wrong command line (as git). Unlike git, the
//! conflict style is never taken from git configuration.

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use twinsync::core::merge::{text3_bytes, ConflictStyle, Favor, TextMergeOptions};

/// git refuses inputs larger than this (`MAX_XDIFF_SIZE`), calling them binary.
const MAX_SIZE: usize = 1024 * 1024 * 1023;
/// git looks for a NUL byte in this many leading bytes to call a file binary.
const BINARY_SNIFF: usize = 8000;

/// Arguments of `twinsync merge-file`.
#[derive(clap::Args)]
pub struct MergeFileArgs {
    /// Send results to standard output instead of overwriting CURRENT.
    #[arg(short = 'p', long = "stdout")]
    pub stdout: bool,
    /// Show the base version inside conflicts (diff3 style).
    #[arg(long, conflicts_with = "zdiff3")]
    pub diff3: bool,
    /// diff3 style with lines common to both sides moved out of conflicts.
    #[arg(long)]
    pub zdiff3: bool,
    /// For conflicts, use our version.
    #[arg(long, conflicts_with_all = ["theirs", "union"])]
    pub ours: bool,
    /// For conflicts, use their version.
    #[arg(long, conflicts_with = "union")]
    pub theirs: bool,
    /// For conflicts, use both versions (ours first).
    #[arg(long)]
    pub union: bool,
    /// Length of conflict markers (default 7).
    #[arg(long, value_name = "N")]
    pub marker_size: Option<usize>,
    /// Do not print errors or warnings.
    #[arg(short = 'q', long)]
    pub quiet: bool,
    /// Labels for CURRENT, BASE and OTHER (up to three, in that order).
    #[arg(short = 'L', value_name = "LABEL")]
    pub labels: Vec<OsString>,
    /// CURRENT BASE OTHER.
    #[arg(value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

const USAGE: &str = "usage: twinsync merge-file [<options>] [-L <name1> [-L <orig> [-L <name2>]]] \
                     <file1> <orig-file> <file2>";

/// Runs `twinsync merge-file`.
pub fn merge_file(a: MergeFileArgs) -> Result<ExitCode, String> {
    let say = |msg: &str| {
        if !a.quiet {
            eprintln!("{msg}");
        }
    };
    if a.labels.len() > 3 {
        say("error: too many labels on the command line");
        return Ok(ExitCode::from(129));
    }
    if a.files.len() != 3 {
        eprintln!("{USAGE}");
        return Ok(ExitCode::from(129));
    }
    let mut contents = Vec::with_capacity(3);
    for path in &a.files {
        let shown = path.display();
        let data = match std::fs::read(path) {
            Ok(d) => d,
            Err(e) => {
                say(&format!("error: Could not read {shown}: {}", io_reason(&e)));
                return Ok(ExitCode::from(255));
            }
        };
        if data.len() > MAX_SIZE || data[..data.len().min(BINARY_SNIFF)].contains(&0) {
            say(&format!("error: Cannot merge binary files: {shown}"));
            return Ok(ExitCode::from(255));
        }
        contents.push(data);
    }

    let label = |i: usize| -> String {
        let os = a.labels.get(i).cloned().unwrap_or_else(|| a.files[i].clone().into_os_string());
        os.to_string_lossy().into_owned()
    };
    let opts = TextMergeOptions {
        // Our labels are ours, base, theirs; the command line is CURRENT BASE OTHER.
        labels: [label(0), label(1), label(2)],
        style: if a.zdiff3 {
            ConflictStyle::Zdiff3
        } else if a.diff3 {
            ConflictStyle::Diff3
        } else {
            ConflictStyle::Merge
        },
        marker_size: a.marker_size.unwrap_or(7),
        favor: if a.ours {
            Favor::Ours
        } else if a.theirs {
            Favor::Theirs
        } else if a.union {
            Favor::Union
        } else {
            Favor::None
        },
        ..TextMergeOptions::default()
    };
    let merged = text3_bytes(&contents[1], &contents[0], &contents[2], &opts);
    drop(contents);

    let target = &a.files[0];
    let written = if a.stdout {
        let mut out = std::io::stdout().lock();
        out.write_all(&merged.bytes).and_then(|()| out.flush())
    } else {
        std::fs::write(target, &merged.bytes)
    };
    if let Err(e) = written {
        let what = if a.stdout { "standard output".to_string() } else { target.display().to_string() };
        say(&format!("error: Could not write to {what}: {}", io_reason(&e)));
        return Ok(ExitCode::from(255));
    }
    Ok(ExitCode::from(merged.conflicts.min(127) as u8))
}

/// The OS reason of an I/O error, without Rust's "(os error N)" suffix.
fn io_reason(e: &std::io::Error) -> String {
    let s = e.to_string();
    match s.find(" (os error") {
        Some(i) => s[..i].to_string(),
        None => s,
    }
}
