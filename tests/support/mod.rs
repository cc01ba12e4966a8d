//! Shared helpers for the integration tests.
//!
//! [`rt_test!`] is the "one test body, every mode" macro: it instantiates an
//! `async` test body under Green with one worker, Green with several workers,
//! OS-thread mode and GIL mode, so a difference between the modes fails a
//! test.
#![allow(dead_code, unused_macros)] // each test file uses the subset it needs

use std::future::Future;
use std::time::{Duration, Instant};

use greenthread::{Builder, Mode, Runtime};

pub(crate) mod net;

/// The runtime configurations every `rt_test!` body runs under.
pub(crate) fn builder_for(kind: &str) -> Builder {
    match kind {
        "green_1" => Runtime::builder().mode(Mode::Green).workers(1).gil(false),
        "green_n" => Runtime::builder().mode(Mode::Green).workers(4).gil(false),
        "os" => Runtime::builder().mode(Mode::OsThreads).gil(false),
        "gil" => Runtime::builder().mode(Mode::Green).workers(2).gil(true),
        "os_gil" => Runtime::builder().mode(Mode::OsThreads).gil(true),
        other => panic!("unknown runtime kind {other}"),
    }
}

/// The kinds `rt_test!` runs a body under: Green with one and with several
/// workers, OS-thread mode, and each with the GIL.
pub(crate) const KINDS: [&str; 5] = ["green_1", "green_n", "os", "gil", "os_gil"];

/// Serializes the tests of one file that change process-wide state (hooks,
/// the excepthook, the switch interval, the name counter). Each test file
/// is its own process, so each has its own lock.
pub(crate) fn serial() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `body` as the main thread of a fresh runtime of the given kind.
pub(crate) fn run_with<F, Fut>(kind: &str, body: F) -> Fut::Output
where
    F: FnOnce() -> Fut,
    Fut: Future,
{
    let rt = builder_for(kind).build().expect("runtime builds");
    rt.block_on(body())
}

/// Instantiates a test once per runtime kind ([`KINDS`]): a module named
/// after the test holds one `#[test]` per kind (`green_1`, `green_n`, `os`,
/// `gil`, `os_gil`), so each mode passes or fails on its own.
///
/// Four forms:
///
/// ```ignore
/// rt_test! {
///     /// An async body, run as the main thread of a fresh runtime.
///     async fn lock_smoke() {
///         let lock = greenthread::Lock::new();
///         lock.acquire().await;
///     }
/// }
/// rt_test! {
///     /// A plain body given the kind's name, for tests that build their
///     /// own runtime (or several) with `builder_for(kind)`.
///     fn two_runtimes(kind) {
///         support::run_with(kind, || async {});
///     }
/// }
/// ```
///
/// and `serial async fn` / `serial fn`, which hold [`serial`] for the
/// test's whole run (tests that change process-wide state). Attributes and
/// doc comments go on every generated `#[test]` (`#[ignore]` included).
#[macro_export]
macro_rules! rt_test {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        $crate::rt_test!(@each $name [$(#[$meta])*] [] async fn body() $body
            |kind| $crate::support::run_with(kind, body));
    };
    ($(#[$meta:meta])* serial async fn $name:ident() $body:block) => {
        $crate::rt_test!(@each $name [$(#[$meta])*] [let _serial = $crate::support::serial();]
            async fn body() $body |kind| $crate::support::run_with(kind, body));
    };
    ($(#[$meta:meta])* fn $name:ident($kind:ident) $body:block) => {
        $crate::rt_test!(@each $name [$(#[$meta])*] [] fn body($kind: &'static str) $body
            |kind| body(kind));
    };
    ($(#[$meta:meta])* serial fn $name:ident($kind:ident) $body:block) => {
        $crate::rt_test!(@each $name [$(#[$meta])*] [let _serial = $crate::support::serial();]
            fn body($kind: &'static str) $body |kind| body(kind));
    };
    (@each $name:ident [$(#[$meta:meta])*] [$($guard:tt)*] $body_fn:item
        |$k:ident| $run:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $body_fn

            fn run($k: &'static str) {
                $($guard)*
                $run
            }

            $(#[$meta])*
            #[test]
            fn green_1() {
                run("green_1")
            }
            $(#[$meta])*
            #[test]
            fn green_n() {
                run("green_n")
            }
            $(#[$meta])*
            #[test]
            fn os() {
                run("os")
            }
            $(#[$meta])*
            #[test]
            fn gil() {
                run("gil")
            }
            $(#[$meta])*
            #[test]
            fn os_gil() {
                run("os_gil")
            }
        }
    };
}

/// Asserts lock_tests' timing convention: a wait of `expected` took at least
/// 0.6 × `expected` and (generously) less than 10 s more than that.
pub(crate) fn assert_timeout(start: Instant, expected: Duration) {
    let dt = start.elapsed();
    assert!(
        dt >= expected.mul_f64(0.6),
        "waited {dt:?}, expected at least 0.6 × {expected:?}"
    );
    assert!(
        dt < expected * 10 + Duration::from_secs(10),
        "waited {dt:?}, far more than {expected:?}"
    );
}

/// Polls `cond` every few milliseconds (sleeping, never spinning) until it
/// holds or `limit` passes; returns whether it held.
pub(crate) async fn wait_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    let mut step = Duration::from_millis(1);
    while !cond() {
        if start.elapsed() > limit {
            return false;
        }
        greenthread::sleep(step).await;
        step = (step * 2).min(Duration::from_millis(50));
    }
    true
}

/// A waker that counts its wake-ups (for futures polled by hand).
#[derive(Default)]
pub(crate) struct Counting(pub(crate) std::sync::atomic::AtomicUsize);

impl std::task::Wake for Counting {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// A [`Counting`] waker and its counter.
pub(crate) fn counting_waker() -> (std::sync::Arc<Counting>, std::task::Waker) {
    let c = std::sync::Arc::new(Counting::default());
    (c.clone(), std::task::Waker::from(c))
}

/// Compile-time check that a value is `Send`.
pub(crate) fn assert_send<T: Send>(_: &T) {}

/// A waker that panics when woken (or woken by reference), counting the
/// attempts first: a user waker run by the runtime (SPEC §10.27).
#[derive(Default)]
pub(crate) struct Panicking(pub(crate) std::sync::atomic::AtomicUsize);

impl std::task::Wake for Panicking {
    fn wake(self: std::sync::Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        panic!("waker panics on purpose");
    }
}

/// A [`Panicking`] waker and its counter.
pub(crate) fn panicking_waker() -> (std::sync::Arc<Panicking>, std::task::Waker) {
    let c = std::sync::Arc::new(Panicking::default());
    (c.clone(), std::task::Waker::from(c))
}

/// Runs the `#[ignore]`d test `name` in a child process `runs` times; each
/// run must exit successfully (an abort is a failure, not a dead suite),
/// within 120 s. When `name` is an [`rt_test!`] module, each of its modes
/// runs in a child process of its own, so one mode's abort does not hide
/// another's result.
pub(crate) fn in_child(name: &str, runs: usize) {
    let exe = std::env::current_exe().expect("the test binary");
    let listing = std::process::Command::new(&exe)
        .args(["--list", "--ignored", name])
        .output()
        .expect("the test binary lists its tests");
    let prefix = format!("{name}::");
    let tests: Vec<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .filter(|t| *t == name || t.starts_with(&prefix))
        .map(str::to_owned)
        .collect();
    assert!(!tests.is_empty(), "no ignored test named {name}");
    for test in &tests {
        for run in 0..runs {
            run_child(&exe, test, run);
        }
    }
}

/// One run of [`in_child`]: the ignored test `test`, exactly, in a child
/// process.
fn run_child(exe: &std::path::Path, test: &str, run: usize) {
    let out = std::env::temp_dir().join(format!(
        "greenthread-faults-{}-{}-{run}.log",
        std::process::id(),
        test.replace("::", "-")
    ));
    let file = std::fs::File::create(&out).expect("a log file");
    let mut child = std::process::Command::new(exe)
        .args([
            "--exact",
            test,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdin(std::process::Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .expect("the child test process starts");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{test} (run {run}): child still running after 120 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let log = std::fs::read_to_string(&out).unwrap_or_default();
    let _ = std::fs::remove_file(&out);
    let tail: String = {
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    };
    assert!(
        status.success(),
        "{test} (run {run}): the child process failed ({status}); its output ends:\n{tail}"
    );
    assert!(
        log.contains("1 passed"),
        "{test} (run {run}): the child did not run the test; its output ends:\n{tail}"
    );
}

/// Polls `fut` once by hand with `waker`; it must be pending.
pub(crate) fn poll_pending<F: Future + Unpin>(fut: &mut F, waker: &std::task::Waker) {
    let mut cx = std::task::Context::from_waker(waker);
    assert!(
        std::pin::Pin::new(fut).poll(&mut cx).is_pending(),
        "the wait must be pending"
    );
}

/// Polls `fut` once by hand with a no-op waker; it must be ready.
pub(crate) fn poll_ready<F: Future + Unpin>(fut: &mut F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::Pin::new(fut).poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the wait must be ready"),
    }
}

/// Two waits, polled by hand once each: the first with a panicking
/// waker, the second, behind it, with a counting one.
pub(crate) struct TwoWaiters<F> {
    /// The first one's waker.
    pub(crate) bad: std::sync::Arc<Panicking>,
    /// The second one's waker.
    pub(crate) good: std::sync::Arc<Counting>,
    /// The first wait.
    pub(crate) first: std::pin::Pin<Box<F>>,
    /// The second wait.
    pub(crate) second: std::pin::Pin<Box<F>>,
}

/// Makes two waits with `make` and polls them (both must be pending); see
/// [`TwoWaiters`].
pub(crate) fn two_waiters<F: Future>(mut make: impl FnMut() -> F) -> TwoWaiters<F> {
    let (bad, bad_waker) = panicking_waker();
    let (good, good_waker) = counting_waker();
    let mut first = Box::pin(make());
    poll_pending(&mut first, &bad_waker);
    let mut second = Box::pin(make());
    poll_pending(&mut second, &good_waker);
    TwoWaiters {
        bad,
        good,
        first,
        second,
    }
}

/// Starts a daemon thread named `name` running `f`.
pub(crate) fn start_daemon(
    name: &str,
    f: impl Future<Output = ()> + Send + 'static,
) -> greenthread::Thread {
    let mut f = Some(f);
    let t = greenthread::Thread::builder()
        .name(name)
        .daemon(true)
        .build(move || f.take().expect("runs once"));
    t.start().unwrap();
    t
}
