//! One measurement: `threads` Python-style threads doing one workload in one
//! mode, run in a process of its own (see `main.rs`) so that its peak RSS is
//! its own.
//!
//! Every thread first waits on an `Event` that main sets once all of them
//! have started, so they are all alive at once: the memory figures are the
//! cost of `threads` live threads, and the spawn time is spawning alone.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use greenthread::queue::Queue;
use greenthread::{checkpoint, sleep, Event, Lock, Mode, Runtime, Thread, TraceEvent};

use super::{ModeSpec, Workload};
use greenthread_benches::alloc;

/// How long the sleeping part of a workload sleeps, per sleep.
const SLEEP: Duration = Duration::from_millis(20);
/// Sleeps per thread in the `sleep` workload (the tutorial's `thread_test`
/// sleeps in a loop).
const SLEEPS: usize = 5;
/// Lock acquisitions per thread in the `lock` workload.
const LOCKS: usize = 5;
/// Steps of the CPU-bound countdown per thread in the `cpu` workload, each
/// with a `checkpoint()`; the `mixed` workload does a fifth of it.
const CPU_STEPS: u64 = 2_000;
/// Capacity of the shared queue in the `queue` and `mixed` workloads: small
/// enough that putters wait for getters.
const QUEUE_CAPACITY: usize = 1_000;

/// What a phase measured.
#[derive(Debug, Clone, Default)]
pub(crate) struct PhaseResult {
    /// Time to create and start every thread.
    pub(crate) spawn: Duration,
    /// Time from the first `start()` to the last `join()`.
    pub(crate) total: Duration,
    /// Live heap bytes just before the threads were created.
    pub(crate) heap_base: usize,
    /// Peak live heap bytes during the phase.
    pub(crate) heap_peak: usize,
    /// Resident set (bytes) just before the threads were created, if known.
    pub(crate) rss_base: Option<u64>,
    /// The process's peak resident set (bytes), if known.
    pub(crate) rss_peak: Option<u64>,
    /// Times a thread suspended at a switch point (trace hook `Suspend`).
    pub(crate) switches: u64,
    /// Times the GIL passed from one thread to another.
    pub(crate) gil_switches: u64,
}

/// Suspensions counted by the trace hook.
static SUSPENDS: AtomicU64 = AtomicU64::new(0);

/// Reads a `kB` field of `/proc/self/status` (Linux), in bytes.
pub(crate) fn proc_status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// What the threads share.
#[derive(Clone)]
struct Shared {
    /// Set by main once every thread has started.
    go: Event,
    lock: Lock,
    /// Guarded by `lock`: a plain load-then-store that only the lock makes
    /// correct.
    counter: Arc<AtomicU64>,
    queue: Queue<u64>,
    /// Sum of the items each thread got from `queue`.
    got: Arc<AtomicU64>,
    /// Threads whose body has ended.
    done: Arc<AtomicUsize>,
}

async fn countdown(mut n: u64) {
    while n > 0 {
        n = std::hint::black_box(n) - 1;
        checkpoint().await;
    }
}

async fn take_lock(s: &Shared, times: usize) {
    for _ in 0..times {
        let _guard = s.lock.lock().await;
        let v = s.counter.load(Ordering::Relaxed);
        s.counter.store(v + 1, Ordering::Relaxed);
    }
}

async fn pass_through_queue(s: &Shared, item: u64) {
    s.queue.put(item).await.expect("queue put");
    let got = s.queue.get().await.expect("queue get");
    s.got.fetch_add(got, Ordering::Relaxed);
}

/// One thread's body.
async fn body(workload: Workload, i: u64, s: Shared) {
    s.go.wait().await;
    match workload {
        Workload::Sleep => {
            for _ in 0..SLEEPS {
                sleep(SLEEP).await;
            }
        }
        Workload::Lock => take_lock(&s, LOCKS).await,
        Workload::Queue => pass_through_queue(&s, i).await,
        Workload::Cpu => countdown(CPU_STEPS).await,
        Workload::Mixed => {
            sleep(SLEEP).await;
            take_lock(&s, 1).await;
            pass_through_queue(&s, i).await;
            countdown(CPU_STEPS / 5).await;
        }
    }
    s.done.fetch_add(1, Ordering::Relaxed);
}

/// Prints a live counter on stderr every 100 ms while `running`, if stderr
/// is a terminal.
fn ticker(
    label: String,
    threads: usize,
    started: Arc<AtomicUsize>,
    done: Arc<AtomicUsize>,
    running: Arc<AtomicBool>,
) -> Option<std::thread::JoinHandle<()>> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    Some(std::thread::spawn(move || {
        let mut err = std::io::stderr();
        while running.load(Ordering::Relaxed) {
            let _ = write!(
                err,
                "\r\x1b[K  {label}: started {}/{threads}, finished {}",
                started.load(Ordering::Relaxed),
                done.load(Ordering::Relaxed)
            );
            let _ = err.flush();
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = write!(err, "\r\x1b[K");
        let _ = err.flush();
    }))
}

/// Prints the thread dump to stderr (`--dump`); returns how long taking
/// and printing it took.
fn print_dump(mode: ModeSpec, threads: usize, workload: Workload) -> Duration {
    let start = Instant::now();
    let dump = greenthread::debug::dump();
    let took = start.elapsed();
    let text = dump.to_string();
    let shown = start.elapsed();
    eprintln!(
        "--- thread dump of {} x {threads} ({workload}), mid-run: {} threads, \
         taken in {took:.1?}, rendered in {:.1?} ---\n{text}--- end of dump ---",
        mode.label(),
        dump.threads().len(),
        shown - took
    );
    start.elapsed()
}

/// Runs the phase in this process.
///
/// # Errors
///
/// A message if a thread could not be started (e.g. the OS refused another
/// thread) or the workload's result is wrong.
pub(crate) fn run(
    mode: ModeSpec,
    threads: usize,
    workload: Workload,
    workers: Option<usize>,
    dump: bool,
) -> Result<PhaseResult, String> {
    greenthread::settrace(Arc::new(|_: &Thread, ev: TraceEvent| {
        if ev == TraceEvent::Suspend {
            SUSPENDS.fetch_add(1, Ordering::Relaxed);
        }
    }));
    let mut builder = Runtime::builder()
        .mode(if mode.os {
            Mode::OsThreads
        } else {
            Mode::Green
        })
        .gil(mode.gil);
    if let Some(w) = workers {
        builder = builder.workers(w);
    }
    let rt = builder
        .build()
        .map_err(|e| format!("cannot build the runtime: {e}"))?;

    let started = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let running = Arc::new(AtomicBool::new(true));
    let tick = ticker(
        format!("{} x {threads} ({workload})", mode.label()),
        threads,
        started.clone(),
        done.clone(),
        running.clone(),
    );

    let outcome = rt.block_on({
        let (started, done) = (started.clone(), done.clone());
        async move {
            let shared = Shared {
                go: Event::new(),
                lock: Lock::new(),
                counter: Arc::new(AtomicU64::new(0)),
                queue: Queue::new(QUEUE_CAPACITY),
                got: Arc::new(AtomicU64::new(0)),
                done,
            };
            let mut r = PhaseResult {
                rss_base: proc_status_bytes("VmRSS:"),
                heap_base: alloc::live(),
                ..PhaseResult::default()
            };
            alloc::reset_peak();
            SUSPENDS.store(0, Ordering::Relaxed);
            let start = Instant::now();
            let mut all = Vec::with_capacity(threads);
            let mut failed = None;
            for i in 0..threads {
                let s = shared.clone();
                let t = Thread::new(move || body(workload, i as u64, s));
                if let Err(e) = t.start() {
                    failed = Some(format!("could not start thread {}: {e}", i + 1));
                    break;
                }
                all.push(t);
                started.fetch_add(1, Ordering::Relaxed);
            }
            r.spawn = start.elapsed();
            // `--dump`: every thread started, waiting for the go signal.
            let dump_took = dump.then(|| print_dump(mode, threads, workload));
            shared.go.set();
            for t in &all {
                t.join().await.map_err(|e| format!("join: {e}"))?;
            }
            r.total = start.elapsed() - dump_took.unwrap_or_default();
            r.heap_peak = alloc::peak();
            r.switches = SUSPENDS.load(Ordering::Relaxed);
            if let Some(msg) = failed {
                return Err(msg);
            }
            let n = threads as u64;
            let expect_lock = match workload {
                Workload::Lock => n * LOCKS as u64,
                Workload::Mixed => n,
                _ => 0,
            };
            let expect_queue = match workload {
                Workload::Queue | Workload::Mixed => n * n.saturating_sub(1) / 2,
                _ => 0,
            };
            let (lock_got, queue_got) = (
                shared.counter.load(Ordering::Relaxed),
                shared.got.load(Ordering::Relaxed),
            );
            if lock_got != expect_lock || queue_got != expect_queue {
                return Err(format!(
                    "wrong result: lock counter {lock_got} (expected {expect_lock}), \
                     queue sum {queue_got} (expected {expect_queue})"
                ));
            }
            Ok(r)
        }
    });
    running.store(false, Ordering::Relaxed);
    if let Some(t) = tick {
        let _ = t.join();
    }
    let mut r = outcome?;
    r.gil_switches = rt.gil_switches();
    r.rss_peak = proc_status_bytes("VmHWM:");
    Ok(r)
}

/// The first word of the line a child process prints with its result.
const RESULT_TAG: &str = "GT-PHASE";

impl PhaseResult {
    /// The line a child process prints for its parent.
    pub(crate) fn encode(&self) -> String {
        let opt = |v: Option<u64>| v.map_or_else(|| "-".to_string(), |v| v.to_string());
        format!(
            "{RESULT_TAG} spawn_ns={} total_ns={} heap_base={} heap_peak={} rss_base={} \
             rss_peak={} switches={} gil_switches={}",
            self.spawn.as_nanos(),
            self.total.as_nanos(),
            self.heap_base,
            self.heap_peak,
            opt(self.rss_base),
            opt(self.rss_peak),
            self.switches,
            self.gil_switches,
        )
    }

    /// Parses the line [`encode`](Self::encode) printed, among other output.
    pub(crate) fn decode(output: &str) -> Option<PhaseResult> {
        let line = output.lines().find_map(|l| l.strip_prefix(RESULT_TAG))?;
        let mut r = PhaseResult::default();
        for kv in line.split_whitespace() {
            let (k, v) = kv.split_once('=')?;
            let num = || v.parse::<u64>().ok();
            match k {
                "spawn_ns" => r.spawn = Duration::from_nanos(num()?),
                "total_ns" => r.total = Duration::from_nanos(num()?),
                "heap_base" => r.heap_base = num()? as usize,
                "heap_peak" => r.heap_peak = num()? as usize,
                "rss_base" => r.rss_base = num(),
                "rss_peak" => r.rss_peak = num(),
                "switches" => r.switches = num()?,
                "gil_switches" => r.gil_switches = num()?,
                _ => {}
            }
        }
        Some(r)
    }

    /// Live heap bytes the phase added at its peak, per thread.
    pub(crate) fn heap_per_thread(&self, threads: usize) -> f64 {
        self.heap_peak.saturating_sub(self.heap_base) as f64 / threads.max(1) as f64
    }

    /// Resident bytes the phase added at its peak, per thread, if known.
    pub(crate) fn rss_per_thread(&self, threads: usize) -> Option<f64> {
        let (base, peak) = (self.rss_base?, self.rss_peak?);
        Some(peak.saturating_sub(base) as f64 / threads.max(1) as f64)
    }
}
