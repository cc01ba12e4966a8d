//! [`Queue`]: Python's `queue.Queue`, first in, first out.

use std::collections::VecDeque;

use super::core::{drop_items, queue_type, Store, StoreLen};
#[allow(unused_imports)] // used by the generated docs' links
use super::{GetError, PutError};

/// First-in-first-out storage. The oldest item sits inline while the rest
/// is empty: a queue that holds one item at a time (a `Queue(1)` hand-off,
/// W5's ping-pong) keeps it in the state its lock already brought into
/// cache and never allocates, where a `VecDeque` kept it in a buffer of its
/// own, one more cache line to fetch per put and per get once a thousand
/// pairs' queues no longer fit in the core's cache.
#[derive(Debug)]
pub(crate) struct FifoStore<T> {
    /// The oldest item, if it came to an empty store; older than every
    /// item in `rest` whenever it is `Some`.
    first: Option<T>,
    /// The items behind it.
    rest: VecDeque<T>,
}

impl<T> Default for FifoStore<T> {
    fn default() -> Self {
        FifoStore {
            first: None,
            rest: VecDeque::new(),
        }
    }
}

impl<T> FifoStore<T> {
    /// Every item, oldest first, leaving the store empty.
    fn take_all(&mut self) -> impl Iterator<Item = T> + '_ {
        self.first.take().into_iter().chain(self.rest.drain(..))
    }
}

impl<T> Drop for FifoStore<T> {
    /// Drops the items left when the queue goes away, each on its own: one
    /// whose `Drop` panics neither leaks the others nor aborts the process.
    fn drop(&mut self) {
        drop_items(self.take_all());
    }
}

impl<T> Store<T> for FifoStore<T> {
    fn push(&mut self, item: T) {
        // Inline only into an empty store: with `rest` empty there is
        // nothing older for the new item to overtake.
        if self.first.is_none() && self.rest.is_empty() {
            self.first = Some(item);
        } else {
            self.rest.push_back(item);
        }
    }
    fn pop(&mut self) -> Option<T> {
        match self.first.take() {
            Some(item) => Some(item),
            None => self.rest.pop_front(),
        }
    }
    fn len(&self) -> usize {
        usize::from(self.first.is_some()) + self.rest.len()
    }
    fn drain_all(&mut self) -> Vec<T> {
        self.take_all().collect()
    }
}

impl<T> StoreLen for FifoStore<T> {
    fn store_len(&self) -> usize {
        Store::len(self)
    }
}

#[cfg(test)]
mod tests {
    use super::FifoStore;
    use crate::queue::core::Store;
    use std::collections::VecDeque;

    /// Against a `VecDeque`: every sequence of 12 pushes and pops (a pop
    /// of an empty store included) keeps the order and the length, with
    /// items in the inline slot, behind it, or both.
    #[test]
    fn first_in_first_out_across_the_inline_slot() {
        // Each bit of `ops` is a push (1) or a pop (0).
        for ops in 0u32..1 << 12 {
            let mut store = FifoStore::default();
            let mut model = VecDeque::new();
            for i in 0..12 {
                if ops >> i & 1 == 1 {
                    store.push(i);
                    model.push_back(i);
                } else {
                    assert_eq!(store.pop(), model.pop_front(), "ops {ops:b}");
                }
                assert_eq!(store.len(), model.len(), "ops {ops:b}");
            }
            let left: Vec<_> = model.into_iter().collect();
            assert_eq!(store.drain_all(), left, "ops {ops:b}");
            assert_eq!(store.len(), 0);
        }
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
