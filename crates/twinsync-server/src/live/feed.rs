//! One poller per project, shared by every live connection to it.
//!
//! A [`Feed`] reads the project's outbox once per tick ([`POLL`]), or at once when a write
//! of this server pokes it ([`Feeds::poke`]), and fans what it read out to its
//! connections through a `tokio::sync::broadcast` channel: each event is read and turned
//! into JSON once, however many clients follow. 500 clients on one project cost ten
//! reads a second, not 5,000.
//!
//! Each event it sends carries the id of the one it sent before (`prev`): the chain of
//! `(prev, id]` covers every id the poller read, so a connection that sees an event
//! whose `prev` is past its own last id knows it missed something (it joined before the
//! poller started, or lagged) and reads the gap from the store instead (`follow.rs`).
//!
//! The poller stops when its last connection goes, when the server closes, when its
//! project is unregistered ([`Feeds::stop`]: its connections end too, told why), or when
//! the store failed [`MAX_FAILURES`] ticks in a row (its connections then end and their
//! clients reconnect with the last id they saw).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use axum::extract::ws::Utf8Bytes;
use tokio::sync::{broadcast, watch, Notify};
use twinsync::core::Event;

use crate::pool::Pool;

/// How often a feed looks at the outbox when nothing pokes it: what bounds the delay of
/// events written by other processes (the CLI, a watch, another server).
pub(crate) const POLL: Duration = Duration::from_millis(100);

/// Events read from the store at a time.
pub(crate) const BATCH: usize = 500;

/// Events a connection may fall behind the feed before it reads the store instead.
const CAPACITY: usize = 1024;

/// Failed reads in a row after which a feed gives up.
const MAX_FAILURES: u32 = 3;

/// An outbox event as live connections send it, serialised once.
pub(crate) struct Live {
    pub(crate) id: u64,
    /// The id of the event the feed sent before this one (its start, for the first).
    pub(crate) prev: u64,
    pub(crate) kind: &'static str,
    /// The JSON message (see the module docs of `live`).
    pub(crate) json: Utf8Bytes,
}

impl Live {
    pub(crate) fn of(e: &Event, project: &str, prev: u64) -> Live {
        let json = serde_json::json!({
            "id": e.id, "type": e.event_type, "time": e.time.to_rfc3339(), "pair": e.pair,
            "correlationId": e.correlation_id, "payload": e.payload, "projectId": project,
        });
        Live { id: e.id, prev, kind: e.event_type.as_str(), json: json.to_string().into() }
    }
}

/// A project's poller as its connections hold it: while one does, it runs.
pub(crate) struct Feed {
    tx: broadcast::WeakSender<Arc<Live>>,
    wake: Arc<Notify>,
    /// The id the poller has read up to (`None` until its first look).
    cursor: watch::Receiver<Option<u64>>,
    /// Turns true when the project is unregistered: the poller and every connection end.
    gone: watch::Sender<bool>,
}

impl Drop for Feed {
    fn drop(&mut self) {
        // The poller finds it has no connection left at once, not at its next tick.
        self.wake.notify_one();
    }
}

impl Feed {
    /// Where a connection that wants only new events starts: the newest id the poller
    /// read (after its first look). `None`: the poller could not read the store.
    pub(crate) async fn cursor(&self) -> Option<u64> {
        let mut cursor = self.cursor.clone();
        let seen = cursor.wait_for(Option::is_some).await.ok()?;
        *seen
    }

    /// Turns true when the project is unregistered (see [`Feeds::stop`]).
    pub(crate) fn gone(&self) -> watch::Receiver<bool> {
        self.gone.subscribe()
    }
}

/// The running feeds, by project id.
#[derive(Clone, Default)]
pub(crate) struct Feeds {
    running: Arc<Mutex<HashMap<String, Weak<Feed>>>>,
}

/// What a poller needs of the server.
pub(crate) struct Source {
    pub(crate) id: String,
    pub(crate) dir: PathBuf,
    pub(crate) pool: Arc<Pool>,
    pub(crate) closing: watch::Receiver<bool>,
}

impl Feeds {
    /// Joins the feed of project `source.id`, starting its poller if none runs; answers
    /// the feed and a receiver subscribed before this returns (so nothing the poller sends
    /// from now on is missed).
    pub(crate) fn join(&self, source: Source) -> (Arc<Feed>, broadcast::Receiver<Arc<Live>>) {
        let mut running = self.running.lock().expect("feeds");
        if let Some(feed) = running.get(&source.id).and_then(Weak::upgrade) {
            if let Some(tx) = feed.tx.upgrade() {
                let rx = tx.subscribe();
                return (feed, rx);
            }
        }
        let (tx, rx) = broadcast::channel(CAPACITY);
        let wake = Arc::new(Notify::new());
        let (cursor_tx, cursor) = watch::channel(None);
        let (gone, gone_rx) = watch::channel(false);
        let feed = Arc::new(Feed { tx: tx.downgrade(), wake: wake.clone(), cursor, gone });
        running.insert(source.id.clone(), Arc::downgrade(&feed));
        let poller =
            Poller { feeds: self.clone(), feed: Arc::downgrade(&feed), tx, wake, cursor: cursor_tx, gone: gone_rx };
        tokio::spawn(poller.run(source));
        (feed, rx)
    }

    /// Makes the feed of project `id`, if one runs, look at the outbox now: a write this
    /// server made reaches live clients without waiting for a tick.
    pub(crate) fn poke(&self, id: &str) {
        let feed = self.running.lock().expect("feeds").get(id).and_then(Weak::upgrade);
        if let Some(feed) = feed {
            feed.wake.notify_one();
        }
    }

    /// Pokes every feed (a write whose project is not known from its path: `/mcp`).
    pub(crate) fn poke_all(&self) {
        let feeds: Vec<Arc<Feed>> = self.running.lock().expect("feeds").values().filter_map(Weak::upgrade).collect();
        for feed in feeds {
            feed.wake.notify_one();
        }
    }

    /// Stops the feed of project `id`, which was unregistered: its poller ends and each of
    /// its connections ends with [`End::Unregistered`](super::follow::End). It is
    /// forgotten at once, so the folder registered again gets a feed of its own.
    pub(crate) fn stop(&self, id: &str) {
        let feed = self.running.lock().expect("feeds").remove(id).and_then(|f| f.upgrade());
        if let Some(feed) = feed {
            feed.gone.send_replace(true);
        }
    }

    /// Forgets the feed `feed` of project `id`, unless another replaced it.
    fn leave(&self, id: &str, feed: &Weak<Feed>) {
        let mut running = self.running.lock().expect("feeds");
        if running.get(id).is_some_and(|f| Weak::ptr_eq(f, feed)) {
            running.remove(id);
        }
    }
}

struct Poller {
    feeds: Feeds,
    feed: Weak<Feed>,
    /// The only sender: when the poller ends, its connections see the channel close.
    tx: broadcast::Sender<Arc<Live>>,
    wake: Arc<Notify>,
    cursor: watch::Sender<Option<u64>>,
    gone: watch::Receiver<bool>,
}

impl Poller {
    async fn run(mut self, mut source: Source) {
        let Ok(mut cursor) = newest(&source).await else {
            self.feeds.leave(&source.id, &self.feed);
            return;
        };
        self.cursor.send_replace(Some(cursor));
        let mut failures = 0;
        loop {
            if *source.closing.borrow() || *self.gone.borrow() || self.feed.strong_count() == 0 {
                break;
            }
            match read(&source.pool, &source.dir, cursor, BATCH).await {
                Ok(events) => {
                    failures = 0;
                    let full = events.len() == BATCH;
                    for e in &events {
                        // No receiver is no error: a connection may be between two looks.
                        let _ = self.tx.send(Arc::new(Live::of(e, &source.id, cursor)));
                        cursor = e.id;
                    }
                    self.cursor.send_replace(Some(cursor));
                    if full {
                        continue;
                    }
                }
                Err(e) => {
                    failures += 1;
                    if failures >= MAX_FAILURES {
                        tracing::warn!(target: "twinsync", project = %source.id, error = %e, "live events stopped: the outbox cannot be read");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(POLL) => {}
                _ = self.wake.notified() => {}
                changed = source.closing.changed() => if changed.is_err() { break },
                // An error: the feed, holder of the sender, is gone; the loop's check ends it.
                _ = self.gone.changed() => {}
            }
        }
        self.feeds.leave(&source.id, &self.feed);
    }
}

/// Up to `limit` events of the project at `dir` after `after`, on the blocking pool.
pub(crate) async fn read(
    pool: &Arc<Pool>,
    dir: &std::path::Path,
    after: u64,
    limit: usize,
) -> twinsync::Result<Vec<Event>> {
    let (pool, dir) = (pool.clone(), dir.to_path_buf());
    blocking(move || {
        let taken = pool.take(&dir)?;
        let events = taken.project.events(after, limit);
        pool.give(taken);
        events
    })
    .await
}

/// The newest outbox id of the project: where a new feed starts.
async fn newest(source: &Source) -> twinsync::Result<u64> {
    let (pool, dir) = (source.pool.clone(), source.dir.clone());
    blocking(move || {
        let mut taken = pool.take(&dir)?;
        let newest = taken.project.newest_event_id();
        pool.give(taken);
        newest
    })
    .await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> twinsync::Result<T> + Send + 'static) -> twinsync::Result<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
        Err(twinsync::Error::Io { path: PathBuf::from("(live events)"), source: std::io::Error::other(e.to_string()) })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::live::follow::Follower;

    /// Writes `n` lock events to the project at `dir` as another process would.
    fn write_events(dir: &std::path::Path, n: usize) {
        let mut p = twinsync::Project::open(dir).unwrap();
        p.set_actor("writer");
        for _ in 0..n / 2 {
            p.lock_acquire(Some(60_000), None).unwrap();
            p.lock_release("writer").unwrap();
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_follower_that_falls_past_the_buffer_reads_the_store_and_loses_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        for side in ["a", "b"] {
            std::fs::create_dir_all(dir.join(side)).unwrap();
        }
        twinsync::Project::init(&dir, "a", "b").unwrap();
        let (pool, (_closing_tx, closing)) = (Arc::new(Pool::default()), watch::channel(false));
        let source = || Source { id: "p".into(), dir: dir.clone(), pool: pool.clone(), closing: closing.clone() };
        let feeds = Feeds::default();
        let (feed, rx) = feeds.join(source());
        let start = feed.cursor().await.unwrap();
        let (same, mut bare) = feeds.join(source());
        assert!(Arc::ptr_eq(&feed, &same), "one feed per project");
        let mut follower =
            Follower::new(feed, rx, pool.clone(), dir.clone(), "p".into(), start, false, closing.clone());

        // More events than the channel holds, sent while nobody reads.
        let n = CAPACITY + 300;
        let d = dir.clone();
        tokio::task::spawn_blocking(move || write_events(&d, n)).await.unwrap();
        let newest = start + n as u64;
        let mut cursor = same.cursor.clone();
        tokio::time::timeout(Duration::from_secs(60), cursor.wait_for(|c| *c == Some(newest)))
            .await
            .expect("the feed reads every event")
            .unwrap();
        assert!(
            matches!(bare.recv().await, Err(broadcast::error::RecvError::Lagged(_))),
            "a bare receiver lost events"
        );

        let mut ids = Vec::new();
        while ids.len() < n {
            ids.push(follower.next().await.unwrap().id);
        }
        assert_eq!(ids, (start + 1..=newest).collect::<Vec<_>>(), "every event, once, in order");
        // What the channel still holds was read from the store: skipped, not sent twice.
        let d = dir.clone();
        tokio::task::spawn_blocking(move || write_events(&d, 2)).await.unwrap();
        let next = [follower.next().await.unwrap().id, follower.next().await.unwrap().id];
        assert_eq!(next, [newest + 1, newest + 2]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_poller_stops_with_its_last_connection_and_on_shutdown() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        for side in ["a", "b"] {
            std::fs::create_dir_all(dir.join(side)).unwrap();
        }
        twinsync::Project::init(&dir, "a", "b").unwrap();
        let (pool, (closing_tx, closing)) = (Arc::new(Pool::default()), watch::channel(false));
        let source = || Source { id: "p".into(), dir: dir.clone(), pool: pool.clone(), closing: closing.clone() };
        let feeds = Feeds::default();

        let (feed, mut rx) = feeds.join(source());
        feed.cursor().await.unwrap();
        drop(feed);
        // The poller drops the only sender as it ends.
        let ended = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.expect("the poller ends");
        assert!(matches!(ended, Err(broadcast::error::RecvError::Closed)));
        assert!(feeds.running.lock().unwrap().is_empty(), "forgotten");

        let (_feed, mut rx) = feeds.join(source());
        closing_tx.send_replace(true);
        let ended = tokio::time::timeout(Duration::from_secs(30), rx.recv()).await.expect("the poller ends");
        assert!(matches!(ended, Err(broadcast::error::RecvError::Closed)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stopping_a_feed_ends_its_poller_and_followers_while_they_hold_it() {
        use crate::live::follow::End;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("p");
        for side in ["a", "b"] {
            std::fs::create_dir_all(dir.join(side)).unwrap();
        }
        twinsync::Project::init(&dir, "a", "b").unwrap();
        let (pool, (_closing_tx, closing)) = (Arc::new(Pool::default()), watch::channel(false));
        let source = || Source { id: "p".into(), dir: dir.clone(), pool: pool.clone(), closing: closing.clone() };
        let feeds = Feeds::default();
        let (feed, rx) = feeds.join(source());
        let start = feed.cursor().await.unwrap();
        let (_, mut bare) = feeds.join(source());
        let mut follower =
            Follower::new(feed.clone(), rx, pool.clone(), dir.clone(), "p".into(), start, false, closing.clone());
        // Waiting for an event when the stop comes.
        let waiting = tokio::spawn(async move { follower.next().await.map(|e| e.id) });
        tokio::task::yield_now().await;

        feeds.stop("p");
        let ended = tokio::time::timeout(Duration::from_secs(30), bare.recv()).await.expect("the poller ends");
        assert!(matches!(ended, Err(broadcast::error::RecvError::Closed)), "though a feed is still held");
        assert_eq!(waiting.await.unwrap(), Err(End::Unregistered));
        assert!(feeds.running.lock().unwrap().is_empty(), "forgotten");

        // The same project registered again gets a new feed, not the stopped one.
        let (again, _rx) = feeds.join(source());
        assert!(!Arc::ptr_eq(&feed, &again));
        assert!(!*again.gone().borrow());
    }
}
