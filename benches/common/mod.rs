//! Back-ends shared by the benchmark files: the same worker count for every
//! pool, constructed outside the timed region (see `benches/README.md`).
#![allow(dead_code)] // each bench file uses the back-ends it needs

use std::future::Future;
use std::sync::Arc;
use std::thread::JoinHandle;

/// Worker threads of every pool: the machine's cores.
pub(crate) fn workers() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

/// Whether the full (standard, slower) sizes were asked for.
pub(crate) fn full() -> bool {
    std::env::var_os("GT_BENCH_FULL").is_some()
}

/// A greenthread runtime in Green mode.
pub(crate) fn green(gil: bool) -> greenthread::Runtime {
    greenthread::Runtime::builder()
        .mode(greenthread::Mode::Green)
        .workers(workers())
        .gil(gil)
        .build()
        .expect("greenthread runtime")
}

/// A greenthread runtime in OS-thread mode.
pub(crate) fn os() -> greenthread::Runtime {
    greenthread::Runtime::builder()
        .mode(greenthread::Mode::OsThreads)
        .build()
        .expect("greenthread runtime")
}

/// Runs `f` as a thread of `rt` and waits for its result.
pub(crate) fn green_run<F, T>(rt: &greenthread::Runtime, f: F) -> T
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    greenthread::block_on(rt.spawn(f)).expect("bench thread")
}

/// A tokio multi-thread runtime.
pub(crate) fn tokio() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers())
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Runs `f` as a tokio task and waits for it.
pub(crate) fn tokio_run<F, T>(rt: &tokio::runtime::Runtime, f: F) -> T
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    rt.block_on(rt.spawn(f)).expect("tokio task")
}

/// smol's executor with one runner thread per core.
pub(crate) struct Smol {
    pub(crate) ex: Arc<async_executor::Executor<'static>>,
    stop: async_channel::Sender<()>,
    runners: Vec<JoinHandle<()>>,
}

impl Smol {
    pub(crate) fn new() -> Smol {
        let ex = Arc::new(async_executor::Executor::new());
        let (stop, rx) = async_channel::bounded::<()>(1);
        let runners = (0..workers())
            .map(|_| {
                let ex = ex.clone();
                let rx = rx.clone();
                std::thread::spawn(move || {
                    futures::executor::block_on(ex.run(rx.recv())).unwrap_or(())
                })
            })
            .collect();
        Smol { ex, stop, runners }
    }

    /// Runs `f` as a task and waits for it.
    pub(crate) fn run<F, T>(&self, f: F) -> T
    where
        F: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        futures::executor::block_on(self.ex.spawn(f))
    }
}

impl Drop for Smol {
    fn drop(&mut self) {
        self.stop.close();
        for r in self.runners.drain(..) {
            let _ = r.join();
        }
    }
}

/// A plain yield for executors without their own (`futures_lite::future::yield_now`
/// without the dependency): wakes itself once and returns `Pending`.
pub(crate) async fn yield_now() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// The `q` quantile (0..=1) of `sorted`, by nearest rank: the smallest
/// value with at least `q` of the values at or below it. One formula for
/// every bench's percentiles.
pub(crate) fn percentile<T: Copy>(sorted: &[T], q: f64) -> T {
    let rank = (sorted.len() as f64 * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Sorts `late` and returns its median and 99th percentile.
pub(crate) fn p50_p99<T: Copy + Ord>(late: &mut [T]) -> (T, T) {
    late.sort_unstable();
    (percentile(late, 0.50), percentile(late, 0.99))
}
