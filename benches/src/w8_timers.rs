//! W8 timers: arming and cancelling a timeout, and how late many
//! concurrent sleepers wake.

use std::future::Future;
use std::task::Context;
use std::time::{Duration, Instant};

use crate::backend::Tasks;

/// Polls `f` once (arming its timer) with a waker that does nothing, then
/// drops it (cancelling the timer).
pub fn poll_once<F: Future>(f: F) {
    let mut f = std::pin::pin!(f);
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    let _ = f.as_mut().poll(&mut cx);
}

/// Arms `n` sleeps of `far` on `R`'s timers (each polled once) and cancels
/// them (each dropped). `far` is long enough that none fires.
pub fn arm_cancel<R: Tasks>(n: usize, far: Duration) {
    for _ in 0..n {
        poll_once(R::sleep(far));
    }
}

/// `n` threads on `R`, each sleeping `nap` at once: how late each woke,
/// and the wall time from the first spawn to the last join (run it inside
/// a thread of `R`).
pub async fn sleepers<R: Tasks>(n: usize, nap: Duration) -> (Vec<Duration>, Duration) {
    let start = Instant::now();
    let hs: Vec<_> = (0..n)
        .map(|_| {
            R::spawn(async move {
                let due = Instant::now() + nap;
                R::sleep(nap).await;
                Instant::now().saturating_duration_since(due)
            })
        })
        .collect();
    let mut late = Vec::with_capacity(n);
    for h in hs {
        late.push(h.await);
    }
    (late, start.elapsed())
}
