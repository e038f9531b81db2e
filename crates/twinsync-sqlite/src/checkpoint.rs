//! Checkpoints off the commit path: the WAL is copied into the database file by a
//! thread with a connection of its own, so a commit never waits for it.
//!
//! SQLite's own auto-checkpoint runs inside the commit that crosses its mark. In a first
//! sync of 20,000 files that commit took 0.2-0.26 s, twice, while the engine waited on
//! the store for its next batch (`perf` sched traces, `benches/first_sync_ab.py`). A
//! passive checkpoint on another connection copies the same pages while the writer
//! goes on; the writer restarts the WAL from its start once a checkpoint has caught up.

use std::os::raw::c_int;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags};

/// WAL size, in bytes, from which each commit asks for a checkpoint: fewer copies of
/// the pages every batch touches than SQLite's 1,000 pages, and a WAL a reader searches
/// quickly.
const ASK_AT: i64 = 16 << 20;

/// WAL size from which a commit checkpoints in place, as SQLite would: the background
/// checkpoint is not keeping up (or could not start), and the WAL must stay bounded.
const IN_PLACE_AT: i64 = 256 << 20;

/// The background checkpoint of one database file. Drop it after its connection: it
/// then waits for its thread, whose connection, the last one open, checkpoints what is
/// left as SQLite does on close.
pub(crate) struct Checkpointer {
    shared: Arc<Shared>,
}

struct Shared {
    path: PathBuf,
    /// The `synchronous` setting of the writer, so checkpoints are as durable.
    synchronous: &'static str,
    state: Mutex<State>,
    wake: Condvar,
}

#[derive(Default)]
struct State {
    asked: bool,
    stopping: bool,
    /// Started at the first request, so short-lived connections never start one.
    thread: Option<JoinHandle<()>>,
    /// The thread could not start or open the file: commits checkpoint in place.
    unavailable: bool,
}

impl Checkpointer {
    /// Moves the checkpoints of `conn`, open on the file `path` in WAL mode, to a
    /// background thread; `synchronous` is the connection's setting.
    pub(crate) fn attach(conn: &mut Connection, path: &Path, synchronous: &'static str) -> rusqlite::Result<Self> {
        let shared = Arc::new(Shared {
            path: path.to_path_buf(),
            synchronous,
            state: Mutex::new(State::default()),
            wake: Condvar::new(),
        });
        let asker = Arc::clone(&shared);
        // The hook counts pages, whose size depends on when the file was made.
        let page: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        let (ask_at, in_place_at) = ((ASK_AT / page.max(512)) as c_int, (IN_PLACE_AT / page.max(512)) as c_int);
        // This replaces SQLite's auto-checkpoint, which is a WAL hook too. As there,
        // a failed checkpoint is no error of the commit that asked for it.
        conn.wal_hook(Some(move |wal: &mut rusqlite::hooks::Wal, pages: c_int| {
            if pages >= in_place_at || (pages >= ask_at && !asker.ask()) {
                let _ = wal.checkpoint();
            }
            Ok(())
        }))?;
        Ok(Checkpointer { shared })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        let thread = {
            let mut state = self.shared.lock();
            state.stopping = true;
            state.thread.take()
        };
        self.shared.wake.notify_all();
        if let Some(t) = thread {
            let _ = t.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Asks the thread (started now if need be) for a checkpoint; false when there is
    /// no thread to ask.
    fn ask(self: &Arc<Self>) -> bool {
        let mut state = self.lock();
        if state.unavailable || state.stopping {
            return false;
        }
        if state.thread.is_none() {
            let shared = Arc::clone(self);
            match std::thread::Builder::new().name("twinsync-ckpt".into()).spawn(move || shared.run()) {
                Ok(t) => state.thread = Some(t),
                Err(_) => {
                    state.unavailable = true;
                    return false;
                }
            }
        }
        state.asked = true;
        drop(state);
        self.wake.notify_one();
        true
    }

    fn run(&self) {
        let Ok(conn) = self.open() else {
            self.lock().unavailable = true;
            return;
        };
        loop {
            let mut state = self.lock();
            while !state.asked && !state.stopping {
                state = self.wake.wait(state).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
            if !state.asked {
                break;
            }
            state.asked = false;
            drop(state);
            // Passive: it copies what no reader still needs and never blocks the writer.
            if conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).is_err() {
                self.lock().unavailable = true;
                break;
            }
        }
    }

    fn open(&self) -> rusqlite::Result<Connection> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        // As the writer's, so a checkpoint (and the one on close) syncs as its commits do.
        conn.execute_batch(&format!(
            "PRAGMA synchronous = {}; PRAGMA journal_size_limit = {};",
            self.synchronous,
            crate::schema::JOURNAL_SIZE_LIMIT
        ))?;
        Ok(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A WAL database at `path` with a table `t`, its checkpoints moved to a thread.
    fn open(path: &Path) -> (Connection, Checkpointer) {
        let mut conn = Connection::open(path).unwrap();
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).unwrap();
        conn.execute_batch("PRAGMA synchronous = NORMAL; CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY, v BLOB)")
            .unwrap();
        let ckpt = Checkpointer::attach(&mut conn, path, "NORMAL").unwrap();
        (conn, ckpt)
    }

    #[test]
    fn a_growing_wal_is_copied_into_the_file_by_another_thread_and_nothing_is_lost() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let (mut conn, ckpt) = open(&path);
        // About three times the mark, 100 rows of 3 KB (a 4 KiB page each) per commit.
        let rows = 3 * ASK_AT / 4096;
        for chunk in 0..rows / 100 {
            let tx = conn.transaction().unwrap();
            for k in chunk * 100..(chunk + 1) * 100 {
                tx.execute("INSERT INTO t VALUES (?1, zeroblob(3000))", [k]).unwrap();
            }
            tx.commit().unwrap();
        }
        // Only a checkpoint writes pages into the database file itself; this one runs on
        // its own, so it is waited for (a liveness wait, not a measure of speed).
        let started = std::time::Instant::now();
        while std::fs::metadata(&path).unwrap().len() < ASK_AT as u64 {
            assert!(started.elapsed().as_secs() < 60, "no checkpoint reached the file");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        {
            let state = ckpt.shared.lock();
            assert!(state.thread.is_some() && !state.unavailable, "the thread was started and kept working");
        }
        drop(conn);
        drop(ckpt);
        assert!(!dir.path().join("db-wal").exists(), "the last connection to close checkpointed the rest");
        let conn = Connection::open(&path).unwrap();
        let n: i64 = conn.query_row("SELECT count(*) FROM t", [], |r| r.get(0)).unwrap();
        assert_eq!(n, rows / 100 * 100);
    }

    #[test]
    fn a_short_session_starts_no_thread_and_checkpoints_on_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db");
        let (conn, ckpt) = open(&path);
        conn.execute("INSERT INTO t VALUES (1, zeroblob(10))", []).unwrap();
        assert!(ckpt.shared.lock().thread.is_none());
        drop(conn);
        drop(ckpt);
        assert!(!dir.path().join("db-wal").exists());
    }
}
