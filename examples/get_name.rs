//! `Thread.getName()` (`name()` here) on the default names `Thread-N`.
//!
//! Mirrors the tutorial's tt5.py: three threads print
//! `Value by Thread-N is:  VALUE` from `current_thread().name()`; thread1
//! sleeps 5 s first, so its line comes last. As in the tutorial, `thread3`
//! runs `thread_2` (so `thread_3`, which would sleep 4 s, is never used).
//! Python's `print(a, b)` puts a space between its arguments, hence the two
//! spaces before the value.
//!
//! Run it: `cargo run --example get_name`

use std::time::Duration;

use greenthread::{current_thread, sleep, Thread};

async fn thread_1(i: i32) {
    sleep(Duration::from_secs(5)).await;
    println!("Value by {} is:  {i}", current_thread().name());
}

async fn thread_2(i: i32) {
    println!("Value by {} is:  {i}", current_thread().name());
}

// The tutorial defines it but starts `thread_2` for thread3; kept to mirror it.
#[allow(dead_code)]
async fn thread_3(i: i32) {
    sleep(Duration::from_secs(4)).await;
    println!("Value by {} is:  {i}", current_thread().name());
}

fn main() {
    greenthread::run(async {
        // Creating three sample threads
        let thread1 = Thread::new(|| thread_1(10));
        let thread2 = Thread::new(|| thread_2(20));
        let thread3 = Thread::new(|| thread_2(30));

        // Running the threads
        thread1.start().unwrap();
        thread2.start().unwrap();
        thread3.start().unwrap();
    });
}
