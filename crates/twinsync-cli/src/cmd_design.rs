//! `twinsync design drift|coverage|scaffold`: code components and their design
//! artifacts (Figma files, design tokens), Storybook coverage and CSF3 scaffolds, from
//! the twinsync-design crate. Each command exits 1 when its `--fail-on` is met, so CI
//! can gate on drift or coverage.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use twinsync::core::coverage::CoverageOptions;
use twinsync::design::drift::{Base, ComponentStatus, DriftReport};
use twinsync::design::scaffold::{scaffold_files, scaffold_json, Outcome, ScaffoldOptions};
use twinsync::design::sync::{component_key, DesignDirection};
use twinsync::design::{coverage_report, html_report};
use twinsync::{Project, SyncRequest};

use crate::cmd_project::Common;

/// Design subcommands.
#[derive(Args)]
pub struct DesignArgs {
    #[command(subcommand)]
    command: DesignCommand,
}

#[derive(Subcommand)]
enum DesignCommand {
    /// Compare code (index.json, components.json) with design (Figma JSON, tokens) against the last synced base.
    Drift(DriftArgs),
    /// Variant coverage by stories and tests, worst first (text, --json or --html FILE).
    Coverage(CoverageArgs),
    /// Write one CSF3 `<Component>.stories.tsx` per component; reruns merge with your edits.
    Scaffold(ScaffoldArgs),
    /// Apply a direction per component between code and a design manifest, through the engine (undoable).
    Sync(SyncArgs),
    /// Undo the last design sync (or --operation ID), never overwriting later edits.
    Undo(UndoArgs),
}

#[derive(Args)]
struct SyncFiles {
    /// Code side: twinsync components.json (or a read-only Storybook manifest); repeat to
    /// name a design pair's other code files (a Storybook index), which are compared, not synced.
    #[arg(long, required = true, value_name = "FILE")]
    code: Vec<PathBuf>,
    /// Design manifest (twinsync components.json; created if missing), or a read-only Figma
    /// file; repeatable like --code.
    #[arg(long, required = true, value_name = "FILE")]
    design: Vec<PathBuf>,
    /// The project's store as a SQLite file, as TWINSYNC_STORE_URL=sqlite:FILE would
    /// (default: the project's store, .twinsync/state.db unless configured).
    #[arg(long, value_name = "FILE")]
    store: Option<PathBuf>,
}

#[derive(Args)]
struct SyncArgs {
    #[command(flatten)]
    files: SyncFiles,
    /// Direction for every component: code_to_design, design_to_code or bidirectional.
    #[arg(long, default_value = "bidirectional", value_name = "DIRECTION")]
    direction: DesignDirection,
    /// Direction for one component, NAME=DIRECTION (repeatable).
    #[arg(long = "component", value_name = "NAME=DIRECTION")]
    components: Vec<String>,
    /// Show the plan with diffs; change nothing.
    #[arg(long)]
    dry_run: bool,
}

#[derive(Args)]
struct UndoArgs {
    #[command(flatten)]
    files: SyncFiles,
    /// The operation to undo (default: the last one).
    #[arg(long, value_name = "ID")]
    operation: Option<String>,
}

#[derive(Args)]
struct DriftArgs {
    /// Code side: Storybook index.json, Storybook manifests/components.json or twinsync components.json (repeatable).
    #[arg(long, required = true, value_name = "FILE")]
    code: Vec<PathBuf>,
    /// Design side: Figma file JSON, a design manifest (components.json) or a token file (repeatable).
    #[arg(long, required = true, value_name = "FILE")]
    design: Vec<PathBuf>,
    /// A design base JSON file to compare against (default: the base of the matching design pair in the project's store; none: two-way comparison).
    #[arg(long, value_name = "FILE")]
    base: Option<PathBuf>,
    /// Exit 1 when this is found.
    #[arg(long, value_enum, value_name = "WHAT")]
    fail_on: Option<DriftGate>,
}

#[derive(Clone, Copy, ValueEnum)]
enum DriftGate {
    /// Any drift: components, design variants without a story, tokens.
    Drift,
    /// Only components both sides changed differently.
    Conflict,
}

#[derive(Args)]
struct CoverageArgs {
    /// Components: twinsync components.json or Storybook manifests/components.json.
    #[arg(long, value_name = "FILE", required_unless_present = "history")]
    components: Option<PathBuf>,
    /// Storybook's built index.json.
    #[arg(long, value_name = "FILE", required_unless_present = "history")]
    stories: Option<PathBuf>,
    /// Show COMPONENT's coverage trend from the project's history instead (of the
    /// --components manifest only, when given).
    #[arg(long, value_name = "COMPONENT", conflicts_with_all = ["stories", "html", "tests"])]
    history: Option<String>,
    /// Most history rows shown.
    #[arg(long, default_value_t = 30, requires = "history")]
    history_limit: usize,
    /// Folder searched for test files named after components (`Button.test.tsx`, `Button.a11y.spec.ts`).
    #[arg(long, value_name = "DIR")]
    tests: Option<PathBuf>,
    /// Write a self-contained HTML report to FILE.
    #[arg(long, value_name = "FILE", conflicts_with = "json")]
    html: Option<PathBuf>,
    /// Most missing variants listed per component.
    #[arg(long, default_value_t = 20)]
    missing_limit: usize,
    /// Exit 1 when this is found.
    #[arg(long, value_enum, value_name = "WHAT")]
    fail_on: Option<CoverageGate>,
    /// Exit 1 when total variant coverage is below PERCENT.
    #[arg(long, value_name = "PERCENT")]
    min_percent: Option<f64>,
}

#[derive(Clone, Copy, ValueEnum)]
enum CoverageGate {
    /// Any variant without a story.
    MissingVariants,
    /// Any component missing a required test kind.
    MissingTests,
    /// Any warning (stories matching no variant, duplicates, unknown components).
    Warnings,
}

#[derive(Args)]
struct ScaffoldArgs {
    /// Components: twinsync components.json, Storybook manifests/components.json or a Figma file.
    #[arg(long, value_name = "FILE")]
    components: PathBuf,
    /// Folder the story files go to.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Pairwise covering set for components with three or more axes (always used above --max-full).
    #[arg(long)]
    pairwise: bool,
    /// Above this many combinations a pairwise set is used.
    #[arg(long, default_value_t = 64)]
    max_full: u64,
    /// Where the last generated files are kept, as the merge base (default: .twinsync/design/generated).
    #[arg(long, value_name = "DIR")]
    state: Option<PathBuf>,
    /// Story files without `play` test scaffolds.
    #[arg(long)]
    no_play: bool,
    /// Package of the Meta/StoryObj types.
    #[arg(long, default_value = "@storybook/react")]
    types_package: String,
    /// Show what would be written; write nothing.
    #[arg(long)]
    dry_run: bool,
}

/// Runs `twinsync design ...`.
pub fn design(a: DesignArgs, common: &Common) -> Result<ExitCode, String> {
    let root = common.dir.clone().unwrap_or_else(|| PathBuf::from("."));
    match a.command {
        DesignCommand::Drift(d) => drift(d, common, &root),
        DesignCommand::Coverage(c) => coverage(c, common, &root),
        DesignCommand::Scaffold(s) => scaffold_cmd(s, common, &root),
        DesignCommand::Sync(s) => sync_cmd(s, common, &root),
        DesignCommand::Undo(u) => undo_cmd(u, common, &root),
    }
}

/// A path as given, or under the `-C` folder when relative.
fn at(root: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

fn print(text: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes()).and_then(|()| out.flush()).map_err(|e| format!("writing output: {e}"))
}

fn print_json(v: &impl serde::Serialize) -> Result<(), String> {
    let mut s = serde_json::to_string_pretty(v).map_err(|e| e.to_string())?;
    s.push('\n');
    print(&s)
}

fn drift(a: DriftArgs, common: &Common, root: &Path) -> Result<ExitCode, String> {
    let root = absolute_root(root)?;
    let code: Vec<PathBuf> = a.code.iter().map(|p| at(&root, p)).collect();
    let design: Vec<PathBuf> = a.design.iter().map(|p| at(&root, p)).collect();
    let (report, base_label) = match &a.base {
        Some(p) => {
            let p = at(&root, p);
            let bytes = std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let base: Base =
                serde_json::from_slice(&bytes).map_err(|e| format!("{}: not a design base: {e}", p.display()))?;
            (twinsync::design_drift(&root, &code, &design, &base)?, Some(p.display().to_string()))
        }
        // The base is the one the matching pair's last sync committed to the store.
        None => match open_project(&root, None, false)? {
            Some(project) => {
                let pair = project.design_base_pair(&code, &design);
                let report = project.design_drift_against(&pair, &code, &design).map_err(|e| e.to_string())?;
                let has_base = project.design_has_base(&pair).map_err(|e| e.to_string())?;
                (report, has_base.then(|| format!("pair {pair} in the project's store")))
            }
            None => (twinsync::design_drift(&root, &code, &design, &Base::default())?, None),
        },
    };
    if common.json {
        print_json(&report)?;
    } else {
        print(&drift_text(&report, base_label.as_deref()))?;
    }
    let failed = match a.fail_on {
        None => false,
        Some(DriftGate::Drift) => report.has_drift(),
        Some(DriftGate::Conflict) => report.totals.conflicts > 0,
    };
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn status_word(s: ComponentStatus) -> &'static str {
    match s {
        ComponentStatus::InSync => "in sync",
        ComponentStatus::ChangedInCode => "changed in code",
        ComponentStatus::ChangedInDesign => "changed in design",
        ComponentStatus::ChangedInBoth => "changed in both",
        ComponentStatus::Conflict => "CONFLICT",
        ComponentStatus::Differs => "differs",
        ComponentStatus::OnlyInCode => "only in code",
        ComponentStatus::OnlyInDesign => "only in design",
    }
}

fn drift_text(r: &DriftReport, base: Option<&str>) -> String {
    let mut s = String::new();
    match base {
        Some(b) => s.push_str(&format!("base: {b}\n")),
        None => s.push_str("base: none (two-way comparison; run `twinsync design sync` to record one)\n"),
    }
    for c in &r.components {
        if c.status == ComponentStatus::InSync && c.variants_without_story.is_empty() {
            continue;
        }
        let name = match &c.design_name {
            Some(d) => format!("{} (design: {d})", c.component),
            None => c.component.clone(),
        };
        s.push_str(&format!("{name}: {}\n", status_word(c.status)));
        for f in &c.findings {
            s.push_str(&format!("  - {}\n", f.message));
        }
        if !c.conflicts.is_empty() {
            s.push_str(&format!("  ! both sides changed: {}\n", c.conflicts.join(", ")));
        }
        for v in &c.variants_without_story {
            s.push_str(&format!("  - design variant {v} has no story\n"));
        }
    }
    for t in &r.tokens {
        let show = |v: &Option<serde_json::Value>| v.as_ref().map_or("(missing)".to_string(), |v| v.to_string());
        s.push_str(&format!("token {}: code {} / design {}\n", t.path, show(&t.code), show(&t.design)));
    }
    let t = &r.totals;
    s.push_str(&format!(
        "{} components, {} drifted, {} in conflict, {} design variants without a story, {} tokens differ\n",
        t.components, t.drifted, t.conflicts, t.variants_without_story, t.tokens
    ));
    s
}

/// `design coverage --history COMPONENT`: the trend, oldest first, with the change in
/// percentage from each run to the next.
fn coverage_history(component: &str, a: &CoverageArgs, common: &Common, root: &Path) -> Result<ExitCode, String> {
    let project = twinsync::Project::open(root).map_err(|e| e.to_string())?;
    let scope = a.components.as_ref().map(|c| c.display().to_string());
    let mut rows = project.coverage_history(component, scope.as_deref(), a.history_limit).map_err(|e| e.to_string())?;
    if rows.is_empty() {
        return Err(format!(
            "no coverage history of component {component:?}; `twinsync design coverage --components FILE --stories FILE` records one run"
        ));
    }
    rows.reverse();
    if common.json {
        let list: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "computed_at": r.computed_at,
                    "scope": r.scope,
                    "percentage": r.percentage,
                    "covered_variants": r.coverage.covered_variants,
                    "total_variants": r.coverage.total_variants,
                    "missing_variants": r.coverage.missing_variants_total,
                    "missing_test_kinds": r.coverage.missing_test_kinds,
                    "warnings": r.coverage.warnings.iter().map(|w| w.to_string()).collect::<Vec<_>>(),
                    "variant_hash": r.variant_hash,
                })
            })
            .collect();
        print_json(&serde_json::json!({ "component": component, "history": list }))?;
    } else {
        let mut s = String::new();
        let mut previous: Option<f64> = None;
        for r in &rows {
            let delta = previous.map(|p| format!("{:+.2}", r.percentage - p)).unwrap_or_else(|| "".into());
            s.push_str(&format!(
                "{}  {:>7.2}%  {:>7}  {}/{} variants, {} missing test kinds, {} warnings\n",
                r.computed_at.to_rfc3339(),
                r.percentage,
                delta,
                r.coverage.covered_variants,
                r.coverage.total_variants,
                r.coverage.missing_test_kinds.iter().count(),
                r.coverage.warnings.len()
            ));
            previous = Some(r.percentage);
        }
        print(&s)?;
    }
    Ok(ExitCode::SUCCESS)
}

fn coverage(a: CoverageArgs, common: &Common, root: &Path) -> Result<ExitCode, String> {
    if let Some(component) = &a.history {
        return coverage_history(component, &a, common, root);
    }
    let (Some(components_file), Some(stories_file)) = (&a.components, &a.stories) else {
        return Err("--components and --stories are both needed (or --history COMPONENT)".into());
    };
    let (components, mut tests) =
        twinsync::design::inputs::load_components(&at(root, components_file)).map_err(|e| e.to_string())?;
    if let Some(dir) = &a.tests {
        tests.extend(twinsync::design::testfiles::scan_tests(&at(root, dir), &components).map_err(|e| e.to_string())?);
    }
    let index = twinsync::design::inputs::load_index(&at(root, stories_file)).map_err(|e| e.to_string())?;
    let opts = CoverageOptions { missing_limit: a.missing_limit, ..Default::default() };
    // Inside a project each run is history (and an event others can follow), reusing the
    // results of unchanged components; outside one, it is computed and shown only.
    let cov = match twinsync::Project::open(root) {
        Ok(mut project) => {
            let scope = components_file.display().to_string();
            project.coverage_run(&scope, &components, &index, &tests, &opts).map_err(|e| e.to_string())?.0
        }
        Err(_) => coverage_report(&components, &index, &tests, &opts).map_err(|e| e.to_string())?,
    };
    if let Some(html) = &a.html {
        let path = at(root, html);
        std::fs::write(&path, html_report(&cov)).map_err(|e| format!("{}: {e}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    if common.json {
        print_json(&cov)?;
    } else if a.html.is_none() {
        let mut s = String::new();
        for c in &cov.report.components {
            s.push_str(&format!(
                "{:>7.2}%  {}  {}/{} variants",
                c.percent, c.component, c.covered_variants, c.total_variants
            ));
            if !c.missing_test_kinds.is_empty() {
                let k: Vec<&str> = c.missing_test_kinds.iter().map(|k| k.as_str()).collect();
                s.push_str(&format!("; no {} tests", k.join(", ")));
            }
            s.push('\n');
            for v in c.missing_variants.iter() {
                s.push_str(&format!("           missing {v}\n"));
            }
            let listed = c.missing_variants.len() as u64;
            if c.missing_variants_total > listed {
                s.push_str(&format!("           and {} more\n", c.missing_variants_total - listed));
            }
            for w in &c.warnings {
                s.push_str(&format!("           warning: {w}\n"));
            }
        }
        for u in &cov.unmatched_stories {
            s.push_str(&format!("warning: story {} ({}) of {} matches no variant\n", u.story_id, u.name, u.component));
        }
        for w in &cov.report.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
        let t = &cov.report.totals;
        s.push_str(&format!(
            "total {:.2}%: {}/{} variants in {} components; {} stories match no variant, {} belong to no component\n",
            t.percent,
            t.covered_variants,
            t.total_variants,
            t.components,
            cov.unmatched_stories.len(),
            cov.orphan_stories.len()
        ));
        print(&s)?;
    }
    let t = &cov.report.totals;
    let gate = match a.fail_on {
        None => false,
        Some(CoverageGate::MissingVariants) => t.covered_variants < t.total_variants,
        Some(CoverageGate::MissingTests) => t.components_missing_test_kinds > 0,
        Some(CoverageGate::Warnings) => t.warnings > 0 || !cov.unmatched_stories.is_empty(),
    };
    let below = a.min_percent.is_some_and(|m| t.percent < m);
    Ok(if gate || below { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn scaffold_cmd(a: ScaffoldArgs, common: &Common, root: &Path) -> Result<ExitCode, String> {
    let opts = ScaffoldOptions {
        pairwise: a.pairwise,
        max_full: a.max_full,
        play: !a.no_play,
        types_package: a.types_package,
        root: root.to_path_buf(),
    };
    let results =
        scaffold_files(&a.components, &a.out, a.state.as_deref(), &opts, a.dry_run).map_err(|e| e.to_string())?;
    let conflicts = results.iter().filter(|r| r.outcome == Outcome::Conflict).count();
    if common.json {
        print_json(&scaffold_json(&results, a.dry_run))?;
    } else {
        let mut s = String::new();
        for r in &results {
            let what = match r.outcome {
                Outcome::Created => "created".to_string(),
                Outcome::Unchanged => "unchanged".to_string(),
                Outcome::Merged => "updated (your edits kept)".to_string(),
                Outcome::Conflict => format!("CONFLICT: {} hunk(s) marked with <<<<<<< / >>>>>>>", r.conflicts),
            };
            let sel = if r.file.pairwise {
                format!(
                    "{} stories (pairwise; {} of {} combinations skipped)",
                    r.file.stories.len(),
                    r.file.skipped,
                    r.file.total_variants
                )
            } else {
                format!("{} stories", r.file.stories.len())
            };
            s.push_str(&format!("{}{}: {what}, {sel}\n", if a.dry_run { "would be " } else { "" }, r.path.display()));
        }
        print(&s)?;
    }
    Ok(if conflicts > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The `-C` folder, absolute, so files given relative to it name the same files from
/// the project folder above it.
fn absolute_root(root: &Path) -> Result<PathBuf, String> {
    root.canonicalize().map_err(|e| format!("{}: {e}", root.display()))
}

/// The project holding `root` (a folder with only the design state of earlier releases
/// opens as one, and migrates). Without one, `design sync|undo` (`create`) make `root` a
/// project with no configured pairs, where the implicit design pair lives, as earlier
/// releases kept their design state under `root/.twinsync/design/`; `design drift`
/// compares two-way and writes nothing.
fn open_project(root: &Path, store: Option<&Path>, create: bool) -> Result<Option<Project>, String> {
    if let Some(file) = store {
        // Through the facade's own store selection, not a second store of our own.
        std::env::set_var(twinsync::STORE_URL_ENV, format!("sqlite:{}", at(root, file).display()));
    }
    match Project::open(root) {
        Ok(p) => Ok(Some(p)),
        Err(twinsync::Error::NotAProject { .. }) if create => {
            let mut config = twinsync::Config::new(".", ".");
            config.pairs.clear();
            Project::init_with(root, config).map(Some).map_err(|e| e.to_string())
        }
        Err(twinsync::Error::NotAProject { .. }) => Ok(None),
        Err(e) => Err(e.to_string()),
    }
}

/// The project and the design pair over `--code` and `--design`.
fn design_pair(f: &SyncFiles, root: &Path) -> Result<(Project, String), String> {
    let root = absolute_root(root)?;
    let mut project = open_project(&root, f.store.as_deref(), true)?.expect("created when missing");
    let code: Vec<PathBuf> = f.code.iter().map(|p| at(&root, p)).collect();
    let design: Vec<PathBuf> = f.design.iter().map(|p| at(&root, p)).collect();
    let pair = project.design_pair_for(&code, &design).map_err(|e| e.to_string())?;
    Ok((project, pair))
}

fn sync_cmd(a: SyncArgs, common: &Common, root: &Path) -> Result<ExitCode, String> {
    let (mut project, pair) = design_pair(&a.files, root)?;
    let mut req = SyncRequest { direction: Some(a.direction.to_core()), ..Default::default() };
    for spec in &a.components {
        let (name, dir) =
            spec.split_once('=').ok_or_else(|| format!("--component {spec:?}: expected NAME=DIRECTION"))?;
        let d: DesignDirection = dir.parse().map_err(|e| format!("--component {spec:?}: {e}"))?;
        let key = component_key(name).map_err(|e| e.to_string())?;
        req.item_directions.insert(key.to_string(), d.to_core());
    }
    if a.dry_run {
        let preview = project.preview_of(&pair, &req).map_err(|e| e.to_string())?;
        if common.json {
            print_json(&preview)?;
        } else {
            let mut s = String::new();
            for d in &preview.diffs {
                s.push_str(&format!("would {:?} {}\n{}", d.action, d.key, d.diff));
            }
            s.push_str(&format!("{} change(s) planned; nothing written\n", preview.diffs.len()));
            print(&s)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    // The engine commits each component's new base with its write: drift reads it back.
    let report = project.sync_pair(&pair, &req).map_err(|e| e.to_string())?;
    if common.json {
        print_json(&report)?;
    } else {
        let c = &report.counts;
        print(&format!(
            "operation {}: {:?}; {} applied, {} skipped, {} conflicts, {} failed{}\n",
            report.operation_id,
            report.status,
            c.applied,
            c.skipped,
            c.conflicts,
            c.failed,
            if c.applied > 0 { " (twinsync design undo reverts it)" } else { "" }
        ))?;
        for item in &report.conflicts {
            print(&format!("conflict: {}\n", item.key))?;
        }
    }
    let c = &report.counts;
    Ok(if c.failed > 0 || c.conflicts > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn undo_cmd(a: UndoArgs, common: &Common, root: &Path) -> Result<ExitCode, String> {
    let (mut project, pair) = design_pair(&a.files, root)?;
    let report = project.undo_in(Some(&pair), a.operation.as_deref()).map_err(|e| e.to_string())?;
    if common.json {
        print_json(&report)?;
    } else {
        print(&format!(
            "undid {}: {} restored, {} refused\n",
            report.operation_id,
            report.restored.len(),
            report.refused.len()
        ))?;
    }
    Ok(if report.refused.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
