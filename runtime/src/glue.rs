//! What greenthread-sync needs from the runtime and no user should: its
//! deadlines, its timed waits on an `event_listener`, its panic-safe
//! wakers, and the runtime's reports as `tracing` events (`trace_report`,
//! a no-op without the `tracing` feature). Hidden from the docs; not part
//! of the public API.

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
