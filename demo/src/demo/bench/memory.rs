//! W9 idle memory: the live heap a parked thread costs, from the counting
//! allocator the demo installs ([`greenthread_benches::alloc`]).

use greenthread_benches::backend::Tasks;
use greenthread_benches::w9_memory;

use super::table::count;
use super::{Backend, Size, Sizes, Workload};

/// W9's parked threads: 100,000 (the standard first size) from quick up,
/// 1,000,000 in full: fewer would let fixed costs (the runtime's own tables
/// growing) show in the per-thread figure.
const PARKED: Sizes<usize> = Sizes {
    smoke: 1_000,
    quick: 100_000,
    full: 1_000_000,
};

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
        w9_memory::idle(rt, self.n).heap
    }
}
