//! W4 yield-many: `threads` threads each yielding `yields` times.

use crate::backend::Tasks;

/// `threads` threads on `R`, each calling `R::yield_now` `yields` times;
/// joins them all (run it inside a thread of `R`).
pub async fn yield_many<R: Tasks>(threads: usize, yields: usize) {
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            R::spawn(async move {
                for _ in 0..yields {
                    R::yield_now().await;
                }
            })
        })
        .collect();
    for h in hs {
        h.await;
    }
}
