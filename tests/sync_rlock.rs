//! `RLock`: lock_tests' RLockTests (re-entrancy, ownership, recursion
//! count, locked), plus contention and cancel-by-drop.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use greenthread::{RLock, RLockGuard, SyncError, Thread};
use support::assert_timeout;

use support::assert_send;

#[allow(dead_code)]
fn send_checks(l: &RLock, g: RLockGuard<'_>) {
    fn sync_clone<T: Send + Sync + Clone>() {}
    sync_clone::<RLock>();
    assert_send(&l.acquire());
    assert_send(&l.acquire_timeout(Duration::ZERO));
    assert_send(&l.lock());
    assert_send(&g);
}

rt_test! {
    /// RLockTests.test_reacquire, test_locked, test_recursion_count.
    async fn reentrant() {
        let l = RLock::new();
        assert!(!l.locked());
        assert_eq!(l.recursion_count(), 0);
        l.acquire().await;
        assert_eq!(l.recursion_count(), 1);
        l.acquire().await;
        l.acquire().await;
        assert_eq!(l.recursion_count(), 3);
        assert!(l.locked());
        l.release().unwrap();
        assert_eq!(l.recursion_count(), 2);
        assert!(l.locked());
        assert!(l.try_acquire());
        assert!(l.acquire_timeout(Duration::ZERO).await);
        l.release().unwrap();
        l.release().unwrap();
        l.release().unwrap();
        assert!(l.locked());
        l.release().unwrap();
        assert!(!l.locked());
        assert_eq!(l.recursion_count(), 0);
    }
}

rt_test! {
    /// test_release_unacquired, with Python's message.
    async fn release_unacquired() {
        let l = RLock::new();
        let e = l.release().unwrap_err();
        assert_eq!(e, SyncError::NotOwner);
        assert_eq!(e.to_string(), "cannot release un-acquired lock");
        l.acquire().await;
        l.acquire().await;
        l.release().unwrap();
        l.release().unwrap();
        assert_eq!(l.release(), Err(SyncError::NotOwner));
    }
}

rt_test! {
    /// test__is_owned / test_recursion_count from another thread /
    /// release by a non-owner.
    async fn ownership() {
        let l = RLock::new();
        assert!(!l.is_owned());
        l.acquire().await;
        assert!(l.is_owned());
        l.acquire().await;
        let l2 = l.clone();
        let (owned, count, rel, locked, try_) = greenthread::spawn(async move {
            (l2.is_owned(), l2.recursion_count(), l2.release(), l2.locked(), l2.try_acquire())
        })
        .await
        .unwrap();
        assert!(!owned);
        assert_eq!(count, 0);
        assert_eq!(rel, Err(SyncError::NotOwner));
        assert!(locked);
        assert!(!try_);
        l.release().unwrap();
        assert!(l.is_owned());
        l.release().unwrap();
        assert!(!l.is_owned());
    }
}

rt_test! {
    /// test_locked_with_2threads: a thread acquires and ends without
    /// releasing; the lock stays locked.
    async fn locked_by_ended_thread() {
        let l = RLock::new();
        let l2 = l.clone();
        greenthread::spawn(async move {
            assert!(!l2.locked());
            l2.acquire().await;
        })
        .await
        .unwrap();
        assert!(l.locked());
        assert!(!l.is_owned());
        assert!(!l.acquire_timeout(Duration::from_millis(10)).await);
    }
}

rt_test! {
    /// Contended: blocked acquirers wait for the last level; a timed one
    /// fails after about its timeout.
    async fn contended_and_timeout() {
        let l = RLock::new();
        l.acquire().await;
        l.acquire().await;
        let done = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for _ in 0..5 {
            let (l, d) = (l.clone(), done.clone());
            let t = Thread::new(move || async move {
                let _g = l.lock().await;
                let _g2 = l.lock().await;
                d.fetch_add(1, Ordering::SeqCst);
            });
            t.start().unwrap();
            threads.push(t);
        }
        let l2 = l.clone();
        let (ok, start) = greenthread::spawn(async move {
            let s = Instant::now();
            (l2.acquire_timeout(Duration::from_millis(200)).await, s)
        })
        .await
        .unwrap();
        assert!(!ok);
        assert_timeout(start, Duration::from_millis(200));
        l.release().unwrap();
        greenthread::sleep(Duration::from_millis(20)).await;
        assert_eq!(done.load(Ordering::SeqCst), 0, "one level still held");
        l.release().unwrap();
        for t in threads {
            t.join().await.unwrap();
        }
        assert_eq!(done.load(Ordering::SeqCst), 5);
        assert!(!l.locked());
    }
}

rt_test! {
    /// Stress: 100 threads × 100 iterations at depth 2, exact total.
    async fn stress() {
        let l = RLock::new();
        let counter = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for _ in 0..100 {
            let (l, c) = (l.clone(), counter.clone());
            let t = Thread::new(move || async move {
                for _ in 0..100 {
                    l.acquire().await;
                    l.acquire().await;
                    let v = c.load(Ordering::Relaxed);
                    greenthread::yield_now().await;
                    c.store(v + 1, Ordering::Relaxed);
                    l.release().unwrap();
                    l.release().unwrap();
                }
            });
            t.start().unwrap();
            threads.push(t);
        }
        for t in threads {
            t.join().await.unwrap();
        }
        assert_eq!(counter.load(Ordering::SeqCst), 10_000);
        assert!(!l.locked());
    }
}

rt_test! {
    /// A guard moved to another thread and dropped there still releases
    /// (it remembers its owner).
    async fn guard_released_elsewhere() {
        // A guard borrows its lock: leak one so the guard can travel.
        let l: &'static RLock = Box::leak(Box::new(RLock::new()));
        let g = l.lock().await;
        assert!(l.is_owned());
        greenthread::spawn(async move {
            assert!(!l.is_owned(), "another thread does not own it");
            drop(g);
        })
        .await
        .unwrap();
        assert!(!l.locked());
        assert_eq!(format!("{l:?}"), "<unlocked RLock owner=0 count=0>");
    }
}

use support::Counting;

/// Cancel by drop: a notified waiter that is dropped passes its wake-up to
/// the next waiter, which then owns the lock.
#[test]
fn cancel_by_drop() {
    let l = RLock::new();
    // Owned by another OS thread until it is told to release.
    let (locked_tx, locked_rx) = std::sync::mpsc::channel();
    let (release_tx, release_rx) = std::sync::mpsc::channel::<()>();
    let l2 = l.clone();
    let owner = std::thread::spawn(move || {
        greenthread::block_on(l2.acquire());
        locked_tx.send(()).unwrap();
        release_rx.recv().unwrap();
        l2.release().unwrap();
    });
    locked_rx.recv().unwrap();
    let (ca, cb) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
    let (wa, wb) = (Waker::from(ca.clone()), Waker::from(cb.clone()));
    let mut a = Box::pin(l.acquire());
    let mut b = Box::pin(l.acquire());
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    release_tx.send(()).unwrap();
    owner.join().unwrap();
    assert_eq!(ca.0.load(Ordering::SeqCst), 1);
    assert_eq!(cb.0.load(Ordering::SeqCst), 0);
    drop(a);
    assert_eq!(cb.0.load(Ordering::SeqCst), 1, "wake-up passed on");
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_ready());
    assert!(l.is_owned());
    assert_eq!(l.recursion_count(), 1);
    l.release().unwrap();
    assert!(!l.locked());
}

use std::future::Future;
