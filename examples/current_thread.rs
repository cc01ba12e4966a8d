//! `threading.current_thread()` and a thread's `repr`, which `Thread`'s
//! `Display` reproduces: `<_MainThread(MainThread, started N)>`,
//! `<Thread(Thread-3, started N)>`.
//!
//! Mirrors the tutorial's t10.py: main prints itself, then three threads
//! print themselves and a value: `thread_3` at once, `thread_1` after 2 s,
//! `thread_2` after 5 s.
//!
//! Run it: `cargo run --example current_thread`

use std::time::Duration;

use greenthread::{current_thread, sleep, Thread};

async fn thread_1(i: i32) {
    sleep(Duration::from_secs(2)).await;
    println!("Active current thread right now: {}", current_thread());
    println!("Value by Thread 1: {i}");
}

async fn thread_2(i: i32) {
    sleep(Duration::from_secs(5)).await;
    println!("Active current thread right now: {}", current_thread());
    println!("Value by Thread 2: {i}");
}

async fn thread_3(i: i32) {
    println!("Active current thread right now: {}", current_thread());
    println!("Value by Thread 3: {i}");
}

fn main() {
    greenthread::run(async {
        // Creating sample threads
        let thread1 = Thread::new(|| thread_1(1));
        let thread2 = Thread::new(|| thread_2(2));
        let thread3 = Thread::new(|| thread_3(3));

        println!("Active current thread right now: {}", current_thread());
        // Initially it is the main thread that is active

        // Starting the threads
        thread1.start().unwrap();
        thread2.start().unwrap();
        thread3.start().unwrap();
    });
}
