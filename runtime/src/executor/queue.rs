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
