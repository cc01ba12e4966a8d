//! The concurrency primitives the lock-free parts are built on: std's, or
//! loom's under `cfg(loom)` so the models in `tests` can explore every
//! interleaving.
#![allow(unused_imports)] // each build uses a subset

// loom is a dev-dependency: only this crate's own test build can name it.
// (Other crates' loom runs build this library with `--cfg loom` too.)
#[cfg(not(all(loom, test)))]
pub(crate) use std::sync::{atomic, Arc, Mutex, MutexGuard};

#[cfg(all(loom, test))]
pub(crate) use loom::sync::{atomic, Arc, Mutex, MutexGuard};
