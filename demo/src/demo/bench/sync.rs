//! W6 contended Lock and W7 queue throughput: the synchronization
//! primitives under contention.

use std::sync::{Arc, Mutex};

use super::backend::{Counter, Receives, Sends, Tasks};
use super::table::count;
use super::{ns_per, timed, Backend, Size, Sizes, Workload};

/// W6's threads × acquisitions each: 64 × 10,000 standard; quick takes a
/// tenth of the acquisitions (64 threads still contend as hard).
const LOCKERS: Sizes<(usize, usize)> = Sizes {
    smoke: (8, 100),
    quick: (64, 1_000),
    full: (64, 10_000),
};

/// W7's producers and consumers (4 × 4, BENCHMARKS.md).
const PRODUCERS: usize = 4;
/// See [`PRODUCERS`].
const CONSUMERS: usize = 4;
/// W7's queue capacity (BENCHMARKS.md's Queue(1024)).
const QUEUE_CAP: usize = 1_024;

/// W7's items through the queue: 1,000,000 standard; quick takes a tenth.
const ITEMS: Sizes<usize> = Sizes {
    smoke: 1_000,
    quick: 100_000,
    full: 1_000_000,
};

/// W7's items on OS threads (`os`, `std`), where a blocked get or put is a
/// kernel wait: a tenth again.
const OS_ITEMS: Sizes<usize> = Sizes {
    smoke: 1_000,
    quick: 10_000,
    full: 100_000,
};

/// W6: `threads` threads × `iters` acquire / increment / release on one lock.
#[derive(Debug)]
pub(crate) struct ContendedLock {
    threads: usize,
    iters: usize,
}

impl ContendedLock {
    pub(crate) fn at(size: Size) -> ContendedLock {
        let (threads, iters) = LOCKERS.at(size);
        ContendedLock { threads, iters }
    }
}

impl Workload for ContendedLock {
    const ID: &'static str = "W6";
    const NAME: &'static str = "contended Lock";
    const METRIC: &'static str = "ns/op";
    const BACKENDS: &'static [Backend] = &Backend::ALL;

    fn size(&self) -> String {
        format!("{} x {}", count(self.threads), count(self.iters))
    }

    fn run<R: Tasks>(&self, rt: &R, _on: Backend) -> f64 {
        let (threads, iters) = (self.threads, self.iters);
        let (total, took) = rt.run(timed(async move {
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
        }));
        assert_eq!(total, threads * iters, "every increment counted");
        ns_per(took, threads * iters)
    }

    fn run_std(&self) -> f64 {
        let (threads, iters) = (self.threads, self.iters);
        let start = std::time::Instant::now();
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
        for h in hs {
            h.join().expect("a std thread panicked");
        }
        let took = start.elapsed();
        assert_eq!(*counter.lock().expect("poisoned"), threads * iters);
        ns_per(took, threads * iters)
    }
}

/// W7: [`PRODUCERS`] × [`CONSUMERS`] moving `items` through one bounded
/// queue of [`QUEUE_CAP`].
#[derive(Debug)]
pub(crate) struct QueueThroughput {
    items: usize,
    os_items: usize,
}

impl QueueThroughput {
    pub(crate) fn at(size: Size) -> QueueThroughput {
        QueueThroughput {
            items: ITEMS.at(size),
            os_items: OS_ITEMS.at(size),
        }
    }
}

/// Each producer's (and consumer's) share of `items`.
fn share(items: usize) -> usize {
    const _: () = assert!(PRODUCERS == CONSUMERS, "one share fits both sides");
    items / PRODUCERS
}

impl Workload for QueueThroughput {
    const ID: &'static str = "W7";
    const NAME: &'static str = "queue throughput";
    const METRIC: &'static str = "ns/item";
    const BACKENDS: &'static [Backend] = &Backend::ALL;

    fn size(&self) -> String {
        format!(
            "{PRODUCERS}x{CONSUMERS}, {} items (os, std: {})",
            count(self.items),
            count(self.os_items)
        )
    }

    fn run<R: Tasks>(&self, rt: &R, on: Backend) -> f64 {
        let per = share(on.sized(self.items, self.os_items));
        let (got, took) = rt.run(timed(async move {
            let (tx, rx) = R::mpmc::<usize>(QUEUE_CAP);
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
        }));
        assert_eq!(got, per * CONSUMERS, "every item arrived");
        ns_per(took, got)
    }

    fn run_std(&self) -> f64 {
        let per = share(self.os_items);
        let start = std::time::Instant::now();
        let (tx, rx) = std::sync::mpsc::sync_channel::<usize>(QUEUE_CAP);
        // std's receiver is single-consumer: the consumers share it.
        let rx = Arc::new(Mutex::new(rx));
        let producers: Vec<_> = (0..PRODUCERS)
            .map(|p| {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    for i in 0..per {
                        tx.send(p * per + i).expect("send");
                    }
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
                })
            })
            .collect();
        for h in producers.into_iter().chain(consumers) {
            h.join().expect("a std thread panicked");
        }
        ns_per(start.elapsed(), per * CONSUMERS)
    }
}
