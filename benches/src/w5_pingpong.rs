//! W5 ping-pong: pairs of threads bouncing a number over two one-item
//! channels, so every send waits for the other side.

use std::sync::mpsc::sync_channel;

use crate::backend::{Receives, Sends, Tasks};

/// W5's channels hold one item: every send waits for the other side.
pub const CAP: usize = 1;

/// `pairs` pairs on `R`, each making `trips` round trips over two
/// [`CAP`]-item channels; joins them all (run it inside a thread of `R`).
pub async fn ping_pong<R: Tasks>(pairs: usize, trips: usize) {
    let mut hs = Vec::with_capacity(2 * pairs);
    for _ in 0..pairs {
        let (ping_tx, mut ping_rx) = R::channel::<usize>(CAP);
        let (pong_tx, mut pong_rx) = R::channel::<usize>(CAP);
        hs.push(R::spawn(async move {
            for _ in 0..trips {
                let x = ping_rx.recv().await;
                pong_tx.send(x).await;
            }
        }));
        hs.push(R::spawn(async move {
            for i in 0..trips {
                ping_tx.send(i).await;
                pong_rx.recv().await;
            }
        }));
    }
    for h in hs {
        h.await;
    }
}

/// [`ping_pong`] on `std::thread` and `std::sync::mpsc::sync_channel`.
pub fn ping_pong_std(pairs: usize, trips: usize) {
    let mut hs = Vec::with_capacity(2 * pairs);
    for _ in 0..pairs {
        let (ping_tx, ping_rx) = sync_channel::<usize>(CAP);
        let (pong_tx, pong_rx) = sync_channel::<usize>(CAP);
        hs.push(std::thread::spawn(move || {
            for _ in 0..trips {
                let x = ping_rx.recv().expect("ping");
                pong_tx.send(x).expect("pong");
            }
        }));
        hs.push(std::thread::spawn(move || {
            for i in 0..trips {
                ping_tx.send(i).expect("ping");
                pong_rx.recv().expect("pong");
            }
        }));
    }
    crate::join_all(hs);
}
