//! Which green thread and runtime the calling OS thread is running right now.
//!
//! A green thread's wrapper future ([`crate::thread::task`]) enters its
//! context for the duration of each poll; outside any poll the context is
//! empty and the module functions fall back to the OS thread's
//! `_DummyThread` and the process-wide runtime.

use std::cell::Cell;
use std::sync::Arc;

use crate::runtime::RtInner;
use crate::thread::{Thread, ThreadInner};

thread_local! {
    /// The thread being polled on this OS thread (null: none).
    static THREAD: Cell<*const ThreadInner> = const { Cell::new(std::ptr::null()) };
    /// Its runtime (null: none).
    static RUNTIME: Cell<*const RtInner> = const { Cell::new(std::ptr::null()) };
}

/// Restores the previous context when dropped.
#[derive(Debug)]
pub(crate) struct Enter {
    prev_thread: *const ThreadInner,
    prev_rt: *const RtInner,
}

/// Makes `thread` (of runtime `rt`) the current context until the returned
/// guard drops. Both must outlive the guard: the caller holds them.
pub(crate) fn enter(thread: &Thread, rt: &Arc<RtInner>) -> Enter {
    let prev_thread = THREAD.with(|c| c.replace(Arc::as_ptr(&thread.inner)));
    let prev_rt = RUNTIME.with(|c| c.replace(Arc::as_ptr(rt)));
    Enter {
        prev_thread,
        prev_rt,
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        THREAD.with(|c| c.set(self.prev_thread));
        RUNTIME.with(|c| c.set(self.prev_rt));
    }
}

/// The green thread being polled on this OS thread, if any.
pub(crate) fn thread() -> Option<Thread> {
    let ptr = THREAD.try_with(|c| c.get()).ok()?;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: a non-null pointer was stored by `enter` from a live
    // `Arc<ThreadInner>` that the caller of `enter` keeps alive until the
    // `Enter` guard restores the previous value; we are inside that window
    // (same OS thread, guard not yet dropped). Incrementing the strong count
    // before `from_raw` makes the new `Arc` an owned reference.
    let inner = unsafe {
        Arc::increment_strong_count(ptr);
        Arc::from_raw(ptr)
    };
    Some(Thread { inner })
}

/// Runs `f` with the current green thread, without cloning it.
pub(crate) fn with_thread<R>(f: impl FnOnce(Option<&ThreadInner>) -> R) -> R {
    let ptr = THREAD.try_with(|c| c.get()).unwrap_or(std::ptr::null());
    // SAFETY: as in `thread`: non-null means a live `ThreadInner` kept alive
    // by the enclosing `enter` window on this OS thread.
    f(unsafe { ptr.as_ref() })
}

/// Runs `f` with the runtime whose thread is being polled on this OS thread,
/// or else the process-wide runtime, without cloning the `Arc` (its count
/// is one cache line every worker would otherwise bounce on each spawn).
pub(crate) fn with_runtime_or_global<R>(f: impl FnOnce(&Arc<RtInner>) -> R) -> R {
    let ptr = RUNTIME.try_with(|c| c.get()).unwrap_or(std::ptr::null());
    if ptr.is_null() {
        return f(crate::runtime::global());
    }
    // SAFETY: as in `thread`: non-null means a live `Arc<RtInner>` kept
    // alive by the enclosing `enter` window on this OS thread, which lasts
    // through `f`. `ManuallyDrop` makes this a borrow: the count is never
    // changed, and never decremented by a drop.
    let rt = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(ptr) });
    f(&rt)
}

/// A weak reference to the runtime whose thread is being polled on this OS
/// thread, if any, without touching its strong count.
pub(crate) fn home_runtime() -> Option<std::sync::Weak<RtInner>> {
    let ptr = RUNTIME.try_with(|c| c.get()).ok()?;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: as in `with_runtime_or_global`: a live `Arc<RtInner>` for the
    // enclosing `enter` window, borrowed (never dropped) through
    // `ManuallyDrop`.
    let rt = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(ptr) });
    Some(Arc::downgrade(&rt))
}

/// The runtime whose thread is being polled on this OS thread, if any.
pub(crate) fn runtime() -> Option<Arc<RtInner>> {
    let ptr = RUNTIME.try_with(|c| c.get()).ok()?;
    if ptr.is_null() {
        return None;
    }
    // SAFETY: as in `thread`: stored by `enter` from a live `Arc<RtInner>`
    // kept alive by the caller for the guard's lifetime.
    let rt = unsafe {
        Arc::increment_strong_count(ptr);
        Arc::from_raw(ptr)
    };
    Some(rt)
}

/// Runs `f` with the current runtime, without cloning it.
pub(crate) fn with_runtime<R>(f: impl FnOnce(Option<&RtInner>) -> R) -> R {
    let ptr = RUNTIME.try_with(|c| c.get()).unwrap_or(std::ptr::null());
    // SAFETY: as in `runtime`.
    f(unsafe { ptr.as_ref() })
}
