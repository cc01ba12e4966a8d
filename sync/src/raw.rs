//! The waiting engine: a counting semaphore made of one atomic state word and
//! two [`event_listener::Event`]s. [`Lock`](crate::Lock) (one permit),
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
//! # The protocol
//!
//! Ordinary waiters sleep on `event`, starved ones on `starved_event`. Every
//! waiter registers its listener and then looks at the state word once more
//! before it sleeps, so a change that happened before the registration is
//! seen by the look and one after it notifies the listener. Who may take a
//! free permit decides whom a change notifies:
//!
//! 1. `release(n)` adds `n` permits with one CAS, then notifies `n` more
//!    listeners (`notify(n.additional())`) of the event whose waiters may
//!    take them: `starved_event` if the word it replaced counted starved
//!    waiters, else `event`. *Additional*: a listener notified before but
//!    not yet run is not counted. Counting it (`notify(n)`) lost wake-ups:
//!    seven `release(1)` in a row met the same unrun listener seven times
//!    and woke nobody else (SPEC 10.26).
//! 2. A starved waiter that leaves the starved count, by taking a permit or
//!    by giving up, hands on the permits it leaves free: to `starved_event`
//!    if starved waiters remain, else to `event`, whose waiters were held
//!    back on its behalf and may have gone back to sleep having been
//!    notified for those very permits.
//! 3. A waiter woken that finds nothing it may take waits again; if it has
//!    waited longer than [`STARVE_AFTER`] it joins the starved count first
//!    (and looks again, as a starved waiter, before it sleeps).
//!
//! Each free permit that some waiter may take therefore has, at every
//! moment, a notified listener or a waiter about to look at the word: no
//! waiter sleeps while a permit it may take is free. The loom models
//! (`loom_protocol`) check this with the waiters really sleeping.
//! Notifications may exceed what is free (a woken waiter finds a running
//! thread took the permit); such a waiter simply waits again.
//!
//! # Cancel safety
//!
//! Dropping a waiting [`Acquire`] drops its listener; `event_listener` passes
//! a notification the listener had received but not yet taken on to the next
//! listener of the same event, so no wake-up is lost. A starved waiter that
//! leaves decrements `starved` and hands on the permits left free (rule 2).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use event_listener::{Event, EventListener, IntoNotification};
use greenthread_runtime::glue::CatchWaker;

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
    /// and, in the same step, stops counting itself as starved. Returns the
    /// word it left behind.
    pub(crate) fn try_acquire_starved(&self) -> Option<usize> {
        let mut s = self.word.load(Ordering::Relaxed);
        loop {
            debug_assert!(starved(s) > 0, "a starved waiter is counted");
            if permits(s) == 0 {
                return None;
            }
            let new = s - ONE_PERMIT - 1;
            match self
                .word
                .compare_exchange_weak(s, new, Ordering::Acquire, Ordering::Relaxed)
            {
                Ok(_) => return Some(new),
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

    /// Stops counting the caller as starved (it gave up); returns the word
    /// it left behind.
    pub(crate) fn leave_starved(&self) -> usize {
        self.word.fetch_sub(1, Ordering::AcqRel) - 1
    }

    /// Adds `n` permits unless that would exceed `max`; returns the word it
    /// replaced. `Err(())` leaves the count unchanged.
    pub(crate) fn release(&self, n: usize, max: usize) -> Result<usize, ()> {
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
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(s),
                Err(actual) => s = actual,
            }
        }
    }

    /// Adds up to `n` permits, saturating at [`MAX_PERMITS`]; returns how
    /// many were added and the word it replaced.
    pub(crate) fn release_saturating(&self, n: usize) -> (usize, usize) {
        let mut s = self.word.load(Ordering::Relaxed);
        loop {
            let add = n.min(MAX_PERMITS - permits(s));
            match self.word.compare_exchange_weak(
                s,
                s + (add << PERMIT_SHIFT),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return (add, s),
                Err(actual) => s = actual,
            }
        }
    }
}

/// The engine: state word plus the waiters' [`Event`]s.
#[derive(Debug)]
pub(crate) struct RawSemaphore {
    /// Permits and starved waiters.
    state: SemState,
    /// Where ordinary waiters sleep.
    event: Event,
    /// Where starved waiters sleep (rule 1 of the module notes).
    starved_event: Event,
    /// The most permits `release` may bring the count to.
    max: usize,
    /// What a waiter records (`rt::wait`: LOCK, RLOCK or SEMAPHORE).
    kind: u8,
    /// Its id for `greenthread::debug`.
    pub(crate) id: rt::PrimId,
    /// A Lock's holder, an RLock's owner (ident; 0: none). Written by the
    /// wrappers with plain stores on the path that took or gave back the
    /// permit; read by waiters for their record.
    pub(crate) holder: std::sync::atomic::AtomicU64,
}

impl RawSemaphore {
    /// A semaphore with `permits` free permits that `release` may raise up
    /// to `max` (clamped to [`MAX_PERMITS`]).
    pub(crate) fn new(permits: usize, max: usize) -> Self {
        RawSemaphore {
            state: SemState::new(permits),
            event: Event::new(),
            starved_event: Event::new(),
            max: max.min(MAX_PERMITS),
            kind: rt::wait::SEMAPHORE,
            id: rt::PrimId::default(),
            holder: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// The same, recording waits as `kind` (`rt::wait`).
    pub(crate) fn with_kind(mut self, kind: u8) -> Self {
        self.kind = kind;
        self
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
            waker: CatchWaker::new(),
            start: None,
            starved: false,
            attempts: 0,
            done: false,
            acquired: false,
            first: true,
        }
    }

    /// Adds `n` permits (bounded by `max`) and wakes waiters for them.
    /// `Err(())` if that would exceed `max`; nothing changes then.
    #[inline]
    pub(crate) fn release(&self, n: usize) -> Result<(), ()> {
        if n == 0 {
            return Ok(());
        }
        let before = self.state.release(n, self.max)?;
        self.wake_for(n, starved(before));
        Ok(())
    }

    /// Adds `n` permits, saturating at [`MAX_PERMITS`], and wakes waiters.
    pub(crate) fn release_saturating(&self, n: usize) {
        let (added, before) = self.state.release_saturating(n);
        if added > 0 {
            self.wake_for(added, starved(before));
        }
    }

    /// Notifies `n` more waiters of those who may take a free permit while
    /// `starved` waiters are counted (rules 1 and 2 of the module notes).
    #[inline]
    fn wake_for(&self, n: usize, starved: usize) {
        if starved == 0 {
            self.event.notify(n.additional());
        } else {
            self.wake_starved(n);
        }
    }

    #[cold]
    fn wake_starved(&self, n: usize) {
        self.starved_event.notify(n.additional());
    }

    /// A starved waiter left the count, leaving `word` behind: hands the
    /// free permits on (rule 2).
    #[cold]
    fn starved_left(&self, word: usize) {
        let free = permits(word);
        if free > 0 {
            self.wake_for(free, starved(word));
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
    /// Registered with `sem.event` (or `sem.starved_event`, while starved)
    /// while waiting.
    listener: Option<EventListener>,
    /// The waker the listener holds: `release` wakes it inside
    /// event_listener's lock, so a user's waker is wrapped to catch its
    /// panic (SPEC §10.27).
    waker: CatchWaker,
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
    /// Not recorded as waiting yet (`greenthread::debug`).
    first: bool,
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

/// Looks [`Acquire::spin_claim`] takes before a waiter listens (none under
/// loom: the models' schedules stay those of the protocol itself).
#[cfg(not(loom))]
const SPIN_LOOKS: u32 = 4;
#[cfg(loom)]
const SPIN_LOOKS: u32 = 0;

impl Acquire<'_> {
    /// A few more looks, a CPU spin hint apart, before the first listen.
    /// (None under loom: `SPIN_LOOKS` is 0 there, an empty range.)
    #[allow(clippy::reversed_empty_ranges)]
    fn spin_claim(&mut self) -> bool {
        for _ in 0..SPIN_LOOKS {
            std::hint::spin_loop();
            if self.try_claim() {
                return true;
            }
        }
        false
    }

    /// Tries to take a permit as this waiter is entitled to.
    fn try_claim(&mut self) -> bool {
        let got = if self.starved {
            match self.sem.state.try_acquire_starved() {
                Some(left) => {
                    // `try_acquire_starved` already uncounted us.
                    self.starved = false;
                    self.sem.starved_left(left);
                    true
                }
                None => false,
            }
        } else {
            self.sem.try_acquire()
        };
        if got {
            self.done = true;
            self.acquired = true;
        }
        got
    }

    /// The event this waiter sleeps on.
    fn event(&self) -> &Event {
        if self.starved {
            &self.sem.starved_event
        } else {
            &self.sem.event
        }
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
            let left = self.sem.state.leave_starved();
            self.sem.starved_left(left);
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
                    // Before the first listen: a holder running on another
                    // worker usually releases within a few hundred cycles
                    // (a lock guarding a short step), far sooner than a
                    // wait and its wake-up take, which also contend on the
                    // event's list. A few looks, then wait.
                    if self.attempts == 0 && self.spin_claim() {
                        return Poll::Ready(true);
                    }
                    self.listener = Some(self.event().listen());
                    if self.try_claim() {
                        // Dropping the listener passes on a notification it
                        // may have received meanwhile.
                        self.listener = None;
                        return Poll::Ready(true);
                    }
                }
                Some(listener) => {
                    if self
                        .waker
                        .poll(cx, |cx| Pin::new(listener).poll(cx))
                        .is_pending()
                    {
                        // Recorded before the deadline's timer, which
                        // marks the wait timed.
                        let sem = self.sem;
                        let holder = sem.holder.load(std::sync::atomic::Ordering::Relaxed);
                        rt::wait_pending(sem.kind, &sem.id, holder, &mut self.first);
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
                        // Next round claims as a starved waiter, and sleeps
                        // on `starved_event` (rule 3).
                        self.starved = true;
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
mod loom_protocol {
    //! Models of the whole waiting protocol: the state word, the event's
    //! listeners and the [`Acquire`] future that ties them together, with
    //! real sleeping (`loom::future::block_on` parks the loom thread until
    //! its waker is woken). A lost wake-up is a waiter parked forever while
    //! a permit is free: loom reports it as a deadlock. Under loom a waiter
    //! becomes starved after its first fruitless wake-up, so the starvation
    //! hand-off is in every schedule where a wake-up finds nothing.
    use super::*;
    use loom::future::block_on;
    use loom::sync::Arc;
    use loom::thread;
    use std::task::Waker;

    /// Unbounded.
    const MAX: usize = usize::MAX;

    /// Checks `f` under every schedule with at most two preemptions (more
    /// with a lower `LOOM_MAX_PREEMPTIONS`): the event's own lock makes
    /// each schedule long, and every lost wake-up these models have found
    /// needs no more than two.
    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        builder.preemption_bound = Some(builder.preemption_bound.map_or(2, |b| b.min(2)));
        builder.check(f);
    }

    /// Starts a thread that waits for one permit and returns it.
    fn waiter(sem: &Arc<RawSemaphore>) -> thread::JoinHandle<()> {
        let sem = sem.clone();
        thread::spawn(move || assert!(block_on(sem.acquire(Deadline::never()))))
    }

    /// Two threads wait for a permit each of an unbounded semaphore with
    /// none free while `release` runs beside them; both must get through
    /// and nothing may be left over.
    fn two_waiters_meet(release: impl FnOnce(&RawSemaphore)) {
        let sem = Arc::new(RawSemaphore::new(0, MAX));
        let (a, b) = (waiter(&sem), waiter(&sem));
        release(&sem);
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(sem.permits(), 0);
    }

    /// Two `release(1)` in a row meet two waiters: both get through. A
    /// listener notified by the first release but not yet run used to
    /// absorb the second one (SPEC 10.26).
    #[test]
    fn loom_release_burst_wakes_each_waiter() {
        model(|| {
            two_waiters_meet(|sem| {
                sem.release(1).unwrap();
                sem.release(1).unwrap();
            })
        });
    }

    /// `release(2)` once meets two waiters: both get through.
    #[test]
    fn loom_release_n_wakes_n_waiters() {
        model(|| two_waiters_meet(|sem| sem.release(2).unwrap()));
    }

    /// A running thread barges in (fast path) between a release and the
    /// woken waiter, then releases again: the waiter still gets through,
    /// through the starved path if its wake-up found nothing.
    #[test]
    fn loom_barging_thread_and_starved_waiter() {
        model(|| {
            let sem = Arc::new(RawSemaphore::new(0, 1));
            let a = waiter(&sem);
            sem.release(1).unwrap();
            if sem.try_acquire() {
                sem.release(1).unwrap();
            }
            a.join().unwrap();
            assert_eq!(sem.permits(), 0);
        });
    }

    /// Two waiters, a barging thread and two permits: a waiter woken for a
    /// permit the barger took becomes starved (under loom, at its first
    /// fruitless wake-up), and the other one, woken while it is starved, may
    /// not take the second permit. Both still get through: the permits are
    /// handed to the starved waiter and, once it leaves, back to the
    /// ordinary one. (A waiter held back by a starved one used to pass its
    /// notification on before waiting again, to nobody when it was the only
    /// other waiter, and slept beside a free permit.)
    #[test]
    fn loom_starved_hand_off_with_two_waiters() {
        model(|| {
            two_waiters_meet(|sem| {
                sem.release(1).unwrap();
                if sem.try_acquire() {
                    sem.release(1).unwrap();
                }
                sem.release(1).unwrap();
            })
        });
    }

    /// A waiter polled once and then dropped, perhaps after it was
    /// notified, passes the notification on: the other waiter gets the
    /// permit (or the dropped one had taken it and gives it back).
    #[test]
    fn loom_cancelled_waiter_passes_notification_on() {
        model(|| {
            let sem = Arc::new(RawSemaphore::new(0, MAX));
            let cancelled = {
                let sem = sem.clone();
                thread::spawn(move || {
                    let mut acq = Box::pin(sem.acquire(Deadline::never()));
                    let mut cx = Context::from_waker(Waker::noop());
                    if acq.as_mut().poll(&mut cx).is_ready() {
                        drop(acq);
                        sem.release(1).unwrap();
                    }
                })
            };
            let b = waiter(&sem);
            sem.release(1).unwrap();
            cancelled.join().unwrap();
            b.join().unwrap();
            assert_eq!(sem.permits(), 0);
        });
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Models of the state word alone (the protocol is `loom_protocol`).
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
            while st.try_acquire_starved().is_none() {
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
            assert_eq!(permits(st.leave_starved()), 1);
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
