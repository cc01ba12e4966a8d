//! OS-thread mode: each thread's task gets its own OS thread, which runs the
//! task whenever it is woken and parks otherwise.
//!
//! # The limit on live OS threads
//!
//! Near `vm.max_map_count` the OS still creates a thread (its stack fits)
//! but std then cannot map the thread's signal stack and aborts the
//! process. So [`spawn`] takes a slot of a process-wide count of live
//! threads first and refuses the thread when none is left; the limit is
//! computed once ([`init_limit`], documented at `Mode::OsThreads`). The
//! slot is released when the thread's body returns, a moment before the OS
//! unmaps its stacks: the margin covers threads in that window, and the
//! stacks glibc keeps cached for reuse.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_task::{Runnable, Task};

/// The hand-off between a task's wakers and its OS thread.
#[derive(Debug)]
struct Handoff<M> {
    /// The task, when scheduled.
    runnable: Mutex<Option<Runnable<M>>>,
    /// The OS thread, once it runs.
    thread: OnceLock<std::thread::Thread>,
    /// Set when the task's future has been dropped (it completed or was
    /// cancelled): the OS thread exits.
    done: AtomicBool,
}

impl<M> Default for Handoff<M> {
    fn default() -> Self {
        Handoff {
            runnable: Mutex::new(None),
            thread: OnceLock::new(),
            done: AtomicBool::new(false),
        }
    }
}

/// Sets `done` when the future it travels with is dropped.
struct DoneOnDrop<M>(Arc<Handoff<M>>);

impl<M> Drop for DoneOnDrop<M> {
    fn drop(&mut self) {
        self.0.done.store(true, Ordering::Release);
        if let Some(t) = self.0.thread.get() {
            t.unpark();
        }
    }
}

/// The variable that lowers the limit on live OS threads.
pub(crate) const LIMIT_VAR: &str = "GREENTHREAD_OS_THREADS_MAX";

/// Memory mappings one thread adds (measured on Linux with glibc: its stack
/// and guard page, std's signal stack and guard page).
const MAPS_PER_THREAD: usize = 4;

/// Mappings left for the rest of the program: this fraction of
/// `vm.max_map_count`, and at least [`MIN_MAP_MARGIN`].
const MAP_MARGIN_DIVISOR: usize = 8;

/// See [`MAP_MARGIN_DIVISOR`].
const MIN_MAP_MARGIN: usize = 4096;

/// The most live OS-thread-mode threads, once computed.
static LIMIT: OnceLock<usize> = OnceLock::new();

/// Live OS-thread-mode threads (slots taken).
static LIVE: AtomicUsize = AtomicUsize::new(0);

/// Computes the process-wide limit, once (later calls change nothing);
/// `cap` (from [`LIMIT_VAR`]) can only lower it.
pub(crate) fn init_limit(cap: Option<usize>) {
    LIMIT.get_or_init(|| compute_limit(cap));
}

fn compute_limit(cap: Option<usize>) -> usize {
    let mut limit = cap.unwrap_or(usize::MAX);
    #[cfg(target_os = "linux")]
    {
        let num = |path: &str| -> Option<usize> {
            std::fs::read_to_string(path).ok()?.trim().parse().ok()
        };
        if let Some(max) = num("/proc/sys/vm/max_map_count") {
            let held = std::fs::read("/proc/self/maps")
                .map_or(0, |m| m.iter().filter(|&&b| b == b'\n').count());
            let margin = (max / MAP_MARGIN_DIVISOR).max(MIN_MAP_MARGIN);
            let free = max.saturating_sub(held).saturating_sub(margin);
            limit = limit.min(free / MAPS_PER_THREAD);
        }
        if let Some(n) = num("/proc/sys/kernel/threads-max") {
            limit = limit.min(n);
        }
        // SAFETY: `geteuid` has no preconditions and cannot fail.
        let root = unsafe { libc::geteuid() } == 0;
        let mut rl = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `getrlimit` only writes the `rlimit` it is given, which
        // lives on this stack frame for the whole call.
        let got = !root && unsafe { libc::getrlimit(libc::RLIMIT_NPROC, &mut rl) } == 0;
        // The kernel does not hold root to RLIMIT_NPROC.
        if got && rl.rlim_cur != libc::RLIM_INFINITY {
            limit = limit.min(usize::try_from(rl.rlim_cur).unwrap_or(usize::MAX));
        }
    }
    limit
}

/// A slot of the live-thread count, released on drop.
struct LiveSlot;

impl LiveSlot {
    /// Takes a slot, unless the limit is reached.
    fn take() -> io::Result<LiveSlot> {
        let limit = *LIMIT.get_or_init(|| compute_limit(None));
        LIVE.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < limit).then_some(n + 1)
        })
        .map(|_| LiveSlot)
        .map_err(|_| {
            io::Error::new(
                io::ErrorKind::WouldBlock,
                format!("{limit} OS threads are live, the most this process can hold"),
            )
        })
    }
}

impl Drop for LiveSlot {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The name an OS thread can carry: `name` up to its first NUL.
fn os_name(name: String) -> String {
    match name.find('\0') {
        Some(i) => name[..i].to_string(),
        None => name,
    }
}

/// Runs `fut` on a new OS thread named `name` (up to its first NUL) with a
/// stack of `stack_size` bytes (0: the platform's default).
///
/// # Errors
///
/// `WouldBlock` if the limit on live OS threads is reached; the OS's error
/// if it refuses the thread. `fut` is handed back then, never polled (the
/// OS thread is made before the task, which it then waits for).
pub(crate) fn spawn<F>(
    fut: F,
    name: String,
    stack_size: usize,
) -> Result<Task<F::Output>, (io::Error, F)>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let slot = match start(name, stack_size) {
        Ok(slot) => slot,
        Err(e) => return Err((e, fut)),
    };
    let (runnable, task) = build(slot, async_task::Builder::new(), move |()| fut);
    runnable.schedule();
    Ok(task)
}

/// As [`spawn`], for a task with metadata `meta`, whose future `make`
/// makes from it; the task is not scheduled: the caller schedules the
/// runnable (its OS thread runs it then), or drops it to cancel the task
/// unrun (its OS thread exits).
///
/// # Errors
///
/// As [`spawn`]; `meta` and `make` are handed back then, `make` never
/// called.
pub(crate) fn build_with<M, Fut, Make>(
    meta: M,
    make: Make,
    name: String,
    stack_size: usize,
) -> Result<super::Built<M, Fut::Output>, (io::Error, M, Make)>
where
    M: Send + Sync + 'static,
    Make: FnOnce(&M) -> Fut,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    match start(name, stack_size) {
        Ok(slot) => Ok(build(slot, async_task::Builder::new().metadata(meta), make)),
        Err(e) => Err((e, meta, make)),
    }
}

/// Starts the OS thread of a task to come: it parks until its first
/// runnable arrives through the returned hand-off.
fn start<M: Send + Sync + 'static>(name: String, stack_size: usize) -> io::Result<Arc<Handoff<M>>> {
    let live = LiveSlot::take()?;
    let slot = Arc::new(Handoff::<M>::default());
    let mut builder = std::thread::Builder::new().name(os_name(name));
    if stack_size != 0 {
        builder = builder.stack_size(stack_size);
    }
    let s = slot.clone();
    let handle = builder.spawn(move || {
        let _live = live;
        let slot = s;
        let _ = slot.thread.set(std::thread::current());
        let mut next: Option<Runnable<M>> = None;
        loop {
            if let Some(r) = next.take() {
                r.run();
            }
            if slot.done.load(Ordering::Acquire) {
                break;
            }
            next = slot
                .runnable
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if next.is_none() {
                std::thread::park();
            }
        }
    })?;
    // The OS thread parks until its first runnable arrives (`schedule`
    // unparks it).
    let _ = slot.thread.set(handle.thread().clone());
    Ok(slot)
}

/// Makes the task of `make`'s future, run by `slot`'s OS thread.
fn build<M, Fut>(
    slot: Arc<Handoff<M>>,
    builder: async_task::Builder<M>,
    make: impl FnOnce(&M) -> Fut,
) -> (Runnable<M>, Task<Fut::Output, M>)
where
    M: Send + Sync + 'static,
    Fut: Future + Send + 'static,
    Fut::Output: Send + 'static,
{
    let guard = DoneOnDrop(slot.clone());
    let make = move |m: &M| {
        let fut = make(m);
        async move {
            let _guard = guard;
            fut.await
        }
    };
    let schedule = move |r: Runnable<M>| {
        *slot.runnable.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        if let Some(t) = slot.thread.get() {
            t.unpark();
        }
    };
    builder.spawn(make, schedule)
}
