//! The wrapper future every thread's target runs in.
//!
//! On each poll, in this order: enter the thread's context; record the
//! worker as its native id; if cancelled, drop the target and end; take the
//! GIL (pending if another thread holds it); report `Start` (first poll) or
//! `Resume`; poll the target with a fresh cooperative budget, catching
//! panics; release the GIL; report `Suspend` or end the thread. The first
//! time the thread parks (on the GIL or in its target), it leaves the
//! task's waker with the thread, for cancellation.
//!
//! Ending a thread (`finish`), in Python's order: excepthook (for a panic of
//! a `Thread` target), drop its `Local` values, report `Exit` (and `Start`
//! before it if the target was cancelled before it ever ran, SPEC §10.13),
//! forget the waker, leave the registry (flagged `ENDED` at once, removed
//! in a batch on a green worker: `registry`), mark it `STOPPED`, wake every
//! joiner.
//!
//! User code dropped by the runtime — the target, a panic payload, `Local`
//! values, a hook — is dropped through [`drop_caught`]: a panicking
//! destructor is caught there, never left to unwind into async-task's
//! abort guards (which drop a finished task's output and its future) or to
//! skip the ending steps. A payload is dropped as soon as its message is
//! taken, in the thread that panicked (only the main thread keeps it, to
//! resume it from `block_on`), so no user payload ever travels in a task's
//! output.

use std::any::Any;
use std::cell::Cell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{Context, Poll};

use super::context;
use super::handle::RtInner;
use super::hooks::{self, TraceEvent};
use super::instrument::SpawnLocation;
use super::{Kind, TargetOrWaker, Thread};
use crate::catch::drop_caught;
use crate::coop;
use crate::record;

/// The unwind payload of [`exit`](crate::exit).
#[derive(Debug)]
pub(crate) struct ThreadExit;

thread_local! {
    /// True while a thread's target is being polled on this OS thread: the
    /// panic hook then leaves the report to the excepthook.
    pub(crate) static IN_TARGET: Cell<bool> = const { Cell::new(false) };
}

/// How a thread's target ended, when it did not return a value.
#[derive(Debug)]
pub(crate) enum Ended {
    /// It panicked.
    Panicked(Panic),
    /// It called [`exit`](crate::exit).
    Exited,
    /// The runtime shut down and dropped it.
    Cancelled,
}

/// The message of a panic payload.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_string()
    }
}

/// A target's panic: its message, and its payload only where it is resumed
/// (the main thread's, from `block_on`). The payload is user code whose
/// `Drop` may panic: it is dropped through [`drop_caught`], even when this
/// is dropped inside an abort guard.
pub(crate) struct Panic {
    /// The panic message.
    message: String,
    /// The payload, kept to be resumed.
    payload: Option<Box<dyn Any + Send>>,
}

impl Panic {
    /// Takes the message of `payload`, and keeps the payload only if
    /// `keep`; otherwise it is dropped here, safely.
    fn new(payload: Box<dyn Any + Send>, keep: bool) -> Panic {
        let message = panic_message(&*payload);
        let payload = if keep {
            Some(payload)
        } else {
            drop_caught(payload);
            None
        };
        Panic { message, payload }
    }

    /// The panic message.
    pub(crate) fn into_message(mut self) -> String {
        std::mem::take(&mut self.message)
    }

    /// The payload to resume (the message, if it was not kept).
    pub(crate) fn into_payload(mut self) -> Box<dyn Any + Send> {
        match self.payload.take() {
            Some(p) => p,
            None => Box::new(std::mem::take(&mut self.message)),
        }
    }
}

impl Drop for Panic {
    fn drop(&mut self) {
        if let Some(p) = self.payload.take() {
            drop_caught(p);
        }
    }
}

impl std::fmt::Debug for Panic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Panic")
            .field("message", &self.message)
            .finish_non_exhaustive()
    }
}

/// A thread's target with its bookkeeping.
pub(crate) struct ThreadTask<F> {
    /// The thread: a counted handle, or, when the thread is its task's
    /// metadata (`EMBEDDED`), an uncounted one (`ThreadRef::uncounted`: a
    /// counted one would keep its own task alive). Dropped in `drop` when
    /// counted.
    thread: ManuallyDrop<Thread>,
    /// Its runtime.
    rt: Arc<RtInner>,
    /// The target (structurally pinned), until `live` is false: dropped
    /// in place or taken back then. Not an `Option`: an `async` block's
    /// state has no niche an `Option` could use, so it cost 8 B per thread
    /// (every 16 B is a malloc size class: W9's parked thread is a 208 B
    /// chunk).
    fut: ManuallyDrop<F>,
    /// `fut` holds the target.
    live: bool,
    /// Whether a panic goes to the excepthook (`Thread` targets) rather than
    /// only to the result (`spawn`, the main thread).
    report: bool,
    /// Not polled yet.
    first_poll: bool,
    /// The thread's first park was seen ([`ThreadTask::keep_waker`]): the
    /// task's waker is in the thread's slot, unless the thread lives in
    /// its task, which has no slot and needs no copy.
    waker_kept: bool,
    /// `finish` has run.
    finished: bool,
    /// Queued for the GIL.
    gil_queued: bool,
    /// Holding the GIL (kept across a cooperative-budget yield).
    gil_held: bool,
    /// Its `runtime.spawn` span and traced waker (`instrument` module).
    #[cfg(feature = "tracing")]
    trace: super::instrument::TaskTrace,
}

impl<F: Future> ThreadTask<F> {
    /// `thread`: counted, or uncounted if `EMBEDDED` (see the field); `loc`:
    /// where the thread was started (for its `tracing` span; nothing without
    /// the feature).
    pub(crate) fn new(
        thread: ManuallyDrop<Thread>,
        rt: Arc<RtInner>,
        fut: F,
        report: bool,
        loc: SpawnLocation,
    ) -> ThreadTask<F> {
        #[cfg(not(feature = "tracing"))]
        let _ = loc;
        ThreadTask {
            #[cfg(feature = "tracing")]
            trace: super::instrument::TaskTrace::new(
                &thread,
                loc,
                report,
                std::mem::size_of::<ThreadTask<F>>(),
            ),
            thread,
            rt,
            fut: ManuallyDrop::new(fut),
            live: true,
            report,
            first_poll: true,
            waker_kept: false,
            finished: false,
            gil_queued: false,
            gil_held: false,
        }
    }
}

impl<F> ThreadTask<F> {
    /// The target of a task never polled (its start was refused), taken
    /// back; the thread is left as it was.
    pub(crate) fn into_target(mut self) -> Option<F> {
        debug_assert!(self.first_poll, "the task has run");
        // Nothing to end: the thread never started.
        self.finished = true;
        if !self.live {
            return None;
        }
        self.live = false;
        // SAFETY: `live` was true, so `fut` holds the target, never polled
        // (so never pinned); clearing `live` first means it is neither
        // dropped nor taken again.
        Some(unsafe { ManuallyDrop::take(&mut self.fut) })
    }

    /// Drops the target inside the thread's context, swallowing a panic of
    /// its destructor (nothing could receive it).
    ///
    /// Dropped *in place*: the target is pinned, and a suspended `async`
    /// block may hold references into itself (a guard borrowing a captured
    /// `Lock`); moving it out first (`Option::take`) left those pointing at
    /// the emptied slot, and a cancelled daemon thread holding a guard
    /// crashed at shutdown.
    fn drop_target(&mut self) {
        if !self.live {
            return;
        }
        // Cleared first: whether the destructor returns or unwinds (caught
        // here), the value counts as dropped and is never dropped again.
        self.live = false;
        let fut = &mut self.fut;
        // SAFETY: `live` was true, so `fut` holds the target; it is dropped
        // where it is pinned (never moved), once (`live` is false now, on
        // unwinding too).
        let r = catch_unwind(AssertUnwindSafe(|| unsafe { ManuallyDrop::drop(fut) }));
        if let Err(payload) = r {
            drop_caught(payload);
        }
    }

    /// The ending steps (module docs); idempotent.
    fn finish(&mut self, panic: Option<&Panic>) {
        if self.finished {
            return;
        }
        self.finished = true;
        let inner = &self.thread.inner;
        if let (true, Some(panic)) = (self.report, panic) {
            hooks::report_panic(&self.thread, panic.message.clone());
        }
        super::local::teardown(&self.thread);
        if self.first_poll {
            // Cancelled before its first poll (or while queued for the
            // GIL): a traced thread still reports `Start` first (§10.13).
            self.first_poll = false;
            hooks::trace(&self.thread, TraceEvent::Start);
        }
        hooks::trace(&self.thread, TraceEvent::Exit);
        hooks::forget(&self.thread);
        if self.waker_kept {
            self.waker_kept = false;
            // Dropped after the lock is released.
            let waker = self.thread.inner.with_slot(std::mem::take);
            drop(waker);
        }
        if inner.kind == Kind::Main {
            return; // the runtime stops the main thread after shutdown
        }
        super::registry::remove_ended(&self.rt, &self.thread);
        inner.mark_stopped();
    }
}

impl<F: Future> Future for ThreadTask<F> {
    type Output = Result<F::Output, Ended>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `fut` is structurally pinned: it is only ever accessed
        // through `Pin::new_unchecked` in `poll_thread` or dropped in place
        // (`live` cleared), never moved; the other fields are not pinned.
        let this = unsafe { self.get_unchecked_mut() };
        #[cfg(feature = "tracing")]
        let out = this.poll_traced(cx);
        #[cfg(not(feature = "tracing"))]
        let out = this.poll_thread(cx);
        out
    }
}

impl<F: Future> ThreadTask<F> {
    /// [`poll_thread`](Self::poll_thread) inside the thread's span, the
    /// target (and the GIL) polled with the traced waker. The trace is
    /// taken out for the poll so the span stays entered while `self` is
    /// mutated; the traced waker's `Arc` lives in it, so the view it lends
    /// lives as long as the poll.
    #[cfg(feature = "tracing")]
    fn poll_traced(&mut self, cx: &mut Context<'_>) -> Poll<<Self as Future>::Output> {
        let mut trace = std::mem::take(&mut self.trace);
        let traced = trace.waker(cx.waker());
        let out = trace.in_span(|| match &traced {
            Some(w) => self.poll_thread(&mut Context::from_waker(w)),
            None => self.poll_thread(cx),
        });
        self.trace = trace;
        out
    }

    /// One poll (module docs); `self`'s `fut` is pinned (see `poll`).
    #[inline(always)]
    fn poll_thread(&mut self, cx: &mut Context<'_>) -> Poll<<Self as Future>::Output> {
        let this = self;
        if this.finished {
            return Poll::Ready(Err(Ended::Cancelled));
        }
        // The guard holds raw pointers only: `this` stays free to mutate.
        let _enter = context::enter(&this.thread, &this.rt);
        let inner = &*this.thread.inner;
        inner
            .native_id
            .store(crate::native::native_id(), Ordering::Relaxed);
        if inner.has_flag(super::CANCELLED) {
            this.drop_target();
            this.finish(None);
            return Poll::Ready(Err(Ended::Cancelled));
        }
        let ident = inner.ident.load(Ordering::Relaxed);
        inner.record.begin();
        if let Some(gil) = &this.rt.gil {
            let first = !this.gil_queued;
            if gil
                .poll_acquire(ident, &mut this.gil_queued, cx)
                .is_pending()
            {
                inner.record.pending(record::kind::GIL, 0, 0, first);
                inner.record.end(true, false);
                this.keep_waker(cx);
                return Poll::Pending;
            }
            this.gil_held = true;
        }
        if this.first_poll {
            this.first_poll = false;
            hooks::trace(&this.thread, TraceEvent::Start);
        } else {
            hooks::trace(&this.thread, TraceEvent::Resume);
        }
        let result = {
            if !this.live {
                return Poll::Ready(Err(Ended::Cancelled));
            }
            // SAFETY: see `poll`: `fut` is never moved while pinned, and
            // `live` says it holds the target.
            let fut = unsafe { Pin::new_unchecked(&mut *this.fut) };
            // Only panics the excepthook will report are kept quiet: a panic
            // in the main future or a `spawn` future must still be printed.
            let was_in = IN_TARGET.with(|c| c.replace(this.report));
            // Stall warnings: published only when the runtime asks.
            let stall_us = this.rt.stall_warning_us.load(Ordering::Relaxed);
            let stall = stall_us != 0 && record::stall_begin(ident, stall_us);
            // The task's waker never panics: the primitives the target
            // waits on need not wrap it (`waker` module).
            let r = catch_unwind(AssertUnwindSafe(|| {
                crate::waker::trusting(cx.waker(), || coop::with_budget(|| fut.poll(cx)))
            }));
            IN_TARGET.with(|c| c.set(was_in));
            if stall {
                record::stall_end();
            }
            r
        };
        let (result, budget_yield) = match result {
            Ok((poll, budget_yield)) => (Ok(poll), budget_yield),
            Err(payload) => (Err(payload), false),
        };
        let pending = matches!(result, Ok(Poll::Pending));
        inner.record.end(pending, budget_yield && pending);
        if let Some(gil) = &this.rt.gil {
            // A yield forced by the cooperative budget is the eval loop's
            // periodic check, not a blocking call: like CPython, keep the
            // GIL unless a waiter has waited a switch interval. The thread
            // woke itself, so it runs again soon and still holds it.
            let keep = budget_yield && matches!(result, Ok(Poll::Pending)) && !gil.should_switch();
            if !keep {
                gil.release(ident);
                this.gil_held = false;
            }
        }
        match result {
            Ok(Poll::Pending) => {
                hooks::trace(&this.thread, TraceEvent::Suspend);
                this.keep_waker(cx);
                Poll::Pending
            }
            Ok(Poll::Ready(v)) => {
                this.drop_target();
                this.finish(None);
                Poll::Ready(Ok(v))
            }
            Err(payload) => {
                this.drop_target();
                if payload.is::<ThreadExit>() {
                    drop_caught(payload);
                    this.finish(None);
                    return Poll::Ready(Err(Ended::Exited));
                }
                // Only the main thread's payload is resumed (from
                // `block_on`): the others are dropped here, safely.
                let panic = Panic::new(payload, this.thread.inner.kind == Kind::Main);
                this.finish(Some(&panic));
                Poll::Ready(Err(Ended::Panicked(panic)))
            }
        }
    }
}

impl<F> ThreadTask<F> {
    /// Puts the task's own waker (not a traced one, which would count as a
    /// waker held by a waiter) in the thread's slot the first time the
    /// thread parks, so that shutdown can wake it to be cancelled
    /// ([`Thread::cancel`]). A thread that ends in its first poll — most
    /// `spawn`ed ones — never takes the lock or the waker's count for it.
    ///
    /// `cancel` sets `CANCELLED`, then looks at the slot under its lock; we
    /// fill the slot under that lock, then look at the flag: whichever
    /// locks second sees the other's write, so a cancel that found no waker
    /// is seen here, and the task wakes itself to be cancelled.
    #[inline(always)]
    fn keep_waker(&mut self, cx: &Context<'_>) {
        if !self.waker_kept {
            self.store_waker(cx);
        }
    }

    /// [`keep_waker`](Self::keep_waker)'s first time.
    #[cold]
    fn store_waker(&mut self, cx: &Context<'_>) {
        self.waker_kept = true;
        let inner = &self.thread.inner;
        // A thread in its task has no slot: `cancel` wakes it through the
        // task's address (`ThreadRef::embedded_task_waker`), with no lock
        // and no copy.
        if inner.has_flag(super::EMBEDDED) {
            return;
        }
        #[cfg(feature = "tracing")]
        let waker = super::instrument::untraced(cx.waker());
        #[cfg(not(feature = "tracing"))]
        let waker = cx.waker();
        inner.with_slot(|slot| *slot = TargetOrWaker::Waker(waker.clone()));
        if inner.has_flag(super::CANCELLED) {
            cx.waker().wake_by_ref();
        }
    }
}

impl<F> Drop for ThreadTask<F> {
    fn drop(&mut self) {
        if !self.finished && self.thread.inner.state.is_initial() {
            // A `spawn` whose start was refused after its task was made
            // (`RtInner::launch_in_task`): it never started, so it does
            // not end either; its target is dropped unrun.
            self.finished = true;
            self.drop_target();
        }
        if !self.finished {
            // Dropped before completion: the runtime is shutting down. The
            // guard holds raw pointers only, so `self` stays mutable.
            let _enter = context::enter(&self.thread, &self.rt);
            self.drop_target();
            self.finish(None);
        }
        debug_assert!(!self.live, "every way to finish drops or takes the target");
        // Most threads end having released the GIL and left its queue: no
        // lock to take then.
        if let (Some(gil), true) = (&self.rt.gil, self.gil_queued || self.gil_held) {
            gil.forget(
                self.thread.inner.ident.load(Ordering::Relaxed),
                self.gil_queued,
            );
        }
        if !self.thread.inner.has_flag(super::EMBEDDED) {
            // SAFETY: a counted handle (the field's docs), dropped once: here.
            unsafe { ManuallyDrop::drop(&mut self.thread) };
        }
    }
}

#[cfg(all(test, not(feature = "tracing")))]
mod tests {
    use super::ThreadTask;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll};

    /// A target of eight words (W9's parked one, three `Arc`s and an
    /// event wait, is seven).
    struct Target([u64; 8]);

    impl Future for Target {
        type Output = u64;
        fn poll(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<u64> {
            Poll::Ready(self.0.iter().sum())
        }
    }

    #[test]
    fn a_thread_task_adds_its_thread_runtime_and_one_word_of_flags() {
        // The thread and runtime pointers, and the seven flags in one word:
        // with the target, what decides a parked thread's malloc size class
        // (W9's is the 208 B chunk).
        assert_eq!(
            std::mem::size_of::<ThreadTask<Target>>(),
            std::mem::size_of::<Target>() + 3 * 8
        );
    }
}
