//! Python's low-level `_thread.start_new_thread`, ported.
//!
//! Mirrors the tutorial's first program ("Creating threads using Thread
//! Module"): `thread_test(name, wait)` prints `Running NAME` four times,
//! sleeping `wait` seconds before each, then `NAME has finished execution`;
//! `main` starts it as "First Thread" (1 s), "Second Thread" (2 s) and
//! "Third Thread" (3 s) with `start_new_thread`.
//!
//! Threads made by `start_new_thread` are daemon threads, as in Python: the
//! program does not wait for them at exit. The tutorial's output implies
//! that `main` waited for them, so here `main` polls a counter of running
//! threads every 100 ms (Python's usual `while running: time.sleep(0.1)`);
//! the program takes about 12 s, the Third Thread's 4 × 3 s.
//!
//! Run it: `cargo run --example start_new_thread`

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use greenthread::{sleep, thread};

async fn thread_test(name: &'static str, wait: u64, running: Arc<AtomicUsize>) {
    let mut i = 0;
    while i <= 3 {
        sleep(Duration::from_secs(wait)).await;
        // Python's `print("Running %s\n" % name)`: the `\n` adds a blank line.
        println!("Running {name}\n");
        i += 1;
    }
    println!("{name} has finished execution");
    running.fetch_sub(1, Ordering::SeqCst);
}

fn main() {
    greenthread::run(async {
        let running = Arc::new(AtomicUsize::new(3));
        for (name, wait) in [
            ("First Thread", 1),
            ("Second Thread", 2),
            ("Third Thread", 3),
        ] {
            let running = running.clone();
            let ident = thread::start_new_thread(move || thread_test(name, wait, running));
            assert_ne!(ident, 0, "could not start {name}");
        }
        // Wait for the three daemon threads, or they would be dropped at exit.
        while running.load(Ordering::SeqCst) > 0 {
            sleep(Duration::from_millis(100)).await;
        }
    });
}
