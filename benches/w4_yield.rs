//! W4 yield-many (`benches/README.md`): 200 threads × 1,000 `yield_now`
//! (`greenthread_benches::w4_yield`, as in `greenthread bench`).

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use common::{Green, Tasks, Tokio};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use greenthread_benches::backend::Smol;
use greenthread_benches::w4_yield;

const THREADS: usize = 200;
const YIELDS: usize = 1_000;

fn yield_many(c: &mut Criterion) {
    let mut g = c.benchmark_group("w4_yield_many");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements((THREADS * YIELDS) as u64));
    let green = Green::pool(false);
    let gil = Green::pool(true);
    let tokio = Tokio::pool_with_io();
    let smol = Smol::pool();
    bench(&mut g, "green", &green);
    bench(&mut g, "green+gil", &gil);
    bench(&mut g, "tokio", &tokio);
    bench(&mut g, "smol", &smol);
    g.finish();
}

/// `yield_many` on `rt`, as `name`.
fn bench<R: Tasks>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, rt: &R) {
    g.bench_function(name, |b| {
        b.iter(|| rt.run(w4_yield::yield_many::<R>(THREADS, YIELDS)))
    });
}

criterion_group!(benches, yield_many);
criterion_main!(benches);
