//! The process-wide driver thread: one `mio::Poll` for I/O readiness and the
//! timer store.
//!
//! # Design notes
//!
//! 1. There is one driver per process, started lazily by the first timer or
//!    I/O registration, on an OS thread named `greenthread-driver`. Sharing it
//!    is what lets sleeps and sockets work the same in green threads,
//!    OS-thread mode, plain `block_on` and foreign executors (tokio,
//!    async-executor): a wakeup is just `Waker::wake`, whoever the waker
//!    belongs to.
//! 2. Timers live in an ordered map keyed by `(deadline, id)`: arming and
//!    cancelling are `O(log n)` under one short mutex hold, and firing pops
//!    from the front. At 1,000,000 pending timers this costs ~20 comparisons
//!    per operation and no rehashing or wheel cascades.
//! 3. The driver sleeps in `mio::Poll::poll` until the earliest deadline
//!    (mio rounds the timeout *up* to whole milliseconds, so it never wakes
//!    early; sleeps also re-check the clock, so none returns early). Arming a
//!    timer that is earlier than the one the driver sleeps towards wakes it
//!    through the `mio::Waker` — the only syscall on the arm path, and only
//!    when the new timer is the earliest.
//! 4. Firing collects the expired wakers under the lock and wakes them after
//!    dropping it, in deadline order.
//! 5. I/O sources register with a token that indexes a slab of
//!    [`ScheduledIo`]s; an event sets readiness bits and wakes the readers or
//!    writers waiting on it (edge-triggered: waiters clear the bits they have
//!    consumed only when the OS says `WouldBlock`).

use std::collections::BTreeMap;
use std::io;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::Waker;
use std::time::{Duration, Instant};

use crate::io::ScheduledIo;

/// Token of the driver's own `mio::Waker`.
const WAKER_TOKEN: mio::Token = mio::Token(usize::MAX);

/// Events fetched per `poll` call: enough for a burst of readiness without a
/// large allocation.
const EVENTS_CAPACITY: usize = 1024;

/// The process-wide driver.
pub(crate) struct Driver {
    /// Registers I/O sources with the poll the driver thread owns.
    pub(crate) registry: mio::Registry,
    /// Interrupts the driver's `poll` (earlier timer, new registration).
    waker: mio::Waker,
    /// Pending timers.
    timers: Mutex<Timers>,
    /// I/O sources by token.
    pub(crate) io: Mutex<IoSlab>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").finish_non_exhaustive()
    }
}

/// The timer store.
struct Timers {
    /// Pending timers by deadline, then arming order.
    map: BTreeMap<(Instant, u64), Waker>,
    /// Next timer id (breaks ties between equal deadlines).
    next_id: u64,
    /// The deadline the driver is currently sleeping towards (`None`: no
    /// timer, it sleeps until I/O or a wake).
    sleeping_until: Option<Instant>,
}

/// Slab of registered I/O sources.
#[derive(Default)]
pub(crate) struct IoSlab {
    /// Entries; `None` slots are free.
    entries: Vec<Option<Arc<ScheduledIo>>>,
    /// Free slot indices.
    free: Vec<usize>,
}

impl IoSlab {
    /// Stores `io`, returning its token.
    pub(crate) fn insert(&mut self, io: Arc<ScheduledIo>) -> mio::Token {
        match self.free.pop() {
            Some(i) => {
                self.entries[i] = Some(io);
                mio::Token(i)
            }
            None => {
                self.entries.push(Some(io));
                mio::Token(self.entries.len() - 1)
            }
        }
    }

    /// Frees the slot of `token`.
    pub(crate) fn remove(&mut self, token: mio::Token) {
        if let Some(slot) = self.entries.get_mut(token.0) {
            if slot.take().is_some() {
                self.free.push(token.0);
            }
        }
    }
}

static DRIVER: OnceLock<Driver> = OnceLock::new();

/// The driver, started on first use.
///
/// # Panics
///
/// If the OS refuses an epoll instance or a thread at first use (resource
/// exhaustion at process start): nothing timed could work without it.
pub(crate) fn driver() -> &'static Driver {
    DRIVER.get_or_init(|| Driver::start().expect("greenthread: cannot start the timer/I-O driver"))
}

impl Driver {
    fn start() -> io::Result<Driver> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        std::thread::Builder::new()
            .name("greenthread-driver".into())
            .spawn(move || driver().run(poll))?;
        Ok(Driver {
            registry,
            waker,
            timers: Mutex::new(Timers {
                map: BTreeMap::new(),
                next_id: 1, // 0 is `TimerState::IDLE`
                sleeping_until: None,
            }),
            io: Mutex::new(IoSlab::default()),
        })
    }

    /// The driver thread's loop.
    fn run(&self, mut poll: mio::Poll) {
        let mut events = mio::Events::with_capacity(EVENTS_CAPACITY);
        let mut expired = Vec::new();
        loop {
            let timeout = self.fire_expired(&mut expired);
            for waker in expired.drain(..) {
                waker.wake();
            }
            match poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // Nothing sensible to do but retry after a pause: the driver
                // must outlive transient failures.
                Err(_) => std::thread::sleep(Duration::from_millis(1)),
            }
            self.dispatch_io(&events);
        }
    }

    /// Takes the expired timers' wakers; returns how long to sleep.
    fn fire_expired(&self, expired: &mut Vec<Waker>) -> Option<Duration> {
        let mut timers = self.timers.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        while let Some(entry) = timers.map.first_entry() {
            if entry.key().0 > now {
                break;
            }
            expired.push(entry.remove());
        }
        let next = timers.map.keys().next().map(|k| k.0);
        timers.sleeping_until = next;
        next.map(|d| d.saturating_duration_since(now))
    }

    fn dispatch_io(&self, events: &mio::Events) {
        let mut woken = Vec::new();
        {
            let slab = self.io.lock().unwrap_or_else(|e| e.into_inner());
            for event in events.iter() {
                if event.token() == WAKER_TOKEN {
                    continue;
                }
                if let Some(Some(io)) = slab.entries.get(event.token().0) {
                    woken.push((io.clone(), crate::io::Readiness::from_event(event)));
                }
            }
        }
        for (io, readiness) in woken {
            io.set_ready(readiness);
        }
    }

    /// Arms a timer; returns its id.
    pub(crate) fn arm(&self, deadline: Instant, waker: Waker) -> u64 {
        let wake_driver;
        let id;
        {
            let mut timers = self.timers.lock().unwrap_or_else(|e| e.into_inner());
            id = timers.next_id;
            timers.next_id += 1;
            timers.map.insert((deadline, id), waker);
            wake_driver = timers.sleeping_until.is_none_or(|s| deadline < s);
            if wake_driver {
                timers.sleeping_until = Some(deadline);
            }
        }
        if wake_driver {
            self.wake();
        }
        id
    }

    /// Replaces the waker of a pending timer; returns false if it already
    /// fired (it is no longer in the store).
    pub(crate) fn update(&self, deadline: Instant, id: u64, waker: &Waker) -> bool {
        let mut timers = self.timers.lock().unwrap_or_else(|e| e.into_inner());
        match timers.map.get_mut(&(deadline, id)) {
            Some(w) => {
                if !w.will_wake(waker) {
                    w.clone_from(waker);
                }
                true
            }
            None => false,
        }
    }

    /// Cancels a timer (no-op if it already fired).
    pub(crate) fn cancel(&self, deadline: Instant, id: u64) {
        let removed = {
            let mut timers = self.timers.lock().unwrap_or_else(|e| e.into_inner());
            timers.map.remove(&(deadline, id))
        };
        drop(removed); // a waker's drop may run arbitrary code: not under the lock
    }

    /// Interrupts the driver's poll.
    pub(crate) fn wake(&self) {
        // A failed eventfd write means the eventfd counter is saturated,
        // i.e. a wake is already pending: nothing is lost.
        let _ = self.waker.wake();
    }
}
