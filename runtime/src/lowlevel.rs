//! Python's low-level `_thread` module (the tutorial's `thread` module),
//! re-exported by the facade as `greenthread::thread` together with
//! `allocate_lock`.

pub use crate::thread::{exit, get_ident};
use crate::thread::{Kind, Target, ThreadBuilder, ThreadError};

/// Starts `target` in a new thread and returns its ident (Python's
/// `_thread.start_new_thread`). Like Python's low-level threads it is not
/// waited for at exit (it is a daemon thread), and it is not a `Thread`:
///
/// - it takes no `Thread-N` number and is absent from
///   [`enumerate`](crate::enumerate) and
///   [`active_count`](crate::active_count) until it calls
///   [`current_thread`](crate::current_thread), which then registers it as
///   `<_DummyThread(Dummy-N, started daemon IDENT)>` (`Dummy-N` numbered
///   at that moment), as CPython does;
/// - no trace or profile hook set by [`settrace`](crate::settrace) /
///   [`setprofile`](crate::setprofile) is installed in it (the
///   `_all_threads` forms do reach it);
/// - a panic in it is not handed to the excepthook (SPEC §10.20: Python
///   hands it to `sys.unraisablehook`): the panic hook prints it, and the
///   thread ends.
///
/// # Panics
///
/// If the thread cannot start — Python raises `RuntimeError` there, like
/// `std::thread::spawn` panics: with the message of
/// [`ThreadError::ShuttingDown`] ("can't create new thread at interpreter
/// shutdown") once its runtime's `run`/`block_on` has returned, or of
/// [`ThreadError::StartFailed`] ("can't start new thread") if the OS
/// refused a thread. [`try_start_new_thread`] returns these as errors.
#[cfg_attr(feature = "tracing", track_caller)]
pub fn start_new_thread(target: impl Target) -> u64 {
    match try_start_new_thread(target) {
        Ok(ident) => ident,
        Err(e) => panic!("{e}"),
    }
}

/// [`start_new_thread`], returning the reason as an error instead of
/// panicking when the thread cannot start.
///
/// # Errors
///
/// - [`ThreadError::ShuttingDown`] once the runtime's `run`/`block_on` has
///   returned; the target never runs.
/// - [`ThreadError::StartFailed`] if the OS refused a thread (OS-thread
///   mode).
#[cfg_attr(feature = "tracing", track_caller)]
pub fn try_start_new_thread(target: impl Target) -> Result<u64, ThreadError> {
    let t = ThreadBuilder::default()
        .daemon(true)
        .build_kind(Kind::Raw, target);
    t.start()?;
    // Set by `start()`, which succeeded: never 0.
    Ok(t.ident().unwrap_or_default())
}
