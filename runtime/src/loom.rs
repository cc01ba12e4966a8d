//! The concurrency primitives the lock-free parts are built on: std's, or
//! loom's under `cfg(loom)` so the models in `tests` can explore every
//! interleaving.
#![allow(unused_imports)] // each build uses a subset

#[cfg(not(loom))]
pub(crate) use std::sync::{atomic, Arc};

#[cfg(loom)]
pub(crate) use loom::sync::{atomic, Arc};
