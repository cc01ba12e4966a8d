//! W2 spawn-many: `n` trivial threads spawned from inside a thread, each
//! joined.

use crate::backend::Tasks;

/// Spawns `n` trivial threads on `R` and joins each (run it inside a
/// thread of `R`).
pub async fn spawn_many<R: Tasks>(n: usize) {
    let hs: Vec<_> = (0..n).map(|_| R::spawn(async {})).collect();
    for h in hs {
        h.await;
    }
}

/// [`spawn_many`] on `std::thread`.
pub fn spawn_many_std(n: usize) {
    crate::join_all((0..n).map(|_| std::thread::spawn(|| {})).collect());
}
