//! W8 timers (`benches/README.md`): 100,000 threads each sleeping 10 ms at
//! once (wall time and lateness p50/p99), 1,000,000 timers armed and
//! cancelled (ns per arm+cancel), 10,000 Python-style `Timer`s with half
//! cancelled (wall time).
//!
//! A plain `main` printing one table (lateness percentiles are not a
//! criterion metric); each figure is the median of [`RUNS`] runs.

#[path = "common/mod.rs"]
mod common;

use std::time::{Duration, Instant};

use common::{Green, Tasks, Tokio};
use greenthread_benches::backend::Smol;
use greenthread_benches::w8_timers;

const RUNS: usize = 3;
const SLEEPERS: usize = 100_000;
const SLEEP: Duration = Duration::from_millis(10);
const ARMS: usize = 1_000_000;
const TIMERS: usize = 10_000;

/// One run of the sleepers: (wall, p50 lateness, p99 lateness).
type SleepFigures = (Duration, Duration, Duration);

/// A back-end's sleeper run.
type SleepRun<'a> = Box<dyn Fn() -> SleepFigures + 'a>;

fn percentiles(mut late: Vec<Duration>, wall: Duration) -> SleepFigures {
    let (p50, p99) = common::p50_p99(&mut late);
    (wall, p50, p99)
}

fn median<T: Copy + Ord>(mut v: Vec<T>) -> T {
    v.sort();
    v[v.len() / 2]
}

/// `SLEEPERS` threads on `rt` sleeping `SLEEP` at once
/// (`greenthread_benches::w8_timers`, as in `greenthread bench`).
fn sleepers<R: Tasks>(rt: &R) -> SleepFigures {
    let (late, wall) = rt.run(w8_timers::sleepers::<R>(SLEEPERS, SLEEP));
    percentiles(late, wall)
}

/// Arms and cancels `ARMS` sleeps on `R`'s timers from this (plain OS)
/// thread: the time per arm+cancel.
fn arm_cancel<R: Tasks>() -> Duration {
    let start = Instant::now();
    w8_timers::arm_cancel::<R>(ARMS, Duration::from_secs(1));
    start.elapsed() / ARMS as u32
}

fn green_timers(rt: &greenthread::Runtime) -> Duration {
    common::green_run(rt, async {
        let start = Instant::now();
        let timers: Vec<_> = (0..TIMERS)
            .map(|_| {
                let t = greenthread::Timer::new(Duration::from_millis(5), || async {});
                t.start().unwrap();
                t
            })
            .collect();
        for t in timers.iter().step_by(2) {
            t.cancel();
        }
        for t in &timers {
            t.join().await.unwrap();
        }
        start.elapsed()
    })
}

fn tokio_timers(rt: &tokio::runtime::Runtime) -> Duration {
    common::tokio_run(rt, async {
        let start = Instant::now();
        let hs: Vec<_> = (0..TIMERS)
            .map(|_| tokio::spawn(tokio::time::sleep(Duration::from_millis(5))))
            .collect();
        for h in hs.iter().step_by(2) {
            h.abort();
        }
        for h in hs {
            let _ = h.await;
        }
        start.elapsed()
    })
}

fn smol_timers(smol: &common::Smol) -> Duration {
    let ex = smol.ex;
    smol.run(async move {
        let start = Instant::now();
        let mut hs: Vec<_> = (0..TIMERS)
            .map(|_| {
                Some(ex.spawn(async {
                    async_io::Timer::after(Duration::from_millis(5)).await;
                }))
            })
            .collect();
        for h in hs.iter_mut().step_by(2) {
            if let Some(t) = h.take() {
                t.cancel().await;
            }
        }
        for h in hs.into_iter().flatten() {
            h.await;
        }
        start.elapsed()
    })
}

fn main() {
    let (green_pool, tokio_pool) = (Green::pool(false), Tokio::pool_with_io());
    let (green, tokio) = (green_pool.runtime(), tokio_pool.runtime());
    let smol = common::Smol::new();
    let _guard = tokio.enter(); // tokio's timers need the runtime context to arm

    println!(
        "W8 timers ({} workers; median of {RUNS} runs)",
        common::workers()
    );
    println!("{SLEEPERS} threads × sleep({SLEEP:?}):");
    println!(
        "{:<8} {:>12} {:>14} {:>14}",
        "backend", "wall", "lateness p50", "lateness p99"
    );
    let rows: [(&str, SleepRun); 3] = [
        ("green", Box::new(|| sleepers(&green_pool))),
        ("tokio", Box::new(|| sleepers(&tokio_pool))),
        ("smol", Box::new(|| sleepers(smol.pool()))),
    ];
    for (name, run) in &rows {
        let runs: Vec<SleepFigures> = (0..RUNS).map(|_| run()).collect();
        let wall = median(runs.iter().map(|r| r.0).collect());
        let p50 = median(runs.iter().map(|r| r.1).collect());
        let p99 = median(runs.iter().map(|r| r.2).collect());
        println!("{name:<8} {wall:>12.2?} {p50:>14.2?} {p99:>14.2?}");
    }

    println!("{ARMS} timers armed and cancelled:");
    let green_arm = median((0..RUNS).map(|_| arm_cancel::<Green>()).collect());
    let tokio_arm = median((0..RUNS).map(|_| arm_cancel::<Tokio>()).collect());
    let smol_arm = median((0..RUNS).map(|_| arm_cancel::<Smol>()).collect());
    let best = tokio_arm.min(smol_arm);
    for (name, d) in [
        ("green", green_arm),
        ("tokio", tokio_arm),
        ("smol", smol_arm),
    ] {
        println!(
            "{name:<8} {:>10} ns/arm+cancel {:>8.2}x best peer",
            d.as_nanos(),
            d.as_secs_f64() / best.as_secs_f64()
        );
    }

    println!("{TIMERS} Timers, half cancelled:");
    let g = median((0..RUNS).map(|_| green_timers(green)).collect());
    let t = median((0..RUNS).map(|_| tokio_timers(tokio)).collect());
    let s = median((0..RUNS).map(|_| smol_timers(&smol)).collect());
    for (name, d) in [("green", g), ("tokio", t), ("smol", s)] {
        println!("{name:<8} {d:>12.2?}");
    }
}
