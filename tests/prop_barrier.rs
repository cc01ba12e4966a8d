//! Property tests of `Barrier` against a round model, in every runtime
//! kind.
//!
//! Waiter threads call `wait()` or `wait_timeout(short)` (1-3 times each)
//! and may be cancelled at a random point (which breaks the barrier, as a
//! timeout does); the main thread calls `abort()` and `reset()`. Barriers
//! of 1-4 parties, with or without an action.
//!
//! Once quiescent:
//!
//! - every round either passed whole or failed whole: each index
//!   `0..parties` was handed out equally often (a round that passed gives
//!   each once; a round that broke gives none), and the action ran once per
//!   round that passed (and at most once more per failed wait: a round can
//!   break while its action runs). The last arriver's index counts the
//!   rounds that passed (it returns in the poll that releases the round);
//!   a waiter cancelled just as its round was released never sees its
//!   index, so the other indices may fall short, by at most the number of
//!   cancelled waits;
//! - nobody waits for ever: a broken barrier has no waiter left, an unbroken
//!   one fewer than `parties`;
//! - `n_waiting()` is the number of waiters the model says wait (0 while
//!   broken).
//!
//! Raise the case count with `PROPTEST_CASES=N`.

mod prop_support;
mod support;

use std::sync::Arc;

use futures::channel::oneshot;
use greenthread::Barrier;
use proptest::prelude::*;

use prop_support::{
    cancellable, common, run_cases, wait_kind, Common, Count, FirstError, Wait, Waiters,
};

/// Cases per run and runtime kind, unless `PROPTEST_CASES` says more.
const CASES: u32 = 40;

/// The most parties a case's barrier has.
const MAX_PARTIES: usize = 4;

/// A waiter thread's program.
#[derive(Debug, Clone)]
struct Waiter {
    /// How each wait waits.
    wait: Wait,
    /// Waits to make (1-3), whatever each returns.
    rounds: u8,
}

/// An operation of the main thread.
#[derive(Debug, Clone)]
enum BarrierOp {
    /// Start a waiter (ignored past `MAX_WAITERS`).
    Spawn(Waiter),
    /// `abort()`.
    Abort,
    /// `reset()`.
    Reset,
    /// Cancel, pause or settle.
    Common(Common),
}

fn barrier_op() -> impl Strategy<Value = BarrierOp> {
    let waiter = (wait_kind(), 1u8..=3).prop_map(|(wait, rounds)| Waiter { wait, rounds });
    prop_oneof![
        6 => waiter.prop_map(BarrierOp::Spawn),
        1 => Just(BarrierOp::Abort),
        2 => Just(BarrierOp::Reset),
        6 => common().prop_map(BarrierOp::Common),
    ]
}

/// What the waiters (and the action) of a barrier case report.
#[derive(Debug, Default)]
struct BarrierTrack {
    /// Waiters inside a wait.
    waiting: Count,
    /// Passes by index.
    passes: [Count; MAX_PARTIES],
    /// Waits that got `BrokenBarrierError`.
    broken: Count,
    /// Waits that were cancelled.
    cancelled: Count,
    /// Runs of the action.
    actions: Count,
    /// The first out-of-range index a waiter got.
    error: FirstError,
}

/// The invariants of a barrier case; `Ok` carries the counters, for
/// [`settle`](prop_support::settle)'s stability test.
fn check_barrier(b: &Barrier, action: bool, t: &BarrierTrack) -> Result<[usize; 3], String> {
    t.error.check()?;
    let parties = b.parties();
    let waiting = t.waiting.get();
    let n_waiting = b.n_waiting();
    if b.broken() {
        if waiting > 0 {
            return Err(format!(
                "the barrier is broken but {waiting} waiter(s) still wait"
            ));
        }
    } else if waiting >= parties {
        return Err(format!(
            "{waiting} waiter(s) still wait at a barrier of {parties} parties"
        ));
    }
    let expected = if b.broken() { 0 } else { waiting };
    if n_waiting != expected {
        return Err(format!(
            "n_waiting() is {n_waiting}, the model says {expected} (broken: {})",
            b.broken()
        ));
    }
    let passes: Vec<usize> = t.passes[..parties].iter().map(Count::get).collect();
    let rounds = passes[parties - 1];
    let cancelled = t.cancelled.get();
    let short: usize = passes.iter().map(|&p| rounds.saturating_sub(p)).sum();
    if passes.iter().any(|&p| p > rounds) || short > cancelled {
        return Err(format!(
            "indices 0..{parties} were handed out {passes:?} times, with {cancelled} wait(s) \
             cancelled (a round that passed in part)"
        ));
    }
    // A round that breaks while its action runs (an abort, a reset, a
    // timeout or a cancel meanwhile) ran the action but fails, its last
    // arriver included: at most one extra run per failed wait.
    let actions = t.actions.get();
    if action && !(rounds..=rounds + t.broken.get()).contains(&actions) {
        return Err(format!(
            "the action ran {actions} time(s) for {rounds} round(s) that passed and {} failed              wait(s)",
            t.broken.get()
        ));
    }
    Ok([waiting, rounds, t.broken.get() + cancelled])
}

/// A waiter thread running `w` on `b`.
async fn barrier_waiter(
    b: Barrier,
    w: Waiter,
    t: Arc<BarrierTrack>,
    mut cancel: oneshot::Receiver<()>,
) {
    for _ in 0..w.rounds {
        t.waiting.inc();
        let r = match w.wait.duration() {
            None => cancellable(b.wait(), &mut cancel).await,
            Some(d) => cancellable(b.wait_timeout(d), &mut cancel).await,
        };
        // Counted before it stops counting as waiting.
        match r {
            Some(Ok(i)) if i < b.parties() => {
                t.passes[i].inc();
            }
            Some(Ok(i)) => {
                t.error
                    .set(format!("index {i} at a barrier of {} parties", b.parties()));
            }
            Some(Err(_)) => {
                t.broken.inc();
            }
            None => {
                t.cancelled.inc();
            }
        }
        t.waiting.dec();
        if r.is_none() {
            return;
        }
    }
}

/// One barrier case.
async fn barrier_case(parties: usize, action: bool, ops: Vec<BarrierOp>) -> Result<(), String> {
    let t = Arc::new(BarrierTrack::default());
    let b = if action {
        let t = t.clone();
        Barrier::with_action(parties, move || {
            t.actions.inc();
        })
    } else {
        Barrier::new(parties)
    };
    let mut waiters = Waiters::default();
    let mut result = Ok(());
    for op in ops {
        match op {
            BarrierOp::Spawn(w) => {
                waiters.spawn(|rx| barrier_waiter(b.clone(), w, t.clone(), rx));
            }
            BarrierOp::Abort => b.abort(),
            BarrierOp::Reset => b.reset(),
            BarrierOp::Common(op) => {
                result = op.run(&mut waiters, || check_barrier(&b, action, &t)).await;
                if result.is_err() {
                    break;
                }
            }
        }
    }
    waiters
        .wind_up(result, || check_barrier(&b, action, &t))
        .await?;
    if t.waiting.get() != 0 {
        return Err(format!("{} waiter(s) left inside a wait", t.waiting.get()));
    }
    Ok(())
}

fn barriers(kind: &str) {
    let strategy = (
        1usize..=MAX_PARTIES,
        any::<bool>(),
        prop::collection::vec(barrier_op(), 1..32),
    );
    run_cases(kind, CASES, strategy, |(parties, action, ops)| {
        barrier_case(parties, action, ops)
    });
}

per_kind!(barrier, barriers);
