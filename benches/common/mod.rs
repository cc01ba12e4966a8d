//! Back-ends shared by the benchmark files, as the raw runtimes the
//! criterion-only variants use; all built by `greenthread_benches::backend`
//! (the same worker count for every pool), outside the timed region (see
//! `benches/README.md`).
#![allow(dead_code)] // each bench file uses the back-ends it needs

use std::future::Future;

/// Whether the full (standard, slower) sizes were asked for.
pub(crate) fn full() -> bool {
    std::env::var_os("GT_BENCH_FULL").is_some()
}

/// A greenthread runtime in Green mode ([`Green::pool`]).
pub(crate) fn green(gil: bool) -> greenthread::Runtime {
    Green::pool(gil).into_runtime()
}

/// A greenthread runtime in OS-thread mode ([`Green::os`]).
pub(crate) fn os() -> greenthread::Runtime {
    Green::os().into_runtime()
}

/// Runs `f` as a thread of `rt` and waits for its result.
pub(crate) fn green_run<F, T>(rt: &greenthread::Runtime, f: F) -> T
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    greenthread::block_on(rt.spawn(f)).expect("bench thread")
}

/// A tokio multi-thread runtime with timers and I/O ([`Tokio::pool_with_io`]).
pub(crate) fn tokio() -> tokio::runtime::Runtime {
    Tokio::pool_with_io().into_runtime()
}

/// Runs `f` as a tokio task and waits for it.
pub(crate) fn tokio_run<F, T>(rt: &tokio::runtime::Runtime, f: F) -> T
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    rt.block_on(rt.spawn(f)).expect("tokio task")
}

/// smol's executor with one runner thread per core: the shared back-end's
/// ([`greenthread_benches::backend::Smol`]), with its executor at hand.
pub(crate) struct Smol {
    pub(crate) ex: &'static async_executor::Executor<'static>,
    pool: greenthread_benches::backend::Smol,
}

impl Smol {
    pub(crate) fn new() -> Smol {
        let pool = greenthread_benches::backend::Smol::pool();
        Smol {
            ex: pool.executor(),
            pool,
        }
    }

    /// The shared back-end, for the workloads generic over [`Tasks`].
    pub(crate) fn pool(&self) -> &greenthread_benches::backend::Smol {
        &self.pool
    }

    /// Runs `f` as a task and waits for it.
    pub(crate) fn run<F, T>(&self, f: F) -> T
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        greenthread_benches::backend::Tasks::run(&self.pool, f)
    }
}

#[allow(unused_imports)] // each bench file uses the ones it needs
pub(crate) use greenthread_benches::backend::{workers, Green, Tasks, Tokio};
pub(crate) use greenthread_benches::percentile;

/// Sorts `late` and returns its median and 99th percentile.
pub(crate) fn p50_p99<T: Copy + Ord>(late: &mut [T]) -> (T, T) {
    late.sort_unstable();
    (percentile(late, 0.50), percentile(late, 0.99))
}
