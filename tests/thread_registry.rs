//! The thread registry: `current_thread`, `main_thread`, `enumerate`,
//! `active_count`, `get_ident`, `get_native_id`, per-runtime registries,
//! and `_DummyThread`s for plain `std::thread`s and tokio workers —
//! scenarios 68, 69, 78 and SPEC §2 (several runtimes), §3, §10.1.

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use greenthread::{
    active_count, current_thread, enumerate, get_ident, get_native_id, main_thread, sleep, spawn,
    Event, Thread, ThreadError,
};
use support::wait_until;

rt_test! {
    /// test_main_thread: the main future runs as MainThread.
    async fn main_thread_identity() {
        let main = main_thread();
        assert_eq!(current_thread(), main);
        assert_eq!(main.name(), "MainThread");
        assert!(!main.is_daemon());
        assert!(main.is_alive());
        assert_eq!(main.ident(), Some(get_ident()));
        assert_eq!(current_thread().ident(), Some(get_ident()));
        assert_eq!(main.native_id(), Some(get_native_id()));
        let m = main.clone();
        let h = spawn(async move {
            let me = current_thread();
            assert_ne!(me, m);
            assert_eq!(main_thread(), m, "main_thread() inside a thread is the runtime's main");
            assert_ne!(main_thread().ident(), me.ident());
            assert_eq!(me.ident(), Some(get_ident()));
            assert_eq!(me.native_id(), Some(get_native_id()));
        });
        h.await.unwrap();
    }
}

rt_test! {
    /// enumerate()/active_count(): main + started threads, nothing else
    /// (each runtime has its own registry although other tests run in
    /// parallel in this process), len(enumerate()) == active_count().
    async fn enumerate_and_count() {
        assert_eq!(enumerate(), vec![main_thread()], "a fresh runtime has only its main thread");
        assert_eq!(active_count(), 1);
        let go = Event::new();
        let mut threads = Vec::new();
        for i in 0..10 {
            let g = go.clone();
            let t = Thread::builder().daemon(i % 2 == 0).build(move || async move { g.wait().await; });
            // Not started: not enumerated.
            assert!(!enumerate().contains(&t));
            t.start().unwrap();
            threads.push(t);
        }
        let all = enumerate();
        assert_eq!(all.len(), 11);
        assert_eq!(active_count(), 11);
        for t in &threads {
            assert!(all.contains(t));
        }
        // Seen the same from inside a thread.
        let seen = spawn(async { (enumerate().len(), active_count()) }).await.unwrap();
        assert!(seen.0 >= 11 && seen.0 == seen.1, "{seen:?}");
        go.set();
        for t in &threads {
            t.join().await.unwrap();
            assert!(!enumerate().contains(t), "test_enumerate_after_join");
        }
        assert_eq!(enumerate(), vec![main_thread()]);
        assert_eq!(active_count(), 1);
    }
}

rt_test! {
    /// Idents are non-zero and unique among live threads.
    async fn idents_unique() {
        let go = Event::new();
        let mut threads = Vec::new();
        for _ in 0..200 {
            let g = go.clone();
            let t = Thread::new(move || async move { g.wait().await; });
            t.start().unwrap();
            threads.push(t);
        }
        let mut idents: HashSet<u64> = threads.iter().map(|t| t.ident().unwrap()).collect();
        idents.insert(main_thread().ident().unwrap());
        assert_eq!(idents.len(), 201);
        assert!(!idents.contains(&0));
        go.set();
        for t in threads {
            t.join().await.unwrap();
        }
    }
}

/// Two runtimes alive at once see only their own threads.
#[test]
fn runtimes_have_separate_registries() {
    let rt1 = support::builder_for("green_n").build().unwrap();
    let rt2 = support::builder_for("os").build().unwrap();
    let go = Event::new();
    let g = go.clone();
    rt1.block_on(async move {
        let t1 = Thread::builder().daemon(true).build(move || async move {
            g.wait().await;
        });
        t1.start().unwrap();
        let main1 = main_thread();
        assert!(enumerate().contains(&t1));
        // rt2 looks while rt1 and its thread are alive (block_on's main runs
        // on this OS thread, so waiting here blocks no worker).
        let seen = {
            let t1 = t1.clone();
            std::thread::spawn(move || {
                rt2.block_on(async move {
                    let all = enumerate();
                    assert_eq!(all, vec![main_thread()]);
                    assert!(!all.contains(&t1));
                    assert_ne!(main_thread(), main1);
                })
            })
            .join()
        };
        assert!(t1.is_alive());
        go.set();
        t1.join().await.unwrap();
        seen.expect("rt2 saw only its own threads");
    });
}

/// test_foreign_thread: a plain OS thread gets a `_DummyThread`: daemon,
/// alive, named Dummy-N, registered under its ident, not joinable, and it
/// leaves the registry when the OS thread ends.
#[test]
fn dummy_thread_of_std_thread() {
    let (tx, rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let os = std::thread::spawn(move || {
        let me = current_thread();
        assert_eq!(me, current_thread(), "the same dummy every time");
        let text = format!("{me}");
        let id = me.ident().unwrap();
        assert_eq!(get_ident(), id);
        assert_eq!(me.native_id(), Some(get_native_id()));
        assert!(me.name().starts_with("Dummy-"), "{}", me.name());
        assert_eq!(
            text,
            format!("<_DummyThread({}, started daemon {id})>", me.name())
        );
        assert!(me.is_daemon());
        assert!(me.is_alive());
        assert!(
            enumerate().contains(&me),
            "registered while its OS thread lives"
        );
        // The other tests of this binary start and end threads in the same
        // process-wide registry between the two reads: look until a pair of
        // reads agrees (every one would, were it alone).
        let (mut count, mut listed) = (0, 0);
        let agree = (0..1000).any(|_| {
            (count, listed) = (active_count(), enumerate().len());
            count == listed
        });
        assert!(agree, "active_count() {count}, enumerate() {listed}");
        let err = greenthread::block_on(me.join()).unwrap_err();
        assert_eq!(err, ThreadError::JoinDummy);
        assert_eq!(err.to_string(), "cannot join a dummy thread");
        // Threads created from a dummy thread are daemon by default.
        assert!(Thread::new(|| async {}).is_daemon());
        tx.send(me).unwrap();
        done_rx.recv().unwrap();
    });
    let dummy = rx.recv().unwrap();
    // From another foreign thread it is visible in the process-wide registry.
    let d = dummy.clone();
    std::thread::spawn(move || assert!(enumerate().contains(&d)))
        .join()
        .unwrap();
    done_tx.send(()).unwrap();
    os.join().unwrap();
    let start = Instant::now();
    loop {
        let d = dummy.clone();
        let gone = std::thread::spawn(move || !enumerate().contains(&d))
            .join()
            .unwrap();
        if gone {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "dummy thread still registered"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(!dummy.is_alive());
}

/// Threads started from a plain OS thread run (on the process-wide
/// runtime), are daemon by default, and can be joined with `block_on`.
#[test]
fn start_from_std_thread() {
    std::thread::spawn(|| {
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        let t = Thread::new(move || async move {
            sleep(Duration::from_millis(2)).await;
            r.store(true, Ordering::SeqCst);
        });
        assert!(t.is_daemon());
        t.start().unwrap();
        assert!(t.is_alive());
        greenthread::block_on(t.join()).unwrap();
        assert!(ran.load(Ordering::SeqCst));
        let v = greenthread::block_on(spawn(async { 7 })).unwrap();
        assert_eq!(v, 7);
    })
    .join()
    .unwrap();
}

/// Inside a tokio runtime: current_thread() is a `_DummyThread` of the
/// tokio worker; greenthread threads started there run and can be awaited
/// from tokio tasks.
#[test]
fn dummy_thread_inside_tokio() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut tasks = Vec::new();
        for _ in 0..4 {
            let seen = seen.clone();
            tasks.push(tokio::spawn(async move {
                let me = current_thread();
                assert!(format!("{me}").starts_with("<_DummyThread(Dummy-"), "{me}");
                assert!(me.is_daemon());
                assert_eq!(me.ident(), Some(get_ident()));
                let t = Thread::new(|| async { sleep(Duration::from_millis(1)).await });
                assert!(t.is_daemon());
                t.start().unwrap();
                t.join().await.unwrap();
                let v = spawn(async { current_thread().name() }).await.unwrap();
                assert!(v.starts_with("Thread-"));
                seen.lock().unwrap().push(me);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        let seen = seen.lock().unwrap();
        // Dummies belong to OS threads: at most one per tokio worker (plus
        // the block_on thread).
        let distinct: HashSet<_> = seen.iter().map(|t| t.ident()).collect();
        assert!(distinct.len() <= 3, "{distinct:?}");
    });
}

rt_test! {
    /// §10.1: a thread started by another thread is enumerated from the
    /// moment start() returns, and main sees it too.
    async fn enumerate_sees_grandchildren() {
        let go = Event::new();
        let g = go.clone();
        let child = Arc::new(Mutex::new(None));
        let c = child.clone();
        let parent = Thread::new(move || async move {
            let t = Thread::new(move || async move { g.wait().await; });
            t.start().unwrap();
            assert!(enumerate().contains(&t));
            *c.lock().unwrap() = Some(t);
        });
        parent.start().unwrap();
        parent.join().await.unwrap();
        let t = child.lock().unwrap().clone().unwrap();
        assert!(enumerate().contains(&t));
        assert!(!enumerate().contains(&parent));
        go.set();
        t.join().await.unwrap();
        assert!(wait_until(Duration::from_secs(1), || active_count() == 1).await);
    }
}
