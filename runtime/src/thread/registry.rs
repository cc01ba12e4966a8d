//! The registry of alive threads behind `enumerate()` and `active_count()`,
//! and the `_DummyThread`s of foreign OS threads.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use super::{Kind, Thread, STOPPED};
use crate::runtime;

/// Shards of the registry: spreads the lock traffic of many threads starting
/// and ending at once over several mutexes (a power of two, so the shard is
/// a mask of the ident).
const SHARDS: usize = 16;

/// The alive threads of one runtime, by ident.
#[derive(Debug)]
pub(crate) struct Registry {
    shards: Box<[Mutex<HashMap<u64, Thread>>]>,
    len: AtomicUsize,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            shards: (0..SHARDS).map(|_| Mutex::new(HashMap::new())).collect(),
            len: AtomicUsize::new(0),
        }
    }

    fn shard(&self, ident: u64) -> std::sync::MutexGuard<'_, HashMap<u64, Thread>> {
        self.shards[(ident as usize) & (SHARDS - 1)]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn insert(&self, t: &Thread) {
        let ident = t.inner.ident.load(Ordering::Relaxed);
        if self.shard(ident).insert(ident, t.clone()).is_none() {
            self.len.fetch_add(1, Ordering::Relaxed);
        }
    }

    pub(crate) fn remove(&self, t: &Thread) {
        let ident = t.inner.ident.load(Ordering::Relaxed);
        let removed = self.shard(ident).remove(&ident);
        if removed.is_some() {
            self.len.fetch_sub(1, Ordering::Relaxed);
        }
        drop(removed);
    }

    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::Relaxed)
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
        self.0.inner.state.store(STOPPED, Ordering::Release);
        self.0.inner.done.notify(usize::MAX);
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
