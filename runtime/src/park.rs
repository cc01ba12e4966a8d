//! Driving a future on the calling OS thread, parking it while the future
//! is pending: [`drive`], a leaf that knows no threads or schedulers
//! (`thread::blocking` builds `block_on` on it).

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::coop;
use crate::record;

/// Wakes one OS thread parked in [`drive`].
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
    /// A nested `block_on` may have consumed a wake meant for an enclosing
    /// one: leave a wake behind so the enclosing loop polls again — when
    /// `f` completes and when its poll unwinds alike.
    struct LeaveWake(Arc<Parker>);
    impl Drop for LeaveWake {
        fn drop(&mut self) {
            self.0.notified.store(true, Ordering::Release);
        }
    }
    let (parker, waker) = PARKER.with(|(p, w)| (p.clone(), w.clone()));
    let parker = LeaveWake(parker);
    let mut f = f;
    let mut cx = Context::from_waker(&waker);
    loop {
        // A dummy thread's (or a blocked green thread's) wait is recorded.
        record::poll_begin();
        if let (Poll::Ready(v), _) = coop::with_budget(|| f.as_mut().poll(&mut cx)) {
            record::poll_end(false, false);
            break v;
        }
        record::poll_end(true, false);
        parker.0.park();
    }
}
