//! The core shared by [`Queue`](super::Queue), [`LifoQueue`](super::LifoQueue)
//! and [`PriorityQueue`](super::PriorityQueue): Python's `queue.Queue` with
//! the ordering left to a [`Store`] (Python's `_put`/`_get` hooks).

// loom's mutex under the crate's loom models, so that the queue's waiting
// protocol (the mutex, the waiter lists, the wakers) is model-checked.
#[cfg(all(loom, test))]
use loom::sync::{Mutex, MutexGuard};
// Otherwise parking_lot's: std's futex mutex puts a thread to sleep in the
// kernel as soon as it loses one race for a released lock after its short
// spin, and every unlock of a lock so marked is a futex wake. Two workers
// hammering one queue (W7: 4 producers and 4 consumers on 2 workers) then
// made a futex call every few hundred items and slept whole worker OS
// threads: the slow one of W7's two modes. parking_lot's lock spins with
// backoff and yields before it parks, and unlocks with one CAS unless a
// thread really parked.
#[cfg(not(all(loom, test)))]
use parking_lot::{Mutex, MutexGuard};

/// Locks the queue's state. A panic under the lock can only come from the
/// item's `Ord` (PriorityQueue), inside a [`Settle`], which leaves the
/// counters consistent; so loom's poisoning is ignored (parking_lot's lock
/// has none).
#[inline]
fn lock_state<S>(m: &Mutex<State<S>>) -> MutexGuard<'_, State<S>> {
    #[cfg(all(loom, test))]
    {
        m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    #[cfg(not(all(loom, test)))]
    {
        m.lock()
    }
}

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use event_listener::Event;

use super::{GetError, PutError};
use crate::rt::{self, Deadline};
use crate::waiters::{for_each_caught, wake_all, wake_one, Ticket, Waiters};
use crate::SyncError;

/// Where the items are kept, in the order they leave.
///
/// `push` and `pop` may panic (a `PriorityQueue` item's `Ord`); they must
/// then keep every item: a panicking `push` leaves the new item in the
/// store, a panicking `pop` leaves the store as it was. [`Core`] counts an
/// item by the store's length, so a kept item is always counted. A store's
/// `Drop` drops its items with [`drop_items`].
pub(crate) trait Store<T>: Default + StoreLen {
    /// Adds an item.
    fn push(&mut self, item: T);
    /// Removes the next item.
    fn pop(&mut self) -> Option<T>;
    /// Items held.
    fn len(&self) -> usize;
    /// Removes every item (in leaving order where that needs no user code);
    /// must not panic.
    fn drain_all(&mut self) -> Vec<T> {
        let mut v = Vec::with_capacity(self.len());
        while let Some(item) = self.pop() {
            v.push(item);
        }
        v
    }
}

/// The state under the mutex.
#[derive(Debug)]
struct State<S> {
    /// The items.
    store: S,
    /// 0 = unbounded.
    maxsize: usize,
    /// Items put and not yet marked done.
    unfinished: usize,
    /// Shut down (irreversible).
    shutdown: bool,
    /// Python's `not_empty`: getters waiting for an item.
    getters: Waiters,
    /// Python's `not_full`: putters waiting for a free slot.
    putters: Waiters,
}

impl<S> State<S> {
    /// Python's `full()` for `len` items.
    fn is_full(&self, len: usize) -> bool {
        self.maxsize > 0 && len >= self.maxsize
    }
}

/// The queue's lock and state at the start of their own two cache lines
/// (adjacent-line prefetch pairs them): the uncontended paths touch the
/// lock word, the store, the counts and the waiter counts, and two workers
/// using one queue pass exactly those lines back and forth.
#[derive(Debug)]
#[repr(align(128))]
struct Aligned<T>(T);

/// The shared queue.
#[derive(Debug)]
pub(crate) struct Core<T, S> {
    /// Items, counters, flags, waiters.
    state: Aligned<Mutex<State<S>>>,
    /// Python's `all_tasks_done`: `join` waits here.
    all_done: Event,
    /// Its id (`greenthread::debug`).
    id: rt::PrimId,
    /// Ties `T` to the core.
    _items: std::marker::PhantomData<fn(T) -> T>,
}

impl<T, S> Core<T, S> {
    /// Locks the state ([`lock_state`]).
    #[inline]
    fn lock(&self) -> MutexGuard<'_, State<S>> {
        lock_state(&self.state.0)
    }
}

/// Drops `items` one by one, so that a `Drop` that panics neither leaks
/// the items after it nor aborts the process; the first panic is resumed
/// afterwards, unless the thread is already unwinding
/// ([`for_each_caught`]).
///
/// Call it with the queue's lock released and every waiter woken.
pub(crate) fn drop_items<T>(items: impl IntoIterator<Item = T>) {
    for_each_caught(items, drop);
}

/// The lock held across one `push` or `pop` of the store, with the store's
/// length before it. Dropping it settles the accounting by the length
/// found then — normally and when the store's `push`/`pop` panicked (an
/// `Ord`), so a panic cannot drift a count or strand a waiter:
///
/// - an item more: it is counted (`unfinished`) and a getter notified,
///   even if `push` panicked after storing it (the putter lost it, the
///   queue holds it);
/// - an item fewer: a putter is notified (a slot is free);
/// - no change (the operation panicked and kept everything): a getter that
///   was notified for an item still there and a putter notified for a free
///   slot may just have used their notification on this failed look, so
///   one of each is notified again if there is something for them.
///
/// The lock is released, then the waiter woken.
struct Settle<'a, S: StoreLen> {
    /// The lock; `None` once handed back by [`Settle::into_guard`].
    st: Option<MutexGuard<'a, State<S>>>,
    /// The store's length before the operation.
    len: usize,
}

impl<'a, S: StoreLen> Settle<'a, S> {
    fn new(st: MutexGuard<'a, State<S>>) -> Self {
        let len = st.store.store_len();
        Settle { st: Some(st), len }
    }

    /// The state (present until [`into_guard`](Self::into_guard)).
    fn state(&mut self) -> &mut State<S> {
        self.st
            .as_mut()
            .expect("Settle holds the lock until consumed")
    }

    /// The operation changed nothing and did not panic: takes the lock
    /// back, settling nothing.
    fn into_guard(mut self) -> MutexGuard<'a, State<S>> {
        self.st
            .take()
            .expect("Settle holds the lock until consumed")
    }
}

impl<S: StoreLen> Drop for Settle<'_, S> {
    fn drop(&mut self) {
        let Some(mut st) = self.st.take() else { return };
        let len = st.store.store_len();
        // The common cases wake one waiter at most: no list of wakers.
        let (first, second) = if len > self.len {
            st.unfinished += len - self.len;
            (st.getters.notify_one(), None)
        } else if len < self.len {
            (st.putters.notify_one(), None)
        } else {
            let getter = if len > 0 {
                st.getters.notify_one()
            } else {
                None
            };
            let putter = if st.is_full(len) {
                None
            } else {
                st.putters.notify_one()
            };
            (getter, putter)
        };
        drop(st);
        if let Some(w) = first {
            wake_one(w);
        }
        if let Some(w) = second {
            wake_one(w);
        }
    }
}

impl<T, S: Store<T>> Core<T, S> {
    /// A queue holding at most `maxsize` items (0: unbounded).
    pub(crate) fn new(maxsize: usize) -> Self {
        Core {
            state: Aligned(Mutex::new(State {
                store: S::default(),
                maxsize,
                unfinished: 0,
                shutdown: false,
                getters: Waiters::default(),
                putters: Waiters::default(),
            })),
            all_done: Event::new(),
            id: rt::PrimId::default(),
            _items: std::marker::PhantomData,
        }
    }

    /// Items in the queue now.
    pub(crate) fn qsize(&self) -> usize {
        self.lock().store.len()
    }

    /// Whether the queue is full now.
    pub(crate) fn full(&self) -> bool {
        let st = self.lock();
        st.is_full(st.store.len())
    }

    /// The bound (0: unbounded).
    pub(crate) fn maxsize(&self) -> usize {
        self.lock().maxsize
    }

    /// Changes the bound; putters are woken to re-check.
    pub(crate) fn set_maxsize(&self, maxsize: usize) {
        let mut st = self.lock();
        st.maxsize = maxsize;
        let wakers = st.putters.notify_all();
        drop(st);
        wake_all(wakers);
    }

    /// Whether `shutdown` was called.
    pub(crate) fn is_shut_down(&self) -> bool {
        self.lock().shutdown
    }

    /// Puts without waiting, or gives the item back.
    pub(crate) fn try_put(&self, item: T) -> Result<(), PutError<T>> {
        let st = self.lock();
        self.put_locked(st, item).map_err(|(_, err)| err)
    }

    /// Puts `item` if the queue is open and not full, then unlocks and
    /// wakes a getter if one waits. On failure, the lock is still held.
    #[inline]
    fn put_locked<'a>(
        &'a self,
        st: MutexGuard<'a, State<S>>,
        item: T,
    ) -> Result<(), (MutexGuard<'a, State<S>>, PutError<T>)> {
        if st.shutdown {
            return Err((st, PutError::ShutDown(item)));
        }
        let len = st.store.len();
        if st.is_full(len) {
            return Err((st, PutError::Full(item)));
        }
        // Counts the item, notifies a getter, unlocks and wakes it, also if
        // `push` panics (the item is then kept and counted).
        let mut settle = Settle::new(st);
        settle.state().store.push(item);
        drop(settle);
        Ok(())
    }

    /// Puts, waiting for room until `deadline`.
    pub(crate) fn put(&self, item: T, deadline: Deadline) -> Put<'_, T, S> {
        Put {
            wait: Waiting::new(self, Side::Put),
            item: Some(item),
            deadline,
        }
    }

    /// Takes the next item without waiting.
    pub(crate) fn try_get(&self) -> Result<T, GetError> {
        let st = self.lock();
        self.get_locked(st).map_err(|(_, err)| err)
    }

    /// Takes the next item if there is one, then unlocks and wakes a putter
    /// if one waits. On failure, the lock is still held.
    #[inline]
    fn get_locked<'a>(
        &'a self,
        st: MutexGuard<'a, State<S>>,
    ) -> Result<T, (MutexGuard<'a, State<S>>, GetError)> {
        // Notifies a putter, unlocks and wakes it; if `pop` panics, the
        // item stays and the notification this getter used is passed on.
        let mut settle = Settle::new(st);
        match settle.state().store.pop() {
            Some(item) => {
                drop(settle);
                Ok(item)
            }
            None => {
                let st = settle.into_guard();
                let err = if st.shutdown {
                    GetError::ShutDown
                } else {
                    GetError::Empty
                };
                Err((st, err))
            }
        }
    }

    /// Takes the next item, waiting until `deadline`.
    pub(crate) fn get(&self, deadline: Deadline) -> Get<'_, T, S> {
        Get {
            wait: Waiting::new(self, Side::Get),
            deadline,
            done: false,
        }
    }

    /// Marks one item done; wakes `join`ers when none is left.
    pub(crate) fn task_done(&self) -> Result<(), SyncError> {
        let mut st = self.lock();
        if st.unfinished == 0 {
            return Err(SyncError::TaskDoneTooManyTimes);
        }
        st.unfinished -= 1;
        let all_done = st.unfinished == 0;
        drop(st);
        if all_done {
            self.all_done.notify(usize::MAX);
        }
        Ok(())
    }

    /// Waits until every item put has been marked done.
    pub(crate) async fn join(&self) {
        rt::proceed().await;
        let mut first = true;
        loop {
            let listener = {
                let st = self.lock();
                if st.unfinished == 0 {
                    return;
                }
                self.all_done.listen()
            };
            rt::recorded(rt::wait::QUEUE, &self.id, &mut first, listener).await;
        }
    }

    /// Python 3.13's `shutdown(immediate)`. The queue is consistent and
    /// every waiter woken before a drained item is dropped (outside the
    /// lock: an item's `Drop` may use the queue); see [`drop_items`] for a
    /// `Drop` that panics.
    pub(crate) fn shutdown(&self, immediate: bool) {
        let mut st = self.lock();
        st.shutdown = true;
        let drained = if immediate {
            let items = st.store.drain_all();
            st.unfinished = st.unfinished.saturating_sub(items.len());
            items
        } else {
            Vec::new()
        };
        let all_done = immediate && st.unfinished == 0;
        let getters = st.getters.notify_all();
        let putters = st.putters.notify_all();
        drop(st);
        if all_done {
            self.all_done.notify(usize::MAX);
        }
        wake_all(getters.into_iter().chain(putters));
        drop_items(drained);
    }

    /// `unfinished_tasks` (for tests and Debug).
    pub(crate) fn unfinished_tasks(&self) -> usize {
        self.lock().unfinished
    }
}

/// The future of [`Core::put`], written out by hand rather than as an
/// `async fn` around a `poll_fn`: each put or get is a poll or two, and
/// every layer of generated state machine (the public method's, the core's,
/// the closure's) cost instructions on each poll and at its drop.
pub(crate) struct Put<'a, T, S> {
    /// Its place in the putters' list.
    wait: Waiting<'a, T, S>,
    /// The item, until it is put (or given back in an error).
    item: Option<T>,
    /// When to give up.
    deadline: Deadline,
}

// The item is moved, never pinned; the other fields are `Unpin`.
impl<T, S> Unpin for Put<'_, T, S> {}

impl<T, S: Store<T>> Future for Put<'_, T, S> {
    type Output = Result<(), PutError<T>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(st) = this.wait.poll_turn(&mut this.deadline, cx) else {
            return Poll::Pending;
        };
        let Some(it) = this.item.take() else {
            return Poll::Pending; // polled after completion: never ready again
        };
        match this.wait.core.put_locked(st, it) {
            Ok(()) => Poll::Ready(Ok(())),
            Err((_, err @ PutError::ShutDown(_))) => Poll::Ready(Err(err)),
            // The last look after the deadline found no room either.
            Err((_, err)) if this.wait.expired => Poll::Ready(Err(err)),
            Err((st, back)) => {
                this.item = Some(back.into_inner());
                this.wait.wait(st, &mut this.deadline, cx)
            }
        }
    }
}

/// The future of [`Core::get`] (see [`Put`]).
pub(crate) struct Get<'a, T, S> {
    /// Its place in the getters' list.
    wait: Waiting<'a, T, S>,
    /// When to give up.
    deadline: Deadline,
    /// It has returned `Ready`: polled again, it never takes another item.
    done: bool,
}

// No field is pinned.
impl<T, S> Unpin for Get<'_, T, S> {}

impl<T, S: Store<T>> Future for Get<'_, T, S> {
    type Output = Result<T, GetError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.done {
            return Poll::Pending; // polled after completion: never ready again
        }
        let Some(st) = this.wait.poll_turn(&mut this.deadline, cx) else {
            return Poll::Pending;
        };
        match this.wait.core.get_locked(st) {
            Ok(item) => {
                this.done = true;
                Poll::Ready(Ok(item))
            }
            Err((st, err)) => {
                // Shut down, or the last look after the deadline found
                // nothing either: done; else wait.
                if matches!(err, GetError::ShutDown) || this.wait.expired {
                    drop(st);
                    this.done = true;
                    return Poll::Ready(Err(err));
                }
                this.wait.wait(st, &mut this.deadline, cx)
            }
        }
    }
}

/// Which list a waiter is in.
#[derive(Debug, Clone, Copy)]
enum Side {
    /// A getter, in `State::getters`.
    Get,
    /// A putter, in `State::putters`.
    Put,
}

impl Side {
    fn list<S>(self, st: &mut State<S>) -> &mut Waiters {
        match self {
            Side::Get => &mut st.getters,
            Side::Put => &mut st.putters,
        }
    }
}

/// A getter's or putter's place in its list while it waits. If the future
/// is dropped with a notification it did not use, `Drop` passes it on to
/// the next waiter, so no item or free slot is left with nobody woken.
struct Waiting<'a, T, S> {
    /// The queue.
    core: &'a Core<T, S>,
    /// Which list.
    side: Side,
    /// Its ticket, while in the list.
    ticket: Option<Ticket>,
    /// The deadline passed: the look under way is the last.
    expired: bool,
    /// Not recorded as waiting yet (`greenthread::debug`).
    first: bool,
    /// The cooperative budget has been spent for this operation (its first
    /// look waits for that; folded in here rather than awaited before,
    /// which cost a state of the future per operation).
    proceeded: bool,
}

impl<'a, T, S> Waiting<'a, T, S> {
    fn new(core: &'a Core<T, S>, side: Side) -> Self {
        Waiting {
            core,
            side,
            ticket: None,
            expired: false,
            first: true,
            proceeded: false,
        }
    }

    /// Locks the queue if it is this waiter's turn to look: the first poll,
    /// after a notification, or once the deadline has passed (`expired`
    /// set: the last look). `None`: still waiting, with `cx` registered.
    fn poll_turn(
        &mut self,
        deadline: &mut Deadline,
        cx: &mut Context<'_>,
    ) -> Option<MutexGuard<'a, State<S>>> {
        if !self.proceeded {
            // A switch point (SPEC): the first look spends one unit of the
            // budget, and yields first if it is spent.
            if rt::poll_proceed(cx).is_pending() {
                return None;
            }
            self.proceeded = true;
        }
        let mut st = self.core.lock();
        let Some(ticket) = self.ticket else {
            return Some(st);
        };
        let list = self.side.list(&mut st);
        if list.is_waiting(ticket) {
            if !deadline.poll_expired(cx) {
                list.set_waker(ticket, cx.waker());
                rt::wait_pending(rt::wait::QUEUE, &self.core.id, 0, &mut false);
                return None;
            }
            self.expired = true;
        }
        // Notified (or expired): leave the list and look. A notification is
        // used by this look, whatever it finds: if another thread took the
        // item or slot meanwhile, nothing is left to wake anybody for.
        list.remove(ticket);
        self.ticket = None;
        Some(st)
    }

    /// Found nothing: gives up if the deadline has passed, else joins the
    /// back of the list (before unlocking, so a put or get after the unlock
    /// sees it).
    fn wait<R>(
        &mut self,
        mut st: MutexGuard<'a, State<S>>,
        deadline: &mut Deadline,
        cx: &mut Context<'_>,
    ) -> Poll<R> {
        if deadline.poll_expired(cx) {
            // Look once more, at once: `poll_turn` returns the lock.
            self.expired = true;
            drop(st);
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        self.ticket = Some(self.side.list(&mut st).register(cx.waker().clone()));
        rt::wait_pending(rt::wait::QUEUE, &self.core.id, 0, &mut self.first);
        Poll::Pending
    }
}

impl<T, S> Drop for Waiting<'_, T, S> {
    /// Inlined: almost every `get` and `put` ends with its ticket used
    /// (`poll_turn` took it out of the list), and the outlined call with
    /// its frame cost a W5 round trip (two gets, two puts) about 90
    /// instructions.
    #[inline]
    fn drop(&mut self) {
        if let Some(ticket) = self.ticket {
            self.leave(ticket);
        }
    }
}

impl<T, S> Waiting<'_, T, S> {
    /// Dropped while still in the list: leaves it, passing on a
    /// notification it did not use.
    #[cold]
    #[inline(never)]
    fn leave(&mut self, ticket: Ticket) {
        let mut st = self.core.lock();
        let list = self.side.list(&mut st);
        let next = if list.remove(ticket) {
            list.notify_one()
        } else {
            None
        };
        drop(st);
        wake_all(next);
    }
}

/// Generates a public queue type over [`Core`] with every method documented.
macro_rules! queue_type {
    (
        $(#[$meta:meta])*
        $name:ident [$($bound:tt)*], $store:ty, $order:literal
    ) => {
        $(#[$meta])*
        pub struct $name<T> {
            /// The shared queue.
            core: std::sync::Arc<crate::queue::core::Core<T, $store>>,
        }

        impl<T> Clone for $name<T> {
            fn clone(&self) -> Self {
                $name { core: self.core.clone() }
            }
        }

        impl<T> std::fmt::Debug for $name<T> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("qsize", &self.core_qsize())
                    .field("maxsize", &self.core_maxsize())
                    .finish()
            }
        }

        impl<T> $name<T> {
            /// Size for Debug without the `Ord` bound.
            fn core_qsize(&self) -> usize {
                crate::queue::core::len_of(&self.core)
            }

            /// Bound for Debug without the `Ord` bound.
            fn core_maxsize(&self) -> usize {
                crate::queue::core::maxsize_of(&self.core)
            }
        }

        impl<T: $($bound)*> $name<T> {
            #[doc = concat!("A new ", $order, " queue holding at most `maxsize` items; `0` means unbounded.")]
            pub fn new(maxsize: usize) -> Self {
                $name { core: std::sync::Arc::new(crate::queue::core::Core::new(maxsize)) }
            }

            /// Puts `item`, waiting while the queue is full.
            ///
            /// # Errors
            ///
            /// [`PutError::ShutDown`] (with the item) if the queue is or
            /// becomes shut down; that is checked before fullness.
            ///
            /// # Panics
            ///
            /// Only if the item's `Ord` panics (`PriorityQueue`); the item
            /// is then in the queue and counted in
            /// [`unfinished_tasks`](Self::unfinished_tasks), and a waiting
            /// getter is woken for it. (A waiter's waker that panics is
            /// ignored, after the panic hook has reported it.)
            ///
            /// # Cancel safety
            ///
            /// If the future is dropped before it completes, the item was
            /// not put and is dropped with the future; a wake-up it had
            /// received goes to another putter.
            pub fn put(
                &self,
                item: T,
            ) -> impl std::future::Future<Output = Result<(), crate::queue::PutError<T>>> + '_ {
                self.core.put(item, crate::rt::Deadline::never())
            }

            /// Puts `item`, waiting at most `timeout` for room.
            /// `Duration::ZERO` is [`put_nowait`](Self::put_nowait); an
            /// unbounded queue never waits; durations above `TIMEOUT_MAX`
            /// are clamped to it.
            ///
            /// # Errors
            ///
            /// [`PutError::Full`] after the timeout, [`PutError::ShutDown`]
            /// if shut down; both give the item back.
            ///
            /// # Cancel safety
            ///
            /// As [`put`](Self::put).
            pub fn put_timeout(
                &self,
                item: T,
                timeout: std::time::Duration,
            ) -> impl std::future::Future<Output = Result<(), crate::queue::PutError<T>>> + '_ {
                self.core.put(item, crate::rt::Deadline::after(timeout))
            }

            /// Puts `item` if there is room right now (`put(item, False)`).
            ///
            /// # Errors
            ///
            /// [`PutError::ShutDown`] if shut down, else [`PutError::Full`]
            /// if full; both give the item back.
            pub fn put_nowait(&self, item: T) -> Result<(), crate::queue::PutError<T>> {
                self.core.try_put(item)
            }

            #[doc = concat!("Removes and returns the next item (", $order, "), waiting while the queue is empty.")]
            ///
            /// # Errors
            ///
            /// [`GetError::ShutDown`] once the queue is shut down **and**
            /// empty (items left at a non-immediate shutdown are still
            /// returned).
            ///
            /// # Panics
            ///
            /// Only if an item's `Ord` panics (`PriorityQueue`); the item
            /// stays in the queue (the heap is as before the call), and the
            /// wake-up this call had used goes to another getter.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: an item is taken only in the poll that returns
            /// it, and a wake-up the dropped future had received goes to
            /// another getter.
            pub fn get(&self) -> impl std::future::Future<Output = Result<T, crate::queue::GetError>> + '_ {
                self.core.get(crate::rt::Deadline::never())
            }

            /// As [`get`](Self::get), waiting at most `timeout`.
            /// `Duration::ZERO` is [`get_nowait`](Self::get_nowait);
            /// durations above `TIMEOUT_MAX` are clamped to it.
            ///
            /// # Errors
            ///
            /// [`GetError::Empty`] after the timeout;
            /// [`GetError::ShutDown`] as for [`get`](Self::get).
            ///
            /// # Cancel safety
            ///
            /// As [`get`](Self::get).
            pub fn get_timeout(
                &self,
                timeout: std::time::Duration,
            ) -> impl std::future::Future<Output = Result<T, crate::queue::GetError>> + '_ {
                self.core.get(crate::rt::Deadline::after(timeout))
            }

            /// Takes the next item if there is one right now (`get(False)`).
            ///
            /// # Errors
            ///
            /// [`GetError::ShutDown`] if shut down and empty, else
            /// [`GetError::Empty`] if empty.
            pub fn get_nowait(&self) -> Result<T, crate::queue::GetError> {
                self.core.try_get()
            }

            /// Items in the queue now (approximate: others may change it).
            pub fn qsize(&self) -> usize {
                self.core.qsize()
            }

            /// Whether the queue is empty now.
            pub fn empty(&self) -> bool {
                self.core.qsize() == 0
            }

            /// Whether the queue is full now (never for an unbounded queue).
            pub fn full(&self) -> bool {
                self.core.full()
            }

            /// The bound (0: unbounded).
            pub fn maxsize(&self) -> usize {
                self.core.maxsize()
            }

            /// Changes the bound (Python's mutable `maxsize` attribute);
            /// lowering it below `qsize()` makes puts wait or fail until
            /// enough items are taken.
            pub fn set_maxsize(&self, maxsize: usize) {
                self.core.set_maxsize(maxsize)
            }

            /// Marks one item taken by `get` as processed; when every item
            /// put has been marked, [`join`](Self::join) returns.
            ///
            /// # Errors
            ///
            /// [`SyncError::TaskDoneTooManyTimes`](crate::SyncError::TaskDoneTooManyTimes)
            /// if called more times than items were put (the count stays 0).
            pub fn task_done(&self) -> Result<(), crate::SyncError> {
                self.core.task_done()
            }

            /// Waits until every item put has been marked done with
            /// [`task_done`](Self::task_done) (at once if none is pending).
            /// Never fails, even after shutdown.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: `task_done` wakes every joiner.
            pub async fn join(&self) {
                self.core.join().await
            }

            /// Shuts the queue down (Python 3.13): puts fail with
            /// [`PutError::ShutDown`] from now on; gets return what is left
            /// and then fail with [`GetError::ShutDown`]. With
            /// `immediate`, the remaining items are removed (and dropped)
            /// at once and counted done, so `join` returns if nothing else
            /// is pending. Every blocked putter and getter is woken.
            /// Calling it again is harmless.
            ///
            /// The queue is updated and every waiter (putters, getters,
            /// joiners) is woken *before* the removed items are dropped,
            /// outside the queue's lock, so an item's `Drop` may use the
            /// queue.
            ///
            /// # Panics
            ///
            /// If a removed item's `Drop` panics, the other items are still
            /// dropped, and then the first such panic is resumed here; the
            /// queue is shut down and consistent by then, and nobody is
            /// left waiting. Later panics are reported by the panic hook
            /// and ignored (as Python prints and ignores an exception in
            /// `__del__`), and so is the first if the caller is already
            /// unwinding. The same holds for the items left in a queue
            /// whose last handle is dropped.
            pub fn shutdown(&self, immediate: bool) {
                self.core.shutdown(immediate)
            }

            /// Whether [`shutdown`](Self::shutdown) was called.
            pub fn is_shut_down(&self) -> bool {
                self.core.is_shut_down()
            }

            /// Items put and not yet marked done (Python's
            /// `unfinished_tasks` attribute).
            pub fn unfinished_tasks(&self) -> usize {
                self.core.unfinished_tasks()
            }
        }
    };
}

pub(crate) use queue_type;

/// Items in a core, without the store's bounds (for `Debug`).
pub(crate) fn len_of<T, S: StoreLen>(core: &Core<T, S>) -> usize {
    lock_state(&core.state.0).store.store_len()
}

/// The bound of a core, without the store's bounds (for `Debug`).
pub(crate) fn maxsize_of<T, S>(core: &Core<T, S>) -> usize {
    lock_state(&core.state.0).maxsize
}

/// Length without the item bounds that [`Store`] may carry.
pub(crate) trait StoreLen {
    /// Items held.
    fn store_len(&self) -> usize;
}
