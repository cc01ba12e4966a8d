//! W8 timers (`benches/README.md`): 100,000 threads each sleeping 10 ms at
//! once (wall time and lateness p50/p99), 1,000,000 timers armed and
//! cancelled (ns per arm+cancel), 10,000 Python-style `Timer`s with half
//! cancelled (wall time).
//!
//! A plain `main` printing one table (lateness percentiles are not a
//! criterion metric); each figure is the median of [`RUNS`] runs.

#[path = "common/mod.rs"]
mod common;

use std::future::Future;
use std::task::Context;
use std::time::{Duration, Instant};

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

/// Polls `f` once with a no-op waker (arms a timer), then drops it.
fn poll_once<F: Future>(f: F) {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    let _ = f.as_mut().poll(&mut cx);
}

fn green_sleepers(rt: &greenthread::Runtime) -> SleepFigures {
    common::green_run(rt, async {
        let start = Instant::now();
        let hs: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                greenthread::spawn(async {
                    let deadline = Instant::now() + SLEEP;
                    greenthread::sleep(SLEEP).await;
                    Instant::now() - deadline
                })
            })
            .collect();
        let mut late = Vec::with_capacity(SLEEPERS);
        for h in hs {
            late.push(h.await.unwrap());
        }
        percentiles(late, start.elapsed())
    })
}

fn tokio_sleepers(rt: &tokio::runtime::Runtime) -> SleepFigures {
    common::tokio_run(rt, async {
        let start = Instant::now();
        let hs: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                tokio::spawn(async {
                    let deadline = Instant::now() + SLEEP;
                    tokio::time::sleep(SLEEP).await;
                    Instant::now() - deadline
                })
            })
            .collect();
        let mut late = Vec::with_capacity(SLEEPERS);
        for h in hs {
            late.push(h.await.unwrap());
        }
        percentiles(late, start.elapsed())
    })
}

fn smol_sleepers(smol: &common::Smol) -> SleepFigures {
    let ex = smol.ex.clone();
    smol.run(async move {
        let start = Instant::now();
        let hs: Vec<_> = (0..SLEEPERS)
            .map(|_| {
                ex.spawn(async {
                    let deadline = Instant::now() + SLEEP;
                    async_io::Timer::after(SLEEP).await;
                    Instant::now() - deadline
                })
            })
            .collect();
        let mut late = Vec::with_capacity(SLEEPERS);
        for h in hs {
            late.push(h.await);
        }
        percentiles(late, start.elapsed())
    })
}

fn arm_cancel(arm: impl Fn()) -> Duration {
    let start = Instant::now();
    for _ in 0..ARMS {
        arm();
    }
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
    let ex = smol.ex.clone();
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
    let green = common::green(false);
    let tokio = common::tokio();
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
        ("green", Box::new(|| green_sleepers(&green))),
        ("tokio", Box::new(|| tokio_sleepers(&tokio))),
        ("smol", Box::new(|| smol_sleepers(&smol))),
    ];
    for (name, run) in &rows {
        let runs: Vec<SleepFigures> = (0..RUNS).map(|_| run()).collect();
        let wall = median(runs.iter().map(|r| r.0).collect());
        let p50 = median(runs.iter().map(|r| r.1).collect());
        let p99 = median(runs.iter().map(|r| r.2).collect());
        println!("{name:<8} {wall:>12.2?} {p50:>14.2?} {p99:>14.2?}");
    }

    println!("{ARMS} timers armed and cancelled:");
    let green_arm = median(
        (0..RUNS)
            .map(|_| arm_cancel(|| poll_once(greenthread::sleep(Duration::from_secs(1)))))
            .collect(),
    );
    let tokio_arm = median(
        (0..RUNS)
            .map(|_| arm_cancel(|| poll_once(tokio::time::sleep(Duration::from_secs(1)))))
            .collect(),
    );
    let smol_arm = median(
        (0..RUNS)
            .map(|_| arm_cancel(|| poll_once(async_io::Timer::after(Duration::from_secs(1)))))
            .collect(),
    );
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
    let g = median((0..RUNS).map(|_| green_timers(&green)).collect());
    let t = median((0..RUNS).map(|_| tokio_timers(&tokio)).collect());
    let s = median((0..RUNS).map(|_| smol_timers(&smol)).collect());
    for (name, d) in [("green", g), ("tokio", t), ("smol", s)] {
        println!("{name:<8} {d:>12.2?}");
    }
}
