//! [`ThreadBuilder`]: a thread's name and daemon flag before it exists.

use std::future::Future;
use std::sync::atomic::Ordering;

use super::ident::NAME_COUNTER;
use super::instrument;
use super::spawn::{self, JoinHandle};
use super::target::{Body, BodyFuture, RunTarget, Target};
use super::{context, current_thread, Kind, Thread, ThreadInner, ThreadRef};

/// Builds a [`Thread`] with a name or daemon flag (Python's `Thread(name=,
/// daemon=)`), or spawns a future as one.
#[derive(Debug, Default, Clone)]
#[must_use]
pub struct ThreadBuilder {
    name: Option<String>,
    daemon: Option<bool>,
}

impl ThreadBuilder {
    /// Sets the name (an empty name means the automatic `Thread-N`, as in
    /// Python).
    pub fn name(mut self, name: impl Into<String>) -> ThreadBuilder {
        let name = name.into();
        self.name = if name.is_empty() { None } else { Some(name) };
        self
    }

    /// Sets the daemon flag (default: the creating thread's).
    pub fn daemon(mut self, daemon: bool) -> ThreadBuilder {
        self.daemon = Some(daemon);
        self
    }

    /// Creates the (not yet started) thread.
    pub fn build<T: Target>(self, target: T) -> Thread {
        self.build_kind(Kind::Thread, target)
    }

    /// Creates a (not yet started) thread of `kind` running `target`.
    pub(crate) fn build_kind<T: Target>(self, kind: Kind, target: T) -> Thread {
        let body = BodyFuture::boxed(RunTarget::Init(target, T::run));
        self.build_inner(kind, Some(body))
    }

    /// Starts `future` as a thread with this name and daemon flag, returning
    /// a handle to its result (see [`spawn`](crate::spawn)).
    #[cfg_attr(feature = "tracing", track_caller)]
    pub fn spawn<F>(self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        spawn::spawn_thread(self, future, instrument::SpawnLocation::capture())
    }

    pub(crate) fn build_inner(self, kind: Kind, target: Option<Body>) -> Thread {
        Thread {
            inner: ThreadRef::boxed(self.make(kind, 0), target),
        }
    }

    /// The state of the thread [`build_inner`](Self::build_inner) would
    /// make, with `flags`, not yet placed.
    pub(crate) fn make(self, kind: Kind, flags: u8) -> ThreadInner {
        let daemon = self.daemon.unwrap_or_else(current_is_daemon);
        let auto_n = match (&self.name, kind) {
            // A `start_new_thread` thread takes its `Dummy-N` when it is
            // first seen (`registry::reveal`).
            (Some(_), _) | (None, Kind::Raw) => 0,
            (None, _) => NAME_COUNTER.fetch_add(1, Ordering::Relaxed),
        };
        ThreadInner::new(kind, self.name, auto_n, daemon, flags)
    }
}

/// Whether the calling thread is a daemon (what new threads inherit).
fn current_is_daemon() -> bool {
    context::with_thread(|t| t.map(|t| t.has_flag(super::DAEMON)))
        .unwrap_or_else(|| current_thread().is_daemon())
}
