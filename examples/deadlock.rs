//! A deadlock and the report greenthread gives for it.
//!
//! The tutorial's two functions, each taking two `Lock`s — but in opposite
//! order: `first_function` takes `lock_a` then `lock_b`, `second_function`
//! takes `lock_b` then `lock_a`. Once each holds its first lock, each waits
//! for the other's forever: a deadlock, which Python would leave hanging
//! in silence. greenthread's detector (on by default) notices within about
//! a second and calls the deadlock hook with a report naming both threads,
//! the lock each waits on and who holds it.
//!
//! The default hook prints the report to stderr and leaves the threads
//! blocked, as Python would; this example installs a hook that prints it to
//! stdout and then ends the program (`std::process::exit`), so it
//! terminates.
//!
//! Run it: `cargo run --example deadlock`

use std::sync::Arc;

use greenthread::{Barrier, Lock, Thread};

async fn first_function(lock_a: Lock, lock_b: Lock, both_hold: Barrier) {
    let _a = lock_a.lock().await;
    println!("first_function: holds lock_a, now wants lock_b");
    // Once the other holds its first lock too (a sleep made that likely;
    // the barrier makes it certain).
    let _ = both_hold.wait().await;
    let _b = lock_b.lock().await;
    println!("first_function: got both (never printed)");
}

async fn second_function(lock_a: Lock, lock_b: Lock, both_hold: Barrier) {
    let _b = lock_b.lock().await;
    println!("second_function: holds lock_b, now wants lock_a");
    let _ = both_hold.wait().await;
    let _a = lock_a.lock().await;
    println!("second_function: got both (never printed)");
}

fn main() {
    greenthread::debug::set_deadlock_hook(Arc::new(|report| {
        println!("{report}");
        std::process::exit(0);
    }));
    greenthread::run(async {
        let lock_a = Lock::new();
        let lock_b = Lock::new();
        let both_hold = Barrier::new(2);
        let (a, b, w) = (lock_a.clone(), lock_b.clone(), both_hold.clone());
        let t1 = Thread::builder()
            .name("first_function")
            .build(move || first_function(a, b, w));
        let (a, b, w) = (lock_a.clone(), lock_b.clone(), both_hold.clone());
        let t2 = Thread::builder()
            .name("second_function")
            .build(move || second_function(a, b, w));
        t1.start().unwrap();
        t2.start().unwrap();
        t1.join().await.unwrap();
        t2.join().await.unwrap();
    });
}
