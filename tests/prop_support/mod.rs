//! The driver shared by the property tests (`prop_sync.rs`, `prop_queue.rs`):
//! one runtime per proptest run, each generated case run as a thread of it,
//! cancellable waiters, and bounded quiescence checks.
//!
//! A case is an `async` body returning `Err(message)` when an invariant does
//! not hold; every wait in it is bounded ([`SETTLE`]), so a lost wake-up
//! fails the case (and proptest shrinks it) instead of hanging the suite.
#![allow(dead_code)] // each test file uses the subset it needs

use std::fmt::Debug;
use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures::channel::oneshot;
use futures::future::{select, Either};
use greenthread::JoinHandle;
use proptest::strategy::Strategy;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::support::builder_for;

/// How long a quiescence check polls before it declares the state stuck,
/// and how long a waiter may take to end once cancelled. Generous: a
/// healthy run settles in milliseconds even on a loaded machine.
pub(crate) const SETTLE: Duration = Duration::from_secs(2);

/// The most waiter threads one case starts (OS-thread mode starts an OS
/// thread for each).
pub(crate) const MAX_WAITERS: usize = 10;

/// A whole case may take at most this long (a backstop: every wait in a
/// case is bounded by [`SETTLE`] already).
const CASE_LIMIT: Duration = Duration::from_secs(60);

/// Cases per proptest run: `PROPTEST_CASES` if set (to run more), else
/// `default`.
pub(crate) fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `case` on `cases(default_cases)` values of `strategy`, each as a
/// thread of one runtime of the given kind (built once for the run), and
/// panics with the shrunk failing input if a case fails.
pub(crate) fn run_cases<S, F, Fut>(kind: &str, default_cases: u32, strategy: S, case: F)
where
    S: Strategy,
    S::Value: Debug + Send + 'static,
    F: Fn(S::Value) -> Fut,
    Fut: Future<Output = Result<(), String>> + Send + 'static,
{
    let rt = builder_for(kind).build().expect("runtime builds");
    let config = Config {
        cases: cases(default_cases),
        // No regression files in the source tree; the failure is printed.
        failure_persistence: None,
        // A failing case costs up to a few SETTLE periods: bound shrinking.
        max_shrink_iters: 300,
        max_shrink_time: 90_000,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&strategy, |value| {
        let handle = rt.spawn(greenthread::timeout(CASE_LIMIT, case(value)));
        match greenthread::block_on(handle) {
            Ok(Ok(Ok(()))) => Ok(()),
            Ok(Ok(Err(msg))) => Err(TestCaseError::fail(msg)),
            Ok(Err(_)) => Err(TestCaseError::fail(format!(
                "the case did not finish within {CASE_LIMIT:?}"
            ))),
            Err(e) => Err(TestCaseError::fail(format!("the case thread failed: {e}"))),
        }
    });
    if let Err(e) = result {
        panic!("[{kind}] {e}");
    }
}

/// One `#[test]` per runtime kind running `$run(kind)`.
#[macro_export]
macro_rules! per_kind {
    ($name:ident, $run:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            #[test]
            fn green_1() {
                ($run)("green_1")
            }
            #[test]
            fn green_n() {
                ($run)("green_n")
            }
            #[test]
            fn os() {
                ($run)("os")
            }
            #[test]
            fn gil() {
                ($run)("gil")
            }
        }
    };
}

/// The cancel switches of a case's waiters, by index.
#[derive(Default)]
pub(crate) struct Cancels(Vec<Option<oneshot::Sender<()>>>);

impl Cancels {
    /// A new switch; its receiver goes to the waiter.
    pub(crate) fn add(&mut self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        self.0.push(Some(tx));
        rx
    }

    /// Cancels waiter `i % len` (a no-op if there is none, or it was
    /// cancelled already). Does not wait.
    pub(crate) fn cancel(&mut self, i: usize) {
        if self.0.is_empty() {
            return;
        }
        let n = self.0.len();
        if let Some(tx) = self.0[i % n].take() {
            let _ = tx.send(());
        }
    }

    /// Cancels every waiter.
    pub(crate) fn cancel_all(&mut self) {
        for tx in self.0.iter_mut().filter_map(Option::take) {
            let _ = tx.send(());
        }
    }

    /// Waiters started so far.
    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }
}

/// The waiter threads of a case, with their cancel switches.
#[derive(Default)]
pub(crate) struct Waiters {
    cancels: Cancels,
    handles: Vec<JoinHandle<()>>,
}

impl Waiters {
    /// Starts `body(cancel)` as a waiter thread, unless [`MAX_WAITERS`] are
    /// started already.
    pub(crate) fn spawn<Fut>(&mut self, body: impl FnOnce(oneshot::Receiver<()>) -> Fut)
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        if self.cancels.len() < MAX_WAITERS {
            let rx = self.cancels.add();
            self.handles.push(greenthread::spawn(body(rx)));
        }
    }

    /// Cancels waiter `i` (see [`Cancels::cancel`]).
    pub(crate) fn cancel(&mut self, i: usize) {
        self.cancels.cancel(i);
    }

    /// Cancels every waiter and waits (bounded) for all to end; `result`
    /// (the case's checks so far) comes first in what is returned.
    pub(crate) async fn finish(mut self, result: Result<(), String>) -> Result<(), String> {
        self.cancels.cancel_all();
        let joined = join_all(self.handles).await;
        result?;
        joined
    }

    /// The end of a case whose checks so far gave `result`: if they held,
    /// [`settle`]s on `check`; then [`finish`](Self::finish)es (every
    /// waiter cancelled and ended) and runs `check` once more on what the
    /// waiters left.
    pub(crate) async fn wind_up<K: PartialEq>(
        self,
        mut result: Result<(), String>,
        mut check: impl FnMut() -> Result<K, String>,
    ) -> Result<(), String> {
        if result.is_ok() {
            result = settle(&mut check).await;
        }
        self.finish(result).await?;
        check().map(drop)
    }
}

/// Runs `fut` until it completes (`Some`) or the waiter is cancelled
/// (`None`: `fut` is dropped where it stands, which is the cancellation
/// under test).
pub(crate) async fn cancellable<F: Future>(
    fut: F,
    cancel: &mut oneshot::Receiver<()>,
) -> Option<F::Output> {
    match select(pin!(fut), cancel).await {
        Either::Left((out, _)) => Some(out),
        Either::Right(_) => None,
    }
}

/// Waits for quiescence, then for `check` to hold: polls `check` (sleeping
/// with a growing step, never spinning) until it returns the same `Ok`
/// fingerprint (a snapshot of the counters) twice in a row, at least
/// [`STABLE`] apart, or [`SETTLE`] passes; then returns its last error.
///
/// Asking for a stable fingerprint is what makes "a waiter is still
/// waiting" mean "it is blocked", not "it has not run yet"; a false `Ok`
/// is still possible on a very loaded machine, a false `Err` is not (it
/// needs the violation to last [`SETTLE`]).
pub(crate) async fn settle<K: PartialEq>(
    mut check: impl FnMut() -> Result<K, String>,
) -> Result<(), String> {
    let start = Instant::now();
    let mut step = Duration::from_millis(1);
    let mut last: Option<(K, Instant)> = None;
    loop {
        match check() {
            Ok(k) => match &last {
                Some((prev, at)) if *prev == k && at.elapsed() >= STABLE => return Ok(()),
                Some((prev, _)) if *prev == k => {}
                _ => last = Some((k, Instant::now())),
            },
            Err(e) if start.elapsed() > SETTLE => {
                return Err(format!("still after {SETTLE:?}: {e}"))
            }
            Err(_) => last = None,
        }
        if start.elapsed() > SETTLE * 2 {
            // Ok, but never stable: the waiters are busy, not stuck.
            return Ok(());
        }
        greenthread::sleep(step).await;
        step = (step * 2).min(Duration::from_millis(20));
    }
}

/// How long [`settle`] wants the state unchanged.
pub(crate) const STABLE: Duration = Duration::from_millis(3);

/// Waits (bounded) for every waiter thread to end; a waiter that panicked
/// (an assertion inside it) or did not end is an error.
pub(crate) async fn join_all(handles: Vec<JoinHandle<()>>) -> Result<(), String> {
    for (i, h) in handles.into_iter().enumerate() {
        match greenthread::timeout(SETTLE, h).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(format!("waiter {i} failed: {e}")),
            Err(_) => {
                return Err(format!(
                    "waiter {i} did not end {SETTLE:?} after its cancel"
                ))
            }
        }
    }
    Ok(())
}

/// A count shared between the case and its waiters.
#[derive(Debug, Default)]
pub(crate) struct Count(AtomicUsize);

impl Count {
    /// Adds one; returns the count before.
    pub(crate) fn inc(&self) -> usize {
        self.0.fetch_add(1, Ordering::SeqCst)
    }

    /// Adds `n`.
    pub(crate) fn add(&self, n: usize) {
        self.0.fetch_add(n, Ordering::SeqCst);
    }

    /// Takes one away.
    pub(crate) fn dec(&self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }

    /// The count now.
    pub(crate) fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

/// The first fault a waiter saw (a wrong return value), for the case's
/// check to report.
#[derive(Debug, Default)]
pub(crate) struct FirstError(Mutex<Option<String>>);

impl FirstError {
    /// Records `msg` unless a fault is recorded already.
    pub(crate) fn set(&self, msg: String) {
        // A waiter that panicked holding it is reported by `join_all`.
        let mut e = self.0.lock().unwrap_or_else(|e| e.into_inner());
        e.get_or_insert(msg);
    }

    /// `Err` with the fault, if one was recorded.
    pub(crate) fn check(&self) -> Result<(), String> {
        match &*self.0.lock().unwrap_or_else(|e| e.into_inner()) {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        }
    }
}

/// What the main thread of a case does between its operations: nothing, a
/// yield, or a short sleep (`Pause` in the op lists).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Pause {
    /// One `yield_now`.
    Yield,
    /// A sleep of this many milliseconds (0-5).
    Sleep(u8),
}

impl Pause {
    /// Does it.
    pub(crate) async fn run(self) {
        match self {
            Pause::Yield => greenthread::yield_now().await,
            Pause::Sleep(ms) => greenthread::sleep(Duration::from_millis(u64::from(ms))).await,
        }
    }
}

/// Any [`Pause`].
pub(crate) fn pause() -> impl Strategy<Value = Pause> {
    use proptest::prelude::*;
    prop_oneof![Just(Pause::Yield), (0u8..=5).prop_map(Pause::Sleep)]
}

/// The operations every case's main thread has besides its own.
#[derive(Debug, Clone)]
pub(crate) enum Common {
    /// Cancel waiter `i` (modulo the waiters started), no `.await`.
    Cancel(usize),
    /// Yield or sleep.
    Pause(Pause),
    /// Check the invariants now (after quiescence).
    Settle,
}

impl Common {
    /// Does it; `Settle` returns what [`settle`] found.
    pub(crate) async fn run<K: PartialEq>(
        self,
        waiters: &mut Waiters,
        check: impl FnMut() -> Result<K, String>,
    ) -> Result<(), String> {
        match self {
            Common::Cancel(i) => waiters.cancel(i),
            Common::Pause(p) => p.run().await,
            Common::Settle => return settle(check).await,
        }
        Ok(())
    }
}

/// Any [`Common`], weighted towards settles (which let waiters block
/// before the next burst, and check).
pub(crate) fn common() -> impl Strategy<Value = Common> {
    use proptest::prelude::*;
    prop_oneof![
        1 => any::<usize>().prop_map(Common::Cancel),
        2 => pause().prop_map(Common::Pause),
        3 => Just(Common::Settle),
    ]
}

/// How a waiter waits: forever, or with a short timeout (0-20 ms).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Wait {
    /// The forever form.
    Forever,
    /// The `_timeout` form with this many milliseconds.
    Timed(u8),
}

impl Wait {
    /// The timeout, for the `_timeout` forms.
    pub(crate) fn duration(self) -> Option<Duration> {
        match self {
            Wait::Forever => None,
            Wait::Timed(ms) => Some(Duration::from_millis(u64::from(ms))),
        }
    }
}

/// Any [`Wait`], mostly forever ones (those are what a lost wake-up
/// strands; timed ones only add churn).
pub(crate) fn wait_kind() -> impl Strategy<Value = Wait> {
    use proptest::prelude::*;
    prop_oneof![
        3 => Just(Wait::Forever),
        1 => prop_oneof![Just(0u8), Just(1), Just(5), Just(20)].prop_map(Wait::Timed),
    ]
}
