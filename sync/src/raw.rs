//! The waiting engine: a counting semaphore made of one atomic state word and
//! one [`event_listener::Event`]. [`Lock`](crate::Lock) (one permit),
//! [`RLock`](crate::RLock), [`Semaphore`](crate::Semaphore) and
//! [`BoundedSemaphore`](crate::BoundedSemaphore) are thin wrappers over it.
//!
//! # The state word
//!
//! ```text
//!  usize:  [ permits (high half) | starved waiters (low half) ]
//! ```
//!
//! 1. `permits` is the number of free permits (a free `Lock` has one).
//! 2. `starved` counts waiters that have waited longer than [`STARVE_AFTER`].
//!    While it is non-zero, only starved waiters may take a permit: the fast
//!    path and ordinary waiters see "nothing free". That is the hand-off that
//!    keeps a thread that releases and re-acquires in a tight loop from
//!    starving a waiter (Python's `PyMutex` hands the lock to a waiter that
//!    waited over 1 ms; `async-lock` after 0.5 ms; Go after 1 ms).
//!
//! # Acquiring
//!
//! The fast path is one compare-and-swap (`#[inline]`): take a permit if one
//! is free and nobody is starved. Otherwise the `#[cold]` slow path follows
//! the usual shape: try; register a listener; try again; wait; repeat. A
//! waiter that was notified but finds no permit it may take (a running
//! thread barged in) registers again at the back. One notified because a
//! permit was released, but who may not take it because it is reserved for a
//! starved waiter, passes the notification on before registering again.
//!
//! # Releasing
//!
//! `release(n)` adds `n` permits with one CAS and then notifies listeners so
//! that at least `n` are notified (`Event::notify(n)`, non-additional):
//! a notified listener that has not run yet already stands for one permit.
//!
//! # Cancel safety
//!
//! Dropping a waiting [`Acquire`] drops its listener; `event_listener` passes
//! a notification the listener had received but not yet taken on to the next
//! listener, so no wake-up is lost. A starved waiter that leaves decrements
//! `starved` and, if permits are free, notifies one more waiter, since those
//! permits may have been withheld from others on its behalf.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use event_listener::{Event, EventListener};

use crate::loom::{AtomicUsize, Ordering};
use crate::rt::{self, Deadline};

/// Bits of the state word below the permit count: the starved-waiter count.
const PERMIT_SHIFT: u32 = usize::BITS / 2;
/// One permit in the state word.
const ONE_PERMIT: usize = 1 << PERMIT_SHIFT;
/// Mask of the starved-waiter count.
const STARVED_MASK: usize = ONE_PERMIT - 1;
/// The most permits a semaphore can hold (2³² − 1 on 64-bit targets).
pub(crate) const MAX_PERMITS: usize = usize::MAX >> PERMIT_SHIFT;

/// How long a waiter waits before it becomes "starved" and gets the next
/// free permit handed to it. 1 ms is CPython's `TIME_TO_BE_FAIR_NS` and Go's
/// `starvationThresholdNs`: long enough that the barging fast path keeps its
/// throughput under contention, short enough to bound unfairness.
const STARVE_AFTER: Duration = Duration::from_millis(1);

/// The permit count of a state word.
#[inline]
const fn permits(state: usize) -> usize {
    state >> PERMIT_SHIFT
}

/// The starved-waiter count of a state word.
#[inline]
const fn starved(state: usize) -> usize {
    state & STARVED_MASK
}

/// The lock-free part of the engine: the state word and its transitions.
/// Separate from the [`Event`] so loom can check it on its own.
#[derive(Debug)]
pub(crate) struct SemState {
    /// `permits << PERMIT_SHIFT | starved`.
    word: AtomicUsize,
}

impl SemState {
    /// A state with `permits` free permits and nobody starved.
    pub(crate) fn new(permits: usize) -> Self {
        SemState {
            word: AtomicUsize::new(permits.min(MAX_PERMITS) << PERMIT_SHIFT),
        }
    }

    /// Free permits right now.
    #[inline]
    pub(crate) fn permits(&self) -> usize {
        permits(self.word.load(Ordering::Acquire))
    }

    /// Takes the single permit of a one-permit lock: exactly one CAS, which
    /// succeeds only when the lock is free and nobody is starved.
    #[inline]
    pub(crate) fn try_lock(&self) -> bool {
        self.word
            .compare_exchange(ONE_PERMIT, 0, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Takes one permit if one is free and nobody is starved.
    #[inline]
    pub(crate) fn try_acquire(&self) -> bool {
        let mut s = self.word.load(Ordering::Relaxed);
        loop {
            if permits(s) == 0 || starved(s) != 0 {
                return false;
            }
            match self.word.compare_exchange_weak(
                s,
                s - ONE_PERMIT,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => s = actual,
            }
        }
    }

    /// For a waiter counted in `starved`: takes one permit if one is free
    /// and, in the same step, stops counting itself as starved.
    pub(crate) fn try_acquire_starved(&self) -> bool {
        let mut s = self.word.load(Ordering::Relaxed);
        loop {
            debug_assert!(starved(s) > 0, "a starved waiter is counted");
            if permits(s) == 0 {
                return false;
            }
            match self.word.compare_exchange_weak(
                s,
                s - ONE_PERMIT - 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(actual) => s = actual,
            }
        }
    }

    /// Counts the caller as starved; `false` (and no change) if the count is
    /// saturated, in which case the caller just goes on waiting normally.
    pub(crate) fn enter_starved(&self) -> bool {
        let mut s = self.word.load(Ordering::Relaxed);
        loop {
            if starved(s) == STARVED_MASK {
                return false;
            }
            match self
                .word
                .compare_exchange_weak(s, s + 1, Ordering::Relaxed, Ordering::Relaxed)
            {
                Ok(_) => return true,
                Err(actual) => s = actual,
            }
        }
    }

    /// Stops counting the caller as starved (it gave up); returns the free
    /// permits left.
    pub(crate) fn leave_starved(&self) -> usize {
        permits(self.word.fetch_sub(1, Ordering::AcqRel) - 1)
    }

    /// Adds `n` permits unless that would exceed `max`; `Err(())` leaves the
    /// count unchanged.
    pub(crate) fn release(&self, n: usize, max: usize) -> Result<(), ()> {
        let max = max.min(MAX_PERMITS);
        let mut s = self.word.load(Ordering::Relaxed);
        loop {
            match permits(s).checked_add(n) {
                Some(p) if p <= max => {}
                _ => return Err(()),
            }
            match self.word.compare_exchange_weak(
                s,
                s + (n << PERMIT_SHIFT),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => s = actual,
            }
        }
    }

    /// Adds up to `n` permits, saturating at [`MAX_PERMITS`]; returns how
    /// many were added.
    pub(crate) fn release_saturating(&self, n: usize) -> usize {
        let mut s = self.word.load(Ordering::Relaxed);
        loop {
            let add = n.min(MAX_PERMITS - permits(s));
            match self.word.compare_exchange_weak(
                s,
                s + (add << PERMIT_SHIFT),
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(_) => return add,
                Err(actual) => s = actual,
            }
        }
    }
}

/// The engine: state word plus the waiters' [`Event`].
#[derive(Debug)]
pub(crate) struct RawSemaphore {
    /// Permits and starved waiters.
    state: SemState,
    /// Where waiters sleep; notified once per released permit.
    event: Event,
    /// The most permits `release` may bring the count to.
    max: usize,
}

impl RawSemaphore {
    /// A semaphore with `permits` free permits that `release` may raise up
    /// to `max` (clamped to [`MAX_PERMITS`]).
    pub(crate) fn new(permits: usize, max: usize) -> Self {
        RawSemaphore {
            state: SemState::new(permits),
            event: Event::new(),
            max: max.min(MAX_PERMITS),
        }
    }

    /// Free permits right now.
    #[inline]
    pub(crate) fn permits(&self) -> usize {
        self.state.permits()
    }

    /// The bound given to `new` (clamped).
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// One CAS for a one-permit lock, else a short CAS loop.
    #[inline]
    pub(crate) fn try_acquire(&self) -> bool {
        if self.max == 1 {
            self.state.try_lock()
        } else {
            self.state.try_acquire()
        }
    }

    /// Waits for a permit, giving up at `deadline`. Resolves to whether it
    /// got one.
    #[inline]
    pub(crate) fn acquire(&self, deadline: Deadline) -> Acquire<'_> {
        Acquire {
            sem: self,
            deadline,
            listener: None,
            start: None,
            starved: false,
            attempts: 0,
            done: false,
            acquired: false,
        }
    }

    /// Adds `n` permits (bounded by `max`) and wakes waiters for them.
    /// `Err(())` if that would exceed `max`; nothing changes then.
    #[inline]
    pub(crate) fn release(&self, n: usize) -> Result<(), ()> {
        if n == 0 {
            return Ok(());
        }
        self.state.release(n, self.max)?;
        self.event.notify(n);
        Ok(())
    }

    /// Adds `n` permits, saturating at [`MAX_PERMITS`], and wakes waiters.
    pub(crate) fn release_saturating(&self, n: usize) {
        let added = self.state.release_saturating(n);
        if added > 0 {
            self.event.notify(added);
        }
    }
}

/// The future of [`RawSemaphore::acquire`]: `true` once a permit is taken,
/// `false` at the deadline.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub(crate) struct Acquire<'a> {
    /// The semaphore.
    sem: &'a RawSemaphore,
    /// When to give up.
    deadline: Deadline,
    /// Registered with `sem.event` while waiting.
    listener: Option<EventListener>,
    /// When the slow path began (for starvation).
    start: Option<Instant>,
    /// Whether this waiter is counted in the starved count.
    starved: bool,
    /// Wake-ups that found no permit (loom's stand-in for elapsed time).
    attempts: u32,
    /// Resolved already (no more waiting, nothing to undo on drop).
    done: bool,
    /// What it resolved to.
    acquired: bool,
}

impl Future for Acquire<'_> {
    type Output = bool;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(this.acquired);
        }
        if rt::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        if this.start.is_none() && this.sem.try_acquire() {
            this.done = true;
            this.acquired = true;
            return Poll::Ready(true);
        }
        this.poll_slow(cx)
    }
}

impl Acquire<'_> {
    /// Tries to take a permit as this waiter is entitled to.
    fn try_claim(&mut self) -> bool {
        let got = if self.starved {
            self.sem.state.try_acquire_starved()
        } else {
            self.sem.try_acquire()
        };
        if got {
            // `try_acquire_starved` already uncounted us.
            self.starved = false;
            self.done = true;
            self.acquired = true;
        }
        got
    }

    /// Whether this waiter has waited long enough to be starved.
    fn should_starve(&self) -> bool {
        if cfg!(all(loom, test)) {
            self.attempts >= 1
        } else {
            self.start.is_some_and(|s| s.elapsed() >= STARVE_AFTER)
        }
    }

    /// Gives up (deadline or drop): stop counting as starved and, if permits
    /// were being held back for starved waiters, let another waiter look.
    fn abandon(&mut self) {
        // Dropping a notified listener passes its notification on.
        self.listener = None;
        if self.starved {
            self.starved = false;
            if self.sem.state.leave_starved() > 0 {
                self.sem.event.notify(1);
            }
        }
    }

    #[cold]
    fn poll_slow(&mut self, cx: &mut Context<'_>) -> Poll<bool> {
        if self.start.is_none() {
            self.start = Some(Instant::now());
        }
        loop {
            match &mut self.listener {
                None => {
                    if self.try_claim() {
                        return Poll::Ready(true);
                    }
                    self.listener = Some(self.sem.event.listen());
                    if self.try_claim() {
                        // Dropping the listener passes on a notification it
                        // may have received meanwhile.
                        self.listener = None;
                        return Poll::Ready(true);
                    }
                }
                Some(listener) => {
                    if Pin::new(listener).poll(cx).is_pending() {
                        if self.deadline.poll_expired(cx) {
                            self.abandon();
                            self.done = true;
                            return Poll::Ready(false);
                        }
                        return Poll::Pending;
                    }
                    // Notified: the notification is ours now.
                    self.listener = None;
                    if self.try_claim() {
                        return Poll::Ready(true);
                    }
                    self.attempts = self.attempts.saturating_add(1);
                    if !self.starved && self.should_starve() && self.sem.state.enter_starved() {
                        // Next round claims as a starved waiter.
                        self.starved = true;
                    } else if !self.starved && self.sem.permits() > 0 {
                        // A permit is free but reserved for a starved waiter:
                        // the notification was probably meant for it.
                        self.sem.event.notify(1);
                    }
                }
            }
        }
    }
}

impl Drop for Acquire<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.abandon();
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Models of the state word. Waiting is a `yield_now` spin here: the
    //! event's own correctness is event-listener's loom suite.
    use super::*;
    use loom::sync::atomic::AtomicUsize as LoomCounter;
    use loom::sync::Arc;
    use loom::thread;

    /// Two threads take a one-permit lock, one through the starved path;
    /// never both at once, and the lock ends free.
    #[test]
    fn loom_lock_mutual_exclusion_with_starvation() {
        loom::model(|| {
            let st = Arc::new(SemState::new(1));
            let inside = Arc::new(LoomCounter::new(0));
            let a = {
                let (st, inside) = (st.clone(), inside.clone());
                thread::spawn(move || {
                    while !st.try_lock() {
                        thread::yield_now();
                    }
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                    inside.fetch_sub(1, Ordering::SeqCst);
                    st.release(1, 1).unwrap();
                })
            };
            // The starved waiter.
            assert!(st.enter_starved());
            while !st.try_acquire_starved() {
                thread::yield_now();
            }
            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
            inside.fetch_sub(1, Ordering::SeqCst);
            st.release(1, 1).unwrap();
            a.join().unwrap();
            assert_eq!(st.permits(), 1);
            assert!(st.try_lock());
        });
    }

    /// While a waiter is starved, the fast path cannot barge; once it
    /// leaves, the permit is free again.
    #[test]
    fn loom_starved_blocks_barging() {
        loom::model(|| {
            let st = Arc::new(SemState::new(0));
            assert!(st.enter_starved());
            let t = {
                let st = st.clone();
                thread::spawn(move || st.release(1, 1).unwrap())
            };
            let barged = st.try_lock() || st.try_acquire();
            assert!(!barged, "nobody barges past a starved waiter");
            t.join().unwrap();
            assert_eq!(st.leave_starved(), 1);
            assert!(st.try_lock());
        });
    }

    /// Concurrent bounded releases never exceed the bound and never lose a
    /// permit; concurrent acquires take each permit once.
    #[test]
    fn loom_semaphore_counts() {
        loom::model(|| {
            let st = Arc::new(SemState::new(1));
            let taken = Arc::new(LoomCounter::new(0));
            let released = Arc::new(LoomCounter::new(0));
            let mut handles = Vec::new();
            for _ in 0..2 {
                let (st, taken, released) = (st.clone(), taken.clone(), released.clone());
                handles.push(thread::spawn(move || {
                    if st.try_acquire() {
                        taken.fetch_add(1, Ordering::SeqCst);
                    }
                    // Bound 2: a release that would pass it fails unchanged.
                    if st.release(1, 2).is_ok() {
                        released.fetch_add(1, Ordering::SeqCst);
                    }
                }));
            }
            for h in handles {
                h.join().unwrap();
            }
            let taken = taken.load(Ordering::SeqCst);
            let released = released.load(Ordering::SeqCst);
            assert!(taken >= 1, "the first try finds the initial permit");
            // Every permit is accounted for, and the bound holds.
            assert_eq!(st.permits(), 1 + released - taken);
            let left = st.permits();
            assert!(left <= 2);
            assert_eq!(st.release(1, 2).is_err(), left == 2);
        });
    }
}
