//! The cooperative budget: how a green thread that keeps finding everything
//! ready still yields.
//!
//! Every poll of a thread by the executor (and every poll of a `block_on`
//! future) starts with a fresh budget of `BUDGET` (128) units. Each operation of a
//! greenthread primitive that *could* have waited spends one unit through
//! [`poll_proceed`]; when the budget is spent, the operation returns
//! `Pending` after waking its own task, so the thread goes to the back of its
//! worker's run queue and the other runnable threads get their turn (tokio's
//! `coop`, Go's preemption points). Outside greenthread (a foreign executor)
//! the budget is unlimited, so our primitives never yield spuriously there.

use std::cell::Cell;
use std::future::poll_fn;
use std::task::{Context, Poll};

/// Units of work a thread may do per poll before it must yield.
///
/// 128 is tokio's figure: large enough that the yield costs nothing measurable
/// on throughput workloads, small enough that a spinning thread yields every
/// few microseconds.
pub(crate) const BUDGET: u32 = 128;

/// `u32::MAX` means "unconstrained" (not inside a greenthread poll).
const UNCONSTRAINED: u32 = u32::MAX;

thread_local! {
    static REMAINING: Cell<u32> = const { Cell::new(UNCONSTRAINED) };
    /// Set when `poll_proceed` returned `Pending` because the budget ran out
    /// during the current budgeted poll.
    static YIELDED: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` with a fresh budget, restoring the previous one afterwards (so a
/// nested `block_on` does not spend its caller's budget). Also returns
/// whether `f` yielded because the budget ran out (see [`poll_proceed`]).
#[inline]
pub(crate) fn with_budget<R>(f: impl FnOnce() -> R) -> (R, bool) {
    struct Restore(u32, bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            REMAINING.with(|r| r.set(self.0));
            YIELDED.with(|y| y.set(self.1));
        }
    }
    let _restore = Restore(
        REMAINING.with(|r| r.replace(BUDGET)),
        YIELDED.with(|y| y.replace(false)),
    );
    let out = f();
    (out, YIELDED.with(|y| y.get()))
}

/// Spends one unit of the current thread's cooperative budget.
///
/// Returns `Poll::Ready(())` while budget remains. When it is exhausted,
/// wakes the task (so it is rescheduled at the back of the run queue) and
/// returns `Poll::Pending`. Primitives call this at the start of every poll
/// of a future that might otherwise complete immediately forever.
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    REMAINING.with(|r| match r.get() {
        UNCONSTRAINED => Poll::Ready(()),
        0 => {
            YIELDED.with(|y| y.set(true));
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        n => {
            r.set(n - 1);
            Poll::Ready(())
        }
    })
}

/// Spends one unit of budget, yielding first if it is exhausted.
///
/// # Cancel safety
///
/// Cancel safe: it holds nothing.
pub async fn proceed() {
    poll_fn(poll_proceed).await
}
