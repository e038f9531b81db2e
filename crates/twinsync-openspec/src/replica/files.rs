//! The `openspec/` folder as the files side of an `openspec` pair: a
//! [`twinsync_fs::FsReplica`] (atomic compare-and-swap writes, backups, fsync) seen
//! through the item keys of [`super::item`], so a change is named by its id wherever
//! its folder is, and writing a change's `.location` moves its folder.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use twinsync_core::replica::{Flush, ReplicaError, ScanFailure, Snapshot, WriteContext};
use twinsync_core::{Content, Digest, Entry, HashRules, Key, Replica};
use twinsync_fs::{FsOptions, FsReplica};

use super::database::valid_location;
use super::item::{is_delta, ItemKey, Part};
use crate::db::{Kind, CHANGE_DOCS};
use crate::workspace::ArchiveName;

/// The `openspec/` folder of a project.
pub struct OpenSpecFiles {
    fs: FsReplica,
    root: PathBuf,
    /// Change id -> its folder under `openspec/`, from the last scan and the moves since.
    folders: BTreeMap<String, String>,
    failures: Vec<ScanFailure>,
}

impl std::fmt::Debug for OpenSpecFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenSpecFiles").field("root", &self.root).finish_non_exhaustive()
    }
}

/// Where a disk path under `openspec/` belongs: the change folder and the rest, for
/// files of a change (`changes/<dir>/…`, `changes/archive/<dir>/…`).
fn change_folder(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("changes/")?;
    let (folder_len, tail) = if let Some(a) = rest.strip_prefix("archive/") {
        let (dir, tail) = a.split_once('/')?;
        ("changes/archive/".len() + dir.len(), tail)
    } else {
        let (dir, tail) = rest.split_once('/')?;
        if dir == "archive" || dir.starts_with('.') {
            return None;
        }
        ("changes/".len() + dir.len(), tail)
    };
    let is_item = CHANGE_DOCS.contains(&tail) || is_delta(tail);
    is_item.then(|| (&path[..folder_len], tail))
}

impl OpenSpecFiles {
    /// Opens the `openspec/` folder `root`; files a sync overwrites or deletes are copied
    /// under `backup_dir` first when one is given.
    pub fn open(root: &Path, backup_dir: Option<PathBuf>) -> Result<OpenSpecFiles, ReplicaError> {
        let opts = FsOptions { name: "openspec".into(), backup_dir, ..FsOptions::default() };
        let fs = FsReplica::open(root, opts)?;
        Ok(OpenSpecFiles { fs, root: root.to_path_buf(), folders: BTreeMap::new(), failures: Vec::new() })
    }

    /// The folder of change `id`: where it is, or where a new one goes.
    fn folder(&self, id: &str) -> String {
        self.folders.get(id).cloned().unwrap_or_else(|| format!("changes/{id}"))
    }

    /// The file behind an item key (`None` for a `.location`).
    fn disk_key(&self, item: &ItemKey) -> Result<Option<Key>, ReplicaError> {
        let path = match (&item.kind, &item.part) {
            (_, Part::Location) => return Ok(None),
            (Kind::Spec, _) => format!("specs/{}/spec.md", item.id),
            (Kind::Change, Part::Doc(d)) => format!("{}/{d}", self.folder(&item.id)),
            (Kind::Change, Part::Delta(rel)) => format!("{}/{rel}", self.folder(&item.id)),
        };
        Ok(Some(Key::new(path)?))
    }

    fn location(&self, id: &str) -> Option<&String> {
        self.folders.get(id).filter(|f| self.root.join(f).is_dir())
    }

    fn digest_text(&self, text: &str) -> Digest {
        self.rules().digest(&Content::Text(text.to_string())).expect("text always digests")
    }

    /// Moves (or creates) change `id`'s folder to `to`, durably.
    fn move_folder(&mut self, id: &str, to: &str) -> Result<(), ReplicaError> {
        let io =
            |p: &Path, e: std::io::Error| ReplicaError::Io { key: p.display().to_string(), message: e.to_string() };
        let target = self.root.join(to);
        match self.location(id).cloned() {
            Some(from) if from == to => return Ok(()),
            Some(from) => {
                if target.exists() {
                    return Err(ReplicaError::Io {
                        key: format!("changes/{id}/.location"),
                        message: format!("cannot move {from} to {to}: {to} already exists"),
                    });
                }
                let parent = target.parent().expect("under the root");
                fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
                let source = self.root.join(&from);
                fs::rename(&source, &target).map_err(|e| io(&source, e))?;
                // The rename is durable once both folders' entries are.
                for dir in [source.parent(), Some(parent)].into_iter().flatten() {
                    fs::File::open(dir).and_then(|f| f.sync_all()).map_err(|e| io(dir, e))?;
                }
            }
            None => fs::create_dir_all(&target).map_err(|e| io(&target, e))?,
        }
        self.folders.insert(id.to_string(), to.to_string());
        Ok(())
    }
}

impl Replica for OpenSpecFiles {
    fn name(&self) -> &str {
        self.fs.name()
    }

    fn rules(&self) -> &HashRules {
        self.fs.rules()
    }

    fn scan(&mut self) -> Result<Snapshot, ReplicaError> {
        let disk = self.fs.scan()?;
        // Change folders with at least one document or delta spec, and the id each gets:
        // an active folder its name; an archived one its bare id unless an active change
        // or an earlier archived folder has it, then its whole folder name.
        let mut active: Vec<&str> = Vec::new();
        let mut archived: Vec<&str> = Vec::new();
        for key in disk.keys() {
            if let Some((folder, _)) = change_folder(key.as_str()) {
                let list = if folder.starts_with("changes/archive/") { &mut archived } else { &mut active };
                if list.last() != Some(&folder) {
                    list.push(folder);
                }
            }
        }
        let mut folders: BTreeMap<String, String> = BTreeMap::new();
        let mut ids: BTreeMap<&str, String> = BTreeMap::new();
        for f in &active {
            let id = &f["changes/".len()..];
            folders.insert(id.to_string(), f.to_string());
            ids.insert(f, id.to_string());
        }
        archived.sort_unstable();
        archived.dedup();
        for f in &archived {
            let dir = &f["changes/archive/".len()..];
            let id = match ArchiveName::parse(dir) {
                Some(a) if !folders.contains_key(&a.id) => a.id,
                _ => dir.to_string(),
            };
            folders.insert(id.clone(), f.to_string());
            ids.insert(f, id);
        }
        let mut entries = Vec::with_capacity(disk.len() + folders.len());
        for (key, entry) in &disk {
            let logical = match change_folder(key.as_str()) {
                Some((folder, tail)) => format!("changes/{}/{tail}", ids[folder]),
                None if ItemKey::parse(key.as_str()).is_some_and(|k| k.kind == Kind::Spec) => key.to_string(),
                None => continue,
            };
            let k = Key::new(logical)?;
            entries.push(Entry { key: k, ..entry.clone() });
        }
        for (id, folder) in &folders {
            let k = ItemKey::key(Kind::Change, id, &Part::Location);
            let digest = self.digest_text(folder);
            entries.push(Entry { key: k, digest, size: folder.len() as u64, modified: None, bytes: None });
        }
        self.failures = self
            .fs
            .scan_failures()
            .into_iter()
            .map(|f| match change_folder(&f.key) {
                Some((folder, tail)) => {
                    let id = ids.get(folder).cloned().unwrap_or_else(|| folder.rsplit('/').next().unwrap_or("").into());
                    ScanFailure { key: format!("changes/{id}/{tail}"), error: f.error }
                }
                None => f,
            })
            .collect();
        self.folders = folders;
        Ok(Snapshot::from_entries(entries))
    }

    fn scan_failures(&self) -> Vec<ScanFailure> {
        self.failures.clone()
    }

    fn read(&self, key: &Key) -> Result<Option<Content>, ReplicaError> {
        let Some(item) = ItemKey::parse(key.as_str()) else { return Ok(None) };
        match self.disk_key(&item)? {
            Some(disk) => self.fs.read(&disk),
            None => Ok(self.location(&item.id).map(|f| Content::Text(f.clone()))),
        }
    }

    fn write(
        &mut self,
        key: &Key,
        content: &Content,
        expected: Option<&Digest>,
        ctx: &WriteContext,
    ) -> Result<Digest, ReplicaError> {
        let item = ItemKey::parse(key.as_str()).ok_or_else(|| ReplicaError::Io {
            key: key.to_string(),
            message: "not an OpenSpec document, delta spec or change location".into(),
        })?;
        if let Some(disk) = self.disk_key(&item)? {
            let d = self.fs.write(&disk, content, expected, ctx)?;
            if item.kind == Kind::Change {
                let folder = self.folder(&item.id);
                self.folders.entry(item.id).or_insert(folder);
            }
            return Ok(d);
        }
        let found = self.location(&item.id).map(|f| self.digest_text(f));
        if found.as_ref() != expected {
            return Err(ReplicaError::conflict(key, expected, found.as_ref()));
        }
        let to = String::from_utf8_lossy(content.as_bytes()).trim().to_string();
        if !valid_location(&item.id, &to) {
            return Err(ReplicaError::Io {
                key: key.to_string(),
                message: format!(
                    "{to:?} is not a folder change {:?} can live in (changes/<id> or changes/archive/<date>-<id>)",
                    item.id
                ),
            });
        }
        self.move_folder(&item.id, &to)?;
        Ok(self.digest_text(&to))
    }

    fn delete(&mut self, key: &Key, expected: &Digest, ctx: &WriteContext) -> Result<(), ReplicaError> {
        let Some(item) = ItemKey::parse(key.as_str()) else { return Ok(()) };
        match self.disk_key(&item)? {
            Some(disk) => self.fs.delete(&disk, expected, ctx),
            // The folder goes with its last file (the folder side removes emptied folders).
            None => {
                let found = self.location(&item.id).map(|f| self.digest_text(f));
                match found {
                    Some(d) if d != *expected => Err(ReplicaError::conflict(key, Some(expected), Some(&d))),
                    _ => Ok(()),
                }
            }
        }
    }

    fn flush(&mut self) -> Result<(), ReplicaError> {
        self.fs.flush()
    }

    fn flush_later(&mut self) -> Result<Option<Flush>, ReplicaError> {
        self.fs.flush_later()
    }
}
