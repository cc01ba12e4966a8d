//! Python's `queue` module: [`Queue`] (FIFO), [`LifoQueue`],
//! [`PriorityQueue`] and [`SimpleQueue`], with [`PutError`] and
//! [`GetError`].
//!
//! # Design
//!
//! `Queue`, `LifoQueue` and `PriorityQueue` share one core, as in Python
//! (one mutex, three conditions): the items, `unfinished_tasks` and the
//! shutdown flag sit under a `std::sync::Mutex` that is never held across an
//! `.await` (so `qsize`, `put_nowait`, `task_done`... need no `.await`), and
//! three [`event_listener::Event`]s stand for Python's `not_empty`,
//! `not_full` and `all_tasks_done` conditions:
//!
//! 1. A getter that finds the queue empty registers on `not_empty` before
//!    unlocking, then sleeps; a putter notifies one more getter
//!    (`notify(1.additional())`) per item, a getter one more putter per
//!    slot freed. A waiter that finds nothing when woken (another thread got
//!    there first) registers again. The state counts the getters and
//!    putters registered (a waiter counts itself under the mutex as it
//!    registers and uncounts itself under the mutex it retakes when woken,
//!    or in its drop), so a put or get that finds nobody registered skips
//!    the notification: `Event::notify` takes the event's own lock even
//!    with no listeners. Listeners live inside the waiting future
//!    (`event_listener::listener!`), so waiting allocates nothing.
//! 2. `task_done` reaching zero and `shutdown` notify everyone concerned.
//! 3. Cancel safety: a dropped waiter's listener hands a notification it had
//!    received on to the next waiter (`event_listener` does that), so no
//!    item or free slot is left with nobody woken for it. A `put` future that
//!    is dropped drops its item with it (it never entered the queue); a
//!    `get` future only takes an item in the poll that returns it.
//!
//! Items leave the mutex before they are dropped, so an item's `Drop` may
//! use the queue.

mod core;
mod fifo;
mod lifo;
mod priority;
mod simple;

use std::fmt;

pub use fifo::Queue;
pub use lifo::LifoQueue;
pub use priority::PriorityQueue;
pub use simple::SimpleQueue;

/// A put that failed, with the item given back: Python's `queue.Full` and
/// `queue.ShutDown` raised by `put`.
#[derive(Clone, PartialEq, Eq)]
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
