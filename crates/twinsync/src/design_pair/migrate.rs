//! Moving the design state of earlier releases into the project's store, once.
//!
//! Before design pairs ran through the facade, `twinsync design sync` kept its own engine
//! store, `.twinsync/design/sync.db` (operations, undo entries, history, base and blobs
//! under scope `default`), and wrote the drift base to `.twinsync/design/base.json` (plus
//! `base.before-<operation>.json` copies for undo). On open, that state moves into the
//! project's store as the implicit design pair ([`IMPLICIT_DESIGN_PAIR`]): every
//! operation, history row, undo entry (undone ones stay undone) and the base with its
//! content, so the old history shows and the last sync can still be undone.
//!
//! Idempotent: an operation is written after its items, and an item is skipped when its
//! history row is already there, so a migration cut short picks up where it stopped.
//! When done, a store key records it and the old files are renamed `*.migrated` (kept,
//! not deleted, for anyone who wants to look).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use twinsync_core::store::{HistoryEntry, ItemCommit};
use twinsync_core::{Content, Digest, Key, Store, Trigger};
use twinsync_design::drift::Base;

use super::{design_error, IMPLICIT_DESIGN_PAIR};
use crate::config;
use crate::error::{Error, Result};
use crate::project::Project;

/// Store namespace and key that record the migration as done.
const DONE_NS: &str = "migrations";
const DONE_KEY: &str = "design_state_v1";
/// The scope the old CLI's engine recorded everything under (`EngineConfig::default`).
const OLD_SCOPE: &str = "default";
/// "Every row" for the store's limits (which SQL takes as a signed 64-bit number).
const ALL: usize = 1 << 40;

fn old_dir(dir: &Path) -> PathBuf {
    dir.join(config::DIR).join("design")
}

/// Whether `dir` holds the design state of an earlier release (which made no config
/// when only `twinsync design sync` ever ran there): a project still, to be migrated.
pub(crate) fn has_old_design_state(dir: &Path) -> bool {
    let old = old_dir(dir);
    old.join("sync.db").is_file() || old.join("base.json").is_file()
}

/// Gives a folder with only old design state a config with no configured pairs, so it
/// opens as the project it was (its design pair becomes the implicit one).
pub(crate) fn write_config_for_old_state(dir: &Path) -> Result<()> {
    let path = dir.join(config::DIR).join(config::CONFIG_FILE);
    if path.exists() || !has_old_design_state(dir) {
        return Ok(());
    }
    let mut c = config::Config::new(".", ".");
    c.pairs.clear();
    c.save(&path)
}

/// Moves `.twinsync/design/sync.db` and `base.json` into the project's store unless that
/// was done; does nothing (and writes nothing) in a project without them.
pub(crate) fn migrate_old_design_state(p: &mut Project) -> Result<()> {
    let old = old_dir(p.dir());
    let (db, base_json) = (old.join("sync.db"), old.join("base.json"));
    if !has_old_design_state(p.dir()) {
        return Ok(());
    }
    // `design sync --store .twinsync/design/sync.db` makes the old file the store itself.
    let same = |a: &Path, b: &Path| a.canonicalize().ok().is_some_and(|a| b.canonicalize().ok() == Some(a));
    if p.store_url().sqlite_path().is_some_and(|s| same(s, &db)) {
        return Ok(());
    }
    if p.store_ref().kv_get(DONE_NS, DONE_KEY)?.is_some() {
        return Ok(());
    }
    let now = p.now();
    if db.exists() {
        let from = crate::open_store_file(&db)?;
        copy_store(from.as_ref(), p.store(), now)?;
    }
    if base_json.exists() {
        import_base_json(p, &base_json)?;
    }
    p.store().kv_put(DONE_NS, DONE_KEY, now.millis().to_string().as_bytes())?;
    for f in std::fs::read_dir(&old).map_err(|e| Error::io(&old, e))? {
        let path = f.map_err(|e| Error::io(&old, e))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let state = name.starts_with("sync.db") || (name.starts_with("base") && name.ends_with(".json"));
        if state && !name.ends_with(".migrated") {
            let to = path.with_file_name(format!("{name}.migrated"));
            std::fs::rename(&path, &to).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

fn row_id(h: &HistoryEntry) -> (String, String, i64, String) {
    (h.operation_id.clone(), h.key.to_string(), h.at.millis(), h.direction.clone())
}

/// Copies every operation of the old store's scope, oldest first, with its history rows,
/// undo entries and the contents they name, and sets the base to the old base.
fn copy_store(from: &dyn Store, to: &mut dyn Store, now: twinsync_core::Timestamp) -> Result<()> {
    let scope = IMPLICIT_DESIGN_PAIR;
    let base = from.load_base(OLD_SCOPE)?;
    let done: BTreeSet<_> = to.history(Some(scope), ALL)?.iter().map(row_id).collect();
    let mut rows = from.history(Some(OLD_SCOPE), ALL)?;
    rows.reverse();
    let mut by_op: BTreeMap<String, Vec<HistoryEntry>> = BTreeMap::new();
    for h in rows {
        by_op.entry(h.operation_id.clone()).or_default().push(h);
    }
    let mut ops = from.operations(Some(OLD_SCOPE), ALL)?;
    ops.reverse();
    let mut based: BTreeSet<Key> = BTreeSet::new();
    for mut op in ops {
        let undo = from.undo_entries(&op.operation_id)?;
        let mut undo_written: BTreeSet<Key> = BTreeSet::new();
        for mut h in by_op.remove(&op.operation_id).unwrap_or_default() {
            based.insert(h.key.clone());
            if done.contains(&row_id(&h)) {
                undo_written.insert(h.key.clone());
                continue;
            }
            // An item's undo entries go with its first history row in the operation.
            let entries: Vec<_> = if undo_written.insert(h.key.clone()) {
                undo.iter()
                    .filter(|u| u.key == h.key)
                    .cloned()
                    .map(|mut u| {
                        u.scope = scope.to_string();
                        u
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let mut digests: Vec<Digest> =
                entries.iter().flat_map(|u| [u.pre, u.post, u.base_before]).flatten().collect();
            digests.extend(base.get(&h.key));
            h.scope = scope.to_string();
            to.commit_item(&ItemCommit {
                scope: scope.to_string(),
                key: h.key.clone(),
                // The old base is the end state; every row sets it, so order cannot matter.
                base_after: base.get(&h.key).copied(),
                blobs: blobs(from, &digests)?,
                undo: entries,
                history: h,
                events: vec![],
            })?;
        }
        if to.operation(&op.operation_id)?.is_none() {
            op.scope = scope.to_string();
            to.put_operation(&op, &[])?;
        }
    }
    // Rows of operations the old store no longer lists (pruned) still belong in history.
    for rows in by_op.into_values() {
        for mut h in rows {
            based.insert(h.key.clone());
            if done.contains(&row_id(&h)) {
                continue;
            }
            let digests: Vec<Digest> = base.get(&h.key).copied().into_iter().collect();
            h.scope = scope.to_string();
            to.commit_item(&ItemCommit {
                scope: scope.to_string(),
                key: h.key.clone(),
                base_after: base.get(&h.key).copied(),
                blobs: blobs(from, &digests)?,
                undo: vec![],
                history: h,
                events: vec![],
            })?;
        }
    }
    // A base item no history row names (none should exist) is still carried over.
    for (key, digest) in base.iter().filter(|(k, _)| !based.contains(*k)) {
        commit_base(to, key, *digest, blobs(from, &[*digest])?, now)?;
    }
    Ok(())
}

fn blobs(from: &dyn Store, digests: &[Digest]) -> Result<Vec<(Digest, Content)>> {
    let mut out = Vec::new();
    for d in digests.iter().collect::<BTreeSet<_>>() {
        if let Some(c) = from.blob(d)? {
            out.push((*d, c));
        }
    }
    Ok(out)
}

/// Sets the base of one component, with a `base` history row saying the migration did.
fn commit_base(
    to: &mut dyn Store,
    key: &Key,
    digest: Digest,
    blobs: Vec<(Digest, Content)>,
    at: twinsync_core::Timestamp,
) -> Result<()> {
    let scope = IMPLICIT_DESIGN_PAIR.to_string();
    to.commit_item(&ItemCommit {
        scope: scope.clone(),
        key: key.clone(),
        base_after: Some(digest),
        blobs,
        undo: vec![],
        history: HistoryEntry {
            operation_id: "migration:design_state_v1".into(),
            scope,
            key: key.clone(),
            direction: "base".into(),
            trigger: Trigger::Manual,
            success: true,
            error: None,
            left: Some(digest),
            right: Some(digest),
            at,
        },
        events: vec![],
    })?;
    Ok(())
}

/// Components of `base.json` the store's base lacks (a base written without `sync.db`,
/// e.g. by `--store` elsewhere) become base items; the store's base wins where both have one.
fn import_base_json(p: &mut Project, path: &Path) -> Result<()> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let base: Base = serde_json::from_slice(&bytes)
        .map_err(|e| design_error(IMPLICIT_DESIGN_PAIR, format!("{}: not a design base: {e}", path.display())))?;
    let have = p.store_ref().load_base(IMPLICIT_DESIGN_PAIR)?;
    let rules = twinsync_core::HashRules {
        json: twinsync_core::canonical::CanonicalOptions {
            ignore: twinsync_design::model::design_ignore_rules(),
            ..Default::default()
        },
        ..Default::default()
    };
    let now = p.now();
    for (name, entry) in &base.components {
        // Code and design agreed at the last sync; code is the one the old base named first.
        let Some(component) = entry.code.as_ref().or(entry.design.as_ref()) else { continue };
        let key = super::design_component_key(name).map_err(|m| design_error(IMPLICIT_DESIGN_PAIR, m))?;
        if have.contains_key(&key) {
            continue;
        }
        let content = Content::Json(serde_json::to_string(&component.canonical()).expect("a component serialises"));
        let digest = rules.digest(&content).map_err(|e| design_error(IMPLICIT_DESIGN_PAIR, format!("{key}: {e}")))?;
        commit_base(p.store(), &key, digest, vec![(digest, content)], now)?;
    }
    Ok(())
}
