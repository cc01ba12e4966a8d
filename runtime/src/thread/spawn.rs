//! Rust-style spawning: [`spawn`] and [`JoinHandle`].

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use super::context;
use super::error::JoinError;
use super::instrument::SpawnLocation;
use super::task::Ended;
use super::{Kind, Thread, ThreadBuilder, ThreadInner, EMBEDDED};
use crate::catch::drop_caught;
use crate::waker::CatchWaker;

/// Starts `future` as a new thread (visible in [`enumerate`](crate::enumerate),
/// named `Thread-N`, daemon flag inherited) and returns a handle to its
/// output.
///
/// A panic in the future does not reach the excepthook: it becomes the
/// handle's [`JoinError`]. Dropping the handle detaches the thread.
///
/// If the runtime is shutting down the future never runs and the handle
/// resolves to a cancelled [`JoinError`].
///
/// # Examples
///
/// ```
/// greenthread::run(async {
///     let h = greenthread::spawn(async { 6 * 7 });
///     assert_eq!(h.await.unwrap(), 42);
/// });
/// ```
#[cfg_attr(feature = "tracing", track_caller)]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    spawn_thread(ThreadBuilder::default(), future, SpawnLocation::capture())
}

pub(crate) fn spawn_thread<F>(
    builder: ThreadBuilder,
    future: F,
    loc: SpawnLocation,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    context::with_runtime_or_global(move |rt| spawn_on(rt, builder, future, loc))
}

/// Starts `future` as a thread made by `builder` on `rt`; `loc`: where it
/// was spawned. The thread's state lives in its task, one allocation for
/// both (`RtInner::launch_in_task`).
pub(crate) fn spawn_on<F>(
    rt: &std::sync::Arc<super::handle::RtInner>,
    builder: ThreadBuilder,
    future: F,
    loc: SpawnLocation,
) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    // The output travels in a `Caught`: if the handle was dropped, async-task
    // drops it under an abort guard, where a panicking `Drop` must not reach.
    let inner = builder.make(Kind::Thread, EMBEDDED);
    let (thread, task) = match rt.launch_in_task(inner, Catching(future), loc) {
        Ok((thread, task)) => (thread, Some(task.fallible())),
        Err((_, thread)) => (thread, None),
    };
    JoinHandle {
        thread,
        task,
        waker: CatchWaker::new(),
    }
}

/// A `spawn` future whose output is wrapped in [`Caught`]. (Not an `async`
/// block: that would drop the future inside its own poll, where a panic of
/// its `Drop` would become the thread's panic; the thread's wrapper drops
/// it after it is done, catching that.)
struct Catching<F>(F);

impl<F: Future> Future for Catching<F> {
    type Output = Caught<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        // SAFETY: the one field is structurally pinned: `Catching` never
        // moves it out, has no `Drop` impl, and is `Unpin` only if `F` is.
        let fut = unsafe { self.map_unchecked_mut(|c| &mut c.0) };
        fut.poll(cx).map(|v| Caught(Some(v)))
    }
}

/// A `spawn` future's output on its way to the [`JoinHandle`]: dropped
/// through [`drop_caught`] if nobody takes it.
struct Caught<T>(Option<T>);

impl<T> Drop for Caught<T> {
    fn drop(&mut self) {
        if let Some(v) = self.0.take() {
            drop_caught(v);
        }
    }
}

/// A handle to a thread started by [`spawn`]: awaiting it gives the
/// thread's output.
///
/// A handle polled by hand with a waker that panics when woken is safe:
/// the panic is caught where the thread's end wakes it (and ignored, once
/// the panic hook has printed it), SPEC §10.27.
///
/// # Cancel safety
///
/// Awaiting is cancel safe: dropping the handle (or a pending await of it)
/// detaches the thread, which keeps running.
pub struct JoinHandle<T> {
    thread: Thread,
    /// `None` if the thread could not start, or once the output is taken.
    task: Option<async_task::FallibleTask<Result<Caught<T>, Ended>, ThreadInner>>,
    /// The awaiter's waker as the task stores it: async-task wakes it under
    /// an abort guard, so a user's waker is wrapped to catch its panic.
    waker: CatchWaker,
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("thread", &self.thread)
            .finish()
    }
}

impl<T> JoinHandle<T> {
    /// The thread running the future.
    pub fn thread(&self) -> &Thread {
        &self.thread
    }

    /// Whether the thread has finished.
    pub fn is_finished(&self) -> bool {
        self.task.as_ref().is_none_or(|t| t.is_finished())
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = &mut *self;
        let Some(task) = this.task.as_mut() else {
            return Poll::Ready(Err(JoinError::cancelled()));
        };
        let out = match this.waker.poll(cx, |cx| Pin::new(task).poll(cx)) {
            Poll::Pending => {
                let ident = this.thread.inner.ident.load(Ordering::Relaxed);
                crate::record::pending(crate::record::kind::JOIN, ident, 0, false);
                return Poll::Pending;
            }
            Poll::Ready(Some(out)) => out,
            Poll::Ready(None) => Err(Ended::Cancelled),
        };
        self.task = None;
        Poll::Ready(match out {
            Ok(mut v) => match v.0.take() {
                Some(v) => Ok(v),
                None => Err(JoinError::cancelled()), // taken once only
            },
            Err(Ended::Panicked(p)) => Err(JoinError::panicked(p.into_message())),
            Err(Ended::Exited | Ended::Cancelled) => Err(JoinError::cancelled()),
        })
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.detach();
        }
    }
}
