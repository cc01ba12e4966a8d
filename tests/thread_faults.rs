//! The thread layer's fault table (SPEC §10.27, issue 9): every user
//! callback the thread layer calls — a target, the `Drop` of a target
//! (on completion, after `exit()`, on cancellation at shutdown), a panic
//! payload whose `Drop` panics, a `Local` value's `Drop`, the excepthook
//! and the trace/profile hooks — panics there, and afterwards `join()`
//! returns, other threads run, the workers are intact (100 more threads
//! start and finish) and the process did not abort, in every mode.
//!
//! A panic while a panic payload is dropped used to abort the process
//! (async-task drops a detached task's output under an abort guard). An
//! abort would kill the whole test process, so those scenarios run in a
//! child process: each `child_*` test is `#[ignore]`d and re-run by its
//! parent test through `std::env::current_exe()`, many times (the abort
//! did not happen on every run), and the parent checks the child's exit
//! status.

mod support;

use std::any::Any;
use std::panic::panic_any;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use greenthread::{sleep, spawn, yield_now, Local, Thread, TraceEvent};
use support::{in_child, poll_pending, wait_until};

/// A panic payload whose `Drop` panics.
struct Bomb;

impl Drop for Bomb {
    fn drop(&mut self) {
        panic!("the panic payload's Drop panics");
    }
}

/// A value whose `Drop` counts, then panics with `payload`.
struct PanicsOnDrop {
    drops: Arc<AtomicUsize>,
    payload: fn() -> Box<dyn Any + Send>,
}

impl Drop for PanicsOnDrop {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        std::panic::resume_unwind((self.payload)());
    }
}

fn plain_payload() -> Box<dyn Any + Send> {
    Box::new("Drop panics")
}

fn bomb_payload() -> Box<dyn Any + Send> {
    Box::new(Bomb)
}

/// A future holding `guard` beside `fut`: a panic (or `exit()`) of `fut`
/// unwinds through `poll` without dropping the guard — a `Drop` that
/// panics during unwinding aborts any Rust program — so the guard drops
/// with the future, where the runtime drops it.
struct Holding<G, F>(G, std::pin::Pin<Box<F>>);

fn holding<G: Unpin, F: std::future::Future>(guard: G, fut: F) -> Holding<G, F> {
    Holding(guard, Box::pin(fut))
}

impl<G: Unpin, F: std::future::Future> std::future::Future for Holding<G, F> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        self.get_mut().1.as_mut().poll(cx)
    }
}

/// Counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The runtime after a fault: 100 more threads start, run (across a switch
/// point) and are joined; a `Thread` joins too.
async fn assert_healthy() {
    let handles: Vec<_> = (0..100)
        .map(|i| {
            spawn(async move {
                yield_now().await;
                i
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        assert_eq!(h.await.expect("a thread after the fault"), i);
    }
    let t = Thread::new(|| async { sleep(Duration::from_millis(1)).await });
    t.start().unwrap();
    t.join().await.unwrap();
    assert!(!t.is_alive());
}

/// Starts `t` and waits for it to end.
async fn start_and_join(t: &Thread) {
    t.start().unwrap();
    t.join().await.unwrap();
    assert!(!t.is_alive());
}

/// Three threads whose targets hold a value made by `bad`, dropped by the
/// runtime after the target returned, panicked and called `exit()`; all
/// three are joined.
async fn join_three_holding(bad: impl Fn() -> PanicsOnDrop) {
    let (a, b, c) = (bad(), bad(), bad());
    let ts = [
        Thread::new(move || holding(a, yield_now())),
        Thread::new(move || {
            holding(b, async {
                yield_now().await;
                panic!("target fails");
            })
        }),
        Thread::new(move || {
            holding(c, async {
                yield_now().await;
                greenthread::exit();
            })
        }),
    ];
    for t in &ts {
        t.start().unwrap();
    }
    for t in &ts {
        t.join().await.unwrap();
    }
}

/// Starts a daemon thread whose target holds `guard` and sleeps for an
/// hour (so shutdown drops it), and waits until it runs.
async fn start_daemon_holding<G: Send + 'static>(guard: G) {
    let started = Arc::new(AtomicUsize::new(0));
    let s = started.clone();
    Thread::builder()
        .daemon(true)
        .build(move || async move {
            let _guard = guard;
            s.store(1, Ordering::SeqCst);
            sleep(Duration::from_secs(3600)).await;
        })
        .start()
        .unwrap();
    let running = || started.load(Ordering::SeqCst) == 1;
    assert!(wait_until(Duration::from_secs(30), running).await);
}

/// Runs `body` as the main thread of a fresh `kind` runtime on a helper OS
/// thread, failing (instead of hanging the suite) if it takes over 60 s.
fn bounded<F, Fut>(kind: &'static str, what: &str, body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            support::run_with(kind, body)
        }));
        let _ = tx.send(r.is_ok());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(true) => {}
        Ok(false) => panic!("{what} ({kind}): the body failed (see its panic above)"),
        Err(_) => panic!("{what} ({kind}): still running after 60 s (a hang)"),
    }
}

// ---------------------------------------------------------------------
// Scenarios that aborted the process: run in a child process.
// ---------------------------------------------------------------------

rt_test! {
    /// A `Thread` target panics with a payload whose `Drop` panics.
    #[ignore = "run in a child process by payload_drop_panics_thread"]
    fn child_payload_thread(kind) {
        bounded(kind, "payload of a Thread target", || async {
            let threads: Vec<Thread> = (0..5)
                .map(|_| {
                    let t = Thread::new(|| async {
                        yield_now().await;
                        panic_any(Bomb);
                    });
                    t.start().unwrap();
                    t
                })
                .collect();
            for t in &threads {
                t.join().await.unwrap();
                assert!(!t.is_alive());
            }
            assert_healthy().await;
        });
    }
}

#[test]
fn payload_drop_panics_thread() {
    in_child("child_payload_thread", 20);
}

rt_test! {
    /// A `spawn` future panics with such a payload: the handle is dropped (the
    /// runtime drops the payload) or awaited (a `JoinError` with the message).
    #[ignore = "run in a child process by payload_drop_panics_spawn"]
    fn child_payload_spawn(kind) {
        bounded(kind, "payload of a spawn", || async {
            let mut detached = Vec::new();
            for _ in 0..5 {
                let h = spawn(async {
                    yield_now().await;
                    panic_any(Bomb);
                });
                detached.push(h.thread().clone());
                drop(h);
            }
            for t in &detached {
                t.join().await.unwrap();
            }
            let h = spawn(async {
                yield_now().await;
                panic_any(Bomb);
            });
            let err = h.await.unwrap_err();
            assert!(err.is_panic(), "{err}");
            assert_healthy().await;
        });
    }
}

#[test]
fn payload_drop_panics_spawn() {
    in_child("child_payload_spawn", 20);
}

rt_test! {
    /// The excepthook, the trace hook and the profile hook panic with such a
    /// payload (hooks are process-wide: a child process has them to itself).
    #[ignore = "run in a child process by payload_drop_panics_hooks"]
    fn child_payload_hooks(kind) {
        greenthread::set_excepthook(Arc::new(|_| panic_any(Bomb)));
        greenthread::settrace(Arc::new(|_: &Thread, _: TraceEvent| panic_any(Bomb)));
        greenthread::setprofile(Arc::new(|_: &Thread, _: TraceEvent| panic_any(Bomb)));
        bounded(kind, "hooks panicking with a bad payload", || async {
            let ran = Arc::new(AtomicUsize::new(0));
            let r = ran.clone();
            let t = Thread::new(|| async move {
                sleep(Duration::from_millis(1)).await;
                r.fetch_add(1, Ordering::SeqCst);
                panic!("target fails");
            });
            start_and_join(&t).await;
            assert_eq!(ran.load(Ordering::SeqCst), 1, "the target ran to its end");
            assert_healthy().await;
        });
    }
}

#[test]
fn payload_drop_panics_hooks() {
    in_child("child_payload_hooks", 5);
}

rt_test! {
    /// The `Drop` of a target panics with such a payload: after the target
    /// returned, after it panicked, after `exit()`, and when the runtime drops
    /// a daemon thread at shutdown.
    #[ignore = "run in a child process by payload_drop_panics_target_drop"]
    fn child_payload_target_drop(kind) {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        bounded(kind, "target Drop with a bad payload", move || async move {
            let bad = || PanicsOnDrop {
                drops: d.clone(),
                payload: bomb_payload,
            };
            join_three_holding(bad).await;
            assert_eq!(d.load(Ordering::SeqCst), 3);
            start_daemon_holding(bad()).await;
            assert_healthy().await;
        });
        assert_eq!(
            drops.load(Ordering::SeqCst),
            4,
            "{kind}: the daemon's target was dropped"
        );
    }
}

#[test]
fn payload_drop_panics_target_drop() {
    in_child("child_payload_target_drop", 8);
}

rt_test! {
    /// `Local` values whose `Drop` panics — two plainly, one with such a
    /// payload — next to values that drop quietly: every value is dropped, the
    /// joiners return.
    #[ignore = "run in a child process by local_drops_panic"]
    fn child_local_drops_panic(kind) {
        static A: Local<Option<PanicsOnDrop>> = Local::new(|| None);
        static B: Local<Option<PanicsOnDrop>> = Local::new(|| None);
        static C: Local<Option<PanicsOnDrop>> = Local::new(|| None);
        static Q1: Local<Option<Counted>> = Local::new(|| None);
        static Q2: Local<Option<Counted>> = Local::new(|| None);
        bounded(kind, "Local values whose Drop panics", || async {
            let drops = Arc::new(AtomicUsize::new(0));
            let quiet = Arc::new(AtomicUsize::new(0));
            let (d, q) = (drops.clone(), quiet.clone());
            let t = Thread::new(move || async move {
                Q1.with(|v| *v = Some(Counted(q.clone())));
                A.with(|v| {
                    *v = Some(PanicsOnDrop {
                        drops: d.clone(),
                        payload: plain_payload,
                    })
                });
                B.with(|v| {
                    *v = Some(PanicsOnDrop {
                        drops: d.clone(),
                        payload: bomb_payload,
                    })
                });
                C.with(|v| {
                    *v = Some(PanicsOnDrop {
                        drops: d.clone(),
                        payload: plain_payload,
                    })
                });
                Q2.with(|v| *v = Some(Counted(q.clone())));
                yield_now().await;
            });
            start_and_join(&t).await;
            assert_eq!(
                drops.load(Ordering::SeqCst),
                3,
                "every panicking value dropped"
            );
            assert_eq!(
                quiet.load(Ordering::SeqCst),
                2,
                "the quiet values dropped too"
            );
            assert_healthy().await;
        });
    }
}

#[test]
fn local_drops_panic() {
    in_child("child_local_drops_panic", 8);
}

// ---------------------------------------------------------------------
// Scenarios that never aborted: in process, every mode.
// ---------------------------------------------------------------------

rt_test! {
    /// A target's plain panic ends only that thread.
    async fn target_panics() {
        let t = Thread::new(|| async {
            yield_now().await;
            panic!("target fails");
        });
        start_and_join(&t).await;
        assert!(!t.is_alive());
        let h = spawn(async {
            yield_now().await;
            panic!("spawn fails");
        });
        assert_eq!(h.await.unwrap_err().panic_message(), Some("spawn fails"));
        assert_healthy().await;
    }
}

rt_test! {
    /// The Drop of a target panics (plain payload) after it returned,
    /// panicked or exited.
    async fn target_drop_panics() {
        let drops = Arc::new(AtomicUsize::new(0));
        let bad = || PanicsOnDrop { drops: drops.clone(), payload: plain_payload };
        join_three_holding(bad).await;
        assert_eq!(drops.load(Ordering::SeqCst), 3);
        let d = bad();
        let h = spawn(holding(d, async {
            yield_now().await;
            5
        }));
        assert_eq!(h.await.unwrap(), 5);
        assert_eq!(drops.load(Ordering::SeqCst), 4);
        assert_healthy().await;
    }
}

rt_test! {
    /// The Drop of a daemon thread's target panics when the runtime drops it at
    /// shutdown (`block_on` returning, and a `Runtime` dropped): shutdown
    /// finishes, and a new runtime of the same kind works.
    fn target_drop_panics_at_shutdown(kind) {
        for drop_runtime in [false, true] {
            let drops = Arc::new(AtomicUsize::new(0));
            let d = drops.clone();
            let (tx, rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                let rt = support::builder_for(kind).build().unwrap();
                let body = start_daemon_holding(PanicsOnDrop {
                    drops: d,
                    payload: plain_payload,
                });
                if drop_runtime {
                    // A runtime dropped while its daemon still runs: only
                    // `Runtime::drop` cancels it.
                    let h = rt.spawn(body);
                    greenthread::block_on(h).unwrap();
                    drop(rt);
                } else {
                    rt.block_on(body);
                }
                support::run_with(kind, assert_healthy);
                let _ = tx.send(());
            });
            rx.recv_timeout(Duration::from_secs(60))
                .unwrap_or_else(|_| {
                    panic!("{kind}: shutdown with a panicking Drop hung or failed")
                });
            assert_eq!(
                drops.load(Ordering::SeqCst),
                1,
                "{kind}: the target was dropped"
            );
        }
    }
}

rt_test! {
    /// One Local value's Drop panics: the others are still dropped and the
    /// joiner returns.
    async fn local_drop_panics() {
        static P: Local<Option<PanicsOnDrop>> = Local::new(|| None);
        static Q: Local<Option<Counted>> = Local::new(|| None);
        static R: Local<Option<Counted>> = Local::new(|| None);
        let drops = Arc::new(AtomicUsize::new(0));
        let quiet = Arc::new(AtomicUsize::new(0));
        let (d, q) = (drops.clone(), quiet.clone());
        let t = Thread::new(move || async move {
            Q.with(|v| *v = Some(Counted(q.clone())));
            P.with(|v| *v = Some(PanicsOnDrop { drops: d, payload: plain_payload }));
            R.with(|v| *v = Some(Counted(q)));
            yield_now().await;
        });
        start_and_join(&t).await;
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert_eq!(quiet.load(Ordering::SeqCst), 2);
        assert_healthy().await;
    }
}

rt_test! {
    /// The excepthook panics (plain payload): reported, the thread ends, the
    /// runtime goes on.
    serial fn excepthook_panics(kind) {
        let previous = greenthread::excepthook();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        // Other tests' targets panic meanwhile: only this one's thread counts.
        greenthread::set_excepthook(Arc::new(move |args| {
            if args.thread.as_ref().map(Thread::name).as_deref() == Some("excepthook-victim") {
                c.fetch_add(1, Ordering::SeqCst);
            }
            panic!("the excepthook fails");
        }));
        let calls = calls.clone();
        bounded(kind, "panicking excepthook", move || async move {
            let before = calls.load(Ordering::SeqCst);
            let t = Thread::builder()
                .name("excepthook-victim")
                .build(|| async { panic!("target fails") });
            start_and_join(&t).await;
            assert_eq!(calls.load(Ordering::SeqCst), before + 1);
            assert_healthy().await;
        });
        greenthread::set_excepthook(previous);
    }
}

rt_test! {
    /// The trace and profile hooks panic (plain payload) on every event: the
    /// target runs to its end, joins return, the runtime goes on.
    serial fn trace_and_profile_hooks_panic(kind) {
        let events = Arc::new(AtomicUsize::new(0));
        let (e1, e2) = (events.clone(), events.clone());
        greenthread::settrace(Arc::new(move |_: &Thread, _: TraceEvent| {
            e1.fetch_add(1, Ordering::SeqCst);
            panic!("trace hook fails");
        }));
        greenthread::setprofile(Arc::new(move |_: &Thread, _: TraceEvent| {
            e2.fetch_add(1, Ordering::SeqCst);
            panic!("profile hook fails");
        }));
        let events = events.clone();
        bounded(kind, "panicking trace hooks", move || async move {
            let before = events.load(Ordering::SeqCst);
            let finished = Arc::new(AtomicUsize::new(0));
            let f = finished.clone();
            let t = Thread::new(|| async move {
                sleep(Duration::from_millis(1)).await;
                f.store(1, Ordering::SeqCst);
            });
            start_and_join(&t).await;
            assert_eq!(
                finished.load(Ordering::SeqCst),
                1,
                "the target ran to its end"
            );
            assert!(
                events.load(Ordering::SeqCst) > before,
                "the hooks were called"
            );
            assert_healthy().await;
        });
        let quiet = Arc::new(|_: &Thread, _: TraceEvent| {});
        greenthread::settrace(quiet.clone());
        greenthread::setprofile(quiet);
    }
}

// ---------------------------------------------------------------------
// Panicking wakers of the threads' awaiters.
// ---------------------------------------------------------------------

rt_test! {
    /// A `spawn` handle polled by hand with a waker that panics: async-task
    /// wakes a task's awaiter under an abort guard, so the end of the task
    /// aborted the process. It must be ignored instead, and the handle still
    /// give the output.
    #[ignore = "run in a child process by join_handle_waker_panics"]
    fn child_join_handle_waker_panics(kind) {
        bounded(kind, "a JoinHandle's panicking waker", || async {
            let go = Arc::new(greenthread::Event::new());
            let (bad_count, bad) = support::panicking_waker();
            let mut handles = Vec::new();
            for i in 0..5 {
                let g = go.clone();
                let mut h = spawn(async move {
                    g.wait().await;
                    i
                });
                poll_pending(&mut h, &bad);
                handles.push(h);
            }
            go.set();
            let finished = || handles.iter().all(|h| h.is_finished());
            assert!(wait_until(Duration::from_secs(30), finished).await);
            let woken = || bad_count.0.load(Ordering::SeqCst) == 5;
            assert!(wait_until(Duration::from_secs(30), woken).await);
            for (i, h) in handles.into_iter().enumerate() {
                assert_eq!(h.await.unwrap(), i);
            }
            assert_healthy().await;
        });
    }
}

#[test]
fn join_handle_waker_panics() {
    in_child("child_join_handle_waker_panics", 3);
}

rt_test! {
    /// A `Thread::join()` future polled by hand with a waker that panics,
    /// ahead of another joiner: the thread still ends, the other joiner is
    /// woken and later joins work.
    #[ignore = "run in a child process by join_waker_panics"]
    fn child_join_waker_panics(kind) {
        bounded(kind, "a join()'s panicking waker", || async {
            let go = Arc::new(greenthread::Event::new());
            let g = go.clone();
            let t = Thread::new(move || async move {
                g.wait().await;
            });
            t.start().unwrap();
            let support::TwoWaiters {
                bad: bad_count,
                good: good_count,
                first,
                second,
            } = support::two_waiters(|| t.join());
            go.set();
            let woken = || good_count.0.load(Ordering::SeqCst) >= 1;
            assert!(
                wait_until(Duration::from_secs(30), woken).await,
                "the joiner behind a panicking waker was never woken"
            );
            assert_eq!(bad_count.0.load(Ordering::SeqCst), 1);
            assert!(!t.is_alive());
            first.await.unwrap();
            second.await.unwrap();
            // The thread's event still works: a fresh thread joined twice.
            let t = Thread::new(|| async { sleep(Duration::from_millis(5)).await });
            t.start().unwrap();
            let (a, b) = (t.join(), t.join());
            a.await.unwrap();
            b.await.unwrap();
            assert_healthy().await;
        });
    }
}

#[test]
fn join_waker_panics() {
    in_child("child_join_waker_panics", 3);
}
