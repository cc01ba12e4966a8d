//! Observability: a thread dump of every green and OS thread with what it
//! waits on ([`dump`]), deadlock reports ([`set_deadlock_hook`]) and stall
//! warnings ([`set_stall_hook`]).
//!
//! # The dump
//!
//! [`dump()`] works from anywhere — a green thread, the main thread, a
//! plain OS thread, with no runtime at all (then it lists the dummy threads
//! only) — and never pauses the program or waits for a busy thread: each
//! thread publishes what it waits on in a small record of its own, written
//! only in the slow path of a wait (the uncontended fast paths of a free
//! `Lock`, a set `Event` or a non-empty queue do no extra atomic
//! read-modify-write and take no lock), and the dump reads those records.
//! A thread being polled right now shows [`ThreadState::Running`].
//!
//! A dump is a snapshot, taken thread by thread: a thread woken a moment
//! ago may still show the wait it is leaving.
//!
//! Its `Display` is the text dump, one block per thread after a header per
//! runtime (mode, workers, GIL), like Java's and Go's. Above
//! [`GROUP_ABOVE`] threads in a runtime, threads in the same state are
//! grouped (one block per state with a count and a few examples, largest
//! groups first), as Go's `goroutine` profile with `debug=1` does, so a
//! million threads stay readable; [`Dump::threads`] and [`Dump::to_json`]
//! keep every thread.
//!
//! ```
//! greenthread::run(async {
//!     let ev = greenthread::Event::new();
//!     let ev2 = ev.clone();
//!     let t = greenthread::Thread::builder()
//!         .name("waiter")
//!         .build(move || async move { ev2.wait().await; });
//!     t.start().unwrap();
//!     greenthread::sleep(std::time::Duration::from_millis(50)).await;
//!     let d = greenthread::debug::dump();
//!     let w = d.threads().iter().find(|t| t.name == "waiter").unwrap();
//!     assert!(matches!(w.state, greenthread::debug::ThreadState::Waiting(
//!         greenthread::debug::WaitingOn::Event { .. })));
//!     println!("{d}");
//!     ev.set();
//! });
//! ```
//!
//! # JSON schema of [`Dump::to_json`]
//!
//! One object:
//!
//! ```text
//! {
//!   "runtimes": [ { "index": 0, "mode": "green" | "os", "workers": N,
//!                   "gil": bool, "process_wide": bool, "threads": N } ],
//!   "threads": [ {
//!       "name": string, "ident": N | null, "native_id": N | null,
//!       "daemon": bool,
//!       "class": "Thread" | "_MainThread" | "_DummyThread" | "Timer",
//!       "runtime": index into "runtimes",
//!       "state": "initial" | "runnable" | "running" | "waiting" | "stopped",
//!       "waiting_on": null | {
//!           "kind": "lock" | "rlock" | "condition" | "semaphore" | "event"
//!                 | "barrier" | "queue" | "join" | "sleep" | "io" | "gil"
//!                 | "other",
//!           "id": N,          // lock .. queue: the primitive's id
//!           "holder": N|null, // lock: the holder's ident
//!           "owner": N|null,  // rlock: the owner's ident
//!           "ident": N        // join: the joined thread's ident
//!       },
//!       "waited_ms": number | null
//!   } ]
//! }
//! ```
//!
//! Threads are listed as by [`Dump::threads`]; strings are JSON-escaped.
//!
//! # Deadlocks
//!
//! A runtime-internal detector thread (one per process, started by the
//! first runtime built with detection on; it wakes every 250 ms and reads
//! the records, off every thread's path) reports, through the hook of
//! [`set_deadlock_hook`], once per deadlock, within about a second of it
//! forming (it must look the same in two looks in a row). With very many
//! threads the looks space out to keep the detector under a ninth of one
//! core (a pause of at least 8 times the last look's length), so with a
//! million threads a report can take a few seconds:
//!
//! - a **cycle**: threads each waiting without a timeout on a `Lock` whose
//!   holder is the next, an `RLock` owned by the next (a `Condition`'s wait
//!   counts as waiting on its lock once notified), or to join the next —
//!   [`Deadlock::threads`] lists the cycle in order, `all_asleep` is false;
//! - **all asleep**: every thread of a runtime — its main thread included;
//!   main waiting in `run`'s shutdown counts as joining — waits without a
//!   timeout on a greenthread primitive or a join, with no sleep, timer or
//!   socket wait pending and nothing runnable (Go's "all goroutines are
//!   asleep"). A runtime whose threads are also in a reported cycle is not
//!   reported again as all asleep. A foreign OS thread that later wakes one
//!   of them (it holds a clone of the primitive) makes this a false alarm:
//!   greenthread cannot see what foreign threads will do.
//!
//! Nothing is killed: the threads stay blocked, as in Python. A timed wait
//! (the `_timeout` forms, `join_timeout`, a wait under
//! [`timeout`](crate::timeout) or raced against a sleep) and a sleep end by
//! themselves and are never part of a report; nor is a thread blocked
//! outside greenthread's primitives. The default hook prints the report's
//! `Display`, which names every thread, what it waits on and who holds it,
//! to stderr. Turn detection off with
//! [`Builder::deadlock_detection(false)`](crate::Builder::deadlock_detection)
//! or `GREENTHREAD_DEADLOCK=0`.
//!
//! # Stall warnings
//!
//! With [`Builder::stall_warning(Some(d))`](crate::Builder::stall_warning)
//! (or `GREENTHREAD_STALL_MS=N`), a thread that keeps one poll running
//! longer than `d` — a loop that never reaches a switch point — is reported
//! once per such poll while it is still running, within `d` + 100 ms,
//! through the hook of [`set_stall_hook`] (default: `Display` to stderr).
//! In both modes. Costs, while on, a clock read and two stores per poll.
//!
//! Which to use: `stall_warning` *tells* you which thread hogs its worker
//! (find and fix the loop: add a [`yield_now`](crate::yield_now) or a
//! [`checkpoint`](crate::checkpoint)); `stall_handoff` *works around* it
//! (lends a spare worker so the others keep running) without naming it.
//! Use `stall_warning` while developing, `stall_handoff` in production for
//! code you cannot change; both may be on.
//!
//! # On demand from outside
//!
//! With `GREENTHREAD_DUMP_ON_SIGQUIT=1` (or
//! [`Builder::dump_on_sigquit(true)`](crate::Builder::dump_on_sigquit)),
//! `kill -QUIT pid` (Ctrl-\ in a terminal) prints the dump to stderr and
//! the program goes on, as the JVM does (Unix only).

use std::collections::{HashMap, HashSet};
use std::fmt::{self, Write as _};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Once, RwLock};
use std::time::Duration;

use crate::record::{self, kind, Snapshot};
use crate::scheduler::Mode;
use crate::thread::handle::{self, RtInner};
#[cfg(feature = "tracing")]
use crate::thread::instrument::{trace_report, ReportLevel};
use crate::thread::{Kind, Thread};

/// Above this many threads in one runtime, the text dump groups threads in
/// the same state.
pub const GROUP_ABOVE: usize = 1000;

/// A snapshot of every thread of every live runtime, plus dummy threads.
#[derive(Debug, Clone)]
pub struct Dump {
    threads: Vec<ThreadInfo>,
    /// The runtime of each thread (index into `runtimes`).
    runtime_of: Vec<usize>,
    runtimes: Vec<RuntimeInfo>,
}

/// A runtime as a dump shows it.
#[derive(Debug, Clone)]
struct RuntimeInfo {
    mode: Mode,
    workers: usize,
    gil: bool,
    process_wide: bool,
}

/// One thread in a [`Dump`] or a report.
#[derive(Debug, Clone)]
pub struct ThreadInfo {
    /// Its name.
    pub name: String,
    /// Its ident.
    pub ident: Option<u64>,
    /// The OS thread it last ran on.
    pub native_id: Option<u64>,
    /// The daemon flag.
    pub daemon: bool,
    /// `"Thread"`, `"_MainThread"`, `"_DummyThread"` or `"Timer"`.
    pub class: &'static str,
    /// What it is doing.
    pub state: ThreadState,
    /// How long it has been in its current `Waiting` state.
    pub waited: Option<Duration>,
}

/// A thread's state.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ThreadState {
    /// Not started.
    Initial,
    /// Ready to run (not polled yet, or it yielded).
    Runnable,
    /// Being polled right now (a dummy thread: running its own code).
    Running,
    /// Suspended in a wait.
    Waiting(WaitingOn),
    /// Ended.
    Stopped,
}

/// What a waiting thread waits on.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum WaitingOn {
    /// A `Lock`; `holder`: the ident of the thread that acquired it and has
    /// not released it.
    Lock {
        /// The lock's id.
        id: u64,
        /// Who holds it.
        holder: Option<u64>,
    },
    /// An `RLock`.
    RLock {
        /// The lock's id.
        id: u64,
        /// Who owns it.
        owner: Option<u64>,
    },
    /// A `Condition` (until notified; then its lock).
    Condition {
        /// The condition's id.
        id: u64,
    },
    /// A `Semaphore` or `BoundedSemaphore`.
    Semaphore {
        /// The semaphore's id.
        id: u64,
    },
    /// An `Event`.
    Event {
        /// The event's id.
        id: u64,
    },
    /// A `Barrier`.
    Barrier {
        /// The barrier's id.
        id: u64,
    },
    /// Any queue kind, get or put.
    Queue {
        /// The queue's id.
        id: u64,
    },
    /// `join`, `join_timeout` or a `JoinHandle`, of that thread.
    Join {
        /// The joined thread's ident.
        ident: u64,
    },
    /// `sleep`, a `Timer`'s interval.
    Sleep,
    /// A socket.
    Io,
    /// The GIL.
    Gil,
    /// Any other future.
    Other,
}

/// A deadlock report (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Deadlock {
    /// The cycle in order, or every thread of the runtime.
    pub threads: Vec<ThreadInfo>,
    /// Go's "all goroutines are asleep" rather than a cycle.
    pub all_asleep: bool,
}

/// Called with each deadlock report.
pub type DeadlockHook = Arc<dyn Fn(&Deadlock) + Send + Sync>;

/// A stall warning (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct Stall {
    /// The thread (its state: `Running`).
    pub thread: ThreadInfo,
    /// How long its current poll has run.
    pub running_for: Duration,
}

/// Called with each stall warning.
pub type StallHook = Arc<dyn Fn(&Stall) + Send + Sync>;

static DEADLOCK_HOOK: RwLock<Option<DeadlockHook>> = RwLock::new(None);
static STALL_HOOK: RwLock<Option<StallHook>> = RwLock::new(None);

/// Replaces the deadlock hook (process-wide). A hook that panics is caught
/// (the detector goes on).
pub fn set_deadlock_hook(hook: DeadlockHook) {
    *DEADLOCK_HOOK.write().unwrap_or_else(|e| e.into_inner()) = Some(hook);
}

/// The current deadlock hook (by default: print the report to stderr).
pub fn deadlock_hook() -> DeadlockHook {
    DEADLOCK_HOOK
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| Arc::new(|d: &Deadlock| eprintln!("{d}")))
}

/// Replaces the stall hook (process-wide). A hook that panics is caught.
pub fn set_stall_hook(hook: StallHook) {
    *STALL_HOOK.write().unwrap_or_else(|e| e.into_inner()) = Some(hook);
}

/// The current stall hook (by default: print the warning to stderr).
pub fn stall_hook() -> StallHook {
    STALL_HOOK
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| Arc::new(|s: &Stall| eprintln!("{s}")))
}

impl ThreadInfo {
    fn of(t: &Thread, now: u64) -> ThreadInfo {
        let inner = &t.inner;
        let snap = inner.record.snapshot();
        let (state, waited) = state_of(t, &snap, now);
        ThreadInfo {
            name: t.name(),
            ident: t.ident(),
            native_id: t.native_id(),
            daemon: t.is_daemon(),
            class: class_of(inner.kind),
            state,
            waited,
        }
    }
}

fn class_of(k: Kind) -> &'static str {
    match k {
        Kind::Thread => "Thread",
        Kind::Main => "_MainThread",
        Kind::Dummy | Kind::Raw => "_DummyThread",
        Kind::Timer => "Timer",
    }
}

/// What `kind`/`id`/`holder` of a record mean.
fn waiting_on(s: &Snapshot) -> WaitingOn {
    let who = (s.holder != 0).then_some(s.holder);
    match s.kind {
        kind::LOCK => WaitingOn::Lock {
            id: s.id,
            holder: who,
        },
        kind::RLOCK => WaitingOn::RLock {
            id: s.id,
            owner: who,
        },
        kind::CONDITION => WaitingOn::Condition { id: s.id },
        kind::SEMAPHORE => WaitingOn::Semaphore { id: s.id },
        kind::EVENT => WaitingOn::Event { id: s.id },
        kind::BARRIER => WaitingOn::Barrier { id: s.id },
        kind::QUEUE => WaitingOn::Queue { id: s.id },
        kind::JOIN => WaitingOn::Join { ident: s.id },
        kind::SLEEP => WaitingOn::Sleep,
        kind::IO => WaitingOn::Io,
        kind::GIL => WaitingOn::Gil,
        _ => WaitingOn::Other,
    }
}

fn state_of(t: &Thread, s: &Snapshot, now: u64) -> (ThreadState, Option<Duration>) {
    let inner = &t.inner;
    let waiting = || {
        let waited = Duration::from_micros(now.saturating_sub(s.since));
        (ThreadState::Waiting(waiting_on(s)), Some(waited))
    };
    if inner.state.is_initial() {
        return (ThreadState::Initial, None);
    }
    if inner.state.is_stopped() {
        // The main thread in shutdown: stopped for Python, joining for us.
        if inner.kind == Kind::Main && s.phase == record::PHASE_PARKED {
            return waiting();
        }
        return (ThreadState::Stopped, None);
    }
    match s.phase {
        record::PHASE_RUNNING => (ThreadState::Running, None),
        record::PHASE_PARKED => waiting(),
        record::PHASE_YIELDED => (ThreadState::Runnable, None),
        _ if matches!(inner.kind, Kind::Dummy | Kind::Raw | Kind::Main) => {
            (ThreadState::Running, None)
        }
        _ => (ThreadState::Runnable, None),
    }
}

/// Takes a thread dump: every thread of every live runtime, plus the dummy
/// threads of foreign OS threads. Never blocks on a busy thread (see the
/// [module docs](self)).
pub fn dump() -> Dump {
    let now = record::now_us();
    let mut runtimes = Vec::new();
    let mut rows: Vec<(bool, u64, usize, ThreadInfo)> = Vec::new();
    handle::for_each_runtime(|rt| {
        let index = runtimes.len();
        let mut n = 0;
        for t in rt.registry.snapshot() {
            if rt.is_global() && t.inner.kind == Kind::Main {
                continue; // a placeholder: nothing runs as it
            }
            let info = ThreadInfo::of(&t, now);
            let main = t.inner.kind == Kind::Main;
            rows.push((!main, info.ident.unwrap_or(0), index, info));
            n += 1;
        }
        if n > 0 || !rt.is_global() {
            runtimes.push(RuntimeInfo {
                mode: rt.scheduler.mode(),
                workers: rt.scheduler.workers(),
                gil: rt.gil.is_some(),
                process_wide: rt.is_global(),
            });
        }
    });
    rows.sort_by_key(|r| (r.0, r.1));
    let runtime_of = rows.iter().map(|r| r.2).collect();
    let threads = rows.into_iter().map(|r| r.3).collect();
    Dump {
        threads,
        runtime_of,
        runtimes,
    }
}

impl Dump {
    /// Every thread: main threads first, then by ident.
    pub fn threads(&self) -> &[ThreadInfo] {
        &self.threads
    }

    /// The dump as one JSON object (schema in the [module docs](self)).
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(64 + self.threads.len() * 160);
        out.push_str("{\"runtimes\":[");
        for (i, rt) in self.runtimes.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let n = self.runtime_of.iter().filter(|&&r| r == i).count();
            let _ = write!(
                out,
                "{{\"index\":{i},\"mode\":\"{}\",\"workers\":{},\"gil\":{},\"process_wide\":{},\"threads\":{n}}}",
                mode_name(rt.mode),
                rt.workers,
                rt.gil,
                rt.process_wide
            );
        }
        out.push_str("],\"threads\":[");
        for (i, t) in self.threads.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str("{\"name\":");
            json_str(&mut out, &t.name);
            let _ = write!(
                out,
                ",\"ident\":{},\"native_id\":{},\"daemon\":{},\"class\":\"{}\",\"runtime\":{},\"state\":\"{}\",\"waiting_on\":",
                json_opt(t.ident),
                json_opt(t.native_id),
                t.daemon,
                t.class,
                self.runtime_of[i],
                state_name(&t.state)
            );
            match &t.state {
                ThreadState::Waiting(w) => json_waiting(&mut out, w),
                _ => out.push_str("null"),
            }
            out.push_str(",\"waited_ms\":");
            match t.waited {
                Some(d) => {
                    let _ = write!(out, "{:.3}", d.as_secs_f64() * 1000.0);
                }
                None => out.push_str("null"),
            }
            out.push('}');
        }
        out.push_str("]}");
        out
    }

    /// The name of the thread with `ident`, if in the dump.
    fn name_of(&self, ident: u64) -> Option<&str> {
        self.threads
            .iter()
            .find(|t| t.ident == Some(ident))
            .map(|t| t.name.as_str())
    }
}

fn mode_name(m: Mode) -> &'static str {
    match m {
        Mode::OsThreads => "os",
        _ => "green",
    }
}

fn state_name(s: &ThreadState) -> &'static str {
    match s {
        ThreadState::Initial => "initial",
        ThreadState::Runnable => "runnable",
        ThreadState::Running => "running",
        ThreadState::Waiting(_) => "waiting",
        ThreadState::Stopped => "stopped",
    }
}

fn json_opt(v: Option<u64>) -> String {
    v.map_or_else(|| "null".to_string(), |v| v.to_string())
}

/// Appends `s` as a JSON string.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
            out.push(c);
        } else if (c as u32) < 0x20 {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    out.push('"');
}

fn json_waiting(out: &mut String, w: &WaitingOn) {
    let _ = match w {
        WaitingOn::Lock { id, holder } => write!(
            out,
            "{{\"kind\":\"lock\",\"id\":{id},\"holder\":{}}}",
            json_opt(*holder)
        ),
        WaitingOn::RLock { id, owner } => write!(
            out,
            "{{\"kind\":\"rlock\",\"id\":{id},\"owner\":{}}}",
            json_opt(*owner)
        ),
        WaitingOn::Condition { id } => write!(out, "{{\"kind\":\"condition\",\"id\":{id}}}"),
        WaitingOn::Semaphore { id } => write!(out, "{{\"kind\":\"semaphore\",\"id\":{id}}}"),
        WaitingOn::Event { id } => write!(out, "{{\"kind\":\"event\",\"id\":{id}}}"),
        WaitingOn::Barrier { id } => write!(out, "{{\"kind\":\"barrier\",\"id\":{id}}}"),
        WaitingOn::Queue { id } => write!(out, "{{\"kind\":\"queue\",\"id\":{id}}}"),
        WaitingOn::Join { ident } => write!(out, "{{\"kind\":\"join\",\"ident\":{ident}}}"),
        WaitingOn::Sleep => write!(out, "{{\"kind\":\"sleep\"}}"),
        WaitingOn::Io => write!(out, "{{\"kind\":\"io\"}}"),
        WaitingOn::Gil => write!(out, "{{\"kind\":\"gil\"}}"),
        WaitingOn::Other => write!(out, "{{\"kind\":\"other\"}}"),
    };
}

/// `WaitingOn` in words, naming the holder through `name_of`.
fn describe(w: &WaitingOn, name_of: &dyn Fn(u64) -> Option<String>) -> String {
    let who = |i: u64| match name_of(i) {
        Some(n) => format!("thread {i} ({n:?})"),
        None => format!("thread {i}"),
    };
    match w {
        WaitingOn::Lock { id, holder } => match holder {
            Some(h) => format!("on Lock #{id}, held by {}", who(*h)),
            None => format!("on Lock #{id}"),
        },
        WaitingOn::RLock { id, owner } => match owner {
            Some(h) => format!("on RLock #{id}, owned by {}", who(*h)),
            None => format!("on RLock #{id}"),
        },
        WaitingOn::Condition { id } => format!("on Condition #{id}"),
        WaitingOn::Semaphore { id } => format!("on Semaphore #{id}"),
        WaitingOn::Event { id } => format!("on Event #{id}"),
        WaitingOn::Barrier { id } => format!("on Barrier #{id}"),
        WaitingOn::Queue { id } => format!("on Queue #{id}"),
        WaitingOn::Join { ident } => format!("to join {}", who(*ident)),
        WaitingOn::Sleep => "in a sleep".to_string(),
        WaitingOn::Io => "on a socket".to_string(),
        WaitingOn::Gil => "for the GIL".to_string(),
        WaitingOn::Other => "on a future".to_string(),
    }
}

/// The state line of a thread block.
fn state_line(t: &ThreadInfo, name_of: &dyn Fn(u64) -> Option<String>) -> String {
    match &t.state {
        ThreadState::Initial => "initial".to_string(),
        ThreadState::Runnable => "runnable".to_string(),
        ThreadState::Running => "running".to_string(),
        ThreadState::Stopped => "stopped".to_string(),
        ThreadState::Waiting(w) => {
            let mut s = format!("waiting {}", describe(w, name_of));
            if let Some(d) = t.waited {
                let _ = write!(s, ", for {}", fmt_duration(d));
            }
            s
        }
    }
}

fn fmt_duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.3}s", d.as_secs_f64())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// The first line of a thread block.
fn head_line(t: &ThreadInfo) -> String {
    let mut s = String::new();
    json_str(&mut s, &t.name);
    let _ = write!(s, " {}", t.class);
    if let Some(i) = t.ident {
        let _ = write!(s, " ident={i}");
    }
    if let Some(n) = t.native_id {
        let _ = write!(s, " native_id={n}");
    }
    if t.daemon {
        s.push_str(" daemon");
    }
    s
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let (n, r) = (self.threads.len(), self.runtimes.len());
        writeln!(
            f,
            "greenthread thread dump: {n} thread{}, {r} runtime{}",
            plural(n),
            plural(r)
        )?;
        let name_of = |i: u64| self.name_of(i).map(str::to_string);
        for (r, rt) in self.runtimes.iter().enumerate() {
            let mine: Vec<&ThreadInfo> = self
                .threads
                .iter()
                .zip(&self.runtime_of)
                .filter(|(_, &ri)| ri == r)
                .map(|(t, _)| t)
                .collect();
            writeln!(f)?;
            let what = if rt.process_wide {
                "process-wide runtime (threads started outside any runtime, dummy threads)"
            } else {
                "runtime"
            };
            let workers = if rt.mode == Mode::OsThreads {
                "one OS thread per thread".to_string()
            } else {
                format!("{} workers", rt.workers)
            };
            writeln!(
                f,
                "{what} #{r}: {} mode, {workers}, GIL {}, {} threads",
                mode_name(rt.mode),
                if rt.gil { "on" } else { "off" },
                mine.len()
            )?;
            if mine.len() > GROUP_ABOVE {
                write_grouped(f, &mine, &name_of)?;
            } else {
                for t in mine {
                    writeln!(f)?;
                    writeln!(f, "{}", head_line(t))?;
                    writeln!(f, "    {}", state_line(t, &name_of))?;
                }
            }
        }
        Ok(())
    }
}

/// Go's `debug=1` form: one block per distinct state, largest first.
fn write_grouped(
    f: &mut fmt::Formatter<'_>,
    threads: &[&ThreadInfo],
    name_of: &dyn Fn(u64) -> Option<String>,
) -> fmt::Result {
    let mut groups: HashMap<(&'static str, bool, &ThreadState), Vec<&ThreadInfo>> = HashMap::new();
    for t in threads {
        groups
            .entry((t.class, t.daemon, &t.state))
            .or_default()
            .push(t);
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| {
        b.1.len()
            .cmp(&a.1.len())
            .then_with(|| a.1[0].ident.cmp(&b.1[0].ident))
    });
    writeln!(
        f,
        "(more than {GROUP_ABOVE} threads: grouped by state, largest groups first)"
    )?;
    for ((class, daemon, _), members) in groups {
        let longest = members.iter().filter_map(|t| t.waited).max();
        let mut rep = (*members[0]).clone();
        rep.waited = longest;
        writeln!(f)?;
        let n = members.len();
        writeln!(
            f,
            "{n} thread{}, {class}{}:",
            if n == 1 { "" } else { "s" },
            if daemon { " daemon" } else { "" }
        )?;
        let line = state_line(&rep, name_of);
        if longest.is_some() && members.len() > 1 {
            writeln!(f, "    {line} (the longest)")?;
        } else {
            writeln!(f, "    {line}")?;
        }
        let shown: Vec<String> = members.iter().take(3).map(|t| head_line(t)).collect();
        let more = members.len().saturating_sub(3);
        write!(f, "    e.g. {}", shown.join(", "))?;
        if more > 0 {
            write!(f, " and {more} more")?;
        }
        writeln!(f)?;
    }
    Ok(())
}

impl fmt::Display for Deadlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.all_asleep {
            writeln!(
                f,
                "greenthread: deadlock: all {} threads of a runtime are asleep, each waiting \
                 without a timeout with nothing left to wake it:",
                self.threads.len()
            )?;
        } else {
            writeln!(
                f,
                "greenthread: deadlock: {} threads wait on each other in a cycle:",
                self.threads.len()
            )?;
        }
        let name_of = |i: u64| {
            self.threads
                .iter()
                .find(|t| t.ident == Some(i))
                .map(|t| t.name.clone())
        };
        for t in &self.threads {
            writeln!(f, "  {}", head_line(t))?;
            writeln!(f, "      {}", state_line(t, &name_of))?;
        }
        write!(
            f,
            "(the threads stay blocked; greenthread::debug::set_deadlock_hook replaces this report)"
        )
    }
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "greenthread: stall: thread {} has been running one poll for {} without reaching \
             a switch point (it holds its worker; add a yield_now() or checkpoint() to the loop)",
            head_line(&self.thread),
            fmt_duration(self.running_for)
        )
    }
}

/// Prints the dump to stderr on every SIGQUIT from now on (Unix; once on,
/// on for the process). The signal handler only wakes a dedicated thread,
/// which takes the dump; the program goes on.
pub(crate) fn dump_on_sigquit() {
    static START: Once = Once::new();
    START.call_once(|| {
        #[cfg(unix)]
        {
            let signals = match signal_hook::iterator::Signals::new([signal_hook::consts::SIGQUIT])
            {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("greenthread: cannot catch SIGQUIT for thread dumps: {e}");
                    return;
                }
            };
            let spawned = std::thread::Builder::new()
                .name("greenthread-sigquit".to_string())
                .spawn(move || {
                    let mut signals = signals;
                    for _ in signals.forever() {
                        eprintln!("{}", dump());
                    }
                });
            if let Err(e) = spawned {
                eprintln!("greenthread: cannot start the SIGQUIT dump thread: {e}");
            }
        }
    });
}

// ---------------------------------------------------------------------------
// The detector thread.

/// How often the detector looks for deadlocks, at most.
const SCAN_EVERY: Duration = Duration::from_millis(250);
/// The pause between two looks is at least this many times the last look's
/// own length, so the detector takes at most a ninth of one core however
/// many threads there are (a look reads every thread's record and takes
/// each registry shard's lock while it does: with a million threads, every
/// 250 ms would keep a core busy and the shards' locks held).
const SCAN_PAUSE_FACTOR: u32 = 8;
/// How often it looks for stalls, while some runtime warns of them.
const STALL_EVERY: Duration = Duration::from_millis(20);

/// Starts the process's detector thread (once).
pub(crate) fn ensure_detector() {
    static START: Once = Once::new();
    START.call_once(|| {
        let _ = std::thread::Builder::new()
            .name("greenthread-detector".to_string())
            .spawn(detector_loop);
    });
}

/// One thread as the detector sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Node {
    ident: u64,
    /// A main thread.
    main: bool,
    snap: Snapshot,
}

impl Node {
    /// `t` as it is now; a thread not started (or no longer running)
    /// counts as not waiting, except a main thread stopped while parked.
    fn of(t: &Thread) -> Node {
        let snap = t.inner.record.snapshot();
        let stopped_main = t.inner.kind == Kind::Main
            && t.inner.state.is_stopped()
            && snap.phase == record::PHASE_PARKED;
        let snap = if t.inner.state.is_started() || stopped_main {
            snap
        } else {
            Snapshot { phase: 0, ..snap }
        };
        Node {
            ident: t.inner.ident.load(Ordering::Relaxed),
            main: t.inner.kind == Kind::Main,
            snap,
        }
    }

    /// Waits without a timeout on a primitive or a join.
    fn stuck(&self) -> bool {
        self.snap.phase == record::PHASE_PARKED
            && !self.snap.timed
            && (kind::LOCK..=kind::JOIN).contains(&self.snap.kind)
    }

    /// The thread it waits for, if any.
    fn next(&self) -> Option<u64> {
        if !self.stuck() {
            return None;
        }
        match self.snap.kind {
            kind::LOCK | kind::RLOCK if self.snap.holder != 0 => Some(self.snap.holder),
            kind::JOIN => Some(self.snap.id),
            _ => None,
        }
    }

    /// What must stay the same between two looks.
    fn key(&self) -> (u64, u8, u64, u64, u64, u8) {
        let s = &self.snap;
        (self.ident, s.kind, s.id, s.holder, s.since, s.polls)
    }
}

/// What tells a deadlock from a later one among the same threads: each
/// thread's ident and the start of its wait, sorted.
type ReportKey = Vec<(u64, u64)>;

/// The [`ReportKey`] of the deadlock of `nodes`.
fn report_key(nodes: &[Node]) -> ReportKey {
    let mut key: Vec<(u64, u64)> = nodes.iter().map(|n| (n.ident, n.snap.since)).collect();
    key.sort_unstable();
    key
}

#[derive(Default)]
struct Detector {
    /// The threads of the last look's possible reports (`scan`).
    last: HashMap<u64, Node>,
    /// Deadlocks reported and still there.
    reported: HashSet<ReportKey>,
    /// Stalls reported: OS-thread slot → poll start.
    stalls: HashMap<usize, (u64, u64)>,
}

fn detector_loop() {
    let mut d = Detector::default();
    let mut since_scan = Duration::ZERO;
    let mut scan_pause = SCAN_EVERY;
    loop {
        let stall_on = record::stall_slots_active();
        let tick = if stall_on { STALL_EVERY } else { SCAN_EVERY };
        std::thread::sleep(tick);
        since_scan += tick;
        if stall_on {
            d.check_stalls();
        }
        if since_scan >= scan_pause {
            since_scan = Duration::ZERO;
            let began = std::time::Instant::now();
            let to_confirm = d.scan();
            // A possible report is confirmed by the next look: soon, as if
            // the threads had been kept all along (`scan`).
            scan_pause = if to_confirm {
                SCAN_EVERY
            } else {
                SCAN_EVERY.max(began.elapsed() * SCAN_PAUSE_FACTOR)
            };
        }
    }
}

impl Detector {
    /// One look at every runtime with detection on. What it keeps of every
    /// thread lives only for the look; what stays until the next is the
    /// threads of the possible reports (a cycle, a runtime all asleep),
    /// whose waits must still be the same then: a program with a million
    /// threads parked on an `Event` keeps nothing here between looks.
    /// Returns whether a possible report waits for the next look to be
    /// confirmed (found now, its waits not seen before).
    fn scan(&mut self) -> bool {
        // Per runtime: every thread, while all those seen so far are
        // stuck (`None` once one is not: it is not all asleep).
        let mut per_rt: Vec<(Arc<RtInner>, Option<Vec<Node>>)> = Vec::new();
        // Stuck threads waiting for another thread: what a cycle is made of.
        let mut linked: HashMap<u64, Node> = HashMap::new();
        let mut live: Vec<Arc<RtInner>> = Vec::new();
        handle::for_each_runtime_arc(|rt| live.push(rt.clone()));
        for rt in live {
            if !rt.deadlock_detection.load(Ordering::Relaxed) {
                continue;
            }
            let mut asleep = Some(Vec::new());
            let global = rt.is_global();
            rt.registry.for_each(|t| {
                if global && t.inner.kind == Kind::Main {
                    return;
                }
                let node = Node::of(t);
                if node.next().is_some() {
                    linked.insert(node.ident, node);
                }
                match &mut asleep {
                    Some(nodes) if node.stuck() => nodes.push(node),
                    Some(_) => asleep = None,
                    None => {}
                }
            });
            per_rt.push((rt, asleep));
        }
        // Stable: the same wait as at the last look, not polled since.
        let stable = |n: &Node| {
            self.last
                .get(&n.ident)
                .is_some_and(|old| old.key() == n.key())
        };
        // The threads of this look's possible reports, for the next look.
        let mut kept: HashMap<u64, Node> = HashMap::new();
        let mut present: HashSet<ReportKey> = HashSet::new();
        // A report: its runtime if all asleep, its threads, and each
        // thread's wait start (what tells it from a later one).
        let mut reports: Vec<(Option<usize>, Vec<u64>, ReportKey)> = Vec::new();
        let mut in_cycle: HashSet<u64> = HashSet::new();
        // Cycles: every linked thread has exactly one successor.
        let mut done: HashSet<u64> = HashSet::new();
        for &start in linked.keys() {
            if done.contains(&start) {
                continue;
            }
            let mut path: Vec<u64> = Vec::new();
            let mut on_path: HashMap<u64, usize> = HashMap::new();
            let mut cur = Some(start);
            while let Some(c) = cur {
                if done.contains(&c) {
                    break;
                }
                if let Some(&at) = on_path.get(&c) {
                    // From its lowest ident, so a report reads the same
                    // every time.
                    let mut cycle: Vec<u64> = path[at..].to_vec();
                    if let Some(low) = (0..cycle.len()).min_by_key(|&i| cycle[i]) {
                        cycle.rotate_left(low);
                    }
                    let nodes: Vec<Node> = cycle
                        .iter()
                        .filter_map(|i| linked.get(i))
                        .copied()
                        .collect();
                    kept.extend(nodes.iter().map(|n| (n.ident, *n)));
                    if nodes.iter().all(stable) {
                        in_cycle.extend(cycle.iter().copied());
                        reports.push((None, cycle, report_key(&nodes)));
                    }
                    break;
                }
                on_path.insert(c, path.len());
                path.push(c);
                cur = linked.get(&c).and_then(Node::next);
            }
            done.extend(path);
        }
        // All asleep, per runtime.
        for (i, (_, asleep)) in per_rt.iter().enumerate() {
            let Some(nodes) = asleep.as_ref().filter(|ns| !ns.is_empty()) else {
                continue;
            };
            kept.extend(nodes.iter().map(|n| (n.ident, *n)));
            if nodes.iter().any(|n| in_cycle.contains(&n.ident)) {
                continue;
            }
            if nodes.iter().all(stable) {
                // Main first, then by ident (as a dump lists them).
                let mut idents: Vec<(bool, u64)> =
                    nodes.iter().map(|n| (!n.main, n.ident)).collect();
                idents.sort_unstable();
                let idents = idents.into_iter().map(|(_, i)| i).collect();
                reports.push((Some(i), idents, report_key(nodes)));
            }
        }
        for (rt_index, idents, key) in reports {
            present.insert(key.clone());
            if self.reported.contains(&key) {
                continue;
            }
            self.reported.insert(key);
            let threads = infos_of(per_rt.iter().map(|(rt, _)| rt), &idents);
            let report = Deadlock {
                threads,
                all_asleep: rt_index.is_some(),
            };
            let hook = deadlock_hook();
            let _ = catch_unwind(AssertUnwindSafe(|| hook(&report)));
            // `trace_report` contains a subscriber's panic itself.
            #[cfg(feature = "tracing")]
            trace_report(ReportLevel::Error, "deadlock", None, &report.to_string());
        }
        self.reported.retain(|k| present.contains(k));
        let to_confirm = kept.values().any(|n| !stable(n));
        self.last = kept;
        to_confirm
    }

    fn check_stalls(&mut self) {
        let now = record::now_us();
        let mut seen = HashSet::new();
        for (slot, ident, start, threshold) in record::stall_slots() {
            seen.insert(slot);
            if start == 0 || threshold == 0 || now.saturating_sub(start) < threshold {
                continue;
            }
            if self.stalls.get(&slot) == Some(&(ident, start)) {
                continue;
            }
            self.stalls.insert(slot, (ident, start));
            let Some(t) = find_thread(ident) else {
                continue;
            };
            let mut thread = ThreadInfo::of(&t, now);
            thread.state = ThreadState::Running;
            thread.waited = None;
            let stall = Stall {
                thread,
                running_for: Duration::from_micros(now.saturating_sub(start)),
            };
            let hook = stall_hook();
            let _ = catch_unwind(AssertUnwindSafe(|| hook(&stall)));
            #[cfg(feature = "tracing")]
            trace_report(ReportLevel::Warn, "stall", Some(&t), &stall.to_string());
        }
        self.stalls.retain(|s, _| seen.contains(s));
    }
}

/// The live thread with `ident`, in any runtime.
fn find_thread(ident: u64) -> Option<Thread> {
    let mut found = None;
    handle::for_each_runtime(|rt| {
        if found.is_none() {
            found = rt
                .registry
                .find(|t| t.inner.ident.load(Ordering::Relaxed) == ident);
        }
    });
    found
}

/// `ThreadInfo`s of `idents`, in that order.
fn infos_of<'a>(rts: impl Iterator<Item = &'a Arc<RtInner>>, idents: &[u64]) -> Vec<ThreadInfo> {
    let want: HashSet<u64> = idents.iter().copied().collect();
    let now = record::now_us();
    let mut got: HashMap<u64, ThreadInfo> = HashMap::new();
    for rt in rts {
        let mut ts = Vec::new();
        rt.registry.for_each(|t| {
            if want.contains(&t.inner.ident.load(Ordering::Relaxed)) {
                ts.push(t.clone());
            }
        });
        for t in ts {
            let info = ThreadInfo::of(&t, now);
            got.insert(info.ident.unwrap_or(0), info);
        }
    }
    idents.iter().filter_map(|i| got.remove(i)).collect()
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, OnceLock};
    use std::time::Duration;

    use super::{Detector, Node};
    use crate::{Runtime, Thread};

    /// The idents of `threads`.
    fn idents(threads: &[Thread]) -> Vec<u64> {
        threads.iter().filter_map(Thread::ident).collect()
    }

    #[test]
    fn a_look_keeps_nothing_of_threads_that_cannot_be_deadlocked() {
        // Joiners of a sleeping thread wait without a timeout, but on a
        // thread that is not stuck, and the main thread runs: no report
        // is possible, so no thread is kept until the next look (a kept
        // copy of every parked thread was 37 B each, W9).
        let rt = Runtime::builder().workers(2).build().unwrap();
        rt.block_on(async {
            // Sleeps (timed, so never stuck) until the looks are done.
            let stop = Arc::new(AtomicBool::new(false));
            let st = stop.clone();
            // Daemons: a failed assertion ends the runtime, which cancels
            // them rather than waiting for `stop`.
            let sleeper = Thread::builder().daemon(true).build(move || async move {
                while !st.load(Ordering::SeqCst) {
                    crate::time::sleep(Duration::from_millis(1)).await;
                }
            });
            sleeper.start().unwrap();
            let joiners: Vec<_> = (0..100)
                .map(|_| {
                    let s = sleeper.clone();
                    Thread::builder()
                        .daemon(true)
                        .spawn(async move { s.join().await.unwrap() })
                })
                .collect();
            let threads: Vec<Thread> = joiners.iter().map(|h| h.thread().clone()).collect();
            // Every joiner stuck: what the old detector kept a copy of.
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while !threads.iter().all(|t| Node::of(t).stuck()) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the joiners never parked"
                );
                crate::time::sleep(Duration::from_millis(10)).await;
            }
            let mut mine = threads;
            mine.push(sleeper.clone());
            let mine = idents(&mine);
            let mut d = Detector::default();
            for _ in 0..2 {
                d.scan();
                assert!(
                    !mine.iter().any(|i| d.last.contains_key(i)),
                    "a thread that cannot be in a report was kept"
                );
            }
            stop.store(true, Ordering::SeqCst);
            for h in joiners {
                h.await.unwrap();
            }
        });
    }

    #[test]
    fn a_look_keeps_the_threads_of_a_cycle_for_the_next() {
        /// Puts the process's deadlock hook back, on a failed assertion too.
        struct Restore(super::DeadlockHook);
        impl Drop for Restore {
            fn drop(&mut self) {
                super::set_deadlock_hook(self.0.clone());
            }
        }
        // Quiet: the process's detector may report the cycle too.
        let _restore = Restore(super::deadlock_hook());
        super::set_deadlock_hook(Arc::new(|_: &super::Deadlock| {}));
        let rt = Runtime::builder().workers(2).build().unwrap();
        rt.block_on(async {
            let other: Arc<OnceLock<Thread>> = Arc::default();
            let o = other.clone();
            // Daemons: left blocked when the runtime ends.
            let a = Thread::builder().daemon(true).build(move || async move {
                // `b` starts after `a`: joined before it starts, the join
                // fails at once and there is no cycle.
                let b = o.get().unwrap();
                while !b.is_alive() {
                    crate::time::sleep(Duration::from_millis(1)).await;
                }
                let _ = b.join().await;
            });
            let a2 = a.clone();
            let b = Thread::builder().daemon(true).build(move || async move {
                let _ = a2.join().await;
            });
            other.set(b.clone()).unwrap();
            a.start().unwrap();
            b.start().unwrap();
            // A look that finds nothing keeps nothing: until both have
            // parked, each look is a first one.
            let mut d = Detector::default();
            let deadline = std::time::Instant::now() + Duration::from_secs(20);
            while !d.scan() {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the new cycle waits for the next look"
                );
                crate::time::sleep(Duration::from_millis(10)).await;
            }
            let mut cycle = idents(&[a, b]);
            for i in &cycle {
                assert!(d.last.contains_key(i), "a thread of the cycle was not kept");
            }
            d.scan();
            cycle.sort_unstable();
            assert!(
                d.reported
                    .iter()
                    .any(|k| k.iter().map(|&(i, _)| i).eq(cycle.iter().copied())),
                "the second look reports the cycle"
            );
        });
    }
}
