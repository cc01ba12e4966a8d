//! Property tests of `Event` against a flag model, in every runtime kind.
//!
//! Waiter threads call `wait()` or `wait_timeout(short)` (1-3 times each)
//! and may be cancelled at a random point; the main thread calls `set()`,
//! `clear()`, or sequences of both with no `.await` between them (a `set`
//! then `clear` is a pulse).
//!
//! Each wait is watched from outside: it counts as *registered* once its
//! first poll returned `Pending` (it polls with a fresh cooperative budget,
//! so that `Pending` is a real wait, not a budget yield). Then:
//!
//! - once quiescent, if `is_set()` no wait is registered (lost wake-up);
//! - a wait registered before a `set()` returns, `true`, even if the flag
//!   was cleared again at once (a lost pulse otherwise);
//! - a wait that returns `true` found the flag set when it began or saw a
//!   `set()` made after that; a `wait_timeout` that returns `false` did not
//!   find the flag set at its start with no `clear()` since (checked with
//!   counters of started and finished `set`/`clear` calls, so that a race
//!   can only hide a fault, never invent one);
//! - `wait()` returns `true`.
//!
//! Raise the case count with `PROPTEST_CASES=N`.

mod prop_support;
mod support;

use std::collections::BTreeSet;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard};

use futures::channel::oneshot;
use greenthread::Event;
use proptest::prelude::*;

use prop_support::{
    cancellable, common, run_cases, wait_kind, Common, Count, FirstError, Wait, Waiters,
};

/// Cases per run and runtime kind, unless `PROPTEST_CASES` says more.
const CASES: u32 = 40;

/// A waiter thread's program.
#[derive(Debug, Clone)]
struct Waiter {
    /// How each wait waits.
    wait: Wait,
    /// Waits to make (1-3).
    rounds: u8,
}

/// An operation of the main thread.
#[derive(Debug, Clone)]
enum EventOp {
    /// Start a waiter (ignored past `MAX_WAITERS`).
    Spawn(Waiter),
    /// `set()` (`true`) and `clear()` (`false`) calls back to back, no
    /// `.await` between them.
    Flags(Vec<bool>),
    /// Cancel, pause or settle.
    Common(Common),
}

fn event_op() -> impl Strategy<Value = EventOp> {
    let waiter = (wait_kind(), 1u8..=3).prop_map(|(wait, rounds)| Waiter { wait, rounds });
    prop_oneof![
        5 => waiter.prop_map(EventOp::Spawn),
        4 => prop::collection::vec(any::<bool>(), 1..=4).prop_map(EventOp::Flags),
        6 => common().prop_map(EventOp::Common),
    ]
}

/// Locks a mutex of the track; a waiter that panicked holding it is
/// reported by `join_all`, so poisoning is ignored here.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The waits by serial number.
#[derive(Debug, Default)]
struct Registry {
    /// Next serial number (from 1).
    next: usize,
    /// Registered waits (see the file's doc).
    registered: BTreeSet<usize>,
    /// Registered waits that a `set()` has been made for since: each must
    /// return.
    must_return: BTreeSet<usize>,
}

/// What the main thread and the waiters of an event case report.
#[derive(Debug, Default)]
struct EventTrack {
    /// `set()` calls begun and finished.
    sets_started: Count,
    sets_done: Count,
    /// `clear()` calls begun and finished.
    clears_started: Count,
    clears_done: Count,
    /// Waiters inside a wait (registered or not).
    waiting: Count,
    /// Waits that returned.
    returned: Count,
    registry: Mutex<Registry>,
    /// The first wrong return value a waiter saw.
    error: FirstError,
}

impl EventTrack {
    /// Main: `set()`, making every registered wait one that must return.
    fn set(&self, ev: &Event) {
        {
            let mut r = lock(&self.registry);
            let now: Vec<usize> = r.registered.iter().copied().collect();
            r.must_return.extend(now);
        }
        self.sets_started.inc();
        ev.set();
        self.sets_done.inc();
    }

    /// Main: `clear()`.
    fn clear(&self, ev: &Event) {
        self.clears_started.inc();
        ev.clear();
        self.clears_done.inc();
    }
}

/// The invariants of an event case; `Ok` carries the counters, for
/// [`settle`](prop_support::settle)'s stability test.
fn check_event(ev: &Event, t: &EventTrack) -> Result<[usize; 3], String> {
    t.error.check()?;
    let r = lock(&t.registry);
    if ev.is_set() && !r.registered.is_empty() {
        return Err(format!(
            "lost wake-up: the flag is set while {} wait(s) still wait",
            r.registered.len()
        ));
    }
    if !r.must_return.is_empty() {
        return Err(format!(
            "lost pulse: {} wait(s) registered before a set() still wait",
            r.must_return.len()
        ));
    }
    Ok([t.waiting.get(), t.returned.get(), r.registered.len()])
}

/// Runs `fut`, calling `on_block` after its first `Pending` poll.
async fn watched<F: Future>(fut: F, on_block: impl FnOnce()) -> F::Output {
    let mut fut = pin!(fut);
    let mut on_block = Some(on_block);
    poll_fn(|cx| {
        let p = fut.as_mut().poll(cx);
        if p.is_pending() {
            if let Some(f) = on_block.take() {
                f();
            }
        }
        p
    })
    .await
}

/// One wait of a waiter; `false` if it was cancelled.
async fn one_wait(
    ev: &Event,
    how: Wait,
    t: &EventTrack,
    cancel: &mut oneshot::Receiver<()>,
) -> bool {
    let serial = {
        let mut r = lock(&t.registry);
        r.next += 1;
        r.next
    };
    // A fresh budget: the wait's first poll cannot be a budget yield.
    greenthread::yield_now().await;
    let clears_before = t.clears_done.get();
    let sets_before = t.sets_done.get();
    let set_at_start = ev.is_set();
    t.waiting.inc();
    let register = || {
        lock(&t.registry).registered.insert(serial);
    };
    let r = match how.duration() {
        None => cancellable(watched(ev.wait(), register), cancel).await,
        Some(d) => cancellable(watched(ev.wait_timeout(d), register), cancel).await,
    };
    let sets_after = t.sets_started.get();
    let clears_after = t.clears_started.get();
    {
        let mut reg = lock(&t.registry);
        reg.registered.remove(&serial);
        reg.must_return.remove(&serial);
    }
    // Counted before it stops counting as waiting.
    if r.is_some() {
        t.returned.inc();
    }
    t.waiting.dec();
    let Some(r) = r else { return false };
    if how.duration().is_none() && !r {
        t.error.set("wait() returned false".into());
    }
    if r && !set_at_start && sets_after == sets_before {
        t.error.set(format!(
            "a {how:?} wait returned true, but the flag was clear when it began and no set() \
             was made while it waited"
        ));
    }
    if !r && set_at_start && clears_after == clears_before {
        t.error.set(format!(
            "a {how:?} wait timed out, but the flag was set when it began and no clear() was \
             made while it waited"
        ));
    }
    true
}

/// A waiter thread running `w` on `ev`.
async fn event_waiter(ev: Event, w: Waiter, t: Arc<EventTrack>, mut cancel: oneshot::Receiver<()>) {
    for _ in 0..w.rounds {
        if !one_wait(&ev, w.wait, &t, &mut cancel).await {
            return;
        }
    }
}

/// One event case.
async fn event_case(ops: Vec<EventOp>) -> Result<(), String> {
    let ev = Event::new();
    let t = Arc::new(EventTrack::default());
    let mut waiters = Waiters::default();
    let mut result = Ok(());
    for op in ops {
        match op {
            EventOp::Spawn(w) => {
                waiters.spawn(|rx| event_waiter(ev.clone(), w, t.clone(), rx));
            }
            EventOp::Flags(flags) => {
                for set in flags {
                    if set {
                        t.set(&ev);
                    } else {
                        t.clear(&ev);
                    }
                }
            }
            EventOp::Common(op) => {
                result = op.run(&mut waiters, || check_event(&ev, &t)).await;
                if result.is_err() {
                    break;
                }
            }
        }
    }
    waiters.wind_up(result, || check_event(&ev, &t)).await?;
    if t.waiting.get() != 0 {
        return Err(format!("{} waiter(s) left inside a wait", t.waiting.get()));
    }
    Ok(())
}

fn events(kind: &str) {
    let strategy = prop::collection::vec(event_op(), 1..32);
    run_cases(kind, CASES, strategy, event_case);
}

per_kind!(event, events);
