//! `block_on` nested inside green threads (SPEC §10.21) and
//! `Runtime::block_on` called from the runtime's own threads (§10.22).
//!
//! Every scenario could hang on a broken executor, so each runs on a helper
//! OS thread and the test waits for it with a timeout.

mod support;

use std::future::Future;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use greenthread::{Event, Runtime, Thread};

/// Generous: a loaded 2-core machine runs these in milliseconds.
const LIMIT: Duration = Duration::from_secs(20);

/// Runs `f` on a helper OS thread; fails clearly if it has not finished
/// within [`LIMIT`], resumes its panic if it panicked.
fn bounded<T: Send + 'static>(what: &str, f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(format!("scenario {what}"))
        .spawn(move || {
            let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
        })
        .expect("helper thread starts");
    match rx.recv_timeout(LIMIT) {
        Ok(Ok(v)) => v,
        Ok(Err(p)) => resume_unwind(p),
        Err(_) => panic!("{what}: hung (not done after {LIMIT:?})"),
    }
}

fn green(workers: usize) -> Runtime {
    Runtime::builder()
        .workers(workers)
        .gil(false)
        .build()
        .expect("runtime builds")
}

/// `spawn(async { block_on(spawn(async { 1 })) })`: the inner thread lands
/// in the blocked worker's run-next slot.
fn nested_spawn(workers: usize) {
    let v = bounded(&format!("nested spawn, workers({workers})"), move || {
        green(workers).block_on(async {
            greenthread::spawn(async {
                greenthread::block_on(greenthread::spawn(async { 1 })).unwrap()
            })
            .await
            .unwrap()
        })
    });
    assert_eq!(v, 1);
}

#[test]
fn nested_block_on_of_spawn_workers_1() {
    nested_spawn(1);
}

#[test]
fn nested_block_on_of_spawn_workers_2() {
    nested_spawn(2);
}

#[test]
fn nested_block_on_of_spawn_workers_4() {
    nested_spawn(4);
}

/// In GIL mode the blocked thread holds the GIL: it must let it go while
/// it blocks (as CPython's blocking calls do) or the inner thread never
/// runs.
#[test]
fn nested_block_on_of_spawn_gil() {
    for workers in [1, 2] {
        let v = bounded(
            &format!("nested spawn, GIL, workers({workers})"),
            move || {
                let rt = Runtime::builder()
                    .workers(workers)
                    .gil(true)
                    .build()
                    .unwrap();
                in_green_thread(&rt, async {
                    let inner = greenthread::block_on(greenthread::spawn(async {
                        greenthread::sleep(Duration::from_millis(5)).await;
                        1
                    }));
                    // The GIL is back: this thread's code runs alone again.
                    greenthread::checkpoint().await;
                    inner.unwrap() + 1
                })
            },
        );
        assert_eq!(v, 2);
    }
}

/// Three levels deep on one worker: each blocked level needs a stand-in.
#[test]
fn nested_block_on_three_deep_workers_1() {
    let v = bounded("three deep", || {
        green(1).block_on(async {
            greenthread::spawn(async {
                greenthread::block_on(greenthread::spawn(async {
                    greenthread::block_on(greenthread::spawn(async {
                        greenthread::block_on(greenthread::spawn(async { 3 })).unwrap()
                    }))
                    .unwrap()
                }))
                .unwrap()
            })
            .await
            .unwrap()
        })
    });
    assert_eq!(v, 3);
}

/// Several green threads blocked at once, more than there are workers.
#[test]
fn many_blocked_at_once_workers_2() {
    let sum = bounded("many blocked", || {
        green(2).block_on(async {
            let hs: Vec<_> = (0..6u64)
                .map(|i| {
                    greenthread::spawn(async move {
                        greenthread::block_on(greenthread::spawn(async move {
                            greenthread::sleep(Duration::from_millis(20)).await;
                            i
                        }))
                        .unwrap()
                    })
                })
                .collect();
            let mut sum = 0;
            for h in hs {
                sum += h.await.unwrap();
            }
            sum
        })
    });
    assert_eq!(sum, 15);
}

/// `block_on(t.join())` of a `Thread` started just before.
#[test]
fn block_on_thread_join_workers_1() {
    let ran = bounded("block_on(join)", || {
        let ran = Arc::new(AtomicBool::new(false));
        let r = ran.clone();
        green(1).block_on(async move {
            greenthread::spawn(async move {
                let t = Thread::new(move || async move {
                    greenthread::sleep(Duration::from_millis(10)).await;
                    r.store(true, Ordering::SeqCst);
                });
                t.start().unwrap();
                greenthread::block_on(t.join()).unwrap();
            })
            .await
            .unwrap();
        });
        ran.load(Ordering::SeqCst)
    });
    assert!(ran, "the joined thread never ran");
}

/// Work queued on the blocked worker before it blocked (a thread started
/// earlier) still runs, and is what the blocked thread waits for.
#[test]
fn queued_work_moves_off_blocked_worker() {
    for workers in [1, 2, 4] {
        bounded(&format!("queued work, workers({workers})"), move || {
            green(workers).block_on(async {
                greenthread::spawn(async {
                    let ev = Arc::new(Event::new());
                    let e = ev.clone();
                    // Lands in this worker's run-next slot.
                    let setter = greenthread::spawn(async move { e.set() });
                    greenthread::block_on(ev.wait());
                    setter.await.unwrap();
                })
                .await
                .unwrap();
            });
        });
    }
}

/// Another runtime's `Runtime::block_on` inside a green thread, waiting on
/// work of the outer runtime queued on the blocked worker.
#[test]
fn other_runtime_block_on_inside_green_thread() {
    for workers in [1, 4] {
        let v = bounded(&format!("other runtime, workers({workers})"), move || {
            green(workers).block_on(async {
                greenthread::spawn(async {
                    let ev = Arc::new(Event::new());
                    let e = ev.clone();
                    let outer = greenthread::spawn(async move {
                        e.set();
                        10
                    });
                    let inner = green(1);
                    let v = inner.block_on(async move {
                        ev.wait().await;
                        greenthread::spawn(async { 5 }).await.unwrap()
                    });
                    drop(inner);
                    v + outer.await.unwrap()
                })
                .await
                .unwrap()
            })
        });
        assert_eq!(v, 15);
    }
}

/// Runs `f`, which must panic; returns the panic's message.
fn panic_message_of<R>(f: impl FnOnce() -> R) -> String {
    let Err(p) = catch_unwind(AssertUnwindSafe(f)) else {
        panic!("same-runtime block_on must panic");
    };
    p.downcast_ref::<String>()
        .cloned()
        .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_default()
}

/// Runs `scenario` (bounded) with a fresh runtime and a second handle on
/// it; `scenario` returns the message of the panic it provoked, which must
/// be SPEC §10.22's.
fn same_runtime_case(
    what: &str,
    build: impl FnOnce() -> Runtime + Send + 'static,
    scenario: impl FnOnce(&Runtime, Arc<Runtime>) -> String + Send + 'static,
) {
    let msg = bounded(what, move || {
        let rt = Arc::new(build());
        let msg = scenario(&rt, rt.clone());
        drop(rt);
        msg
    });
    assert!(
        msg.contains("Runtime::block_on called from a thread of the same runtime"),
        "{what}: unexpected panic message: {msg:?}"
    );
}

/// Runs `f` as a green thread of `rt`, from `rt`'s main thread.
fn in_green_thread<T: Send + 'static>(
    rt: &Runtime,
    f: impl Future<Output = T> + Send + 'static,
) -> T {
    rt.block_on(async move { greenthread::spawn(f).await.unwrap() })
}

rt_test! {
    /// `rt.block_on` from a green thread of `rt` panics at once, in that
    /// thread; the runtime carries on.
    fn same_runtime_block_on_from_green_thread_panics(kind) {
        same_runtime_case(
            &format!("same runtime from a thread, {kind}"),
            move || support::builder_for(kind).build().unwrap(),
            |rt, r| {
                in_green_thread(
                    rt,
                    async move { panic_message_of(|| r.block_on(async { 1 })) },
                )
            },
        );
    }
}

/// `rt.block_on` from `rt`'s own main thread panics too (the outer
/// `block_on` resumes that panic after shutdown).
#[test]
fn same_runtime_block_on_from_main_thread_panics() {
    same_runtime_case(
        "same runtime from main",
        || green(2),
        |rt, r| panic_message_of(|| rt.block_on(async { r.block_on(async {}) })),
    );
}

/// Through another runtime: a thread of A calls B's `block_on`, whose main
/// calls A's: still A's own thread underneath, so it panics.
#[test]
fn same_runtime_block_on_through_other_runtime_panics() {
    same_runtime_case(
        "same runtime through another",
        || green(2),
        |a, a2| {
            in_green_thread(a, async move {
                let b = green(1);
                let msg = panic_message_of(|| b.block_on(async move { a2.block_on(async {}) }));
                drop(b);
                msg
            })
        },
    );
}
