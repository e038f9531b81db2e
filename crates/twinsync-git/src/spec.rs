//! A git side as spelled in a config: `git+<url>#<branch>[:<path>]`, parsed and checked,
//! with a display that never shows credentials.

use std::fmt;

/// The prefix that marks a side spec as a git side.
pub const PREFIX: &str = "git+";

/// A parsed git side: which repository, which branch, which folder in it.
#[derive(Clone, PartialEq, Eq)]
pub struct GitSpec {
    /// The remote URL (`file://`, `http://` or `https://`), without credentials.
    pub url: String,
    /// The branch (`main`), as under `refs/heads/`.
    pub branch: String,
    /// The folder inside the repository whose files are the items (`""`: the root).
    pub path: String,
}

/// Why a git side spec is not usable; the message names what to fix and never echoes a
/// password given in the URL.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("git side {spec}: {message}")]
pub struct SpecError {
    /// The spec as given, credentials redacted.
    pub spec: String,
    /// What is wrong.
    pub message: String,
}

impl GitSpec {
    /// True when `spec` names a git side (whether or not it parses).
    pub fn is_git(spec: &str) -> bool {
        spec.starts_with(PREFIX)
    }

    /// Parses `git+<url>#<branch>[:<path>]`.
    pub fn parse(spec: &str) -> Result<GitSpec, SpecError> {
        let bad = |message: &str| SpecError { spec: redact_url(spec), message: message.to_string() };
        let rest = spec.strip_prefix(PREFIX).ok_or_else(|| bad("a git side starts with git+"))?;
        // The fragment holds the branch and path: a URL of a repository has no fragment of its own.
        let (url, fragment) = rest
            .rsplit_once('#')
            .ok_or_else(|| bad("name the branch after '#', as in git+https://host/owner/repo.git#main:docs"))?;
        let scheme_ok = ["file://", "http://", "https://"].iter().any(|s| url.starts_with(s));
        if !scheme_ok {
            return Err(bad("the URL must start with file://, http:// or https:// (ssh is not supported)"));
        }
        let after_scheme = url.split_once("://").map_or("", |(_, r)| r);
        let authority = after_scheme.split('/').next().unwrap_or("");
        if let Some((userinfo, _)) = authority.rsplit_once('@') {
            if userinfo.contains(':') {
                return Err(bad(
                    "a password or token never goes in the URL; name a credential with left_credential / right_credential",
                ));
            }
        }
        if url.starts_with("file://") {
            if !authority.is_empty() && authority != "localhost" {
                return Err(bad("a file:// URL names a local path: file:///srv/repo.git"));
            }
        } else if host_of(url).is_none_or(str::is_empty) {
            return Err(bad("the URL names no host"));
        }
        // A branch never contains ':' (git forbids it in ref names), so the first ':' ends it.
        let (branch, path) = fragment.split_once(':').unwrap_or((fragment, ""));
        if branch.is_empty() || !git2::Reference::is_valid_name(&format!("refs/heads/{branch}")) {
            return Err(bad(&format!("{branch:?} is not a valid branch name")));
        }
        let path = path.trim_matches('/');
        if !path.is_empty() {
            let ok =
                path.split('/').all(|c| !c.is_empty() && c != "." && c != ".." && c != ".git" && !c.contains('\\'));
            if !ok {
                return Err(bad(&format!("{path:?} is not a folder inside the repository")));
            }
        }
        Ok(GitSpec { url: url.to_string(), branch: branch.to_string(), path: path.to_string() })
    }

    /// The host credentials may be sent to (`None` for `file://`).
    pub fn host(&self) -> Option<&str> {
        if self.url.starts_with("file://") {
            None
        } else {
            host_of(&self.url)
        }
    }

    /// The full name of the branch on the remote.
    pub fn remote_ref(&self) -> String {
        format!("refs/heads/{}", self.branch)
    }
}

impl fmt::Display for GitSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{PREFIX}{}#{}", redact_url(&self.url), self.branch)?;
        if !self.path.is_empty() {
            write!(f, ":{}", self.path)?;
        }
        Ok(())
    }
}

impl fmt::Debug for GitSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GitSpec({self})")
    }
}

/// The host of an `http(s)://` URL, lowercased port excluded; userinfo skipped.
pub(crate) fn host_of(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split_once(']').map(|(h, _)| h);
    }
    Some(host_port.split(':').next().unwrap_or(host_port))
}

/// `url` with any userinfo (`user:token@`) replaced by `***@`, for messages. Text that
/// is not a URL comes back as it is.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_string() };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_url_branch_and_path() {
        let s = GitSpec::parse("git+https://example.com/owner/repo.git#main:docs/").unwrap();
        assert_eq!(
            (s.url.as_str(), s.branch.as_str(), s.path.as_str()),
            ("https://example.com/owner/repo.git", "main", "docs")
        );
        assert_eq!(s.host(), Some("example.com"));
        assert_eq!(s.to_string(), "git+https://example.com/owner/repo.git#main:docs");
        let s = GitSpec::parse("git+file:///srv/repo.git#release/1.0").unwrap();
        assert_eq!((s.branch.as_str(), s.path.as_str(), s.host()), ("release/1.0", "", None));
        let s = GitSpec::parse("git+http://oauth2@127.0.0.1:8080/r.git#main:a/b").unwrap();
        assert_eq!(s.host(), Some("127.0.0.1"));
    }

    #[test]
    fn bad_specs_say_what_to_fix_and_never_echo_a_password() {
        let e = GitSpec::parse("git+https://me:ghp_SECRET@example.com/r.git#main:docs").unwrap_err().to_string();
        assert!(
            e.contains("never goes in the URL") && !e.contains("ghp_SECRET") && e.contains("***@example.com"),
            "{e}"
        );
        let e = GitSpec::parse("git+https://example.com/r.git").unwrap_err().to_string();
        assert!(e.contains("branch"), "{e}");
        let e = GitSpec::parse("git+ssh://example.com/r.git#main").unwrap_err().to_string();
        assert!(e.contains("file://, http:// or https://"), "{e}");
        let e = GitSpec::parse("git+https://example.com/r.git#ma..in:docs").unwrap_err().to_string();
        assert!(e.contains("not a valid branch"), "{e}");
        let e = GitSpec::parse("git+https://example.com/r.git#main:../etc").unwrap_err().to_string();
        assert!(e.contains("not a folder"), "{e}");
        assert_eq!(redact_url("https://u:p@h/x@y"), "https://***@h/x@y");
    }
}
