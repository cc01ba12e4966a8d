//! W12 fairness under load (`benches/README.md`): 2 CPU hogs that run
//! 50 ms at a time without awaiting, beside 1,000 threads doing
//! `sleep(1 ms)` loops: the sleepers' lateness p50/p99 over one second.
//!
//! A plain `main` printing one table.

#[path = "common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SLEEPERS: usize = 1_000;
const HOG_SLICE: Duration = Duration::from_millis(50);
const RUN_FOR: Duration = Duration::from_secs(1);

/// Burns the CPU for `d` without awaiting.
fn hog(d: Duration) {
    let end = Instant::now() + d;
    while Instant::now() < end {
        std::hint::spin_loop();
    }
}

fn summarize(mut late: Vec<Duration>) -> (Duration, Duration) {
    common::p50_p99(&mut late)
}

fn green() -> (Duration, Duration) {
    green_on(&common::green(false))
}

/// Green with stall hand-off: spare workers cover for the hogged ones.
fn green_handoff() -> (Duration, Duration) {
    let rt = greenthread::Runtime::builder()
        .workers(common::workers())
        .stall_handoff(true)
        .build()
        .expect("runtime");
    green_on(&rt)
}

fn green_on(rt: &greenthread::Runtime) -> (Duration, Duration) {
    common::green_run(rt, async {
        let stop = Arc::new(AtomicBool::new(false));
        let hogs: Vec<_> = (0..2)
            .map(|_| {
                let stop = stop.clone();
                greenthread::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        hog(HOG_SLICE);
                        greenthread::yield_now().await;
                    }
                })
            })
            .collect();
        let sleepers: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                greenthread::spawn(async {
                    let start = Instant::now();
                    let mut late = Vec::new();
                    while start.elapsed() < RUN_FOR {
                        let deadline = Instant::now() + Duration::from_millis(1);
                        greenthread::sleep(Duration::from_millis(1)).await;
                        late.push(Instant::now() - deadline);
                    }
                    late
                })
            })
            .collect();
        let mut late = Vec::new();
        for s in sleepers {
            late.extend(s.await.unwrap());
        }
        stop.store(true, Ordering::Relaxed);
        for h in hogs {
            h.await.unwrap();
        }
        summarize(late)
    })
}

fn tokio() -> (Duration, Duration) {
    let rt = common::tokio();
    common::tokio_run(&rt, async {
        let stop = Arc::new(AtomicBool::new(false));
        let hogs: Vec<_> = (0..2)
            .map(|_| {
                let stop = stop.clone();
                tokio::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        hog(HOG_SLICE);
                        tokio::task::yield_now().await;
                    }
                })
            })
            .collect();
        let sleepers: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                tokio::spawn(async {
                    let start = Instant::now();
                    let mut late = Vec::new();
                    while start.elapsed() < RUN_FOR {
                        let deadline = Instant::now() + Duration::from_millis(1);
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        late.push(Instant::now() - deadline);
                    }
                    late
                })
            })
            .collect();
        let mut late = Vec::new();
        for s in sleepers {
            late.extend(s.await.unwrap());
        }
        stop.store(true, Ordering::Relaxed);
        for h in hogs {
            h.await.unwrap();
        }
        summarize(late)
    })
}

fn smol() -> (Duration, Duration) {
    let smol = common::Smol::new();
    let ex = smol.ex;
    smol.run(async move {
        let stop = Arc::new(AtomicBool::new(false));
        let hogs: Vec<_> = (0..2)
            .map(|_| {
                let stop = stop.clone();
                ex.spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        hog(HOG_SLICE);
                        futures_lite::future::yield_now().await;
                    }
                })
            })
            .collect();
        let sleepers: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                ex.spawn(async {
                    let start = Instant::now();
                    let mut late = Vec::new();
                    while start.elapsed() < RUN_FOR {
                        let deadline = Instant::now() + Duration::from_millis(1);
                        async_io::Timer::after(Duration::from_millis(1)).await;
                        late.push(Instant::now() - deadline);
                    }
                    late
                })
            })
            .collect();
        let mut late = Vec::new();
        for s in sleepers {
            late.extend(s.await);
        }
        stop.store(true, Ordering::Relaxed);
        for h in hogs {
            h.await;
        }
        summarize(late)
    })
}

fn main() {
    println!(
        "W12 fairness: 2 hogs × {HOG_SLICE:?} slices vs {SLEEPERS} sleep(1 ms) loops for {RUN_FOR:?} ({} workers)",
        common::workers()
    );
    println!(
        "{:<14} {:>14} {:>14}",
        "backend", "lateness p50", "lateness p99"
    );
    for (name, run) in [
        ("green", green as fn() -> (Duration, Duration)),
        ("green+handoff", green_handoff),
        ("tokio", tokio),
        ("smol", smol),
    ] {
        let (p50, p99) = run();
        println!("{name:<14} {p50:>14.2?} {p99:>14.2?}");
    }
}
