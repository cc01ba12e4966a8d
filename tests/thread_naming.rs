//! Thread names: `Thread-N` from the process-wide counter (shared with
//! `Timer` and `Dummy-N`, not consumed by named threads), explicit names,
//! renaming, and OS thread names in OS-thread mode — test_name (66) and
//! SPEC §10.3/§10.11.
//!
//! The counter is process-wide, so every test here that checks exact
//! numbers holds `SERIAL` (each test file is its own process).

mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use greenthread::{current_thread, spawn, Mode, Runtime, Thread, Timer};

use support::serial;

/// The N of an automatic name.
fn auto_n(name: &str, prefix: &str) -> u64 {
    name.strip_prefix(prefix)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{name:?} is not {prefix}N"))
}

fn green(workers: usize) -> Runtime {
    Runtime::builder()
        .mode(Mode::Green)
        .workers(workers)
        .build()
        .unwrap()
}

/// test_name: consecutive automatic names; named threads, empty names and
/// Timers.
#[test]
fn counter_sequence() {
    let _s = serial();
    green(1).block_on(async {
        let a = Thread::new(|| async {});
        let n = auto_n(&a.name(), "Thread-");
        assert!(n >= 1);
        // An explicit name does not consume the counter.
        let named = Thread::builder().name("myname1").build(|| async {});
        assert_eq!(named.name(), "myname1");
        let b = Thread::new(|| async {});
        assert_eq!(b.name(), format!("Thread-{}", n + 1));
        // name="" is automatic (and consumes the counter).
        let empty = Thread::builder().name("").build(|| async {});
        assert_eq!(empty.name(), format!("Thread-{}", n + 2));
        // Timer shares the counter.
        let timer = Timer::new(std::time::Duration::ZERO, || async {});
        assert_eq!(timer.thread().name(), format!("Thread-{}", n + 3));
        assert_eq!(
            format!("{}", timer.thread()),
            format!("<Timer(Thread-{}, initial)>", n + 3)
        );
        // spawn threads too.
        let h = spawn(async { current_thread().name() });
        assert_eq!(h.thread().name(), format!("Thread-{}", n + 4));
        assert_eq!(h.await.unwrap(), format!("Thread-{}", n + 4));
        // Numbers are never reused.
        drop((a, b, empty));
        let c = Thread::new(|| async {});
        assert_eq!(c.name(), format!("Thread-{}", n + 5));
    });
}

/// Dummy threads (foreign OS threads) share the counter; a runtime's main
/// thread (explicitly "MainThread") does not consume it, nor does building
/// a runtime.
#[test]
fn dummy_and_main_share_counter_correctly() {
    let _s = serial();
    let first = Thread::new(|| async {});
    let n = auto_n(&first.name(), "Thread-");
    let dummy_name = std::thread::spawn(|| current_thread().name())
        .join()
        .unwrap();
    assert_eq!(dummy_name, format!("Dummy-{}", n + 1));
    let rt = green(1);
    let (main_name, next) =
        rt.block_on(async { (current_thread().name(), Thread::new(|| async {}).name()) });
    assert_eq!(main_name, "MainThread");
    assert_eq!(
        next,
        format!("Thread-{}", n + 2),
        "building a runtime (its MainThread) consumed a Thread-N number"
    );
}

rt_test! {
    /// Renaming, duplicates, and the name seen from inside the thread.
    async fn rename() {
        let t = Thread::builder().name("before").build(|| async {
            let me = current_thread();
            assert_eq!(me.name(), "renamed");
            me.set_name("inside");
        });
        t.set_name("renamed");
        assert_eq!(t.name(), "renamed");
        t.start().unwrap();
        t.join().await.unwrap();
        assert_eq!(t.name(), "inside");
        assert!(format!("{t}").starts_with("<Thread(inside, stopped "), "{t}");
        // Duplicate names are allowed.
        let a = Thread::builder().name("dup").build(|| async {});
        let b = Thread::builder().name("dup").build(|| async {});
        assert_eq!(a.name(), b.name());
        assert!(a != b, "== is identity, not name equality");
        assert!(a == a.clone());
        // Unicode names survive.
        let u = Thread::builder().name("nœud-ü").build(|| async {});
        assert_eq!(u.name(), "nœud-ü");
        // The main thread's name.
        assert_eq!(greenthread::main_thread().name(), "MainThread");
    }
}

/// §10.11: in OS-thread mode the OS thread carries the Thread's name.
#[test]
fn os_thread_name() {
    let _s = serial();
    let rt = Runtime::builder().mode(Mode::OsThreads).build().unwrap();
    rt.block_on(async {
        for name in ["alpha", "worker-7"] {
            // Through a handle: an assert inside a `Thread` target would only
            // reach the excepthook.
            let h = Thread::builder()
                .name(name)
                .spawn(async { std::thread::current().name().map(String::from) });
            assert_eq!(h.await.unwrap().as_deref(), Some(name));
        }
        let auto = spawn(async {
            (
                current_thread().name(),
                std::thread::current().name().map(String::from),
            )
        });
        let (name, os) = auto.await.unwrap();
        assert_eq!(os.as_deref(), Some(name.as_str()));
    });
}

/// Issue 9: a `start_new_thread` thread consumes no `Thread-N` and is not
/// in `enumerate()` until it calls `current_thread()`, which makes it a
/// registered `_DummyThread` (`Dummy-N`, daemon) at that moment.
#[test]
fn start_new_thread_is_a_dummy_once_seen() {
    let _s = serial();
    green(1).block_on(async {
        let n = auto_n(&Thread::new(|| async {}).name(), "Thread-");
        let go = Arc::new(greenthread::Event::new());
        let seen = Arc::new(Mutex::new(None));
        let (g, s) = (go.clone(), seen.clone());
        let ident = greenthread::thread::start_new_thread(move || async move {
            let me = greenthread::get_ident();
            let listed = || {
                greenthread::enumerate()
                    .iter()
                    .any(|t| t.ident() == Some(me))
            };
            let before = (listed(), greenthread::active_count());
            let _ = g.wait().await;
            let cur = current_thread();
            let again = current_thread();
            *s.lock().unwrap() = Some((
                before,
                format!("{cur}"),
                cur.is_daemon(),
                cur == again,
                listed(),
                greenthread::active_count(),
            ));
        });
        assert_eq!(
            Thread::new(|| async {}).name(),
            format!("Thread-{}", n + 1),
            "start_new_thread consumed a Thread-N number"
        );
        go.set();
        let start = std::time::Instant::now();
        while seen.lock().unwrap().is_none() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the thread never ran"
            );
            greenthread::sleep(Duration::from_millis(2)).await;
        }
        let (before, shown, daemon, same, listed, count) = seen.lock().unwrap().take().unwrap();
        assert!(!before.0, "listed in enumerate() before current_thread()");
        assert_eq!(
            shown,
            format!("<_DummyThread(Dummy-{}, started daemon {ident})>", n + 2)
        );
        assert!(daemon);
        assert!(same, "current_thread() is the same dummy each time");
        assert!(listed, "not in enumerate() after current_thread()");
        assert_eq!(count, before.1 + 1);
        assert_eq!(Thread::new(|| async {}).name(), format!("Thread-{}", n + 3));
    });
}
