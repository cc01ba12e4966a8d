//! Scale: 100,000 green threads sleeping at the same time, and 1,000,000
//! threads spawned and joined (in batches, so memory stays bounded) — issue
//! 2's scale tests. Sized to pass in a debug `cargo test` on 2 shared
//! cores; both tests run one after the other (`SERIAL`) to not compete.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use greenthread::{active_count, sleep, spawn, Runtime, Thread};

static SERIAL: Mutex<()> = Mutex::new(());

fn runtime() -> Runtime {
    Runtime::builder().workers(2).build().unwrap()
}

/// 100,000 Threads all asleep at once: every one of them has entered its
/// sleep before the first wakes, and the whole run takes about one sleep,
/// not 100,000.
#[test]
fn hundred_thousand_sleepers() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    const N: usize = 100_000;
    // Long enough that even a slow debug build starts them all first.
    const NAP: Duration = Duration::from_secs(8);
    let asleep = Arc::new(AtomicUsize::new(0));
    let woke = Arc::new(AtomicUsize::new(0));
    let (a, w) = (asleep.clone(), woke.clone());
    let start = Instant::now();
    runtime().block_on(async move {
        let mut threads = Vec::with_capacity(N);
        for _ in 0..N {
            let (a, w) = (a.clone(), w.clone());
            let t = Thread::new(move || async move {
                a.fetch_add(1, Ordering::Relaxed);
                sleep(NAP).await;
                w.fetch_add(1, Ordering::Relaxed);
            });
            t.start().unwrap();
            threads.push(t);
        }
        assert_eq!(active_count(), N + 1);
        // Wait (sleeping) until all are asleep.
        while a.load(Ordering::Relaxed) < N {
            sleep(Duration::from_millis(10)).await;
        }
        let woke_early = w.load(Ordering::Relaxed);
        assert_eq!(woke_early, 0, "a sleeper woke before the last one slept");
        for t in &threads {
            t.join().await.unwrap();
        }
        assert_eq!(w.load(Ordering::Relaxed), N);
        assert_eq!(active_count(), 1);
    });
    let dt = start.elapsed();
    assert_eq!(asleep.load(Ordering::Relaxed), N);
    assert!(dt >= NAP);
    assert!(dt < NAP * 10, "took {dt:?}: the sleeps did not overlap");
}

/// 1,000,000 threads spawned and joined, in batches of 10,000 alive at
/// once.
#[test]
fn million_spawned_and_joined() {
    let _s = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    const N: u64 = 1_000_000;
    const BATCH: u64 = 10_000;
    let sum = runtime().block_on(async {
        let mut sum = 0u64;
        let mut handles = Vec::with_capacity(BATCH as usize);
        for batch in 0..N / BATCH {
            for i in 0..BATCH {
                handles.push(spawn(async move { batch * BATCH + i }));
            }
            for h in handles.drain(..) {
                sum += h.await.unwrap();
            }
        }
        assert_eq!(active_count(), 1, "every thread left the registry");
        sum
    });
    assert_eq!(sum, N * (N - 1) / 2);
}
