//! Process-wide hooks: the excepthook and the trace/profile hooks.

use std::cell::RefCell;
use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Once, RwLock};

use super::task::IN_TARGET;
use super::{Kind, Thread};
use crate::catch::drop_caught;

/// What the excepthook receives (Python's `threading.ExceptHookArgs`).
#[derive(Debug, Clone)]
pub struct ExceptHookArgs {
    /// The thread whose target panicked (`None` when unknown).
    pub thread: Option<Thread>,
    /// The panic message.
    pub message: String,
}

/// An excepthook (Python's `threading.excepthook`).
pub type ExceptHook = Arc<dyn Fn(&ExceptHookArgs) + Send + Sync>;

/// A trace or profile hook: called with the thread and the event.
pub type TraceHook = Arc<dyn Fn(&Thread, TraceEvent) + Send + Sync>;

/// The events a trace or profile hook sees: the green-thread analogue of
/// Python's call/return events, where `Resume`/`Suspend` are the switch
/// points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TraceEvent {
    /// The thread's target is about to run for the first time. Always the
    /// first event: a thread cancelled (at shutdown) before its target ran
    /// reports `Start` and then at once `Exit`.
    Start,
    /// The thread resumes after a switch point.
    Resume,
    /// The thread suspends at a switch point.
    Suspend,
    /// The thread's target has ended.
    Exit,
}

/// The hooks installed in one thread.
#[derive(Clone, Default)]
pub(crate) struct Hooks {
    trace: Option<TraceHook>,
    profile: Option<TraceHook>,
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("trace", &self.trace.is_some())
            .field("profile", &self.profile.is_some())
            .finish()
    }
}

static EXCEPTHOOK: RwLock<Option<ExceptHook>> = RwLock::new(None);
static TRACE: RwLock<Option<TraceHook>> = RwLock::new(None);
static PROFILE: RwLock<Option<TraceHook>> = RwLock::new(None);
/// Set once any trace or profile hook has ever been installed: until then
/// the per-poll check is one relaxed load.
static EVER_HOOKED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Where the last panic of a thread target on this OS thread happened.
    static LAST_LOCATION: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the excepthook (Python's `threading.excepthook = hook`).
pub fn set_excepthook(hook: ExceptHook) {
    *EXCEPTHOOK.write().unwrap_or_else(|e| e.into_inner()) = Some(hook);
}

/// The current excepthook (the default one unless replaced).
pub fn excepthook() -> ExceptHook {
    EXCEPTHOOK
        .read()
        .unwrap_or_else(|e| e.into_inner())
        .clone()
        .unwrap_or_else(|| Arc::new(default_excepthook))
}

/// Python's default: `Exception in thread NAME:` and the panic on stderr.
fn default_excepthook(args: &ExceptHookArgs) {
    let who = match &args.thread {
        Some(t) => t.name(),
        None => super::get_ident().to_string(),
    };
    let location = LAST_LOCATION.with(|l| l.borrow_mut().take());
    let mut text = format!("Exception in thread {who}:\n");
    if let Some(loc) = location {
        text.push_str(&format!("panicked at {loc}:\n"));
    }
    text.push_str(&args.message);
    text.push('\n');
    eprint!("{text}");
}

/// Hands a target's panic to the excepthook; a panicking hook is reported
/// as Python does and never escapes (its payload is dropped safely, and so
/// are the hook and its arguments, which may hold the last reference to
/// user values).
pub(crate) fn report_panic(thread: &Thread, message: String) {
    #[cfg(feature = "tracing")]
    trace_panic(thread, &message);
    let hook = excepthook();
    let args = ExceptHookArgs {
        thread: Some(thread.clone()),
        message,
    };
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| hook(&args))) {
        eprintln!(
            "Exception in threading.excepthook:\n{}",
            super::task::panic_message(&*p)
        );
        drop_caught(p);
    }
    drop_caught((hook, args));
}

/// The excepthook's report as a `tracing` event too (target `greenthread`,
/// level `ERROR`, kind `excepthook`), beside the hook, whichever it is: the
/// default hook's text, `Exception in thread NAME:`, the location and the
/// message.
#[cfg(feature = "tracing")]
fn trace_panic(thread: &Thread, message: &str) {
    use super::instrument::{trace_report, ReportLevel};
    let location = LAST_LOCATION.with(|l| l.borrow().clone());
    let mut text = format!("Exception in thread {}:\n", thread.name());
    if let Some(loc) = location {
        text.push_str(&format!("panicked at {loc}:\n"));
    }
    text.push_str(message);
    trace_report(ReportLevel::Error, "excepthook", Some(thread), &text);
}

/// Installs (once per process) a panic hook that stays quiet for panics of
/// thread targets — the excepthook reports those, as in Python — and defers
/// to the previous hook for everything else.
pub(crate) fn install_panic_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_TARGET.try_with(|c| c.get()).unwrap_or(false) {
                let loc = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
                let _ = LAST_LOCATION.try_with(|l| *l.borrow_mut() = loc);
            } else {
                previous(info);
            }
        }));
    });
}

/// Sets the trace hook for threads started from now on (Python's
/// `threading.settrace`).
pub fn settrace(hook: TraceHook) {
    EVER_HOOKED.store(true, Ordering::Release);
    *TRACE.write().unwrap_or_else(|e| e.into_inner()) = Some(hook);
}

/// Sets the profile hook for threads started from now on (Python's
/// `threading.setprofile`).
pub fn setprofile(hook: TraceHook) {
    EVER_HOOKED.store(true, Ordering::Release);
    *PROFILE.write().unwrap_or_else(|e| e.into_inner()) = Some(hook);
}

/// [`settrace`], and installs the hook in every running thread of every
/// runtime too (Python's `threading.settrace_all_threads`).
pub fn settrace_all_threads(hook: TraceHook) {
    settrace(hook.clone());
    for_all_threads(|h| h.trace = Some(hook.clone()));
}

/// [`setprofile`], and installs the hook in every running thread of every
/// runtime too (Python's `threading.setprofile_all_threads`).
pub fn setprofile_all_threads(hook: TraceHook) {
    setprofile(hook.clone());
    for_all_threads(|h| h.profile = Some(hook.clone()));
}

/// The hook set by [`settrace`] (Python's `threading.gettrace`).
pub fn gettrace() -> Option<TraceHook> {
    TRACE.read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// The hook set by [`setprofile`] (Python's `threading.getprofile`).
pub fn getprofile() -> Option<TraceHook> {
    PROFILE.read().unwrap_or_else(|e| e.into_inner()).clone()
}

fn for_all_threads(f: impl Fn(&mut Hooks)) {
    for thread in super::handle::all_threads() {
        let mut parts = thread.inner.parts();
        let slot = &mut parts.extra().hooks;
        let mut hooks = slot.as_deref().cloned().unwrap_or_default();
        f(&mut hooks);
        let old = slot.replace(Arc::new(hooks));
        // The old hooks hold user closures: dropped with the lock released,
        // so a `Drop` that looks at the thread does not deadlock.
        drop(parts);
        drop(old);
    }
}

/// Installs the process-wide hooks into a thread being started.
pub(crate) fn install_at_start(thread: &Thread) {
    // Python's `threading.settrace` reaches `threading.Thread`s only, not
    // `_thread.start_new_thread` threads.
    if !EVER_HOOKED.load(Ordering::Acquire) || thread.inner.kind == Kind::Raw {
        return;
    }
    let hooks = Hooks {
        trace: gettrace(),
        profile: getprofile(),
    };
    if hooks.trace.is_some() || hooks.profile.is_some() {
        thread.inner.parts().extra().hooks = Some(Arc::new(hooks));
    }
}

/// Takes a thread's hooks out: when it ends, after its last event, or
/// when its start is refused. They hold user closures, whose `Drop` must
/// not run where the thread's state is freed (async-task frees a task's
/// metadata under an abort guard).
pub(crate) fn forget(thread: &Thread) {
    if !EVER_HOOKED.load(Ordering::Relaxed) {
        return; // never installed in any thread
    }
    let hooks = thread.inner.parts().take_hooks();
    if let Some(h) = hooks {
        drop_caught(h);
    }
}

/// Reports `event` to the thread's hooks, if it has any. (Four calls per
/// poll of every thread: the check is inlined, the rest is not.)
#[inline(always)]
pub(crate) fn trace(thread: &Thread, event: TraceEvent) {
    if EVER_HOOKED.load(Ordering::Relaxed) {
        trace_hooked(thread, event);
    }
}

#[cold]
#[inline(never)]
fn trace_hooked(thread: &Thread, event: TraceEvent) {
    let hooks = thread.inner.parts().hooks();
    if let Some(h) = hooks {
        // Each hook is called on its own, so one that panics does not keep
        // the other from its event; the panic is printed by the panic hook.
        for hook in [&h.trace, &h.profile].into_iter().flatten() {
            if let Err(p) = catch_unwind(AssertUnwindSafe(|| hook(thread, event))) {
                drop_caught(p);
            }
        }
        // Possibly the last reference to a replaced hook: its captures are
        // user values.
        drop_caught(h);
    }
}
