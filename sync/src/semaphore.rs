//! [`Semaphore`] and [`BoundedSemaphore`]: Python's counting semaphores,
//! both thin wrappers over the waiting engine ([`crate::raw`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::raw::{RawSemaphore, MAX_PERMITS};
use crate::rt::Deadline;
use crate::SyncError;

/// A counting semaphore: Python's `threading.Semaphore`.
///
/// `acquire` takes one unit of the counter, waiting while it is zero;
/// `release(n)` adds `n`. The counter may grow past its initial value (use
/// [`BoundedSemaphore`] to forbid that). It saturates at 2³² − 1 on 64-bit
/// targets (2¹⁶ − 1 on 32-bit ones): larger values are clamped.
///
/// # Fairness
///
/// Python makes no promise about which waiter a release wakes. Here waiters
/// are woken first come, first served, a running thread may barge in ahead
/// of a woken waiter, and a waiter that has waited over a millisecond gets
/// the next unit handed to it (as for [`Lock`](crate::Lock)).
///
/// Clones share one semaphore.
///
/// # Examples
///
/// ```
/// greenthread::block_on(async {
///     let sem = greenthread::Semaphore::new(2);
///     sem.acquire().await;
///     assert!(sem.try_acquire());
///     assert!(!sem.try_acquire());
///     sem.release(2);
///     assert_eq!(sem.value(), 2);
/// });
/// ```
#[derive(Clone)]
pub struct Semaphore {
    /// The counter and its waiters.
    raw: Arc<RawSemaphore>,
}

impl Semaphore {
    /// A semaphore whose counter starts at `value`.
    pub fn new(value: usize) -> Semaphore {
        Semaphore {
            raw: Arc::new(RawSemaphore::new(value, MAX_PERMITS)),
        }
    }

    /// Waits until the counter is positive and decrements it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, nothing was
    /// taken, and a wake-up it had received goes to another waiter.
    pub async fn acquire(&self) {
        self.raw.acquire(Deadline::never()).await;
    }

    /// As [`acquire`](Self::acquire), waiting at most `timeout`; `true` if a
    /// unit was taken. `Duration::ZERO` is one non-blocking try; durations
    /// above `TIMEOUT_MAX` are clamped to it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`acquire`](Self::acquire).
    pub async fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.raw.acquire(Deadline::after(timeout)).await
    }

    /// Decrements the counter if it is positive right now.
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.raw.try_acquire()
    }

    /// Adds `n` to the counter and wakes up to `n` waiters. `release(0)` is
    /// a no-op (Python raises `ValueError` for `n < 1`).
    pub fn release(&self, n: usize) {
        self.raw.release_saturating(n);
    }

    /// The counter's current value (Python shows it in the repr).
    pub fn value(&self) -> usize {
        self.raw.permits()
    }
}

impl fmt::Debug for Semaphore {
    /// `<Semaphore: value=3>` (Python's repr without the address).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "<Semaphore: value={}>", self.value())
    }
}

/// A semaphore that refuses to be released above its initial value:
/// Python's `threading.BoundedSemaphore`.
///
/// Everything else is [`Semaphore`]'s. Clones share one semaphore.
///
/// # Examples
///
/// ```
/// use greenthread::{BoundedSemaphore, SyncError};
///
/// greenthread::block_on(async {
///     let sem = BoundedSemaphore::new(1);
///     assert_eq!(sem.release(1), Err(SyncError::TooManyReleases));
///     sem.acquire().await;
///     sem.release(1).unwrap();
///     assert_eq!(sem.value(), 1);
/// });
/// ```
#[derive(Clone)]
pub struct BoundedSemaphore {
    /// The counter (bounded by the initial value) and its waiters.
    raw: Arc<RawSemaphore>,
}

impl BoundedSemaphore {
    /// A semaphore whose counter starts at, and may never exceed, `value`.
    /// `BoundedSemaphore::new(0)` is legal: it can never be acquired, and
    /// every `release` fails.
    pub fn new(value: usize) -> BoundedSemaphore {
        BoundedSemaphore {
            raw: Arc::new(RawSemaphore::new(value, value)),
        }
    }

    /// Waits until the counter is positive and decrements it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, nothing was
    /// taken, and a wake-up it had received goes to another waiter.
    pub async fn acquire(&self) {
        self.raw.acquire(Deadline::never()).await;
    }

    /// As [`acquire`](Self::acquire), waiting at most `timeout`; `true` if a
    /// unit was taken. `Duration::ZERO` is one non-blocking try; durations
    /// above `TIMEOUT_MAX` are clamped to it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`acquire`](Self::acquire).
    pub async fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.raw.acquire(Deadline::after(timeout)).await
    }

    /// Decrements the counter if it is positive right now.
    #[inline]
    pub fn try_acquire(&self) -> bool {
        self.raw.try_acquire()
    }

    /// Adds `n` to the counter and wakes up to `n` waiters; `release(0)` is
    /// a no-op.
    ///
    /// # Errors
    ///
    /// [`SyncError::TooManyReleases`] if the counter would exceed the
    /// initial value; the counter is unchanged then.
    pub fn release(&self, n: usize) -> Result<(), SyncError> {
        self.raw.release(n).map_err(|()| SyncError::TooManyReleases)
    }

    /// The counter's current value.
    pub fn value(&self) -> usize {
        self.raw.permits()
    }

    /// The initial value, which is also the bound.
    pub fn max_value(&self) -> usize {
        self.raw.max()
    }
}

impl fmt::Debug for BoundedSemaphore {
    /// `<BoundedSemaphore: value=2/3>` (Python's repr without the address).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "<BoundedSemaphore: value={}/{}>",
            self.value(),
            self.max_value()
        )
    }
}
