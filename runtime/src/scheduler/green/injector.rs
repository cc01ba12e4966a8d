//! The global injector: tasks woken from outside the workers, and the
//! overflow of a full local queue.
//!
//! A `VecDeque` under one lock, with its length mirrored in an atomic so
//! that "is anything there?" costs one load (tokio's inject queue is a
//! locked list for the same reason). Its traffic comes in batches — half
//! a local queue spilled at once, a fair share taken back at once — and a
//! lock taken once per batch costs less than a lock-free queue's atomic
//! operations per task: `concurrent-queue`'s unbounded queue, used before,
//! paid a compare-and-swap and a stamp per push and per pop, and an
//! allocation per 31 tasks. Spilling and taking back were a tenth of W2's
//! instructions (100k threads spawned from one thread overflow the local
//! queue at every 128th).
//!
//! Ordering: FIFO. `len` is written under the lock with `SeqCst`, so that
//! an emptiness check that must not miss a push (a parking worker's last
//! look, behind its `SeqCst` fence; the reaper's last look) sees every
//! push ordered before it.

use std::collections::VecDeque;

use super::queue::LocalQueue;
use super::LOCAL_QUEUE_CAPACITY;
use crate::loom::atomic::{AtomicUsize, Ordering};

// loom's mutex under this crate's loom models (the run-queue models take
// batches from the injector); otherwise parking_lot's, which spins with
// backoff before it parks and unlocks with one compare-and-swap — std's
// sleeps a worker in the kernel as soon as it loses a short spin, and two
// workers spilling and taking batches meet here.
#[cfg(all(loom, test))]
use crate::loom::{Mutex, MutexGuard};
#[cfg(not(all(loom, test)))]
use parking_lot::{Mutex, MutexGuard};

/// A queue's capacity kept once it has emptied; more is given back, so a
/// burst of a million spilled threads does not hold 8 MB for good.
const KEPT_CAPACITY: usize = 1024;

/// The injector (module docs).
pub(crate) struct Injector<T> {
    /// Tasks queued: written under the lock (`SeqCst`), read without it.
    len: AtomicUsize,
    /// The tasks, oldest first.
    queue: Mutex<VecDeque<T>>,
}

impl<T> std::fmt::Debug for Injector<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Injector")
            .field("len", &self.len())
            .finish()
    }
}

impl<T> Default for Injector<T> {
    fn default() -> Self {
        Injector {
            len: AtomicUsize::new(0),
            queue: Mutex::new(VecDeque::new()),
        }
    }
}

/// The lock, the length it keeps up to date when released.
struct Locked<'a, T> {
    len: &'a AtomicUsize,
    queue: MutexGuard<'a, VecDeque<T>>,
}

impl<T> Drop for Locked<'_, T> {
    fn drop(&mut self) {
        if self.queue.is_empty() && self.queue.capacity() > KEPT_CAPACITY {
            self.queue.shrink_to(KEPT_CAPACITY);
        }
        self.len.store(self.queue.len(), Ordering::SeqCst);
    }
}

impl<T> Injector<T> {
    /// An empty injector.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> Locked<'_, T> {
        #[cfg(all(loom, test))]
        let queue = self
            .queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        #[cfg(not(all(loom, test)))]
        let queue = self.queue.lock();
        Locked {
            len: &self.len,
            queue,
        }
    }

    /// Tasks queued (a snapshot).
    pub(crate) fn len(&self) -> usize {
        self.len.load(Ordering::SeqCst)
    }

    /// Whether no task is queued (a snapshot; module docs for what it
    /// cannot miss).
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Queues `task` at the back.
    pub(crate) fn push(&self, task: T) {
        self.lock().queue.push_back(task);
    }

    /// Takes the oldest task. Always looks under the lock: the shutdown
    /// drain must not miss a task pushed before it.
    pub(crate) fn pop(&self) -> Option<T> {
        self.lock().queue.pop_front()
    }

    /// Whether the queue looks empty, without the lock or a fence: for a
    /// worker's own looks, which may miss a push in flight (its last look
    /// before parking is [`is_empty`](Self::is_empty), behind a fence).
    fn looks_empty(&self) -> bool {
        self.len.load(Ordering::Relaxed) == 0
    }

    /// Takes the oldest task unless the queue [looks empty](Self::looks_empty).
    pub(crate) fn pop_if_any(&self) -> Option<T> {
        if self.looks_empty() {
            return None;
        }
        self.pop()
    }

    /// Moves half of `local`, oldest first, then `last` to the back, under
    /// one lock (`local` is full).
    ///
    /// # Safety
    ///
    /// Only `local`'s owner may call it.
    pub(crate) unsafe fn spill_half(&self, local: &LocalQueue<T>, last: T) {
        let mut locked = self.lock();
        for _ in 0..local.len() / 2 {
            // SAFETY: we are the owner (our caller's contract).
            match unsafe { local.pop() } {
                Some(t) => locked.queue.push_back(t),
                None => break,
            }
        }
        locked.queue.push_back(last);
    }

    /// Takes the oldest task to run, and moves a fair share of the rest
    /// (their number divided among `workers`, at most half of a local
    /// queue) into `local`, under one lock; nothing if the queue [looks
    /// empty](Self::looks_empty).
    ///
    /// # Safety
    ///
    /// Only `local`'s owner may call it.
    pub(crate) unsafe fn take_batch(&self, local: &LocalQueue<T>, workers: usize) -> Option<T> {
        if self.looks_empty() {
            return None;
        }
        let mut locked = self.lock();
        let first = locked.queue.pop_front()?;
        let share = (locked.queue.len() / workers.max(1)).min(LOCAL_QUEUE_CAPACITY / 2);
        for _ in 0..share {
            let Some(t) = locked.queue.pop_front() else {
                break;
            };
            // SAFETY: we are the owner (our caller's contract).
            if let Err(t) = unsafe { local.push(t) } {
                locked.queue.push_front(t);
                break;
            }
        }
        Some(first)
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;

    /// Pops everything from a queue this thread owns.
    fn drain_local(q: &LocalQueue<u32>) -> Vec<u32> {
        let mut out = Vec::new();
        // SAFETY: the tests own their queues.
        while let Some(v) = unsafe { q.pop() } {
            out.push(v);
        }
        out
    }

    #[test]
    fn tasks_leave_oldest_first_and_the_length_follows() {
        let inj = Injector::new();
        assert!(inj.is_empty());
        assert_eq!(inj.pop_if_any(), None);
        for v in 0..5u32 {
            inj.push(v);
        }
        assert_eq!(inj.len(), 5);
        assert_eq!(inj.pop(), Some(0));
        assert_eq!(inj.pop_if_any(), Some(1));
        assert_eq!(inj.len(), 3);
        assert_eq!(
            (inj.pop(), inj.pop(), inj.pop(), inj.pop()),
            (Some(2), Some(3), Some(4), None)
        );
        assert!(inj.is_empty());
    }

    #[test]
    fn a_spill_moves_the_older_half_then_the_task_that_did_not_fit() {
        let inj = Injector::new();
        let local = LocalQueue::new();
        let cap = LOCAL_QUEUE_CAPACITY as u32;
        for v in 0..cap {
            // SAFETY: the test owns `local`.
            unsafe { local.push(v) }.unwrap();
        }
        // SAFETY: as above.
        unsafe { inj.spill_half(&local, cap) };
        assert_eq!(inj.len(), LOCAL_QUEUE_CAPACITY / 2 + 1);
        let mut spilled = Vec::new();
        while let Some(v) = inj.pop() {
            spilled.push(v);
        }
        let mut want: Vec<u32> = (0..cap / 2).collect();
        want.push(cap);
        assert_eq!(spilled, want);
        assert_eq!(drain_local(&local), (cap / 2..cap).collect::<Vec<_>>());
    }

    #[test]
    fn a_batch_is_one_task_to_run_and_a_fair_share_in_order() {
        let inj = Injector::new();
        let local = LocalQueue::new();
        for v in 0..9u32 {
            inj.push(v);
        }
        // Two workers: the first task, then half of the 8 left.
        // SAFETY: the test owns `local`.
        assert_eq!(unsafe { inj.take_batch(&local, 2) }, Some(0));
        assert_eq!(drain_local(&local), vec![1, 2, 3, 4]);
        assert_eq!(inj.len(), 4);
        // A share never exceeds half a local queue.
        for v in 0..(LOCAL_QUEUE_CAPACITY as u32 * 2) {
            inj.push(v);
        }
        // SAFETY: as above.
        assert!(unsafe { inj.take_batch(&local, 1) }.is_some());
        assert_eq!(drain_local(&local).len(), LOCAL_QUEUE_CAPACITY / 2);
    }

    #[test]
    fn a_batch_that_does_not_fit_stays_queued_in_order() {
        let inj = Injector::new();
        let local = LocalQueue::new();
        let cap = LOCAL_QUEUE_CAPACITY as u32;
        // Leave room for two tasks only.
        for v in 0..cap - 2 {
            // SAFETY: the test owns `local`.
            unsafe { local.push(v) }.unwrap();
        }
        for v in 1000..1010u32 {
            inj.push(v);
        }
        // SAFETY: as above.
        assert_eq!(unsafe { inj.take_batch(&local, 1) }, Some(1000));
        let mut rest = Vec::new();
        while let Some(v) = inj.pop() {
            rest.push(v);
        }
        assert_eq!(rest, (1003..1010).collect::<Vec<_>>());
        let local_tail: Vec<u32> = drain_local(&local)
            .into_iter()
            .skip(cap as usize - 2)
            .collect();
        assert_eq!(local_tail, vec![1001, 1002]);
    }

    #[test]
    fn an_emptied_injector_gives_back_what_a_burst_took() {
        let inj = Injector::new();
        for v in 0..100_000u32 {
            inj.push(v);
        }
        while inj.pop().is_some() {}
        assert!(inj.queue.lock().capacity() <= KEPT_CAPACITY);
    }
}
