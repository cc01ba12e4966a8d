//! Python's `threading` synchronization primitives and `queue` module as
//! async types, for greenthread. Use them through the facade:
//! `greenthread::Lock`, `greenthread::queue::Queue`, ...
//!
//! | module | type | Python |
//! |---|---|---|
//! | [`lock`](Lock) | [`Lock`], [`LockGuard`], [`allocate_lock`] | `threading.Lock`, `_thread.allocate_lock` |
//! | [`rlock`](RLock) | [`RLock`], [`RLockGuard`] | `threading.RLock` |
//! | [`condition`](Condition) | [`Condition`], [`ConditionGuard`] | `threading.Condition` |
//! | [`semaphore`](Semaphore) | [`Semaphore`], [`BoundedSemaphore`] | `threading.Semaphore`, `BoundedSemaphore` |
//! | [`event`](Event) | [`Event`] | `threading.Event` |
//! | [`barrier`](Barrier) | [`Barrier`], [`BrokenBarrierError`] | `threading.Barrier` |
//! | [`error`](SyncError) | [`SyncError`] | the `RuntimeError`/`ValueError` cases |
//! | [`queue`] | [`Queue`](queue::Queue), [`LifoQueue`](queue::LifoQueue), [`PriorityQueue`](queue::PriorityQueue), [`SimpleQueue`](queue::SimpleQueue), [`PutError`](queue::PutError), [`GetError`](queue::GetError) | `queue` |
//!
//! # Common ground
//!
//! - Every type is a cheap `Clone` handle to one shared object (Python's
//!   reference semantics).
//! - Every method that can wait is `async`, returns a `Send` future, and
//!   comes as a forever form, a `_timeout(Duration)` form and a
//!   non-blocking `try_`/`_nowait` form. Timeouts above `TIMEOUT_MAX`
//!   (including `Duration::MAX`) are clamped to it; `Duration::ZERO` means
//!   one non-blocking try.
//! - Waiting never blocks a worker thread, and works in Green mode,
//!   OS-thread mode, under `greenthread::block_on` and inside foreign
//!   executors (tokio, async-executor).
//! - Dropping a pending wait never loses a wake-up, a permit, an item or a
//!   notify (see each method's `# Cancel safety`).
//! - Each operation that might wait spends one unit of greenthread's
//!   cooperative budget, so a loop on an always-ready primitive still lets
//!   other threads run.
//!
//! # Design
//!
//! One waiting engine (`raw`: an atomic state word plus an
//! `event_listener::Event`) is the whole of [`Lock`], [`RLock`],
//! [`Semaphore`] and [`BoundedSemaphore`]. [`Condition`] is a lock plus one
//! `Event` whose FIFO listeners are its waiters. [`Barrier`] is a small
//! state plus `Event`s to sleep on. [`Event`] and the queues keep their
//! waiters themselves, as slots in a list under their own `std` mutex
//! (never held across an `.await`; `waiters.rs`), which takes fewer locks
//! than a listener per wait and allocates nothing per waiter.

mod barrier;
mod condition;
mod error;
mod event;
mod lock;
mod loom;
pub mod queue;
mod raw;
mod rlock;
mod rt;
mod semaphore;
mod waiters;

pub use barrier::Barrier;
pub use condition::{Condition, ConditionGuard};
pub use error::{BrokenBarrierError, SyncError};
pub use event::Event;
pub use lock::{allocate_lock, Lock, LockGuard};
pub use rlock::{RLock, RLockGuard};
pub use semaphore::{BoundedSemaphore, Semaphore};
