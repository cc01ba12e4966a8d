//! [`Condition`]: Python's `threading.Condition`.
//!
//! # Design
//!
//! A condition is its lock (a [`Lock`] or an [`RLock`]) plus one
//! [`event_listener::Event`] whose listeners are the waiters, in arrival
//! order:
//!
//! 1. `wait` checks that the lock is held, registers a listener *while still
//!    holding the lock* (so a `notify` issued after the release cannot miss
//!    it), releases the lock fully, waits for the listener, then re-acquires
//!    the lock and restores the recursion level.
//! 2. `notify(n)` (lock held) is `Event::notify(n.additional())`: it notifies
//!    the `n` oldest listeners that are not notified yet — FIFO, exactly `n`
//!    (fewer if fewer wait), and never anyone else, so there are no spurious
//!    wake-ups.
//! 3. A waiter that is dropped after being notified hands its notification
//!    on: `event_listener` does it if the listener had not yet been polled;
//!    if it had (the waiter was re-acquiring the lock), the waiter notifies
//!    one more listener itself. So a notify always reaches a live waiter if
//!    there is one.

use std::fmt;
use std::time::{Duration, Instant};

use event_listener::{Event, IntoNotification};

use crate::rlock::Saved;
use crate::rt::{self, Deadline};
use crate::{Lock, LockGuard, RLock, RLockGuard, SyncError};

/// The lock under a condition.
#[derive(Clone, Debug)]
enum CondLock {
    /// A plain lock: "held" means "locked by anyone" (Python's approximation).
    Lock(Lock),
    /// A re-entrant lock: "held" means "owned by the calling thread".
    RLock(RLock),
}

/// What a waiter gave up, to restore after the wait.
#[derive(Debug, Clone, Copy)]
enum Released {
    /// A plain lock was released.
    Lock,
    /// An RLock was released at this level.
    RLock(Saved),
}

/// The shared part of a condition: the waiters' event.
#[derive(Debug, Default)]
struct Waiters {
    /// One listener per waiting thread, oldest first.
    event: Event,
    /// The condition's id (`greenthread::debug`).
    id: rt::PrimId,
}

/// A condition variable: Python's `threading.Condition`.
///
/// It is associated with a lock (by default a new [`RLock`]); a thread must
/// hold the lock to [`wait`](Self::wait) or [`notify`](Self::notify).
/// `wait` releases the lock (every level of an `RLock`), sleeps until
/// notified, and re-acquires it (restoring the level) before returning.
///
/// # Guarantees
///
/// - `notify(n)` wakes the `n` longest-waiting threads (FIFO); a notify when
///   nobody waits is lost, as in Python.
/// - No spurious wake-ups: `wait` returns only after a notify chosen it (or a
///   timeout).
/// - Woken threads re-acquire the lock in competition with everyone else (as
///   in Python), so re-check the predicate: use [`wait_for`](Self::wait_for).
/// - With a plain [`Lock`], "holding the lock" can only be checked as "the
///   lock is locked" (Python does the same), so waiting on a condition whose
///   lock another thread holds is not detected.
///
/// Clones share one condition.
///
/// # Examples
///
/// ```
/// use std::sync::atomic::{AtomicBool, Ordering};
/// use std::sync::Arc;
///
/// greenthread::run(async {
///     let cond = greenthread::Condition::new();
///     let ready = Arc::new(AtomicBool::new(false));
///     let (c, r) = (cond.clone(), ready.clone());
///     let waiter = greenthread::spawn(async move {
///         let _g = c.lock().await;
///         c.wait_for(|| r.load(Ordering::SeqCst)).await.unwrap();
///     });
///     {
///         let _g = cond.lock().await;
///         ready.store(true, Ordering::SeqCst);
///         cond.notify_all().unwrap();
///     }
///     waiter.await.unwrap();
/// });
/// ```
#[derive(Clone)]
pub struct Condition {
    /// The condition's lock.
    lock: CondLock,
    /// The waiters.
    waiters: std::sync::Arc<Waiters>,
}

impl Condition {
    /// A condition with a new [`RLock`] of its own (Python's default).
    ///
    /// The RLock is owned by the thread that took it (see [`RLock`]); in a
    /// work-stealing foreign executor, whose tasks move between OS threads,
    /// use [`with_lock`](Self::with_lock) instead.
    pub fn new() -> Condition {
        Condition::with_rlock(RLock::new())
    }

    /// A condition over an existing [`Lock`] (shared with the caller).
    pub fn with_lock(lock: Lock) -> Condition {
        Condition {
            lock: CondLock::Lock(lock),
            waiters: Default::default(),
        }
    }

    /// A condition over an existing [`RLock`] (shared with the caller).
    pub fn with_rlock(rlock: RLock) -> Condition {
        Condition {
            lock: CondLock::RLock(rlock),
            waiters: Default::default(),
        }
    }

    /// Acquires the underlying lock (see [`Lock::acquire`] /
    /// [`RLock::acquire`]).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if dropped before completing, the lock was not taken.
    pub async fn acquire(&self) {
        match &self.lock {
            CondLock::Lock(l) => l.acquire().await,
            CondLock::RLock(l) => l.acquire().await,
        }
    }

    /// Acquires the underlying lock, waiting at most `timeout`; `true` if
    /// acquired. Durations above `TIMEOUT_MAX` are clamped to it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`acquire`](Self::acquire).
    pub async fn acquire_timeout(&self, timeout: Duration) -> bool {
        match &self.lock {
            CondLock::Lock(l) => l.acquire_timeout(timeout).await,
            CondLock::RLock(l) => l.acquire_timeout(timeout).await,
        }
    }

    /// Acquires the underlying lock if that is possible at once.
    pub fn try_acquire(&self) -> bool {
        match &self.lock {
            CondLock::Lock(l) => l.try_acquire(),
            CondLock::RLock(l) => l.try_acquire(),
        }
    }

    /// Releases the underlying lock (one level of an `RLock`).
    ///
    /// # Errors
    ///
    /// [`SyncError::ReleaseUnlocked`] for an unlocked [`Lock`];
    /// [`SyncError::NotOwner`] for an [`RLock`] the caller does not own.
    pub fn release(&self) -> Result<(), SyncError> {
        match &self.lock {
            CondLock::Lock(l) => l.release(),
            CondLock::RLock(l) => l.release(),
        }
    }

    /// Whether the underlying lock is held by anyone (Python 3.14's
    /// `Condition.locked()`).
    pub fn locked(&self) -> bool {
        match &self.lock {
            CondLock::Lock(l) => l.locked(),
            CondLock::RLock(l) => l.locked(),
        }
    }

    /// Acquires the underlying lock and returns a guard that releases it
    /// when dropped: Python's `with cond:`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`acquire`](Self::acquire).
    pub async fn lock(&self) -> ConditionGuard<'_> {
        let inner = match &self.lock {
            CondLock::Lock(l) => GuardInner::Lock(l.lock().await),
            CondLock::RLock(l) => GuardInner::RLock(l.lock().await),
        };
        ConditionGuard { _inner: inner }
    }

    /// Whether the caller may wait/notify: owns the RLock, or the Lock is
    /// locked.
    fn is_held(&self) -> bool {
        match &self.lock {
            CondLock::Lock(l) => l.locked(),
            CondLock::RLock(l) => l.is_owned(),
        }
    }

    /// Waits until notified: releases the lock (fully), sleeps, re-acquires
    /// it. Returns after a [`notify`](Self::notify) chose this waiter.
    ///
    /// # Errors
    ///
    /// [`SyncError::NotHeld`] if the caller does not hold the lock (nothing
    /// is released then).
    ///
    /// # Cancel safety
    ///
    /// If the future is dropped while waiting, the lock stays **released**
    /// (re-acquiring it would need an `.await`) and the waiter leaves the
    /// queue; a notification it had been chosen for is passed on to another
    /// waiter. Code that cancels a `wait` must not assume it still holds the
    /// lock.
    pub async fn wait(&self) -> Result<(), SyncError> {
        self.wait_deadline(Deadline::never()).await.map(|_| ())
    }

    /// As [`wait`](Self::wait), giving up after `timeout`: `Ok(false)` if it
    /// timed out (the lock is re-acquired either way). `Duration::ZERO`
    /// releases the lock, checks for nothing and re-acquires it; durations
    /// above `TIMEOUT_MAX` are clamped to it.
    ///
    /// # Errors
    ///
    /// [`SyncError::NotHeld`] if the caller does not hold the lock.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Self::wait).
    pub async fn wait_timeout(&self, timeout: Duration) -> Result<bool, SyncError> {
        self.wait_deadline(Deadline::after(timeout)).await
    }

    /// The body of every wait.
    async fn wait_deadline(&self, mut deadline: Deadline) -> Result<bool, SyncError> {
        if !self.is_held() {
            return Err(SyncError::NotHeld);
        }
        // Registered before the lock is released: no notify can miss us.
        let mut listener = self.waiters.event.listen();
        let released = match &self.lock {
            CondLock::Lock(l) => {
                l.release().map_err(|_| SyncError::NotHeld)?;
                Released::Lock
            }
            CondLock::RLock(l) => {
                Released::RLock(l.release_save().map_err(|_| SyncError::NotHeld)?)
            }
        };
        let mut first = true;
        let wait = rt::wait_listener(&mut listener, &mut deadline);
        let id = &self.waiters.id;
        let notified = rt::recorded(rt::wait::CONDITION, id, &mut first, wait).await;
        drop(listener);
        // From here on a drop while re-acquiring must pass the notify on.
        let pass_on = PassOn {
            event: &self.waiters.event,
            armed: notified,
        };
        match released {
            Released::Lock => match &self.lock {
                CondLock::Lock(l) => l.acquire().await,
                CondLock::RLock(_) => unreachable!("lock kind never changes"),
            },
            Released::RLock(saved) => match &self.lock {
                CondLock::RLock(l) => l.acquire_restore(saved).await,
                CondLock::Lock(_) => unreachable!("lock kind never changes"),
            },
        }
        pass_on.disarm();
        Ok(notified)
    }

    /// Waits until `predicate` returns `true` (checked first, then after
    /// each wake-up, always with the lock held).
    ///
    /// # Errors
    ///
    /// [`SyncError::NotHeld`] if the caller does not hold the lock.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Self::wait).
    pub async fn wait_for<P>(&self, mut predicate: P) -> Result<(), SyncError>
    where
        P: FnMut() -> bool + Send,
    {
        while !predicate() {
            self.wait().await?;
        }
        Ok(())
    }

    /// As [`wait_for`](Self::wait_for) with one overall `timeout`; returns
    /// the predicate's last value (`false` when it timed out).
    ///
    /// # Errors
    ///
    /// [`SyncError::NotHeld`] if the caller does not hold the lock.
    ///
    /// # Cancel safety
    ///
    /// As [`wait`](Self::wait).
    pub async fn wait_for_timeout<P>(
        &self,
        mut predicate: P,
        timeout: Duration,
    ) -> Result<bool, SyncError>
    where
        P: FnMut() -> bool + Send,
    {
        let end = greenthread_runtime::glue::deadline_after(timeout);
        loop {
            if predicate() {
                return Ok(true);
            }
            if !self.is_held() {
                return Err(SyncError::NotHeld);
            }
            let deadline = match end {
                None => Deadline::never(),
                Some(end) => {
                    let left = end.saturating_duration_since(Instant::now());
                    if left.is_zero() {
                        return Ok(false);
                    }
                    Deadline::after(left)
                }
            };
            self.wait_deadline(deadline).await?;
        }
    }

    /// Wakes up to `n` waiting threads, longest-waiting first. They return
    /// from `wait` once they win the lock back (after the caller releases
    /// it). A no-op if nobody waits; `notify(0)` does nothing.
    ///
    /// # Errors
    ///
    /// [`SyncError::NotifyNotHeld`] if the caller does not hold the lock.
    pub fn notify(&self, n: usize) -> Result<(), SyncError> {
        if !self.is_held() {
            return Err(SyncError::NotifyNotHeld);
        }
        if n > 0 {
            self.waiters.event.notify(n.additional());
        }
        Ok(())
    }

    /// Wakes every waiting thread.
    ///
    /// # Errors
    ///
    /// [`SyncError::NotifyNotHeld`] if the caller does not hold the lock.
    #[doc(alias = "notifyAll")]
    pub fn notify_all(&self) -> Result<(), SyncError> {
        self.notify(usize::MAX)
    }

    /// Threads waiting right now (including notified ones that have not yet
    /// re-acquired the lock's turn to run).
    pub fn n_waiters(&self) -> usize {
        self.waiters.event.total_listeners()
    }
}

impl Default for Condition {
    fn default() -> Self {
        Condition::new()
    }
}

impl fmt::Debug for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.lock {
            CondLock::Lock(l) => write!(f, "<Condition({l:?}, {})>", self.n_waiters()),
            CondLock::RLock(l) => write!(f, "<Condition({l:?}, {})>", self.n_waiters()),
        }
    }
}

/// Passes a consumed notification on if the waiter is dropped before it
/// returns.
struct PassOn<'a> {
    /// The waiters' event.
    event: &'a Event,
    /// Whether this waiter holds a notification.
    armed: bool,
}

impl PassOn<'_> {
    /// The waiter returned: nothing to pass on.
    fn disarm(mut self) {
        self.armed = false;
    }
}

impl Drop for PassOn<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.event.notify(1.additional());
        }
    }
}

/// The guard of either lock kind.
#[derive(Debug)]
#[allow(dead_code)] // the guards are held only for their `Drop`
enum GuardInner<'a> {
    /// Holding a plain lock.
    Lock(LockGuard<'a>),
    /// Holding an RLock level.
    RLock(RLockGuard<'a>),
}

/// Holds a [`Condition`]'s lock (from [`Condition::lock`]); releases it when
/// dropped. Call [`Condition::wait`] and [`Condition::notify`] on the
/// condition while holding it.
#[must_use = "the lock is released as soon as the guard is dropped"]
#[clippy::has_significant_drop]
#[derive(Debug)]
pub struct ConditionGuard<'a> {
    /// The lock's own guard.
    _inner: GuardInner<'a>,
}
