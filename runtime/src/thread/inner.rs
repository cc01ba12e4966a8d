//! A thread's shared state, `ThreadInner`: what a [`Thread`](super::Thread)
//! handle points to — its Python class, lifecycle word, flags, ident and
//! native id, the done event joiners wait on, the wait record, and a
//! one-byte lock over the rarely used state (and, for a thread on its own,
//! its target-or-waker slot: `thread_ref`).

use std::any::Any;
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;

use event_listener::Event;

use super::hooks::Hooks;
use super::state::Lifecycle;
use super::target::Body;

/// The Python class a thread shows in its `Display`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `Thread`.
    Thread,
    /// `_MainThread`.
    Main,
    /// `_DummyThread`: a foreign OS thread.
    Dummy,
    /// `Timer`.
    Timer,
    /// A thread of [`start_new_thread`](crate::lowlevel::start_new_thread)
    /// (Python's `_thread`): no `Thread` object, so hidden from
    /// `enumerate()` and unnamed until it calls `current_thread()`, which
    /// makes it a registered `_DummyThread` (`Dummy-N`) — as in CPython.
    Raw,
}

/// `ThreadInner::flags`: asks the thread's wrapper to drop its target
/// (shutdown).
pub(crate) const CANCELLED: u8 = 1;
/// `ThreadInner::flags`: its `Local` values have been torn down; a value
/// created afterwards is dropped as soon as it has been used.
pub(crate) const LOCALS_CLOSED: u8 = 2;
/// `ThreadInner::flags`: a `Kind::Raw` thread not yet seen by
/// `current_thread()`: registered (so shutdown finds it) but not counted
/// by `enumerate()`/`active_count()`. Changed only under its registry
/// shard's lock.
pub(crate) const HIDDEN: u8 = 4;
/// `ThreadInner::flags`: the thread has ended and its registry entry waits
/// in a worker's batch to be removed (`registry::remove_ended`): every
/// reader of the registry skips it. Set before the thread is marked
/// `STOPPED`, so a joiner never finds it listed.
pub(crate) const ENDED: u8 = 8;
/// `ThreadInner::flags`: the thread has stored a `Local` value at least
/// once, so its teardown must look. Only the thread itself stores its
/// `Local` values and tears them down, so it needs no lock: a thread that
/// never used one ends without taking its lock for them.
pub(crate) const HAS_LOCALS: u8 = 16;
/// `ThreadInner::flags`: the `ThreadInner` is its task's metadata, in the
/// task's allocation (a Green `spawn`); set before it is placed there, never
/// changed once a handle to it exists (`thread_ref`).
pub(crate) const EMBEDDED: u8 = 32;
/// `ThreadInner::flags`: Python's `daemon`; changed only before `start()`.
pub(crate) const DAEMON: u8 = 64;

/// The shared state of one thread.
pub(crate) struct ThreadInner {
    /// Python class.
    pub(crate) kind: Kind,
    /// `INITIAL`, `STARTED` or `STOPPED`.
    pub(crate) state: Lifecycle,
    /// [`CANCELLED`], [`LOCALS_CLOSED`], [`HIDDEN`], [`ENDED`],
    /// [`HAS_LOCALS`], [`EMBEDDED`], [`DAEMON`].
    pub(crate) flags: AtomicU8,
    /// The lock of `parts`: one byte, beside the flags (a `std` mutex took
    /// a word of its own, W9).
    parts_lock: parking_lot::Mutex<()>,
    /// Its slot in the registry (`registry::NO_SLOT`: not registered).
    pub(crate) reg_slot: AtomicU32,
    /// Python's `ident`; 0 until started.
    pub(crate) ident: AtomicU64,
    /// The OS thread it last ran on; 0 until it has run.
    pub(crate) native_id: AtomicU32,
    /// `N` of the automatic name (0: named explicitly, or a
    /// `start_new_thread` thread not yet seen by `current_thread()`). In 32
    /// bits, as `native_id`, so the two share a word: a thread numbered
    /// past `u32::MAX` has the same name written out as an explicit one
    /// ([`ThreadInner::set_auto_n`]).
    pub(crate) auto_n: AtomicU32,
    /// Notified when the thread is marked `STOPPED`.
    pub(crate) done: Event,
    /// What it waits on (`crate::record`; written only by the thread).
    pub(crate) record: crate::record::WaitRecord,
    /// The rarely used state, under `parts_lock` ([`ThreadInner::parts`]);
    /// a thread on its own keeps its target-or-waker slot under the same
    /// lock.
    parts: PartsCell,
    /// Who owns it (`thread_ref`): on its own, the number of handles; in
    /// its task, the vtable of the task's waker.
    pub(super) owner: AtomicUsize,
}

/// The parts, reached only through a [`PartsGuard`].
struct PartsCell(UnsafeCell<Parts>);

// SAFETY: the cell is private to this module and reached only through a
// `PartsGuard`, which holds the `ThreadInner`'s `parts_lock`: one thread
// at a time, as under a `Mutex`. What it holds is `Send` (checked below),
// as a `Mutex` needs.
unsafe impl Sync for PartsCell {}

/// What `PartsCell`'s `Sync` rests on.
const _: () = {
    const fn send<T: Send>() {}
    send::<Parts>();
};

/// [`ThreadInner::parts`] locked.
pub(crate) struct PartsGuard<'a> {
    _lock: parking_lot::MutexGuard<'a, ()>,
    parts: &'a UnsafeCell<Parts>,
}

impl std::ops::Deref for PartsGuard<'_> {
    type Target = Parts;

    fn deref(&self) -> &Parts {
        // SAFETY: the guard holds `parts_lock`, so no other reference to
        // the parts exists while this one does.
        unsafe { &*self.parts.get() }
    }
}

impl std::ops::DerefMut for PartsGuard<'_> {
    fn deref_mut(&mut self) -> &mut Parts {
        // SAFETY: as for `deref`; `&mut self` makes this the only one
        // through the guard.
        unsafe { &mut *self.parts.get() }
    }
}

/// What a thread's one lock guards.
#[derive(Default)]
pub(crate) struct Parts {
    /// Boxed on first use: most threads never need it.
    pub(super) extra: Option<Box<Extra>>,
}

impl Parts {
    /// The rarely used state, created on first use.
    pub(crate) fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Box::default)
    }

    /// The `Local` values, taken out (the thread is ending).
    pub(crate) fn take_locals(&mut self) -> Vec<(usize, Box<dyn Any + Send>)> {
        self.extra
            .as_mut()
            .map(|e| std::mem::take(&mut e.locals))
            .unwrap_or_default()
    }

    /// The thread's hooks, if it has any (a new reference).
    pub(crate) fn hooks(&self) -> Option<Arc<Hooks>> {
        self.extra.as_ref().and_then(|e| e.hooks.clone())
    }

    /// The thread's hooks, taken out.
    pub(crate) fn take_hooks(&mut self) -> Option<Arc<Hooks>> {
        self.extra.as_mut().and_then(|e| e.hooks.take())
    }

    /// The number of `Local` values.
    pub(crate) fn locals_len(&self) -> usize {
        self.extra.as_ref().map_or(0, |e| e.locals.len())
    }

    /// Takes out the oldest `Local` value, if any.
    pub(crate) fn take_first_local(&mut self) -> Option<Box<dyn Any + Send>> {
        let locals = &mut self.extra.as_mut()?.locals;
        (!locals.is_empty()).then(|| locals.remove(0).1)
    }
}

/// A thread's target, then its task's waker: two words, a `Waker`'s. Only
/// a thread on its own has one, beside its `ThreadInner`
/// ([`ThreadRef::with_slot`](super::thread_ref::ThreadRef::with_slot)): a
/// thread in its task has its target in the task, and its task's waker is
/// the task's address. The
/// target is boxed once more for that (until `start()` only), so the
/// `Option` of it fits the niche of the waker's vtable pointer; as a third
/// variant beside a fat `Body` it took a word more in every thread.
pub(crate) enum TargetOrWaker {
    /// The target until `start()` takes it; `None`: neither (taken, or
    /// never had one: main, dummy, `spawn`).
    Target(Option<Box<Body>>),
    /// The task's waker, so shutdown can wake it to be cancelled.
    Waker(Waker),
}

impl Default for TargetOrWaker {
    fn default() -> Self {
        TargetOrWaker::Target(None)
    }
}

/// The automatic name of a thread of class `kind` numbered `n`.
pub(crate) fn auto_name(kind: Kind, n: u64) -> String {
    match kind {
        Kind::Main => "MainThread".to_string(),
        Kind::Dummy | Kind::Raw => format!("Dummy-{n}"),
        Kind::Thread | Kind::Timer => format!("Thread-{n}"),
    }
}

/// The state few threads use.
#[derive(Default)]
pub(crate) struct Extra {
    /// An explicit (or renamed) name; `None`: the automatic one.
    pub(crate) name: Option<Box<str>>,
    /// `Local` values: (key, value).
    pub(crate) locals: Vec<(usize, Box<dyn Any + Send>)>,
    /// Trace and profile hooks installed in this thread.
    pub(crate) hooks: Option<Arc<Hooks>>,
}

impl ThreadInner {
    /// A thread of class `kind`, not started, with its automatic number
    /// `auto_n` (0: none) and `flags` (`EMBEDDED` or none); a thread on
    /// its own keeps its target beside this (`ThreadRef::boxed`).
    pub(crate) fn new(
        kind: Kind,
        name: Option<String>,
        auto_n: u64,
        daemon: bool,
        flags: u8,
    ) -> ThreadInner {
        let inner = ThreadInner {
            kind,
            state: Lifecycle::initial(),
            // A `start_new_thread` thread is hidden until it calls
            // `current_thread()`.
            flags: AtomicU8::new(
                flags
                    | if kind == Kind::Raw { HIDDEN } else { 0 }
                    | if daemon { DAEMON } else { 0 },
            ),
            parts_lock: parking_lot::Mutex::new(()),
            reg_slot: AtomicU32::new(super::registry::NO_SLOT),
            ident: AtomicU64::new(0),
            native_id: AtomicU32::new(0),
            auto_n: AtomicU32::new(0),
            done: Event::new(),
            record: crate::record::WaitRecord::default(),
            parts: PartsCell(UnsafeCell::new(Parts {
                extra: name.map(|n| {
                    Box::new(Extra {
                        name: Some(n.into_boxed_str()),
                        ..Extra::default()
                    })
                }),
            })),
            owner: AtomicUsize::new(0),
        };
        if auto_n != 0 {
            inner.set_auto_n(auto_n);
        }
        inner
    }

    /// Whether `flag` (of `flags`) is set.
    pub(crate) fn has_flag(&self, flag: u8) -> bool {
        self.flags.load(Ordering::Acquire) & flag != 0
    }

    /// Gives the thread the automatic number `n`: in `auto_n`, or, past the
    /// 32 bits it has (four billion automatic names), written out as its
    /// name, which reads the same (a name given already stays, as it
    /// would over `auto_n`).
    pub(crate) fn set_auto_n(&self, n: u64) {
        match u32::try_from(n) {
            Ok(n) => self.auto_n.store(n, Ordering::Relaxed),
            Err(_) => {
                let mut parts = self.parts();
                let name = &mut parts.extra().name;
                name.get_or_insert_with(|| auto_name(self.kind, n).into());
            }
        }
    }

    /// The thread's name (`Thread::name`).
    pub(crate) fn name(&self) -> String {
        let parts = self.parts();
        match parts.extra.as_ref().and_then(|e| e.name.as_deref()) {
            Some(n) => n.to_string(),
            None => auto_name(self.kind, u64::from(self.auto_n.load(Ordering::Relaxed))),
        }
    }

    /// Locks the thread's parts (released by the guard's drop, on
    /// unwinding too).
    pub(crate) fn parts(&self) -> PartsGuard<'_> {
        PartsGuard {
            _lock: self.parts_lock.lock(),
            parts: &self.parts.0,
        }
    }
}

impl ThreadInner {
    /// Marks the thread `STOPPED` and wakes every joiner.
    pub(crate) fn mark_stopped(&self) {
        self.state.transition_to_stopped();
        // `Event::notify` allocates the event's list on first use, even
        // with nobody listening, and most threads are never joined through
        // it (a `spawn` handle waits on the task): a malloc and a free per
        // thread (W2). So look for listeners first. Every joiner listens,
        // then looks at the state again, and `listen` fences (SeqCst) after
        // registering; with this fence, either its look sees `STOPPED` or
        // this count sees it.
        std::sync::atomic::fence(Ordering::SeqCst);
        if self.done.total_listeners() > 0 {
            self.done.notify(usize::MAX);
        }
    }
}

/// The end of a thread as a protocol between its stopper and a joiner,
/// with the orderings `mark_stopped`, `registry::remove_ended` and a join
/// use (`Event::listen` registers, then fences SeqCst, as event-listener
/// does): a joiner that registered while the thread ran is notified, one
/// that looks after the end sees `STOPPED`, and whoever sees `STOPPED`
/// sees `ENDED` (so `enumerate()` after `join()` never lists it).
#[cfg(all(loom, test))]
mod loom_tests {
    use loom::sync::atomic::{fence, AtomicBool, AtomicU8, AtomicUsize, Ordering};
    use loom::sync::Arc;

    const STARTED: u8 = 1;
    const STOPPED: u8 = 2;

    #[derive(Default)]
    struct End {
        /// The lifecycle word.
        state: AtomicU8,
        /// The flags (`ENDED` only here).
        flags: AtomicU8,
        /// `Event::total_listeners`.
        listeners: AtomicUsize,
        /// `Event::notify` reached the listener.
        notified: AtomicBool,
    }

    #[test]
    fn loom_a_joiner_is_never_left_waiting_on_an_ended_thread() {
        loom::model(|| {
            let end = Arc::new(End::default());
            end.state.store(STARTED, Ordering::Relaxed);
            let e = end.clone();
            let stopper = loom::thread::spawn(move || {
                // `remove_ended`, then `mark_stopped`.
                e.flags.fetch_or(super::ENDED, Ordering::AcqRel);
                e.state.store(STOPPED, Ordering::Release);
                fence(Ordering::SeqCst);
                if e.listeners.load(Ordering::SeqCst) > 0 {
                    e.notified.store(true, Ordering::Release);
                }
            });
            // The joiner: listen (register, fence), then look.
            end.listeners.fetch_add(1, Ordering::SeqCst);
            fence(Ordering::SeqCst);
            let saw_stopped = end.state.load(Ordering::Acquire) == STOPPED;
            if saw_stopped {
                assert_ne!(
                    end.flags.load(Ordering::Acquire) & super::ENDED,
                    0,
                    "STOPPED seen before ENDED: enumerate() could list a joined thread"
                );
            }
            stopper.join().unwrap();
            assert!(
                saw_stopped || end.notified.load(Ordering::Acquire),
                "the joiner waits and nobody notifies it"
            );
        });
    }

    /// `Thread::cancel` against a thread parking for the first time
    /// (`ThreadTask::keep_waker`), with their orderings: cancel sets
    /// `CANCELLED` (release), then looks at the slot under its lock; the
    /// parking thread fills the slot under the lock, then reads the flag
    /// (acquire) and wakes itself if it is set. The thread must be woken to
    /// be cancelled either way: by cancel, which found the waker, or by
    /// itself. (A thread in its task, `spawn`'s, keeps no waker: cancel
    /// wakes it through the task after setting the flag, unconditionally.)
    #[test]
    fn loom_a_first_park_never_misses_a_cancel() {
        loom::model(|| {
            let flags = Arc::new(AtomicU8::new(0));
            // The slot: whether the task's waker is in it.
            let slot = Arc::new(loom::sync::Mutex::new(false));
            let woken_by_cancel = Arc::new(AtomicBool::new(false));
            let canceller = {
                let (flags, slot, woken) = (flags.clone(), slot.clone(), woken_by_cancel.clone());
                loom::thread::spawn(move || {
                    flags.fetch_or(super::CANCELLED, Ordering::Release);
                    let has_waker = *slot.lock().unwrap();
                    if has_waker {
                        woken.store(true, Ordering::Release);
                    }
                })
            };
            *slot.lock().unwrap() = true;
            let woke_itself = flags.load(Ordering::Acquire) & super::CANCELLED != 0;
            canceller.join().unwrap();
            assert!(
                woke_itself || woken_by_cancel.load(Ordering::Acquire),
                "a cancelled thread parked with nobody to wake it"
            );
        });
    }
}

#[cfg(test)]
mod tests {
    use super::super::Thread;
    use super::{Kind, TargetOrWaker, ThreadInner};

    #[test]
    #[cfg(target_pointer_width = "64")]
    fn a_thread_in_its_task_adds_72_bytes() {
        // The two 32-bit ids share a word, the parts' lock is a byte beside
        // the flags, and a thread in its task has no target-or-waker slot
        // (a waker's two words): it adds 72 B to its task (96 before).
        assert_eq!(std::mem::size_of::<TargetOrWaker>(), 16);
        assert_eq!(std::mem::size_of::<ThreadInner>(), 72);
    }

    #[test]
    fn a_number_past_32_bits_is_still_the_thread_s_name() {
        let n = u64::from(u32::MAX) + 1;
        let t = Thread::from_parts(Kind::Thread, None, n, false, None);
        assert_eq!(t.name(), "Thread-4294967296");
        let t = Thread::from_parts(Kind::Thread, None, u64::from(u32::MAX), false, None);
        assert_eq!(t.name(), "Thread-4294967295");
        let d = Thread::from_parts(Kind::Raw, None, 0, false, None);
        d.inner.set_auto_n(n + 1);
        assert_eq!(d.name(), "Dummy-4294967297");
        d.inner.set_auto_n(7);
        assert_eq!(d.name(), "Dummy-4294967297", "a written-out name stays");
        let named = Thread::from_parts(Kind::Raw, Some("x".into()), 0, false, None);
        named.inner.set_auto_n(n);
        assert_eq!(named.name(), "x", "a given name is not overwritten");
    }
}
