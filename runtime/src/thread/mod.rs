//! Python-style threads: [`Thread`], [`Target`], the module functions
//! ([`current_thread`], [`enumerate`], ...), [`spawn`], [`Timer`] and
//! [`Local`].
//!
//! # Design notes
//!
//! 1. A [`Thread`] is a counted handle (`thread_ref`) to a `ThreadInner`,
//!    on its own or, for a Green `spawn`, in its task: the Python-visible
//!    state (name, daemon flag, ident, native id, lifecycle) plus what the
//!    runtime needs to end it (the task's waker, for cancellation at
//!    shutdown) and its `Local` values.
//! 2. The lifecycle word (`state.rs`, the one place that writes it) goes
//!    `INITIAL → STARTED → STOPPED` and never back but for a refused start,
//!    which is undone (Python's rule: the thread can be started again).
//!    `start()` moves it to `STARTED` and registers the thread *before*
//!    scheduling it, so `is_alive()`, `ident()` and `enumerate()` agree from
//!    the moment `start()` returns (Python's "limbo" is folded into
//!    "started").
//! 3. The thread's target runs inside a wrapper future (`task::ThreadTask`)
//!    that, on every poll, enters the thread's context (for
//!    `current_thread()`), takes and releases the GIL, reports trace events,
//!    catches panics for the excepthook, and — once the target ends, panics
//!    or is cancelled — performs the ending steps in order: excepthook, drop
//!    `Local` values, `Exit` trace event, leave the registry, mark `STOPPED`,
//!    wake the joiners.
//! 4. In Green mode the wrapper is an `async-task` task on the runtime's
//!    executor; in OS-thread mode it is the same task, scheduled onto a
//!    dedicated OS thread that runs it whenever it is woken. Either way
//!    `spawn` gets its result through the same `async_task::Task`.

pub(crate) mod blocking;
mod builder;
pub(crate) mod context;
mod error;
mod functions;
pub(crate) mod handle;
mod hooks;
mod ident;
mod inner;
pub(crate) mod instrument;
mod local;
pub(crate) mod registry;
mod spawn;
mod state;
mod target;
pub(crate) mod task;
mod thread_ref;
mod timer;

pub use blocking::block_on;
pub use builder::ThreadBuilder;
pub use error::{JoinError, ThreadError};
pub(crate) use functions::current_thread_unseen;
pub use functions::{
    active_count, current_thread, enumerate, exit, get_ident, get_native_id, main_thread,
    stack_size,
};
pub use hooks::{
    excepthook, getprofile, gettrace, set_excepthook, setprofile, setprofile_all_threads, settrace,
    settrace_all_threads, ExceptHook, ExceptHookArgs, TraceEvent, TraceHook,
};
pub(crate) use hooks::{
    forget as hooks_forget, install_at_start as hooks_install, install_panic_hook,
};
pub(crate) use ident::{next_ident, NAME_COUNTER};
pub(crate) use inner::{
    Kind, TargetOrWaker, ThreadInner, CANCELLED, DAEMON, EMBEDDED, ENDED, HAS_LOCALS, HIDDEN,
    LOCALS_CLOSED,
};
pub(crate) use local::teardown as teardown_locals;
pub use local::Local;
pub(crate) use spawn::spawn_on;
pub use spawn::{spawn, JoinHandle};
pub use target::Target;
pub(crate) use target::{Body, BodyFuture};
pub(crate) use thread_ref::ThreadRef;
pub use timer::Timer;

use std::fmt;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use event_listener::Listener;

/// A Python-style thread (`threading.Thread`). A cheap handle: clones are
/// the same thread, and `==` is identity.
///
/// # Examples
///
/// ```
/// greenthread::run(async {
///     let t = greenthread::Thread::new(|| async { println!("hello from a green thread") });
///     assert_eq!(format!("{t}"), format!("<Thread({}, initial)>", t.name()));
///     t.start().unwrap();
///     t.join().await.unwrap();
///     assert!(!t.is_alive());
/// });
/// ```
#[derive(Clone)]
pub struct Thread {
    pub(crate) inner: ThreadRef,
}

impl PartialEq for Thread {
    fn eq(&self, other: &Thread) -> bool {
        ThreadRef::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Thread {}

impl std::hash::Hash for Thread {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        ThreadRef::as_ptr(&self.inner).hash(state);
    }
}

impl Thread {
    /// A new, not yet started thread running `target`, named `Thread-N`,
    /// daemon if the creating thread is (Python's `Thread(target=...)`).
    pub fn new(target: impl Target) -> Thread {
        ThreadBuilder::default().build(target)
    }

    /// A builder for a named or daemon thread.
    pub fn builder() -> ThreadBuilder {
        ThreadBuilder::default()
    }

    /// A handle to the thread at `inner` that counts nothing (never
    /// dropped: `ManuallyDrop`); clones of it are counted.
    ///
    /// # Safety
    ///
    /// As [`ThreadRef::uncounted`]: `inner` must outlive every use of the
    /// handle.
    pub(crate) unsafe fn uncounted(inner: *const ThreadInner) -> std::mem::ManuallyDrop<Thread> {
        // SAFETY: the caller's guarantee, passed on.
        let inner = unsafe { ThreadRef::uncounted(inner) };
        std::mem::ManuallyDrop::new(Thread {
            inner: std::mem::ManuallyDrop::into_inner(inner),
        })
    }

    pub(crate) fn from_parts(
        kind: Kind,
        name: Option<String>,
        auto_n: u64,
        daemon: bool,
        target: Option<Body>,
    ) -> Thread {
        let inner = ThreadInner::new(kind, name, auto_n, daemon, 0);
        Thread {
            inner: ThreadRef::boxed(inner, target),
        }
    }

    /// A thread already running (main or dummy), with a fresh ident.
    pub(crate) fn new_running(kind: Kind, name: Option<String>, daemon: bool) -> Thread {
        // The main thread is named "MainThread" explicitly, as in Python:
        // it does not consume a `Thread-N` number.
        let auto_n = if name.is_some() || kind == Kind::Main {
            0
        } else {
            NAME_COUNTER.fetch_add(1, Ordering::Relaxed)
        };
        let t = Thread::from_parts(kind, name, auto_n, daemon, None);
        t.inner.ident.store(next_ident(), Ordering::Relaxed);
        t.inner
            .native_id
            .store(crate::native::native_id(), Ordering::Relaxed);
        t.inner.state.transition_to_started();
        t
    }

    /// Starts the thread (Python's `start()`): returns once it is registered
    /// and alive; its target runs soon after on the runtime the `Thread` was
    /// created in (a `Thread` created outside any runtime: the calling
    /// thread's runtime, or else a process-wide Green runtime).
    ///
    /// # Errors
    ///
    /// - [`ThreadError::AlreadyStarted`] if it was started before.
    /// - [`ThreadError::ShuttingDown`] if the runtime's `run`/`block_on` has
    ///   returned; the target never runs.
    /// - [`ThreadError::StartFailed`] if the OS refused a thread (OS-thread
    ///   mode), or Green mode's workers could not start.
    ///
    /// After an error the thread is as it was: not alive, without an
    /// ident, `join()` fails with [`ThreadError::NotStarted`], no trace
    /// event is reported, and `start()` may be called again (as in Python).
    #[cfg_attr(feature = "tracing", track_caller)]
    pub fn start(&self) -> Result<(), ThreadError> {
        let loc = instrument::SpawnLocation::capture();
        let body = self.take_target()?;
        // `move`: the location is zero-sized without the feature, but a
        // reference to it would not be.
        context::with_runtime_or_global(move |current| match body.home() {
            // Started from its home runtime (the usual case): borrowed, no
            // reference count touched.
            Some(home) if !std::ptr::eq(home.as_ptr(), Arc::as_ptr(current)) => {
                match home.upgrade() {
                    Some(home) => self.start_on(&home, body, loc),
                    None => Err(self.put_back(body, ThreadError::ShuttingDown)),
                }
            }
            _ => self.start_on(current, body, loc),
        })
    }

    fn start_on(
        &self,
        rt: &Arc<handle::RtInner>,
        body: Body,
        loc: instrument::SpawnLocation,
    ) -> Result<(), ThreadError> {
        if rt.is_shutting_down() {
            return Err(self.put_back(body, ThreadError::ShuttingDown));
        }
        body.launch(rt, self, loc).map_err(|(e, body)| match body {
            Some(body) => self.put_back(body, e),
            None => e,
        })
    }

    /// A refused start: the thread is as before `start()`, target included,
    /// so it may be started again (CPython sets `_started` only once
    /// `_start_new_thread` succeeded). Returns `e`.
    fn put_back(&self, body: Body, e: ThreadError) -> ThreadError {
        // Only a thread on its own has a target to put back.
        self.inner
            .with_slot(|slot| *slot = TargetOrWaker::Target(Some(Box::new(body))));
        e
    }

    /// Takes the target for `start()`.
    fn take_target(&self) -> Result<Body, ThreadError> {
        if !matches!(self.inner.kind, Kind::Thread | Kind::Timer | Kind::Raw)
            || !self.inner.state.is_initial()
        {
            return Err(ThreadError::AlreadyStarted);
        }
        self.inner
            .with_slot(|slot| match std::mem::take(slot) {
                TargetOrWaker::Target(Some(target)) => Ok(*target),
                other => {
                    *slot = other;
                    Err(ThreadError::AlreadyStarted)
                }
            })
            .unwrap_or(Err(ThreadError::AlreadyStarted))
    }

    /// Waits until the thread ends (Python's `join()`); a switch point.
    ///
    /// # Errors
    ///
    /// - [`ThreadError::JoinSelf`] when a thread joins itself.
    /// - [`ThreadError::NotStarted`] before `start()`.
    /// - [`ThreadError::JoinDummy`] for a `_DummyThread`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future only stops waiting.
    pub async fn join(&self) -> Result<(), ThreadError> {
        self.join_deadline(None).await
    }

    /// Waits at most `d` for the thread to end (Python's `join(timeout)`);
    /// check [`is_alive`](Thread::is_alive) afterwards to tell which.
    /// Durations above [`TIMEOUT_MAX`](crate::TIMEOUT_MAX) are clamped.
    ///
    /// # Errors
    ///
    /// As [`join`](Thread::join); running out of time is not an error.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn join_timeout(&self, d: Duration) -> Result<(), ThreadError> {
        self.join_deadline(crate::time::deadline_after(d)).await
    }

    /// Joins until `deadline` (`None`: forever).
    async fn join_deadline(&self, deadline: Option<std::time::Instant>) -> Result<(), ThreadError> {
        self.check_joinable()?;
        let mut sleep = crate::time::Sleep::until(deadline);
        let ident = self.inner.ident.load(Ordering::Relaxed);
        let on = Some((crate::record::kind::JOIN, ident));
        crate::time::wait_event(&self.inner.done, || self.is_stopped(), &mut sleep, on).await;
        Ok(())
    }

    fn check_joinable(&self) -> Result<(), ThreadError> {
        if matches!(self.inner.kind, Kind::Dummy | Kind::Raw) {
            return Err(ThreadError::JoinDummy);
        }
        if self.inner.state.is_initial() {
            return Err(ThreadError::NotStarted);
        }
        let is_self = context::with_thread(|t| t.is_some_and(|t| std::ptr::eq(t, &*self.inner)));
        if is_self {
            return Err(ThreadError::JoinSelf);
        }
        Ok(())
    }

    /// Whether the thread is alive: from `start()` until just after its
    /// target ends (Python's `is_alive()`).
    pub fn is_alive(&self) -> bool {
        self.inner.state.is_started()
    }

    pub(crate) fn is_stopped(&self) -> bool {
        self.inner.state.is_stopped()
    }

    /// The thread's name (Python's `name`).
    #[doc(alias = "getName")]
    pub fn name(&self) -> String {
        self.inner.name()
    }

    /// Renames the thread (Python's `name = ...`); names need not be unique.
    #[doc(alias = "setName")]
    pub fn set_name(&self, name: impl Into<String>) {
        let name = name.into().into_boxed_str();
        self.inner.parts().extra().name = Some(name);
    }

    /// Python's `ident`: `None` until started, then a non-zero number unique
    /// among live threads (kept after the thread ends).
    pub fn ident(&self) -> Option<u64> {
        match self.inner.ident.load(Ordering::Acquire) {
            0 => None,
            n => Some(n),
        }
    }

    /// Python's `native_id`: the OS thread id it runs on (in Green mode, the
    /// worker it last ran on); `None` until it has run.
    pub fn native_id(&self) -> Option<u64> {
        match self.inner.native_id.load(Ordering::Relaxed) {
            0 => None,
            n => Some(u64::from(n)),
        }
    }

    /// The daemon flag (Python's `daemon`).
    #[doc(alias = "isDaemon")]
    pub fn is_daemon(&self) -> bool {
        self.inner.has_flag(DAEMON)
    }

    /// Sets the daemon flag before `start()` (Python's `daemon = ...`).
    ///
    /// # Errors
    ///
    /// [`ThreadError::DaemonAfterStart`] once the thread has been started
    /// (also after it ended).
    #[doc(alias = "setDaemon")]
    pub fn set_daemon(&self, daemon: bool) -> Result<(), ThreadError> {
        if !self.inner.state.is_initial() {
            return Err(ThreadError::DaemonAfterStart);
        }
        if daemon {
            self.inner.flags.fetch_or(DAEMON, Ordering::Relaxed);
        } else {
            self.inner.flags.fetch_and(!DAEMON, Ordering::Relaxed);
        }
        Ok(())
    }

    /// Asks the thread's wrapper to drop its target (runtime shutdown).
    pub(crate) fn cancel(&self) {
        self.inner.flags.fetch_or(CANCELLED, Ordering::Release);
        if let Some(w) = self.inner.embedded_task_waker() {
            // A thread in its task keeps no waker: woken through the task
            // at once, whether parked, queued, running (polled again after)
            // or ended (nothing then); its next poll sees `CANCELLED`.
            w.wake_by_ref();
            return;
        }
        let waker = self.inner.with_slot(|slot| match slot {
            TargetOrWaker::Waker(w) => Some(w.clone()),
            TargetOrWaker::Target(_) => None,
        });
        if let Some(w) = waker.flatten() {
            w.wake();
        }
    }
}

impl fmt::Display for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = match self.inner.kind {
            Kind::Thread => "Thread",
            Kind::Main => "_MainThread",
            Kind::Dummy | Kind::Raw => "_DummyThread",
            Kind::Timer => "Timer",
        };
        let status = self.inner.state.name();
        write!(f, "<{class}({}, {status}", self.name())?;
        if self.is_daemon() {
            f.write_str(" daemon")?;
        }
        if let Some(id) = self.ident() {
            write!(f, " {id}")?;
        }
        f.write_str(")>")
    }
}

impl fmt::Debug for Thread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Blocks the calling OS thread until `t` has stopped or `deadline` passes
/// (`None`: no deadline); returns whether it stopped. Used by the shutdown
/// sequence, which runs outside any green thread.
pub(crate) fn wait_stopped_blocking(t: &Thread, deadline: Option<std::time::Instant>) -> bool {
    while !t.is_stopped() {
        let l = t.inner.done.listen();
        if t.is_stopped() {
            break;
        }
        match deadline {
            None => l.wait(),
            Some(d) => {
                if l.wait_deadline(d).is_none() && std::time::Instant::now() >= d {
                    return t.is_stopped();
                }
            }
        }
    }
    true
}
