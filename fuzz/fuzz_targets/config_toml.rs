//! `.twinsync/config.toml`, read as `Config::load` reads it.
//!
//! Properties: a bad file is an error that names the file; a config that loads saves to
//! text that loads back to the same config, and saving that again gives the same text
//! (so `init` and `pair add`, which load, edit and save, never corrupt a config).
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use twinsync::Config;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let path = Path::new("/project/.twinsync/config.toml");
    match Config::parse(text, path) {
        Err(e) => assert!(e.to_string().contains("config.toml"), "error does not name the file: {e}"),
        Ok(config) => {
            let saved = config.to_toml(path).expect("a loaded config saves");
            let reloaded =
                Config::parse(&saved, path).unwrap_or_else(|e| panic!("saved config does not load: {e}\n{saved}"));
            assert_eq!(reloaded, config, "the config changed through save and load:\n{saved}");
            assert_eq!(reloaded.to_toml(path).expect("saves again"), saved, "saving is not stable");
        }
    }
});
