//! Every `threading` function of the tutorial in one program:
//! `current_thread()`, `enumerate()`, `active_count()`, `set_name()`,
//! `name()`, `is_alive()`, `start()` and `join()`.
//!
//! Mirrors the tutorial's "All functions in single program": two threads,
//! renamed `First Thread` (sleeps 5 s) and `Second Thread` (runs at once),
//! each print their name, the alive threads, the count and themselves; main
//! prints the same before starting them, after starting them, and after
//! joining them. The tutorial ran inside IDLE, whose `SocketThread` made
//! every count one higher; and its output interleaves the threads' prints
//! mid-line, which `println!` (one line at a time) does not.
//!
//! Run it: `cargo run --example all_functions`

use std::time::Duration;

use greenthread::{active_count, current_thread, enumerate, sleep, Thread};

/// Python's spelling of a bool.
fn py(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

/// Python's `str(threading.enumerate())`: `[<...>, <...>]`.
fn alive() -> String {
    let items: Vec<String> = enumerate().iter().map(|t| format!("{t}")).collect();
    format!("[{}]", items.join(", "))
}

async fn thread_1(i: i32) {
    sleep(Duration::from_secs(5)).await;
    println!("Value by {} is:  {i}", current_thread().name());
    println!("Threads alive in first: {}", alive());
    println!(
        "Number of active threads including first thread: {}",
        active_count()
    );
    println!("Active current thread right now: {}", current_thread());
}

async fn thread_2(i: i32) {
    println!("Value by {} is:  {i}", current_thread().name());
    println!("Threads alive in second: {}", alive());
    println!(
        "Number of active threads including second thread: {}",
        active_count()
    );
    println!("Active current thread right now: {}", current_thread());
}

fn main() {
    greenthread::run(async {
        // Creating two sample threads
        let thread1 = Thread::new(|| thread_1(1));
        thread1.set_name("First Thread");
        let thread2 = Thread::new(|| thread_2(2));
        thread2.set_name("Second Thread");
        println!("Threads alive in the starting: {}", alive());
        println!(
            "Number of active threads in the starting: {}",
            active_count()
        );
        println!("Active current thread right now: {}", current_thread());

        // Before calling the start(), both threads are not alive
        println!("Is thread1 alive: {}", py(thread1.is_alive()));
        println!("Is thread2 alive: {}", py(thread2.is_alive()));

        thread1.start().unwrap();
        thread2.start().unwrap();
        // Since thread1 is on sleep for 5 seconds, it is alive
        // while thread 2 is executed instantly

        println!("Is First thread alive: {}", py(thread1.is_alive()));
        println!("Is Second thread alive: {}", py(thread2.is_alive()));
        println!("Number of active threads before join: {}", active_count());
        thread1.join().await.unwrap();
        thread2.join().await.unwrap();
        println!("Threads alive in the ending: {}", alive());
        println!("Active current thread right now: {}", current_thread());
        println!(
            "Number of active threads after join ending: {}",
            active_count()
        );
    });
}
