//! `Condition`: lock_tests' ConditionTests (FIFO notify, exact counts, no
//! spurious wake-ups, timeouts, wait_for), RLock-level restore, errors, and
//! SPEC 10.5's cancellation rules.

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use greenthread::{Condition, ConditionGuard, Lock, RLock, SyncError, Thread};
use support::{assert_timeout, wait_until};

use support::assert_send;

#[allow(dead_code)]
fn send_checks(c: &Condition, g: ConditionGuard<'_>) {
    fn sync_clone<T: Send + Sync + Clone>() {}
    sync_clone::<Condition>();
    assert_send(&c.wait());
    assert_send(&c.wait_timeout(Duration::ZERO));
    assert_send(&c.wait_for(|| true));
    assert_send(&c.wait_for_timeout(|| true, Duration::ZERO));
    assert_send(&c.lock());
    assert_send(&c.acquire());
    assert_send(&g);
}

rt_test! {
    /// ConditionTests.test_acquire: the default lock is re-entrant; a
    /// condition over a Lock shares it.
    async fn acquire_and_shared_lock() {
        let c = Condition::new();
        c.acquire().await;
        c.acquire().await;
        c.release().unwrap();
        c.release().unwrap();
        assert!(c.release().is_err());
        let lock = Lock::new();
        let c = Condition::with_lock(lock.clone());
        c.acquire().await;
        assert!(!lock.try_acquire());
        c.release().unwrap();
        assert!(lock.try_acquire());
        assert!(!c.try_acquire());
        lock.release().unwrap();
        {
            let _g = c.lock().await;
            assert!(lock.locked());
        }
        assert!(!lock.locked());
        assert_eq!(c.release(), Err(SyncError::ReleaseUnlocked));
    }
}

rt_test! {
    /// test_unacquired_wait / test_unacquired_notify, with Python's message.
    async fn unacquired() {
        let c = Condition::new();
        assert_eq!(c.wait().await, Err(SyncError::NotHeld));
        assert_eq!(c.wait_timeout(Duration::from_millis(1)).await, Err(SyncError::NotHeld));
        assert_eq!(c.notify(1), Err(SyncError::NotifyNotHeld));
        assert_eq!(c.notify_all(), Err(SyncError::NotifyNotHeld));
        assert_eq!(c.wait_for(|| false).await, Err(SyncError::NotHeld));
        assert_eq!(SyncError::NotHeld.to_string(), "cannot wait on un-acquired lock");
        assert_eq!(
            SyncError::NotifyNotHeld.to_string(),
            "cannot notify on un-acquired lock",
            "CPython's message for notify (SPEC 10.25)"
        );
        // Held by another thread: still not held by us.
        let c2 = c.clone();
        greenthread::spawn(async move { c2.acquire().await }).await.unwrap();
        assert_eq!(c.notify(1), Err(SyncError::NotifyNotHeld));
    }
}

/// Starts `n` waiters that each record their id when woken.
async fn start_waiters(c: &Condition, n: usize, woken: &Arc<Mutex<Vec<usize>>>) -> Vec<Thread> {
    let mut threads = Vec::new();
    for i in 0..n {
        let (c2, w) = (c.clone(), woken.clone());
        let t = Thread::new(move || async move {
            let _g = c2.lock().await;
            c2.wait().await.unwrap();
            w.lock().unwrap().push(i);
        });
        t.start().unwrap();
        // Wait until it is queued so the order is known.
        assert!(wait_until(Duration::from_secs(5), || c.n_waiters() == i + 1).await);
        threads.push(t);
    }
    threads
}

rt_test! {
    /// test_notify: notify(n) wakes exactly n waiters, oldest first, with no
    /// spurious wake-ups; notify_all wakes the rest.
    async fn notify_fifo_exact() {
        let c = Condition::new();
        let woken = Arc::new(Mutex::new(Vec::new()));
        let threads = start_waiters(&c, 5, &woken).await;
        greenthread::sleep(Duration::from_millis(20)).await;
        assert!(woken.lock().unwrap().is_empty(), "no spurious wake-ups");
        {
            let _g = c.lock().await;
            c.notify(1).unwrap();
        }
        assert!(wait_until(Duration::from_secs(5), || woken.lock().unwrap().len() == 1).await);
        {
            let _g = c.lock().await;
            c.notify(2).unwrap();
        }
        assert!(wait_until(Duration::from_secs(5), || woken.lock().unwrap().len() == 3).await);
        greenthread::sleep(Duration::from_millis(20)).await;
        assert_eq!(woken.lock().unwrap().len(), 3, "exactly 1 + 2 woken");
        assert_eq!(c.n_waiters(), 2);
        {
            let _g = c.lock().await;
            c.notify_all().unwrap();
        }
        for t in threads {
            t.join().await.unwrap();
        }
        let mut w = woken.lock().unwrap().clone();
        assert_eq!(&w[..1], &[0], "oldest first");
        w[1..3].sort();
        assert_eq!(&w[1..3], &[1, 2]);
        // notify with nobody waiting is lost, harmlessly.
        let _g = c.lock().await;
        c.notify(3).unwrap();
        c.notify(0).unwrap();
        assert!(!c.wait_timeout(Duration::from_millis(10)).await.unwrap());
    }
}

rt_test! {
    /// wait releases every RLock level and restores them.
    async fn wait_restores_rlock_levels() {
        let rl = RLock::new();
        let c = Condition::with_rlock(rl.clone());
        let c2 = c.clone();
        let rl2 = rl.clone();
        let waiter = greenthread::spawn(async move {
            c2.acquire().await;
            c2.acquire().await;
            c2.acquire().await;
            let r = c2.wait_timeout(Duration::from_secs(10)).await.unwrap();
            let count = rl2.recursion_count();
            for _ in 0..count {
                c2.release().unwrap();
            }
            (r, count)
        });
        assert!(wait_until(Duration::from_secs(5), || c.n_waiters() == 1).await);
        // The lock is free while it waits.
        c.acquire().await;
        assert_eq!(rl.recursion_count(), 1);
        c.notify(1).unwrap();
        c.release().unwrap();
        assert_eq!(waiter.await.unwrap(), (true, 3));
        assert!(!rl.locked());
    }
}

rt_test! {
    /// test_timeout: un-notified waiters each time out after about T.
    async fn timeout() {
        let rl = RLock::new();
        let c = Condition::with_rlock(rl.clone());
        let mut handles = Vec::new();
        for _ in 0..5 {
            let (c, rl) = (c.clone(), rl.clone());
            handles.push(greenthread::spawn(async move {
                let _g = c.lock().await;
                let start = Instant::now();
                let r = c.wait_timeout(Duration::from_millis(300)).await.unwrap();
                // It holds the RLock again after the wait, once.
                let reacquired = rl.is_owned() && rl.recursion_count() == 1;
                (r, start, reacquired)
            }));
        }
        for h in handles {
            let (r, start, reacquired) = h.await.unwrap();
            assert!(!r);
            assert_timeout(start, Duration::from_millis(300));
            assert!(reacquired, "the RLock is held again after the wait");
        }
        let _g = c.lock().await;
        assert!(!c.wait_timeout(Duration::ZERO).await.unwrap());
        assert!(!c.wait_timeout(Duration::from_millis(1)).await.unwrap());
    }
}

rt_test! {
    /// test_waitfor / test_waitfor_timeout.
    async fn wait_for() {
        let c = Condition::new();
        let state = Arc::new(AtomicUsize::new(0));
        let (c2, s2) = (c.clone(), state.clone());
        let waiter = greenthread::spawn(async move {
            let _g = c2.lock().await;
            c2.wait_for(|| s2.load(Ordering::SeqCst) == 4).await.unwrap();
            s2.load(Ordering::SeqCst)
        });
        for _ in 0..4 {
            greenthread::sleep(Duration::from_millis(10)).await;
            let _g = c.lock().await;
            state.fetch_add(1, Ordering::SeqCst);
            c.notify(1).unwrap();
        }
        assert_eq!(waiter.await.unwrap(), 4);

        state.store(0, Ordering::SeqCst);
        let (c2, s2) = (c.clone(), state.clone());
        let waiter = greenthread::spawn(async move {
            let _g = c2.lock().await;
            let start = Instant::now();
            let r = c2
                .wait_for_timeout(|| s2.load(Ordering::SeqCst) == 4, Duration::from_millis(200))
                .await
                .unwrap();
            (r, start)
        });
        for _ in 0..3 {
            greenthread::sleep(Duration::from_millis(10)).await;
            let _g = c.lock().await;
            state.fetch_add(1, Ordering::SeqCst);
            c.notify(1).unwrap();
        }
        let (r, start) = waiter.await.unwrap();
        assert!(!r);
        assert_timeout(start, Duration::from_millis(200));
        let _g = c.lock().await;
        assert!(c.wait_for_timeout(|| true, Duration::ZERO).await.unwrap());
    }
}

rt_test! {
    /// Producer/consumer stress over a Condition(Lock): 50 consumers, 50
    /// producers × 100 items, exact total.
    async fn stress_producer_consumer() {
        let c = Condition::with_lock(Lock::new());
        let items = Arc::new(Mutex::new(Vec::<u64>::new()));
        let total = Arc::new(AtomicUsize::new(0));
        const PRODUCERS: u64 = 50;
        const PER: u64 = 100;
        let mut threads = Vec::new();
        for p in 0..PRODUCERS {
            let (c, items) = (c.clone(), items.clone());
            threads.push(greenthread::spawn(async move {
                for i in 0..PER {
                    let _g = c.lock().await;
                    items.lock().unwrap().push(p * PER + i);
                    c.notify(1).unwrap();
                }
            }));
        }
        for _ in 0..50 {
            let (c, items, total) = (c.clone(), items.clone(), total.clone());
            threads.push(greenthread::spawn(async move {
                for _ in 0..PER {
                    let _g = c.lock().await;
                    c.wait_for(|| !items.lock().unwrap().is_empty()).await.unwrap();
                    let v = items.lock().unwrap().pop().unwrap();
                    total.fetch_add(v as usize, Ordering::SeqCst);
                }
            }));
        }
        for t in threads {
            t.await.unwrap();
        }
        let n = (PRODUCERS * PER) as usize;
        assert_eq!(total.load(Ordering::SeqCst), n * (n - 1) / 2);
    }
}

use support::Counting;

/// SPEC 10.5: a wait dropped while waiting leaves the lock released and the
/// queue; a notify it had been chosen for goes to a live waiter.
#[test]
fn cancel_passes_notify_on() {
    let c = Condition::with_lock(Lock::new());
    let (ca, cb) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
    let (wa, wb) = (Waker::from(ca.clone()), Waker::from(cb.clone()));
    assert!(c.try_acquire());
    let mut a = Box::pin(c.wait());
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    assert!(!c.locked(), "waiting released the lock");
    assert!(c.try_acquire());
    let mut b = Box::pin(c.wait());
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    assert_eq!(c.n_waiters(), 2);
    assert!(c.try_acquire());
    c.notify(1).unwrap();
    assert_eq!(ca.0.load(Ordering::SeqCst), 1, "the oldest is chosen");
    assert_eq!(cb.0.load(Ordering::SeqCst), 0);
    drop(a);
    assert_eq!(
        cb.0.load(Ordering::SeqCst),
        1,
        "the notify went to the live waiter"
    );
    c.release().unwrap();
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_ready());
    assert!(c.locked(), "the waiter re-acquired the lock");
    c.release().unwrap();
    assert_eq!(c.n_waiters(), 0);

    // Dropped while re-acquiring after a notify: passed on too.
    assert!(c.try_acquire());
    let mut a = Box::pin(c.wait());
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    assert!(c.try_acquire());
    let mut b = Box::pin(c.wait());
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    assert!(c.try_acquire());
    c.notify(1).unwrap();
    // a is notified but the lock is held: polling makes it wait for the lock.
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    let before = cb.0.load(Ordering::SeqCst);
    drop(a);
    assert_eq!(
        cb.0.load(Ordering::SeqCst),
        before + 1,
        "passed on from the re-acquire"
    );
    c.release().unwrap();
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_ready());
    c.release().unwrap();
    // A dropped un-notified waiter just leaves the queue.
    assert!(c.try_acquire());
    let mut a = Box::pin(c.wait());
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    drop(a);
    assert_eq!(c.n_waiters(), 0);
    assert!(!c.locked(), "left released");
}

/// Under tokio's multi-thread runtime. Its tasks move between worker OS
/// threads at any `.await`, so an RLock (owned by an OS thread there) would
/// not follow them: the condition is built over a plain Lock.
#[test]
fn inside_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let c = Condition::with_lock(Lock::new());
    let n = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..10 {
            let (c, n) = (c.clone(), n.clone());
            tasks.push(tokio::spawn(async move {
                let _g = c.lock().await;
                c.wait_for(|| n.load(Ordering::SeqCst) > 0).await.unwrap();
            }));
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        {
            let _g = c.lock().await;
            n.store(1, Ordering::SeqCst);
            c.notify_all().unwrap();
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
}
