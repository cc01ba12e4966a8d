//! [`PriorityQueue`]: Python's `queue.PriorityQueue`, smallest first —
//! and, unlike Python's, stable.

use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::core::{queue_type, Store, StoreLen};
#[allow(unused_imports)] // used by the generated docs' links
use super::{GetError, PutError};

/// An item with its insertion number; ordered by item, then number.
#[derive(Debug)]
struct Entry<T> {
    /// The item.
    item: T,
    /// Insertion order, to break ties (stability).
    seq: u64,
}

impl<T: Ord> PartialEq for Entry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl<T: Ord> Eq for Entry<T> {}

impl<T: Ord> PartialOrd for Entry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T: Ord> Ord for Entry<T> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.item.cmp(&other.item).then(self.seq.cmp(&other.seq))
    }
}

/// Min-heap storage, ties broken by insertion order.
#[derive(Debug)]
pub(crate) struct PriorityStore<T> {
    /// `Reverse` turns std's max-heap into a min-heap.
    heap: BinaryHeap<Reverse<Entry<T>>>,
    /// Next insertion number.
    next_seq: u64,
}

impl<T> Default for PriorityStore<T> {
    fn default() -> Self {
        PriorityStore {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<T: Ord> Store<T> for PriorityStore<T> {
    fn push(&mut self, item: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Entry { item, seq }));
    }
    fn pop(&mut self) -> Option<T> {
        self.heap.pop().map(|Reverse(e)| e.item)
    }
    fn len(&self) -> usize {
        self.heap.len()
    }
}

impl<T> StoreLen for PriorityStore<T> {
    fn store_len(&self) -> usize {
        self.heap.len()
    }
}

queue_type! {
    /// A priority queue, smallest item first: Python's
    /// `queue.PriorityQueue`. Put `(priority, data)` tuples to order by
    /// priority.
    ///
    /// **Deliberate difference from Python:** equal items leave in insertion
    /// order (the queue is *stable*); Python's `heapq` makes no such
    /// promise. Each item carries a 64-bit insertion number for this.
    ///
    /// Everything but the order is [`Queue`](super::Queue)'s.
    ///
    /// # Examples
    ///
    /// ```
    /// use greenthread::queue::PriorityQueue;
    ///
    /// greenthread::block_on(async {
    ///     let q = PriorityQueue::new(0);
    ///     q.put((2, "b")).await.unwrap();
    ///     q.put((1, "first")).await.unwrap();
    ///     q.put((2, "a")).await.unwrap();
    ///     assert_eq!(q.get().await, Ok((1, "first")));
    ///     assert_eq!(q.get().await, Ok((2, "a")));
    ///     assert_eq!(q.get().await, Ok((2, "b")));
    /// });
    /// ```
    PriorityQueue [Ord], PriorityStore<T>, "smallest-first"
}
