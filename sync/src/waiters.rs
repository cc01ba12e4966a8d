//! [`Waiters`]: the threads waiting for one condition (a queue's item or free
//! slot, an [`Event`](crate::Event)'s flag), kept under a mutex of their
//! owner's.
//!
//! The queues used to park their waiters on `event_listener::Event`s, whose
//! list has a lock of its own: a blocking `get` then took four locks
//! (register, poll, notify, unregister) besides the queue's. Here the list
//! lives in the state the queue's mutex already guards, so waiting costs no
//! lock beyond the two looks at the queue a waiter makes anyway (issue 6,
//! W5/W7). A waiter's place is a slot in a vector, not an allocation of its
//! own, which keeps a parked thread small (W9).
//!
//! A waiter holds a [`Ticket`]. [`notify_one`](Waiters::notify_one) marks
//! the oldest waiting ticket notified and hands back its waker, to be woken
//! once the mutex is released. The ticket's owner learns on its next poll
//! that it was notified, leaves the list and looks at the queue. An owner
//! that goes away ([`remove`](Waiters::remove)) learns whether it had been
//! notified, so that it can pass the notification on (cancel safety).

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::task::Waker;

/// A waiter's place in a [`Waiters`] list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ticket {
    /// Its slot.
    key: u32,
    /// Its registration number: tells it from a later waiter in the same
    /// slot.
    seq: u32,
}

/// One slot of the list.
#[derive(Debug)]
enum ListEntry {
    /// Unused.
    Free,
    /// Waiting to be notified.
    Waiting { seq: u32, waker: Waker },
    /// Notified; its owner has not looked yet.
    Notified { seq: u32 },
}

/// Waiters in arrival order. A waiter that finds nobody else waiting takes
/// the inline `solo` slot; only the ones that queue behind it go to the
/// list, which is boxed on first use. Most lists hold at most one waiter
/// (a queue's getter or putter of a producer/consumer pair): waiting,
/// notifying and leaving then touch only the queue's state, which its mutex
/// guards anyway, and no extra cache line (W5: a thousand ping-pong pairs
/// keep two thousand queues' waiters hot; W7: the queue's hot state is what
/// two workers pass back and forth).
#[derive(Debug)]
pub(crate) struct Waiters {
    /// Tickets in the `Waiting` state.
    waiting: usize,
    /// The oldest waiter, when it came to an empty list (`Free` otherwise).
    /// While it is `Waiting`, every waiter in `list` came after it.
    solo: ListEntry,
    /// The next registration number (wraps: a slot is reused long before
    /// four billion registrations could make two tickets alike).
    next_seq: u32,
    /// The waiters behind `solo`, once any had to queue.
    list: Option<Box<List>>,
}

impl Default for Waiters {
    fn default() -> Self {
        Waiters {
            waiting: 0,
            solo: ListEntry::Free,
            next_seq: 0,
            list: None,
        }
    }
}

/// The [`Ticket::key`] of the inline `solo` slot.
const SOLO: u32 = u32::MAX;

/// The body of [`Waiters`].
#[derive(Debug, Default)]
struct List {
    /// Waiters by slot.
    slots: Vec<ListEntry>,
    /// Free slots.
    free: Vec<u32>,
    /// Tickets in arrival order. A ticket whose owner left stays here until
    /// it reaches the front (or a compaction): it is skipped then.
    order: VecDeque<Ticket>,
}

impl Waiters {
    /// Adds a waiter at the back.
    pub(crate) fn register(&mut self, waker: Waker) -> Ticket {
        let seq = self.next_seq;
        self.next_seq = self.next_seq.wrapping_add(1);
        self.waiting += 1;
        if self.waiting == 1 && matches!(self.solo, ListEntry::Free) {
            // Nobody waits: this is the oldest waiter.
            self.solo = ListEntry::Waiting { seq, waker };
            return Ticket { key: SOLO, seq };
        }
        let list = self.list.get_or_insert_with(Box::default);
        let slot = ListEntry::Waiting { seq, waker };
        let key = match list.free.pop() {
            Some(key) => {
                list.slots[key as usize] = slot;
                key
            }
            None => {
                list.slots.push(slot);
                // More than four billion waiters on one queue would have run
                // out of memory long before.
                (list.slots.len() - 1) as u32
            }
        };
        let ticket = Ticket { key, seq };
        // Tickets of waiters that left pile up only if nobody is ever
        // notified (say, `get` timeouts on a queue nobody puts to): drop them
        // once they outnumber the live ones.
        if list.order.len() > 2 * self.waiting + 32 {
            let slots = &list.slots;
            list.order.retain(|t| is_waiting(slots, *t));
        }
        list.order.push_back(ticket);
        ticket
    }

    /// The slot `ticket` was given (it may hold a later waiter by now).
    fn entry(&self, ticket: Ticket) -> Option<&ListEntry> {
        if ticket.key == SOLO {
            Some(&self.solo)
        } else {
            self.list.as_ref()?.slots.get(ticket.key as usize)
        }
    }

    /// Whether `ticket` still waits (has not been notified).
    pub(crate) fn is_waiting(&self, ticket: Ticket) -> bool {
        matches!(self.entry(ticket), Some(ListEntry::Waiting { seq, .. }) if *seq == ticket.seq)
    }

    /// Makes `waker` the one woken for a waiting `ticket`.
    pub(crate) fn set_waker(&mut self, ticket: Ticket, waker: &Waker) {
        let entry = if ticket.key == SOLO {
            Some(&mut self.solo)
        } else {
            self.list
                .as_mut()
                .and_then(|l| l.slots.get_mut(ticket.key as usize))
        };
        if let Some(ListEntry::Waiting { seq, waker: w }) = entry {
            if *seq == ticket.seq && !w.will_wake(waker) {
                w.clone_from(waker);
            }
        }
    }

    /// Notifies the oldest waiter; returns its waker, to be woken after the
    /// queue's mutex is released.
    #[inline]
    pub(crate) fn notify_one(&mut self) -> Option<Waker> {
        if self.waiting == 0 {
            return None;
        }
        self.notify_slow()
    }

    #[cold]
    fn notify_slow(&mut self) -> Option<Waker> {
        if let ListEntry::Waiting { seq, .. } = self.solo {
            // The oldest waiter (`solo`'s invariant).
            if let ListEntry::Waiting { waker, .. } =
                std::mem::replace(&mut self.solo, ListEntry::Notified { seq })
            {
                self.waiting -= 1;
                return Some(waker);
            }
        }
        let list = self.list.as_mut()?;
        while let Some(t) = list.order.pop_front() {
            let slot = &mut list.slots[t.key as usize];
            if matches!(slot, ListEntry::Waiting { seq, .. } if *seq == t.seq) {
                let ListEntry::Waiting { waker, .. } =
                    std::mem::replace(slot, ListEntry::Notified { seq: t.seq })
                else {
                    continue; // just matched as `Waiting`
                };
                self.waiting -= 1;
                return Some(waker);
            }
        }
        None
    }

    /// Notifies every waiter; returns their wakers.
    pub(crate) fn notify_all(&mut self) -> Vec<Waker> {
        let mut wakers = Vec::with_capacity(self.waiting);
        while let Some(w) = self.notify_one() {
            wakers.push(w);
        }
        wakers
    }

    /// Takes `ticket` out of the list; returns whether it had been notified
    /// (a notification its owner did not use).
    pub(crate) fn remove(&mut self, ticket: Ticket) -> bool {
        let (slot, list) = if ticket.key == SOLO {
            (&mut self.solo, None)
        } else {
            let Some(list) = self.list.as_mut() else {
                return false;
            };
            let Some(slot) = list.slots.get_mut(ticket.key as usize) else {
                return false;
            };
            (slot, Some(&mut list.free))
        };
        let notified = match slot {
            ListEntry::Waiting { seq, .. } if *seq == ticket.seq => {
                self.waiting -= 1;
                false
            }
            ListEntry::Notified { seq } if *seq == ticket.seq => true,
            _ => return false, // not this ticket's slot any more
        };
        *slot = ListEntry::Free;
        if let Some(free) = list {
            free.push(ticket.key);
        }
        notified
    }
}

/// A waiter's place in a [`WakerSet`]. Eight bytes, and an `Option` of it
/// too (the slot is kept plus one, so never zero): an `Event` wait holds
/// one, 24 B in all, in every thread parked on an `Event` (W9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SetTicket {
    /// Its slot, plus one ([`SetTicket::slot`]).
    index: NonZeroU32,
    /// The set's epoch when it joined: a later [`WakerSet::take_all`] has
    /// woken it (and freed its slot for others).
    epoch: u32,
}

impl SetTicket {
    /// Its slot's index.
    fn slot(self) -> u32 {
        self.index.get() - 1
    }
}

/// Waiters that are only ever woken all at once ([`Event`](crate::Event)):
/// just their wakers, 16 bytes each, with no order to keep.
#[derive(Debug, Default)]
pub(crate) struct WakerSet {
    /// Wakers by slot; `None`: free.
    wakers: Vec<Option<Waker>>,
    /// Free slots.
    free: Vec<u32>,
    /// Bumped by each `take_all`.
    epoch: u32,
}

impl WakerSet {
    /// Adds a waiter.
    pub(crate) fn insert(&mut self, waker: Waker) -> SetTicket {
        let index = match self.free.pop() {
            Some(i) => {
                self.wakers[i as usize] = Some(waker);
                i
            }
            None => {
                self.wakers.push(Some(waker));
                // As in `Waiters::register`.
                (self.wakers.len() - 1) as u32
            }
        };
        SetTicket {
            // Four billion waiters on one event would have run out of
            // memory long before `index + 1` could wrap.
            index: NonZeroU32::MIN.saturating_add(index),
            epoch: self.epoch,
        }
    }

    /// Whether `ticket` still waits (no `take_all` since it joined).
    pub(crate) fn contains(&self, ticket: SetTicket) -> bool {
        ticket.epoch == self.epoch
            && self
                .wakers
                .get(ticket.slot() as usize)
                .is_some_and(Option::is_some)
    }

    /// Makes `waker` the one woken for `ticket`, if it still waits.
    pub(crate) fn set_waker(&mut self, ticket: SetTicket, waker: &Waker) {
        if ticket.epoch != self.epoch {
            return;
        }
        if let Some(Some(w)) = self.wakers.get_mut(ticket.slot() as usize) {
            if !w.will_wake(waker) {
                w.clone_from(waker);
            }
        }
    }

    /// Takes `ticket` out, if it still waits.
    pub(crate) fn remove(&mut self, ticket: SetTicket) {
        if ticket.epoch != self.epoch {
            return;
        }
        if let Some(slot) = self.wakers.get_mut(ticket.slot() as usize) {
            if slot.take().is_some() {
                self.free.push(ticket.slot());
            }
        }
    }

    /// Takes every waker (to wake after the lock is released); the tickets
    /// given out so far no longer wait.
    pub(crate) fn take_all(&mut self) -> Vec<Waker> {
        self.epoch = self.epoch.wrapping_add(1);
        self.free.clear();
        self.wakers.drain(..).flatten().collect()
    }
}

fn is_waiting(slots: &[ListEntry], t: Ticket) -> bool {
    matches!(slots.get(t.key as usize), Some(ListEntry::Waiting { seq, .. }) if *seq == t.seq)
}

/// Wakes the wakers handed back by [`Waiters`] (after the mutex is released).
///
/// A waker is user code (a foreign executor's). One that panics is
/// reported by the panic hook and otherwise ignored: the others are still
/// woken, and the operation that woke it (a put, a get, a shutdown, a
/// set) completes, its result not lost to an unwinding. The notifications
/// were given under the lock, so a panicking waker strands at most its own
/// waiter (whose executor failed), never the ones after it.
pub(crate) fn wake_all(wakers: impl IntoIterator<Item = Waker>) {
    for w in wakers {
        wake_one(w);
    }
}

/// Wakes one waiter as [`wake_all`] does.
#[inline]
pub(crate) fn wake_one(waker: Waker) {
    greenthread_runtime::glue::wake_caught(waker);
}

/// Calls `f` on every item, each inside `catch_unwind`, so that one that
/// panics neither skips the items after it nor aborts the process (a
/// second panic while unwinding would). The first panic is resumed once
/// all are done, unless the thread is already unwinding: then it is
/// swallowed (the panic hook has reported it, as Python prints and ignores
/// an exception raised in `__del__`).
pub(crate) fn for_each_caught<I>(items: impl IntoIterator<Item = I>, mut f: impl FnMut(I)) {
    let mut first = None;
    for item in items {
        if let Err(p) = catch_unwind(AssertUnwindSafe(|| f(item))) {
            first.get_or_insert(p);
        }
    }
    if let Some(p) = first {
        if !std::thread::panicking() {
            resume_unwind(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn waker() -> (Arc<Count>, Waker) {
        let c = Arc::new(Count(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    #[test]
    fn fifo_notify_and_remove() {
        let mut w = Waiters::default();
        let (ca, a) = waker();
        let (cb, b) = waker();
        let ta = w.register(a);
        let tb = w.register(b);
        assert!(w.is_waiting(ta) && w.is_waiting(tb));
        wake_all(w.notify_one());
        assert_eq!(ca.0.load(Ordering::SeqCst), 1, "the oldest first");
        assert_eq!(cb.0.load(Ordering::SeqCst), 0);
        assert!(!w.is_waiting(ta));
        assert!(w.remove(ta), "a notified ticket reports it");
        assert!(!w.remove(tb), "a waiting one does not");
        assert_eq!(w.waiting, 0);
        assert!(w.notify_one().is_none(), "nobody left");
    }

    #[test]
    fn left_waiters_are_skipped_and_slots_reused() {
        let mut w = Waiters::default();
        let (_, a) = waker();
        let ta = w.register(a);
        assert!(!w.remove(ta));
        let (cb, b) = waker();
        let tb = w.register(b);
        assert_eq!(ta.key, tb.key, "the slot is reused");
        assert!(!w.is_waiting(ta), "the old ticket is not the new waiter");
        assert!(!w.remove(ta), "nor can it remove it");
        wake_all(w.notify_one());
        assert_eq!(cb.0.load(Ordering::SeqCst), 1);
        assert!(w.notify_one().is_none());
    }

    #[test]
    fn solo_slot_keeps_arrival_order() {
        let mut w = Waiters::default();
        let (ca, a) = waker();
        let (cb, b) = waker();
        let (cc, c) = waker();
        let ta = w.register(a);
        assert_eq!(ta.key, SOLO, "the first waiter is inline");
        let tb = w.register(b);
        assert_ne!(tb.key, SOLO, "the second queues behind it");
        assert!(!w.remove(ta), "a leaves before being notified");
        let tc = w.register(c);
        assert_ne!(tc.key, SOLO, "b still waits: c must queue behind b");
        wake_all(w.notify_one());
        assert_eq!(cb.0.load(Ordering::SeqCst), 1, "b before c");
        assert_eq!(cc.0.load(Ordering::SeqCst), 0);
        wake_all(w.notify_one());
        assert_eq!(cc.0.load(Ordering::SeqCst), 1);
        assert_eq!(ca.0.load(Ordering::SeqCst), 0, "a left: never woken");
        assert!(w.remove(tb) && w.remove(tc), "both were notified");
        // A notified solo waiter that has not looked yet still holds the
        // slot: the next waiter queues in the list, and is the one notified.
        let (cd, d) = waker();
        let (ce, e) = waker();
        let td = w.register(d);
        assert_eq!(td.key, SOLO);
        wake_all(w.notify_one());
        let te = w.register(e);
        assert_ne!(te.key, SOLO);
        wake_all(w.notify_one());
        assert_eq!(cd.0.load(Ordering::SeqCst), 1);
        assert_eq!(ce.0.load(Ordering::SeqCst), 1);
        assert!(w.remove(td) && w.remove(te));
        assert_eq!(w.waiting, 0);
    }

    #[test]
    fn waker_set() {
        let mut set = WakerSet::default();
        let (ca, a) = waker();
        let (cb, b) = waker();
        let ta = set.insert(a);
        let tb = set.insert(b);
        set.remove(tb);
        assert!(set.contains(ta) && !set.contains(tb));
        let (cc, c) = waker();
        let tc = set.insert(c);
        assert_eq!(tc.index, tb.index, "the slot is reused");
        wake_all(set.take_all());
        assert_eq!(ca.0.load(Ordering::SeqCst), 1);
        assert_eq!(cb.0.load(Ordering::SeqCst), 0, "removed: not woken");
        assert_eq!(cc.0.load(Ordering::SeqCst), 1);
        assert!(!set.contains(ta), "woken tickets no longer wait");
        let (_, d) = waker();
        let td = set.insert(d);
        set.remove(ta); // stale: must not remove the new waiter
        assert!(set.contains(td));
    }

    #[test]
    fn stale_tickets_do_not_pile_up() {
        let mut w = Waiters::default();
        let (_, keep) = waker();
        let _t = w.register(keep);
        for _ in 0..10_000 {
            let (_, x) = waker();
            let t = w.register(x);
            w.remove(t);
        }
        let order = w.list.as_ref().map_or(0, |l| l.order.len());
        assert!(order < 100, "compacted: {order}");
        let all = w.notify_all();
        assert_eq!(all.len(), 1);
    }
}
