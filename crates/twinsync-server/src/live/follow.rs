//! One live connection's view of its project's feed: every event after the id it
//! started from, in order, each once.
//!
//! It subscribes to the feed first, then reads what it must replay from the store (a
//! `since` older than the feed), then takes the feed's events, skipping those it already
//! has (by outbox id). Whenever it cannot be sure the next event of the feed follows the
//! last one it gave (the event's `prev` is past it; or it lagged more than the channel
//! holds), it reads the store from its last id again: a slow client costs store reads,
//! never lost events.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::{broadcast, watch};

use super::feed::{self, Feed, Live};
use crate::pool::Pool;

/// Why a follower's stream ended: what a WebSocket's close frame tells its client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum End {
    /// The server is shutting down.
    Closing,
    /// The project was unregistered: reconnecting will not help.
    Unregistered,
    /// The outbox could not be read: reconnect with the last id seen.
    Failed,
}

pub(crate) struct Follower {
    /// Held so the feed runs while this connection is open.
    _feed: Arc<Feed>,
    rx: broadcast::Receiver<Arc<Live>>,
    pool: Arc<Pool>,
    dir: PathBuf,
    project: String,
    /// The id of the newest event given or queued.
    last: u64,
    /// Whether the store may hold events after `last` the feed will not send.
    behind: bool,
    queue: VecDeque<Arc<Live>>,
    closing: watch::Receiver<bool>,
    /// Turns true when the project is unregistered.
    gone: watch::Receiver<bool>,
}

impl Follower {
    /// Follows `feed` (subscribed as `rx`) from `last`; `replay`: read the store from
    /// `last` first.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        feed: Arc<Feed>,
        rx: broadcast::Receiver<Arc<Live>>,
        pool: Arc<Pool>,
        dir: PathBuf,
        project: String,
        last: u64,
        replay: bool,
        closing: watch::Receiver<bool>,
    ) -> Follower {
        let gone = feed.gone();
        Follower { _feed: feed, rx, pool, dir, project, last, behind: replay, queue: VecDeque::new(), closing, gone }
    }

    /// The project followed.
    pub(crate) fn project(&self) -> &str {
        &self.project
    }

    /// The next event, or why the stream ended: after [`End::Closing`] and
    /// [`End::Failed`] the client reconnects with the last id it saw.
    ///
    /// Cancel-safe: the state changes only once a read or a receive has completed, so a
    /// caller may race it against the socket.
    pub(crate) async fn next(&mut self) -> Result<Arc<Live>, End> {
        loop {
            if *self.closing.borrow() {
                return Err(End::Closing);
            }
            // Before what is queued: nothing more of a project that is no longer served.
            if *self.gone.borrow() {
                return Err(End::Unregistered);
            }
            if let Some(e) = self.queue.pop_front() {
                return Ok(e);
            }
            if self.behind {
                let events =
                    feed::read(&self.pool, &self.dir, self.last, feed::BATCH).await.map_err(|_| End::Failed)?;
                self.behind = events.len() == feed::BATCH;
                for e in &events {
                    if e.id > self.last {
                        self.queue.push_back(Arc::new(Live::of(e, &self.project, self.last)));
                        self.last = e.id;
                    }
                }
                continue;
            }
            tokio::select! {
                got = self.rx.recv() => match got {
                    Ok(e) if e.id <= self.last => {}
                    // Something between our last and this one is not on the way: read it.
                    Ok(e) if e.prev > self.last => self.behind = true,
                    Ok(e) => {
                        self.last = e.id;
                        return Ok(e);
                    }
                    Err(RecvError::Lagged(_)) => self.behind = true,
                    // The poller ended: the loop's checks say why, else its store failed.
                    Err(RecvError::Closed) if *self.gone.borrow() || *self.closing.borrow() => {}
                    Err(RecvError::Closed) => return Err(End::Failed),
                },
                changed = self.closing.changed() => if changed.is_err() { return Err(End::Closing) },
                // The feed this holds keeps the sender alive: `changed` cannot fail here.
                _ = self.gone.changed() => {}
            }
        }
    }
}
