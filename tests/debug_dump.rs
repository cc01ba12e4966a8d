//! `greenthread::debug::dump()` (SPEC §11, meaning 1): every kind of wait
//! shows its `WaitingOn` (the `_timeout` forms the same as the plain ones),
//! a busy thread shows `Running` and never blocks the dump, primitive ids
//! are shared by clones and distinct between primitives, the text and JSON
//! forms, and grouping above 1000 threads. In every runtime kind.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use greenthread::debug::{self, ThreadInfo, ThreadState, WaitingOn};
use greenthread::queue::Queue;
use greenthread::{Barrier, Condition, Event, Lock, RLock, Semaphore, Thread};
use support::wait_until;

use support::start_daemon as start;

/// The thread `t` in a fresh dump (by ident: the runtime kinds run side
/// by side with the same names).
fn find(t: &Thread) -> Option<ThreadInfo> {
    let ident = t.ident()?;
    debug::dump()
        .threads()
        .iter()
        .find(|i| i.ident == Some(ident))
        .cloned()
}

/// Waits (up to 10 s) until `t`'s state satisfies `pred`.
async fn state_of(t: &Thread, pred: impl Fn(&ThreadState) -> bool) -> ThreadInfo {
    let mut last = None;
    let ok = wait_until(Duration::from_secs(10), || {
        last = find(t);
        last.as_ref().is_some_and(|i| pred(&i.state))
    })
    .await;
    assert!(
        ok,
        "{} never reached the expected state: {last:?}",
        t.name()
    );
    last.unwrap()
}

/// Waits until `t` waits.
async fn waits(t: &Thread) -> WaitingOn {
    // (In GIL mode a thread first waits for the GIL.)
    waiting(
        &state_of(
            t,
            |s| matches!(s, ThreadState::Waiting(w) if *w != WaitingOn::Gil),
        )
        .await,
    )
}

fn waiting(t: &ThreadInfo) -> WaitingOn {
    match &t.state {
        ThreadState::Waiting(w) => w.clone(),
        other => panic!("{} is not waiting: {other:?}", t.name),
    }
}

rt_test! {
    async fn lock_shows_its_holder() {
        let lock = Lock::new();
        lock.acquire().await;
        let l2 = lock.clone();
        let t = start("dd-lock", async move { l2.acquire().await; l2.release().unwrap(); });
        waits(&t).await;
        let info = find(&t).unwrap();
        let me = greenthread::get_ident();
        match waiting(&info) {
            WaitingOn::Lock { holder, .. } => assert_eq!(holder, Some(me)),
            other => panic!("expected a Lock wait, got {other:?}"),
        }
        assert!(info.waited.is_some());
        assert_eq!(info.class, "Thread");
        assert!(info.daemon);
        lock.release().unwrap();
        t.join().await.unwrap();
        assert!(find(&t).is_none(), "a joined thread leaves the dump");
    }
}

rt_test! {
    async fn timeout_forms_show_the_same_wait() {
        let lock = Lock::new();
        lock.acquire().await;
        let (a, b) = (lock.clone(), lock.clone());
        let t1 = start("dd-plain", async move { a.acquire().await; a.release().unwrap(); });
        let t2 = start("dd-timed", async move {
            if b.acquire_timeout(Duration::from_secs(30)).await {
                b.release().unwrap();
            }
        });
        let p = waits(&t1).await;
        let q = waits(&t2).await;
        assert_eq!(p, q);
        // And under `timeout(d, ..)`.
        let c = lock.clone();
        let t3 = start("dd-wrapped", async move {
            if greenthread::timeout(Duration::from_secs(30), c.acquire()).await.is_ok() {
                c.release().unwrap();
            }
        });
        assert_eq!(p, waits(&t3).await);
        lock.release().unwrap();
        for t in [t1, t2, t3] {
            t.join().await.unwrap();
        }
    }
}

rt_test! {
    async fn every_primitive_shows_its_kind() {
        let rlock = RLock::new();
        rlock.acquire().await;
        let cond = Condition::new();
        let sem = Semaphore::new(0);
        let ev = Event::new();
        let barrier = Barrier::new(2);
        let q: Queue<u8> = Queue::new(0);
        let stop = Event::new();
        let mut ts = Vec::new();
        {
            let r = rlock.clone();
            ts.push(start("dd-rlock", async move { r.acquire().await; r.release().unwrap(); }));
        }
        {
            let c = cond.clone();
            ts.push(start("dd-cond", async move {
                let _g = c.lock().await;
                let _ = c.wait_timeout(Duration::from_secs(30)).await;
            }));
        }
        {
            let s = sem.clone();
            ts.push(start("dd-sem", async move { s.acquire().await; }));
        }
        {
            let e = ev.clone();
            ts.push(start("dd-event", async move { e.wait().await; }));
        }
        {
            let b = barrier.clone();
            ts.push(start("dd-barrier", async move { let _ = b.wait().await; }));
        }
        {
            let q = q.clone();
            ts.push(start("dd-queue", async move { let _ = q.get().await; }));
        }
        {
            let s = stop.clone();
            ts.push(start("dd-sleep", async move {
                let _ = greenthread::timeout(Duration::from_secs(30), s.wait()).await;
                greenthread::sleep(Duration::from_millis(1)).await;
            }));
        }
        {
            let s = stop.clone();
            ts.push(start("dd-sleeper", async move {
                while !s.is_set() {
                    greenthread::sleep(Duration::from_millis(20)).await;
                }
            }));
        }
        let joined = ts[3].clone();
        ts.push(start("dd-join", async move { joined.join().await.unwrap(); }));
        ts.push(start("dd-other", async move {
            futures::future::pending::<()>().await;
        }));
        let me = greenthread::get_ident();
        assert!(matches!(waits(&ts[0]).await, WaitingOn::RLock { owner: Some(o), .. } if o == me));
        assert!(matches!(waits(&ts[1]).await, WaitingOn::Condition { .. }));
        assert!(matches!(waits(&ts[2]).await, WaitingOn::Semaphore { .. }));
        assert!(matches!(waits(&ts[3]).await, WaitingOn::Event { .. }));
        assert!(matches!(waits(&ts[4]).await, WaitingOn::Barrier { .. }));
        assert!(matches!(waits(&ts[5]).await, WaitingOn::Queue { .. }));
        assert!(
            matches!(waits(&ts[6]).await, WaitingOn::Event { .. }),
            "a wait under timeout() keeps its kind"
        );
        let sleeper = state_of(&ts[7], |s| s == &ThreadState::Waiting(WaitingOn::Sleep)).await;
        assert!(sleeper.waited.is_some());
        let ident = ts[3].ident().unwrap();
        assert_eq!(waits(&ts[8]).await, WaitingOn::Join { ident });
        assert_eq!(waits(&ts[9]).await, WaitingOn::Other);
        // Release everyone (the `other` thread is a daemon, dropped at shutdown).
        rlock.release().unwrap();
        {
            let _g = cond.lock().await;
            cond.notify_all().unwrap();
        }
        sem.release(1);
        ev.set();
        let b = barrier.clone();
        b.wait().await.unwrap();
        q.put(1).await.unwrap();
        stop.set();
        let other = ts.pop().unwrap();
        for t in ts {
            t.join().await.unwrap();
        }
        assert!(other.is_alive());
    }
}

rt_test! {
    async fn ids_are_shared_by_clones_and_distinct() {
        let a = Event::new();
        let b = Event::new();
        let (a1, a2, b1) = (a.clone(), a.clone(), b.clone());
        let t1 = start("dd-id-a1", async move { a1.wait().await; });
        let t2 = start("dd-id-a2", async move { a2.wait().await; });
        let t3 = start("dd-id-b", async move { b1.wait().await; });
        let x = waits(&t1).await;
        let y = waits(&t2).await;
        let z = waits(&t3).await;
        assert_eq!(x, y, "clones share one id");
        assert_ne!(x, z, "two events have two ids");
        // Stable: the same in a later dump.
        assert_eq!(waiting(&find(&t1).unwrap()), x);
        a.set();
        b.set();
        for t in [t1, t2, t3] {
            t.join().await.unwrap();
        }
    }
}

rt_test! {
    async fn a_busy_thread_shows_running_and_never_blocks_the_dump() {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let t = start("dd-busy", async move {
            // No switch point until told (or 20 s, so a failure cannot hang).
            let start = Instant::now();
            while !s.load(Ordering::Relaxed) && start.elapsed() < Duration::from_secs(20) {
                std::hint::spin_loop();
            }
        });
        // From a plain OS thread: in GIL mode or on one worker the busy
        // thread keeps every green thread (main included) from running.
        let s = stop.clone();
        let ident = t.ident();
        let watcher = std::thread::spawn(move || {
            let start = Instant::now();
            let mut seen = None;
            while start.elapsed() < Duration::from_secs(15) {
                let d = debug::dump();
                if let Some(t) = d.threads().iter().find(|t| t.ident == ident) {
                    if t.state == ThreadState::Running {
                        seen = Some(start.elapsed());
                        break;
                    }
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            s.store(true, Ordering::Relaxed);
            seen
        });
        t.join().await.unwrap();
        let seen = watcher.join().unwrap();
        assert!(seen.is_some(), "the busy thread was never shown Running");
        assert!(seen.unwrap() < Duration::from_secs(15));
    }
}

rt_test! {
    async fn text_and_json_forms() {
        let ev = Event::new();
        let e = ev.clone();
        let t = start("dd \"quoted\"\nname", async move { e.wait().await; });
        waits(&t).await;
        let d = debug::dump();
        assert_eq!(d.threads()[0].class, "_MainThread", "main threads first");
        let text = d.to_string();
        assert!(text.contains("greenthread thread dump"), "{text}");
        assert!(text.contains("mode"), "{text}");
        assert!(text.contains("GIL"), "{text}");
        assert!(text.contains("waiting on Event #"), "{text}");
        let json = d.to_json();
        assert!(json.starts_with("{\"runtimes\":["), "{json}");
        assert!(json.ends_with("]}"), "{json}");
        assert!(json.contains("\"name\":\"dd \\\"quoted\\\"\\u000aname\""), "{json}");
        assert!(json.contains("\"kind\":\"event\""), "{json}");
        assert!(json.contains("\"state\":\"waiting\""), "{json}");
        assert!(!json.contains('\n'), "control characters are escaped");
        // Idents increase after the main threads.
        let idents: Vec<u64> = d
            .threads()
            .iter()
            .filter(|t| t.class != "_MainThread")
            .filter_map(|t| t.ident)
            .collect();
        assert!(idents.windows(2).all(|w| w[0] < w[1]), "{idents:?}");
        ev.set();
        t.join().await.unwrap();
    }
}

/// Above 1000 threads in a runtime the text form groups identical states;
/// `threads()` and the JSON keep every thread.
#[test]
fn many_threads_are_grouped() {
    support::run_with("green_n", || async {
        let ev = Event::new();
        let mut ts = Vec::new();
        for i in 0..1500 {
            let e = ev.clone();
            ts.push(start(&format!("dd-many-{i}"), async move {
                e.wait().await;
            }));
        }
        let ok = wait_until(Duration::from_secs(20), || {
            debug::dump()
                .threads()
                .iter()
                .filter(|t| t.name.starts_with("dd-many-"))
                .filter(|t| matches!(t.state, ThreadState::Waiting(WaitingOn::Event { .. })))
                .count()
                == 1500
        })
        .await;
        assert!(ok, "the 1500 threads never all waited");
        let d = debug::dump();
        let text = d.to_string();
        assert!(
            text.contains("grouped by state"),
            "{}",
            &text[..text.len().min(2000)]
        );
        assert!(
            text.contains("1500 threads, Thread daemon:"),
            "{}",
            &text[..text.len().min(2000)]
        );
        assert!(text.lines().count() < 200, "grouped text stays short");
        assert_eq!(d.to_json().matches("\"name\":\"dd-many-").count(), 1500);
        ev.set();
        for t in ts {
            t.join().await.unwrap();
        }
    });
}
