//! Parking idle workers without thundering herds or lost wakeups.
//!
//! Three counters and a list: `num_sleeping` workers are parked (their
//! indices in `sleepers`); `searching` workers are awake looking for work.
//!
//! - A push of work wakes one sleeper, and only if nobody is searching: a
//!   searcher will find the work. (Pusher: push, fence, read `searching` and
//!   `num_sleeping`.)
//! - A searcher that finds work stops searching; if it was the last
//!   searcher it wakes one more sleeper, since more work may be queued.
//! - A worker going to sleep stops searching, registers as a sleeper,
//!   fences, and checks every queue once more before parking. (Sleeper:
//!   write counters, fence, read queues.)
//!
//! The two fenced sequences are Dekker's pattern: with `SeqCst` fences at
//! least one side sees the other's write, so either the sleeper sees the new
//! work or the pusher sees the sleeper and wakes it.

use std::sync::atomic::{fence, AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use super::Shared;

/// One worker's parking slot.
#[derive(Debug, Default)]
struct WorkerParking {
    /// Set by the waker that picked this worker (it counted it as
    /// searching); consumed by the worker.
    notified: AtomicBool,
    /// Set by [`Idle::wake_spare`]; consumed by a spare in
    /// [`Idle::park_spare`]. Separate from `notified`: a spare parks both
    /// ways, and a spare wake must never pass for a searcher's.
    spare_notified: AtomicBool,
    /// The worker's OS thread.
    thread: OnceLock<std::thread::Thread>,
}

#[derive(Debug)]
pub(crate) struct Idle {
    /// Indices of parked workers.
    sleepers: Mutex<Vec<usize>>,
    /// `sleepers.len()`, readable without the lock.
    num_sleeping: AtomicUsize,
    /// Workers awake and looking for work.
    searching: AtomicUsize,
    /// Per-worker slots.
    slots: Box<[WorkerParking]>,
}

impl Idle {
    pub(crate) fn new(workers: usize) -> Idle {
        Idle {
            sleepers: Mutex::new(Vec::with_capacity(workers)),
            num_sleeping: AtomicUsize::new(0),
            searching: AtomicUsize::new(0),
            slots: (0..workers).map(|_| WorkerParking::default()).collect(),
        }
    }

    pub(crate) fn set_thread(&self, index: usize, t: std::thread::Thread) {
        let _ = self.slots[index].thread.set(t);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<usize>> {
        self.sleepers.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Work was pushed: wake a sleeper unless someone is searching already.
    #[inline]
    pub(crate) fn notify_one(&self) {
        fence(Ordering::SeqCst);
        if self.searching.load(Ordering::SeqCst) != 0
            || self.num_sleeping.load(Ordering::SeqCst) == 0
        {
            return;
        }
        self.wake_one();
    }

    #[cold]
    fn wake_one(&self) {
        let mut sleepers = self.lock();
        let Some(index) = sleepers.pop() else { return };
        self.num_sleeping.fetch_sub(1, Ordering::SeqCst);
        self.searching.fetch_add(1, Ordering::SeqCst);
        drop(sleepers);
        self.notify_picked(index);
    }

    /// Tells worker `index`, taken out of `sleepers` and counted as
    /// searching by the caller, that it was picked.
    fn notify_picked(&self, index: usize) {
        let slot = &self.slots[index];
        slot.notified.store(true, Ordering::Release);
        if let Some(t) = slot.thread.get() {
            t.unpark();
        }
    }

    /// Wakes, as `notify_one` would, every sleeper whose index is `from` or
    /// above: spares no longer wanted, which then retire.
    #[cold]
    pub(crate) fn wake_sleepers_from(&self, from: usize) {
        let mut picked = Vec::new();
        {
            let mut sleepers = self.lock();
            sleepers.retain(|&i| {
                let pick = i >= from;
                if pick {
                    picked.push(i);
                }
                !pick
            });
            self.num_sleeping.fetch_sub(picked.len(), Ordering::SeqCst);
            self.searching.fetch_add(picked.len(), Ordering::SeqCst);
        }
        for index in picked {
            self.notify_picked(index);
        }
    }

    /// A searching worker found work.
    pub(crate) fn stop_searching(&self) {
        if self.searching.fetch_sub(1, Ordering::SeqCst) == 1 {
            self.notify_one();
        }
    }

    /// A searching worker found nothing and is about to park.
    pub(crate) fn stop_searching_idle(&self) {
        self.searching.fetch_sub(1, Ordering::SeqCst);
    }

    /// Parks worker `index` until there may be work. Returns true if it was
    /// woken by `notify_one` (it is now counted as searching).
    pub(crate) fn park(&self, shared: &Shared, index: usize) -> bool {
        {
            let mut sleepers = self.lock();
            sleepers.push(index);
            self.num_sleeping.fetch_add(1, Ordering::SeqCst);
        }
        fence(Ordering::SeqCst);
        let slot = &self.slots[index];
        if shared.has_work() || shared.shutdown.load(Ordering::SeqCst) {
            let mut sleepers = self.lock();
            if let Some(pos) = sleepers.iter().position(|&i| i == index) {
                sleepers.swap_remove(pos);
                self.num_sleeping.fetch_sub(1, Ordering::SeqCst);
                return false;
            }
            drop(sleepers);
            // A waker picked us meanwhile and is about to set our flag.
            while !slot.notified.swap(false, Ordering::Acquire) {
                std::hint::spin_loop();
            }
            return true;
        }
        loop {
            if slot.notified.swap(false, Ordering::Acquire) {
                return true;
            }
            if shared.shutdown.load(Ordering::SeqCst) {
                return false;
            }
            std::thread::park();
        }
    }

    /// Wakes spare worker `index` (stall hand-off); it never sits in
    /// `sleepers`, so the ordinary wake protocol never picks it.
    pub(crate) fn wake_spare(&self, index: usize) {
        let slot = &self.slots[index];
        slot.spare_notified.store(true, Ordering::Release);
        if let Some(t) = slot.thread.get() {
            t.unpark();
        }
    }

    /// Parks spare worker `index` until `wake_spare` or shutdown.
    pub(crate) fn park_spare(&self, shared: &Shared, index: usize) {
        let slot = &self.slots[index];
        while !slot.spare_notified.swap(false, Ordering::Acquire) {
            if shared.shutdown.load(Ordering::SeqCst) {
                return;
            }
            std::thread::park();
        }
    }

    /// Shutdown: unpark everyone (they see the flag).
    pub(crate) fn unpark_all(&self) {
        for slot in self.slots.iter() {
            if let Some(t) = slot.thread.get() {
                t.unpark();
            }
        }
    }
}
