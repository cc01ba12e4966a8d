//! `Queue`, `LifoQueue`, `PriorityQueue`: test_queue's scenarios (basic,
//! task_done/join, nowait, shrinking, Python 3.13 shutdown), stability of
//! the PriorityQueue, stress with exact totals, destructors, cancel-by-drop,
//! the cooperative budget and foreign executors.

mod support;

use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use greenthread::queue::{GetError, LifoQueue, PriorityQueue, PutError, Queue};
use greenthread::{SyncError, Thread};
use support::assert_timeout;

use support::assert_send;

/// Handles are `Clone` without `T: Clone` and `Send + Sync` for `T: Send`;
/// futures are `Send`; errors are proper errors.
#[allow(dead_code)]
fn send_checks() {
    struct NotClone;
    fn sync_clone<T: Send + Sync + Clone>() {}
    sync_clone::<Queue<NotClone>>();
    sync_clone::<LifoQueue<NotClone>>();
    sync_clone::<PriorityQueue<u8>>();
    let q = Queue::<NotClone>::new(0);
    assert_send(&q.put(NotClone));
    assert_send(&q.put_timeout(NotClone, Duration::ZERO));
    assert_send(&q.get());
    assert_send(&q.get_timeout(Duration::ZERO));
    assert_send(&q.join());
    fn error<E: std::error::Error + Send + Sync + 'static>() {}
    error::<PutError<String>>();
    error::<GetError>();
}

macro_rules! basic_test {
    ($name:ident, $ty:ident) => {
        /// test_queue.basic_queue_test (maxsize 5), twice on one queue.
        async fn $name(q: $ty<i32>, order: [i32; 3]) {
            for _ in 0..2 {
                assert!(q.empty());
                assert!(!q.full());
                for x in [111, 333, 222] {
                    q.put(x).await.unwrap();
                }
                let got = [
                    q.get().await.unwrap(),
                    q.get().await.unwrap(),
                    q.get().await.unwrap(),
                ];
                assert_eq!(got, order);
                for i in 0..4 {
                    q.put(i).await.unwrap();
                }
                assert!(!q.empty());
                assert!(!q.full());
                q.put(4).await.unwrap();
                assert!(q.full());
                assert!(matches!(q.put_nowait(5), Err(PutError::Full(5))));
                let start = Instant::now();
                assert!(matches!(
                    q.put_timeout(5, Duration::from_millis(10)).await,
                    Err(PutError::Full(5))
                ));
                assert_timeout(start, Duration::from_millis(10));
                // A blocking put returns once another thread gets.
                let q2 = q.clone();
                let getter = greenthread::spawn(async move {
                    greenthread::sleep(Duration::from_millis(100)).await;
                    q2.get().await.unwrap()
                });
                let start = Instant::now();
                q.put(5).await.unwrap();
                assert!(start.elapsed() >= Duration::from_millis(60));
                getter.await.unwrap();
                let q2 = q.clone();
                let getter = greenthread::spawn(async move {
                    greenthread::sleep(Duration::from_millis(50)).await;
                    q2.get().await.unwrap()
                });
                q.put_timeout(6, Duration::from_secs(10)).await.unwrap();
                getter.await.unwrap();
                for _ in 0..5 {
                    q.get().await.unwrap();
                }
                assert!(q.empty());
                assert_eq!(q.get_nowait(), Err(GetError::Empty));
                let start = Instant::now();
                assert_eq!(
                    q.get_timeout(Duration::from_millis(10)).await,
                    Err(GetError::Empty)
                );
                assert_timeout(start, Duration::from_millis(10));
                // A blocking get returns once another thread puts.
                let q2 = q.clone();
                let putter = greenthread::spawn(async move {
                    greenthread::sleep(Duration::from_millis(50)).await;
                    q2.put(7).await.unwrap();
                });
                assert_eq!(q.get().await, Ok(7));
                putter.await.unwrap();
                // Drain the unfinished count for the next pass.
                while q.unfinished_tasks() > 0 {
                    q.task_done().unwrap();
                }
            }
        }
    };
}

basic_test!(basic_fifo, Queue);
basic_test!(basic_lifo, LifoQueue);
basic_test!(basic_prio, PriorityQueue);

rt_test! {
    async fn basic() {
        basic_fifo(Queue::new(5), [111, 333, 222]).await;
        basic_lifo(LifoQueue::new(5), [222, 333, 111]).await;
        basic_prio(PriorityQueue::new(5), [111, 222, 333]).await;
    }
}

rt_test! {
    /// test_queue_task_done / test_queue_join: 2 workers, 100 items; join
    /// returns when all are done; an extra task_done fails.
    async fn task_done_and_join() {
        let q: Queue<Option<usize>> = Queue::new(0);
        let e = q.task_done().unwrap_err();
        assert_eq!(e, SyncError::TaskDoneTooManyTimes);
        assert_eq!(e.to_string(), "task_done() called too many times");
        let cum = Arc::new(AtomicUsize::new(0));
        let mut workers = Vec::new();
        for _ in 0..2 {
            let (q, cum) = (q.clone(), cum.clone());
            let t = Thread::new(move || async move {
                while let Some(x) = q.get().await.unwrap() {
                    cum.fetch_add(x, Ordering::SeqCst);
                    q.task_done().unwrap();
                }
                q.task_done().unwrap();
            });
            t.start().unwrap();
            workers.push(t);
        }
        for i in 0..100 {
            q.put(Some(i)).await.unwrap();
        }
        q.join().await;
        assert_eq!(cum.load(Ordering::SeqCst), 4950);
        for _ in 0..2 {
            q.put(None).await.unwrap();
        }
        q.join().await;
        for t in workers {
            t.join().await.unwrap();
        }
        assert_eq!(q.task_done(), Err(SyncError::TaskDoneTooManyTimes));
        q.join().await; // at once
    }
}

rt_test! {
    /// test_nowait and test_shrinking_queue.
    async fn nowait_and_shrinking() {
        let q = Queue::new(5);
        for i in 0..5 {
            q.put_nowait(i).unwrap();
        }
        assert!(matches!(q.put_nowait(5), Err(PutError::Full(5))));
        for _ in 0..5 {
            q.get_nowait().unwrap();
        }
        assert_eq!(q.get_nowait(), Err(GetError::Empty));
        let q = Queue::new(3);
        for i in 0..3 {
            q.put_nowait(i).unwrap();
        }
        assert!(q.put_nowait(3).is_err());
        q.set_maxsize(2);
        assert_eq!(q.maxsize(), 2);
        assert!(q.full());
        let e = q.put_nowait(3).unwrap_err();
        assert!(e.is_full());
        assert_eq!(e.to_string(), "queue is full");
        assert_eq!(e.into_inner(), 3);
        // Unbounded: never full, a put never waits.
        let u = Queue::new(0);
        for i in 0..1000 {
            u.put_timeout(i, Duration::ZERO).await.unwrap();
        }
        assert!(!u.full());
        assert_eq!(u.qsize(), 1000);
    }
}

rt_test! {
    /// Shutdown: test_shutdown_empty / _nonempty / _immediate /
    /// _allowed_transitions / _all_methods_in_one_thread.
    async fn shutdown_one_thread() {
        let q = Queue::<&str>::new(2);
        q.shutdown(false);
        assert!(matches!(q.put("x").await, Err(PutError::ShutDown("x"))));
        assert_eq!(q.get().await, Err(GetError::ShutDown));

        let q = Queue::new(0);
        q.put(1).await.unwrap();
        q.shutdown(false);
        assert_eq!(q.get().await, Ok(1));
        assert_eq!(q.get().await, Err(GetError::ShutDown));
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown), "ShutDown, not Empty");

        let q = Queue::new(0);
        q.put(1).await.unwrap();
        q.shutdown(true);
        assert_eq!(q.get().await, Err(GetError::ShutDown));

        let q = Queue::<i32>::new(0);
        assert!(!q.is_shut_down());
        q.shutdown(false);
        assert!(q.is_shut_down());
        q.shutdown(true);
        assert!(q.is_shut_down());
        q.shutdown(false);
        assert!(q.is_shut_down());

        // all methods, non-immediate
        let q = Queue::new(2);
        q.put("L").await.unwrap();
        q.put_nowait("O").unwrap();
        q.shutdown(false);
        let e = q.put("W").await.unwrap_err();
        assert!(e.is_shut_down());
        assert_eq!(e.to_string(), "queue is shut down");
        assert!(matches!(q.put_nowait("W"), Err(PutError::ShutDown("W"))));
        assert!(matches!(q.put_timeout("W", Duration::from_secs(1)).await, Err(PutError::ShutDown("W"))));
        assert_eq!(q.get().await, Ok("L"));
        q.task_done().unwrap();
        assert_eq!(q.get().await, Ok("O"));
        q.task_done().unwrap();
        q.join().await;
        assert_eq!(q.get().await, Err(GetError::ShutDown));
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
        assert_eq!(q.get_timeout(Duration::from_secs(1)).await, Err(GetError::ShutDown));

        // all methods, immediate
        let q = Queue::new(2);
        q.put("L").await.unwrap();
        q.put_nowait("O").unwrap();
        q.shutdown(true);
        assert!(q.put("W").await.is_err());
        assert!(q.put_nowait("W").is_err());
        assert_eq!(q.get().await, Err(GetError::ShutDown));
        assert_eq!(q.get_nowait(), Err(GetError::ShutDown));
        assert_eq!(q.task_done(), Err(SyncError::TaskDoneTooManyTimes));
        q.join().await;
        assert_eq!(q.qsize(), 0);
    }
}

rt_test! {
    /// test_shutdown_pending_get / _put / _join / _immediate_join: blocked
    /// getters, putters and joiners are all woken.
    async fn shutdown_wakes_everyone() {
        // Pending getters.
        let q = Queue::<i32>::new(0);
        let getters: Vec<_> = (0..3)
            .map(|_| {
                let q = q.clone();
                greenthread::spawn(async move { q.get().await })
            })
            .collect();
        greenthread::sleep(Duration::from_millis(20)).await;
        q.shutdown(false);
        for g in getters {
            assert_eq!(g.await.unwrap(), Err(GetError::ShutDown));
        }
        // Pending putters on a full queue.
        let q = Queue::new(1);
        q.put(0).await.unwrap();
        let putters: Vec<_> = (1..3)
            .map(|i| {
                let q = q.clone();
                greenthread::spawn(async move { q.put(i).await.map_err(|e| e.into_inner()) })
            })
            .collect();
        greenthread::sleep(Duration::from_millis(20)).await;
        q.shutdown(false);
        let mut back: Vec<_> = Vec::new();
        for p in putters {
            back.push(p.await.unwrap().unwrap_err());
        }
        back.sort();
        assert_eq!(back, [1, 2]);
        // Joiners: immediate shutdown drains and releases them.
        for immediate in [true, false] {
            let q = Queue::new(0);
            q.put(1).await.unwrap();
            let joiners: Vec<_> = (0..2)
                .map(|_| {
                    let q = q.clone();
                    greenthread::spawn(async move { q.join().await })
                })
                .collect();
            greenthread::sleep(Duration::from_millis(20)).await;
            q.shutdown(immediate);
            if !immediate {
                assert_eq!(q.get().await, Ok(1));
                q.task_done().unwrap();
            }
            for j in joiners {
                j.await.unwrap();
            }
        }
    }
}

rt_test! {
    /// test_shutdown_all_methods_in_many_threads (scaled down): writers,
    /// readers and a shutdown; every thread ends, readers by ShutDown.
    async fn shutdown_many_threads() {
        for immediate in [false, true] {
            let q = Queue::new(16);
            let triggered = Arc::new(AtomicBool::new(false));
            let mut threads = Vec::new();
            for w in 0..4usize {
                let (q, trig) = (q.clone(), triggered.clone());
                threads.push(greenthread::spawn(async move {
                    for i in 0..2000usize {
                        if i == 1000 && !trig.swap(true, Ordering::SeqCst) {
                            q.shutdown(immediate);
                        }
                        if q.put(w * 10_000 + i).await.is_err() {
                            return;
                        }
                    }
                }));
            }
            let read = Arc::new(AtomicUsize::new(0));
            for _ in 0..6 {
                let (q, read) = (q.clone(), read.clone());
                threads.push(greenthread::spawn(async move {
                    loop {
                        match q.get_nowait() {
                            Ok(_) => {
                                read.fetch_add(1, Ordering::SeqCst);
                                q.task_done().unwrap();
                            }
                            Err(GetError::Empty) => greenthread::yield_now().await,
                            Err(GetError::ShutDown) => return,
                            Err(e) => panic!("get_nowait: {e:?}"),
                        }
                    }
                }));
            }
            for t in threads {
                t.await.unwrap();
            }
            assert!(q.is_shut_down());
            assert!(q.empty());
            q.join().await;
        }
    }
}

rt_test! {
    /// Deliberate difference from Python: PriorityQueue is stable.
    async fn priority_stable() {
        let q = PriorityQueue::new(0);
        for i in 0..100 {
            q.put((i % 3, i)).await.unwrap();
        }
        let mut last: Option<(i32, i32)> = None;
        for _ in 0..100 {
            let x = q.get().await.unwrap();
            if let Some(l) = last {
                assert!(l < x, "{l:?} then {x:?}");
            }
            last = Some(x);
        }
        // Equal keys, payloads that don't take part in the order.
        #[derive(Debug)]
        struct Job(u8, &'static str);
        impl PartialEq for Job {
            fn eq(&self, o: &Self) -> bool {
                self.0 == o.0
            }
        }
        impl Eq for Job {}
        impl PartialOrd for Job {
            fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(o))
            }
        }
        impl Ord for Job {
            fn cmp(&self, o: &Self) -> std::cmp::Ordering {
                self.0.cmp(&o.0)
            }
        }
        let q = PriorityQueue::new(0);
        for (p, n) in [(2, "c"), (1, "a"), (2, "d"), (1, "b"), (2, "e")] {
            q.put_nowait(Job(p, n)).unwrap();
        }
        let names: Vec<_> = (0..5).map(|_| q.get_nowait().unwrap().1).collect();
        assert_eq!(names, ["a", "b", "c", "d", "e"]);
    }
}

rt_test! {
    /// Stress: 8 producers × 8 consumers, bounded Queue(16), exact sum; and
    /// every item taken exactly once for each kind.
    async fn stress_exact() {
        const P: usize = 8;
        const PER: usize = 1000;
        let q = Queue::new(16);
        let sum = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for p in 0..P {
            let q = q.clone();
            threads.push(greenthread::spawn(async move {
                for i in 0..PER {
                    q.put(p * PER + i).await.unwrap();
                }
            }));
        }
        for _ in 0..P {
            let (q, sum) = (q.clone(), sum.clone());
            threads.push(greenthread::spawn(async move {
                for _ in 0..PER {
                    let v = q.get().await.unwrap();
                    sum.fetch_add(v, Ordering::SeqCst);
                    q.task_done().unwrap();
                }
            }));
        }
        q.join().await;
        for t in threads {
            t.await.unwrap();
        }
        let n = P * PER;
        assert_eq!(sum.load(Ordering::SeqCst), n * (n - 1) / 2);
        assert!(q.empty());

        let lq = LifoQueue::new(4);
        let pq = PriorityQueue::new(4);
        let (l2, p2) = (lq.clone(), pq.clone());
        let prod = greenthread::spawn(async move {
            for i in 0..2000usize {
                l2.put(i).await.unwrap();
                p2.put(i).await.unwrap();
            }
        });
        let (mut a, mut b) = (0, 0);
        for _ in 0..2000 {
            a += lq.get().await.unwrap();
            b += pq.get().await.unwrap();
        }
        prod.await.unwrap();
        assert_eq!(a, 2000 * 1999 / 2);
        assert_eq!(b, a);
    }
}

rt_test! {
    /// SPEC 10.14: a loop on a non-empty queue still lets a sleeper run.
    async fn budget_yields() {
        let q = Queue::new(0);
        let flag = Arc::new(AtomicBool::new(false));
        let f = flag.clone();
        let sleeper = greenthread::spawn(async move {
            greenthread::sleep(Duration::from_millis(5)).await;
            f.store(true, Ordering::SeqCst);
        });
        let (q2, f) = (q.clone(), flag.clone());
        greenthread::spawn(async move {
            let start = Instant::now();
            q2.put(0u8).await.unwrap();
            while !f.load(Ordering::SeqCst) {
                assert!(start.elapsed() < Duration::from_secs(10), "the sleeper never ran");
                let x = q2.get().await.unwrap();
                q2.put(x).await.unwrap();
            }
        })
        .await
        .unwrap();
        sleeper.await.unwrap();
    }
}

/// Counts drops of items.
struct Counted(Arc<AtomicUsize>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

rt_test! {
    /// Destructors: every item is dropped exactly once — taken, left in a
    /// dropped queue, removed by an immediate shutdown, or given back in
    /// a PutError.
    async fn destructors() {
        let drops = Arc::new(AtomicUsize::new(0));
        let q = Queue::new(3);
        for _ in 0..3 {
            q.put(Counted(drops.clone())).await.unwrap();
        }
        let back = q.put_nowait(Counted(drops.clone())).unwrap_err();
        assert_eq!(drops.load(Ordering::SeqCst), 0);
        drop(back);
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop(q.get().await.unwrap());
        assert_eq!(drops.load(Ordering::SeqCst), 2);
        q.shutdown(true);
        assert_eq!(drops.load(Ordering::SeqCst), 4);
        assert_eq!(q.unfinished_tasks(), 1, "the item taken by get still counts");
        let q2 = LifoQueue::new(0);
        for _ in 0..5 {
            q2.put(Counted(drops.clone())).await.unwrap();
        }
        let c = q2.clone();
        drop(q2);
        assert_eq!(drops.load(Ordering::SeqCst), 4);
        drop(c);
        assert_eq!(drops.load(Ordering::SeqCst), 9);
    }
}

/// An item whose drop puts into the queue it came from (reentrancy).
#[test]
fn drop_reenters_queue() {
    struct Again(Queue<Option<Again>>, Arc<AtomicBool>);
    impl Drop for Again {
        fn drop(&mut self) {
            let r = self.0.put_nowait(None);
            self.1
                .store(matches!(r, Err(PutError::ShutDown(None))), Ordering::SeqCst);
        }
    }
    let q = Queue::new(0);
    let refused = Arc::new(AtomicBool::new(false));
    q.put_nowait(Some(Again(q.clone(), refused.clone())))
        .unwrap();
    // The drop runs outside the queue's lock (else this would deadlock), and
    // its put, after the shutdown, is refused with its item.
    q.shutdown(true);
    assert!(refused.load(Ordering::SeqCst));
    assert_eq!(q.qsize(), 0);
}

use support::Counting;

/// Cancel by drop: a notified getter that is dropped passes the item's
/// wake-up on; no item is lost; a dropped put drops only its own item.
#[test]
fn cancel_by_drop() {
    let q = Queue::<u32>::new(1);
    let (ca, cb) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
    let (wa, wb) = (Waker::from(ca.clone()), Waker::from(cb.clone()));
    let mut a = Box::pin(q.get());
    let mut b = Box::pin(q.get_timeout(Duration::from_secs(60)));
    assert!(a.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    assert!(b.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    q.put_nowait(7).unwrap();
    assert_eq!(ca.0.load(Ordering::SeqCst), 1);
    assert_eq!(cb.0.load(Ordering::SeqCst), 0);
    drop(a);
    assert_eq!(cb.0.load(Ordering::SeqCst), 1);
    assert_eq!(q.qsize(), 1, "the item is still there");
    assert_eq!(
        b.as_mut().poll(&mut Context::from_waker(&wb)),
        Poll::Ready(Ok(7))
    );
    // Blocked putters.
    q.put_nowait(1).unwrap();
    let mut p1 = Box::pin(q.put(2));
    let mut p2 = Box::pin(q.put(3));
    assert!(p1.as_mut().poll(&mut Context::from_waker(&wa)).is_pending());
    assert!(p2.as_mut().poll(&mut Context::from_waker(&wb)).is_pending());
    assert_eq!(q.get_nowait(), Ok(1));
    drop(p1);
    assert_eq!(
        p2.as_mut().poll(&mut Context::from_waker(&wb)),
        Poll::Ready(Ok(()))
    );
    assert_eq!(q.get_nowait(), Ok(3));
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
}

/// A get or put polled again after it completed takes no other item and
/// puts nothing more: it stays pending, and the queue keeps what it holds.
#[test]
fn polled_after_completion_takes_nothing_more() {
    let q = Queue::<u32>::new(0);
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    let mut cx = Context::from_waker(Waker::noop());
    let mut get = Box::pin(q.get());
    assert_eq!(get.as_mut().poll(&mut cx), Poll::Ready(Ok(1)));
    assert!(get.as_mut().poll(&mut cx).is_pending());
    let mut put = Box::pin(q.put(3));
    assert_eq!(put.as_mut().poll(&mut cx), Poll::Ready(Ok(())));
    assert!(put.as_mut().poll(&mut cx).is_pending());
    drop((get, put));
    assert_eq!(
        q.get_nowait(),
        Ok(2),
        "the second item was left in the queue"
    );
    assert_eq!(q.get_nowait(), Ok(3));
    assert_eq!(q.get_nowait(), Err(GetError::Empty));
}

/// From std threads with block_on and inside tokio / async-executor.
#[test]
fn foreign_executors() {
    let q = Queue::new(8);
    let q2 = q.clone();
    let producer = std::thread::spawn(move || {
        greenthread::block_on(async move {
            for i in 0..3000u64 {
                q2.put(i).await.unwrap();
            }
        })
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let total = rt.block_on(async {
        let mut ts = Vec::new();
        for _ in 0..2 {
            let q = q.clone();
            ts.push(tokio::spawn(async move {
                let mut s = 0;
                for _ in 0..1000 {
                    s += q.get().await.unwrap();
                }
                s
            }));
        }
        let mut s = 0;
        for t in ts {
            s += t.await.unwrap();
        }
        s
    });
    let ex = async_executor::Executor::new();
    let rest = futures::executor::block_on(ex.run(async {
        let q = q.clone();
        ex.spawn(async move {
            let mut s = 0;
            for _ in 0..1000 {
                s += q.get_timeout(Duration::from_secs(10)).await.unwrap();
            }
            s
        })
        .await
    }));
    producer.join().unwrap();
    assert_eq!(total + rest, 3000 * 2999 / 2);
}

rt_test! {
    /// Stress: producers with short put timeouts and consumers whose gets
    /// are cut short by an outer `timeout` (cancelled mid-wait) or time out
    /// themselves, on a small queue; every item is either received exactly
    /// once, still queued, or given back by the put that timed out.
    async fn stress_timeouts_and_cancels_lose_nothing() {
        use std::sync::atomic::AtomicU64;
        let q = Queue::<u64>::new(4);
        let put = Arc::new(AtomicU64::new(0));
        let got = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let producers: Vec<_> = (0..4u64)
            .map(|p| {
                let (q, put) = (q.clone(), put.clone());
                greenthread::spawn(async move {
                    for i in 1..=150u64 {
                        let v = p * 1000 + i;
                        match q.put_timeout(v, Duration::from_micros(100 * (i % 3))).await {
                            Ok(()) => {
                                put.fetch_add(v, Ordering::SeqCst);
                            }
                            Err(e) => assert_eq!(e.into_inner(), v, "the item comes back"),
                        }
                    }
                })
            })
            .collect();
        let consumers: Vec<_> = (0..4u64)
            .map(|c| {
                let (q, got, stop) = (q.clone(), got.clone(), stop.clone());
                greenthread::spawn(async move {
                    let mut n = 0u64;
                    while !stop.load(Ordering::SeqCst) {
                        n += 1;
                        let v = if (n + c) % 2 == 0 {
                            greenthread::timeout(Duration::from_micros(150), q.get())
                                .await
                                .ok()
                                .map(|r| r.expect("not shut down"))
                        } else {
                            q.get_timeout(Duration::from_micros(150)).await.ok()
                        };
                        if let Some(v) = v {
                            got.fetch_add(v, Ordering::SeqCst);
                        }
                    }
                })
            })
            .collect();
        for p in producers {
            p.await.unwrap();
        }
        stop.store(true, Ordering::SeqCst);
        for c in consumers {
            c.await.unwrap();
        }
        while let Ok(v) = q.get_nowait() {
            got.fetch_add(v, Ordering::SeqCst);
        }
        assert_eq!(got.load(Ordering::SeqCst), put.load(Ordering::SeqCst));
        assert!(q.empty());
    }
}
