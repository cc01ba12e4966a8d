//! `threading.active_count()`: the number of alive threads, main included.
//!
//! Mirrors the tutorial's tt9.py: three threads print the count and a value;
//! `thread_3` at once, `thread_1` after 2 s, `thread_2` after 5 s, so the
//! count goes 4, 3, 2 as they end. The tutorial ran inside IDLE, whose
//! extra `SocketThread` made every count one higher (its "2 in the
//! starting" is the main thread plus IDLE's); a plain program starts with 1.
//!
//! Run it: `cargo run --example active_count`

use std::time::Duration;

use greenthread::{active_count, sleep, Thread};

async fn thread_1(i: i32) {
    sleep(Duration::from_secs(2)).await;
    println!("Number of active threads: {}", active_count());
    println!("Value by Thread 1: {i}");
}

async fn thread_2(i: i32) {
    sleep(Duration::from_secs(5)).await;
    println!("Number of active threads: {}", active_count());
    println!("Value by Thread 2: {i}");
}

async fn thread_3(i: i32) {
    println!("Number of active threads: {}", active_count());
    println!("Value by Thread 3: {i}");
}

fn main() {
    greenthread::run(async {
        // Creating sample threads
        let thread1 = Thread::new(|| thread_1(1));
        let thread2 = Thread::new(|| thread_2(2));
        let thread3 = Thread::new(|| thread_3(3));

        println!(
            "Number of active threads in the starting: {}",
            active_count()
        );
        println!(
            "The active threads in the starting is 1 which is the main thread \
             that executes till the program runs"
        );

        // Starting the threads
        thread1.start().unwrap();
        thread2.start().unwrap();
        thread3.start().unwrap();
    });
}
