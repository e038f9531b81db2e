//! Reading the `openspec/` folder into rows: active changes, archived changes by their
//! bare id, main specs, each with its documents and delta specs; and mapping a path
//! under `openspec/` to the row it belongs to (the watcher's way in).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::Path;

use twinsync_core::{Digest, Timestamp};

use super::{SyncError, Syncer};
use crate::db::Kind;
use crate::delta::parse_delta_spec;
use crate::workspace::{discover_spec_files, ArchiveName};

/// One change or spec as the files hold it.
#[derive(Debug, Clone)]
pub(super) struct FsItem {
    pub(super) kind: Kind,
    pub(super) id: String,
    /// Folder under `openspec/`.
    pub(super) path: String,
    pub(super) archived_on: Option<String>,
    pub(super) docs: BTreeMap<&'static str, String>,
    pub(super) modified: Option<Timestamp>,
    /// Delta spec files (path under the change folder, text); parsed only when they changed.
    pub(super) deltas: Vec<(String, String)>,
    /// Digest over the delta files, compared with the row's to skip parsing them.
    pub(super) deltas_digest: String,
}

impl FsItem {
    /// Requirements across the change's delta files (ADDED, MODIFIED, REMOVED, RENAMED).
    pub(super) fn delta_requirements(&self) -> i64 {
        self.deltas
            .iter()
            .map(|(_, text)| {
                let plan = parse_delta_spec(text);
                (plan.added.len() + plan.modified.len() + plan.removed.len() + plan.renamed.len()) as i64
            })
            .sum()
    }
}

const CHANGE_MARKERS: [&str; 4] = [".openspec.yaml", "proposal.md", "tasks.md", "design.md"];

fn ts_of(t: std::time::SystemTime) -> Option<Timestamp> {
    t.duration_since(std::time::UNIX_EPOCH).ok().map(|d| Timestamp::from_millis(d.as_millis() as i64))
}

/// Reads a text file; `Ok(None)` when absent. Invalid UTF-8 is read lossily (the
/// database holds text), and the compare-and-swap on write then refuses to overwrite it.
fn read_doc(path: &Path) -> Result<Option<(String, Option<Timestamp>)>, std::io::Error> {
    match fs::read(path) {
        Ok(bytes) => {
            let modified = fs::metadata(path).and_then(|m| m.modified()).ok().and_then(ts_of);
            let text = String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            Ok(Some((text, modified)))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn dir_names(dir: &Path) -> Vec<String> {
    let Ok(rd) = fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<String> = rd
        .filter_map(Result::ok)
        .filter(|e| e.file_type().map(|t| t.is_dir()).unwrap_or(false))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    v.sort();
    v
}

impl Syncer<'_> {
    /// Archived change folders with the id each gets: the bare id unless an active change
    /// or an earlier archive folder already has it, then the whole folder name.
    fn archived_ids(&self, active: &BTreeSet<String>) -> Vec<(String, String)> {
        let mut taken: BTreeSet<String> = active.clone();
        let mut out = Vec::new();
        for dir in dir_names(&self.openspec.join("changes/archive")) {
            let id = match ArchiveName::parse(&dir) {
                Some(a) if !taken.contains(&a.id) => a.id,
                _ => dir.clone(),
            };
            taken.insert(id.clone());
            out.push((dir, id));
        }
        out
    }

    /// Active change folders: any folder under `changes/` holding one of the change files.
    fn active_ids(&self) -> BTreeSet<String> {
        let changes = self.openspec.join("changes");
        dir_names(&changes)
            .into_iter()
            .filter(|n| n != "archive" && CHANGE_MARKERS.iter().any(|m| changes.join(n).join(m).is_file()))
            .collect()
    }

    /// Reads one change folder (`path` under `openspec/`) with its documents and delta specs.
    fn read_change(&self, id: &str, path: String, archived_on: Option<String>) -> Result<FsItem, SyncError> {
        let dir = self.openspec.join(&path);
        let mut docs = BTreeMap::new();
        let mut modified: Option<Timestamp> = None;
        for doc in Kind::Change.docs() {
            let p = dir.join(doc);
            let read = read_doc(&p).map_err(|e| SyncError::Folder { path: p.clone(), message: e.to_string() })?;
            if let Some((text, m)) = read {
                modified = modified.max(m);
                docs.insert(*doc, text);
            }
        }
        let mut deltas = Vec::new();
        let mut all = Vec::new();
        for (sid, p) in discover_spec_files(&dir.join("specs")) {
            if let Ok(Some((text, _))) = read_doc(&p) {
                let rel = format!("specs/{sid}/spec.md");
                all.extend_from_slice(rel.as_bytes());
                all.push(0);
                all.extend_from_slice(text.as_bytes());
                all.push(0);
                deltas.push((rel, text));
            }
        }
        let deltas_digest = Digest::of_bytes(&all).to_hex();
        Ok(FsItem { kind: Kind::Change, id: id.to_string(), path, archived_on, docs, modified, deltas, deltas_digest })
    }

    /// Reads one main spec (`None`: its `spec.md` is gone).
    fn read_spec(&self, id: &str) -> Result<Option<FsItem>, SyncError> {
        let path = format!("specs/{id}");
        let p = self.openspec.join(&path).join("spec.md");
        let Some((text, modified)) =
            read_doc(&p).map_err(|e| SyncError::Folder { path: p.clone(), message: e.to_string() })?
        else {
            return Ok(None);
        };
        let docs = BTreeMap::from([("spec.md", text)]);
        Ok(Some(FsItem {
            kind: Kind::Spec,
            id: id.to_string(),
            path,
            archived_on: None,
            docs,
            modified,
            deltas: Vec::new(),
            deltas_digest: String::new(),
        }))
    }

    /// Every change and spec on disk, plus per-folder read errors.
    pub(super) fn scan_folder(&self) -> (Vec<FsItem>, Vec<(Kind, String, SyncError)>) {
        let mut items = Vec::new();
        let mut errors = Vec::new();
        let active = self.active_ids();
        for id in &active {
            match self.read_change(id, format!("changes/{id}"), None) {
                Ok(i) => items.push(i),
                Err(e) => errors.push((Kind::Change, id.clone(), e)),
            }
        }
        for (dir, id) in self.archived_ids(&active) {
            let date = ArchiveName::parse(&dir).map(|a| a.date);
            match self.read_change(&id, format!("changes/archive/{dir}"), date) {
                Ok(i) => items.push(i),
                Err(e) => errors.push((Kind::Change, id, e)),
            }
        }
        for (id, _) in discover_spec_files(&self.openspec.join("specs")) {
            match self.read_spec(&id) {
                Ok(Some(i)) => items.push(i),
                Ok(None) => {}
                Err(e) => errors.push((Kind::Spec, id, e)),
            }
        }
        (items, errors)
    }

    /// One row as the files hold it now (`None`: gone from disk).
    pub(super) fn find_on_disk(&self, kind: Kind, id: &str) -> Result<Option<FsItem>, SyncError> {
        if kind == Kind::Spec {
            return self.read_spec(id);
        }
        // One row only: look at its own folder, then the archive listing; never at every
        // active change, so the watcher's path does not grow with the folder.
        let changes = self.openspec.join("changes");
        let is_change = |dir: &Path| CHANGE_MARKERS.iter().any(|m| dir.join(m).is_file());
        if id != "archive" && is_change(&changes.join(id)) {
            return self.read_change(id, format!("changes/{id}"), None).map(Some);
        }
        let dirs = dir_names(&changes.join("archive"));
        // The first archive folder of this id gets the bare id (as in the full pass, where
        // no active change holds it); a folder named exactly `id` is one whose id collided.
        let found = dirs
            .iter()
            .find(|d| ArchiveName::parse(d).is_some_and(|a| a.id == id))
            .or_else(|| dirs.iter().find(|d| d.as_str() == id));
        match found {
            Some(dir) => {
                let date = ArchiveName::parse(dir).map(|a| a.date);
                self.read_change(id, format!("changes/archive/{dir}"), date).map(Some)
            }
            None => Ok(None),
        }
    }
}

/// Maps a path relative to `openspec/` to the row it belongs to: `changes/<id>/…`,
/// `changes/archive/<dir>/…` (the archived folder name; see [`Syncer`] for its id) or
/// `specs/<id>/spec.md`. `None` for anything else (config, project.md).
pub fn row_of_path(rel: &str) -> Option<(Kind, String, bool)> {
    let parts: Vec<&str> = rel.split('/').collect();
    match parts.as_slice() {
        ["changes", "archive", dir, ..] => Some((Kind::Change, (*dir).to_string(), true)),
        ["changes", "archive"] => None,
        ["changes", id, ..] if !id.starts_with('.') => Some((Kind::Change, (*id).to_string(), false)),
        ["specs", rest @ .., "spec.md"] if !rest.is_empty() => Some((Kind::Spec, rest.join("/"), false)),
        ["specs", rest @ ..] if !rest.is_empty() => Some((Kind::Spec, rest.join("/"), false)),
        _ => None,
    }
}
