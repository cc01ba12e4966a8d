//! W1 skynet and W2 spawn-many: what making and joining a thread costs.

use greenthread_benches::backend::Tasks;
use greenthread_benches::{timed, w1_skynet, w2_spawn};

use super::table::count;
use super::{ms, ns_per, Backend, Size, Sizes, Workload};

/// W1's leaves: the standard 1,000,000 (1,111,111 threads); quick takes a
/// tenth (111,111 threads, tens of milliseconds a run). A power of ten, so
/// the 10-ary tree is whole.
const SKYNET_LEAVES: Sizes<u64> = Sizes {
    smoke: 1_000,
    quick: 100_000,
    full: 1_000_000,
};

/// W2's trivial threads on the pools: 1,000,000 standard; 100,000 quick.
const SPAWNS: Sizes<usize> = Sizes {
    smoke: 1_000,
    quick: 100_000,
    full: 1_000_000,
};

/// W2 on one OS thread per spawn (`os`, `std`): about 60 µs each here, so
/// 1,000 (as the criterion bench) is enough for a per-thread figure.
const OS_SPAWNS: Sizes<usize> = Sizes {
    smoke: 100,
    quick: 1_000,
    full: 1_000,
};

/// W1: a 10-ary tree of threads; each leaf returns its number, each inner
/// thread sums its children.
#[derive(Debug)]
pub(crate) struct Skynet {
    leaves: u64,
}

impl Skynet {
    pub(crate) fn at(size: Size) -> Skynet {
        Skynet {
            leaves: SKYNET_LEAVES.at(size),
        }
    }
}

impl Workload for Skynet {
    const ID: &'static str = "W1";
    const NAME: &'static str = "skynet";
    const METRIC: &'static str = "ms";
    const BACKENDS: &'static [Backend] = &Backend::POOLS;

    fn size(&self) -> String {
        format!("{} leaves", count(self.leaves as usize))
    }

    fn run<R: Tasks>(&self, rt: &R, _on: Backend) -> f64 {
        let leaves = self.leaves;
        let (sum, took) = rt.run(timed(w1_skynet::tree::<R>(0, leaves)));
        assert_eq!(sum, w1_skynet::sum(leaves), "skynet's sum");
        ms(took)
    }
}

/// W2: `n` trivial threads spawned from inside a thread, each joined.
#[derive(Debug)]
pub(crate) struct SpawnMany {
    n: usize,
    os_n: usize,
}

impl SpawnMany {
    pub(crate) fn at(size: Size) -> SpawnMany {
        SpawnMany {
            n: SPAWNS.at(size),
            os_n: OS_SPAWNS.at(size),
        }
    }
}

impl Workload for SpawnMany {
    const ID: &'static str = "W2";
    const NAME: &'static str = "spawn-many";
    const METRIC: &'static str = "ns/thread";
    const BACKENDS: &'static [Backend] = &Backend::ALL;

    fn size(&self) -> String {
        format!("{} (os, std: {})", count(self.n), count(self.os_n))
    }

    fn run<R: Tasks>(&self, rt: &R, on: Backend) -> f64 {
        let n = on.sized(self.n, self.os_n);
        let ((), took) = rt.run(timed(w2_spawn::spawn_many::<R>(n)));
        ns_per(took, n)
    }

    fn run_std(&self) -> f64 {
        let start = std::time::Instant::now();
        w2_spawn::spawn_many_std(self.os_n);
        ns_per(start.elapsed(), self.os_n)
    }
}
