//! Run queues: a worker's bounded local queue, and moving tasks between
//! queues (batches from the injector, steals between workers).
//!
//! The local queue is a lock-free bounded MPMC ring (`concurrent-queue`):
//! its owner pushes and pops, thieves pop. Every move below pops one task at
//! a time from the source and pushes it into the destination, so a task is
//! always in exactly one queue (or in the hands of exactly one worker): none
//! is lost or run twice, whatever the interleaving. The loom model in
//! `tests` checks this with two workers.

use concurrent_queue::{ConcurrentQueue, PushError};

use super::LOCAL_QUEUE_CAPACITY;

/// A worker's local run queue.
#[derive(Debug)]
pub(crate) struct LocalQueue<T>(ConcurrentQueue<T>);

impl<T> LocalQueue<T> {
    pub(crate) fn new() -> LocalQueue<T> {
        LocalQueue(ConcurrentQueue::bounded(LOCAL_QUEUE_CAPACITY))
    }

    /// Pushes at the back; gives the task back if the queue is full.
    pub(crate) fn push(&self, r: T) -> Result<(), T> {
        self.0.push(r).map_err(|e| match e {
            PushError::Full(r) | PushError::Closed(r) => r,
        })
    }

    /// Pops from the front.
    pub(crate) fn pop(&self) -> Option<T> {
        self.0.pop().ok()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn len(&self) -> usize {
        self.0.len()
    }

    /// Moves half of the queue to `injector` (the queue is full).
    pub(crate) fn spill_half(&self, injector: &ConcurrentQueue<T>) {
        for _ in 0..self.len() / 2 {
            match self.0.pop() {
                Ok(r) => {
                    let _ = injector.push(r);
                }
                Err(_) => break,
            }
        }
    }

    /// Takes one task from `injector` to run, and moves a fair share of the
    /// rest (its length divided among `workers`, at most half our capacity)
    /// into this queue.
    pub(crate) fn take_batch(&self, injector: &ConcurrentQueue<T>, workers: usize) -> Option<T> {
        let first = injector.pop().ok()?;
        let share = (injector.len() / workers.max(1)).min(LOCAL_QUEUE_CAPACITY / 2);
        for _ in 0..share {
            let Ok(r) = injector.pop() else { break };
            if let Err(r) = self.push(r) {
                let _ = injector.push(r);
                break;
            }
        }
        Some(first)
    }
}

/// Steals about half of `victim`'s tasks: returns one to run and moves the
/// others into `dest`.
pub(crate) fn steal_half<T>(victim: &LocalQueue<T>, dest: &LocalQueue<T>) -> Option<T> {
    let count = victim.len().div_ceil(2);
    if count == 0 {
        return None;
    }
    let first = victim.pop()?;
    for _ in 1..count {
        let Some(r) = victim.pop() else { break };
        if let Err(r) = dest.push(r) {
            // Our own queue is full (we only steal when it is empty, so only
            // a concurrent push can fill it): give the task back.
            let _ = victim.push(r);
            break;
        }
    }
    Some(first)
}

/// Loom models of the run queue: whatever the interleaving of an owner
/// pushing and popping with thieves stealing (and workers taking batches
/// from the injector), every task ends up exactly once somewhere — run by
/// one worker or left in one queue. Capacities are shrunk under loom
/// (`LOCAL_QUEUE_CAPACITY` = 4) so "full" is reachable. Run with
/// `ci/loom.sh`.
#[cfg(all(test, loom))]
mod loom_tests {
    use concurrent_queue::ConcurrentQueue;
    use loom::sync::Arc;
    use loom::thread;

    use super::{steal_half, LocalQueue};

    fn drain(q: &LocalQueue<u32>, out: &mut Vec<u32>) {
        while let Some(v) = q.pop() {
            out.push(v);
        }
    }

    fn check(mut seen: Vec<u32>, expected: std::ops::RangeInclusive<u32>) {
        seen.sort_unstable();
        let want: Vec<u32> = expected.collect();
        assert_eq!(seen, want, "a task was lost or duplicated");
    }

    /// The owner pushes (to the point of filling the queue) and pops while a
    /// thief steals half.
    #[test]
    fn loom_owner_push_pop_vs_steal() {
        loom::model(|| {
            let victim = Arc::new(LocalQueue::new());
            let dest = Arc::new(LocalQueue::new());
            victim.push(1).unwrap();
            victim.push(2).unwrap();
            let thief = {
                let (victim, dest) = (victim.clone(), dest.clone());
                thread::spawn(move || {
                    let mut got = Vec::new();
                    got.extend(steal_half(&victim, &dest));
                    drain(&dest, &mut got);
                    got
                })
            };
            let mut seen = Vec::new();
            // Owner: push 3..=5 (the queue holds 4: a push may give its task
            // back, which the executor would spill to the injector).
            for v in 3..=5 {
                if let Err(v) = victim.push(v) {
                    seen.push(v);
                }
            }
            seen.extend(victim.pop());
            seen.extend(thief.join().unwrap());
            drain(&victim, &mut seen);
            check(seen, 1..=5);
        });
    }

    /// Two thieves steal from one owner that pops concurrently.
    #[test]
    fn loom_two_thieves() {
        loom::model(|| {
            let victim = Arc::new(LocalQueue::new());
            for v in 1..=3 {
                victim.push(v).unwrap();
            }
            let thieves: Vec<_> = (0..2)
                .map(|_| {
                    let victim = victim.clone();
                    thread::spawn(move || {
                        let dest = LocalQueue::new();
                        let mut got = Vec::new();
                        got.extend(steal_half(&victim, &dest));
                        drain(&dest, &mut got);
                        got
                    })
                })
                .collect();
            let mut seen = Vec::new();
            seen.extend(victim.pop());
            for t in thieves {
                seen.extend(t.join().unwrap());
            }
            drain(&victim, &mut seen);
            check(seen, 1..=3);
        });
    }

    /// A worker takes a batch from the injector into its local queue while
    /// a thief steals from that local queue and pushes to the injector.
    #[test]
    fn loom_take_batch_vs_steal() {
        loom::model(|| {
            let injector = Arc::new(ConcurrentQueue::bounded(4));
            for v in 1..=3 {
                injector.push(v).unwrap();
            }
            let local = Arc::new(LocalQueue::new());
            let thief = {
                let (injector, local) = (injector.clone(), local.clone());
                thread::spawn(move || {
                    let dest = LocalQueue::new();
                    let mut got = Vec::new();
                    if let Err(e) = injector.push(4) {
                        got.push(e.into_inner());
                    }
                    got.extend(steal_half(&local, &dest));
                    drain(&dest, &mut got);
                    got
                })
            };
            let mut seen = Vec::new();
            seen.extend(local.take_batch(&injector, 1));
            seen.extend(thief.join().unwrap());
            drain(&local, &mut seen);
            while let Ok(v) = injector.pop() {
                seen.push(v);
            }
            check(seen, 1..=4);
        });
    }
}
