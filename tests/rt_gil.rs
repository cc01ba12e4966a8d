//! GIL mode (SPEC §5): CPU-bound threads that call `checkpoint()` never
//! run at the same time and all finish; sleeping threads still overlap; the
//! GIL is handed over fairly (a waiter gets it within about a switch
//! interval); `set_switch_interval(ZERO)` is an error. In Green (several
//! workers) and OS-thread mode.
//!
//! The switch interval is process-wide: only `switch_interval_setting`
//! changes it (restoring the default), and every test holds `SERIAL`.
//! Busy loops are bounded in time, so an unfair GIL fails an assertion
//! instead of hanging.

mod support;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use greenthread::{checkpoint, gil, sleep, Mode, Runtime, Thread};

use support::serial;

/// Upper bound of every busy loop here.
const SPIN_LIMIT: Duration = Duration::from_secs(10);

fn gil_runtimes() -> Vec<(&'static str, Runtime)> {
    vec![
        (
            "green_2",
            Runtime::builder()
                .mode(Mode::Green)
                .workers(2)
                .gil(true)
                .build()
                .unwrap(),
        ),
        (
            "green_4",
            Runtime::builder()
                .mode(Mode::Green)
                .workers(4)
                .gil(true)
                .build()
                .unwrap(),
        ),
        (
            "os",
            Runtime::builder()
                .mode(Mode::OsThreads)
                .gil(true)
                .build()
                .unwrap(),
        ),
    ]
}

/// Some CPU work the optimizer cannot remove.
fn work(n: u64) -> u64 {
    let mut x = n;
    for i in 0..200 {
        x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(i));
    }
    x
}

/// CPU-bound threads under the GIL: an "inside" counter never exceeds 1,
/// every thread finishes, and the GIL does change hands (they take turns,
/// not one after another).
#[test]
fn cpu_bound_threads_never_overlap() {
    let _s = serial();
    for (kind, rt) in gil_runtimes() {
        let switches_before = rt.gil_switches();
        let (overlaps, finished, interleaved) = rt.block_on(async {
            assert!(gil::enabled());
            let inside = Arc::new(AtomicUsize::new(0));
            let overlaps = Arc::new(AtomicUsize::new(0));
            let finished = Arc::new(AtomicUsize::new(0));
            let trace = Arc::new(Mutex::new(Vec::new()));
            let threads: Vec<Thread> = (0..4usize)
                .map(|id| {
                    let (inside, overlaps, finished, trace) = (
                        inside.clone(),
                        overlaps.clone(),
                        finished.clone(),
                        trace.clone(),
                    );
                    Thread::new(move || async move {
                        let start = Instant::now();
                        let mut i = 0u64;
                        // ~150 ms of CPU each, checking in as CPython's eval loop does.
                        while start.elapsed() < Duration::from_millis(150) {
                            if inside.fetch_add(1, Ordering::SeqCst) != 0 {
                                overlaps.fetch_add(1, Ordering::SeqCst);
                            }
                            std::hint::black_box(work(i));
                            i += 1;
                            inside.fetch_sub(1, Ordering::SeqCst);
                            if i % 64 == 0 {
                                trace.lock().unwrap().push(id);
                            }
                            checkpoint().await;
                        }
                        finished.fetch_add(1, Ordering::SeqCst);
                    })
                })
                .collect();
            for t in &threads {
                t.start().unwrap();
            }
            for t in &threads {
                t.join().await.unwrap();
            }
            let trace = trace.lock().unwrap();
            // Turns: how often the running thread changed in the trace.
            let changes = trace.windows(2).filter(|w| w[0] != w[1]).count();
            (
                overlaps.load(Ordering::SeqCst),
                finished.load(Ordering::SeqCst),
                changes,
            )
        });
        assert_eq!(
            overlaps, 0,
            "{kind}: CPU-bound threads overlapped under the GIL"
        );
        assert_eq!(finished, 4, "{kind}");
        assert!(
            interleaved >= 4,
            "{kind}: the threads did not take turns ({interleaved})"
        );
        assert!(
            rt.gil_switches() > switches_before,
            "{kind}: the GIL never changed hands"
        );
    }
}

/// Sleeping threads release the GIL: 20 × 200 ms sleeps overlap.
#[test]
fn sleeping_threads_overlap() {
    let _s = serial();
    for (kind, rt) in gil_runtimes() {
        let dt = rt.block_on(async {
            let start = Instant::now();
            let threads: Vec<Thread> = (0..20)
                .map(|_| Thread::new(|| async { sleep(Duration::from_millis(200)).await }))
                .collect();
            for t in &threads {
                t.start().unwrap();
            }
            for t in &threads {
                t.join().await.unwrap();
            }
            start.elapsed()
        });
        assert!(dt >= Duration::from_millis(200), "{kind}");
        assert!(
            dt < Duration::from_secs(2),
            "{kind}: sleeps did not overlap under the GIL: {dt:?}"
        );
    }
}

/// GIL hand-off fairness: while a CPU-bound thread spins with checkpoint(),
/// a thread that sleeps 1 ms in a loop gets the GIL back each time within
/// about a switch interval (5 ms; allowed: 250 ms), and the spinner keeps
/// running too.
#[test]
fn gil_hand_off_is_fair() {
    let _s = serial();
    for (kind, rt) in gil_runtimes() {
        let (worst, rounds, spins) = rt.block_on(async {
            let stop = Arc::new(AtomicBool::new(false));
            let spins = Arc::new(AtomicUsize::new(0));
            let mut spinners = Vec::new();
            for _ in 0..2 {
                let (stop, spins) = (stop.clone(), spins.clone());
                let t = Thread::new(move || async move {
                    let mut i = 0;
                    let begun = Instant::now();
                    while !stop.load(Ordering::SeqCst) && begun.elapsed() < SPIN_LIMIT {
                        std::hint::black_box(work(i));
                        i += 1;
                        spins.fetch_add(1, Ordering::Relaxed);
                        checkpoint().await;
                    }
                });
                t.start().unwrap();
                spinners.push(t);
            }
            let sleeper = greenthread::spawn(async {
                let mut worst = Duration::ZERO;
                for _ in 0..40 {
                    let start = Instant::now();
                    sleep(Duration::from_millis(1)).await;
                    worst = worst.max(start.elapsed());
                }
                worst
            });
            let worst = sleeper.await.unwrap();
            stop.store(true, Ordering::SeqCst);
            for t in &spinners {
                t.join().await.unwrap();
            }
            (worst, 40, spins.load(Ordering::Relaxed))
        });
        assert!(spins > 0, "{kind}");
        assert!(
            worst < Duration::from_secs(1),
            "{kind}: a waiter waited {worst:?} for the GIL ({rounds} rounds)"
        );
    }
}

/// A thread started while another holds the GIL in a checkpoint loop gets
/// to run within about a switch interval.
#[test]
fn new_thread_gets_the_gil() {
    let _s = serial();
    for (kind, rt) in gil_runtimes() {
        let waited = rt.block_on(async {
            let stop = Arc::new(AtomicBool::new(false));
            let s = stop.clone();
            let hog = Thread::new(move || async move {
                let begun = Instant::now();
                while !s.load(Ordering::SeqCst) && begun.elapsed() < SPIN_LIMIT {
                    std::hint::black_box(work(1));
                    checkpoint().await;
                }
            });
            hog.start().unwrap();
            sleep(Duration::from_millis(20)).await;
            let mut worst = Duration::ZERO;
            for _ in 0..10 {
                let start = Instant::now();
                let started = greenthread::spawn(async move { start.elapsed() })
                    .await
                    .unwrap();
                worst = worst.max(started);
            }
            stop.store(true, Ordering::SeqCst);
            hog.join().await.unwrap();
            worst
        });
        assert!(
            waited < Duration::from_secs(1),
            "{kind}: waited {waited:?} for the GIL"
        );
    }
}

/// gil::enabled() and the switch interval, and `set_switch_interval`'s
/// validation (Python's `ValueError` for zero).
#[test]
fn switch_interval_setting() {
    let _s = serial();
    let err = gil::set_switch_interval(Duration::ZERO).unwrap_err();
    assert_eq!(err.to_string(), "switch interval must be strictly positive");
    let off = Runtime::builder().workers(1).build().unwrap();
    assert!(!off.block_on(async { gil::enabled() }));
    assert!(!off.gil_enabled());
    drop(off);
    let rt = Runtime::builder()
        .workers(1)
        .gil(true)
        .switch_interval(Duration::from_millis(3))
        .build()
        .unwrap();
    let (enabled, own) = rt.block_on(async {
        let own = greenthread::spawn(async { gil::switch_interval() })
            .await
            .unwrap();
        (gil::enabled(), own)
    });
    assert!(enabled);
    assert_eq!(own, Duration::from_millis(3));
    assert!(gil::set_switch_interval(Duration::from_nanos(1)).is_ok());
    assert!(
        gil::set_switch_interval(Duration::MAX).is_ok(),
        "huge values never panic"
    );
    gil::set_switch_interval(gil::DEFAULT_SWITCH_INTERVAL).unwrap();
    assert_eq!(gil::switch_interval(), Duration::from_millis(5));
    assert!(Runtime::builder()
        .gil(true)
        .switch_interval(Duration::ZERO)
        .build()
        .is_err());
}

/// The GIL changes hands at the switch interval, not at every cooperative
/// budget yield: two threads looping on `checkpoint()` for ~300 ms with a
/// 5 ms interval hand it over about 60 times, never thousands.
#[test]
fn checkpoint_hands_over_at_the_switch_interval() {
    let _serial = serial();
    for (name, rt) in gil_runtimes() {
        let run_for = Duration::from_millis(300);
        let before = rt.gil_switches();
        let elapsed = rt.block_on(async move {
            let start = Instant::now();
            let threads: Vec<Thread> = (0..2)
                .map(|_| {
                    Thread::new(move || async move {
                        let mut x = 0;
                        while start.elapsed() < run_for {
                            x = work(x);
                            checkpoint().await;
                        }
                    })
                })
                .collect();
            for t in &threads {
                t.start().unwrap();
            }
            for t in &threads {
                t.join().await.unwrap();
            }
            start.elapsed()
        });
        let switches = rt.gil_switches() - before;
        let interval = gil::switch_interval().max(Duration::from_millis(1));
        // Every hand-over needs a waiter that waited a full interval, plus
        // a few at thread start and end; 4x slack for a slow machine.
        let bound = 4 * (elapsed.as_millis() / interval.as_millis()) as u64 + 20;
        assert!(
            switches <= bound,
            "{name}: {switches} GIL hand-overs in {elapsed:?} (bound {bound})"
        );
        assert!(switches >= 2, "{name}: the threads never took turns");
    }
}
