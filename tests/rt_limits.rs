//! Resource limits of the runtime (SPEC §10.23, §10.24): the worker count's
//! maximum, OS threads the OS would refuse, and thread names the OS cannot
//! carry.

mod support;

use std::io;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use greenthread::{Event, Mode, Runtime, Thread, ThreadError, TraceEvent, MAX_WORKERS};

/// Builds `b`, expecting `InvalidInput` at once (no per-worker work first).
fn expect_too_many(b: greenthread::Builder, what: &str) {
    let start = Instant::now();
    let err = match b.build() {
        Ok(_) => panic!("{what} must be rejected"),
        Err(e) => e,
    };
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{what}: {err}");
    assert!(
        err.to_string().contains(&MAX_WORKERS.to_string()),
        "{what}: the message {err:?} should state the maximum"
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{what}: rejected only after {:?}",
        start.elapsed()
    );
}

#[test]
fn workers_above_the_maximum_are_an_error() {
    for mode in [Mode::Green, Mode::OsThreads] {
        for n in [MAX_WORKERS + 1, 100_000, usize::MAX / 2 + 1, usize::MAX] {
            for stall in [false, true] {
                expect_too_many(
                    Runtime::builder()
                        .mode(mode)
                        .workers(n)
                        .stall_handoff(stall),
                    &format!("{mode:?} workers({n}) stall_handoff({stall})"),
                );
            }
        }
    }
}

#[test]
fn workers_at_the_maximum_build() {
    // The maximum itself is valid (OS-thread mode ignores the count, so no
    // thousand workers start here).
    let rt = Runtime::builder()
        .mode(Mode::OsThreads)
        .workers(MAX_WORKERS)
        .build()
        .expect("workers(MAX_WORKERS) is valid");
    assert_eq!(rt.workers(), MAX_WORKERS);
    assert_eq!(
        rt.block_on(async { greenthread::spawn(async { 7 }).await }),
        Ok(7)
    );
}

#[test]
fn environment_workers_above_the_maximum_name_the_variable() {
    let _serial = support::serial();
    let saved = std::env::var_os("GREENTHREAD_WORKERS");
    for value in ["99999999", &(MAX_WORKERS + 1).to_string()] {
        std::env::set_var("GREENTHREAD_WORKERS", value);
        let start = Instant::now();
        let result = Runtime::new().map(drop);
        let elapsed = start.elapsed();
        match &saved {
            Some(v) => std::env::set_var("GREENTHREAD_WORKERS", v),
            None => std::env::remove_var("GREENTHREAD_WORKERS"),
        }
        let err = result.expect_err("GREENTHREAD_WORKERS above the maximum");
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{value}: {err}");
        assert!(
            err.to_string().contains("GREENTHREAD_WORKERS"),
            "{value}: {err:?} does not name the variable"
        );
        assert!(
            elapsed < Duration::from_secs(5),
            "{value}: rejected only after {elapsed:?}"
        );
    }
}

/// A name with an interior NUL: accepted in every mode; the OS thread (in
/// OS-thread mode) carries the part before the NUL, `name()` the whole.
async fn nul_in_name(os: bool) {
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    let t = Thread::builder().name("ab\0cd").build(move || async move {
        *s.lock().unwrap() = Some(std::thread::current().name().map(String::from));
    });
    t.start().expect("a name with a NUL starts");
    t.join().await.unwrap();
    assert_eq!(t.name(), "ab\0cd");
    let native = seen.lock().unwrap().take().expect("the target ran");
    if os {
        assert_eq!(native.as_deref(), Some("ab"));
    }
    // A name that is only a NUL, renamed before start.
    let t = Thread::new(|| async {});
    t.set_name("\0");
    t.start().expect("a name starting with a NUL starts");
    t.join().await.unwrap();
    assert_eq!(t.name(), "\0");
}

rt_test! {
    /// Serial: the OS-thread kinds build their runtime from the
    /// environment, which the `GREENTHREAD_WORKERS` test changes.
    serial fn interior_nul_in_a_thread_name(kind) {
        let os = kind.starts_with("os");
        support::run_with(kind, || nul_in_name(os));
    }
}

/// The scenario of the OS-thread limit tests, run only in a child process
/// (an abort there fails the parent's test instead of killing the suite):
/// start OS threads that wait until `start()` fails, at most `2 × cap` (or
/// 100,000 without a cap), then check the error and that the threads run.
#[test]
#[ignore = "a child process of os_thread_limit_* only"]
fn os_thread_limit_child() {
    if std::env::var_os("RT_LIMITS_CHILD").is_none() {
        return;
    }
    let cap: Option<usize> = std::env::var("GREENTHREAD_OS_THREADS_MAX")
        .ok()
        .map(|v| v.parse().unwrap());
    // Small stacks: only their mappings matter here.
    greenthread::stack_size(Some(64 * 1024)).unwrap();
    // Every thread's trace events (the hooks are this child's own).
    let events: Arc<Mutex<Vec<(Thread, TraceEvent)>>> = Arc::default();
    let ev = events.clone();
    greenthread::settrace(Arc::new(move |t, e| {
        ev.lock().unwrap().push((t.clone(), e))
    }));
    let rt = Runtime::builder().mode(Mode::OsThreads).build().unwrap();
    rt.block_on(async move {
        let go = Arc::new(Event::new());
        let mut started = Vec::new();
        let bound = cap.map_or(100_000, |c| 2 * c);
        let t0 = Instant::now();
        let err = loop {
            assert!(
                started.len() < bound,
                "{} threads started without an error",
                started.len()
            );
            let g = go.clone();
            // Daemons: a failed assertion must not leave shutdown waiting.
            let t = Thread::builder().daemon(true).build(move || async move {
                g.wait().await;
            });
            match t.start() {
                Ok(()) => started.push(t),
                Err(e) => {
                    assert!(!t.is_alive(), "a thread that failed to start is not alive");
                    assert!(!greenthread::enumerate().contains(&t));
                    break e;
                }
            }
        };
        // The refused thread is back in its initial state, as in Python.
        let refused = {
            let ran = Arc::new(Event::new());
            let r = ran.clone();
            let t = Thread::builder().daemon(true).build(move || async move {
                r.set();
            });
            assert_eq!(t.start(), Err(ThreadError::StartFailed));
            (t, ran)
        };
        let (t, ran) = &refused;
        assert_eq!(t.join().await, Err(ThreadError::NotStarted));
        assert_eq!(t.ident(), None, "a refused thread has no ident");
        assert!(format!("{t}").contains("initial"), "{t}");
        assert!(t.set_daemon(true).is_ok(), "still settable before a start");
        assert!(
            !events.lock().unwrap().iter().any(|(x, _)| x == t),
            "a thread that never started reported trace events"
        );
        let n = started.len();
        assert_eq!(err, ThreadError::StartFailed);
        assert_eq!(err.to_string(), "can't start new thread");
        if let Some(c) = cap {
            assert_eq!(n, c, "the cap is the number of live OS threads");
        }
        // spawn() at the limit: the handle reports the thread never ran.
        assert!(greenthread::spawn(async {}).await.is_err());
        println!(
            "os-limit-child: {n} threads, then {err:?}, in {:?}",
            t0.elapsed()
        );
        go.set();
        for t in &started {
            t.join().await.unwrap();
        }
        // A refused thread may be started again, once a slot is free
        // (CPython sets `_started` only on success).
        let deadline = Instant::now() + Duration::from_secs(20);
        while let Err(e) = t.start() {
            assert_eq!(e, ThreadError::StartFailed);
            assert!(
                Instant::now() < deadline,
                "no slot came back after the joins"
            );
            greenthread::sleep(Duration::from_millis(10)).await;
        }
        t.join().await.unwrap();
        assert!(ran.is_set(), "the restarted thread ran its target");
        assert_eq!(t.start(), Err(ThreadError::AlreadyStarted));
        let seen: Vec<TraceEvent> = events
            .lock()
            .unwrap()
            .iter()
            .filter(|(x, _)| x == t)
            .map(|(_, e)| *e)
            .collect();
        assert_eq!(seen.first(), Some(&TraceEvent::Start), "{seen:?}");
        assert_eq!(seen.last(), Some(&TraceEvent::Exit), "{seen:?}");
        // The slots come back as the OS threads exit.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let t = Thread::new(|| async {});
            if t.start().is_ok() {
                t.join().await.unwrap();
                break;
            }
            assert!(
                Instant::now() < deadline,
                "no slot came back after the joins"
            );
            greenthread::sleep(Duration::from_millis(10)).await;
        }
        println!("os-limit-child: ok");
    });
}

/// Runs `os_thread_limit_child` in a child process with `cap` (if any),
/// bounded by `limit`; returns its stdout.
fn run_child(cap: Option<usize>, limit: Duration) -> String {
    let exe = std::env::current_exe().unwrap();
    let mut cmd = Command::new(exe);
    cmd.args([
        "--exact",
        "os_thread_limit_child",
        "--ignored",
        "--nocapture",
    ])
    .env("RT_LIMITS_CHILD", "1")
    .env_remove("GREENTHREAD_MODE")
    // Another test sets it in this process for a moment.
    .env_remove("GREENTHREAD_WORKERS")
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    match cap {
        Some(c) => cmd.env("GREENTHREAD_OS_THREADS_MAX", c.to_string()),
        None => cmd.env_remove("GREENTHREAD_OS_THREADS_MAX"),
    };
    let mut child = cmd.spawn().unwrap();
    // Drained as it comes, so a full pipe never blocks the child.
    let drain = |r: Option<Box<dyn std::io::Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut s);
            }
            s
        })
    };
    let out = drain(child.stdout.take().map(|r| Box::new(r) as _));
    let err = drain(child.stderr.take().map(|r| Box::new(r) as _));
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the child did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let stdout = out.join().unwrap();
    let stderr = err.join().unwrap();
    assert!(
        status.success() && stdout.contains("os-limit-child: ok"),
        "child failed ({status}):\n{stdout}\n{stderr}"
    );
    stdout
}

#[test]
fn os_thread_limit_gives_a_clean_error() {
    let out = run_child(Some(200), Duration::from_secs(60));
    assert!(out.contains("os-limit-child: 200 threads"), "{out}");
}

/// The real limit (about 14,000 threads with the default
/// `vm.max_map_count`): by hand, `cargo test --test rt_limits -- --ignored
/// os_thread_limit_uncapped --nocapture`.
#[test]
#[ignore = "starts OS threads up to the real limit; run by hand"]
fn os_thread_limit_uncapped() {
    let out = run_child(None, Duration::from_secs(300));
    println!("{out}");
}
