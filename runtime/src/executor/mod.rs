//! The M:N executor of Green mode.
//!
//! # Design notes
//!
//! **Queues.** Each worker owns a bounded local run queue
//! ([`LOCAL_QUEUE_CAPACITY`]; a single-producer ring that other workers
//! steal from, `queue.rs`) and a LIFO "run next" slot; one unbounded
//! global injector takes tasks woken from outside the workers (the driver
//! thread, the main thread, OS threads, other runtimes) and the overflow of
//! full local queues.
//!
//! **Life of a task.** A green thread is an `async-task` task whose future is
//! the thread's wrapper (`thread::task`). Its schedule function runs whenever
//! it is woken (or spawned):
//! - on one of this executor's workers, a task that was *not* woken by itself
//!   while running goes to the LIFO slot — it runs next, on a warm cache —
//!   and the task it displaces goes to the back of the local queue;
//! - a task that woke itself while running (`yield_now`, an exhausted
//!   cooperative budget) goes to the back of the local queue — or of the
//!   injector if tasks wait there — never the LIFO slot, so yielding really
//!   lets the others run;
//! - anywhere else it goes to the injector.
//!
//! The LIFO slot may be used [`MAX_LIFO_POLLS`] times in a row; then its task
//! goes to the back of the local queue, so two tasks waking each other cannot
//! monopolize a worker.
//!
//! **Finding work.** A worker takes the LIFO slot, else its local queue, else
//! a batch from the injector, else steals half of another worker's local
//! queue. Every [`GLOBAL_POLL_INTERVAL`] tasks it looks at the injector first,
//! so tasks woken from outside never starve behind a busy local queue.
//!
//! **I/O and timers.** A running worker turns the process-wide driver
//! itself, without waiting, every [`GLOBAL_POLL_INTERVAL`] tasks and
//! whenever it runs out of tasks, before parking; the tasks that I/O events
//! and expired timers wake then land in its own queues (`time::driver`,
//! design note 6).
//!
//! **Parking** (`idle.rs`): a worker with nothing to do registers as
//! sleeping, checks every queue once more, and parks. Pushing work wakes one
//! sleeper only if no worker is already searching; a searcher that finds work
//! wakes the next one if it was the last searcher, so wakeups spread without
//! thundering herds and without losing work.
//!
//! **Shutdown.** The runtime sets the shutdown flag and unparks every
//! worker; each drops its LIFO task and exits. Dropping the executor joins
//! the workers, then drops whatever runnables remain in the queues, which
//! drops their futures (their destructors run), repeating until no drop
//! schedules anything else.

mod idle;
mod monitor;
mod queue;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use async_task::{Runnable, ScheduleInfo, Task, WithInfo};
use concurrent_queue::ConcurrentQueue;

use idle::Idle;
use monitor::{Monitor, RunCounter};
use queue::{steal_half, LocalQueue};

use crate::time::driver;

/// Capacity of each worker's local run queue. 256 (tokio's figure) holds a
/// burst of wakeups without spilling to the shared injector, and keeps a
/// steal of half the queue cheap.
#[cfg(not(loom))]
pub(crate) const LOCAL_QUEUE_CAPACITY: usize = 256;
/// Under loom the queue is shrunk so the model can also reach "full".
#[cfg(loom)]
pub(crate) const LOCAL_QUEUE_CAPACITY: usize = 4;

/// Consecutive runs from the LIFO slot before its task must queue like the
/// others (tokio uses 3): enough for request/response pairs to stay hot,
/// too few for two ping-ponging tasks to starve the rest.
pub(crate) const MAX_LIFO_POLLS: u32 = 3;

/// A worker checks the injector first every this many tasks (tokio and Go
/// use 61: a prime, so it does not resonate with periodic workloads).
pub(crate) const GLOBAL_POLL_INTERVAL: u32 = 61;

/// What the workers share.
pub(crate) struct Shared {
    /// Tasks woken from outside the workers, and local-queue overflow.
    injector: ConcurrentQueue<Runnable>,
    /// One local run queue per worker: the core workers first, then the
    /// spares of the stall hand-off (if on).
    locals: Box<[LocalQueue<Runnable>]>,
    /// The number of core workers (`workers(n)`).
    core: usize,
    /// Each worker's run counter (odd while running a task).
    runs: Box<[RunCounter]>,
    /// The stall monitor's state, when stall hand-off is on.
    monitor: Option<Monitor>,
    /// Sleeping and searching workers.
    idle: Idle,
    /// Set once at shutdown.
    shutdown: AtomicBool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("injector", &self.injector.len())
            .field("workers", &self.locals.len())
            .finish_non_exhaustive()
    }
}

/// The executor: shared state plus the worker threads.
#[derive(Debug)]
pub(crate) struct Executor {
    shared: Arc<Shared>,
    threads: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

/// The worker context of the OS thread running it.
struct WorkerCx {
    /// The executor this worker belongs to.
    shared: *const Shared,
    /// Its index in `locals`.
    index: usize,
    /// The run-next slot.
    lifo: RefCell<Option<Runnable>>,
}

thread_local! {
    static WORKER: Cell<*const WorkerCx> = const { Cell::new(std::ptr::null()) };
}

impl Executor {
    /// Starts `workers` worker threads (at least one, at most
    /// [`MAX_WORKERS`](crate::runtime::MAX_WORKERS), else `InvalidInput`
    /// before anything is allocated); with `stall_handoff`, also as many
    /// parked spare workers and the monitor (`monitor.rs`).
    pub(crate) fn new(
        workers: usize,
        name: &str,
        stall_handoff: bool,
    ) -> std::io::Result<Executor> {
        let max = crate::runtime::MAX_WORKERS;
        if workers > max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{workers} workers is above the maximum, MAX_WORKERS = {max}"),
            ));
        }
        let core = workers.max(1);
        // Cannot overflow: `core <= MAX_WORKERS`.
        let total = if stall_handoff { core * 2 } else { core };
        let shared = Arc::new(Shared {
            injector: ConcurrentQueue::unbounded(),
            locals: (0..total).map(|_| LocalQueue::new()).collect(),
            core,
            runs: (0..total).map(|_| RunCounter::default()).collect(),
            monitor: stall_handoff.then(Monitor::default),
            idle: Idle::new(total),
            shutdown: AtomicBool::new(false),
        });
        let exec = Executor {
            shared,
            threads: Mutex::new(Vec::with_capacity(total + 1)),
        };
        for index in 0..total {
            let shared = exec.shared.clone();
            let role = if index < core { "worker" } else { "spare" };
            let handle = std::thread::Builder::new()
                .name(format!("{name}-{role}-{index}"))
                .spawn(move || run_worker(&shared, index))?;
            exec.shared.idle.set_thread(index, handle.thread().clone());
            exec.threads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(handle);
        }
        if stall_handoff {
            let shared = exec.shared.clone();
            let handle = std::thread::Builder::new()
                .name(format!("{name}-monitor"))
                .spawn(move || monitor::run(&shared))?;
            exec.threads
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(handle);
        }
        Ok(exec)
    }

    /// Spawns `future` as a task.
    pub(crate) fn spawn<F>(&self, future: F) -> Task<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let shared = self.shared.clone();
        let schedule =
            move |r: Runnable, info: ScheduleInfo| shared.schedule(r, info.woken_while_running);
        let (runnable, task) =
            async_task::Builder::new().spawn(move |()| future, WithInfo(schedule));
        runnable.schedule();
        task
    }

    /// Stops the workers, waiting up to `grace` for each to exit (one stuck
    /// in a target that never yields is abandoned), and drops every queued
    /// task.
    pub(crate) fn shutdown_with_grace(&self, grace: std::time::Duration) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.idle.unpark_all();
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        let me = std::thread::current().id();
        let deadline = std::time::Instant::now() + grace;
        for t in threads {
            if t.thread().id() == me {
                continue;
            }
            while !t.is_finished() && std::time::Instant::now() < deadline {
                std::thread::sleep(std::time::Duration::from_micros(200));
            }
            if t.is_finished() {
                let _ = t.join();
            }
        }
        // Dropping a runnable drops its future, whose destructor may wake
        // (schedule) other tasks: drain until nothing is left.
        loop {
            let mut any = false;
            while let Ok(r) = self.shared.injector.pop() {
                drop(r);
                any = true;
            }
            for q in self.shared.locals.iter() {
                // Not the owner: a worker abandoned in a stuck task may
                // still push.
                while let Some(r) = q.steal_one() {
                    drop(r);
                    any = true;
                }
            }
            if !any {
                break;
            }
        }
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.shutdown_with_grace(std::time::Duration::from_secs(2));
    }
}

impl Shared {
    /// The schedule function of every task.
    fn schedule(self: &Arc<Self>, runnable: Runnable, yielded: bool) {
        if self.shutdown.load(Ordering::Relaxed) {
            // Queued for the final drain (or dropped now if that has passed).
            let _ = self.injector.push(runnable);
            return;
        }
        let ptr = WORKER.with(|w| w.get());
        // SAFETY: a non-null `WORKER` points to the `WorkerCx` on the stack
        // of `run_worker`, which runs on this very OS thread for as long as
        // the pointer is set (it is reset before `run_worker` returns).
        let cx = unsafe { ptr.as_ref() };
        match cx {
            Some(cx) if std::ptr::eq(cx.shared, Arc::as_ptr(self)) => {
                if yielded && !self.injector.is_empty() {
                    // Threads woken from outside wait in the injector, which
                    // the worker checks only every `GLOBAL_POLL_INTERVAL`
                    // tasks: queue behind them, or a yield loop would run up
                    // to 61 times before they do.
                    let _ = self.injector.push(runnable);
                    self.idle.notify_one();
                } else if yielded {
                    // SAFETY: `cx` is this thread's worker context: we are
                    // worker `cx.index`.
                    unsafe { self.push_local(cx.index, runnable) };
                } else {
                    let prev = cx.lifo.borrow_mut().replace(runnable);
                    if let Some(prev) = prev {
                        // SAFETY: as above.
                        unsafe { self.push_local(cx.index, prev) };
                    }
                }
            }
            _ => {
                let _ = self.injector.push(runnable);
                self.idle.notify_one();
            }
        }
    }

    /// Pushes to worker `index`'s local queue (overflowing to the injector)
    /// and lets an idle worker come and steal.
    ///
    /// # Safety
    ///
    /// Only worker `index` may call it, from its own thread: it is that
    /// queue's owner (`queue.rs`).
    unsafe fn push_local(&self, index: usize, runnable: Runnable) {
        // SAFETY: we are worker `index` (our caller's contract).
        if let Err(r) = unsafe { self.locals[index].push(runnable) } {
            // Full: move half of it to the injector along with `r`.
            // SAFETY: as above.
            unsafe { self.locals[index].spill_half(&self.injector) };
            let _ = self.injector.push(r);
        }
        self.idle.notify_one();
    }

    /// Whether any queue holds a task.
    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.locals.iter().any(|q| !q.is_empty())
    }

    /// The next task for worker `index` from the queues (not the LIFO slot).
    ///
    /// # Safety
    ///
    /// Only worker `index` may call it, from its own thread (it pops from,
    /// and steals into, that worker's queue).
    unsafe fn find_task(&self, index: usize, tick: u32) -> Option<Runnable> {
        if tick % GLOBAL_POLL_INTERVAL == 0 {
            if let Ok(r) = self.injector.pop() {
                return Some(r);
            }
        }
        let local = &self.locals[index];
        // SAFETY: we own `local` (our caller's contract).
        if let Some(r) = unsafe { local.pop() } {
            return Some(r);
        }
        // SAFETY: as above.
        if let Some(r) = unsafe { local.take_batch(&self.injector, self.locals.len()) } {
            return Some(r);
        }
        let n = self.locals.len();
        let start = fastrand_index(n);
        for i in 0..n {
            let victim = (start + i) % n;
            if victim != index {
                // SAFETY: as above: `local` is ours.
                if let Some(r) = unsafe { steal_half(&self.locals[victim], local) } {
                    return Some(r);
                }
            }
        }
        None
    }
}

/// A cheap per-thread pseudo-random index in `0..n` (victim selection).
fn fastrand_index(n: usize) -> usize {
    thread_local! {
        static SEED: Cell<u64> = Cell::new(0x9E37_79B9_7F4A_7C15 ^ (crate::native_id() << 17));
    }
    SEED.with(|s| {
        // xorshift64*
        let mut x = s.get();
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        s.set(x);
        (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    })
}

/// A worker thread's loop (core or spare).
fn run_worker(shared: &Arc<Shared>, index: usize) {
    let cx = WorkerCx {
        shared: Arc::as_ptr(shared),
        index,
        lifo: RefCell::new(None),
    };
    WORKER.with(|w| w.set(&cx));
    // A spare's rank among the spares; `None` for a core worker.
    let spare_rank = index.checked_sub(shared.core);
    let mut runs: u64 = 0;
    let mut tick: u32 = 0;
    let mut lifo_streak: u32 = 0;
    let mut searching = false;
    driver::worker_busy();
    if spare_rank.is_some() {
        park_spare(shared, index);
    }
    loop {
        if shared.shutdown.load(Ordering::Acquire) {
            break;
        }
        if let (Some(rank), Some(monitor)) = (spare_rank, &shared.monitor) {
            if !monitor.spare_wanted(rank) {
                retire_spare(shared, &cx);
                park_spare(shared, index);
                continue;
            }
        }
        let lifo = cx.lifo.borrow_mut().take();
        let next = match lifo {
            Some(r) if lifo_streak < MAX_LIFO_POLLS => {
                lifo_streak += 1;
                Some(r)
            }
            // The cap exists to be fair to queued tasks: with none queued,
            // run the LIFO task at once (no push, no wake of an idle worker
            // that would find nothing to steal but this pair).
            Some(r) if shared.locals[index].is_empty() && shared.injector.is_empty() => {
                lifo_streak = 1;
                Some(r)
            }
            Some(r) => {
                lifo_streak = 0;
                // SAFETY: this is worker `index`'s own thread.
                unsafe { shared.push_local(index, r) };
                // SAFETY: as above.
                unsafe { shared.find_task(index, tick) }
            }
            None => {
                lifo_streak = 0;
                // SAFETY: as above.
                unsafe { shared.find_task(index, tick) }
            }
        };
        match next {
            Some(r) => {
                if searching {
                    searching = false;
                    shared.idle.stop_searching();
                }
                tick = tick.wrapping_add(1);
                if tick % GLOBAL_POLL_INTERVAL == 0 {
                    // Pick up I/O and timers (`time::driver`, design note 6).
                    driver::poll_now();
                }
                shared.runs[index].set(runs, true);
                // The wrapper catches the target's panics; this guards the
                // worker against a panicking waker or destructor.
                let _ = catch_unwind(AssertUnwindSafe(|| r.run()));
                runs += 1;
                shared.runs[index].set(runs, false);
            }
            None if spare_rank.is_some() => {
                retire_spare(shared, &cx);
                park_spare(shared, index);
            }
            None => {
                // Out of tasks: ready I/O or timers may wake some, into this
                // worker's own queues. Park only if none.
                if driver::poll_now() {
                    continue;
                }
                if searching {
                    shared.idle.stop_searching_idle();
                }
                driver::worker_idle();
                searching = shared.idle.park(shared, index);
                driver::worker_busy();
            }
        }
    }
    driver::worker_idle();
    let leftover = cx.lifo.borrow_mut().take();
    drop(leftover);
    WORKER.with(|w| w.set(std::ptr::null()));
}

/// Parks spare `index` until it is wanted, as not running for the driver.
fn park_spare(shared: &Shared, index: usize) {
    driver::worker_idle();
    shared.idle.park_spare(shared, index);
    driver::worker_busy();
}

/// A spare going back to sleep leaves no task behind: its LIFO slot and
/// local queue move to the injector, and a core worker is told.
fn retire_spare(shared: &Shared, cx: &WorkerCx) {
    let mut moved = false;
    if let Some(r) = cx.lifo.borrow_mut().take() {
        let _ = shared.injector.push(r);
        moved = true;
    }
    // SAFETY: `cx` is the calling worker's own context: it owns the queue.
    while let Some(r) = unsafe { shared.locals[cx.index].pop() } {
        let _ = shared.injector.push(r);
        moved = true;
    }
    if moved {
        shared.idle.notify_one();
    }
}
