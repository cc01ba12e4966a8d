//! Thread-local values: Python's `threading.local`.

use std::any::Any;
use std::fmt;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::instrument::{trace_report, ReportLevel};
use super::{current_thread_unseen, Thread, HAS_LOCALS, LOCALS_CLOSED};
use crate::catch::drop_caught;

/// Rounds of teardown (see [`teardown`]) before the values still being
/// created by destructors are leaked. A legitimate chain of destructors
/// that use other `Local`s is a few links long; a destructor that recreates
/// its own value would otherwise never stop.
pub(crate) const TEARDOWN_ROUNDS: usize = 16;

/// Source of `Local` keys (0 = not assigned yet).
static NEXT_KEY: AtomicUsize = AtomicUsize::new(1);

/// A value each thread sees its own copy of (Python's `threading.local`).
///
/// A thread's value is created by `init` on its first use and dropped when
/// the thread ends (the main thread's when `run` returns; a foreign OS
/// thread's when it exits), before `join()` returns.
///
/// # Destructors
///
/// A value's `Drop` runs in its thread (`current_thread()` is that thread)
/// and may use other `Local`s: the values it creates are dropped too, in
/// further rounds, oldest first, until no new value appears. After
/// 16 rounds the values still left are leaked (with a message on stderr)
/// rather than dropped forever. A value created once a thread's values are
/// gone (by a trace hook's `Exit` event, say) is dropped when its `with`
/// returns. A panicking `Drop` is caught and printed: the other values are
/// still dropped and the joiners still return.
///
/// # Examples
///
/// ```
/// static COUNT: greenthread::Local<u32> = greenthread::Local::new(|| 0);
/// greenthread::run(async {
///     COUNT.with(|c| *c += 1);
///     let t = greenthread::Thread::new(|| async { COUNT.with(|c| assert_eq!(*c, 0)) });
///     t.start().unwrap();
///     t.join().await.unwrap();
///     COUNT.with(|c| assert_eq!(*c, 1));
/// });
/// ```
pub struct Local<T> {
    init: fn() -> T,
    key: AtomicUsize,
    _value: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for Local<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Local")
            .field("key", &self.key.load(Ordering::Relaxed))
            .finish()
    }
}

impl<T: Send + 'static> Local<T> {
    /// A thread-local value created by `init` in each thread.
    pub const fn new(init: fn() -> T) -> Local<T> {
        Local {
            init,
            key: AtomicUsize::new(0),
            _value: PhantomData,
        }
    }

    fn key(&self) -> usize {
        match self.key.load(Ordering::Acquire) {
            0 => {
                let fresh = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
                match self
                    .key
                    .compare_exchange(0, fresh, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => fresh,
                    Err(existing) => existing,
                }
            }
            k => k,
        }
    }

    /// Runs `f` with the calling thread's value, creating it first if needed.
    ///
    /// Re-entrant use of the same `Local` inside `f` sees a fresh value.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let key = self.key();
        let thread = current_thread_unseen();
        let taken = {
            let mut parts = thread.inner.parts();
            let locals = &mut parts.extra().locals;
            locals
                .iter()
                .position(|(k, _)| *k == key)
                .map(|i| locals.swap_remove(i).1)
        };
        let value = match taken.map(|b| b.downcast::<T>()) {
            Some(Ok(v)) => v,
            // Keys are unique per `Local`, so a stored value is always a `T`.
            _ => Box::new((self.init)()),
        };
        let mut slot = PutBack {
            thread,
            key,
            value: Some(value),
        };
        let v = slot.value.as_deref_mut();
        match v {
            Some(v) => f(v),
            None => unreachable!("the value was just stored"),
        }
    }
}

/// Puts a thread's value back after use, even if `f` panicked.
struct PutBack<T: Send + 'static> {
    thread: Thread,
    key: usize,
    value: Option<Box<T>>,
}

impl<T: Send + 'static> Drop for PutBack<T> {
    fn drop(&mut self) {
        if let Some(v) = self.value.take() {
            let v: Box<dyn Any + Send> = v;
            if self.thread.is_stopped() || self.thread.inner.has_flag(LOCALS_CLOSED) {
                // The thread's values have been torn down: nothing will
                // drop this one later.
                drop(v);
            } else {
                // A re-entrant `with` of the same `Local` inside `f` put its
                // fresh value back first: the outer value (put back last)
                // replaces it, so the outer update is not shadowed. The
                // replaced value is dropped after the lock is released.
                let inner = &*self.thread.inner;
                if !inner.has_flag(HAS_LOCALS) {
                    inner.flags.fetch_or(HAS_LOCALS, Ordering::Release);
                }
                let replaced = {
                    let mut parts = inner.parts();
                    let locals = &mut parts.extra().locals;
                    match locals.iter_mut().find(|(k, _)| *k == self.key) {
                        Some((_, slot)) => Some(std::mem::replace(slot, v)),
                        None => {
                            locals.push((self.key, v));
                            None
                        }
                    }
                };
                drop(replaced);
            }
        }
    }
}

/// Drops the `Local` values of a thread that is ending (in its context, so
/// destructors see it as `current_thread()`), in rounds: the values present
/// when a round begins, oldest first, each on its own so that a destructor
/// using another `Local` sees that one's value if it is still there. Values
/// the destructors create are dropped in the next round; after
/// [`TEARDOWN_ROUNDS`] the rest is leaked and reported. Then the thread's
/// `Local`s are closed (`LOCALS_CLOSED`). Panicking destructors are caught.
pub(crate) fn teardown(thread: &Thread) {
    let inner = &*thread.inner;
    if !inner.has_flag(HAS_LOCALS) {
        // Never stored one (`HAS_LOCALS`): nothing to look for.
        inner.flags.fetch_or(LOCALS_CLOSED, Ordering::AcqRel);
        return;
    }
    let mut rounds = 0;
    loop {
        let n = inner.parts().locals_len();
        if n == 0 {
            inner.flags.fetch_or(LOCALS_CLOSED, Ordering::AcqRel);
            return;
        }
        if rounds == TEARDOWN_ROUNDS {
            break;
        }
        rounds += 1;
        for _ in 0..n {
            // Taken under the lock, dropped after it.
            let Some(value) = inner.parts().take_first_local() else {
                break;
            };
            drop_caught(value);
        }
    }
    inner.flags.fetch_or(LOCALS_CLOSED, Ordering::AcqRel);
    let rest = inner.parts().take_locals();
    let text = format!(
        "greenthread: {} Local value(s) of thread {} were still being created by \
         destructors after {TEARDOWN_ROUNDS} rounds of teardown: leaked, not dropped",
        rest.len(),
        thread.name()
    );
    eprintln!("{text}");
    trace_report(ReportLevel::Warn, "local_leak", Some(thread), &text);
    std::mem::forget(rest);
}
