//! Time: `sleep` never returns early, `timeout`, `yield_now`,
//! `TIMEOUT_MAX` and `Duration::MAX` never panic (SPEC §10.6), and timers
//! work in every mode, under plain `block_on`, inside tokio and inside
//! async-executor (SPEC §2).

mod support;

use std::future::{pending, ready};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use greenthread::{sleep, spawn, timeout, yield_now, Elapsed, Thread, TIMEOUT_MAX};
use support::assert_timeout;

/// Sleeps `d` and checks it was never early (and not absurdly late).
async fn check_sleep(d: Duration) {
    let start = Instant::now();
    sleep(d).await;
    let dt = start.elapsed();
    assert!(dt >= d, "sleep({d:?}) returned after {dt:?}");
    assert!(
        dt < d * 10 + Duration::from_secs(10),
        "sleep({d:?}) took {dt:?}"
    );
}

rt_test! {
    /// Never early, in the main thread and in green threads, for zero,
    /// sub-millisecond and millisecond durations.
    async fn sleep_never_early() {
        for d in [0u64, 1, 100, 999, 1_000, 1_500, 5_000, 20_000] {
            check_sleep(Duration::from_micros(d)).await;
        }
        let mut handles = Vec::new();
        for i in 0..20u64 {
            handles.push(spawn(check_sleep(Duration::from_micros(i * 700))));
        }
        for h in handles {
            h.await.unwrap();
        }
    }
}

rt_test! {
    /// Concurrent sleepers overlap: 50 × 100 ms sleeps take ≈100 ms, not 5 s.
    async fn sleeps_overlap() {
        let start = Instant::now();
        // `spawn`, not `Thread`: `check_sleep`'s asserts must fail the test,
        // not just reach the excepthook.
        let handles: Vec<_> = (0..50)
            .map(|_| spawn(check_sleep(Duration::from_millis(100))))
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        let dt = start.elapsed();
        assert!(dt >= Duration::from_millis(100));
        assert!(dt < Duration::from_millis(2_500), "sleeps did not overlap: {dt:?}");
    }
}

rt_test! {
    /// timeout: a ready future wins even with a zero duration; a pending one
    /// times out after ≈T; an inner future finishing first wins.
    async fn timeouts() {
        assert_eq!(timeout(Duration::ZERO, ready(5)).await, Ok(5));
        let start = Instant::now();
        let r = timeout(Duration::from_millis(100), pending::<()>()).await;
        assert_eq!(r, Err::<(), Elapsed>(timeout_err().await));
        assert_timeout(start, Duration::from_millis(100));
        assert_eq!(r.unwrap_err().to_string(), "timed out");
        let start = Instant::now();
        let r = timeout(Duration::from_secs(60), async {
            sleep(Duration::from_millis(10)).await;
            7
        })
        .await;
        assert_eq!(r, Ok(7));
        assert!(start.elapsed() < Duration::from_secs(30));
        // A timed-out inner future is dropped.
        let dropped = Arc::new(AtomicUsize::new(0));
        struct D(Arc<AtomicUsize>);
        impl Drop for D {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::SeqCst);
            }
        }
        let d = D(dropped.clone());
        let _ = timeout(Duration::from_millis(1), async move {
            let _d = d;
            pending::<()>().await
        })
        .await;
        assert_eq!(dropped.load(Ordering::SeqCst), 1);
    }
}

/// An `Elapsed` value (its constructor is private).
async fn timeout_err() -> Elapsed {
    timeout(Duration::ZERO, pending::<()>()).await.unwrap_err()
}

rt_test! {
    /// §10.6: TIMEOUT_MAX and Duration::MAX are accepted everywhere and
    /// never panic (clamped).
    async fn huge_durations() {
        assert!(TIMEOUT_MAX > Duration::from_secs(3600 * 24 * 365));
        for d in [TIMEOUT_MAX, TIMEOUT_MAX + Duration::from_secs(1), Duration::MAX] {
            assert_eq!(timeout(d, ready(1)).await, Ok(1));
            assert_eq!(timeout(d, async { sleep(Duration::from_millis(1)).await; 2 }).await, Ok(2));
            // A huge sleep under a short timeout: times out, no panic.
            let r = timeout(Duration::from_millis(5), sleep(d)).await;
            assert!(r.is_err());
            // join_timeout with a huge duration on a finished thread.
            let t = Thread::new(|| async {});
            t.start().unwrap();
            t.join_timeout(d).await.unwrap();
            assert!(!t.is_alive());
            // A Timer with a huge interval: it waits, then is cancelled and
            // its target never runs.
            let fired = Arc::new(AtomicBool::new(false));
            let f = fired.clone();
            let timer = greenthread::Timer::new(d, move || async move { f.store(true, Ordering::SeqCst) });
            timer.start().unwrap();
            sleep(Duration::from_millis(5)).await;
            assert!(timer.is_alive(), "still waiting out its interval");
            timer.cancel();
            timer.join().await.unwrap();
            assert!(!fired.load(Ordering::SeqCst));
            // The primitives' timeouts.
            let lock = greenthread::Lock::new();
            assert!(lock.acquire_timeout(d).await);
            lock.release().unwrap();
            let ev = greenthread::Event::new();
            ev.set();
            assert!(ev.wait_timeout(d).await);
        }
        // A huge sleep dropped after one poll.
        let mut s = std::pin::pin!(sleep(Duration::MAX));
        let waker = std::task::Waker::noop();
        assert!(s.as_mut().poll(&mut std::task::Context::from_waker(waker)).is_pending());
    }
}

use std::future::Future;

rt_test! {
    /// yield_now returns, and many dropped sleeps do not disturb later ones.
    async fn yield_and_cancelled_sleeps() {
        for _ in 0..10 {
            yield_now().await;
        }
        for i in 0..1_000u64 {
            let r = timeout(Duration::ZERO, sleep(Duration::from_millis(50 + i))).await;
            assert!(r.is_err());
        }
        check_sleep(Duration::from_millis(5)).await;
    }
}

/// Timers under plain block_on, from several OS threads at once.
#[test]
fn timers_under_block_on() {
    let threads: Vec<_> = (0..8u64)
        .map(|i| {
            std::thread::spawn(move || {
                greenthread::block_on(async move {
                    check_sleep(Duration::from_millis(5 + i)).await;
                    let start = Instant::now();
                    assert!(timeout(Duration::from_millis(50), pending::<()>())
                        .await
                        .is_err());
                    assert_timeout(start, Duration::from_millis(50));
                    yield_now().await;
                });
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Timers inside tokio (multi-thread and current-thread runtimes).
#[test]
fn timers_inside_tokio() {
    let mt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    mt.block_on(async {
        let tasks: Vec<_> = (0..10u64)
            .map(|i| tokio::spawn(check_sleep(Duration::from_millis(i * 3))))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let start = Instant::now();
        assert!(timeout(Duration::from_millis(50), pending::<()>())
            .await
            .is_err());
        assert_timeout(start, Duration::from_millis(50));
    });
    let ct = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    ct.block_on(async {
        check_sleep(Duration::from_millis(10)).await;
        yield_now().await;
        let a = tokio::spawn(check_sleep(Duration::from_millis(20)));
        check_sleep(Duration::from_millis(5)).await;
        a.await.unwrap();
    });
}

/// Timers inside async-executor.
#[test]
fn timers_inside_async_executor() {
    let ex = async_executor::Executor::new();
    let tasks: Vec<_> = (0..10u64)
        .map(|i| ex.spawn(check_sleep(Duration::from_millis(i * 2))))
        .collect();
    greenthread::block_on(ex.run(async {
        for t in tasks {
            t.await;
        }
        let start = Instant::now();
        assert!(timeout(Duration::from_millis(50), pending::<()>())
            .await
            .is_err());
        assert_timeout(start, Duration::from_millis(50));
    }));
    // And driven by async-io's block_on (a foreign parker).
    async_io::block_on(async {
        check_sleep(Duration::from_millis(10)).await;
    });
}

rt_test! {
    /// Many timers with the same deadline all fire.
    async fn same_deadline() {
        let fired = Arc::new(AtomicUsize::new(0));
        let deadline = Instant::now() + Duration::from_millis(30);
        let mut handles = Vec::new();
        for _ in 0..200 {
            let f = fired.clone();
            handles.push(spawn(async move {
                sleep(deadline.saturating_duration_since(Instant::now())).await;
                assert!(Instant::now() >= deadline);
                f.fetch_add(1, Ordering::SeqCst);
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        assert_eq!(fired.load(Ordering::SeqCst), 200);
    }
}
