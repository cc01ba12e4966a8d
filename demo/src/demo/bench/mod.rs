//! `greenthread bench`: a quick side-by-side of greenthread and its peers.
//!
//! Runs a representative set of `benches/README.md`'s workloads (W1
//! skynet, W2 spawn-many, W4 yield-many, W5 ping-pong, W6 contended Lock, W7
//! queue throughput, W8 timers, W9 idle memory) on every back-end that
//! applies, all in this one process, and prints one table of medians with
//! greenthread green's ratio to tokio and to the best peer. The criterion
//! benches in `benches/` are the thorough version; this is the one-minute
//! look.
//!
//! Each workload is written once, in the `greenthread-benches` library
//! (`benches/src/`), generic over [`Tasks`], with plain `std::thread`
//! versions beside the workloads they apply to; the criterion benches run
//! the same code. The modules here choose the sizes and the back-ends. Every
//! runtime is built once, before anything is timed, with the machine's
//! cores as workers. Each (workload, back-end) runs [`Reps::warmup`] times
//! untimed, then [`Reps::timed`] times; the table shows the median.

mod memory;
mod scheduling;
mod spawning;
mod sync;
mod table;
mod timers;

use std::fmt;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use greenthread_benches::backend::{self, Green, Smol, Tasks, Tokio};

/// Options of `greenthread bench`.
#[derive(Debug, clap::Args)]
#[command(group = clap::ArgGroup::new("size").multiple(false))]
pub(crate) struct BenchArgs {
    /// Small sizes: the whole set in under a minute on 2 cores (the default).
    #[arg(long, group = "size")]
    quick: bool,
    /// The standard sizes (benches/README.md: 1,000,000-leaf skynet,
    /// 1,000,000 spawns, ...): several minutes.
    #[arg(long, group = "size")]
    full: bool,
    /// Internal: tiny sizes and one run each, for the test suite.
    #[arg(long, group = "size", hide = true)]
    smoke: bool,
    /// Print the results as one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// How large the workloads are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Size {
    /// Tiny, one run: checks that everything runs (the test suite).
    Smoke,
    /// Scaled down to finish in under a minute on 2 cores.
    Quick,
    /// The standard parameters (`benches/README.md`).
    Full,
}

impl Size {
    fn label(self) -> &'static str {
        match self {
            Size::Smoke => "smoke",
            Size::Quick => "quick",
            Size::Full => "full",
        }
    }

    /// How many times each (workload, back-end) runs.
    fn reps(self) -> Reps {
        match self {
            Size::Smoke => Reps {
                warmup: 0,
                timed: 1,
            },
            // Five timed runs give a median that one stray (a neighbour's
            // burst on a shared machine) cannot move; one warm-up pays for
            // first-touch page faults and lazily built pools.
            Size::Quick => Reps {
                warmup: 1,
                timed: 5,
            },
            Size::Full => Reps {
                warmup: 1,
                timed: 5,
            },
        }
    }
}

/// A workload parameter at each [`Size`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes<T> {
    pub(crate) smoke: T,
    pub(crate) quick: T,
    pub(crate) full: T,
}

impl<T: Copy> Sizes<T> {
    /// The value for `size`.
    pub(crate) fn at(&self, size: Size) -> T {
        match size {
            Size::Smoke => self.smoke,
            Size::Quick => self.quick,
            Size::Full => self.full,
        }
    }
}

/// Untimed and timed runs of each (workload, back-end).
#[derive(Debug, Clone, Copy)]
struct Reps {
    warmup: usize,
    timed: usize,
}

/// A back-end: a column of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// greenthread, Mode::Green, workers = cores.
    Green,
    /// greenthread, Mode::Green, GIL on.
    GreenGil,
    /// greenthread, Mode::OsThreads (one OS thread per Thread).
    Os,
    /// tokio's multi-thread runtime, tokio::sync, tokio::time.
    Tokio,
    /// async-executor with one runner per core, async-lock, async-channel,
    /// async-io.
    Smol,
    /// std::thread and std::sync.
    Std,
}

impl Backend {
    /// Table order.
    pub(crate) const ALL: [Backend; 6] = [
        Backend::Green,
        Backend::GreenGil,
        Backend::Os,
        Backend::Tokio,
        Backend::Smol,
        Backend::Std,
    ];

    /// The pools: greenthread green (with and without the GIL) and the two
    /// peers; the workloads where one OS thread per thread does not apply.
    pub(crate) const POOLS: [Backend; 4] = [
        Backend::Green,
        Backend::GreenGil,
        Backend::Tokio,
        Backend::Smol,
    ];

    /// The peers a green ratio is taken against for "best peer"
    /// (tokio or smol, whichever is faster on that row).
    pub(crate) const PEERS: [Backend; 2] = [Backend::Tokio, Backend::Smol];

    /// The name in the table and in JSON.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Backend::Green => "green",
            Backend::GreenGil => "green+gil",
            Backend::Os => "os",
            Backend::Tokio => "tokio",
            Backend::Smol => "smol",
            Backend::Std => "std",
        }
    }

    /// `os_size` on the back-ends with one OS thread per thread (`os`,
    /// `std`), which run a smaller size where a workload has many threads;
    /// `size` on the pools.
    pub(crate) fn sized(self, size: usize, os_size: usize) -> usize {
        match self {
            Backend::Os | Backend::Std => os_size,
            _ => size,
        }
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One row of the table: a workload at one size.
pub(crate) trait Workload {
    /// The workload's number in `benches/README.md`, e.g. `W1`.
    const ID: &'static str;
    /// The workload's name, e.g. `skynet`.
    const NAME: &'static str;
    /// The unit of each figure, e.g. `ns/thread`.
    const METRIC: &'static str;
    /// The back-ends this workload runs on, in table order.
    const BACKENDS: &'static [Backend];

    /// The parameters, short, e.g. `100k leaves`.
    fn size(&self) -> String;
    /// One run on an async back-end (`on` says which, for the workloads that
    /// run `os` at a smaller size): the figure, in [`Workload::METRIC`].
    fn run<R: Tasks>(&self, rt: &R, on: Backend) -> f64;
    /// One run on `std` threads, for the workloads that list [`Backend::Std`].
    fn run_std(&self) -> f64 {
        unreachable!("{} does not run on std threads", Self::NAME)
    }
}

/// Every runtime, built once, before anything is timed.
struct Runtimes {
    green: Green,
    gil: Green,
    os: Green,
    tokio: Tokio,
    smol: Smol,
}

impl Runtimes {
    fn new() -> Runtimes {
        Runtimes {
            green: Green::pool(false),
            gil: Green::pool(true),
            os: Green::os(),
            tokio: Tokio::pool(),
            smol: Smol::pool(),
        }
    }

    /// One run of `w` on `on`.
    fn run<W: Workload>(&self, w: &W, on: Backend) -> f64 {
        match on {
            Backend::Green => w.run(&self.green, on),
            Backend::GreenGil => w.run(&self.gil, on),
            Backend::Os => w.run(&self.os, on),
            Backend::Tokio => w.run(&self.tokio, on),
            Backend::Smol => w.run(&self.smol, on),
            Backend::Std => w.run_std(),
        }
    }
}

/// One measured row.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) id: &'static str,
    pub(crate) name: &'static str,
    pub(crate) size: String,
    pub(crate) metric: &'static str,
    /// Each back-end's timed runs, in table order.
    pub(crate) samples: Vec<(Backend, Vec<f64>)>,
}

impl Row {
    /// `on`'s median, if it ran.
    pub(crate) fn median(&self, on: Backend) -> Option<f64> {
        let (_, s) = self.samples.iter().find(|(b, _)| *b == on)?;
        let mut s = s.clone();
        s.sort_by(f64::total_cmp);
        s.get(s.len() / 2).copied()
    }

    /// green's median ÷ `peer`'s (lower is better for green).
    pub(crate) fn ratio(&self, peer: Backend) -> Option<f64> {
        Some(self.median(Backend::Green)? / self.median(peer)?)
    }

    /// The fastest (smallest) of [`Backend::PEERS`] on this row.
    pub(crate) fn best_peer(&self) -> Option<Backend> {
        Backend::PEERS
            .into_iter()
            .filter_map(|b| Some((b, self.median(b)?)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(b, _)| b)
    }
}

/// What the whole run was, for the table's header and JSON.
#[derive(Debug, Clone)]
pub(crate) struct Report {
    pub(crate) size: Size,
    pub(crate) cores: usize,
    /// UTC, `YYYY-MM-DD HH:MM`.
    pub(crate) date: String,
    /// The commit this binary was built from (`git rev-parse --short HEAD`
    /// at build time, by `build.rs`), if git and a checkout were there.
    pub(crate) commit: Option<&'static str>,
    pub(crate) rows: Vec<Row>,
}

/// Prints a progress line on stderr, if it is a terminal.
struct Progress {
    tty: bool,
}

impl Progress {
    fn show(&self, what: &str) {
        if self.tty {
            eprint!("\r\x1b[K{what}...");
        }
    }

    fn clear(&self) {
        if self.tty {
            eprint!("\r\x1b[K");
        }
    }
}

/// The wall time one (workload, back-end) may spend on its timed runs,
/// judged from its last warm-up run: a back-end that takes seconds a run
/// (green+gil spawning, for one) gets fewer timed runs, at least one, so it
/// cannot push the quick set past its minute.
const CELL_BUDGET: Duration = Duration::from_secs(2);

/// How many timed runs fit [`CELL_BUDGET`] when one run takes `run`.
fn runs_within_budget(reps: Reps, run: Duration) -> usize {
    let fit = CELL_BUDGET.as_secs_f64() / run.as_secs_f64().max(f64::MIN_POSITIVE);
    (fit as usize).clamp(1, reps.timed)
}

/// Measures `w` on each of its back-ends.
fn measure<W: Workload>(w: &W, rts: &Runtimes, reps: Reps, progress: &Progress) -> Row {
    let size = w.size();
    let samples = W::BACKENDS
        .iter()
        .map(|&on| {
            progress.show(&format!("{} {} ({size}) on {on}", W::ID, W::NAME));
            let mut runs = reps.timed;
            for _ in 0..reps.warmup {
                let start = Instant::now();
                rts.run(w, on);
                runs = runs_within_budget(reps, start.elapsed());
            }
            (on, (0..runs).map(|_| rts.run(w, on)).collect())
        })
        .collect();
    Row {
        id: W::ID,
        name: W::NAME,
        size,
        metric: W::METRIC,
        samples,
    }
}

/// Every row, in the workloads' order.
fn measure_all(size: Size, rts: &Runtimes, progress: &Progress) -> Vec<Row> {
    let reps = size.reps();
    vec![
        measure(&spawning::Skynet::at(size), rts, reps, progress),
        measure(&spawning::SpawnMany::at(size), rts, reps, progress),
        measure(&scheduling::YieldMany::at(size), rts, reps, progress),
        measure(&scheduling::PingPong::at(size), rts, reps, progress),
        measure(&sync::ContendedLock::at(size), rts, reps, progress),
        measure(&sync::QueueThroughput::at(size), rts, reps, progress),
        measure(&timers::ArmCancel::at(size), rts, reps, progress),
        measure(&timers::Sleepers::at(size), rts, reps, progress),
        measure(&memory::IdleMemory::at(size), rts, reps, progress),
    ]
}

/// Nanoseconds per operation: `took` over `ops`.
pub(crate) fn ns_per(took: Duration, ops: usize) -> f64 {
    took.as_secs_f64() * 1e9 / ops as f64
}

/// Milliseconds.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `greenthread bench`.
pub(crate) fn main(args: &BenchArgs) -> ExitCode {
    let size = match (args.quick, args.full, args.smoke) {
        (_, true, _) => Size::Full,
        (_, _, true) => Size::Smoke,
        _ => Size::Quick, // --quick, or no size given
    };
    // Timings without the demo's allocation counting (two atomics on shared
    // cache lines per allocation); W9 turns it on for its own window.
    greenthread_benches::alloc::set_counting(false);
    let progress = Progress {
        tty: std::io::stderr().is_terminal(),
    };
    progress.show("starting the runtimes");
    let rts = Runtimes::new();
    let rows = measure_all(size, &rts, &progress);
    drop(rts);
    progress.clear();
    let report = Report {
        size,
        cores: backend::workers(),
        date: table::utc_now(),
        commit: table::BUILT_FROM,
        rows,
    };
    if args.json {
        println!("{}", table::json(&report));
    } else {
        print!("{}", table::table(&report));
    }
    ExitCode::SUCCESS
}
