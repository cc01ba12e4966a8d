//! Python-style threads: [`Thread`], [`Target`], the module functions
//! ([`current_thread`], [`enumerate`], ...), [`spawn`], [`Timer`] and
//! [`Local`].
//!
//! # Design notes
//!
//! 1. A [`Thread`] is an `Arc` handle to a `ThreadInner`: the Python-visible
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
pub(crate) mod context;
mod error;
pub(crate) mod handle;
mod hooks;
mod ident;
pub(crate) mod instrument;
mod local;
pub(crate) mod registry;
mod spawn;
mod state;
mod target;
pub(crate) mod task;
mod timer;

pub use blocking::block_on;
pub use error::{JoinError, ThreadError};
pub use hooks::{
    excepthook, getprofile, gettrace, set_excepthook, setprofile, setprofile_all_threads, settrace,
    settrace_all_threads, ExceptHook, ExceptHookArgs, TraceEvent, TraceHook,
};
pub(crate) use hooks::{
    install_at_start as hooks_install, install_panic_hook, uninstall as hooks_uninstall, Hooks,
};
pub(crate) use ident::next_ident;
pub(crate) use local::teardown as teardown_locals;
pub use local::Local;
pub(crate) use spawn::spawn_on;
pub use spawn::{spawn, JoinHandle};
pub use target::Target;
pub(crate) use target::{Body, BodyFuture, RunTarget};
pub use timer::Timer;

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Waker;
use std::time::Duration;

use event_listener::{Event, Listener};
use state::Lifecycle;

/// The Python class a thread shows in its `Display`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `Thread`.
    Thread,
    /// `_MainThread`.
    Main,
    /// `_DummyThread`: a foreign OS thread.
    Dummy,
    /// `Timer`.
    Timer,
    /// A thread of [`start_new_thread`](crate::lowlevel::start_new_thread)
    /// (Python's `_thread`): no `Thread` object, so hidden from
    /// `enumerate()` and unnamed until it calls `current_thread()`, which
    /// makes it a registered `_DummyThread` (`Dummy-N`) — as in CPython.
    Raw,
}

/// `ThreadInner::flags`: asks the thread's wrapper to drop its target
/// (shutdown).
pub(crate) const CANCELLED: u8 = 1;
/// `ThreadInner::flags`: its `Local` values have been torn down; a value
/// created afterwards is dropped as soon as it has been used.
pub(crate) const LOCALS_CLOSED: u8 = 2;
/// `ThreadInner::flags`: a `Kind::Raw` thread not yet seen by
/// `current_thread()`: registered (so shutdown finds it) but not counted
/// by `enumerate()`/`active_count()`. Changed only under its registry
/// shard's lock.
pub(crate) const HIDDEN: u8 = 4;

/// The process-wide counter behind `Thread-N` and `Dummy-N` names (Python's
/// `_counter`), shared with `Timer`; explicitly named threads don't use it.
static NAME_COUNTER: AtomicU64 = AtomicU64::new(1);
/// The shared state of one thread.
pub(crate) struct ThreadInner {
    /// Python class.
    pub(crate) kind: Kind,
    /// `INITIAL`, `STARTED` or `STOPPED`.
    pub(crate) state: Lifecycle,
    /// [`CANCELLED`], [`LOCALS_CLOSED`], [`HIDDEN`].
    pub(crate) flags: AtomicU8,
    /// The daemon flag.
    daemon: AtomicBool,
    /// Its slot in the registry (`registry::NO_SLOT`: not registered).
    pub(crate) reg_slot: AtomicU32,
    /// Python's `ident`; 0 until started.
    pub(crate) ident: AtomicU64,
    /// The OS thread it last ran on; 0 until it has run.
    pub(crate) native_id: AtomicU64,
    /// `N` of the automatic name (0: named explicitly, or a
    /// `start_new_thread` thread not yet seen by `current_thread()`).
    pub(crate) auto_n: AtomicU64,
    /// Notified when the thread is marked `STOPPED`.
    pub(crate) done: Event,
    /// What it waits on (`crate::record`; written only by the thread).
    pub(crate) record: crate::record::WaitRecord,
    /// The target or the task's waker, and the rarely used state; one lock
    /// for all of it keeps a parked thread small (issue 6, W9).
    pub(crate) parts: Mutex<Parts>,
    /// The runtime the thread was created in (`None`: outside any runtime);
    /// `start()` starts it there, so starting it after that runtime shut
    /// down fails (SPEC §10.4) instead of running it elsewhere.
    home: Option<std::sync::Weak<handle::RtInner>>,
}

/// What a thread's one lock guards.
#[derive(Default)]
pub(crate) struct Parts {
    /// The target until `start()`, then the task's waker until the end.
    pub(crate) slot: TargetOrWaker,
    /// Boxed on first use: most threads never need it.
    extra: Option<Box<Extra>>,
}

impl Parts {
    /// The rarely used state, created on first use.
    pub(crate) fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The `Local` values, taken out (the thread is ending).
    pub(crate) fn take_locals(&mut self) -> Vec<(usize, Box<dyn Any + Send>)> {
        self.extra
            .as_mut()
            .map(|e| std::mem::take(&mut e.locals))
            .unwrap_or_default()
    }

    /// The number of `Local` values.
    pub(crate) fn locals_len(&self) -> usize {
        self.extra.as_ref().map_or(0, |e| e.locals.len())
    }

    /// Takes out the oldest `Local` value, if any.
    pub(crate) fn take_first_local(&mut self) -> Option<Box<dyn Any + Send>> {
        let locals = &mut self.extra.as_mut()?.locals;
        (!locals.is_empty()).then(|| locals.remove(0).1)
    }
}

/// A thread's target, then its task's waker.
#[derive(Default)]
pub(crate) enum TargetOrWaker {
    /// Neither (taken, or never had one: main, dummy, `spawn`).
    #[default]
    Empty,
    /// The target, until `start()` takes it.
    Target(Body),
    /// The task's waker, so shutdown can wake it to be cancelled.
    Waker(Waker),
}

/// The state few threads use.
#[derive(Default)]
pub(crate) struct Extra {
    /// An explicit (or renamed) name; `None`: the automatic one.
    pub(crate) name: Option<Box<str>>,
    /// `Local` values: (key, value).
    pub(crate) locals: Vec<(usize, Box<dyn Any + Send>)>,
    /// Trace and profile hooks installed in this thread.
    pub(crate) hooks: Option<Arc<Hooks>>,
}

impl ThreadInner {
    /// Whether `flag` (of `flags`) is set.
    pub(crate) fn has_flag(&self, flag: u8) -> bool {
        self.flags.load(Ordering::Acquire) & flag != 0
    }

    /// Locks the thread's parts (never poisoned in practice: nothing panics
    /// under this lock; a poisoned one is used as is).
    pub(crate) fn parts(&self) -> std::sync::MutexGuard<'_, Parts> {
        self.parts.lock().unwrap_or_else(|e| e.into_inner())
    }
}

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
    pub(crate) inner: Arc<ThreadInner>,
}

impl PartialEq for Thread {
    fn eq(&self, other: &Thread) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for Thread {}

impl std::hash::Hash for Thread {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        Arc::as_ptr(&self.inner).hash(state);
    }
}

/// Builds a [`Thread`] with a name or daemon flag (Python's `Thread(name=,
/// daemon=)`), or spawns a future as one.
#[derive(Debug, Default, Clone)]
#[must_use]
pub struct ThreadBuilder {
    name: Option<String>,
    daemon: Option<bool>,
}

impl ThreadBuilder {
    /// Sets the name (an empty name means the automatic `Thread-N`, as in
    /// Python).
    pub fn name(mut self, name: impl Into<String>) -> ThreadBuilder {
        let name = name.into();
        self.name = if name.is_empty() { None } else { Some(name) };
        self
    }

    /// Sets the daemon flag (default: the creating thread's).
    pub fn daemon(mut self, daemon: bool) -> ThreadBuilder {
        self.daemon = Some(daemon);
        self
    }

    /// Creates the (not yet started) thread.
    pub fn build<T: Target>(self, target: T) -> Thread {
        self.build_kind(Kind::Thread, target)
    }

    /// Creates a (not yet started) thread of `kind` running `target`.
    pub(crate) fn build_kind<T: Target>(self, kind: Kind, target: T) -> Thread {
        let body = Box::new(BodyFuture(RunTarget::Init(target, T::run)));
        self.build_inner(kind, Some(body))
    }

    /// Starts `future` as a thread with this name and daemon flag, returning
    /// a handle to its result (see [`spawn`]).
    #[cfg_attr(feature = "tracing", track_caller)]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let thread = self.build_inner(Kind::Thread, None);
        spawn::spawn_thread(thread, future, instrument::SpawnLocation::capture())
    }

    pub(crate) fn build_inner(self, kind: Kind, target: Option<Body>) -> Thread {
        let daemon = self.daemon.unwrap_or_else(current_is_daemon);
        let auto_n = match (&self.name, kind) {
            // A `start_new_thread` thread takes its `Dummy-N` when it is
            // first seen (`registry::reveal`).
            (Some(_), _) | (None, Kind::Raw) => 0,
            (None, _) => NAME_COUNTER.fetch_add(1, Ordering::Relaxed),
        };
        Thread::from_parts(kind, self.name, auto_n, daemon, target)
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

    pub(crate) fn from_parts(
        kind: Kind,
        name: Option<String>,
        auto_n: u64,
        daemon: bool,
        target: Option<Body>,
    ) -> Thread {
        let has_target = target.is_some();
        Thread {
            inner: Arc::new(ThreadInner {
                kind,
                state: Lifecycle::initial(),
                // A `start_new_thread` thread is hidden until it calls
                // `current_thread()`.
                flags: AtomicU8::new(if kind == Kind::Raw { HIDDEN } else { 0 }),
                daemon: AtomicBool::new(daemon),
                reg_slot: AtomicU32::new(registry::NO_SLOT),
                ident: AtomicU64::new(0),
                native_id: AtomicU64::new(0),
                auto_n: AtomicU64::new(auto_n),
                done: Event::new(),
                record: crate::record::WaitRecord::default(),
                parts: Mutex::new(Parts {
                    slot: target.map_or(TargetOrWaker::Empty, TargetOrWaker::Target),
                    extra: name.map(|n| {
                        Box::new(Extra {
                            name: Some(n.into_boxed_str()),
                            ..Extra::default()
                        })
                    }),
                }),
                // Only a thread that `start()` will launch needs its home:
                // main, dummy and `spawn` threads are running already.
                home: match (kind, has_target) {
                    (Kind::Thread | Kind::Timer | Kind::Raw, true) => context::home_runtime(),
                    _ => None,
                },
            }),
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
        // `move`: the location is zero-sized without the feature, but a
        // reference to it would not be.
        context::with_runtime_or_global(move |current| match &self.inner.home {
            // Started from its home runtime (the usual case): borrowed, no
            // reference count touched.
            Some(home) if !std::ptr::eq(home.as_ptr(), Arc::as_ptr(current)) => {
                let home = home.upgrade().ok_or(ThreadError::ShuttingDown)?;
                self.start_on(&home, loc)
            }
            _ => self.start_on(current, loc),
        })
    }

    fn start_on(
        &self,
        rt: &Arc<handle::RtInner>,
        loc: instrument::SpawnLocation,
    ) -> Result<(), ThreadError> {
        if rt.is_shutting_down() {
            return Err(ThreadError::ShuttingDown);
        }
        self.take_target()?
            .launch(rt, self, loc)
            .map_err(|(e, body)| {
                // Refused: the thread is as before `start()`, target included,
                // so it may be started again (CPython sets `_started` only once
                // `_start_new_thread` succeeded).
                if let Some(body) = body {
                    self.inner.parts().slot = TargetOrWaker::Target(body);
                }
                e
            })
    }

    /// Takes the target for `start()`.
    fn take_target(&self) -> Result<Body, ThreadError> {
        if !matches!(self.inner.kind, Kind::Thread | Kind::Timer | Kind::Raw)
            || !self.inner.state.is_initial()
        {
            return Err(ThreadError::AlreadyStarted);
        }
        let mut parts = self.inner.parts();
        match std::mem::take(&mut parts.slot) {
            TargetOrWaker::Target(target) => Ok(target),
            other => {
                parts.slot = other;
                Err(ThreadError::AlreadyStarted)
            }
        }
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
        let parts = self.inner.parts();
        match parts.extra.as_ref().and_then(|e| e.name.as_deref()) {
            Some(n) => n.to_string(),
            None => self.auto_name(),
        }
    }

    fn auto_name(&self) -> String {
        match self.inner.kind {
            Kind::Main => "MainThread".to_string(),
            Kind::Dummy | Kind::Raw => {
                format!("Dummy-{}", self.inner.auto_n.load(Ordering::Relaxed))
            }
            Kind::Thread | Kind::Timer => {
                format!("Thread-{}", self.inner.auto_n.load(Ordering::Relaxed))
            }
        }
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
            n => Some(n),
        }
    }

    /// The daemon flag (Python's `daemon`).
    #[doc(alias = "isDaemon")]
    pub fn is_daemon(&self) -> bool {
        self.inner.daemon.load(Ordering::Relaxed)
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
        self.inner.daemon.store(daemon, Ordering::Relaxed);
        Ok(())
    }

    /// Asks the thread's wrapper to drop its target (runtime shutdown).
    pub(crate) fn cancel(&self) {
        self.inner.flags.fetch_or(CANCELLED, Ordering::Release);
        let waker = match &self.inner.parts().slot {
            TargetOrWaker::Waker(w) => Some(w.clone()),
            _ => None,
        };
        if let Some(w) = waker {
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

/// Whether the calling thread is a daemon (what new threads inherit).
fn current_is_daemon() -> bool {
    context::with_thread(|t| t.map(|t| t.daemon.load(Ordering::Relaxed)))
        .unwrap_or_else(|| current_thread().is_daemon())
}

/// The calling thread (Python's `current_thread()`): the green thread being
/// run, the runtime's main thread, or — on an OS thread greenthread did not
/// start — a `_DummyThread` registered for it.
#[doc(alias = "currentThread")]
pub fn current_thread() -> Thread {
    let t = current_thread_unseen();
    if t.inner.kind == Kind::Raw {
        registry::reveal(&t);
    }
    t
}

/// [`current_thread`] without making a `start_new_thread` thread a visible
/// `_DummyThread` (what `Local` uses: Python's `threading.local` does not
/// call `current_thread()` either).
pub(crate) fn current_thread_unseen() -> Thread {
    context::thread().unwrap_or_else(registry::dummy_for_this_os_thread)
}

/// The main thread (Python's `main_thread()`): the thread running the
/// runtime's `run`/`block_on` future; outside any runtime, the process-wide
/// runtime's main thread.
pub fn main_thread() -> Thread {
    handle::current_or_global().main.clone()
}

/// The number of alive threads (Python's `active_count()`), equal to
/// `enumerate().len()`.
#[doc(alias = "activeCount")]
pub fn active_count() -> usize {
    handle::current_or_global().registry.len()
}

/// All alive threads of the calling thread's runtime, main, daemon and dummy
/// threads included, in start order (Python's `threading.enumerate()`). A
/// [`start_new_thread`](crate::lowlevel::start_new_thread) thread is listed
/// once it has called [`current_thread`], as in Python.
pub fn enumerate() -> Vec<Thread> {
    handle::current_or_global().registry.visible()
}

/// The calling thread's ident (Python's `get_ident()`).
pub fn get_ident() -> u64 {
    context::with_thread(|t| t.map(|t| t.ident.load(Ordering::Relaxed)))
        .unwrap_or_else(|| current_thread().ident().unwrap_or(0))
}

/// The calling OS thread's kernel id (Python's `get_native_id()`).
pub fn get_native_id() -> u64 {
    crate::native::native_id()
}

/// Ends the calling thread quietly (Python's `_thread.exit()` /
/// `SystemExit`): its future is dropped (guards it holds are released), no
/// excepthook runs, and `join()` returns `Ok`. In the main thread it ends
/// `run`/`block_on` the same way once non-daemon threads have finished, by
/// unwinding out of it.
pub fn exit() -> ! {
    std::panic::resume_unwind(Box::new(task::ThreadExit))
}

/// The process-wide stack size for new OS threads (Python's
/// `threading.stack_size([size])`): `Some(n)` sets it (0 = the platform
/// default) and returns the previous setting; `None` only reads it.
/// Initially 0. Used by OS-thread mode.
///
/// # Errors
///
/// `InvalidInput` ("size not valid: N bytes") for sizes below 32 KiB other
/// than 0.
pub fn stack_size(size: Option<usize>) -> std::io::Result<usize> {
    static STACK_SIZE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    const MIN: usize = 32 * 1024;
    match size {
        None => Ok(STACK_SIZE.load(Ordering::Relaxed)),
        Some(n) if n != 0 && n < MIN => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("size not valid: {n} bytes"),
        )),
        Some(n) => Ok(STACK_SIZE.swap(n, Ordering::Relaxed)),
    }
}

impl ThreadInner {
    /// Marks the thread `STOPPED` and wakes every joiner.
    pub(crate) fn mark_stopped(&self) {
        self.state.transition_to_stopped();
        // `Event::notify` allocates the event's list on first use, even
        // with nobody listening, and most threads are never joined through
        // it (a `spawn` handle waits on the task): a malloc and a free per
        // thread (W2). So look for listeners first. Every joiner listens,
        // then looks at the state again, and `listen` fences (SeqCst) after
        // registering; with this fence, either its look sees `STOPPED` or
        // this count sees it.
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.done.total_listeners() > 0 {
            self.done.notify(usize::MAX);
        }
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
