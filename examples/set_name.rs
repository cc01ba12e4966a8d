//! `Thread.setName()` (`set_name()` here) before `start()`.
//!
//! Mirrors the tutorial's tt6.py: the same three threads as tt5.py, renamed
//! `Thread_number_1`, `Thread_number_2` and `Thread_number_3`; each prints
//! `Value by NAME is:  VALUE` with its new name, thread1 last (it sleeps
//! 5 s). As in the tutorial, `thread3` runs `thread_2`. Python's
//! `print(a, b)` puts a space between its arguments, hence the two spaces.
//!
//! Run it: `cargo run --example set_name`

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
        thread1.set_name("Thread_number_1");
        let thread2 = Thread::new(|| thread_2(20));
        thread2.set_name("Thread_number_2");
        let thread3 = Thread::new(|| thread_2(30));
        thread3.set_name("Thread_number_3");

        // Running the threads
        thread1.start().unwrap();
        thread2.start().unwrap();
        thread3.start().unwrap();
    });
}
