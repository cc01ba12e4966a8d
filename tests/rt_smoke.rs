//! Smoke tests of the runtime under every mode.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use greenthread::{current_thread, sleep, spawn, Thread};

rt_test! {
    async fn start_join_many() {
        let n = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for _ in 0..50 {
            let n = n.clone();
            let t = Thread::new(move || async move {
                sleep(Duration::from_millis(5)).await;
                n.fetch_add(1, Ordering::SeqCst);
            });
            t.start().unwrap();
            threads.push(t);
        }
        for t in &threads {
            t.join().await.unwrap();
            assert!(!t.is_alive());
        }
        assert_eq!(n.load(Ordering::SeqCst), 50);
    }
}

rt_test! {
    async fn spawn_returns_value() {
        let h = spawn(async { current_thread().name() });
        let name = h.await.unwrap();
        assert!(name.starts_with("Thread-"), "{name}");
    }
}

rt_test! {
    async fn sleep_never_early() {
        for ms in [1u64, 3, 10] {
            let start = Instant::now();
            sleep(Duration::from_millis(ms)).await;
            assert!(start.elapsed() >= Duration::from_millis(ms));
        }
    }
}
