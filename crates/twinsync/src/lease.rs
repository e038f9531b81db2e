//! The sync lease: one sync of a pair at a time, across processes and machines that
//! share the store. It is a row of the store's lock table named `sync:PAIR`, taken and
//! released in one store transaction each, so two processes can never both hold it.
//!
//! A holder that dies leaves its lease behind. On the same machine a lease whose process
//! is gone is taken over at once; from another machine it is taken over when its TTL
//! runs out.

use std::time::{Duration, Instant};

use twinsync_core::lock::{fresh_token, Lock, LockError};
use twinsync_core::{Clock, LockChange, Store};

use crate::error::{Error, Result};

/// How long a lease lasts without being released.
const LEASE_TTL_MS: i64 = 10 * 60 * 1000;
/// Pause between two tries while another sync holds the lease.
const POLL: Duration = Duration::from_millis(50);

/// A held lease; give it back with [`release`].
#[derive(Debug)]
pub(crate) struct Lease {
    name: String,
    token: String,
}

/// Who holds a lease, as the holder wrote it: `pid PID on HOST`.
fn holder_detail() -> String {
    format!("pid {} on {}", std::process::id(), hostname())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into())
}

/// True when `lock` was taken by a process of this machine that no longer runs.
fn holder_is_gone(lock: &Lock) -> bool {
    let Some(reason) = lock.reason.as_deref() else { return false };
    let Some((pid, host)) = reason.strip_prefix("pid ").and_then(|r| r.split_once(" on ")) else { return false };
    if host != hostname() {
        return false;
    }
    match pid.parse::<u32>() {
        Ok(pid) if pid == std::process::id() => false,
        // Only where /proc exists can a dead process be told from a live one.
        Ok(pid) => {
            std::path::Path::new("/proc/self").exists() && !std::path::Path::new(&format!("/proc/{pid}")).exists()
        }
        Err(_) => false,
    }
}

/// Takes the lease of `pair` for `actor`, waiting up to `wait` while another sync holds
/// it; `waiting` is called once with the holder's description when the wait begins.
pub(crate) fn acquire(
    store: &mut dyn Store,
    clock: &dyn Clock,
    pair: &str,
    actor: &str,
    wait: Duration,
    waiting: &mut dyn FnMut(&str),
) -> Result<Lease> {
    let name = format!("sync:{pair}");
    let started = Instant::now();
    let mut told = false;
    loop {
        let now = clock.now();
        let token = fresh_token(&[name.as_bytes(), actor.as_bytes(), &now.millis().to_be_bytes()]);
        let taken = store.update_lock(&name, &mut |current| match current {
            Some(l) if l.is_live(now) && !holder_is_gone(&l) => {
                Err(LockError::Held { name: l.name.clone(), owner: describe(&l), expires_at: l.expires_at })
            }
            _ => Ok(LockChange::quiet(Some(Lock {
                name: name.clone(),
                owner: actor.to_string(),
                token: token.clone(),
                reason: Some(holder_detail()),
                acquired_at: now,
                expires_at: now.plus_millis(LEASE_TTL_MS),
            }))),
        })?;
        match taken {
            Ok(_) => return Ok(Lease { name, token }),
            Err(LockError::Held { owner, .. }) => {
                if started.elapsed() >= wait {
                    return Err(Error::Busy { pair: pair.to_string(), holder: owner, waited: started.elapsed() });
                }
                if !told {
                    waiting(&owner);
                    told = true;
                }
                std::thread::sleep(POLL);
            }
            Err(other) => return Err(Error::Core(other.into())),
        }
    }
}

/// Gives the lease back, unless another process took it over meanwhile.
pub(crate) fn release(store: &mut dyn Store, lease: &Lease) -> Result<()> {
    store
        .update_lock(&lease.name, &mut |current| match current {
            Some(l) if l.token == lease.token => Ok(LockChange::quiet(None)),
            other => Ok(LockChange::quiet(other)),
        })?
        .map_err(|e| Error::Core(e.into()))?;
    Ok(())
}

fn describe(l: &Lock) -> String {
    match &l.reason {
        Some(r) => format!("{} ({r})", l.owner),
        None => l.owner.clone(),
    }
}
