//! `Lock`: Python's lock_tests scenarios (BaseLockTests, LockTests) plus the
//! ladder: smoke, try, timeout, contention, no-starvation, cancel-by-drop,
//! the cooperative budget, and use from plain threads and foreign executors.

mod support;

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use greenthread::{Lock, LockGuard, SyncError, Thread, TIMEOUT_MAX};
use support::{assert_timeout, counting_waker, wait_until};

fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>, waker: &Waker) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(waker))
}

use support::assert_send;
#[allow(dead_code)]
fn assert_send_sync_clone<T: Send + Sync + Clone + 'static>() {}

/// Every handle, guard and future is `Send` (compile-time check).
#[allow(dead_code)]
fn send_checks(lock: &Lock) {
    assert_send_sync_clone::<Lock>();
    assert_send(&lock.acquire());
    assert_send(&lock.acquire_timeout(Duration::ZERO));
    assert_send(&lock.lock());
}

#[allow(dead_code)]
fn guard_is_send(g: LockGuard<'_>) {
    assert_send(&g);
}

rt_test! {
    /// test_constructor / test_acquire_release / test_acquire_destroy.
    async fn smoke() {
        let lock = Lock::new();
        assert!(!lock.locked());
        lock.acquire().await;
        assert!(lock.locked());
        lock.release().unwrap();
        assert!(!lock.locked());
        lock.acquire().await;
        drop(lock); // dropped while held: fine
        let lock = greenthread::thread::allocate_lock();
        assert!(lock.try_acquire());
        assert_eq!(format!("{lock:?}"), "<locked Lock>");
        lock.release().unwrap();
        assert_eq!(format!("{lock:?}"), "<unlocked Lock>");
    }
}

rt_test! {
    /// test_releasing_unacquired_lock, with Python's message.
    async fn release_unlocked() {
        let lock = Lock::new();
        let err = lock.release().unwrap_err();
        assert_eq!(err, SyncError::ReleaseUnlocked);
        assert_eq!(err.to_string(), "release unlocked lock");
    }
}

rt_test! {
    /// test_try_acquire / test_try_acquire_contended.
    async fn try_acquire_contended() {
        let lock = Lock::new();
        assert!(lock.try_acquire());
        let l = lock.clone();
        let got = greenthread::spawn(async move { l.try_acquire() }).await.unwrap();
        assert!(!got);
        lock.release().unwrap();
    }
}

rt_test! {
    /// test_acquire_contended: 5 threads block; one release lets them all
    /// through, one at a time.
    async fn acquire_contended() {
        let lock = Lock::new();
        lock.acquire().await;
        let finished = Arc::new(AtomicUsize::new(0));
        let started = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for _ in 0..5 {
            let (l, f, s) = (lock.clone(), finished.clone(), started.clone());
            let t = Thread::new(move || async move {
                s.fetch_add(1, Ordering::SeqCst);
                l.acquire().await;
                l.release().unwrap();
                f.fetch_add(1, Ordering::SeqCst);
            });
            t.start().unwrap();
            threads.push(t);
        }
        assert!(wait_until(Duration::from_secs(5), || started.load(Ordering::SeqCst) == 5).await);
        greenthread::sleep(Duration::from_millis(50)).await;
        assert_eq!(finished.load(Ordering::SeqCst), 0);
        lock.release().unwrap();
        for t in threads {
            t.join().await.unwrap();
        }
        assert_eq!(finished.load(Ordering::SeqCst), 5);
        assert!(!lock.locked());
    }
}

rt_test! {
    /// test_with: the guard releases on normal exit and when the thread
    /// panics while holding it.
    async fn guard_releases_on_exit_and_panic() {
        let lock = Lock::new();
        {
            let g = lock.lock().await;
            assert!(lock.locked());
            assert!(g.lock().same(&lock));
        }
        assert!(!lock.locked());
        let l = lock.clone();
        let h = greenthread::spawn(async move {
            let _g = l.lock().await;
            panic!("boom in a thread holding a lock");
        });
        let err = h.await.unwrap_err();
        assert!(err.to_string().contains("boom"));
        assert!(!lock.locked());
        let l = lock.clone();
        assert!(greenthread::spawn(async move { l.try_acquire() }).await.unwrap());
    }
}

rt_test! {
    /// Any thread may release a Python Lock.
    async fn release_from_other_thread() {
        let lock = Lock::new();
        lock.acquire().await;
        let l = lock.clone();
        greenthread::spawn(async move { l.release().unwrap() }).await.unwrap();
        assert!(!lock.locked());
    }
}

rt_test! {
    /// LockTests.test_reacquire: not re-entrant — a second acquire by the
    /// holder waits until another thread releases.
    async fn reacquire_blocks() {
        let lock = Lock::new();
        let phase = Arc::new(AtomicUsize::new(0));
        let (l, p) = (lock.clone(), phase.clone());
        let t = Thread::new(move || async move {
            l.acquire().await;
            p.store(1, Ordering::SeqCst);
            l.acquire().await;
            p.store(2, Ordering::SeqCst);
        });
        t.start().unwrap();
        assert!(wait_until(Duration::from_secs(5), || phase.load(Ordering::SeqCst) == 1).await);
        greenthread::sleep(Duration::from_millis(20)).await;
        assert_eq!(phase.load(Ordering::SeqCst), 1);
        lock.release().unwrap();
        t.join().await.unwrap();
        assert_eq!(phase.load(Ordering::SeqCst), 2);
        assert!(lock.locked());
    }
}

rt_test! {
    /// test_timeout: huge timeouts are accepted on a free lock; a contended
    /// timed acquire from another thread fails after about the timeout.
    async fn timeout() {
        let lock = Lock::new();
        assert!(lock.acquire_timeout(TIMEOUT_MAX).await);
        lock.release().unwrap();
        assert!(lock.acquire_timeout(Duration::MAX).await);
        lock.release().unwrap();
        let start = Instant::now();
        assert!(lock.acquire_timeout(Duration::from_secs(5)).await);
        assert!(start.elapsed() < Duration::from_secs(5));
        // Held now; another thread times out.
        let l = lock.clone();
        let (ok, start) = greenthread::spawn(async move {
            let start = Instant::now();
            (l.acquire_timeout(Duration::from_millis(300)).await, start)
        })
        .await
        .unwrap();
        assert!(!ok);
        assert_timeout(start, Duration::from_millis(300));
        // Zero: one non-blocking try.
        assert!(!lock.acquire_timeout(Duration::ZERO).await);
        lock.release().unwrap();
        assert!(lock.acquire_timeout(Duration::ZERO).await);
        lock.release().unwrap();
    }
}

rt_test! {
    /// test_state_after_timeout.
    async fn state_after_timeout() {
        let lock = Lock::new();
        lock.acquire().await;
        assert!(!lock.acquire_timeout(Duration::from_millis(10)).await);
        lock.release().unwrap();
        assert!(!lock.locked());
        assert!(lock.try_acquire());
    }
}

rt_test! {
    /// Contention: 200 threads × 200 increments of an unsynchronised
    /// (load/store) counter under the lock: the total is exact.
    async fn stress_exact_total() {
        const THREADS: usize = 200;
        const ITERS: usize = 200;
        let lock = Lock::new();
        let counter = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for i in 0..THREADS {
            let (l, c) = (lock.clone(), counter.clone());
            let t = Thread::new(move || async move {
                for j in 0..ITERS {
                    if (i + j) % 3 == 0 {
                        let _g = l.lock().await;
                        let v = c.load(Ordering::Relaxed);
                        greenthread::yield_now().await; // hold across a switch
                        c.store(v + 1, Ordering::Relaxed);
                    } else {
                        l.acquire().await;
                        let v = c.load(Ordering::Relaxed);
                        c.store(v + 1, Ordering::Relaxed);
                        l.release().unwrap();
                    }
                }
            });
            t.start().unwrap();
            threads.push(t);
        }
        for t in threads {
            t.join().await.unwrap();
        }
        assert_eq!(counter.load(Ordering::SeqCst), THREADS * ITERS);
        assert!(!lock.locked());
    }
}

rt_test! {
    /// SPEC 10.15: a waiter gets the lock within a bounded time while another
    /// thread releases and re-acquires it in a tight loop.
    async fn no_starvation() {
        let lock = Lock::new();
        let stop = Arc::new(AtomicBool::new(false));
        let spins = Arc::new(AtomicUsize::new(0));
        let (l, s, n) = (lock.clone(), stop.clone(), spins.clone());
        let hog = greenthread::spawn(async move {
            let start = Instant::now();
            while !s.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(10) {
                l.acquire().await;
                n.fetch_add(1, Ordering::Relaxed);
                l.release().unwrap();
            }
        });
        assert!(wait_until(Duration::from_secs(5), || spins.load(Ordering::Relaxed) > 100).await);
        let l = lock.clone();
        let waited = greenthread::spawn(async move {
            let start = Instant::now();
            l.acquire().await;
            let waited = start.elapsed();
            l.release().unwrap();
            waited
        })
        .await
        .unwrap();
        stop.store(true, Ordering::SeqCst);
        hog.await.unwrap();
        // The hog holds on for 10 s if the waiter is starved.
        assert!(waited < Duration::from_secs(5), "waited {waited:?} for a hogged lock");
    }
}

rt_test! {
    /// SPEC 10.14: with one worker, a loop on an uncontended lock still lets
    /// a sleeping thread run (the cooperative budget).
    async fn budget_yields() {
        let lock = Lock::new();
        let flag = Arc::new(AtomicBool::new(false));
        let spinning = Arc::new(AtomicBool::new(false));
        let (f, sp) = (flag.clone(), spinning.clone());
        let sleeper = greenthread::spawn(async move {
            // The sleep starts once the loop runs (an OS thread may start
            // later than 5 ms on a loaded machine).
            while !sp.load(Ordering::SeqCst) {
                greenthread::sleep(Duration::from_millis(1)).await;
            }
            greenthread::sleep(Duration::from_millis(5)).await;
            f.store(true, Ordering::SeqCst);
        });
        let (l, f, sp) = (lock.clone(), flag.clone(), spinning.clone());
        let spins = greenthread::spawn(async move {
            let start = Instant::now();
            let mut spins = 0u64;
            while !f.load(Ordering::SeqCst) {
                assert!(start.elapsed() < Duration::from_secs(10), "the sleeper never ran");
                l.acquire().await;
                l.release().unwrap();
                spins += 1;
                sp.store(true, Ordering::SeqCst);
            }
            spins
        })
        .await
        .unwrap();
        sleeper.await.unwrap();
        assert!(spins > 0);
    }
}

/// Cancel by drop: the notified waiter is dropped; its wake-up goes to the
/// next waiter, and nothing is leaked.
#[test]
fn cancel_passes_wakeup_on() {
    let lock = Lock::new();
    assert!(lock.try_acquire());
    let (ca, wa) = counting_waker();
    let (cb, wb) = counting_waker();
    let mut a = Box::pin(lock.acquire());
    let mut b = pin!(lock.acquire());
    assert!(poll_once(a.as_mut(), &wa).is_pending());
    assert!(poll_once(b.as_mut(), &wb).is_pending());
    lock.release().unwrap();
    assert_eq!(ca.0.load(Ordering::SeqCst), 1, "the first waiter is woken");
    assert_eq!(cb.0.load(Ordering::SeqCst), 0, "only one is woken");
    drop(a);
    assert_eq!(
        cb.0.load(Ordering::SeqCst),
        1,
        "the dropped waiter passed its wake-up on"
    );
    assert!(poll_once(b.as_mut(), &wb).is_ready());
    assert!(lock.locked());
    lock.release().unwrap();
    // A timed acquire dropped while pending leaves nothing behind.
    assert!(lock.try_acquire());
    let mut t = Box::pin(lock.acquire_timeout(Duration::from_secs(60)));
    assert!(poll_once(t.as_mut(), &wa).is_pending());
    drop(t);
    lock.release().unwrap();
    assert!(lock.try_acquire());
    lock.release().unwrap();
}

/// Pending → woken → Ready with a counting waker; no extra wake-ups.
#[test]
fn poll_by_hand() {
    let lock = Lock::new();
    let (c, w) = counting_waker();
    let mut f = Box::pin(lock.acquire());
    assert!(poll_once(f.as_mut(), &w).is_ready());
    let mut g = Box::pin(lock.acquire());
    assert!(poll_once(g.as_mut(), &w).is_pending());
    assert!(poll_once(g.as_mut(), &w).is_pending());
    assert_eq!(c.0.load(Ordering::SeqCst), 0);
    lock.release().unwrap();
    assert_eq!(c.0.load(Ordering::SeqCst), 1);
    assert!(poll_once(g.as_mut(), &w).is_ready());
    assert!(lock.locked());
}

/// Plain OS threads with `greenthread::block_on`, no runtime.
#[test]
fn std_threads_block_on() {
    let lock = Lock::new();
    let counter = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let (l, c) = (lock.clone(), counter.clone());
            std::thread::spawn(move || {
                greenthread::block_on(async move {
                    for _ in 0..2000 {
                        l.acquire().await;
                        let v = c.load(Ordering::Relaxed);
                        c.store(v + 1, Ordering::Relaxed);
                        l.release().unwrap();
                    }
                    assert!(!l.acquire_timeout(Duration::ZERO).await || l.release().is_ok());
                })
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::SeqCst), 8000);
    // A timed acquire under `block_on` on a held lock times out.
    assert!(lock.try_acquire());
    let start = Instant::now();
    assert!(!greenthread::block_on(
        lock.acquire_timeout(Duration::from_millis(50))
    ));
    assert_timeout(start, Duration::from_millis(50));
    lock.release().unwrap();
}

/// Inside a tokio multi-thread runtime.
#[test]
fn inside_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let lock = Lock::new();
    let counter = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (l, c) = (lock.clone(), counter.clone());
            tasks.push(tokio::spawn(async move {
                for _ in 0..1000 {
                    let _g = l.lock().await;
                    let v = c.load(Ordering::Relaxed);
                    c.store(v + 1, Ordering::Relaxed);
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        lock.acquire().await;
        let start = Instant::now();
        assert!(!lock.acquire_timeout(Duration::from_millis(50)).await);
        assert_timeout(start, Duration::from_millis(50));
        lock.release().unwrap();
    });
    assert_eq!(counter.load(Ordering::SeqCst), 8000);
}

/// Inside async-executor, one runner per core.
#[test]
fn inside_async_executor() {
    let ex = Arc::new(async_executor::Executor::new());
    let (stop_tx, stop_rx) = async_channel::bounded::<()>(1);
    let runners: Vec<_> = (0..2)
        .map(|_| {
            let (ex, rx) = (ex.clone(), stop_rx.clone());
            std::thread::spawn(move || futures::executor::block_on(ex.run(rx.recv())))
        })
        .collect();
    let lock = Lock::new();
    let counter = Arc::new(AtomicUsize::new(0));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (l, c) = (lock.clone(), counter.clone());
            ex.spawn(async move {
                for _ in 0..1000 {
                    l.acquire().await;
                    let v = c.load(Ordering::Relaxed);
                    c.store(v + 1, Ordering::Relaxed);
                    l.release().unwrap();
                }
            })
        })
        .collect();
    futures::executor::block_on(async {
        for t in tasks {
            t.await;
        }
    });
    drop(stop_tx);
    for r in runners {
        let _ = r.join().unwrap();
    }
    assert_eq!(counter.load(Ordering::SeqCst), 8000);
}
