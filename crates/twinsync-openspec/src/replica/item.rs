//! The item keys both sides of an `openspec` pair use:
//! - `changes/<id>/proposal.md`, `design.md`, `tasks.md`: a change's documents;
//! - `changes/<id>/specs/<capability>/spec.md`: its delta specs;
//! - `changes/<id>/.location`: where its folder is under `openspec/` (`changes/<id>`
//!   or `changes/archive/<date>-<id>`), as text;
//! - `specs/<id>/spec.md`: a main spec.
//!
//! A change keeps its id when archived, so its keys do not move with its folder.

use twinsync_core::Key;

use crate::db::{Kind, CHANGE_DOCS};

/// The name of the item holding a change's folder.
pub const LOCATION: &str = ".location";

/// Which part of a row an item is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// A document column (`proposal.md`, `design.md`, `tasks.md`, `spec.md`).
    Doc(&'static str),
    /// A delta spec of a change, by its path under the change folder (`specs/<cap>/spec.md`).
    Delta(String),
    /// The change's folder under `openspec/`.
    Location,
}

/// An item key taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemKey {
    /// `change` or `spec`.
    pub kind: Kind,
    /// The row's id.
    pub id: String,
    /// Which part of the row.
    pub part: Part,
}

impl ItemKey {
    /// Reads a key; `None` for anything that is not an OpenSpec item.
    pub fn parse(key: &str) -> Option<ItemKey> {
        if let Some(rest) = key.strip_prefix("changes/") {
            let (id, tail) = rest.split_once('/')?;
            if id.is_empty() || id == "archive" || id.starts_with('.') {
                return None;
            }
            let part = match tail {
                LOCATION => Part::Location,
                t => match CHANGE_DOCS.iter().find(|d| **d == t) {
                    Some(d) => Part::Doc(d),
                    None if t.starts_with("specs/") && t.ends_with("/spec.md") && t.len() > "specs//spec.md".len() => {
                        Part::Delta(t.to_string())
                    }
                    None => return None,
                },
            };
            return Some(ItemKey { kind: Kind::Change, id: id.to_string(), part });
        }
        let id = key.strip_prefix("specs/")?.strip_suffix("/spec.md")?;
        (!id.is_empty()).then(|| ItemKey { kind: Kind::Spec, id: id.to_string(), part: Part::Doc("spec.md") })
    }

    /// The key of a row's part.
    pub fn key(kind: Kind, id: &str, part: &Part) -> Key {
        let s = match (kind, part) {
            (Kind::Spec, _) => format!("specs/{id}/spec.md"),
            (Kind::Change, Part::Doc(d)) => format!("changes/{id}/{d}"),
            (Kind::Change, Part::Delta(rel)) => format!("changes/{id}/{rel}"),
            (Kind::Change, Part::Location) => format!("changes/{id}/{LOCATION}"),
        };
        Key::new(s).expect("ids and document names make valid keys")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_strangers_are_not_items() {
        for k in [
            "changes/add-x/proposal.md",
            "changes/add-x/.location",
            "changes/add-x/specs/auth/spec.md",
            "specs/auth/spec.md",
            "specs/a/b/spec.md",
        ] {
            let p = ItemKey::parse(k).unwrap_or_else(|| panic!("{k}"));
            assert_eq!(ItemKey::key(p.kind, &p.id, &p.part).as_str(), k);
        }
        for k in ["project.md", "changes/archive/x/proposal.md", "changes/x/notes.md", "specs/spec.md", "changes/x"] {
            assert_eq!(ItemKey::parse(k), None, "{k}");
        }
    }
}
