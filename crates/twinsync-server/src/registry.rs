//! The projects a server hosts: `projects.json` in its data folder, each project by id,
//! name and folder. Registering never touches a project's files; unregistering never
//! deletes them.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::ServeError;

/// A registered project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    /// The id routes use: derived from the folder, so registering it again gives the same.
    pub id: String,
    /// A name for people.
    pub name: String,
    /// The project folder (the one holding `.twinsync/`, or to hold it).
    pub path: PathBuf,
}

/// The registry file and what it holds.
pub struct Registry {
    file: PathBuf,
    projects: Mutex<Vec<Registered>>,
}

impl Registry {
    /// Opens (creating its folder) the registry in `data`.
    pub fn open(data: &Path) -> Result<Registry, ServeError> {
        std::fs::create_dir_all(data)
            .map_err(|e| ServeError::Io { what: format!("creating {}", data.display()), source: e })?;
        let file = data.join("projects.json");
        let projects = match std::fs::read(&file) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| ServeError::Config(format!("{}: not a project list: {e}", file.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(ServeError::Io { what: format!("reading {}", file.display()), source: e }),
        };
        Ok(Registry { file, projects: Mutex::new(projects) })
    }

    /// Every project.
    pub fn list(&self) -> Vec<Registered> {
        self.projects.lock().expect("registry").clone()
    }

    /// One project by id.
    pub fn get(&self, id: &str) -> Option<Registered> {
        self.projects.lock().expect("registry").iter().find(|p| p.id == id).cloned()
    }

    /// Registers the folder `path` (which must exist) under `name`; the same folder again
    /// answers the same project, renamed.
    pub fn add(&self, name: &str, path: &Path) -> Result<Registered, String> {
        let path = path.canonicalize().map_err(|e| format!("{}: {e}", path.display()))?;
        if !path.is_dir() {
            return Err(format!("{} is not a folder", path.display()));
        }
        let digest = Sha256::digest(path.to_string_lossy().as_bytes());
        let id: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
        let entry = Registered { id, name: name.to_string(), path };
        let mut projects = self.projects.lock().expect("registry");
        let mut next = projects.clone();
        next.retain(|p| p.id != entry.id);
        next.push(entry.clone());
        next.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        self.save(&next)?;
        *projects = next;
        Ok(entry)
    }

    /// Renames project `id`; `None` when there is no such project.
    pub fn rename(&self, id: &str, name: &str) -> Result<Option<Registered>, String> {
        let mut projects = self.projects.lock().expect("registry");
        let mut next = projects.clone();
        let Some(entry) = next.iter_mut().find(|p| p.id == id) else { return Ok(None) };
        entry.name = name.to_string();
        let renamed = entry.clone();
        next.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        self.save(&next)?;
        *projects = next;
        Ok(Some(renamed))
    }

    /// Unregisters project `id`; its files stay. `None` when there is no such project.
    pub fn remove(&self, id: &str) -> Result<Option<Registered>, String> {
        let mut projects = self.projects.lock().expect("registry");
        let Some(found) = projects.iter().find(|p| p.id == id).cloned() else { return Ok(None) };
        let next: Vec<Registered> = projects.iter().filter(|p| p.id != id).cloned().collect();
        self.save(&next)?;
        *projects = next;
        Ok(Some(found))
    }

    /// Writes the list whole, then renames it into place: a crash leaves the old list or the new.
    fn save(&self, projects: &[Registered]) -> Result<(), String> {
        let tmp = self.file.with_extension("json.tmp");
        let bytes = serde_json::to_vec_pretty(projects).expect("a list serialises");
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
            std::fs::rename(&tmp, &self.file)
        };
        write().map_err(|e| format!("{}: {e}", self.file.display()))
    }
}
