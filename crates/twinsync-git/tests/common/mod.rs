//! Real git for the tests: the `git` CLI to set up and inspect repositories (never
//! used by the library), and a smart-HTTP server on 127.0.0.1 running `git
//! http-backend` behind HTTP basic auth. A missing `git` fails the tests, never skips.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Runs `git args` in `dir`, panicking with its output on failure; returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "Upstream Dev")
        .env("GIT_AUTHOR_EMAIL", "dev@example.com")
        .env("GIT_COMMITTER_NAME", "Upstream Dev")
        .env("GIT_COMMITTER_EMAIL", "dev@example.com")
        .output()
        .unwrap_or_else(|e| panic!("the git CLI is needed by these tests and could not run: {e}"));
    assert!(out.status.success(), "git {args:?} in {}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A bare repository `name.git` under `root` whose `main` holds `files`, committed
/// through a scratch clone; returns the bare repository's path.
pub fn bare_repo(root: &Path, name: &str, files: &[(&str, &str)]) -> PathBuf {
    let bare = root.join(format!("{name}.git"));
    git(root, &["init", "--quiet", "--bare", "--initial-branch=main", bare.to_str().unwrap()]);
    let work = root.join(format!("{name}-seed"));
    git(root, &["clone", "--quiet", bare.to_str().unwrap(), work.to_str().unwrap()]);
    git(&work, &["checkout", "--quiet", "-b", "main"]);
    for (path, text) in files {
        let p = work.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "--quiet", "-m", "seed"]);
    git(&work, &["push", "--quiet", "origin", "main"]);
    bare
}

/// Commits `files` (None deletes) on `main` from a fresh clone of `bare`, as another
/// person would, and pushes.
pub fn push_from_clone(bare: &Path, scratch: &Path, files: &[(&str, Option<&str>)], message: &str) {
    let _ = std::fs::remove_dir_all(scratch);
    git(
        bare.parent().unwrap(),
        &["clone", "--quiet", "--branch", "main", bare.to_str().unwrap(), scratch.to_str().unwrap()],
    );
    for (path, text) in files {
        let p = scratch.join(path);
        match text {
            Some(t) => {
                std::fs::create_dir_all(p.parent().unwrap()).unwrap();
                std::fs::write(p, t).unwrap();
            }
            None => std::fs::remove_file(p).unwrap(),
        }
    }
    git(scratch, &["add", "-A"]);
    git(scratch, &["commit", "--quiet", "-m", message]);
    git(scratch, &["push", "--quiet", "origin", "main"]);
}

/// `git show main:path` in `bare`, or None when absent.
pub fn show(bare: &Path, path: &str) -> Option<String> {
    let out = Command::new("git").args(["show", &format!("main:{path}")]).current_dir(bare).output().unwrap();
    out.status.success().then(|| String::from_utf8(out.stdout).unwrap())
}

/// Commits on main, newest first: `(sha, subject, author "Name <email>", body)`.
pub fn log(bare: &Path) -> Vec<(String, String, String, String)> {
    let out = git(bare, &["log", "main", "--format=%H%x1f%s%x1f%an <%ae>%x1f%b%x1e"]);
    out.split('\x1e')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|rec| {
            let f: Vec<&str> = rec.split('\x1f').collect();
            (f[0].into(), f[1].into(), f[2].into(), f.get(3).unwrap_or(&"").trim().to_string())
        })
        .collect()
}

/// True when `old` is an ancestor of (or equal to) `new` on `bare`: history only grew.
pub fn is_ancestor(bare: &Path, old: &str, new: &str) -> bool {
    Command::new("git").args(["merge-base", "--is-ancestor", old, new]).current_dir(bare).status().unwrap().success()
}

/// A smart-HTTP git server on 127.0.0.1 serving the bare repositories under `root`
/// through `git http-backend`, requiring basic auth whose password is `token`.
pub struct GitHttp {
    pub port: u16,
}

impl GitHttp {
    pub fn start(root: &Path, token: &str) -> GitHttp {
        let exec_path = git(root, &["--exec-path"]).trim().to_string();
        let backend = Path::new(&exec_path).join("git-http-backend");
        assert!(backend.exists(), "git http-backend not found at {}", backend.display());
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let (root, token) = (root.to_path_buf(), token.to_string());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (root, token, backend) = (root.clone(), token.clone(), backend.clone());
                std::thread::spawn(move || {
                    let _ = serve(stream, &root, &token, &backend);
                });
            }
        });
        GitHttp { port }
    }

    pub fn url(&self, repo: &str) -> String {
        format!("http://127.0.0.1:{}/{repo}", self.port)
    }
}

fn b64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        _ => 63,
    };
    let bytes: Vec<u8> = s.bytes().filter(|&c| c != b'=').collect();
    let mut out = Vec::new();
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= u32::from(val(c)) << (18 - 6 * i);
        }
        for i in 0..chunk.len().saturating_sub(1) {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// One request: check auth, run http-backend as CGI, send its answer, close.
fn serve(stream: TcpStream, root: &Path, token: &str, backend: &Path) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end().to_string();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let header = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        body.resize(n, 0);
        reader.read_exact(&mut body)?;
    }
    let user = header("authorization")
        .and_then(|v| v.strip_prefix("Basic ").map(|b| String::from_utf8_lossy(&b64_decode(b)).into_owned()))
        .and_then(|up| up.split_once(':').filter(|(_, p)| *p == token).map(|(u, _)| u.to_string()));
    let Some(user) = user else {
        let msg = "authentication required\n";
        write!(
            out,
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{msg}",
            msg.len()
        )?;
        return Ok(());
    };
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut child = Command::new(backend)
        .env_clear()
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("REMOTE_USER", &user)
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("HTTP_GIT_PROTOCOL", header("git-protocol").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let mut cgi = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut cgi)?;
    let _ = writer.join();
    child.wait()?;
    let split = cgi
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| cgi.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (head, rest) = match split {
        Some((i, n)) => (String::from_utf8_lossy(&cgi[..i]).into_owned(), &cgi[i + n..]),
        None => (String::new(), &cgi[..]),
    };
    let mut status = "200 OK".to_string();
    let mut out_headers = String::new();
    for h in head.lines() {
        if let Some(s) = h.strip_prefix("Status:") {
            status = s.trim().to_string();
        } else if !h.trim().is_empty() {
            out_headers.push_str(h.trim_end());
            out_headers.push_str("\r\n");
        }
    }
    write!(out, "HTTP/1.1 {status}\r\n{out_headers}Content-Length: {}\r\nConnection: close\r\n\r\n", rest.len())?;
    out.write_all(rest)?;
    out.flush()
}
