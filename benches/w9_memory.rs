//! W9 idle memory (`benches/README.md`): live bytes per thread parked on one
//! Event, from a counting global allocator, and RSS growth as a second view.
//!
//! A plain `main` (not criterion: it measures bytes, not time). Prints one
//! table; `GT_BENCH_FULL=1` adds the 1,000,000-thread row.

#[path = "common/mod.rs"]
mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Counts live heap bytes.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees carry over; the counter is a side
// effect that does not touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `alloc`'s contract.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is; `ptr` came from `alloc` with `layout`.
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is; the caller upholds `realloc`'s contract.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            LIVE.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        p
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

fn live() -> isize {
    LIVE.load(Ordering::Relaxed)
}

fn rss_bytes() -> isize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: isize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// Bytes per parked thread: (heap, RSS).
struct Figures {
    heap: f64,
    rss: f64,
}

/// Waits until all `n` threads have counted themselves, then a little
/// longer: each counts itself just before it parks, so the last ones may
/// still be registering their wait (the same settling for every back-end).
fn wait_for(count: &AtomicUsize, n: usize) {
    while count.load(Ordering::Acquire) < n {
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(20));
}

fn green(n: usize) -> Figures {
    let rt = common::green(false);
    let event = greenthread::Event::new();
    let parked = Arc::new(AtomicUsize::new(0));
    let (heap0, rss0) = (live(), rss_bytes());
    let mut threads = Vec::with_capacity(n);
    for _ in 0..n {
        let event = event.clone();
        let parked = parked.clone();
        let t = greenthread::Thread::new(move || async move {
            parked.fetch_add(1, Ordering::Release);
            event.wait().await;
        });
        threads.push(t);
    }
    let starter = threads.clone();
    common::green_run(&rt, async move {
        for t in &starter {
            t.start().unwrap();
        }
    });
    wait_for(&parked, n);
    let f = Figures {
        heap: (live() - heap0) as f64 / n as f64,
        rss: (rss_bytes() - rss0) as f64 / n as f64,
    };
    event.set();
    common::green_run(&rt, async move {
        for t in &threads {
            t.join().await.unwrap();
        }
    });
    f
}

fn tokio(n: usize) -> Figures {
    let rt = common::tokio();
    let notify = Arc::new(tokio::sync::Notify::new());
    let parked = Arc::new(AtomicUsize::new(0));
    let (heap0, rss0) = (live(), rss_bytes());
    let hs: Vec<_> = (0..n)
        .map(|_| {
            let notify = notify.clone();
            let parked = parked.clone();
            rt.spawn(async move {
                let notified = notify.notified();
                parked.fetch_add(1, Ordering::Release);
                notified.await;
            })
        })
        .collect();
    wait_for(&parked, n);
    let f = Figures {
        heap: (live() - heap0) as f64 / n as f64,
        rss: (rss_bytes() - rss0) as f64 / n as f64,
    };
    while hs.iter().any(|h| !h.is_finished()) {
        notify.notify_waiters();
        std::thread::sleep(Duration::from_millis(1));
    }
    f
}

fn smol(n: usize) -> Figures {
    let smol = common::Smol::new();
    let event = Arc::new(event_listener::Event::new());
    let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let parked = Arc::new(AtomicUsize::new(0));
    let (heap0, rss0) = (live(), rss_bytes());
    let tasks: Vec<_> = (0..n)
        .map(|_| {
            let event = event.clone();
            let flag = flag.clone();
            let parked = parked.clone();
            smol.ex.spawn(async move {
                parked.fetch_add(1, Ordering::Release);
                while !flag.load(Ordering::Acquire) {
                    let l = event.listen();
                    if flag.load(Ordering::Acquire) {
                        break;
                    }
                    l.await;
                }
            })
        })
        .collect();
    wait_for(&parked, n);
    let f = Figures {
        heap: (live() - heap0) as f64 / n as f64,
        rss: (rss_bytes() - rss0) as f64 / n as f64,
    };
    flag.store(true, Ordering::Release);
    event.notify(usize::MAX);
    for t in tasks {
        futures::executor::block_on(t);
    }
    f
}

fn main() {
    // `cargo bench` passes `--bench`; a filter may follow. Run everything.
    let mut sizes = vec![100_000];
    if common::full() {
        sizes.push(1_000_000);
    }
    println!(
        "W9 idle memory: threads parked on one Event ({} workers)",
        common::workers()
    );
    println!(
        "{:<8} {:>10} {:>14} {:>14} {:>10}",
        "backend", "threads", "heap B/thread", "RSS B/thread", "vs best"
    );
    for &n in &sizes {
        let rows = [("green", green(n)), ("tokio", tokio(n)), ("smol", smol(n))];
        let best = rows[1..]
            .iter()
            .map(|r| r.1.heap)
            .fold(f64::INFINITY, f64::min);
        for (name, f) in &rows {
            println!(
                "{:<8} {:>10} {:>14.0} {:>14.0} {:>9.2}x",
                name,
                n,
                f.heap,
                f.rss,
                f.heap / best
            );
        }
    }
}
