//! Panics in threads: the excepthook (custom and default), panic
//! isolation, `exit()` staying quiet, a panicking hook, spawn panics going
//! to their handle — scenarios 94, 98–103 and SPEC §3, §8, §10.17, §10.20.
//!
//! The excepthook is process-wide: every test here that sets it or makes a
//! thread panic holds `SERIAL`, and restores the default hook at the end.
//! The default hook's stderr output is checked in a child process.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use greenthread::{
    excepthook, exit, set_excepthook, sleep, spawn, ExceptHook, ExceptHookArgs, Lock, Thread,
};

/// The excepthook calls seen: (thread, message).
type Calls = Arc<Mutex<Vec<(Option<Thread>, String)>>>;

/// Holds `SERIAL` and records every excepthook call until dropped; then
/// restores the hook that was there before.
struct Recorder {
    calls: Calls,
    previous: ExceptHook,
    _serial: MutexGuard<'static, ()>,
}

impl Recorder {
    fn install() -> Recorder {
        let serial = support::serial();
        let previous = excepthook();
        let calls: Calls = Arc::new(Mutex::new(Vec::new()));
        let c = calls.clone();
        let hook: ExceptHook = Arc::new(move |args: &ExceptHookArgs| {
            c.lock()
                .unwrap()
                .push((args.thread.clone(), args.message.clone()));
        });
        set_excepthook(hook.clone());
        assert!(
            Arc::ptr_eq(&excepthook(), &hook),
            "excepthook() returns the hook just set"
        );
        Recorder {
            calls,
            previous,
            _serial: serial,
        }
    }

    fn calls(&self) -> Vec<(Option<Thread>, String)> {
        self.calls.lock().unwrap().clone()
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        set_excepthook(self.previous.clone());
    }
}

rt_test! {
    /// test_custom_excepthook: the hook gets the thread and the message; the
    /// thread ends, join() is Ok (the panic never reaches join).
    fn custom_hook_gets_thread_and_message(kind) {
        let rec = Recorder::install();
        support::run_with(kind, || async {
            let t = Thread::builder().name("excepthook thread").build(|| async {
                sleep(Duration::from_millis(1)).await;
                panic!("run failed");
            });
            t.start().unwrap();
            t.join().await.unwrap();
            assert!(!t.is_alive());
        });
        let calls = rec.calls();
        assert_eq!(calls.len(), 1, "{calls:?}");
        for (thread, message) in calls {
            let thread = thread.expect("the hook sees the thread");
            assert_eq!(thread.name(), "excepthook thread");
            assert_eq!(message, "run failed");
        }
    }
}

/// A formatted panic message (String payload) arrives whole.
#[test]
fn formatted_message() {
    let rec = Recorder::install();
    support::run_with("green_n", || async {
        let t = Thread::new(|| async {
            let n = 42;
            panic!("value was {n}");
        });
        t.start().unwrap();
        t.join().await.unwrap();
    });
    let calls = rec.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].1, "value was 42");
}

rt_test! {
    /// Panic isolation: one thread panicking leaves the runtime and every other
    /// thread running; the runtime stays usable afterwards.
    fn panic_isolation(kind) {
        let rec = Recorder::install();
        support::run_with(kind, || async {
            let done = Arc::new(AtomicUsize::new(0));
            let mut threads = Vec::new();
            for i in 0..10 {
                let d = done.clone();
                let t = Thread::new(move || async move {
                    sleep(Duration::from_millis(5)).await;
                    if i == 3 {
                        panic!("thread {i} fails");
                    }
                    sleep(Duration::from_millis(5)).await;
                    d.fetch_add(1, Ordering::SeqCst);
                });
                t.start().unwrap();
                threads.push(t);
            }
            for t in &threads {
                t.join().await.unwrap();
            }
            assert_eq!(done.load(Ordering::SeqCst), 9);
            // Still usable.
            assert_eq!(spawn(async { 1 + 1 }).await.unwrap(), 2);
        });
        let calls = rec.calls();
        assert_eq!(calls.len(), 1);
        assert!(calls.iter().all(|(_, m)| m == "thread 3 fails"));
    }
}

rt_test! {
    /// §10.17 / test_system_exit: exit() calls no excepthook.
    fn exit_is_quiet(kind) {
        let rec = Recorder::install();
        support::run_with(kind, || async {
            let t = Thread::new(|| async {
                sleep(Duration::from_millis(1)).await;
                exit();
            });
            t.start().unwrap();
            t.join().await.unwrap();
            let t = Thread::new(|| async { exit() });
            t.start().unwrap();
            t.join().await.unwrap();
        });
        assert!(rec.calls().is_empty(), "{:?}", rec.calls());
    }
}

/// §10.20: a spawn panic goes to its JoinHandle, not the excepthook.
#[test]
fn spawn_panic_not_reported() {
    let rec = Recorder::install();
    support::run_with("green_n", || async {
        let err = spawn(async { panic!("to the handle") }).await.unwrap_err();
        assert_eq!(err.panic_message(), Some("to the handle"));
    });
    assert!(rec.calls().is_empty(), "{:?}", rec.calls());
}

rt_test! {
    /// §8: a lock held through a guard is released when the thread panics.
    fn panic_releases_guards(kind) {
        let rec = Recorder::install();
        support::run_with(kind, || async {
            let lock = Lock::new();
            let l = lock.clone();
            let t = Thread::new(move || async move {
                let _g = l.lock().await;
                sleep(Duration::from_millis(1)).await;
                panic!("holding the lock");
            });
            t.start().unwrap();
            t.join().await.unwrap();
            assert!(lock.try_acquire(), "the guard was dropped by the panic");
            lock.release().unwrap();
        });
        assert_eq!(rec.calls().len(), 1);
    }
}

/// test_custom_excepthook_fail: a panicking hook never escapes; the
/// runtime goes on.
#[test]
fn panicking_hook_is_contained() {
    let rec = Recorder::install();
    set_excepthook(Arc::new(|_: &ExceptHookArgs| {
        panic!("the hook itself fails")
    }));
    support::run_with("green_n", || async {
        let t = Thread::new(|| async { panic!("first") });
        t.start().unwrap();
        t.join().await.unwrap();
        assert_eq!(spawn(async { 3 }).await.unwrap(), 3);
    });
    drop(rec);
}

/// Re-runs this test binary, running only `test`, with GT_CHILD set;
/// returns (success, stderr).
fn run_child(test: &str) -> (bool, String) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env("GT_CHILD", test)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn is_child(test: &str) -> bool {
    std::env::var("GT_CHILD").as_deref() == Ok(test)
}

/// Child of `default_hook_output`.
#[test]
fn child_default_hook() {
    if !is_child("child_default_hook") {
        return;
    }
    support::run_with("green_n", || async {
        let t = Thread::builder()
            .name("excepthook thread")
            .build(|| async { panic!("run failed") });
        t.start().unwrap();
        t.join().await.unwrap();
        let t = Thread::builder().name("quiet").build(|| async { exit() });
        t.start().unwrap();
        t.join().await.unwrap();
        eprintln!("main goes on");
    });
}

/// test_excepthook / test_print_exception / test_system_exit: the default
/// hook prints `Exception in thread NAME:` and the message; exit() prints
/// nothing; the rest of the program goes on.
#[test]
fn default_hook_output() {
    let (ok, stderr) = run_child("child_default_hook");
    assert!(ok, "child failed:\n{stderr}");
    assert!(
        stderr.contains("Exception in thread excepthook thread:\n"),
        "{stderr}"
    );
    assert!(stderr.contains("run failed"), "{stderr}");
    assert!(!stderr.contains("Exception in thread quiet"), "{stderr}");
    assert!(stderr.contains("main goes on"), "{stderr}");
    assert_eq!(
        stderr.matches("run failed").count(),
        1,
        "reported once:\n{stderr}"
    );
}

/// Child of `main_panic_is_printed`.
#[test]
fn child_main_panic() {
    if !is_child("child_main_panic") {
        return;
    }
    support::run_with("green_n", || async { panic!("visible main panic") });
}

/// A panic in the main future is printed (and fails the program).
#[test]
fn main_panic_is_printed() {
    let (ok, stderr) = run_child("child_main_panic");
    assert!(!ok);
    assert!(stderr.contains("visible main panic"), "{stderr}");
}

/// Child of `panicking_hook_output`.
#[test]
fn child_panicking_hook() {
    if !is_child("child_panicking_hook") {
        return;
    }
    set_excepthook(Arc::new(|_: &ExceptHookArgs| panic!("hook failure")));
    support::run_with("green_n", || async {
        let t = Thread::new(|| async { panic!("first") });
        t.start().unwrap();
        t.join().await.unwrap();
    });
}

/// test_custom_excepthook_fail: `Exception in threading.excepthook:`.
#[test]
fn panicking_hook_output() {
    let (ok, stderr) = run_child("child_panicking_hook");
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("Exception in threading.excepthook:"),
        "{stderr}"
    );
    assert!(stderr.contains("hook failure"), "{stderr}");
}
