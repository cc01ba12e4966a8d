//! The GIL itself: one lock per runtime serializing thread execution, as
//! CPython's GIL does, and the process-wide default switch interval. The
//! thread layer takes it around each poll (`thread::task`) and lets it go
//! around blocking calls (`thread::blocking`); the public switches are
//! `crate::gil`.
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
//! 3. `checkpoint` is the eval loop's drop-request check: free while nobody
//!    waits (one atomic load); once the oldest waiter has waited for the
//!    switch interval, the holder yields, handing the GIL over.
//! 4. The switch interval is process-wide as in Python
//!    (`set_switch_interval`) and each runtime starts from its builder's
//!    value; setting it updates every live runtime.

use crate::loom::atomic::{AtomicU64, Ordering};
use crate::loom::{Mutex, MutexGuard};
use std::collections::VecDeque;
use std::fmt;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// CPython's default switch interval (`sys.getswitchinterval()` = 0.005).
pub const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// The process-wide switch interval in nanoseconds.
static SWITCH_INTERVAL_NS: std::sync::atomic::AtomicU64 =
    std::sync::atomic::AtomicU64::new(5_000_000);

/// A switch interval in nanoseconds, at least 1 and saturating.
fn interval_ns(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX).max(1)
}

/// The process-wide default for new runtimes.
pub(crate) fn default_switch_interval() -> Duration {
    Duration::from_nanos(SWITCH_INTERVAL_NS.load(Ordering::Relaxed))
}

/// Makes `d` the process-wide default for new runtimes.
pub(crate) fn set_default_switch_interval(d: Duration) {
    SWITCH_INTERVAL_NS.store(interval_ns(d), Ordering::Relaxed);
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

    fn lock(&self) -> MutexGuard<'_, State> {
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
    pub(crate) fn holds(&self, ident: u64) -> bool {
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

#[cfg(all(test, loom))]
mod loom_tests {
    //! Models of the GIL's hand-off with the waiters really sleeping
    //! (`loom::future::block_on` parks until woken): a release hands the GIL
    //! to the oldest waiter and wakes it, so a burst of releases meeting
    //! several waiters lets each of them in turn (no one sleeps while the
    //! GIL is free or theirs), and a waiter that goes away while queued, or
    //! after it was handed the GIL, passes it on.
    use super::*;
    use loom::future::block_on;
    use loom::sync::atomic::AtomicUsize;
    use loom::thread;
    use std::future::poll_fn;

    /// Takes the GIL for `ident`, sleeping until it is handed over.
    fn acquire(gil: &Gil, ident: u64) {
        let mut queued = false;
        block_on(poll_fn(|cx| gil.poll_acquire(ident, &mut queued, cx)));
    }

    /// Three threads take and release the GIL twice each: one holder at a
    /// time, and everybody gets through (a lost hand-off is a deadlock).
    #[test]
    fn loom_gil_hand_off_mutual_exclusion() {
        loom::model(|| {
            let gil = crate::loom::Arc::new(Gil::new(DEFAULT_SWITCH_INTERVAL));
            let inside = crate::loom::Arc::new(AtomicUsize::new(0));
            let threads: Vec<_> = (1..=2u64)
                .map(|id| {
                    let (gil, inside) = (gil.clone(), inside.clone());
                    thread::spawn(move || {
                        for _ in 0..2 {
                            acquire(&gil, id);
                            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                            inside.fetch_sub(1, Ordering::SeqCst);
                            gil.release(id);
                        }
                    })
                })
                .collect();
            acquire(&gil, 3);
            assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
            inside.fetch_sub(1, Ordering::SeqCst);
            gil.release(3);
            for t in threads {
                t.join().unwrap();
            }
            assert!(!gil.holds(1) && !gil.holds(2) && !gil.holds(3));
        });
    }

    /// A thread queued for the GIL goes away (its wrapper is dropped) at any
    /// point, perhaps after the GIL was handed to it: the other waiter still
    /// gets it.
    #[test]
    fn loom_gil_forget_passes_it_on() {
        loom::model(|| {
            let gil = crate::loom::Arc::new(Gil::new(DEFAULT_SWITCH_INTERVAL));
            acquire(&gil, 1);
            let gone = {
                let gil = gil.clone();
                thread::spawn(move || {
                    let mut queued = false;
                    let waker = std::task::Waker::noop();
                    let mut cx = Context::from_waker(waker);
                    let _ = gil.poll_acquire(2, &mut queued, &mut cx);
                    gil.forget(2, queued);
                })
            };
            let other = {
                let gil = gil.clone();
                thread::spawn(move || {
                    acquire(&gil, 3);
                    gil.release(3);
                })
            };
            gil.release(1);
            gone.join().unwrap();
            other.join().unwrap();
            assert!(!gil.holds(2) && !gil.holds(3));
        });
    }
}
