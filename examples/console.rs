//! Watching greenthread threads in tokio-console.
//!
//! A hundred named threads — fifty `producer-N`, fifty `consumer-N` —
//! sleep, take a shared `Lock` and pass items through a bounded `Queue`,
//! for two minutes (or the number of seconds given as the argument). With
//! the `tracing` feature every `Thread` is a task in tokio-console: its
//! Python name, its ident as the task id, where it was started, its polls,
//! busy and idle time, and its wakes.
//!
//! To watch it:
//!
//! ```text
//! cargo install tokio-console --version 0.1.14 --locked
//! RUSTFLAGS="--cfg console_without_tokio_unstable" \
//!     cargo run --release --example console --features tracing
//! tokio-console            # in another terminal
//! ```
//!
//! The `--cfg` is console-subscriber's switch for runtimes other than
//! tokio: without it (or tokio's `--cfg tokio_unstable`) its `init()`
//! panics, "task tracing requires Tokio to be built with
//! RUSTFLAGS=\"--cfg tokio_unstable\"". `console_subscriber::init()` then
//! serves the console on 127.0.0.1:6669 from a thread of its own (with a
//! small tokio runtime inside it); greenthread itself does not use tokio.

use std::time::{Duration, Instant};

use greenthread::queue::Queue;
use greenthread::{sleep, Lock, Thread};

/// Producers and consumers each.
const PAIRS: usize = 50;

/// A little work done while holding the lock, so busy time shows.
fn work(n: u64) -> u64 {
    (0..20_000).fold(n, |acc, i| acc.wrapping_mul(31).wrapping_add(i))
}

/// Every few tens of milliseconds: a little work under the lock, then an
/// item into the queue (waiting while it is full).
async fn producer(i: u64, lock: Lock, queue: Queue<u64>, until: Instant) {
    let mut n = i;
    while Instant::now() < until {
        sleep(Duration::from_millis(50 + 10 * i)).await;
        {
            let _held = lock.lock().await;
            n = work(n);
        }
        // Full for a second (the consumers have stopped): try again, or
        // stop once the time is up.
        let _ = queue.put_timeout(n, Duration::from_secs(1)).await;
    }
}

/// Takes items from the queue, and works on each under the lock.
async fn consumer(lock: Lock, queue: Queue<u64>, until: Instant) {
    while Instant::now() < until {
        let Ok(item) = queue.get_timeout(Duration::from_secs(1)).await else {
            continue;
        };
        sleep(Duration::from_millis(20)).await;
        let _held = lock.lock().await;
        std::hint::black_box(work(item));
    }
}

fn main() {
    if std::panic::catch_unwind(console_subscriber::init).is_err() {
        eprintln!(
            "build the example with RUSTFLAGS=\"--cfg console_without_tokio_unstable\" \
             (see the top of examples/console.rs)"
        );
        std::process::exit(2);
    }
    let seconds = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(120);
    let until = Instant::now() + Duration::from_secs(seconds);
    greenthread::run(async move {
        let lock = Lock::new();
        let queue: Queue<u64> = Queue::new(10);
        let mut threads = Vec::new();
        for i in 0..PAIRS {
            let (l, q) = (lock.clone(), queue.clone());
            threads.push(
                Thread::builder()
                    .name(format!("producer-{i}"))
                    .build(move || producer(i as u64, l, q, until)),
            );
            let (l, q) = (lock.clone(), queue.clone());
            threads.push(
                Thread::builder()
                    .name(format!("consumer-{i}"))
                    .build(move || consumer(l, q, until)),
            );
        }
        for t in &threads {
            t.start().expect("start");
        }
        println!(
            "{} threads running for {seconds} s: run `tokio-console` in another terminal",
            threads.len()
        );
        for t in &threads {
            t.join().await.expect("join");
        }
        println!("done");
    });
}
