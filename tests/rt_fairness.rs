//! Fairness with one worker (SPEC §6, §10.14): a thread that keeps finding
//! everything ready — looping on `yield_now`, `checkpoint`, an always-set
//! `Event`, an uncontended `Lock`, a non-empty `Queue` — cannot starve a
//! sleeping thread, and `yield_now` lets the other runnable threads run.
//!
//! Each spinner loops until the sleeper has run (so a starved sleeper would
//! hang it); the main thread, which never runs on the worker, watches with
//! a generous deadline so a failure is a failed assertion, not a hang.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use greenthread::queue::Queue;
use greenthread::{checkpoint, sleep, yield_now, Event, Lock, Mode, Runtime, Thread};

type Spin = Box<dyn Fn() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync>;

/// Runs, on one worker, a spinner doing `step` until a sleeper (10 ms
/// sleep) has run, and checks that the sleeper ran within the deadline.
fn sleeper_not_starved(what: &str, gil: bool, step: Spin) {
    let rt = Runtime::builder()
        .mode(Mode::Green)
        .workers(1)
        .gil(gil)
        .build()
        .unwrap();
    rt.block_on(async {
        let slept = Arc::new(AtomicBool::new(false));
        let spins = Arc::new(AtomicUsize::new(0));
        let (s, n) = (slept.clone(), spins.clone());
        // Daemon: if the sleeper is starved, shutdown drops the spinner.
        let spinner = Thread::builder().daemon(true).build(move || async move {
            while !s.load(Ordering::SeqCst) {
                step().await;
                n.fetch_add(1, Ordering::Relaxed);
            }
        });
        spinner.start().unwrap();
        let s = slept.clone();
        let sleeper = Thread::new(move || async move {
            sleep(Duration::from_millis(10)).await;
            s.store(true, Ordering::SeqCst);
        });
        let start = Instant::now();
        sleeper.start().unwrap();
        sleeper.join_timeout(Duration::from_secs(20)).await.unwrap();
        assert!(
            !sleeper.is_alive(),
            "{what}: the sleeper was starved for {:?} ({} spins)",
            start.elapsed(),
            spins.load(Ordering::Relaxed)
        );
        spinner.join_timeout(Duration::from_secs(20)).await.unwrap();
        assert!(!spinner.is_alive(), "{what}: spinner did not stop");
        assert!(
            spins.load(Ordering::Relaxed) > 0,
            "{what}: the spinner never ran"
        );
    });
}

fn spins() -> Vec<(&'static str, Spin)> {
    let event = Event::new();
    event.set();
    let lock = Lock::new();
    let queue: Queue<u32> = Queue::new(0);
    queue.put_nowait(1).unwrap();
    vec![
        (
            "yield_now",
            Box::new(|| Box::pin(yield_now()) as Pin<Box<dyn Future<Output = ()> + Send>>) as Spin,
        ),
        ("checkpoint", Box::new(|| Box::pin(checkpoint()))),
        (
            "Event::wait (always set)",
            Box::new(move || {
                let e = event.clone();
                Box::pin(async move {
                    e.wait().await;
                })
            }),
        ),
        (
            "uncontended Lock",
            Box::new(move || {
                let l = lock.clone();
                Box::pin(async move {
                    l.acquire().await;
                    l.release().unwrap();
                })
            }),
        ),
        (
            "non-empty Queue get/put",
            Box::new(move || {
                let q = queue.clone();
                Box::pin(async move {
                    let v = q.get().await.unwrap();
                    q.put(v).await.unwrap();
                })
            }),
        ),
    ]
}

#[test]
fn always_ready_work_cannot_starve_a_sleeper() {
    for (what, spin) in spins() {
        sleeper_not_starved(what, false, spin);
    }
}

#[test]
fn always_ready_work_cannot_starve_a_sleeper_gil() {
    for (what, spin) in spins() {
        sleeper_not_starved(what, true, spin);
    }
}

/// yield_now goes to the back of the run queue: with one worker, runnable
/// threads that keep yielding take turns (no thread runs many rounds in a
/// row while the others wait).
#[test]
fn yield_now_round_robin() {
    let rt = Runtime::builder()
        .mode(Mode::Green)
        .workers(1)
        .build()
        .unwrap();
    let log = rt.block_on(async {
        let log = Arc::new(Mutex::new(Vec::new()));
        let go = Event::new();
        // The property is about threads that are all runnable: `set` wakes
        // them one by one from the main OS thread, and the first can yield
        // many times before the last is woken. So each first waits (yielding)
        // until all three run.
        let running = Arc::new(AtomicUsize::new(0));
        let threads: Vec<Thread> = (0..3u8)
            .map(|id| {
                let (log, go, running) = (log.clone(), go.clone(), running.clone());
                Thread::new(move || async move {
                    go.wait().await;
                    running.fetch_add(1, Ordering::SeqCst);
                    while running.load(Ordering::SeqCst) < 3 {
                        yield_now().await;
                    }
                    for _ in 0..50 {
                        log.lock().unwrap().push(id);
                        yield_now().await;
                    }
                })
            })
            .collect();
        for t in &threads {
            t.start().unwrap();
        }
        sleep(Duration::from_millis(10)).await;
        go.set();
        for t in &threads {
            t.join().await.unwrap();
        }
        let log = log.lock().unwrap().clone();
        log
    });
    assert_eq!(log.len(), 150);
    // The longest run of one thread while the others still had work.
    let mut longest = 0;
    let mut run = 0;
    let mut prev = None;
    let mut remaining = [50usize; 3];
    for &id in &log {
        let others_busy = remaining
            .iter()
            .enumerate()
            .any(|(i, &r)| i != id as usize && r > 0);
        run = if prev == Some(id) { run + 1 } else { 1 };
        if others_busy {
            longest = longest.max(run);
        }
        remaining[id as usize] -= 1;
        prev = Some(id);
    }
    assert!(
        longest <= 2,
        "a yielding thread ran {longest} times in a row: {log:?}"
    );
}

/// Two threads waking each other in a ping-pong cannot keep a third,
/// runnable thread off the single worker (the LIFO slot is capped).
#[test]
fn ping_pong_does_not_starve_others() {
    let rt = Runtime::builder()
        .mode(Mode::Green)
        .workers(1)
        .build()
        .unwrap();
    rt.block_on(async {
        let stop = Arc::new(AtomicBool::new(false));
        let ping: Queue<u32> = Queue::new(0);
        let pong: Queue<u32> = Queue::new(0);
        let mut players = Vec::new();
        for (rx, tx) in [(ping.clone(), pong.clone()), (pong.clone(), ping.clone())] {
            let stop = stop.clone();
            let t = Thread::builder().daemon(true).build(move || async move {
                while !stop.load(Ordering::SeqCst) {
                    let v = rx.get().await.unwrap();
                    tx.put(v + 1).await.unwrap();
                }
            });
            t.start().unwrap();
            players.push(t);
        }
        ping.put(0).await.unwrap();
        let s = stop.clone();
        let third = Thread::new(move || async move {
            // Runnable (not sleeping): a yield loop of 20 rounds.
            for _ in 0..20 {
                yield_now().await;
            }
            s.store(true, Ordering::SeqCst);
        });
        third.start().unwrap();
        third.join_timeout(Duration::from_secs(20)).await.unwrap();
        assert!(
            !third.is_alive(),
            "the ping-pong pair starved a runnable thread"
        );
    });
}

/// Stall hand-off: with one worker hogged for 2 s by a thread that never
/// reaches a switch point, a sleeping thread still runs on time on a spare
/// worker. (Without hand-off its first sleep would end ~2 s late.)
#[test]
fn stall_handoff_keeps_sleepers_running_beside_a_hog() {
    let rt = Runtime::builder()
        .mode(Mode::Green)
        .workers(1)
        .stall_handoff(true)
        .build()
        .unwrap();
    let worst = rt.block_on(async {
        let sleeper = greenthread::spawn(async {
            let mut worst = Duration::ZERO;
            for _ in 0..40 {
                let start = Instant::now();
                sleep(Duration::from_millis(2)).await;
                worst = worst.max(start.elapsed());
            }
            worst
        });
        // The sleeper is in its loop before the hog takes the only worker.
        sleep(Duration::from_millis(10)).await;
        let hog = greenthread::spawn(async {
            let end = Instant::now() + Duration::from_secs(2);
            while Instant::now() < end {
                std::hint::spin_loop();
            }
        });
        let worst = sleeper.await.unwrap();
        hog.await.unwrap();
        worst
    });
    // Without the hand-off the sleep would wait out the hog (2 s); the
    // bound leaves room for a loaded machine.
    assert!(
        worst < Duration::from_secs(1),
        "a 2 ms sleep took {worst:?} beside a 2 s hog"
    );
}
