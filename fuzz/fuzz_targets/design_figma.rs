//! Figma REST file JSON (`GET /v1/files/:key` and the `nodes` shape): the components,
//! their properties and the variants the design draws.
//!
//! Properties: a bad document is an error that names the file; every component has a
//! digest (or an error naming it) and coverage axes whose defaults are among their
//! options; a volatile node id never changes a component's digest.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use twinsync_design::figma::{looks_like_figma, parse_figma, parse_variant_name, strip_property_id};

const FILE: &str = "design/figma.json";

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<Value>(data) else { return };
    let _ = looks_like_figma(&v);
    match parse_figma(FILE, &v) {
        Err(e) => assert!(e.to_string().starts_with(FILE), "error does not name the file: {e}"),
        Ok(components) => {
            for c in &components {
                let digest = c.digest();
                if let Err(e) = &digest {
                    assert!(e.to_string().contains(&format!("{:?}", c.name)), "unnamed digest error: {e}");
                }
                let mut renamed = c.clone();
                renamed.id = Some("999:999".into());
                assert_eq!(renamed.digest().ok(), digest.ok(), "the node id changed the digest");
                for axis in c.to_coverage().axes.iter() {
                    assert!(axis.default.as_ref().is_none_or(|d| axis.options.contains(d)), "default outside options");
                }
            }
        }
    }
    // The name helpers take any key or layer name the file holds.
    if let Ok(s) = std::str::from_utf8(data) {
        let stripped = strip_property_id(s);
        assert!(s.starts_with(stripped));
        if let Some(axes) = parse_variant_name(s) {
            assert!(axes.len() <= s.split(',').count());
        }
    }
});
