//! [`Queue`]: Python's `queue.Queue`, first in, first out.

use std::collections::VecDeque;

use super::core::{drop_items, queue_type, Store, StoreLen};
#[allow(unused_imports)] // used by the generated docs' links
use super::{GetError, PutError};

/// First-in-first-out storage.
#[derive(Debug)]
pub(crate) struct FifoStore<T>(VecDeque<T>);

impl<T> Default for FifoStore<T> {
    fn default() -> Self {
        FifoStore(VecDeque::new())
    }
}

impl<T> Drop for FifoStore<T> {
    /// Drops the items left when the queue goes away, each on its own: one
    /// whose `Drop` panics neither leaks the others nor aborts the process.
    fn drop(&mut self) {
        drop_items(self.0.drain(..));
    }
}

impl<T> Store<T> for FifoStore<T> {
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn drain_all(&mut self) -> Vec<T> {
        self.0.drain(..).collect()
    }
}

impl<T> StoreLen for FifoStore<T> {
    fn store_len(&self) -> usize {
        self.0.len()
    }
}

queue_type! {
    /// A first-in-first-out queue: Python's `queue.Queue`.
    ///
    /// Bounded by `maxsize` (0: unbounded). Tracks unfinished tasks for
    /// [`join`](Self::join)/[`task_done`](Self::task_done) and supports
    /// Python 3.13's [`shutdown`](Self::shutdown). Waiting getters and
    /// putters are woken first come, first served, one per item or slot;
    /// a running thread may take an item before a woken one gets to it.
    ///
    /// A cheap handle: clones share one queue (`Clone` without `T: Clone`),
    /// and it is `Send + Sync` for `T: Send`.
    ///
    /// # Examples
    ///
    /// ```
    /// use greenthread::queue::{GetError, Queue};
    ///
    /// greenthread::block_on(async {
    ///     let q = Queue::new(2);
    ///     q.put(1).await.unwrap();
    ///     q.put_nowait(2).unwrap();
    ///     assert!(q.full());
    ///     assert_eq!(q.put_nowait(3).unwrap_err().into_inner(), 3);
    ///     assert_eq!(q.get().await, Ok(1));
    ///     assert_eq!(q.get_nowait(), Ok(2));
    ///     assert_eq!(q.get_nowait(), Err(GetError::Empty));
    /// });
    /// ```
    Queue [], FifoStore<T>, "first-in-first-out"
}
