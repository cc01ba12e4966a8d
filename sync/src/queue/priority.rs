//! [`PriorityQueue`]: Python's `queue.PriorityQueue`, smallest first —
//! and, unlike Python's, stable.

use std::cmp::Ordering;

use super::core::{drop_items, queue_type, Store, StoreLen};
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

impl<T: Ord> Entry<T> {
    /// Whether `self` leaves before `other` (smaller item, or equal and
    /// put earlier). Calls the item's `Ord`, which may panic.
    fn precedes(&self, other: &Self) -> bool {
        self.item.cmp(&other.item).then(self.seq.cmp(&other.seq)) == Ordering::Less
    }
}

/// Min-heap storage, ties broken by insertion order.
///
/// A binary heap of its own rather than std's `BinaryHeap`, for panic
/// safety: std's `pop` takes the top item out *before* it restores the
/// heap, so an `Ord` that panics there drops the item (it is lost, inside
/// the queue's lock). Here an `Ord` panic never loses an item:
///
/// - in [`push`](Store::push) the new item is in the heap from the start;
///   a panic leaves it where the sift had moved it, so the heap order may
///   be off at that item's place (it may leave later than its priority
///   says; an `Ord` that panics is a logic error, as for std's heap),
/// - in [`pop`](Store::pop) every swap is undone: the heap is exactly as
///   before and the item stays at the top.
#[derive(Debug)]
pub(crate) struct PriorityStore<T> {
    /// The heap: `heap[i]` precedes `heap[2i+1]` and `heap[2i+2]`.
    heap: Vec<Entry<T>>,
    /// Next insertion number.
    next_seq: u64,
}

impl<T> Default for PriorityStore<T> {
    fn default() -> Self {
        PriorityStore {
            heap: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<T> Drop for PriorityStore<T> {
    fn drop(&mut self) {
        drop_items(self.heap.drain(..).map(|e| e.item));
    }
}

/// Undoes a `pop`'s swaps unless disarmed: the sift-down's path (the child
/// swapped with its parent at each level), then the first swap of the top
/// with the last item.
struct Restore<'a, T> {
    /// The heap being sifted.
    heap: &'a mut Vec<Entry<T>>,
    /// The children swapped with their parents, top down (a heap of `n`
    /// items is less than `usize::BITS` levels deep).
    path: [usize; usize::BITS as usize],
    /// Entries of `path` in use.
    depth: usize,
    /// Whether the pop completed.
    done: bool,
}

impl<T> Drop for Restore<'_, T> {
    fn drop(&mut self) {
        if self.done {
            return;
        }
        // An Ord panicked mid-sift: swaps are their own inverses, so undo
        // them in reverse; the heap is then as before the pop began.
        for &child in self.path[..self.depth].iter().rev() {
            self.heap.swap((child - 1) / 2, child);
        }
        let last = self.heap.len() - 1;
        self.heap.swap(0, last);
    }
}

impl<T: Ord> Store<T> for PriorityStore<T> {
    fn push(&mut self, item: T) {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { item, seq });
        // Sift up by swaps: at every step, including a panic in `precedes`,
        // every item is in the vector.
        let mut pos = self.heap.len() - 1;
        while pos > 0 {
            let parent = (pos - 1) / 2;
            if !self.heap[pos].precedes(&self.heap[parent]) {
                break;
            }
            self.heap.swap(pos, parent);
            pos = parent;
        }
    }

    fn pop(&mut self) -> Option<T> {
        let end = self.heap.len().checked_sub(1)?;
        // The top goes last (out of the heap's range `..end`); the last
        // item sifts down from the top.
        self.heap.swap(0, end);
        let mut restore = Restore {
            heap: &mut self.heap,
            path: [0; usize::BITS as usize],
            depth: 0,
            done: false,
        };
        let mut pos = 0;
        loop {
            let left = 2 * pos + 1;
            if left >= end {
                break;
            }
            let right = left + 1;
            let heap = &*restore.heap;
            let child = if right < end && heap[right].precedes(&heap[left]) {
                right
            } else {
                left
            };
            if !heap[child].precedes(&heap[pos]) {
                break;
            }
            restore.heap.swap(pos, child);
            restore.path[restore.depth] = child;
            restore.depth += 1;
            pos = child;
        }
        restore.done = true;
        drop(restore);
        self.heap.pop().map(|e| e.item)
    }

    fn len(&self) -> usize {
        self.heap.len()
    }

    /// In heap order, not leaving order: sorting would call the items'
    /// `Ord`, which may panic (the queue is being shut down).
    fn drain_all(&mut self) -> Vec<T> {
        self.heap.drain(..).map(|e| e.item).collect()
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
    /// An `Ord` that panics loses no item and drifts no count: in a put,
    /// the item is kept and counted (the put's caller gets the panic), but
    /// it may leave out of priority order; in a get, the heap is restored
    /// exactly and the item stays. An immediate [`shutdown`](Self::shutdown) compares nothing
    /// (the removed items are dropped in no particular order).
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    thread_local! {
        /// Comparisons left before `Key`'s `Ord` panics (`u64::MAX`: never).
        static FUSE: Cell<u64> = const { Cell::new(u64::MAX) };
    }

    /// A key whose `Ord` panics when the fuse burns out; `tag` tells equal
    /// keys apart (stability).
    #[derive(Debug)]
    struct Key {
        k: u32,
        tag: u32,
    }

    impl PartialEq for Key {
        fn eq(&self, o: &Self) -> bool {
            self.cmp(o) == Ordering::Equal
        }
    }
    impl Eq for Key {}
    impl PartialOrd for Key {
        fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
            Some(self.cmp(o))
        }
    }
    impl Ord for Key {
        fn cmp(&self, o: &Self) -> Ordering {
            FUSE.with(|f| {
                let left = f.get();
                if left == 0 {
                    f.set(u64::MAX);
                    panic!("fuse");
                }
                if left != u64::MAX {
                    f.set(left - 1);
                }
            });
            self.k.cmp(&o.k)
        }
    }

    /// A small deterministic generator.
    fn lcg(state: &mut u64) -> u64 {
        *state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        *state >> 33
    }

    /// Pops everything (no fuse) as (k, tag).
    fn drain(s: &mut PriorityStore<Key>) -> Vec<(u32, u32)> {
        std::iter::from_fn(|| s.pop().map(|k| (k.k, k.tag))).collect()
    }

    /// Random pushes and pops match a stable sort.
    #[test]
    fn matches_a_stable_sort() {
        let mut rng = 7;
        for round in 0..200 {
            let mut s = PriorityStore::<Key>::default();
            let mut model: Vec<(u32, u32)> = Vec::new();
            for tag in 0..(round % 40) {
                if lcg(&mut rng) % 3 == 0 {
                    model.sort_by_key(|&(k, _)| k); // stable: ties by tag
                    let want = (!model.is_empty()).then(|| model.remove(0));
                    assert_eq!(s.pop().map(|k| (k.k, k.tag)), want);
                } else {
                    let k = (lcg(&mut rng) % 8) as u32;
                    s.push(Key { k, tag });
                    model.push((k, tag));
                }
            }
            model.sort_by_key(|&(k, _)| k);
            assert_eq!(drain(&mut s), model);
        }
    }

    /// An `Ord` panic at any comparison of a `pop` leaves the heap exactly
    /// as it was; one in a `push` keeps the new item.
    #[test]
    fn ord_panics_keep_every_item() {
        let mut rng = 11;
        for n in 1..40u32 {
            for fuse in 0..12 {
                let build = |rng: &mut u64| {
                    let mut s = PriorityStore::<Key>::default();
                    for tag in 0..n {
                        s.push(Key {
                            k: (lcg(rng) % 10) as u32,
                            tag,
                        });
                    }
                    s
                };
                let seed = rng;
                let mut s = build(&mut rng);
                let mut twin = build(&mut { seed });
                FUSE.with(|f| f.set(fuse));
                let r = catch_unwind(AssertUnwindSafe(|| s.pop().map(|k| (k.k, k.tag))));
                FUSE.with(|f| f.set(u64::MAX));
                match r {
                    Err(_) => assert_eq!(drain(&mut s), drain(&mut twin), "restored"),
                    Ok(got) => {
                        assert_eq!(got, twin.pop().map(|k| (k.k, k.tag)));
                        assert_eq!(drain(&mut s), drain(&mut twin));
                    }
                }
                // Push with a fuse: the item is kept either way.
                let mut s = build(&mut rng);
                FUSE.with(|f| f.set(fuse));
                let _ = catch_unwind(AssertUnwindSafe(|| s.push(Key { k: 0, tag: n })));
                FUSE.with(|f| f.set(u64::MAX));
                let mut tags: Vec<u32> = drain(&mut s).into_iter().map(|(_, t)| t).collect();
                tags.sort();
                assert_eq!(tags, (0..=n).collect::<Vec<_>>());
            }
        }
    }
}
