//! W5 ping-pong (`benches/README.md`): pairs of threads bounce a token over
//! two capacity-1 queues. Default sizes are scaled down so a run takes
//! seconds (100 pairs × 100 round trips, and one pair × 10,000); set
//! `GT_BENCH_FULL=1` for the standard 1,000 × 1,000 and 1 × 1,000,000.
//! Throughput is in round trips. The workload is
//! `greenthread_benches::w5_pingpong`, as in `greenthread bench`.

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use common::{Green, Tasks, Tokio};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use greenthread_benches::backend::Smol;
use greenthread_benches::w5_pingpong;

/// (pairs, round trips per pair) for the two scenarios.
fn sizes() -> [(usize, usize); 2] {
    if common::full() {
        [(1_000, 1_000), (1, 1_000_000)]
    } else {
        [(100, 100), (1, 10_000)]
    }
}

fn bench_sizes(g: &mut BenchmarkGroup<'_, WallTime>, pairs: usize, trips: usize) {
    g.throughput(Throughput::Elements((pairs * trips) as u64));
    let green = Green::pool(false);
    let gil = Green::pool(true);
    bench(g, "green", pairs, trips, &green);
    bench(g, "green+gil", pairs, trips, &gil);
    drop((green, gil));
    // One OS thread per thread: at most 256 of them.
    let os_fits = pairs * 2 <= 256;
    if os_fits {
        bench(g, "os", pairs, trips, &Green::os());
    }
    bench(g, "tokio", pairs, trips, &Tokio::pool_with_io());
    bench(g, "smol", pairs, trips, &Smol::pool());
    if os_fits {
        g.bench_function(format!("std/{pairs}x{trips}"), |b| {
            b.iter(|| w5_pingpong::ping_pong_std(pairs, trips))
        });
    }
}

/// `ping_pong` on `rt`, as `name/PAIRSxTRIPS`.
fn bench<R: Tasks>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    pairs: usize,
    trips: usize,
    rt: &R,
) {
    g.bench_function(format!("{name}/{pairs}x{trips}"), |b| {
        b.iter(|| rt.run(w5_pingpong::ping_pong::<R>(pairs, trips)))
    });
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
