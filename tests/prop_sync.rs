//! Property tests of the synchronization primitives against a sequential
//! model: random sequences of operations (waiters that wait forever, with a
//! timeout, or are cancelled at a random point; bursts of releases with no
//! `.await` between them; non-blocking tries) on `Semaphore`,
//! `BoundedSemaphore`, `Lock` and `RLock`, in every runtime kind
//! (`Condition`, `Event` and `Barrier` have theirs in `prop_cond.rs`,
//! `prop_event.rs` and `prop_barrier.rs`).
//!
//! After each sequence (and at random `Settle` points in it) the state must
//! become quiescent within a generous bound and then satisfy the model:
//! permits (tokens, passes) are conserved, and **no thread is left waiting
//! while what it waits for is available** — which is what a lost wake-up
//! is. Raise the case count with `PROPTEST_CASES=N`.

mod prop_support;
mod support;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use greenthread::{BoundedSemaphore, Lock, RLock, Semaphore};
use proptest::prelude::*;

use prop_support::{
    cancellable, common, pause, run_cases, wait_kind, Common, Count, Pause, Wait, Waiters,
};

/// Cases per run and primitive and kind, unless `PROPTEST_CASES` says more.
const CASES: u32 = 40;

// ---------------------------------------------------------------------------
// Permits: Semaphore, BoundedSemaphore, Lock, RLock.
// ---------------------------------------------------------------------------

/// What the permit model needs of a primitive.
trait Permits: Clone + Send + Sync + 'static {
    /// A lock: a waiter gives back what it takes, the main thread releases
    /// only what it holds, and at most one thread holds it.
    const LOCK_LIKE: bool;
    /// Its owner may take it again (`RLock`).
    const REENTRANT: bool;
    /// A primitive with `init` free units (a lock starts free).
    fn make(init: usize) -> Self;
    /// The forever acquire.
    fn acquire(&self) -> impl Future<Output = ()> + Send + '_;
    /// The timed acquire.
    fn acquire_timeout(&self, d: Duration) -> impl Future<Output = bool> + Send + '_;
    /// The non-blocking acquire.
    fn try_acquire(&self) -> bool;
    /// Gives `n` units back; whether that was accepted.
    fn release(&self, n: usize) -> bool;
    /// Free units now.
    fn value(&self) -> usize;
    /// The most units it may hold, if bounded.
    fn bound(&self) -> Option<usize>;
}

/// Implements [`Permits`] for a primitive: the acquires are its own; the
/// rest is given as closures (`lock T`: a lock type's).
macro_rules! permits {
    (lock $ty:ident, reentrant: $re:expr) => {
        permits!(
            $ty,
            lock_like: true,
            reentrant: $re,
            make: |_init| $ty::new(),
            release: |s, n| (0..n).all(|_| s.release().is_ok()),
            value: |s| usize::from(!s.locked()),
            bound: |_s| Some(1),
        );
    };
    (
        $ty:ident,
        lock_like: $ll:expr,
        reentrant: $re:expr,
        make: |$init:ident| $make:expr,
        release: |$s:ident, $n:ident| $release:expr,
        value: |$v:ident| $value:expr,
        bound: |$b:ident| $bound:expr $(,)?
    ) => {
        impl Permits for $ty {
            const LOCK_LIKE: bool = $ll;
            const REENTRANT: bool = $re;
            fn make($init: usize) -> Self {
                $make
            }
            fn acquire(&self) -> impl Future<Output = ()> + Send + '_ {
                $ty::acquire(self)
            }
            fn acquire_timeout(&self, d: Duration) -> impl Future<Output = bool> + Send + '_ {
                $ty::acquire_timeout(self, d)
            }
            fn try_acquire(&self) -> bool {
                $ty::try_acquire(self)
            }
            fn release(&self, $n: usize) -> bool {
                let $s = self;
                $release
            }
            fn value(&self) -> usize {
                let $v = self;
                $value
            }
            fn bound(&self) -> Option<usize> {
                let $b = self;
                $bound
            }
        }
    };
}

permits!(
    Semaphore,
    lock_like: false,
    reentrant: false,
    make: |init| Semaphore::new(init),
    release: |s, n| {
        s.release(n);
        true
    },
    value: |s| s.value(),
    bound: |_s| None,
);
permits!(
    BoundedSemaphore,
    lock_like: false,
    reentrant: false,
    make: |init| BoundedSemaphore::new(init),
    release: |s, n| s.release(n).is_ok(),
    value: |s| s.value(),
    bound: |s| Some(s.max_value()),
);
permits!(lock Lock, reentrant: false);
permits!(lock RLock, reentrant: true);

/// A waiter thread's program.
#[derive(Debug, Clone)]
struct Waiter {
    /// How each acquire waits.
    wait: Wait,
    /// Acquires to make (1-3).
    rounds: u8,
    /// Whether it releases each unit it took (always, for a lock).
    give_back: bool,
    /// What it does while holding a unit it gives back.
    hold: Option<Pause>,
    /// For an RLock: levels taken per round (1-2).
    depth: u8,
}

/// An operation of the main thread.
#[derive(Debug, Clone)]
enum PermitOp {
    /// Start a waiter (ignored past `MAX_WAITERS`).
    Spawn(Waiter),
    /// Releases back to back, no `.await` between them. A semaphore gets
    /// `release(n)` for each `n`; a lock, for each entry, a release if the
    /// main thread holds it, else a `try_acquire`.
    Burst(Vec<usize>),
    /// Up to this many `try_acquire`s (a lock: one), stopping at the
    /// first failure; the units are kept. `u8::MAX` drains the supply, so
    /// that later waiters block.
    Try(u8),
    /// Cancel, pause or settle.
    Common(Common),
}

fn waiter() -> impl Strategy<Value = Waiter> {
    (
        wait_kind(),
        1u8..=3,
        any::<bool>(),
        prop::option::of(pause()),
        1u8..=2,
    )
        .prop_map(|(wait, rounds, give_back, hold, depth)| Waiter {
            wait,
            rounds,
            give_back,
            hold,
            depth,
        })
}

fn permit_op() -> impl Strategy<Value = PermitOp> {
    // Weighted so that waiters often block before a burst (supply is
    // drained, settles let them reach their wait): the case a lost
    // wake-up needs.
    prop_oneof![
        5 => waiter().prop_map(PermitOp::Spawn),
        3 => prop::collection::vec(prop_oneof![3 => Just(1usize), 1 => 2usize..=3], 1..=6)
            .prop_map(PermitOp::Burst),
        2 => prop_oneof![1u8..=2, Just(u8::MAX)].prop_map(PermitOp::Try),
        6 => common().prop_map(PermitOp::Common),
    ]
}

/// What the waiters of a permit case report.
#[derive(Debug, Default)]
struct PermitTrack {
    /// Waiters inside an acquire now.
    waiting: Count,
    /// Units the waiters took.
    acquired: Count,
    /// Units the waiters gave back.
    given_back: Count,
    /// Threads holding a lock-like primitive now.
    holders: Count,
    /// Times two threads held a lock-like primitive at once.
    overlaps: Count,
}

impl PermitTrack {
    /// Marks the caller as a holder of a lock.
    fn enter(&self) {
        if self.holders.inc() != 0 {
            self.overlaps.inc();
        }
    }
}

/// The main thread's part of the model.
#[derive(Debug, Default)]
struct MainSide {
    /// Units it took (`Try`, a lock's burst).
    taken: usize,
    /// Units it released and were accepted.
    released: usize,
    /// Levels of a lock it holds now.
    depth: usize,
}

/// The invariants of a permit case; `Err` says which fails.
/// `Ok` carries the waiters' counters, for [`settle`]'s stability test.
fn check_permits<P: Permits>(
    p: &P,
    init: usize,
    main: &MainSide,
    t: &PermitTrack,
) -> Result<[usize; 3], String> {
    let value = p.value();
    let expected =
        (init + main.released + t.given_back.get()).checked_sub(main.taken + t.acquired.get());
    let waiting = t.waiting.get();
    if expected != Some(value) {
        return Err(format!(
            "value() is {value} but the model says {expected:?}: initial {init} + released by main \
             {} + given back by waiters {} - taken by main {} - taken by waiters {}",
            main.released,
            t.given_back.get(),
            main.taken,
            t.acquired.get()
        ));
    }
    if value > 0 && waiting > 0 {
        return Err(format!(
            "lost wake-up: value() is {value} while {waiting} waiter(s) still wait"
        ));
    }
    if let Some(max) = p.bound() {
        if value > max {
            return Err(format!("value() {value} exceeds the bound {max}"));
        }
    }
    if t.overlaps.get() > 0 {
        return Err(format!(
            "{} time(s) two threads held the lock at once",
            t.overlaps.get()
        ));
    }
    Ok([waiting, t.acquired.get(), t.given_back.get()])
}

/// A waiter thread running `w` on `p`.
async fn permit_waiter<P: Permits>(
    p: P,
    w: Waiter,
    t: Arc<PermitTrack>,
    mut cancel: futures::channel::oneshot::Receiver<()>,
) {
    let give_back = w.give_back || P::LOCK_LIKE;
    for _ in 0..w.rounds {
        t.waiting.inc();
        let got = match w.wait.duration() {
            None => {
                cancellable(
                    async {
                        p.acquire().await;
                        true
                    },
                    &mut cancel,
                )
                .await
            }
            Some(d) => cancellable(p.acquire_timeout(d), &mut cancel).await,
        };
        // Counted before it stops counting as waiting: the model never sees
        // a unit gone that nobody took.
        if got == Some(true) {
            t.acquired.inc();
        }
        t.waiting.dec();
        match got {
            None => return,
            Some(false) => continue,
            Some(true) => {}
        }
        if P::LOCK_LIKE {
            t.enter();
        }
        let extra = if P::REENTRANT { w.depth - 1 } else { 0 };
        for _ in 0..extra {
            assert!(p.try_acquire(), "the owner re-acquires its RLock at once");
        }
        if give_back {
            if let Some(h) = w.hold {
                h.run().await;
            }
            for _ in 0..extra {
                assert!(p.release(1), "an inner level is released");
            }
            if P::LOCK_LIKE {
                t.holders.dec();
            }
            if P::LOCK_LIKE {
                // Counted first, for the same reason as `acquired`.
                t.given_back.inc();
                assert!(p.release(1), "the holder releases its lock");
            } else if p.release(1) {
                // A bounded semaphore may refuse it: the main thread's
                // releases may have filled it up meanwhile.
                t.given_back.inc();
            }
        }
    }
}

/// One permit case: `ops` on a fresh `P` with `init` units.
async fn permit_case<P: Permits>(init: usize, ops: Vec<PermitOp>) -> Result<(), String> {
    let init = if P::LOCK_LIKE { 1 } else { init };
    let p = P::make(init);
    let t = Arc::new(PermitTrack::default());
    let mut main = MainSide::default();
    let mut waiters = Waiters::default();
    let mut result = Ok(());
    for op in ops {
        match op {
            PermitOp::Spawn(w) => {
                waiters.spawn(|rx| permit_waiter(p.clone(), w, t.clone(), rx));
            }
            PermitOp::Burst(ns) => {
                for n in ns {
                    if P::LOCK_LIKE {
                        main_lock_step(&p, &mut main, &t);
                    } else if p.release(n) {
                        main.released += n;
                    }
                }
            }
            PermitOp::Try(k) => {
                if P::LOCK_LIKE {
                    if main.depth == 0 || P::REENTRANT {
                        main_try_lock(&p, &mut main, &t);
                    }
                } else {
                    for _ in 0..k {
                        if !p.try_acquire() {
                            break;
                        }
                        main.taken += 1;
                    }
                }
            }
            PermitOp::Common(c) => {
                result = c
                    .run(&mut waiters, || check_permits(&p, init, &main, &t))
                    .await;
                if result.is_err() {
                    break;
                }
            }
        }
    }
    waiters
        .wind_up(result, || check_permits(&p, init, &main, &t))
        .await?;
    if t.waiting.get() != 0 {
        return Err(format!("{} waiter(s) left inside acquire", t.waiting.get()));
    }
    Ok(())
}

/// The main thread takes a lock (its first level is one unit), if it can.
fn main_try_lock<P: Permits>(p: &P, main: &mut MainSide, t: &PermitTrack) {
    if p.try_acquire() {
        if main.depth == 0 {
            main.taken += 1;
            t.enter();
        }
        main.depth += 1;
    }
}

/// One entry of a lock's burst: release if held, else try to take it.
fn main_lock_step<P: Permits>(p: &P, main: &mut MainSide, t: &PermitTrack) {
    if main.depth == 0 {
        main_try_lock(p, main, t);
        return;
    }
    main.depth -= 1;
    if main.depth == 0 {
        t.holders.dec();
        main.released += 1;
    }
    assert!(p.release(1), "the main thread holds the lock it releases");
}

/// The whole property for `P` in one runtime kind.
fn permits<P: Permits>(kind: &str) {
    let strategy = (0usize..=2, prop::collection::vec(permit_op(), 1..32));
    run_cases(kind, CASES, strategy, |(init, ops)| {
        permit_case::<P>(init, ops)
    });
}

per_kind!(semaphore, permits::<Semaphore>);
per_kind!(bounded_semaphore, permits::<BoundedSemaphore>);
per_kind!(lock, permits::<Lock>);
per_kind!(rlock, permits::<RLock>);
