//! tokio-console instrumentation, the cargo feature `tracing` (SPEC §12).
//!
//! console-subscriber knows nothing of tokio at the protocol level: it
//! takes every span named `runtime.spawn` for a task (its fields `kind`,
//! `task.name`, `task.id` — a `u64` — and `loc.file`/`loc.line`/`loc.col`,
//! read once, when the span is created), times a poll from entering that
//! span to leaving it, and counts wakers from events with target
//! `runtime::waker` whose `op` is `waker.clone`, `waker.wake`,
//! `waker.wake_by_ref` or `waker.drop` and whose `task.id` is the *span's*
//! id (`visitors.rs`/`lib.rs` of console-subscriber 0.5; tokio's
//! `util/trace.rs` and `runtime/task/waker.rs` emit the same shapes).
//!
//! So, with the feature, every thread's wrapper future (`task::ThreadTask`)
//! carries a [`TaskTrace`]: the span, made where the thread was started
//! ([`SpawnLocation`], captured through `#[track_caller]`), entered for each
//! poll, and a *traced waker* — the task's waker wrapped once per thread so
//! that its clones, wakes and drops emit the waker events. The target (and
//! the GIL) are polled with the traced waker; the waker the thread keeps
//! for its cancellation is the task's own, so it is not counted as one a
//! waiter holds (tokio-console's "lost waker" warning stays meaningful).
//!
//! Without the feature, [`SpawnLocation`] is a zero-sized value, `start()`
//! and `spawn` are not `#[track_caller]`, `ThreadTask` has no extra field
//! and its poll is the same code: nothing of `tracing` is compiled in.
//!
//! [`trace_report`] is the runtime's reports (the excepthook's, the
//! `Local` teardown leak warning, the TCP server's `handle_error`, and the
//! debug helper's deadlock reports and stall warnings) as `tracing` events
//! with target `greenthread`, beside their hooks and printouts; a no-op
//! without the feature. greenthread-sync reaches it as
//! `glue::trace_report`.

use super::Thread;

/// Where a thread was started (`start()`, `spawn`, `block_on`): a source
/// location with the `tracing` feature, a zero-sized nothing without it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SpawnLocation {
    #[cfg(feature = "tracing")]
    loc: &'static std::panic::Location<'static>,
}

impl SpawnLocation {
    /// The caller's location (through every `#[track_caller]` function up
    /// to the user's call).
    #[cfg(feature = "tracing")]
    #[track_caller]
    #[inline]
    pub(crate) fn capture() -> SpawnLocation {
        SpawnLocation {
            loc: std::panic::Location::caller(),
        }
    }

    /// Nothing: the feature is off.
    #[cfg(not(feature = "tracing"))]
    #[inline(always)]
    pub(crate) const fn capture() -> SpawnLocation {
        SpawnLocation {}
    }
}

/// How serious a [`trace_report`] is: the `tracing` level of its event.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportLevel {
    /// `ERROR`: an excepthook report, a deadlock.
    Error,
    /// `WARN`: a stall warning.
    Warn,
}

/// Emits one of the runtime's reports as a `tracing` event with target
/// `greenthread` (SPEC §12), beside whatever hook or printout reports it:
/// fields `kind` (`"excepthook"`; `"local_leak"` for `Local` values
/// leaked at teardown, `"handle_error"` for `ThreadingTcpServer`'s
/// `handle_error`; `"deadlock"` and `"stall"` for `greenthread::debug`'s
/// reports),
/// `thread.name` and `thread.ident` (when a thread is concerned), and the
/// report's text as the message. Nothing without the `tracing` feature.
///
/// A subscriber that panics is user code: its panic is caught and dropped
/// here, never reaching the runtime.
#[doc(hidden)]
#[inline]
pub fn trace_report(level: ReportLevel, kind: &'static str, thread: Option<&Thread>, text: &str) {
    #[cfg(feature = "tracing")]
    traced::report(level, kind, thread, text);
    #[cfg(not(feature = "tracing"))]
    let _ = (level, kind, thread, text);
}

#[cfg(feature = "tracing")]
pub(crate) use traced::{untraced, TaskTrace};

#[cfg(feature = "tracing")]
mod traced {
    use std::mem::ManuallyDrop;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::Arc;
    use std::task::{RawWaker, RawWakerVTable, Waker};

    use super::{ReportLevel, SpawnLocation, Thread};
    use crate::catch::drop_caught;
    use crate::thread::Kind;

    /// A thread's span and traced waker (module docs).
    #[derive(Debug)]
    pub(crate) struct TaskTrace {
        /// The `runtime.spawn` span (disabled if no subscriber wants it).
        span: tracing::Span,
        /// The task's waker wrapped, made on the first poll with the span
        /// enabled, remade only if the task's waker changes.
        waker: Option<Arc<Traced>>,
    }

    impl Default for TaskTrace {
        /// No span (what `ThreadTask::poll` leaves while it holds the trace).
        fn default() -> Self {
            TaskTrace {
                span: tracing::Span::none(),
                waker: None,
            }
        }
    }

    impl TaskTrace {
        /// The span of `thread`, started at `loc`; `size` is its wrapper
        /// future's (tokio's `size.bytes`). `report`: a `Thread` target
        /// (`start()`), not a `spawn` future.
        pub(crate) fn new(thread: &Thread, loc: SpawnLocation, report: bool, size: usize) -> Self {
            let kind = match (thread.inner.kind, report) {
                (Kind::Main, _) => "block_on",
                (Kind::Thread, true) => "thread",
                (Kind::Thread, false) => "spawn",
                (Kind::Timer, _) => "timer",
                (Kind::Raw, _) => "start_new_thread",
                (Kind::Dummy, _) => "dummy",
            };
            let loc = loc.loc;
            // The fields are evaluated only if a subscriber enables the
            // span: no name is formatted otherwise. A subscriber is user
            // code: if it panics the thread runs without a span (the
            // thread is registered by now and must start).
            let make = || {
                tracing::trace_span!(
                    target: "greenthread::thread",
                    parent: None,
                    "runtime.spawn",
                    kind = %kind,
                    task.name = %thread.name(),
                    task.id = thread.inner.ident.load(std::sync::atomic::Ordering::Relaxed),
                    size.bytes = size,
                    loc.file = loc.file(),
                    loc.line = loc.line(),
                    loc.col = loc.column(),
                )
            };
            let span = catch_unwind(AssertUnwindSafe(make)).unwrap_or_else(|p| {
                drop_caught(p);
                tracing::Span::none()
            });
            TaskTrace { span, waker: None }
        }

        /// Runs `poll` inside the span (entered before, left after). A
        /// subscriber's panic on entering or leaving is caught and dropped:
        /// it must not unwind out of the task's poll (a worker's loop, or
        /// async-task's guards).
        pub(crate) fn in_span<R>(&self, poll: impl FnOnce() -> R) -> R {
            let entered = catch_unwind(AssertUnwindSafe(|| self.span.enter()))
                .map_err(drop_caught)
                .ok();
            let out = poll();
            if let Err(p) = catch_unwind(AssertUnwindSafe(move || drop(entered))) {
                drop_caught(p);
            }
            out
        }

        /// The traced waker wrapping `task` (a borrowed view: never
        /// dropped, so it emits no `waker.drop`); `None` if the span is
        /// disabled — the target is then polled with the task's waker.
        pub(crate) fn waker(&mut self, task: &Waker) -> Option<ManuallyDrop<Waker>> {
            let id = self.span.id()?.into_u64();
            let fresh = !matches!(&self.waker, Some(t) if t.task.will_wake(task));
            if fresh {
                self.waker = Some(Arc::new(Traced {
                    task: task.clone(),
                    id,
                }));
            }
            let traced = self.waker.as_ref()?;
            let raw = RawWaker::new(Arc::as_ptr(traced).cast(), &VTABLE);
            // SAFETY: `raw` is a `Traced` of a live `Arc` (in `self.waker`)
            // and `VTABLE`'s functions uphold the `RawWaker` contract for
            // it (below). The view holds no count of its own: it is never
            // dropped (`ManuallyDrop`), and the caller uses it only while
            // `self` — hence the `Arc` — lives (one poll); its clones hold
            // their own counts. Nothing here can unwind.
            Some(ManuallyDrop::new(unsafe { Waker::from_raw(raw) }))
        }
    }

    impl Drop for TaskTrace {
        /// Closes the span; a subscriber's panic there is caught (a task's
        /// future is dropped under async-task's abort guard).
        fn drop(&mut self) {
            drop_caught(std::mem::replace(&mut self.span, tracing::Span::none()));
        }
    }

    /// The task's waker, unwrapped if `waker` is a traced one: what the
    /// thread keeps for its cancellation.
    pub(crate) fn untraced(waker: &Waker) -> &Waker {
        if std::ptr::eq(waker.vtable(), &VTABLE) {
            // SAFETY: a waker with `VTABLE` was made by `TaskTrace::waker`
            // or `clone` below: its data is a live `Traced`, alive as long
            // as `waker` is borrowed.
            &unsafe { &*waker.data().cast::<Traced>() }.task
        } else {
            waker
        }
    }

    /// A thread's task waker and its span's id (`task.id` of the waker
    /// events).
    #[derive(Debug)]
    struct Traced {
        task: Waker,
        id: u64,
    }

    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, wake, wake_by_ref, drop_waker);

    /// One waker event. A subscriber is user code and whoever wakes may
    /// not unwind (async-task's abort guards, event_listener's list lock):
    /// its panic is caught and dropped here.
    fn event(id: u64, op: &'static str) {
        let emit = || tracing::trace!(target: "runtime::waker", op = op, task.id = id);
        if let Err(p) = catch_unwind(AssertUnwindSafe(emit)) {
            drop_caught(p);
        }
    }

    /// # Safety
    ///
    /// `data` is a live `Traced` of an `Arc` (every waker with `VTABLE`).
    unsafe fn clone(data: *const ()) -> RawWaker {
        let traced = data.cast::<Traced>();
        // SAFETY: `data` points to a live `Arc<Traced>`'s value (the
        // contract above); the new count belongs to the returned waker.
        unsafe { Arc::increment_strong_count(traced) };
        // SAFETY: as above; the value outlives this call.
        event(unsafe { &*traced }.id, "waker.clone");
        RawWaker::new(data, &VTABLE)
    }

    /// # Safety
    ///
    /// As [`clone`]; the waker's count is consumed.
    unsafe fn wake(data: *const ()) {
        // SAFETY: the waker being consumed owns one count of the `Arc`
        // (made by `clone`; the borrowed view is never woken by value:
        // `Waker::wake` needs an owned waker, and the view is never given
        // away, only borrowed). Dropped on unwinding too, by `Arc`'s drop.
        let traced = unsafe { Arc::from_raw(data.cast::<Traced>()) };
        event(traced.id, "waker.wake");
        // async-task's waker never panics.
        traced.task.wake_by_ref();
    }

    /// # Safety
    ///
    /// As [`clone`].
    unsafe fn wake_by_ref(data: *const ()) {
        // SAFETY: a live `Traced` while the waker is borrowed.
        let traced = unsafe { &*data.cast::<Traced>() };
        event(traced.id, "waker.wake_by_ref");
        traced.task.wake_by_ref();
    }

    /// # Safety
    ///
    /// As [`wake`].
    unsafe fn drop_waker(data: *const ()) {
        // SAFETY: as in `wake`: the dropped waker owns one count.
        let traced = unsafe { Arc::from_raw(data.cast::<Traced>()) };
        event(traced.id, "waker.drop");
        drop(traced);
    }

    /// [`trace_report`](super::trace_report) with the feature.
    pub(super) fn report(
        level: ReportLevel,
        kind: &'static str,
        thread: Option<&Thread>,
        text: &str,
    ) {
        let emit = || {
            let name = thread.map(Thread::name);
            let name = name.as_deref();
            let ident = thread.and_then(Thread::ident);
            // The level of an event is part of its (static) callsite.
            macro_rules! at {
                ($level:expr) => {
                    tracing::event!(
                        target: "greenthread",
                        $level,
                        kind,
                        thread.name = name,
                        thread.ident = ident,
                        "{text}"
                    )
                };
            }
            match level {
                ReportLevel::Error => at!(tracing::Level::ERROR),
                ReportLevel::Warn => at!(tracing::Level::WARN),
            }
        };
        if let Err(p) = catch_unwind(AssertUnwindSafe(emit)) {
            drop_caught(p);
        }
    }
}
