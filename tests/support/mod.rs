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

/// The kinds `rt_test!` runs a body under.
pub(crate) const KINDS: [&str; 4] = ["green_1", "green_n", "os", "gil"];

/// `KINDS` and OS-thread mode with the GIL.
pub(crate) const ALL_KINDS: [&str; 5] = ["green_1", "green_n", "os", "gil", "os_gil"];

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

/// Instantiates an async test body once per runtime mode:
/// `green_1`, `green_n`, `os` and `gil`.
///
/// ```ignore
/// rt_test! {
///     async fn lock_smoke() {
///         let lock = greenthread::Lock::new();
///         lock.acquire().await;
///     }
/// }
/// ```
#[macro_export]
macro_rules! rt_test {
    ($(#[$meta:meta])* async fn $name:ident() $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            $(#[$meta])*
            async fn body() $body

            #[test]
            fn green_1() {
                $crate::support::run_with("green_1", body)
            }
            #[test]
            fn green_n() {
                $crate::support::run_with("green_n", body)
            }
            #[test]
            fn os() {
                $crate::support::run_with("os", body)
            }
            #[test]
            fn gil() {
                $crate::support::run_with("gil", body)
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
/// within 120 s.
pub(crate) fn in_child(name: &str, runs: usize) {
    let exe = std::env::current_exe().expect("the test binary");
    for run in 0..runs {
        let out = std::env::temp_dir().join(format!(
            "greenthread-faults-{}-{name}-{run}.log",
            std::process::id()
        ));
        let file = std::fs::File::create(&out).expect("a log file");
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                name,
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
                panic!("{name} (run {run}): child still running after 120 s");
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
            "{name} (run {run}): the child process failed ({status}); its output ends:\n{tail}"
        );
        assert!(
            log.contains("1 passed"),
            "{name} (run {run}): the child did not run the test; its output ends:\n{tail}"
        );
    }
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
