//! `greenthread::debug::dump()`: a few hundred threads in different waits,
//! and the thread dump that shows what each one waits on and for how long.
//!
//! 100 threads wait on an `Event`, 100 take turns on a `Queue`'s `get`, 50
//! queue up on a `Lock` the main thread holds, 50 sleep and one joins
//! another. Once they all wait, main prints the dump (grouped by state,
//! since every state is shared by many threads only above 1000 threads;
//! here one block per thread, so only the first blocks and the summary are
//! printed), then releases everyone and joins them all.
//!
//! Run it: `cargo run --example dump`

use std::collections::BTreeMap;
use std::time::Duration;

use greenthread::debug::{self, ThreadState, WaitingOn};
use greenthread::queue::Queue;
use greenthread::{Event, Lock, Thread};

fn start(name: String, f: impl std::future::Future<Output = ()> + Send + 'static) -> Thread {
    let mut f = Some(f);
    let t = Thread::builder()
        .name(name)
        .build(move || f.take().expect("runs once"));
    t.start().unwrap();
    t
}

fn main() {
    greenthread::run(async {
        let ev = Event::new();
        let q: Queue<u32> = Queue::new(0);
        let lock = Lock::new();
        lock.acquire().await; // main holds it: 50 threads queue up on it
        let mut threads = Vec::new();
        for i in 0..100 {
            let ev = ev.clone();
            threads.push(start(format!("event-waiter-{i}"), async move {
                ev.wait().await;
            }));
        }
        for i in 0..100 {
            let q = q.clone();
            threads.push(start(format!("consumer-{i}"), async move {
                q.get().await.unwrap();
            }));
        }
        for i in 0..50 {
            let lock = lock.clone();
            threads.push(start(format!("locker-{i}"), async move {
                let _g = lock.lock().await;
            }));
        }
        for i in 0..50 {
            threads.push(start(format!("sleeper-{i}"), async move {
                greenthread::sleep(Duration::from_secs(2)).await;
            }));
        }
        let last = threads.last().unwrap().clone();
        threads.push(start("joiner".into(), async move {
            last.join().await.unwrap();
        }));
        // Until every thread has reached its wait (at most 10 s: on a busy
        // machine, the dump shows what it finds then).
        let waiting = |d: &debug::Dump| {
            d.threads()
                .iter()
                .filter(|t| matches!(t.state, ThreadState::Waiting(_)))
                .count()
        };
        let mut dump = debug::dump();
        for _ in 0..1000 {
            if waiting(&dump) == threads.len() {
                break;
            }
            greenthread::sleep(Duration::from_millis(10)).await;
            dump = debug::dump();
        }
        let text = dump.to_string();
        // The whole dump has one block per thread: print the headers and
        // the first block of each kind of wait.
        let mut seen = std::collections::HashSet::new();
        for block in text.split("\n\n") {
            let state = block.lines().nth(1).unwrap_or("").trim();
            let kind: String = state.split(',').next().unwrap_or("").to_string();
            if block.starts_with("greenthread") || block.starts_with("runtime") || seen.insert(kind)
            {
                println!("{block}\n");
            }
        }
        println!("...");
        // A summary: threads per kind of wait.
        let mut per_state: BTreeMap<String, usize> = BTreeMap::new();
        for t in dump.threads() {
            let key = match &t.state {
                ThreadState::Waiting(WaitingOn::Lock { .. }) => "waiting on a Lock".to_string(),
                ThreadState::Waiting(w) => format!("waiting on {w:?}"),
                other => format!("{other:?}"),
            };
            *per_state.entry(key).or_default() += 1;
        }
        println!("summary of {} threads:", dump.threads().len());
        for (state, n) in &per_state {
            println!("  {n:4}  {state}");
        }
        println!("the JSON form is {} bytes", dump.to_json().len());

        // Release everyone.
        ev.set();
        for i in 0..100 {
            q.put(i).await.unwrap();
        }
        lock.release().unwrap();
        for t in threads {
            t.join().await.unwrap();
        }
        println!("all threads finished");
    });
}
