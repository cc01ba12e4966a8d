//! `Semaphore` and `BoundedSemaphore`: lock_tests' BaseSemaphoreTests,
//! SemaphoreTests and BoundedSemaphoreTests, plus contention, fairness and
//! cancel-by-drop.

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use greenthread::{BoundedSemaphore, Semaphore, SyncError, Thread};
use support::{assert_timeout, wait_until};

use support::assert_send;

#[allow(dead_code)]
fn send_checks(s: &Semaphore, b: &BoundedSemaphore) {
    fn sync_clone<T: Send + Sync + Clone>() {}
    sync_clone::<Semaphore>();
    sync_clone::<BoundedSemaphore>();
    assert_send(&s.acquire());
    assert_send(&s.acquire_timeout(Duration::ZERO));
    assert_send(&b.acquire());
    assert_send(&b.acquire_timeout(Duration::ZERO));
}

rt_test! {
    /// test_acquire / test_try_acquire / test_multirelease / test_repr.
    async fn smoke() {
        let s = Semaphore::new(2);
        s.acquire().await;
        assert!(s.try_acquire());
        assert!(!s.try_acquire());
        assert_eq!(s.value(), 0);
        s.release(1);
        assert!(s.try_acquire());
        s.release(7);
        assert_eq!(s.value(), 7);
        for _ in 0..7 {
            s.acquire().await;
        }
        assert!(!s.try_acquire());
        s.release(0); // no-op
        assert_eq!(s.value(), 0);
        let s = Semaphore::new(3);
        assert_eq!(format!("{s:?}"), "<Semaphore: value=3>");
        s.acquire().await;
        assert_eq!(format!("{s:?}"), "<Semaphore: value=2>");
        s.release(1);
        s.release(1);
        assert_eq!(format!("{s:?}"), "<Semaphore: value=4>", "unbounded");
    }
}

rt_test! {
    /// test_acquire_timeout.
    async fn timeout() {
        let s = Semaphore::new(2);
        assert!(s.acquire_timeout(Duration::from_millis(5)).await);
        assert!(s.acquire_timeout(Duration::from_millis(5)).await);
        assert!(!s.acquire_timeout(Duration::from_millis(5)).await);
        s.release(1);
        assert!(s.acquire_timeout(Duration::from_millis(5)).await);
        let start = Instant::now();
        assert!(!s.acquire_timeout(Duration::from_millis(300)).await);
        assert_timeout(start, Duration::from_millis(300));
        assert!(!s.acquire_timeout(Duration::ZERO).await);
        s.release(1);
        assert!(s.acquire_timeout(Duration::MAX).await);
    }
}

rt_test! {
    /// test_default_value / test_acquire_contended: a waiter blocks until a
    /// release.
    async fn blocks_until_release() {
        let s = Semaphore::new(1);
        s.acquire().await;
        let done = Arc::new(AtomicBool::new(false));
        let (s2, d) = (s.clone(), done.clone());
        let t = Thread::new(move || async move {
            s2.acquire().await;
            d.store(true, Ordering::SeqCst);
            s2.release(1);
        });
        t.start().unwrap();
        greenthread::sleep(Duration::from_millis(20)).await;
        assert!(!done.load(Ordering::SeqCst));
        s.release(1);
        t.join().await.unwrap();
        assert!(done.load(Ordering::SeqCst));
        assert_eq!(s.value(), 1);
    }
}

rt_test! {
    /// release(n) wakes n waiters at once.
    async fn release_n_wakes_n() {
        let s = Semaphore::new(0);
        let passed = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for _ in 0..10 {
            let (s, p) = (s.clone(), passed.clone());
            let t = Thread::new(move || async move {
                s.acquire().await;
                p.fetch_add(1, Ordering::SeqCst);
            });
            t.start().unwrap();
            threads.push(t);
        }
        greenthread::sleep(Duration::from_millis(20)).await;
        s.release(6);
        assert!(wait_until(Duration::from_secs(5), || passed.load(Ordering::SeqCst) == 6).await);
        greenthread::sleep(Duration::from_millis(20)).await;
        assert_eq!(passed.load(Ordering::SeqCst), 6);
        s.release(4);
        for t in threads {
            t.join().await.unwrap();
        }
        assert_eq!(s.value(), 0);
    }
}

rt_test! {
    /// BoundedSemaphoreTests.test_release_unacquired / test_repr, SPEC 10.7.
    async fn bounded() {
        let b = BoundedSemaphore::new(1);
        let e = b.release(1).unwrap_err();
        assert_eq!(e, SyncError::TooManyReleases);
        assert_eq!(e.to_string(), "Semaphore released too many times");
        b.acquire().await;
        b.release(1).unwrap();
        assert_eq!(b.release(1), Err(SyncError::TooManyReleases));
        assert_eq!(b.value(), 1, "unchanged by the failed release");
        let b = BoundedSemaphore::new(3);
        assert_eq!(format!("{b:?}"), "<BoundedSemaphore: value=3/3>");
        b.acquire().await;
        assert_eq!(format!("{b:?}"), "<BoundedSemaphore: value=2/3>");
        b.acquire().await;
        assert_eq!(b.release(3), Err(SyncError::TooManyReleases));
        assert_eq!(b.value(), 1);
        b.release(2).unwrap();
        b.release(0).unwrap();
        let z = BoundedSemaphore::new(0);
        assert_eq!(z.release(1), Err(SyncError::TooManyReleases));
        assert!(!z.try_acquire());
        assert!(!z.acquire_timeout(Duration::from_millis(5)).await);
    }
}

rt_test! {
    /// Contention: Semaphore(5) × 100 threads × 100 iterations; never more
    /// than 5 inside, exact total, value restored.
    async fn stress() {
        let s = BoundedSemaphore::new(5);
        let inside = Arc::new(AtomicUsize::new(0));
        let total = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for _ in 0..100 {
            let (s, i, t) = (s.clone(), inside.clone(), total.clone());
            threads.push(greenthread::spawn(async move {
                for k in 0..100 {
                    s.acquire().await;
                    assert!(i.fetch_add(1, Ordering::SeqCst) < 5);
                    if k % 10 == 0 {
                        greenthread::yield_now().await;
                    }
                    i.fetch_sub(1, Ordering::SeqCst);
                    t.fetch_add(1, Ordering::SeqCst);
                    s.release(1).unwrap();
                }
            }));
        }
        for t in threads {
            t.await.unwrap();
        }
        assert_eq!(total.load(Ordering::SeqCst), 10_000);
        assert_eq!(s.value(), 5);
    }
}

rt_test! {
    /// No starvation: a waiter gets a unit while others hog the semaphore.
    async fn no_starvation() {
        let s = Semaphore::new(1);
        let stop = Arc::new(AtomicBool::new(false));
        let mut hogs = Vec::new();
        for _ in 0..2 {
            let (s, stop) = (s.clone(), stop.clone());
            hogs.push(greenthread::spawn(async move {
                let start = Instant::now();
                while !stop.load(Ordering::SeqCst) && start.elapsed() < Duration::from_secs(10) {
                    s.acquire().await;
                    s.release(1);
                }
            }));
        }
        greenthread::sleep(Duration::from_millis(10)).await;
        let s2 = s.clone();
        let waited = greenthread::spawn(async move {
            let start = Instant::now();
            s2.acquire().await;
            let w = start.elapsed();
            s2.release(1);
            w
        })
        .await
        .unwrap();
        stop.store(true, Ordering::SeqCst);
        for h in hogs {
            h.await.unwrap();
        }
        // The hogs go on for 10 s if the waiter is starved.
        assert!(waited < Duration::from_secs(5), "waited {waited:?}");
    }
}

use support::Counting;

/// Cancel by drop: no permit is lost; a notified, dropped waiter passes its
/// wake-up on.
#[test]
fn cancel_by_drop() {
    let s = Semaphore::new(0);
    let (ca, cb) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
    let (wa, wb) = (Waker::from(ca.clone()), Waker::from(cb.clone()));
    let mut a = Box::pin(s.acquire());
    let mut b = Box::pin(s.acquire_timeout(Duration::from_secs(60)));
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    s.release(1);
    assert_eq!(ca.0.load(Ordering::SeqCst), 1);
    assert_eq!(cb.0.load(Ordering::SeqCst), 0);
    drop(a);
    assert_eq!(cb.0.load(Ordering::SeqCst), 1);
    assert_eq!(s.value(), 1, "the permit is still there");
    assert!(matches!(
        b.as_mut().poll(&mut Context::from_waker(&wb)),
        std::task::Poll::Ready(true)
    ));
    assert_eq!(s.value(), 0);
    // Dropping every waiter leaves the count intact.
    let mut c = Box::pin(s.acquire());
    assert!(c.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    drop(c);
    s.release(2);
    assert_eq!(s.value(), 2);
}

/// The starvation hand-off, step by step (found by tests/prop_sync.rs): a
/// waiter woken for a permit a running thread took becomes starved; another
/// waiter, held back by the reservation, waits again; once the starved one
/// takes its permit, the one left free must wake the other. It used to be
/// passed on to nobody (the held-back waiter was the only other one).
#[test]
fn starved_hand_off_wakes_the_held_back_waiter() {
    let s = Semaphore::new(0);
    let (ca, cb) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
    let (wa, wb) = (Waker::from(ca.clone()), Waker::from(cb.clone()));
    let mut a = Box::pin(s.acquire_timeout(Duration::from_secs(60)));
    let mut b = Box::pin(s.acquire_timeout(Duration::from_secs(60)));
    let woken = |c: &Counting| c.0.load(Ordering::SeqCst);
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    // Long enough that `a` counts as starved at its next fruitless wake-up.
    std::thread::sleep(Duration::from_millis(5));
    s.release(1);
    assert!(s.try_acquire(), "a running thread barges in");
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    s.release(1);
    s.release(1);
    let b_woken = woken(&cb);
    if b_woken > 0 {
        // Woken early: it finds the permits reserved for `a` and waits.
        assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    }
    assert!(
        woken(&ca) >= 2,
        "the starved waiter is woken for the permits"
    );
    assert!(matches!(
        a.as_mut().poll(&mut Context::from_waker(&wa)),
        Poll::Ready(true)
    ));
    assert_eq!(s.value(), 1);
    assert!(
        woken(&cb) > b_woken,
        "the permit the starved waiter left wakes the held-back one"
    );
    assert!(matches!(
        b.as_mut().poll(&mut Context::from_waker(&wb)),
        Poll::Ready(true)
    ));
    assert_eq!(s.value(), 0);
}

/// From plain OS threads with block_on.
#[test]
fn std_threads() {
    let s = Semaphore::new(2);
    let inside = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..6)
        .map(|_| {
            let (s, i) = (s.clone(), inside.clone());
            std::thread::spawn(move || {
                greenthread::block_on(async move {
                    for _ in 0..500 {
                        s.acquire().await;
                        assert!(i.fetch_add(1, Ordering::SeqCst) < 2);
                        i.fetch_sub(1, Ordering::SeqCst);
                        s.release(1);
                    }
                })
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    assert_eq!(s.value(), 2);
}

/// Starts `n` threads that each take `sem` twice, counting each take in
/// `taken` (lock_tests' BaseSemaphoreTests.test_acquire_contended shape).
fn twice_takers(sem: &Semaphore, n: usize, taken: &Arc<AtomicUsize>) -> Vec<Thread> {
    (0..n)
        .map(|_| {
            let (s, t) = (sem.clone(), taken.clone());
            let th = Thread::new(move || async move {
                s.acquire().await;
                t.fetch_add(1, Ordering::SeqCst);
                s.acquire().await;
                t.fetch_add(1, Ordering::SeqCst);
            });
            // Daemons: a lost wake-up fails the test instead of hanging the
            // runtime's shutdown.
            th.set_daemon(true).unwrap();
            th.start().unwrap();
            th
        })
        .collect()
}

rt_test! {
    /// CPython's test_acquire_contended: seven release(1) in a row, with no
    /// switch between them, meet ten waiters and let seven through (SPEC
    /// 10.26). A waiter that was notified but had not run yet used to absorb
    /// the notifications of the releases after it: 8 takes, forever.
    async fn release_burst_wakes_as_many() {
        let sem = Semaphore::new(7);
        sem.acquire().await;
        let taken = Arc::new(AtomicUsize::new(0));
        let threads = twice_takers(&sem, 10, &taken);
        let count = || taken.load(Ordering::SeqCst);
        assert!(wait_until(Duration::from_secs(10), || count() >= 6).await);
        greenthread::sleep(Duration::from_millis(10)).await;
        assert_eq!(count(), 6, "six permits, six takes");
        for _ in 0..7 {
            sem.release(1);
        }
        let through = wait_until(Duration::from_secs(10), || count() == 13).await;
        assert!(
            through,
            "7 releases let 7 waiters through: {} taken, value {}",
            count(),
            sem.value()
        );
        assert_eq!(sem.value(), 0);
        sem.release(7);
        for t in threads {
            t.join().await.unwrap();
        }
        assert_eq!(count(), 20);
    }
}

rt_test! {
    /// CPython's test_multirelease: release(7) then release(6) in bursts.
    async fn multirelease_bursts() {
        let sem = Semaphore::new(7);
        sem.acquire().await;
        let taken = Arc::new(AtomicUsize::new(0));
        let threads = twice_takers(&sem, 10, &taken);
        let count = || taken.load(Ordering::SeqCst);
        assert!(wait_until(Duration::from_secs(10), || count() >= 6).await);
        sem.release(7);
        let first = wait_until(Duration::from_secs(10), || count() == 13).await;
        assert!(first, "release(7): {} taken, value {}", count(), sem.value());
        sem.release(6);
        let second = wait_until(Duration::from_secs(10), || count() == 19).await;
        assert!(second, "release(6): {} taken, value {}", count(), sem.value());
        sem.release(1);
        for t in threads {
            t.join().await.unwrap();
        }
        assert_eq!(count(), 20);
    }
}

rt_test! {
    /// A BoundedSemaphore fully taken, five waiters, five release(1) in a
    /// row: all five get through.
    async fn bounded_release_burst() {
        let b = BoundedSemaphore::new(5);
        for _ in 0..5 {
            b.acquire().await;
        }
        let passed = Arc::new(AtomicUsize::new(0));
        let threads: Vec<Thread> = (0..5)
            .map(|_| {
                let (b, p) = (b.clone(), passed.clone());
                let t = Thread::new(move || async move {
                    b.acquire().await;
                    p.fetch_add(1, Ordering::SeqCst);
                });
                t.set_daemon(true).unwrap();
                t.start().unwrap();
                t
            })
            .collect();
        greenthread::sleep(Duration::from_millis(20)).await;
        for _ in 0..5 {
            b.release(1).unwrap();
        }
        let through =
            wait_until(Duration::from_secs(10), || passed.load(Ordering::SeqCst) == 5).await;
        assert!(through, "{} of 5 passed", passed.load(Ordering::SeqCst));
        for t in threads {
            t.join().await.unwrap();
        }
        assert_eq!(b.value(), 0);
    }
}
