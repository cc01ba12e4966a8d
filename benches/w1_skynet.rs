//! W1 skynet (`benches/README.md`): a 10-ary tree of threads, 1,000,000
//! leaves (1,111,111 threads); each leaf returns its number, each inner
//! thread sums its children. The sum is 499999500000. The workload is
//! `greenthread_benches::w1_skynet`, as in `greenthread bench`.

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use common::{Green, Tasks, Tokio};
use criterion::{criterion_group, criterion_main, Criterion};
use greenthread_benches::backend::Smol;
use greenthread_benches::w1_skynet::{sum, tree};

const LEAVES: u64 = 1_000_000;

fn skynet(c: &mut Criterion) {
    let mut g = c.benchmark_group("w1_skynet");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    fn bench<R: Tasks>(
        g: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
        name: &str,
        rt: R,
    ) {
        g.bench_function(name, |b| {
            b.iter(|| assert_eq!(rt.run(tree::<R>(0, LEAVES)), sum(LEAVES)))
        });
    }
    bench(&mut g, "green", Green::pool(false));
    bench(&mut g, "tokio", Tokio::pool_with_io());
    bench(&mut g, "smol", Smol::pool());
    g.finish();
}

criterion_group!(benches, skynet);
criterion_main!(benches);
