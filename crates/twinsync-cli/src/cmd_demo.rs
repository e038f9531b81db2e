//! `twinsync demo`: a walk-through on a throwaway project — a folder of markdown and JSON
//! component files against the embedded database — that syncs, makes a conflict, resolves
//! it by policy and undoes the resolution, printing what happened at each step.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use twinsync::core::replica::Replica;
use twinsync::core::{Content, ContentKind, DriftClass, Key, Policy};
use twinsync::{AnyReplica, Project, SyncRequest};

/// Arguments of `twinsync demo`.
#[derive(clap::Args, Debug)]
pub struct DemoArgs {
    /// Keep the demo project instead of removing it at the end.
    #[arg(long)]
    pub keep: bool,
}

const GUIDE: &str = "# Using the card\n\nCards group related content.\n\nKeep one action per card.\n";
const GUIDE_LEFT: &str = "# Using the card\n\nCards group related content and media.\n\nKeep one action per card.\n";
const GUIDE_RIGHT: &str = "# Using the card\n\nCards group related content.\n\nKeep one primary action per card.\n";

/// Sample design files: path under `design/`, content.
const FILES: &[(&str, &str)] = &[
    ("components/button.json", "{\n  \"name\": \"Button\",\n  \"variants\": [\"primary\", \"secondary\"],\n  \"states\": [\"default\", \"hover\", \"disabled\"]\n}\n"),
    ("components/card.json", "{\n  \"name\": \"Card\",\n  \"variants\": [\"flat\", \"raised\"]\n}\n"),
    ("docs/intro.md", "# Design system\n\nComponents live in components/, guides in docs/.\n"),
    ("docs/guide.md", GUIDE),
];

/// A failure of the demo, with the step it happened in.
#[derive(Debug, thiserror::Error)]
#[error("step {step}: {message}")]
struct DemoError {
    step: &'static str,
    message: String,
}

fn at<E: std::fmt::Display>(step: &'static str) -> impl Fn(E) -> DemoError {
    move |e| DemoError { step, message: e.to_string() }
}

/// `twinsync demo`.
pub fn demo(a: DemoArgs) -> ExitCode {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let dir = std::env::temp_dir().join(format!("twinsync-demo-{}-{nanos}", std::process::id()));
    let result = run(&dir);
    if a.keep {
        println!("The demo project is kept at {}.", dir.display());
    } else {
        let _ = std::fs::remove_dir_all(&dir);
    }
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("twinsync demo: {e}");
            ExitCode::from(2)
        }
    }
}

fn guide_key() -> Key {
    Key::new("docs/guide.md").expect("a literal key is valid")
}

fn db_text(p: &mut Project, key: &Key) -> Result<String, DemoError> {
    let (_, right) = p.sides(twinsync::DEFAULT_PAIR).map_err(at("read db"))?;
    let c = right.read(key).map_err(at("read db"))?;
    Ok(c.and_then(|c| c.as_text().map(str::to_string)).unwrap_or_default())
}

fn show(text: &str) {
    for line in text.lines().filter(|l| !l.is_empty()) {
        println!("      | {line}");
    }
}

fn run(dir: &Path) -> Result<(), DemoError> {
    let design: PathBuf = dir.join("design");
    for (path, body) in FILES {
        let p = design.join(path);
        std::fs::create_dir_all(p.parent().unwrap_or(&design)).map_err(at("create files"))?;
        std::fs::write(&p, body).map_err(at("create files"))?;
    }
    let mut p = Project::init(dir, "design", "db").map_err(at("init"))?;
    p.set_actor("demo");
    println!("1. Created a project in {}", dir.display());
    println!("   left:  design/ (a folder with {} files: 2 JSON components, 2 markdown guides)", FILES.len());
    println!("   right: db (the embedded SQLite database in .twinsync/state.db)");

    let drift = p.status().map_err(at("status"))?;
    let first = p.sync(&SyncRequest::default()).map_err(at("first sync"))?;
    println!(
        "2. First sync: {} items were only on the left; {} copied to the database (operation {}).",
        drift.counts.get(DriftClass::AddedLeft),
        first.counts.applied,
        &first.operation_id[..12]
    );

    let key = guide_key();
    std::fs::write(design.join("docs/guide.md"), GUIDE_LEFT).map_err(at("edit left"))?;
    if let (_, AnyReplica::Db(mut db)) = p.sides(twinsync::DEFAULT_PAIR).map_err(at("edit db"))? {
        let content = Content::from_bytes(ContentKind::Text, GUIDE_RIGHT.as_bytes().to_vec()).map_err(at("edit db"))?;
        db.put(&key, &content).map_err(at("edit db"))?;
    }
    println!("3. Edited docs/guide.md on both sides: the folder adds \"and media\", the database adds \"primary\".");
    let drift = p.status().map_err(at("status"))?;
    for item in drift.drifted() {
        println!("   status: {} is {}", item.key, item.class.as_str());
    }

    let manual = p.sync(&SyncRequest { policy: Some(Policy::default()), ..Default::default() }).map_err(at("sync"))?;
    let untouched = std::fs::read_to_string(design.join("docs/guide.md")).map_err(at("sync"))? == GUIDE_LEFT
        && db_text(&mut p, &key)? == GUIDE_RIGHT;
    println!(
        "4. A sync with the manual policy leaves it for a person: {} conflict, {} applied; both sides unchanged: {}.",
        manual.counts.conflicts,
        manual.counts.applied,
        if untouched { "yes" } else { "no" }
    );

    let merge: Policy = "merge".parse().map_err(at("policy"))?;
    let merged = p.sync(&SyncRequest { policy: Some(merge), ..Default::default() }).map_err(at("merge"))?;
    let left_now = std::fs::read_to_string(design.join("docs/guide.md")).map_err(at("merge"))?;
    let db_now = db_text(&mut p, &key)?;
    println!(
        "5. Resolved by policy merge (operation {}): {} applied, {} conflicts. Both edits kept, both sides equal: {}",
        &merged.operation_id[..12],
        merged.counts.applied,
        merged.counts.conflicts,
        if left_now == db_now { "yes" } else { "no" }
    );
    show(&left_now);

    let undo = p.undo(None).map_err(at("undo"))?;
    let left_back = std::fs::read_to_string(design.join("docs/guide.md")).map_err(at("undo"))?;
    let db_back = db_text(&mut p, &key)?;
    println!(
        "6. Undid the merge: {} restored, {} refused. The folder has its own edit again ({}), the database its own ({}).",
        undo.restored.len(),
        undo.refused.len(),
        if left_back == GUIDE_LEFT { "\"and media\"" } else { "changed" },
        if db_back == GUIDE_RIGHT { "\"primary\"" } else { "changed" }
    );
    let drift = p.status().map_err(at("status"))?;
    println!("   status: {} conflict again, ready for another policy or a person.", drift.counts.conflicts());
    println!("Try it on your own folders: twinsync init design db && twinsync sync");
    Ok(())
}
