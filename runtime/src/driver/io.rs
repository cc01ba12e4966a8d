//! Readiness of one registered I/O source, shared between the driver (which
//! sets it, on whichever thread turns it) and the threads waiting to read or
//! write.
//!
//! # Design notes
//!
//! 1. mio is edge-triggered: an event arrives once per change. The readiness
//!    bits therefore stay set until a thread observes `WouldBlock` and
//!    clears them ([`ScheduledIo::clear`]). A clear names the *tick* (count
//!    of events so far) the thread saw when it found the source ready, and
//!    only applies if no event came since: an event that lands between the
//!    `WouldBlock` and the clear is never lost.
//! 2. A new source starts *optimistically ready* in both directions: the
//!    first read, write or accept is attempted at once instead of waiting
//!    for the driver to report what epoll already knows. A wrong guess costs
//!    one `WouldBlock`.
//! 3. Two kinds of waiter per direction:
//!    - the **slot**: one waker for the `poll_*` API (`AsyncRead`,
//!      `AsyncWrite`), which has no per-call state to deregister; `&mut`
//!      access (or one half per direction) means one poller at a time, as in
//!      tokio. Every event wakes it.
//!    - the **queue**: FIFO of `async` waiters (`accept`, `recv_from`,
//!      `send_to`, `connect`), each with a key held by its future. An event
//!      wakes **one** queued waiter — the one at the front — and only if no
//!      previously woken waiter is still on its way (`notified`). This is
//!      what stops a thundering herd when a thousand threads wait on one
//!      listener.
//! 4. The woken queued waiter passes the baton on: after an operation that
//!    did not end in `WouldBlock` the source may still be ready (more
//!    pending connections, more datagrams), so [`ScheduledIo::pass`] wakes
//!    the next waiter. A woken waiter whose future is dropped before it could
//!    look passes the wakeup on in its `Drop` (cancellation never loses a
//!    readiness notification). A woken waiter that finds the readiness gone
//!    before it looks keeps its old place at the front; one that found it,
//!    tried, and got `WouldBlock` (a caller outside the queue, which takes
//!    readiness without the lock, got there first) waits again at the back.
//! 5. Wakers are collected under the mutex and woken after it is released.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use crate::waker::wake_caught;

/// Readiness bits (the low bits of [`ScheduledIo::state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Readiness(usize);

impl Readiness {
    /// Readable (or read-closed, or error).
    pub(crate) const READABLE: Readiness = Readiness(0b01);
    /// Writable (or write-closed, or error).
    pub(crate) const WRITABLE: Readiness = Readiness(0b10);
    /// Both directions.
    const BOTH: Readiness = Readiness(0b11);

    pub(crate) fn from_event(event: &mio::event::Event) -> Readiness {
        let mut bits = 0;
        if event.is_readable() || event.is_read_closed() || event.is_error() {
            bits |= Self::READABLE.0;
        }
        if event.is_writable() || event.is_write_closed() || event.is_error() {
            bits |= Self::WRITABLE.0;
        }
        Readiness(bits)
    }

    /// Index of a single direction in [`Waiters::dirs`].
    fn index(self) -> usize {
        if self == Readiness::READABLE {
            0
        } else {
            1
        }
    }
}

/// Bits of the state word below the tick.
const TICK_SHIFT: u32 = 2;
/// The readiness bits of the state word.
const READY_MASK: usize = (1 << TICK_SHIFT) - 1;

/// The event count a thread saw when it found its direction ready; passed
/// back to [`ScheduledIo::clear`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tick(usize);

/// The waiters of one direction.
#[derive(Default)]
struct DirWaiters {
    /// The `poll_*` API's waker.
    slot: Option<Waker>,
    /// Queued `async` waiters by arrival order (key).
    queue: BTreeMap<u64, Waker>,
    /// The queued waiter that was woken and has not yet looked (it was
    /// removed from `queue`).
    notified: Option<u64>,
    /// Next key.
    next_key: u64,
}

impl DirWaiters {
    /// Wakes the front of the queue unless a woken waiter is still on its
    /// way.
    fn notify_one(&mut self, wake: &mut Wakers) {
        if self.notified.is_none() {
            if let Some((key, waker)) = self.queue.pop_first() {
                self.notified = Some(key);
                wake.push(Some(waker));
            }
        }
    }
}

/// Wakers collected under the lock, woken after it: at most four (two
/// directions × slot and one queued waiter).
#[derive(Default)]
struct Wakers([Option<Waker>; 4]);

impl Wakers {
    fn push(&mut self, waker: Option<Waker>) {
        if let Some(w) = waker {
            if let Some(free) = self.0.iter_mut().find(|s| s.is_none()) {
                *free = Some(w);
            }
        }
    }

    /// Wakes every one; a panicking waker does not cost the others their
    /// wake-up (`wake_caught`).
    fn wake_all(self) {
        for w in self.0.into_iter().flatten() {
            wake_caught(w);
        }
    }
}

/// One registered source's readiness and waiters.
pub(crate) struct ScheduledIo {
    /// Readiness bits (low [`TICK_SHIFT`] bits) and the event tick above
    /// them.
    state: AtomicUsize,
    /// Waiters of each direction: `[readable, writable]`.
    waiters: Mutex<[DirWaiters; 2]>,
    /// Each direction's queue length, published under the lock, so that
    /// [`pass`](Self::pass) after a successful operation skips the lock when
    /// nobody queues (the usual case).
    queued: [AtomicUsize; 2],
}

impl Default for ScheduledIo {
    fn default() -> ScheduledIo {
        ScheduledIo {
            // Optimistically ready (design note 2).
            state: AtomicUsize::new(Readiness::BOTH.0),
            waiters: Mutex::default(),
            queued: Default::default(),
        }
    }
}

impl std::fmt::Debug for ScheduledIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScheduledIo")
            .field("state", &self.state.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl ScheduledIo {
    fn lock(&self) -> MutexGuard<'_, [DirWaiters; 2]> {
        self.waiters.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Some(tick)` if `dir` is ready in `state`.
    fn ready_in(state: usize, dir: Readiness) -> Option<Tick> {
        (state & dir.0 != 0).then_some(Tick(state >> TICK_SHIFT))
    }

    /// Publishes `w`'s queue lengths (called under the lock after changing
    /// a queue).
    fn publish(&self, w: &[DirWaiters; 2]) {
        for (q, d) in self.queued.iter().zip(w) {
            q.store(d.queue.len(), Ordering::Release);
        }
    }

    /// Called by the driver: records readiness, advances the tick and wakes
    /// the slot waiter and one queued waiter of each direction that became
    /// ready.
    pub(crate) fn set_ready(&self, r: Readiness) {
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                let tick = (s >> TICK_SHIFT).wrapping_add(1);
                Some((tick << TICK_SHIFT) | (s & READY_MASK) | r.0)
            });
        // At most a slot waker and one queued waker per direction: no
        // allocation on the driver's hot path.
        let mut wake = Wakers::default();
        {
            let mut w = self.lock();
            for dir in [Readiness::READABLE, Readiness::WRITABLE] {
                if r.0 & dir.0 != 0 {
                    let d = &mut w[dir.index()];
                    wake.push(d.slot.take());
                    d.notify_one(&mut wake);
                }
            }
            self.publish(&w);
        }
        wake.wake_all();
    }

    /// The `poll_*` path: ready when `dir` is set; otherwise stores `cx`'s
    /// waker in the direction's slot.
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Readiness) -> Poll<Tick> {
        if let Some(t) = Self::ready_in(self.state.load(Ordering::Acquire), dir) {
            return Poll::Ready(t);
        }
        let mut w = self.lock();
        // Re-check under the lock: `set_ready` updates the state before it
        // takes the lock, so either it sees our waker or we see its bits.
        if let Some(t) = Self::ready_in(self.state.load(Ordering::Acquire), dir) {
            return Poll::Ready(t);
        }
        match &mut w[dir.index()].slot {
            Some(old) if old.will_wake(cx.waker()) => {}
            slot => *slot = Some(cx.waker().clone()),
        }
        crate::record::pending(crate::record::kind::IO, 0, 0, false);
        Poll::Pending
    }

    /// The queued path: ready when `dir` is set; otherwise queues `cx`'s
    /// waker under `*key` (kept by the caller's future, which must call
    /// [`cancel`](ScheduledIo::cancel) with it when dropped).
    pub(crate) fn poll_ready_queued(
        &self,
        cx: &mut Context<'_>,
        dir: Readiness,
        key: &mut Option<u64>,
    ) -> Poll<Tick> {
        if key.is_none() {
            if let Some(t) = Self::ready_in(self.state.load(Ordering::Acquire), dir) {
                return Poll::Ready(t);
            }
        }
        let mut w = self.lock();
        let d = &mut w[dir.index()];
        let ready = Self::ready_in(self.state.load(Ordering::Acquire), dir);
        if let Some(k) = *key {
            match d.queue.get_mut(&k) {
                // Still queued (a spurious poll).
                Some(waker) => {
                    if ready.is_none() {
                        if !waker.will_wake(cx.waker()) {
                            waker.clone_from(cx.waker());
                        }
                        crate::record::pending(crate::record::kind::IO, 0, 0, false);
                        return Poll::Pending;
                    }
                    // Ready although not (yet) chosen: take it; the baton
                    // is passed on after the operation either way.
                    d.queue.remove(&k);
                }
                // Woken: we are the `notified` waiter checking in.
                None => {
                    if d.notified == Some(k) {
                        d.notified = None;
                    }
                }
            }
        }
        let poll = match ready {
            Some(t) => {
                *key = None;
                Poll::Ready(t)
            }
            None => {
                // Not ready: (re)queue, keeping an old key's place at the
                // front.
                let k = key.unwrap_or_else(|| {
                    d.next_key += 1;
                    d.next_key
                });
                d.queue.insert(k, cx.waker().clone());
                *key = Some(k);
                crate::record::pending(crate::record::kind::IO, 0, 0, false);
                Poll::Pending
            }
        };
        self.publish(&w);
        poll
    }

    /// A queued waiter's future is dropped: leave the queue; if it had been
    /// woken and not looked, pass the wakeup on.
    pub(crate) fn cancel(&self, dir: Readiness, key: u64) {
        let mut wake = Wakers::default();
        {
            let mut w = self.lock();
            let d = &mut w[dir.index()];
            if d.queue.remove(&key).is_none() && d.notified == Some(key) {
                d.notified = None;
                if Self::ready_in(self.state.load(Ordering::Acquire), dir).is_some() {
                    d.notify_one(&mut wake);
                }
            }
            self.publish(&w);
        }
        wake.wake_all();
    }

    /// After a queued-path operation that did not end in `WouldBlock`: the
    /// source may still be ready, so wake the next queued waiter.
    pub(crate) fn pass(&self, dir: Readiness) {
        // Nobody queued: nothing to pass. A waiter queues only after seeing
        // `dir` not ready under the lock, and a successful operation does
        // not make it ready, so a stale zero never strands anyone.
        if self.queued[dir.index()].load(Ordering::Acquire) == 0 {
            return;
        }
        let mut wake = Wakers::default();
        {
            let mut w = self.lock();
            let d = &mut w[dir.index()];
            if !d.queue.is_empty()
                && Self::ready_in(self.state.load(Ordering::Acquire), dir).is_some()
            {
                d.notify_one(&mut wake);
            }
            self.publish(&w);
        }
        wake.wake_all();
    }

    /// Clears `dir` after the OS said `WouldBlock`, unless an event arrived
    /// since `tick` was observed.
    pub(crate) fn clear(&self, dir: Readiness, tick: Tick) {
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |s| {
                (s >> TICK_SHIFT == tick.0).then_some(s & !dir.0)
            });
    }
}
