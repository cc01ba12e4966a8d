//! Driving a future on the calling OS thread: [`block_on`].

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::coop;

/// Wakes one OS thread parked in [`block_on`].
#[derive(Debug)]
pub(crate) struct Parker {
    /// Set by a wake, consumed by the parked thread (so a wake that comes
    /// before the park is not lost).
    notified: AtomicBool,
    /// The OS thread to unpark.
    thread: std::thread::Thread,
}

impl Wake for Parker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.notified.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}

impl Parker {
    /// Parks until woken (returns at once if a wake came since the last park).
    pub(crate) fn park(&self) {
        while !self.notified.swap(false, Ordering::Acquire) {
            std::thread::park();
        }
    }
}

thread_local! {
    /// This OS thread's parker and a waker for it, made once.
    static PARKER: (Arc<Parker>, Waker) = {
        let parker = Arc::new(Parker {
            notified: AtomicBool::new(false),
            thread: std::thread::current(),
        });
        let waker = Waker::from(parker.clone());
        (parker, waker)
    };
}

/// Drives `f` on the calling OS thread until it completes.
pub(crate) fn drive<F: Future>(f: std::pin::Pin<&mut F>) -> F::Output {
    let (parker, waker) = PARKER.with(|(p, w)| (p.clone(), w.clone()));
    let mut f = f;
    let mut cx = Context::from_waker(&waker);
    let out = loop {
        if let (Poll::Ready(v), _) = coop::with_budget(|| f.as_mut().poll(&mut cx)) {
            break v;
        }
        parker.park();
    };
    // A nested `block_on` may have consumed a wake meant for an enclosing
    // one: leave a wake behind so the enclosing loop polls again.
    parker.notified.store(true, Ordering::Release);
    out
}

/// Drives `f` to completion on the calling OS thread, parking it while `f`
/// is pending.
///
/// Works with no runtime at all, so greenthread's primitives and timers can
/// be used from plain `std::thread` code; inside a green thread it blocks the
/// worker, so use `.await` there instead.
///
/// # Examples
///
/// ```
/// let v = greenthread::block_on(async { 1 + 1 });
/// assert_eq!(v, 2);
/// ```
pub fn block_on<F: Future>(f: F) -> F::Output {
    drive(pin!(f))
}
