//! The core shared by [`Queue`](super::Queue), [`LifoQueue`](super::LifoQueue)
//! and [`PriorityQueue`](super::PriorityQueue): Python's `queue.Queue` with
//! the ordering left to a [`Store`] (Python's `_put`/`_get` hooks).

use std::sync::{Mutex, MutexGuard, PoisonError};

use event_listener::{listener, Event, IntoNotification};

use super::{GetError, PutError};
use crate::rt::{self, Deadline};
use crate::SyncError;

/// Where the items are kept, in the order they leave.
pub(crate) trait Store<T>: Default {
    /// Adds an item.
    fn push(&mut self, item: T);
    /// Removes the next item.
    fn pop(&mut self) -> Option<T>;
    /// Items held.
    fn len(&self) -> usize;
    /// Removes every item, in leaving order.
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
    /// Getters registered on `not_empty`: a put notifies only if some wait.
    getters: usize,
    /// Putters registered on `not_full`: a get notifies only if some wait.
    putters: usize,
}

impl<S> State<S> {
    /// Python's `full()` for `len` items.
    fn is_full(&self, len: usize) -> bool {
        self.maxsize > 0 && len >= self.maxsize
    }
}

/// The shared queue.
#[derive(Debug)]
pub(crate) struct Core<T, S> {
    /// Items, counters, flags.
    state: Mutex<State<S>>,
    /// Python's `not_empty`: getters wait here.
    not_empty: Event,
    /// Python's `not_full`: putters wait here.
    not_full: Event,
    /// Python's `all_tasks_done`: `join` waits here.
    all_done: Event,
    /// Ties `T` to the core.
    _items: std::marker::PhantomData<fn(T) -> T>,
}

impl<T, S> Core<T, S> {
    /// Locks the state. A panic under the lock can only come from the
    /// item's `Ord` (PriorityQueue); the counters are still consistent then,
    /// so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, State<S>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<T, S: Store<T>> Core<T, S> {
    /// A queue holding at most `maxsize` items (0: unbounded).
    pub(crate) fn new(maxsize: usize) -> Self {
        Core {
            state: Mutex::new(State {
                store: S::default(),
                maxsize,
                unfinished: 0,
                shutdown: false,
                getters: 0,
                putters: 0,
            }),
            not_empty: Event::new(),
            not_full: Event::new(),
            all_done: Event::new(),
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
        let waiting = st.putters > 0;
        drop(st);
        if waiting {
            self.not_full.notify(usize::MAX);
        }
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
        mut st: MutexGuard<'a, State<S>>,
        item: T,
    ) -> Result<(), (MutexGuard<'a, State<S>>, PutError<T>)> {
        if st.shutdown {
            return Err((st, PutError::ShutDown(item)));
        }
        let len = st.store.len();
        if st.is_full(len) {
            return Err((st, PutError::Full(item)));
        }
        st.store.push(item);
        st.unfinished += 1;
        let waiting = st.getters > 0;
        drop(st);
        // Nobody registered on `not_empty` means nobody to notify; a getter
        // registers under the lock we just released, after looking.
        if waiting {
            self.not_empty.notify(1.additional());
        }
        Ok(())
    }

    /// Puts, waiting for room until `deadline`.
    pub(crate) async fn put(&self, item: T, mut deadline: Deadline) -> Result<(), PutError<T>> {
        rt::proceed().await;
        let mut item = item;
        // Set while counted in `putters`; the guard, not the lock, is what
        // lives across the `.await` (a `MutexGuard` would make us `!Send`).
        let mut waiting: Option<Registered<'_, T, S>> = None;
        let mut expired = false;
        loop {
            let st = self.lock();
            let st = match waiting.take() {
                Some(registered) => registered.done(st),
                None => st,
            };
            let st = match self.put_locked(st, item) {
                Ok(()) => return Ok(()),
                Err((_, err @ PutError::ShutDown(_))) => return Err(err),
                // The last look after the deadline found no room either.
                Err((_, err)) if expired => return Err(err),
                Err((st, back)) => {
                    item = back.into_inner();
                    st
                }
            };
            // Full: register on `not_full` before unlocking, so a get that
            // frees a slot after we unlock sees us and notifies.
            let (registered, st) = Registered::new(self, st, |st| &mut st.putters);
            waiting = Some(registered);
            listener!(self.not_full => listener);
            drop(st);
            expired = !rt::wait_listener(&mut listener, &mut deadline).await;
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
        mut st: MutexGuard<'a, State<S>>,
    ) -> Result<T, (MutexGuard<'a, State<S>>, GetError)> {
        match st.store.pop() {
            Some(item) => {
                let waiting = st.putters > 0;
                drop(st);
                if waiting {
                    self.not_full.notify(1.additional());
                }
                Ok(item)
            }
            None if st.shutdown => Err((st, GetError::ShutDown)),
            None => Err((st, GetError::Empty)),
        }
    }

    /// Takes the next item, waiting until `deadline`.
    pub(crate) async fn get(&self, mut deadline: Deadline) -> Result<T, GetError> {
        rt::proceed().await;
        // As in `put`.
        let mut waiting: Option<Registered<'_, T, S>> = None;
        let mut expired = false;
        loop {
            let st = self.lock();
            let st = match waiting.take() {
                Some(registered) => registered.done(st),
                None => st,
            };
            let st = match self.get_locked(st) {
                Ok(item) => return Ok(item),
                Err((_, err @ GetError::ShutDown)) => return Err(err),
                // The last look after the deadline found nothing either.
                Err((_, err)) if expired => return Err(err),
                Err((st, _)) => st,
            };
            // Empty: register on `not_empty` before unlocking, so a put
            // after we unlock sees us and notifies.
            let (registered, st) = Registered::new(self, st, |st| &mut st.getters);
            waiting = Some(registered);
            listener!(self.not_empty => listener);
            drop(st);
            expired = !rt::wait_listener(&mut listener, &mut deadline).await;
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
        let mut never = Deadline::never();
        loop {
            let mut listener = {
                let st = self.lock();
                if st.unfinished == 0 {
                    return;
                }
                self.all_done.listen()
            };
            rt::wait_listener(&mut listener, &mut never).await;
        }
    }

    /// Python 3.13's `shutdown(immediate)`.
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
        drop(st);
        // Items are dropped outside the lock: their Drop may use the queue.
        drop(drained);
        if all_done {
            self.all_done.notify(usize::MAX);
        }
        self.not_empty.notify(usize::MAX);
        self.not_full.notify(usize::MAX);
    }

    /// `unfinished_tasks` (for tests and Debug).
    pub(crate) fn unfinished_tasks(&self) -> usize {
        self.lock().unfinished
    }
}

/// One getter or putter counted in `State::getters`/`putters` while it is
/// registered on the matching event. The waiter uncounts itself with
/// [`done`](Self::done) under the lock it takes anyway after waking; if its
/// future is dropped mid-wait, `Drop` takes the lock to do it (after the
/// listener, declared later, has been dropped and passed on any
/// notification it had).
struct Registered<'a, T, S> {
    /// The queue.
    core: &'a Core<T, S>,
    /// Which count (getters or putters).
    count: fn(&mut State<S>) -> &mut usize,
}

impl<'a, T, S> Registered<'a, T, S> {
    /// Counts a waiter under the lock `st`, which it hands back. The guard
    /// is moved in and out rather than borrowed so that the `async` callers
    /// can see it is dead across their `.await` (a borrowed local is kept in
    /// the future, and a `MutexGuard` would make it `!Send`).
    fn new(
        core: &'a Core<T, S>,
        mut st: MutexGuard<'a, State<S>>,
        count: fn(&mut State<S>) -> &mut usize,
    ) -> (Self, MutexGuard<'a, State<S>>) {
        *count(&mut st) += 1;
        (Registered { core, count }, st)
    }

    /// Uncounts the waiter under the lock `st`, which it hands back.
    fn done(self, mut st: MutexGuard<'a, State<S>>) -> MutexGuard<'a, State<S>> {
        *(self.count)(&mut st) -= 1;
        std::mem::forget(self);
        st
    }
}

impl<T, S> Drop for Registered<'_, T, S> {
    fn drop(&mut self) {
        let mut st = self.core.lock();
        *(self.count)(&mut st) -= 1;
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
            /// # Cancel safety
            ///
            /// If the future is dropped before it completes, the item was
            /// not put and is dropped with the future; a wake-up it had
            /// received goes to another putter.
            pub async fn put(&self, item: T) -> Result<(), crate::queue::PutError<T>> {
                self.core.put(item, crate::rt::Deadline::never()).await
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
            pub async fn put_timeout(
                &self,
                item: T,
                timeout: std::time::Duration,
            ) -> Result<(), crate::queue::PutError<T>> {
                self.core.put(item, crate::rt::Deadline::after(timeout)).await
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
            /// # Cancel safety
            ///
            /// Cancel safe: an item is taken only in the poll that returns
            /// it, and a wake-up the dropped future had received goes to
            /// another getter.
            pub async fn get(&self) -> Result<T, crate::queue::GetError> {
                self.core.get(crate::rt::Deadline::never()).await
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
            pub async fn get_timeout(&self, timeout: std::time::Duration) -> Result<T, crate::queue::GetError> {
                self.core.get(crate::rt::Deadline::after(timeout)).await
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
    core.state
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .store
        .store_len()
}

/// The bound of a core, without the store's bounds (for `Debug`).
pub(crate) fn maxsize_of<T, S>(core: &Core<T, S>) -> usize {
    core.state
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .maxsize
}

/// Length without the item bounds that [`Store`] may carry.
pub(crate) trait StoreLen {
    /// Items held.
    fn store_len(&self) -> usize;
}
