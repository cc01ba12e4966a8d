//! `Thread.is_alive()`: false before `start()`, true while the target runs,
//! false once it has ended.
//!
//! Mirrors the tutorial's tt4.py: `thread_1` sleeps 5 s and prints
//! `Value by Thread 1: 1`; `thread_2` prints `Value by Thread 2: 2` at once.
//! Both are not alive before `start()`; after it, thread1 (asleep) is alive
//! and thread2 (done instantly) is not. Python's output relies on thread2
//! having finished by the time main asks; green threads run in parallel on
//! the worker pool, so main joins thread2 first to make that so.
//!
//! Run it: `cargo run --example is_alive`

use std::time::Duration;

use greenthread::{sleep, Thread};

/// Python's spelling of a bool.
fn py(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

async fn thread_1(i: i32) {
    sleep(Duration::from_secs(5)).await;
    println!("Value by Thread 1: {i}");
}

async fn thread_2(i: i32) {
    println!("Value by Thread 2: {i}");
}

fn main() {
    greenthread::run(async {
        // Creating two sample threads
        let thread1 = Thread::new(|| thread_1(1));
        let thread2 = Thread::new(|| thread_2(2));

        // Before calling the start(), both threads are not alive
        println!("Is thread1 alive: {}", py(thread1.is_alive()));
        println!("Is thread2 alive: {}", py(thread2.is_alive()));
        println!();

        thread1.start().unwrap();
        thread2.start().unwrap();
        // thread 2 is executed instantly: wait for it to end.
        thread2.join().await.unwrap();

        // Since thread1 is on sleep for 5 seconds, it is alive
        println!("Is thread1 alive: {}", py(thread1.is_alive()));
        println!("Is thread2 alive: {}", py(thread2.is_alive()));
    });
}
