//! W7 queue throughput: [`PRODUCERS`] × [`CONSUMERS`] moving items through
//! one bounded queue of [`CAP`] (greenthread's `Queue`, async-channel on
//! tokio, which has no many-to-many queue, and smol; `sync_channel` with a
//! shared receiver on std).

use std::sync::{Arc, Mutex};

use crate::backend::{Receives, Sends, Tasks};

/// W7's producers (4 × 4).
pub const PRODUCERS: usize = 4;
/// W7's consumers; as many as [`PRODUCERS`].
pub const CONSUMERS: usize = 4;
/// W7's queue capacity (Queue(1024)).
pub const CAP: usize = 1_024;

/// Each producer's (and consumer's) share of `items`.
pub fn share(items: usize) -> usize {
    const _: () = assert!(PRODUCERS == CONSUMERS, "one share fits both sides");
    items / PRODUCERS
}

/// Each producer puts `per` items, each consumer gets `per`; returns the
/// items got (run it inside a thread of `R`).
pub async fn mpmc<R: Tasks>(per: usize) -> usize {
    let (tx, rx) = R::mpmc::<usize>(CAP);
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            R::spawn(async move {
                for i in 0..per {
                    tx.send(p * per + i).await;
                }
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let mut rx = rx.clone();
            R::spawn(async move {
                for _ in 0..per {
                    rx.recv().await;
                }
                per
            })
        })
        .collect();
    for p in producers {
        p.await;
    }
    let mut got = 0;
    for c in consumers {
        got += c.await;
    }
    got
}

/// [`mpmc`] on `std::thread`: one `sync_channel` whose receiver the
/// consumers share (std's receiver is single-consumer).
pub fn mpmc_std(per: usize) -> usize {
    let (tx, rx) = std::sync::mpsc::sync_channel::<usize>(CAP);
    let rx = Arc::new(Mutex::new(rx));
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for i in 0..per {
                    tx.send(p * per + i).expect("send");
                }
                0
            })
        })
        .collect();
    let consumers: Vec<_> = (0..CONSUMERS)
        .map(|_| {
            let rx = rx.clone();
            std::thread::spawn(move || {
                for _ in 0..per {
                    rx.lock().expect("poisoned").recv().expect("recv");
                }
                per
            })
        })
        .collect();
    crate::join_all(producers.into_iter().chain(consumers).collect())
        .into_iter()
        .sum()
}
