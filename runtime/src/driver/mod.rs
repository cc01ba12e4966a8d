//! The driver, the bottom layer: the process-wide driver thread with one
//! `mio::Poll` for I/O readiness and the timer store. `io` holds one
//! source's readiness and its waiters, `registration` a source's token,
//! `timers` the ordered timer map.
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
//! 3. The driver sleeps in `mio::Poll::poll` until the last whole
//!    millisecond before the earliest deadline (`epoll_wait` counts whole
//!    milliseconds), then sleeps the sub-millisecond rest out precisely
//!    (`nanosleep`), so timers fire within tens of microseconds rather than
//!    up to a millisecond late. Sleeps re-check the clock, so none returns
//!    early. Arming a
//!    timer that is earlier than the one the driver sleeps towards wakes it
//!    through the `mio::Waker` — the only syscall on the arm path, and only
//!    when the new timer is the earliest.
//! 4. Firing collects the expired wakers under the lock and wakes them after
//!    dropping it, in deadline order, each under `catch_unwind`
//!    ([`wake_caught`]): a panicking waker neither unwinds through the
//!    driver's state nor keeps the rest of the batch from being woken.
//! 5. I/O sources register with a token that indexes a slab of
//!    [`ScheduledIo`]s; an event sets readiness bits and wakes the readers or
//!    writers waiting on it (edge-triggered: waiters clear the bits they have
//!    consumed only when the OS says `WouldBlock`).
//! 6. Who turns the driver. A thread blocked in `epoll_wait` is woken by the
//!    kernel for every readiness event, and the tasks it wakes then go to
//!    the workers through the injector: two cross-thread wake-ups per event.
//!    So while Green-mode workers are running ([`worker_busy`] /
//!    [`worker_idle`] count them), the driver thread stays out of
//!    `epoll_wait` (from its next wake-up on: one that was already blocked
//!    there when a worker woke returns at the next event or timer, and
//!    meanwhile the workers' turns find the poll taken and skip it) and the
//!    workers turn the driver themselves, without
//!    waiting ([`poll_now`]): every `GLOBAL_POLL_INTERVAL` tasks (`scheduler::green`) and
//!    whenever they run out of tasks, before parking (tokio's workers do the
//!    same). The tasks an event wakes then land in that worker's own queue.
//!    The driver thread, meanwhile, wakes every [`COVER_INTERVAL`] and turns
//!    the driver only if no worker has lately (one stuck in a long poll), so
//!    I/O and timers are never late by more than that. When the last worker
//!    parks, it unparks the driver thread, which goes back to sleeping in
//!    `epoll_wait` until the next timer or event. Whoever turns it holds the
//!    [`Poller`]; workers only try its lock.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, TryLockError};
use std::task::Waker;
use std::time::{Duration, Instant};

pub(crate) mod io;
pub(crate) mod registration;
mod timers;

use io::{Readiness, ScheduledIo};
use timers::Timers;

/// Token of the driver's own `mio::Waker`.
const WAKER_TOKEN: mio::Token = mio::Token(usize::MAX);

/// Events fetched per `poll` call: enough for a burst of readiness without a
/// large allocation.
const EVENTS_CAPACITY: usize = 1024;

/// How often the driver thread checks, while workers are running, that one
/// of them has turned the driver lately; the most a timer or an I/O event
/// can be delayed when none has (a worker stuck in a long poll).
const COVER_INTERVAL: Duration = Duration::from_millis(1);

/// Green-mode workers running now (not parked), over every runtime.
static BUSY_WORKERS: AtomicUsize = AtomicUsize::new(0);

/// A worker is about to run tasks (it started, or woke from parking).
pub(crate) fn worker_busy() {
    BUSY_WORKERS.fetch_add(1, Ordering::SeqCst);
}

/// A worker is about to park (or exit). The last one to do so hands the
/// driver back to the driver thread.
pub(crate) fn worker_idle() {
    if BUSY_WORKERS.fetch_sub(1, Ordering::SeqCst) == 1 {
        if let Some(d) = DRIVER.get() {
            d.unpark_thread();
        }
    }
}

/// A worker's turn of the driver, without waiting: dispatches the I/O
/// events and timers that are ready, unless somebody else is turning it or
/// it was never started. Returns whether it woke anything.
pub(crate) fn poll_now() -> bool {
    match DRIVER.get() {
        Some(d) => match d.poller.try_lock() {
            Ok(mut p) => d.turn(&mut p, false),
            // Wakers are caught one by one (`wake_caught`), so nothing
            // should poison it; if something did, the poll is still sound.
            Err(TryLockError::Poisoned(e)) => d.turn(&mut e.into_inner(), false),
            Err(TryLockError::WouldBlock) => false,
        },
        None => false,
    }
}

/// The driver runs user wakers for whoever registered them: one that
/// panics must neither kill the worker or driver thread turning it nor cost
/// the other wakers of the same batch their wake-up (SPEC §10.27).
use crate::waker::wake_caught;

/// The poll and the buffers of a turn: whoever holds it turns the driver.
struct Poller {
    /// The `mio::Poll`.
    poll: mio::Poll,
    /// Its event buffer.
    events: mio::Events,
    /// Expired timers' wakers, woken outside the timer lock.
    expired: Vec<Waker>,
    /// The sources an event made ready, set outside the slab lock.
    ready: Vec<(Arc<ScheduledIo>, Readiness)>,
}

/// The process-wide driver.
pub(crate) struct Driver {
    /// Registers I/O sources with the poll.
    pub(crate) registry: mio::Registry,
    /// The poll; see the module docs (6).
    poller: Mutex<Poller>,
    /// The driver thread, once it runs.
    thread: OnceLock<std::thread::Thread>,
    /// The driver thread is in a blocking turn (`epoll_wait`, or sleeping
    /// out a sub-millisecond remainder): [`wake`](Self::wake) must write the
    /// eventfd.
    in_epoll: AtomicBool,
    /// The earliest pending deadline, in nanoseconds since `epoch`
    /// (`u64::MAX`: none), so a worker's turn skips the timer lock until a
    /// timer is due. Written under the timer lock; may be early (after a
    /// cancel), never late.
    next_due: AtomicU64,
    /// When the driver was last turned, in nanoseconds since `epoch`.
    last_turn: AtomicU64,
    /// The origin of `last_turn`.
    epoch: Instant,
    /// Interrupts the driver thread's `epoll_wait` (an earlier timer).
    waker: mio::Waker,
    /// Pending timers.
    timers: Mutex<Timers>,
    /// The deadline of the last timer fired, in nanoseconds since `epoch`.
    /// Timers fire in deadline order, so every timer armed with an earlier
    /// deadline has left the map, or is overdue: a completed `Sleep` needs
    /// no lock to cancel it ([`is_surely_fired`](Self::is_surely_fired)).
    fired_upto: AtomicU64,
    /// I/O sources by token.
    pub(crate) io: Mutex<IoSlab>,
    /// Sources registered now (`Registration`): counted up before a source
    /// joins the epoll set, down after it left. With none, a worker's turn
    /// skips `epoll_wait`: nothing but the driver's own waker could be
    /// ready, and that only matters to the driver thread's blocking turn.
    /// An event that arrives meanwhile waits in the epoll set for the next
    /// turn that polls, as it would have a moment after a turn.
    pub(crate) sources: AtomicUsize,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver").finish_non_exhaustive()
    }
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
    fn start() -> std::io::Result<Driver> {
        let poll = mio::Poll::new()?;
        let registry = poll.registry().try_clone()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        std::thread::Builder::new()
            .name("greenthread-driver".into())
            .spawn(|| driver().run())?;
        Ok(Driver {
            registry,
            poller: Mutex::new(Poller {
                poll,
                events: mio::Events::with_capacity(EVENTS_CAPACITY),
                expired: Vec::new(),
                ready: Vec::new(),
            }),
            thread: OnceLock::new(),
            last_turn: AtomicU64::new(0),
            in_epoll: AtomicBool::new(false),
            next_due: AtomicU64::new(u64::MAX),
            fired_upto: AtomicU64::new(0),
            epoch: Instant::now(),
            waker,
            timers: Mutex::new(Timers::new()),
            io: Mutex::new(IoSlab::default()),
            sources: AtomicUsize::new(0),
        })
    }

    /// The driver thread's loop (module docs, 6).
    fn run(&self) {
        let _ = self.thread.set(std::thread::current());
        loop {
            if BUSY_WORKERS.load(Ordering::SeqCst) == 0 {
                // Nobody else turns it: sleep in `epoll_wait` until the next
                // timer or event.
                let mut p = self.poller.lock().unwrap_or_else(|e| e.into_inner());
                self.in_epoll.store(true, Ordering::SeqCst);
                self.turn(&mut p, true);
                self.in_epoll.store(false, Ordering::SeqCst);
                continue;
            }
            // Workers turn it, timers included: check on them every
            // `COVER_INTERVAL`. Chasing each timer from here instead would
            // keep this thread running beside the workers on their cores.
            // `worker_idle` unparks us early.
            std::thread::park_timeout(COVER_INTERVAL);
            let stale = self.since_last_turn() >= COVER_INTERVAL;
            if stale || BUSY_WORKERS.load(Ordering::SeqCst) == 0 {
                let mut p = self.poller.lock().unwrap_or_else(|e| e.into_inner());
                self.turn(&mut p, false);
            }
        }
    }

    /// One turn: fires the expired timers, polls for I/O (waiting until the
    /// next timer if `block`, else not at all), dispatches the events.
    /// Returns whether it woke anything.
    fn turn(&self, p: &mut Poller, block: bool) -> bool {
        // A worker's turn skips the timer lock until a timer is due.
        let now = Instant::now();
        let due = self.nanos(now) >= self.next_due.load(Ordering::Acquire);
        let (mut woke, mut timeout) = if block || due {
            self.fire(p)
        } else {
            (false, None)
        };
        if !block {
            timeout = Some(Duration::ZERO);
            // A syscall per 61 tasks (the workers' turns) in a program
            // with no sockets: W4's yields and W1's spawns paid it.
            if self.sources.load(Ordering::SeqCst) == 0 {
                // A turn of nanoseconds: stamped with the clock read above.
                self.stamp_turn(now);
                return woke;
            }
        } else if let Some(t) = timeout {
            if t < Duration::from_millis(1) {
                // `epoll_wait` counts whole milliseconds (mio rounds up, so
                // it never wakes early, but up to 1 ms late): sleep a
                // sub-millisecond remainder out precisely instead, fire,
                // and look at I/O without waiting.
                std::thread::sleep(t);
                let (fired, _) = self.fire(p);
                woke |= fired;
                timeout = Some(Duration::ZERO);
            } else {
                // Wake at the last whole millisecond before the deadline;
                // the next turn sleeps the rest out precisely.
                timeout = Some(Duration::from_millis(
                    u64::try_from(t.as_millis()).unwrap_or(u64::MAX),
                ));
            }
        }
        match p.poll.poll(&mut p.events, timeout) {
            Ok(()) => woke |= self.dispatch_io(&p.events, &mut p.ready),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // Nothing sensible to do but retry after a pause: the driver
            // must outlive transient failures.
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
        self.stamp_turn(Instant::now());
        woke
    }

    /// Records that the driver was turned at `now` (`last_turn`).
    fn stamp_turn(&self, now: Instant) {
        self.last_turn.store(self.nanos(now), Ordering::Relaxed);
    }

    /// Fires the expired timers; returns whether any, and the time to the
    /// next one.
    fn fire(&self, p: &mut Poller) -> (bool, Option<Duration>) {
        let timeout = self.fire_expired(&mut p.expired);
        let fired = !p.expired.is_empty();
        for waker in p.expired.drain(..) {
            wake_caught(waker);
        }
        (fired, timeout)
    }

    /// `at` in nanoseconds since `epoch` (saturating at both ends).
    #[inline]
    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.saturating_duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX)
    }

    /// Whether cancelling a timer with deadline `deadline` is unneeded,
    /// decided without the timer lock: it has been fired (and left the map)
    /// or — if it was armed just after a turn fired later deadlines — it is
    /// overdue and the next turn fires it, at worst one spurious wake-up.
    /// `false` (equal deadlines, nothing fired yet) means: cancel.
    #[inline]
    fn is_surely_fired(&self, deadline: Instant) -> bool {
        let d = self.nanos(deadline);
        // A deadline before `epoch` saturates to 0: never "surely".
        d != 0 && d < self.fired_upto.load(Ordering::Acquire)
    }

    /// Time since the driver was last turned.
    fn since_last_turn(&self) -> Duration {
        let last = Duration::from_nanos(self.last_turn.load(Ordering::Relaxed));
        self.epoch.elapsed().saturating_sub(last)
    }

    /// Wakes the driver thread if it sleeps in `park_timeout`.
    fn unpark_thread(&self) {
        if let Some(t) = self.thread.get() {
            t.unpark();
        }
    }

    /// Takes the expired timers' wakers; returns how long to sleep.
    fn fire_expired(&self, expired: &mut Vec<Waker>) -> Option<Duration> {
        let mut timers = self.timers.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        let (last, next) = timers.take_expired(now, expired);
        if let Some(last) = last {
            self.fired_upto.store(self.nanos(last), Ordering::Release);
        }
        self.next_due
            .store(next.map_or(u64::MAX, |d| self.nanos(d)), Ordering::Release);
        next.map(|d| d.saturating_duration_since(now))
    }

    /// Wakes the waiters of the sources with events; returns whether any.
    fn dispatch_io(
        &self,
        events: &mio::Events,
        woken: &mut Vec<(Arc<ScheduledIo>, Readiness)>,
    ) -> bool {
        {
            let slab = self.io.lock().unwrap_or_else(|e| e.into_inner());
            for event in events.iter() {
                if event.token() == WAKER_TOKEN {
                    continue;
                }
                if let Some(Some(io)) = slab.entries.get(event.token().0) {
                    woken.push((io.clone(), Readiness::from_event(event)));
                }
            }
        }
        let any = !woken.is_empty();
        for (io, readiness) in woken.drain(..) {
            io.set_ready(readiness);
        }
        any
    }

    /// Arms a timer; returns its id.
    #[inline]
    pub(crate) fn arm(&self, deadline: Instant, waker: Waker) -> u64 {
        let (id, wake_driver) = {
            let mut timers = self.timers.lock().unwrap_or_else(|e| e.into_inner());
            let armed = timers.insert(deadline, waker);
            let d = self.nanos(deadline);
            if d < self.next_due.load(Ordering::Relaxed) {
                self.next_due.store(d, Ordering::Release);
            }
            armed
        };
        if wake_driver {
            self.wake();
        }
        id
    }

    /// Replaces the waker of a pending timer; returns false if it already
    /// fired (it is no longer in the store).
    pub(crate) fn update(&self, deadline: Instant, id: u64, waker: &Waker) -> bool {
        let mut timers = self.timers.lock().unwrap_or_else(|e| e.into_inner());
        timers.update(deadline, id, waker)
    }

    /// Cancels a timer (no-op if it already fired). One that has surely
    /// fired ([`is_surely_fired`](Self::is_surely_fired)) is left alone
    /// without taking the timer lock.
    #[inline]
    pub(crate) fn cancel(&self, deadline: Instant, id: u64) {
        if self.is_surely_fired(deadline) {
            return;
        }
        let removed = {
            let mut timers = self.timers.lock().unwrap_or_else(|e| e.into_inner());
            timers.remove(deadline, id)
        };
        drop(removed); // a waker's drop may run arbitrary code: not under the lock
    }

    /// Interrupts the driver thread's `epoll_wait`, if it sleeps there (an
    /// earlier timer was armed). While workers turn the driver, they fire
    /// timers themselves: nothing to interrupt, no syscall.
    pub(crate) fn wake(&self) {
        // `in_epoll` is set before the blocking turn reads the timers under
        // their lock, and `arm` calls this after inserting under that lock:
        // either the turn saw the new timer or this sees the flag.
        if self.in_epoll.load(Ordering::SeqCst) {
            // A failed eventfd write means the eventfd counter is saturated,
            // i.e. a wake is already pending: nothing is lost.
            let _ = self.waker.wake();
        }
    }
}
