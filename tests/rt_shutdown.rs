//! Shutdown as at Python's interpreter exit: `run`/`block_on` wait for
//! non-daemon threads (also ones started late by other threads), drop
//! daemon threads' futures before returning, refuse new threads
//! afterwards, re-raise a panicking main after the non-daemon threads, and
//! never leak OS threads — python-semantics §2 "Interpreter shutdown",
//! scenarios 84, 85, 105, 108, SPEC §2, §10.4, §10.16, §10.18.
//!
//! The thread-count test reads /proc/self/task, which every test in this
//! process changes: all tests here hold `SERIAL`.

mod support;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use greenthread::{
    current_thread, enumerate, main_thread, sleep, spawn, Mode, Runtime, Thread, ThreadError,
};

use support::serial;

/// Sets its flag when dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Runs `f` on a helper thread; fails the test if it takes longer than
/// `limit` (a hang) instead of hanging the suite.
fn within<T: Send + 'static>(limit: Duration, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = catch_unwind(AssertUnwindSafe(f));
        let _ = tx.send(r);
    });
    match rx.recv_timeout(limit) {
        Ok(Ok(v)) => v,
        Ok(Err(p)) => std::panic::resume_unwind(p),
        Err(_) => panic!("did not finish within {limit:?} (hang)"),
    }
}

rt_test! {
    /// test_join_nondaemon_on_shutdown: block_on returns only after the
    /// non-daemon threads, including ones they start late.
    serial fn waits_for_non_daemon_threads(kind) {
        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        let start = Instant::now();
        support::run_with(kind, move || async move {
            let d2 = d.clone();
            Thread::new(move || async move {
                sleep(Duration::from_millis(100)).await;
                // Started after main returned, by a non-daemon thread.
                let d3 = d2.clone();
                Thread::new(move || async move {
                    sleep(Duration::from_millis(100)).await;
                    d3.fetch_add(1, Ordering::SeqCst);
                })
                .start()
                .unwrap();
                d2.fetch_add(1, Ordering::SeqCst);
            })
            .start()
            .unwrap();
            // A spawn()ed thread is non-daemon too (inherited from main).
            let d4 = d.clone();
            drop(spawn(async move {
                sleep(Duration::from_millis(50)).await;
                d4.fetch_add(1, Ordering::SeqCst);
            }));
        });
        assert_eq!(done.load(Ordering::SeqCst), 3, "{kind}");
        assert!(start.elapsed() >= Duration::from_millis(200), "{kind}");
    }
}

rt_test! {
    /// §10.16: daemon threads' futures are dropped (destructors run) before
    /// block_on returns, and they do not delay exit.
    serial fn daemon_futures_dropped(kind) {
        let dropped = Arc::new(AtomicBool::new(false));
        let d = dropped.clone();
        let ran_after = Arc::new(AtomicBool::new(false));
        let r = ran_after.clone();
        let start = Instant::now();
        // Bounded: if shutdown waited on the daemons it would hang for an
        // hour; this fails instead.
        within(Duration::from_secs(30), move || {
            support::run_with(kind, move || async move {
                // The flag must exist before main returns (a daemon not yet
                // polled at shutdown has nothing to drop): wait until it does.
                let armed = Arc::new(AtomicBool::new(false));
                let a = armed.clone();
                let t = Thread::builder().daemon(true).build(move || async move {
                    let _flag = DropFlag(d);
                    a.store(true, Ordering::SeqCst);
                    sleep(Duration::from_secs(3600)).await;
                    r.store(true, Ordering::SeqCst);
                });
                t.start().unwrap();
                // An always-busy daemon that keeps yielding is dropped too.
                Thread::builder()
                    .daemon(true)
                    .build(|| async {
                        loop {
                            greenthread::yield_now().await;
                        }
                    })
                    .start()
                    .unwrap();
                assert!(
                    support::wait_until(Duration::from_secs(20), || armed.load(Ordering::SeqCst))
                        .await,
                    "the daemon never ran"
                );
            })
        });
        assert!(
            dropped.load(Ordering::SeqCst),
            "{kind}: daemon future not dropped"
        );
        assert!(!ran_after.load(Ordering::SeqCst));
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{kind}: exit delayed"
        );
    }
}

rt_test! {
    /// §10.4 / scenario 85: a thread started during shutdown (here from a
    /// daemon's destructor, as from a finalizer at exit) gets ShuttingDown and
    /// its target never runs.
    serial fn start_during_shutdown_fails(kind) {
        let result = Arc::new(Mutex::new(None));
        let ran = Arc::new(AtomicBool::new(false));
        let (res, r) = (result.clone(), ran.clone());
        struct StartOnDrop(Arc<Mutex<Option<Result<(), ThreadError>>>>, Arc<AtomicBool>);
        impl Drop for StartOnDrop {
            fn drop(&mut self) {
                let ran = self.1.clone();
                let t = Thread::new(move || async move { ran.store(true, Ordering::SeqCst) });
                *self.0.lock().unwrap() = Some(t.start());
            }
        }
        support::run_with(kind, move || async move {
            // The guard must exist before main returns (a daemon not yet
            // polled at shutdown has no guard to drop): wait until it does.
            let armed = Arc::new(AtomicBool::new(false));
            let a = armed.clone();
            Thread::builder()
                .daemon(true)
                .build(move || async move {
                    let _g = StartOnDrop(res, r);
                    a.store(true, Ordering::SeqCst);
                    std::future::pending::<()>().await;
                })
                .start()
                .unwrap();
            assert!(
                support::wait_until(Duration::from_secs(30), || armed.load(Ordering::SeqCst)).await,
                "the daemon never ran"
            );
        });
        let got = *result.lock().unwrap();
        assert_eq!(got, Some(Err(ThreadError::ShuttingDown)), "{kind}");
        std::thread::sleep(Duration::from_millis(20));
        assert!(!ran.load(Ordering::SeqCst), "{kind}");
        assert_eq!(
            ThreadError::ShuttingDown.to_string(),
            "can't create new thread at interpreter shutdown"
        );
    }
}

rt_test! {
    /// §10.4: a Thread made inside a runtime and started after its block_on
    /// returned gets ShuttingDown; spawn() there gives a cancelled handle.
    serial fn start_after_return_fails(kind) {
        let rt = support::builder_for(kind).build().unwrap();
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let t = rt.block_on(async move {
            Thread::new(move || async move { r.store(true, Ordering::SeqCst) })
        });
        assert_eq!(t.start(), Err(ThreadError::ShuttingDown), "{kind}");
        std::thread::sleep(Duration::from_millis(20));
        assert!(
            !ran.load(Ordering::SeqCst),
            "{kind}: target ran after shutdown"
        );
    }
}

rt_test! {
    /// A panic in main is re-raised after the non-daemon threads finished.
    serial fn main_panic_after_non_daemon(kind) {
        let done = Arc::new(AtomicBool::new(false));
        let d = done.clone();
        let out = catch_unwind(AssertUnwindSafe(|| {
            support::run_with(kind, move || async move {
                Thread::new(move || async move {
                    sleep(Duration::from_millis(50)).await;
                    d.store(true, Ordering::SeqCst);
                })
                .start()
                .unwrap();
                std::panic::resume_unwind(Box::new("main boom"));
            })
        }));
        let payload = out.expect_err("block_on re-raises main's panic");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"main boom"), "{kind}");
        assert!(
            done.load(Ordering::SeqCst),
            "{kind}: panic re-raised before the thread ended"
        );
    }
}

rt_test! {
    /// python-semantics §2 step 3: the main thread is marked done before the
    /// non-daemon threads are joined, so a thread joining main_thread() wakes
    /// (Python prints "end of main" then "end of thread") instead of
    /// deadlocking shutdown.
    serial fn thread_joining_main_thread(kind) {
        let order = Arc::new(Mutex::new(Vec::new()));
        let o = order.clone();
        within(Duration::from_secs(30), move || {
            support::run_with(kind, move || async move {
                let o2 = o.clone();
                Thread::new(move || async move {
                    let main = main_thread();
                    main.join().await.unwrap();
                    assert!(!main.is_alive());
                    o2.lock().unwrap().push("end of thread");
                })
                .start()
                .unwrap();
                sleep(Duration::from_millis(5)).await;
                o.lock().unwrap().push("end of main");
            });
        });
        assert_eq!(
            *order.lock().unwrap(),
            ["end of main", "end of thread"],
            "{kind}"
        );
    }
}

/// Scenario 84: during shutdown (a daemon's destructor), current_thread()
/// still answers and enumerate() still lists main.
#[test]
fn registry_during_shutdown() {
    let _s = serial();
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    struct Look(Arc<Mutex<Option<(bool, bool)>>>);
    impl Drop for Look {
        fn drop(&mut self) {
            let main = main_thread();
            *self.0.lock().unwrap() = Some((
                enumerate().contains(&main),
                current_thread().name().starts_with("Thread-"),
            ));
        }
    }
    support::run_with("green_n", move || async move {
        // The guard must exist before main returns: wait until it does.
        let armed = Arc::new(AtomicBool::new(false));
        let a = armed.clone();
        Thread::builder()
            .daemon(true)
            .build(move || async move {
                let _l = Look(s);
                a.store(true, Ordering::SeqCst);
                std::future::pending::<()>().await;
            })
            .start()
            .unwrap();
        assert!(
            support::wait_until(Duration::from_secs(30), || armed.load(Ordering::SeqCst)).await,
            "the daemon never ran"
        );
    });
    assert_eq!(*seen.lock().unwrap(), Some((true, true)));
}

/// §10.18: the main future need not be Send; run() returns its output.
#[test]
fn non_send_main_and_run() {
    let _s = serial();
    let v = greenthread::run(async {
        let rc = std::rc::Rc::new(5);
        sleep(Duration::from_millis(1)).await;
        let h = spawn(async { 2 });
        *rc + h.await.unwrap()
    });
    assert_eq!(v, 7);
}

fn os_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .map(|d| d.count())
        .unwrap_or(0)
}

/// Waits (up to 10 s) for the OS thread count to drop to `limit` or less.
fn settle(limit: usize) -> usize {
    let start = Instant::now();
    loop {
        let n = os_threads();
        if n <= limit || start.elapsed() > Duration::from_secs(10) {
            return n;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// SPEC §9: building and dropping many runtimes (each with workers and
/// threads, and daemon threads left running) leaks no OS threads.
#[test]
#[cfg(target_os = "linux")]
fn many_runtimes_no_thread_leak() {
    let _s = serial();
    // Warm up the process-wide pieces (driver thread).
    support::run_with("green_1", || async {
        sleep(Duration::from_millis(1)).await
    });
    std::thread::sleep(Duration::from_millis(200));
    let before = os_threads();
    for i in 0..150 {
        let mode = if i % 3 == 0 {
            Mode::OsThreads
        } else {
            Mode::Green
        };
        let rt = Runtime::builder()
            .mode(mode)
            .workers(2)
            .gil(i % 5 == 0)
            .build()
            .unwrap();
        rt.block_on(async {
            let h = spawn(async { sleep(Duration::from_millis(1)).await });
            Thread::builder()
                .daemon(true)
                .build(|| async { sleep(Duration::from_secs(3600)).await })
                .start()
                .unwrap();
            h.await.unwrap();
        });
        drop(rt);
    }
    // Runtimes dropped without ever calling block_on too.
    for _ in 0..50 {
        drop(Runtime::builder().workers(2).build().unwrap());
    }
    let after = settle(before + 4);
    assert!(
        after <= before + 4,
        "OS threads: {before} before, {after} after 200 runtimes"
    );
}

rt_test! {
    /// A daemon thread cancelled at shutdown while a guard borrows a
    /// primitive it captured (a `LockGuard`, a barrier wait) drops its
    /// future where it is pinned: moving it out first left the guard
    /// pointing at the emptied slot (a crash).
    serial async fn cancelled_daemon_with_a_borrowing_guard() {
        let lock = greenthread::Lock::new();
        lock.acquire().await;
        for _ in 0..20 {
            let b = greenthread::Barrier::new(2);
            let own = greenthread::Lock::new();
            let l = lock.clone();
            let mut f = Some(async move {
                let _held = own.lock().await;
                let _ = b.wait_timeout(Duration::from_secs(60)).await;
                let _g = l.lock().await;
            });
            let t = greenthread::Thread::builder()
                .daemon(true)
                .build(move || f.take().unwrap());
            t.start().unwrap();
        }
        greenthread::sleep(Duration::from_millis(20)).await;
    }
}

rt_test! {
    /// §10.4: `spawn` on a runtime whose `block_on` returned gives a
    /// cancelled handle; its future is dropped, never polled, and its
    /// thread was never started.
    serial fn spawn_after_return_is_cancelled_unrun(kind) {
        /// Sets its flag when dropped.
        struct Dropped(Arc<AtomicBool>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let rt = support::builder_for(kind).build().unwrap();
        rt.block_on(async {});
        let (ran, dropped) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicBool::new(false)));
        let (r, d) = (ran.clone(), Dropped(dropped.clone()));
        let h = rt.spawn(async move {
            let _d = d;
            r.store(true, Ordering::SeqCst);
        });
        let t = h.thread().clone();
        assert!(h.is_finished(), "{kind}");
        let err = greenthread::block_on(h).expect_err("a cancelled handle");
        assert!(err.is_cancelled(), "{kind}: {err}");
        assert!(dropped.load(Ordering::SeqCst), "{kind}: the future was kept");
        assert!(!ran.load(Ordering::SeqCst), "{kind}: the future ran");
        assert!(!t.is_alive(), "{kind}");
        assert_eq!(t.ident(), None, "{kind}: a refused start leaves no ident");
    }
}

rt_test! {
    /// Daemon threads made by `spawn` (their state in their task, which
    /// keeps no copy of its waker) are cancelled at shutdown whether they
    /// parked for good or woke themselves and wait in a queue: every
    /// future is dropped before `block_on` returns.
    serial fn spawned_daemons_are_cancelled_however_they_wait(kind) {
        let (dropped, parked) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (d, p) = (dropped.clone(), parked.clone());
        support::run_with(kind, move || async move {
            /// Counts its drop.
            struct Count(Arc<AtomicUsize>);
            impl Drop for Count {
                fn drop(&mut self) {
                    self.0.fetch_add(1, Ordering::SeqCst);
                }
            }
            for i in 0..40 {
                let (c, p) = (Count(d.clone()), p.clone());
                drop(Thread::builder().daemon(true).spawn(async move {
                    let _c = c;
                    p.fetch_add(1, Ordering::SeqCst);
                    if i % 2 == 0 {
                        std::future::pending::<()>().await;
                    }
                    loop {
                        greenthread::yield_now().await;
                    }
                }));
            }
            assert!(
                support::wait_until(Duration::from_secs(30), || p.load(Ordering::SeqCst) == 40).await,
                "the daemons never ran"
            );
        });
        assert_eq!(parked.load(Ordering::SeqCst), 40, "{kind}");
        assert_eq!(dropped.load(Ordering::SeqCst), 40, "{kind}: a daemon's future was kept");
    }
}
