//! `plan`: the pure result of drift, directions and policy — one action per drifted
//! item, with the digests it expects and leaves, and the operation hash that makes a
//! retried request the same operation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::canonical::{self, CanonicalOptions};
use crate::clock::Timestamp;
use crate::digest::Digest;
use crate::drift::{DriftClass, DriftCounts, DriftRef, DriftSource};
use crate::key::Key;
use crate::moves::{self, Move};
use crate::policy::{Direction, Directions, Policy, Side, Strategy};
use crate::replica::Snapshot;

/// What to do with one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Write the left content to the right.
    CopyToRight,
    /// Write the right content to the left.
    CopyToLeft,
    /// Delete on the right.
    DeleteRight,
    /// Delete on the left.
    DeleteLeft,
    /// Three-way merge, written to both sides when clean.
    Merge,
    /// Both sides already agree: only the base moves.
    UpdateBase,
    /// Left for a person.
    Conflict,
    /// Not propagated (a one-way direction, or a kept modification).
    Skip,
}

impl ActionKind {
    /// The side this action writes, for copies and deletes.
    pub fn target(self) -> Option<Side> {
        match self {
            ActionKind::CopyToRight | ActionKind::DeleteRight => Some(Side::Right),
            ActionKind::CopyToLeft | ActionKind::DeleteLeft => Some(Side::Left),
            _ => None,
        }
    }

    /// Copy or delete from `winner` onto the other side, given what `winner` holds.
    fn from_winner(winner: Side, winner_present: bool) -> ActionKind {
        match (winner, winner_present) {
            (Side::Left, true) => ActionKind::CopyToRight,
            (Side::Left, false) => ActionKind::DeleteRight,
            (Side::Right, true) => ActionKind::CopyToLeft,
            (Side::Right, false) => ActionKind::DeleteLeft,
        }
    }
}

/// One planned action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Action {
    /// The item.
    pub key: Key,
    /// Its drift class.
    pub class: DriftClass,
    /// What to do.
    pub kind: ActionKind,
    /// Digest in the base.
    pub base: Option<Digest>,
    /// Digest on the left now (the pre-state a write there expects).
    pub left: Option<Digest>,
    /// Digest on the right now.
    pub right: Option<Digest>,
    /// Why this action (which side won, why skipped).
    pub reason: String,
    /// The rename this action is half of: the delete of `from` and the copy of `to` on
    /// the other side, applied there as one rename when the side can.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moved: Option<Move>,
}

impl Action {
    /// Digests expected afterwards on (left, right); `None` for a merge, whose result
    /// is known only once merged.
    pub fn post(&self) -> Option<(Option<Digest>, Option<Digest>)> {
        match self.kind {
            ActionKind::CopyToRight | ActionKind::DeleteRight => Some((self.left, self.left)),
            ActionKind::CopyToLeft | ActionKind::DeleteLeft => Some((self.right, self.right)),
            ActionKind::UpdateBase | ActionKind::Conflict | ActionKind::Skip => Some((self.left, self.right)),
            ActionKind::Merge => None,
        }
    }
}

/// A plan: the actions of one sync and its operation hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Plan {
    /// Same state, directions, policy and time bucket: same hash.
    pub operation_hash: Digest,
    /// The conflict policy.
    pub policy: Policy,
    /// The directions.
    pub directions: Directions,
    /// One action per drifted item, in key order, except that the new key of a rename
    /// follows its old one (so both land in one batch).
    pub actions: Vec<Action>,
    /// Drift counts the plan was made from.
    pub counts: DriftCounts,
}

impl Plan {
    /// The operation id: the operation hash in hex.
    pub fn operation_id(&self) -> String {
        self.operation_hash.to_hex()
    }
    /// Actions that change something (everything but skips and conflicts).
    pub fn changes(&self) -> impl Iterator<Item = &Action> {
        self.actions.iter().filter(|a| !matches!(a.kind, ActionKind::Skip | ActionKind::Conflict))
    }
}

/// Default operation-hash time bucket: one minute.
pub const DEFAULT_BUCKET_MS: i64 = 60_000;

/// Inputs of a plan beyond drift, directions and policy.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    /// Now, for the operation hash's time bucket.
    pub now: Timestamp,
    /// Width of the time bucket in milliseconds (at least 1).
    pub bucket_ms: i64,
    /// Left scan, for modification times (newest-wins).
    pub left: Option<&'a Snapshot>,
    /// Right scan, for modification times.
    pub right: Option<&'a Snapshot>,
    /// Also carry the bytes of formatting-only items over (`sync --formatting`); a plain
    /// sync leaves them alone, since formatting is no drift.
    pub formatting: bool,
}

impl PlanContext<'_> {
    /// A context at `now` with the default bucket and no modification times.
    pub fn at(now: Timestamp) -> Self {
        PlanContext { now, bucket_ms: DEFAULT_BUCKET_MS, left: None, right: None, formatting: false }
    }

    fn entry(&self, side: Side, key: &Key) -> Option<&crate::replica::Entry> {
        let snap = match side {
            Side::Left => self.left,
            Side::Right => self.right,
        };
        snap.and_then(|s| s.get(key))
    }

    fn modified(&self, side: Side, key: &Key) -> Option<Timestamp> {
        self.entry(side, key).and_then(|e| e.modified)
    }
}

/// Plans a sync. Pure: the same inputs give the same plan.
pub fn plan(drift: &impl DriftSource, directions: &Directions, policy: &Policy, ctx: &PlanContext<'_>) -> Plan {
    let actions: Vec<Action> = drift
        .drifted_items()
        .filter(|item| ctx.formatting || item.class != DriftClass::FormattingOnly)
        .map(|item| {
            let (kind, reason) = decide(&item, directions.for_key(item.key), policy, ctx);
            Action {
                key: item.key.clone(),
                class: item.class,
                kind,
                base: item.base.copied(),
                left: item.left.copied(),
                right: item.right.copied(),
                reason,
                moved: None,
            }
        })
        .collect();
    Plan {
        operation_hash: operation_hash(drift, directions, policy, ctx),
        policy: *policy,
        directions: directions.clone(),
        actions: pair_moves(actions, moves::find(drift.drifted_items())),
        counts: drift.counts().clone(),
    }
}

/// Marks the two actions of each move that will be carried to the other side (a delete
/// of `from` and a copy of `to` there; a direction or policy may have decided otherwise)
/// and puts `to` right after `from`.
fn pair_moves(mut actions: Vec<Action>, found: Vec<Move>) -> Vec<Action> {
    if found.is_empty() {
        return actions;
    }
    let index: BTreeMap<Key, usize> = actions.iter().enumerate().map(|(i, a)| (a.key.clone(), i)).collect();
    let mut follows: BTreeMap<usize, usize> = BTreeMap::new();
    for m in found {
        let (Some(&from), Some(&to)) = (index.get(&m.from), index.get(&m.to)) else { continue };
        let onto = m.side.other();
        if actions[from].kind != ActionKind::from_winner(m.side, false)
            || actions[to].kind != ActionKind::from_winner(m.side, true)
            || actions[to].kind.target() != Some(onto)
        {
            continue;
        }
        for i in [from, to] {
            actions[i].reason = m.to_string();
            actions[i].moved = Some(m.clone());
        }
        follows.insert(from, to);
    }
    moves::with_partners(actions, &follows).into_iter().flat_map(|(a, to)| std::iter::once(a).chain(to)).collect()
}

fn decide(item: &DriftRef<'_>, direction: Direction, policy: &Policy, ctx: &PlanContext<'_>) -> (ActionKind, String) {
    use DriftClass::*;
    let flows = |from: Side| direction.source().is_none_or(|s| s == from);
    let one_way = |from: Side, kind: ActionKind| {
        if flows(from) {
            (kind, format!("changed on the {from}"))
        } else {
            (ActionKind::Skip, format!("changed on the {from}, but the direction is {direction}"))
        }
    };
    match item.class {
        InSync => (ActionKind::Skip, "in sync".into()),
        ChangedLeft | AddedLeft => one_way(Side::Left, ActionKind::CopyToRight),
        DeletedLeft => one_way(Side::Left, ActionKind::DeleteRight),
        ChangedRight | AddedRight => one_way(Side::Right, ActionKind::CopyToLeft),
        DeletedRight => one_way(Side::Right, ActionKind::DeleteLeft),
        ChangedAlike | AddedAlike => (ActionKind::UpdateBase, "both sides agree".into()),
        DeletedBoth => (ActionKind::UpdateBase, "deleted on both sides".into()),
        ConflictModifyDelete | ConflictDeleteModify if !policy.deletions_win => {
            // The edit survives: it goes to the side that deleted, if the direction allows.
            let edited = if item.class == ConflictModifyDelete { Side::Left } else { Side::Right };
            if flows(edited) {
                (
                    ActionKind::from_winner(edited, true),
                    format!("edited on the {edited}, deleted on the {}: the edit is kept", edited.other()),
                )
            } else {
                (
                    ActionKind::Skip,
                    format!(
                        "edited on the {edited}, deleted on the {}: the edit is kept and the direction is {direction}",
                        edited.other()
                    ),
                )
            }
        }
        ConflictModifyModify | ConflictAddAdd | ConflictModifyDelete | ConflictDeleteModify => {
            resolve_conflict(item, direction, policy, ctx)
        }
        FormattingOnly => decide_formatting(item, direction, policy, ctx),
    }
}

/// Whose bytes a formatting-only item takes. The base keeps no bytes, so which side
/// reformatted is unknown: a one-way direction's source wins, else the policy's side
/// (newest-wins by modification time, merge by its fallback), and manual leaves it.
fn decide_formatting(
    item: &DriftRef<'_>,
    direction: Direction,
    policy: &Policy,
    ctx: &PlanContext<'_>,
) -> (ActionKind, String) {
    let win = |s: Side, why: String| (ActionKind::from_winner(s, true), format!("formatting only: {why}"));
    if let Some(source) = direction.source() {
        return win(source, format!("direction is {direction}: the {source}'s bytes are copied"));
    }
    let winner = match policy.strategy {
        Strategy::Prefer { side } => Some((side, format!("policy prefers the {side}"))),
        Strategy::NewestWins { tie } => {
            let (l, r) = (ctx.modified(Side::Left, item.key), ctx.modified(Side::Right, item.key));
            Some(match (l, r) {
                (Some(l), Some(r)) if l > r => (Side::Left, "the left is newer".into()),
                (Some(l), Some(r)) if r > l => (Side::Right, "the right is newer".into()),
                _ => (tie, format!("same or unknown modification times: the {tie} wins the tie")),
            })
        }
        Strategy::Merge { fallback: Some(side) } => Some((side, format!("bytes cannot be merged: the {side} wins"))),
        Strategy::Merge { fallback: None } | Strategy::Manual => None,
    };
    match winner {
        Some((side, why)) => win(side, why),
        None => (
            ActionKind::Conflict,
            "formatting only: which side's bytes win is not known; pick one with --policy prefer-left or prefer-right"
                .into(),
        ),
    }
}

fn resolve_conflict(
    item: &DriftRef<'_>,
    direction: Direction,
    policy: &Policy,
    ctx: &PlanContext<'_>,
) -> (ActionKind, String) {
    let present = |s: Side| match s {
        Side::Left => item.left.is_some(),
        Side::Right => item.right.is_some(),
    };
    let win = |s: Side, why: String| (ActionKind::from_winner(s, present(s)), why);
    if let Strategy::Manual = policy.strategy {
        return (ActionKind::Conflict, "policy is manual".into());
    }
    if let Some(source) = direction.source() {
        return win(source, format!("direction is {direction}: the {source} wins"));
    }
    match policy.strategy {
        Strategy::Manual => unreachable!("handled above"),
        Strategy::Prefer { side } => win(side, format!("policy prefers the {side}")),
        Strategy::NewestWins { tie } => {
            let (l, r) = (ctx.modified(Side::Left, item.key), ctx.modified(Side::Right, item.key));
            match (l, r) {
                (Some(l), Some(r)) if l > r => win(Side::Left, "the left is newer".into()),
                (Some(l), Some(r)) if r > l => win(Side::Right, "the right is newer".into()),
                _ => win(tie, format!("same or unknown modification times: the {tie} wins the tie")),
            }
        }
        Strategy::Merge { fallback } => {
            if item.left.is_some() && item.right.is_some() {
                (ActionKind::Merge, "three-way merge".into())
            } else {
                match fallback {
                    Some(side) => win(side, format!("a deletion cannot be merged: the {side} wins")),
                    None => (ActionKind::Conflict, "a deletion cannot be merged".into()),
                }
            }
        }
    }
}

/// SHA-256 over the canonical JSON of the drifted items (key and the digest base, left
/// and right hold), the directions, the policy and the time bucket.
fn operation_hash(drift: &impl DriftSource, directions: &Directions, policy: &Policy, ctx: &PlanContext<'_>) -> Digest {
    let opts = CanonicalOptions::default();
    let canon = |v: serde_json::Value| canonical::canonicalize_value(&v, &opts).expect("plan metadata is plain JSON");
    let bucket = ctx.now.millis().div_euclid(ctx.bucket_ms.max(1));
    let mut h = Sha256::new();
    let mut buf = Vec::with_capacity(256);
    let digest = |buf: &mut Vec<u8>, d: Option<&Digest>| match d {
        Some(d) => {
            buf.push(b'"');
            buf.extend_from_slice(d.to_string().as_bytes());
            buf.push(b'"');
        }
        None => buf.extend_from_slice(b"null"),
    };
    // Keys in JCS order: bucket, directions, formatting (when carried), items, policy.
    buf.extend_from_slice(format!("{{\"bucket\":{bucket},\"directions\":").as_bytes());
    buf.extend(canon(serde_json::to_value(directions).expect("directions serialise")));
    if ctx.formatting {
        // Formatting-only items agree in every digest above: only their bytes tell one
        // reformatting from the next, and a sync that carries them from one that does not.
        buf.extend_from_slice(b",\"formatting\":[");
        let items = drift.drifted_items().filter(|i| i.class == DriftClass::FormattingOnly);
        for (i, item) in items.enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.push(b'[');
            canonical::write_json_string(&mut buf, item.key.as_str());
            for s in [Side::Left, Side::Right] {
                buf.push(b',');
                digest(&mut buf, ctx.entry(s, item.key).and_then(|e| e.bytes.as_ref()));
            }
            buf.push(b']');
        }
        buf.push(b']');
    }
    buf.extend_from_slice(b",\"items\":[");
    for (i, item) in drift.drifted_items().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        buf.push(b'[');
        canonical::write_json_string(&mut buf, item.key.as_str());
        for d in [item.base, item.left, item.right] {
            buf.push(b',');
            digest(&mut buf, d);
        }
        buf.push(b']');
        if buf.len() > 64 * 1024 {
            h.update(&buf);
            buf.clear();
        }
    }
    buf.extend_from_slice(b"],\"policy\":");
    buf.extend(canon(serde_json::to_value(policy).expect("policy serialises")));
    buf.push(b'}');
    h.update(&buf);
    Digest::from_hasher(h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::drift::{detect_owned, Drift};
    use std::collections::BTreeMap;

    fn d(s: &str) -> Digest {
        Digest::of_bytes(s.as_bytes())
    }
    fn map(pairs: &[(&str, &str)]) -> BTreeMap<Key, Digest> {
        pairs.iter().map(|(k, v)| (Key::new(k).unwrap(), d(v))).collect()
    }
    fn kinds(p: &Plan) -> BTreeMap<String, ActionKind> {
        p.actions.iter().map(|a| (a.key.to_string(), a.kind)).collect()
    }

    fn fixture() -> Drift {
        let base = map(&[("mm", "1"), ("md", "1"), ("dm", "1"), ("cl", "1"), ("cr", "1")]);
        let left = map(&[("mm", "2"), ("md", "2"), ("cl", "2"), ("cr", "1"), ("aa", "x")]);
        let right = map(&[("mm", "3"), ("dm", "2"), ("cl", "1"), ("cr", "2"), ("aa", "y")]);
        detect_owned(&base, &left, &right)
    }

    #[test]
    fn modifications_survive_deletions_by_default() {
        let p = plan(&fixture(), &Directions::default(), &Policy::prefer(Side::Right), &PlanContext::at(Timestamp(0)));
        let k = kinds(&p);
        assert_eq!(k["md"], ActionKind::CopyToRight, "left edit restored on the right");
        assert_eq!(k["dm"], ActionKind::CopyToLeft, "right edit restored on the left");
        assert_eq!(k["mm"], ActionKind::CopyToLeft);
        assert_eq!(k["aa"], ActionKind::CopyToLeft);
        assert_eq!(k["cl"], ActionKind::CopyToRight);
        assert_eq!(k["cr"], ActionKind::CopyToLeft);
        let mut explicit = Policy::prefer(Side::Right);
        explicit.deletions_win = true;
        let k = kinds(&plan(&fixture(), &Directions::default(), &explicit, &PlanContext::at(Timestamp(0))));
        assert_eq!(k["md"], ActionKind::DeleteLeft, "only when the policy says so");
    }

    #[test]
    fn one_way_directions_skip_the_other_side() {
        let p = plan(
            &fixture(),
            &Directions::all(Direction::LeftToRight),
            &Policy::manual(),
            &PlanContext::at(Timestamp(0)),
        );
        let k = kinds(&p);
        assert_eq!(k["cr"], ActionKind::Skip);
        assert_eq!(k["cl"], ActionKind::CopyToRight);
        assert_eq!(k["mm"], ActionKind::Conflict, "manual leaves conflicts even one way");
        assert_eq!(k["dm"], ActionKind::Skip, "the right's edit is neither deleted nor propagated");
    }

    #[test]
    fn merge_and_manual_and_newest() {
        let ctx = PlanContext::at(Timestamp(0));
        let k = kinds(&plan(&fixture(), &Directions::default(), &"merge".parse().unwrap(), &ctx));
        assert_eq!(k["mm"], ActionKind::Merge);
        let k = kinds(&plan(&fixture(), &Directions::default(), &Policy::manual(), &ctx));
        assert_eq!(k["mm"], ActionKind::Conflict);
        assert_eq!(k["aa"], ActionKind::Conflict);
        let k = kinds(&plan(&fixture(), &Directions::default(), &"newest-wins:right".parse().unwrap(), &ctx));
        assert_eq!(k["mm"], ActionKind::CopyToLeft, "no times: the tie side wins");
    }

    #[test]
    fn operation_hash_is_stable_within_a_bucket_and_sees_edits() {
        let drift = fixture();
        let pol = Policy::manual();
        let dirs = Directions::default();
        let h = |t: i64, drift: &Drift| plan(drift, &dirs, &pol, &PlanContext::at(Timestamp(t))).operation_hash;
        assert_eq!(h(60_000, &drift), h(119_999, &drift));
        assert_ne!(h(60_000, &drift), h(120_000, &drift));
        let base = map(&[("mm", "1")]);
        let other = detect_owned(&base, &map(&[("mm", "2")]), &map(&[("mm", "4")]));
        assert_ne!(h(60_000, &drift), h(60_000, &other));
        assert_ne!(
            h(0, &drift),
            plan(&drift, &dirs, &Policy::prefer(Side::Left), &PlanContext::at(Timestamp(0))).operation_hash
        );
    }
}
