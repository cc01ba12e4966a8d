//! Which green thread and runtime the calling OS thread is running right now.
//!
//! A green thread's wrapper future ((`thread::task`)) enters its
//! context for the duration of each poll; outside any poll the context is
//! empty and the module functions fall back to the OS thread's
//! `_DummyThread` and the process-wide runtime.

use std::cell::Cell;
use std::sync::Arc;

use super::handle::{self, RtInner};
use super::{Thread, ThreadInner, ThreadRef};

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
    prev_record: *const crate::record::WaitRecord,
}

/// Makes `thread` (of runtime `rt`) the current context until the returned
/// guard drops. Both must outlive the guard: the caller holds them.
pub(crate) fn enter(thread: &Thread, rt: &Arc<RtInner>) -> Enter {
    let prev_thread = THREAD.with(|c| c.replace(ThreadRef::as_ptr(&thread.inner)));
    let prev_rt = RUNTIME.with(|c| c.replace(Arc::as_ptr(rt)));
    let prev_record = crate::record::enter(&thread.inner.record);
    Enter {
        prev_thread,
        prev_rt,
        prev_record,
    }
}

impl Drop for Enter {
    fn drop(&mut self) {
        THREAD.with(|c| c.set(self.prev_thread));
        RUNTIME.with(|c| c.set(self.prev_rt));
        crate::record::leave(self.prev_record);
    }
}

/// Runs `f` with the `Arc` stored in `slot` (null: `None`), borrowed: its
/// reference count is never touched.
fn borrow<T, R>(
    slot: &'static std::thread::LocalKey<Cell<*const T>>,
    f: impl FnOnce(Option<&Arc<T>>) -> R,
) -> R {
    let ptr = slot.try_with(|c| c.get()).unwrap_or(std::ptr::null());
    if ptr.is_null() {
        return f(None);
    }
    // SAFETY: a non-null pointer was stored by `enter` from a live `Arc`
    // that the caller of `enter` keeps alive until the `Enter` guard
    // restores the previous value; we are inside that window (same OS
    // thread, guard not yet dropped), and it lasts through `f`.
    // `ManuallyDrop` makes this a borrow: the count is never decremented.
    let arc = std::mem::ManuallyDrop::new(unsafe { Arc::from_raw(ptr) });
    f(Some(&arc))
}

/// The green thread being polled on this OS thread, if any.
pub(crate) fn thread() -> Option<Thread> {
    let ptr = THREAD.try_with(|c| c.get()).unwrap_or(std::ptr::null());
    if ptr.is_null() {
        return None;
    }
    // SAFETY: as in `borrow`: `enter` stored it from a live handle that its
    // caller keeps alive until the guard restores the previous value, and
    // we are inside that window; the clone made from it is counted.
    let borrowed = unsafe { ThreadRef::uncounted(ptr) };
    Some(Thread {
        inner: ThreadRef::clone(&borrowed),
    })
}

/// Runs `f` with the current green thread, without cloning it.
pub(crate) fn with_thread<R>(f: impl FnOnce(Option<&ThreadInner>) -> R) -> R {
    let ptr = THREAD.try_with(|c| c.get()).unwrap_or(std::ptr::null());
    // SAFETY: as in `thread`: alive for the whole window `f` runs in.
    f(unsafe { ptr.as_ref() })
}

/// Runs `f` with the runtime whose thread is being polled on this OS thread,
/// or else the process-wide runtime, without cloning the `Arc` (its count
/// is one cache line every worker would otherwise bounce on each spawn).
pub(crate) fn with_runtime_or_global<R>(f: impl FnOnce(&Arc<RtInner>) -> R) -> R {
    borrow(&RUNTIME, |rt| f(rt.unwrap_or_else(|| handle::global())))
}

/// A weak reference to the runtime whose thread is being polled on this OS
/// thread, if any, without touching its strong count.
pub(crate) fn home_runtime() -> Option<std::sync::Weak<RtInner>> {
    borrow(&RUNTIME, |rt| rt.map(Arc::downgrade))
}

/// The runtime whose thread is being polled on this OS thread, if any.
pub(crate) fn runtime() -> Option<Arc<RtInner>> {
    borrow(&RUNTIME, |rt| rt.cloned())
}

/// Runs `f` with the current runtime, without cloning it.
pub(crate) fn with_runtime<R>(f: impl FnOnce(Option<&RtInner>) -> R) -> R {
    borrow(&RUNTIME, |rt| f(rt.map(|rt| &**rt)))
}
