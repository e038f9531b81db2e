//! `twinsync canonicalize` and `twinsync hash`: the canonical form and digests that
//! sync uses, for scripts and for checking by hand.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use twinsync::core::canonical::{
    self, BigIntPolicy, CanonicalError, CanonicalOptions, Canonicalizer, IgnoreRules, TextOptions,
};
use twinsync::core::Digest;

/// How `twinsync hash` reads a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum HashAs {
    /// RFC 8785 canonical JSON (ignore rules apply).
    Json,
    /// UTF-8 text: no BOM, LF line ends.
    Text,
    /// The bytes as they are.
    Bytes,
}

/// What to do with integers beyond 2^53 that a double cannot hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BigInts {
    /// Reject the document.
    Error,
    /// Canonicalise them as strings of their digits.
    String,
}

/// Options shared by both commands.
#[derive(clap::Args, Debug)]
pub struct JsonArgs {
    /// Drop members matching this JSON Pointer pattern (`/updatedAt`, `/**/id`,
    /// `/variants/*/figmaNodeId`); repeatable.
    #[arg(long = "ignore", value_name = "PTR")]
    pub ignore: Vec<String>,
    /// Integers beyond 2^53 that a double cannot hold.
    #[arg(long = "big-integers", value_enum, default_value = "error")]
    pub big_integers: BigInts,
    /// Deepest nesting accepted.
    #[arg(long = "max-depth", default_value_t = CanonicalOptions::default().max_depth)]
    pub max_depth: usize,
}

impl JsonArgs {
    fn options(&self) -> Result<CanonicalOptions, String> {
        let ignore = IgnoreRules::new(&self.ignore).map_err(|e| e.to_string())?;
        let big_integers = match self.big_integers {
            BigInts::Error => BigIntPolicy::Error,
            BigInts::String => BigIntPolicy::KeepAsString,
        };
        Ok(CanonicalOptions { big_integers, ignore, max_depth: self.max_depth })
    }
}

/// Arguments of `twinsync canonicalize`.
#[derive(clap::Args, Debug)]
pub struct CanonicalizeArgs {
    /// The JSON file (`-` for standard input).
    pub file: PathBuf,
    #[command(flatten)]
    pub json: JsonArgs,
}

/// Arguments of `twinsync hash`.
#[derive(clap::Args, Debug)]
pub struct HashArgs {
    /// Files to hash (`-` for standard input).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Read every file as this kind (default: `.json` files as JSON, other UTF-8
    /// files as text, anything else as bytes).
    #[arg(long = "as", value_enum, value_name = "KIND")]
    pub kind: Option<HashAs>,
    /// Each file is JSON Lines: print one digest per record, in order.
    #[arg(long, conflicts_with = "kind")]
    pub jsonl: bool,
    /// Text: also strip spaces and tabs at line ends.
    #[arg(long)]
    pub trim_trailing_whitespace: bool,
    #[command(flatten)]
    pub json: JsonArgs,
}

/// A file's bytes, mapped rather than copied when the file is large.
enum Bytes {
    Owned(Vec<u8>),
    Mapped(memmap2::Mmap),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped(m) => m,
        }
    }
}

/// Files at least this large are mapped: copying 30 MB into fresh memory costs
/// about as much as canonicalising a fifth of it.
const MAP_AT: u64 = 1 << 20;

fn read(path: &Path) -> Result<Bytes, String> {
    let err = |e: std::io::Error| format!("{}: {e}", path.display());
    if path.as_os_str() == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut buf)
            .map_err(|e| format!("standard input: {e}"))?;
        return Ok(Bytes::Owned(buf));
    }
    let mut file = std::fs::File::open(path).map_err(err)?;
    let meta = file.metadata().map_err(err)?;
    if meta.is_file() && meta.len() >= MAP_AT {
        // SAFETY: a private read-only map. Another process writing the file while it
        // is hashed may show through, as with a read racing the writer; one
        // truncating it would end this process with SIGBUS (the trade ripgrep makes
        // for large single files). Neither can corrupt anything: nothing is written.
        if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
            return Ok(Bytes::Mapped(map));
        }
    }
    let mut buf = Vec::with_capacity(meta.len() as usize);
    std::io::Read::read_to_end(&mut file, &mut buf).map_err(err)?;
    Ok(Bytes::Owned(buf))
}

fn json_error(path: &Path, e: &CanonicalError) -> String {
    format!("{}: {e}", path.display())
}

/// Runs `twinsync canonicalize`.
pub fn canonicalize(a: CanonicalizeArgs) -> Result<ExitCode, String> {
    let opts = a.json.options()?;
    let input = read(&a.file)?;
    let out = canonical::canonicalize(&input, &opts).map_err(|e| json_error(&a.file, &e))?;
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out).and_then(|()| stdout.flush()).map_err(|e| format!("writing output: {e}"))?;
    Ok(ExitCode::SUCCESS)
}

/// Appends `sha256:<hex>` without going through `fmt`.
fn push_digest(line: &mut Vec<u8>, d: &Digest) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    line.extend_from_slice(b"sha256:");
    for &b in d.as_bytes() {
        line.push(HEX[(b >> 4) as usize]);
        line.push(HEX[(b & 15) as usize]);
    }
}

/// Runs `twinsync hash`.
pub fn hash(a: HashArgs) -> Result<ExitCode, String> {
    let opts = a.json.options()?;
    let text = TextOptions { trim_trailing_whitespace: a.trim_trailing_whitespace };
    let mut canon = Canonicalizer::new(&opts);
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let mut line = Vec::with_capacity(128);
    let mut failed = false;
    let write_err = |e: std::io::Error| format!("writing output: {e}");
    for path in &a.files {
        let data = match read(path) {
            Ok(d) => d,
            Err(e) => {
                out.flush().map_err(write_err)?;
                eprintln!("twinsync: {e}");
                failed = true;
                continue;
            }
        };
        if a.jsonl {
            let lines = canonical::hash_lines(&data, &opts);
            for d in &lines.digests {
                line.clear();
                push_digest(&mut line, d);
                line.push(b'\n');
                out.write_all(&line).map_err(write_err)?;
            }
            if let Some(e) = lines.error {
                out.flush().map_err(write_err)?;
                eprintln!("twinsync: {}:{}: {}", path.display(), e.line, e.error);
                failed = true;
            }
            continue;
        }
        let kind = a.kind.unwrap_or_else(|| sniff(path, &data));
        let digest = match kind {
            HashAs::Json => canon.hash(&data).map_err(|e| json_error(path, &e)),
            HashAs::Text => match std::str::from_utf8(&data) {
                Ok(s) => Ok(canonical::hash_text(s, &text)),
                Err(e) => Err(format!("{}: not valid UTF-8 at byte {}", path.display(), e.valid_up_to())),
            },
            HashAs::Bytes => Ok(Digest::of_bytes(&data)),
        };
        match digest {
            Ok(d) => {
                line.clear();
                push_digest(&mut line, &d);
                line.extend_from_slice(b"  ");
                line.extend_from_slice(path.display().to_string().as_bytes());
                line.push(b'\n');
                out.write_all(&line).map_err(write_err)?;
            }
            Err(e) => {
                out.flush().map_err(write_err)?;
                eprintln!("twinsync: {e}");
                failed = true;
            }
        }
    }
    out.flush().map_err(write_err)?;
    Ok(if failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `.json` files are JSON; other files are text when they are UTF-8, else bytes.
fn sniff(path: &Path, data: &[u8]) -> HashAs {
    let is_json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
    if is_json {
        HashAs::Json
    } else if std::str::from_utf8(data).is_ok() {
        HashAs::Text
    } else {
        HashAs::Bytes
    }
}
