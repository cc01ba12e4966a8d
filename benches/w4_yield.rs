//! W4 yield-many (`benches/README.md`): 200 threads × 1,000 `yield_now`.

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};

const THREADS: usize = 200;
const YIELDS: usize = 1_000;

fn yield_many(c: &mut Criterion) {
    let mut g = c.benchmark_group("w4_yield_many");
    g.sample_size(10).measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements((THREADS * YIELDS) as u64));
    let green = common::green(false);
    let gil = common::green(true);
    let tokio = common::tokio();
    let smol = common::Smol::new();
    for (name, rt) in [("green", &green), ("green+gil", &gil)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                common::green_run(rt, async {
                    let hs: Vec<_> = (0..THREADS)
                        .map(|_| {
                            greenthread::spawn(async {
                                for _ in 0..YIELDS {
                                    greenthread::yield_now().await;
                                }
                            })
                        })
                        .collect();
                    for h in hs {
                        h.await.unwrap();
                    }
                })
            })
        });
    }
    g.bench_function("tokio", |b| {
        b.iter(|| {
            common::tokio_run(&tokio, async {
                let hs: Vec<_> = (0..THREADS)
                    .map(|_| {
                        tokio::spawn(async {
                            for _ in 0..YIELDS {
                                tokio::task::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for h in hs {
                    h.await.unwrap();
                }
            })
        })
    });
    g.bench_function("smol", |b| {
        let ex = smol.ex.clone();
        b.iter(|| {
            let ex = ex.clone();
            smol.run(async move {
                let hs: Vec<_> = (0..THREADS)
                    .map(|_| {
                        ex.spawn(async {
                            for _ in 0..YIELDS {
                                common::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for h in hs {
                    h.await;
                }
            })
        })
    });
    g.finish();
}

criterion_group!(benches, yield_many);
criterion_main!(benches);
