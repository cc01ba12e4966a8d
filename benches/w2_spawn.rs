//! W2 spawn-many and W3 chained spawn (`benches/README.md`).

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "common/mod.rs"]
mod common;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn sizes() -> Vec<usize> {
    if common::full() {
        vec![10_000, 100_000, 1_000_000]
    } else {
        vec![10_000, 100_000]
    }
}

/// W2: `n` trivial threads spawned from inside a thread, each joined.
fn spawn_many(c: &mut Criterion) {
    let mut g = c.benchmark_group("w2_spawn_many");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    let green = common::green(false);
    let gil = common::green(true);
    let tokio = common::tokio();
    let smol = common::Smol::new();
    for n in sizes() {
        g.throughput(Throughput::Elements(n as u64));
        g.bench_with_input(BenchmarkId::new("green", n), &n, |b, &n| {
            b.iter(|| common::green_run(&green, green_spawn_many(n)))
        });
        g.bench_with_input(BenchmarkId::new("green+gil", n), &n, |b, &n| {
            b.iter(|| common::green_run(&gil, green_spawn_many(n)))
        });
        g.bench_with_input(BenchmarkId::new("tokio", n), &n, |b, &n| {
            b.iter(|| {
                common::tokio_run(&tokio, async move {
                    let hs: Vec<_> = (0..n).map(|_| tokio::spawn(async {})).collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                })
            })
        });
        g.bench_with_input(BenchmarkId::new("smol", n), &n, |b, &n| {
            let ex = smol.ex.clone();
            b.iter(|| {
                let ex = ex.clone();
                smol.run(async move {
                    let hs: Vec<_> = (0..n).map(|_| ex.spawn(async {})).collect();
                    for h in hs {
                        h.await;
                    }
                })
            })
        });
    }
    // One OS thread per spawn: only the small size.
    let os = common::os();
    let n = 1_000;
    g.throughput(Throughput::Elements(n as u64));
    g.bench_with_input(BenchmarkId::new("os", n), &n, |b, &n| {
        b.iter(|| common::green_run(&os, green_spawn_many(n)))
    });
    g.bench_with_input(BenchmarkId::new("std", n), &n, |b, &n| {
        b.iter(|| {
            let hs: Vec<_> = (0..n).map(|_| std::thread::spawn(|| {})).collect();
            for h in hs {
                h.join().unwrap();
            }
        })
    });
    g.finish();
}

async fn green_spawn_many(n: usize) {
    let hs: Vec<_> = (0..n).map(|_| greenthread::spawn(async {})).collect();
    for h in hs {
        h.await.unwrap();
    }
}

/// W2 variant: spawned from one outside OS thread (the bench thread).
fn spawn_outside(c: &mut Criterion) {
    let mut g = c.benchmark_group("w2_spawn_outside");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    let n = 10_000;
    g.throughput(Throughput::Elements(n as u64));
    let green = common::green(false);
    let tokio = common::tokio();
    let smol = common::Smol::new();
    g.bench_function("green", |b| {
        b.iter(|| {
            let hs: Vec<_> = (0..n).map(|_| green.spawn(async {})).collect();
            for h in hs {
                greenthread::block_on(h).unwrap();
            }
        })
    });
    g.bench_function("tokio", |b| {
        b.iter(|| {
            let hs: Vec<_> = (0..n).map(|_| tokio.spawn(async {})).collect();
            for h in hs {
                tokio.block_on(h).unwrap();
            }
        })
    });
    g.bench_function("smol", |b| {
        b.iter(|| {
            let hs: Vec<_> = (0..n).map(|_| smol.ex.spawn(async {})).collect();
            for h in hs {
                futures::executor::block_on(h);
            }
        })
    });
    g.finish();
}

type BoxFut = Pin<Box<dyn Future<Output = ()> + Send>>;

const DEPTH: usize = 1_000;

fn green_chain(n: usize) -> BoxFut {
    Box::pin(async move {
        if n > 0 {
            greenthread::spawn(green_chain(n - 1)).await.unwrap();
        }
    })
}

fn tokio_chain(n: usize) -> BoxFut {
    Box::pin(async move {
        if n > 0 {
            tokio::spawn(tokio_chain(n - 1)).await.unwrap();
        }
    })
}

fn smol_chain(ex: std::sync::Arc<async_executor::Executor<'static>>, n: usize) -> BoxFut {
    Box::pin(async move {
        if n > 0 {
            let next = smol_chain(ex.clone(), n - 1);
            ex.spawn(next).await;
        }
    })
}

/// W3: each thread spawns the next and waits for it, depth 1,000.
fn chained(c: &mut Criterion) {
    let mut g = c.benchmark_group("w3_chained_spawn");
    g.sample_size(10).measurement_time(Duration::from_secs(2));
    g.throughput(Throughput::Elements(DEPTH as u64));
    let green = common::green(false);
    let tokio = common::tokio();
    let smol = common::Smol::new();
    g.bench_function("green", |b| {
        b.iter(|| common::green_run(&green, green_chain(DEPTH)))
    });
    g.bench_function("tokio", |b| {
        b.iter(|| common::tokio_run(&tokio, tokio_chain(DEPTH)))
    });
    g.bench_function("smol", |b| {
        b.iter_custom(|iters| {
            let start = Instant::now();
            for _ in 0..iters {
                smol.run(smol_chain(smol.ex.clone(), DEPTH));
            }
            start.elapsed()
        })
    });
    g.finish();
}

criterion_group!(benches, spawn_many, spawn_outside, chained);
criterion_main!(benches);
