//! Stall warnings (SPEC §11, meaning 3): a thread that keeps one poll
//! running longer than `stall_warning(Some(d))` is reported once per such
//! poll, while it still runs, within `d` + 100 ms (checked with generous
//! bounds), with `running_for ≥ d`; off by default. In every runtime kind.
//! The hook is process-wide: one test function.

mod support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use greenthread::debug::{self, Stall, ThreadState};

/// Spins without a switch point for `d`.
fn spin(d: Duration) {
    let start = Instant::now();
    while start.elapsed() < d {
        std::hint::spin_loop();
    }
}

#[test]
fn a_long_poll_is_reported_while_it_runs() {
    let seen: Arc<Mutex<Vec<(Stall, bool, Instant)>>> = Arc::default();
    let spinning = Arc::new(AtomicBool::new(false));
    let (s, sp) = (seen.clone(), spinning.clone());
    debug::set_stall_hook(Arc::new(move |st: &Stall| {
        s.lock()
            .unwrap()
            .push((st.clone(), sp.load(Ordering::SeqCst), Instant::now()));
    }));
    let d = Duration::from_millis(200);
    for kind in support::KINDS {
        seen.lock().unwrap().clear();
        let name = format!("stall-{kind}");
        let rt = support::builder_for(kind)
            .stall_warning(Some(d))
            .build()
            .unwrap();
        let (n, sp) = (name.clone(), spinning.clone());
        let began = rt.block_on(async move {
            let began = Arc::new(Mutex::new(None));
            let b = began.clone();
            let mut f = Some(async move {
                *b.lock().unwrap() = Some(Instant::now());
                sp.store(true, Ordering::SeqCst);
                spin(Duration::from_millis(3000));
                sp.store(false, Ordering::SeqCst);
                // A second long poll is a second stall.
                greenthread::yield_now().await;
                sp.store(true, Ordering::SeqCst);
                spin(Duration::from_millis(1500));
                sp.store(false, Ordering::SeqCst);
            });
            let t = greenthread::Thread::builder()
                .name(n)
                .build(move || f.take().unwrap());
            t.start().unwrap();
            t.join().await.unwrap();
            let began = began.lock().unwrap().unwrap();
            began
        });
        drop(rt);
        let seen = seen.lock().unwrap();
        let mine: Vec<_> = seen
            .iter()
            .filter(|(s, _, _)| s.thread.name == name)
            .collect();
        assert_eq!(mine.len(), 2, "{kind}: once per long poll: {mine:?}");
        let (first, running, at) = mine[0];
        assert!(*running, "{kind}: reported while it still runs");
        assert!(first.running_for >= d, "{kind}: {first:?}");
        // d + 100 ms, with 2.5 s of slack for a loaded machine (the poll
        // runs 3 s: still running then, as asserted above).
        assert!(
            at.duration_since(began) < d + Duration::from_millis(2600),
            "{kind}: reported after {:?}",
            at.duration_since(began)
        );
        assert_eq!(first.thread.state, ThreadState::Running);
        assert!(first.to_string().contains(&name));
        assert!(mine[1].1, "{kind}: the second stall while running too");
    }
    // Off by default.
    seen.lock().unwrap().clear();
    support::run_with("green_n", || async {
        let mut f = Some(async { spin(Duration::from_millis(800)) });
        let t = greenthread::Thread::builder()
            .name("stall-off")
            .build(move || f.take().unwrap());
        t.start().unwrap();
        t.join().await.unwrap();
    });
    std::thread::sleep(Duration::from_millis(200));
    assert!(seen
        .lock()
        .unwrap()
        .iter()
        .all(|(s, _, _)| s.thread.name != "stall-off"));
}
