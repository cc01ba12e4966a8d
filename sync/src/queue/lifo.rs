//! [`LifoQueue`]: Python's `queue.LifoQueue`, last in, first out.

use super::core::{drop_items, queue_type, Store, StoreLen};
#[allow(unused_imports)] // used by the generated docs' links
use super::{GetError, PutError};

/// Last-in-first-out storage.
#[derive(Debug)]
pub(crate) struct LifoStore<T>(Vec<T>);

impl<T> Default for LifoStore<T> {
    fn default() -> Self {
        LifoStore(Vec::new())
    }
}

impl<T> Drop for LifoStore<T> {
    /// Drops the items left when the queue goes away, each on its own: one
    /// whose `Drop` panics neither leaks the others nor aborts the process.
    fn drop(&mut self) {
        drop_items(self.0.drain(..));
    }
}

impl<T> Store<T> for LifoStore<T> {
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
    fn drain_all(&mut self) -> Vec<T> {
        self.0.drain(..).rev().collect()
    }
}

impl<T> StoreLen for LifoStore<T> {
    fn store_len(&self) -> usize {
        self.0.len()
    }
}

queue_type! {
    /// A last-in-first-out queue (a stack): Python's `queue.LifoQueue`.
    ///
    /// Everything but the order is [`Queue`](super::Queue)'s.
    ///
    /// # Examples
    ///
    /// ```
    /// use greenthread::queue::LifoQueue;
    ///
    /// greenthread::block_on(async {
    ///     let q = LifoQueue::new(0);
    ///     for x in [111, 333, 222] {
    ///         q.put(x).await.unwrap();
    ///     }
    ///     assert_eq!(q.get().await, Ok(222));
    ///     assert_eq!(q.get().await, Ok(333));
    ///     assert_eq!(q.get().await, Ok(111));
    /// });
    /// ```
    LifoQueue [], LifoStore<T>, "last-in-first-out"
}
