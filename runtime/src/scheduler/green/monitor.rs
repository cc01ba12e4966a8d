//! Stall hand-off (opt-in, [`Builder::stall_handoff`](crate::Builder::stall_handoff)):
//! a monitor thread that notices a worker stuck in one long poll — a green
//! thread computing without reaching a switch point — and lends a spare
//! worker so the other runnable threads keep running (Go's `sysmon`
//! handing off a P whose M is busy).
//!
//! # Design notes
//!
//! 1. Each worker publishes a run counter: odd while it runs a task, even
//!    between tasks — two plain stores per task on its own cache line.
//! 2. Every [`MONITOR_INTERVAL`] the monitor samples the core workers' counters.
//!    A worker whose counter is odd and unchanged for [`STUCK_SAMPLES`]
//!    samples is *stalled*. The monitor publishes the number of stalled
//!    workers and, if any task is queued, wakes that many spare workers.
//! 3. A spare worker runs the ordinary worker loop (it takes from the
//!    injector and steals from every local queue, the stalled worker's
//!    included) for as long as its rank is below the published stall
//!    count plus the number of workers blocked in `block_on` (the spares
//!    are shared with that, `scheduler::green` design notes); then it retires: it
//!    moves its LIFO slot and local queue to the injector and parks until
//!    it is wanted again. A spare's OS thread starts the first time it is
//!    wanted. Stalls alone want at most as many spares as core workers, so
//!    without `block_on` inside green threads at most twice the configured
//!    workers ever run green threads at once.
//! 4. While no core worker has run anything for a while the monitor samples
//!    every [`MONITOR_IDLE_INTERVAL`] instead, so an idle runtime costs next
//!    to nothing.
//!
//! Trade-off: with it on, a green thread may run on a spare worker's OS
//! thread (its `native_id` shows it), which SPEC §10.10 rules out for the
//! default configuration — hence opt-in.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::Shared;

/// How often the monitor samples busy workers: 1 ms, the lateness a
/// stalled worker may add before a spare takes over (Go's sysmon starts at
/// 20 µs and backs off to 10 ms; a millisecond is enough for threads that
/// sleep in milliseconds).
pub(crate) const MONITOR_INTERVAL: Duration = Duration::from_millis(1);

/// Sampling period while every core worker is idle.
pub(crate) const MONITOR_IDLE_INTERVAL: Duration = Duration::from_millis(10);

/// Consecutive samples a worker must spend in one task to count as stalled
/// (two: a task that merely straddles one sample is not a stall).
pub(crate) const STUCK_SAMPLES: u32 = 2;

/// Idle samples before switching to [`MONITOR_IDLE_INTERVAL`].
const IDLE_SAMPLES: u32 = 50;

/// A counter alone on its cache line (two lines: adjacent-line prefetch).
#[derive(Debug, Default)]
#[repr(align(128))]
pub(crate) struct RunCounter(AtomicU64);

impl RunCounter {
    /// Called by the owning worker around each task: odd while running.
    #[inline]
    pub(crate) fn set(&self, runs: u64, running: bool) {
        self.0
            .store(runs * 2 + u64::from(running), Ordering::Relaxed);
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The monitor's shared state.
#[derive(Debug, Default)]
pub(crate) struct Monitor {
    /// Core workers stalled at the last sample.
    stalled: AtomicUsize,
}

impl Monitor {
    /// The core workers stalled at the last sample.
    #[inline]
    pub(crate) fn stalled(&self) -> usize {
        self.stalled.load(Ordering::Acquire)
    }
}

/// The monitor thread's loop.
pub(crate) fn run(shared: &Arc<Shared>) {
    let core = shared.core;
    let mut last = vec![0u64; core];
    let mut same = vec![0u32; core];
    let mut idle_samples = 0u32;
    while !shared.shutdown.load(Ordering::Acquire) {
        let pause = if idle_samples > IDLE_SAMPLES {
            MONITOR_IDLE_INTERVAL
        } else {
            MONITOR_INTERVAL
        };
        std::thread::sleep(pause);
        let mut stalled = 0;
        let mut any_running = false;
        for i in 0..core {
            let now = shared.runs[i].get();
            let running = now & 1 == 1;
            any_running |= running;
            same[i] = if running && now == last[i] {
                same[i] + 1
            } else {
                0
            };
            last[i] = now;
            if same[i] >= STUCK_SAMPLES {
                stalled += 1;
            }
        }
        idle_samples = if any_running {
            0
        } else {
            idle_samples.saturating_add(1)
        };
        let Some(monitor) = &shared.monitor else {
            return;
        };
        monitor.stalled.store(stalled, Ordering::Release);
        if stalled > 0 && shared.has_work() {
            shared.wake_spares();
        }
    }
}
