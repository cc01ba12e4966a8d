//! `threading.enumerate()`: every alive thread, main included, in the order
//! they started.
//!
//! Mirrors the tutorial's tt11.py: main prints the list before starting four
//! threads; `thread_2` prints it at once, `thread_4` after 1 s (thread2 has
//! ended), `thread_1` after 5 s (only main and itself are left; thread3
//! ended at 4 s). The tutorial ran inside IDLE, hence its extra
//! `SocketThread`; a plain program has none, and there the threads that
//! print after main's code has ended see it as `stopped` (still listed until
//! the program exits), as in a Python script. `thread_2` may run before main
//! has started thread3 and thread4 (green threads run in parallel on the
//! worker pool), so its list may be shorter than the tutorial's.
//!
//! Run it: `cargo run --example enumerate`

use std::time::Duration;

use greenthread::{enumerate, sleep, Thread};

/// Python's `str(list_of_threads)`: `[<...>, <...>]`.
fn py_list(threads: &[Thread]) -> String {
    let items: Vec<String> = threads.iter().map(|t| format!("{t}")).collect();
    format!("[{}]", items.join(", "))
}

/// Python's `print(*threading.enumerate(), sep="\n")`.
fn print_each(threads: &[Thread]) {
    for t in threads {
        println!("{t}");
    }
}

async fn thread_1(_i: i32) {
    sleep(Duration::from_secs(5)).await;
    println!("Threads alive when thread_1 executes:");
    print_each(&enumerate());
    println!();
}

async fn thread_2(_i: i32) {
    println!("Threads alive when thread_2 executes");
    print_each(&enumerate());
    println!();
}

async fn thread_3(_i: i32) {
    sleep(Duration::from_secs(4)).await;
}

async fn thread_4(_i: i32) {
    sleep(Duration::from_secs(1)).await;
    println!("Threads alive when thread_4 executes");
    print_each(&enumerate());
    println!();
}

fn main() {
    greenthread::run(async {
        // Creating sample threads
        let thread1 = Thread::new(|| thread_1(10));
        let thread2 = Thread::new(|| thread_2(20));
        let thread3 = Thread::new(|| thread_3(30));
        let thread4 = Thread::new(|| thread_4(50));

        println!("Threads alive in the starting: {}", py_list(&enumerate()));
        println!();

        // Starting the threads
        thread1.start().unwrap();
        thread2.start().unwrap();
        thread3.start().unwrap();
        thread4.start().unwrap();
    });
}
