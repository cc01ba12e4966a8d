//! GIL mode: the tutorial's point that CPython's Global Interpreter Lock
//! serializes CPU-bound threads but not threads that wait (for I/O, or
//! here for `sleep`), shown by numbers.
//!
//! Mirrors the classic Python demonstration of the tutorial's GIL section:
//! a CPU-bound `countdown(n)` (`while n > 0: n -= 1`) run in 4 threads,
//! and a sleep-bound thread (`for _ in range(3): time.sleep(0.1)`) run in 4
//! threads, each with and without the GIL. The countdown calls
//! `greenthread::checkpoint().await` every step: that is the interpreter's
//! eval-loop check, where a thread that has held the GIL for the switch
//! interval (5 ms) hands it to a waiting thread.
//!
//! First a single thread's countdown is timed (n is calibrated so that it
//! takes about 0.15 s in any build profile). Without the GIL, the 4
//! countdowns run on every worker at once: about 4 / workers times one
//! countdown. With the GIL they take turns: about 4 times one countdown,
//! as on one core. The sleepers take 0.3 s either way: a sleeping thread
//! holds no GIL.
//!
//! Run it: `cargo run --release --example gil`

use std::hint::black_box;
use std::time::{Duration, Instant};

use greenthread::{checkpoint, sleep, Mode, Runtime, Thread};

/// Threads per workload.
const THREADS: usize = 4;

/// Python's `def countdown(n): while n > 0: n -= 1`.
async fn countdown(mut n: u64) {
    while n > 0 {
        n = black_box(n) - 1;
        checkpoint().await;
    }
}

/// Python's `for _ in range(3): time.sleep(0.1)`.
async fn sleeper() {
    for _ in 0..3 {
        sleep(Duration::from_millis(100)).await;
    }
}

/// Wall time of `THREADS` threads running `body`, and the GIL hand-offs.
fn time_threads<F, Fut>(mode: Mode, gil: bool, body: F) -> (Duration, u64)
where
    F: Fn() -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let rt = Runtime::builder()
        .mode(mode)
        .gil(gil)
        .build()
        .expect("build a runtime");
    let wall = rt.block_on(async move {
        let start = Instant::now();
        let threads: Vec<Thread> = (0..THREADS)
            .map(|_| {
                let t = Thread::new(body.clone());
                t.start().expect("start a thread");
                t
            })
            .collect();
        for t in &threads {
            t.join().await.expect("join a thread");
        }
        start.elapsed()
    });
    (wall, rt.gil_switches())
}

/// Steps of `countdown` that take about `target` on one thread.
fn calibrate(target: Duration) -> u64 {
    let rt = Runtime::builder().build().expect("build a runtime");
    rt.block_on(async move {
        let mut n = 10_000;
        loop {
            let start = Instant::now();
            let t = Thread::new(move || countdown(n));
            t.start().expect("start a thread");
            t.join().await.expect("join a thread");
            let took = start.elapsed();
            if took >= Duration::from_millis(50) {
                return (n as f64 * target.as_secs_f64() / took.as_secs_f64()) as u64;
            }
            n *= 4;
        }
    })
}

fn main() {
    let workers = Runtime::builder()
        .build()
        .expect("build a runtime")
        .workers();
    let n = calibrate(Duration::from_millis(150));
    let one = Runtime::builder()
        .build()
        .expect("build a runtime")
        .block_on(async move {
            let start = Instant::now();
            let t = Thread::new(move || countdown(n));
            t.start().expect("start a thread");
            t.join().await.expect("join a thread");
            start.elapsed()
        });
    println!(
        "{THREADS} CPU-bound threads (countdown from {n}, checkpoint() every step) and \
         {THREADS} sleep-bound threads (3 x sleep 0.1 s), on {workers} workers"
    );
    println!("one countdown alone: {:.2} s", one.as_secs_f64());
    println!();
    println!(
        "{:<16} {:<12} {:>8} {:>16} {:>14}",
        "mode", "work", "wall", "x one thread", "GIL hand-offs"
    );

    let mut cpu = Vec::new();
    let mut slept = Vec::new();
    for (label, mode, gil) in [
        ("Green", Mode::Green, false),
        ("Green + GIL", Mode::Green, true),
        ("OsThreads", Mode::OsThreads, false),
        ("OsThreads + GIL", Mode::OsThreads, true),
    ] {
        let (wall, switches) = time_threads(mode, gil, move || countdown(n));
        println!(
            "{label:<16} {:<12} {:>6.2} s {:>15.1}x {switches:>14}",
            "CPU-bound",
            wall.as_secs_f64(),
            wall.as_secs_f64() / one.as_secs_f64(),
        );
        cpu.push((gil, wall));
        let (wall, switches) = time_threads(mode, gil, sleeper);
        println!(
            "{label:<16} {:<12} {:>6.2} s {:>16} {switches:>14}",
            "sleep-bound",
            wall.as_secs_f64(),
            "",
        );
        slept.push((gil, wall));
    }

    let mean = |v: &[(bool, Duration)], gil: bool| {
        let xs: Vec<f64> = v
            .iter()
            .filter(|(g, _)| *g == gil)
            .map(|(_, d)| d.as_secs_f64())
            .collect();
        xs.iter().sum::<f64>() / xs.len() as f64
    };
    println!();
    println!(
        "CPU-bound: with the GIL the {THREADS} countdowns took {:.1}x one countdown (serialized, \
         as on one core); without it {:.1}x (in parallel on {workers} workers).",
        mean(&cpu, true) / one.as_secs_f64(),
        mean(&cpu, false) / one.as_secs_f64(),
    );
    println!(
        "Sleep-bound: {:.2} s with the GIL, {:.2} s without: a sleeping thread does not hold \
         the GIL, so waiting overlaps either way.",
        mean(&slept, true),
        mean(&slept, false),
    );
}
