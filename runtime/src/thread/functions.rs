//! The module functions of Python's `threading` (and `_thread`) that are
//! not methods: [`current_thread`], [`main_thread`], [`active_count`],
//! [`enumerate`], [`get_ident`], [`get_native_id`], [`exit`],
//! [`stack_size`].

use std::sync::atomic::Ordering;

use super::{context, handle, registry, task, Kind, Thread};

/// The calling thread (Python's `current_thread()`): the green thread being
/// run, the runtime's main thread, or — on an OS thread greenthread did not
/// start — a `_DummyThread` registered for it.
#[doc(alias = "currentThread")]
pub fn current_thread() -> Thread {
    let t = current_thread_unseen();
    if t.inner.kind == Kind::Raw {
        registry::reveal(&t);
    }
    t
}

/// [`current_thread`] without making a `start_new_thread` thread a visible
/// `_DummyThread` (what `Local` uses: Python's `threading.local` does not
/// call `current_thread()` either).
pub(crate) fn current_thread_unseen() -> Thread {
    context::thread().unwrap_or_else(registry::dummy_for_this_os_thread)
}

/// The main thread (Python's `main_thread()`): the thread running the
/// runtime's `run`/`block_on` future; outside any runtime, the process-wide
/// runtime's main thread.
pub fn main_thread() -> Thread {
    handle::current_or_global().main.clone()
}

/// The number of alive threads (Python's `active_count()`), equal to
/// `enumerate().len()`.
#[doc(alias = "activeCount")]
pub fn active_count() -> usize {
    handle::current_or_global().registry.len()
}

/// All alive threads of the calling thread's runtime, main, daemon and dummy
/// threads included, in start order (Python's `threading.enumerate()`). A
/// [`start_new_thread`](crate::lowlevel::start_new_thread) thread is listed
/// once it has called [`current_thread`], as in Python.
pub fn enumerate() -> Vec<Thread> {
    handle::current_or_global().registry.visible()
}

/// The calling thread's ident (Python's `get_ident()`).
pub fn get_ident() -> u64 {
    context::with_thread(|t| t.map(|t| t.ident.load(Ordering::Relaxed)))
        .unwrap_or_else(|| current_thread().ident().unwrap_or(0))
}

/// The calling OS thread's kernel id (Python's `get_native_id()`).
pub fn get_native_id() -> u64 {
    u64::from(crate::native::native_id())
}

/// Ends the calling thread quietly (Python's `_thread.exit()` /
/// `SystemExit`): its future is dropped (guards it holds are released), no
/// excepthook runs, and `join()` returns `Ok`. In the main thread it ends
/// `run`/`block_on` the same way once non-daemon threads have finished, by
/// unwinding out of it.
pub fn exit() -> ! {
    std::panic::resume_unwind(Box::new(task::ThreadExit))
}

/// The process-wide stack size for new OS threads (Python's
/// `threading.stack_size([size])`): `Some(n)` sets it (0 = the platform
/// default) and returns the previous setting; `None` only reads it.
/// Initially 0. Used by OS-thread mode.
///
/// # Errors
///
/// `InvalidInput` ("size not valid: N bytes") for sizes below 32 KiB other
/// than 0.
pub fn stack_size(size: Option<usize>) -> std::io::Result<usize> {
    static STACK_SIZE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    const MIN: usize = 32 * 1024;
    match size {
        None => Ok(STACK_SIZE.load(Ordering::Relaxed)),
        Some(n) if n != 0 && n < MIN => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("size not valid: {n} bytes"),
        )),
        Some(n) => Ok(STACK_SIZE.swap(n, Ordering::Relaxed)),
    }
}
