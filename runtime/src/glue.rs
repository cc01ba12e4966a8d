//! What greenthread-sync needs from the runtime and no user should: its
//! deadlines, its timed waits on an `event_listener`, its panic-safe
//! wakers, recording what a thread waits on (`greenthread::debug`), and
//! the runtime's reports as `tracing` events (`trace_report`, a no-op
//! without the `tracing` feature). Hidden from the docs; not part of the
//! public API.

use std::future::Future;
use std::time::{Duration, Instant};

pub use crate::thread::instrument::{trace_report, ReportLevel};
use crate::time::{self, Sleep};
pub use crate::waker::{wake_caught, CatchWaker};

/// The deadline `d` from now, clamped to `TIMEOUT_MAX`; `None` if that does
/// not fit in an [`Instant`] (treat it as "never").
pub fn deadline_after(d: Duration) -> Option<Instant> {
    time::deadline_after(d)
}

/// A sleep until `deadline`; `None` never completes.
pub fn sleep_until(deadline: Option<Instant>) -> Sleep {
    Sleep::until(deadline)
}

/// Waits for `listener` or `sleep`, whichever comes first; `true` if the
/// listener completed (the listener is polled first; its waker is wrapped
/// in a [`CatchWaker`]).
///
/// Cancel safety: dropping this future leaves both in place (the caller
/// owns them).
pub fn listen_until<'a, L>(
    listener: &'a mut L,
    sleep: &'a mut Sleep,
) -> impl Future<Output = bool> + 'a
where
    L: Future<Output = ()> + Unpin,
{
    time::listen_until(listener, sleep)
}

/// The wait kinds a primitive records (see [`wait_pending`]).
pub mod wait {
    pub use crate::record::kind::{BARRIER, CONDITION, EVENT, LOCK, QUEUE, RLOCK, SEMAPHORE};
}

/// Records, for `greenthread::debug`, that the calling thread's wait on a
/// primitive of `kind` ([`wait`]) with id `id` returns `Pending`. Call it
/// in the slow path only. `holder`: a Lock's holder or RLock's owner (0:
/// unknown); `first`: the wait's first `Pending` (starts its clock).
#[inline]
pub fn wait_pending(kind: u8, id: u64, holder: u64, first: bool) {
    crate::record::pending(kind, id, holder, first);
}

/// The calling thread's ident as a Lock's holder: the green thread being
/// run, else this OS thread's dummy thread if it has one, else 0. Never
/// creates anything, never does an atomic read-modify-write: cheap enough
/// for a Lock's fast path.
#[inline]
pub fn holder_ident() -> u64 {
    use std::sync::atomic::Ordering;
    crate::thread::context::with_thread(|t| t.map(|t| t.ident.load(Ordering::Relaxed)))
        .unwrap_or_else(crate::thread::registry::dummy_ident_if_any)
}

/// A new process-wide primitive id (never 0).
pub fn next_primitive_id() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}
