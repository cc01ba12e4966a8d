//! Property tests of `Queue`, `LifoQueue`, `PriorityQueue` and `SimpleQueue`
//! against a sequential model: random sequences of getter, putter and
//! joiner threads (waiting forever, with a short timeout, or cancelled at a
//! random point), bursts of `put_nowait`/`get_nowait` with no `.await`
//! between them, `task_done`, `set_maxsize` and `shutdown`, bounded and
//! unbounded, in every runtime kind.
//!
//! After each sequence (and at random `Settle` points), once the counters
//! are stable: items are conserved (every item put is in the queue or was
//! received exactly once), `qsize` and `unfinished_tasks` match the model,
//! and no getter waits while an item is there, no putter while there is
//! room, no joiner while no task is pending. At the end the queue is
//! drained and its order checked. Raise the case count with
//! `PROPTEST_CASES=N`.

mod prop_support;
mod support;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use greenthread::queue::{LifoQueue, PriorityQueue, Queue, SimpleQueue};
use proptest::prelude::*;

use prop_support::{cancellable, common, run_cases, wait_kind, Common, Count, Wait, Waiters};

/// Cases per run and queue kind and runtime kind, unless `PROPTEST_CASES`
/// says more.
const CASES: u32 = 40;

/// The order a queue hands its items out in.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Order {
    Fifo,
    Lifo,
    Priority,
}

/// What the model needs of a queue of `u32`. Errors give the item back.
trait Q: Clone + Send + Sync + 'static {
    /// Its order.
    const ORDER: Order;
    /// Whether it has a bound, tasks and shutdown (not `SimpleQueue`).
    const FULL_API: bool;
    fn make(maxsize: usize) -> Self;
    fn put(&self, x: u32) -> impl Future<Output = Result<(), u32>> + Send + '_;
    fn put_timeout(&self, x: u32, d: Duration)
        -> impl Future<Output = Result<(), u32>> + Send + '_;
    fn put_nowait(&self, x: u32) -> Result<(), u32>;
    fn get(&self) -> impl Future<Output = Option<u32>> + Send + '_;
    fn get_timeout(&self, d: Duration) -> impl Future<Output = Option<u32>> + Send + '_;
    fn get_nowait(&self) -> Option<u32>;
    fn qsize(&self) -> usize;
    /// 0: unbounded.
    fn maxsize(&self) -> usize;
    fn set_maxsize(&self, m: usize);
    fn task_done(&self) -> bool;
    fn join(&self) -> impl Future<Output = ()> + Send + '_;
    fn unfinished_tasks(&self) -> usize;
    fn shutdown(&self);
    fn is_shut_down(&self) -> bool;
}

/// `Q` for a queue type with the full API.
macro_rules! full_q {
    ($ty:ident, $order:expr) => {
        impl Q for $ty<u32> {
            const ORDER: Order = $order;
            const FULL_API: bool = true;
            fn make(maxsize: usize) -> Self {
                $ty::new(maxsize)
            }
            async fn put(&self, x: u32) -> Result<(), u32> {
                $ty::put(self, x).await.map_err(|e| e.into_inner())
            }
            async fn put_timeout(&self, x: u32, d: Duration) -> Result<(), u32> {
                $ty::put_timeout(self, x, d)
                    .await
                    .map_err(|e| e.into_inner())
            }
            fn put_nowait(&self, x: u32) -> Result<(), u32> {
                $ty::put_nowait(self, x).map_err(|e| e.into_inner())
            }
            async fn get(&self) -> Option<u32> {
                $ty::get(self).await.ok()
            }
            async fn get_timeout(&self, d: Duration) -> Option<u32> {
                $ty::get_timeout(self, d).await.ok()
            }
            fn get_nowait(&self) -> Option<u32> {
                $ty::get_nowait(self).ok()
            }
            fn qsize(&self) -> usize {
                $ty::qsize(self)
            }
            fn maxsize(&self) -> usize {
                $ty::maxsize(self)
            }
            fn set_maxsize(&self, m: usize) {
                $ty::set_maxsize(self, m)
            }
            fn task_done(&self) -> bool {
                $ty::task_done(self).is_ok()
            }
            async fn join(&self) {
                $ty::join(self).await
            }
            fn unfinished_tasks(&self) -> usize {
                $ty::unfinished_tasks(self)
            }
            fn shutdown(&self) {
                $ty::shutdown(self, false)
            }
            fn is_shut_down(&self) -> bool {
                $ty::is_shut_down(self)
            }
        }
    };
}

full_q!(Queue, Order::Fifo);
full_q!(LifoQueue, Order::Lifo);
full_q!(PriorityQueue, Order::Priority);

impl Q for SimpleQueue<u32> {
    const ORDER: Order = Order::Fifo;
    const FULL_API: bool = false;
    fn make(_maxsize: usize) -> Self {
        SimpleQueue::new()
    }
    async fn put(&self, x: u32) -> Result<(), u32> {
        SimpleQueue::put(self, x).await.map_err(|e| e.into_inner())
    }
    async fn put_timeout(&self, x: u32, _d: Duration) -> Result<(), u32> {
        SimpleQueue::put(self, x).await.map_err(|e| e.into_inner())
    }
    fn put_nowait(&self, x: u32) -> Result<(), u32> {
        SimpleQueue::put_nowait(self, x).map_err(|e| e.into_inner())
    }
    async fn get(&self) -> Option<u32> {
        SimpleQueue::get(self).await.ok()
    }
    async fn get_timeout(&self, d: Duration) -> Option<u32> {
        SimpleQueue::get_timeout(self, d).await.ok()
    }
    fn get_nowait(&self) -> Option<u32> {
        SimpleQueue::get_nowait(self).ok()
    }
    fn qsize(&self) -> usize {
        SimpleQueue::qsize(self)
    }
    fn maxsize(&self) -> usize {
        0
    }
    fn set_maxsize(&self, _m: usize) {}
    fn task_done(&self) -> bool {
        true
    }
    async fn join(&self) {}
    fn unfinished_tasks(&self) -> usize {
        0
    }
    fn shutdown(&self) {}
    fn is_shut_down(&self) -> bool {
        false
    }
}

/// A waiter thread's program.
#[derive(Debug, Clone)]
enum Role {
    /// Gets `n` items (1-3), calling `task_done` after each if `done`.
    Getter { wait: Wait, n: u8, done: bool },
    /// Puts `n` fresh items (1-3).
    Putter { wait: Wait, n: u8 },
    /// Waits in `join` (a full-API queue only).
    Joiner,
}

/// An operation of the main thread.
#[derive(Debug, Clone)]
enum QOp {
    /// Start a waiter (ignored past `MAX_WAITERS`).
    Spawn(Role),
    /// This many `put_nowait`s of fresh items, back to back.
    PutBurst(u8),
    /// This many `get_nowait`s, back to back, each followed by `task_done`
    /// if `done`.
    GetBurst(u8, bool),
    /// `set_maxsize` (a full-API queue only).
    SetMaxsize(u8),
    /// A non-immediate `shutdown` (a full-API queue only).
    Shutdown,
    /// Cancel, pause or settle.
    Common(Common),
}

fn role() -> impl Strategy<Value = Role> {
    prop_oneof![
        4 => (wait_kind(), 1u8..=3, any::<bool>())
            .prop_map(|(wait, n, done)| Role::Getter { wait, n, done }),
        4 => (wait_kind(), 1u8..=3).prop_map(|(wait, n)| Role::Putter { wait, n }),
        1 => Just(Role::Joiner),
    ]
}

fn q_op() -> impl Strategy<Value = QOp> {
    prop_oneof![
        6 => role().prop_map(QOp::Spawn),
        3 => (1u8..=4).prop_map(QOp::PutBurst),
        3 => (1u8..=4, any::<bool>()).prop_map(|(n, d)| QOp::GetBurst(n, d)),
        1 => (0u8..=3).prop_map(QOp::SetMaxsize),
        1 => Just(QOp::Shutdown),
        6 => common().prop_map(QOp::Common),
    ]
}

/// What the threads of a queue case report.
#[derive(Debug, Default)]
struct QTrack {
    /// Items put (by anyone), in the order the puts returned.
    put: Mutex<Vec<u32>>,
    /// Items received (by anyone).
    got: Mutex<Vec<u32>>,
    /// `task_done` calls that succeeded.
    done: Count,
    /// `task_done` calls that failed (there was no pending task).
    done_failed: Count,
    /// Threads inside a get, a put, a join now.
    getting: Count,
    putting: Count,
    joining: Count,
}

impl QTrack {
    fn record(v: &Mutex<Vec<u32>>, x: u32) {
        v.lock().unwrap_or_else(|e| e.into_inner()).push(x);
    }

    /// Takes back the record of `x` (by value: other threads may have
    /// recorded theirs since).
    fn unrecord(v: &Mutex<Vec<u32>>, x: u32) {
        let mut v = v.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = v.iter().rposition(|&y| y == x) {
            v.remove(i);
        }
    }

    fn len(v: &Mutex<Vec<u32>>) -> usize {
        v.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    fn task_done<T: Q>(&self, q: &T) {
        // Counted first: the model never sees a task done that nobody did.
        self.done.inc();
        if !q.task_done() {
            self.done.dec();
            self.done_failed.inc();
        }
    }
}

/// A fresh, distinct item for the `id`-th put. The multiplier is odd, so
/// distinct ids give distinct items, and their order is not the put order
/// (which a `PriorityQueue` must not follow).
fn item(id: u32) -> u32 {
    id.wrapping_mul(2_654_435_761)
}

/// The invariants of a queue case; `Ok` carries a snapshot of the counters
/// for [`settle`]'s stability test.
fn check_queue<T: Q>(q: &T, t: &QTrack) -> Result<[usize; 6], String> {
    let put = QTrack::len(&t.put);
    let got = QTrack::len(&t.got);
    let qsize = q.qsize();
    let (getting, putting, joining) = (t.getting.get(), t.putting.get(), t.joining.get());
    // A putter inside `put` has its item counted already (it may be in
    // the queue before the put returns).
    let settled = put.saturating_sub(got);
    if put < got || qsize > settled || qsize + putting < settled {
        return Err(format!(
            "qsize() is {qsize} but {put} items were put or are being put by {putting} \
             putter(s), and {got} received"
        ));
    }
    if T::FULL_API {
        let unfinished = q.unfinished_tasks();
        let done = t.done.get();
        let pending = put.saturating_sub(done);
        if put < done || unfinished > pending || unfinished + putting < pending {
            return Err(format!(
                "unfinished_tasks() is {unfinished} but {put} items were put or are being put \
                 by {putting} putter(s), and {done} marked done"
            ));
        }
        if unfinished == 0 && joining > 0 {
            return Err(format!(
                "lost wake-up: no task is pending while {joining} joiner(s) still wait"
            ));
        }
    }
    if t.done_failed.get() > 0 {
        return Err(format!(
            "task_done() failed {} time(s) with tasks pending",
            t.done_failed.get()
        ));
    }
    if qsize > 0 && getting > 0 {
        return Err(format!(
            "lost wake-up: {qsize} item(s) queued while {getting} getter(s) still wait"
        ));
    }
    let max = q.maxsize();
    if (max == 0 || qsize < max) && putting > 0 {
        return Err(format!(
            "lost wake-up: qsize() {qsize} below maxsize {max} while {putting} putter(s) still wait"
        ));
    }
    if q.is_shut_down() && getting + putting > 0 {
        return Err(format!(
            "shut down, yet {getting} getter(s) and {putting} putter(s) still wait"
        ));
    }
    Ok([put, got, t.done.get(), getting, putting, joining])
}

/// A waiter thread.
async fn q_waiter<T: Q>(
    q: T,
    role: Role,
    items: Vec<u32>,
    t: Arc<QTrack>,
    mut cancel: futures::channel::oneshot::Receiver<()>,
) {
    match role {
        Role::Getter { wait, n, done } => {
            for _ in 0..n {
                t.getting.inc();
                let got = match wait.duration() {
                    None => cancellable(q.get(), &mut cancel).await,
                    Some(d) => cancellable(q.get_timeout(d), &mut cancel).await,
                };
                // Recorded before it stops counting as waiting.
                if let Some(Some(x)) = got {
                    QTrack::record(&t.got, x);
                }
                t.getting.dec();
                match got {
                    // Cancelled.
                    None => return,
                    // Timed out, or shut down and empty.
                    Some(None) if q.is_shut_down() => return,
                    Some(None) => {}
                    Some(Some(_)) if done => t.task_done(&q),
                    Some(Some(_)) => {}
                }
            }
        }
        Role::Putter { wait, .. } => {
            for x in items {
                t.putting.inc();
                // Counted first, then taken back if it failed: the model
                // never sees an item queued that nobody put.
                QTrack::record(&t.put, x);
                let r = match wait.duration() {
                    None => cancellable(q.put(x), &mut cancel).await,
                    Some(d) => cancellable(q.put_timeout(x, d), &mut cancel).await,
                };
                if r != Some(Ok(())) {
                    QTrack::unrecord(&t.put, x);
                }
                t.putting.dec();
                match r {
                    // Cancelled, or shut down.
                    None => return,
                    Some(Err(_)) if q.is_shut_down() => return,
                    _ => {}
                }
            }
        }
        Role::Joiner => {
            t.joining.inc();
            cancellable(q.join(), &mut cancel).await;
            t.joining.dec();
        }
    }
}

/// The main thread's state: the next item id and the items it put, in
/// order.
#[derive(Debug, Default)]
struct QMain {
    next: u32,
    mine: Vec<u32>,
}

impl QMain {
    fn fresh(&mut self) -> u32 {
        self.next += 1;
        item(self.next)
    }
}

/// One queue case.
async fn q_case<T: Q>(maxsize: usize, ops: Vec<QOp>) -> Result<(), String> {
    let q = T::make(maxsize);
    let t = Arc::new(QTrack::default());
    let mut main = QMain::default();
    let mut waiters = Waiters::default();
    let mut result = Ok(());
    for op in ops {
        match op {
            QOp::Spawn(role) => {
                if !T::FULL_API && matches!(role, Role::Joiner) {
                    continue;
                }
                let items = match role {
                    Role::Putter { n, .. } => (0..n).map(|_| main.fresh()).collect(),
                    _ => Vec::new(),
                };
                waiters.spawn(|rx| q_waiter(q.clone(), role, items, t.clone(), rx));
            }
            QOp::PutBurst(n) => {
                for _ in 0..n {
                    let x = main.fresh();
                    QTrack::record(&t.put, x);
                    if q.put_nowait(x).is_ok() {
                        main.mine.push(x);
                    } else {
                        QTrack::unrecord(&t.put, x);
                    }
                }
            }
            QOp::GetBurst(n, done) => {
                for _ in 0..n {
                    let Some(x) = q.get_nowait() else { break };
                    QTrack::record(&t.got, x);
                    if done {
                        t.task_done(&q);
                    }
                }
            }
            QOp::SetMaxsize(m) => {
                if T::FULL_API {
                    q.set_maxsize(usize::from(m));
                }
            }
            QOp::Shutdown => q.shutdown(),
            QOp::Common(c) => {
                result = c.run(&mut waiters, || check_queue(&q, &t)).await;
                if result.is_err() {
                    break;
                }
            }
        }
    }
    waiters.wind_up(result, || check_queue(&q, &t)).await?;
    let waiting = t.getting.get() + t.putting.get() + t.joining.get();
    if waiting != 0 {
        return Err(format!(
            "{waiting} thread(s) left inside a get, put or join"
        ));
    }
    drain_and_check(&q, &t, &main).await
}

/// Empties the queue, checks the order it gave, that every item put was
/// received exactly once, and that `join` returns once all is done.
async fn drain_and_check<T: Q>(q: &T, t: &QTrack, main: &QMain) -> Result<(), String> {
    let mut drained = Vec::new();
    while let Some(x) = q.get_nowait() {
        drained.push(x);
    }
    let pos = |x: &u32| main.mine.iter().position(|y| y == x);
    let mine: Vec<usize> = drained.iter().filter_map(pos).collect();
    let ordered = match T::ORDER {
        Order::Fifo => mine.windows(2).all(|w| w[0] < w[1]),
        Order::Lifo => mine.windows(2).all(|w| w[0] > w[1]),
        Order::Priority => drained.windows(2).all(|w| w[0] <= w[1]),
    };
    if !ordered {
        return Err(format!(
            "{:?} order broken in the drain {drained:?}",
            T::ORDER
        ));
    }
    let mut put = t.put.lock().unwrap_or_else(|e| e.into_inner()).clone();
    let mut got = t.got.lock().unwrap_or_else(|e| e.into_inner()).clone();
    got.extend(&drained);
    put.sort_unstable();
    got.sort_unstable();
    if put != got {
        return Err(format!(
            "items not conserved: put {put:?}, received or left {got:?}"
        ));
    }
    if T::FULL_API {
        for _ in 0..q.unfinished_tasks() {
            if !q.task_done() {
                return Err("task_done() failed with tasks pending".into());
            }
        }
        if q.task_done() {
            return Err("task_done() succeeded with no task pending".into());
        }
        if greenthread::timeout(prop_support::SETTLE, q.join())
            .await
            .is_err()
        {
            return Err("join() did not return with no task pending".into());
        }
    }
    Ok(())
}

/// The whole property for `T` in one runtime kind.
fn queue<T: Q>(kind: &str) {
    let strategy = (0usize..=3, prop::collection::vec(q_op(), 1..32));
    run_cases(kind, CASES, strategy, |(maxsize, ops)| {
        q_case::<T>(maxsize, ops)
    });
}

per_kind!(fifo, queue::<Queue<u32>>);
per_kind!(lifo, queue::<LifoQueue<u32>>);
per_kind!(priority, queue::<PriorityQueue<u32>>);
per_kind!(simple, queue::<SimpleQueue<u32>>);
