//! Property tests of `Condition` (over a `Lock` and over an `RLock`)
//! against a sequential token model, in every runtime kind.
//!
//! The model: a token count guarded by the condition's lock. Waiter threads
//! take the lock (an RLock at depth 1 or 2), wait for a token with
//! `wait_for`, `wait_for_timeout`, or one `wait`/`wait_timeout` after
//! checking that there is none, take one if there is one, and release; any
//! of them may be cancelled at a random point. The main thread takes the
//! lock, adds `k` tokens and notifies (`notify(1)` several times in a row
//! with no `.await`, one `notify(n)`, or `notify_all()`), sometimes holding
//! the lock a little longer, and sometimes takes a token itself (a
//! newcomer that does not wait).
//!
//! Every notify delivers at least as many notifications as it adds tokens,
//! and every woken waiter looks for a token, so once the state is quiescent
//! **no waiter waits while a token is there** (a lost wake-up otherwise);
//! tokens are conserved (initial + added - taken), the lock is free, and
//! `n_waiters()` is the number of waiters the model says wait.
//!
//! A second property pins SPEC 10.26 directly: M waiters blocked in plain
//! `wait()`, a burst of notifies worth N (`notify(1)` N times, `notify(N)`
//! once, or a mix) → exactly min(N, M) return; with some of them cancelled
//! while the notifier still holds the lock, a notification a cancelled
//! waiter had been chosen for goes to a live one (SPEC 10.5).
//!
//! Raise the case count with `PROPTEST_CASES=N`.

mod prop_support;
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::channel::oneshot;
use greenthread::{Condition, Lock, RLock};
use proptest::prelude::*;

use prop_support::{
    cancellable, common, pause, run_cases, settle, Common, Count, Pause, Waiters, SETTLE,
};

/// Cases per run and lock kind and runtime kind, unless `PROPTEST_CASES`
/// says more.
const CASES: u32 = 40;

/// A condition and, when it is over an RLock, that RLock (to check who
/// owns it).
#[derive(Clone)]
struct Cond {
    cond: Condition,
    rlock: Option<RLock>,
}

impl Cond {
    fn new(reentrant: bool) -> Cond {
        if reentrant {
            let rlock = RLock::new();
            Cond {
                cond: Condition::with_rlock(rlock.clone()),
                rlock: Some(rlock),
            }
        } else {
            Cond {
                cond: Condition::with_lock(Lock::new()),
                rlock: None,
            }
        }
    }

    /// Whether the caller holds the lock, as far as it can be told: owns
    /// the RLock, or the Lock is locked.
    fn held(&self) -> bool {
        match &self.rlock {
            Some(r) => r.is_owned(),
            None => self.cond.locked(),
        }
    }

    /// The main thread takes the lock; a lock nobody gives back within
    /// [`SETTLE`] fails the case.
    async fn lock_main(&self) -> Result<(), String> {
        greenthread::timeout(SETTLE, self.cond.acquire())
            .await
            .map_err(|_| format!("the main thread did not get the lock within {SETTLE:?}"))
    }

    /// Releases one level; it must be held.
    fn unlock(&self) {
        self.cond
            .release()
            .expect("the holder releases the condition's lock");
    }
}

// ---------------------------------------------------------------------------
// The token model.
// ---------------------------------------------------------------------------

/// How a waiter waits for a token.
#[derive(Debug, Clone, Copy)]
enum CondWait {
    /// `wait_for(|| tokens > 0)`.
    For,
    /// `wait_for_timeout(|| tokens > 0, ms)`.
    ForTimeout(u8),
    /// If there is no token, one `wait()`.
    Once,
    /// If there is no token, one `wait_timeout(ms)`.
    TimeoutOnce(u8),
}

impl CondWait {
    fn timed(ms: u8) -> Duration {
        Duration::from_millis(u64::from(ms))
    }
}

/// A waiter thread's program.
#[derive(Debug, Clone)]
struct Waiter {
    how: CondWait,
    /// Tokens to go for (1-3), one lock-wait-release round each.
    rounds: u8,
    /// RLock levels taken before waiting (1-2; a Lock: 1).
    depth: u8,
    /// What it does while holding the lock after its wait.
    hold: Option<Pause>,
}

/// How the main thread notifies `n` (= tokens added + extra).
#[derive(Debug, Clone, Copy)]
enum Notify {
    /// `notify(1)` n times, no `.await` between.
    Ones,
    /// `notify(n)` once.
    Once,
    /// `notify_all()`.
    All,
}

/// An operation of the main thread.
#[derive(Debug, Clone)]
enum CondOp {
    /// Start a waiter (ignored past `MAX_WAITERS`).
    Spawn(Waiter),
    /// Under the lock: add `add` tokens, notify `add + extra` as `how`
    /// says, do `hold`, release.
    Notify {
        add: u8,
        extra: u8,
        how: Notify,
        hold: Option<Pause>,
    },
    /// Under the lock: take a token if there is one (a thread that does
    /// not wait).
    Take,
    /// Cancel, pause or settle.
    Common(Common),
}

fn cond_wait() -> impl Strategy<Value = CondWait> {
    let ms = || prop_oneof![Just(0u8), Just(1), Just(5), Just(20)];
    prop_oneof![
        3 => Just(CondWait::For),
        2 => Just(CondWait::Once),
        1 => ms().prop_map(CondWait::ForTimeout),
        1 => ms().prop_map(CondWait::TimeoutOnce),
    ]
}

fn waiter() -> impl Strategy<Value = Waiter> {
    (cond_wait(), 1u8..=3, 1u8..=2, prop::option::of(pause())).prop_map(
        |(how, rounds, depth, hold)| Waiter {
            how,
            rounds,
            depth,
            hold,
        },
    )
}

fn cond_op() -> impl Strategy<Value = CondOp> {
    let how = prop_oneof![Just(Notify::Ones), Just(Notify::Once), Just(Notify::All)];
    prop_oneof![
        5 => waiter().prop_map(CondOp::Spawn),
        4 => (0u8..=3, prop_oneof![3 => Just(0u8), 1 => 1u8..=2], how, prop::option::of(pause()))
            .prop_map(|(add, extra, how, hold)| CondOp::Notify { add, extra, how, hold }),
        1 => Just(CondOp::Take),
        6 => common().prop_map(CondOp::Common),
    ]
}

/// What the waiters of a token case report (and the tokens themselves,
/// changed only under the condition's lock).
#[derive(Debug, Default)]
struct TokenTrack {
    /// The tokens there are now.
    tokens: AtomicUsize,
    /// Waiters between taking the lock for a wait and leaving it.
    waiting: Count,
    /// Tokens the waiters took.
    consumed: Count,
}

impl TokenTrack {
    fn tokens(&self) -> usize {
        self.tokens.load(Ordering::SeqCst)
    }

    /// Takes a token if there is one (the lock held); whether it did.
    fn take(&self) -> bool {
        if self.tokens() == 0 {
            return false;
        }
        self.tokens.fetch_sub(1, Ordering::SeqCst);
        true
    }
}

/// The main thread's part of the model.
#[derive(Debug, Default)]
struct MainSide {
    added: usize,
    taken: usize,
}

/// The invariants of a token case, the main thread not holding the lock.
/// `Ok` carries the counters, for [`settle`]'s stability test.
fn check_tokens(
    c: &Cond,
    init: usize,
    main: &MainSide,
    t: &TokenTrack,
) -> Result<[usize; 3], String> {
    if c.cond.locked() {
        return Err("the lock is still held".into());
    }
    let tokens = t.tokens();
    let waiting = t.waiting.get();
    let consumed = t.consumed.get();
    let expected = (init + main.added).checked_sub(consumed + main.taken);
    if expected != Some(tokens) {
        return Err(format!(
            "{tokens} token(s) but the model says {expected:?}: initial {init} + added {} - \
             taken by waiters {consumed} - taken by main {}",
            main.added, main.taken
        ));
    }
    if tokens > 0 && waiting > 0 {
        return Err(format!(
            "lost wake-up: {tokens} token(s) while {waiting} waiter(s) still wait"
        ));
    }
    let n = c.cond.n_waiters();
    if n != waiting {
        return Err(format!(
            "n_waiters() is {n} but {waiting} waiter(s) are inside a wait"
        ));
    }
    Ok([tokens, waiting, consumed])
}

/// The wait of one round, the lock held at `w.depth` levels: `Some` if it
/// came back (with the lock), `None` if cancelled.
async fn wait_round(
    c: &Cond,
    w: &Waiter,
    t: &TokenTrack,
    cancel: &mut oneshot::Receiver<()>,
) -> Option<()> {
    let cond = &c.cond;
    let ready = || t.tokens() > 0;
    let wait = async {
        let r = match w.how {
            CondWait::For => cond.wait_for(ready).await,
            CondWait::ForTimeout(ms) => cond
                .wait_for_timeout(ready, CondWait::timed(ms))
                .await
                .map(drop),
            CondWait::Once if !ready() => cond.wait().await,
            CondWait::TimeoutOnce(ms) if !ready() => {
                cond.wait_timeout(CondWait::timed(ms)).await.map(drop)
            }
            CondWait::Once | CondWait::TimeoutOnce(_) => Ok(()),
        };
        r.expect("the waiter holds the lock it waits with");
    };
    cancellable(wait, cancel).await
}

/// A waiter thread running `w` on `c`.
async fn token_waiter(c: Cond, w: Waiter, t: Arc<TokenTrack>, mut cancel: oneshot::Receiver<()>) {
    let depth = if c.rlock.is_some() { w.depth } else { 1 };
    for _ in 0..w.rounds {
        if cancellable(c.cond.acquire(), &mut cancel).await.is_none() {
            return;
        }
        for _ in 1..depth {
            assert!(c.cond.try_acquire(), "the owner re-acquires its RLock");
        }
        t.waiting.inc();
        let done = wait_round(&c, &w, &t, &mut cancel).await;
        if done.is_none() {
            // SPEC 10.5: a cancelled wait leaves the lock released.
            if let Some(r) = &c.rlock {
                assert!(!r.is_owned(), "a cancelled wait left the RLock owned");
            }
            t.waiting.dec();
            return;
        }
        assert!(c.held(), "a wait came back without the lock");
        // Counted first: the model never sees a token gone that nobody took.
        if t.tokens() > 0 {
            t.consumed.inc();
            assert!(t.take());
        }
        t.waiting.dec();
        if let Some(h) = w.hold {
            h.run().await;
        }
        for _ in 0..depth {
            c.unlock();
        }
        if let Some(r) = &c.rlock {
            assert!(
                !r.is_owned(),
                "the RLock is still owned after every release"
            );
        }
    }
}

/// One token case: `ops` on a fresh condition with `init` tokens.
async fn token_case(reentrant: bool, init: usize, ops: Vec<CondOp>) -> Result<(), String> {
    let c = Cond::new(reentrant);
    let t = Arc::new(TokenTrack::default());
    t.tokens.store(init, Ordering::SeqCst);
    let mut main = MainSide::default();
    let mut waiters = Waiters::default();
    let mut result = Ok(());
    for op in ops {
        match op {
            CondOp::Spawn(w) => {
                waiters.spawn(|rx| token_waiter(c.clone(), w, t.clone(), rx));
            }
            CondOp::Notify {
                add,
                extra,
                how,
                hold,
            } => {
                if let Err(e) = c.lock_main().await {
                    result = Err(e);
                    break;
                }
                let add = usize::from(add);
                t.tokens.fetch_add(add, Ordering::SeqCst);
                main.added += add;
                let n = add + usize::from(extra);
                let notified = match how {
                    Notify::Ones => (0..n).try_for_each(|_| c.cond.notify(1)),
                    Notify::Once => c.cond.notify(n),
                    Notify::All => c.cond.notify_all(),
                };
                notified.expect("the main thread holds the lock it notifies with");
                if let Some(h) = hold {
                    h.run().await;
                }
                c.unlock();
            }
            CondOp::Take => {
                if let Err(e) = c.lock_main().await {
                    result = Err(e);
                    break;
                }
                if t.take() {
                    main.taken += 1;
                }
                c.unlock();
            }
            CondOp::Common(op) => {
                result = op
                    .run(&mut waiters, || check_tokens(&c, init, &main, &t))
                    .await;
                if result.is_err() {
                    break;
                }
            }
        }
    }
    waiters
        .wind_up(result, || check_tokens(&c, init, &main, &t))
        .await?;
    if t.waiting.get() != 0 {
        return Err(format!("{} waiter(s) left inside a wait", t.waiting.get()));
    }
    Ok(())
}

/// The token property over a Lock (`reentrant` false) or an RLock.
fn tokens(kind: &str, reentrant: bool) {
    let strategy = (0usize..=2, prop::collection::vec(cond_op(), 1..32));
    run_cases(kind, CASES, strategy, move |(init, ops)| {
        token_case(reentrant, init, ops)
    });
}

per_kind!(condition_lock, |kind| tokens(kind, false));
per_kind!(condition_rlock, |kind| tokens(kind, true));

// ---------------------------------------------------------------------------
// SPEC 10.26: a burst of notifications worth N meeting M waiters wakes
// min(N, M) of them.
// ---------------------------------------------------------------------------

/// One burst case.
#[derive(Debug, Clone)]
struct Burst {
    /// Over an RLock (else a Lock).
    reentrant: bool,
    /// Waiters blocked in `wait()` before the burst (M).
    waiters: usize,
    /// The burst: `notify(n)` for each `n`, no `.await` between; N is the
    /// sum.
    notifies: Vec<usize>,
    /// What the main thread does after the burst, still holding the lock:
    /// a pause lets the notified waiters see their notification and block
    /// re-acquiring the lock.
    pause: Option<Pause>,
    /// Waiters cancelled (by index, modulo M) after that, the lock still
    /// held: none of them can have returned yet.
    cancels: Vec<usize>,
}

fn burst() -> impl Strategy<Value = Burst> {
    (
        any::<bool>(),
        prop_oneof![1 => Just(0usize), 6 => 1usize..=6],
        prop::collection::vec(prop_oneof![3 => Just(1usize), 1 => 2usize..=4], 0..=4),
        prop::option::weighted(
            0.75,
            prop_oneof![1 => Just(Pause::Yield), 3 => (1u8..=5).prop_map(Pause::Sleep)],
        ),
        prop_oneof![
            1 => Just(Vec::new()),
            2 => prop::collection::vec(any::<usize>(), 1..=3),
        ],
    )
        .prop_map(|(reentrant, waiters, notifies, pause, cancels)| Burst {
            reentrant,
            waiters,
            notifies,
            pause,
            cancels,
        })
}

/// What the waiters of a burst case report.
#[derive(Debug, Default)]
struct BurstTrack {
    /// Waiters that returned from their `wait()`.
    returned: Count,
    /// Waiters whose `wait()` was cancelled (dropped, not returned).
    cancelled: Count,
}

/// A waiter of a burst case: one plain `wait()`.
async fn burst_waiter(c: Cond, t: Arc<BurstTrack>, mut cancel: oneshot::Receiver<()>) {
    if cancellable(c.cond.acquire(), &mut cancel).await.is_none() {
        return;
    }
    let r = cancellable(c.cond.wait(), &mut cancel).await;
    match r {
        None => {
            t.cancelled.inc();
        }
        Some(r) => {
            r.expect("the waiter holds the lock it waits with");
            assert!(c.held(), "a wait came back without the lock");
            t.returned.inc();
            c.unlock();
        }
    }
}

/// The burst check, once settled: the waiters that returned are exactly
/// min(N, live), live = M - cancelled (every notification reaches a live
/// waiter if there is one, nobody returns without one), and the others
/// still wait.
fn check_burst(c: &Cond, m: usize, n: usize, t: &BurstTrack) -> Result<[usize; 2], String> {
    let returned = t.returned.get();
    let cancelled = t.cancelled.get();
    let live = m - cancelled;
    let expected = n.min(live);
    let waiting = c.cond.n_waiters();
    if returned != expected {
        return Err(format!(
            "{returned} waiter(s) returned, expected min(N = {n}, M = {m} - {cancelled} \
             cancelled) = {expected}"
        ));
    }
    if waiting != live - returned {
        return Err(format!(
            "n_waiters() is {waiting}, expected {} still waiting",
            live - returned
        ));
    }
    if c.cond.locked() {
        return Err("the lock is still held".into());
    }
    Ok([returned, cancelled])
}

async fn burst_case(b: Burst) -> Result<(), String> {
    let c = Cond::new(b.reentrant);
    let t = Arc::new(BurstTrack::default());
    let mut waiters = Waiters::default();
    for _ in 0..b.waiters {
        waiters.spawn(|rx| burst_waiter(c.clone(), t.clone(), rx));
    }
    // All M blocked in wait() (each registers before it releases the lock).
    let m = b.waiters;
    let result = settle(|| {
        let n = c.cond.n_waiters();
        if n != m || c.cond.locked() {
            return Err(format!("{n} of {m} waiter(s) reached wait()"));
        }
        Ok(n)
    })
    .await;
    if result.is_err() {
        return waiters.finish(result).await;
    }
    c.lock_main().await?;
    for &k in &b.notifies {
        c.cond
            .notify(k)
            .expect("the main thread holds the lock it notifies with");
    }
    if let Some(p) = b.pause {
        p.run().await;
    }
    if m > 0 {
        for &i in &b.cancels {
            waiters.cancel(i);
        }
    }
    c.unlock();
    let n: usize = b.notifies.iter().sum();
    // Waits (bounded) for them to return, then for the count to stay put.
    let result = settle(|| check_burst(&c, m, n, &t)).await;
    waiters.finish(result).await
}

fn bursts(kind: &str) {
    run_cases(kind, CASES, burst(), burst_case);
}

per_kind!(notify_burst, bursts);
