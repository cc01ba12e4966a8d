//! Trace and profile hooks: `settrace`/`setprofile` apply to threads started
//! afterwards, `_all_threads` forms also to running threads, `gettrace`/
//! `getprofile` return the hook; events Start first, Exit last,
//! Suspend/Resume around switch points — scenarios 82, 83 and SPEC §10.13.
//!
//! Hooks are process-wide and cannot be unset: every test holds `SERIAL`
//! and its hook records only the threads the test cares about.

mod support;

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use greenthread::{
    getprofile, gettrace, setprofile, setprofile_all_threads, settrace, settrace_all_threads,
    sleep, Event, Thread, TraceEvent, TraceHook,
};
use support::wait_until;

use support::serial;

type Log = Arc<Mutex<Vec<(u64, TraceEvent)>>>;

/// A hook recording (ident, event) for every thread.
fn recorder() -> (Log, TraceHook) {
    let log: Log = Arc::new(Mutex::new(Vec::new()));
    let l = log.clone();
    let hook: TraceHook = Arc::new(move |t: &Thread, e: TraceEvent| {
        l.lock().unwrap().push((t.ident().unwrap_or(0), e));
    });
    (log, hook)
}

fn events_of(log: &Log, t: &Thread) -> Vec<TraceEvent> {
    let id = t.ident().unwrap();
    log.lock()
        .unwrap()
        .iter()
        .filter(|(i, _)| *i == id)
        .map(|(_, e)| *e)
        .collect()
}

/// Start first, Exit last, each once; Suspend and Resume alternate between.
fn assert_well_formed(events: &[TraceEvent], min_switches: usize) {
    use TraceEvent::*;
    assert!(events.len() >= 2, "{events:?}");
    assert_eq!(events[0], Start, "{events:?}");
    assert_eq!(*events.last().unwrap(), Exit, "{events:?}");
    let middle = &events[1..events.len() - 1];
    assert_eq!(middle.len() % 2, 0, "{events:?}");
    for pair in middle.chunks(2) {
        assert_eq!(pair, [Suspend, Resume], "{events:?}");
    }
    assert!(middle.len() / 2 >= min_switches, "{events:?}");
}

rt_test! {
    /// §10.13: a thread started after settrace reports Start, Suspend/Resume
    /// around each switch point, Exit; gettrace() is the hook.
    serial fn settrace_events(kind) {
        let (log, hook) = recorder();
        settrace(hook.clone());
        assert!(Arc::ptr_eq(&gettrace().unwrap(), &hook));
        let log = log.clone();
        support::run_with(kind, || async move {
            let t = Thread::new(|| async {
                sleep(Duration::from_millis(1)).await;
                sleep(Duration::from_millis(1)).await;
            });
            t.start().unwrap();
            t.join().await.unwrap();
            assert_well_formed(&events_of(&log, &t), 2);
            // A thread that never suspends: Start, Exit.
            let quick = Thread::new(|| async {});
            quick.start().unwrap();
            quick.join().await.unwrap();
            assert_eq!(
                events_of(&log, &quick),
                [TraceEvent::Start, TraceEvent::Exit]
            );
            // The Exit event comes before join() returns (both above passed).
        });
    }
}

rt_test! {
    /// Threads started before settrace are not traced; settrace_all_threads
    /// installs the hook in running threads too.
    serial fn settrace_only_later_threads_then_all_threads(kind) {
        support::run_with(kind, || async {
            let (log, hook) = recorder();
            let stop = Event::new();
            let st = stop.clone();
            let running = Thread::new(move || async move {
                while !st.is_set() {
                    sleep(Duration::from_millis(1)).await;
                }
            });
            running.start().unwrap();
            sleep(Duration::from_millis(5)).await;
            settrace(hook.clone());
            sleep(Duration::from_millis(10)).await;
            assert!(running.is_alive());
            assert!(
                events_of(&log, &running).is_empty(),
                "{:?}",
                events_of(&log, &running)
            );

            // _all_threads: now the running thread is traced too.
            let (log2, hook2) = recorder();
            settrace_all_threads(hook2.clone());
            assert!(Arc::ptr_eq(&gettrace().unwrap(), &hook2));
            let later = Thread::new(|| async { sleep(Duration::from_millis(1)).await });
            later.start().unwrap();
            later.join().await.unwrap();
            // Until the running thread has woken and slept again, traced.
            assert!(
                support::wait_until(Duration::from_secs(20), || {
                    events_of(&log2, &running).contains(&TraceEvent::Suspend)
                })
                .await,
                "the running thread was never traced"
            );
            stop.set();
            running.join().await.unwrap();
            let ev = events_of(&log2, &running);
            assert!(ev.contains(&TraceEvent::Resume), "{ev:?}");
            assert!(ev.contains(&TraceEvent::Suspend), "{ev:?}");
            assert_eq!(ev.last(), Some(&TraceEvent::Exit), "{ev:?}");
            assert!(
                !ev.contains(&TraceEvent::Start),
                "it had started before: {ev:?}"
            );
            assert_well_formed(&events_of(&log2, &later), 1);
            assert!(
                events_of(&log, &later).is_empty(),
                "the replaced hook is not called"
            );
        });
    }
}

/// setprofile/getprofile/setprofile_all_threads, alongside a trace hook:
/// both hooks see the same events.
#[test]
fn setprofile_events() {
    let _s = serial();
    let (tlog, thook) = recorder();
    let (plog, phook) = recorder();
    settrace(thook);
    setprofile(phook.clone());
    assert!(Arc::ptr_eq(&getprofile().unwrap(), &phook));
    support::run_with("green_n", || async {
        let t = Thread::new(|| async { sleep(Duration::from_millis(1)).await });
        t.start().unwrap();
        t.join().await.unwrap();
        let p = events_of(&plog, &t);
        assert_well_formed(&p, 1);
        assert_eq!(p, events_of(&tlog, &t));

        let (plog2, phook2) = recorder();
        let go = Event::new();
        let g = go.clone();
        let running = Thread::new(move || async move {
            g.wait().await;
        });
        running.start().unwrap();
        sleep(Duration::from_millis(5)).await;
        setprofile_all_threads(phook2.clone());
        assert!(Arc::ptr_eq(&getprofile().unwrap(), &phook2));
        go.set();
        running.join().await.unwrap();
        assert!(
            wait_until(Duration::from_secs(5), || events_of(&plog2, &running)
                .last()
                == Some(&TraceEvent::Exit))
            .await
        );
    });
}

rt_test! {
    /// A hook that panics does not break the thread or the runtime; a hook
    /// that calls current_thread()/enumerate() does not deadlock (scenario 110).
    serial fn hooks_that_misbehave(kind) {
        let seen = Arc::new(Mutex::new(HashSet::new()));
        let s = seen.clone();
        settrace(Arc::new(move |t: &Thread, e: TraceEvent| {
            let _ = greenthread::current_thread();
            let _ = greenthread::enumerate();
            s.lock().unwrap().insert(t.ident());
            if e == TraceEvent::Resume {
                panic!("hook fails");
            }
        }));
        let seen = seen.clone();
        support::run_with(kind, || async move {
            // The target must run to its end despite the hook's panics (a
            // panic escaping into it would only reach the excepthook).
            let finished = Arc::new(AtomicBool::new(false));
            let f = finished.clone();
            let t = Thread::new(|| async move {
                sleep(Duration::from_millis(1)).await;
                sleep(Duration::from_millis(1)).await;
                f.store(true, Ordering::SeqCst);
            });
            t.start().unwrap();
            t.join().await.unwrap();
            assert!(finished.load(Ordering::SeqCst), "the target ran to its end");
            assert!(seen.lock().unwrap().contains(&t.ident()));
        });
        // Leave a quiet hook behind.
        settrace(Arc::new(|_: &Thread, _: TraceEvent| {}));
    }
}

/// Issue 9, §10.13: a traced thread cancelled at shutdown before its first
/// poll still reports Start first and Exit last (its target never runs).
#[test]
fn traced_thread_cancelled_before_first_poll() {
    let _s = serial();
    let (log, hook) = recorder();
    settrace(hook);
    let traced = Arc::new(Mutex::new(None));
    let ran = Arc::new(AtomicBool::new(false));
    let (tr, r) = (traced.clone(), ran.clone());
    support::run_with("green_1", || async move {
        // Occupies the only worker (no switch point) while main returns,
        // so the traced thread is cancelled before the worker polls it.
        let busy = Arc::new(AtomicBool::new(false));
        let b = busy.clone();
        Thread::builder()
            .daemon(true)
            .build(move || async move {
                b.store(true, Ordering::SeqCst);
                std::thread::sleep(Duration::from_secs(1));
            })
            .start()
            .unwrap();
        assert!(wait_until(Duration::from_secs(10), || busy.load(Ordering::SeqCst)).await);
        let t = Thread::builder()
            .daemon(true)
            .build(move || async move { r.store(true, Ordering::SeqCst) });
        t.start().unwrap();
        *tr.lock().unwrap() = Some(t);
    });
    let t = traced.lock().unwrap().take().unwrap();
    assert!(!t.is_alive());
    assert!(
        !ran.load(Ordering::SeqCst),
        "the target was to be cancelled before it ran"
    );
    assert_eq!(events_of(&log, &t), [TraceEvent::Start, TraceEvent::Exit]);
    settrace(Arc::new(|_: &Thread, _: TraceEvent| {}));
}

rt_test! {
    /// A thread lets go of its hooks when it ends, while handles to it
    /// live on: a replaced hook's captures are dropped then, and a
    /// panicking `Drop` of theirs is caught (a spawned thread's state is
    /// freed with its task, where a panic would abort the process).
    serial fn an_ended_thread_lets_go_of_its_hooks(kind) {
        /// Panics when dropped, once armed.
        struct Bomb(Arc<AtomicBool>);
        impl Drop for Bomb {
            fn drop(&mut self) {
                if self.0.load(Ordering::SeqCst) {
                    panic!("a hook's capture panics on purpose");
                }
            }
        }
        let token = Arc::new(());
        let armed = Arc::new(AtomicBool::new(false));
        let (tk, bomb) = (token.clone(), Bomb(armed.clone()));
        let hook: TraceHook = Arc::new(move |_: &Thread, _: TraceEvent| {
            let _ = (&tk, &bomb);
        });
        settrace(hook);
        let threads = support::run_with(kind, || async move {
            let t = Thread::new(|| async { sleep(Duration::from_millis(1)).await });
            t.start().unwrap();
            let h = greenthread::spawn(async { sleep(Duration::from_millis(1)).await });
            let s = h.thread().clone();
            // Replaced: the two threads hold the hook's last references.
            settrace(Arc::new(|_: &Thread, _: TraceEvent| {}));
            armed.store(true, Ordering::SeqCst);
            t.join().await.unwrap();
            h.await.unwrap();
            (t, s)
        });
        assert_eq!(Arc::strong_count(&token), 1, "{kind}: an ended thread still holds its hook");
        drop(threads);
    }
}
