//! The queues under faults (SPEC §10.26, §10.27): items whose `Drop`
//! panics, a `PriorityQueue` item whose `Ord` panics, and bursts of puts
//! and gets meeting blocked waiters (a notified waiter that has not run yet
//! must not absorb the notifications that follow; a cancelled notified
//! waiter passes its notification on).
//!
//! Every scenario that could hang runs on a helper OS thread and is waited
//! for with a timeout, so a lost wakeup fails the test instead of hanging
//! the suite.

mod support;

use std::cmp::Ordering as CmpOrdering;
use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll};
use std::time::Duration;

use greenthread::queue::{GetError, LifoQueue, PriorityQueue, PutError, Queue};
use support::{counting_waker, wait_until};

/// How long a scenario may take before it counts as hung.
const LIMIT: Duration = Duration::from_secs(60);

/// How long "promptly" is for a woken thread on a loaded machine.
const PROMPT: Duration = Duration::from_secs(20);

/// Runs `f` on a helper OS thread; fails if it panics or does not finish
/// within `limit` (a hang: the thread is left behind).
fn bounded(what: &str, limit: Duration, f: impl FnOnce() + Send + 'static) {
    let (tx, rx) = mpsc::channel::<()>();
    let h = std::thread::spawn(move || {
        f();
        let _ = tx.send(());
    });
    match rx.recv_timeout(limit) {
        Ok(()) => h.join().unwrap(),
        // The sender was dropped without sending: `f` panicked.
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            if let Err(p) = h.join() {
                resume_unwind(p)
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => {
            panic!("{what}: did not finish within {limit:?} (a stranded waiter?)")
        }
    }
}

/// Runs an async body as the main thread of a `kind` runtime, bounded by
/// [`LIMIT`].
fn in_kind<Fut: Future<Output = ()> + 'static>(what: &str, kind: &'static str, body: fn() -> Fut) {
    bounded(&format!("{what} [{kind}]"), LIMIT, move || {
        support::run_with(kind, body)
    });
}

/// Runs `f` on a fresh thread of the current runtime; its panic comes back
/// as `Err`.
async fn on_thread<T: Send + 'static>(
    f: impl Future<Output = T> + Send + 'static,
) -> Result<T, greenthread::JoinError> {
    greenthread::spawn(f).await
}

/// Awaits `f`, failing the test if it takes longer than [`PROMPT`].
async fn promptly<F: Future>(what: &str, f: F) -> F::Output {
    match greenthread::timeout(PROMPT, f).await {
        Ok(v) => v,
        Err(_) => panic!("{what}: not done within {PROMPT:?} (a lost wakeup)"),
    }
}

/// Silences the default panic hook's report for the panics these tests
/// provoke on purpose (they would flood the output); other panics are
/// reported as usual.
fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let prev = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            // The message is in the Display (the payload of a formatted
            // panic is not a string before the hook formats it).
            let msg = info.to_string();
            if !msg.contains("expected:") {
                prev(info);
            }
        }));
    });
}

/// The message of a caught panic.
fn message(p: &(dyn std::any::Any + Send)) -> String {
    p.downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_default()
}

/// An item whose `Drop` panics when `boom` is set; every drop is counted.
struct Bomb {
    id: u32,
    boom: bool,
    drops: Arc<AtomicUsize>,
}

impl Bomb {
    fn new(id: u32, boom: bool, drops: &Arc<AtomicUsize>) -> Self {
        quiet_expected_panics();
        Bomb {
            id,
            boom,
            drops: drops.clone(),
        }
    }
}

impl Drop for Bomb {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
        if self.boom {
            panic!("expected: Bomb {} dropped", self.id);
        }
    }
}

/// An item whose `Ord` panics when it compares one of the values in
/// `poison` (a pair; `-1` never matches) — only once if `once`.
#[derive(Debug)]
struct Touchy {
    v: i32,
    poison: Arc<Poison>,
}

#[derive(Debug)]
struct Poison {
    /// Comparing any of these two values panics (unless disarmed).
    values: [AtomicI32; 2],
    /// Whether both must be compared with each other (else either alone).
    pair: bool,
    /// Disarm after the first panic.
    once: bool,
    /// Panics so far.
    panics: AtomicUsize,
}

impl Poison {
    fn new(a: i32, b: i32, pair: bool, once: bool) -> Arc<Self> {
        quiet_expected_panics();
        Arc::new(Poison {
            values: [AtomicI32::new(a), AtomicI32::new(b)],
            pair,
            once,
            panics: AtomicUsize::new(0),
        })
    }

    /// Never panics.
    fn safe() -> Arc<Self> {
        Poison::new(-1, -1, false, false)
    }

    fn disarm(&self) {
        for v in &self.values {
            v.store(-1, Ordering::SeqCst);
        }
    }

    fn arm(&self, a: i32, b: i32) {
        self.values[0].store(a, Ordering::SeqCst);
        self.values[1].store(b, Ordering::SeqCst);
    }

    fn check(&self, x: i32, y: i32) {
        let hit = |v: i32| self.values.iter().any(|p| p.load(Ordering::SeqCst) == v);
        let bad = if self.pair {
            x != y && hit(x) && hit(y)
        } else {
            hit(x) || hit(y)
        };
        if bad {
            if self.once {
                self.disarm();
            }
            self.panics.fetch_add(1, Ordering::SeqCst);
            panic!("expected: Ord panicked comparing {x} and {y}");
        }
    }

    fn panics(&self) -> usize {
        self.panics.load(Ordering::SeqCst)
    }
}

impl Touchy {
    fn new(v: i32, poison: &Arc<Poison>) -> Self {
        Touchy {
            v,
            poison: poison.clone(),
        }
    }
}

impl PartialEq for Touchy {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == CmpOrdering::Equal
    }
}
impl Eq for Touchy {}
impl PartialOrd for Touchy {
    fn partial_cmp(&self, other: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(other))
    }
}
impl Ord for Touchy {
    fn cmp(&self, other: &Self) -> CmpOrdering {
        self.poison.check(self.v, other.v);
        self.v.cmp(&other.v)
    }
}

// ---------------------------------------------------------------------------
// 1. Immediate shutdown with an item whose Drop panics.
// ---------------------------------------------------------------------------

macro_rules! shutdown_with_panicking_drop {
    ($name:ident, $ty:ident) => {
        rt_test! {
            /// `shutdown(true)` with a drained item whose `Drop` panics: the
            /// blocked putters and a `join()` caller still wake, the queue is
            /// consistent, every other item is dropped, and the panic reaches
            /// the caller of `shutdown` (documented under `# Panics`).
            fn $name(kind) {
                async fn body() {
                    let drops = Arc::new(AtomicUsize::new(0));
                    let q = $ty::new(3);
                    q.put_nowait(Bomb::new(0, false, &drops)).ok().unwrap();
                    q.put_nowait(Bomb::new(1, true, &drops)).ok().unwrap();
                    q.put_nowait(Bomb::new(2, false, &drops)).ok().unwrap();
                    // The putters' items have a count of their own: they are
                    // given back (and dropped) as soon as the putters wake.
                    let pdrops = Arc::new(AtomicUsize::new(0));
                    let putters: Vec<_> = (10..13)
                        .map(|i| {
                            let (q, d) = (q.clone(), pdrops.clone());
                            greenthread::spawn(async move {
                                match q.put(Bomb::new(i, false, &d)).await {
                                    Err(PutError::ShutDown(b)) => b.id,
                                    Err(PutError::Full(_)) => panic!("put: Full without a timeout"),
                                    Ok(()) => panic!("put after an immediate shutdown"),
                                    Err(_) => panic!("put: an unknown error"),
                                }
                            })
                        })
                        .collect();
                    let joiner = {
                        let q = q.clone();
                        greenthread::spawn(async move { q.join().await })
                    };
                    greenthread::sleep(Duration::from_millis(50)).await;
                    let r = catch_unwind(AssertUnwindSafe(|| q.shutdown(true)));
                    let p = r.expect_err("the Drop's panic reaches the caller of shutdown");
                    assert_eq!(message(&*p), "expected: Bomb 1 dropped");
                    // Consistent before the drop ran, and still.
                    assert!(q.is_shut_down());
                    assert_eq!(q.qsize(), 0);
                    assert_eq!(q.unfinished_tasks(), 0);
                    assert_eq!(
                        drops.load(Ordering::SeqCst),
                        3,
                        "every drained item dropped"
                    );
                    let mut back = Vec::new();
                    for p in putters {
                        back.push(promptly("a blocked putter", p).await.unwrap());
                    }
                    back.sort();
                    assert_eq!(back, [10, 11, 12]);
                    promptly("join()", joiner).await.unwrap();
                    promptly("join() after shutdown", q.join()).await;
                    assert_eq!(q.get_nowait().err(), Some(GetError::ShutDown));
                    assert_eq!(pdrops.load(Ordering::SeqCst), 3);
                }
                in_kind(stringify!($name), kind, body);
            }
        }
    };
}

shutdown_with_panicking_drop!(fifo_shutdown_with_panicking_drop, Queue);
shutdown_with_panicking_drop!(lifo_shutdown_with_panicking_drop, LifoQueue);

/// `PriorityQueue` variant: `Bomb` is not `Ord`, so wrap it.
struct Ranked(u32, #[allow(dead_code)] Bomb);
impl PartialEq for Ranked {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl Eq for Ranked {}
impl PartialOrd for Ranked {
    fn partial_cmp(&self, o: &Self) -> Option<CmpOrdering> {
        Some(self.cmp(o))
    }
}
impl Ord for Ranked {
    fn cmp(&self, o: &Self) -> CmpOrdering {
        self.0.cmp(&o.0)
    }
}

rt_test! {
    fn priority_shutdown_with_panicking_drop(kind) {
        async fn body() {
            let drops = Arc::new(AtomicUsize::new(0));
            let q = PriorityQueue::new(2);
            q.put_nowait(Ranked(1, Bomb::new(1, true, &drops)))
                .ok()
                .unwrap();
            q.put_nowait(Ranked(2, Bomb::new(2, false, &drops)))
                .ok()
                .unwrap();
            let putter = {
                let (q, d) = (q.clone(), drops.clone());
                greenthread::spawn(
                    async move { q.put(Ranked(3, Bomb::new(3, false, &d))).await.is_err() },
                )
            };
            let joiner = {
                let q = q.clone();
                greenthread::spawn(async move { q.join().await })
            };
            greenthread::sleep(Duration::from_millis(50)).await;
            assert!(catch_unwind(AssertUnwindSafe(|| q.shutdown(true))).is_err());
            assert_eq!((q.qsize(), q.unfinished_tasks()), (0, 0));
            assert!(promptly("the blocked putter", putter).await.unwrap());
            promptly("join()", joiner).await.unwrap();
            assert_eq!(drops.load(Ordering::SeqCst), 3);
        }
        in_kind("priority_shutdown_with_panicking_drop", kind, body);
    }
}

/// Several panicking drops at one shutdown: each item is dropped (none
/// leaked, no double panic aborting the process); the first panic is
/// resumed, the others are ignored.
#[test]
fn shutdown_with_several_panicking_drops() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(0);
    for i in 0..5 {
        q.put_nowait(Bomb::new(i, i % 2 == 0, &drops)).ok().unwrap();
    }
    let p = catch_unwind(AssertUnwindSafe(|| q.shutdown(true))).expect_err("resumed");
    assert_eq!(message(&*p), "expected: Bomb 0 dropped", "the first one");
    assert_eq!(drops.load(Ordering::SeqCst), 5);
    assert_eq!((q.qsize(), q.unfinished_tasks()), (0, 0));
    // Once more: nothing left to drop, no panic.
    q.shutdown(true);
}

/// Dropping the last handle of a queue that holds several items whose
/// `Drop` panics: every item is dropped and one panic reaches the dropper
/// (not an abort from a panic during unwinding).
#[test]
fn queue_drop_with_panicking_items() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(0);
    let l = LifoQueue::new(0);
    let p = PriorityQueue::new(0);
    for i in 0..4 {
        q.put_nowait(Bomb::new(i, i != 1, &drops)).ok().unwrap();
        l.put_nowait(Bomb::new(i, i != 1, &drops)).ok().unwrap();
        p.put_nowait(Ranked(i, Bomb::new(i, i != 1, &drops)))
            .ok()
            .unwrap();
    }
    assert!(catch_unwind(AssertUnwindSafe(|| drop(q))).is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 4);
    assert!(catch_unwind(AssertUnwindSafe(|| drop(l))).is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 8);
    assert!(catch_unwind(AssertUnwindSafe(|| drop(p))).is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 12);
    // Dropped while already unwinding: the item panics are swallowed (a
    // second panic would abort the process).
    let q = Queue::new(0);
    q.put_nowait(Bomb::new(9, true, &drops)).ok().unwrap();
    let r = catch_unwind(AssertUnwindSafe(move || {
        let _q = q;
        panic!("expected: the owner panics");
    }));
    assert_eq!(message(&*r.unwrap_err()), "expected: the owner panics");
    assert_eq!(drops.load(Ordering::SeqCst), 13);
}

/// A blocked put future holding an item whose `Drop` panics is notified
/// (a slot freed), then dropped: the panic reaches the dropper, and the
/// notification has already gone to the next putter.
#[test]
fn cancelled_notified_put_with_panicking_item() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(1);
    q.put_nowait(Bomb::new(0, false, &drops)).ok().unwrap();
    let (c1, w1) = counting_waker();
    let (c2, w2) = counting_waker();
    let mut p1 = Box::pin(q.put(Bomb::new(1, true, &drops)));
    let mut p2 = Box::pin(q.put(Bomb::new(2, false, &drops)));
    assert!(p1.as_mut().poll(&mut Context::from_waker(&w1)).is_pending());
    assert!(p2.as_mut().poll(&mut Context::from_waker(&w2)).is_pending());
    drop(q.get_nowait().ok().unwrap());
    assert_eq!(
        c1.0.load(Ordering::SeqCst),
        1,
        "the oldest putter is notified"
    );
    assert!(catch_unwind(AssertUnwindSafe(move || drop(p1))).is_err());
    assert_eq!(drops.load(Ordering::SeqCst), 2);
    assert_eq!(c2.0.load(Ordering::SeqCst), 1, "the notification passed on");
    assert!(matches!(
        p2.as_mut().poll(&mut Context::from_waker(&w2)),
        Poll::Ready(Ok(()))
    ));
    assert_eq!(q.get_nowait().ok().map(|b| b.id), Some(2));
    assert_eq!(q.unfinished_tasks(), 2);
}

// ---------------------------------------------------------------------------
// 2. PriorityQueue with an Ord that panics.
// ---------------------------------------------------------------------------

/// Drains `q` (disarmed), checking the values come out in order.
fn drain_values(q: &PriorityQueue<Touchy>) -> Vec<i32> {
    let mut out = Vec::new();
    while let Ok(t) = q.get_nowait() {
        out.push(t.v);
    }
    out
}

/// Marks `n` items done, then checks that one more is refused.
fn finish(q: &PriorityQueue<Touchy>, n: usize) {
    for _ in 0..n {
        q.task_done().unwrap();
    }
    assert!(q.task_done().is_err());
}

rt_test! {
    /// A put whose `Ord` panics: the item is in the queue *and* counted (the
    /// caller lost it, so the queue must hold it), and the panic reaches the
    /// caller.
    fn priority_put_ord_panic_keeps_and_counts_item(kind) {
        async fn body() {
            let poison = Poison::safe();
            let q = PriorityQueue::new(0);
            for v in 1..=5 {
                q.put(Touchy::new(v, &poison)).await.unwrap();
            }
            poison.arm(0, 0);
            let r = catch_unwind(AssertUnwindSafe(|| q.put_nowait(Touchy::new(0, &poison))));
            assert!(r.is_err(), "the Ord panic propagates to put_nowait");
            assert_eq!(q.qsize(), 6);
            assert_eq!(q.unfinished_tasks(), 6, "the item kept is counted");
            // The async put, on a thread of its own.
            let (q2, p2) = (q.clone(), poison.clone());
            let r = on_thread(async move { q2.put(Touchy::new(0, &p2)).await.is_ok() }).await;
            assert!(r.is_err(), "the put's thread panicked");
            assert_eq!((q.qsize(), q.unfinished_tasks()), (7, 7));
            poison.disarm();
            let mut got = drain_values(&q);
            got.sort();
            assert_eq!(got, [0, 0, 1, 2, 3, 4, 5], "every item is still there");
            finish(&q, 7);
            promptly("join()", q.join()).await;
        }
        in_kind("priority_put_ord_panic_keeps_and_counts_item", kind, body);
    }
}

/// A get whose `Ord` panics leaves the item in the queue (in order: the
/// heap is restored), the count unchanged.
#[test]
fn priority_get_ord_panic_leaves_item() {
    let poison = Poison::safe();
    let q = PriorityQueue::new(0);
    for v in 1..=7 {
        q.put_nowait(Touchy::new(v, &poison)).unwrap();
    }
    // Popping 1 moves 7 to the top and compares 2 with something.
    poison.arm(2, 2);
    let r = catch_unwind(AssertUnwindSafe(|| q.get_nowait()));
    assert!(r.is_err(), "the Ord panic propagates to get_nowait");
    assert_eq!(poison.panics(), 1);
    assert_eq!(q.qsize(), 7, "the item stays");
    assert_eq!(q.unfinished_tasks(), 7);
    poison.disarm();
    assert_eq!(drain_values(&q), [1, 2, 3, 4, 5, 6, 7], "still in order");
    finish(&q, 7);
}

/// A notified getter whose `Ord` panics passes its notification on: the
/// item it was woken for is still there, and another waiting getter gets
/// it (else that getter would wait forever beside an item).
#[test]
fn priority_get_ord_panic_passes_notification_on() {
    // Comparing 2 with 3 panics once: only a pop of three items does that.
    let poison = Poison::new(2, 3, true, true);
    let q = PriorityQueue::new(0);
    let wakers: Vec<_> = (0..4).map(|_| counting_waker()).collect();
    let mut gets: Vec<_> = (0..4).map(|_| Box::pin(q.get())).collect();
    for (g, (_, w)) in gets.iter_mut().zip(&wakers) {
        assert!(g.as_mut().poll(&mut Context::from_waker(w)).is_pending());
    }
    for v in 1..=3 {
        q.put_nowait(Touchy::new(v, &poison)).unwrap();
    }
    let woken = |i: usize| wakers[i].0 .0.load(Ordering::SeqCst);
    assert_eq!([woken(0), woken(1), woken(2), woken(3)], [1, 1, 1, 0]);
    let mut first = gets.remove(0);
    let r = catch_unwind(AssertUnwindSafe(|| {
        first.as_mut().poll(&mut Context::from_waker(&wakers[0].1))
    }));
    assert!(r.is_err(), "the first getter's Ord panicked");
    assert_eq!(poison.panics(), 1);
    assert_eq!(woken(3), 1, "the last getter is woken for the item left");
    let mut got = Vec::new();
    for (g, (_, w)) in gets.iter_mut().zip(&wakers[1..]) {
        match g.as_mut().poll(&mut Context::from_waker(w)) {
            Poll::Ready(Ok(t)) => got.push(t.v),
            other => panic!("a notified getter found nothing: {other:?}"),
        }
    }
    assert_eq!(got, [1, 2, 3]);
    assert_eq!(q.unfinished_tasks(), 3);
}

rt_test! {
    /// `shutdown(true)` on a PriorityQueue whose `Ord` always panics: the drain
    /// compares nothing, so it neither panics nor strands anyone.
    fn priority_shutdown_does_not_compare(kind) {
        async fn body() {
            let poison = Poison::safe();
            let q = PriorityQueue::new(4);
            for v in 1..=4 {
                q.put_nowait(Touchy::new(v, &poison)).unwrap();
            }
            let putter = {
                let (q, p) = (q.clone(), poison.clone());
                greenthread::spawn(async move { q.put(Touchy::new(9, &p)).await.is_err() })
            };
            greenthread::sleep(Duration::from_millis(50)).await;
            // Any comparison with 1 or 4 panics from here on.
            poison.arm(1, 4);
            q.shutdown(true);
            assert_eq!((q.qsize(), q.unfinished_tasks()), (0, 0));
            assert!(promptly("the blocked putter", putter).await.unwrap());
            assert_eq!(poison.panics(), 0);
        }
        in_kind("priority_shutdown_does_not_compare", kind, body);
    }
}

// ---------------------------------------------------------------------------
// 3. Bursts meeting blocked waiters (SPEC §10.26).
// ---------------------------------------------------------------------------

/// 10 getters blocked on an unbounded queue, then 7 puts in a row with no
/// await between: 7 getters complete promptly; 3 more puts finish the rest.
macro_rules! getter_burst {
    ($name:ident, $ty:ident) => {
        rt_test! {
            fn $name(kind) {
                async fn body() {
                    let q = $ty::<u32>::new(0);
                    let done = Arc::new(AtomicUsize::new(0));
                    let getters: Vec<_> = (0..10)
                        .map(|_| {
                            let (q, done) = (q.clone(), done.clone());
                            greenthread::spawn(async move {
                                let v = q.get().await.unwrap();
                                done.fetch_add(1, Ordering::SeqCst);
                                v
                            })
                        })
                        .collect();
                    greenthread::sleep(Duration::from_millis(100)).await;
                    for v in 0..7 {
                        q.put_nowait(v).unwrap();
                    }
                    let seven = wait_until(PROMPT, || done.load(Ordering::SeqCst) >= 7).await;
                    assert!(seven, "{} of 7 getters woke", done.load(Ordering::SeqCst));
                    greenthread::sleep(Duration::from_millis(20)).await;
                    assert_eq!(done.load(Ordering::SeqCst), 7, "no item for the others");
                    assert_eq!(q.qsize(), 0);
                    for v in 7..10 {
                        q.put_nowait(v).unwrap();
                    }
                    let mut got = Vec::new();
                    for g in getters {
                        got.push(promptly("a getter", g).await.unwrap());
                    }
                    got.sort();
                    assert_eq!(got, (0..10).collect::<Vec<_>>());
                }
                in_kind(stringify!($name), kind, body);
            }
        }
    };
}

getter_burst!(fifo_getter_burst, Queue);
getter_burst!(lifo_getter_burst, LifoQueue);
getter_burst!(priority_getter_burst, PriorityQueue);

/// A `Queue` of `maxsize` holding `0..maxsize`.
fn full_queue(maxsize: u32) -> Queue<u32> {
    let q = Queue::new(maxsize as usize);
    for v in 0..maxsize {
        q.put_nowait(v).unwrap();
    }
    q
}

/// A thread per value, each putting it into `q` (blocking while full).
fn spawn_putters(
    q: &Queue<u32>,
    values: std::ops::Range<u32>,
) -> Vec<greenthread::JoinHandle<bool>> {
    values
        .map(|v| {
            let q = q.clone();
            greenthread::spawn(async move { q.put(v).await.is_ok() })
        })
        .collect()
}

/// Waits (promptly) for every putter, then checks what `q` holds.
async fn putters_done(q: &Queue<u32>, putters: Vec<greenthread::JoinHandle<bool>>, want: &[u32]) {
    for p in putters {
        assert!(promptly("a putter", p).await.unwrap());
    }
    let mut rest: Vec<_> = std::iter::from_fn(|| q.get_nowait().ok()).collect();
    rest.sort();
    assert_eq!(rest, want);
}

rt_test! {
    /// 5 putters blocked on a full `Queue::new(5)`, then 5 `get_nowait` in a
    /// row: all 5 puts complete promptly.
    fn putter_burst(kind) {
        async fn body() {
            let q = full_queue(5);
            let putters = spawn_putters(&q, 5..10);
            greenthread::sleep(Duration::from_millis(100)).await;
            for v in 0..5 {
                assert_eq!(q.get_nowait(), Ok(v));
            }
            putters_done(&q, putters, &[5, 6, 7, 8, 9]).await;
        }
        in_kind("putter_burst", kind, body);
    }
}

rt_test! {
    /// `Queue::new(1)` full with 5 blocked putters, then 5 gets in a row from
    /// the main thread: all 5 puts complete.
    fn putter_burst_one_slot(kind) {
        async fn body() {
            let q = full_queue(1);
            let putters = spawn_putters(&q, 1..6);
            greenthread::sleep(Duration::from_millis(100)).await;
            let mut got = Vec::new();
            for _ in 0..5 {
                got.push(promptly("a get", q.get()).await.unwrap());
            }
            assert_eq!(got.iter().filter(|&&v| v < 6).count(), 5);
            let mut want: Vec<u32> = (0..6).filter(|v| !got.contains(v)).collect();
            want.sort();
            putters_done(&q, putters, &want).await;
        }
        in_kind("putter_burst_one_slot", kind, body);
    }
}

rt_test! {
    /// A notified getter that is dropped before it runs passes the
    /// notification on: with the oldest waiter a future polled by hand (so it
    /// cannot run), a burst of 3 puts and then its drop let the 3 getter
    /// threads all complete.
    fn notified_getter_cancelled_before_it_runs(kind) {
        async fn body() {
            let q = Queue::<u32>::new(0);
            let (woken, waker) = counting_waker();
            let mut first = Box::pin(q.get());
            assert!(first
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending());
            let getters: Vec<_> = (0..3)
                .map(|_| {
                    let q = q.clone();
                    greenthread::spawn(async move { q.get().await.unwrap() })
                })
                .collect();
            greenthread::sleep(Duration::from_millis(100)).await;
            for v in 0..3 {
                q.put_nowait(v).unwrap();
            }
            assert_eq!(woken.0.load(Ordering::SeqCst), 1, "the oldest is notified");
            drop(first);
            let mut got = Vec::new();
            for g in getters {
                got.push(promptly("a getter", g).await.unwrap());
            }
            got.sort();
            assert_eq!(got, [0, 1, 2]);
        }
        in_kind("notified_getter_cancelled_before_it_runs", kind, body);
    }
}

rt_test! {
    /// The same with putters: a notified putter future dropped before it runs
    /// passes the free slot on to the blocked putter threads.
    fn notified_putter_cancelled_before_it_runs(kind) {
        async fn body() {
            let q = full_queue(3);
            let (woken, waker) = counting_waker();
            let mut first = Box::pin(q.put(99));
            assert!(first
                .as_mut()
                .poll(&mut Context::from_waker(&waker))
                .is_pending());
            let putters = spawn_putters(&q, 3..6);
            greenthread::sleep(Duration::from_millis(100)).await;
            for v in 0..3 {
                assert_eq!(q.get_nowait(), Ok(v));
            }
            assert_eq!(woken.0.load(Ordering::SeqCst), 1, "the oldest is notified");
            drop(first);
            putters_done(&q, putters, &[3, 4, 5]).await;
        }
        in_kind("notified_putter_cancelled_before_it_runs", kind, body);
    }
}

/// A getter notified after its deadline passed, but before it looked, still
/// takes the item (its notification is not lost), and a timed-out getter
/// dropped with an unused notification passes it on.
#[test]
fn timed_out_notified_getter() {
    let q = Queue::<u32>::new(0);
    let (_, wa) = counting_waker();
    let (cb, wb) = counting_waker();
    let (_, wc) = counting_waker();
    let mut a = Box::pin(q.get_timeout(Duration::from_millis(1)));
    let mut b = Box::pin(q.get_timeout(Duration::from_millis(1)));
    let mut c = Box::pin(q.get());
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    assert!(c.as_mut().poll(&mut Context::from_waker(&wc)).is_pending());
    std::thread::sleep(Duration::from_millis(20));
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    // `a` looks after its deadline: the item it was notified for is its.
    assert_eq!(
        a.as_mut().poll(&mut Context::from_waker(&wa)),
        Poll::Ready(Ok(1))
    );
    assert!(cb.0.load(Ordering::SeqCst) >= 1, "b was notified");
    // `b` goes away without looking: `c` gets its notification.
    drop(b);
    assert_eq!(
        c.as_mut().poll(&mut Context::from_waker(&wc)),
        Poll::Ready(Ok(2))
    );
}

rt_test! {
    /// Churn: producers and consumers with timeouts and cancellations while
    /// bursts are made; at the end every item is accounted for and nobody is
    /// left waiting beside an item.
    fn burst_churn_loses_nothing(kind) {
        async fn body() {
            let q = Queue::<u32>::new(4);
            let taken = Arc::new(AtomicUsize::new(0));
            let stop = Arc::new(AtomicBool::new(false));
            let consumers: Vec<_> = (0..6)
                .map(|i| {
                    let (q, taken, stop) = (q.clone(), taken.clone(), stop.clone());
                    greenthread::spawn(async move {
                        while !stop.load(Ordering::SeqCst) {
                            let got = if i % 2 == 0 {
                                greenthread::timeout(Duration::from_micros(300), q.get())
                                    .await
                                    .ok()
                                    .and_then(Result::ok)
                            } else {
                                q.get_timeout(Duration::from_micros(300)).await.ok()
                            };
                            if got.is_some() {
                                taken.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                    })
                })
                .collect();
            let mut put = 0;
            for round in 0..200u32 {
                for v in 0..4 {
                    if q.put_nowait(round * 4 + v).is_ok() {
                        put += 1;
                    }
                }
                greenthread::yield_now().await;
            }
            let all = wait_until(PROMPT, || taken.load(Ordering::SeqCst) + q.qsize() == put).await;
            assert!(
                all,
                "items lost: put {put}, taken {}",
                taken.load(Ordering::SeqCst)
            );
            stop.store(true, Ordering::SeqCst);
            for c in consumers {
                promptly("a consumer", c).await.unwrap();
            }
            assert_eq!(taken.load(Ordering::SeqCst) + q.qsize(), put);
        }
        in_kind("burst_churn_loses_nothing", kind, body);
    }
}

/// A waker (a foreign executor's) that panics when woken.
struct PanickingWaker;

impl std::task::Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        panic!("expected: waker panicked");
    }
}

/// A waker that panics does not keep the waiters after it from being woken
/// (shutdown wakes them all in one go), nor does it fail the put, get or
/// shutdown that woke it (it is reported by the panic hook and ignored).
#[test]
fn panicking_waker_strands_nobody_else() {
    quiet_expected_panics();
    let q = Queue::<u32>::new(0);
    let bad = std::task::Waker::from(Arc::new(PanickingWaker));
    let (good, waker) = counting_waker();
    let mut a = Box::pin(q.get());
    let mut b = Box::pin(q.get());
    assert!(a.as_mut().poll(&mut Context::from_waker(&bad)).is_pending());
    assert!(b
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    // A put notifies `a`, whose waker panics: the put succeeds.
    q.put_nowait(1).unwrap();
    assert_eq!((q.qsize(), q.unfinished_tasks()), (1, 1));
    // A second one notifies `b`.
    q.put_nowait(2).unwrap();
    assert_eq!(good.0.load(Ordering::SeqCst), 1);
    assert_eq!(
        b.as_mut().poll(&mut Context::from_waker(&waker)),
        Poll::Ready(Ok(1))
    );
    assert_eq!(
        a.as_mut().poll(&mut Context::from_waker(&bad)),
        Poll::Ready(Ok(2))
    );
    // A get whose freed slot's putter has a panicking waker keeps its item.
    let r = Queue::<u32>::new(1);
    r.put_nowait(5).unwrap();
    let mut p = Box::pin(r.put(6));
    assert!(p.as_mut().poll(&mut Context::from_waker(&bad)).is_pending());
    assert_eq!(r.get_nowait(), Ok(5));
    assert_eq!(
        p.as_mut().poll(&mut Context::from_waker(&bad)),
        Poll::Ready(Ok(()))
    );
    // Shutdown wakes everyone though the first waker panics.
    let mut c = Box::pin(q.get());
    let mut d = Box::pin(q.get());
    assert!(c.as_mut().poll(&mut Context::from_waker(&bad)).is_pending());
    assert!(d
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    q.shutdown(false);
    assert!(q.is_shut_down());
    assert_eq!(
        good.0.load(Ordering::SeqCst),
        2,
        "the waker after the bad one ran"
    );
    assert_eq!(
        d.as_mut().poll(&mut Context::from_waker(&waker)),
        Poll::Ready(Err(GetError::ShutDown))
    );
    assert_eq!(
        c.as_mut().poll(&mut Context::from_waker(&bad)),
        Poll::Ready(Err(GetError::ShutDown))
    );
}
