//! `threading.Thread(target=..., args=...)`: a closure is Python's `target=`
//! and its captures are the `args`.
//!
//! Mirrors the tutorial's "Example using Thread class object for creating a
//! thread": `thread1` sleeps 3 s and prints `No. printed by Thread 1: 10`,
//! `thread2` prints `No. printed by Thread 2: 12` at once; main starts both
//! and joins both. Thread 2's line comes first.
//!
//! Run it: `cargo run --example thread_target`

use std::time::Duration;

use greenthread::{sleep, Thread};

async fn thread1(i: i32) {
    sleep(Duration::from_secs(3)).await;
    println!("No. printed by Thread 1: {i}");
}

async fn thread2(i: i32) {
    println!("No. printed by Thread 2: {i}");
}

fn main() {
    greenthread::run(async {
        let t1 = Thread::new(|| thread1(10));
        let t2 = Thread::new(|| thread2(12));

        // start the threads
        t1.start().unwrap();
        t2.start().unwrap();

        // join the main thread
        t1.join().await.unwrap();
        t2.join().await.unwrap();
    });
}
