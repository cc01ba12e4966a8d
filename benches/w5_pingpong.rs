//! W5 ping-pong (`benches/README.md`): pairs of threads bounce a token over
//! two capacity-1 queues. Default sizes are scaled down so a run takes
//! seconds (100 pairs × 100 round trips, and one pair × 10,000); set
//! `GT_BENCH_FULL=1` for the standard 1,000 × 1,000 and 1 × 1,000,000.
//! Throughput is in round trips.

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};

/// (pairs, round trips per pair) for the two scenarios.
fn sizes() -> [(usize, usize); 2] {
    if common::full() {
        [(1_000, 1_000), (1, 1_000_000)]
    } else {
        [(100, 100), (1, 10_000)]
    }
}

/// greenthread: each pair is two threads and two `Queue(1)`s.
async fn green_pingpong(pairs: usize, trips: usize) {
    let mut hs = Vec::new();
    for _ in 0..pairs {
        let (ping, pong) = (
            greenthread::queue::Queue::new(1),
            greenthread::queue::Queue::new(1),
        );
        let (ping2, pong2) = (ping.clone(), pong.clone());
        hs.push(greenthread::spawn(async move {
            for i in 0..trips {
                let x: usize = ping2.get().await.unwrap();
                debug_assert_eq!(x, i);
                pong2.put(x).await.unwrap();
            }
        }));
        hs.push(greenthread::spawn(async move {
            for i in 0..trips {
                ping.put(i).await.unwrap();
                pong.get().await.unwrap();
            }
        }));
    }
    for h in hs {
        h.await.unwrap();
    }
}

fn bench_sizes(
    g: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    pairs: usize,
    trips: usize,
) {
    let label = |name: &str| format!("{name}/{pairs}x{trips}");
    g.throughput(Throughput::Elements((pairs * trips) as u64));
    let green = common::green(false);
    let gil = common::green(true);
    for (name, rt) in [("green", &green), ("green+gil", &gil)] {
        g.bench_function(label(name), |b| {
            b.iter(|| common::green_run(rt, green_pingpong(pairs, trips)))
        });
    }
    drop((green, gil));
    if pairs * 2 <= 256 {
        let os = common::os();
        g.bench_function(label("os"), |b| {
            b.iter(|| common::green_run(&os, green_pingpong(pairs, trips)))
        });
    }
    let tokio = common::tokio();
    g.bench_function(label("tokio"), |b| {
        b.iter(|| {
            common::tokio_run(&tokio, async move {
                let mut hs = Vec::new();
                for _ in 0..pairs {
                    let (ping_tx, mut ping_rx) = tokio::sync::mpsc::channel::<usize>(1);
                    let (pong_tx, mut pong_rx) = tokio::sync::mpsc::channel::<usize>(1);
                    hs.push(tokio::spawn(async move {
                        for _ in 0..trips {
                            let x = ping_rx.recv().await.unwrap();
                            pong_tx.send(x).await.unwrap();
                        }
                    }));
                    hs.push(tokio::spawn(async move {
                        for i in 0..trips {
                            ping_tx.send(i).await.unwrap();
                            pong_rx.recv().await.unwrap();
                        }
                    }));
                }
                for h in hs {
                    h.await.unwrap();
                }
            })
        })
    });
    drop(tokio);
    let smol = common::Smol::new();
    g.bench_function(label("smol"), |b| {
        b.iter(|| {
            let ex = smol.ex.clone();
            smol.run(async move {
                let mut hs = Vec::new();
                for _ in 0..pairs {
                    let (ping_tx, ping_rx) = async_channel::bounded::<usize>(1);
                    let (pong_tx, pong_rx) = async_channel::bounded::<usize>(1);
                    hs.push(ex.spawn(async move {
                        for _ in 0..trips {
                            let x = ping_rx.recv().await.unwrap();
                            pong_tx.send(x).await.unwrap();
                        }
                    }));
                    hs.push(ex.spawn(async move {
                        for i in 0..trips {
                            ping_tx.send(i).await.unwrap();
                            pong_rx.recv().await.unwrap();
                        }
                    }));
                }
                for h in hs {
                    h.await;
                }
            })
        })
    });
    drop(smol);
    if pairs * 2 <= 256 {
        g.bench_function(label("std"), |b| {
            b.iter(|| {
                let mut hs = Vec::new();
                for _ in 0..pairs {
                    let (ping_tx, ping_rx) = std::sync::mpsc::sync_channel::<usize>(1);
                    let (pong_tx, pong_rx) = std::sync::mpsc::sync_channel::<usize>(1);
                    hs.push(std::thread::spawn(move || {
                        for _ in 0..trips {
                            let x = ping_rx.recv().unwrap();
                            pong_tx.send(x).unwrap();
                        }
                    }));
                    hs.push(std::thread::spawn(move || {
                        for i in 0..trips {
                            ping_tx.send(i).unwrap();
                            pong_rx.recv().unwrap();
                        }
                    }));
                }
                for h in hs {
                    h.join().unwrap();
                }
            })
        });
    }
}

fn pingpong(c: &mut Criterion) {
    let mut g = c.benchmark_group("w5_pingpong");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for (pairs, trips) in sizes() {
        bench_sizes(&mut g, pairs, trips);
    }
    g.finish();
}

criterion_group!(benches, pingpong);
criterion_main!(benches);
