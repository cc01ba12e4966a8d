//! W9 idle memory (`benches/README.md`): live bytes per thread parked on one
//! Event, from a counting global allocator, and RSS growth as a second view.
//!
//! A plain `main` (not criterion: it measures bytes, not time). Prints one
//! table; `GT_BENCH_FULL=1` adds the 1,000,000-thread row. The workload is
//! `greenthread_benches::w9_memory`, as in `greenthread bench`.

#[path = "common/mod.rs"]
mod common;

use common::{Green, Tokio};
use greenthread_benches::alloc::Counting;
use greenthread_benches::backend::Smol;
use greenthread_benches::w9_memory::{idle, idle_started, Start};

#[global_allocator]
static ALLOC: Counting = Counting;

fn main() {
    // `cargo bench` passes `--bench`; a filter may follow. Run everything.
    let mut sizes = vec![100_000];
    if common::full() {
        sizes.push(1_000_000);
    }
    println!(
        "W9 idle memory: threads parked on one Event ({} workers)",
        common::workers()
    );
    println!(
        "{:<8} {:>10} {:>14} {:>14} {:>10}",
        "backend", "threads", "heap B/thread", "RSS B/thread", "vs best"
    );
    for &n in &sizes {
        let rows = [
            ("green", idle(&Green::pool(false), n)),
            (
                "Thread",
                idle_started(&Green::pool(false), n, Start::PythonThread),
            ),
            ("tokio", idle(&Tokio::pool_with_io(), n)),
            ("smol", idle(&Smol::pool(), n)),
        ];
        let best = rows[2..]
            .iter()
            .map(|r| r.1.heap)
            .fold(f64::INFINITY, f64::min);
        for (name, f) in &rows {
            println!(
                "{:<8} {:>10} {:>14.0} {:>14.0} {:>9.2}x",
                name,
                n,
                f.heap,
                f.rss,
                f.heap / best
            );
        }
    }
}
