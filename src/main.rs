//! The greenthread demo: thousands of Python-style threads, run in Green
//! mode, OS-thread mode and GIL mode, compared.
//!
//! `cargo run --release` runs 10,000 threads that each sleep, take a Lock
//! and do a little CPU work, under each mode, and prints one table.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use greenthread::{Lock, Mode, Runtime, Thread};

/// One mode's figures.
struct Row {
    label: &'static str,
    spawn: Duration,
    total: Duration,
}

fn run_mode(label: &'static str, mode: Mode, gil: bool, threads: usize) -> Row {
    let rt = Runtime::builder().mode(mode).gil(gil).build().expect("runtime");
    rt.block_on(async move {
        let lock = Lock::new();
        let counter = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let mut all = Vec::with_capacity(threads);
        for i in 0..threads {
            let lock = lock.clone();
            let counter = counter.clone();
            let t = Thread::new(move || async move {
                greenthread::sleep(Duration::from_millis(10)).await;
                let _g = lock.lock().await;
                counter.fetch_add(i as u64, Ordering::Relaxed);
            });
            t.start().expect("start");
            all.push(t);
        }
        let spawn = start.elapsed();
        for t in &all {
            t.join().await.expect("join");
        }
        let total = start.elapsed();
        let expected = (threads as u64) * (threads as u64 - 1) / 2;
        assert_eq!(counter.load(Ordering::Relaxed), expected);
        Row { label, spawn, total }
    })
}

fn main() {
    let threads = 10_000;
    println!("greenthread demo: {threads} Python-style threads (sleep 10 ms, take a Lock)");
    let rows = [
        run_mode("green", Mode::Green, false, threads),
        run_mode("os", Mode::OsThreads, false, threads),
        run_mode("green+gil", Mode::Green, true, threads),
        run_mode("os+gil", Mode::OsThreads, true, threads),
    ];
    println!("{:<10} {:>12} {:>12}", "mode", "spawn", "total");
    for r in &rows {
        println!("{:<10} {:>12.2?} {:>12.2?}", r.label, r.spawn, r.total);
    }
    let speedup = rows[1].total.as_secs_f64() / rows[0].total.as_secs_f64();
    println!("green is {speedup:.1}x faster than OS threads on this run");
}
