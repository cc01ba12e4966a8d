//! The errors of the primitives (the queue errors live in [`crate::queue`]).

use std::fmt;

/// Misuse of a lock, a condition, a bounded semaphore or a queue: Python's
/// `RuntimeError`/`ValueError` cases, with Python's messages as `Display`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SyncError {
    /// [`Lock::release`](crate::Lock::release) of a lock that is not locked
    /// ("release unlocked lock").
    ReleaseUnlocked,
    /// [`RLock::release`](crate::RLock::release) by a thread that does not
    /// own it ("cannot release un-acquired lock").
    NotOwner,
    /// [`Condition::wait`](crate::Condition::wait) without holding the
    /// condition's lock ("cannot wait on un-acquired lock").
    NotHeld,
    /// [`Condition::notify`](crate::Condition::notify) or
    /// [`notify_all`](crate::Condition::notify_all) without holding the
    /// condition's lock ("cannot notify on un-acquired lock", CPython's
    /// message for that case).
    NotifyNotHeld,
    /// [`BoundedSemaphore::release`](crate::BoundedSemaphore::release) past
    /// the initial value ("Semaphore released too many times").
    TooManyReleases,
    /// [`Queue::task_done`](crate::queue::Queue::task_done) called more often
    /// than items were put ("task_done() called too many times").
    TaskDoneTooManyTimes,
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SyncError::ReleaseUnlocked => "release unlocked lock",
            SyncError::NotOwner => "cannot release un-acquired lock",
            SyncError::NotHeld => "cannot wait on un-acquired lock",
            SyncError::NotifyNotHeld => "cannot notify on un-acquired lock",
            SyncError::TooManyReleases => "Semaphore released too many times",
            SyncError::TaskDoneTooManyTimes => "task_done() called too many times",
        })
    }
}

impl std::error::Error for SyncError {}

/// A [`Barrier`](crate::Barrier) wait failed because the barrier is (or
/// became) broken: aborted, reset while waiting, a waiter timed out or was
/// cancelled, or the action panicked. Python's `threading.BrokenBarrierError`.
///
/// Python raises it without a message; `Display` says "broken barrier".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BrokenBarrierError;

impl fmt::Display for BrokenBarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("broken barrier")
    }
}

impl std::error::Error for BrokenBarrierError {}
