//! W8 timers: arming and cancelling a timeout, and how late many
//! concurrent sleepers wake.

use std::time::Duration;

use greenthread_benches::backend::Tasks;
use greenthread_benches::{percentile, timed, w8_timers};

use super::table::count;
use super::{ms, ns_per, Backend, Size, Sizes, Workload};

/// W8's timeouts armed and cancelled: 1,000,000 standard; quick a tenth.
const ARMS: Sizes<usize> = Sizes {
    smoke: 1_000,
    quick: 100_000,
    full: 1_000_000,
};

/// A timeout far enough away that no armed one ever fires.
const FAR: Duration = Duration::from_secs(60);

/// W8's concurrent sleepers: 100,000 standard; quick a tenth.
const SLEEPERS: Sizes<usize> = Sizes {
    smoke: 100,
    quick: 10_000,
    full: 100_000,
};

/// How long each sleeper sleeps (the standard parameters).
const NAP: Duration = Duration::from_millis(10);

/// The lateness percentile reported.
const PERCENTILE: f64 = 0.99;

/// W8: `n` sleeps armed (polled once) and cancelled (dropped), in a thread.
#[derive(Debug)]
pub(crate) struct ArmCancel {
    n: usize,
}

impl ArmCancel {
    pub(crate) fn at(size: Size) -> ArmCancel {
        ArmCancel { n: ARMS.at(size) }
    }
}

impl Workload for ArmCancel {
    const ID: &'static str = "W8";
    const NAME: &'static str = "timer arm+cancel";
    const METRIC: &'static str = "ns/op";
    const BACKENDS: &'static [Backend] = &[Backend::Green, Backend::Tokio, Backend::Smol];

    fn size(&self) -> String {
        count(self.n)
    }

    fn run<R: Tasks>(&self, rt: &R, _on: Backend) -> f64 {
        let n = self.n;
        let ((), took) = rt.run(timed(async move { w8_timers::arm_cancel::<R>(n, FAR) }));
        ns_per(took, n)
    }
}

/// W8: `n` threads each sleeping [`NAP`] at once; how late the
/// [`PERCENTILE`] of them wakes.
#[derive(Debug)]
pub(crate) struct Sleepers {
    n: usize,
}

impl Sleepers {
    pub(crate) fn at(size: Size) -> Sleepers {
        Sleepers {
            n: SLEEPERS.at(size),
        }
    }
}

impl Workload for Sleepers {
    const ID: &'static str = "W8";
    const NAME: &'static str = "sleep lateness p99";
    const METRIC: &'static str = "ms";
    const BACKENDS: &'static [Backend] = &Backend::POOLS;

    fn size(&self) -> String {
        format!("{} x {}ms", count(self.n), NAP.as_millis())
    }

    fn run<R: Tasks>(&self, rt: &R, _on: Backend) -> f64 {
        let n = self.n;
        let (mut late, _wall) = rt.run(w8_timers::sleepers::<R>(n, NAP));
        late.sort_unstable();
        ms(percentile(&late, PERCENTILE))
    }
}
