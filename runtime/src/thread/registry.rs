//! The registry of alive threads behind `enumerate()` and `active_count()`,
//! and the `_DummyThread`s of foreign OS threads.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::{Kind, Thread};
use crate::runtime;

/// Shards of the registry: spreads the lock traffic of many threads starting
/// and ending at once over several mutexes (a power of two, so the shard is
/// a mask of the ident).
const SHARDS: usize = 16;

/// The alive threads of one runtime, by ident.
#[derive(Debug)]
pub(crate) struct Registry {
    /// Threads by ident, sharded by the ident's low bits.
    shards: Box<[Mutex<HashMap<u64, Thread>>]>,
    /// Set by `close` while holding every shard lock, read under one: a
    /// start either registers before the close or sees it.
    closed: AtomicBool,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, ident: u64) -> std::sync::MutexGuard<'_, HashMap<u64, Thread>> {
        self.shards[(ident as usize) & (SHARDS - 1)]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a thread regardless of `close` (main and dummy threads).
    pub(crate) fn insert(&self, t: &Thread) {
        let ident = t.inner.ident.load(Ordering::Relaxed);
        self.shard(ident).insert(ident, t.clone());
    }

    /// Registers a starting thread unless the registry is closed; returns
    /// whether it did.
    pub(crate) fn insert_if_open(&self, t: &Thread) -> bool {
        let ident = t.inner.ident.load(Ordering::Relaxed);
        let mut shard = self.shard(ident);
        if self.closed.load(Ordering::Relaxed) {
            return false;
        }
        shard.insert(ident, t.clone());
        true
    }

    /// Refuses every later `insert_if_open`. Taking every shard lock orders
    /// the close after each start already registered and before any later.
    pub(crate) fn close(&self) {
        let guards: Vec<_> = self
            .shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()))
            .collect();
        self.closed.store(true, Ordering::Relaxed);
        drop(guards);
    }

    pub(crate) fn remove(&self, t: &Thread) {
        let ident = t.inner.ident.load(Ordering::Relaxed);
        let removed = self.shard(ident).remove(&ident);
        drop(removed); // may drop the last handle: not under the lock
    }

    /// The number of alive threads (summed over the shards: `active_count`
    /// is rare, starts and ends are not).
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).len())
            .sum()
    }

    /// The alive threads in start (ident) order.
    pub(crate) fn snapshot(&self) -> Vec<Thread> {
        let mut all: Vec<Thread> = Vec::with_capacity(self.len());
        for shard in self.shards.iter() {
            all.extend(
                shard
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .values()
                    .cloned(),
            );
        }
        all.sort_by_key(|t| t.inner.ident.load(Ordering::Relaxed));
        all
    }

    /// Any alive thread matching `pred`.
    pub(crate) fn find(&self, pred: impl Fn(&Thread) -> bool) -> Option<Thread> {
        self.shards.iter().find_map(|s| {
            s.lock()
                .unwrap_or_else(|e| e.into_inner())
                .values()
                .find(|t| pred(t))
                .cloned()
        })
    }
}

/// This OS thread's `_DummyThread`, deregistered when the OS thread exits.
struct DummyGuard(Thread);

impl Drop for DummyGuard {
    fn drop(&mut self) {
        runtime::global().registry.remove(&self.0);
        self.0.inner.mark_stopped();
    }
}

thread_local! {
    static DUMMY: RefCell<Option<DummyGuard>> = const { RefCell::new(None) };
}

/// The `_DummyThread` for the calling OS thread, created and registered (in
/// the process-wide runtime's registry) on first use. Daemon, as in Python.
pub(crate) fn dummy_for_this_os_thread() -> Thread {
    let made = DUMMY.try_with(|d| {
        d.borrow_mut()
            .get_or_insert_with(|| {
                let t = Thread::new_running(Kind::Dummy, None, true);
                runtime::global().registry.insert(&t);
                DummyGuard(t)
            })
            .0
            .clone()
    });
    // During the OS thread's own teardown the TLS is gone: an unregistered
    // dummy still answers `current_thread()` sensibly.
    made.unwrap_or_else(|_| Thread::new_running(Kind::Dummy, None, true))
}
