//! Run queues: a worker's bounded local queue, and moving tasks between
//! queues (batches from the injector, steals between workers).
//!
//! # The local queue
//!
//! A bounded ring with one producer and many consumers, as tokio's and Go's
//! run queues are: only its owner pushes, so a push is a plain store of the
//! task and a release store of `tail`; the owner pops from the front with
//! one compare-and-swap, which only a thief can make fail. (A general MPMC
//! ring, as `concurrent-queue`'s, pays a compare-and-swap and a stamp per
//! push and per pop: a fifth of a yield, W4.)
//!
//! The head is two 32-bit indices in one atomic word, `(steal, real)`:
//! `real` is the next task to take; while a thief copies tasks out, `steal`
//! stays at the first one it claimed, so the owner, which checks for room
//! against `steal`, cannot overwrite them. A thief claims up to half of the
//! queue by moving `real` forward (only when no other steal is under way:
//! `steal == real`), copies the claimed tasks into its own queue, then moves
//! `steal` up to `real`. Indices wrap; the ring's capacity is a power of two.
//!
//! Owner-only operations are `unsafe fn`s: the executor calls them only for
//! the worker's own queue (`WorkerCx::index`), from that worker's thread.
//!
//! Every task is in exactly one queue (or in the hands of exactly one
//! worker): none is lost or run twice, whatever the interleaving. The loom
//! models in `loom_tests` check this.

use std::mem::MaybeUninit;

use super::LOCAL_QUEUE_CAPACITY;
use crate::loom::atomic::{AtomicU32, AtomicU64, Ordering};

/// A slot of the ring: std's `UnsafeCell`, or loom's (which checks that no
/// two threads touch a slot at once).
#[cfg(not(all(loom, test)))]
struct RingCell<T>(std::cell::UnsafeCell<MaybeUninit<T>>);

#[cfg(not(all(loom, test)))]
impl<T> RingCell<T> {
    fn new() -> Self {
        RingCell(std::cell::UnsafeCell::new(MaybeUninit::uninit()))
    }

    fn with_mut<R>(&self, f: impl FnOnce(*mut MaybeUninit<T>) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(all(loom, test))]
struct RingCell<T>(loom::cell::UnsafeCell<MaybeUninit<T>>);

#[cfg(all(loom, test))]
impl<T> RingCell<T> {
    fn new() -> Self {
        RingCell(loom::cell::UnsafeCell::new(MaybeUninit::uninit()))
    }

    fn with_mut<R>(&self, f: impl FnOnce(*mut MaybeUninit<T>) -> R) -> R {
        self.0.with_mut(f)
    }
}

/// The ring's index mask.
const MASK: u32 = LOCAL_QUEUE_CAPACITY as u32 - 1;

const _: () = assert!(LOCAL_QUEUE_CAPACITY.is_power_of_two() && LOCAL_QUEUE_CAPACITY <= 1 << 30);

fn pack(steal: u32, real: u32) -> u64 {
    (u64::from(steal) << 32) | u64::from(real)
}

fn unpack(head: u64) -> (u32, u32) {
    ((head >> 32) as u32, head as u32)
}

/// A worker's local run queue (module docs). Alone on its cache lines (two:
/// adjacent-line prefetch): the workers' queues sit side by side in one
/// array, and each owner writes its `head` and `tail` on every push and pop.
#[repr(align(128))]
pub(crate) struct LocalQueue<T> {
    /// `(steal, real)`, packed.
    head: AtomicU64,
    /// Where the owner pushes next; written by the owner only.
    tail: AtomicU32,
    /// The ring.
    buffer: Box<[RingCell<T>]>,
}

// SAFETY: the queue hands tasks from one thread to another (so `T: Send`),
// and its slots are only touched as the protocol in the module docs allows:
// a slot between `steal` and `tail` by whoever claimed it, the others by the
// owner alone.
unsafe impl<T: Send> Send for LocalQueue<T> {}
// SAFETY: as above; shared references are how workers steal.
unsafe impl<T: Send> Sync for LocalQueue<T> {}

impl<T> std::fmt::Debug for LocalQueue<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalQueue")
            .field("len", &self.len())
            .finish()
    }
}

impl<T> LocalQueue<T> {
    pub(crate) fn new() -> LocalQueue<T> {
        LocalQueue {
            head: AtomicU64::new(0),
            tail: AtomicU32::new(0),
            buffer: (0..LOCAL_QUEUE_CAPACITY).map(|_| RingCell::new()).collect(),
        }
    }

    /// Pushes at the back; gives the task back if the queue is full.
    ///
    /// # Safety
    ///
    /// Only the queue's owner may call it (module docs).
    pub(crate) unsafe fn push(&self, task: T) -> Result<(), T> {
        let (steal, _) = unpack(self.head.load(Ordering::Acquire));
        // Only we write `tail`.
        let tail = self.tail.load(Ordering::Relaxed);
        if tail.wrapping_sub(steal) >= LOCAL_QUEUE_CAPACITY as u32 {
            return Err(task);
        }
        self.buffer[(tail & MASK) as usize].with_mut(|p| {
            // SAFETY: slot `tail` is outside `[steal, tail)`, the tasks
            // anyone may read: nobody else touches it until the store below
            // publishes it.
            unsafe { p.write(MaybeUninit::new(task)) }
        });
        self.tail.store(tail.wrapping_add(1), Ordering::Release);
        Ok(())
    }

    /// Pops from the front.
    ///
    /// # Safety
    ///
    /// Only the queue's owner may call it (module docs).
    pub(crate) unsafe fn pop(&self) -> Option<T> {
        let mut head = self.head.load(Ordering::Acquire);
        let real = loop {
            let (steal, real) = unpack(head);
            // Only we write `tail`.
            let tail = self.tail.load(Ordering::Relaxed);
            if real == tail {
                return None;
            }
            let next_real = real.wrapping_add(1);
            // With no steal under way, `steal` follows `real`; otherwise the
            // thief moves it when it is done.
            let next = if steal == real {
                pack(next_real, next_real)
            } else {
                pack(steal, next_real)
            };
            match self
                .head
                .compare_exchange(head, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => break real,
                Err(actual) => head = actual,
            }
        };
        // SAFETY: the compare-and-swap gave us slot `real`, which holds a
        // task (`real != tail`); only the owner (us) writes slots, and not
        // this one until `tail` laps it.
        Some(unsafe { self.read(real) })
    }

    /// Reads the task in slot `index`.
    ///
    /// # Safety
    ///
    /// The caller has claimed the slot (moved `real` past it), which holds
    /// a task nobody else reads, and reads it once.
    unsafe fn read(&self, index: u32) -> T {
        self.buffer[(index & MASK) as usize].with_mut(|p| {
            // SAFETY: our caller's contract.
            unsafe { p.read().assume_init() }
        })
    }

    /// Whether the queue is empty (a snapshot, from any thread).
    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tasks queued (a snapshot, from any thread).
    pub(crate) fn len(&self) -> usize {
        let (_, real) = unpack(self.head.load(Ordering::Acquire));
        let tail = self.tail.load(Ordering::Acquire);
        tail.wrapping_sub(real) as usize
    }

    /// Claims up to `max` tasks from the front for a thief, unless another
    /// steal is under way or there are none: returns the first claimed
    /// index and the count. The claim must be ended by [`release`].
    ///
    /// [`release`]: Self::release
    fn claim(&self, max: impl Fn(u32) -> u32) -> Option<(u32, u32)> {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let (steal, real) = unpack(head);
            if steal != real {
                return None; // another thief is copying
            }
            let tail = self.tail.load(Ordering::Acquire);
            let n = max(tail.wrapping_sub(real));
            if n == 0 {
                return None;
            }
            let next = pack(steal, real.wrapping_add(n));
            match self
                .head
                .compare_exchange(head, next, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some((real, n)),
                Err(actual) => head = actual,
            }
        }
    }

    /// Ends a claim: `steal` catches up with `real` (which the owner may
    /// have moved on meanwhile), handing the copied slots back to the owner.
    fn release(&self) {
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let (_, real) = unpack(head);
            match self.head.compare_exchange(
                head,
                pack(real, real),
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => return,
                Err(actual) => head = actual,
            }
        }
    }

    /// Takes one task from the front from any thread (the shutdown drain:
    /// a worker abandoned in a stuck task may still push).
    pub(crate) fn steal_one(&self) -> Option<T> {
        let (first, _) = self.claim(|available| available.min(1))?;
        // SAFETY: `claim` gave us slot `first`, below `tail`.
        let task = unsafe { self.read(first) };
        self.release();
        Some(task)
    }
}

impl<T> Drop for LocalQueue<T> {
    fn drop(&mut self) {
        // `&mut self`: nobody else can touch the queue.
        while self.steal_one().is_some() {}
    }
}

/// Steals about half of `victim`'s tasks: returns one to run and moves the
/// others into `dest`.
///
/// # Safety
///
/// Only `dest`'s owner may call it (it pushes to `dest`).
pub(crate) unsafe fn steal_half<T>(victim: &LocalQueue<T>, dest: &LocalQueue<T>) -> Option<T> {
    // Room in `dest`: thieves of `dest` may hold slots (`steal`), so count
    // from there. We steal when our queue is empty, but a thief may be
    // copying out of it.
    let (dest_steal, _) = unpack(dest.head.load(Ordering::Acquire));
    // Only we (`dest`'s owner) write `dest.tail`.
    let dest_tail = dest.tail.load(Ordering::Relaxed);
    let room = LOCAL_QUEUE_CAPACITY as u32 - dest_tail.wrapping_sub(dest_steal);
    if room == 0 {
        return None;
    }
    // Half, rounded up, and no more than fits (one of them we run).
    let (first, n) = victim.claim(|available| (available - available / 2).min(room + 1))?;
    // SAFETY: `claim` gave us slots `first..first + n`, all below the
    // victim's `tail`; each is read once.
    let task = unsafe { victim.read(first) };
    for i in 1..n {
        // SAFETY: as above.
        let t = unsafe { victim.read(first.wrapping_add(i)) };
        let slot = dest_tail.wrapping_add(i - 1);
        dest.buffer[(slot & MASK) as usize].with_mut(|p| {
            // SAFETY: as in `push`: we own `dest`, and these slots, below
            // `dest_steal + capacity`, are outside what anyone may read
            // until the `tail` store below publishes them.
            unsafe { p.write(MaybeUninit::new(t)) }
        });
    }
    victim.release();
    if n > 1 {
        dest.tail
            .store(dest_tail.wrapping_add(n - 1), Ordering::Release);
    }
    Some(task)
}

/// Loom models of the run queue: whatever the interleaving of an owner
/// pushing and popping with thieves stealing (and workers taking batches
/// from the injector), every task ends up exactly once somewhere — run by
/// one worker or left in one queue. Capacities are shrunk under loom
/// (`LOCAL_QUEUE_CAPACITY` = 4) so "full" is reachable. Run with
/// `ci/loom.sh`.
#[cfg(all(test, loom))]
mod loom_tests {
    use loom::sync::Arc;
    use loom::thread;

    use super::super::injector::Injector;
    use super::{steal_half, LocalQueue};

    /// Pops everything; the caller owns `q`.
    fn drain(q: &LocalQueue<u32>, out: &mut Vec<u32>) {
        // SAFETY: every caller passes a queue it owns.
        while let Some(v) = unsafe { q.pop() } {
            out.push(v);
        }
    }

    /// Pushes as the owner.
    fn push(q: &LocalQueue<u32>, v: u32) -> Result<(), u32> {
        // SAFETY: every caller passes a queue it owns.
        unsafe { q.push(v) }
    }

    /// Steals into the caller's own `dest`.
    fn steal(victim: &LocalQueue<u32>, dest: &LocalQueue<u32>) -> Option<u32> {
        // SAFETY: every caller owns `dest`.
        unsafe { steal_half(victim, dest) }
    }

    /// A thief thread: steals half of `victim` into a queue of its own and
    /// returns everything it got.
    fn thief(victim: &Arc<LocalQueue<u32>>) -> thread::JoinHandle<Vec<u32>> {
        let victim = victim.clone();
        thread::spawn(move || {
            let dest = LocalQueue::new();
            let mut got = Vec::new();
            got.extend(steal(&victim, &dest));
            drain(&dest, &mut got);
            got
        })
    }

    /// Pushes `values` as the owner; the ones a full queue gives back go to
    /// `seen` (the executor would spill them to the injector).
    fn push_all(q: &LocalQueue<u32>, values: std::ops::RangeInclusive<u32>, seen: &mut Vec<u32>) {
        for v in values {
            if let Err(v) = push(q, v) {
                seen.push(v);
            }
        }
    }

    fn check(mut seen: Vec<u32>, expected: std::ops::RangeInclusive<u32>) {
        seen.sort_unstable();
        let want: Vec<u32> = expected.collect();
        assert_eq!(seen, want, "a task was lost or duplicated");
    }

    /// The owner pushes (to the point of filling the queue) and pops while a
    /// thief steals half.
    #[test]
    fn loom_owner_push_pop_vs_steal() {
        loom::model(|| {
            let victim = Arc::new(LocalQueue::new());
            push(&victim, 1).unwrap();
            push(&victim, 2).unwrap();
            let thief = thief(&victim);
            let mut seen = Vec::new();
            // Owner: push 3..=5 (the queue holds 4).
            push_all(&victim, 3..=5, &mut seen);
            // SAFETY: this thread owns `victim`.
            seen.extend(unsafe { victim.pop() });
            seen.extend(thief.join().unwrap());
            drain(&victim, &mut seen);
            check(seen, 1..=5);
        });
    }

    /// Two thieves steal from one owner that pops concurrently.
    #[test]
    fn loom_two_thieves() {
        loom::model(|| {
            let victim = Arc::new(LocalQueue::new());
            for v in 1..=3 {
                push(&victim, v).unwrap();
            }
            let thieves: Vec<_> = (0..2).map(|_| thief(&victim)).collect();
            let mut seen = Vec::new();
            // SAFETY: this thread owns `victim`.
            seen.extend(unsafe { victim.pop() });
            for t in thieves {
                seen.extend(t.join().unwrap());
            }
            drain(&victim, &mut seen);
            check(seen, 1..=3);
        });
    }

    /// A worker takes a batch from the injector into its local queue while
    /// a thief steals from that local queue and pushes to the injector.
    #[test]
    fn loom_take_batch_vs_steal() {
        loom::model(|| {
            let injector = Arc::new(Injector::new());
            for v in 1..=3 {
                injector.push(v);
            }
            let local = Arc::new(LocalQueue::new());
            let thief = {
                let (injector, local) = (injector.clone(), local.clone());
                thread::spawn(move || {
                    let dest = LocalQueue::new();
                    let mut got = Vec::new();
                    injector.push(4);
                    got.extend(steal(&local, &dest));
                    drain(&dest, &mut got);
                    got
                })
            };
            let mut seen = Vec::new();
            // SAFETY: this thread owns `local`.
            seen.extend(unsafe { injector.take_batch(&local, 1) });
            seen.extend(thief.join().unwrap());
            drain(&local, &mut seen);
            while let Some(v) = injector.pop() {
                seen.push(v);
            }
            check(seen, 1..=4);
        });
    }

    /// The owner spills half of its full queue (and the task that did not
    /// fit) into the injector while a thief steals from that queue.
    #[test]
    fn loom_spill_half_vs_steal() {
        loom::model(|| {
            let injector = Injector::new();
            let local = Arc::new(LocalQueue::new());
            for v in 1..=4 {
                push(&local, v).unwrap();
            }
            let thief = thief(&local);
            // SAFETY: this thread owns `local`.
            unsafe { injector.spill_half(&local, 5) };
            let mut seen = thief.join().unwrap();
            drain(&local, &mut seen);
            while let Some(v) = injector.pop() {
                seen.push(v);
            }
            check(seen, 1..=5);
        });
    }

    /// The ring wraps while a thief copies: the owner pops and pushes
    /// around the ring (capacity 4) while the thief holds its claim.
    #[test]
    fn loom_wraparound_vs_steal() {
        loom::model(|| {
            let victim = Arc::new(LocalQueue::new());
            for v in 1..=3 {
                push(&victim, v).unwrap();
            }
            let thief = thief(&victim);
            let mut seen = Vec::new();
            for v in 4..=7 {
                // SAFETY: this thread owns `victim`.
                seen.extend(unsafe { victim.pop() });
                push_all(&victim, v..=v, &mut seen);
            }
            seen.extend(thief.join().unwrap());
            drain(&victim, &mut seen);
            check(seen, 1..=7);
        });
    }

    /// The shutdown drain (`steal_one`, not the owner) against an owner
    /// that still pushes and pops.
    #[test]
    fn loom_steal_one_vs_owner() {
        loom::model(|| {
            let q = Arc::new(LocalQueue::new());
            push(&q, 1).unwrap();
            let drainer = {
                let q = q.clone();
                thread::spawn(move || {
                    let mut got = Vec::new();
                    while let Some(v) = q.steal_one() {
                        got.push(v);
                    }
                    got
                })
            };
            let mut seen = Vec::new();
            push_all(&q, 2..=3, &mut seen);
            // SAFETY: this thread owns `q`.
            seen.extend(unsafe { q.pop() });
            seen.extend(drainer.join().unwrap());
            drain(&q, &mut seen);
            check(seen, 1..=3);
        });
    }
}
