//! W2 spawn-many and W3 chained spawn (`benches/README.md`).

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "common/mod.rs"]
mod common;

use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use common::{Green, Tasks, Tokio};
use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use greenthread_benches::backend::Smol;
use greenthread_benches::w2_spawn;

fn sizes() -> Vec<usize> {
    if common::full() {
        vec![10_000, 100_000, 1_000_000]
    } else {
        vec![10_000, 100_000]
    }
}

/// W2: `n` trivial threads spawned from inside a thread, each joined
/// (`greenthread_benches::w2_spawn`, as in `greenthread bench`).
fn spawn_many(c: &mut Criterion) {
    let mut g = c.benchmark_group("w2_spawn_many");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    let green = Green::pool(false);
    let gil = Green::pool(true);
    let tokio = Tokio::pool_with_io();
    let smol = Smol::pool();
    for n in sizes() {
        g.throughput(Throughput::Elements(n as u64));
        bench(&mut g, "green", n, &green);
        bench(&mut g, "green+gil", n, &gil);
        bench(&mut g, "tokio", n, &tokio);
        bench(&mut g, "smol", n, &smol);
    }
    // One OS thread per spawn: only the small size.
    let os = Green::os();
    let n = 1_000;
    g.throughput(Throughput::Elements(n as u64));
    bench(&mut g, "os", n, &os);
    g.bench_with_input(BenchmarkId::new("std", n), &n, |b, &n| {
        b.iter(|| w2_spawn::spawn_many_std(n))
    });
    g.finish();
}

/// `spawn_many` of `n` on `rt`, as `name/n`.
fn bench<R: Tasks>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, n: usize, rt: &R) {
    g.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
        b.iter(|| rt.run(w2_spawn::spawn_many::<R>(n)))
    });
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

fn smol_chain(ex: &'static async_executor::Executor<'static>, n: usize) -> BoxFut {
    Box::pin(async move {
        if n > 0 {
            let next = smol_chain(ex, n - 1);
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
                smol.run(smol_chain(smol.ex, DEPTH));
            }
            start.elapsed()
        })
    });
    g.finish();
}

criterion_group!(benches, spawn_many, spawn_outside, chained);
criterion_main!(benches);
