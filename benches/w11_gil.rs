//! W11 GIL convoy and CPU scaling (`benches/README.md`).
//!
//! - Convoy: 2 CPU-bound threads (loops calling `checkpoint()`) beside one
//!   thread doing `sleep(1 ms)` round trips: the sleeper's lateness p50/p99,
//!   with and without the GIL (target under the GIL: ≤ 2 × the switch
//!   interval).
//! - Scaling: the same total CPU work split over 1, 2 and 4 threads: the
//!   speed-up over 1 thread, with and without the GIL (targets: ≈ 1.0 under
//!   the GIL, ≥ 1.8 without on 2 cores).
//!
//! A plain `main` printing one table; every mode runs in this process.

#[path = "common/mod.rs"]
mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use greenthread::{Mode, Runtime};

/// Busy work between two checkpoints (~tens of microseconds).
fn spin(rounds: u64) -> u64 {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    for i in 0..rounds {
        x = x.rotate_left(5) ^ i.wrapping_mul(0x2545_F491_4F6C_DD1D);
    }
    std::hint::black_box(x)
}

const CHUNK: u64 = 20_000;

fn runtime(mode: Mode, gil: bool) -> Runtime {
    Runtime::builder()
        .mode(mode)
        .workers(common::workers())
        .gil(gil)
        .build()
        .expect("runtime")
}

/// The sleeper's lateness (p50, p99) next to 2 CPU-bound threads.
fn convoy(rt: &Runtime) -> (Duration, Duration) {
    common::green_run(rt, async {
        let stop = Arc::new(AtomicBool::new(false));
        let hogs: Vec<_> = (0..2)
            .map(|_| {
                let stop = stop.clone();
                greenthread::spawn(async move {
                    while !stop.load(Ordering::Relaxed) {
                        spin(CHUNK);
                        greenthread::checkpoint().await;
                    }
                })
            })
            .collect();
        let mut late = Vec::with_capacity(300);
        for _ in 0..300 {
            let deadline = Instant::now() + Duration::from_millis(1);
            greenthread::sleep(Duration::from_millis(1)).await;
            late.push(Instant::now() - deadline);
        }
        stop.store(true, Ordering::Relaxed);
        for h in hogs {
            h.await.unwrap();
        }
        common::p50_p99(&mut late)
    })
}

/// Wall time of `total` chunks of CPU work split over `threads` threads.
fn scaling(rt: &Runtime, threads: u64, total: u64) -> Duration {
    common::green_run(rt, async move {
        let start = Instant::now();
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                greenthread::spawn(async move {
                    for _ in 0..total / threads {
                        spin(CHUNK);
                        greenthread::checkpoint().await;
                    }
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
        start.elapsed()
    })
}

fn main() {
    let interval = greenthread::gil::switch_interval();
    println!(
        "W11 GIL ({} workers, switch interval {interval:?})",
        common::workers()
    );
    println!(
        "{:<10} {:>14} {:>14} {:>10} {:>10} {:>10}",
        "mode", "sleeper p50", "sleeper p99", "1→1", "1→2", "1→4"
    );
    let total = 2_000;
    for (name, mode, gil) in [
        ("green", Mode::Green, false),
        ("green+gil", Mode::Green, true),
        ("os", Mode::OsThreads, false),
        ("os+gil", Mode::OsThreads, true),
    ] {
        let rt = runtime(mode, gil);
        let (p50, p99) = convoy(&rt);
        let t1 = scaling(&rt, 1, total);
        let speedups: Vec<f64> = [1, 2, 4]
            .iter()
            .map(|&n| t1.as_secs_f64() / scaling(&rt, n, total).as_secs_f64())
            .collect();
        println!(
            "{name:<10} {p50:>14.2?} {p99:>14.2?} {:>9.2}x {:>9.2}x {:>9.2}x",
            speedups[0], speedups[1], speedups[2]
        );
    }
}
