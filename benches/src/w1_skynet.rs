//! W1 skynet: a 10-ary tree of threads; each leaf returns its number, each
//! inner thread sums its children. With 1,000,000 leaves (1,111,111
//! threads) the sum is 499999500000.

use std::future::Future;
use std::pin::Pin;

use crate::backend::Tasks;

/// A boxed future (the tree is recursive).
type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The subtree of `size` leaves numbered from `num`, on `R`'s threads: its
/// sum. `size` is a power of ten, so the tree is whole.
pub fn tree<R: Tasks>(num: u64, size: u64) -> BoxFuture<u64> {
    Box::pin(async move {
        if size == 1 {
            return num;
        }
        let step = size / 10;
        let children: Vec<_> = (0..10)
            .map(|i| R::spawn(tree::<R>(num + i * step, step)))
            .collect();
        let mut sum = 0;
        for c in children {
            sum += c.await;
        }
        sum
    })
}

/// The sum of a tree of `leaves` leaves: 0 + 1 + ... + (leaves - 1).
pub fn sum(leaves: u64) -> u64 {
    leaves * (leaves - 1) / 2
}
