//! Every name the facade re-exports, reached through `greenthread::`: a
//! name dropped from `src/lib.rs` (or from the crate that defines it) fails
//! to compile here, and each is used once so its shape is checked too.

use std::time::Duration;

use greenthread::net::{
    OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, TcpListener, TcpStream,
    ThreadingTcpServer, UdpSocket, WriteHalf,
};
use greenthread::queue::{GetError, LifoQueue, PriorityQueue, PutError, Queue, SimpleQueue};
use greenthread::{
    active_count, allocate_lock, block_on, checkpoint, coop, current_thread, enumerate, excepthook,
    exit, get_ident, get_native_id, getprofile, gettrace, gil, main_thread, run, set_excepthook,
    setprofile, setprofile_all_threads, settrace, settrace_all_threads, sleep, spawn, stack_size,
    time, timeout, yield_now, Barrier, BoundedSemaphore, BrokenBarrierError, Builder, Condition,
    ConditionGuard, Elapsed, Event, ExceptHook, ExceptHookArgs, JoinError, JoinHandle, Local, Lock,
    LockGuard, Mode, RLock, RLockGuard, Runtime, Semaphore, Sleep, SyncError, Target, Thread,
    ThreadBuilder, ThreadError, Timeout, Timer, TraceEvent, TraceHook, MAX_WORKERS, TIMEOUT_MAX,
};

/// The types, by name (a missing one is a compile error).
#[allow(dead_code, clippy::type_complexity)]
struct Types<'a> {
    net: (
        OwnedReadHalf,
        OwnedWriteHalf,
        ReadHalf<'a>,
        WriteHalf<'a>,
        ReuniteError,
        TcpListener,
        TcpStream,
        ThreadingTcpServer,
        UdpSocket,
    ),
    queues: (
        Queue<u8>,
        LifoQueue<u8>,
        PriorityQueue<u8>,
        SimpleQueue<u8>,
        PutError<u8>,
        GetError,
    ),
    sync: (
        Barrier,
        BoundedSemaphore,
        BrokenBarrierError,
        Condition,
        ConditionGuard<'a>,
        Event,
        Lock,
        LockGuard<'a>,
        RLock,
        RLockGuard<'a>,
        Semaphore,
        SyncError,
    ),
    runtime: (Builder, Mode, Runtime, Elapsed, Sleep, Timeout<Sleep>),
    threads: (
        Thread,
        ThreadBuilder,
        ThreadError,
        JoinError,
        JoinHandle<()>,
        Local<u8>,
        Timer,
        TraceEvent,
        ExceptHook,
        ExceptHookArgs,
        TraceHook,
    ),
}

fn is_target<T: Target>(_: &T) {}

/// The module functions, as function pointers (their signatures).
#[test]
fn functions_have_their_shapes() {
    let _: fn() -> usize = active_count;
    let _: fn() -> Lock = allocate_lock;
    let _: fn() -> Thread = current_thread;
    let _: fn() -> Vec<Thread> = enumerate;
    let _: fn() -> ExceptHook = excepthook;
    let _: fn(ExceptHook) = set_excepthook;
    let _: fn() -> ! = exit;
    let _: fn() -> u64 = get_ident;
    let _: fn() -> u64 = get_native_id;
    let _: fn() -> Option<TraceHook> = getprofile;
    let _: fn() -> Option<TraceHook> = gettrace;
    let _: fn(TraceHook) = setprofile;
    let _: fn(TraceHook) = setprofile_all_threads;
    let _: fn(TraceHook) = settrace;
    let _: fn(TraceHook) = settrace_all_threads;
    let _: fn() -> Thread = main_thread;
    let _: fn(Option<usize>) -> std::io::Result<usize> = stack_size;
    let _: fn(Duration) -> Sleep = sleep;
    let _: fn() -> bool = gil::enabled;
    let _: fn() -> Duration = gil::switch_interval;
    let _: fn(&mut std::task::Context<'_>) -> std::task::Poll<()> = coop::poll_proceed;
    assert_eq!(time::TIMEOUT_MAX, TIMEOUT_MAX);
    const { assert!(MAX_WORKERS >= 1) };
    let _: fn() -> Lock = greenthread::thread::allocate_lock;
    let _: fn() -> ! = greenthread::thread::exit;
    let _: fn() -> u64 = greenthread::thread::get_ident;
}

/// The async and generic ones, called once in a runtime.
#[test]
fn generic_functions_run() {
    let got = run(async {
        is_target(&|| async {});
        checkpoint().await;
        yield_now().await;
        assert!(timeout(Duration::from_secs(5), async { 1 }).await.is_ok());
        let h: JoinHandle<u8> = spawn(async { 7 });
        assert_eq!(h.await.unwrap(), 7);
        let ident = greenthread::thread::start_new_thread(|| async {});
        assert!(ident > 0);
        assert!(greenthread::thread::try_start_new_thread(|| async {}).is_ok());
        3
    });
    assert_eq!(got, 3);
    let rt = Runtime::builder().workers(1).build().unwrap();
    assert_eq!(rt.block_on(async { block_on(async { 5 }) }), 5);
}
