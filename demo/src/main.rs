//! The greenthread demo: thousands of Python-style threads doing the
//! tutorial's kinds of work, run in Green mode, OS-thread mode, and each
//! with the GIL, compared in one table.
//!
//! `cargo run --release` runs 10,000 threads of the `mixed` workload (each
//! sleeps, takes a Lock, passes an item through a Queue and runs a CPU-bound
//! countdown with `checkpoint()`) under green, os, green+gil and os+gil,
//! and prints spawn time, total time, memory per thread, peak RSS, switches,
//! GIL hand-offs and the speed-up of green threads over OS threads.
//! `--help` lists the options (`--threads`, `--workload`, `--modes`,
//! `--workers`, `--json`, `--plot FILE.svg`).
//!
//! `cargo run --release -- bench` instead compares greenthread with tokio,
//! smol and std threads on a representative set of the benchmark workloads,
//! in this one process, and prints one table of medians and ratios
//! (`--full` for the standard sizes, `--json` for JSON): see [`demo::bench`].
//!
//! Each configuration runs in a child process of its own (this binary,
//! re-run with a hidden `--child` option), so each one's peak RSS and heap
//! are its own and no run inherits another's memory.

mod demo;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};

use clap::Parser;

use demo::phase::{self, PhaseResult};
use demo::report::{self, Row, Summary};
use demo::{ModeSpec, Workload};

#[global_allocator]
static ALLOC: greenthread_benches::alloc::Counting = greenthread_benches::alloc::Counting;

/// The most threads one run takes (green mode).
const MAX_THREADS: usize = 1_000_000;

/// The most threads an OS-mode run takes: one OS thread each, with its own
/// stack and kernel task, so a larger count is clamped rather than
/// exhausting the machine.
const OS_MAX_THREADS: usize = 20_000;

/// Memory mappings one OS thread costs: its stack and guard page, and the
/// signal stack and guard page Rust's runtime gives it; one more for slack.
/// Past `vm.max_map_count / 4` threads, thread start-up aborts the process.
const MAPS_PER_OS_THREAD: usize = 5;

/// [`OS_MAX_THREADS`], lowered to what `vm.max_map_count` allows (Linux).
fn os_max_threads() -> usize {
    std::fs::read_to_string("/proc/sys/vm/max_map_count")
        .ok()
        .and_then(|s| s.trim().parse::<usize>().ok())
        .map_or(OS_MAX_THREADS, |maps| {
            OS_MAX_THREADS.min(maps / MAPS_PER_OS_THREAD)
        })
}

/// Run thousands of Python-style threads in green and OS-thread mode, with
/// and without the GIL, and compare them.
#[derive(Debug, Parser)]
#[command(
    name = "greenthread",
    version,
    about,
    long_about = None,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    /// Something other than the demo.
    #[command(subcommand)]
    action: Option<Action>,

    /// Threads per run, 1 to 1,000,000 (a `k`/`m` suffix is allowed); a
    /// comma-separated list runs each count. OS modes clamp to 20,000 (less
    /// if vm.max_map_count is low).
    #[arg(
        long,
        short = 't',
        value_name = "N[,N...]",
        value_delimiter = ',',
        default_value = "10000",
        value_parser = parse_threads
    )]
    threads: Vec<usize>,

    /// What each thread does.
    #[arg(long, short = 'w', value_enum, default_value_t = Workload::Mixed)]
    workload: Workload,

    /// Configurations to run, comma-separated: green, os, gil (green with the
    /// GIL), os+gil.
    #[arg(
        long,
        short = 'm',
        value_name = "MODE[,MODE...]",
        value_delimiter = ',',
        default_value = "green,os,gil,os+gil",
        value_parser = ModeSpec::parse
    )]
    modes: Vec<ModeSpec>,

    /// Worker OS threads of the green pool [default: the number of cores].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=1024))]
    workers: Option<u16>,

    /// Print the results as one JSON object instead of the table.
    #[arg(long)]
    json: bool,

    /// Also draw time and memory per thread against the thread count, per
    /// mode, into this SVG file. With a single --threads N, runs a sweep of
    /// counts from N/100 up to N for the picture.
    #[arg(long, value_name = "FILE.svg")]
    plot: Option<PathBuf>,

    /// Print greenthread's thread dump (`greenthread::debug::dump()`) once
    /// per run, mid-run: when every thread has started and waits for the
    /// go signal, to stderr, with the time the dump took (not counted in the
    /// run's times). Above 1000 threads it groups identical states.
    #[arg(long)]
    dump: bool,

    /// Internal: run one configuration in this process and print its
    /// result line.
    #[arg(long, hide = true, value_parser = ModeSpec::parse)]
    child: Option<ModeSpec>,
}

/// What else the binary does.
#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Compare greenthread with tokio, smol and std threads (one table).
    ///
    /// Runs skynet, spawn-many, yield-many, ping-pong, a contended Lock,
    /// queue throughput, timers and idle memory on every back-end that
    /// applies, in this one process, and prints each one's median and
    /// green's ratio to tokio and to the best peer.
    Bench(demo::bench::BenchArgs),
}

/// Parses a thread count: digits with optional `_`, and an optional `k`
/// (thousand) or `m` (million) suffix.
fn parse_threads(s: &str) -> Result<usize, String> {
    let t = s.trim().replace('_', "").to_ascii_lowercase();
    let (digits, scale) = match t.strip_suffix('k') {
        Some(d) => (d, 1_000),
        None => match t.strip_suffix('m') {
            Some(d) => (d, 1_000_000),
            None => (t.as_str(), 1),
        },
    };
    let n: usize = digits
        .parse()
        .map_err(|_| format!("'{s}' is not a thread count (try 10000, 50k or 1m)"))?;
    let n = n
        .checked_mul(scale)
        .ok_or_else(|| format!("'{s}' is too many threads"))?;
    if !(1..=MAX_THREADS).contains(&n) {
        return Err(format!(
            "{n} threads: the count must be between 1 and 1,000,000"
        ));
    }
    Ok(n)
}

/// The counts of a `--plot` sweep ending at `n`: 1-2-5 steps from `n / 100`.
fn sweep(n: usize) -> Vec<usize> {
    let mut counts = Vec::new();
    let low = (n / 100).max(1);
    let mut decade = 1;
    while decade <= n {
        for step in [1, 2, 5] {
            let c = decade * step;
            if c >= low && c < n {
                counts.push(c);
            }
        }
        decade *= 10;
    }
    counts.push(n);
    counts
}

/// Runs one configuration in a child process.
fn run_child(
    mode: ModeSpec,
    threads: usize,
    workload: Workload,
    workers: usize,
    dump: bool,
) -> Result<PhaseResult, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this program: {e}"))?;
    let out = Command::new(exe)
        .args(["--child", mode.label(), "--threads"])
        .arg(threads.to_string())
        .args(["--workload", &workload.to_string(), "--workers"])
        .arg(workers.to_string())
        .args(dump.then_some("--dump"))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot start a child process: {e}"))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if let Some(r) = PhaseResult::decode(&stdout) {
        return Ok(r);
    }
    match stdout.lines().find_map(|l| l.strip_prefix("GT-ERROR ")) {
        Some(msg) => Err(msg.to_string()),
        None => Err(format!(
            "the child process ended without a result ({})",
            out.status
        )),
    }
}

fn child_main(cli: &Cli, mode: ModeSpec) -> ExitCode {
    let threads = cli.threads.first().copied().unwrap_or(1);
    let workers = cli.workers.map(usize::from);
    match phase::run(mode, threads, cli.workload, workers, cli.dump) {
        Ok(r) => {
            println!("{}", r.encode());
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("GT-ERROR {}", e.replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Action::Bench(args)) = &cli.action {
        return demo::bench::main(args);
    }
    if let Some(mode) = cli.child {
        return child_main(&cli, mode);
    }
    if let Some(path) = &cli.plot {
        if path.extension().and_then(|e| e.to_str()) != Some("svg") {
            eprintln!(
                "error: --plot writes SVG: give a file name ending in .svg (got '{}')",
                path.display()
            );
            return ExitCode::from(2);
        }
    }

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers = cli.workers.map_or(cores, usize::from);
    let mut modes: Vec<ModeSpec> = Vec::new();
    for m in &cli.modes {
        if !modes.contains(m) {
            modes.push(*m);
        }
    }
    let mut counts = cli.threads.clone();
    counts.sort_unstable();
    counts.dedup();
    if cli.plot.is_some() && counts.len() == 1 {
        counts = sweep(counts[0]);
    }

    // Every (mode, threads) to run, OS modes clamped.
    let os_max = os_max_threads();
    let mut plan: Vec<(ModeSpec, usize, Option<usize>)> = Vec::new();
    for &n in &counts {
        for &m in &modes {
            let (threads, asked) = if m.os && n > os_max {
                (os_max, Some(n))
            } else {
                (n, None)
            };
            if !plan.iter().any(|&(pm, pt, _)| pm == m && pt == threads) {
                plan.push((m, threads, asked));
            }
        }
    }

    let tty = std::io::stderr().is_terminal();
    if !cli.json {
        println!(
            "greenthread demo: {} Python-style threads, {} workload, modes {}",
            counts
                .iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("/"),
            cli.workload,
            modes
                .iter()
                .map(|m| m.label())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let mut rows = Vec::new();
    for (i, &(mode, threads, asked)) in plan.iter().enumerate() {
        if tty {
            let mut err = std::io::stderr();
            let _ = write!(
                err,
                "\r\x1b[K[{}/{}] {} with {threads} threads...",
                i + 1,
                plan.len(),
                mode.label()
            );
            let _ = err.flush();
        }
        let result = run_child(mode, threads, cli.workload, workers, cli.dump);
        rows.push(Row {
            mode,
            threads,
            asked,
            result,
        });
    }
    if tty {
        eprint!("\r\x1b[K");
    }

    let summary = Summary {
        workload: cli.workload,
        workers,
        cores,
        rows,
    };
    if cli.json {
        println!("{}", report::json(&summary));
    } else {
        println!();
        print!("{}", report::table(&summary));
    }
    let mut code = ExitCode::SUCCESS;
    if let Some(path) = &cli.plot {
        let subtitle = format!(
            "greenthread demo: {} workload, {workers} worker(s), {cores} core(s)",
            cli.workload
        );
        match demo::plot::write(path, &summary, &subtitle) {
            Ok(()) if !cli.json => println!("plot written to {}", path.display()),
            Ok(()) => {}
            Err(e) => {
                eprintln!("error: cannot write the plot {}: {e}", path.display());
                code = ExitCode::FAILURE;
            }
        }
    }
    if summary.rows.iter().any(|r| r.result.is_err()) {
        code = ExitCode::FAILURE;
    }
    code
}
