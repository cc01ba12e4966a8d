//! Deadlock reports (SPEC §11, meaning 2): Lock, RLock and join cycles,
//! "all asleep", once per deadlock, a panicking hook, detection off — and
//! no false alarms: a producer/consumer pipeline, a Lock handed around with
//! sleeps, timed waits in a cycle, an Event set by a sleeping thread.
//!
//! The hook is process-global: every test takes `HOOK` (one at a time) and
//! looks only at reports naming its own threads (names carry the test's
//! runtime kind: `rt_test!` runs the kinds side by side, one at a time
//! here, under `HOOK`).

// The hook's lock is held across awaits on purpose: it serializes tests.
#![allow(clippy::await_holding_lock)]

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use greenthread::debug::{self, Deadlock, ThreadState, WaitingOn};
use greenthread::queue::Queue;
use greenthread::{Event, Lock, RLock, Thread};

/// Serializes the tests: the hook is process-wide.
static HOOK: Mutex<()> = Mutex::new(());

/// Every report seen since `collect()`.
type Reports = Arc<Mutex<Vec<Deadlock>>>;

/// Takes the hook for this test: reports are collected.
fn collect() -> (MutexGuard<'static, ()>, Reports) {
    let guard = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let reports: Reports = Arc::default();
    let r = reports.clone();
    debug::set_deadlock_hook(Arc::new(move |d: &Deadlock| {
        r.lock().unwrap().push(d.clone());
    }));
    (guard, reports)
}

/// The reports naming a thread whose name starts with `prefix`.
fn naming(reports: &Reports, prefix: &str) -> Vec<Deadlock> {
    reports
        .lock()
        .unwrap()
        .iter()
        .filter(|d| d.threads.iter().any(|t| t.name.starts_with(prefix)))
        .cloned()
        .collect()
}

/// Waits up to 10 s for a report naming `prefix`.
async fn report_for(reports: &Reports, prefix: &str) -> Deadlock {
    let start = Instant::now();
    loop {
        if let Some(d) = naming(reports, prefix).into_iter().next() {
            return d;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no deadlock report for {prefix} within 10 s"
        );
        greenthread::sleep(Duration::from_millis(50)).await;
    }
}

use support::start_daemon as daemon;

/// A unique prefix per test and kind.
fn prefix(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    format!("{test}-{n}-")
}

/// Two daemon threads `{p}one` and `{p}two` taking two new locks of type
/// `$ty` in opposite order, each once it holds its first (a deadlock).
macro_rules! opposite_order {
    ($p:expr, $ty:ty) => {{
        let (a, b) = (<$ty>::new(), <$ty>::new());
        let go = Event::new();
        let held = Arc::new(AtomicUsize::new(0));
        let take = |first: $ty, second: $ty, go: Event, held: Arc<AtomicUsize>| async move {
            let _x = first.lock().await;
            held.fetch_add(1, Ordering::SeqCst);
            go.wait().await;
            let _y = second.lock().await;
        };
        let t1 = daemon(
            &format!("{}one", $p),
            take(a.clone(), b.clone(), go.clone(), held.clone()),
        );
        let t2 = daemon(&format!("{}two", $p), take(b, a, go.clone(), held.clone()));
        // Both hold their first lock before either goes on (else one takes
        // both and there is no cycle).
        assert!(
            support::wait_until(Duration::from_secs(30), || held.load(Ordering::SeqCst) == 2).await,
            "the two threads never held their first locks"
        );
        go.set();
        (t1, t2)
    }};
}

rt_test! {
    async fn lock_cycle_is_reported_in_order() {
        let (_g, reports) = collect();
        let p = prefix("lockcycle");
        let (t1, t2) = opposite_order!(p, Lock);
        let started = Instant::now();
        let d = report_for(&reports, &p).await;
        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(!d.all_asleep);
        assert_eq!(d.threads.len(), 2, "{d}");
        let names: Vec<&str> = d.threads.iter().map(|t| t.name.as_str()).collect();
        assert!(names.contains(&format!("{p}one").as_str()) && names.contains(&format!("{p}two").as_str()), "{names:?}");
        // In order: each waits on a Lock held by the next.
        for (i, t) in d.threads.iter().enumerate() {
            let next = &d.threads[(i + 1) % d.threads.len()];
            match &t.state {
                ThreadState::Waiting(WaitingOn::Lock { holder, .. }) => assert_eq!(*holder, next.ident),
                other => panic!("{other:?}"),
            }
        }
        let text = d.to_string();
        assert!(text.contains("cycle") && text.contains("held by"), "{text}");
        // Once per deadlock.
        greenthread::sleep(Duration::from_millis(1500)).await;
        assert_eq!(naming(&reports, &p).len(), 1, "reported once");
        assert!(t1.is_alive() && t2.is_alive(), "nothing is killed");
    }
}

rt_test! {
    async fn rlock_and_join_cycles() {
        let (_g, reports) = collect();
        let p = prefix("rlockjoin");
        let _ = opposite_order!(p, RLock);
        let d = report_for(&reports, &p).await;
        assert!(!d.all_asleep);
        assert!(d.threads.iter().all(|t| matches!(t.state, ThreadState::Waiting(WaitingOn::RLock { owner: Some(_), .. }))), "{d}");

        // Two threads joining each other.
        let q = prefix("joincycle");
        let slot: Arc<Mutex<Option<Thread>>> = Arc::default();
        let s = slot.clone();
        let j1 = daemon(&format!("{q}j1"), async move {
            // `j2` is made after this thread starts: wait for it.
            let other = loop {
                if let Some(t) = s.lock().unwrap().clone() {
                    break t;
                }
                greenthread::sleep(Duration::from_millis(1)).await;
            };
            other.join().await.unwrap();
        });
        let j1c = j1.clone();
        let j2 = daemon(&format!("{q}j2"), async move {
            j1c.join().await.unwrap();
        });
        *slot.lock().unwrap() = Some(j2);
        let d = report_for(&reports, &q).await;
        assert!(!d.all_asleep);
        assert_eq!(d.threads.len(), 2);
        assert!(d.threads.iter().all(|t| matches!(t.state, ThreadState::Waiting(WaitingOn::Join { .. }))), "{d}");
    }
}

rt_test! {
    async fn timed_waits_in_a_cycle_are_never_reported() {
        let (_g, reports) = collect();
        let p = prefix("timed");
        let (a, b) = (Lock::new(), Lock::new());
        let go = Event::new();
        let (a1, b1, go1) = (a.clone(), b.clone(), go.clone());
        let t1 = daemon(&format!("{p}one"), async move {
            let _x = a1.lock().await;
            go1.wait().await;
            if b1.acquire_timeout(Duration::from_millis(2500)).await {
                b1.release().unwrap();
            }
        });
        let (a2, b2, go2) = (a.clone(), b.clone(), go.clone());
        let t2 = daemon(&format!("{p}two"), async move {
            let _x = b2.lock().await;
            go2.wait().await;
            let _ = greenthread::timeout(Duration::from_millis(2500), a2.acquire()).await;
        });
        greenthread::sleep(Duration::from_millis(100)).await;
        go.set();
        t1.join().await.unwrap();
        t2.join().await.unwrap();
        assert!(naming(&reports, &p).is_empty(), "{:?}", naming(&reports, &p));
    }
}

rt_test! {
    async fn no_false_alarms() {
        let (_g, reports) = collect();
        let p = prefix("busy");
        // A producer/consumer pipeline.
        let q1: Queue<u32> = Queue::new(2);
        let q2: Queue<u32> = Queue::new(2);
        let (i1, o1) = (q1.clone(), q2.clone());
        let stage = daemon(&format!("{p}stage"), async move {
            while let Ok(v) = i1.get().await {
                if v == u32::MAX { break; }
                o1.put(v * 2).await.unwrap();
            }
        });
        let o2 = q2.clone();
        let sink = daemon(&format!("{p}sink"), async move {
            for _ in 0..60 { o2.get().await.unwrap(); }
        });
        // A Lock handed around with sleeps.
        let lock = Lock::new();
        let mut holders = Vec::new();
        for i in 0..3 {
            let l = lock.clone();
            holders.push(daemon(&format!("{p}holder{i}"), async move {
                for _ in 0..5 {
                    let _g = l.lock().await;
                    greenthread::sleep(Duration::from_millis(100)).await;
                }
            }));
        }
        // An Event set by a sleeping thread, joined by main.
        let ev = Event::new();
        let e = ev.clone();
        let waiter = daemon(&format!("{p}waiter"), async move { e.wait().await; });
        let e = ev.clone();
        let setter = daemon(&format!("{p}setter"), async move {
            greenthread::sleep(Duration::from_millis(1500)).await;
            e.set();
        });
        for v in 0..60 {
            q1.put(v).await.unwrap();
            greenthread::sleep(Duration::from_millis(25)).await;
        }
        q1.put(u32::MAX).await.unwrap();
        for t in [stage, sink, waiter, setter].into_iter().chain(holders) {
            t.join().await.unwrap();
        }
        greenthread::sleep(Duration::from_millis(600)).await;
        assert!(naming(&reports, &p).is_empty(), "{:?}", naming(&reports, &p));
    }
}

/// Every thread of a runtime asleep, main in `run`'s shutdown joining: Go's
/// "all goroutines are asleep". The hook then sets the event (a foreign
/// thread waking them: the documented false-alarm case), so the program
/// ends.
#[test]
fn all_asleep_in_shutdown() {
    for kind in support::KINDS {
        let (_g, reports) = collect();
        let p = prefix("asleep");
        let ev = Event::new();
        let e = ev.clone();
        let r = reports.clone();
        let pp = p.clone();
        debug::set_deadlock_hook(Arc::new(move |d: &Deadlock| {
            r.lock().unwrap().push(d.clone());
            if d.threads.iter().any(|t| t.name.starts_with(&pp)) {
                e.set();
            }
        }));
        let (tx, rx) = std::sync::mpsc::channel();
        let name = format!("{p}waiter");
        std::thread::spawn(move || {
            support::run_with(kind, || async move {
                let e = ev.clone();
                let mut f = Some(async move {
                    e.wait().await;
                });
                // Not a daemon: shutdown joins it.
                let t = Thread::builder()
                    .name(name)
                    .daemon(false)
                    .build(move || f.take().unwrap());
                t.start().unwrap();
            });
            let _ = tx.send(());
        });
        rx.recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("{kind}: shutdown never ended: no all-asleep report?"));
        let d = naming(&reports, &p).into_iter().next().expect("a report");
        assert!(d.all_asleep, "{kind}: {d}");
        assert_eq!(d.threads.len(), 2, "{kind}: {d}");
        assert_eq!(d.threads[0].class, "_MainThread", "{kind}: {d}");
        assert!(
            matches!(
                d.threads[0].state,
                ThreadState::Waiting(WaitingOn::Join { .. })
            ),
            "{kind}: {d}"
        );
        assert!(
            matches!(
                d.threads[1].state,
                ThreadState::Waiting(WaitingOn::Event { .. })
            ),
            "{kind}: {d}"
        );
        assert!(d.to_string().contains("asleep"));
    }
}

/// A panicking hook is caught: the detector goes on and reports the next
/// deadlock. With detection off, nothing is reported.
#[test]
fn panicking_hook_and_detection_off() {
    let (_g, reports) = collect();
    debug::set_deadlock_hook(Arc::new(|_: &Deadlock| panic!("hook panics on purpose")));
    let make_cycle = |p: String| async move {
        let _ = opposite_order!(p, Lock);
    };
    let p1 = prefix("panicking");
    support::run_with("green_n", || async {
        make_cycle(p1.clone()).await;
        greenthread::sleep(Duration::from_millis(1500)).await;
    });
    let r = reports.clone();
    debug::set_deadlock_hook(Arc::new(move |d: &Deadlock| {
        r.lock().unwrap().push(d.clone())
    }));
    let p2 = prefix("after-panic");
    support::run_with("green_n", || async {
        make_cycle(p2.clone()).await;
        report_for(&reports, &p2).await;
    });
    let p3 = prefix("off");
    let rt = support::builder_for("green_n")
        .deadlock_detection(false)
        .build()
        .unwrap();
    rt.block_on(async {
        make_cycle(p3.clone()).await;
        greenthread::sleep(Duration::from_millis(2000)).await;
    });
    assert!(naming(&reports, &p3).is_empty());
}
