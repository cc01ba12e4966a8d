//! Blocking sections of a thread: [`block_on`], and what any call that
//! blocks its OS thread inside a green thread goes through ([`blocking`]):
//! its worker hands its queued work off, and in GIL mode it lets the GIL go.

use std::future::{poll_fn, Future};
use std::pin::pin;

use super::context;
use crate::park::drive;
use crate::scheduler::gil::Gil;
use crate::scheduler::green::block_in_place;
use std::sync::atomic::Ordering;

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
/// (`block_in_place`) and, in GIL mode,
/// the thread lets the GIL go meanwhile ([`released_while`]).
pub(crate) fn blocking<R>(f: impl FnOnce() -> R) -> R {
    block_in_place(|| released_while(f))
}

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
            drive(std::pin::pin!(poll_fn(|cx| self.0.poll_acquire(
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
