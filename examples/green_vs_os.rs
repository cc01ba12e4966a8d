//! The same Python-style program with 10,000 threads, run in Green mode
//! (M:N: every `Thread` a green task on a small worker pool) and in
//! OS-thread mode (1:1: every `Thread` its own OS thread), compared.
//!
//! The program is the tutorial's kind of thread, many times over: each of
//! 10,000 threads sleeps 0.1 s (`time.sleep(0.1)`), then takes a shared
//! `Lock` and adds one to a counter; main starts them all and joins them
//! all. Each thread also notes the OS thread it ran on. Python would need
//! 10,000 OS threads for this; green threads need as many OS threads as the
//! pool has workers. The code is identical in both modes: only the
//! runtime's `Mode` changes.
//!
//! Run it: `cargo run --release --example green_vs_os` (or without
//! `--release`; it takes a few seconds either way)

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use greenthread::{get_native_id, sleep, Lock, Mode, Runtime, Thread};

const THREADS: usize = 10_000;

/// What one run of the program measured.
struct Outcome {
    spawn: Duration,
    total: Duration,
    counter: u64,
    os_threads: usize,
}

/// The program: identical in both modes.
async fn program() -> Outcome {
    let lock = Lock::new();
    let counter = Arc::new(Mutex::new(0u64));
    let native_ids = Arc::new(Mutex::new(HashSet::new()));
    let start = Instant::now();
    let mut threads = Vec::with_capacity(THREADS);
    for _ in 0..THREADS {
        let (lock, counter, native_ids) = (lock.clone(), counter.clone(), native_ids.clone());
        let t = Thread::new(move || async move {
            sleep(Duration::from_millis(100)).await;
            let _guard = lock.lock().await;
            *counter.lock().unwrap() += 1;
            native_ids.lock().unwrap().insert(get_native_id());
        });
        t.start().expect("start a thread");
        threads.push(t);
    }
    let spawn = start.elapsed();
    for t in &threads {
        t.join().await.expect("join a thread");
    }
    let total = start.elapsed();
    let counter = *counter.lock().unwrap();
    let os_threads = native_ids.lock().unwrap().len();
    Outcome {
        spawn,
        total,
        counter,
        os_threads,
    }
}

fn run_in(mode: Mode) -> Outcome {
    let rt = Runtime::builder()
        .mode(mode)
        .build()
        .expect("build a runtime");
    let label = match mode {
        Mode::Green => format!("Green ({} workers)", rt.workers()),
        Mode::OsThreads => "OsThreads".to_string(),
    };
    let out = rt.block_on(program());
    println!(
        "{label:<20} started {THREADS} threads in {:>8.1} ms, all joined after {:>8.1} ms; \
         counter = {}; ran on {} OS threads",
        out.spawn.as_secs_f64() * 1e3,
        out.total.as_secs_f64() * 1e3,
        out.counter,
        out.os_threads,
    );
    out
}

fn main() {
    println!("{THREADS} threads, each: sleep 0.1 s, take a Lock, add 1 to a counter");
    let green = run_in(Mode::Green);
    let os = run_in(Mode::OsThreads);
    assert_eq!(green.counter, THREADS as u64);
    assert_eq!(os.counter, THREADS as u64);
    println!();
    println!(
        "Green vs OsThreads: starting the threads was {:.1}x faster, the whole program {:.1}x \
         faster, on {} OS threads instead of {}",
        os.spawn.as_secs_f64() / green.spawn.as_secs_f64(),
        os.total.as_secs_f64() / green.total.as_secs_f64(),
        green.os_threads,
        os.os_threads,
    );
}
