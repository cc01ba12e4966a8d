//! [`RLock`]: Python's `threading.RLock`, re-entrant and owned.
//!
//! An `RLock` is the engine's one-permit lock plus an owner (the ident of
//! the thread holding it, `0` when free) and a recursion count. Only the
//! owner touches the count, and it takes or gives up the permit around
//! changing the owner, so plain relaxed atomics suffice for both fields:
//! the permit's acquire/release orders them.

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::raw::RawSemaphore;
use crate::rt::{self, Deadline};
use crate::SyncError;

/// The shared state of an [`RLock`].
#[derive(Debug)]
struct Inner {
    /// One permit: held while some thread owns the lock; its `holder` is
    /// the ident of the owning thread (0 when free), which waiters record.
    raw: RawSemaphore,
    /// Recursion level of the owner; 0 when free.
    count: AtomicUsize,
}

/// A re-entrant lock: Python's `threading.RLock`.
///
/// The thread that holds it may acquire it again; it is released when the
/// owner has called [`release`](Self::release) as many times as it acquired
/// it. Only the owner may release it. Ownership is by thread: a green
/// thread's ident under greenthread, the OS thread's ident under
/// `block_on` or in a foreign executor (see `greenthread::get_ident`).
/// A task of a work-stealing foreign executor (tokio's multi-thread
/// runtime, several async-executor threads) can move between OS threads
/// at any `.await`, and then no longer owns the lock it took: there, use a
/// [`Lock`](crate::Lock), or a [`Condition`](crate::Condition) built
/// [`with_lock`](crate::Condition::with_lock).
///
/// Fairness is [`Lock`](crate::Lock)'s: waiters that have waited about a
/// millisecond get the lock handed to them. Clones share one lock.
///
/// # Examples
///
/// ```
/// greenthread::block_on(async {
///     let rlock = greenthread::RLock::new();
///     rlock.acquire().await;
///     rlock.acquire().await; // re-entrant
///     assert_eq!(rlock.recursion_count(), 2);
///     rlock.release().unwrap();
///     rlock.release().unwrap();
///     assert!(!rlock.locked());
///     assert!(rlock.release().is_err()); // not owned any more
/// });
/// ```
#[derive(Clone)]
pub struct RLock {
    /// The shared lock.
    inner: Arc<Inner>,
}

/// What [`RLock::release_save`] gave up, for [`RLock::acquire_restore`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Saved {
    /// The owner's ident.
    owner: u64,
    /// Its recursion level.
    count: usize,
}

impl RLock {
    /// A new, unlocked re-entrant lock.
    pub fn new() -> RLock {
        RLock {
            inner: Arc::new(Inner {
                raw: RawSemaphore::new(1, 1).with_kind(rt::wait::RLOCK),
                count: AtomicUsize::new(0),
            }),
        }
    }

    /// Acquires the lock: at once (one level more) if this thread owns it,
    /// otherwise once it is free.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, the lock
    /// was not taken, and a wake-up it had received goes to another waiter.
    pub async fn acquire(&self) {
        self.acquire_inner(Deadline::never()).await;
    }

    /// As [`acquire`](Self::acquire), waiting at most `timeout`; `true` if
    /// acquired. `Duration::ZERO` is one non-blocking try; durations above
    /// `TIMEOUT_MAX` are clamped to it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`acquire`](Self::acquire).
    pub async fn acquire_timeout(&self, timeout: Duration) -> bool {
        self.acquire_inner(Deadline::after(timeout)).await
    }

    /// Acquires the lock if this thread owns it or it is free right now.
    pub fn try_acquire(&self) -> bool {
        let me = rt::get_ident();
        if self.reenter(me) {
            return true;
        }
        if self.inner.raw.try_acquire() {
            self.set_owner(me, 1);
            return true;
        }
        false
    }

    /// The shared body of the waiting forms.
    async fn acquire_inner(&self, deadline: Deadline) -> bool {
        let me = rt::get_ident();
        if self.reenter(me) {
            return true;
        }
        if self.inner.raw.acquire(deadline).await {
            self.set_owner(me, 1);
            true
        } else {
            false
        }
    }

    /// One level more if `me` owns the lock.
    fn reenter(&self, me: u64) -> bool {
        if self.inner.raw.holder.load(Ordering::Relaxed) == me {
            self.inner.count.fetch_add(1, Ordering::Relaxed);
            true
        } else {
            false
        }
    }

    /// Records the new owner after taking the permit.
    fn set_owner(&self, me: u64, count: usize) {
        self.inner.count.store(count, Ordering::Relaxed);
        self.inner.raw.holder.store(me, Ordering::Relaxed);
    }

    /// Releases one level; the lock is free once the owner has released as
    /// many times as it acquired.
    ///
    /// # Errors
    ///
    /// [`SyncError::NotOwner`] if the calling thread does not own the lock
    /// (including when it is not locked at all).
    pub fn release(&self) -> Result<(), SyncError> {
        self.release_as(rt::get_ident())
    }

    /// [`release`](Self::release) on behalf of thread `me` (guards remember
    /// their thread, so a guard dropped elsewhere still releases).
    fn release_as(&self, me: u64) -> Result<(), SyncError> {
        if me == 0 || self.inner.raw.holder.load(Ordering::Relaxed) != me {
            return Err(SyncError::NotOwner);
        }
        if self.inner.count.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.inner.raw.holder.store(0, Ordering::Relaxed);
            // Cannot fail: we held the permit.
            let _ = self.inner.raw.release(1);
        }
        Ok(())
    }

    /// Whether the calling thread owns the lock (Python's `_is_owned()`).
    #[doc(alias = "_is_owned")]
    pub fn is_owned(&self) -> bool {
        self.inner.raw.holder.load(Ordering::Relaxed) == rt::get_ident()
    }

    /// Whether some thread holds the lock (Python 3.14's `RLock.locked()`).
    pub fn locked(&self) -> bool {
        self.inner.raw.permits() == 0
    }

    /// The calling thread's recursion level: 0 unless it owns the lock
    /// (Python's `_recursion_count()`).
    #[doc(alias = "_recursion_count")]
    pub fn recursion_count(&self) -> usize {
        if self.is_owned() {
            self.inner.count.load(Ordering::Relaxed)
        } else {
            0
        }
    }

    /// Acquires the lock and returns a guard that releases one level when
    /// dropped: Python's `with rlock:`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`acquire`](Self::acquire).
    pub async fn lock(&self) -> RLockGuard<'_> {
        self.acquire().await;
        RLockGuard {
            rlock: self,
            owner: rt::get_ident(),
        }
    }

    /// Releases every level (Python's `_release_save`), for `Condition::wait`.
    pub(crate) fn release_save(&self) -> Result<Saved, SyncError> {
        let me = rt::get_ident();
        if me == 0 || self.inner.raw.holder.load(Ordering::Relaxed) != me {
            return Err(SyncError::NotOwner);
        }
        let count = self.inner.count.swap(0, Ordering::Relaxed);
        self.inner.raw.holder.store(0, Ordering::Relaxed);
        let _ = self.inner.raw.release(1);
        Ok(Saved { owner: me, count })
    }

    /// Re-acquires and restores what [`release_save`](Self::release_save)
    /// gave up (Python's `_acquire_restore`).
    pub(crate) async fn acquire_restore(&self, saved: Saved) {
        self.inner.raw.acquire(Deadline::never()).await;
        self.set_owner(saved.owner, saved.count);
    }

    /// Whether `self` and `other` are handles to the same lock.
    pub fn same(&self, other: &RLock) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Default for RLock {
    fn default() -> Self {
        RLock::new()
    }
}

impl fmt::Debug for RLock {
    /// Python's repr without the address:
    /// `<locked RLock owner=IDENT count=N>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.locked() { "locked" } else { "unlocked" };
        write!(
            f,
            "<{state} RLock owner={} count={}>",
            self.inner.raw.holder.load(Ordering::Relaxed),
            self.inner.count.load(Ordering::Relaxed)
        )
    }
}

/// Holds one level of an [`RLock`] (from [`RLock::lock`]); releases it when
/// dropped, on behalf of the thread that acquired it (so it works even if the
/// guard is dropped on another thread).
#[must_use = "the lock is released as soon as the guard is dropped"]
#[clippy::has_significant_drop]
pub struct RLockGuard<'a> {
    /// The lock held.
    rlock: &'a RLock,
    /// The thread that acquired it.
    owner: u64,
}

impl RLockGuard<'_> {
    /// The lock this guard holds.
    pub fn rlock(&self) -> &RLock {
        self.rlock
    }
}

impl Drop for RLockGuard<'_> {
    fn drop(&mut self) {
        let _ = self.rlock.release_as(self.owner);
    }
}

impl fmt::Debug for RLockGuard<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RLockGuard")
            .field("rlock", self.rlock)
            .finish()
    }
}
