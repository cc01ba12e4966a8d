//! [`Job`]: a queued task, whatever its metadata type.
//!
//! async-task's `Runnable<M>` is typed by the task's metadata: a thread
//! made by `spawn` keeps its Python state there, in the task's one
//! allocation, and the other tasks keep none. The queues hold either kind
//! as a `Job`: the runnable's raw pointer and the two functions that run
//! or drop it as the `Runnable<M>` it was.

use std::ptr::NonNull;

use async_task::Runnable;

/// A queued task: a `Runnable<M>` for some `M` (module docs).
pub(crate) struct Job {
    /// `Runnable::into_raw`'s pointer.
    ptr: NonNull<()>,
    /// Its `M`'s functions.
    vtable: &'static JobVTable,
}

/// How a [`Job`] of one metadata type runs and drops.
struct JobVTable {
    /// `Runnable::run`.
    run: unsafe fn(NonNull<()>) -> bool,
    /// `Runnable`'s `Drop`.
    drop: unsafe fn(NonNull<()>),
}

/// The [`JobVTable`] of `Runnable<M>`.
struct VTableOf<M>(std::marker::PhantomData<M>);

impl<M> VTableOf<M> {
    const VTABLE: JobVTable = JobVTable {
        run: run::<M>,
        drop: drop_runnable::<M>,
    };
}

/// # Safety
///
/// `ptr` is a `Runnable<M>`'s, from `into_raw`, not yet taken back.
unsafe fn run<M>(ptr: NonNull<()>) -> bool {
    // SAFETY: the caller's contract.
    unsafe { Runnable::<M>::from_raw(ptr) }.run()
}

/// # Safety
///
/// As [`run`].
unsafe fn drop_runnable<M>(ptr: NonNull<()>) {
    // SAFETY: the caller's contract.
    drop(unsafe { Runnable::<M>::from_raw(ptr) });
}

// SAFETY: a `Job` is a `Runnable<M>` of a task spawned with `M: Send +
// Sync` (the executor's spawn requires it), which is `Send` and `Sync`.
unsafe impl Send for Job {}
// SAFETY: as for `Send`: `&Job` gives access to nothing.
unsafe impl Sync for Job {}

impl<M: Send + Sync + 'static> From<Runnable<M>> for Job {
    fn from(r: Runnable<M>) -> Job {
        Job {
            ptr: r.into_raw(),
            vtable: &VTableOf::<M>::VTABLE,
        }
    }
}

impl Job {
    /// Runs the task (`Runnable::run`): whether it woke itself while
    /// running.
    #[inline]
    pub(crate) fn run(self) -> bool {
        let this = std::mem::ManuallyDrop::new(self);
        // SAFETY: `ptr` came from `into_raw` of the runnable `vtable` was
        // made for, and is taken back once: `this` is never dropped.
        unsafe { (this.vtable.run)(this.ptr) }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        // SAFETY: as in `run`: taken back once, here.
        unsafe { (self.vtable.drop)(self.ptr) }
    }
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Job").field(&self.ptr).finish()
    }
}
