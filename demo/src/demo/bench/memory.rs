//! W9 idle memory: the live heap a parked thread costs, from the demo's
//! counting allocator ([`crate::demo::alloc`]).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::backend::{Gate, Tasks};
use super::table::count;
use super::{Backend, Size, Sizes, Workload};
use crate::demo::alloc;

/// W9's parked threads: 100,000 (BENCHMARKS.md's first size) from quick up,
/// 1,000,000 in full: fewer would let fixed costs (the runtime's own tables
/// growing) show in the per-thread figure.
const PARKED: Sizes<usize> = Sizes {
    smoke: 1_000,
    quick: 100_000,
    full: 1_000_000,
};

/// How often the main thread checks whether every thread has parked.
const POLL: Duration = Duration::from_millis(1);

/// How long to wait after the last thread counted itself in: it counts
/// itself just before it waits, and the wait's own allocation (a waiter
/// entry) must be in the figure.
const SETTLE: Duration = Duration::from_millis(20);

/// W9: `n` threads parked on one gate; live heap bytes per thread.
#[derive(Debug)]
pub(crate) struct IdleMemory {
    n: usize,
}

impl IdleMemory {
    pub(crate) fn at(size: Size) -> IdleMemory {
        IdleMemory { n: PARKED.at(size) }
    }
}

impl Workload for IdleMemory {
    const ID: &'static str = "W9";
    const NAME: &'static str = "idle memory";
    const METRIC: &'static str = "B/thread";
    const BACKENDS: &'static [Backend] = &[Backend::Green, Backend::Tokio, Backend::Smol];

    fn size(&self) -> String {
        format!("{} parked", count(self.n))
    }

    fn run<R: Tasks>(&self, rt: &R, _on: Backend) -> f64 {
        let n = self.n;
        let gate = Arc::new(R::Gate::new());
        let parked = Arc::new(AtomicUsize::new(0));
        // The handles' own vector is the bench's, not the threads' cost:
        // allocated before the count starts.
        let mut handles = Vec::with_capacity(n);
        alloc::set_counting(true);
        let before = alloc::live();
        let (g, p) = (gate.clone(), parked.clone());
        let handles = rt.run(async move {
            for _ in 0..n {
                let (g, p) = (g.clone(), p.clone());
                handles.push(R::spawn(async move {
                    p.fetch_add(1, Ordering::Release);
                    g.wait().await;
                }));
            }
            handles
        });
        while parked.load(Ordering::Acquire) < n {
            std::thread::sleep(POLL);
        }
        std::thread::sleep(SETTLE);
        // Wrapping: blocks allocated before the count started may have been
        // freed since (see `alloc::set_counting`).
        let grown = alloc::live().wrapping_sub(before) as isize;
        alloc::set_counting(false);
        gate.open();
        rt.run(async move {
            for h in handles {
                h.await;
            }
        });
        grown as f64 / n as f64
    }
}
