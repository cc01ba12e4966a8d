//! The timer store: pending timers ordered by `(deadline, id)` (module
//! docs of `driver`, 2). The driver holds it under one mutex and keeps the
//! lock-free summaries (`next_due`, `fired_upto`) beside it.

use std::collections::BTreeMap;
use std::task::Waker;
use std::time::Instant;

/// Pending timers, and the deadline the driver sleeps towards.
pub(super) struct Timers {
    /// Pending timers by deadline, then arming order.
    map: BTreeMap<(Instant, u64), Waker>,
    /// Next timer id (breaks ties between equal deadlines).
    next_id: u64,
    /// The deadline the driver is currently sleeping towards (`None`: no
    /// timer, it sleeps until I/O or a wake).
    sleeping_until: Option<Instant>,
}

impl Timers {
    pub(super) fn new() -> Timers {
        Timers {
            map: BTreeMap::new(),
            next_id: 1, // 0 is `TimerState::IDLE`
            sleeping_until: None,
        }
    }

    /// Stores a timer; returns its id and whether it is earlier than what
    /// the driver sleeps towards (then the driver must be woken, and now
    /// sleeps towards this one).
    #[inline]
    pub(super) fn insert(&mut self, deadline: Instant, waker: Waker) -> (u64, bool) {
        let id = self.next_id;
        self.next_id += 1;
        self.map.insert((deadline, id), waker);
        let earlier = self.sleeping_until.is_none_or(|s| deadline < s);
        if earlier {
            self.sleeping_until = Some(deadline);
        }
        (id, earlier)
    }

    /// Moves the wakers of the timers due by `now` into `expired`, in
    /// deadline order; returns the last deadline fired and the next one
    /// pending, which the driver now sleeps towards.
    pub(super) fn take_expired(
        &mut self,
        now: Instant,
        expired: &mut Vec<Waker>,
    ) -> (Option<Instant>, Option<Instant>) {
        let mut last = None;
        while let Some(entry) = self.map.first_entry() {
            if entry.key().0 > now {
                break;
            }
            last = Some(entry.key().0);
            expired.push(entry.remove());
        }
        let next = self.map.keys().next().map(|k| k.0);
        self.sleeping_until = next;
        (last, next)
    }

    /// Replaces the waker of a pending timer; false if it is gone (fired).
    pub(super) fn update(&mut self, deadline: Instant, id: u64, waker: &Waker) -> bool {
        match self.map.get_mut(&(deadline, id)) {
            Some(w) => {
                if !w.will_wake(waker) {
                    w.clone_from(waker);
                }
                true
            }
            None => false,
        }
    }

    /// Takes a pending timer out; `None` if it already fired. The caller
    /// drops the waker after releasing the lock.
    #[inline]
    pub(super) fn remove(&mut self, deadline: Instant, id: u64) -> Option<Waker> {
        self.map.remove(&(deadline, id))
    }
}
