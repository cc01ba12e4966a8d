//! [`Lock`]: Python's `threading.Lock` (`_thread.allocate_lock`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::raw::RawSemaphore;
use crate::rt::{self, Deadline};
use crate::SyncError;

/// A primitive, non-reentrant lock that any thread may release: Python's
/// `threading.Lock`.
///
/// A `Lock` is a cheap handle: clones share one lock (Python's reference
/// semantics — give a clone to each thread).
///
/// # Fairness
///
/// Acquiring is first come, first served among waiters, but a running thread
/// may barge in ahead of a woken waiter (that is what makes an uncontended
/// acquire one compare-and-swap). A waiter that has waited more than about a
/// millisecond is *starved*: from then on the lock is handed to it on
/// release, and nobody barges in, so no waiter starves (CPython's `PyMutex`
/// does the same after 1 ms).
///
/// Re-acquiring a lock the thread already holds waits (deadlocks unless
/// another thread releases it), as in Python. Waiting never blocks a worker:
/// other green threads run meanwhile.
///
/// # Examples
///
/// ```
/// greenthread::block_on(async {
///     let lock = greenthread::Lock::new();
///     lock.acquire().await;
///     assert!(lock.locked());
///     assert!(!lock.try_acquire());
///     lock.release().unwrap();
///     {
///         let _guard = lock.lock().await; // `with lock:`
///         assert!(lock.locked());
///     }
///     assert!(!lock.locked());
/// });
/// ```
#[derive(Clone)]
pub struct Lock {
    /// One permit, bound one.
    raw: Arc<RawSemaphore>,
}

impl Lock {
    /// A new, unlocked lock.
    pub fn new() -> Lock {
        Lock {
            raw: Arc::new(RawSemaphore::new(1, 1).with_kind(rt::wait::LOCK)),
        }
    }

    /// Waits until the lock is free and takes it (`lock.acquire()`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, the lock
    /// was not taken, and a wake-up it had received goes to another waiter.
    #[doc(alias = "acquire_lock")]
    pub async fn acquire(&self) {
        self.raw.acquire(Deadline::never()).await;
        self.held();
    }

    /// Records the calling thread as the holder, for `greenthread::debug`:
    /// one plain store to the line the acquiring CAS just took, and a
    /// thread-local read (no atomic read-modify-write, no lock).
    #[inline]
    fn held(&self) {
        let me = rt::holder_ident();
        self.raw
            .holder
            .store(me, std::sync::atomic::Ordering::Relaxed);
    }

    /// Waits at most `timeout` for the lock (`lock.acquire(timeout=t)`);
    /// `true` if it was taken. `Duration::ZERO` is one non-blocking try;
    /// durations above `TIMEOUT_MAX` (even `Duration::MAX`) are clamped to it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`acquire`](Self::acquire).
    pub async fn acquire_timeout(&self, timeout: Duration) -> bool {
        let got = self.raw.acquire(Deadline::after(timeout)).await;
        if got {
            self.held();
        }
        got
    }

    /// Takes the lock if it is free right now (`lock.acquire(False)`).
    #[inline]
    pub fn try_acquire(&self) -> bool {
        let got = self.raw.try_acquire();
        if got {
            self.held();
        }
        got
    }

    /// Releases the lock. Any thread may release it, not only the one that
    /// acquired it (Python's `Lock` has no owner).
    ///
    /// # Errors
    ///
    /// [`SyncError::ReleaseUnlocked`] if the lock is not locked.
    #[doc(alias = "release_lock")]
    #[inline]
    pub fn release(&self) -> Result<(), SyncError> {
        // Cleared before the permit goes (its release orders the next
        // holder's store after this one). Released while unlocked: the
        // error below, and nobody held it anyway.
        self.raw
            .holder
            .store(0, std::sync::atomic::Ordering::Relaxed);
        self.raw.release(1).map_err(|()| SyncError::ReleaseUnlocked)
    }

    /// Whether the lock is held by some thread right now.
    #[doc(alias = "locked_lock")]
    #[inline]
    pub fn locked(&self) -> bool {
        self.raw.permits() == 0
    }

    /// Acquires the lock and returns a guard that releases it when dropped:
    /// Python's `with lock:`. The guard also releases the lock if the thread
    /// panics or its future is dropped while it holds it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`acquire`](Self::acquire).
    #[doc(alias = "__enter__")]
    pub async fn lock(&self) -> LockGuard<'_> {
        self.acquire().await;
        LockGuard { lock: self }
    }

    /// Whether `self` and `other` are handles to the same lock.
    pub fn same(&self, other: &Lock) -> bool {
        Arc::ptr_eq(&self.raw, &other.raw)
    }
}

impl Default for Lock {
    fn default() -> Self {
        Lock::new()
    }
}

impl fmt::Debug for Lock {
    /// Python's repr without the address: `<locked Lock>`/`<unlocked Lock>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.locked() { "locked" } else { "unlocked" };
        write!(f, "<{state} Lock>")
    }
}

/// Python's `_thread.allocate_lock()`: a new [`Lock`].
///
/// # Examples
///
/// ```
/// let lock = greenthread::thread::allocate_lock();
/// assert!(!lock.locked());
/// ```
pub fn allocate_lock() -> Lock {
    Lock::new()
}

/// Holds a [`Lock`] (from [`Lock::lock`]) and releases it when dropped.
#[must_use = "the lock is released as soon as the guard is dropped"]
#[clippy::has_significant_drop]
pub struct LockGuard<'a> {
    /// The lock held.
    lock: &'a Lock,
}

impl LockGuard<'_> {
    /// The lock this guard holds.
    pub fn lock(&self) -> &Lock {
        self.lock
    }
}

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        // Err only if someone else released it meanwhile (allowed for a
        // Python Lock); then there is nothing left to release.
        let _ = self.lock.release();
    }
}

impl fmt::Debug for LockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LockGuard")
            .field("lock", self.lock)
            .finish()
    }
}
