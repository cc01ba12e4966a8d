//! [`SimpleQueue`]: Python's `queue.SimpleQueue`, an unbounded FIFO without
//! task tracking.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use super::core::Core;
use super::fifo::FifoStore;
use super::{GetError, PutError};
use crate::rt::Deadline;

/// An unbounded first-in-first-out queue without `task_done`/`join`/
/// `shutdown`: Python's `queue.SimpleQueue`.
///
/// `put` never waits and never fails. Items are dropped outside the queue's
/// lock, so an item's `Drop` may put into the same queue (Python's
/// `SimpleQueue` is re-entrant in the same way).
///
/// A cheap handle: clones share one queue (`Clone` without `T: Clone`).
///
/// # Examples
///
/// ```
/// use greenthread::queue::{GetError, SimpleQueue};
///
/// greenthread::block_on(async {
///     let q = SimpleQueue::new();
///     q.put(1).await.unwrap();
///     q.put_nowait(2).unwrap();
///     assert_eq!(q.qsize(), 2);
///     assert_eq!(q.get().await, Ok(1));
///     assert_eq!(q.get_nowait(), Ok(2));
///     assert_eq!(q.get_nowait(), Err(GetError::Empty));
/// });
/// ```
pub struct SimpleQueue<T> {
    /// The shared queue: `Queue`'s core, unbounded and never shut down (its
    /// `unfinished_tasks` count is not used).
    core: Arc<Core<T, FifoStore<T>>>,
}

impl<T> Clone for SimpleQueue<T> {
    fn clone(&self) -> Self {
        SimpleQueue {
            core: self.core.clone(),
        }
    }
}

impl<T> Default for SimpleQueue<T> {
    fn default() -> Self {
        SimpleQueue::new()
    }
}

impl<T> fmt::Debug for SimpleQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SimpleQueue")
            .field("qsize", &self.qsize())
            .finish()
    }
}

impl<T> SimpleQueue<T> {
    /// A new, empty queue.
    pub fn new() -> Self {
        SimpleQueue {
            core: Arc::new(Core::new(0)),
        }
    }

    /// Puts `item`; never waits (the queue is unbounded).
    ///
    /// # Errors
    ///
    /// Never fails; the `Result` mirrors the other queues' `put`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it completes on its first poll.
    pub async fn put(&self, item: T) -> Result<(), PutError<T>> {
        self.put_nowait(item)
    }

    /// Puts `item` at once.
    ///
    /// # Errors
    ///
    /// Never fails.
    pub fn put_nowait(&self, item: T) -> Result<(), PutError<T>> {
        // Unbounded and never shut down: it cannot fail.
        self.core.try_put(item)
    }

    /// Removes and returns the oldest item, waiting while the queue is empty.
    ///
    /// # Errors
    ///
    /// Never fails (a `SimpleQueue` cannot be shut down); the `Result`
    /// mirrors the other queues' `get`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: an item is taken only in the poll that returns it, and a
    /// wake-up the dropped future had received goes to another getter.
    pub fn get(&self) -> impl Future<Output = Result<T, GetError>> + '_ {
        self.core.get(Deadline::never())
    }

    /// As [`get`](Self::get), waiting at most `timeout`. `Duration::ZERO`
    /// is [`get_nowait`](Self::get_nowait); durations above `TIMEOUT_MAX`
    /// are clamped to it.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if nothing arrived in time.
    ///
    /// # Cancel safety
    ///
    /// As [`get`](Self::get).
    pub fn get_timeout(&self, timeout: Duration) -> impl Future<Output = Result<T, GetError>> + '_ {
        self.core.get(Deadline::after(timeout))
    }

    /// Takes the oldest item if there is one.
    ///
    /// # Errors
    ///
    /// [`GetError::Empty`] if the queue is empty.
    pub fn get_nowait(&self) -> Result<T, GetError> {
        self.core.try_get()
    }

    /// Items in the queue now.
    pub fn qsize(&self) -> usize {
        self.core.qsize()
    }

    /// Whether the queue is empty now.
    pub fn empty(&self) -> bool {
        self.core.qsize() == 0
    }
}
