//! [`Barrier`]: Python's `threading.Barrier`.
//!
//! # Design
//!
//! The state (arrivals, the broken flag, the current *round*) sits under a
//! `std::sync::Mutex` — never held across an `.await` or while the action
//! runs — and waiters sleep on an [`event_listener::Event`]. The sync
//! methods (`abort`, `reset`, `n_waiting`, `broken`) need the state without
//! waiting, which is why this is a plain mutex and not an async lock.
//!
//! Each cycle of the barrier is a [`Round`]; every waiter holds its round
//! and, when woken, reads that round's outcome (`Released` or `Broken`). So:
//!
//! 1. The last arriver marks the round as *draining* in the critical section
//!    in which it arrives (later arrivals wait for the next round; marking it
//!    later let another arrival join the full round with an index of
//!    `parties` or more), runs the action outside the mutex, then sets the
//!    outcome `Released`, starts a fresh round and wakes everybody.
//! 2. A panicking action sets the outcome `Broken` and breaks the barrier;
//!    the panic is resumed in the last arriver.
//! 3. `abort`, a waiter's timeout and a waiter dropped while waiting break
//!    the barrier: the round ends `Broken` and later `wait`s fail until
//!    `reset`.
//! 4. `reset` ends the round `Broken` if anyone waits (they get the error)
//!    and leaves a fresh, unbroken barrier.

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use crate::rt::{self, Deadline};
use crate::BrokenBarrierError;

/// A round not decided yet.
const PENDING: u8 = 0;
/// The round completed: its waiters pass.
const RELEASED: u8 = 1;
/// The round was broken: its waiters fail.
const BROKEN: u8 = 2;

/// One cycle of the barrier.
#[derive(Debug, Default)]
struct Round {
    /// `PENDING`, `RELEASED` or `BROKEN`.
    outcome: AtomicU8,
}

/// The barrier's state, under the mutex.
#[derive(Debug)]
struct State {
    /// Threads waiting in the current round.
    count: usize,
    /// The last party arrived and the action is running: new arrivals wait
    /// for the next round.
    draining: bool,
    /// Broken until `reset`.
    broken: bool,
    /// The current round.
    round: Arc<Round>,
}

/// The shared part of a barrier.
struct Inner {
    /// Number of threads per round (at least 1).
    parties: usize,
    /// Runs in the last arriver before the others are released.
    action: Option<Box<dyn Fn() + Send + Sync>>,
    /// The default timeout of `wait`.
    timeout: Option<Duration>,
    /// Arrivals and rounds.
    state: Mutex<State>,
    /// Where waiters (and arrivals during draining) sleep.
    event: event_listener::Event,
    /// Its id (`greenthread::debug`).
    id: rt::PrimId,
}

/// A rendezvous for a fixed number of threads: Python's `threading.Barrier`.
///
/// Each of `parties` threads calls [`wait`](Self::wait); they all block until
/// the last one arrives, then all are released at once and each gets a
/// distinct index in `0..parties` (its arrival order). The barrier then
/// resets for the next round (it is cyclic). An optional *action* runs in the
/// last arriving thread before anybody is released.
///
/// The barrier *breaks* — every waiter and every later `wait` gets
/// [`BrokenBarrierError`] until [`reset`](Self::reset) — when a waiter times
/// out, when a waiting future is dropped (the party it stood for will not
/// arrive), on [`abort`](Self::abort), or when the action panics: then the
/// others get `BrokenBarrierError` and the panic resumes in the last arriver
/// (Python: the action's exception propagates there).
///
/// `Barrier::new(0)` is treated as `Barrier::new(1)` (Python raises
/// `ValueError`): each `wait` passes at once with index 0.
///
/// Clones share one barrier.
///
/// # Examples
///
/// ```
/// greenthread::run(async {
///     let barrier = greenthread::Barrier::new(3);
///     let mut handles = Vec::new();
///     for _ in 0..3 {
///         let b = barrier.clone();
///         handles.push(greenthread::spawn(async move { b.wait().await.unwrap() }));
///     }
///     let mut indices = Vec::new();
///     for h in handles {
///         indices.push(h.await.unwrap());
///     }
///     indices.sort();
///     assert_eq!(indices, [0, 1, 2]);
/// });
/// ```
#[derive(Clone)]
pub struct Barrier {
    /// The shared barrier.
    inner: Arc<Inner>,
}

impl Barrier {
    /// A barrier for `parties` threads (0 is treated as 1), no action, no
    /// default timeout.
    pub fn new(parties: usize) -> Barrier {
        Barrier::build(parties, None, None)
    }

    /// A barrier whose last arriver runs `action` before the others are
    /// released, every round.
    pub fn with_action(parties: usize, action: impl Fn() + Send + Sync + 'static) -> Barrier {
        Barrier::build(parties, Some(Box::new(action)), None)
    }

    /// A barrier whose [`wait`](Self::wait) gives up after `timeout`
    /// (breaking the barrier), as Python's `Barrier(parties, timeout=t)`.
    pub fn with_timeout(parties: usize, timeout: Duration) -> Barrier {
        Barrier::build(parties, None, Some(timeout))
    }

    /// The common constructor.
    fn build(
        parties: usize,
        action: Option<Box<dyn Fn() + Send + Sync>>,
        timeout: Option<Duration>,
    ) -> Barrier {
        Barrier {
            inner: Arc::new(Inner {
                parties: parties.max(1),
                action,
                timeout,
                state: Mutex::new(State {
                    count: 0,
                    draining: false,
                    broken: false,
                    round: Arc::default(),
                }),
                event: event_listener::Event::new(),
                id: rt::PrimId::default(),
            }),
        }
    }

    /// Locks the state; a poisoned mutex is impossible to leave inconsistent
    /// (no user code runs under it), so poisoning is ignored.
    fn state(&self) -> MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until all parties have arrived; returns this thread's arrival
    /// index (`0` for the first, `parties - 1` for the last). Uses the
    /// default timeout given to [`with_timeout`](Self::with_timeout), if any.
    ///
    /// # Errors
    ///
    /// [`BrokenBarrierError`] if the barrier is broken when called or breaks
    /// while waiting (abort, reset, another waiter's timeout or
    /// cancellation, a panicking action), or if this wait times out (which
    /// breaks it).
    ///
    /// # Panics
    ///
    /// Resumes the action's panic in the last arriver.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe in the usual sense: dropping a pending `wait` breaks
    /// the barrier (as a timeout does), because the party it stood for will
    /// never arrive. Dropping it after the round was released loses nothing.
    pub async fn wait(&self) -> Result<usize, BrokenBarrierError> {
        self.wait_deadline(Deadline::from_option(self.inner.timeout))
            .await
    }

    /// As [`wait`](Self::wait) with this `timeout` instead of the default;
    /// a timeout breaks the barrier. Durations above `TIMEOUT_MAX` are
    /// clamped to it.
    ///
    /// # Errors
    ///
    /// As [`wait`](Self::wait).
    ///
    /// # Panics
    ///
    /// As [`wait`](Self::wait).
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Self::wait).
    pub async fn wait_timeout(&self, timeout: Duration) -> Result<usize, BrokenBarrierError> {
        self.wait_deadline(Deadline::after(timeout)).await
    }

    /// The body of both waits.
    async fn wait_deadline(&self, mut deadline: Deadline) -> Result<usize, BrokenBarrierError> {
        rt::proceed().await;
        let mut first = true;
        let id = &self.inner.id;
        // Enter: wait while the previous round drains.
        let (index, round) = loop {
            let mut listener = {
                let mut st = self.state();
                if st.broken {
                    return Err(BrokenBarrierError);
                }
                if !st.draining {
                    let index = st.count;
                    st.count += 1;
                    if index + 1 == self.inner.parties {
                        // Closed to arrivals in the same critical section
                        // as the last one arrives: else another arrival
                        // could join this round, past `parties`, before
                        // `release` runs.
                        st.draining = true;
                    }
                    break (index, st.round.clone());
                }
                self.inner.event.listen()
            };
            let wait = rt::wait_listener(&mut listener, &mut deadline);
            if !rt::recorded(rt::wait::BARRIER, id, &mut first, wait).await {
                self.break_barrier();
                return Err(BrokenBarrierError);
            }
        };
        if index + 1 == self.inner.parties {
            return self.release(index, &round);
        }
        // Wait for the round's outcome; dropping this future breaks it.
        let mut guard = BreakOnDrop {
            barrier: self,
            round: &round,
            armed: true,
        };
        loop {
            let mut listener = self.inner.event.listen();
            match round.outcome.load(Ordering::Acquire) {
                RELEASED => {
                    guard.armed = false;
                    return Ok(index);
                }
                BROKEN => {
                    guard.armed = false;
                    return Err(BrokenBarrierError);
                }
                _ => {}
            }
            let wait = rt::wait_listener(&mut listener, &mut deadline);
            if !rt::recorded(rt::wait::BARRIER, id, &mut first, wait).await {
                drop(listener);
                guard.armed = false;
                // Unless the round ended just now, the timeout breaks it.
                let mut st = self.state();
                match round.outcome.load(Ordering::Acquire) {
                    RELEASED => return Ok(index),
                    BROKEN => return Err(BrokenBarrierError),
                    _ => {}
                }
                self.break_locked(&mut st);
                return Err(BrokenBarrierError);
            }
        }
    }

    /// The last arriver: run the action, then release the round.
    fn release(&self, index: usize, round: &Arc<Round>) -> Result<usize, BrokenBarrierError> {
        if let Some(action) = &self.inner.action {
            if let Err(panic) = panic::catch_unwind(AssertUnwindSafe(action)) {
                let mut st = self.state();
                st.draining = false;
                self.break_locked(&mut st);
                drop(st);
                panic::resume_unwind(panic);
            }
        }
        let mut st = self.state();
        st.draining = false;
        if !Arc::ptr_eq(&st.round, round) || round.outcome.load(Ordering::Acquire) != PENDING {
            // Broken (abort/reset) while the action ran.
            drop(st);
            self.inner.event.notify(usize::MAX);
            return Err(BrokenBarrierError);
        }
        round.outcome.store(RELEASED, Ordering::Release);
        st.count = 0;
        st.round = Arc::default();
        drop(st);
        self.inner.event.notify(usize::MAX);
        Ok(index)
    }

    /// Breaks the barrier (state locked): the round fails, later waits fail
    /// until `reset`. Wakes everybody.
    fn break_locked(&self, st: &mut State) {
        st.broken = true;
        self.end_round_broken(st);
    }

    /// Ends the current round as broken if anyone is in it, starting a fresh
    /// one, and wakes everybody.
    fn end_round_broken(&self, st: &mut State) {
        if st.count > 0 {
            st.round.outcome.store(BROKEN, Ordering::Release);
            st.count = 0;
            st.round = Arc::default();
        }
        self.inner.event.notify(usize::MAX);
    }

    /// Breaks the barrier from outside the state lock.
    fn break_barrier(&self) {
        let mut st = self.state();
        self.break_locked(&mut st);
    }

    /// Returns the barrier to its initial state: threads waiting now get
    /// [`BrokenBarrierError`]; a broken barrier is mended.
    pub fn reset(&self) {
        let mut st = self.state();
        st.broken = false;
        self.end_round_broken(&mut st);
    }

    /// Breaks the barrier: current and future waits get
    /// [`BrokenBarrierError`] until [`reset`](Self::reset).
    pub fn abort(&self) {
        self.break_barrier();
    }

    /// The number of threads required to pass the barrier.
    pub fn parties(&self) -> usize {
        self.inner.parties
    }

    /// The number of threads waiting in the current round.
    pub fn n_waiting(&self) -> usize {
        let st = self.state();
        if st.draining || st.broken {
            0
        } else {
            st.count
        }
    }

    /// Whether the barrier is broken.
    pub fn broken(&self) -> bool {
        self.state().broken
    }
}

impl fmt::Debug for Barrier {
    /// `<Barrier: waiters=2/3>` or `<Barrier: broken>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.broken() {
            write!(f, "<Barrier: broken>")
        } else {
            write!(
                f,
                "<Barrier: waiters={}/{}>",
                self.n_waiting(),
                self.parties()
            )
        }
    }
}

/// Breaks the barrier if a waiter is dropped while its round is pending.
struct BreakOnDrop<'a> {
    /// The barrier.
    barrier: &'a Barrier,
    /// The waiter's round.
    round: &'a Arc<Round>,
    /// Still waiting.
    armed: bool,
}

impl Drop for BreakOnDrop<'_> {
    fn drop(&mut self) {
        if self.armed {
            let mut st = self.barrier.state();
            if Arc::ptr_eq(&st.round, self.round)
                && self.round.outcome.load(Ordering::Acquire) == PENDING
            {
                self.barrier.break_locked(&mut st);
            }
        }
    }
}
