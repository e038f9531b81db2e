//! Drift between code and design, three-way per component against the last synced
//! base: what changed in code, what changed in design, whether the two collide.
//!
//! Props are matched by exact name, then by normalised name (`Show label` ~
//! `showLabel` ~ `show-label`), then — for what is left — by kind and option set. A
//! match that is not exact is a rename with a confidence, never a remove plus an add.
//! Between code and design, a normalised-name match is the same prop (the two sides
//! spell names their own way); against the base, it is a rename in that side.
//! Options are compared by value (`1.0` = `1`), and between code and design also by
//! normalised text (`Small` ~ `small`). Instance-swap defaults are node ids and are
//! ignored; a component whose canonical digest equals the base's has not changed.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::coverage::{owner_of, owner_tables};
use crate::error::Result;
use crate::model::{normalise_name, option_text, value_key, DesignComponent, Prop, PropKind};
use crate::naming::StoryReader;
use crate::storybook::StoryIndex;
use crate::tokens::{TokenFormat, TokenSet};

/// Where a change happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// Changed in code since the base.
    Code,
    /// Changed in design since the base.
    Design,
    /// No base: the two sides differ and nobody can say which moved.
    Unknown,
}

impl Origin {
    fn words(self) -> &'static str {
        match self {
            Origin::Code => "in code",
            Origin::Design => "in design",
            Origin::Unknown => "",
        }
    }
}

/// One difference, described from `before` to `after` (base to side, or code to design).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// A prop exists after but not before.
    PropAdded {
        /// Its name.
        prop: String,
        /// Its kind.
        kind: PropKind,
    },
    /// A prop existed before but not after.
    PropRemoved {
        /// Its name.
        prop: String,
        /// Its kind.
        kind: PropKind,
    },
    /// A prop was renamed.
    PropRenamed {
        /// The old name.
        from: String,
        /// The new name.
        to: String,
        /// How sure the match is, 0 to 1.
        confidence: f64,
    },
    /// A prop changed kind (text to variant, ...).
    KindChanged {
        /// The prop.
        prop: String,
        /// Before.
        from: PropKind,
        /// After.
        to: PropKind,
    },
    /// An option was added to a variant axis.
    OptionAdded {
        /// The prop.
        prop: String,
        /// The option.
        option: Value,
    },
    /// An option was removed from a variant axis.
    OptionRemoved {
        /// The prop.
        prop: String,
        /// The option.
        option: Value,
    },
    /// An option was renamed.
    OptionRenamed {
        /// The prop.
        prop: String,
        /// Old option.
        from: Value,
        /// New option.
        to: Value,
        /// How sure the match is, 0 to 1.
        confidence: f64,
    },
    /// The default value changed.
    DefaultChanged {
        /// The prop.
        prop: String,
        /// Before.
        from: Value,
        /// After.
        to: Value,
    },
}

impl Change {
    /// The prop the change is about (its name after the change for renames).
    pub fn prop(&self) -> &str {
        match self {
            Change::PropAdded { prop, .. }
            | Change::PropRemoved { prop, .. }
            | Change::KindChanged { prop, .. }
            | Change::OptionAdded { prop, .. }
            | Change::OptionRemoved { prop, .. }
            | Change::OptionRenamed { prop, .. }
            | Change::DefaultChanged { prop, .. } => prop,
            Change::PropRenamed { to, .. } => to,
        }
    }

    /// A sentence for people, `origin` saying where it happened.
    pub fn describe(&self, origin: Origin) -> String {
        let w = origin.words();
        let sp = if w.is_empty() { String::new() } else { format!(" {w}") };
        match (self, origin) {
            (Change::PropAdded { prop, kind }, Origin::Unknown) => {
                format!("{} prop {prop:?} is in design but not in code", kind.as_str())
            }
            (Change::PropRemoved { prop, kind }, Origin::Unknown) => {
                format!("{} prop {prop:?} is in code but has no design counterpart", kind.as_str())
            }
            (Change::PropAdded { prop, kind }, _) => format!("{} prop {prop:?} added{sp}", kind.as_str()),
            (Change::PropRemoved { prop, kind }, _) => format!("{} prop {prop:?} removed{sp}", kind.as_str()),
            (Change::PropRenamed { from, to, confidence }, Origin::Unknown) => {
                format!("prop {from:?} in code looks like {to:?} in design (confidence {confidence:.2})")
            }
            (Change::PropRenamed { from, to, confidence }, _) => {
                format!("prop {from:?} renamed{sp} to {to:?} (confidence {confidence:.2})")
            }
            (Change::KindChanged { prop, from, to }, _) => {
                format!("prop {prop:?} changed{sp} from {} to {}", from.as_str(), to.as_str())
            }
            (Change::OptionAdded { prop, option }, Origin::Unknown) => {
                format!("option {} of {prop:?} is in design but not in code", option_text(option))
            }
            (Change::OptionRemoved { prop, option }, Origin::Unknown) => {
                format!("option {} of {prop:?} is in code but not in design", option_text(option))
            }
            (Change::OptionAdded { prop, option }, _) => {
                format!("option {} added to {prop:?}{sp}", option_text(option))
            }
            (Change::OptionRemoved { prop, option }, _) => {
                format!("option {} removed from {prop:?}{sp}", option_text(option))
            }
            (Change::OptionRenamed { prop, from, to, confidence }, _) => format!(
                "option {} of {prop:?} renamed{sp} to {} (confidence {confidence:.2})",
                option_text(from),
                option_text(to)
            ),
            (Change::DefaultChanged { prop, from, to }, _) => {
                format!("default of {prop:?} changed{sp} from {} to {}", option_text(from), option_text(to))
            }
        }
    }
}

/// A change with where it happened and a sentence saying it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Where.
    pub origin: Origin,
    /// What.
    #[serde(flatten)]
    pub change: Change,
    /// For people: `prop "Show label" renamed in design to "Label" (confidence 0.80)`.
    pub message: String,
}

/// The state of one component.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    /// Nothing to do.
    InSync,
    /// Only code moved since the base.
    ChangedInCode,
    /// Only design moved since the base.
    ChangedInDesign,
    /// Both moved, in ways that do not collide.
    ChangedInBoth,
    /// Both changed the same prop differently.
    Conflict,
    /// No base, and the sides differ.
    Differs,
    /// The component exists only in code.
    OnlyInCode,
    /// The component exists only in design.
    OnlyInDesign,
}

/// Drift of one component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ComponentDrift {
    /// Its name (the code name when both sides have it).
    pub component: String,
    /// Its design name, when it differs from the code name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design_name: Option<String>,
    /// The state.
    pub status: ComponentStatus,
    /// What changed, code findings first.
    pub findings: Vec<Finding>,
    /// Props both sides changed differently (by normalised name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conflicts: Vec<String>,
    /// Variants drawn in design that no story shows (axis=value lists).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub variants_without_story: Vec<String>,
}

/// A token whose value differs, or exists on one side only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenDrift {
    /// Dotted path.
    pub path: String,
    /// Code value (absent: not in code).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<Value>,
    /// Design value (absent: not in design).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<Value>,
    /// Where it changed since the base.
    pub origin: Origin,
}

/// Totals of a drift report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriftTotals {
    /// Components compared.
    pub components: usize,
    /// Components not in sync.
    pub drifted: usize,
    /// Components in conflict.
    pub conflicts: usize,
    /// Findings over all components.
    pub findings: usize,
    /// Design variants without a story.
    pub variants_without_story: usize,
    /// Tokens that differ.
    pub tokens: usize,
}

/// The result of a drift check.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    /// Totals.
    pub totals: DriftTotals,
    /// Per component, drifted first, then by name.
    pub components: Vec<ComponentDrift>,
    /// Token differences, by path.
    pub tokens: Vec<TokenDrift>,
}

impl DriftReport {
    /// Whether anything drifted (components, variants without stories, or tokens).
    pub fn has_drift(&self) -> bool {
        self.totals.drifted > 0 || self.totals.tokens > 0 || self.totals.variants_without_story > 0
    }
}

/// The last synced state of one component: both sides as they were.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BaseEntry {
    /// The code side at the last sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<DesignComponent>,
    /// The design side at the last sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<DesignComponent>,
}

/// The last synced mapping: per component (by normalised name) both sides, and tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Base {
    /// Components by normalised name.
    #[serde(default)]
    pub components: BTreeMap<String, BaseEntry>,
    /// Code tokens at the last sync, path to value.
    #[serde(default)]
    pub code_tokens: BTreeMap<String, Value>,
    /// Design tokens at the last sync, path to value.
    #[serde(default)]
    pub design_tokens: BTreeMap<String, Value>,
}

/// Both sides of a drift check.
#[derive(Debug, Clone, Default)]
pub struct Sides<'a> {
    /// Code components.
    pub code: &'a [DesignComponent],
    /// Design components.
    pub design: &'a [DesignComponent],
    /// Stories built from code, to find design variants without a story.
    pub stories: Option<&'a StoryIndex>,
    /// Code tokens.
    pub code_tokens: Option<&'a TokenSet>,
    /// Design tokens.
    pub design_tokens: Option<&'a TokenSet>,
}

/// Below this confidence two props are not taken for one renamed prop.
const RENAME_THRESHOLD: f64 = 0.5;

fn dice(a: &str, b: &str) -> f64 {
    let bigrams = |s: &str| -> Vec<(char, char)> {
        let cs: Vec<char> = s.chars().collect();
        cs.windows(2).map(|w| (w[0], w[1])).collect()
    };
    let (x, y) = (bigrams(a), bigrams(b));
    if x.is_empty() || y.is_empty() {
        return if a == b { 1.0 } else { 0.0 };
    }
    let mut y2 = y.clone();
    let mut common = 0;
    for g in &x {
        if let Some(i) = y2.iter().position(|h| h == g) {
            y2.swap_remove(i);
            common += 1;
        }
    }
    2.0 * common as f64 / (x.len() + y.len()) as f64
}

fn opt_key(v: &Value, cross: bool) -> String {
    if cross {
        normalise_name(&value_key(v))
    } else {
        value_key(v)
    }
}

fn option_similarity(a: &Prop, b: &Prop) -> f64 {
    let sa: BTreeSet<String> = a.options.iter().map(|v| opt_key(v, true)).collect();
    let sb: BTreeSet<String> = b.options.iter().map(|v| opt_key(v, true)).collect();
    let union = sa.union(&sb).count();
    if union == 0 {
        return 1.0;
    }
    sa.intersection(&sb).count() as f64 / union as f64
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Matches props of `a` to props of `b`: `(index in a, index in b, confidence)`,
/// confidence 1 for an exact name match.
fn match_props(a: &[Prop], b: &[Prop]) -> Vec<(usize, usize, f64)> {
    let mut pairs = Vec::new();
    let mut used_a = vec![false; a.len()];
    let mut used_b = vec![false; b.len()];
    for (i, p) in a.iter().enumerate() {
        if let Some(j) = b.iter().position(|q| q.name == p.name) {
            if !used_b[j] {
                pairs.push((i, j, 1.0));
                used_a[i] = true;
                used_b[j] = true;
            }
        }
    }
    for (i, p) in a.iter().enumerate() {
        if used_a[i] {
            continue;
        }
        let n = normalise_name(&p.name);
        if let Some(j) = (0..b.len()).find(|&j| !used_b[j] && normalise_name(&b[j].name) == n) {
            pairs.push((i, j, 0.95));
            used_a[i] = true;
            used_b[j] = true;
        }
    }
    // What is left: best pairs by option set and name, same kind, greedily.
    let mut cands = Vec::new();
    for (i, p) in a.iter().enumerate() {
        if used_a[i] {
            continue;
        }
        let same_kind_a = a.iter().enumerate().filter(|(k, q)| !used_a[*k] && q.kind == p.kind).count();
        for (j, q) in b.iter().enumerate() {
            if used_b[j] || q.kind != p.kind {
                continue;
            }
            let name = dice(&normalise_name(&p.name), &normalise_name(&q.name));
            let conf = if p.kind == PropKind::Variant {
                0.7 * option_similarity(p, q) + 0.3 * name
            } else {
                // Booleans, texts and slots carry no options: only a lone pair of one
                // kind on each side, or similar names, make a rename believable.
                let same_kind_b = b.iter().enumerate().filter(|(k, r)| !used_b[*k] && r.kind == q.kind).count();
                let lone = if same_kind_a == 1 && same_kind_b == 1 { 0.5 } else { 0.2 };
                lone + 0.5 * name
            };
            if conf >= RENAME_THRESHOLD {
                cands.push((conf, i, j));
            }
        }
    }
    cands.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    for (conf, i, j) in cands {
        if !used_a[i] && !used_b[j] {
            used_a[i] = true;
            used_b[j] = true;
            pairs.push((i, j, round2(conf.min(0.95))));
        }
    }
    pairs.sort_by_key(|&(i, _, _)| i);
    pairs
}

/// The changes that turn `a` into `b`. `cross`: `a` is code and `b` design, so names
/// and options are compared normalised and a normalised-name match is no rename.
pub fn diff_component(a: &DesignComponent, b: &DesignComponent, cross: bool) -> Vec<Change> {
    let mut out = Vec::new();
    let pairs = match_props(&a.props, &b.props);
    let mut matched_a = vec![false; a.props.len()];
    let mut matched_b = vec![false; b.props.len()];
    for &(i, j, conf) in &pairs {
        matched_a[i] = true;
        matched_b[j] = true;
        let (p, q) = (&a.props[i], &b.props[j]);
        let same_name = if cross { normalise_name(&p.name) == normalise_name(&q.name) } else { p.name == q.name };
        if !same_name {
            out.push(Change::PropRenamed { from: p.name.clone(), to: q.name.clone(), confidence: conf });
        }
        let name = q.name.clone();
        if p.kind != q.kind {
            out.push(Change::KindChanged { prop: name, from: p.kind, to: q.kind });
            continue;
        }
        if p.kind == PropKind::Variant {
            let ka: Vec<String> = p.options.iter().map(|v| opt_key(v, cross)).collect();
            let kb: Vec<String> = q.options.iter().map(|v| opt_key(v, cross)).collect();
            let removed: Vec<&Value> =
                p.options.iter().zip(&ka).filter(|(_, k)| !kb.contains(k)).map(|(v, _)| v).collect();
            let added: Vec<&Value> =
                q.options.iter().zip(&kb).filter(|(_, k)| !ka.contains(k)).map(|(v, _)| v).collect();
            if removed.len() == 1 && added.len() == 1 {
                let sim = dice(&normalise_name(&value_key(removed[0])), &normalise_name(&value_key(added[0])));
                out.push(Change::OptionRenamed {
                    prop: name.clone(),
                    from: removed[0].clone(),
                    to: added[0].clone(),
                    confidence: round2(0.6 + 0.35 * sim),
                });
            } else {
                for v in removed {
                    out.push(Change::OptionRemoved { prop: name.clone(), option: v.clone() });
                }
                for v in added {
                    out.push(Change::OptionAdded { prop: name.clone(), option: v.clone() });
                }
            }
        }
        if p.kind != PropKind::InstanceSwap {
            if let (Some(x), Some(y)) = (&p.default, &q.default) {
                if opt_key(x, cross) != opt_key(y, cross) {
                    out.push(Change::DefaultChanged { prop: name.clone(), from: x.clone(), to: y.clone() });
                }
            }
        }
    }
    for (i, p) in a.props.iter().enumerate() {
        if !matched_a[i] {
            out.push(Change::PropRemoved { prop: p.name.clone(), kind: p.kind });
        }
    }
    for (j, q) in b.props.iter().enumerate() {
        if !matched_b[j] {
            out.push(Change::PropAdded { prop: q.name.clone(), kind: q.kind });
        }
    }
    out
}

fn finding(origin: Origin, change: Change) -> Finding {
    Finding { message: change.describe(origin), origin, change }
}

/// The normalised names a change touches (both names for a rename).
fn touched(c: &Change) -> Vec<String> {
    match c {
        Change::PropRenamed { from, to, .. } => vec![normalise_name(from), normalise_name(to)],
        other => vec![normalise_name(other.prop())],
    }
}

fn same_digest(a: &DesignComponent, b: &DesignComponent) -> bool {
    matches!((a.digest(), b.digest()), (Ok(x), Ok(y)) if x == y)
}

fn compare(
    code: &DesignComponent,
    design: &DesignComponent,
    base: Option<&BaseEntry>,
) -> (ComponentStatus, Vec<Finding>, Vec<String>) {
    let cross = diff_component(code, design, true);
    if cross.is_empty() {
        return (ComponentStatus::InSync, Vec::new(), Vec::new());
    }
    let Some(BaseEntry { code: Some(bc), design: Some(bd) }) = base else {
        let findings = cross.into_iter().map(|c| finding(Origin::Unknown, c)).collect();
        return (ComponentStatus::Differs, findings, Vec::new());
    };
    let cc = if same_digest(bc, code) { Vec::new() } else { diff_component(bc, code, false) };
    let dc = if same_digest(bd, design) { Vec::new() } else { diff_component(bd, design, false) };
    if cc.is_empty() && dc.is_empty() {
        // The sides differed at the last sync already and neither moved: an accepted
        // difference (e.g. a code-only prop), not drift.
        return (ComponentStatus::InSync, Vec::new(), Vec::new());
    }
    let code_touch: BTreeSet<String> = cc.iter().flat_map(touched).collect();
    let design_touch: BTreeSet<String> = dc.iter().flat_map(touched).collect();
    // A prop both sides changed is a conflict unless the two sides now agree on it.
    let cross_touch: BTreeSet<String> = cross.iter().flat_map(touched).collect();
    let conflicts: Vec<String> =
        code_touch.intersection(&design_touch).filter(|n| cross_touch.contains(*n)).cloned().collect();
    let status = match (cc.is_empty(), dc.is_empty(), conflicts.is_empty()) {
        (_, _, false) => ComponentStatus::Conflict,
        (false, true, _) => ComponentStatus::ChangedInCode,
        (true, false, _) => ComponentStatus::ChangedInDesign,
        _ => ComponentStatus::ChangedInBoth,
    };
    let mut findings: Vec<Finding> = cc.into_iter().map(|c| finding(Origin::Code, c)).collect();
    findings.extend(dc.into_iter().map(|c| finding(Origin::Design, c)));
    (status, findings, conflicts)
}

fn token_map(set: Option<&TokenSet>) -> BTreeMap<String, Value> {
    let Some(set) = set else { return BTreeMap::new() };
    // A Tokens Studio file with one set: paths without the set name, as W3C files have.
    let mut firsts: BTreeSet<&str> = BTreeSet::new();
    for t in &set.tokens {
        firsts.insert(t.path.split('.').next().unwrap_or(""));
    }
    let strip = set.format == TokenFormat::TokensStudio && firsts.len() == 1;
    set.tokens
        .iter()
        .map(|t| {
            let p = if strip { t.path.split_once('.').map_or(t.path.as_str(), |(_, r)| r) } else { t.path.as_str() };
            (p.to_string(), t.value.clone())
        })
        .collect()
}

fn token_eq(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => value_key(x) == value_key(y),
        (None, None) => true,
        _ => false,
    }
}

/// Drift between the two sides against `base` (empty base: two-way comparison).
pub fn detect(sides: &Sides<'_>, base: &Base) -> Result<DriftReport> {
    let mut report = DriftReport::default();
    let design_by: BTreeMap<String, &DesignComponent> =
        sides.design.iter().map(|d| (normalise_name(&d.name), d)).collect();
    let code_by: BTreeMap<String, &DesignComponent> = sides.code.iter().map(|c| (normalise_name(&c.name), c)).collect();
    let tables = owner_tables(sides.code);
    let mut names: BTreeSet<&String> = design_by.keys().collect();
    names.extend(code_by.keys());
    for key in names {
        let base_entry = base.components.get(key);
        let (code, design) = (code_by.get(key).copied(), design_by.get(key).copied());
        let mut cd = match (code, design) {
            (Some(c), Some(d)) => {
                let (status, findings, conflicts) = compare(c, d, base_entry);
                ComponentDrift {
                    component: c.name.clone(),
                    design_name: (d.name != c.name).then(|| d.name.clone()),
                    status,
                    findings,
                    conflicts,
                    variants_without_story: Vec::new(),
                }
            }
            (Some(c), None) => ComponentDrift {
                component: c.name.clone(),
                design_name: None,
                status: ComponentStatus::OnlyInCode,
                findings: Vec::new(),
                conflicts: Vec::new(),
                variants_without_story: Vec::new(),
            },
            (None, Some(d)) => ComponentDrift {
                component: d.name.clone(),
                design_name: None,
                status: ComponentStatus::OnlyInDesign,
                findings: Vec::new(),
                conflicts: Vec::new(),
                variants_without_story: Vec::new(),
            },
            (None, None) => unreachable!("the name came from one of the sides"),
        };
        if let (Some(ix), Some(d)) = (sides.stories, design) {
            cd.variants_without_story = variants_without_story(d, code, ix, &tables);
        }
        report.components.push(cd);
    }
    report.components.sort_by(|a, b| {
        (a.status == ComponentStatus::InSync && a.variants_without_story.is_empty())
            .cmp(&(b.status == ComponentStatus::InSync && b.variants_without_story.is_empty()))
            .then_with(|| a.component.cmp(&b.component))
    });

    if sides.code_tokens.is_some() || sides.design_tokens.is_some() {
        let (ct, dt) = (token_map(sides.code_tokens), token_map(sides.design_tokens));
        let has_base = !base.code_tokens.is_empty() || !base.design_tokens.is_empty();
        let mut paths: BTreeSet<&String> = ct.keys().collect();
        paths.extend(dt.keys());
        for p in paths {
            let (c, d) = (ct.get(p), dt.get(p));
            if token_eq(c, d) {
                continue;
            }
            let origin = if !has_base {
                Origin::Unknown
            } else if token_eq(base.code_tokens.get(p), c) {
                Origin::Design
            } else if token_eq(base.design_tokens.get(p), d) {
                Origin::Code
            } else {
                Origin::Unknown
            };
            report.tokens.push(TokenDrift { path: p.clone(), code: c.cloned(), design: d.cloned(), origin });
        }
    }

    let t = &mut report.totals;
    t.components = report.components.len();
    for c in &report.components {
        t.drifted += usize::from(c.status != ComponentStatus::InSync);
        t.conflicts += usize::from(c.status == ComponentStatus::Conflict);
        t.findings += c.findings.len();
        t.variants_without_story += c.variants_without_story.len();
    }
    t.tokens = report.tokens.len();
    Ok(report)
}

/// Design variants (drawn children, or every combination when none are drawn) that no
/// story of the matching code component shows.
fn variants_without_story(
    design: &DesignComponent,
    code: Option<&DesignComponent>,
    index: &StoryIndex,
    tables: &(std::collections::HashMap<String, usize>, std::collections::HashMap<String, usize>),
) -> Vec<String> {
    if design.variants.is_empty() {
        return Vec::new();
    }
    // Stories are named after code props; read them against the code component when
    // there is one, else against the design component itself.
    let reader = code.unwrap_or(design);
    let owner_name = normalise_name(&reader.name);
    let mut shown: BTreeSet<Vec<(String, String)>> = BTreeSet::new();
    let story_reader = StoryReader::new(reader);
    for e in index.stories() {
        let owner = owner_of(e, &tables.0, &tables.1);
        let belongs = match owner {
            Some(_) => {
                let last = e.title.rsplit('/').next().unwrap_or(&e.title);
                normalise_name(last) == owner_name || reader.title.as_deref() == Some(e.title.as_str())
            }
            None => normalise_name(e.title.rsplit('/').next().unwrap_or(&e.title)) == owner_name,
        };
        if !belongs {
            continue;
        }
        if let Some(args) = story_reader.parse(&e.id) {
            shown.insert(full_assignment(reader, &args));
        }
    }
    let mut missing = Vec::new();
    for v in &design.variants {
        // Design axis names map to code axis names by normalised name.
        let mut args = serde_json::Map::new();
        for (k, val) in v {
            let nk = normalise_name(k);
            let axis = reader.props.iter().find(|p| p.kind.is_axis() && normalise_name(&p.name) == nk);
            if let Some(p) = axis {
                let nv = normalise_name(&value_key(val));
                let opt = p.options.iter().find(|o| normalise_name(&value_key(o)) == nv).cloned();
                args.insert(p.name.clone(), opt.unwrap_or_else(|| val.clone()));
            }
        }
        if !shown.contains(&full_assignment(reader, &args)) {
            let label: Vec<String> = v.iter().map(|(k, val)| format!("{k}={}", option_text(val))).collect();
            missing.push(label.join(", "));
        }
    }
    missing
}

/// Every axis's value (given or default) as normalised text, in axis order.
fn full_assignment(c: &DesignComponent, args: &serde_json::Map<String, Value>) -> Vec<(String, String)> {
    c.props
        .iter()
        .filter(|p| p.kind.is_axis())
        .map(|p| {
            let v = args.get(&p.name).or(p.options.get(p.default_index()));
            (normalise_name(&p.name), v.map(|v| normalise_name(&value_key(v))).unwrap_or_default())
        })
        .collect()
}
