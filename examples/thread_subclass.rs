//! A `threading.Thread` subclass overriding `run()`: in Rust, a type that
//! implements [`greenthread::Target`].
//!
//! Mirrors the tutorial's "Example using Thread subclass, overriding the
//! run()": `MyThread(i)` stores `x = i`; its `run` prints
//! `Value stored is:  x`, sleeps 3 s, and prints
//! `Exiting thread with value:  x`. Main starts `MyThread(1)` and
//! `MyThread(2)` and ends; as in Python, the program waits for both before
//! exiting. (Python's `print(a, b)` puts a space between its arguments, so
//! there are two spaces before the value, as in Python.)
//!
//! Run it: `cargo run --example thread_subclass`

use std::time::Duration;

use greenthread::{sleep, Target, Thread};

/// Python's `class MyThread(threading.Thread)`.
struct MyThread {
    x: i32,
}

impl MyThread {
    // overriding constructor
    fn new(i: i32) -> MyThread {
        MyThread { x: i }
    }
}

impl Target for MyThread {
    // define your own run method
    async fn run(self) {
        println!("Value stored is:  {}", self.x);
        sleep(Duration::from_secs(3)).await;
        println!("Exiting thread with value:  {}", self.x);
    }
}

fn main() {
    greenthread::run(async {
        // `Thread::new` is the parent class constructor's part.
        let thread1 = Thread::new(MyThread::new(1));
        thread1.start().unwrap();
        let thread2 = Thread::new(MyThread::new(2));
        thread2.start().unwrap();
    });
}
