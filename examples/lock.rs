//! `threading.Lock`: `acquire()` / `release()` around a critical section.
//!
//! Mirrors the tutorial's "Synchronizing threads" program: two threads,
//! `first_function` and `second_function`, each take the lock five times
//! and print `lock acquired` followed by `Executing the first funcion` (or
//! `second`; the tutorial's spelling is kept) while holding it, so each pair
//! of lines stays together however the threads interleave. Main starts both
//! and joins both.
//!
//! Run it: `cargo run --example lock`

use greenthread::{Lock, Thread};

async fn first_function(lock: Lock) {
    for _ in 0..5 {
        lock.acquire().await;
        println!("lock acquired");
        println!("Executing the first funcion");
        lock.release().unwrap();
    }
}

async fn second_function(lock: Lock) {
    for _ in 0..5 {
        lock.acquire().await;
        println!("lock acquired");
        println!("Executing the second funcion");
        lock.release().unwrap();
    }
}

fn main() {
    greenthread::run(async {
        let lock = Lock::new();
        let thread_one = Thread::new({
            let lock = lock.clone();
            move || first_function(lock)
        });
        let thread_two = Thread::new({
            let lock = lock.clone();
            move || second_function(lock)
        });

        thread_one.start().unwrap();
        thread_two.start().unwrap();

        thread_one.join().await.unwrap();
        thread_two.join().await.unwrap();
    });
}
