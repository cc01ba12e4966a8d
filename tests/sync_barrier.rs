//! `Barrier`: lock_tests' BarrierTests (lockstep, indices, action, default
//! timeout, abort, reset, single party, repr), SPEC 10.7/10.8, stress and
//! cancel-by-drop.

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use greenthread::{Barrier, BrokenBarrierError};
use support::{assert_timeout, wait_until};

use support::assert_send;

#[allow(dead_code)]
fn send_checks(b: &Barrier) {
    fn sync_clone<T: Send + Sync + Clone>() {}
    sync_clone::<Barrier>();
    assert_send(&b.wait());
    assert_send(&b.wait_timeout(Duration::ZERO));
    fn error<E: std::error::Error + Send + Sync + 'static>() {}
    error::<BrokenBarrierError>();
}

const N: usize = 5;

/// Runs `f` in `n` threads and collects their results.
async fn run_threads<F, Fut, T>(n: usize, f: F) -> Vec<T>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let handles: Vec<_> = (0..n).map(|i| greenthread::spawn(f(i))).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

rt_test! {
    /// test_barrier / test_barrier_10: lockstep for 1 and 10 passes.
    async fn lockstep() {
        for passes in [1usize, 10] {
            let b = Barrier::new(N);
            let phases = Arc::new(Mutex::new(Vec::<usize>::new()));
            run_threads(N, |_| {
                let (b, phases) = (b.clone(), phases.clone());
                async move {
                    for i in 0..passes {
                        phases.lock().unwrap().push(i);
                        b.wait().await.unwrap();
                        // Everyone pushed for pass i before anyone passed.
                        assert!(phases.lock().unwrap().len() >= (i + 1) * N);
                        b.wait().await.unwrap();
                    }
                }
            })
            .await;
            assert_eq!(phases.lock().unwrap().len(), passes * N);
            assert_eq!(b.n_waiting(), 0);
            assert!(!b.broken());
        }
    }
}

rt_test! {
    /// test_wait_return: the indices of a round are exactly 0..N.
    async fn indices() {
        let b = Barrier::new(N);
        let mut r = run_threads(N, |_| {
            let b = b.clone();
            async move { b.wait().await.unwrap() }
        })
        .await;
        r.sort();
        assert_eq!(r, (0..N).collect::<Vec<_>>());
    }
}

rt_test! {
    /// test_action: the action runs once per round, before anyone returns.
    async fn action() {
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let b = Barrier::with_action(N, move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        let seen = run_threads(N, |_| {
            let (b, runs) = (b.clone(), runs.clone());
            async move {
                b.wait().await.unwrap();
                let a = runs.load(Ordering::SeqCst);
                b.wait().await.unwrap();
                (a, runs.load(Ordering::SeqCst))
            }
        })
        .await;
        for (a, c) in seen {
            assert!(a >= 1);
            assert_eq!(c, 2);
        }
    }
}

rt_test! {
    /// test_default_timeout: a lone waiter on Barrier(2, timeout) breaks it.
    async fn default_timeout() {
        let b = Barrier::with_timeout(2, Duration::from_millis(100));
        let start = Instant::now();
        assert_eq!(b.wait().await, Err(BrokenBarrierError));
        assert_timeout(start, Duration::from_millis(100));
        assert!(b.broken());
        assert_eq!(b.wait().await, Err(BrokenBarrierError), "stays broken");
        b.reset();
        assert!(!b.broken());
        let start = Instant::now();
        assert_eq!(b.wait_timeout(Duration::from_millis(50)).await, Err(BrokenBarrierError));
        assert_timeout(start, Duration::from_millis(50));
    }
}

rt_test! {
    /// A waiter's timeout breaks the barrier for the others too.
    async fn timeout_breaks_others() {
        let b = Barrier::new(3);
        let b2 = b.clone();
        let other = greenthread::spawn(async move { b2.wait().await });
        assert!(wait_until(Duration::from_secs(5), || b.n_waiting() == 1).await);
        assert_eq!(b.wait_timeout(Duration::from_millis(20)).await, Err(BrokenBarrierError));
        assert_eq!(other.await.unwrap(), Err(BrokenBarrierError));
        assert_eq!(BrokenBarrierError.to_string(), "broken barrier");
    }
}

rt_test! {
    /// test_single_thread, and SPEC 10.7: Barrier(0) acts as Barrier(1).
    async fn single_party() {
        for parties in [0, 1] {
            let b = Barrier::new(parties);
            assert_eq!(b.parties(), 1);
            assert_eq!(b.wait().await, Ok(0));
            assert_eq!(b.wait().await, Ok(0));
        }
        let runs = Arc::new(AtomicUsize::new(0));
        let r = runs.clone();
        let b = Barrier::with_action(1, move || {
            r.fetch_add(1, Ordering::SeqCst);
        });
        b.wait().await.unwrap();
        b.wait().await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }
}

rt_test! {
    /// test_abort / test_reset: waiters get the error; abort sticks until
    /// reset; reset alone leaves a usable barrier.
    async fn abort_and_reset() {
        let b = Barrier::new(3);
        let b2 = b.clone();
        let w = greenthread::spawn(async move { b2.wait().await });
        assert!(wait_until(Duration::from_secs(5), || b.n_waiting() == 1).await);
        b.abort();
        assert_eq!(w.await.unwrap(), Err(BrokenBarrierError));
        assert!(b.broken());
        assert_eq!(format!("{b:?}"), "<Barrier: broken>");
        assert_eq!(b.wait().await, Err(BrokenBarrierError));
        b.reset();
        assert!(!b.broken());
        // reset while two wait: they fail, the barrier is not broken.
        let ws: Vec<_> = (0..2)
            .map(|_| {
                let b = b.clone();
                greenthread::spawn(async move { b.wait().await })
            })
            .collect();
        assert!(wait_until(Duration::from_secs(5), || b.n_waiting() == 2).await);
        assert_eq!(format!("{b:?}"), "<Barrier: waiters=2/3>");
        b.reset();
        for w in ws {
            assert_eq!(w.await.unwrap(), Err(BrokenBarrierError));
        }
        assert!(!b.broken());
        // And a full round works afterwards.
        let mut r = run_threads(3, |_| {
            let b = b.clone();
            async move { b.wait().await.unwrap() }
        })
        .await;
        r.sort();
        assert_eq!(r, [0, 1, 2]);
        assert_eq!(format!("{b:?}"), "<Barrier: waiters=0/3>");
    }
}

rt_test! {
    /// SPEC 10.8: a panicking action breaks the barrier; the others get the
    /// error and the last arriver gets the panic.
    async fn panicking_action() {
        let b = Barrier::with_action(3, || panic!("action failed"));
        let results = run_threads(3, |_| {
            let b = b.clone();
            async move {
                let inner = greenthread::spawn(async move { b.wait().await });
                inner.await.map_err(|e| e.to_string())
            }
        })
        .await;
        let panics: Vec<_> = results.iter().filter(|r| r.is_err()).collect();
        assert_eq!(panics.len(), 1, "{results:?}");
        assert!(panics[0].as_ref().unwrap_err().contains("action failed"));
        let broken = results.iter().filter(|r| matches!(r, Ok(Err(BrokenBarrierError)))).count();
        assert_eq!(broken, 2);
        assert!(b.broken());
    }
}

rt_test! {
    /// Stress: 64 parties × 100 rounds, indices 0..64 each round.
    async fn stress() {
        const PARTIES: usize = 64;
        const ROUNDS: usize = 100;
        let b = Barrier::new(PARTIES);
        let sums = run_threads(PARTIES, |_| {
            let b = b.clone();
            async move {
                let mut sum = 0;
                for _ in 0..ROUNDS {
                    sum += b.wait().await.unwrap();
                }
                sum
            }
        })
        .await;
        assert_eq!(sums.iter().sum::<usize>(), ROUNDS * PARTIES * (PARTIES - 1) / 2);
        assert!(!b.broken());
    }
}

use support::Counting;

/// Dropping a pending wait breaks the barrier (its party will not come);
/// dropping one whose round was released loses nothing.
#[test]
fn cancel_by_drop() {
    let b = Barrier::new(2);
    let c = Arc::new(Counting::default());
    let w = Waker::from(c.clone());
    let mut f = Box::pin(b.wait());
    assert!(f.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
    assert_eq!(b.n_waiting(), 1);
    drop(f);
    assert!(b.broken());
    b.reset();
    let mut f = Box::pin(b.wait());
    assert!(f.as_mut().poll(&mut Context::from_waker(&w)).is_pending());
    let b2 = b.clone();
    assert_eq!(
        std::thread::spawn(move || greenthread::block_on(b2.wait()))
            .join()
            .unwrap(),
        Ok(1)
    );
    assert!(c.0.load(Ordering::SeqCst) >= 1);
    drop(f); // released already: nothing breaks
    assert!(!b.broken());
}

/// Works across std threads and tokio tasks.
#[test]
fn foreign_executors() {
    let b = Barrier::new(4);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let b2 = b.clone();
    let t =
        std::thread::spawn(move || greenthread::block_on(async move { b2.wait().await.unwrap() }));
    let mut r = rt.block_on(async {
        let ts: Vec<_> = (0..3)
            .map(|_| {
                let b = b.clone();
                tokio::spawn(async move { b.wait().await.unwrap() })
            })
            .collect();
        let mut r = Vec::new();
        for t in ts {
            r.push(t.await.unwrap());
        }
        r
    });
    r.push(t.join().unwrap());
    r.sort();
    assert_eq!(r, [0, 1, 2, 3]);
}

rt_test! {
    /// Indices stay in `0..parties` while threads keep arriving: a thread
    /// that arrives just after the last party of a round, before that round
    /// is released, belongs to the next round, not to the released one.
    /// (Found by `prop_barrier`: a 1-party barrier handed out index 1.)
    async fn crowded_arrivals_keep_indices_in_range() {
        let b = Barrier::new(1);
        let out = run_threads(4, |_| {
            let b = b.clone();
            async move {
                let mut wrong = Vec::new();
                for _ in 0..20_000 {
                    match greenthread::timeout(Duration::from_secs(10), b.wait()).await {
                        Ok(Ok(0)) => {}
                        other => wrong.push(format!("{other:?}")),
                    }
                }
                wrong
            }
        })
        .await;
        let wrong: Vec<String> = out.into_iter().flatten().collect();
        assert!(
            wrong.is_empty(),
            "a 1-party barrier's wait gave {} result(s) other than Ok(0): {:?}",
            wrong.len(),
            &wrong[..wrong.len().min(5)]
        );
    }
}
