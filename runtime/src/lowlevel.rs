//! Python's low-level `_thread` module (the tutorial's `thread` module),
//! re-exported by the facade as `greenthread::thread` together with
//! `allocate_lock`.

pub use crate::thread::{exit, get_ident};
use crate::thread::{Target, Thread};

/// Starts `target` in a new thread and returns its ident (Python's
/// `_thread.start_new_thread`). Like Python's low-level threads it is not
/// waited for at exit (it is a daemon thread).
///
/// Returns 0 (never a valid ident) if the thread could not be started
/// because the runtime is shutting down or the OS refused a thread.
pub fn start_new_thread(target: impl Target) -> u64 {
    let t = Thread::builder().daemon(true).build(target);
    match t.start() {
        Ok(()) => t.ident().unwrap_or(0),
        Err(_) => 0,
    }
}
