//! W7 queue throughput (`benches/README.md`): 4 producers × 4 consumers
//! push items through a bounded queue of 1,024; also PriorityQueue with
//! random priorities and SimpleQueue. Default 100,000 items (set
//! `GT_BENCH_FULL=1` for the standard 1,000,000). Throughput is in items.

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "common/mod.rs"]
mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const PRODUCERS: usize = 4;
const CONSUMERS: usize = 4;
const CAP: usize = 1_024;

fn items() -> usize {
    if common::full() {
        1_000_000
    } else {
        100_000
    }
}

/// A cheap deterministic pseudo-random priority (xorshift).
fn prio(i: usize) -> u64 {
    let mut x = i as u64 ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    x % 1_000
}

/// Which greenthread queue a run uses.
#[derive(Clone, Copy)]
enum Kind {
    Fifo,
    Priority,
    Simple,
}

async fn green_mpmc(kind: Kind, n: usize) -> usize {
    let per = n / PRODUCERS;
    let q = greenthread::queue::Queue::new(CAP);
    let pq = greenthread::queue::PriorityQueue::new(CAP);
    let sq = greenthread::queue::SimpleQueue::new();
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let (q, pq, sq) = (q.clone(), pq.clone(), sq.clone());
        producers.push(greenthread::spawn(async move {
            for i in 0..per {
                let v = p * per + i;
                match kind {
                    Kind::Fifo => q.put(v).await.unwrap(),
                    Kind::Priority => pq.put((prio(v), v)).await.unwrap(),
                    Kind::Simple => sq.put(v).await.unwrap(),
                }
            }
        }));
    }
    let mut consumers = Vec::new();
    for _ in 0..CONSUMERS {
        let (q, pq, sq) = (q.clone(), pq.clone(), sq.clone());
        consumers.push(greenthread::spawn(async move {
            let mut got = 0;
            for _ in 0..(per * PRODUCERS / CONSUMERS) {
                match kind {
                    Kind::Fifo => drop(q.get().await.unwrap()),
                    Kind::Priority => drop(pq.get().await.unwrap()),
                    Kind::Simple => drop(sq.get().await.unwrap()),
                }
                got += 1;
            }
            got
        }));
    }
    for p in producers {
        p.await.unwrap();
    }
    let mut total = 0;
    for c in consumers {
        total += c.await.unwrap();
    }
    total
}

async fn channel_mpmc(
    n: usize,
    spawn: impl Fn(
        std::pin::Pin<Box<dyn std::future::Future<Output = usize> + Send>>,
    ) -> futures::future::BoxFuture<'static, usize>,
) -> usize {
    let per = n / PRODUCERS;
    let (tx, rx) = async_channel::bounded::<usize>(CAP);
    let mut hs = Vec::new();
    for p in 0..PRODUCERS {
        let tx = tx.clone();
        hs.push(spawn(Box::pin(async move {
            for i in 0..per {
                tx.send(p * per + i).await.unwrap();
            }
            0
        })));
    }
    for _ in 0..CONSUMERS {
        let rx = rx.clone();
        hs.push(spawn(Box::pin(async move {
            let mut got = 0;
            for _ in 0..(per * PRODUCERS / CONSUMERS) {
                rx.recv().await.unwrap();
                got += 1;
            }
            got
        })));
    }
    let mut total = 0;
    for h in hs {
        total += h.await;
    }
    total
}

fn queues(c: &mut Criterion) {
    let n = items();
    let mut g = c.benchmark_group("w7_queue");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(n as u64));
    let green = common::green(false);
    let gil = common::green(true);
    for (name, rt) in [("green", &green), ("green+gil", &gil)] {
        g.bench_function(format!("queue/{name}"), |b| {
            b.iter(|| assert_eq!(common::green_run(rt, green_mpmc(Kind::Fifo, n)), n))
        });
    }
    g.bench_function("priority/green", |b| {
        b.iter(|| assert_eq!(common::green_run(&green, green_mpmc(Kind::Priority, n)), n))
    });
    g.bench_function("simple/green", |b| {
        b.iter(|| assert_eq!(common::green_run(&green, green_mpmc(Kind::Simple, n)), n))
    });
    drop((green, gil));
    let os = common::os();
    g.bench_function("queue/os", |b| {
        b.iter(|| assert_eq!(common::green_run(&os, green_mpmc(Kind::Fifo, n)), n))
    });
    drop(os);
    let tokio = common::tokio();
    g.bench_function("queue/tokio+async-channel", |b| {
        b.iter(|| {
            let total = common::tokio_run(
                &tokio,
                channel_mpmc(n, |f| {
                    // Spawned now (not when first awaited), so every task runs.
                    let h = tokio::spawn(f);
                    Box::pin(async move { h.await.unwrap() })
                }),
            );
            assert_eq!(total, n);
        })
    });
    drop(tokio);
    let smol = common::Smol::new();
    g.bench_function("queue/smol+async-channel", |b| {
        b.iter(|| {
            let ex = smol.ex.clone();
            let total = smol.run(channel_mpmc(n, move |f| {
                let t = ex.spawn(f);
                Box::pin(t)
            }));
            assert_eq!(total, n);
        })
    });
    drop(smol);
    g.bench_function("queue/std", |b| {
        b.iter(|| {
            let per = n / PRODUCERS;
            let (tx, rx) = std::sync::mpsc::sync_channel::<usize>(CAP);
            let rx = Arc::new(Mutex::new(rx));
            let mut hs = Vec::new();
            for p in 0..PRODUCERS {
                let tx = tx.clone();
                hs.push(std::thread::spawn(move || {
                    for i in 0..per {
                        tx.send(p * per + i).unwrap();
                    }
                    0
                }));
            }
            for _ in 0..CONSUMERS {
                let rx = rx.clone();
                hs.push(std::thread::spawn(move || {
                    for _ in 0..(per * PRODUCERS / CONSUMERS) {
                        rx.lock().unwrap().recv().unwrap();
                    }
                    per
                }));
            }
            let total: usize = hs.into_iter().map(|h| h.join().unwrap()).sum();
            assert_eq!(total, n);
        })
    });
    g.finish();
}

criterion_group!(benches, queues);
criterion_main!(benches);
