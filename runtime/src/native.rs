//! The calling OS thread's kernel thread id (Python's `get_native_id`).

/// The calling OS thread's kernel thread id, cached per thread. 32 bits
/// hold it: Linux's thread ids are positive `pid_t`s, at most
/// `PID_MAX_LIMIT` (2^22), so a thread stores it in a half word.
pub(crate) fn native_id() -> u32 {
    thread_local! {
        static TID: u32 = os_thread_id();
    }
    TID.try_with(|t| *t).unwrap_or_else(|_| os_thread_id())
}

#[cfg(target_os = "linux")]
fn os_thread_id() -> u32 {
    // SAFETY: `gettid` has no preconditions and cannot fail.
    let tid = unsafe { libc::gettid() };
    tid.unsigned_abs()
}

/// Elsewhere, a number of our own per OS thread (never 0, which means
/// "not run yet").
#[cfg(not(target_os = "linux"))]
fn os_thread_id() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(1);
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        if n != 0 {
            return n;
        }
    }
}
