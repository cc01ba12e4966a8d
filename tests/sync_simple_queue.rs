//! `SimpleQueue`: test_queue's SimpleQueue scenarios (basic, order,
//! references, re-entrancy), stress, cancel-by-drop, foreign executors.

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use greenthread::queue::{GetError, SimpleQueue};
use support::assert_timeout;

use support::assert_send;

#[allow(dead_code)]
fn send_checks() {
    struct NotClone;
    fn sync_clone<T: Send + Sync + Clone>() {}
    sync_clone::<SimpleQueue<NotClone>>();
    let q = SimpleQueue::<NotClone>::new();
    assert_send(&q.put(NotClone));
    assert_send(&q.get());
    assert_send(&q.get_timeout(Duration::ZERO));
}

rt_test! {
    /// test_basic.
    async fn basic() {
        let q = SimpleQueue::new();
        assert!(q.empty());
        assert_eq!(q.qsize(), 0);
        q.put(1).await.unwrap();
        assert!(!q.empty());
        assert_eq!(q.qsize(), 1);
        q.put(2).await.unwrap();
        q.put_nowait(3).unwrap();
        q.put(4).await.unwrap();
        assert_eq!(q.qsize(), 4);
        assert_eq!(q.get().await, Ok(1));
        assert_eq!(q.get_nowait(), Ok(2));
        assert_eq!(q.get_timeout(Duration::ZERO).await, Ok(3));
        assert_eq!(q.get_timeout(Duration::from_millis(100)).await, Ok(4));
        assert!(q.empty());
        assert_eq!(q.get_timeout(Duration::ZERO).await, Err(GetError::Empty));
        let start = Instant::now();
        assert_eq!(q.get_timeout(Duration::from_millis(50)).await, Err(GetError::Empty));
        assert_timeout(start, Duration::from_millis(50));
        assert_eq!(q.get_nowait(), Err(GetError::Empty));
        assert_eq!(GetError::Empty.to_string(), "queue is empty");
    }
}

rt_test! {
    /// test_order: one feeder, one consumer, exact FIFO order.
    async fn order() {
        let q = SimpleQueue::new();
        let q2 = q.clone();
        let feeder = greenthread::spawn(async move {
            for i in 0..100 {
                q2.put(i).await.unwrap();
                if i % 7 == 0 {
                    greenthread::sleep(Duration::from_millis(1)).await;
                }
            }
        });
        let mut got = Vec::new();
        for _ in 0..100 {
            got.push(q.get().await.unwrap());
        }
        feeder.await.unwrap();
        assert_eq!(got, (0..100).collect::<Vec<_>>());
    }
}

rt_test! {
    /// A blocked get returns once another thread puts; the wait times out
    /// otherwise.
    async fn blocking_get() {
        let q = SimpleQueue::new();
        let q2 = q.clone();
        let getter = greenthread::spawn(async move { q2.get().await });
        greenthread::sleep(Duration::from_millis(20)).await;
        q.put("x").await.unwrap();
        assert_eq!(getter.await.unwrap(), Ok("x"));
    }
}

rt_test! {
    /// Stress: 10 producers × 10 consumers × 500 items, exact sum.
    async fn stress() {
        let q = SimpleQueue::new();
        let sum = Arc::new(AtomicUsize::new(0));
        let mut ts = Vec::new();
        for p in 0..10usize {
            let q = q.clone();
            ts.push(greenthread::spawn(async move {
                for i in 0..500 {
                    q.put(p * 500 + i).await.unwrap();
                }
            }));
        }
        for _ in 0..10 {
            let (q, s) = (q.clone(), sum.clone());
            ts.push(greenthread::spawn(async move {
                for _ in 0..500 {
                    s.fetch_add(q.get().await.unwrap(), Ordering::SeqCst);
                }
            }));
        }
        for t in ts {
            t.await.unwrap();
        }
        assert_eq!(sum.load(Ordering::SeqCst), 5000 * 4999 / 2);
    }
}

struct Counted(Arc<AtomicUsize>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// test_references: an item is released as soon as it is got; items left
/// in the queue are dropped exactly once with it.
#[test]
fn references_and_destructors() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = SimpleQueue::new();
    q.put_nowait(Counted(drops.clone())).unwrap();
    drop(q.get_nowait().unwrap());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    for _ in 0..3 {
        q.put_nowait(Counted(drops.clone())).unwrap();
    }
    drop(q);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

/// test_reentrancy (adapted): an item's drop puts into the same queue.
#[test]
fn reentrancy() {
    struct PutOnDrop(SimpleQueue<u32>, u32);
    impl Drop for PutOnDrop {
        fn drop(&mut self) {
            self.0.put_nowait(self.1).unwrap();
        }
    }
    let results = SimpleQueue::new();
    let items = SimpleQueue::new();
    for i in 0..1000 {
        items.put_nowait(PutOnDrop(results.clone(), i)).unwrap();
        drop(items.get_nowait().unwrap());
    }
    let got: Vec<_> = (0..1000).map(|_| results.get_nowait().unwrap()).collect();
    assert_eq!(got, (0..1000).collect::<Vec<_>>());
}

use support::Counting;

/// Cancel by drop: the wake-up passes to the next getter; nothing is lost.
#[test]
fn cancel_by_drop() {
    let q = SimpleQueue::new();
    let (ca, cb) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
    let (wa, wb) = (Waker::from(ca.clone()), Waker::from(cb.clone()));
    let mut a = Box::pin(q.get());
    let mut b = Box::pin(q.get());
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    q.put_nowait(5).unwrap();
    assert_eq!(ca.0.load(Ordering::SeqCst), 1);
    assert_eq!(cb.0.load(Ordering::SeqCst), 0);
    drop(a);
    assert_eq!(cb.0.load(Ordering::SeqCst), 1);
    assert_eq!(
        b.as_mut().poll(&mut Context::from_waker(&wb)),
        Poll::Ready(Ok(5))
    );
}

/// std threads + block_on, and tokio.
#[test]
fn foreign_executors() {
    let q = SimpleQueue::new();
    let q2 = q.clone();
    let t = std::thread::spawn(move || {
        greenthread::block_on(async move {
            let mut s = 0u64;
            for _ in 0..1000 {
                s += q2.get().await.unwrap();
            }
            s
        })
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        for i in 0..1000u64 {
            q.put(i).await.unwrap();
            if i % 100 == 0 {
                tokio::task::yield_now().await;
            }
        }
    });
    assert_eq!(t.join().unwrap(), 1000 * 999 / 2);
}
