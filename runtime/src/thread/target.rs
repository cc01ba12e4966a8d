//! What a thread runs: the public [`Target`], and its body with the type
//! erased until `start()` launches it ([`Body`], [`BodyFuture`],
//! [`RunTarget`]).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};

use super::handle::RtInner;
use super::instrument::SpawnLocation;
use super::{Kind, Thread, ThreadError};

/// What a thread runs: Python's `target=` (a closure; its captures are the
/// `args`) or a `Thread` subclass overriding `run()` (a type implementing
/// this trait).
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// struct MyThread { value: u32 }
/// impl greenthread::Target for MyThread {
///     fn run(self) -> impl Future<Output = ()> + Send + 'static {
///         async move { println!("Value stored is: {}", self.value) }
///     }
/// }
/// greenthread::run(async {
///     let t = greenthread::Thread::new(MyThread { value: 7 });
///     t.start().unwrap();
///     t.join().await.unwrap();
/// });
/// ```
pub trait Target: Send + 'static {
    /// The thread's body.
    fn run(self) -> impl Future<Output = ()> + Send + 'static;
}

impl<F, Fut> Target for F
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn run(self) -> impl Future<Output = ()> + Send + 'static {
        self()
    }
}

/// A thread's body waiting for `start()`, its type erased. Starting it
/// moves the body into the thread's task, so a running thread's target
/// lives inside its task rather than in a box of its own.
pub(crate) type Body = Box<dyn Launch>;

/// Starts a [`Body`] on a runtime.
pub(crate) trait Launch: Send {
    /// The runtime the thread was created in (`None`: outside any runtime):
    /// `start()` starts it there, so starting it after that runtime shut
    /// down fails (SPEC §10.4) instead of running it elsewhere. Kept with
    /// the body, which only a thread not started yet has: a running thread
    /// has no use for it.
    fn home(&self) -> Option<&Weak<RtInner>>;

    /// Launches the body as `thread`'s target on `rt`.
    ///
    /// # Errors
    ///
    /// As `RtInner::launch`; the body is handed back then, never run.
    fn launch(
        self: Box<Self>,
        rt: &Arc<RtInner>,
        thread: &Thread,
        loc: SpawnLocation,
    ) -> Result<(), (ThreadError, Option<Body>)>;
}

/// A future as a [`Body`]: for a `Thread`, an `async` block that calls
/// `Target::run` on its first poll, so the target and the future it
/// returns share one place.
pub(crate) struct BodyFuture<F> {
    /// The future.
    fut: F,
    /// See [`Launch::home`].
    home: Option<Weak<RtInner>>,
}

impl<F: Future<Output = ()> + Send + 'static> BodyFuture<F> {
    /// `fut` as the body of a thread created here (in the calling thread's
    /// runtime, if any).
    pub(crate) fn boxed(fut: F) -> Body {
        Box::new(BodyFuture {
            fut,
            home: super::context::home_runtime(),
        })
    }
}

impl<F: Future<Output = ()> + Send + 'static> Launch for BodyFuture<F> {
    fn home(&self) -> Option<&Weak<RtInner>> {
        self.home.as_ref()
    }

    fn launch(
        self: Box<Self>,
        rt: &Arc<RtInner>,
        thread: &Thread,
        loc: SpawnLocation,
    ) -> Result<(), (ThreadError, Option<Body>)> {
        // A `start_new_thread` thread's panic is not the excepthook's
        // (Python hands it to `sys.unraisablehook`; the panic hook prints
        // it), SPEC §10.20.
        let report = thread.inner.kind != Kind::Raw;
        let BodyFuture { fut, home } = *self;
        match rt.launch(thread, fut, report, loc) {
            Ok(task) => {
                task.detach();
                Ok(())
            }
            Err((e, fut)) => Err((e, fut.map(|fut| Box::new(BodyFuture { fut, home }) as Body))),
        }
    }
}

/// A target, then the future its `run` returned, in one place: an `async`
/// block calling `run` would keep room for both (W9).
pub(crate) enum RunTarget<T, R, F> {
    /// Not run yet: the target and its `run`.
    Init(T, R),
    /// Running.
    Running(F),
    /// Between the two (only while `run` is called).
    Taken,
}

impl<T, R, F> Future for RunTarget<T, R, F>
where
    R: FnOnce(T) -> F,
    F: Future<Output = ()>,
{
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        // SAFETY: only `Running`'s future is structurally pinned; it is
        // polled in place below and never moved (the enum is only ever
        // overwritten while in `Init` or `Taken`). The target in `Init` is
        // not pinned: moving it out is fine.
        let this = unsafe { self.get_unchecked_mut() };
        if matches!(this, RunTarget::Init(..)) {
            if let RunTarget::Init(target, run) = std::mem::replace(this, RunTarget::Taken) {
                *this = RunTarget::Running(run(target));
            }
        }
        match this {
            // SAFETY: see above: the future is never moved.
            RunTarget::Running(fut) => unsafe { Pin::new_unchecked(fut) }.poll(cx),
            // `run` panicked on an earlier poll: nothing left to run.
            _ => std::task::Poll::Ready(()),
        }
    }
}
