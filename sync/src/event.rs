//! [`Event`]: Python's `threading.Event`.
//!
//! # Design
//!
//! One atomic word: bit 0 is the flag, the other bits count the times the
//! flag went from clear to set (the *generation*). A waiter that finds the
//! flag clear registers a listener on an [`event_listener::Event`] and
//! remembers the generation; `set` bumps the generation and notifies every
//! listener. A woken waiter returns `true` if the generation moved on — even
//! if `clear` ran in between, as Python guarantees (gh-57711) — and otherwise
//! (a notification handed on by a dropped listener) goes back to sleep, so
//! there are no spurious wake-ups.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::rt::{self, Deadline};

/// The flag bit of the state word.
const SET: usize = 1;
/// One generation in the state word.
const GENERATION: usize = 2;

/// The shared state of an [`Event`].
#[derive(Debug, Default)]
struct Inner {
    /// `generation * 2 | flag`.
    state: AtomicUsize,
    /// Where waiters sleep.
    event: event_listener::Event,
}

/// A flag threads can wait for: Python's `threading.Event`.
///
/// [`set`](Self::set) sets the flag and wakes every waiter;
/// [`clear`](Self::clear) resets it; [`wait`](Self::wait) returns at once if
/// the flag is set and otherwise waits until some thread sets it. A waiter
/// woken by `set` returns `true` even if the flag was cleared again before it
/// ran. Clones share one event.
///
/// # Examples
///
/// ```
/// greenthread::run(async {
///     let ev = greenthread::Event::new();
///     let ev2 = ev.clone();
///     let t = greenthread::spawn(async move { ev2.wait().await });
///     ev.set();
///     assert!(t.await.unwrap());
///     assert!(ev.is_set());
/// });
/// ```
#[derive(Clone, Default)]
pub struct Event {
    /// The flag and its waiters.
    inner: Arc<Inner>,
}

impl Event {
    /// A new event, flag clear.
    pub fn new() -> Event {
        Event::default()
    }

    /// Whether the flag is set.
    #[doc(alias = "isSet")]
    pub fn is_set(&self) -> bool {
        self.inner.state.load(Ordering::Acquire) & SET != 0
    }

    /// Sets the flag and wakes every waiting thread. Setting a set flag does
    /// nothing.
    pub fn set(&self) {
        let mut s = self.inner.state.load(Ordering::Relaxed);
        loop {
            if s & SET != 0 {
                return;
            }
            let new = (s | SET).wrapping_add(GENERATION);
            match self.inner.state.compare_exchange_weak(
                s,
                new,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => break,
                Err(actual) => s = actual,
            }
        }
        self.inner.event.notify(usize::MAX);
    }

    /// Clears the flag.
    pub fn clear(&self) {
        self.inner.state.fetch_and(!SET, Ordering::AcqRel);
    }

    /// Waits until the flag is set; returns `true` (Python's `wait()` with no
    /// timeout always returns `True`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: `set` wakes every waiter, so a dropped wait takes nothing
    /// from the others.
    pub fn wait(&self) -> impl Future<Output = bool> + Send + '_ {
        Wait::new(&self.inner, Deadline::never())
    }

    /// Waits at most `timeout` for the flag; `true` if it was set (or a `set`
    /// woke this waiter), `false` on timeout. `Duration::ZERO` just checks;
    /// durations above `TIMEOUT_MAX` are clamped to it.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`wait`](Self::wait).
    pub fn wait_timeout(&self, timeout: Duration) -> impl Future<Output = bool> + Send + '_ {
        Wait::new(&self.inner, Deadline::after(timeout))
    }
}

/// The future of both waits, written out by hand: a parked thread holds one,
/// so its size is part of every parked thread's (issue 6, W9).
struct Wait<'a> {
    /// The event.
    inner: &'a Inner,
    /// The generation the wait started in; [`NOT_STARTED`] before the first
    /// poll.
    generation: usize,
    /// The registered listener, if any.
    listener: Option<event_listener::EventListener>,
    /// When to give up.
    deadline: Deadline,
}

/// [`Wait::generation`] before the first poll (generations are even).
const NOT_STARTED: usize = SET;

impl<'a> Wait<'a> {
    fn new(inner: &'a Inner, deadline: Deadline) -> Self {
        Wait {
            inner,
            generation: NOT_STARTED,
            listener: None,
            deadline,
        }
    }
}

impl Future for Wait<'_> {
    type Output = bool;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<bool> {
        let this = &mut *self;
        if this.generation == NOT_STARTED {
            if rt::poll_proceed(cx).is_pending() {
                return Poll::Pending;
            }
            let s = this.inner.state.load(Ordering::Acquire);
            if s & SET != 0 {
                return Poll::Ready(true);
            }
            this.generation = s & !SET;
        }
        loop {
            let Some(listener) = this.listener.as_mut() else {
                // Register, then look again: a `set` in between is seen here
                // or notifies the listener.
                let listener = this.inner.event.listen();
                let s = this.inner.state.load(Ordering::Acquire);
                if s & SET != 0 || s & !SET != this.generation {
                    return Poll::Ready(true);
                }
                this.listener = Some(listener);
                continue;
            };
            // The listener first: a `set` that comes with the deadline wins.
            if Pin::new(listener).poll(cx).is_ready() {
                this.listener = None;
                if this.inner.state.load(Ordering::Acquire) & !SET != this.generation {
                    return Poll::Ready(true);
                }
                // A notification handed on by a dropped listener: wait on.
                continue;
            }
            if this.deadline.poll_expired(cx) {
                return Poll::Ready(false);
            }
            return Poll::Pending;
        }
    }
}

impl fmt::Debug for Event {
    /// `<Event: set>` / `<Event: unset>` (Python's repr without the address).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = if self.is_set() { "set" } else { "unset" };
        write!(f, "<Event: {state}>")
    }
}
