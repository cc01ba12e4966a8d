//! The loom shim: std's atomics normally, loom's under `cfg(loom)`, so the
//! waiting engine can be model-checked (`ci/loom.sh`). Under loom,
//! `event_listener` (built with its `loom` feature) sleeps on loom's
//! primitives too, so the models in `raw.rs` check the whole protocol —
//! state word, listeners and the `Acquire` future — with waiters that really
//! sleep; the queue's models (`queue/core.rs`) do the same for its mutex and
//! waiter lists.
//!
//! loom is a dev-dependency, so only the crate's own test build uses it; the
//! library that other crates link under `--cfg loom` keeps std's atomics.

#[cfg(all(loom, test))]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(all(loom, test)))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};
