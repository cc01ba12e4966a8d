//! [`Runtime`], its [`Builder`], [`Mode`] and [`run`].
//!
//! # Design notes: shutdown
//!
//! `run`/`block_on` drive the main future on the calling OS thread as the
//! `MainThread`. When it ends — returning, panicking or calling `exit()` —
//! shutdown proceeds as Python's interpreter exit does:
//!
//! 1. Mark the main thread done (`is_alive()` false; `main_thread().join()`
//!    returns, as in Python), then join every non-daemon thread,
//!    repeatedly, until none is left (threads started meanwhile are waited
//!    for too).
//! 2. Close the registry: from now on `start()` fails with
//!    `ThreadError::ShuttingDown` (a start either registered before the
//!    close or sees it). Join the non-daemon threads once more.
//! 3. Cancel every remaining (daemon) thread: its wrapper drops the target
//!    (destructors run, guards release) and ends the thread. Wait until every
//!    thread has left the registry (its target dropped), at most [`DAEMON_DROP_GRACE`] — a daemon stuck in
//!    a loop that never awaits is abandoned, as Python abandons daemons.
//! 4. Mark the main thread stopped, drop its `Local` values, and return the
//!    main future's output (or resume its panic).
//!
//! Dropping the `Runtime` then stops the workers (Green) and joins them.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::panic::resume_unwind;
use std::pin::pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use crate::park;
use crate::scheduler::gil::{default_switch_interval, Gil};
use crate::scheduler::{green, os};
use crate::thread;
use crate::thread::blocking::blocking;
use crate::thread::context;
use crate::thread::handle::RtInner;
use crate::thread::instrument::SpawnLocation;
use crate::thread::task::{Ended, ThreadExit, ThreadTask};

pub use crate::scheduler::green::MAX_WORKERS;
pub use crate::scheduler::Mode;

/// Configures a [`Runtime`]. Explicit calls win over the `GREENTHREAD_*`
/// environment variables, which win over the defaults.
#[derive(Debug, Clone, Default)]
#[must_use]
pub struct Builder {
    workers: Option<usize>,
    mode: Option<Mode>,
    gil: Option<bool>,
    switch_interval: Option<Duration>,
    stall_handoff: bool,
    deadlock_detection: Option<bool>,
    stall_warning: Option<Option<Duration>>,
    dump_on_sigquit: Option<bool>,
}

impl Builder {
    /// Worker OS threads of the Green pool (default: available parallelism,
    /// at most [`MAX_WORKERS`]; ignored in OS-thread mode). 0 and values
    /// above [`MAX_WORKERS`] are an error at `build()`, in every mode.
    pub fn workers(mut self, n: usize) -> Builder {
        self.workers = Some(n);
        self
    }

    /// Green (default) or OS-thread mode.
    pub fn mode(mut self, mode: Mode) -> Builder {
        self.mode = Some(mode);
        self
    }

    /// GIL mode on or off (default off).
    pub fn gil(mut self, on: bool) -> Builder {
        self.gil = Some(on);
        self
    }

    /// The GIL's switch interval (default: the process-wide value, initially
    /// 5 ms as in CPython). Zero is an error at `build()`.
    pub fn switch_interval(mut self, d: Duration) -> Builder {
        self.switch_interval = Some(d);
        self
    }

    /// Stall hand-off (default off): a monitor thread notices a worker stuck
    /// for a couple of milliseconds in one poll — a green thread computing
    /// without reaching a switch point — and lends a spare worker OS thread
    /// so the other runnable threads keep running, as Go's scheduler does.
    /// At most `workers` spares run at once. Off by default because green
    /// threads then may run on more OS threads than `workers(n)` (see the
    /// `native_id` of such a thread); Green mode only.
    pub fn stall_handoff(mut self, on: bool) -> Builder {
        self.stall_handoff = on;
        self
    }

    /// Deadlock detection (default on; `GREENTHREAD_DEADLOCK=0|1`): a
    /// detector thread reports wait-for cycles and runtimes whose threads
    /// are all asleep through [`debug::set_deadlock_hook`](crate::debug::set_deadlock_hook)
    /// (see [`debug`](crate::debug)). It reads what threads publish in
    /// their waits' slow paths: the fast paths cost nothing more.
    pub fn deadlock_detection(mut self, on: bool) -> Builder {
        self.deadlock_detection = Some(on);
        self
    }

    /// Stall warnings (default `None`, off; `GREENTHREAD_STALL_MS=N`, 0 =
    /// off): a thread whose one poll runs longer than `d` — a loop that
    /// never reaches a switch point — is reported while it still runs,
    /// through [`debug::set_stall_hook`](crate::debug::set_stall_hook).
    /// This *names* the culprit; [`stall_handoff`](Self::stall_handoff)
    /// instead *works around* it (see [`debug`](crate::debug) for which to
    /// use when). A zero duration means off.
    pub fn stall_warning(mut self, d: Option<Duration>) -> Builder {
        self.stall_warning = Some(d);
        self
    }

    /// Print the thread dump ([`debug::dump`](crate::debug::dump)) to stderr
    /// whenever the process receives SIGQUIT (`kill -QUIT pid`, Ctrl-\),
    /// and go on, as the JVM does (default off;
    /// `GREENTHREAD_DUMP_ON_SIGQUIT=0|1`). Unix only; once on, it stays on
    /// for the process.
    pub fn dump_on_sigquit(mut self, on: bool) -> Builder {
        self.dump_on_sigquit = Some(on);
        self
    }

    /// Builds the runtime, starting its workers.
    ///
    /// # Errors
    ///
    /// `InvalidInput` naming the variable for an invalid `GREENTHREAD_*`
    /// value (`GREENTHREAD_WORKERS` above [`MAX_WORKERS`] included), for
    /// `workers(0)`, `workers(n)` above [`MAX_WORKERS`] or a zero switch
    /// interval — all checked before any worker starts; the OS's error if it
    /// refuses the worker threads.
    pub fn build(self) -> io::Result<Runtime> {
        let mode = match self.mode {
            Some(m) => m,
            None => match env("GREENTHREAD_MODE")? {
                None => Mode::Green,
                Some(v) => match v.as_str() {
                    "green" => Mode::Green,
                    "os" => Mode::OsThreads,
                    _ => return Err(bad_env("GREENTHREAD_MODE", &v, "`green` or `os`")),
                },
            },
        };
        let workers = match self.workers {
            Some(0) => return Err(invalid("workers must be at least 1")),
            Some(n) if n > MAX_WORKERS => {
                return Err(invalid(&format!(
                    "workers({n}) is above the maximum, MAX_WORKERS = {MAX_WORKERS}"
                )))
            }
            Some(n) => n,
            None => env_number(
                "GREENTHREAD_WORKERS",
                1..=MAX_WORKERS,
                &format!("a whole number from 1 to {MAX_WORKERS} (MAX_WORKERS)"),
            )?
            .unwrap_or_else(green::default_workers),
        };
        let gil = match self.gil {
            Some(g) => g,
            None => env_flag("GREENTHREAD_GIL", false)?,
        };
        let interval = match self.switch_interval {
            Some(d) if d.is_zero() => {
                return Err(invalid("switch interval must be strictly positive"))
            }
            Some(d) => d,
            None => env_number(
                "GREENTHREAD_SWITCH_INTERVAL_MS",
                1..=u64::MAX,
                "a whole number ≥ 1",
            )?
            .map_or_else(default_switch_interval, Duration::from_millis),
        };
        let deadlock = match self.deadlock_detection {
            Some(on) => on,
            None => env_flag("GREENTHREAD_DEADLOCK", true)?,
        };
        let stall = match self.stall_warning {
            Some(d) => d.filter(|d| !d.is_zero()),
            None => env_number("GREENTHREAD_STALL_MS", 0..=u64::MAX, "a whole number ≥ 0")?
                .filter(|&ms| ms > 0)
                .map(Duration::from_millis),
        };
        let sigquit = match self.dump_on_sigquit {
            Some(on) => on,
            None => env_flag("GREENTHREAD_DUMP_ON_SIGQUIT", false)?,
        };
        let os_threads_max = env_number(os::LIMIT_VAR, 1..=usize::MAX, "a whole number ≥ 1")?;
        if mode == Mode::OsThreads {
            os::init_limit(os_threads_max);
        }
        let gil = gil.then(|| Gil::new(interval));
        let inner = RtInner::new(mode, workers, gil, self.stall_handoff, false);
        inner.deadlock_detection.store(deadlock, Ordering::Relaxed);
        if let Some(d) = stall {
            let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1);
            inner.stall_warning_us.store(us, Ordering::Relaxed);
            crate::record::stall_warnings_on();
        }
        if mode == Mode::Green {
            inner.scheduler.ready()?;
        }
        if deadlock || stall.is_some() {
            crate::debug::ensure_detector();
        }
        if sigquit {
            crate::debug::dump_on_sigquit();
        }
        Ok(Runtime { inner })
    }
}

fn env(name: &str) -> io::Result<Option<String>> {
    match std::env::var(name) {
        Ok(v) => Ok(Some(v)),
        Err(std::env::VarError::NotPresent) => Ok(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(invalid(&format!("{name} is not valid Unicode")))
        }
    }
}

/// The `0`/`1` flag in the variable `name` (`default` if unset).
fn env_flag(name: &str, default: bool) -> io::Result<bool> {
    match env(name)?.as_deref() {
        None => Ok(default),
        Some("0") => Ok(false),
        Some("1") => Ok(true),
        Some(v) => Err(bad_env(name, v, "`0` or `1`")),
    }
}

/// The whole number in the variable `name`, if set: an error naming it
/// unless it lies in `range` (described by `expected`).
fn env_number<T: std::str::FromStr + PartialOrd>(
    name: &str,
    range: std::ops::RangeInclusive<T>,
    expected: &str,
) -> io::Result<Option<T>> {
    let Some(v) = env(name)? else {
        return Ok(None);
    };
    match v.parse::<T>() {
        Ok(n) if range.contains(&n) => Ok(Some(n)),
        _ => Err(bad_env(name, &v, expected)),
    }
}

fn bad_env(name: &str, value: &str, expected: &str) -> io::Error {
    invalid(&format!("invalid {name}={value:?}: expected {expected}"))
}

fn invalid(msg: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg.to_string())
}

/// A greenthread runtime: a worker pool (Green mode), a thread registry,
/// and optionally a GIL. Several may live in one process.
///
/// Dropping it shuts it down: remaining threads are cancelled (their futures
/// dropped) and the worker OS threads joined.
///
/// # Examples
///
/// ```
/// let rt = greenthread::Runtime::builder().workers(2).build().unwrap();
/// let n = rt.block_on(async {
///     let h = greenthread::spawn(async { 21 * 2 });
///     h.await.unwrap()
/// });
/// assert_eq!(n, 42);
/// ```
#[derive(Debug)]
pub struct Runtime {
    inner: Arc<RtInner>,
}

impl Runtime {
    /// A runtime from the defaults and the environment.
    ///
    /// # Errors
    ///
    /// As [`Builder::build`].
    pub fn new() -> io::Result<Runtime> {
        Builder::default().build()
    }

    /// A builder.
    pub fn builder() -> Builder {
        Builder::default()
    }

    /// The runtime's mode.
    pub fn mode(&self) -> Mode {
        self.inner.scheduler.mode()
    }

    /// Worker threads in the Green pool.
    pub fn workers(&self) -> usize {
        self.inner.scheduler.workers()
    }

    /// Whether the GIL is on.
    pub fn gil_enabled(&self) -> bool {
        self.inner.gil.is_some()
    }

    /// How many times the GIL passed from one thread to another so far (0
    /// without the GIL).
    pub fn gil_switches(&self) -> u64 {
        self.inner.gil.as_ref().map_or(0, Gil::switches)
    }

    /// Starts `future` as a new thread of this runtime (like [`spawn`](crate::spawn)
    /// called from one of its threads), from anywhere — a plain OS thread, a
    /// foreign executor, a benchmark harness. The thread is not a daemon.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = greenthread::Runtime::builder().workers(1).build().unwrap();
    /// let h = rt.spawn(async { 6 * 7 });
    /// assert_eq!(greenthread::block_on(h).unwrap(), 42);
    /// ```
    #[cfg_attr(feature = "tracing", track_caller)]
    pub fn spawn<F>(&self, future: F) -> thread::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let builder = thread::ThreadBuilder::default().daemon(false);
        thread::spawn_on(&self.inner, builder, future, SpawnLocation::capture())
    }

    /// Runs `main` as the main thread, then shuts down as Python does at
    /// interpreter exit: waits for every non-daemon thread, drops the daemon
    /// threads, and returns `main`'s output. `main` need not be `Send`: it
    /// runs on the calling OS thread (green threads never do).
    ///
    /// A panic in `main` is resumed after the non-daemon threads finish; an
    /// [`exit`](crate::exit) in `main` likewise unwinds out of `block_on`.
    /// Threads started after `block_on` returns fail with
    /// [`ThreadError::ShuttingDown`](crate::ThreadError::ShuttingDown).
    ///
    /// It may be called from a green thread of *another* runtime: as
    /// [`block_on`](crate::block_on) there, it blocks only that thread
    /// (SPEC §10.21).
    ///
    /// # Panics
    ///
    /// At once, before running `main`, if called from one of this same
    /// runtime's threads (its main thread or a thread it runs, directly or
    /// through another runtime's `block_on` called there): its shutdown
    /// would wait for the calling thread forever (SPEC §10.22). Use
    /// `.await` there, or [`spawn`](crate::spawn) for a new thread.
    #[cfg_attr(feature = "tracing", track_caller)]
    pub fn block_on<F: Future>(&self, main: F) -> F::Output {
        self.block_on_at(main, SpawnLocation::capture())
    }

    /// [`block_on`](Runtime::block_on), called at `loc`.
    fn block_on_at<F: Future>(&self, main: F, loc: SpawnLocation) -> F::Output {
        let rt = &self.inner;
        let _entered = Entered::enter(rt);
        // `move` (`rt` is a reference): the location is captured by value,
        // zero-sized without the `tracing` feature.
        blocking(move || {
            rt.main
                .inner
                .native_id
                .store(crate::native::native_id(), Ordering::Relaxed);
            let out = park::drive(pin!(ThreadTask::new(
                std::mem::ManuallyDrop::new(rt.main.clone()),
                rt.clone(),
                main,
                false,
                loc
            )));
            rt.shutdown_after_main();
            match out {
                Ok(v) => v,
                Err(Ended::Panicked(p)) => resume_unwind(p.into_payload()),
                Err(Ended::Exited | Ended::Cancelled) => resume_unwind(Box::new(ThreadExit)),
            }
        })
    }
}

impl Drop for Runtime {
    fn drop(&mut self) {
        self.inner.shutdown_now();
    }
}

thread_local! {
    /// The runtimes this OS thread is inside of through the enclosing
    /// [`Runtime::block_on`] calls: each call's own runtime and the runtime
    /// whose thread made it. Compared by address only, never dereferenced.
    static ENTERED: RefCell<Vec<*const RtInner>> = const { RefCell::new(Vec::new()) };
}

/// One `Runtime::block_on` call's entries in `ENTERED`, removed on drop
/// (unwinding too).
struct Entered {
    /// How many entries it pushed.
    pushed: usize,
}

impl Entered {
    /// Records that this OS thread enters `rt`'s `block_on`.
    ///
    /// # Panics
    ///
    /// If the calling thread is one of `rt`'s own (SPEC §10.22).
    fn enter(rt: &Arc<RtInner>) -> Entered {
        let me = Arc::as_ptr(rt);
        let caller = context::with_runtime(|r| r.map(|r| r as *const RtInner));
        let nested = caller == Some(me) || ENTERED.with(|e| e.borrow().contains(&me));
        if nested {
            panic!(
                "Runtime::block_on called from a thread of the same runtime; its shutdown \
                 would wait for the calling thread forever: `.await` the future instead, \
                 or `spawn` it"
            );
        }
        ENTERED.with(|e| {
            let mut e = e.borrow_mut();
            e.extend(caller);
            e.push(me);
        });
        Entered {
            pushed: 1 + usize::from(caller.is_some()),
        }
    }
}

impl Drop for Entered {
    fn drop(&mut self) {
        let _ = ENTERED.try_with(|e| {
            let mut e = e.borrow_mut();
            let keep = e.len().saturating_sub(self.pushed);
            e.truncate(keep);
        });
    }
}

/// Builds a runtime from the defaults and the environment and runs `main` on
/// it as the main thread (see [`Runtime::block_on`]).
///
/// # Panics
///
/// If a `GREENTHREAD_*` variable is invalid (the message names it) or the OS
/// refuses the worker threads. An [`exit`](crate::exit) in `main` ends the
/// process with status 0 after shutdown, like Python's `sys.exit()`.
///
/// # Examples
///
/// ```
/// greenthread::run(async {
///     let t = greenthread::Thread::new(|| async { println!("hello from a green thread") });
///     t.start().unwrap();
///     t.join().await.unwrap();
/// });
/// ```
#[cfg_attr(feature = "tracing", track_caller)]
pub fn run<F: Future>(main: F) -> F::Output {
    let rt = match Runtime::new() {
        Ok(rt) => rt,
        Err(e) => panic!("greenthread: cannot build the runtime: {e}"),
    };
    let loc = SpawnLocation::capture();
    let rt_ref = &rt;
    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        rt_ref.block_on_at(main, loc)
    }));
    drop(rt);
    match out {
        Ok(v) => v,
        Err(p) if p.is::<ThreadExit>() => std::process::exit(0),
        Err(p) => resume_unwind(p),
    }
}
