//! Thread lifecycle: start/join/is_alive/ident, the error cases of
//! `ThreadError`, join with a timeout, daemon flags, `exit()`, `spawn`,
//! `Target` types and `Display` — python-semantics §2 and scenarios 67–92.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use greenthread::{
    current_thread, enumerate, exit, sleep, spawn, stack_size, Event, Lock, Mode, Runtime, Target,
    Thread, ThreadError,
};
use support::{assert_timeout, wait_until};

#[allow(dead_code)]
fn assert_send_sync<T: Send + Sync + 'static>() {}

/// `Thread`, `ThreadError`, `JoinError` and the join futures are `Send`.
#[allow(dead_code)]
fn send_checks(t: &Thread) {
    assert_send_sync::<Thread>();
    assert_send_sync::<ThreadError>();
    assert_send_sync::<greenthread::JoinError>();
    support::assert_send(&t.join());
    support::assert_send(&t.join_timeout(Duration::ZERO));
    support::assert_send(&spawn(async { 1 }));
}

rt_test! {
    /// The states of python-semantics §2: initial → started → stopped.
    async fn lifecycle_states() {
        let release = Event::new();
        let r = release.clone();
        let t = Thread::new(move || async move { r.wait().await; });
        assert!(!t.is_alive());
        assert_eq!(t.ident(), None);
        assert_eq!(t.native_id(), None);
        assert!(!enumerate().contains(&t));
        t.start().unwrap();
        // §10.1: alive, with an ident and in enumerate() as soon as start() returns.
        assert!(t.is_alive());
        let ident = t.ident().expect("ident once started");
        assert_ne!(ident, 0);
        assert!(enumerate().contains(&t));
        assert!(wait_until(Duration::from_secs(10), || t.native_id().is_some()).await);
        release.set();
        t.join().await.unwrap();
        assert!(!t.is_alive());
        assert!(!enumerate().contains(&t), "never enumerated after join()");
        assert_eq!(t.ident(), Some(ident), "ident is kept after the thread ends");
        // Joining again, and from several threads, is fine.
        t.join().await.unwrap();
        t.join_timeout(Duration::ZERO).await.unwrap();
    }
}

rt_test! {
    /// test_start_thread_again (also after the thread finished).
    async fn start_twice() {
        let t = Thread::new(|| async {});
        t.start().unwrap();
        assert_eq!(t.start(), Err(ThreadError::AlreadyStarted));
        t.join().await.unwrap();
        let err = t.start().unwrap_err();
        assert_eq!(err, ThreadError::AlreadyStarted);
        assert_eq!(err.to_string(), "threads can only be started once");
    }
}

rt_test! {
    /// test_joining_inactive_thread, test_joining_current_thread.
    async fn join_errors() {
        let t = Thread::new(|| async {});
        let err = t.join().await.unwrap_err();
        assert_eq!(err, ThreadError::NotStarted);
        assert_eq!(err.to_string(), "cannot join thread before it is started");
        assert_eq!(t.join_timeout(Duration::from_millis(1)).await, Err(ThreadError::NotStarted));

        // The main thread joining itself.
        let me = current_thread();
        let err = me.join().await.unwrap_err();
        assert_eq!(err, ThreadError::JoinSelf);
        assert_eq!(err.to_string(), "cannot join current thread");

        // A green thread joining itself.
        let result = Arc::new(std::sync::Mutex::new(None));
        let r = result.clone();
        let t = Thread::new(move || async move {
            let me = current_thread();
            *r.lock().unwrap() = Some(me.join().await);
        });
        t.start().unwrap();
        t.join().await.unwrap();
        assert_eq!(*result.lock().unwrap(), Some(Err(ThreadError::JoinSelf)));
    }
}

rt_test! {
    /// test_daemonize_active_thread, test_daemon_param, test_repr_daemon.
    async fn daemon_flag() {
        let t = Thread::new(|| async {});
        assert!(!t.is_daemon(), "threads made by the main thread are not daemon");
        assert!(!format!("{t}").contains("daemon"));
        t.set_daemon(true).unwrap();
        assert!(t.is_daemon());
        assert!(format!("{t}").contains("daemon"), "{t}");
        t.set_daemon(false).unwrap();
        t.start().unwrap();
        let err = t.set_daemon(true).unwrap_err();
        assert_eq!(err, ThreadError::DaemonAfterStart);
        assert_eq!(err.to_string(), "cannot set daemon status of active thread");
        t.join().await.unwrap();
        assert_eq!(t.set_daemon(true), Err(ThreadError::DaemonAfterStart));
        assert!(!t.is_daemon());

        assert!(Thread::builder().daemon(true).build(|| async {}).is_daemon());
        assert!(!Thread::builder().daemon(false).build(|| async {}).is_daemon());

        // Inherited from the creating thread.
        let inherited = Arc::new(std::sync::Mutex::new(Vec::new()));
        let i = inherited.clone();
        let parent = Thread::builder().daemon(true).build(move || async move {
            let child = Thread::new(|| async {});
            let spawned = spawn(async { current_thread().is_daemon() });
            let spawned_daemon = spawned.await.unwrap();
            i.lock().unwrap().extend([child.is_daemon(), spawned_daemon]);
        });
        parent.start().unwrap();
        parent.join().await.unwrap();
        assert_eq!(*inherited.lock().unwrap(), vec![true, true]);
    }
}

rt_test! {
    /// test_join_with_timeout: a worker blocked on a lock; join(timeout)
    /// returns with the thread alive; after the release it ends.
    async fn join_with_timeout() {
        let lock = Lock::new();
        lock.acquire().await;
        let l = lock.clone();
        let t = Thread::new(move || async move {
            l.acquire().await;
            l.release().unwrap();
        });
        t.start().unwrap();
        let start = Instant::now();
        t.join_timeout(Duration::from_millis(100)).await.unwrap();
        assert_timeout(start, Duration::from_millis(100));
        assert!(t.is_alive());
        lock.release().unwrap();
        let start = Instant::now();
        t.join_timeout(Duration::from_secs(60)).await.unwrap();
        assert!(start.elapsed() < Duration::from_secs(30), "join_timeout returns at the end");
        assert!(!t.is_alive());
    }
}

rt_test! {
    /// Several threads join one thread at once; all return when it ends.
    async fn many_joiners() {
        let go = Event::new();
        let g = go.clone();
        let target = Thread::new(move || async move { g.wait().await; });
        target.start().unwrap();
        let joined = Arc::new(AtomicUsize::new(0));
        let mut joiners = Vec::new();
        for _ in 0..8 {
            let (t, j) = (target.clone(), joined.clone());
            let joiner = Thread::new(move || async move {
                t.join().await.unwrap();
                assert!(!t.is_alive());
                j.fetch_add(1, Ordering::SeqCst);
            });
            joiner.start().unwrap();
            joiners.push(joiner);
        }
        sleep(Duration::from_millis(20)).await;
        assert_eq!(joined.load(Ordering::SeqCst), 0, "nobody returns before the end");
        go.set();
        for j in joiners {
            j.join().await.unwrap();
        }
        assert_eq!(joined.load(Ordering::SeqCst), 8);
    }
}

rt_test! {
    /// §10.17 / test_system_exit: exit() drops the future (guards release),
    /// join() is Ok, and the code after exit() never runs.
    async fn exit_in_thread() {
        let lock = Lock::new();
        let after = Arc::new(AtomicBool::new(false));
        let (l, a) = (lock.clone(), after.clone());
        let t = Thread::new(move || async move {
            let _guard = l.lock().await;
            sleep(Duration::from_millis(1)).await;
            if !a.load(Ordering::SeqCst) {
                exit();
            }
            a.store(true, Ordering::SeqCst);
        });
        t.start().unwrap();
        t.join().await.unwrap();
        assert!(!t.is_alive());
        assert!(!after.load(Ordering::SeqCst));
        assert!(lock.try_acquire(), "the guard was released when exit() dropped the future");
        lock.release().unwrap();
    }
}

rt_test! {
    /// test_no_refcycle_through_target: the target and its captures are
    /// freed once the thread ends (normally, by exit() or by a panic).
    async fn target_freed_at_end() {
        for how in 0..3 {
            let captured = Arc::new(());
            let c = captured.clone();
            let t = Thread::new(move || async move {
                let _c = c;
                sleep(Duration::from_millis(1)).await;
                match how {
                    0 => {}
                    1 => exit(),
                    _ => std::panic::resume_unwind(Box::new("quiet panic")),
                }
            });
            t.start().unwrap();
            t.join().await.unwrap();
            assert_eq!(Arc::strong_count(&captured), 1, "case {how}: captures leaked");
            drop(t);
        }
        // A thread that is never started still owns its target until dropped.
        let captured = Arc::new(());
        let c = captured.clone();
        let t = Thread::new(move || async move { drop(c) });
        assert_eq!(Arc::strong_count(&captured), 2);
        drop(t);
        assert_eq!(Arc::strong_count(&captured), 1);
    }
}

struct Adder {
    total: Arc<AtomicUsize>,
    n: usize,
}

impl Target for Adder {
    async fn run(self) {
        for _ in 0..self.n {
            self.total.fetch_add(1, Ordering::SeqCst);
            greenthread::yield_now().await;
        }
    }
}

rt_test! {
    /// A `Target` type is Python's subclass overriding `run()`.
    async fn target_type() {
        let total = Arc::new(AtomicUsize::new(0));
        let threads: Vec<Thread> = (0..4)
            .map(|_| Thread::new(Adder { total: total.clone(), n: 25 }))
            .collect();
        for t in &threads {
            t.start().unwrap();
        }
        for t in &threads {
            t.join().await.unwrap();
        }
        assert_eq!(total.load(Ordering::SeqCst), 100);
    }
}

rt_test! {
    /// spawn: typed result, a panic becomes the JoinError, the thread is a
    /// Thread visible in enumerate().
    async fn spawn_handles() {
        let go = Event::new();
        let g = go.clone();
        let h = spawn(async move {
            g.wait().await;
            current_thread().ident()
        });
        let t = h.thread().clone();
        assert!(t.is_alive());
        assert!(enumerate().contains(&t));
        assert!(!h.is_finished());
        go.set();
        let ident = h.await.unwrap();
        assert_eq!(ident, t.ident());
        assert!(!t.is_alive());

        let h = spawn(async {
            sleep(Duration::from_millis(1)).await;
            if true {
                panic!("spawned boom");
            }
            5u8
        });
        let err = h.await.unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.panic_message(), Some("spawned boom"));
        assert!(err.to_string().contains("spawned boom"), "{err}");

        let h = Thread::builder().name("named-spawn").spawn(async { current_thread().name() });
        assert_eq!(h.thread().name(), "named-spawn");
        assert_eq!(h.await.unwrap(), "named-spawn");

        // A dropped handle detaches: the thread still runs.
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        drop(spawn(async move { r.store(true, Ordering::SeqCst) }));
        assert!(wait_until(Duration::from_secs(10), || ran.load(Ordering::SeqCst)).await);
    }
}

rt_test! {
    /// test_ident_of_no_threading_threads: a start_new_thread thread's
    /// current_thread().ident() is the ident start_new_thread returned.
    async fn start_new_thread_ident() {
        let seen = Arc::new(std::sync::Mutex::new(None));
        let s = seen.clone();
        let ident = greenthread::thread::start_new_thread(move || async move {
            *s.lock().unwrap() = Some((current_thread().ident(), greenthread::thread::get_ident()));
        });
        assert_ne!(ident, 0);
        assert!(wait_until(Duration::from_secs(10), || seen.lock().unwrap().is_some()).await);
        assert_eq!(*seen.lock().unwrap(), Some((Some(ident), ident)));
        assert!(current_thread().ident().is_some());
    }
}

rt_test! {
    /// test_leak_without_join: threads never joined still end and leave
    /// the registry.
    async fn leak_without_join() {
        let before = greenthread::active_count();
        for _ in 0..20 {
            Thread::new(|| async { sleep(Duration::from_millis(1)).await }).start().unwrap();
        }
        assert!(wait_until(Duration::from_secs(10), || greenthread::active_count() == before).await);
    }
}

rt_test! {
    /// §10.2: the exact Display forms.
    async fn display_forms() {
        let t = Thread::builder().name("w").build(|| async { sleep(Duration::from_millis(30)).await });
        assert_eq!(format!("{t}"), "<Thread(w, initial)>");
        let d = Thread::builder().name("x").daemon(true).build(|| async {});
        assert_eq!(format!("{d}"), "<Thread(x, initial daemon)>");
        t.start().unwrap();
        let id = t.ident().unwrap();
        assert_eq!(format!("{t}"), format!("<Thread(w, started {id})>"));
        t.join().await.unwrap();
        assert_eq!(format!("{t}"), format!("<Thread(w, stopped {id})>"));
        d.start().unwrap();
        let did = d.ident().unwrap();
        d.join().await.unwrap();
        assert_eq!(format!("{d}"), format!("<Thread(x, stopped daemon {did})>"));
        let main = greenthread::main_thread();
        let mid = main.ident().unwrap();
        assert_eq!(format!("{main}"), format!("<_MainThread(MainThread, started {mid})>"));
        assert_eq!(format!("{main:?}"), format!("{main}"));
    }
}

rt_test! {
    /// "stopped" shows as soon as the thread ends, with no join.
    async fn stopped_without_join() {
        let t = Thread::builder().name("s").build(|| async {});
        t.start().unwrap();
        assert!(wait_until(Duration::from_secs(10), || !t.is_alive()).await);
        assert!(format!("{t}").starts_with("<Thread(s, stopped "), "{t}");
    }
}

/// §10.10: with workers(1) every green thread reports the same native_id,
/// and it is not the OS thread driving the main future.
#[test]
fn green_threads_run_on_workers_only() {
    let rt = Runtime::builder()
        .mode(Mode::Green)
        .workers(1)
        .build()
        .unwrap();
    let (main_tid, ids) = rt.block_on(async {
        let main_tid = greenthread::get_native_id();
        let mut ids = Vec::new();
        for _ in 0..20 {
            let h = spawn(async {
                let a = greenthread::get_native_id();
                sleep(Duration::from_millis(1)).await;
                (
                    a,
                    greenthread::get_native_id(),
                    current_thread().native_id(),
                )
            });
            ids.push(h.await.unwrap());
        }
        (main_tid, ids)
    });
    let first = ids[0].0;
    assert_ne!(first, main_tid, "a green thread ran on the block_on thread");
    for (a, b, c) in ids {
        assert_eq!((a, b, c), (first, first, Some(first)));
    }
}

/// §10.11: in OS-thread mode each Thread has its own OS thread carrying its
/// name.
#[test]
fn os_mode_thread_names_and_ids() {
    let rt = Runtime::builder().mode(Mode::OsThreads).build().unwrap();
    rt.block_on(async {
        let main_tid = greenthread::get_native_id();
        let h1 = Thread::builder().name("os-named").spawn(async {
            (
                std::thread::current().name().map(String::from),
                greenthread::get_native_id(),
            )
        });
        let h2 = spawn(async { greenthread::get_native_id() });
        let (name, tid1) = h1.await.unwrap();
        let tid2 = h2.await.unwrap();
        assert_eq!(name.as_deref(), Some("os-named"));
        assert_ne!(tid1, tid2);
        assert_ne!(tid1, main_tid);
    });
}

/// §10.12: stack_size validation; used by OS-thread mode.
#[test]
fn stack_size_setting() {
    assert!(stack_size(Some(1)).is_err());
    let err = stack_size(Some(32 * 1024 - 1)).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("size not valid"), "{err}");
    // A large size (harmless for the other tests running meanwhile).
    let big = 16 * 1024 * 1024;
    let prev = stack_size(Some(big)).unwrap();
    assert_eq!(prev, 0, "initially 0");
    assert_eq!(stack_size(None).unwrap(), big);
    let rt = Runtime::builder().mode(Mode::OsThreads).build().unwrap();
    rt.block_on(async {
        // Deep-ish recursion that needs more than a tiny stack works.
        let h = spawn(async {
            fn depth(n: u32) -> u32 {
                let buf = [n as u8; 512];
                if n == 0 {
                    buf[0] as u32
                } else {
                    depth(n - 1) + std::hint::black_box(buf)[1] as u32
                }
            }
            depth(2000)
        });
        assert!(h.await.is_ok());
    });
    drop(rt);
    assert_eq!(stack_size(Some(0)).unwrap(), big);
    assert_eq!(stack_size(None).unwrap(), 0);
}

/// Calls `start_new_thread` when dropped, recording its outcome.
struct StartOnDrop(Arc<std::sync::Mutex<Option<Result<u64, String>>>>);

impl Drop for StartOnDrop {
    fn drop(&mut self) {
        assert_eq!(
            greenthread::thread::try_start_new_thread(|| async {}),
            Err(greenthread::ThreadError::ShuttingDown)
        );
        let r = std::panic::catch_unwind(|| greenthread::thread::start_new_thread(|| async {}));
        *self.0.lock().unwrap() = Some(r.map_err(|p| {
            match p.downcast::<String>() {
                Ok(s) => *s,
                Err(p) => p
                    .downcast::<&str>()
                    .map_or_else(|_| "?".into(), |s| s.to_string()),
            }
        }));
    }
}

rt_test! {
    /// Issue 9: `start_new_thread` raises (panics, as Python raises
    /// RuntimeError) when the thread cannot start, instead of returning 0, and
    /// `try_start_new_thread` returns the error: here from a daemon's
    /// destructor while its runtime shuts down.
    fn start_new_thread_fails_at_shutdown(kind) {
        let outcome = Arc::new(std::sync::Mutex::new(None));
        let o = outcome.clone();
        support::run_with(kind, || async move {
            let started = Arc::new(AtomicBool::new(false));
            let s = started.clone();
            let g = StartOnDrop(o);
            Thread::builder()
                .daemon(true)
                .build(move || async move {
                    let _g = g;
                    s.store(true, Ordering::SeqCst);
                    sleep(Duration::from_secs(3600)).await;
                })
                .start()
                .unwrap();
            assert!(wait_until(Duration::from_secs(30), || started.load(Ordering::SeqCst)).await);
        });
        let r = outcome.lock().unwrap().take();
        assert_eq!(
            r,
            Some(Err(
                "can't create new thread at interpreter shutdown".to_string()
            )),
            "{kind}"
        );
    }
}

rt_test! {
    /// A spawned thread's state lives in its task: handles to it, made by
    /// `spawn`, inside it by `current_thread()`, and cloned across threads,
    /// stay valid after the thread ended and its `JoinHandle` is gone,
    /// dropped in any order on any thread.
    async fn a_spawned_thread_outlives_its_handle_and_its_end() {
        let h = spawn(async { current_thread() });
        let t = h.thread().clone();
        let ident = t.ident().expect("started");
        let inside = h.await.unwrap();
        assert_eq!(inside, t, "current_thread() is the spawned thread");
        assert!(!t.is_alive());
        assert_eq!(inside.ident(), Some(ident));
        drop(t);
        assert!(format!("{inside}").contains("stopped"), "{inside}");
        // Many threads, each keeping handles to the others' threads and
        // dropping them at different times.
        let go = Event::new();
        let handles: Vec<_> = (0..64)
            .map(|i| {
                let go = go.clone();
                spawn(async move {
                    go.wait().await;
                    for _ in 0..i % 4 {
                        sleep(Duration::from_millis(1)).await;
                    }
                    current_thread()
                })
            })
            .collect();
        let threads: Vec<Thread> = handles.iter().map(|h| h.thread().clone()).collect();
        let keepers: Vec<_> = (0..8)
            .map(|k| {
                let mine: Vec<Thread> = threads.iter().skip(k).step_by(8).cloned().collect();
                spawn(async move {
                    sleep(Duration::from_millis(k as u64)).await;
                    mine.iter().filter(|t| t.ident().is_some()).count()
                })
            })
            .collect();
        go.set();
        let mut ended = Vec::new();
        for (h, t) in handles.into_iter().zip(&threads) {
            assert_eq!(&h.await.unwrap(), t);
            ended.push(t.clone());
        }
        drop(threads);
        let mut kept = 0;
        for k in keepers {
            kept += k.await.unwrap();
        }
        assert_eq!(kept, 64);
        assert!(ended.iter().all(|t| !t.is_alive() && t.name().starts_with("Thread-")));
    }
}
