//! Python's `threading.Timer`.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use event_listener::Event;

use super::{BodyFuture, Kind, Target, Thread, ThreadBuilder, ThreadError};

/// A thread that runs its target after `interval`, unless cancelled first
/// (Python's `threading.Timer`). Named `Thread-N`; shows as `<Timer(...)>`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// greenthread::run(async {
///     let t = greenthread::Timer::new(Duration::from_millis(10), || async { println!("fired") });
///     t.start().unwrap();
///     t.join().await.unwrap();
/// });
/// ```
#[derive(Clone)]
pub struct Timer {
    thread: Thread,
    shared: Arc<Shared>,
}

/// The cancellation state shared with the timer's thread.
struct Shared {
    cancelled: AtomicBool,
    changed: Event,
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timer")
            .field("thread", &self.thread)
            .field("cancelled", &self.shared.cancelled.load(Ordering::Relaxed))
            .finish()
    }
}

impl Timer {
    /// A timer that will run `target` `interval` after `start()`.
    pub fn new(interval: Duration, target: impl Target) -> Timer {
        let shared = Arc::new(Shared {
            cancelled: AtomicBool::new(false),
            changed: Event::new(),
        });
        let s = shared.clone();
        let body = BodyFuture::boxed(async move {
            let mut sleep = crate::time::sleep(interval);
            let cancelled = || s.cancelled.load(Ordering::Acquire);
            if crate::time::wait_event(&s.changed, cancelled, &mut sleep, None).await {
                return;
            }
            if !s.cancelled.load(Ordering::Acquire) {
                target.run().await;
            }
        });
        let thread = ThreadBuilder::default().build_inner(Kind::Timer, Some(body));
        Timer { thread, shared }
    }

    /// Starts the timer's thread.
    ///
    /// # Errors
    ///
    /// As [`Thread::start`].
    #[cfg_attr(feature = "tracing", track_caller)]
    pub fn start(&self) -> Result<(), ThreadError> {
        self.thread.start()
    }

    /// Stops the timer if it is still waiting: the target never runs and the
    /// timer's thread ends at once (so `join()` returns promptly). No effect
    /// once the target has started.
    pub fn cancel(&self) {
        self.shared.cancelled.store(true, Ordering::Release);
        self.shared.changed.notify(usize::MAX);
    }

    /// Waits for the timer's thread to end.
    ///
    /// # Errors
    ///
    /// As [`Thread::join`].
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn join(&self) -> Result<(), ThreadError> {
        self.thread.join().await
    }

    /// Whether the timer's thread is alive.
    pub fn is_alive(&self) -> bool {
        self.thread.is_alive()
    }

    /// The timer's thread.
    pub fn thread(&self) -> &Thread {
        &self.thread
    }
}
