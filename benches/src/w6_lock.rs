//! W6 contended Lock: `threads` threads × `iters` acquire / increment /
//! release on one lock (greenthread's `Lock`, `tokio::sync::Mutex`,
//! `async_lock::Mutex`, `std::sync::Mutex`).

use std::sync::{Arc, Mutex};

use crate::backend::{Counter, Tasks};

/// `threads` threads on `R`, each bumping one [`Counter`] `iters` times;
/// joins them and returns the count (run it inside a thread of `R`).
pub async fn contended<R: Tasks>(threads: usize, iters: usize) -> usize {
    let counter = Arc::new(R::Counter::new());
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            let counter = counter.clone();
            R::spawn(async move {
                for _ in 0..iters {
                    counter.bump().await;
                }
            })
        })
        .collect();
    for h in hs {
        h.await;
    }
    counter.get()
}

/// [`contended`] on `std::thread` and `std::sync::Mutex`.
pub fn contended_std(threads: usize, iters: usize) -> usize {
    let counter = Arc::new(Mutex::new(0usize));
    let hs: Vec<_> = (0..threads)
        .map(|_| {
            let counter = counter.clone();
            std::thread::spawn(move || {
                for _ in 0..iters {
                    *counter.lock().expect("poisoned") += 1;
                }
            })
        })
        .collect();
    crate::join_all(hs);
    let n = *counter.lock().expect("poisoned");
    n
}
