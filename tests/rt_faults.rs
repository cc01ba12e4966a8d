//! Panicking user wakers run by the runtime (SPEC §10.27): a timer whose
//! waker panics must neither kill the worker (or the driver thread) that
//! fires it nor lose the wake-ups of the other timers fired with it.

mod support;

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Wake, Waker};
use std::time::{Duration, Instant};

use greenthread::{Runtime, Sleep};

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

/// A waker that panics when woken, counting the attempts.
struct Panicking(AtomicUsize);

impl Wake for Panicking {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
        panic!("waker panics on purpose");
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
                let panicking = Arc::new(Panicking(AtomicUsize::new(0)));
                let bad = Waker::from(panicking.clone());
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
