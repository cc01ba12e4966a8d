//! GIL mode: one lock per runtime serializing thread execution, as
//! CPython's GIL does.
//!
//! # Design notes
//!
//! 1. A thread holds the GIL while its code runs — that is, for the whole of
//!    each poll of its wrapper future — and gives it up at the end of every
//!    poll, i.e. at every switch point that suspends (sleep, I/O, a wait on
//!    a primitive, join, `yield_now`, `checkpoint`). Waiting for the GIL is
//!    itself a suspension, so it never blocks a worker.
//! 2. The GIL is handed over, not released into a free-for-all: the holder's
//!    release passes ownership to the oldest waiter (FIFO) and wakes it. So a
//!    thread that dropped the GIL cannot take it back before every thread
//!    that was already waiting has run — CPython's `FORCE_SWITCHING`.
//! 3. [`checkpoint`] is the eval loop's drop-request check: free while nobody
//!    waits (one atomic load); once the oldest waiter has waited for the
//!    switch interval, the holder yields, handing the GIL over.
//! 4. The switch interval is process-wide as in Python
//!    ([`set_switch_interval`]) and each runtime starts from its builder's
//!    value; setting it updates every live runtime.

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use crate::context;
use crate::coop;

/// Runs `f`, a call that blocks the calling OS thread (a `block_on` inside
/// a thread), with the calling thread's GIL released, as CPython releases
/// it around blocking calls, so that the threads `f` waits for can run.
/// Takes it back afterwards, waiting for it (on unwinding too: the
/// thread's code goes on either way). Outside GIL mode, or outside a
/// thread holding the GIL, just calls `f`.
pub(crate) fn released_while<R>(f: impl FnOnce() -> R) -> R {
    /// Waits for the GIL again when dropped.
    struct Retake<'a>(&'a Gil, u64);
    impl Drop for Retake<'_> {
        fn drop(&mut self) {
            let mut queued = false;
            crate::park::drive(std::pin::pin!(poll_fn(|cx| self.0.poll_acquire(
                self.1,
                &mut queued,
                cx
            ))));
        }
    }
    let Some(rt) = context::runtime() else {
        return f();
    };
    let ident = context::with_thread(|t| t.map_or(0, |t| t.ident.load(Ordering::Relaxed)));
    match &rt.gil {
        Some(gil) if ident != 0 && gil.holds(ident) => {
            gil.release(ident);
            let _retake = Retake(gil, ident);
            f()
        }
        _ => f(),
    }
}

/// CPython's default switch interval (`sys.getswitchinterval()` = 0.005).
pub const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// The process-wide switch interval in nanoseconds.
static SWITCH_INTERVAL_NS: AtomicU64 = AtomicU64::new(5_000_000);

/// A switch interval in nanoseconds, at least 1 and saturating.
fn interval_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1)
}

/// One runtime's GIL.
pub(crate) struct Gil {
    /// Holder and waiters.
    state: Mutex<State>,
    /// When the oldest current waiter began waiting (ns since `epoch`, at
    /// least 1); 0 when nobody waits.
    request_since: AtomicU64,
    /// The switch interval in ns.
    interval_ns: AtomicU64,
    /// Reference point of `request_since`.
    epoch: Instant,
    /// Number of hand-overs to a different thread (CPython's `switch_number`).
    switches: AtomicU64,
}

struct State {
    /// Ident of the holder; 0 when free.
    holder: u64,
    /// Waiting threads, oldest first.
    waiters: VecDeque<(u64, Waker)>,
}

impl fmt::Debug for Gil {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gil")
            .field("interval_ns", &self.interval_ns.load(Ordering::Relaxed))
            .field("switches", &self.switches.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Gil {
    pub(crate) fn new(interval: Duration) -> Gil {
        Gil {
            state: Mutex::new(State {
                holder: 0,
                waiters: VecDeque::new(),
            }),
            request_since: AtomicU64::new(0),
            interval_ns: AtomicU64::new(interval_ns(interval)),
            epoch: Instant::now(),
            switches: AtomicU64::new(0),
        }
    }

    fn now_ns(&self) -> u64 {
        (self.epoch.elapsed().as_nanos() as u64).max(1)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the GIL for thread `ident`, or queues it and returns `Pending`.
    ///
    /// `queued` is the caller's record of whether it is already in the
    /// queue: a queued thread that is polled again (a spurious wake) stays
    /// where it is without a search. A thread's waker never changes (it is
    /// its task's), so the queued one stays valid.
    pub(crate) fn poll_acquire(
        &self,
        ident: u64,
        queued: &mut bool,
        cx: &mut Context<'_>,
    ) -> Poll<()> {
        let mut s = self.lock();
        if s.holder == ident {
            *queued = false;
            return Poll::Ready(());
        }
        if s.holder == 0 && s.waiters.is_empty() {
            s.holder = ident;
            *queued = false;
            return Poll::Ready(());
        }
        if !*queued {
            if s.waiters.is_empty() {
                self.request_since.store(self.now_ns(), Ordering::Release);
            }
            s.waiters.push_back((ident, cx.waker().clone()));
            *queued = true;
        }
        Poll::Pending
    }

    /// Gives the GIL up; hands it to the oldest waiter, if any.
    pub(crate) fn release(&self, ident: u64) {
        let mut s = self.lock();
        if s.holder != ident {
            return;
        }
        let next = self.hand_over(&mut s);
        drop(s);
        if let Some(w) = next {
            w.wake();
        }
    }

    fn hand_over(&self, s: &mut State) -> Option<Waker> {
        match s.waiters.pop_front() {
            Some((id, w)) => {
                s.holder = id;
                let since = if s.waiters.is_empty() {
                    0
                } else {
                    self.now_ns()
                };
                self.request_since.store(since, Ordering::Release);
                self.switches.fetch_add(1, Ordering::Relaxed);
                Some(w)
            }
            None => {
                s.holder = 0;
                self.request_since.store(0, Ordering::Release);
                None
            }
        }
    }

    /// A thread's wrapper is gone: leave the queue (`queued`: it is in it;
    /// the search is skipped otherwise, so ending threads costs O(1) however
    /// many wait), and pass the GIL on if held.
    pub(crate) fn forget(&self, ident: u64, queued: bool) {
        let mut s = self.lock();
        if queued {
            s.waiters.retain(|(id, _)| *id != ident);
        }
        if s.waiters.is_empty() && s.holder != ident {
            self.request_since.store(0, Ordering::Release);
        }
        let next = if s.holder == ident {
            self.hand_over(&mut s)
        } else {
            None
        };
        drop(s);
        if let Some(w) = next {
            w.wake();
        }
    }

    /// Whether thread `ident` holds the GIL.
    fn holds(&self, ident: u64) -> bool {
        self.lock().holder == ident
    }

    /// Whether the holder should yield: someone has waited a full interval.
    pub(crate) fn should_switch(&self) -> bool {
        let since = self.request_since.load(Ordering::Acquire);
        since != 0
            && self.now_ns().saturating_sub(since) >= self.interval_ns.load(Ordering::Relaxed)
    }

    pub(crate) fn set_interval(&self, d: Duration) {
        self.interval_ns.store(interval_ns(d), Ordering::Relaxed);
    }

    pub(crate) fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval_ns.load(Ordering::Relaxed))
    }

    /// Hand-overs so far.
    pub(crate) fn switches(&self) -> u64 {
        self.switches.load(Ordering::Relaxed)
    }
}

/// The error of [`set_switch_interval`] with a zero interval (Python's
/// `ValueError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwitchIntervalError;

impl fmt::Display for SwitchIntervalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("switch interval must be strictly positive")
    }
}

impl std::error::Error for SwitchIntervalError {}

/// Whether the calling thread's runtime runs with the GIL.
pub fn enabled() -> bool {
    context::with_runtime(|rt| rt.is_some_and(|rt| rt.gil.is_some()))
}

/// The switch interval (Python's `sys.getswitchinterval()`): the calling
/// runtime's, or the process-wide default outside a runtime.
pub fn switch_interval() -> Duration {
    context::with_runtime(|rt| rt.and_then(|rt| rt.gil.as_ref().map(Gil::interval)))
        .unwrap_or_else(default_switch_interval)
}

/// The process-wide default for new runtimes.
pub(crate) fn default_switch_interval() -> Duration {
    Duration::from_nanos(SWITCH_INTERVAL_NS.load(Ordering::Relaxed))
}

/// Sets the switch interval process-wide (Python's
/// `sys.setswitchinterval`): the default of new runtimes, and the interval
/// of every live one.
///
/// # Errors
///
/// [`SwitchIntervalError`] for a zero interval.
pub fn set_switch_interval(d: Duration) -> Result<(), SwitchIntervalError> {
    if d.is_zero() {
        return Err(SwitchIntervalError);
    }
    SWITCH_INTERVAL_NS.store(interval_ns(d), Ordering::Relaxed);
    crate::runtime::for_each_runtime(|rt| {
        if let Some(g) = &rt.gil {
            g.set_interval(d);
        }
    });
    Ok(())
}

/// The eval loop's check (a switch point for CPU-bound loops): with the GIL,
/// yields it once another thread has waited for the switch interval; in
/// every mode, spends one unit of the cooperative budget, so a loop that
/// calls it lets other threads run.
///
/// # Cancel safety
///
/// Cancel safe.
pub async fn checkpoint() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        let switch = context::with_runtime(|rt| {
            rt.and_then(|rt| rt.gil.as_ref())
                .is_some_and(Gil::should_switch)
        });
        if switch {
            yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        coop::poll_proceed(cx)
    })
    .await
}
