//! [`ThreadRef`]: the counted pointer a [`Thread`](super::Thread) handle is,
//! to a `ThreadInner` that lives in one of two places.
//!
//! - **On its own** (a Python-style thread, made before it is started; the
//!   main and dummy threads): a `Box` of an [`OnItsOwn`], the `ThreadInner`
//!   and its target-or-waker slot, counted by the `ThreadInner`'s `owner`
//!   word, as an `Arc` would count it.
//! - **In its task** (a thread made by `spawn` in Green mode): async-task
//!   keeps it as the task's metadata, in the task's one allocation, so a
//!   spawned thread costs one allocation, not two. A handle then counts as
//!   one of the task's references, as a waker of it does: cloning and
//!   dropping one is cloning and dropping the task's waker, and the last
//!   reference frees the task, `ThreadInner` included. The `owner` word
//!   holds the waker's vtable; its data pointer (the task's address) is the
//!   `ThreadInner`'s address less [`TASK_OFFSET`].
//!
//! The `EMBEDDED` flag, set before the `ThreadInner` is placed in its task
//! (`RtInner::launch_in_task`) and never changed once a handle to it exists,
//! tells the two apart.

use std::cell::UnsafeCell;
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::task::{RawWakerVTable, Waker};

use super::inner::{ThreadInner, EMBEDDED};
use super::target::Body;
use super::TargetOrWaker;

/// A thread on its own: its state, and its target until `start()`, then
/// its task's waker until its end. A thread in its task needs no slot (its
/// target is in the task, its task's waker is the task's address), so the
/// slot is here rather than in `ThreadInner`: 16 B less in every spawned
/// thread's task (W9).
#[repr(C)]
struct OnItsOwn {
    /// First (`repr(C)`): a `ThreadRef`'s pointer is to both.
    inner: ThreadInner,
    /// Guarded by `inner`'s parts lock ([`ThreadRef::with_slot`]).
    slot: UnsafeCell<TargetOrWaker>,
}

/// How far a task's `ThreadInner` sits from the task's start, which is its
/// waker's data pointer. async-task puts its header, metadata included, at
/// the start of every task, and the header is one type for every task
/// whose metadata is a `ThreadInner`, so one offset holds for them all: it
/// is learned at the first such spawn and checked at every one after
/// ([`ThreadRef::adopt`]). 0: not learned yet.
static TASK_OFFSET: AtomicUsize = AtomicUsize::new(0);

/// The `owner` word of an in-task `ThreadInner` whose task's offset did not
/// match [`TASK_OFFSET`] (which async-task's layout rules out): its handles
/// count nothing and its task is never freed. Such a thread has no waker to
/// hand `Thread::cancel` either (it lives in its task, with no slot): a
/// cancel reaches it at its next wake.
const IMMORTAL: usize = 0;

/// A counted pointer to a `ThreadInner` (module docs).
pub(crate) struct ThreadRef {
    ptr: NonNull<ThreadInner>,
}

/// What `ThreadRef`'s `Send` and `Sync` rest on, besides `ThreadInner`'s own:
/// the slot beside a thread on its own moves between threads under the lock.
const _: () = {
    const fn send<T: Send>() {}
    send::<TargetOrWaker>();
};

// SAFETY: a `ThreadRef` is a shared, counted reference to a `ThreadInner`,
// which is `Send + Sync` (all its state is atomics or behind a lock), as an
// `Arc<ThreadInner>` is; the counts it touches are atomic.
unsafe impl Send for ThreadRef {}
// SAFETY: as for `Send`.
unsafe impl Sync for ThreadRef {}

impl ThreadRef {
    /// `inner` on its own with `target`, with one handle: this one.
    pub(crate) fn boxed(inner: ThreadInner, target: Option<Body>) -> ThreadRef {
        debug_assert!(inner.flags.load(Ordering::Relaxed) & EMBEDDED == 0);
        inner.owner.store(1, Ordering::Relaxed);
        let own = Box::new(OnItsOwn {
            inner,
            slot: UnsafeCell::new(TargetOrWaker::Target(target.map(Box::new))),
        });
        // The pointer keeps the whole allocation's provenance: `with_slot`
        // and `drop` reach the slot through it.
        ThreadRef {
            ptr: NonNull::from(Box::leak(own)).cast::<ThreadInner>(),
        }
    }

    /// Runs `f` on the thread's target-or-waker slot under its parts lock;
    /// `None` for a thread in its task, which has none (`OnItsOwn`).
    pub(crate) fn with_slot<R>(&self, f: impl FnOnce(&mut TargetOrWaker) -> R) -> Option<R> {
        if self.has_flag(EMBEDDED) {
            return None;
        }
        let _parts = self.parts();
        let own = self.ptr.cast::<OnItsOwn>().as_ptr();
        // SAFETY: not `EMBEDDED`, so `boxed` made this pointer from an
        // `OnItsOwn` (`inner` first, `repr(C)`), alive while this handle
        // is; the raw pointer's provenance covers the slot. The parts lock,
        // held until `f` returns or unwinds, makes this the only reference
        // to the slot: every access goes through here.
        let slot = unsafe { &mut *UnsafeCell::raw_get(std::ptr::addr_of!((*own).slot)) };
        Some(f(slot))
    }

    /// The first handle to `inner`, the `EMBEDDED` metadata of the task
    /// whose waker `waker` is: the handle takes over the waker's reference
    /// to the task.
    ///
    /// # Safety
    ///
    /// `inner` must be the metadata of the async-task task `waker` wakes,
    /// and no handle to it may have been made yet (only uncounted ones,
    /// [`ThreadRef::uncounted`]).
    pub(crate) unsafe fn adopt(inner: &ThreadInner, waker: Waker) -> ThreadRef {
        debug_assert!(inner.flags.load(Ordering::Relaxed) & EMBEDDED != 0);
        let offset = (std::ptr::from_ref(inner) as usize).wrapping_sub(waker.data() as usize);
        let known = match TASK_OFFSET.load(Ordering::Relaxed) {
            0 => {
                TASK_OFFSET.store(offset, Ordering::Relaxed);
                offset
            }
            known => known,
        };
        let owner = if offset == known {
            std::ptr::from_ref(waker.vtable()) as usize
        } else {
            IMMORTAL
        };
        inner.owner.store(owner, Ordering::Relaxed);
        // The waker's reference is the handle's now (or, immortal, kept
        // forever).
        std::mem::forget(waker);
        ThreadRef {
            ptr: NonNull::from(inner),
        }
    }

    /// A handle to `inner` that counts nothing: for a value that lives no
    /// longer than `inner` does (the task's own future, whose metadata it
    /// is). Never dropped: `ManuallyDrop`.
    ///
    /// # Safety
    ///
    /// `inner` must outlive every use of the returned handle and of the
    /// references it lends; clones of it are counted and need no more.
    pub(crate) unsafe fn uncounted(inner: *const ThreadInner) -> ManuallyDrop<ThreadRef> {
        ManuallyDrop::new(ThreadRef {
            // SAFETY: the caller's `inner` is a live reference's address.
            ptr: unsafe { NonNull::new_unchecked(inner.cast_mut()) },
        })
    }

    /// The `ThreadInner`'s address.
    pub(crate) fn as_ptr(this: &ThreadRef) -> *const ThreadInner {
        this.ptr.as_ptr()
    }

    /// Whether the two are handles to the same thread.
    pub(crate) fn ptr_eq(a: &ThreadRef, b: &ThreadRef) -> bool {
        a.ptr == b.ptr
    }

    /// The waker of the task an in-task (`EMBEDDED`) thread lives in, not
    /// counted (`ManuallyDrop`), valid while this handle is; `None` for a
    /// thread on its own, or immortal. Waking it wakes the thread: no copy
    /// of it needs keeping (`ThreadTask::keep_waker`, `Thread::cancel`).
    pub(crate) fn embedded_task_waker(&self) -> Option<ManuallyDrop<Waker>> {
        if !self.has_flag(EMBEDDED) {
            return None;
        }
        self.task_waker()
    }

    /// The task's waker that an in-task `ThreadInner`'s handles count as,
    /// not counted itself (`ManuallyDrop`); `None`: immortal.
    fn task_waker(&self) -> Option<ManuallyDrop<Waker>> {
        let owner = self.owner.load(Ordering::Relaxed);
        if owner == IMMORTAL {
            return None;
        }
        let data = (self.ptr.as_ptr() as usize).wrapping_sub(TASK_OFFSET.load(Ordering::Relaxed));
        // SAFETY: `owner` is the address of the task's waker's vtable, a
        // `&'static` that `adopt` stored.
        let vtable = unsafe { &*(owner as *const RawWakerVTable) };
        // SAFETY: `vtable` and `data` are the task's waker's (`adopt`
        // checked the offset), and the task is alive: this handle holds one
        // of its references. `ManuallyDrop`: this waker counts nothing.
        let waker = unsafe { Waker::new(data as *const (), vtable) };
        Some(ManuallyDrop::new(waker))
    }
}

impl std::ops::Deref for ThreadRef {
    type Target = ThreadInner;

    fn deref(&self) -> &ThreadInner {
        // SAFETY: the handle holds a reference (or, uncounted, its maker
        // guarantees the `ThreadInner` outlives it), so it is alive.
        unsafe { self.ptr.as_ref() }
    }
}

impl Clone for ThreadRef {
    fn clone(&self) -> ThreadRef {
        if self.has_flag(EMBEDDED) {
            if let Some(waker) = self.task_waker() {
                // A new reference to the task, the clone's.
                std::mem::forget(Waker::clone(&waker));
            }
        } else if self.owner.fetch_add(1, Ordering::Relaxed) > isize::MAX as usize {
            // As `Arc`: that many handles can only be leaked ones.
            std::process::abort();
        }
        ThreadRef { ptr: self.ptr }
    }
}

impl Drop for ThreadRef {
    fn drop(&mut self) {
        if self.has_flag(EMBEDDED) {
            // The task frees itself, `ThreadInner` included, with its last
            // reference (its metadata holds no user value by then: the
            // thread's ending steps took its `Local`s and hooks out).
            if let Some(waker) = self.task_waker() {
                drop(ManuallyDrop::into_inner(waker));
            }
            return;
        }
        if self.owner.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // As `Arc`: every other handle's last use happens before the free.
        fence(Ordering::Acquire);
        // SAFETY: this was the last handle to an `OnItsOwn` made by
        // `boxed` (not `EMBEDDED`), so nothing else points to it.
        drop(unsafe { Box::from_raw(self.ptr.cast::<OnItsOwn>().as_ptr()) });
    }
}

#[cfg(test)]
mod tests {
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_thread_on_its_own_fits_malloc_s_96_byte_chunk() {
        // `ThreadInner` and the slot: an 88 B request, a 96 B chunk with
        // malloc's header (112 B while the lock took a word of its own).
        assert_eq!(std::mem::size_of::<super::OnItsOwn>(), 88);
    }
}
