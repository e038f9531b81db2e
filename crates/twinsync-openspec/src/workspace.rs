//! The `openspec/` folder as a model: where it is, its config, main specs, active and
//! archived changes with their files. Loading never stops at a bad file: each problem is
//! recorded with file, line and message and the rest of the folder still loads.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::delta::{parse_delta_spec, DeltaPlan};
use crate::spec::{parse_spec, Spec, SpecError};
use crate::tasks::{count_tasks, Progress};
use crate::text::re;

/// A problem found while reading the folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file (or directory) concerned.
    pub file: PathBuf,
    /// 1-based line (0 when it concerns the whole file).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Errors that stop the folder from being found or read at all.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    /// No ancestor of the start directory has an `openspec/` with `specs/` or `changes/`.
    #[error("no openspec/ folder with specs/ or changes/ found from {0} upwards")]
    NotFound(PathBuf),
    /// A directory could not be listed.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// `key: value` scalars at the top level of a small YAML file (the subset the CLI's
/// list/show/validate read: `schema`, `created`, `skip_specs`, `store`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct YamlScalars {
    /// Pairs in file order.
    pub pairs: Vec<(String, String)>,
}

re!(yaml_pair_re, r"^([A-Za-z_][A-Za-z0-9_-]*)\s*:\s*(.*?)\s*$");

impl YamlScalars {
    /// Reads top-level scalars; nested blocks and lists are skipped.
    pub fn parse(text: &str) -> YamlScalars {
        let mut pairs = Vec::new();
        for line in crate::text::normalize(text).lines() {
            if line.starts_with([' ', '\t', '#', '-']) {
                continue;
            }
            if let Some(m) = yaml_pair_re().captures(line) {
                let mut v = m[2].to_string();
                if let Some(i) = v.find(" #") {
                    v.truncate(i);
                }
                let v = v.trim().trim_matches(|c| c == '"' || c == '\'').to_string();
                pairs.push((m[1].to_string(), v));
            }
        }
        YamlScalars { pairs }
    }
    /// Value of a key.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

/// A text file of the folder, kept byte for byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextFile {
    /// Path relative to its owner (change dir or `specs/`), `/`-separated.
    pub rel: String,
    /// Absolute path.
    pub path: PathBuf,
    /// Contents (lossy UTF-8 when the file is not UTF-8; a problem is recorded then).
    pub text: String,
}

/// A main spec file.
#[derive(Debug, Clone)]
pub struct SpecFile {
    /// Capability id (`area/cap` when nested).
    pub id: String,
    /// The file.
    pub file: TextFile,
    /// The parse.
    pub parsed: Result<Spec, SpecError>,
}

/// A delta file of a change.
#[derive(Debug, Clone)]
pub struct DeltaFile {
    /// Capability id.
    pub id: String,
    /// The file.
    pub file: TextFile,
    /// Its deltas.
    pub plan: DeltaPlan,
}

/// `YYYY-MM-DD-<id>` of an archived change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveName {
    /// The date prefix.
    pub date: String,
    /// The rest (may itself start with a date, from older CLIs).
    pub id: String,
}

re!(archive_re, r"^(\d{4}-\d{2}-\d{2})-(.+)$");
re!(archive_prefix_re, r"^\d{4}-\d{2}-\d{2}-");

impl ArchiveName {
    /// Splits an archive directory name.
    pub fn parse(dir: &str) -> Option<ArchiveName> {
        archive_re().captures(dir).map(|m| ArchiveName { date: m[1].to_string(), id: m[2].to_string() })
    }
    /// The directory name archive gives a change on a date; an id that already starts with a
    /// date keeps it as is.
    pub fn dir_for(date: &str, id: &str) -> String {
        if archive_prefix_re().is_match(id) {
            id.to_string()
        } else {
            format!("{date}-{id}")
        }
    }
}

/// A change directory.
#[derive(Debug, Clone)]
pub struct Change {
    /// Directory name.
    pub id: String,
    /// The directory.
    pub dir: PathBuf,
    /// Set for archived changes.
    pub archive: Option<ArchiveName>,
    /// `.openspec.yaml` scalars.
    pub metadata: Option<YamlScalars>,
    /// `proposal.md`.
    pub proposal: Option<TextFile>,
    /// `design.md` (never parsed).
    pub design: Option<TextFile>,
    /// Tracked task files (`tasks.md` for the built-in schema).
    pub task_files: Vec<TextFile>,
    /// Delta spec files sorted by id.
    pub deltas: Vec<DeltaFile>,
    /// Whether `specs/spec.md` exists at the root of the change's specs.
    pub root_level_spec: bool,
    /// Other `.md` files under specs/ that hold delta sections (never read by the CLI).
    pub unread_delta_files: Vec<(String, String)>,
    /// When this directory is not a change but a folder wrapping changes: their ids
    /// (`group/x`), sorted. Empty otherwise.
    pub nested: Vec<String>,
}

impl Change {
    /// Task progress summed over the tracked files.
    pub fn progress(&self) -> Progress {
        self.task_files.iter().fold(Progress::default(), |acc, f| {
            let p = count_tasks(&f.text);
            Progress { completed: acc.completed + p.completed, total: acc.total + p.total }
        })
    }
    /// The CLI's message for a folder that wraps nested changes instead of being one.
    pub fn nested_message(&self) -> Option<String> {
        let first = self.nested.first()?;
        let list: Vec<String> = self.nested.iter().map(|n| format!("openspec/changes/{n}/")).collect();
        Some(format!(
            "\"{}\" is not a change: it is a folder wrapping {}. A change must be a directory directly under openspec/changes/, so those nested directories are invisible to OpenSpec while the folder around them is reported as a change. Nested paths are supported under openspec/specs/ only. Rename each nested change to a flat name (for example \"{}\").",
            self.id,
            list.join(", "),
            first.replace('/', "-")
        ))
    }
    /// Whether `.openspec.yaml` sets `skip_specs: true`.
    pub fn skip_specs(&self) -> bool {
        self.metadata.as_ref().and_then(|m| m.get("skip_specs")) == Some("true")
    }
}

/// Which parts of the folder to read (each command needs only some; everything by default).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parts {
    /// Main specs.
    pub specs: bool,
    /// Active changes (tasks and metadata always; see `change_files`).
    pub changes: bool,
    /// Archived changes.
    pub archived: bool,
    /// Proposal, design and delta files of changes (not needed for task counts).
    pub change_files: bool,
}

impl Parts {
    /// Everything.
    pub const ALL: Parts = Parts { specs: true, changes: true, archived: true, change_files: true };
    /// What `list` (changes) needs: active changes' tasks.
    pub const LIST: Parts = Parts { specs: false, changes: true, archived: false, change_files: false };
    /// What `list --specs` needs.
    pub const SPECS: Parts = Parts { specs: true, changes: false, archived: false, change_files: false };
}

/// The whole `openspec/` folder.
#[derive(Debug, Clone)]
pub struct Workspace {
    /// The folder holding `openspec/`.
    pub root: PathBuf,
    /// How the root was chosen, as the CLI reports it (`nearest` or `implicit`).
    pub root_source: &'static str,
    /// `openspec/config.yaml` (or `.yml`) scalars.
    pub config: Option<YamlScalars>,
    /// Whether `openspec/project.md` exists (legacy layout).
    pub has_project_md: bool,
    /// Main specs sorted by id (code point order).
    pub specs: Vec<SpecFile>,
    /// Active changes, including dot-directories (`list` shows them; show/validate skip them).
    pub changes: Vec<Change>,
    /// Archived changes.
    pub archived: Vec<Change>,
    /// Everything that could not be read cleanly.
    pub problems: Vec<Problem>,
}

/// The nearest ancestor of `start` (itself included) whose `openspec/` holds `specs/` or
/// `changes/`, as the CLI resolves its root.
pub fn find_root(start: &Path) -> Result<PathBuf, WorkspaceError> {
    let start = fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf());
    for dir in start.ancestors() {
        let os = dir.join("openspec");
        if os.join("specs").is_dir() || os.join("changes").is_dir() {
            return Ok(dir.to_path_buf());
        }
    }
    Err(WorkspaceError::NotFound(start))
}

/// Root for `list`: as [`find_root`], but a start folder whose `openspec/project.md`
/// exists is accepted even without `specs/` or `changes/` (the CLI's implicit root).
pub fn find_list_root(start: &Path) -> Result<PathBuf, WorkspaceError> {
    find_root(start).or_else(|e| {
        if start.join("openspec/project.md").is_file() {
            Ok(fs::canonicalize(start).unwrap_or_else(|_| start.to_path_buf()))
        } else {
            Err(e)
        }
    })
}

fn read_text(path: &Path, rel: String, problems: &mut Vec<Problem>) -> Option<TextFile> {
    match fs::read(path) {
        Ok(bytes) => {
            let text = match String::from_utf8(bytes) {
                Ok(t) => t,
                Err(e) => {
                    problems.push(Problem {
                        file: path.into(),
                        line: 0,
                        message: "not valid UTF-8; read with replacement characters".into(),
                    });
                    String::from_utf8_lossy(e.as_bytes()).into_owned()
                }
            };
            Some(TextFile { rel, path: path.into(), text })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => {
            problems.push(Problem { file: path.into(), line: 0, message: format!("cannot read: {e}") });
            None
        }
    }
}

fn sorted_entries(dir: &Path) -> std::io::Result<Vec<fs::DirEntry>> {
    let mut v: Vec<fs::DirEntry> = fs::read_dir(dir)?.filter_map(Result::ok).collect();
    v.sort_by_key(|e| e.file_name());
    Ok(v)
}

/// Walks the files under `dir` in name order, skipping dot-entries and not following
/// symlinked directories; `visit` gets the folder segments above each file, its name
/// and its entry.
fn walk_files(dir: &Path, segs: &mut Vec<String>, visit: &mut dyn FnMut(&[String], &str, &fs::DirEntry)) {
    let Ok(entries) = sorted_entries(dir) else { return };
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            segs.push(name);
            walk_files(&e.path(), segs, visit);
            segs.pop();
        } else {
            visit(segs, &name, &e);
        }
    }
}

/// Every `spec.md` under `root` with at least one folder segment; dot-entries skipped,
/// symlinked directories not followed. Sorted by id (code point order).
pub fn discover_spec_files(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    walk_files(root, &mut Vec::new(), &mut |segs, name, e| {
        let is_file = e.file_type().is_ok_and(|ft| ft.is_file()) || e.path().is_file();
        if name == "spec.md" && !segs.is_empty() && is_file {
            out.push((segs.join("/"), e.path()));
        }
    });
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn unread_delta_files(root: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    walk_files(root, &mut Vec::new(), &mut |segs, name, e| {
        if name == "spec.md" || !name.to_lowercase().ends_with(".md") {
            return;
        }
        let Ok(text) = fs::read(e.path()) else { return };
        if !parse_delta_spec(&String::from_utf8_lossy(&text)).has_sections() {
            return;
        }
        let cap = if segs.is_empty() { name[..name.len() - 3].to_string() } else { segs.join("/") };
        let mut p = segs.to_vec();
        p.push(name.to_string());
        out.push((p.join("/"), format!("{cap}/spec.md")));
    });
    out.sort();
    out
}

impl Workspace {
    /// Finds the root from `start` and loads it.
    pub fn discover(start: &Path) -> Result<Workspace, WorkspaceError> {
        Workspace::load(&find_root(start)?)
    }

    /// Finds the root from `start` and loads only `parts` of it.
    pub fn discover_parts(start: &Path, parts: Parts) -> Result<Workspace, WorkspaceError> {
        Workspace::load_parts(&find_root(start)?, parts)
    }

    /// Loads the folder `root/openspec`.
    pub fn load(root: &Path) -> Result<Workspace, WorkspaceError> {
        Workspace::load_parts(root, Parts::ALL)
    }

    /// Loads only `parts` of `root/openspec`; the other collections stay empty.
    pub fn load_parts(root: &Path, parts: Parts) -> Result<Workspace, WorkspaceError> {
        let os = root.join("openspec");
        let mut problems = Vec::new();
        let config = ["config.yaml", "config.yml"]
            .iter()
            .find_map(|n| read_text(&os.join(n), (*n).into(), &mut problems))
            .map(|f| YamlScalars::parse(&f.text));
        let mut specs = Vec::new();
        let spec_files = if parts.specs { discover_spec_files(&os.join("specs")) } else { Vec::new() };
        for (id, path) in spec_files {
            let Some(file) = read_text(&path, format!("{id}/spec.md"), &mut problems) else { continue };
            let parsed = parse_spec(&file.text);
            if let Err(e) = &parsed {
                problems.push(Problem { file: path.clone(), line: e.line, message: e.message.clone() });
            }
            specs.push(SpecFile { id, file, parsed });
        }
        let mut ws = Workspace {
            root: root.to_path_buf(),
            root_source: "nearest",
            config,
            has_project_md: os.join("project.md").is_file(),
            specs,
            changes: Vec::new(),
            archived: Vec::new(),
            problems,
        };
        let changes_dir = os.join("changes");
        let active = if parts.changes { sorted_entries(&changes_dir) } else { Ok(Vec::new()) };
        if let Ok(entries) = active {
            for e in entries {
                let name = e.file_name().to_string_lossy().into_owned();
                if name == "archive" || !e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    continue;
                }
                let mut c = ws.load_change(&e.path(), name, None, parts.change_files);
                if !c.id.starts_with('.') {
                    c.nested = nested_changes(&c.dir, &c.id);
                }
                ws.changes.push(c);
            }
        }
        let archived = if parts.archived { sorted_entries(&changes_dir.join("archive")) } else { Ok(Vec::new()) };
        if let Ok(entries) = archived {
            for e in entries {
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || !e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    continue;
                }
                let arch = ArchiveName::parse(&name);
                if arch.is_none() {
                    ws.problems.push(Problem {
                        file: e.path(),
                        line: 0,
                        message: "archived change is not named YYYY-MM-DD-<id>".into(),
                    });
                }
                let c = ws.load_change(&e.path(), name, arch, parts.change_files);
                ws.archived.push(c);
            }
        }
        Ok(ws)
    }

    /// The schema a change uses: `.openspec.yaml`, then config, then `spec-driven`.
    pub fn schema_of(&self, change: &Change) -> String {
        change
            .metadata
            .as_ref()
            .and_then(|m| m.get("schema"))
            .or_else(|| self.config.as_ref().and_then(|c| c.get("schema")))
            .unwrap_or("spec-driven")
            .to_string()
    }

    /// Whether the change uses the CLI's built-in spec-driven schema (no local override).
    pub fn uses_builtin_spec_driven(&self, change: &Change) -> bool {
        let s = self.schema_of(change);
        let s = s.trim_end_matches(".yaml").trim_end_matches(".yml");
        s == "spec-driven" && !self.root.join("openspec/schemas/spec-driven").is_dir()
    }

    fn load_change(&mut self, dir: &Path, id: String, archive: Option<ArchiveName>, files: bool) -> Change {
        let p = &mut self.problems;
        let metadata =
            read_text(&dir.join(".openspec.yaml"), ".openspec.yaml".into(), p).map(|f| YamlScalars::parse(&f.text));
        let task_files: Vec<TextFile> = read_text(&dir.join("tasks.md"), "tasks.md".into(), p).into_iter().collect();
        if !files {
            return Change {
                id,
                dir: dir.to_path_buf(),
                archive,
                metadata,
                proposal: None,
                design: None,
                task_files,
                deltas: Vec::new(),
                root_level_spec: false,
                unread_delta_files: Vec::new(),
                nested: Vec::new(),
            };
        }
        let proposal = read_text(&dir.join("proposal.md"), "proposal.md".into(), p);
        let design = read_text(&dir.join("design.md"), "design.md".into(), p);
        let specs_dir = dir.join("specs");
        let mut deltas = Vec::new();
        for (sid, path) in discover_spec_files(&specs_dir) {
            let Some(file) = read_text(&path, format!("{sid}/spec.md"), p) else { continue };
            let plan = parse_delta_spec(&file.text);
            for u in &plan.unpaired_renames {
                p.push(Problem {
                    file: path.clone(),
                    line: u.line,
                    message: format!("RENAMED {}: \"{}\" has no matching pair", u.side, u.name),
                });
            }
            if !plan.has_sections() {
                p.push(Problem {
                    file: path.clone(),
                    line: 1,
                    message: "no delta sections (## ADDED/MODIFIED/REMOVED/RENAMED Requirements)".into(),
                });
            }
            deltas.push(DeltaFile { id: sid, file, plan });
        }
        let c = Change {
            id,
            dir: dir.to_path_buf(),
            archive,
            metadata,
            proposal,
            design,
            task_files,
            root_level_spec: specs_dir.join("spec.md").is_file(),
            unread_delta_files: unread_delta_files(&specs_dir),
            nested: Vec::new(),
            deltas,
        };
        let schema = self.schema_of(&c);
        if schema != "spec-driven" && !self.root.join("openspec/schemas").join(&schema).is_dir() {
            self.problems.push(Problem {
                file: dir.join(".openspec.yaml"),
                line: 0,
                message: format!("unknown schema '{schema}'; counting tasks.md"),
            });
        }
        c
    }

    /// An active change (not a dot-directory) by id.
    pub fn change(&self, id: &str) -> Option<&Change> {
        self.changes.iter().find(|c| c.id == id && !c.id.starts_with('.'))
    }

    /// A main spec by id.
    pub fn spec(&self, id: &str) -> Option<&SpecFile> {
        self.specs.iter().find(|s| s.id == id)
    }

    /// A main spec's text by id.
    pub fn main_spec_text(&self, id: &str) -> Option<&str> {
        self.spec(id).map(|s| s.file.text.as_str())
    }
}

/// Newest modification time of any file under `dir` (the directory's own when empty).
pub fn last_modified(dir: &Path) -> Option<SystemTime> {
    fn walk(dir: &Path, latest: &mut Option<SystemTime>) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        for e in rd.filter_map(Result::ok) {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                walk(&e.path(), latest);
            } else if let Ok(m) = fs::metadata(e.path()).and_then(|m| m.modified()) {
                if latest.map(|l| m > l).unwrap_or(true) {
                    *latest = Some(m);
                }
            }
        }
    }
    let mut latest = None;
    walk(dir, &mut latest);
    latest.or_else(|| fs::metadata(dir).and_then(|m| m.modified()).ok())
}

/// Whether a directory looks like a change: a marker file, or any file under `specs/`.
fn looks_like_change(dir: &Path) -> bool {
    [".openspec.yaml", "proposal.md", "tasks.md", "design.md"].iter().any(|m| dir.join(m).is_file())
        || has_any_file(&dir.join("specs"))
}

/// Any non-dot file at any depth (symlinks count, unfollowed).
pub fn has_any_file(dir: &Path) -> bool {
    let Ok(rd) = fs::read_dir(dir) else { return false };
    rd.filter_map(Result::ok).any(|e| {
        if e.file_name().to_string_lossy().starts_with('.') {
            return false;
        }
        match e.file_type() {
            Ok(t) if t.is_dir() => has_any_file(&e.path()),
            Ok(_) => true,
            Err(_) => false,
        }
    })
}

/// Changes nested inside a folder that is itself no change (up to three levels), as the
/// CLI detects them for its `nested_change_directory` warning.
fn nested_changes(dir: &Path, name: &str) -> Vec<String> {
    fn collect(dir: &Path, prefix: &str, depth: usize, found: &mut Vec<String>) {
        if depth > 3 {
            return;
        }
        let Ok(entries) = sorted_entries(dir) else { return };
        for e in entries {
            let child = e.file_name().to_string_lossy().into_owned();
            if child.starts_with('.') || !e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                continue;
            }
            let id = format!("{prefix}/{child}");
            if looks_like_change(&e.path()) {
                found.push(id);
            } else {
                collect(&e.path(), &id, depth + 1, found);
            }
        }
    }
    if looks_like_change(dir) {
        return Vec::new();
    }
    let own_file = sorted_entries(dir)
        .map(|v| {
            v.iter().any(|e| {
                !e.file_name().to_string_lossy().starts_with('.') && !e.file_type().map(|t| t.is_dir()).unwrap_or(false)
            })
        })
        .unwrap_or(false);
    if own_file {
        return Vec::new();
    }
    let mut found = Vec::new();
    collect(dir, name, 1, &mut found);
    found.sort();
    found
}
