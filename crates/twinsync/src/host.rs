//! Which host this process runs on, for the folder sides bound to one: a folder is a
//! side of one place, so two machines that share a store with their own local copies
//! are two projects, and a pair whose folder side another host owns refuses to run here.
//!
//! The name is `TWINSYNC_HOST` when set (tests, containers whose host name changes at
//! every start, a folder on a shared filesystem that several machines mount as one),
//! else the system's host name.

use crate::config::PairConfig;
use crate::error::{Error, Result};

/// The environment variable that names this host, winning over the system's name.
pub const HOST_ENV: &str = "TWINSYNC_HOST";

/// This host's name: `TWINSYNC_HOST`, else the system's host name (`None` when the
/// system will not say, and then no side is bound or refused).
pub fn current_host() -> Option<String> {
    std::env::var(HOST_ENV)
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| whoami::hostname().ok().map(|h| h.trim().to_string()).filter(|h| !h.is_empty()))
}

/// Refuses pair `name` when one of its folder sides belongs to another host.
pub(crate) fn check_pair_host(name: &str, pair: &PairConfig, config_path: &std::path::Path) -> Result<()> {
    let Some(here) = current_host() else { return Ok(()) };
    match pair.foreign_side(&here) {
        None => Ok(()),
        Some((side, spec, owner)) => Err(Error::Config {
            path: config_path.to_path_buf(),
            message: format!(
                "pair {name}: its {side} side {spec:?} is a folder of host {owner:?}, and this is host {here:?} \
                 ({HOST_ENV}, else the system's name); a folder is a side of one place: on this machine, make \
                 its copy a project of its own (`twinsync init`), or, for a folder that several machines mount as \
                 one, give them one {HOST_ENV} or set `{side}_host` to it"
            ),
        }),
    }
}
