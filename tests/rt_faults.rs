//! Panicking user wakers run by the runtime (SPEC §10.27): a timer whose
//! waker panics must neither kill the worker (or the driver thread) that
//! fires it nor lose the wake-ups of the other timers fired with it.

mod support;

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Waker};
use std::time::{Duration, Instant};

use greenthread::{Runtime, Sleep};
use support::{poll_pending, poll_ready, two_waiters, TwoWaiters};

const LIMIT: Duration = Duration::from_secs(20);

/// Runs `f` on a helper OS thread; fails clearly if it hangs.
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(LIMIT) {
        Ok(Ok(v)) => v,
        Ok(Err(p)) => resume_unwind(p),
        Err(_) => panic!("{what}: hung (not done after {LIMIT:?})"),
    }
}

/// Arms `sleep` with `waker` by polling it once by hand.
fn arm(sleep: &mut Pin<Box<Sleep>>, waker: &Waker) {
    let mut cx = Context::from_waker(waker);
    assert!(sleep.as_mut().poll(&mut cx).is_pending());
}

/// Counts the distinct worker OS threads that run green threads at once:
/// `n` threads each spin (yielding) until all `n` have started, recording
/// their `native_id`s.
async fn distinct_workers(n: usize) -> usize {
    let started = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..n)
        .map(|_| {
            let started = started.clone();
            greenthread::spawn(async move {
                started.fetch_add(1, Ordering::SeqCst);
                // Spin without yielding: only a second worker can start the
                // next thread.
                let t0 = Instant::now();
                while started.load(Ordering::SeqCst) < n && t0.elapsed() < Duration::from_secs(5) {
                    std::hint::spin_loop();
                }
                greenthread::get_native_id()
            })
        })
        .collect();
    let mut ids = Vec::new();
    for h in hs {
        ids.push(h.await.unwrap());
    }
    ids.sort_unstable();
    ids.dedup();
    ids.len()
}

/// Timers with panicking wakers fire in the same batches as timers with
/// counting wakers, while the workers are busy (so they fire them in their
/// own driver turns): every counting waker is woken, the workers survive,
/// and later sleeps still end.
fn panicking_timer_wakers(workers: usize) {
    let _serial = support::serial();
    bounded(
        &format!("panicking timer wakers, workers({workers})"),
        move || {
            let rt = Runtime::builder()
                .workers(workers)
                .gil(false)
                .build()
                .unwrap();
            rt.block_on(async move {
                let (panicking, bad) = support::panicking_waker();
                let mut sleeps = Vec::new();
                let mut counters = Vec::new();
                for _ in 0..20 {
                    let (c, good) = support::counting_waker();
                    let mut s1 = Box::pin(greenthread::sleep(Duration::from_millis(30)));
                    arm(&mut s1, &bad);
                    let mut s2 = Box::pin(greenthread::sleep(Duration::from_millis(30)));
                    arm(&mut s2, &good);
                    sleeps.push(s1);
                    sleeps.push(s2);
                    counters.push(c);
                }
                // Keep the workers busy through the deadlines: they turn the
                // driver themselves every few dozen tasks.
                let spinners: Vec<_> = (0..workers)
                    .map(|_| {
                        greenthread::spawn(async {
                            let t0 = Instant::now();
                            while t0.elapsed() < Duration::from_millis(300) {
                                greenthread::yield_now().await;
                            }
                        })
                    })
                    .collect();
                for s in spinners {
                    s.await.unwrap();
                }
                let all_woken = support::wait_until(Duration::from_secs(10), || {
                    counters.iter().all(|c| c.0.load(Ordering::SeqCst) == 1)
                })
                .await;
                let woken: Vec<usize> = counters
                    .iter()
                    .map(|c| c.0.load(Ordering::SeqCst))
                    .collect();
                assert!(
                    all_woken,
                    "a panicking waker lost other wake-ups: {woken:?}"
                );
                assert!(
                    panicking.0.load(Ordering::SeqCst) >= 1,
                    "no panicking waker ran"
                );
                // Timers still fire afterwards.
                let t0 = Instant::now();
                greenthread::sleep(Duration::from_millis(20)).await;
                assert!(t0.elapsed() < Duration::from_secs(10));
                // The pool is whole: `workers` threads run side by side.
                assert_eq!(distinct_workers(workers).await, workers, "a worker died");
                // And new threads still run on it.
                let v = greenthread::spawn(async {
                    greenthread::sleep(Duration::from_millis(5)).await;
                    7
                })
                .await
                .unwrap();
                assert_eq!(v, 7);
                drop(sleeps);
            });
        },
    );
}

#[test]
fn panicking_timer_waker_workers_1() {
    panicking_timer_wakers(1);
}

#[test]
fn panicking_timer_waker_workers_2() {
    panicking_timer_wakers(2);
}

/// A nested `block_on` that consumes the enclosing one's wake-up (they
/// share the OS thread's parker) and then unwinds must leave that wake-up
/// behind, as it does when it returns: the outer future, pending on the
/// wake-up it registered before, is polled again.
#[test]
fn nested_block_on_unwinding_keeps_outer_wake() {
    bounded("nested block_on unwinding", || {
        let ev = Arc::new(greenthread::Event::new());
        let mut polls = 0;
        greenthread::block_on(std::future::poll_fn(move |cx| {
            polls += 1;
            if polls > 1 {
                return std::task::Poll::Ready(());
            }
            // Register the outer waker with the event, which another OS
            // thread sets soon.
            let mut wait = Box::pin(ev.wait());
            assert!(wait.as_mut().poll(cx).is_pending());
            let e = ev.clone();
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                e.set();
            });
            // The set wakes this thread's parker, inside the nested call,
            // which then panics.
            let e = ev.clone();
            let inner = catch_unwind(AssertUnwindSafe(|| {
                greenthread::block_on(std::future::poll_fn(|_| {
                    if e.is_set() {
                        panic!("inner future panics on purpose");
                    }
                    std::task::Poll::<()>::Pending
                }))
            }));
            assert!(inner.is_err());
            drop(wait);
            std::task::Poll::Pending
        }));
    });
}

// ---------------------------------------------------------------------
// Panicking wakers of the sync primitives' waiters: `event_listener` wakes
// them inside its list lock, and a panic there left the list half notified
// (later waiters not woken, its notified count off by one, which aborted
// the process once the waiter left): each scenario runs in a child process.
// ---------------------------------------------------------------------

/// Calls `f` (a release, notify or set), which must not panic although it
/// wakes a panicking waker.
fn no_panic<R>(what: &str, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(v) => v,
        Err(_) => panic!("{what} let a waiter's panicking waker unwind into the caller"),
    }
}

/// Runs `body` as the main thread of a two-worker runtime, bounded.
fn in_runtime<F, Fut>(what: &'static str, body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()>,
{
    bounded(what, move || {
        let rt = Runtime::builder().workers(2).gil(false).build().unwrap();
        rt.block_on(body());
    });
}

#[test]
fn lock_waiter_with_panicking_waker() {
    support::in_child("child_lock_waiter_with_panicking_waker", 1);
}

#[test]
#[ignore = "run in a child process by lock_waiter_with_panicking_waker"]
fn child_lock_waiter_with_panicking_waker() {
    in_runtime("lock", || async {
        let lock = greenthread::Lock::new();
        assert!(lock.try_acquire());
        let TwoWaiters {
            bad: bad_count,
            good: good_count,
            mut first,
            mut second,
        } = two_waiters(|| lock.acquire());
        no_panic("Lock::release", || lock.release()).unwrap();
        assert_eq!(bad_count.0.load(Ordering::SeqCst), 1);
        // The first waiter got the lock; its release wakes the second.
        poll_ready(&mut first);
        lock.release().unwrap();
        assert_eq!(good_count.0.load(Ordering::SeqCst), 1);
        poll_ready(&mut second);
        lock.release().unwrap();
        drop((first, second));
        // The lock still works for threads.
        let lock = Arc::new(lock);
        let hs: Vec<_> = (0..10)
            .map(|_| {
                let l = lock.clone();
                greenthread::spawn(async move {
                    l.acquire().await;
                    greenthread::yield_now().await;
                    l.release().unwrap();
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
}

#[test]
fn semaphore_waiters_behind_a_panicking_waker_are_woken() {
    support::in_child(
        "child_semaphore_waiters_behind_a_panicking_waker_are_woken",
        1,
    );
}

#[test]
#[ignore = "run in a child process by semaphore_waiters_behind_a_panicking_waker_are_woken"]
fn child_semaphore_waiters_behind_a_panicking_waker_are_woken() {
    in_runtime("semaphore", || async {
        let sem = greenthread::Semaphore::new(0);
        let TwoWaiters {
            bad: bad_count,
            good: good_count,
            mut first,
            mut second,
        } = two_waiters(|| sem.acquire());
        no_panic("Semaphore::release", || sem.release(2));
        assert_eq!(bad_count.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            good_count.0.load(Ordering::SeqCst),
            1,
            "the waiter behind the panicking waker was not woken"
        );
        poll_ready(&mut first);
        poll_ready(&mut second);
        assert_eq!(sem.value(), 0);
        drop((first, second));
        // Later waits and releases still pair up.
        let mut third = Box::pin(sem.acquire());
        poll_pending(&mut third, &Waker::from(good_count.clone()));
        sem.release(1);
        assert_eq!(good_count.0.load(Ordering::SeqCst), 2);
        poll_ready(&mut third);
    });
}

#[test]
fn condition_waiters_behind_a_panicking_waker_are_woken() {
    support::in_child(
        "child_condition_waiters_behind_a_panicking_waker_are_woken",
        1,
    );
}

#[test]
#[ignore = "run in a child process by condition_waiters_behind_a_panicking_waker_are_woken"]
fn child_condition_waiters_behind_a_panicking_waker_are_woken() {
    in_runtime("condition", || async {
        let cond = greenthread::Condition::new();
        // Each wait is made with the lock held, and releases it.
        let TwoWaiters {
            bad: bad_count,
            good: good_count,
            mut first,
            mut second,
        } = two_waiters(|| {
            assert!(cond.try_acquire());
            cond.wait()
        });
        cond.acquire().await;
        no_panic("Condition::notify_all", || cond.notify_all()).unwrap();
        assert_eq!(bad_count.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            good_count.0.load(Ordering::SeqCst),
            1,
            "the waiter behind the panicking waker was not notified"
        );
        cond.release().unwrap();
        poll_ready(&mut second).unwrap();
        cond.release().unwrap();
        poll_ready(&mut first).unwrap();
        cond.release().unwrap();
        assert_eq!(cond.n_waiters(), 0);
    });
}

#[test]
fn event_waiters_behind_a_panicking_waker_are_woken() {
    support::in_child("child_event_waiters_behind_a_panicking_waker_are_woken", 1);
}

#[test]
#[ignore = "run in a child process by event_waiters_behind_a_panicking_waker_are_woken"]
fn child_event_waiters_behind_a_panicking_waker_are_woken() {
    in_runtime("event", || async {
        let ev = greenthread::Event::new();
        let TwoWaiters {
            bad: bad_count,
            good: good_count,
            mut first,
            mut second,
        } = two_waiters(|| ev.wait());
        no_panic("Event::set", || ev.set());
        assert_eq!(bad_count.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            good_count.0.load(Ordering::SeqCst),
            1,
            "the waiter behind the panicking waker was not woken"
        );
        assert!(poll_ready(&mut first));
        assert!(poll_ready(&mut second));
    });
}

#[test]
fn barrier_waiters_behind_a_panicking_waker_are_woken() {
    support::in_child(
        "child_barrier_waiters_behind_a_panicking_waker_are_woken",
        1,
    );
}

#[test]
#[ignore = "run in a child process by barrier_waiters_behind_a_panicking_waker_are_woken"]
fn child_barrier_waiters_behind_a_panicking_waker_are_woken() {
    in_runtime("barrier", || async {
        let barrier = greenthread::Barrier::new(3);
        let TwoWaiters {
            bad: bad_count,
            good: good_count,
            mut first,
            mut second,
        } = two_waiters(|| barrier.wait());
        let last = no_panic("Barrier::wait (the last party)", || {
            greenthread::block_on(barrier.wait())
        });
        assert_eq!(last, Ok(2));
        assert_eq!(bad_count.0.load(Ordering::SeqCst), 1);
        assert_eq!(
            good_count.0.load(Ordering::SeqCst),
            1,
            "the waiter behind the panicking waker was not woken"
        );
        assert_eq!(poll_ready(&mut first), Ok(0));
        assert_eq!(poll_ready(&mut second), Ok(1));
    });
}

// ---------------------------------------------------------------------
// A task woken after the executor's final drain.
// ---------------------------------------------------------------------

/// Counts its drops, then panics.
struct CountsThenPanics(Arc<AtomicUsize>);

impl Drop for CountsThenPanics {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("a destructor run after the runtime is gone panics");
    }
}

#[test]
fn task_woken_after_the_final_drain_is_dropped() {
    support::in_child("child_task_woken_after_the_final_drain_is_dropped", 1);
}

/// A thread whose target is stuck in a poll (blocking its worker) when the
/// runtime is dropped: shutdown cancels it (a wake while it runs), gives
/// up on it and on its worker, and drains the queues. When the poll ends
/// the task is scheduled again, after the final drain: it must still be
/// dropped — its destructors run, a panic of theirs caught — not left in
/// the queue forever with its thread never stopped.
#[test]
#[ignore = "run in a child process by task_woken_after_the_final_drain_is_dropped"]
fn child_task_woken_after_the_final_drain_is_dropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let running = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (release, released) = mpsc::channel::<()>();
    let rt = Runtime::builder().workers(1).gil(false).build().unwrap();
    let thread = {
        let (drops, running) = (drops.clone(), running.clone());
        rt.block_on(async move {
            let guard = CountsThenPanics(drops);
            let mut first = true;
            let flag = running.clone();
            let t = greenthread::Thread::builder().daemon(true).build(move || {
                std::future::poll_fn(move |_| {
                    let _held = &guard;
                    if std::mem::take(&mut first) {
                        flag.store(true, Ordering::SeqCst);
                        // Blocks the worker past both shutdown graces.
                        let _ = released.recv_timeout(Duration::from_secs(60));
                    }
                    std::task::Poll::Pending
                })
            });
            t.start().unwrap();
            let ran = || running.load(Ordering::SeqCst);
            assert!(
                support::wait_until(LIMIT, ran).await,
                "the thread never ran"
            );
            t
        })
    };
    drop(rt); // gives up on the thread, then on its worker
    release.send(()).unwrap();
    let t0 = Instant::now();
    while drops.load(Ordering::SeqCst) == 0 {
        assert!(
            t0.elapsed() < LIMIT,
            "the task woken after the final drain was never dropped"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    let t0 = Instant::now();
    while thread.is_alive() {
        assert!(t0.elapsed() < LIMIT, "the thread never stopped");
        std::thread::sleep(Duration::from_millis(5));
    }
}
