//! The registry of alive threads behind `enumerate()` and `active_count()`,
//! and the `_DummyThread`s of foreign OS threads.
//!
//! A `start_new_thread` thread (`Kind::Raw`) is registered from its start,
//! so that shutdown finds and cancels it, but `HIDDEN`: `enumerate()` and
//! `active_count()` leave it out until it calls `current_thread()`
//! ([`reveal`]), as CPython registers a `_DummyThread` only then.

//!
//! A thread that ends on a green worker is not removed at once: it is
//! flagged `ENDED` (every reader skips it from then on) and its removal
//! waits in the worker's batch, flushed when [`BATCH`] have gathered or the
//! worker goes idle ([`flush_ended`]). Each removal would otherwise take
//! its shard's lock, and the threads that end on a worker are mostly ones
//! another worker started (and registered): its shard's cache line moved
//! between the workers twice per thread (W2, W3).

use std::cell::RefCell;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};

use super::handle::{self, RtInner};
use super::thread_ref::ThreadRef;
use super::{Kind, Thread, ThreadInner, ENDED, HIDDEN, NAME_COUNTER};
use crate::catch::drop_caught;

/// Shards of the registry: spreads the lock traffic of many threads starting
/// and ending at once over several mutexes. A power of two. A thread's shard
/// is its ident's block (idents are handed out in blocks of 256 per OS
/// thread, `ident`), so the threads one worker starts share a shard, which
/// stays in that worker's cache; the ends, batched, take each shard's lock
/// once per batch.
const SHARDS: usize = 16;

/// How many ended threads a worker gathers before it removes them.
const BATCH: usize = 64;

/// The shard of a thread with this ident.
fn shard_of(ident: u64) -> usize {
    (ident >> 8) as usize & (SHARDS - 1)
}

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
    free: FreeSlots,
    /// How many of the registered threads are `HIDDEN`.
    hidden: usize,
}

/// A stack of free slot numbers, in blocks small enough for malloc's small
/// bins. A `Vec` of them grew by doubling, and a large allocation while
/// ending threads' chunks wait in malloc's fast bins makes it consolidate
/// every one of them: 6% of W2's instructions went there. A block is taken
/// when the stack needs it and kept.
#[derive(Debug, Default)]
struct FreeSlots {
    /// Full blocks, then the one being filled; those past it are spare.
    /// Boxed each on its own: that is the point (one `Vec` of them all
    /// would be the large allocation again).
    #[allow(clippy::vec_box)]
    blocks: Vec<Box<[u32; FREE_BLOCK]>>,
    /// How many slot numbers it holds.
    len: usize,
}

/// Slot numbers per [`FreeSlots`] block: with malloc's header, 512 B.
const FREE_BLOCK: usize = 126;

impl FreeSlots {
    fn push(&mut self, slot: u32) {
        let (block, i) = (self.len / FREE_BLOCK, self.len % FREE_BLOCK);
        if block == self.blocks.len() {
            self.blocks.push(Box::new([0; FREE_BLOCK]));
        }
        self.blocks[block][i] = slot;
        self.len += 1;
    }

    fn pop(&mut self) -> Option<u32> {
        self.len = self.len.checked_sub(1)?;
        let (block, i) = (self.len / FREE_BLOCK, self.len % FREE_BLOCK);
        Some(self.blocks[block][i])
    }

    fn len(&self) -> usize {
        self.len
    }
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

    /// The visible threads, counted (skipping the ended ones).
    fn count_visible(&self) -> usize {
        self.threads()
            .filter(|t| t.inner.flags.load(Ordering::Acquire) & (HIDDEN | ENDED) == 0)
            .count()
    }

    /// The registered threads that have not ended.
    fn threads(&self) -> impl Iterator<Item = &Thread> {
        self.slots
            .iter()
            .flatten()
            .filter(|t| !t.inner.has_flag(ENDED))
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
        self.lock_shard(shard_of(t.inner.ident.load(Ordering::Relaxed)))
    }

    fn lock_shard(&self, i: usize) -> std::sync::MutexGuard<'_, Shard> {
        self.shards[i].lock().unwrap_or_else(|e| e.into_inner())
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

    /// Deregisters the batch's `threads`, taking each shard's lock once per
    /// run of threads in it, and hands their entries' handles to `removed`
    /// (to be dropped with no lock held: one may be a thread's last).
    fn remove_all(&self, threads: &[Ended], removed: &mut Vec<Thread>) {
        let mut held: Option<(usize, std::sync::MutexGuard<'_, Shard>)> = None;
        for &t in threads {
            // SAFETY: an ended thread in a batch is kept alive by its
            // registry entry, which only its batch removes (`Ended`): here,
            // and the entry's handle, once taken, is kept in `removed`
            // until the caller drops it, after the last address is read.
            let t = unsafe { t.thread() };
            let i = shard_of(t.inner.ident.load(Ordering::Relaxed));
            let shard = match &mut held {
                Some((j, g)) if *j == i => g,
                _ => {
                    held = None; // one shard lock at a time
                    &mut held.insert((i, self.lock_shard(i))).1
                }
            };
            removed.extend(shard.remove(&t));
        }
    }

    /// The number of alive threads (summed over the shards: `active_count`
    /// is rare, starts and ends are not). Counted: the ended threads still
    /// in a worker's batch are not in it.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|e| e.into_inner()).count_visible())
            .sum()
    }

    /// An upper bound of [`len`](Self::len), without counting.
    fn capacity_hint(&self) -> usize {
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
        let mut all: Vec<Thread> = Vec::with_capacity(self.capacity_hint());
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
        t.inner.set_auto_n(n);
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

/// A worker's ended threads not yet removed from their registry.
struct EndedBatch {
    /// The runtime whose registry holds them.
    rt: Option<Weak<RtInner>>,
    /// The threads, flagged `ENDED`.
    threads: Vec<Ended>,
}

/// An ended thread waiting in a batch: its address, counting nothing (a
/// handle would cost a count up and down on the task per thread). Its
/// registry entry keeps it alive, and only its batch removes that entry:
/// an `ENDED` thread is removed nowhere else, and [`remove_ended`] batches
/// registered threads only. When the runtime is gone, its registry took
/// the entries along and the addresses are forgotten, never followed.
#[derive(Clone, Copy)]
struct Ended(*const ThreadInner);

impl Ended {
    /// A borrowed handle to the thread (never dropped: `ManuallyDrop`).
    ///
    /// # Safety
    ///
    /// The thread's registry entry must still hold it, through every use
    /// of the handle.
    unsafe fn thread(self) -> ManuallyDrop<Thread> {
        // SAFETY: the caller's registry entry keeps the thread alive while
        // the handle is used; `ManuallyDrop` leaves the entry's count alone.
        unsafe { Thread::uncounted(self.0) }
    }
}

thread_local! {
    static ENDED_BATCH: RefCell<EndedBatch> = const {
        RefCell::new(EndedBatch { rt: None, threads: Vec::new() })
    };
}

/// Deregisters `t`, a thread of `rt` that has ended and is about to be
/// marked `STOPPED`: flagged `ENDED` at once, so no reader of the registry
/// lists it from now on, and removed in a batch on a green worker (module
/// docs), at once elsewhere.
pub(crate) fn remove_ended(rt: &Arc<RtInner>, t: &Thread) {
    t.inner.flags.fetch_or(ENDED, Ordering::AcqRel);
    // Set under its shard's lock before the thread ran, cleared only by a
    // removal: a thread not registered has no entry to keep it in a batch.
    if t.inner.reg_slot.load(Ordering::Relaxed) == NO_SLOT {
        return;
    }
    if !crate::scheduler::green::on_worker() {
        rt.registry.remove(t);
        return;
    }
    let due = ENDED_BATCH.try_with(|b| {
        // Borrowed: a destructor run by a flush ended a thread.
        let mut b = b.try_borrow_mut().ok()?;
        let same =
            b.rt.as_ref()
                .is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(rt)));
        // Another runtime's batch is flushed first.
        let other = (!same).then(|| EndedBatch {
            rt: b.rt.replace(Arc::downgrade(rt)),
            threads: std::mem::take(&mut b.threads),
        });
        b.threads.push(Ended(ThreadRef::as_ptr(&t.inner)));
        let full = (b.threads.len() >= BATCH).then(|| b.take());
        Some((other, full))
    });
    match due {
        Ok(Some((other, full))) => {
            if let Some(batch) = other {
                batch.flush();
            }
            if let Some(batch) = full {
                batch.flush();
            }
        }
        // No batch to be had (thread-local teardown, or a flush under way).
        Ok(None) | Err(_) => rt.registry.remove(t),
    }
}

impl EndedBatch {
    /// The batch, leaving this one empty (its runtime kept).
    fn take(&mut self) -> EndedBatch {
        EndedBatch {
            rt: self.rt.clone(),
            // Room for the next batch at once, not grown push by push.
            threads: std::mem::replace(&mut self.threads, Vec::with_capacity(BATCH)),
        }
    }

    /// Removes the batch's threads from their registry. The entries'
    /// handles are dropped after the locks are released, each on its own:
    /// one may be a thread's last, whose destructor may run user code (a
    /// hook) that panics.
    fn flush(self) {
        // A runtime that is gone took its registry along, and with it the
        // entries that kept these threads alive (`Ended`).
        let Some(rt) = self.rt.and_then(|w| w.upgrade()) else {
            return;
        };
        let mut removed = Vec::with_capacity(self.threads.len());
        rt.registry.remove_all(&self.threads, &mut removed);
        for t in removed {
            drop_caught(t);
        }
    }
}

/// Removes this worker's batch of ended threads from their registry (what a
/// worker runs before it goes idle, `scheduler::green::set_before_idle`).
pub(crate) fn flush_ended() {
    let batch = ENDED_BATCH.try_with(|b| {
        let mut b = b.try_borrow_mut().ok()?;
        (!b.threads.is_empty()).then(|| b.take())
    });
    if let Ok(Some(batch)) = batch {
        batch.flush();
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

#[cfg(test)]
mod tests {
    use super::NO_SLOT;
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};

    use crate::runtime::Runtime;
    use crate::thread::{enumerate, spawn, ENDED};

    use super::{FreeSlots, FREE_BLOCK};

    #[test]
    fn free_slots_are_a_stack_across_blocks() {
        let mut free = FreeSlots::default();
        assert_eq!(free.pop(), None);
        let n = 3 * FREE_BLOCK as u32 + 5;
        for round in 0..2 {
            for i in 0..n {
                free.push(i * 7 + round);
            }
            assert_eq!(free.len(), n as usize);
            for i in (0..n).rev() {
                assert_eq!(free.pop(), Some(i * 7 + round));
            }
            assert_eq!(free.pop(), None);
            assert_eq!(free.len(), 0);
        }
        // The second round reused the first's blocks.
        assert_eq!(free.blocks.len(), 4);
    }

    /// Threads that end on the workers are skipped by every reader at once
    /// and let go by the registry once their worker's batch is flushed —
    /// when it fills or the worker goes idle — so nothing keeps an ended
    /// thread alive.
    #[test]
    fn ended_threads_are_released_by_their_batch() {
        let rt = Runtime::builder().workers(2).build().unwrap();
        rt.block_on(async {
            // Fewer than a batch, then several batches.
            for n in [3, 1000] {
                let handles: Vec<_> = (0..n).map(|_| spawn(async {})).collect();
                let mut threads = Vec::new();
                for h in handles {
                    threads.push(h.thread().clone());
                    h.await.unwrap();
                }
                for t in &threads {
                    assert!(t.inner.has_flag(ENDED));
                    assert!(!t.is_alive());
                }
                assert_eq!(enumerate().len(), 1, "only the main thread is listed");
                assert_eq!(crate::thread::active_count(), 1);
                // The workers go idle and flush: the registry lets go.
                let deadline = Instant::now() + Duration::from_secs(30);
                let held = |t: &crate::Thread| t.inner.reg_slot.load(Ordering::Relaxed) != NO_SLOT;
                while threads.iter().any(held) {
                    assert!(Instant::now() < deadline, "an ended thread is still held");
                    crate::time::sleep(Duration::from_millis(5)).await;
                }
            }
        });
    }
}
