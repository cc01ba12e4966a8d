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
//! and expired timers wake then land in its own queues (`driver`,
//! design note 6).
//!
//! **Parking** (`idle.rs`): a worker with nothing to do looks at the queues
//! a few more times, a spin pause apart ([`IDLE_SPINS`]), then registers as
//! sleeping, checks every queue once more, and parks. Pushing work wakes one
//! sleeper only if no worker is already searching; a searcher that finds work
//! wakes the next one if it was the last searcher, so wakeups spread without
//! thundering herds and without losing work.
//!
//! **Blocking inside a green thread** ([`block_in_place`], called by
//! `block_on` and `Runtime::block_on`; tokio's `block_in_place` idea). A
//! green thread that blocks its worker's OS thread (a nested `block_on`)
//! must not strand the work queued behind it, nor leave the pool a worker
//! short. So the worker first stops being one: it clears its `WORKER`
//! context (tasks woken or spawned while it blocks go to the injector),
//! moves its LIFO slot and local queue to the injector, counts itself as
//! blocked, and wakes a spare worker (below) to stand in for it. When the
//! blocking call returns, it takes its context back and goes on; a spare
//! no longer wanted retires. The worker stays the sole owner of its local
//! queue throughout (it only stops pushing to it), so no ownership changes
//! hands; unwinding out of the blocking call undoes the same steps (a drop
//! guard). Pitfalls tokio's version taught: the LIFO slot is not stealable
//! (hence the move); a blocked worker must not count as stalled (its run
//! counter is paused) nor as running for the driver (it counts as idle, so
//! the driver thread takes over timers and I/O if no one else runs).
//!
//! **Spares.** `Shared::locals` has [`MAX_SPARES`] extra slots beyond the
//! core workers. A spare's OS thread starts the first time it is wanted
//! and then runs the ordinary worker loop while its rank is below the
//! number of blocked workers plus the stall monitor's count of stalled
//! ones (`monitor.rs`); then it retires (its queues go to the injector)
//! and parks. While some worker is blocked, a spare out of tasks parks as
//! a core worker does, so ordinary wake-ups reach it; when the last
//! blocked worker returns, sleeping spares are woken to retire. With more
//! than [`MAX_SPARES`] green threads blocked at once, the next one blocks
//! its worker with no stand-in (its queued work still moves to the
//! injector for the others).
//!
//! **Faults.** User code reached from a worker — a task's poll, a waker, a
//! destructor — runs under `catch_unwind` (wakers run by the driver are
//! caught one by one in `driver`), and the `WORKER` context is reset
//! by a drop guard, so a panic there never kills a worker or leaves a
//! dangling context.
//!
//! **Shutdown.** The runtime sets the shutdown flag and unparks every
//! worker; each drops its LIFO task and exits. Dropping the executor joins
//! the workers, then drops whatever runnables remain in the queues, which
//! drops their futures (their destructors run), repeating until no drop
//! schedules anything else. A task scheduled after that final drain (a
//! stuck worker's poll returning at last, a waker kept past the runtime)
//! is dropped by a reaper thread, each drop caught (`Shared::reap`).

mod idle;
mod injector;
mod job;
mod monitor;
mod queue;

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_task::{Runnable, ScheduleInfo, Task, WithInfo};
use idle::Idle;
use injector::Injector;
pub(crate) use job::Job;
use monitor::{Monitor, RunCounter};
use queue::{steal_half, LocalQueue};

// Drops a runnable (its future's destructors run), swallowing a panic of
// theirs, which nobody could receive, and one of that panic's payload.
use crate::catch::drop_caught;
use crate::driver;

/// The most worker threads a Green pool may have: `workers(n)` or
/// `GREENTHREAD_WORKERS` above it make `Builder::build` fail with
/// `InvalidInput` at once, before anything is allocated per worker.
///
/// Workers are OS threads meant to match the CPUs (the default is the
/// available parallelism, capped at this value): each green thread runs on
/// one of them and an idle worker looks for work at every other, so a pool
/// far larger than the machine adds only overhead. 1024 is above the CPU
/// count of common machines, while a pool with stall
/// hand-off (`Builder::stall_handoff`) — at most 2 × 1024 worker OS threads,
/// each reserving its stack and a few memory mappings — stays far from the
/// OS's limits (`vm.max_map_count`, `threads-max`) and leaves room for the
/// program's own threads. Use OS-thread mode, or more green threads, not
/// more workers, for more concurrency.
pub const MAX_WORKERS: usize = 1024;

/// The default size of a Green pool: the available parallelism, at most
/// [`MAX_WORKERS`].
pub(crate) fn default_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_WORKERS))
}

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

/// Looks a worker out of tasks takes at the queues, a pause apart
/// ([`IDLE_SPIN_HINTS`]), before it parks (Go's idle Ms spin similarly).
/// A thread that spawns one small thread at a time keeps a second worker
/// waking and parking, a futex call each way per few tasks (W2: nearly one
/// per thread); one that looks a little longer finds the next task. No
/// spinning under loom, whose models must stay small.
#[cfg(not(loom))]
const IDLE_SPINS: u32 = 4;
#[cfg(loom)]
const IDLE_SPINS: u32 = 0;

/// Whether a worker that has looked `looks` times since its last task
/// looks again before it parks ([`IDLE_SPINS`]). Never under loom, where
/// `IDLE_SPINS` is 0 and the comparison always false.
#[inline]
#[allow(clippy::absurd_extreme_comparisons)]
const fn looks_again(looks: u32) -> bool {
    looks < IDLE_SPINS
}

/// Spin hints between two of those looks (a few microseconds in all).
const IDLE_SPIN_HINTS: u32 = 64;

/// Spare worker slots beyond the core workers (design notes, "Spares"):
/// how many green threads may be blocked in `block_on` at once, plus the
/// stall monitor's stand-ins, before a blocking one gets no stand-in. A
/// slot costs its local queue (2 KiB) until its OS thread first starts.
#[cfg(not(loom))]
pub(crate) const MAX_SPARES: usize = 64;
/// Under loom, a couple.
#[cfg(loom)]
pub(crate) const MAX_SPARES: usize = 2;

/// What the workers share.
pub(crate) struct Shared {
    /// Tasks woken from outside the workers, and local-queue overflow.
    injector: Injector<Job>,
    /// One local run queue per worker: the core workers first, then the
    /// spares.
    locals: Box<[LocalQueue<Job>]>,
    /// The number of core workers (`workers(n)`).
    core: usize,
    /// Spare OS threads started so far (ranks `0..spares_started` run or
    /// park); only grows.
    spares_started: AtomicUsize,
    /// The spares' threads, for the shutdown join.
    spares: Mutex<Spares>,
    /// Workers (core or spare) blocked in [`block_in_place`] now.
    blocked: AtomicUsize,
    /// Prefix of the worker threads' names.
    name: String,
    /// Each worker's run counter (odd while running a task).
    runs: Box<[RunCounter]>,
    /// The stall monitor's state, when stall hand-off is on.
    monitor: Option<Monitor>,
    /// Sleeping and searching workers.
    idle: Idle,
    /// Set once at shutdown.
    shutdown: AtomicBool,
    /// Set once the final drain of shutdown is done: a task scheduled later
    /// is dropped by a reaper thread ([`Shared::reap`]).
    drained: AtomicBool,
    /// A reaper thread is running.
    reaping: AtomicBool,
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("injector", &self.injector.len())
            .field("workers", &self.locals.len())
            .finish_non_exhaustive()
    }
}

/// The spare workers' OS threads.
#[derive(Debug, Default)]
struct Spares {
    handles: Vec<std::thread::JoinHandle<()>>,
    /// Set at shutdown: no spare starts after it.
    closed: bool,
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
    shared: Arc<Shared>,
    /// Its index in `locals`.
    index: usize,
    /// The run-next slot.
    lifo: RefCell<Option<Job>>,
    /// Tasks run so far (the run counter's count; bumped by
    /// [`block_in_place`] too, so the monitor sees a new value).
    runs: Cell<u64>,
}

thread_local! {
    /// The worker context of this OS thread while it acts as a worker
    /// (null: none, or blocked in [`block_in_place`]).
    static WORKER: Cell<*const WorkerCx> = const { Cell::new(std::ptr::null()) };
}

/// Whether the calling OS thread is a green worker now (not one blocked in
/// [`block_in_place`]): what it batches is then flushed by
/// [`set_before_idle`]'s function before it parks, blocks or exits.
pub(crate) fn on_worker() -> bool {
    WORKER.try_with(|w| !w.get().is_null()).unwrap_or(false)
}

/// What a worker runs before it parks, blocks in [`block_in_place`] or
/// exits, on its own OS thread: the layer above flushes what it batches per
/// worker there (the registry's ended threads). Set once, by the first
/// runtime built.
static BEFORE_IDLE: std::sync::OnceLock<fn()> = std::sync::OnceLock::new();

/// Sets the function every worker runs before it goes idle (see
/// [`BEFORE_IDLE`]); later calls change nothing.
pub(crate) fn set_before_idle(f: fn()) {
    let _ = BEFORE_IDLE.set(f);
}

/// Runs [`BEFORE_IDLE`]'s function; a panic in it (a destructor it runs) is
/// caught, so it never takes the worker down.
fn before_idle() {
    if let Some(f) = BEFORE_IDLE.get() {
        if let Err(payload) = catch_unwind(AssertUnwindSafe(f)) {
            drop_caught(payload);
        }
    }
}

/// Sets `WORKER` for as long as it lives, and restores the previous value
/// when dropped — on unwinding too, so the pointer never outlives the
/// context it points to.
struct SetWorker(*const WorkerCx);

impl SetWorker {
    fn new(cx: *const WorkerCx) -> SetWorker {
        SetWorker(WORKER.with(|w| w.replace(cx)))
    }
}

impl Drop for SetWorker {
    fn drop(&mut self) {
        // `try_with`: during thread-local teardown there is nothing to reset.
        let _ = WORKER.try_with(|w| w.set(self.0));
    }
}

/// Runs `f`, which may block the calling OS thread for long (a nested
/// `block_on`), without stranding the worker's work (design notes,
/// "Blocking inside a green thread"). Off a worker thread, just calls `f`.
pub(crate) fn block_in_place<R>(f: impl FnOnce() -> R) -> R {
    let ptr = WORKER.try_with(|w| w.get()).unwrap_or(std::ptr::null());
    if ptr.is_null() {
        return f();
    }
    before_idle();
    // SAFETY: a non-null `WORKER` points to the `WorkerCx` on the stack of
    // `run_worker`, which runs on this very OS thread (we are inside one of
    // its calls) for as long as the pointer is set: its `SetWorker` guard
    // resets it before the context goes, unwinding included. `Blocked`
    // below holds the reference only while `f` runs, within that call.
    let cx = unsafe { &*ptr };
    let _blocked = Blocked::enter(cx);
    f()
}

/// A worker blocked in [`block_in_place`]; dropping it (on return or
/// unwind) makes it a worker again.
struct Blocked<'a> {
    cx: &'a WorkerCx,
    /// Restores `WORKER` when dropped (declared last: dropped last).
    _worker: SetWorker,
}

impl<'a> Blocked<'a> {
    fn enter(cx: &'a WorkerCx) -> Blocked<'a> {
        let shared = &*cx.shared;
        // Tasks woken or spawned on this thread from now on go to the
        // injector.
        let worker = SetWorker::new(std::ptr::null());
        // Not stalled, for the monitor: a new, even count.
        cx.runs.set(cx.runs.get() + 1);
        shared.runs[cx.index].set(cx.runs.get(), false);
        // The run-next slot cannot be stolen: leave nothing behind.
        hand_off_queued(shared, cx);
        shared.blocked.fetch_add(1, Ordering::SeqCst);
        driver::worker_idle();
        cx.shared.wake_spares();
        Blocked {
            cx,
            _worker: worker,
        }
    }
}

impl Drop for Blocked<'_> {
    fn drop(&mut self) {
        let shared = &self.cx.shared;
        driver::worker_busy();
        shared.blocked.fetch_sub(1, Ordering::SeqCst);
        // Sleeping spares no longer wanted retire; running ones see it in
        // their loop.
        shared
            .idle
            .wake_sleepers_from(shared.core + shared.spares_wanted());
        // Running the task again.
        shared.runs[self.cx.index].set(self.cx.runs.get(), true);
    }
}

impl Executor {
    /// Starts `workers` worker threads (at least one, at most
    /// [`MAX_WORKERS`], else `InvalidInput`
    /// before anything is allocated); with `stall_handoff`, also the
    /// monitor (`monitor.rs`). Spare workers start only when first wanted.
    pub(crate) fn new(
        workers: usize,
        name: &str,
        stall_handoff: bool,
    ) -> std::io::Result<Executor> {
        let max = MAX_WORKERS;
        if workers > max {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("{workers} workers is above the maximum, MAX_WORKERS = {max}"),
            ));
        }
        let core = workers.max(1);
        // Cannot overflow: `core <= MAX_WORKERS`.
        let total = core + MAX_SPARES;
        let shared = Arc::new(Shared {
            injector: Injector::new(),
            locals: (0..total).map(|_| LocalQueue::new()).collect(),
            core,
            spares_started: AtomicUsize::new(0),
            spares: Mutex::new(Spares::default()),
            blocked: AtomicUsize::new(0),
            name: name.to_string(),
            runs: (0..total).map(|_| RunCounter::default()).collect(),
            monitor: stall_handoff.then(Monitor::default),
            idle: Idle::new(total),
            shutdown: AtomicBool::new(false),
            drained: AtomicBool::new(false),
            reaping: AtomicBool::new(false),
        });
        let exec = Executor {
            shared,
            threads: Mutex::new(Vec::with_capacity(core + 1)),
        };
        for index in 0..core {
            let shared = exec.shared.clone();
            let handle = std::thread::Builder::new()
                .name(format!("{name}-worker-{index}"))
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
        let (runnable, task) = self.build(async_task::Builder::new(), move |()| future);
        runnable.schedule();
        task
    }

    /// Makes a task of the future `make` returns, given `builder`'s
    /// metadata, without scheduling it: the caller schedules the runnable,
    /// or drops it to cancel the task unrun.
    pub(crate) fn build<M, Fut>(
        &self,
        builder: async_task::Builder<M>,
        make: impl FnOnce(&M) -> Fut,
    ) -> (Runnable<M>, Task<Fut::Output, M>)
    where
        M: Send + Sync + 'static,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        let shared = self.shared.clone();
        let schedule = move |r: Runnable<M>, info: ScheduleInfo| {
            shared.schedule(Job::from(r), info.woken_while_running);
        };
        builder.spawn(make, WithInfo(schedule))
    }

    /// Stops the workers, waiting up to `grace` for each to exit (one stuck
    /// in a target that never yields is abandoned), and drops every queued
    /// task.
    pub(crate) fn shutdown_with_grace(&self, grace: std::time::Duration) {
        self.shared.shutdown.store(true, Ordering::SeqCst);
        self.shared.idle.unpark_all();
        let mut threads =
            std::mem::take(&mut *self.threads.lock().unwrap_or_else(|e| e.into_inner()));
        {
            let mut spares = self.shared.lock_spares();
            spares.closed = true;
            for t in spares.handles.drain(..) {
                // A spare that started after `unpark_all` may not have
                // registered its thread there yet.
                t.thread().unpark();
                threads.push(t);
            }
        }
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
        self.shared.drain();
        // A task scheduled from now on is reaped; one scheduled while the
        // flag was going up is in the queues for this last drain.
        self.shared.drained.store(true, Ordering::SeqCst);
        self.shared.drain();
    }
}

impl Shared {
    /// Drops every queued task. Dropping a runnable drops its future, whose
    /// destructor may wake (schedule) other tasks: drains until nothing is
    /// left.
    fn drain(&self) {
        loop {
            let mut any = false;
            while let Some(r) = self.injector.pop() {
                drop_caught(r);
                any = true;
            }
            for q in self.locals.iter() {
                // Not the owner: a worker abandoned in a stuck task may
                // still push.
                while let Some(r) = q.steal_one() {
                    drop_caught(r);
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
    fn schedule(self: &Arc<Self>, runnable: Job, yielded: bool) {
        if self.shutdown.load(Ordering::Relaxed) {
            // Queued for the final drain, or for a reaper if that has
            // passed (SeqCst: either the drain sees the push or this sees
            // the flag).
            self.injector.push(runnable);
            if self.drained.load(Ordering::SeqCst) {
                self.reap();
            }
            return;
        }
        let ptr = WORKER.with(|w| w.get());
        // SAFETY: a non-null `WORKER` points to the `WorkerCx` on the stack
        // of `run_worker`, which runs on this very OS thread for as long as
        // the pointer is set (its `SetWorker` guard resets it before the
        // context goes, on unwinding too).
        let cx = unsafe { ptr.as_ref() };
        match cx {
            Some(cx) if Arc::ptr_eq(&cx.shared, self) => {
                if yielded && !self.injector.is_empty() {
                    // Threads woken from outside wait in the injector, which
                    // the worker checks only every `GLOBAL_POLL_INTERVAL`
                    // tasks: queue behind them, or a yield loop would run up
                    // to 61 times before they do.
                    self.injector.push(runnable);
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
                self.injector.push(runnable);
                self.idle.notify_one();
            }
        }
    }

    /// Drops the tasks scheduled after the final drain (a task a stuck
    /// worker's poll rescheduled when it finally returned, one woken by a
    /// waker kept past the runtime), on a thread of its own: its
    /// destructors (the thread's ending steps, user `Drop`s) must run,
    /// each caught, or the thread never stops — but not inside whatever
    /// called the waker, which may hold a lock they need. If no thread can
    /// be had, the tasks stay queued (a leak, rather than a deadlock).
    #[cold]
    fn reap(self: &Arc<Self>) {
        if self.reaping.swap(true, Ordering::SeqCst) {
            return; // the running reaper looks once more before it ends
        }
        let shared = self.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("{}-reaper", self.name))
            .spawn(move || loop {
                while let Some(r) = shared.injector.pop() {
                    drop_caught(r);
                }
                shared.reaping.store(false, Ordering::SeqCst);
                if shared.injector.is_empty() || shared.reaping.swap(true, Ordering::SeqCst) {
                    break;
                }
            });
        if spawned.is_err() {
            self.reaping.store(false, Ordering::SeqCst);
        }
    }

    /// Pushes to worker `index`'s local queue (overflowing to the injector)
    /// and lets an idle worker come and steal.
    ///
    /// # Safety
    ///
    /// Only worker `index` may call it, from its own thread: it is that
    /// queue's owner (`queue.rs`).
    unsafe fn push_local(&self, index: usize, runnable: Job) {
        // SAFETY: we are worker `index` (our caller's contract).
        if let Err(r) = unsafe { self.locals[index].push(runnable) } {
            // Full: move half of it to the injector along with `r`.
            // SAFETY: as above.
            unsafe { self.injector.spill_half(&self.locals[index], r) };
        }
        self.idle.notify_one();
    }

    /// Whether any queue holds a task.
    fn has_work(&self) -> bool {
        !self.injector.is_empty() || self.active_locals().iter().any(|q| !q.is_empty())
    }

    /// The local queues of the core workers and of the spares started so
    /// far (the others are empty).
    fn active_locals(&self) -> &[LocalQueue<Job>] {
        let n = self.core + self.spares_started.load(Ordering::Acquire);
        &self.locals[..n.min(self.locals.len())]
    }

    /// How many spares should run now: one per blocked worker, one per
    /// stalled one.
    fn spares_wanted(&self) -> usize {
        let stalled = self.monitor.as_ref().map_or(0, Monitor::stalled);
        self.blocked.load(Ordering::SeqCst) + stalled
    }

    /// Whether spare number `rank` (0-based) should keep running.
    #[inline]
    fn spare_wanted(&self, rank: usize) -> bool {
        rank < self.spares_wanted()
    }

    fn lock_spares(&self) -> std::sync::MutexGuard<'_, Spares> {
        self.spares.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Wakes the wanted spares, starting their OS threads the first time.
    /// Waking a running spare is harmless (its next spare park returns at
    /// once and it looks again).
    fn wake_spares(self: &Arc<Self>) {
        let slots = self.locals.len() - self.core;
        let wanted = self.spares_wanted().min(slots);
        let started = self.spares_started.load(Ordering::Acquire);
        for rank in 0..wanted.min(started) {
            self.idle.wake_spare(self.core + rank);
        }
        if wanted <= started {
            return;
        }
        let mut spares = self.lock_spares();
        while !spares.closed && self.spares_started.load(Ordering::Acquire) < wanted {
            // Counted first, so its queue is visible to `has_work` as soon
            // as it can hold a task.
            let index = self.core + self.spares_started.fetch_add(1, Ordering::AcqRel);
            let shared = self.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("{}-spare-{index}", self.name))
                .spawn(move || run_worker(&shared, index));
            match spawned {
                Ok(handle) => {
                    self.idle.set_thread(index, handle.thread().clone());
                    spares.handles.push(handle);
                }
                // The OS refuses threads: go on with the ones there are.
                Err(_) => {
                    self.spares_started.fetch_sub(1, Ordering::AcqRel);
                    break;
                }
            }
        }
    }

    /// The next task for worker `index` from the queues (not the LIFO slot).
    ///
    /// # Safety
    ///
    /// Only worker `index` may call it, from its own thread (it pops from,
    /// and steals into, that worker's queue).
    #[inline]
    unsafe fn find_task(&self, index: usize, tick: u32) -> Option<Job> {
        if tick % GLOBAL_POLL_INTERVAL == 0 {
            if let Some(r) = self.injector.pop_if_any() {
                return Some(r);
            }
        }
        let local = &self.locals[index];
        // SAFETY: we own `local` (our caller's contract).
        if let Some(r) = unsafe { local.pop() } {
            return Some(r);
        }
        // SAFETY: as above.
        if let Some(r) = unsafe { self.injector.take_batch(local, self.core) } {
            return Some(r);
        }
        let locals = self.active_locals();
        let n = locals.len();
        let start = fastrand_index(n);
        for i in 0..n {
            let victim = (start + i) % n;
            if victim != index {
                // SAFETY: as above: `local` is ours.
                if let Some(r) = unsafe { steal_half(&locals[victim], local) } {
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
        static SEED: Cell<u64> = Cell::new(0x9E37_79B9_7F4A_7C15 ^ (u64::from(crate::native::native_id()) << 17));
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
    // Before any park: a waker that picks this worker finds its thread.
    shared.idle.set_thread(index, std::thread::current());
    let cx = WorkerCx {
        shared: shared.clone(),
        index,
        lifo: RefCell::new(None),
        runs: Cell::new(0),
    };
    let worker = SetWorker::new(&cx);
    // A spare's rank among the spares; `None` for a core worker.
    let spare_rank = index.checked_sub(shared.core);
    let mut tick: u32 = 0;
    let mut lifo_streak: u32 = 0;
    let mut searching = false;
    // Looks taken since the last task (`IDLE_SPINS`).
    let mut idle_looks: u32 = 0;
    driver::worker_busy();
    loop {
        if shared.shutdown.load(Ordering::Acquire) {
            break;
        }
        if let Some(rank) = spare_rank {
            if !shared.spare_wanted(rank) {
                if searching {
                    // Woken to look for work it will not look for: pass
                    // the wake-up on.
                    searching = false;
                    shared.idle.stop_searching();
                }
                hand_off_queued(shared, &cx);
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
                idle_looks = 0;
                if searching {
                    searching = false;
                    shared.idle.stop_searching();
                }
                tick = tick.wrapping_add(1);
                if tick % GLOBAL_POLL_INTERVAL == 0 {
                    // Pick up I/O and timers (`driver`, design note 6).
                    driver::poll_now();
                }
                shared.runs[index].set(cx.runs.get(), true);
                // The wrapper catches the target's panics; this guards the
                // worker against a panicking waker or destructor.
                let _ = catch_unwind(AssertUnwindSafe(|| r.run()));
                // Read back: `block_in_place` may have moved it on.
                let runs = cx.runs.get() + 1;
                cx.runs.set(runs);
                shared.runs[index].set(runs, false);
            }
            // A stall stand-in out of work retires; the monitor wakes it
            // again if work queues while the stall lasts.
            None if spare_rank.is_some() && shared.blocked.load(Ordering::SeqCst) == 0 => {
                if searching {
                    searching = false;
                    shared.idle.stop_searching_idle();
                }
                hand_off_queued(shared, &cx);
                park_spare(shared, index);
            }
            None => {
                // Out of tasks: ready I/O or timers may wake some, into this
                // worker's own queues. Park only if none.
                if driver::poll_now() {
                    continue;
                }
                if looks_again(idle_looks) {
                    // Still searching if it was (a pusher then counts on it
                    // to find the work); not a sleeper, so none wakes it.
                    idle_looks += 1;
                    for _ in 0..IDLE_SPIN_HINTS {
                        std::hint::spin_loop();
                    }
                    continue;
                }
                idle_looks = 0;
                if searching {
                    shared.idle.stop_searching_idle();
                }
                before_idle();
                driver::worker_idle();
                searching = shared.idle.park(shared, index);
                driver::worker_busy();
            }
        }
    }
    before_idle();
    driver::worker_idle();
    let leftover = cx.lifo.borrow_mut().take();
    // Its future's destructors run here: nothing must unwind past `worker`.
    drop_caught(leftover);
    drop(worker);
}

/// Parks spare `index` until it is wanted, as not running for the driver.
fn park_spare(shared: &Shared, index: usize) {
    before_idle();
    driver::worker_idle();
    shared.idle.park_spare(shared, index);
    driver::worker_busy();
}

/// A spare going back to sleep, or a worker about to block, leaves no task
/// behind: its LIFO slot and local queue move to the injector, and a
/// sleeping worker is told.
fn hand_off_queued(shared: &Shared, cx: &WorkerCx) {
    let mut moved = false;
    if let Some(r) = cx.lifo.borrow_mut().take() {
        shared.injector.push(r);
        moved = true;
    }
    // SAFETY: `cx` is the calling worker's own context: it owns the queue.
    while let Some(r) = unsafe { shared.locals[cx.index].pop() } {
        shared.injector.push(r);
        moved = true;
    }
    if moved {
        shared.idle.notify_one();
    }
}
