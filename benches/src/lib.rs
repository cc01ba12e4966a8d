//! The benchmark workloads, written once and run by both the criterion
//! benches beside this folder (`benches/w*.rs`) and the demo's quick
//! comparison table (`cargo run --release -- bench`).
//!
//! Each workload is one module, generic over [`backend::Tasks`] (greenthread
//! green, green+gil and os, tokio, smol), with a plain `std::thread` version
//! beside it where one applies. A workload takes its sizes as arguments:
//! the criterion benches and the table choose them (`benches/README.md`
//! lists the standard ones); the timing, the repetitions and the reporting
//! are the callers'.

pub mod alloc;
pub mod backend;
pub mod w1_skynet;
pub mod w2_spawn;
pub mod w4_yield;
pub mod w5_pingpong;
pub mod w6_lock;
pub mod w7_queue;
pub mod w8_timers;
pub mod w9_memory;

use std::future::Future;
use std::time::{Duration, Instant};

/// Runs `f`, returning its output and how long it took.
pub async fn timed<F: Future>(f: F) -> (F::Output, Duration) {
    let start = Instant::now();
    let out = f.await;
    (out, start.elapsed())
}

/// The `q` quantile (0..=1) of `sorted`, by nearest rank: the smallest
/// value with at least `q` of the values at or below it. One formula for
/// every bench's percentiles.
///
/// # Panics
///
/// If `sorted` is empty.
pub fn percentile<T: Copy>(sorted: &[T], q: f64) -> T {
    let rank = (sorted.len() as f64 * q).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Joins every handle in order, panicking if a thread did (a failed bench).
pub fn join_all<T>(hs: Vec<std::thread::JoinHandle<T>>) -> Vec<T> {
    hs.into_iter()
        .map(|h| h.join().expect("a std thread panicked"))
        .collect()
}
