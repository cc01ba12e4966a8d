//! The loom shim: std's atomics normally, loom's under `cfg(loom)`, so the
//! lock-free state word of the waiting engine can be model-checked
//! (`ci/loom.sh`). Only the state machine goes through here; everything that
//! sleeps uses `event_listener`, which has its own loom suite.

//!
//! loom is a dev-dependency, so only the crate's own test build uses it; the
//! library that other crates link under `--cfg loom` keeps std's atomics.

#[cfg(all(loom, test))]
pub(crate) use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(all(loom, test)))]
pub(crate) use std::sync::atomic::{AtomicUsize, Ordering};
