//! [`Event`]: Python's `threading.Event`.
//!
//! # Design
//!
//! One atomic word: bit 0 is the flag, the other bits count the times the
//! flag went from clear to set (the *generation*). A waiter that finds the
//! flag clear joins a [`WakerSet`] under the event's mutex (looking at
//! the word again under it) and remembers the generation; `set` bumps the
//! generation, then takes the mutex and wakes the whole set. A woken
//! waiter returns `true` because the generation moved on — even if `clear`
//! ran in between, as Python guarantees (gh-57711). A waiter's place is a
//! slot in the set's vector: waiting allocates nothing of its own (W9).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::rt::{self, Deadline};
use crate::waiters::{wake_all, SetTicket, WakerSet};

/// The flag bit of the state word.
const SET: usize = 1;
/// One generation in the state word.
const GENERATION: usize = 2;

/// The shared state of an [`Event`].
#[derive(Debug, Default)]
struct Inner {
    /// `generation * 2 | flag`.
    state: AtomicUsize,
    /// Who waits.
    waiters: std::sync::Mutex<WakerSet>,
    /// Its id (`greenthread::debug`).
    id: rt::PrimId,
}

impl Inner {
    fn waiters(&self) -> std::sync::MutexGuard<'_, WakerSet> {
        // Nothing panics under this lock; a poisoned one is used as is.
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }
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
        // Waiters register under the lock after looking at the word again,
        // so each either saw the new generation or is in the list now.
        let wakers = self.inner.waiters().take_all();
        wake_all(wakers);
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
        Wait::new(&self.inner, Forever)
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

/// When a [`Wait`] gives up.
trait GiveUp {
    /// Whether it is time; if not, makes sure `cx` is woken when it is.
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool;
}

/// Never: `wait()` without a timeout carries no timer at all.
struct Forever;

impl GiveUp for Forever {
    fn poll_expired(&mut self, _: &mut Context<'_>) -> bool {
        false
    }
}

impl GiveUp for Deadline {
    fn poll_expired(&mut self, cx: &mut Context<'_>) -> bool {
        Deadline::poll_expired(self, cx)
    }
}

/// The future of both waits, written out by hand: a parked thread holds one,
/// so its size is part of every parked thread's (issue 6, W9): 24 bytes
/// without a timeout.
struct Wait<'a, D> {
    /// The event.
    inner: &'a Inner,
    /// The generation the wait started in; [`NOT_STARTED`] before the first
    /// poll.
    generation: usize,
    /// Its place in the list, while it waits.
    ticket: Option<SetTicket>,
    /// When to give up.
    deadline: D,
}

/// [`Wait::generation`] before the first poll (generations are even).
const NOT_STARTED: usize = SET;

impl<'a, D: GiveUp> Wait<'a, D> {
    fn new(inner: &'a Inner, deadline: D) -> Self {
        Wait {
            inner,
            generation: NOT_STARTED,
            ticket: None,
            deadline,
        }
    }
}

impl<D: GiveUp + Unpin> Future for Wait<'_, D> {
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
        let mut waiters = this.inner.waiters();
        // Under the lock: `set` bumps the word before taking it.
        if this.inner.state.load(Ordering::Acquire) & !SET != this.generation {
            if let Some(t) = this.ticket.take() {
                waiters.remove(t);
            }
            return Poll::Ready(true);
        }
        match this.ticket {
            // Still waiting (a `set` would have notified it and moved the
            // generation on, seen above).
            Some(t) if waiters.contains(t) => {
                if this.deadline.poll_expired(cx) {
                    waiters.remove(t);
                    this.ticket = None;
                    return Poll::Ready(false);
                }
                waiters.set_waker(t, cx.waker());
                rt::wait_pending(rt::wait::EVENT, &this.inner.id, 0, &mut false);
            }
            _ => {
                if let Some(t) = this.ticket.take() {
                    waiters.remove(t);
                }
                if this.deadline.poll_expired(cx) {
                    return Poll::Ready(false);
                }
                this.ticket = Some(waiters.insert(cx.waker().clone()));
                rt::wait_pending(rt::wait::EVENT, &this.inner.id, 0, &mut true);
            }
        }
        Poll::Pending
    }
}

impl<D> Drop for Wait<'_, D> {
    fn drop(&mut self) {
        if let Some(t) = self.ticket.take() {
            // `set` wakes every waiter: there is no notification to pass on.
            self.inner.waiters().remove(t);
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

#[cfg(all(test, target_pointer_width = "64"))]
mod tests {
    #[test]
    fn a_wait_without_a_timeout_is_three_words() {
        // The event, the generation, and the ticket in the niche of its
        // slot: every thread parked on an `Event` holds one (W9).
        assert_eq!(
            std::mem::size_of::<super::Wait<'static, super::Forever>>(),
            24
        );
    }
}
