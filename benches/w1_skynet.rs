//! W1 skynet (`benches/README.md`): a 10-ary tree of threads, 1,000,000
//! leaves (1,111,111 threads); each leaf returns its number, each inner
//! thread sums its children. The sum is 499999500000.

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "common/mod.rs"]
mod common;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};

type BoxFut = Pin<Box<dyn Future<Output = u64> + Send>>;

const LEAVES: u64 = 1_000_000;
const SUM: u64 = 499_999_500_000;

fn green(num: u64, size: u64) -> BoxFut {
    Box::pin(async move {
        if size == 1 {
            return num;
        }
        let step = size / 10;
        let children: Vec<_> = (0..10)
            .map(|i| greenthread::spawn(green(num + i * step, step)))
            .collect();
        let mut sum = 0;
        for c in children {
            sum += c.await.unwrap();
        }
        sum
    })
}

fn tokio_tree(num: u64, size: u64) -> BoxFut {
    Box::pin(async move {
        if size == 1 {
            return num;
        }
        let step = size / 10;
        let children: Vec<_> = (0..10)
            .map(|i| tokio::spawn(tokio_tree(num + i * step, step)))
            .collect();
        let mut sum = 0;
        for c in children {
            sum += c.await.unwrap();
        }
        sum
    })
}

fn smol_tree(ex: Arc<async_executor::Executor<'static>>, num: u64, size: u64) -> BoxFut {
    Box::pin(async move {
        if size == 1 {
            return num;
        }
        let step = size / 10;
        let children: Vec<_> = (0..10)
            .map(|i| ex.spawn(smol_tree(ex.clone(), num + i * step, step)))
            .collect();
        let mut sum = 0;
        for c in children {
            sum += c.await;
        }
        sum
    })
}

fn skynet(c: &mut Criterion) {
    let mut g = c.benchmark_group("w1_skynet");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let rt = common::green(false);
    g.bench_function("green", |b| {
        b.iter(|| assert_eq!(common::green_run(&rt, green(0, LEAVES)), SUM))
    });
    drop(rt);
    let rt = common::tokio();
    g.bench_function("tokio", |b| {
        b.iter(|| assert_eq!(common::tokio_run(&rt, tokio_tree(0, LEAVES)), SUM))
    });
    drop(rt);
    let smol = common::Smol::new();
    g.bench_function("smol", |b| {
        b.iter(|| assert_eq!(smol.run(smol_tree(smol.ex.clone(), 0, LEAVES)), SUM))
    });
    g.finish();
}

criterion_group!(benches, skynet);
criterion_main!(benches);
