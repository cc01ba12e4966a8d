//! What a thread waits on: the record behind `greenthread::debug`'s dump,
//! deadlock reports and stall warnings. A leaf: it knows no threads.
//!
//! # Design notes
//!
//! 1. Every thread (green, OS-thread mode, main, dummy) owns one
//!    [`WaitRecord`] of three words. Only that thread writes it — during
//!    its own polls, so with plain loads and stores (no read-modify-write
//!    instruction, no lock); anyone may read it at any time (the dump, the
//!    detector), never waiting for the thread.
//! 2. The thread being polled on an OS thread is found through one
//!    thread-local pointer ([`enter`], set by the thread layer's context
//!    with the thread itself). A wait site that returns `Pending` calls
//!    [`pending`] (a primitive, a join, the GIL, a socket) or
//!    [`sleep_pending`] (a timer); the wrapper future calls [`poll_begin`]
//!    and [`poll_end`] around each poll. A record therefore says why the
//!    thread's *last poll* returned `Pending`: nothing to undo when a wait
//!    ends or its future is dropped, so it is cancel safe by construction.
//! 3. Only the slow paths write: a wait site calls [`pending`] when it is
//!    about to return `Pending`, never on its fast path. [`poll_begin`] and
//!    [`poll_end`] are one plain load and store each of the thread's own
//!    word.
//! 4. A timer pending in the same poll as a primitive wait makes that wait
//!    *timed* (the `_timeout` forms, `join_timeout`, `timeout(d, ..)`, a
//!    `select` with a sleep): timed waits are never part of a deadlock.
//! 5. "Since when" is taken from the coarse monotonic clock (a few
//!    nanoseconds, millisecond resolution) at a wait's first `Pending`, and
//!    kept while the same wait stays pending.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

/// Wait kinds (the `WaitingOn` variants of `greenthread::debug`).
pub(crate) mod kind {
    // 0: nothing recorded.
    /// A `Lock`.
    pub const LOCK: u8 = 1;
    /// An `RLock`.
    pub const RLOCK: u8 = 2;
    /// A `Condition` (before it is notified).
    pub const CONDITION: u8 = 3;
    /// A `Semaphore` or `BoundedSemaphore`.
    pub const SEMAPHORE: u8 = 4;
    /// An `Event`.
    pub const EVENT: u8 = 5;
    /// A `Barrier`.
    pub const BARRIER: u8 = 6;
    /// Any queue.
    pub const QUEUE: u8 = 7;
    /// A join (the id is the joined thread's ident).
    pub(crate) const JOIN: u8 = 8;
    /// A sleep or timer.
    pub(crate) const SLEEP: u8 = 9;
    /// A socket.
    pub(crate) const IO: u8 = 10;
    /// The GIL.
    pub(crate) const GIL: u8 = 11;
    /// Any other future.
    pub(crate) const OTHER: u8 = 12;
    /// `yield_now` (shown as runnable).
    pub(crate) const YIELD: u8 = 13;
}

/// Phase: never polled (runnable).
pub(crate) const PHASE_NEW: u8 = 0;
/// Phase: in a poll.
pub(crate) const PHASE_RUNNING: u8 = 1;
/// Phase: its last poll returned `Pending` (waiting).
pub(crate) const PHASE_PARKED: u8 = 2;
/// Phase: it yielded (budget or `yield_now`): runnable.
pub(crate) const PHASE_YIELDED: u8 = 3;

// The word: phase (2 bits) | kind (5) | timed (1) | written this poll (1) |
// polls, wrapping (5) | a timer pending this poll (1) | it is a new one (1) |
// since, in µs of the coarse clock (48).
const PHASE_MASK: u64 = 0b11;
const KIND_SHIFT: u32 = 2;
const KIND_MASK: u64 = 0b1_1111 << KIND_SHIFT;
const TIMED: u64 = 1 << 7;
const WRITTEN: u64 = 1 << 8;
const POLLS_SHIFT: u32 = 9;
const POLLS_MASK: u64 = 0x1f << POLLS_SHIFT;
const SLEPT: u64 = 1 << 14;
const SLEPT_FRESH: u64 = 1 << 15;
const SINCE_SHIFT: u32 = 16;
const SINCE_MAX: u64 = (1 << 48) - 1;

/// One thread's record (see the module notes).
#[derive(Debug, Default)]
pub(crate) struct WaitRecord {
    /// Phase, kind, flags, poll count and since.
    word: AtomicU64,
    /// The primitive's id, or the joined thread's ident.
    id: AtomicU64,
    /// A Lock's holder or an RLock's owner (0: none known).
    holder: AtomicU64,
}

/// A consistent read of a [`WaitRecord`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Snapshot {
    /// `PHASE_*`.
    pub(crate) phase: u8,
    /// `kind::*`.
    pub(crate) kind: u8,
    /// Whether a timer was pending with the wait.
    pub(crate) timed: bool,
    /// The primitive id or joined ident.
    pub(crate) id: u64,
    /// Holder or owner (0: none).
    pub(crate) holder: u64,
    /// When the wait began (coarse µs).
    pub(crate) since: u64,
    /// Polls so far, wrapping at 32 (tells a re-polled thread from one
    /// that has not run between two looks).
    pub(crate) polls: u8,
}

impl WaitRecord {
    /// Reads the record; never waits (a torn read is retried a few times,
    /// then returned as is).
    pub(crate) fn snapshot(&self) -> Snapshot {
        let mut w = self.word.load(Ordering::Acquire);
        let (mut id, mut holder) = (0, 0);
        for _ in 0..4 {
            id = self.id.load(Ordering::Acquire);
            holder = self.holder.load(Ordering::Acquire);
            let again = self.word.load(Ordering::Acquire);
            if again == w {
                break;
            }
            w = again;
        }
        Snapshot {
            phase: (w & PHASE_MASK) as u8,
            kind: ((w & KIND_MASK) >> KIND_SHIFT) as u8,
            timed: w & TIMED != 0,
            id,
            holder,
            since: w >> SINCE_SHIFT,
            polls: ((w & POLLS_MASK) >> POLLS_SHIFT) as u8,
        }
    }

    fn word(&self) -> u64 {
        // Only the owner writes: its own last store.
        self.word.load(Ordering::Relaxed)
    }

    fn set_word(&self, w: u64) {
        self.word.store(w, Ordering::Release);
    }

    /// A new poll begins: running; this poll has written nothing yet.
    #[inline]
    pub(crate) fn begin(&self) {
        let w = self.word();
        let polls = (w + (1 << POLLS_SHIFT)) & POLLS_MASK;
        let w = (w & !(PHASE_MASK | TIMED | WRITTEN | POLLS_MASK | SLEPT | SLEPT_FRESH))
            | polls
            | u64::from(PHASE_RUNNING);
        self.set_word(w);
    }

    /// The poll ended: parked (`Pending`, with what it recorded, else
    /// "other"), yielded, or done.
    #[inline]
    pub(crate) fn end(&self, pending: bool, yielded: bool) {
        let mut w = self.word();
        let yielded = yielded
            || (pending
                && w & WRITTEN != 0
                && (w & KIND_MASK) >> KIND_SHIFT == u64::from(kind::YIELD));
        let phase = if yielded {
            PHASE_YIELDED
        } else if pending {
            if w & WRITTEN == 0 {
                w = if w & SLEPT != 0 {
                    self.with_wait(w, kind::SLEEP, 0, w & SLEPT_FRESH != 0)
                } else {
                    self.with_wait(w, kind::OTHER, 0, false)
                };
                self.holder.store(0, Ordering::Relaxed);
            }
            PHASE_PARKED
        } else {
            PHASE_NEW
        };
        self.set_word((w & !PHASE_MASK) | u64::from(phase));
    }

    /// `w` recording a wait of `kind` on `id`, keeping `since` if the
    /// record already shows that wait and `fresh` is false. A yield reads
    /// no clock: a yielded thread is runnable at once, and a dump shows it
    /// with neither a wait nor a time, so its `since` is only marked set.
    fn with_wait(&self, w: u64, kind: u8, id: u64, fresh: bool) -> u64 {
        let same = ((w & KIND_MASK) >> KIND_SHIFT) as u8 == kind
            && self.id.load(Ordering::Relaxed) == id
            && w >> SINCE_SHIFT != 0;
        let since = if same && !fresh {
            w >> SINCE_SHIFT
        } else {
            self.id.store(id, Ordering::Relaxed);
            if kind == kind::YIELD {
                1
            } else {
                now_us().max(1)
            }
        };
        (w & !(KIND_MASK | (SINCE_MAX << SINCE_SHIFT)))
            | (u64::from(kind) << KIND_SHIFT)
            | (since << SINCE_SHIFT)
            | WRITTEN
    }

    /// Records a wait (slow path).
    pub(crate) fn pending(&self, kind: u8, id: u64, holder: u64, first: bool) {
        let w = self.word();
        self.holder.store(holder, Ordering::Release);
        let w = self.with_wait(w, kind, id, first);
        self.set_word(w);
    }

    /// Records a pending timer: the wait recorded in this poll becomes
    /// timed; with none, the thread sleeps.
    pub(crate) fn sleep_pending(&self, first: bool) {
        let w = self.word() | TIMED | SLEPT;
        self.set_word(if first { w | SLEPT_FRESH } else { w });
    }

    /// Sets a record from outside any poll (the main thread joining in
    /// shutdown): parked on `kind`/`id`, or back to nothing.
    pub(crate) fn set_parked(&self, kind: u8, id: u64, timed: bool) {
        self.holder.store(0, Ordering::Relaxed);
        let w = self.with_wait(self.word(), kind, id, true);
        let w = (w & !(PHASE_MASK | WRITTEN | TIMED | SLEPT | SLEPT_FRESH))
            | u64::from(PHASE_PARKED)
            | if timed { TIMED } else { 0 };
        self.set_word(w);
    }

    /// Clears what [`set_parked`](Self::set_parked) set.
    pub(crate) fn clear(&self) {
        let w = self.word() & POLLS_MASK;
        self.set_word(w | u64::from(PHASE_RUNNING));
    }
}

thread_local! {
    /// The record of the thread being polled on this OS thread (null: none).
    static CURRENT: Cell<*const WaitRecord> = const { Cell::new(std::ptr::null()) };
}

/// Makes `rec` the current record, returning the previous one (restore it
/// with [`leave`]). `rec` must stay alive until then.
#[inline]
pub(crate) fn enter(rec: *const WaitRecord) -> *const WaitRecord {
    CURRENT
        .try_with(|c| c.replace(rec))
        .unwrap_or(std::ptr::null())
}

/// Restores the record [`enter`] replaced.
#[inline]
pub(crate) fn leave(prev: *const WaitRecord) {
    let _ = CURRENT.try_with(|c| c.set(prev));
}

/// Runs `f` on the current record, if any.
#[inline]
fn with_current(f: impl FnOnce(&WaitRecord)) {
    let p = CURRENT.try_with(|c| c.get()).unwrap_or(std::ptr::null());
    if !p.is_null() {
        // SAFETY: a non-null pointer was stored by `enter` from a record
        // the caller of `enter` keeps alive until it calls `leave` (the
        // thread layer's context guard, or a dummy thread's TLS guard that
        // clears it before the record is dropped); we are on that OS thread
        // inside that window, and `f` does not outlive this call.
        f(unsafe { &*p });
    }
}

/// The calling thread's wait on `kind`/`id` returns `Pending` (slow path
/// only). `holder`: a Lock's holder or RLock's owner (0: none). `first`:
/// the first `Pending` of this wait (starts its clock).
pub(crate) fn pending(kind: u8, id: u64, holder: u64, first: bool) {
    with_current(|r| r.pending(kind, id, holder, first));
}

/// A timer of the calling thread returns `Pending` (see the module notes).
pub(crate) fn sleep_pending(first: bool) {
    with_current(|r| r.sleep_pending(first));
}

/// A poll of the current thread (if any) begins; see [`WaitRecord::begin`].
#[inline]
pub(crate) fn poll_begin() {
    with_current(WaitRecord::begin);
}

/// A poll of the current thread (if any) ends; see [`WaitRecord::end`].
#[inline]
pub(crate) fn poll_end(pending: bool, yielded: bool) {
    with_current(|r| r.end(pending, yielded));
}

/// The coarse monotonic clock, in µs (never 0 for a running system; at
/// most 48 bits).
pub(crate) fn now_us() -> u64 {
    coarse_us().min(SINCE_MAX)
}

#[cfg(target_os = "linux")]
fn coarse_us() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_MONOTONIC_COARSE
    // exists on every Linux since 2.6.32 and the call only writes `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    if rc != 0 {
        return fallback_us();
    }
    (ts.tv_sec as u64) * 1_000_000 + (ts.tv_nsec as u64) / 1_000
}

#[cfg(not(target_os = "linux"))]
fn coarse_us() -> u64 {
    fallback_us()
}

fn fallback_us() -> u64 {
    static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    let e = *EPOCH.get_or_init(std::time::Instant::now);
    e.elapsed().as_micros() as u64 + 1
}

// ---------------------------------------------------------------------------
// Stall warnings: one slot per OS thread that polls threads of a runtime
// with `stall_warning` on, published for the detector.

/// What one OS thread is polling: two plain stores per poll by that OS
/// thread, read by the detector.
#[derive(Debug, Default)]
struct PollSlot {
    /// The thread being polled.
    ident: AtomicU64,
    /// When its poll began (coarse µs; 0: none).
    start: AtomicU64,
    /// Its runtime's threshold (µs).
    threshold: AtomicU64,
}

/// Every OS thread's slot (pruned once the OS thread is gone).
static SLOTS: std::sync::Mutex<Vec<std::sync::Arc<PollSlot>>> = std::sync::Mutex::new(Vec::new());
/// Whether any runtime has turned stall warnings on.
static STALL_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

thread_local! {
    static SLOT: std::sync::Arc<PollSlot> = {
        let s = std::sync::Arc::new(PollSlot::default());
        SLOTS.lock().unwrap_or_else(|e| e.into_inner()).push(s.clone());
        s
    };
}

/// Some runtime warns of stalls: the detector looks often.
pub(crate) fn stall_warnings_on() {
    STALL_ON.store(true, Ordering::Relaxed);
}

/// Whether the detector should look for stalls.
pub(crate) fn stall_slots_active() -> bool {
    STALL_ON.load(Ordering::Relaxed)
}

/// A poll of thread `ident` begins on this OS thread, warned of after
/// `threshold_us`. Returns whether it was published (call [`stall_end`]).
#[inline]
pub(crate) fn stall_begin(ident: u64, threshold_us: u64) -> bool {
    SLOT.try_with(|s| {
        s.ident.store(ident, Ordering::Relaxed);
        s.threshold.store(threshold_us, Ordering::Relaxed);
        s.start.store(now_us().max(1), Ordering::Release);
    })
    .is_ok()
}

/// The poll [`stall_begin`] published has ended.
#[inline]
pub(crate) fn stall_end() {
    let _ = SLOT.try_with(|s| s.start.store(0, Ordering::Release));
}

/// Every slot: (its address as a key, ident, poll start, threshold).
pub(crate) fn stall_slots() -> Vec<(usize, u64, u64, u64)> {
    let mut slots = SLOTS.lock().unwrap_or_else(|e| e.into_inner());
    // An OS thread that has exited left only our reference.
    slots.retain(|s| std::sync::Arc::strong_count(s) > 1);
    slots
        .iter()
        .map(|s| {
            (
                std::sync::Arc::as_ptr(s) as usize,
                s.ident.load(Ordering::Relaxed),
                s.start.load(Ordering::Acquire),
                s.threshold.load(Ordering::Relaxed),
            )
        })
        .collect()
}
