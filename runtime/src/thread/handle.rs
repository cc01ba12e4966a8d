//! The runtime handle every thread holds ([`RtInner`]): a runtime's
//! scheduler, GIL, registry of threads and main thread, and its part of
//! shutdown (the sequence is `crate::runtime`'s design notes); the list of
//! live runtimes and the process-wide one.
//!
//! A `Thread` points to its home runtime's handle and the handle owns the
//! registry of threads: the one loop of the crate, inside this folder.

use std::future::Future;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use super::registry::Registry;
use super::task::{Ended, ThreadTask};
use super::{context, Kind, Thread, ThreadError, ThreadInner, ThreadRef};
use crate::catch::drop_caught;
use crate::scheduler::gil::Gil;
use crate::scheduler::{green, Mode, Scheduler};

/// How long shutdown waits for cancelled daemon threads to drop their
/// futures before abandoning the rest.
pub(crate) const DAEMON_DROP_GRACE: Duration = Duration::from_secs(2);

/// How long dropping a runtime waits for each worker to exit before
/// abandoning it (a worker stuck in a target that never yields).
const WORKER_JOIN_GRACE: Duration = Duration::from_secs(2);

/// Every live runtime, for process-wide settings (hooks, switch interval).
static RUNTIMES: Mutex<Vec<Weak<RtInner>>> = Mutex::new(Vec::new());

/// The process-wide runtime used outside any runtime.
static GLOBAL: OnceLock<Arc<RtInner>> = OnceLock::new();

/// The process-wide Green runtime for threads started outside any runtime
/// (foreign OS threads, tokio tasks); its workers start on first use. Its
/// threads are daemon by default, as threads created from a `_DummyThread`
/// are in Python.
pub(crate) fn global() -> &'static Arc<RtInner> {
    GLOBAL.get_or_init(|| RtInner::new(Mode::Green, green::default_workers(), None, false, true))
}

/// The calling thread's runtime, or the process-wide one.
pub(crate) fn current_or_global() -> Arc<RtInner> {
    context::runtime().unwrap_or_else(|| global().clone())
}

/// Runs `f` on every live runtime.
pub(crate) fn for_each_runtime(mut f: impl FnMut(&RtInner)) {
    for_each_runtime_arc(|rt| f(rt));
}

/// Runs `f` on every live runtime's handle.
pub(crate) fn for_each_runtime_arc(mut f: impl FnMut(&Arc<RtInner>)) {
    let live: Vec<Arc<RtInner>> = {
        let mut all = RUNTIMES.lock().unwrap_or_else(|e| e.into_inner());
        all.retain(|w| w.strong_count() > 0);
        all.iter().filter_map(Weak::upgrade).collect()
    };
    for rt in &live {
        f(rt);
    }
}

/// Every alive thread of every runtime.
pub(crate) fn all_threads() -> Vec<Thread> {
    let mut out = Vec::new();
    for_each_runtime(|rt| out.extend(rt.registry.snapshot()));
    out
}

/// A runtime's shared state.
#[derive(Debug)]
pub(crate) struct RtInner {
    /// Green or OS threads, and the Green pool.
    pub(crate) scheduler: Scheduler,
    /// The GIL, in GIL mode.
    pub(crate) gil: Option<Gil>,
    /// Alive threads.
    pub(crate) registry: Registry,
    /// The main thread.
    pub(crate) main: Thread,
    /// Set when `start()` must fail (a fast check; the registry's `close`
    /// is the authoritative one).
    shutting_down: AtomicBool,
    /// Whether this is the process-wide runtime.
    is_global: bool,
    /// Deadlock detection on (`greenthread::debug`; default on).
    pub(crate) deadlock_detection: AtomicBool,
    /// Stall warning threshold in µs (0: off).
    pub(crate) stall_warning_us: AtomicU64,
}

/// The task of a launched thread: its target's output, or how it ended.
pub(crate) type ThreadTaskHandle<T> = async_task::Task<Result<T, Ended>>;

/// A thread launched in its task ([`RtInner::launch_in_task`]), and the
/// task, whose metadata it is.
pub(crate) type InTask<T> = (Thread, async_task::Task<Result<T, Ended>, ThreadInner>);

impl RtInner {
    pub(crate) fn new(
        mode: Mode,
        workers: usize,
        gil: Option<Gil>,
        stall_handoff: bool,
        is_global: bool,
    ) -> Arc<RtInner> {
        super::install_panic_hook();
        crate::scheduler::green::set_before_idle(super::registry::flush_ended);
        let main = Thread::new_running(Kind::Main, None, false);
        let rt = Arc::new(RtInner {
            scheduler: Scheduler::new(mode, workers, stall_handoff),
            gil,
            registry: Registry::new(),
            main,
            shutting_down: AtomicBool::new(false),
            is_global,
            deadlock_detection: AtomicBool::new(true),
            stall_warning_us: AtomicU64::new(0),
        });
        rt.registry.insert(&rt.main);
        RUNTIMES
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Arc::downgrade(&rt));
        rt
    }

    /// Registers `thread` as started and schedules `fut` as its body;
    /// `loc` is where it was started (its `tracing` span's location).
    ///
    /// # Errors
    ///
    /// `ShuttingDown`, or `StartFailed` if no worker or OS thread could be
    /// had. `fut` is handed back then (always `Some`), never polled, and `thread` is as it
    /// was before (`INITIAL`, no ident, unregistered, no hooks): a refused
    /// start leaves the thread startable, as in Python, and reports no
    /// trace event.
    pub(crate) fn launch<F>(
        self: &Arc<Self>,
        thread: &Thread,
        fut: F,
        report: bool,
        loc: super::instrument::SpawnLocation,
    ) -> Result<ThreadTaskHandle<F::Output>, (ThreadError, Option<F>)>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        // Green mode: the workers first, so a refusal needs no undoing.
        if self.scheduler.ready().is_err() {
            return Err((ThreadError::StartFailed, Some(fut)));
        }
        thread
            .inner
            .ident
            .store(super::next_ident(), Ordering::Relaxed);
        if let Err(e) = self.register(thread) {
            return Err((e, Some(fut)));
        }
        let task = ThreadTask::new(
            ManuallyDrop::new(thread.clone()),
            self.clone(),
            fut,
            report,
            loc,
        );
        let stack_size = || super::stack_size(None).unwrap_or(0);
        self.scheduler
            .spawn(task, || thread.name(), stack_size)
            .map_err(|(_, task)| {
                let fut = task.into_target();
                self.unregister(thread);
                (ThreadError::StartFailed, fut)
            })
    }

    /// Starts `fut` as a new thread whose state `inner` (`EMBEDDED`) lives
    /// in its task: as [`launch`](Self::launch), but one allocation for
    /// both, and the thread is made here. Returns the thread with its task.
    ///
    /// # Errors
    ///
    /// `ShuttingDown`, or `StartFailed` if no worker or OS thread could be
    /// had, with the thread, not started (its state on its own then, if
    /// its task was never made); `fut` is dropped unrun.
    pub(crate) fn launch_in_task<F>(
        self: &Arc<Self>,
        mut inner: ThreadInner,
        fut: F,
        loc: super::instrument::SpawnLocation,
    ) -> Result<InTask<F::Output>, (ThreadError, Thread)>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let rt = self.clone();
        let make = move |inner: &ThreadInner| {
            // SAFETY: the future lives in the task whose metadata `inner`
            // is, and async-task drops it before the metadata.
            let thread = unsafe { Thread::uncounted(inner) };
            ThreadTask::new(thread, rt, fut, false, loc)
        };
        let stack_size = || super::stack_size(None).unwrap_or(0);
        // In its task, whatever the caller made it: a thread not flagged
        // `EMBEDDED` is taken for one on its own, with a slot beside it
        // (`ThreadRef::with_slot`).
        *inner.flags.get_mut() |= super::EMBEDDED;
        // Before the task is made: its `tracing` span records the ident.
        inner.ident.store(super::next_ident(), Ordering::Relaxed);
        let (runnable, task) =
            match self
                .scheduler
                .build(inner, make, ThreadInner::name, stack_size)
            {
                Ok(built) => built,
                Err((_, mut inner, make)) => {
                    // `fut`, in `make`, is dropped unrun; its `Drop` is user code.
                    drop_caught(make);
                    *inner.flags.get_mut() &= !super::EMBEDDED;
                    *inner.ident.get_mut() = 0;
                    let thread = Thread {
                        inner: ThreadRef::boxed(inner, None),
                    };
                    return Err((ThreadError::StartFailed, thread));
                }
            };
        // SAFETY: `task.metadata()` is the metadata of the task that
        // `runnable.waker()` wakes, and no counted handle to it exists yet.
        let inner = unsafe { ThreadRef::adopt(task.metadata(), runnable.waker()) };
        let thread = Thread { inner };
        if let Err(e) = self.register(&thread) {
            // Never run: its target is dropped (`ThreadTask`'s `Drop`).
            drop(runnable);
            return Err((e, thread));
        }
        runnable.schedule();
        Ok((thread, task))
    }

    /// Marks `thread`, its ident given, started, registers it and installs
    /// its hooks: the steps of a start before its task runs.
    ///
    /// # Errors
    ///
    /// `ShuttingDown`, with `thread` as it was before its ident (`INITIAL`,
    /// unregistered, no hooks).
    fn register(&self, thread: &Thread) -> Result<(), ThreadError> {
        thread.inner.state.transition_to_started();
        if !self.registry.insert_if_open(thread) {
            Self::unstart(thread);
            return Err(ThreadError::ShuttingDown);
        }
        super::hooks_install(thread);
        Ok(())
    }

    /// Undoes [`register`](Self::register) for a start refused after it.
    fn unregister(&self, thread: &Thread) {
        super::hooks_forget(thread);
        self.registry.remove(thread);
        Self::unstart(thread);
    }

    /// Takes a refused thread back to `INITIAL`, with no ident.
    fn unstart(thread: &Thread) {
        thread.inner.ident.store(0, Ordering::Relaxed);
        thread.inner.state.undo_refused_start();
    }

    /// Whether this is the process-wide runtime.
    pub(crate) fn is_global(&self) -> bool {
        self.is_global
    }

    pub(crate) fn is_shutting_down(&self) -> bool {
        self.shutting_down.load(Ordering::SeqCst)
    }

    /// Waits until every cancelled thread has stopped — which a thread does
    /// only after its target has been dropped — or `grace` passes.
    fn wait_threads_gone(&self, grace: Duration) {
        let deadline = Instant::now() + grace;
        for t in self.registry.snapshot() {
            if t.inner.kind != Kind::Main && t.inner.kind != Kind::Dummy {
                self.main_joins(&t, true);
                super::wait_stopped_blocking(&t, Some(deadline));
            }
        }
        self.main.inner.record.clear();
    }

    fn join_non_daemon(&self) {
        let pred = |t: &Thread| t.inner.kind == Kind::Thread || t.inner.kind == Kind::Timer;
        while let Some(t) = self.registry.find(|t| pred(t) && !t.is_daemon()) {
            self.main_joins(&t, false);
            super::wait_stopped_blocking(&t, None);
        }
        self.main.inner.record.clear();
    }

    /// Records that the main thread, in shutdown, joins `t` (the dump and
    /// the deadlock detector see it so).
    fn main_joins(&self, t: &Thread, timed: bool) {
        let ident = t.inner.ident.load(Ordering::Relaxed);
        let rec = &self.main.inner.record;
        rec.set_parked(crate::record::kind::JOIN, ident, timed);
    }

    /// Steps 1–4 of the module docs.
    pub(crate) fn shutdown_after_main(&self) {
        // Python's step 3: the main thread's handle is marked done first, so
        // threads blocked in `main_thread().join()` wake (and shutdown does
        // not wait on them forever). It stays enumerated until `stop_main`.
        self.main.inner.mark_stopped();
        self.join_non_daemon();
        self.begin_shutdown();
        self.join_non_daemon();
        self.cancel_all();
        self.wait_threads_gone(DAEMON_DROP_GRACE);
        self.stop_main();
    }

    fn begin_shutdown(&self) {
        self.shutting_down.store(true, Ordering::SeqCst);
        self.registry.close();
    }

    fn cancel_all(&self) {
        for t in self.registry.snapshot() {
            if t.inner.kind != Kind::Main && t.inner.kind != Kind::Dummy {
                t.cancel();
            }
        }
    }

    fn stop_main(&self) {
        let main = &self.main.inner;
        super::teardown_locals(&self.main);
        self.registry.remove(&self.main);
        main.mark_stopped();
    }

    /// Shutdown when the `Runtime` is dropped.
    pub(crate) fn shutdown_now(&self) {
        if self.is_global {
            return;
        }
        if !self.shutting_down.load(Ordering::SeqCst) {
            self.begin_shutdown();
            self.cancel_all();
            self.wait_threads_gone(DAEMON_DROP_GRACE);
            self.stop_main();
        }
        self.scheduler.shutdown(WORKER_JOIN_GRACE);
    }
}
