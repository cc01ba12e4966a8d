//! W9 idle memory: `n` threads parked on one gate (greenthread's `Event`,
//! tokio's `Notify`, event-listener's `Event` on smol); the live heap bytes
//! per thread from the counting allocator ([`crate::alloc`], which the
//! binary must install as its `#[global_allocator]`), and RSS growth per
//! thread as a second view.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::alloc;
use crate::backend::{Gate, Tasks};

/// How often the main thread checks whether every thread has parked.
const POLL: Duration = Duration::from_millis(1);

/// How long to wait after the last thread counted itself in: it counts
/// itself just before it waits, and the wait's own allocation (a waiter
/// entry) must be in the figure.
const SETTLE: Duration = Duration::from_millis(20);

/// What one parked thread costs.
#[derive(Debug, Clone, Copy)]
pub struct Figures {
    /// Live heap bytes per thread.
    pub heap: f64,
    /// Resident-set growth per thread, in bytes (0 where
    /// `/proc/self/statm` is missing).
    pub rss: f64,
}

/// This process's resident set, in bytes (Linux; 0 elsewhere).
fn rss_bytes() -> isize {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: isize = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096
}

/// How the parked threads are started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// The back-end's spawn (greenthread's `spawn`).
    Spawn,
    /// greenthread's Python-style `Thread::new` + `start` (on a greenthread
    /// back-end only): the thread's state is an allocation of its own.
    PythonThread,
}

/// A parked thread's handle.
enum Parked<J> {
    Task(J),
    Thread(greenthread::Thread),
}

/// Spawns `n` threads on `rt` (from inside one of its threads), each
/// parking on one gate; once all have parked, measures, then opens the gate
/// and joins them. Call it from a plain OS thread. Turns the allocation
/// counting on for its own window and off again.
pub fn idle<R: Tasks>(rt: &R, n: usize) -> Figures {
    idle_started(rt, n, Start::Spawn)
}

/// [`idle`], the threads started as `start` says.
pub fn idle_started<R: Tasks>(rt: &R, n: usize, start: Start) -> Figures {
    let gate = Arc::new(R::Gate::new());
    let parked = Arc::new(AtomicUsize::new(0));
    // The handles' own vector is the bench's, not the threads' cost:
    // allocated before the count starts.
    let mut handles = Vec::with_capacity(n);
    alloc::set_counting(true);
    let (heap0, rss0) = (alloc::live(), rss_bytes());
    let (g, p) = (gate.clone(), parked.clone());
    let handles = rt.run(async move {
        for _ in 0..n {
            let (g, p) = (g.clone(), p.clone());
            let body = async move {
                p.fetch_add(1, Ordering::Release);
                g.wait().await;
            };
            handles.push(match start {
                Start::Spawn => Parked::Task(R::spawn(body)),
                Start::PythonThread => {
                    let t = greenthread::Thread::new(move || body);
                    t.start().expect("start a parked thread");
                    Parked::Thread(t)
                }
            });
        }
        handles
    });
    while parked.load(Ordering::Acquire) < n {
        std::thread::sleep(POLL);
    }
    std::thread::sleep(SETTLE);
    // Wrapping: blocks allocated before the count started may have been
    // freed since (see `alloc::set_counting`).
    let grown = alloc::live().wrapping_sub(heap0) as isize;
    let rss = rss_bytes() - rss0;
    alloc::set_counting(false);
    gate.open();
    rt.run(async move {
        for h in handles {
            match h {
                Parked::Task(j) => j.await,
                Parked::Thread(t) => t.join().await.expect("join a parked thread"),
            }
        }
    });
    Figures {
        heap: grown as f64 / n as f64,
        rss: rss as f64 / n as f64,
    }
}
