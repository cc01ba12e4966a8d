//! The registry of alive threads behind `enumerate()` and `active_count()`,
//! and the `_DummyThread`s of foreign OS threads.
//!
//! A `start_new_thread` thread (`Kind::Raw`) is registered from its start,
//! so that shutdown finds and cancels it, but `HIDDEN`: `enumerate()` and
//! `active_count()` leave it out until it calls `current_thread()`
//! ([`reveal`]), as CPython registers a `_DummyThread` only then.

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use super::handle;
use super::{Kind, Thread, HIDDEN, NAME_COUNTER};

/// Shards of the registry: spreads the lock traffic of many threads starting
/// and ending at once over several mutexes. A power of two, so the shard is
/// a mask of the ident. (By the ident's low bits: sharding by ident block,
/// so that one worker's starts share a shard, was slower in W2, since the
/// threads that end are the ones just started, on the other worker.)
const SHARDS: usize = 16;

/// `ThreadInner::reg_slot` of a thread that is not registered.
pub(crate) const NO_SLOT: u32 = u32::MAX;

/// One shard: a slab of threads. A thread remembers its slot, so leaving is
/// O(1) with no hashing, and a freed slot is the next one taken (it is
/// still in cache). Each shard's lock is alone on its cache lines (two:
/// adjacent-line prefetch), or workers locking neighbouring shards would
/// still bounce one line.
#[derive(Debug, Default)]
#[repr(align(128))]
struct Shard {
    /// The registered threads; `None`: a free slot.
    slots: Vec<Option<Thread>>,
    /// Free slots, most recently freed last.
    free: Vec<u32>,
    /// How many of the registered threads are `HIDDEN`.
    hidden: usize,
}

impl Shard {
    fn insert(&mut self, t: &Thread) {
        let slot = match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = Some(t.clone());
                i
            }
            None => {
                self.slots.push(Some(t.clone()));
                // A shard never holds `NO_SLOT` (4 billion) threads: the
                // memory runs out long before.
                (self.slots.len() - 1) as u32
            }
        };
        t.inner.reg_slot.store(slot, Ordering::Relaxed);
        if t.inner.has_flag(HIDDEN) {
            self.hidden += 1;
        }
    }

    /// Whether `t` is registered here.
    fn holds(&self, t: &Thread) -> bool {
        let slot = t.inner.reg_slot.load(Ordering::Relaxed);
        self.slots
            .get(slot as usize)
            .is_some_and(|e| e.as_ref() == Some(t))
    }

    fn remove(&mut self, t: &Thread) -> Option<Thread> {
        if !self.holds(t) {
            return None; // not registered here (or removed already)
        }
        if t.inner.has_flag(HIDDEN) {
            self.hidden -= 1;
        }
        let slot = t.inner.reg_slot.load(Ordering::Relaxed);
        let entry = self.slots.get_mut(slot as usize)?;
        t.inner.reg_slot.store(NO_SLOT, Ordering::Relaxed);
        self.free.push(slot);
        entry.take()
    }

    /// The visible threads.
    fn len(&self) -> usize {
        self.slots.len() - self.free.len() - self.hidden
    }

    fn threads(&self) -> impl Iterator<Item = &Thread> {
        self.slots.iter().flatten()
    }
}

/// The alive threads of one runtime.
#[derive(Debug)]
pub(crate) struct Registry {
    /// Threads, sharded by ident block.
    shards: Box<[Mutex<Shard>]>,
    /// Set by `close` while holding every shard lock, read under one: a
    /// start either registers before the close or sees it.
    closed: AtomicBool,
}

impl Registry {
    pub(crate) fn new() -> Registry {
        Registry {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            closed: AtomicBool::new(false),
        }
    }

    fn shard(&self, t: &Thread) -> std::sync::MutexGuard<'_, Shard> {
        let ident = t.inner.ident.load(Ordering::Relaxed);
        self.shards[ident as usize & (SHARDS - 1)]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a thread regardless of `close` (main and dummy threads).
    pub(crate) fn insert(&self, t: &Thread) {
        self.shard(t).insert(t);
    }

    /// Registers a starting thread unless the registry is closed; returns
    /// whether it did.
    pub(crate) fn insert_if_open(&self, t: &Thread) -> bool {
        let mut shard = self.shard(t);
        if self.closed.load(Ordering::Relaxed) {
            return false;
        }
        shard.insert(t);
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

    /// Deregisters `t` (nothing if it is not registered).
    pub(crate) fn remove(&self, t: &Thread) {
        let removed = self.shard(t).remove(t);
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

    /// The alive threads in start (ident) order, hidden ones included
    /// (what shutdown and the `_all_threads` hooks need).
    pub(crate) fn snapshot(&self) -> Vec<Thread> {
        self.collect(|_| true)
    }

    /// The alive threads `enumerate()` shows, in start (ident) order.
    pub(crate) fn visible(&self) -> Vec<Thread> {
        self.collect(|t| !t.inner.has_flag(HIDDEN))
    }

    fn collect(&self, keep: impl Fn(&Thread) -> bool) -> Vec<Thread> {
        let mut all: Vec<Thread> = Vec::with_capacity(self.len());
        for shard in self.shards.iter() {
            all.extend(
                shard
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .threads()
                    .filter(|t| keep(t))
                    .cloned(),
            );
        }
        all.sort_by_key(|t| t.inner.ident.load(Ordering::Relaxed));
        all
    }

    /// Calls `f` on every registered thread, under each shard's lock in
    /// turn (`f` must be quick and take no lock a start or end may hold).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Thread)) {
        for shard in self.shards.iter() {
            shard
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .threads()
                .for_each(&mut f);
        }
    }

    /// Makes a hidden thread visible (see [`reveal`]).
    fn reveal(&self, t: &Thread) {
        let mut shard = self.shard(t);
        if !t.inner.has_flag(HIDDEN) {
            return; // a racing call won
        }
        // Named first, so it is never listed unnamed.
        let n = NAME_COUNTER.fetch_add(1, Ordering::Relaxed);
        t.inner.auto_n.store(n, Ordering::Relaxed);
        if shard.holds(t) {
            shard.hidden -= 1;
        }
        t.inner.flags.fetch_and(!HIDDEN, Ordering::AcqRel);
    }

    /// Any alive thread matching `pred`.
    pub(crate) fn find(&self, pred: impl Fn(&Thread) -> bool) -> Option<Thread> {
        self.shards.iter().find_map(|s| {
            s.lock()
                .unwrap_or_else(|e| e.into_inner())
                .threads()
                .find(|t| pred(t))
                .cloned()
        })
    }
}

/// A `start_new_thread` thread calling `current_thread()` (Python creates
/// its `_DummyThread` then): it takes its `Dummy-N` name and becomes
/// visible in its runtime's registry. Nothing once it is visible.
pub(crate) fn reveal(t: &Thread) {
    if t.inner.has_flag(HIDDEN) {
        // It is the thread being polled here, so this is its runtime.
        super::context::with_runtime(|rt| {
            if let Some(rt) = rt {
                rt.registry.reveal(t);
            }
        });
    }
}

/// This OS thread's `_DummyThread`, deregistered when the OS thread exits.
struct DummyGuard(Thread);

impl Drop for DummyGuard {
    fn drop(&mut self) {
        // The record dies with the thread: no wait site may reach it.
        crate::record::leave(std::ptr::null());
        super::local::teardown(&self.0);
        handle::global().registry.remove(&self.0);
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
                handle::global().registry.insert(&t);
                // Its waits outside any green thread (`block_on`) are
                // recorded; the guard clears this before the record goes.
                crate::record::enter(&t.inner.record);
                DummyGuard(t)
            })
            .0
            .clone()
    });
    // During the OS thread's own teardown the TLS is gone: an unregistered
    // dummy still answers `current_thread()` sensibly.
    made.unwrap_or_else(|_| Thread::new_running(Kind::Dummy, None, true))
}

/// The ident of this OS thread's `_DummyThread` if it has one (never
/// creates it): what a Lock records as its holder outside green threads.
pub(crate) fn dummy_ident_if_any() -> u64 {
    DUMMY
        .try_with(|d| {
            d.try_borrow()
                .ok()
                .and_then(|d| d.as_ref().map(|g| g.0.inner.ident.load(Ordering::Relaxed)))
        })
        .ok()
        .flatten()
        .unwrap_or(0)
}
