//! `Local<T>` (Python's `threading.local`): one value per thread, created
//! on first use, following the green thread across workers and awaits,
//! dropped when the thread ends — SPEC §3, §9 and §10.20.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use greenthread::{current_thread, sleep, spawn, yield_now, Local, Thread};

static COUNT: Local<u32> = Local::new(|| 0);
static INITS: AtomicUsize = AtomicUsize::new(0);
static COUNTED: Local<u64> = Local::new(|| {
    INITS.fetch_add(1, Ordering::SeqCst);
    0
});

/// Counts its drops.
struct Tracked(Arc<AtomicUsize>);

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

rt_test! {
    /// Each thread sees its own value, starting from init.
    async fn per_thread_values() {
        COUNT.with(|c| *c = 100);
        let mut handles = Vec::new();
        for i in 0..20u32 {
            handles.push(spawn(async move {
                assert_eq!(COUNT.with(|c| *c), 0, "a new thread starts from init");
                for _ in 0..i {
                    COUNT.with(|c| *c += 1);
                    yield_now().await;
                }
                sleep(Duration::from_millis(1)).await;
                COUNT.with(|c| *c)
            }));
        }
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.await.unwrap(), i as u32);
        }
        assert_eq!(COUNT.with(|c| *c), 100, "main's value is its own");
    }
}

/// A value follows its green thread across awaits even when the thread
/// moves between workers (it is per green thread, not per OS thread).
#[test]
fn value_follows_green_thread_across_workers() {
    let rt = greenthread::Runtime::builder().workers(4).build().unwrap();
    rt.block_on(async {
        let mut handles = Vec::new();
        for i in 0..50u32 {
            handles.push(spawn(async move {
                static L: Local<Option<u32>> = Local::new(|| None);
                L.with(|v| *v = Some(i));
                let mut workers = std::collections::HashSet::new();
                for _ in 0..20 {
                    workers.insert(greenthread::get_native_id());
                    yield_now().await;
                    assert_eq!(L.with(|v| *v), Some(i));
                }
                workers.len()
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
    });
}

rt_test! {
    /// init runs once per thread, on first use only.
    async fn init_once_per_thread() {
        let before = INITS.load(Ordering::SeqCst);
        let h = spawn(async {
            for _ in 0..10 {
                COUNTED.with(|v| *v += 1);
            }
            COUNTED.with(|v| *v)
        });
        assert_eq!(h.await.unwrap(), 10);
        // A thread that never touches it never runs init.
        spawn(async {}).await.unwrap();
        // Other rt_test instances run in parallel: at least one init, and
        // this thread's ten uses did not make ten.
        let inits = INITS.load(Ordering::SeqCst) - before;
        assert!((1..10).contains(&inits), "{inits}");
    }
}

rt_test! {
    /// A thread's value is dropped when the thread ends, before join()
    /// returns; an unused Local creates nothing.
    async fn dropped_at_thread_end() {
        static T: Local<Option<Tracked>> = Local::new(|| None);
        let drops = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for _ in 0..10 {
            let d = drops.clone();
            let t = Thread::new(move || async move {
                T.with(|v| *v = Some(Tracked(d)));
                sleep(Duration::from_millis(1)).await;
            });
            t.start().unwrap();
            threads.push(t);
        }
        for t in &threads {
            t.join().await.unwrap();
        }
        assert_eq!(drops.load(Ordering::SeqCst), 10);
        // Also when the thread panics or exits.
        let d = drops.clone();
        let h = spawn(async move {
            T.with(|v| *v = Some(Tracked(d)));
            greenthread::exit();
        });
        assert!(h.await.is_err());
        assert_eq!(drops.load(Ordering::SeqCst), 11);
    }
}

rt_test! {
    /// §10.20: the main thread's Local values are dropped when block_on
    /// returns.
    fn main_values_dropped_at_return(kind) {
        static M: Local<Option<Tracked>> = Local::new(|| None);
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        support::run_with(kind, || async move {
            M.with(|v| *v = Some(Tracked(d)));
            assert_eq!(current_thread().name(), "MainThread");
        });
        assert_eq!(drops.load(Ordering::SeqCst), 1, "{kind}");
    }
}

/// A plain OS thread has its own value, dropped when it exits.
#[test]
fn foreign_thread_values() {
    static F: Local<Option<Tracked>> = Local::new(|| None);
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    std::thread::spawn(move || {
        F.with(|v| {
            assert!(v.is_none());
            *v = Some(Tracked(d));
        });
        F.with(|v| assert!(v.is_some()));
    })
    .join()
    .unwrap();
    // The OS thread's dummy is deregistered at exit; give it a moment.
    let start = std::time::Instant::now();
    while drops.load(Ordering::SeqCst) == 0 && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        drops.load(Ordering::SeqCst),
        1,
        "a foreign thread's value was leaked"
    );
}

rt_test! {
    /// A panic inside with() does not lose the value; re-entrant use sees a
    /// fresh value (documented).
    async fn panic_inside_with() {
        static P: Local<u32> = Local::new(|| 7);
        let h = spawn(async {
            P.with(|v| *v = 8);
            let r = std::panic::catch_unwind(|| P.with(|_| panic!("inside with")));
            assert!(r.is_err());
            let nested = P.with(|outer| {
                *outer += 1;
                P.with(|inner| *inner)
            });
            (P.with(|v| *v), nested)
        });
        assert_eq!(h.await.unwrap(), (9, 7));
    }
}

#[allow(dead_code)]
fn local_is_sync() {
    fn check<T: Sync>() {}
    check::<Local<std::cell::Cell<u8>>>();
}

/// Starts a thread that calls `f`, then passes a switch point; joins it.
async fn run_and_join(f: impl FnOnce() + Send + 'static) -> Thread {
    let t = Thread::new(move || async move {
        f();
        yield_now().await;
    });
    t.start().unwrap();
    t.join().await.unwrap();
    t
}

/// Makes a `LATE` value when dropped.
struct MakesLate(Arc<AtomicUsize>);

static LATE: Local<Option<Tracked>> = Local::new(|| None);

impl Drop for MakesLate {
    fn drop(&mut self) {
        let d = self.0.clone();
        LATE.with(|v| *v = Some(Tracked(d)));
    }
}

/// Makes another value of the same `Local` when dropped, forever.
struct Again(Arc<AtomicUsize>);

static AGAIN: Local<Option<Again>> = Local::new(|| None);

impl Drop for Again {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
        let d = self.0.clone();
        AGAIN.with(|v| *v = Some(Again(d)));
    }
}

rt_test! {
    /// Issue 9: a value that a destructor creates while the thread's values
    /// are dropped is dropped too, before join() returns — not later with
    /// the last `Thread` handle.
    async fn value_created_during_teardown() {
        static FIRST: Local<Option<MakesLate>> = Local::new(|| None);
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let t = run_and_join(move || FIRST.with(|v| *v = Some(MakesLate(d)))).await;
        assert_eq!(
            drops.load(Ordering::SeqCst),
            1,
            "the value made during teardown outlived the thread"
        );
        drop(t);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
    }
}

rt_test! {
    /// A destructor that recreates its own value forever: teardown repeats
    /// a bounded number of rounds (16), then leaks what is left (reported
    /// on stderr); join() returns and nothing is dropped later.
    async fn teardown_rounds_are_bounded() {
        let drops = Arc::new(AtomicUsize::new(0));
        let d = drops.clone();
        let t = run_and_join(move || AGAIN.with(|v| *v = Some(Again(d)))).await;
        assert_eq!(drops.load(Ordering::SeqCst), 16, "rounds of teardown");
        drop(t);
        sleep(Duration::from_millis(10)).await;
        assert_eq!(drops.load(Ordering::SeqCst), 16, "a value was dropped after the thread ended");
    }
}
