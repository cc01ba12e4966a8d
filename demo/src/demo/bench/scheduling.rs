//! W4 yield-many and W5 ping-pong: what a switch between threads costs.

use greenthread_benches::backend::Tasks;
use greenthread_benches::{timed, w4_yield, w5_pingpong};

use super::table::count;
use super::{ns_per, Backend, Size, Sizes, Workload};

/// W4's threads × yields each: the standard 200 × 1,000 takes
/// milliseconds, so quick runs it whole.
const YIELDERS: Sizes<(usize, usize)> = Sizes {
    smoke: (10, 100),
    quick: (200, 1_000),
    full: (200, 1_000),
};

/// W5's pairs × round trips each: 1,000 × 1,000 standard; quick takes a
/// tenth of the pairs.
const PING_PONG: Sizes<(usize, usize)> = Sizes {
    smoke: (4, 100),
    quick: (100, 1_000),
    full: (1_000, 1_000),
};

/// W5's pairs on one OS thread per thread (`os`, `std`): each round trip is
/// two kernel wake-ups (about 10 µs), and the standard run keeps these at
/// ≤ 256 threads.
const OS_PAIRS: Sizes<usize> = Sizes {
    smoke: 2,
    quick: 10,
    full: 100,
};

/// W4: `threads` threads, each yielding `yields` times.
#[derive(Debug)]
pub(crate) struct YieldMany {
    threads: usize,
    yields: usize,
}

impl YieldMany {
    pub(crate) fn at(size: Size) -> YieldMany {
        let (threads, yields) = YIELDERS.at(size);
        YieldMany { threads, yields }
    }
}

impl Workload for YieldMany {
    const ID: &'static str = "W4";
    const NAME: &'static str = "yield-many";
    const METRIC: &'static str = "ns/yield";
    const BACKENDS: &'static [Backend] = &Backend::POOLS;

    fn size(&self) -> String {
        format!("{} x {}", count(self.threads), count(self.yields))
    }

    fn run<R: Tasks>(&self, rt: &R, _on: Backend) -> f64 {
        let (threads, yields) = (self.threads, self.yields);
        let ((), took) = rt.run(timed(w4_yield::yield_many::<R>(threads, yields)));
        ns_per(took, threads * yields)
    }
}

/// W5: pairs of threads bouncing a number over two one-item channels.
#[derive(Debug)]
pub(crate) struct PingPong {
    pairs: usize,
    trips: usize,
    os_pairs: usize,
}

impl PingPong {
    pub(crate) fn at(size: Size) -> PingPong {
        let (pairs, trips) = PING_PONG.at(size);
        PingPong {
            pairs,
            trips,
            os_pairs: OS_PAIRS.at(size),
        }
    }
}

impl Workload for PingPong {
    const ID: &'static str = "W5";
    const NAME: &'static str = "ping-pong";
    const METRIC: &'static str = "ns/round trip";
    const BACKENDS: &'static [Backend] = &Backend::ALL;

    fn size(&self) -> String {
        format!(
            "{} pairs x {} (os, std: {} pairs)",
            count(self.pairs),
            count(self.trips),
            count(self.os_pairs)
        )
    }

    fn run<R: Tasks>(&self, rt: &R, on: Backend) -> f64 {
        let pairs = on.sized(self.pairs, self.os_pairs);
        let trips = self.trips;
        let ((), took) = rt.run(timed(w5_pingpong::ping_pong::<R>(pairs, trips)));
        ns_per(took, pairs * trips)
    }

    fn run_std(&self) -> f64 {
        let (pairs, trips) = (self.os_pairs, self.trips);
        let start = std::time::Instant::now();
        w5_pingpong::ping_pong_std(pairs, trips);
        ns_per(start.elapsed(), pairs * trips)
    }
}
