//! The `queue` module with worker threads: Python's "Multithreaded Priority
//! Queue".
//!
//! Part 1 mirrors the tutorial's t8.py line for line: three
//! `sample_Thread`s (a type implementing `Target`, Python's subclass)
//! named `Thread-1`..`Thread-3` loop until `thread_exit_Flag` is set; under
//! `queueLock` each takes an item from `workQueue = Queue(10)` if there is
//! one and prints `NAME processing ITEM`, or else releases the lock and
//! sleeps 1 s. Main fills the queue with `A`..`E` under the lock, waits for
//! it to empty, sets the flag, joins the threads and prints
//! `Exit Main Thread`. (Python busy-waits with `pass`; main here sleeps
//! 10 ms per check, which a cooperative thread must do to let others run.)
//!
//! Part 2 does what the tutorial's title promises: a real `PriorityQueue`
//! of `(priority, job)` pairs, filled in scrambled order and served by the
//! same three workers smallest priority first. Each worker gets and prints
//! under one lock, so the printed order is the order the queue served.
//!
//! Run it: `cargo run --example priority_queue`

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use greenthread::queue::{PriorityQueue, Queue};
use greenthread::{sleep, Lock, Target, Thread};

/// The state t8.py keeps in globals, shared by every thread.
#[derive(Clone)]
struct Shared {
    thread_exit_flag: Arc<AtomicBool>,
    queue_lock: Lock,
    work_queue: Queue<&'static str>,
}

/// Python's `class sample_Thread(threading.Thread)`.
struct SampleThread {
    #[allow(dead_code)] // stored as in t8.py, never read there either
    thread_id: u32,
    name: String,
    q: Queue<&'static str>,
    shared: Shared,
}

impl SampleThread {
    /// Python's `sample_Thread(threadID, name, q)`: the thread, named.
    fn create(thread_id: u32, name: &str, q: Queue<&'static str>, shared: Shared) -> Thread {
        let target = SampleThread {
            thread_id,
            name: name.to_string(),
            q,
            shared,
        };
        Thread::builder().name(name).build(target)
    }
}

impl Target for SampleThread {
    async fn run(self) {
        println!("initializing {}", self.name);
        process_data(&self.name, &self.q, &self.shared).await;
        println!("Exiting {}", self.name);
    }
}

/// helper function to process data
async fn process_data(thread_name: &str, q: &Queue<&'static str>, shared: &Shared) {
    while !shared.thread_exit_flag.load(Ordering::SeqCst) {
        shared.queue_lock.acquire().await;
        if !shared.work_queue.empty() {
            let data = q.get().await.unwrap();
            shared.queue_lock.release().unwrap();
            println!("{thread_name} processing {data}");
        } else {
            shared.queue_lock.release().unwrap();
            sleep(Duration::from_secs(1)).await;
        }
    }
}

// `threadID += 1` as in t8.py rather than clippy's `zip(1..)`.
#[allow(clippy::explicit_counter_loop)]
async fn part1() {
    let thread_list = ["Thread-1", "Thread-2", "Thread-3"];
    let name_list = ["A", "B", "C", "D", "E"];
    let shared = Shared {
        thread_exit_flag: Arc::new(AtomicBool::new(false)),
        queue_lock: Lock::new(),
        work_queue: Queue::new(10),
    };
    let mut threads = Vec::new();
    let mut thread_id = 1;

    // Create new threads
    for thread_name in thread_list {
        let thread = SampleThread::create(
            thread_id,
            thread_name,
            shared.work_queue.clone(),
            shared.clone(),
        );
        thread.start().unwrap();
        threads.push(thread);
        thread_id += 1;
    }

    // Fill the queue
    shared.queue_lock.acquire().await;
    for items in name_list {
        shared.work_queue.put(items).await.unwrap();
    }
    shared.queue_lock.release().unwrap();

    // Wait for the queue to empty
    while !shared.work_queue.empty() {
        sleep(Duration::from_millis(10)).await;
    }

    // Notify threads it's time to exit
    shared.thread_exit_flag.store(true, Ordering::SeqCst);

    // Wait for all threads to complete
    for t in &threads {
        t.join().await.unwrap();
    }
    println!("Exit Main Thread");
}

async fn part2() {
    println!();
    println!("A real PriorityQueue: smallest priority first");
    let jobs = [
        (3, "write the report"),
        (1, "fix the outage"),
        (4, "tidy the desk"),
        (2, "answer the customer"),
        (5, "plan the party"),
        (1, "page the on-call"),
    ];
    let q: PriorityQueue<(u32, &'static str)> = PriorityQueue::new(10);
    for job in jobs {
        println!("put {job:?}");
        q.put(job).await.unwrap();
    }
    let print_lock = Lock::new();
    let mut workers = Vec::new();
    for name in ["Thread-1", "Thread-2", "Thread-3"] {
        let (q, print_lock) = (q.clone(), print_lock.clone());
        let worker = Thread::builder().name(name).build(move || async move {
            loop {
                let _guard = print_lock.lock().await;
                let Ok((priority, job)) = q.get_nowait() else {
                    break;
                };
                println!("{name} processing priority {priority}: {job}");
                q.task_done().unwrap();
            }
        });
        worker.start().unwrap();
        workers.push(worker);
    }
    // Python's `q.join()`: until every item put has been marked done.
    q.join().await;
    for w in &workers {
        w.join().await.unwrap();
    }
    println!("Exit Main Thread");
}

fn main() {
    greenthread::run(async {
        part1().await;
        part2().await;
    });
}
