//! Time: [`sleep`], [`timeout`], [`TIMEOUT_MAX`].
//!
//! # Precision
//!
//! A sleep never returns early: it completes on the first poll at which the
//! monotonic clock has reached its deadline. The driver wakes it within
//! tens of microseconds when the machine is idle (it waits in `epoll_wait`
//! to the last whole millisecond, then sleeps the rest out precisely); while
//! the workers are busy they fire timers themselves (at most a millisecond
//! late), and lateness also includes the time the woken thread waits for a
//! worker.
//!
//! # Large durations
//!
//! Durations above [`TIMEOUT_MAX`] (including `Duration::MAX`) are clamped to
//! it, everywhere in greenthread; a deadline that does not fit in an
//! `Instant` means "never". Nothing panics on a large duration.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use crate::driver::driver;
use crate::record;
use std::pin::pin;

use crate::waker::CatchWaker;

/// The largest timeout accepted, as Python's `threading.TIMEOUT_MAX` on
/// Linux (`PY_TIMEOUT_MAX`: about 292 years). Larger durations are clamped
/// to it, and `Duration::MAX` never panics.
pub const TIMEOUT_MAX: Duration = Duration::from_micros(i64::MAX as u64 / 1000);

/// The deadline `d` from now, clamped to [`TIMEOUT_MAX`]; `None` if that does
/// not fit in an [`Instant`] (treat it as "never").
pub(crate) fn deadline_after(d: Duration) -> Option<Instant> {
    Instant::now().checked_add(d.min(TIMEOUT_MAX))
}

/// Waits until `d` has passed; a switch point (other threads run meanwhile).
///
/// # Precision
///
/// Never returns early; see the [module docs](self).
///
/// # Cancel safety
///
/// Cancel safe: dropping the future cancels the timer.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// greenthread::block_on(async {
///     let start = Instant::now();
///     greenthread::sleep(Duration::from_millis(10)).await;
///     assert!(start.elapsed() >= Duration::from_millis(10));
/// });
/// ```
pub fn sleep(d: Duration) -> Sleep {
    Sleep::until(deadline_after(d))
}

/// Yields once: the thread goes to the back of the run queue so every other
/// runnable thread runs first. A switch point.
///
/// # Cancel safety
///
/// Cancel safe.
pub async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            Poll::Ready(())
        } else {
            yielded = true;
            record::pending(record::kind::YIELD, 0, 0, true);
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    })
    .await
}

/// Where a [`Sleep`] is with the driver, in one word (a `Sleep` sits in
/// many waiting futures): [`IDLE`](Self::IDLE) until armed (lazily, on the
/// first pending poll), then the driver's id of its timer (ids start at 1
/// and never reach `u64::MAX`), then [`DONE`](Self::DONE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TimerState(u64);

impl TimerState {
    /// Not armed yet.
    const IDLE: TimerState = TimerState(0);
    /// Completed.
    const DONE: TimerState = TimerState(u64::MAX);

    /// The id of the armed timer, if it is armed.
    fn armed(self) -> Option<u64> {
        (self != Self::IDLE && self != Self::DONE).then_some(self.0)
    }
}

/// The future returned by [`sleep`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Sleep {
    /// `None`: never fires.
    deadline: Option<Instant>,
    /// Registration with the driver.
    state: TimerState,
}

impl Sleep {
    /// A sleep until `deadline`; `None` never completes.
    pub(crate) fn until(deadline: Option<Instant>) -> Sleep {
        Sleep {
            deadline,
            state: TimerState::IDLE,
        }
    }

    /// The deadline (`None`: never).
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// Whether the deadline has passed.
    pub fn is_elapsed(&self) -> bool {
        self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

impl Future for Sleep {
    type Output = ();

    /// Inlined up to the check of a `Sleep` that never completes (every
    /// wait without a timeout polls one).
    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match self.deadline {
            None => Poll::Pending,
            Some(deadline) => self.poll_timer(deadline, cx),
        }
    }
}

impl Sleep {
    /// [`poll`](Future::poll) of a `Sleep` with a deadline.
    #[inline]
    fn poll_timer(mut self: Pin<&mut Self>, deadline: Instant, cx: &mut Context<'_>) -> Poll<()> {
        if self.state == TimerState::DONE {
            return Poll::Ready(());
        }
        if Instant::now() >= deadline {
            if let Some(id) = self.state.armed() {
                // Usually the driver fired it (and removed it) already:
                // `cancel` then takes no lock.
                driver().cancel(deadline, id);
            }
            self.state = TimerState::DONE;
            return Poll::Ready(());
        }
        if let Some(id) = self.state.armed() {
            if driver().update(deadline, id, cx.waker()) {
                record::sleep_pending(false);
                return Poll::Pending;
            }
            // Fired (the driver may round) yet not due: arm again.
        }
        record::sleep_pending(self.state == TimerState::IDLE);
        self.state = TimerState(driver().arm(deadline, cx.waker().clone()));
        Poll::Pending
    }
}

impl Drop for Sleep {
    /// Inlined: every wait without a timeout drops a never-armed `Sleep`.
    #[inline]
    fn drop(&mut self) {
        if let (Some(id), Some(deadline)) = (self.state.armed(), self.deadline) {
            // Not outlined as cold: a timeout that does not expire (W8's
            // arm and cancel, a `get_timeout` answered in time) ends here
            // every time.
            driver().cancel(deadline, id);
        }
    }
}

/// The error of [`timeout`]: the duration elapsed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out")
    }
}

impl std::error::Error for Elapsed {}

/// Runs `f` for at most `d`.
///
/// The inner future is polled first, so one that is ready at once succeeds
/// even with a zero duration (and never arms a timer).
///
/// # Errors
///
/// [`Elapsed`] if `d` passed before `f` completed; `f` is dropped then.
///
/// # Cancel safety
///
/// As cancel safe as `f`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// greenthread::block_on(async {
///     let r = greenthread::timeout(Duration::from_millis(5), std::future::pending::<()>()).await;
///     assert!(r.is_err());
/// });
/// ```
pub fn timeout<F: Future>(d: Duration, f: F) -> Timeout<F> {
    Timeout {
        future: f,
        sleep: Sleep::until(deadline_after(d)),
    }
}

/// The future returned by [`timeout`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Timeout<F> {
    future: F,
    sleep: Sleep,
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: `future` is structurally pinned: it is never moved out of
        // `self` and `Timeout` has no `Drop` impl that could move it; `sleep`
        // is `Unpin` and is only accessed through `&mut`.
        let this = unsafe { self.get_unchecked_mut() };
        // SAFETY: see above; `this.future` stays in place until drop.
        let future = unsafe { Pin::new_unchecked(&mut this.future) };
        if let Poll::Ready(v) = future.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match Pin::new(&mut this.sleep).poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

/// Waits for `listener` or `sleep`, whichever comes first; `true` if the
/// listener completed. The listener is polled first, so a notification that
/// arrives together with the deadline wins. The waiting core of every timed
/// wait on an `event_listener` listener, here and in greenthread-sync.
///
/// The listener gets the waker wrapped in a [`CatchWaker`] (unless it is
/// the runtime's own): `event_listener` wakes it inside its list lock,
/// where a panicking user waker must not unwind (SPEC §10.27).
///
/// Cancel safety: dropping this future leaves both in place (the caller
/// owns them).
pub(crate) fn listen_until<'a, L>(
    listener: &'a mut L,
    sleep: &'a mut Sleep,
) -> impl Future<Output = bool> + 'a
where
    L: Future<Output = ()> + Unpin,
{
    let mut catch = CatchWaker::new();
    std::future::poll_fn(move |cx| {
        if catch
            .poll(cx, |cx| Pin::new(&mut *listener).poll(cx))
            .is_ready()
        {
            return Poll::Ready(true);
        }
        Pin::new(&mut *sleep).poll(cx).map(|()| false)
    })
}

/// Waits until `cond()` holds — re-checked at every notification of
/// `event` — or until `sleep` fires. Returns whether `cond()` held.
///
/// Cancel safe: it holds only a listener, and `event` notifications are
/// broadcasts (`notify(usize::MAX)`), so none is lost by dropping it.
///
/// `on`: the wait's kind and id for the thread's record (`None`: record
/// nothing; the sleep, if any, records itself).
pub(crate) async fn wait_event(
    event: &event_listener::Event,
    cond: impl Fn() -> bool,
    sleep: &mut Sleep,
    on: Option<(u8, u64)>,
) -> bool {
    let mut first = true;
    loop {
        if cond() {
            return true;
        }
        let mut listener = event.listen();
        if cond() {
            return true;
        }
        let mut wait = pin!(listen_until(&mut listener, sleep));
        let done = std::future::poll_fn(|cx| {
            let p = wait.as_mut().poll(cx);
            if let (Poll::Pending, Some((kind, id))) = (&p, on) {
                record::pending(kind, id, 0, std::mem::take(&mut first));
            }
            p
        })
        .await;
        if !done {
            return cond();
        }
    }
}
