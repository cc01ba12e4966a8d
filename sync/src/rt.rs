//! The few things sync needs from the runtime, in one place: the cooperative
//! budget, thread identity and deadlines.
//!
//! Every wait in this crate measures its timeout as a [`Deadline`] computed
//! once, when the wait starts, with the runtime's `deadline_after` (so a
//! duration above `TIMEOUT_MAX`, `Duration::MAX` included, is clamped and
//! never panics), and arms a timer only if it actually has to sleep.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::task::{Context, Poll};
use std::time::Duration;

use greenthread_runtime::glue::{deadline_after, sleep_until};
use greenthread_runtime::Sleep;

/// Spends one unit of the cooperative budget (Pending, after waking the task,
/// once it is exhausted). Called at the start of every poll of a waiting
/// future, before its fast path, so a loop on an always-ready primitive
/// still yields.
#[inline]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    #[cfg(not(loom))]
    {
        greenthread_runtime::coop::poll_proceed(cx)
    }
    #[cfg(loom)]
    {
        let _ = cx;
        Poll::Ready(())
    }
}

/// Spends one unit of the cooperative budget, yielding first if it is spent.
pub(crate) async fn proceed() {
    std::future::poll_fn(poll_proceed).await
}

/// The calling thread's ident (green thread, OS thread or foreign thread).
#[inline]
pub(crate) fn get_ident() -> u64 {
    greenthread_runtime::get_ident()
}

/// When a wait gives up: a [`Sleep`], armed lazily (only by a poll that has
/// to wait), that never completes for a wait without a timeout.
#[derive(Debug)]
pub(crate) struct Deadline {
    /// The timer.
    sleep: Sleep,
}

impl Deadline {
    /// A wait without a timeout.
    pub(crate) fn never() -> Self {
        Deadline {
            sleep: sleep_until(None),
        }
    }

    /// A wait of at most `d` from now (clamped to `TIMEOUT_MAX`).
    pub(crate) fn after(d: Duration) -> Self {
        Deadline {
            sleep: sleep_until(deadline_after(d)),
        }
    }

    /// A wait of at most `d` from now, or forever for `None`.
    pub(crate) fn from_option(d: Option<Duration>) -> Self {
        d.map_or_else(Self::never, Self::after)
    }

    /// Whether the deadline has passed; if not, makes sure `cx` is woken
    /// when it does.
    pub(crate) fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        Pin::new(&mut self.sleep).poll(cx).is_ready()
    }
}

/// Waits for `listener` or `deadline`, whichever comes first; `true` if the
/// listener was notified (the runtime's
/// [`listen_until`](greenthread_runtime::glue::listen_until)). Works with a
/// boxed [`EventListener`](event_listener::EventListener) and with a stack
/// listener from [`event_listener::listener!`] (no allocation).
///
/// Cancel safety: dropping this future leaves `listener` in place (the
/// caller owns it); dropping a notified listener passes the notification on.
pub(crate) fn wait_listener<'a, L>(
    listener: &'a mut L,
    deadline: &'a mut Deadline,
) -> impl Future<Output = bool> + 'a
where
    L: Future<Output = ()> + Unpin,
{
    greenthread_runtime::glue::listen_until(listener, &mut deadline.sleep)
}

/// The wait kinds a primitive records (`greenthread::debug`).
pub(crate) use greenthread_runtime::glue::wait;

/// A primitive's id for `greenthread::debug`: process-wide, assigned on
/// first use (a wait's slow path, or a dump), shared by clones (it lives
/// in the shared inner object), never 0.
#[derive(Debug, Default)]
pub(crate) struct PrimId(AtomicU64);

impl PrimId {
    /// The id, assigned now if it has none yet.
    pub(crate) fn get(&self) -> u64 {
        use std::sync::atomic::Ordering;
        let id = self.0.load(Ordering::Relaxed);
        if id != 0 {
            return id;
        }
        let new = greenthread_runtime::glue::next_primitive_id();
        match self
            .0
            .compare_exchange(0, new, Ordering::Relaxed, Ordering::Relaxed)
        {
            Ok(_) => new,
            Err(won) => won,
        }
    }
}

/// Records that the calling thread's wait on `kind`/`id` returns
/// `Pending` (slow paths only; see `greenthread_runtime::glue::wait_pending`).
#[inline]
pub(crate) fn wait_pending(kind: u8, id: &PrimId, holder: u64, first: &mut bool) {
    greenthread_runtime::glue::wait_pending(kind, id.get(), holder, std::mem::take(first));
}

/// The calling thread's ident as a Lock's holder, cheaply (no atomic
/// read-modify-write; 0 for an OS thread greenthread has not seen).
#[inline]
pub(crate) fn holder_ident() -> u64 {
    greenthread_runtime::glue::holder_ident()
}

/// `fut`, recording a wait on `kind`/`id` whenever it returns `Pending`.
pub(crate) async fn recorded<F: Future>(
    kind: u8,
    id: &PrimId,
    first: &mut bool,
    fut: F,
) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(|cx| {
        let p = fut.as_mut().poll(cx);
        if p.is_pending() {
            wait_pending(kind, id, 0, first);
        }
        p
    })
    .await
}
