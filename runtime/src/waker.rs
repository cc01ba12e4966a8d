//! User wakers made safe to wake anywhere (SPEC §10.27).
//!
//! The runtime hands a waiter's waker to code that wakes it where a panic
//! must not unwind: async-task wakes a task's awaiter (a
//! [`JoinHandle`](crate::JoinHandle)'s) under an abort guard, and
//! `event_listener` wakes its listeners inside its list lock, half-way
//! through the list (a panic there left the later listeners unnotified and
//! the list's notified count off by one, which aborted the process when the
//! listener left). So a waker the runtime did not make — a user's, polling
//! a wait by hand — is wrapped first in one whose wake catches a panic.
//!
//! A caught panic is ignored: the panic hook has printed it, as Python's
//! `sys.unraisablehook` prints an exception nobody can receive, and the
//! waiter simply is not woken (its own waker failed to). The wrapper's drop
//! catches a panic of the user waker's drop the same way.
//!
//! The common case costs nothing: the waker a green thread's target is
//! polled with (its task's, which never panics) is recognised and passed
//! on as is. A user waker is wrapped once and the wrapper reused as long as
//! the waiter is polled with a waker that `will_wake` it: one small
//! allocation per change of waker.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::task::{Context, RawWakerVTable, Waker};

use futures::task::{waker_ref, ArcWake, WakerRef};

use crate::catch::drop_caught;

thread_local! {
    /// The waker of the green thread whose target is being polled on this
    /// OS thread (its data and vtable pointers; null: none). Compared only,
    /// never dereferenced.
    static TRUSTED: Cell<(*const (), *const RawWakerVTable)> =
        const { Cell::new((std::ptr::null(), std::ptr::null())) };
}

/// Marks `waker` (a thread's task waker) as the runtime's own while `f`
/// runs on this OS thread: [`CatchWaker`] passes it on unwrapped.
#[inline(always)]
pub(crate) fn trusting<R>(waker: &Waker, f: impl FnOnce() -> R) -> R {
    /// Restores the previous trusted waker, on unwinding too.
    struct Restore((*const (), *const RawWakerVTable));
    impl Drop for Restore {
        fn drop(&mut self) {
            let prev = self.0;
            let _ = TRUSTED.try_with(|t| t.set(prev));
        }
    }
    let mine = (waker.data(), std::ptr::from_ref(waker.vtable()));
    let prev = TRUSTED.try_with(|t| t.replace(mine)).ok();
    let _restore = prev.map(Restore);
    f()
}

/// Whether `waker` is the one [`trusting`] marked.
fn is_trusted(waker: &Waker) -> bool {
    let (data, vtable) = (waker.data(), std::ptr::from_ref(waker.vtable()));
    !data.is_null()
        && TRUSTED
            .try_with(|t| t.get() == (data, vtable))
            .unwrap_or(false)
}

/// Wakes `waker`, swallowing its panic: where the runtime wakes user
/// wakers itself (the timer driver, I/O readiness, the sync primitives'
/// waiter lists), one that panics must neither unwind into the runtime nor
/// cost the other wakers of the same batch their wake-up. A panic payload
/// whose `Drop` panics too is dropped safely.
#[doc(hidden)]
#[inline]
pub fn wake_caught(waker: Waker) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || waker.wake())) {
        drop_caught(payload);
    }
}

/// A user waker whose wake and drop never unwind.
struct Catching(Waker);

impl ArcWake for Catching {
    fn wake_by_ref(arc_self: &Arc<Self>) {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(|| arc_self.0.wake_by_ref())) {
            drop_caught(payload);
        }
    }
}

impl Drop for Catching {
    fn drop(&mut self) {
        drop_caught(std::mem::replace(&mut self.0, Waker::noop().clone()));
    }
}

/// A waiter's wrapper of its user waker (module docs): poll the wait
/// through [`poll`](CatchWaker::poll) and whatever the wait registers the
/// waker with can wake it without a panic reaching it.
///
/// One word, so every wait future that holds one stays small: the wrapper
/// waker is lent from the kept `Arc` for each poll through a user waker
/// ([`waker_ref`]: no count taken unless the wait clones it), not kept
/// beside it.
#[doc(hidden)]
#[derive(Default)]
pub struct CatchWaker {
    /// The user waker wrapped.
    wrapped: Option<Arc<Catching>>,
}

impl std::fmt::Debug for CatchWaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CatchWaker")
            .field("wrapped", &self.wrapped.is_some())
            .finish()
    }
}

impl CatchWaker {
    /// No waker wrapped yet.
    pub const fn new() -> CatchWaker {
        CatchWaker { wrapped: None }
    }

    /// Runs `poll` with `cx`, its waker wrapped unless it is the runtime's
    /// own.
    #[inline]
    pub fn poll<R>(&mut self, cx: &mut Context<'_>, poll: impl FnOnce(&mut Context<'_>) -> R) -> R {
        if is_trusted(cx.waker()) {
            return poll(cx);
        }
        let waker = self.wrapper(cx.waker());
        poll(&mut Context::from_waker(&waker))
    }

    /// The wrapper of `waker`, lent from the kept `Arc` if it wraps
    /// `waker`, else from a new one, kept from now on.
    #[cold]
    fn wrapper(&mut self, waker: &Waker) -> WakerRef<'_> {
        if self.wrapped.as_ref().is_some_and(|c| !c.0.will_wake(waker)) {
            // The old wrapper drops here: `Catching::drop` is safe.
            self.wrapped = None;
        }
        waker_ref(
            self.wrapped
                .get_or_insert_with(|| Arc::new(Catching(waker.clone()))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Bad(AtomicUsize);

    impl Wake for Bad {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
            panic!("waker panics on purpose");
        }
    }

    #[test]
    fn a_catch_waker_is_one_word() {
        // It sits in every wait future and `JoinHandle`.
        assert_eq!(
            std::mem::size_of::<CatchWaker>(),
            std::mem::size_of::<usize>()
        );
        assert_eq!(
            std::mem::size_of::<crate::JoinHandle<u64>>(),
            3 * std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn wraps_once_and_catches() {
        let bad = Arc::new(Bad(AtomicUsize::new(0)));
        let user = Waker::from(bad.clone());
        let mut cw = CatchWaker::new();
        let mut cx = Context::from_waker(&user);
        let first = cw.poll(&mut cx, |cx| cx.waker().clone());
        let second = cw.poll(&mut cx, |cx| cx.waker().clone());
        assert!(first.will_wake(&second), "the wrapper is reused");
        assert!(!first.will_wake(&user), "the user waker is wrapped");
        first.wake_by_ref();
        second.wake();
        assert_eq!(bad.0.load(Ordering::SeqCst), 2);
        let trusted = trusting(&user, || cw.poll(&mut cx, |cx| cx.waker().clone()));
        assert!(trusted.will_wake(&user), "a trusted waker is passed on");
        let after = cw.poll(&mut cx, |cx| cx.waker().clone());
        assert!(!after.will_wake(&user), "trust ends with `trusting`");
    }
}
