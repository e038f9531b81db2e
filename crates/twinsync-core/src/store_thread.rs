//! The store on a thread of its own while a sync applies its items.
//!
//! A first sync spends about as long in the store (recording intents with the contents
//! kept as bases, committing each batch) as in reading and writing files, and one core
//! sat idle. With the store's calls on their own thread, batch N+1's intents and batch
//! N-1's commit run while batch N's files are written and flushed.
//!
//! Calls run in the order they are made, one at a time, so the store sees exactly the
//! sequence it would see on the caller's thread: a caller that waits for an intent's
//! [`Ticket`] before writing still writes only what is recorded, and a commit sent after
//! a flush still follows it.

use std::sync::mpsc;

use crate::store::Store;

type Call = Box<dyn FnOnce(&mut dyn Store) + Send>;

/// The handle the applying thread calls the store through.
pub(crate) struct StoreThread {
    calls: mpsc::Sender<Call>,
}

/// The answer of one call, taken when the caller needs it.
#[must_use = "a ticket is how a call's error is seen"]
pub(crate) struct Ticket<T>(mpsc::Receiver<T>);

impl<T> Ticket<T> {
    /// Waits for the call to have run and returns its answer.
    pub(crate) fn wait(self) -> T {
        // The thread answers every call it takes; it is gone only if a call panicked.
        self.0.recv().unwrap_or_else(|_| store_thread_stopped())
    }
}

impl StoreThread {
    /// Runs `call` on the store after every call made before it.
    pub(crate) fn call<T: Send + 'static>(&self, call: impl FnOnce(&mut dyn Store) -> T + Send + 'static) -> Ticket<T> {
        let (answer, ticket) = mpsc::sync_channel(1);
        let job: Call = Box::new(move |store| {
            // The caller may have stopped waiting (it failed the item another way).
            let _ = answer.send(call(store));
        });
        if self.calls.send(job).is_err() {
            store_thread_stopped();
        }
        Ticket(ticket)
    }
}

/// Unwinds the caller when the store's thread has stopped, which only a panicking call
/// does: [`with_store_thread`] then passes that call's panic on. Unwinding without a
/// panic of its own, the caller prints nothing over it.
fn store_thread_stopped() -> ! {
    std::panic::resume_unwind(Box::new("the store's thread stopped"))
}

/// Runs `work` with `store` on a thread of its own; returns when `work` has returned and
/// every call it made has run.
pub(crate) fn with_store_thread<R>(store: &mut dyn Store, work: impl FnOnce(&StoreThread) -> R) -> R {
    std::thread::scope(|scope| {
        let (calls, queue) = mpsc::channel::<Call>();
        let thread = std::thread::Builder::new()
            .name("twinsync-store".into())
            .spawn_scoped(scope, move || {
                for call in queue {
                    call(store);
                }
            })
            .expect("a thread for the store");
        let handle = StoreThread { calls };
        let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| work(&handle)));
        // Closing the queue ends the thread once it has run what is queued.
        drop(handle);
        let stored = thread.join();
        match (out, stored) {
            (Ok(out), Ok(())) => out,
            // The store's panic is the cause; the caller's only followed from it.
            (_, Err(panic)) | (Err(panic), Ok(())) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_store::MemoryStore;

    #[test]
    fn calls_run_in_the_order_made_and_all_run_before_it_returns() {
        let mut store = MemoryStore::default();
        let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = with_store_thread(&mut store, |t| {
            for i in 0..100 {
                let order = order.clone();
                let _ = t.call(move |s| {
                    s.kv_put("test", &format!("k{i}"), b"v").unwrap();
                    order.lock().unwrap().push(i);
                });
            }
            t.call(|s| s.kv_get("test", "k99").unwrap()).wait()
        });
        assert_eq!(kept.as_deref(), Some(&b"v"[..]));
        assert_eq!(*order.lock().unwrap(), (0..100).collect::<Vec<_>>());
        assert_eq!(store.kv_get("test", "k0").unwrap().as_deref(), Some(&b"v"[..]));
    }

    #[test]
    #[should_panic(expected = "in the store")]
    fn a_call_that_panics_reaches_the_caller_as_itself() {
        let mut store = MemoryStore::default();
        with_store_thread(&mut store, |t| t.call(|_| -> () { panic!("in the store") }).wait());
    }

    #[test]
    #[should_panic(expected = "in the store")]
    fn a_panic_in_a_call_nobody_waits_for_still_reaches_the_caller() {
        let mut store = MemoryStore::default();
        with_store_thread(&mut store, |t| {
            let _ = t.call(|_| -> () { panic!("in the store") });
        });
    }
}
