//! W7 queue throughput (`benches/README.md`): 4 producers × 4 consumers
//! push items through a bounded queue of 1,024; also PriorityQueue with
//! random priorities and SimpleQueue. Default 100,000 items (set
//! `GT_BENCH_FULL=1` for the standard 1,000,000). Throughput is in items.

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "common/mod.rs"]
mod common;

use std::time::Duration;

use common::{Green, Tasks, Tokio};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use greenthread_benches::backend::Smol;

use greenthread_benches::w7_queue::{self, CAP, CONSUMERS, PRODUCERS};

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

/// Which of greenthread's other queues a run uses (the bounded `Queue` is
/// `greenthread_benches::w7_queue`, run on every back-end).
#[derive(Clone, Copy)]
enum Kind {
    Priority,
    Simple,
}

async fn green_mpmc(kind: Kind, n: usize) -> usize {
    let per = n / PRODUCERS;
    let pq = greenthread::queue::PriorityQueue::new(CAP);
    let sq = greenthread::queue::SimpleQueue::new();
    let mut producers = Vec::new();
    for p in 0..PRODUCERS {
        let (pq, sq) = (pq.clone(), sq.clone());
        producers.push(greenthread::spawn(async move {
            for i in 0..per {
                let v = p * per + i;
                match kind {
                    Kind::Priority => pq.put((prio(v), v)).await.unwrap(),
                    Kind::Simple => sq.put(v).await.unwrap(),
                }
            }
        }));
    }
    let mut consumers = Vec::new();
    for _ in 0..CONSUMERS {
        let (pq, sq) = (pq.clone(), sq.clone());
        consumers.push(greenthread::spawn(async move {
            let mut got = 0;
            for _ in 0..(per * PRODUCERS / CONSUMERS) {
                match kind {
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

/// `mpmc` of `n` items on `rt`, as `name`.
fn bench<R: Tasks>(g: &mut BenchmarkGroup<'_, WallTime>, name: &str, n: usize, rt: &R) {
    g.bench_function(name, |b| {
        b.iter(|| assert_eq!(rt.run(w7_queue::mpmc::<R>(w7_queue::share(n))), n))
    });
}

fn queues(c: &mut Criterion) {
    let n = items();
    let mut g = c.benchmark_group("w7_queue");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    g.throughput(Throughput::Elements(n as u64));
    let green = Green::pool(false);
    let gil = Green::pool(true);
    bench(&mut g, "queue/green", n, &green);
    bench(&mut g, "queue/green+gil", n, &gil);
    for (name, kind) in [
        ("priority/green", Kind::Priority),
        ("simple/green", Kind::Simple),
    ] {
        g.bench_function(name, |b| {
            b.iter(|| assert_eq!(common::green_run(green.runtime(), green_mpmc(kind, n)), n))
        });
    }
    drop((green, gil));
    bench(&mut g, "queue/os", n, &Green::os());
    // tokio has no many-to-many queue: it runs async-channel, as smol does.
    bench(
        &mut g,
        "queue/tokio+async-channel",
        n,
        &Tokio::pool_with_io(),
    );
    bench(&mut g, "queue/smol+async-channel", n, &Smol::pool());
    g.bench_function("queue/std", |b| {
        b.iter(|| assert_eq!(w7_queue::mpmc_std(w7_queue::share(n)), n))
    });
    g.finish();
}

criterion_group!(benches, queues);
criterion_main!(benches);
