//! The web page at `/`: its assets as the server sends them, and the page itself in
//! headless Chromium (Debian's `chromium`, driven by `playwright-core` from
//! `tests/browser/`), two people editing one doc against a real server.
//!
//! The browser test needs node, chromium and the driver; it fails, never skips, without
//! them: `apt-get install chromium` and `crates/twinsync-server/tests/browser/setup.sh`
//! (both are stages of `.ci/run`).

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::*;

/// What page A saves last (tests/browser/page_test.mjs, `FINAL`).
const FINAL: &str = "# Intro\n\nSaved from the page after a reload.\n";
/// What a client wrote behind page A's back, before A's last save.
const BEHIND: &str = "# Intro\n\nChanged behind your back.\n";

/// A project syncing a/ and b/ with a few docs in folders, one meant to inject markup.
fn docs_project(root: &Path) -> PathBuf {
    let dir = root.join("handbook");
    let docs = [
        ("readme.md", "# Handbook\n\nStart with the [guide](guide/intro.md).\n"),
        ("guide/intro.md", "# Intro\n\nFirst words.\n"),
        ("guide/setup.md", "# Setup\n\n```sh\ncargo run\n```\n"),
        (
            "notes/evil.md",
            "# Evil <script>window.pwned = true</script>\n\n<img src=x onerror=\"window.pwned = true\">\n\n\
             [click](javascript:window.pwned=true) [ok](https://example.com) **bold**\n",
        ),
    ];
    for (path, text) in docs {
        let file = dir.join("a").join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, text).unwrap();
    }
    std::fs::create_dir_all(dir.join("b")).unwrap();
    twinsync::Project::init(&dir, "a", "b").unwrap();
    // A design pair beside the docs, for the coverage view: components and their stories
    // on the code side, the same components as the design side.
    let components =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../twinsync-design/tests/fixtures/code/components.json");
    std::fs::copy(&components, dir.join("components.json")).unwrap();
    std::fs::copy(&components, dir.join("design.json")).unwrap();
    let story = |id: &str, title: &str| serde_json::json!({ "id": id, "title": title, "name": "Story", "type": "story", "importPath": "./x.stories.tsx" });
    let index = serde_json::json!({ "v": 5, "entries": {
        "components-button--sm-primary": story("components-button--sm-primary", "Components/Button"),
        "widgets-ghost--default": story("widgets-ghost--default", "Widgets/Ghost"),
    }});
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    let mut p = twinsync::Project::open(&dir).unwrap();
    p.pair_add(
        "ui",
        twinsync::PairConfig::new(twinsync::PairKind::Design, "components.json,index.json", "design.json"),
    )
    .unwrap();
    dir
}

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// What the browser test needs, or a panic saying how to install it.
fn require_browser_tools() -> String {
    let chromium = std::env::var("TWINSYNC_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let node = Command::new("node").arg("--version").output();
    assert!(
        node.is_ok_and(|o| o.status.success()),
        "the page's browser test needs node on PATH (Debian: apt-get install nodejs npm)"
    );
    assert!(
        Path::new(&chromium).is_file(),
        "the page's browser test needs Chromium at {chromium} (Debian: apt-get install --no-install-recommends \
         chromium; or set TWINSYNC_CHROMIUM to another build)"
    );
    assert!(
        browser_dir().join("node_modules/playwright-core").is_dir(),
        "the page's browser test needs playwright-core: run crates/twinsync-server/tests/browser/setup.sh"
    );
    chromium
}

#[test]
fn two_pages_edit_one_doc_with_the_lock_and_live_updates_in_chromium() {
    let chromium = require_browser_tools();
    let tmp = tempfile::tempdir().unwrap();
    let dir = docs_project(tmp.path());
    let s = server(&tmp.path().join("data"));
    let id = register(&s, &dir, None);
    let (st, v) = call(ureq::post(&url(&s, &format!("/projects/{id}/docs/sync"))), None);
    assert_eq!((st, v["docs"]["counts"]["applied"].as_u64()), (200, Some(4)), "{v}");
    // Kept after the test when asked, to look at; otherwise in the temp dir.
    let shots = std::env::var_os("TWINSYNC_PAGE_SHOTS").map(PathBuf::from).unwrap_or_else(|| tmp.path().join("shots"));
    std::fs::create_dir_all(&shots).unwrap();

    let out = Command::new("node")
        .arg(browser_dir().join("page_test.mjs"))
        .arg(url(&s, ""))
        .arg(&id)
        .arg(&shots)
        .env("TWINSYNC_CHROMIUM", &chromium)
        .output()
        .unwrap();
    let log = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "the browser test failed:\n{log}");

    // The page's last save reached the edited side; the undo it ran last put the other
    // side back to what it held before that save.
    assert_eq!(std::fs::read_to_string(dir.join("a/guide/intro.md")).unwrap(), FINAL, "{log}");
    assert_eq!(std::fs::read_to_string(dir.join("b/guide/intro.md")).unwrap(), BEHIND, "{log}");
    for name in [
        "0-a-escaped-markup",
        "1-b-lock-banner",
        "2-a-editing",
        "3-b-live-update",
        "4-a-stale-save",
        "5-b-after-release",
        "6-a-history",
        "7-a-drift",
        "8-a-coverage",
    ] {
        assert!(shots.join(format!("{name}.png")).is_file(), "no screenshot {name}: {log}");
    }
    let (_, v) = call(ureq::get(&url(&s, &format!("/projects/{id}/lock"))), None);
    assert_eq!(v["locked"], false, "leaving the page released the lock: {v}");
    s.stop().unwrap();
}

#[test]
fn the_page_and_its_assets_are_served_from_the_binary_and_revalidated() {
    let tmp = tempfile::tempdir().unwrap();
    let s = server(&tmp.path().join("data"));
    for (path, kind, marker) in [
        ("/", "text/html", "<script type=\"module\" src=\"assets/app.js\">"),
        ("/assets/app.js", "text/javascript", "export function md("),
        ("/assets/app.css", "text/css", ".banner"),
    ] {
        let r = ureq::get(&url(&s, path)).call().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.header("content-type").unwrap().starts_with(kind), "{path}");
        assert!(r.header("content-security-policy").unwrap().contains("default-src 'self'"), "{path}");
        let etag = r.header("etag").unwrap().to_string();
        assert!(r.into_string().unwrap().contains(marker), "{path}");
        // A browser that has it revalidates and gets no body.
        let again = ureq::get(&url(&s, path)).set("If-None-Match", &etag).call().unwrap();
        assert_eq!(again.status(), 304, "{path}");
    }
    let (st, v) = call(ureq::get(&url(&s, "/assets/nope.js")), None);
    assert_eq!((st, v["error"]["code"].as_str()), (404, Some("NOT_FOUND")), "{v}");
    s.stop().unwrap();
}
