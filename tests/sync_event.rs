//! `Event`: lock_tests' EventTests (is_set, notify, timeout), gh-57711
//! (woken by set even if cleared), no spurious wake-ups, the cooperative
//! budget, cancel-by-drop, foreign executors.

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use greenthread::{Event, Thread};
use support::{assert_timeout, wait_until};

use support::assert_send;

#[allow(dead_code)]
fn send_checks(e: &Event) {
    fn sync_clone<T: Send + Sync + Clone>() {}
    sync_clone::<Event>();
    assert_send(&e.wait());
    assert_send(&e.wait_timeout(Duration::ZERO));
}

rt_test! {
    /// test_is_set / test_repr.
    async fn is_set() {
        let e = Event::new();
        assert!(!e.is_set());
        assert_eq!(format!("{e:?}"), "<Event: unset>");
        e.set();
        assert!(e.is_set());
        e.set();
        assert!(e.is_set());
        assert_eq!(format!("{e:?}"), "<Event: set>");
        e.clear();
        assert!(!e.is_set());
        e.clear();
        assert!(!e.is_set());
    }
}

rt_test! {
    /// test_notify: 5 threads wait twice; none returns before set; all
    /// return true after; again after set+clear.
    async fn notify() {
        let e = Event::new();
        for _round in 0..2 {
            let results = Arc::new(AtomicUsize::new(0));
            let started = Arc::new(AtomicUsize::new(0));
            let mut threads = Vec::new();
            for _ in 0..5 {
                let (e, r, s) = (e.clone(), results.clone(), started.clone());
                let t = Thread::new(move || async move {
                    s.fetch_add(1, Ordering::SeqCst);
                    assert!(e.wait().await);
                    assert!(e.wait().await);
                    r.fetch_add(2, Ordering::SeqCst);
                });
                t.start().unwrap();
                threads.push(t);
            }
            assert!(wait_until(Duration::from_secs(5), || started.load(Ordering::SeqCst) == 5).await);
            greenthread::sleep(Duration::from_millis(20)).await;
            assert_eq!(results.load(Ordering::SeqCst), 0);
            e.set();
            for t in threads {
                t.join().await.unwrap();
            }
            assert_eq!(results.load(Ordering::SeqCst), 10);
            e.clear();
        }
    }
}

rt_test! {
    /// test_timeout.
    async fn timeout() {
        let e = Event::new();
        let mut handles = Vec::new();
        for _ in 0..5 {
            let e = e.clone();
            handles.push(greenthread::spawn(async move {
                let zero = e.wait_timeout(Duration::ZERO).await;
                let start = Instant::now();
                let r = e.wait_timeout(Duration::from_millis(300)).await;
                (zero, r, start)
            }));
        }
        for h in handles {
            let (zero, r, start) = h.await.unwrap();
            assert!(!zero);
            assert!(!r);
            assert_timeout(start, Duration::from_millis(300));
        }
        e.set();
        assert!(e.wait_timeout(Duration::ZERO).await);
        assert!(e.wait_timeout(Duration::from_millis(300)).await);
        assert!(e.wait_timeout(Duration::MAX).await);
    }
}

rt_test! {
    /// gh-57711: a waiter woken by set returns true even if the flag was
    /// cleared before it ran.
    async fn set_then_clear_still_true() {
        let e = Event::new();
        let mut handles = Vec::new();
        let started = Arc::new(AtomicUsize::new(0));
        for _ in 0..5 {
            let (e, s) = (e.clone(), started.clone());
            handles.push(greenthread::spawn(async move {
                s.fetch_add(1, Ordering::SeqCst);
                e.wait_timeout(Duration::from_secs(10)).await
            }));
        }
        assert!(wait_until(Duration::from_secs(5), || started.load(Ordering::SeqCst) == 5).await);
        // Until all five wait on the event (counted before they wait).
        let mine: Vec<u64> = handles.iter().filter_map(|h| h.thread().ident()).collect();
        let waiting = || {
            greenthread::debug::dump()
                .threads()
                .iter()
                .filter(|t| t.ident.is_some_and(|i| mine.contains(&i)))
                .filter(|t| {
                    matches!(
                        t.state,
                        greenthread::debug::ThreadState::Waiting(
                            greenthread::debug::WaitingOn::Event { .. }
                        )
                    )
                })
                .count()
        };
        assert!(wait_until(Duration::from_secs(20), || waiting() == 5).await);
        e.set();
        e.clear();
        for h in handles {
            assert!(h.await.unwrap());
        }
        assert!(!e.is_set());
    }
}

rt_test! {
    /// SPEC 10.14: a loop on an always-set event still lets a sleeper run.
    async fn budget_yields() {
        let e = Event::new();
        e.set();
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let sleeper = greenthread::spawn(async move {
            greenthread::sleep(Duration::from_millis(5)).await;
            f.store(true, Ordering::SeqCst);
        });
        let (e2, f) = (e.clone(), flag.clone());
        greenthread::spawn(async move {
            let start = Instant::now();
            while !f.load(Ordering::SeqCst) {
                assert!(start.elapsed() < Duration::from_secs(10), "the sleeper never ran");
                assert!(e2.wait().await);
            }
        })
        .await
        .unwrap();
        sleeper.await.unwrap();
    }
}

rt_test! {
    /// Many waiters, one set.
    async fn many_waiters() {
        let e = Event::new();
        let n = Arc::new(AtomicUsize::new(0));
        let mut hs = Vec::new();
        for _ in 0..500 {
            let (e, n) = (e.clone(), n.clone());
            hs.push(greenthread::spawn(async move {
                e.wait().await;
                n.fetch_add(1, Ordering::SeqCst);
            }));
        }
        greenthread::sleep(Duration::from_millis(10)).await;
        e.set();
        for h in hs {
            h.await.unwrap();
        }
        assert_eq!(n.load(Ordering::SeqCst), 500);
    }
}

use support::Counting;

/// Cancel by drop, and no spurious wake-up from a dropped, notified waiter
/// to one that started waiting after a set+clear.
#[test]
fn cancel_and_no_spurious_wakeup() {
    let e = Event::new();
    let (ca, cb) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
    let (wa, wb) = (Waker::from(ca.clone()), Waker::from(cb.clone()));
    let mut a = Box::pin(e.wait());
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    e.set();
    assert_eq!(ca.0.load(Ordering::SeqCst), 1);
    e.clear();
    let mut b = Box::pin(e.wait());
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    drop(a); // notified, never polled: hands its notification on...
             // ...but b started after the set, so it keeps waiting.
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    e.set();
    assert!(matches!(
        b.as_mut().poll(&mut Context::from_waker(&wb)),
        std::task::Poll::Ready(true)
    ));
}

/// Inside tokio and from std threads.
#[test]
fn foreign_executors() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let e = Event::new();
    let e2 = e.clone();
    let h =
        std::thread::spawn(move || greenthread::block_on(e2.wait_timeout(Duration::from_secs(10))));
    rt.block_on(async {
        let e3 = e.clone();
        let t = tokio::spawn(async move { e3.wait().await });
        let start = Instant::now();
        assert!(!e.wait_timeout(Duration::from_millis(50)).await);
        assert_timeout(start, Duration::from_millis(50));
        e.set();
        assert!(t.await.unwrap());
    });
    assert!(h.join().unwrap());
}

rt_test! {
    /// Stress: rounds of waiters (plain, timed, and cancelled by an outer
    /// `timeout`) racing a set; a plain waiter must always be released by its
    /// round's set (a lost wake-up fails the round's deadline), and
    /// cancelled or timed-out waiters leave nothing behind that would wake or
    /// block a later round.
    async fn stress_set_with_timeouts_and_cancels() {
        let e = Event::new();
        for round in 0..30u32 {
            let mut hs = Vec::new();
            for i in 0..12u32 {
                let e = e.clone();
                hs.push(greenthread::spawn(async move {
                    match (i + round) % 3 {
                        0 => e.wait().await,
                        1 => {
                            let d = Duration::from_micros(200 * u64::from(i % 4));
                            let start = Instant::now();
                            let set = e.wait_timeout(d).await;
                            assert!(set || start.elapsed() >= d, "false before the timeout");
                            true
                        }
                        _ => {
                            let _ = greenthread::timeout(Duration::from_micros(300), e.wait()).await;
                            true
                        }
                    }
                }));
            }
            greenthread::sleep(Duration::from_micros(500)).await;
            e.set();
            let all = greenthread::timeout(Duration::from_secs(10), async move {
                for h in hs {
                    assert!(h.await.unwrap());
                }
            });
            assert!(all.await.is_ok(), "round {round}: a waiter was never released");
            e.clear();
        }
        let start = Instant::now();
        assert!(!e.wait_timeout(Duration::from_millis(5)).await);
        assert_timeout(start, Duration::from_millis(5));
    }
}
