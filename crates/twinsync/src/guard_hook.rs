//! The input of `twinsync guard`, a Claude Code `PreToolUse` hook: the hook JSON an agent's
//! tool call arrives as, and the files that call would write (Write, Edit, MultiEdit,
//! NotebookEdit, and Bash commands that redirect, `tee`, `sed -i`, `cp`/`mv`/`install`
//! into, `rm`, `touch`, `truncate`, `dd of=`).
//!
//! It lives here rather than in the CLI so it can be fuzzed: the text comes from whatever
//! runs the hook. Deciding whether the writes are allowed (protect globs, the project
//! lock) stays with the command.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// A tool call read from the hook JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookCall {
    /// `tool_name`.
    pub tool: String,
    /// `cwd`, when the hook gave one as a string.
    pub cwd: Option<PathBuf>,
    /// The paths the call writes, as the tool spelled them (relative to `cwd`, or absolute).
    pub writes: Vec<String>,
}

/// Hook input the guard cannot read; the message says what Claude Code should have sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookInputError {
    /// Not JSON at all.
    #[error("hook input is not valid JSON ({0}); expected Claude Code PreToolUse JSON with tool_name and tool_input")]
    NotJson(String),
    /// JSON, but not an object.
    #[error(
        "hook input is JSON but not an object; expected Claude Code PreToolUse JSON with tool_name and tool_input"
    )]
    NotObject,
    /// No `tool_name` string.
    #[error("hook input has no \"tool_name\"; is this registered as a PreToolUse hook?")]
    NoToolName,
}

/// Reads the hook JSON: the tool, its folder and the files it would write.
pub fn parse_hook_input(text: &str) -> Result<HookCall, HookInputError> {
    let input: Value = match serde_json::from_str(text) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return Err(HookInputError::NotObject),
        Err(e) => return Err(HookInputError::NotJson(e.to_string())),
    };
    let tool = input.get("tool_name").and_then(Value::as_str).ok_or(HookInputError::NoToolName)?;
    let cwd = input.get("cwd").and_then(Value::as_str).map(PathBuf::from);
    let tool_input = input.get("tool_input").unwrap_or(&Value::Null);
    Ok(HookCall { tool: tool.to_string(), cwd, writes: writes_of(tool, tool_input) })
}

/// The paths a tool call writes, as the tool spelled them.
fn writes_of(tool: &str, input: &Value) -> Vec<String> {
    let field = |k: &str| input.get(k).and_then(Value::as_str).map(str::to_string);
    match tool {
        "Write" | "Edit" | "MultiEdit" => field("file_path").into_iter().collect(),
        "NotebookEdit" => field("notebook_path").or_else(|| field("file_path")).into_iter().collect(),
        "Bash" => field("command").map(|c| bash_writes(&c)).unwrap_or_default(),
        _ => vec![],
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Word(String),
    /// `;`, `&&`, `||`, `|`, `&`, newline, `(`, `)`.
    Sep,
    /// An output redirection (`>`, `>>`, `>|`, `&>`, `2>`...).
    Redirect,
}

/// Splits a shell command into words, separators and output redirections (quotes and
/// backslashes honoured; enough of sh to find write targets, not an interpreter).
fn tokenize(cmd: &str) -> Vec<Tok> {
    let mut toks = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = cmd.chars().peekable();
    let flush = |word: &mut String, in_word: &mut bool, toks: &mut Vec<Tok>| {
        if *in_word {
            toks.push(Tok::Word(std::mem::take(word)));
            *in_word = false;
        }
    };
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                for d in chars.by_ref() {
                    if d == '\'' {
                        break;
                    }
                    word.push(d);
                }
            }
            '"' => {
                in_word = true;
                while let Some(d) = chars.next() {
                    match d {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                word.push(e);
                            }
                        }
                        _ => word.push(d),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(e) = chars.next() {
                    if e != '\n' {
                        word.push(e);
                    }
                }
            }
            '>' => {
                // `2>file`: the digits were a file descriptor, not a word.
                if in_word && word.chars().all(|d| d.is_ascii_digit()) {
                    word.clear();
                    in_word = false;
                }
                flush(&mut word, &mut in_word, &mut toks);
                if matches!(chars.peek(), Some('>') | Some('|')) {
                    chars.next();
                }
                if chars.peek() == Some(&'&') {
                    // `>&2`: duplicates a descriptor; writes no file.
                    chars.next();
                    while chars.peek().is_some_and(|d| d.is_ascii_digit() || *d == '-') {
                        chars.next();
                    }
                    continue;
                }
                toks.push(Tok::Redirect);
            }
            '&' if chars.peek() == Some(&'>') => {
                flush(&mut word, &mut in_word, &mut toks);
                chars.next();
                if chars.peek() == Some(&'>') {
                    chars.next();
                }
                toks.push(Tok::Redirect);
            }
            ';' | '|' | '&' | '\n' | '(' | ')' => {
                flush(&mut word, &mut in_word, &mut toks);
                if toks.last() != Some(&Tok::Sep) {
                    toks.push(Tok::Sep);
                }
            }
            c if c.is_whitespace() => flush(&mut word, &mut in_word, &mut toks),
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    flush(&mut word, &mut in_word, &mut toks);
    toks
}

/// The files a Bash command writes: redirection targets, and the targets of the usual
/// writing commands, each joined to the folder earlier `cd`s moved to.
pub fn bash_writes(cmd: &str) -> Vec<String> {
    let toks = tokenize(cmd);
    let mut out = Vec::new();
    let mut words: Vec<String> = Vec::new();
    let mut targets: Vec<String> = Vec::new();
    // Where `cd` has moved the command so far, relative to the hook's folder.
    let mut here = PathBuf::new();
    let mut i = 0;
    while i <= toks.len() {
        match toks.get(i) {
            Some(Tok::Redirect) => {
                if let Some(Tok::Word(w)) = toks.get(i + 1) {
                    targets.push(w.clone());
                    i += 1;
                }
            }
            Some(Tok::Word(w)) => words.push(w.clone()),
            Some(Tok::Sep) | None => {
                targets.extend(command_writes(&words));
                for t in targets.drain(..).filter(|p| !p.is_empty()) {
                    // Checked after the join: `cd /dev && echo x > null` writes a device too.
                    let path = here.join(&t).to_string_lossy().into_owned();
                    if !path.starts_with("/dev/") {
                        out.push(path);
                    }
                }
                if let [cd, dir] = words.as_slice() {
                    if cd == "cd" || cd == "pushd" {
                        here = here.join(dir);
                    }
                }
                words.clear();
            }
        }
        i += 1;
    }
    out
}

fn command_writes(words: &[String]) -> Vec<String> {
    // Skip `VAR=value`, `sudo`, `env`, `command`, `nohup`, `time` prefixes.
    let mut rest = words;
    while let Some(first) = rest.first() {
        let is_assign = first.contains('=') && !first.starts_with('=') && !first.starts_with('-');
        if is_assign || matches!(first.as_str(), "sudo" | "env" | "command" | "nohup" | "time" | "exec") {
            rest = &rest[1..];
        } else {
            break;
        }
    }
    let Some((prog, args)) = rest.split_first() else { return vec![] };
    let prog = prog.rsplit('/').next().unwrap_or(prog);
    let operands = |args: &[String]| -> Vec<String> { args.iter().filter(|a| !a.starts_with('-')).cloned().collect() };
    match prog {
        "tee" | "rm" | "touch" | "truncate" | "mkdir" | "rmdir" | "unlink" | "shred" => operands(args),
        "sed" | "perl" => {
            // `-i`, `-i.bak`, or a cluster such as `-ni` / `-pi`.
            let in_place = args.iter().any(|a| {
                a == "--in-place"
                    || a.starts_with("--in-place=")
                    || (a.starts_with('-') && !a.starts_with("--") && a.contains('i'))
            });
            if !in_place {
                return vec![];
            }
            let mut files = Vec::new();
            let mut script_given = false;
            let mut it = args.iter();
            while let Some(a) = it.next() {
                if a == "-e" || a == "-f" || a == "--expression" || a == "--file" {
                    it.next();
                    script_given = true;
                } else if a.starts_with("--expression=") || a.starts_with("--file=") {
                    script_given = true;
                } else if a.starts_with('-') {
                    continue;
                } else if !script_given {
                    script_given = true;
                } else {
                    files.push(a.clone());
                }
            }
            files
        }
        "cp" | "mv" | "install" | "ln" | "rsync" => {
            let mut target_dir = None;
            let mut ops = Vec::new();
            let mut it = args.iter();
            while let Some(a) = it.next() {
                if a == "-t" || a == "--target-directory" {
                    target_dir = it.next().cloned();
                } else if let Some(d) = a.strip_prefix("--target-directory=") {
                    target_dir = Some(d.to_string());
                } else if !a.starts_with('-') {
                    ops.push(a.clone());
                }
            }
            let (sources, dest) = match target_dir {
                Some(d) => (ops, d),
                None => match ops.split_last() {
                    Some((d, s)) if !s.is_empty() => (s.to_vec(), d.clone()),
                    _ => return vec![],
                },
            };
            let mut out = vec![dest.clone()];
            // A copy into a folder writes `dest/<name>`, which a `dest/**` glob protects.
            for s in &sources {
                if let Some(name) = Path::new(s).file_name() {
                    out.push(Path::new(&dest).join(name).to_string_lossy().into_owned());
                }
            }
            if prog == "mv" {
                out.extend(sources);
            }
            out
        }
        "dd" => args.iter().filter_map(|a| a.strip_prefix("of=")).map(str::to_string).collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(cmd: &str) -> Vec<String> {
        bash_writes(cmd)
    }

    #[test]
    fn finds_redirections_and_writing_commands() {
        assert_eq!(w("echo hi > docs/a.md"), ["docs/a.md"]);
        assert_eq!(w("echo hi >>docs/a.md"), ["docs/a.md"]);
        assert_eq!(w("make 2>err.log 1>&2"), ["err.log"]);
        assert_eq!(w("cat x | tee -a 'docs/my file.md' out.txt"), ["docs/my file.md", "out.txt"]);
        assert_eq!(w("sed -i 's/a/b/' docs/a.md docs/b.md"), ["docs/a.md", "docs/b.md"]);
        assert_eq!(w("sed -i -e s/a/b/ docs/a.md"), ["docs/a.md"]);
        assert_eq!(w("sed 's/a/b/' docs/a.md"), Vec::<String>::new());
        assert_eq!(w("cp -r src/x.md docs"), ["docs", "docs/x.md"]);
        assert_eq!(w("mv a.md docs/b.md"), ["docs/b.md", "docs/b.md/a.md", "a.md"]);
        assert_eq!(w("cd docs && rm -f old.md; touch new.md"), ["docs/old.md", "docs/new.md"]);
        assert_eq!(w("cd /srv && cd site && echo x > a.md"), ["/srv/site/a.md"]);
        assert_eq!(w("FOO=1 sudo dd if=/dev/zero of=disk.img"), ["disk.img"]);
        assert_eq!(w("echo 'a > b' && grep x docs/a.md 2>/dev/null"), Vec::<String>::new());
        assert_eq!(w("ls -la docs; cat docs/a.md"), Vec::<String>::new());
    }

    #[test]
    fn a_device_is_no_write_wherever_cd_went() {
        assert_eq!(w("cd /dev && echo x > null; cd /tmp && echo y > a.md"), ["/tmp/a.md"]);
        assert_eq!(w("cd / && cd dev && cat x 2> null"), Vec::<String>::new());
    }

    #[test]
    fn reads_the_tool_its_folder_and_its_writes() {
        let call =
            parse_hook_input(r#"{"tool_name": "Bash", "cwd": "/p", "tool_input": {"command": "echo x > a.md"}}"#)
                .unwrap();
        assert_eq!(call, HookCall { tool: "Bash".into(), cwd: Some("/p".into()), writes: vec!["a.md".into()] });
        let call =
            parse_hook_input(r#"{"tool_name": "NotebookEdit", "cwd": 3, "tool_input": {"notebook_path": "n.ipynb"}}"#)
                .unwrap();
        assert_eq!((call.cwd, call.writes), (None, vec!["n.ipynb".to_string()]));
        assert_eq!(parse_hook_input(r#"{"tool_name": "Read"}"#).unwrap().writes, Vec::<String>::new());
        assert_eq!(parse_hook_input("[1]"), Err(HookInputError::NotObject));
        assert_eq!(parse_hook_input(r#"{"tool_input": {}}"#), Err(HookInputError::NoToolName));
        let e = parse_hook_input("{").unwrap_err().to_string();
        assert!(e.starts_with("hook input is not valid JSON (") && e.contains("tool_name and tool_input"), "{e}");
    }
}
