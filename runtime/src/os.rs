//! OS-thread mode: each thread's task gets its own OS thread, which runs the
//! task whenever it is woken and parks otherwise.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use async_task::{Runnable, Task};

use crate::thread::{stack_size, Thread};

/// The hand-off between a task's wakers and its OS thread.
#[derive(Debug, Default)]
struct Slot {
    /// The task, when scheduled.
    runnable: Mutex<Option<Runnable>>,
    /// The OS thread, once it runs.
    thread: OnceLock<std::thread::Thread>,
    /// Set when the task's future has been dropped (it completed or was
    /// cancelled): the OS thread exits.
    done: AtomicBool,
}

/// Sets `done` when the future it travels with is dropped.
struct DoneOnDrop(Arc<Slot>);

impl Drop for DoneOnDrop {
    fn drop(&mut self) {
        self.0.done.store(true, Ordering::Release);
        if let Some(t) = self.0.thread.get() {
            t.unpark();
        }
    }
}

/// Runs `fut` as `thread` on a new OS thread named after it, with the
/// process-wide [`stack_size`].
pub(crate) fn spawn<F>(thread: &Thread, fut: F) -> std::io::Result<Task<F::Output>>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let slot = Arc::new(Slot::default());
    let guard = DoneOnDrop(slot.clone());
    let fut = async move {
        let _guard = guard;
        fut.await
    };
    let s = slot.clone();
    let schedule = move |r: Runnable| {
        *s.runnable.lock().unwrap_or_else(|e| e.into_inner()) = Some(r);
        if let Some(t) = s.thread.get() {
            t.unpark();
        }
    };
    let (runnable, task) = async_task::spawn(fut, schedule);
    let mut builder = std::thread::Builder::new().name(thread.name());
    match stack_size(None) {
        Ok(0) | Err(_) => {}
        Ok(n) => builder = builder.stack_size(n),
    }
    builder.spawn(move || {
        let _ = slot.thread.set(std::thread::current());
        let mut next = Some(runnable);
        loop {
            if let Some(r) = next.take() {
                r.run();
            }
            if slot.done.load(Ordering::Acquire) {
                break;
            }
            next = slot
                .runnable
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            if next.is_none() {
                std::thread::park();
            }
        }
    })?;
    Ok(task)
}
