//! W4 yield-many and W5 ping-pong: what a switch between threads costs.

use super::backend::{Receives, Sends, Tasks};
use super::table::count;
use super::{ns_per, timed, Backend, Size, Sizes, Workload};

/// W4's threads × yields each: BENCHMARKS.md's 200 × 1,000 takes
/// milliseconds, so quick runs it whole.
const YIELDERS: Sizes<(usize, usize)> = Sizes {
    smoke: (10, 100),
    quick: (200, 1_000),
    full: (200, 1_000),
};

/// W5's pairs × round trips each: 1,000 × 1,000 standard; quick takes a
/// tenth of the pairs.
const PING_PONG: Sizes<(usize, usize)> = Sizes {
    smoke: (4, 100),
    quick: (100, 1_000),
    full: (1_000, 1_000),
};

/// W5's pairs on one OS thread per thread (`os`, `std`): each round trip is
/// two kernel wake-ups (about 10 µs), and BENCHMARKS.md keeps these at
/// ≤ 256 threads.
const OS_PAIRS: Sizes<usize> = Sizes {
    smoke: 2,
    quick: 10,
    full: 100,
};

/// W5's channels hold one item: every send waits for the other side.
const PING_PONG_CAP: usize = 1;

/// W4: `threads` threads, each yielding `yields` times.
#[derive(Debug)]
pub(crate) struct YieldMany {
    threads: usize,
    yields: usize,
}

impl YieldMany {
    pub(crate) fn at(size: Size) -> YieldMany {
        let (threads, yields) = YIELDERS.at(size);
        YieldMany { threads, yields }
    }
}

impl Workload for YieldMany {
    const ID: &'static str = "W4";
    const NAME: &'static str = "yield-many";
    const METRIC: &'static str = "ns/yield";
    const BACKENDS: &'static [Backend] = &Backend::POOLS;

    fn size(&self) -> String {
        format!("{} x {}", count(self.threads), count(self.yields))
    }

    fn run<R: Tasks>(&self, rt: &R, _on: Backend) -> f64 {
        let (threads, yields) = (self.threads, self.yields);
        let ((), took) = rt.run(timed(async move {
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
        }));
        ns_per(took, threads * yields)
    }
}

/// W5: pairs of threads bouncing a number over two one-item channels.
#[derive(Debug)]
pub(crate) struct PingPong {
    pairs: usize,
    trips: usize,
    os_pairs: usize,
}

impl PingPong {
    pub(crate) fn at(size: Size) -> PingPong {
        let (pairs, trips) = PING_PONG.at(size);
        PingPong {
            pairs,
            trips,
            os_pairs: OS_PAIRS.at(size),
        }
    }
}

impl Workload for PingPong {
    const ID: &'static str = "W5";
    const NAME: &'static str = "ping-pong";
    const METRIC: &'static str = "ns/round trip";
    const BACKENDS: &'static [Backend] = &Backend::ALL;

    fn size(&self) -> String {
        format!(
            "{} pairs x {} (os, std: {} pairs)",
            count(self.pairs),
            count(self.trips),
            count(self.os_pairs)
        )
    }

    fn run<R: Tasks>(&self, rt: &R, on: Backend) -> f64 {
        let pairs = on.sized(self.pairs, self.os_pairs);
        let trips = self.trips;
        let ((), took) = rt.run(timed(async move {
            let mut hs = Vec::with_capacity(2 * pairs);
            for _ in 0..pairs {
                let (ping_tx, mut ping_rx) = R::channel::<usize>(PING_PONG_CAP);
                let (pong_tx, mut pong_rx) = R::channel::<usize>(PING_PONG_CAP);
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
        }));
        ns_per(took, pairs * trips)
    }

    fn run_std(&self) -> f64 {
        use std::sync::mpsc::sync_channel;
        let (pairs, trips) = (self.os_pairs, self.trips);
        let start = std::time::Instant::now();
        let mut hs = Vec::with_capacity(2 * pairs);
        for _ in 0..pairs {
            let (ping_tx, ping_rx) = sync_channel::<usize>(PING_PONG_CAP);
            let (pong_tx, pong_rx) = sync_channel::<usize>(PING_PONG_CAP);
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
        for h in hs {
            h.join().expect("a std thread panicked");
        }
        ns_per(start.elapsed(), pairs * trips)
    }
}
