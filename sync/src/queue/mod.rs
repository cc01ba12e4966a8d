//! Python's `queue` module: [`Queue`] (FIFO), [`LifoQueue`],
//! [`PriorityQueue`] and [`SimpleQueue`], with [`PutError`] and
//! [`GetError`].
//!
//! # Design
//!
//! `Queue`, `LifoQueue` and `PriorityQueue` share one core, as in Python
//! (one mutex, three conditions): the items, `unfinished_tasks`, the
//! shutdown flag and the waiting getters and putters sit under a
//! `std::sync::Mutex` that is never held across an `.await` (so `qsize`,
//! `put_nowait`, `task_done`... need no `.await`). Python's `not_empty` and
//! `not_full` conditions are two waiter lists under that same mutex
//! (`waiters.rs`), so waiting takes no lock but the queue's; `join` waits on
//! an [`event_listener::Event`] (Python's `all_tasks_done`).
//!
//! 1. A getter that finds the queue empty joins the back of the getters'
//!    list before unlocking, then sleeps; a put notifies the oldest waiting
//!    getter (one per item), a get the oldest waiting putter (one per slot
//!    freed), and wakes it after unlocking. A notified waiter leaves the
//!    list and looks at the queue again; if a running thread got there
//!    first, it joins the back again. A put or get that finds nobody
//!    waiting reads one counter and notifies nobody.
//! 2. `task_done` reaching zero and `shutdown` notify everyone concerned.
//! 3. Cancel safety: a waiter dropped after it was notified, before it
//!    looked, passes the notification on to the next waiter, so no item or
//!    free slot is left with nobody woken for it. A `put` future that is
//!    dropped drops its item with it (it never entered the queue); a `get`
//!    future only takes an item in the poll that returns it.
//!
//! Items leave the mutex before they are dropped, so an item's `Drop` may
//! use the queue.
//!
//! User code that panics (SPEC §10.27) cannot drift a count or strand a
//! waiter:
//!
//! - A push or pop of the store runs inside a guard (`Settle` in
//!   `core.rs`) that counts an item by the store's length and notifies,
//!   unlocks and wakes when dropped, also on unwinding: an item stored by a
//!   `push` whose `Ord` panicked is counted and a getter woken; a `pop`
//!   whose `Ord` panicked leaves the store as it was and passes the
//!   getter's notification on. The `PriorityQueue`'s heap keeps every item
//!   through a panicking `Ord` (std's `BinaryHeap::pop` would lose one).
//! - Items are dropped one by one inside `catch_unwind`, after the queue is
//!   consistent and every waiter woken (immediate `shutdown`, the queue's
//!   own drop); the first panic is resumed afterwards, the others ignored.
//! - A `put` future dropped with its item passes a notification on before
//!   the item is dropped.
//! - A waker that panics (a foreign executor's) is ignored once the panic
//!   hook has reported it: the waiters after it are still woken, and the
//!   put, get or shutdown that woke it completes (a get's item is not lost
//!   to the unwinding).

mod core;
mod fifo;
mod lifo;
mod priority;
mod simple;

#[cfg(all(test, loom))]
mod loom_models;

use std::fmt;

pub use fifo::Queue;
pub use lifo::LifoQueue;
pub use priority::PriorityQueue;
pub use simple::SimpleQueue;

/// A put that failed, with the item given back: Python's `queue.Full` and
/// `queue.ShutDown` raised by `put`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PutError<T> {
    /// The queue is full (non-blocking put, or the timeout passed).
    Full(T),
    /// The queue has been shut down.
    ShutDown(T),
}

impl<T> PutError<T> {
    /// The item that could not be put.
    pub fn into_inner(self) -> T {
        match self {
            PutError::Full(item) | PutError::ShutDown(item) => item,
        }
    }

    /// Whether the queue was full.
    pub fn is_full(&self) -> bool {
        matches!(self, PutError::Full(_))
    }

    /// Whether the queue was shut down.
    pub fn is_shut_down(&self) -> bool {
        matches!(self, PutError::ShutDown(_))
    }
}

impl<T> fmt::Debug for PutError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("Full(..)"),
            PutError::ShutDown(_) => f.write_str("ShutDown(..)"),
        }
    }
}

impl<T> fmt::Display for PutError<T> {
    /// Python raises `queue.Full`/`queue.ShutDown` without a message; these
    /// say what happened.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PutError::Full(_) => f.write_str("queue is full"),
            PutError::ShutDown(_) => f.write_str("queue is shut down"),
        }
    }
}

impl<T> std::error::Error for PutError<T> {}

/// A get that failed: Python's `queue.Empty` and `queue.ShutDown` raised by
/// `get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum GetError {
    /// The queue is empty (non-blocking get, or the timeout passed).
    Empty,
    /// The queue has been shut down and is empty.
    ShutDown,
}

impl fmt::Display for GetError {
    /// Python raises `queue.Empty`/`queue.ShutDown` without a message; these
    /// say what happened.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GetError::Empty => f.write_str("queue is empty"),
            GetError::ShutDown => f.write_str("queue is shut down"),
        }
    }
}

impl std::error::Error for GetError {}
