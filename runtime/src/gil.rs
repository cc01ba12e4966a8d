//! GIL mode's public switches: [`enabled`], the switch interval and
//! [`checkpoint`], as Python's `sys.getswitchinterval`/`setswitchinterval`.
//!
//! The lock itself, and how a thread holds it for each poll and hands it
//! over FIFO, is the scheduler's (`scheduler::gil`, design notes there).

use std::fmt;
use std::future::poll_fn;
use std::task::Poll;
use std::time::Duration;

use crate::coop;
pub use crate::scheduler::gil::DEFAULT_SWITCH_INTERVAL;
use crate::scheduler::gil::{default_switch_interval, set_default_switch_interval, Gil};
use crate::thread::context;
use crate::thread::handle::for_each_runtime;

/// The error of [`set_switch_interval`] with a zero interval (Python's
/// `ValueError`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SwitchIntervalError;

impl fmt::Display for SwitchIntervalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("switch interval must be strictly positive")
    }
}

impl std::error::Error for SwitchIntervalError {}

/// Whether the calling thread's runtime runs with the GIL.
pub fn enabled() -> bool {
    context::with_runtime(|rt| rt.is_some_and(|rt| rt.gil.is_some()))
}

/// The switch interval (Python's `sys.getswitchinterval()`): the calling
/// runtime's, or the process-wide default outside a runtime.
pub fn switch_interval() -> Duration {
    context::with_runtime(|rt| rt.and_then(|rt| rt.gil.as_ref().map(Gil::interval)))
        .unwrap_or_else(default_switch_interval)
}

/// Sets the switch interval process-wide (Python's
/// `sys.setswitchinterval`): the default of new runtimes, and the interval
/// of every live one.
///
/// # Errors
///
/// [`SwitchIntervalError`] for a zero interval.
pub fn set_switch_interval(d: Duration) -> Result<(), SwitchIntervalError> {
    if d.is_zero() {
        return Err(SwitchIntervalError);
    }
    set_default_switch_interval(d);
    for_each_runtime(|rt| {
        if let Some(g) = &rt.gil {
            g.set_interval(d);
        }
    });
    Ok(())
}

/// The eval loop's check (a switch point for CPU-bound loops): with the GIL,
/// yields it once another thread has waited for the switch interval; in
/// every mode, spends one unit of the cooperative budget, so a loop that
/// calls it lets other threads run.
///
/// # Cancel safety
///
/// Cancel safe.
pub async fn checkpoint() {
    let mut yielded = false;
    poll_fn(|cx| {
        if yielded {
            return Poll::Ready(());
        }
        let switch = context::with_runtime(|rt| {
            rt.and_then(|rt| rt.gil.as_ref())
                .is_some_and(Gil::should_switch)
        });
        if switch {
            yielded = true;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        coop::poll_proceed(cx)
    })
    .await
}
