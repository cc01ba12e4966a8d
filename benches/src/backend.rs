//! The async back-ends behind one trait, [`Tasks`], so each workload is
//! written once: greenthread (green, green+gil and os are the same code on
//! three runtimes), tokio (multi-thread runtime, `tokio::sync`,
//! `tokio::time`) and smol (async-executor with one runner thread per core,
//! async-lock, async-channel, async-io timers, event-listener).
//!
//! Each back-end uses its own primitives: a workload asks for "a bounded
//! channel" or "a counter behind a lock" and gets `Queue` / `Lock` on
//! greenthread, `tokio::sync` on tokio, async-channel / async-lock on smol.
//! The one exception is W7's many-to-many queue: tokio has none, so tokio
//! runs it on async-channel, as the criterion bench does.

use std::fmt::Debug;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use futures::future::{FutureExt, Map};

/// The sending half of a channel.
pub trait Sends<T>: Send + Sync + 'static {
    /// Sends `v`, waiting for room.
    fn send(&self, v: T) -> impl Future<Output = ()> + Send + '_;
}

/// The receiving half of a channel.
pub trait Receives<T>: Send + 'static {
    /// Takes the next item, waiting for one.
    fn recv(&mut self) -> impl Future<Output = T> + Send + '_;
}

/// A counter behind the back-end's async lock (W6).
pub trait Counter: Send + Sync + 'static {
    /// Zero.
    fn new() -> Self;
    /// Acquires the lock, adds one, releases it.
    fn bump(&self) -> impl Future<Output = ()> + Send + '_;
    /// The count (no task may be bumping).
    fn get(&self) -> usize;
}

/// A one-shot gate many tasks park on (W9): shut until [`Gate::open`].
pub trait Gate: Send + Sync + 'static {
    /// A shut gate.
    fn new() -> Self;
    /// Waits until the gate is open.
    fn wait(&self) -> impl Future<Output = ()> + Send + '_;
    /// Opens the gate, waking every waiter.
    fn open(&self);
}

/// An async task runtime with its own primitives.
pub trait Tasks: Sync + 'static {
    /// A spawned task; awaiting it gives the task's output (a task that
    /// panicked fails the bench).
    type Join<T: Send + 'static>: Future<Output = T> + Send + 'static;
    /// A bounded channel's halves (W5's ping-pong).
    type Tx<T: Send + 'static>: Sends<T>;
    /// See [`Tasks::Tx`].
    type Rx<T: Send + 'static>: Receives<T>;
    /// A bounded many-to-many queue's halves (W7), both cloneable.
    type MpmcTx<T: Send + 'static>: Sends<T> + Clone;
    /// See [`Tasks::MpmcTx`].
    type MpmcRx<T: Send + 'static>: Receives<T> + Clone;
    /// A counter behind a lock (W6).
    type Counter: Counter;
    /// A gate to park on (W9).
    type Gate: Gate;

    /// Runs `f` as a task and waits for it from this (plain OS) thread.
    fn run<F>(&self, f: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    /// Spawns `f` from inside a task.
    fn spawn<F>(f: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static;
    /// Lets the other tasks run once.
    fn yield_now() -> impl Future<Output = ()> + Send;
    /// Sleeps for `d` on the back-end's timers.
    fn sleep(d: Duration) -> impl Future<Output = ()> + Send;
    /// A bounded channel of `cap` items.
    fn channel<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>);
    /// A bounded many-to-many queue of `cap` items.
    fn mpmc<T: Send + 'static>(cap: usize) -> (Self::MpmcTx<T>, Self::MpmcRx<T>);
}

/// The worker threads of every pool: the machine's cores (the same count for every back-end).
pub fn workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A join handle whose `Result` is unwrapped (a panicking task fails the
/// bench, loudly).
type Unwrapped<H, T, E> = Map<H, fn(Result<T, E>) -> T>;

fn unwrap_join<T, E: Debug>(r: Result<T, E>) -> T {
    r.expect("a bench task failed")
}

// ---------------------------------------------------------------- greenthread

/// A greenthread runtime: green, green+gil or os.
#[derive(Debug)]
pub struct Green(greenthread::Runtime);

impl Green {
    /// Green mode with the machine's cores as workers, GIL on or off.
    pub fn pool(gil: bool) -> Green {
        Green::build(
            greenthread::Runtime::builder()
                .mode(greenthread::Mode::Green)
                .workers(workers())
                .gil(gil),
        )
    }

    /// OS-thread mode: one OS thread per Thread.
    pub fn os() -> Green {
        Green::build(greenthread::Runtime::builder().mode(greenthread::Mode::OsThreads))
    }

    fn build(b: greenthread::Builder) -> Green {
        Green(b.build().expect("cannot build a greenthread runtime"))
    }

    /// The runtime itself.
    pub fn runtime(&self) -> &greenthread::Runtime {
        &self.0
    }

    /// The runtime itself, owned.
    pub fn into_runtime(self) -> greenthread::Runtime {
        self.0
    }
}

impl<T: Send + 'static> Sends<T> for greenthread::queue::Queue<T> {
    fn send(&self, v: T) -> impl Future<Output = ()> + Send + '_ {
        self.put(v).map(|r| r.expect("Queue.put"))
    }
}

impl<T: Send + 'static> Receives<T> for greenthread::queue::Queue<T> {
    fn recv(&mut self) -> impl Future<Output = T> + Send + '_ {
        self.get().map(|r| r.expect("Queue.get"))
    }
}

/// greenthread's `Lock` guarding a counter (the Lock is not a data mutex;
/// the counter is a relaxed atomic only the lock holder touches).
#[derive(Debug)]
pub struct GreenCounter {
    lock: greenthread::Lock,
    n: AtomicUsize,
}

impl Counter for GreenCounter {
    fn new() -> Self {
        GreenCounter {
            lock: greenthread::Lock::new(),
            n: AtomicUsize::new(0),
        }
    }

    async fn bump(&self) {
        self.lock.acquire().await;
        self.n
            .store(self.n.load(Ordering::Relaxed) + 1, Ordering::Relaxed);
        self.lock.release().expect("Lock.release");
    }

    fn get(&self) -> usize {
        self.n.load(Ordering::SeqCst)
    }
}

impl Gate for greenthread::Event {
    fn new() -> Self {
        greenthread::Event::new()
    }

    async fn wait(&self) {
        greenthread::Event::wait(self).await;
    }

    fn open(&self) {
        self.set();
    }
}

impl Tasks for Green {
    type Join<T: Send + 'static> = Unwrapped<greenthread::JoinHandle<T>, T, greenthread::JoinError>;
    type Tx<T: Send + 'static> = greenthread::queue::Queue<T>;
    type Rx<T: Send + 'static> = greenthread::queue::Queue<T>;
    type MpmcTx<T: Send + 'static> = greenthread::queue::Queue<T>;
    type MpmcRx<T: Send + 'static> = greenthread::queue::Queue<T>;
    type Counter = GreenCounter;
    type Gate = greenthread::Event;

    fn run<F>(&self, f: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        unwrap_join(greenthread::block_on(self.0.spawn(f)))
    }

    fn spawn<F>(f: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        greenthread::spawn(f).map(unwrap_join as fn(_) -> _)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        greenthread::yield_now()
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        greenthread::sleep(d)
    }

    fn channel<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        let q = greenthread::queue::Queue::new(cap);
        (q.clone(), q)
    }

    fn mpmc<T: Send + 'static>(cap: usize) -> (Self::MpmcTx<T>, Self::MpmcRx<T>) {
        Self::channel(cap)
    }
}

// ---------------------------------------------------------------- tokio

/// A tokio multi-thread runtime with the machine's cores as workers.
#[derive(Debug)]
pub struct Tokio(tokio::runtime::Runtime);

impl Tokio {
    /// With tokio's timers (what `greenthread bench` runs on).
    pub fn pool() -> Tokio {
        Tokio::build(tokio::runtime::Builder::new_multi_thread().enable_time())
    }

    /// With tokio's timers and I/O driver (what the criterion benches run
    /// on; W10 needs the I/O).
    pub fn pool_with_io() -> Tokio {
        Tokio::build(tokio::runtime::Builder::new_multi_thread().enable_all())
    }

    fn build(b: &mut tokio::runtime::Builder) -> Tokio {
        Tokio(
            b.worker_threads(workers())
                .build()
                .expect("cannot build a tokio runtime"),
        )
    }

    /// The runtime itself.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.0
    }

    /// The runtime itself, owned.
    pub fn into_runtime(self) -> tokio::runtime::Runtime {
        self.0
    }
}

impl<T: Send + 'static> Sends<T> for tokio::sync::mpsc::Sender<T> {
    fn send(&self, v: T) -> impl Future<Output = ()> + Send + '_ {
        tokio::sync::mpsc::Sender::send(self, v).map(|r| r.expect("mpsc send"))
    }
}

impl<T: Send + 'static> Receives<T> for tokio::sync::mpsc::Receiver<T> {
    fn recv(&mut self) -> impl Future<Output = T> + Send + '_ {
        tokio::sync::mpsc::Receiver::recv(self).map(|r| r.expect("mpsc recv"))
    }
}

impl Counter for tokio::sync::Mutex<usize> {
    fn new() -> Self {
        tokio::sync::Mutex::new(0)
    }

    async fn bump(&self) {
        *self.lock().await += 1;
    }

    fn get(&self) -> usize {
        *self.try_lock().expect("the counter is free")
    }
}

/// tokio's `Notify` with a flag: `notify_waiters` wakes only the waiters
/// registered at that moment, so each waiter registers before it checks.
#[derive(Debug, Default)]
pub struct TokioGate {
    open: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Gate for TokioGate {
    fn new() -> Self {
        TokioGate::default()
    }

    async fn wait(&self) {
        loop {
            let mut notified = std::pin::pin!(self.notify.notified());
            notified.as_mut().enable();
            if self.open.load(Ordering::Acquire) {
                return;
            }
            notified.await;
        }
    }

    fn open(&self) {
        self.open.store(true, Ordering::Release);
        self.notify.notify_waiters();
    }
}

impl Tasks for Tokio {
    type Join<T: Send + 'static> = Unwrapped<tokio::task::JoinHandle<T>, T, tokio::task::JoinError>;
    type Tx<T: Send + 'static> = tokio::sync::mpsc::Sender<T>;
    type Rx<T: Send + 'static> = tokio::sync::mpsc::Receiver<T>;
    type MpmcTx<T: Send + 'static> = async_channel::Sender<T>;
    type MpmcRx<T: Send + 'static> = async_channel::Receiver<T>;
    type Counter = tokio::sync::Mutex<usize>;
    type Gate = TokioGate;

    fn run<F>(&self, f: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        unwrap_join(self.0.block_on(self.0.spawn(f)))
    }

    fn spawn<F>(f: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tokio::spawn(f).map(unwrap_join as fn(_) -> _)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        tokio::task::yield_now()
    }

    fn sleep(d: Duration) -> impl Future<Output = ()> + Send {
        tokio::time::sleep(d)
    }

    fn channel<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        tokio::sync::mpsc::channel(cap)
    }

    fn mpmc<T: Send + 'static>(cap: usize) -> (Self::MpmcTx<T>, Self::MpmcRx<T>) {
        async_channel::bounded(cap)
    }
}

// ---------------------------------------------------------------- smol

/// smol's executor. A static one, so a task can spawn without a handle.
static SMOL: async_executor::Executor<'static> = async_executor::Executor::new();

/// One runner thread per core on [`SMOL`], stopped on drop.
#[derive(Debug)]
pub struct Smol {
    stop: async_channel::Sender<()>,
    runners: Vec<JoinHandle<()>>,
}

impl Smol {
    /// Starts the runner threads.
    pub fn pool() -> Smol {
        let (stop, stopped) = async_channel::bounded::<()>(1);
        let runners = (0..workers())
            .map(|_| {
                let stopped = stopped.clone();
                std::thread::spawn(move || {
                    let _ = futures::executor::block_on(SMOL.run(stopped.recv()));
                })
            })
            .collect();
        Smol { stop, runners }
    }

    /// The executor the runners run.
    pub fn executor(&self) -> &'static async_executor::Executor<'static> {
        &SMOL
    }
}

impl Drop for Smol {
    fn drop(&mut self) {
        self.stop.close();
        for r in self.runners.drain(..) {
            let _ = r.join();
        }
    }
}

impl<T: Send + 'static> Sends<T> for async_channel::Sender<T> {
    fn send(&self, v: T) -> impl Future<Output = ()> + Send + '_ {
        async_channel::Sender::send(self, v).map(|r| r.expect("channel send"))
    }
}

impl<T: Send + 'static> Receives<T> for async_channel::Receiver<T> {
    fn recv(&mut self) -> impl Future<Output = T> + Send + '_ {
        async_channel::Receiver::recv(self).map(|r| r.expect("channel recv"))
    }
}

impl Counter for async_lock::Mutex<usize> {
    fn new() -> Self {
        async_lock::Mutex::new(0)
    }

    async fn bump(&self) {
        *self.lock().await += 1;
    }

    fn get(&self) -> usize {
        *self.try_lock().expect("the counter is free")
    }
}

/// event-listener's `Event` with a flag (the pattern smol's own primitives
/// use: listen, check, wait).
#[derive(Debug, Default)]
pub struct SmolGate {
    open: AtomicBool,
    event: event_listener::Event,
}

impl Gate for SmolGate {
    fn new() -> Self {
        SmolGate::default()
    }

    async fn wait(&self) {
        while !self.open.load(Ordering::Acquire) {
            let listener = self.event.listen();
            if self.open.load(Ordering::Acquire) {
                return;
            }
            listener.await;
        }
    }

    fn open(&self) {
        self.open.store(true, Ordering::Release);
        self.event.notify(usize::MAX);
    }
}

impl Tasks for Smol {
    type Join<T: Send + 'static> = async_executor::Task<T>;
    type Tx<T: Send + 'static> = async_channel::Sender<T>;
    type Rx<T: Send + 'static> = async_channel::Receiver<T>;
    type MpmcTx<T: Send + 'static> = async_channel::Sender<T>;
    type MpmcRx<T: Send + 'static> = async_channel::Receiver<T>;
    type Counter = async_lock::Mutex<usize>;
    type Gate = SmolGate;

    fn run<F>(&self, f: F) -> F::Output
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        futures::executor::block_on(SMOL.spawn(f))
    }

    fn spawn<F>(f: F) -> Self::Join<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SMOL.spawn(f)
    }

    fn yield_now() -> impl Future<Output = ()> + Send {
        futures_lite::future::yield_now()
    }

    async fn sleep(d: Duration) {
        async_io::Timer::after(d).await;
    }

    fn channel<T: Send + 'static>(cap: usize) -> (Self::Tx<T>, Self::Rx<T>) {
        async_channel::bounded(cap)
    }

    fn mpmc<T: Send + 'static>(cap: usize) -> (Self::MpmcTx<T>, Self::MpmcRx<T>) {
        async_channel::bounded(cap)
    }
}
