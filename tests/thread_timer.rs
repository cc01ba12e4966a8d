//! `Timer`: fires after its interval (never early), runs once, cancel
//! before start / while waiting / after firing, join returns promptly after
//! cancel (SPEC §10.19), naming and Display, `Target` types — python-semantics
//! §1.9 and scenario 104.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use greenthread::{enumerate, sleep, Target, ThreadError, Timer};
use support::wait_until;

#[allow(dead_code)]
fn timer_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<Timer>();
}

fn counting(n: &Arc<AtomicUsize>) -> impl FnOnce() -> std::future::Ready<()> + Send + 'static {
    let n = n.clone();
    move || {
        n.fetch_add(1, Ordering::SeqCst);
        std::future::ready(())
    }
}

rt_test! {
    /// It fires once, never before its interval.
    async fn fires_after_interval() {
        let fired = Arc::new(AtomicUsize::new(0));
        let interval = Duration::from_millis(50);
        let stamp = Arc::new(std::sync::Mutex::new(None));
        let (f, s) = (fired.clone(), stamp.clone());
        let start = Instant::now();
        let timer = Timer::new(interval, move || async move {
            *s.lock().unwrap() = Some(Instant::now());
            f.fetch_add(1, Ordering::SeqCst);
        });
        timer.start().unwrap();
        assert!(timer.is_alive());
        assert!(enumerate().contains(timer.thread()));
        timer.join().await.unwrap();
        assert!(!timer.is_alive());
        assert_eq!(fired.load(Ordering::SeqCst), 1);
        let at = stamp.lock().unwrap().unwrap();
        assert!(at - start >= interval, "fired early: {:?}", at - start);
        assert!(start.elapsed() < interval * 10 + Duration::from_secs(10));
        assert_eq!(timer.start(), Err(ThreadError::AlreadyStarted));
    }
}

rt_test! {
    /// A timer cancelled before start never runs its target.
    async fn cancel_before_start() {
        let fired = Arc::new(AtomicUsize::new(0));
        let timer = Timer::new(Duration::from_millis(10), counting(&fired));
        timer.cancel();
        timer.start().unwrap();
        let start = Instant::now();
        timer.join().await.unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        sleep(Duration::from_millis(30)).await;
        assert_eq!(fired.load(Ordering::SeqCst), 0);
    }
}

rt_test! {
    /// §10.19: cancel() while waiting wakes the timer's thread: join()
    /// returns promptly (not after the 60 s interval) and the target never
    /// runs.
    async fn cancel_while_waiting() {
        let fired = Arc::new(AtomicUsize::new(0));
        let timer = Timer::new(Duration::from_secs(60), counting(&fired));
        timer.start().unwrap();
        sleep(Duration::from_millis(20)).await;
        assert!(timer.is_alive());
        let start = Instant::now();
        let t2 = timer.clone();
        // Cancel from another thread, as Python programs usually do.
        greenthread::spawn(async move { t2.cancel() }).await.unwrap();
        timer.join().await.unwrap();
        assert!(start.elapsed() < Duration::from_secs(10), "join took {:?}", start.elapsed());
        assert!(!timer.is_alive());
        assert_eq!(fired.load(Ordering::SeqCst), 0);
        timer.cancel(); // again: harmless
    }
}

rt_test! {
    /// cancel() after the target ran has no effect; cancel() while the
    /// target runs does not stop it.
    async fn cancel_after_firing() {
        let fired = Arc::new(AtomicUsize::new(0));
        let timer = Timer::new(Duration::ZERO, counting(&fired));
        timer.start().unwrap();
        timer.join().await.unwrap();
        timer.cancel();
        assert_eq!(fired.load(Ordering::SeqCst), 1);

        let done = Arc::new(AtomicUsize::new(0));
        let d = done.clone();
        let running = Arc::new(AtomicUsize::new(0));
        let r = running.clone();
        let timer = Timer::new(Duration::from_millis(1), move || async move {
            r.store(1, Ordering::SeqCst);
            sleep(Duration::from_millis(30)).await;
            d.fetch_add(1, Ordering::SeqCst);
        });
        timer.start().unwrap();
        assert!(wait_until(Duration::from_secs(10), || running.load(Ordering::SeqCst) == 1).await);
        timer.cancel();
        timer.join().await.unwrap();
        assert_eq!(done.load(Ordering::SeqCst), 1, "a running target is not cancelled");
    }
}

rt_test! {
    /// Many timers with spread intervals all fire, each once.
    async fn many_timers() {
        let fired = Arc::new(AtomicUsize::new(0));
        let timers: Vec<Timer> = (0..50)
            .map(|i| Timer::new(Duration::from_millis(i % 10), counting(&fired)))
            .collect();
        for t in &timers {
            t.start().unwrap();
        }
        for t in &timers {
            t.join().await.unwrap();
        }
        assert_eq!(fired.load(Ordering::SeqCst), 50);
    }
}

rt_test! {
    /// Display and naming: `<Timer(Thread-N, ...)>`.
    async fn display() {
        let timer = Timer::new(Duration::ZERO, || async {});
        let name = timer.thread().name();
        assert!(name.starts_with("Thread-"), "{name}");
        assert_eq!(format!("{}", timer.thread()), format!("<Timer({name}, initial)>"));
        timer.start().unwrap();
        timer.join().await.unwrap();
        let id = timer.thread().ident().unwrap();
        assert_eq!(format!("{}", timer.thread()), format!("<Timer({name}, stopped {id})>"));
        assert!(!timer.thread().is_daemon(), "daemon flag inherited from main");
    }
}

struct Fire(Arc<AtomicUsize>);

impl Target for Fire {
    async fn run(self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

rt_test! {
    /// A `Target` type as the timer's function; two timers with their own
    /// state do not share it (scenario 104's spirit).
    async fn target_type() {
        let a = Arc::new(AtomicUsize::new(0));
        let b = Arc::new(AtomicUsize::new(0));
        let t1 = Timer::new(Duration::from_millis(1), Fire(a.clone()));
        let t2 = Timer::new(Duration::from_millis(1), Fire(b.clone()));
        t1.start().unwrap();
        t2.start().unwrap();
        t1.join().await.unwrap();
        t2.join().await.unwrap();
        assert_eq!((a.load(Ordering::SeqCst), b.load(Ordering::SeqCst)), (1, 1));
    }
}

/// A non-daemon Timer is waited for at shutdown; a cancelled one does not
/// hold shutdown up.
#[test]
fn timers_at_shutdown() {
    let fired = Arc::new(AtomicUsize::new(0));
    let f = fired.clone();
    let start = Instant::now();
    support::run_with("green_n", move || async move {
        Timer::new(Duration::from_millis(50), counting(&f))
            .start()
            .unwrap();
        let long = Timer::new(Duration::from_secs(3600), counting(&f));
        long.start().unwrap();
        long.cancel();
    });
    assert_eq!(fired.load(Ordering::SeqCst), 1);
    assert!(start.elapsed() >= Duration::from_millis(50));
    assert!(start.elapsed() < Duration::from_secs(30));
}
