//! Storybook's built `index.json` (v3 to v5), its `manifests/components.json`, and
//! twinsync's plain `components.json`, as `twinsync design` reads them from bytes.
//!
//! Properties: a bad document is an error that names the file; a parsed index lists its
//! stories among its entries; every parsed component has a digest (or an error naming
//! it) and coverage axes whose defaults are among their options; format recognition
//! agrees with the parser it picks.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use twinsync_design::storybook::{parse_index, parse_plain_components, parse_storybook_manifest};
use twinsync_design::{inputs::load_bytes, DesignComponent, Input};

const FILE: &str = "stories/index.json";

fn check_components(components: &[DesignComponent]) {
    for c in components {
        if let Err(e) = c.digest() {
            assert!(e.to_string().contains(&format!("{:?}", c.name)), "digest error does not name the component: {e}");
        }
        for axis in c.to_coverage().axes.iter() {
            assert!(axis.default.as_ref().is_none_or(|d| axis.options.contains(d)), "default outside options");
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let recognised = load_bytes(FILE, data);
    match &recognised {
        Err(e) => assert!(e.to_string().starts_with(FILE), "error does not name the file: {e}"),
        Ok(Input::Components(m)) => check_components(&m.components),
        Ok(Input::Figma(c)) => check_components(c),
        Ok(Input::Index(ix)) => assert!(ix.stories().all(|s| ix.entries.contains(s))),
        Ok(Input::Tokens(_)) => {}
    }
    let Ok(v) = serde_json::from_slice::<Value>(data) else { return };
    let named = |e: &twinsync_design::DesignError| assert!(e.to_string().starts_with(FILE), "unnamed error: {e}");
    match parse_index(FILE, &v) {
        Ok(ix) => {
            assert!(ix.stories().count() <= ix.entries.len());
            if let Ok(Input::Index(r)) = &recognised {
                assert_eq!(r, &ix, "recognition read the index differently");
            }
        }
        Err(e) => named(&e),
    }
    match parse_plain_components(FILE, &v) {
        Ok(m) => check_components(&m.components),
        Err(e) => named(&e),
    }
    match parse_storybook_manifest(FILE, &v) {
        Ok(m) => check_components(&m.components),
        Err(e) => named(&e),
    }
});
