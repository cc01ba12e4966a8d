//! Driving a future on the calling OS thread: [`block_on`].

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::coop;

/// Wakes one OS thread parked in [`block_on`].
#[derive(Debug)]
pub(crate) struct Parker {
    /// Set by a wake, consumed by the parked thread (so a wake that comes
    /// before the park is not lost).
    notified: AtomicBool,
    /// The OS thread to unpark.
    thread: std::thread::Thread,
}

impl Wake for Parker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.notified.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}

impl Parker {
    /// Parks until woken (returns at once if a wake came since the last park).
    pub(crate) fn park(&self) {
        while !self.notified.swap(false, Ordering::Acquire) {
            std::thread::park();
        }
    }
}

thread_local! {
    /// This OS thread's parker and a waker for it, made once.
    static PARKER: (Arc<Parker>, Waker) = {
        let parker = Arc::new(Parker {
            notified: AtomicBool::new(false),
            thread: std::thread::current(),
        });
        let waker = Waker::from(parker.clone());
        (parker, waker)
    };
}

/// Drives `f` on the calling OS thread until it completes.
pub(crate) fn drive<F: Future>(f: std::pin::Pin<&mut F>) -> F::Output {
    /// A nested `block_on` may have consumed a wake meant for an enclosing
    /// one: leave a wake behind so the enclosing loop polls again — when
    /// `f` completes and when its poll unwinds alike.
    struct LeaveWake(Arc<Parker>);
    impl Drop for LeaveWake {
        fn drop(&mut self) {
            self.0.notified.store(true, Ordering::Release);
        }
    }
    let (parker, waker) = PARKER.with(|(p, w)| (p.clone(), w.clone()));
    let parker = LeaveWake(parker);
    let mut f = f;
    let mut cx = Context::from_waker(&waker);
    loop {
        if let (Poll::Ready(v), _) = coop::with_budget(|| f.as_mut().poll(&mut cx)) {
            break v;
        }
        parker.0.park();
    }
}

/// Drives `f` to completion on the calling OS thread, parking it while `f`
/// is pending.
///
/// Works with no runtime at all, so greenthread's primitives and timers can
/// be used from plain `std::thread` code.
///
/// Inside a green thread (Green mode) it blocks only that thread (SPEC
/// §10.21): before parking, the worker running it hands the threads queued
/// on it — its run-next slot included — to the other workers, and a spare
/// worker OS thread stands in for it until `block_on` returns (tokio's
/// `block_in_place` idea), so `block_on(spawn(..))` works on any worker
/// count, `workers(1)` included, and so do nested `block_on`s. Green threads
/// may then briefly run on a spare's OS thread (their `native_id` shows
/// it). Up to 64 green threads of a runtime may be blocked so at once (its
/// spare workers); beyond that a `block_on` blocks its worker outright.
/// In GIL mode the thread releases the GIL while it blocks and takes it
/// back before `block_on` returns, as CPython's blocking calls do. Prefer
/// `.await` inside green threads all the same: a blocked thread holds an
/// OS thread.
///
/// # Examples
///
/// ```
/// let v = greenthread::block_on(async { 1 + 1 });
/// assert_eq!(v, 2);
/// ```
///
/// Inside a green thread, on a single worker:
///
/// ```
/// let rt = greenthread::Runtime::builder().workers(1).build().unwrap();
/// let v = rt.block_on(async {
///     greenthread::spawn(async {
///         greenthread::block_on(greenthread::spawn(async { 21 * 2 })).unwrap()
///     })
///     .await
///     .unwrap()
/// });
/// assert_eq!(v, 42);
/// ```
pub fn block_on<F: Future>(f: F) -> F::Output {
    blocking(|| drive(pin!(f)))
}

/// Runs `f`, which blocks the calling OS thread, as a blocking section of
/// the green thread calling it, if any: its worker hands its work off
/// ([`block_in_place`](crate::executor::block_in_place)) and, in GIL mode,
/// the thread lets the GIL go meanwhile ([`released_while`]).
///
/// [`released_while`]: crate::gil::released_while
pub(crate) fn blocking<R>(f: impl FnOnce() -> R) -> R {
    crate::executor::block_in_place(|| crate::gil::released_while(f))
}
