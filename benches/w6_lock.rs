//! W6 contended locks (`benches/README.md`): 64 threads × acquire /
//! increment / release on one Lock (also 1 and 1,024 threads), RLock at
//! depth 2, Semaphore(5) × 64, Condition notify_all to 500 waiters, Barrier
//! 64 parties × 100 rounds. Default 1,000 iterations per thread (set
//! `GT_BENCH_FULL=1` for the standard 10,000). Before the timed groups it
//! prints the lock's fairness: max/min acquisitions per thread when 64
//! threads hammer it for 200 ms.

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Green, Smol, Tasks, Tokio};
use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, Throughput};
use greenthread_benches::w6_lock;

fn iters() -> usize {
    if common::full() {
        10_000
    } else {
        1_000
    }
}

fn lock(c: &mut Criterion) {
    let n = iters();
    let mut g = c.benchmark_group("w6_lock");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    let green = Green::pool(false);
    let gil = Green::pool(true);
    let os = Green::os();
    let tokio = Tokio::pool_with_io();
    let smol = Smol::new();
    for threads in [1usize, 64, 1_024] {
        let iters = if threads == 1_024 { n / 10 } else { n };
        g.throughput(Throughput::Elements((threads * iters) as u64));
        let label = |name: &str| format!("lock/{threads}/{name}");
        bench(&mut g, label("green"), threads, iters, &green);
        bench(&mut g, label("green+gil"), threads, iters, &gil);
        if threads <= 64 {
            bench(&mut g, label("os"), threads, iters, &os);
        }
        bench(&mut g, label("tokio"), threads, iters, &tokio);
        bench(&mut g, label("smol"), threads, iters, smol.pool());
        if threads <= 64 {
            g.bench_function(label("std"), |b| {
                b.iter(|| assert_eq!(w6_lock::contended_std(threads, iters), threads * iters))
            });
        }
    }
    let (green, tokio) = (green.runtime(), tokio.runtime());

    // RLock at depth 2, 64 threads.
    g.throughput(Throughput::Elements((64 * n) as u64));
    g.bench_function("rlock_depth2/64/green", |b| {
        b.iter(|| {
            common::green_run(green, async move {
                let l = greenthread::RLock::new();
                let hs: Vec<_> = (0..64)
                    .map(|_| {
                        let l = l.clone();
                        greenthread::spawn(async move {
                            for _ in 0..n {
                                l.acquire().await;
                                l.acquire().await;
                                l.release().unwrap();
                                l.release().unwrap();
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

    // Semaphore(5) × 64 threads.
    g.bench_function("semaphore5/64/green", |b| {
        b.iter(|| {
            common::green_run(green, async move {
                let s = greenthread::Semaphore::new(5);
                let hs: Vec<_> = (0..64)
                    .map(|_| {
                        let s = s.clone();
                        greenthread::spawn(async move {
                            for _ in 0..n {
                                s.acquire().await;
                                s.release(1);
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
    g.bench_function("semaphore5/64/tokio", |b| {
        b.iter(|| {
            common::tokio_run(tokio, async move {
                let s = Arc::new(tokio::sync::Semaphore::new(5));
                let hs: Vec<_> = (0..64)
                    .map(|_| {
                        let s = s.clone();
                        tokio::spawn(async move {
                            for _ in 0..n {
                                drop(s.acquire().await.unwrap());
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
    g.bench_function("semaphore5/64/smol", |b| {
        b.iter(|| {
            let ex = smol.ex;
            smol.run(async move {
                let s = Arc::new(async_lock::Semaphore::new(5));
                let hs: Vec<_> = (0..64)
                    .map(|_| {
                        let s = s.clone();
                        ex.spawn(async move {
                            for _ in 0..n {
                                drop(s.acquire().await);
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

    // Condition.notify_all to 500 waiters. Each iteration times the whole
    // round: spawning the 500 waiters, each taking the lock and waiting,
    // then one notify_all and their joins (not the wake-up alone).
    g.throughput(Throughput::Elements(500));
    g.bench_function("condition_notify_all/500/green", |b| {
        b.iter(|| {
            common::green_run(green, async move {
                let c = greenthread::Condition::new();
                let go = Arc::new(AtomicBool::new(false));
                let hs: Vec<_> = (0..500)
                    .map(|_| {
                        let (c, go) = (c.clone(), go.clone());
                        greenthread::spawn(async move {
                            let _g = c.lock().await;
                            c.wait_for(|| go.load(Ordering::SeqCst)).await.unwrap();
                        })
                    })
                    .collect();
                while c.n_waiters() < 500 {
                    greenthread::yield_now().await;
                }
                {
                    let _g = c.lock().await;
                    go.store(true, Ordering::SeqCst);
                    c.notify_all().unwrap();
                }
                for h in hs {
                    h.await.unwrap();
                }
            })
        })
    });

    // Barrier: 64 parties × 100 rounds.
    g.throughput(Throughput::Elements(64 * 100));
    g.bench_function("barrier/64x100/green", |b| {
        b.iter(|| {
            common::green_run(green, async move {
                let bar = greenthread::Barrier::new(64);
                let hs: Vec<_> = (0..64)
                    .map(|_| {
                        let bar = bar.clone();
                        greenthread::spawn(async move {
                            for _ in 0..100 {
                                bar.wait().await.unwrap();
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
    g.bench_function("barrier/64x100/tokio", |b| {
        b.iter(|| {
            common::tokio_run(tokio, async move {
                let bar = Arc::new(tokio::sync::Barrier::new(64));
                let hs: Vec<_> = (0..64)
                    .map(|_| {
                        let bar = bar.clone();
                        tokio::spawn(async move {
                            for _ in 0..100 {
                                bar.wait().await;
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
    g.bench_function("barrier/64x100/smol", |b| {
        b.iter(|| {
            let ex = smol.ex;
            smol.run(async move {
                let bar = Arc::new(async_lock::Barrier::new(64));
                let hs: Vec<_> = (0..64)
                    .map(|_| {
                        let bar = bar.clone();
                        ex.spawn(async move {
                            for _ in 0..100 {
                                bar.wait().await;
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

/// `contended` on `rt`, as `name`: the count must come out whole.
fn bench<R: Tasks>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: String,
    threads: usize,
    iters: usize,
    rt: &R,
) {
    g.bench_function(name, |b| {
        b.iter(|| {
            assert_eq!(
                rt.run(w6_lock::contended::<R>(threads, iters)),
                threads * iters
            )
        })
    });
}

/// Max/min acquisitions per thread: 64 threads hammer one lock for 200 ms.
fn fairness(_c: &mut Criterion) {
    const THREADS: usize = 64;
    const FOR: Duration = Duration::from_millis(200);
    fn report(name: &str, counts: Vec<usize>) {
        let (max, min) = (counts.iter().max().unwrap(), counts.iter().min().unwrap());
        let ratio = if *min == 0 {
            f64::INFINITY
        } else {
            *max as f64 / *min as f64
        };
        println!(
            "w6_lock fairness {name}: max {max} / min {min} acquisitions per thread = {ratio:.2}"
        );
    }
    let green = common::green(false);
    let counts = common::green_run(&green, async {
        let l = greenthread::Lock::new();
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                let l = l.clone();
                greenthread::spawn(async move {
                    let (start, mut k) = (Instant::now(), 0usize);
                    while start.elapsed() < FOR {
                        l.acquire().await;
                        k += 1;
                        l.release().unwrap();
                    }
                    k
                })
            })
            .collect();
        let mut v = Vec::new();
        for h in hs {
            v.push(h.await.unwrap());
        }
        v
    });
    report("green", counts);
    let tokio = common::tokio();
    let counts = common::tokio_run(&tokio, async {
        let m = Arc::new(tokio::sync::Mutex::new(()));
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                let m = m.clone();
                tokio::spawn(async move {
                    let (start, mut k) = (Instant::now(), 0usize);
                    while start.elapsed() < FOR {
                        drop(m.lock().await);
                        k += 1;
                    }
                    k
                })
            })
            .collect();
        let mut v = Vec::new();
        for h in hs {
            v.push(h.await.unwrap());
        }
        v
    });
    report("tokio", counts);
    let smol = common::Smol::new();
    let ex = smol.ex;
    let counts = smol.run(async move {
        let m = Arc::new(async_lock::Mutex::new(()));
        let hs: Vec<_> = (0..THREADS)
            .map(|_| {
                let m = m.clone();
                ex.spawn(async move {
                    let (start, mut k) = (Instant::now(), 0usize);
                    while start.elapsed() < FOR {
                        drop(m.lock().await);
                        k += 1;
                    }
                    k
                })
            })
            .collect();
        let mut v = Vec::new();
        for h in hs {
            v.push(h.await);
        }
        v
    });
    report("smol", counts);
}

criterion_group!(benches, fairness, lock);
criterion_main!(benches);
