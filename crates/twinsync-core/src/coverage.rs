//! Coverage of component variants by stories and tests.
//!
//! This module owns the arithmetic behind `twinsync design coverage`: given components
//! with variant axes, stories that assign values to those axes, and tests, it reports
//! per component how many variants exist, how many a story shows, which are missing,
//! which kinds of test are missing, and what in the input looks wrong.
//!
//! Rules (each one a decision users can rely on):
//!
//! - A component's variants are every combination of its axes' options; a boolean prop
//!   is an axis with options `true` and `false`. No axes: exactly one variant.
//! - A story covers exactly one variant: the axes it assigns take its values, the rest
//!   take their axis's `default` (the first option unless given). A story that names an
//!   axis the component does not have, or a value that is not one of the axis's
//!   options, covers nothing and is reported as a warning. Values match when equal as
//!   JSON or as text (`"true"` matches `true`, `"2"` matches `2`), since story args often
//!   arrive as strings. Callers pass only variant props in `args`, not every story arg.
//! - Two or more stories for one variant: the variant counts once and a warning names
//!   the stories.
//! - Test kinds: `interaction` from a story with a play function or an `interaction` /
//!   `play-fn` tag, or an interaction test; `visual` from a `visual` / `chromatic` tag or
//!   a visual test; `a11y` from an `a11y` tag or an a11y test; `unit` from unit tests.
//!   Missing kinds are those in [`CoverageOptions::required_kinds`] not present.
//! - Percentages are floored to hundredths, so 99.999 % never shows as 100.
//!
//! Each component's result is keyed by its *variant hash*: the digest of the canonical
//! JSON of the component, its stories, its tests and the options. [`compute_cached`]
//! reuses results whose hash is in a [`CoverageCache`] ([`StoreCoverageCache`] keeps them
//! in the store under namespace [`CACHE_NAMESPACE`]).

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::canonical::{hash_json, CanonicalError, CanonicalOptions};
use crate::digest::Digest;
use crate::store::{Store, StoreError};

/// Store key-value namespace of the coverage cache.
pub const CACHE_NAMESPACE: &str = "coverage";

/// Bumped when the result shape or rules change, so old cache entries miss.
const CACHE_SCHEMA: u32 = 1;

/// Everything coverage is computed from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CoverageInput {
    /// Components and their variant axes.
    #[serde(default)]
    pub components: Vec<Component>,
    /// Stories, each for one component.
    #[serde(default)]
    pub stories: Vec<Story>,
    /// Tests, each for one component (and optionally one story).
    #[serde(default)]
    pub tests: Vec<TestRecord>,
}

/// A component and the axes its variants vary along.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Component {
    /// Unique name (`Button`).
    pub name: String,
    /// Where it is defined (`src/Button.tsx`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Variant axes; none means a single variant. Shared (`vec![..].into()` builds it) so
    /// results can point at the axes without copying them.
    #[serde(default, with = "shared_axes")]
    pub axes: Arc<[Axis]>,
}

mod shared_axes {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Axis;

    pub fn serialize<S: Serializer>(axes: &Arc<[Axis]>, s: S) -> Result<S::Ok, S::Error> {
        axes.as_ref().serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<[Axis]>, D::Error> {
        Vec::<Axis>::deserialize(d).map(Arc::from)
    }
}

/// One dimension of variation (`size: sm | md | lg`, `disabled: true | false`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// Prop name.
    pub name: String,
    /// Allowed values: strings, numbers or booleans.
    pub options: Vec<Value>,
    /// The value a story that does not assign this axis shows (default: the first option).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

/// A story: one rendered state of a component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Story {
    /// Unique id (`button--primary`).
    pub id: String,
    /// Storybook title (`Forms/Button`).
    #[serde(default)]
    pub title: String,
    /// Display name (`Primary`).
    #[serde(default)]
    pub name: String,
    /// The component's name.
    pub component: String,
    /// Axis values this story shows, axis name to value.
    #[serde(default, alias = "variant")]
    pub args: Map<String, Value>,
    /// Storybook tags (`a11y`, `visual`, `play-fn`, ...).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Whether the story has a play function.
    #[serde(default)]
    pub has_play: bool,
}

/// A kind of test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum TestKind {
    /// Drives the component (a play function or an interaction test).
    Interaction,
    /// Compares screenshots.
    Visual,
    /// Checks accessibility.
    A11y,
    /// Tests logic without rendering.
    Unit,
}

impl TestKind {
    /// The kinds, in order.
    pub const ALL: [TestKind; 4] = [TestKind::Interaction, TestKind::Visual, TestKind::A11y, TestKind::Unit];

    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            TestKind::Interaction => "interaction",
            TestKind::Visual => "visual",
            TestKind::A11y => "a11y",
            TestKind::Unit => "unit",
        }
    }
}

impl fmt::Display for TestKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of test kinds; serialises as a list in [`TestKind::ALL`] order.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct TestKinds(u8);

impl TestKinds {
    /// The empty set.
    pub const fn new() -> Self {
        TestKinds(0)
    }
    /// Whether `kind` is in the set.
    pub const fn contains(self, kind: TestKind) -> bool {
        self.0 & (1 << kind as u8) != 0
    }
    /// Adds `kind`.
    pub fn insert(&mut self, kind: TestKind) {
        self.0 |= 1 << kind as u8;
    }
    /// The kinds in the set, in order.
    pub fn iter(self) -> impl Iterator<Item = TestKind> {
        TestKind::ALL.into_iter().filter(move |k| self.contains(*k))
    }
    /// How many kinds are in the set.
    pub const fn len(self) -> usize {
        self.0.count_ones() as usize
    }
    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
    /// The kinds as a vector.
    pub fn to_vec(self) -> Vec<TestKind> {
        self.iter().collect()
    }
}

impl FromIterator<TestKind> for TestKinds {
    fn from_iter<I: IntoIterator<Item = TestKind>>(iter: I) -> Self {
        let mut set = TestKinds::new();
        for k in iter {
            set.insert(k);
        }
        set
    }
}

impl fmt::Debug for TestKinds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for TestKinds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for TestKinds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Vec::<TestKind>::deserialize(d)?.into_iter().collect())
    }
}

/// A test found for a component.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TestRecord {
    /// The component's name.
    pub component: String,
    /// The story it exercises, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story_id: Option<String>,
    /// What kind of test.
    pub kind: TestKind,
}

/// Knobs of a coverage run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CoverageOptions {
    /// Most missing variants listed per component; the total is always given (default 20).
    pub missing_limit: usize,
    /// Test kinds every component should have (default interaction, visual, a11y).
    pub required_kinds: Vec<TestKind>,
}

impl Default for CoverageOptions {
    fn default() -> Self {
        CoverageOptions {
            missing_limit: 20,
            required_kinds: vec![TestKind::Interaction, TestKind::Visual, TestKind::A11y],
        }
    }
}

/// Something in the input that does not add up; coverage is still computed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CoverageWarning {
    /// A story assigns an axis its component does not have; it covers nothing.
    UnknownAxis {
        /// The story.
        story_id: String,
        /// The axis it names.
        axis: String,
    },
    /// A story assigns a value that is not one of the axis's options; it covers nothing.
    UnknownOption {
        /// The story.
        story_id: String,
        /// The axis.
        axis: String,
        /// The value it assigns.
        value: Value,
    },
    /// Several stories show the same variant.
    DuplicateStories {
        /// The variant, axis to value.
        variant: Variant,
        /// The stories, in input order.
        story_ids: Vec<String>,
    },
    /// A story names a component that is not in the input.
    StoryForUnknownComponent {
        /// The story.
        story_id: String,
        /// The component it names.
        component: String,
    },
    /// A test names a component that is not in the input.
    TestForUnknownComponent {
        /// The component it names.
        component: String,
        /// The test's kind.
        test_kind: TestKind,
    },
    /// A test names a story its component does not have.
    TestForUnknownStory {
        /// The component.
        component: String,
        /// The story it names.
        story_id: String,
    },
}

impl fmt::Display for CoverageWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CoverageWarning::UnknownAxis { story_id, axis } => {
                write!(f, "story {story_id:?} sets {axis:?}, which is not a variant axis of its component")
            }
            CoverageWarning::UnknownOption { story_id, axis, value } => {
                write!(f, "story {story_id:?} sets {axis:?} to {value}, which is not one of its options")
            }
            CoverageWarning::DuplicateStories { variant, story_ids } => {
                write!(f, "stories {story_ids:?} all show variant {variant}")
            }
            CoverageWarning::StoryForUnknownComponent { story_id, component } => {
                write!(f, "story {story_id:?} is for component {component:?}, which is not known")
            }
            CoverageWarning::TestForUnknownComponent { component, test_kind } => {
                write!(f, "a {test_kind} test is for component {component:?}, which is not known")
            }
            CoverageWarning::TestForUnknownStory { component, story_id } => {
                write!(f, "a test of {component:?} names story {story_id:?}, which that component does not have")
            }
        }
    }
}

/// One variant: a value for every axis of its component, in axis order. Serialises as
/// a JSON object from axis name to value.
#[derive(Clone)]
pub struct Variant {
    axes: Arc<[Axis]>,
    /// Option index per axis, at `start..start + axes.len()`; the variants of one
    /// component share one buffer.
    picks: Arc<[u32]>,
    start: usize,
}

impl Variant {
    /// A variant from axis/value pairs (as read back from JSON).
    pub fn from_pairs(pairs: impl IntoIterator<Item = (String, Value)>) -> Self {
        let axes: Arc<[Axis]> =
            pairs.into_iter().map(|(name, v)| Axis { name, options: vec![v], default: None }).collect();
        let picks = vec![0u32; axes.len()].into();
        Variant { axes, picks, start: 0 }
    }
    /// Axis name and value pairs, in axis order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> + '_ {
        let picks = &self.picks[self.start..self.start + self.axes.len()];
        self.axes.iter().zip(picks).map(|(a, &p)| (a.name.as_str(), &a.options[p as usize]))
    }
    /// The value of `axis`.
    pub fn get(&self, axis: &str) -> Option<&Value> {
        self.iter().find(|(n, _)| *n == axis).map(|(_, v)| v)
    }
    /// As a JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        self.iter().map(|(n, v)| (n.to_string(), v.clone())).collect()
    }
}

impl PartialEq for Variant {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl fmt::Debug for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("{")?;
        for (i, (n, v)) in self.iter().enumerate() {
            write!(f, "{}{n}={v}", if i == 0 { "" } else { ", " })?;
        }
        f.write_str("}")
    }
}

impl Serialize for Variant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.axes.len()))?;
        for (n, v) in self.iter() {
            m.serialize_entry(n, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Variant {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Variant::from_pairs(Map::<String, Value>::deserialize(d)?))
    }
}

/// Variants of one component in variant order, sharing the component's axes and one
/// buffer of option indices (so a long list costs two allocations, not one per entry).
/// Serialises as a list of objects from axis name to value.
#[derive(Clone)]
pub struct VariantList {
    axes: Arc<[Axis]>,
    picks: Arc<[u32]>,
    len: usize,
}

impl VariantList {
    /// Number of variants.
    pub fn len(&self) -> usize {
        self.len
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// The variant at `i`.
    pub fn get(&self, i: usize) -> Option<Variant> {
        (i < self.len).then(|| Variant {
            axes: Arc::clone(&self.axes),
            picks: Arc::clone(&self.picks),
            start: i * self.axes.len(),
        })
    }
    /// The variants, in order.
    pub fn iter(&self) -> impl Iterator<Item = Variant> + '_ {
        (0..self.len).filter_map(|i| self.get(i))
    }
    fn view(&self, i: usize) -> impl Iterator<Item = (&str, &Value)> + '_ {
        let k = self.axes.len();
        self.axes.iter().zip(&self.picks[i * k..(i + 1) * k]).map(|(a, &p)| (a.name.as_str(), &a.options[p as usize]))
    }
}

impl Default for VariantList {
    fn default() -> Self {
        VariantList { axes: Arc::from([]), picks: Arc::from([]), len: 0 }
    }
}

impl PartialEq for VariantList {
    fn eq(&self, other: &Self) -> bool {
        self.len == other.len && (0..self.len).all(|i| self.view(i).eq(other.view(i)))
    }
}

impl fmt::Debug for VariantList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl Serialize for VariantList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        struct Entry<'a>(&'a VariantList, usize);
        impl Serialize for Entry<'_> {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.axes.len()))?;
                for (n, v) in self.0.view(self.1) {
                    m.serialize_entry(n, v)?;
                }
                m.end()
            }
        }
        let mut seq = s.serialize_seq(Some(self.len))?;
        for i in 0..self.len {
            seq.serialize_element(&Entry(self, i))?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for VariantList {
    /// Rebuilds the shared axes from the entries; every entry must name the same axes.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let maps = Vec::<Map<String, Value>>::deserialize(d)?;
        let Some(first) = maps.first() else { return Ok(VariantList::default()) };
        let mut axes: Vec<Axis> =
            first.keys().map(|k| Axis { name: k.clone(), options: Vec::new(), default: None }).collect();
        let mut picks = Vec::with_capacity(maps.len() * axes.len());
        for m in &maps {
            if m.len() != axes.len() {
                return Err(serde::de::Error::custom("every variant in a list must name the same axes"));
            }
            for a in axes.iter_mut() {
                let v = m
                    .get(&a.name)
                    .ok_or_else(|| serde::de::Error::custom(format!("variant lacks axis {:?}", a.name)))?;
                let p = a.options.iter().position(|o| o == v).unwrap_or_else(|| {
                    a.options.push(v.clone());
                    a.options.len() - 1
                });
                picks.push(p as u32);
            }
        }
        Ok(VariantList { axes: axes.into(), picks: picks.into(), len: maps.len() })
    }
}

/// Coverage of one component.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ComponentCoverage {
    /// The component's name.
    pub component: String,
    /// Where it is defined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Digest of the inputs this result was computed from: the cache key, present when
    /// computed through [`compute_cached`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant_hash: Option<Digest>,
    /// Number of variants (product of the axes' option counts).
    pub total_variants: u64,
    /// Variants shown by at least one story.
    pub covered_variants: u64,
    /// `covered / total` in percent, floored to hundredths.
    pub percent: f64,
    /// Stories of this component.
    pub stories: usize,
    /// Variants no story shows, axis to value, at most `missing_limit` of them.
    pub missing_variants: VariantList,
    /// How many variants are missing in all (`total - covered`).
    pub missing_variants_total: u64,
    /// Test kinds present.
    pub test_kinds: TestKinds,
    /// Required test kinds not present.
    pub missing_test_kinds: TestKinds,
    /// Problems in this component's stories and tests.
    pub warnings: Vec<CoverageWarning>,
}

/// Figures over all components.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CoverageTotals {
    /// Components.
    pub components: usize,
    /// Variants over all components.
    pub total_variants: u64,
    /// Covered variants over all components.
    pub covered_variants: u64,
    /// `covered / total` in percent, floored to hundredths (100 with no components).
    pub percent: f64,
    /// Stories matched to a known component.
    pub stories: usize,
    /// Components with every variant covered.
    pub fully_covered_components: usize,
    /// Components missing at least one required test kind.
    pub components_missing_test_kinds: usize,
    /// Warnings, component ones included.
    pub warnings: usize,
}

/// The coverage of a set of components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct CoverageReport {
    /// Figures over all components.
    pub totals: CoverageTotals,
    /// Per component, worst first: lowest percent, then most missing test kinds, then most
    /// missing variants, then name.
    pub components: Vec<ComponentCoverage>,
    /// Problems not tied to a known component.
    pub warnings: Vec<CoverageWarning>,
}

/// How a cached run went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheStats {
    /// Components whose result came from the cache.
    pub hits: usize,
    /// Components computed (and stored).
    pub misses: usize,
}

/// Input coverage cannot be computed from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CoverageError {
    /// A component definition is malformed.
    #[error("component {component:?}: {problem}")]
    InvalidComponent {
        /// The component.
        component: String,
        /// What is wrong.
        problem: String,
    },
    /// Two components share a name.
    #[error("component {0:?} is defined more than once")]
    DuplicateComponent(String),
    /// A story without an id.
    #[error("a story of component {component:?} (title {title:?}, name {name:?}) has an empty id")]
    StoryWithoutId {
        /// Its component.
        component: String,
        /// Its title.
        title: String,
        /// Its name.
        name: String,
    },
    /// A component's inputs could not be hashed for the cache.
    #[error("component {component:?}: cannot hash its inputs: {source}")]
    Hash {
        /// The component.
        component: String,
        /// Why.
        source: CanonicalError,
    },
    /// The cache failed.
    #[error("coverage cache: {0}")]
    Cache(#[from] StoreError),
}

/// Where computed component coverage is kept between runs, by variant hash.
pub trait CoverageCache {
    /// The cached result for `hash`, if any.
    fn get(&mut self, hash: &Digest) -> Result<Option<ComponentCoverage>, StoreError>;
    /// Keeps `coverage` under `hash`.
    fn put(&mut self, hash: &Digest, coverage: &ComponentCoverage) -> Result<(), StoreError>;
}

/// A cache in memory, for one process.
#[derive(Debug, Clone, Default)]
pub struct MemoryCoverageCache(HashMap<Digest, ComponentCoverage>);

impl MemoryCoverageCache {
    /// An empty cache.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Whether it is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl CoverageCache for MemoryCoverageCache {
    fn get(&mut self, hash: &Digest) -> Result<Option<ComponentCoverage>, StoreError> {
        Ok(self.0.get(hash).cloned())
    }
    fn put(&mut self, hash: &Digest, coverage: &ComponentCoverage) -> Result<(), StoreError> {
        self.0.insert(*hash, coverage.clone());
        Ok(())
    }
}

/// A cache in the store's key-value space (namespace [`CACHE_NAMESPACE`], key the hash's
/// hex, value the result's JSON). An entry that no longer decodes counts as a miss.
pub struct StoreCoverageCache<'a>(pub &'a mut dyn Store);

impl fmt::Debug for StoreCoverageCache<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StoreCoverageCache")
    }
}

impl CoverageCache for StoreCoverageCache<'_> {
    fn get(&mut self, hash: &Digest) -> Result<Option<ComponentCoverage>, StoreError> {
        Ok(self.0.kv_get(CACHE_NAMESPACE, &hash.to_hex())?.and_then(|b| serde_json::from_slice(&b).ok()))
    }
    fn put(&mut self, hash: &Digest, coverage: &ComponentCoverage) -> Result<(), StoreError> {
        let bytes = serde_json::to_vec(coverage).map_err(|e| StoreError::Backend(e.to_string()))?;
        self.0.kv_put(CACHE_NAMESPACE, &hash.to_hex(), &bytes)
    }
}

/// Computes coverage of every component in `input`.
pub fn compute(input: &CoverageInput, opts: &CoverageOptions) -> Result<CoverageReport, CoverageError> {
    run(input, opts, None).map(|(r, _)| r)
}

/// Computes coverage, taking each component's result from `cache` when its variant hash
/// is there and storing the ones it computes.
///
/// Hashing a component's inputs canonically costs more than computing its coverage
/// (about 3x in the `coverage` bench), so this pays off where results are shared
/// between processes through the store, not as a speed-up within one run;
/// [`compute`] is the fast path.
pub fn compute_cached(
    input: &CoverageInput,
    opts: &CoverageOptions,
    cache: &mut dyn CoverageCache,
) -> Result<(CoverageReport, CacheStats), CoverageError> {
    run(input, opts, Some(cache))
}

/// The variant hash of one component with its stories and tests under `opts`.
pub fn variant_hash(
    component: &Component,
    stories: &[&Story],
    tests: &[&TestRecord],
    opts: &CoverageOptions,
) -> Result<Digest, CoverageError> {
    #[derive(Serialize)]
    struct HashDoc<'a> {
        schema: u32,
        component: &'a Component,
        stories: &'a [&'a Story],
        tests: &'a [&'a TestRecord],
        options: &'a CoverageOptions,
    }
    let doc = HashDoc { schema: CACHE_SCHEMA, component, stories, tests, options: opts };
    let hash_error = |source| CoverageError::Hash { component: component.name.clone(), source };
    // Serialised straight to bytes and canonicalised by the streaming hasher: the same
    // digest as `hash_value` of the equivalent `Value`, without building that tree.
    let bytes = serde_json::to_vec(&doc)
        .map_err(|e| hash_error(CanonicalError::new("", crate::canonical::ErrorKind::Syntax(e.to_string()))))?;
    hash_json(&bytes, &CanonicalOptions::default()).map_err(hash_error)
}

fn run(
    input: &CoverageInput,
    opts: &CoverageOptions,
    mut cache: Option<&mut dyn CoverageCache>,
) -> Result<(CoverageReport, CacheStats), CoverageError> {
    let mut by_name: HashMap<&str, usize> = HashMap::with_capacity(input.components.len());
    for (i, c) in input.components.iter().enumerate() {
        if by_name.insert(c.name.as_str(), i).is_some() {
            return Err(CoverageError::DuplicateComponent(c.name.clone()));
        }
    }
    // Stories and tests grouped by component in two flat lists (a stable counting sort),
    // rather than one small vector per component.
    let mut story_owner = Vec::with_capacity(input.stories.len());
    let mut warnings = Vec::new();
    for s in &input.stories {
        if s.id.is_empty() {
            return Err(CoverageError::StoryWithoutId {
                component: s.component.clone(),
                title: s.title.clone(),
                name: s.name.clone(),
            });
        }
        let owner = by_name.get(s.component.as_str()).copied();
        if owner.is_none() {
            warnings.push(CoverageWarning::StoryForUnknownComponent {
                story_id: s.id.clone(),
                component: s.component.clone(),
            });
        }
        story_owner.push(owner);
    }
    let test_owner: Vec<Option<usize>> = input
        .tests
        .iter()
        .map(|t| {
            let owner = by_name.get(t.component.as_str()).copied();
            if owner.is_none() {
                warnings.push(CoverageWarning::TestForUnknownComponent {
                    component: t.component.clone(),
                    test_kind: t.kind,
                });
            }
            owner
        })
        .collect();
    let n = input.components.len();
    let (stories, story_at) = group(&input.stories, &story_owner, n);
    let (tests, test_at) = group(&input.tests, &test_owner, n);

    let mut stats = CacheStats::default();
    let mut scratch = Scratch::default();
    let mut components = Vec::with_capacity(n);
    for (i, c) in input.components.iter().enumerate() {
        let (st, ts) = (&stories[story_at[i]..story_at[i + 1]], &tests[test_at[i]..test_at[i + 1]]);
        let result = match cache.as_deref_mut() {
            None => cover_component(c, st, ts, opts, None, &mut scratch)?,
            Some(cache) => {
                let hash = variant_hash(c, st, ts, opts)?;
                match cache.get(&hash)? {
                    Some(hit) => {
                        stats.hits += 1;
                        hit
                    }
                    None => {
                        stats.misses += 1;
                        let computed = cover_component(c, st, ts, opts, Some(hash), &mut scratch)?;
                        cache.put(&hash, &computed)?;
                        computed
                    }
                }
            }
        };
        components.push(result);
    }
    // Names are unique, so the order is total and an in-place unstable sort is exact.
    components.sort_unstable_by(|a, b| {
        a.percent
            .total_cmp(&b.percent)
            .then(b.missing_test_kinds.len().cmp(&a.missing_test_kinds.len()))
            .then(b.missing_variants_total.cmp(&a.missing_variants_total))
            .then_with(|| a.component.cmp(&b.component))
    });
    let mut totals = CoverageTotals { components: components.len(), warnings: warnings.len(), ..Default::default() };
    for c in &components {
        totals.total_variants = totals.total_variants.saturating_add(c.total_variants);
        totals.covered_variants = totals.covered_variants.saturating_add(c.covered_variants);
        totals.stories += c.stories;
        totals.fully_covered_components += usize::from(c.covered_variants == c.total_variants);
        totals.components_missing_test_kinds += usize::from(!c.missing_test_kinds.is_empty());
        totals.warnings += c.warnings.len();
    }
    totals.percent = percent(totals.covered_variants, totals.total_variants);
    Ok((CoverageReport { totals, components, warnings }, stats))
}

/// Items grouped by owner index in input order, and where each owner's run starts
/// (`starts[i]..starts[i + 1]`); items without an owner are left out.
fn group<'a, T>(items: &'a [T], owner: &[Option<usize>], n: usize) -> (Vec<&'a T>, Vec<usize>) {
    let mut starts = vec![0usize; n + 1];
    for o in owner.iter().flatten() {
        starts[o + 1] += 1;
    }
    for i in 0..n {
        starts[i + 1] += starts[i];
    }
    let mut next = starts.clone();
    let mut out: Vec<Option<&T>> = vec![None; starts[n]];
    for (item, o) in items.iter().zip(owner) {
        if let Some(o) = *o {
            out[next[o]] = Some(item);
            next[o] += 1;
        }
    }
    (out.into_iter().flatten().collect(), starts)
}

/// Buffers reused from one component to the next.
#[derive(Default)]
struct Scratch {
    defaults: Vec<usize>,
    picks: Vec<usize>,
    /// (variant index, story index) of every story that matches a variant.
    shown: Vec<(u64, usize)>,
    /// Option indices of the missing variants found so far, axis by axis.
    missing: Vec<u32>,
    /// The variant being visited, as option indices (a mixed-radix counter).
    digits: Vec<u32>,
}

/// Floored hundredths of a percent; an empty set counts as fully covered.
fn percent(covered: u64, total: u64) -> f64 {
    if total == 0 {
        return 100.0;
    }
    ((covered as u128 * 10_000) / total as u128) as f64 / 100.0
}

/// Equal as JSON, or as text when one side is a string (`"true"` = `true`, `"2"` = `2`).
fn same_value(option: &Value, v: &Value) -> bool {
    if option == v {
        return true;
    }
    match (option, v) {
        (Value::String(s), Value::Bool(b)) | (Value::Bool(b), Value::String(s)) => {
            s == if *b { "true" } else { "false" }
        }
        (Value::String(s), Value::Number(n)) | (Value::Number(n), Value::String(s)) => *s == n.to_string(),
        (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
        _ => false,
    }
}

fn invalid(component: &Component, problem: String) -> CoverageError {
    CoverageError::InvalidComponent { component: component.name.clone(), problem }
}

/// Checks the component; fills `defaults` with each axis's default option index and
/// returns the variant count.
fn validate(c: &Component, defaults: &mut Vec<usize>) -> Result<u64, CoverageError> {
    if c.name.trim().is_empty() {
        return Err(invalid(c, "the name is empty".into()));
    }
    defaults.clear();
    let mut total: u64 = 1;
    for (i, a) in c.axes.iter().enumerate() {
        if a.name.is_empty() {
            return Err(invalid(c, "an axis has an empty name".into()));
        }
        // Quadratic, but components have a handful of axes and this allocates nothing.
        if c.axes[..i].iter().any(|b| b.name == a.name) {
            return Err(invalid(c, format!("axis {:?} is listed more than once", a.name)));
        }
        if a.options.is_empty() {
            return Err(invalid(c, format!("axis {:?} has no options", a.name)));
        }
        for (i, o) in a.options.iter().enumerate() {
            if !matches!(o, Value::String(_) | Value::Bool(_) | Value::Number(_)) {
                return Err(invalid(c, format!("axis {:?}: option {o} is not a string, number or boolean", a.name)));
            }
            if a.options[..i].iter().any(|p| same_value(p, o)) {
                return Err(invalid(c, format!("axis {:?}: option {o} is listed more than once", a.name)));
            }
        }
        defaults.push(match &a.default {
            None => 0,
            Some(d) => a
                .options
                .iter()
                .position(|o| same_value(o, d))
                .ok_or_else(|| invalid(c, format!("axis {:?}: default {d} is not one of its options", a.name)))?,
        });
        total = total
            .checked_mul(a.options.len() as u64)
            .ok_or_else(|| invalid(c, "has more than 2^64 variants".into()))?;
    }
    Ok(total)
}

/// The variants at `indices` (mixed radix, first axis most significant), sharing `axes`
/// and one buffer of option indices built in a single allocation.
fn variants_at(axes: &Arc<[Axis]>, indices: &[u64]) -> Vec<Variant> {
    let k = axes.len();
    if k == 0 {
        let picks: Arc<[u32]> = Arc::from([]);
        return indices
            .iter()
            .map(|_| Variant { axes: Arc::clone(axes), picks: Arc::clone(&picks), start: 0 })
            .collect();
    }
    let picks: Arc<[u32]> = (0..indices.len() * k)
        .map(|j| {
            let stride: u64 = axes[j % k + 1..].iter().map(|a| a.options.len() as u64).product();
            ((indices[j / k] / stride) % axes[j % k].options.len() as u64) as u32
        })
        .collect();
    (0..indices.len()).map(|v| Variant { axes: Arc::clone(axes), picks: Arc::clone(&picks), start: v * k }).collect()
}

fn has_tag(s: &Story, tags: &[&str]) -> bool {
    s.tags.iter().any(|t| tags.iter().any(|w| t.eq_ignore_ascii_case(w)))
}

fn cover_component(
    c: &Component,
    stories: &[&Story],
    tests: &[&TestRecord],
    opts: &CoverageOptions,
    variant_hash: Option<Digest>,
    scratch: &mut Scratch,
) -> Result<ComponentCoverage, CoverageError> {
    let total = validate(c, &mut scratch.defaults)?;
    let Scratch { defaults, picks, shown, missing, digits } = scratch;
    let mut warnings = Vec::new();
    shown.clear();
    picks.clear();
    picks.extend_from_slice(defaults);
    for (si, s) in stories.iter().enumerate() {
        picks.copy_from_slice(defaults);
        let mut matches = true;
        for (axis, value) in &s.args {
            let Some(ai) = c.axes.iter().position(|a| a.name == *axis) else {
                warnings.push(CoverageWarning::UnknownAxis { story_id: s.id.clone(), axis: axis.clone() });
                matches = false;
                continue;
            };
            match c.axes[ai].options.iter().position(|o| same_value(o, value)) {
                Some(oi) => picks[ai] = oi,
                None => {
                    warnings.push(CoverageWarning::UnknownOption {
                        story_id: s.id.clone(),
                        axis: axis.clone(),
                        value: value.clone(),
                    });
                    matches = false;
                }
            }
        }
        if matches {
            let index =
                c.axes.iter().zip(picks.iter()).fold(0u64, |acc, (a, &p)| acc * a.options.len() as u64 + p as u64);
            shown.push((index, si));
        }
    }
    // Sorted by variant, then story order: duplicates are adjacent and warnings stable.
    shown.sort_unstable();
    let mut covered = 0u64;
    let mut run_start = 0;
    for k in 0..=shown.len() {
        if k == shown.len() || shown[k].0 != shown[run_start].0 {
            if k > run_start {
                covered += 1;
            }
            if k - run_start > 1 {
                warnings.push(CoverageWarning::DuplicateStories {
                    variant: variants_at(&c.axes, &[shown[run_start].0]).pop().expect("one variant"),
                    story_ids: shown[run_start..k].iter().map(|&(_, i)| stories[i].id.clone()).collect(),
                });
            }
            run_start = k;
        }
    }
    missing.clear();
    digits.clear();
    digits.resize(c.axes.len(), 0);
    let mut listed = 0;
    let mut index = 0u64;
    let mut next_shown = shown.iter().map(|&(i, _)| i).peekable();
    // At most `missing_limit + covered` steps: every skipped index is a covered one.
    while index < total && listed < opts.missing_limit {
        while next_shown.next_if(|&i| i < index).is_some() {}
        if next_shown.peek() != Some(&index) {
            missing.extend_from_slice(digits);
            listed += 1;
        }
        index += 1;
        // Step the counter so `digits` stays the variant at `index`, without dividing.
        for (d, a) in digits.iter_mut().zip(c.axes.iter()).rev() {
            *d += 1;
            if (*d as usize) < a.options.len() {
                break;
            }
            *d = 0;
        }
    }

    let mut kinds = TestKinds::new();
    for s in stories {
        if s.has_play || has_tag(s, &["interaction", "play-fn"]) {
            kinds.insert(TestKind::Interaction);
        }
        if has_tag(s, &["visual", "chromatic"]) {
            kinds.insert(TestKind::Visual);
        }
        if has_tag(s, &["a11y"]) {
            kinds.insert(TestKind::A11y);
        }
    }
    for t in tests {
        kinds.insert(t.kind);
        if let Some(id) = &t.story_id {
            if !stories.iter().any(|s| s.id == *id) {
                warnings.push(CoverageWarning::TestForUnknownStory { component: c.name.clone(), story_id: id.clone() });
            }
        }
    }
    let missing_test_kinds: TestKinds = opts.required_kinds.iter().copied().filter(|k| !kinds.contains(*k)).collect();

    Ok(ComponentCoverage {
        component: c.name.clone(),
        source: c.source.clone(),
        variant_hash,
        total_variants: total,
        covered_variants: covered,
        percent: percent(covered, total),
        stories: stories.len(),
        missing_variants: VariantList { axes: Arc::clone(&c.axes), picks: Arc::from(&missing[..]), len: listed },
        missing_variants_total: total - covered,
        test_kinds: kinds,
        missing_test_kinds,
        warnings,
    })
}
