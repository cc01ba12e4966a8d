//! The calling OS thread's kernel thread id (Python's `get_native_id`).

/// The calling OS thread's kernel thread id, cached per thread.
pub(crate) fn native_id() -> u64 {
    thread_local! {
        static TID: u64 = os_thread_id();
    }
    TID.try_with(|t| *t).unwrap_or_else(|_| os_thread_id())
}

#[cfg(target_os = "linux")]
fn os_thread_id() -> u64 {
    // SAFETY: `gettid` has no preconditions and cannot fail.
    let tid = unsafe { libc::gettid() };
    tid as u64
}

#[cfg(not(target_os = "linux"))]
fn os_thread_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
