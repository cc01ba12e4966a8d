//! A thread's lifecycle word, `INITIAL → STARTED → STOPPED`. Every write to
//! it is one of the transitions here.
//!
//! It only moves forward, with one exception, Python's: a start the runtime
//! refuses (shutting down, no worker or OS thread to be had) is undone, and
//! the thread is `INITIAL` again, startable once more
//! ([`undo_refused_start`](Lifecycle::undo_refused_start)).

use std::sync::atomic::{AtomicU8, Ordering};

const INITIAL: u8 = 0;
const STARTED: u8 = 1;
const STOPPED: u8 = 2;

/// The lifecycle word.
#[derive(Debug)]
pub(crate) struct Lifecycle(AtomicU8);

impl Lifecycle {
    /// A thread not started yet.
    pub(crate) fn initial() -> Lifecycle {
        Lifecycle(AtomicU8::new(INITIAL))
    }

    pub(crate) fn is_initial(&self) -> bool {
        self.0.load(Ordering::Acquire) == INITIAL
    }

    pub(crate) fn is_started(&self) -> bool {
        self.0.load(Ordering::Acquire) == STARTED
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Acquire) == STOPPED
    }

    /// Python's name of the state, for `Debug`.
    pub(crate) fn name(&self) -> &'static str {
        match self.0.load(Ordering::Acquire) {
            INITIAL => "initial",
            STARTED => "started",
            _ => "stopped",
        }
    }

    /// `start()`: `INITIAL → STARTED`, before the thread is registered and
    /// scheduled.
    pub(crate) fn transition_to_started(&self) {
        self.0.store(STARTED, Ordering::Release);
    }

    /// A refused start: `STARTED → INITIAL`, the thread startable again (as
    /// CPython leaves it).
    pub(crate) fn undo_refused_start(&self) {
        self.0.store(INITIAL, Ordering::Release);
    }

    /// The thread ended: `→ STOPPED`, for good.
    pub(crate) fn transition_to_stopped(&self) {
        self.0.store(STOPPED, Ordering::Release);
    }
}
