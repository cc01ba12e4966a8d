//! W6 contended Lock and W7 queue throughput: the synchronization
//! primitives under contention.

use greenthread_benches::backend::Tasks;
use greenthread_benches::w7_queue::{self, CONSUMERS, PRODUCERS};
use greenthread_benches::{timed, w6_lock};

use super::table::count;
use super::{ns_per, Backend, Size, Sizes, Workload};

/// W6's threads × acquisitions each: 64 × 10,000 standard; quick takes a
/// tenth of the acquisitions (64 threads still contend as hard).
const LOCKERS: Sizes<(usize, usize)> = Sizes {
    smoke: (8, 100),
    quick: (64, 1_000),
    full: (64, 10_000),
};

/// W7's items through the queue: 1,000,000 standard; quick takes a tenth.
const ITEMS: Sizes<usize> = Sizes {
    smoke: 1_000,
    quick: 100_000,
    full: 1_000_000,
};

/// W7's items on OS threads (`os`, `std`), where a blocked get or put is a
/// kernel wait: a tenth again.
const OS_ITEMS: Sizes<usize> = Sizes {
    smoke: 1_000,
    quick: 10_000,
    full: 100_000,
};

/// W6: `threads` threads × `iters` acquire / increment / release on one lock.
#[derive(Debug)]
pub(crate) struct ContendedLock {
    threads: usize,
    iters: usize,
}

impl ContendedLock {
    pub(crate) fn at(size: Size) -> ContendedLock {
        let (threads, iters) = LOCKERS.at(size);
        ContendedLock { threads, iters }
    }
}

impl Workload for ContendedLock {
    const ID: &'static str = "W6";
    const NAME: &'static str = "contended Lock";
    const METRIC: &'static str = "ns/op";
    const BACKENDS: &'static [Backend] = &Backend::ALL;

    fn size(&self) -> String {
        format!("{} x {}", count(self.threads), count(self.iters))
    }

    fn run<R: Tasks>(&self, rt: &R, _on: Backend) -> f64 {
        let (threads, iters) = (self.threads, self.iters);
        let (total, took) = rt.run(timed(w6_lock::contended::<R>(threads, iters)));
        assert_eq!(total, threads * iters, "every increment counted");
        ns_per(took, threads * iters)
    }

    fn run_std(&self) -> f64 {
        let (threads, iters) = (self.threads, self.iters);
        let start = std::time::Instant::now();
        let total = w6_lock::contended_std(threads, iters);
        let took = start.elapsed();
        assert_eq!(total, threads * iters, "every increment counted");
        ns_per(took, threads * iters)
    }
}

/// W7: [`PRODUCERS`] × [`CONSUMERS`] moving `items` through one bounded
/// queue of [`w7_queue::CAP`].
#[derive(Debug)]
pub(crate) struct QueueThroughput {
    items: usize,
    os_items: usize,
}

impl QueueThroughput {
    pub(crate) fn at(size: Size) -> QueueThroughput {
        QueueThroughput {
            items: ITEMS.at(size),
            os_items: OS_ITEMS.at(size),
        }
    }
}

impl Workload for QueueThroughput {
    const ID: &'static str = "W7";
    const NAME: &'static str = "queue throughput";
    const METRIC: &'static str = "ns/item";
    const BACKENDS: &'static [Backend] = &Backend::ALL;

    fn size(&self) -> String {
        format!(
            "{PRODUCERS}x{CONSUMERS}, {} items (os, std: {})",
            count(self.items),
            count(self.os_items)
        )
    }

    fn run<R: Tasks>(&self, rt: &R, on: Backend) -> f64 {
        let per = w7_queue::share(on.sized(self.items, self.os_items));
        let (got, took) = rt.run(timed(w7_queue::mpmc::<R>(per)));
        assert_eq!(got, per * CONSUMERS, "every item arrived");
        ns_per(took, got)
    }

    fn run_std(&self) -> f64 {
        let per = w7_queue::share(self.os_items);
        let start = std::time::Instant::now();
        let got = w7_queue::mpmc_std(per);
        let took = start.elapsed();
        assert_eq!(got, per * CONSUMERS, "every item arrived");
        ns_per(took, got)
    }
}
