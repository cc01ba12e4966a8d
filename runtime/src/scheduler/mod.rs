//! The schedulers, beneath the thread layer: the green executor
//! ([`green`], M:N) and OS-thread mode ([`os`], 1:1) side by side behind one
//! spawning interface, [`Scheduler::spawn`], which takes a task, a name and a
//! stack size and knows nothing of `Thread`s; and the GIL ([`gil`]), the lock
//! GIL mode serializes threads with.

pub(crate) mod gil;
pub(crate) mod green;
pub(crate) mod os;

use std::future::Future;
use std::io;
use std::sync::OnceLock;
use std::time::Duration;

use async_task::{Runnable, Task};

use green::Executor;

/// A task made but not scheduled: its runnable and its handle.
pub(crate) type Built<M, T> = (Runnable<M>, Task<T, M>);

/// How green threads map onto OS threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Mode {
    /// M:N: every thread is a task on a pool of worker OS threads (default).
    #[default]
    Green,
    /// 1:1: every thread runs on its own new OS thread, named after it (up
    /// to the first NUL of its name, which an OS thread name cannot hold;
    /// [`Thread::name`](crate::Thread::name) keeps the whole name).
    ///
    /// The process can hold only so many OS threads: each costs memory
    /// mappings (its stack and signal stack, each with a guard page), and
    /// the OS aborts a process whose new thread finds no mapping left. So
    /// `start()` refuses, with [`ThreadError::StartFailed`](crate::ThreadError::StartFailed) ("can't start new
    /// thread", as Python raises), a thread beyond a process-wide limit on
    /// live OS-thread-mode threads, computed once, when the first OS-thread
    /// runtime is built, as the least of:
    ///
    /// - the mappings left under `vm.max_map_count` after the ones the
    ///   process holds then and a margin for its later needs (an eighth of
    ///   the maximum, at least 4096), divided by the 4 mappings a thread
    ///   takes;
    /// - `kernel.threads-max`, and `RLIMIT_NPROC` unless root (whom the
    ///   kernel exempts from it);
    /// - `GREENTHREAD_OS_THREADS_MAX=N` (N ≥ 1), if set: it lowers the limit,
    ///   never raises it (an invalid value is an error at `build()`, as for
    ///   the other `GREENTHREAD_*` variables).
    ///
    /// A thread the OS refuses anyway (no memory, another process using the
    /// user's thread allowance) is `StartFailed` too. Threads started outside
    /// OS-thread mode (Green workers, the program's own) are not counted:
    /// they live in the margin.
    OsThreads,
}

/// A runtime's scheduler: its mode, and in Green mode its worker pool.
#[derive(Debug)]
pub(crate) struct Scheduler {
    /// Green or OS threads.
    mode: Mode,
    /// Size of the Green pool.
    workers: usize,
    /// Whether the Green pool has stall hand-off.
    stall_handoff: bool,
    /// The Green pool (started by [`ready`](Self::ready), at build or
    /// lazily for the global runtime).
    exec: OnceLock<Executor>,
}

impl Scheduler {
    pub(crate) fn new(mode: Mode, workers: usize, stall_handoff: bool) -> Scheduler {
        Scheduler {
            mode,
            workers,
            stall_handoff,
            exec: OnceLock::new(),
        }
    }

    pub(crate) fn mode(&self) -> Mode {
        self.mode
    }

    pub(crate) fn workers(&self) -> usize {
        self.workers
    }

    #[inline]
    fn executor(&self) -> io::Result<&Executor> {
        match self.exec.get() {
            Some(e) => Ok(e),
            None => self.start_executor(),
        }
    }

    /// Starts the Green pool (the first spawn's work).
    #[cold]
    fn start_executor(&self) -> io::Result<&Executor> {
        let exec = Executor::new(self.workers, "greenthread", self.stall_handoff)?;
        // A racing initializer may have won; its executor is used and ours
        // shuts down as it drops.
        Ok(self.exec.get_or_init(|| exec))
    }

    /// Makes ready what a spawn needs that can be refused before any thread
    /// state changes: in Green mode, the workers (started once).
    ///
    /// # Errors
    ///
    /// The OS's error if it refuses the worker threads.
    pub(crate) fn ready(&self) -> io::Result<()> {
        match self.mode {
            Mode::Green => self.executor().map(|_| ()),
            Mode::OsThreads => Ok(()),
        }
    }

    /// Makes a task with metadata `meta`, whose future `make` makes from
    /// it, without scheduling it: the caller schedules the runnable, or
    /// drops it to cancel the task unrun. In OS-thread mode its OS thread
    /// (named by `name`, with a stack of `stack_size` bytes) is started
    /// first, and waits for it.
    ///
    /// # Errors
    ///
    /// As [`spawn`](Self::spawn); `meta` and `make` are handed back then,
    /// `make` never called.
    pub(crate) fn build<M, Fut, Make>(
        &self,
        meta: M,
        make: Make,
        name: impl FnOnce(&M) -> String,
        stack_size: impl FnOnce() -> usize,
    ) -> Result<Built<M, Fut::Output>, (io::Error, M, Make)>
    where
        M: Send + Sync + 'static,
        Make: FnOnce(&M) -> Fut,
        Fut: Future + Send + 'static,
        Fut::Output: Send + 'static,
    {
        match self.mode {
            Mode::Green => match self.executor() {
                Ok(exec) => Ok(exec.build(async_task::Builder::new().metadata(meta), make)),
                Err(e) => Err((e, meta, make)),
            },
            Mode::OsThreads => {
                let name = name(&meta);
                os::build_with(meta, make, name, stack_size())
            }
        }
    }

    /// Runs `task`: on the Green pool, or on a new OS thread named by
    /// `name` with a stack of `stack_size` bytes (0: the platform's default;
    /// both are used in OS-thread mode only).
    ///
    /// # Errors
    ///
    /// As [`ready`](Self::ready) in Green mode (never after it succeeded);
    /// in OS-thread mode, as [`os::spawn`]. `task` is handed back then,
    /// never polled.
    pub(crate) fn spawn<F>(
        &self,
        task: F,
        name: impl FnOnce() -> String,
        stack_size: impl FnOnce() -> usize,
    ) -> Result<Task<F::Output>, (io::Error, F)>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self.mode {
            Mode::Green => match self.executor() {
                Ok(exec) => Ok(exec.spawn(task)),
                Err(e) => Err((e, task)),
            },
            Mode::OsThreads => os::spawn(task, name(), stack_size()),
        }
    }

    /// Stops the Green pool, if started, waiting up to `grace` per worker.
    pub(crate) fn shutdown(&self, grace: Duration) {
        if let Some(exec) = self.exec.get() {
            exec.shutdown_with_grace(grace);
        }
    }
}
