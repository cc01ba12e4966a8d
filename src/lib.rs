//! # greenthread
//!
//! Python's `threading` and `queue` model for async Rust: Python-style
//! [`Thread`] objects run as green threads on an M:N executor (many green
//! threads over a small pool of worker OS threads), with Python's
//! synchronization primitives as async types, an optional GIL mode that
//! serializes execution as CPython's GIL does, and an OS-thread mode that
//! runs the very same program with one OS thread per `Thread`.
//!
//! Threads switch at `.await`s that suspend: sleeps, I/O, waits on
//! primitives, joins, [`yield_now`] and [`checkpoint`].
//!
//! ```
//! greenthread::run(async {
//!     let t = greenthread::Thread::new(|| async { println!("hello from a green thread") });
//!     t.start().unwrap();
//!     t.join().await.unwrap();
//! });
//! ```
//!
//! # Python → Rust
//!
//! | Python | greenthread |
//! |---|---|
//! | `threading.Thread(target=f, args=(x,))` | `Thread::new(move \|\| f(x))` |
//! | subclass overriding `run()` | a type implementing [`Target`] |
//! | `Thread(name=..., daemon=...)` | `Thread::builder().name(..).daemon(..).build(target)` |
//! | `t.start()`, `t.join()`, `t.join(timeout)` | `t.start()?`, `t.join().await?`, `t.join_timeout(d).await?` |
//! | `t.is_alive()`, `t.name`, `t.ident`, `t.native_id`, `t.daemon` | `is_alive()`, `name()`/`set_name()`, `ident()`, `native_id()`, `is_daemon()`/`set_daemon()` |
//! | `repr(t)` | `format!("{t}")` |
//! | `threading.current_thread()`, `main_thread()`, `enumerate()`, `active_count()` | [`current_thread`], [`main_thread`], [`enumerate`], [`active_count`] |
//! | `threading.get_ident()`, `get_native_id()`, `stack_size()` | [`get_ident`], [`get_native_id`], [`stack_size`] |
//! | `threading.excepthook`, `settrace`, `setprofile` | [`set_excepthook`], [`settrace`], [`setprofile`] (+ `_all_threads`) |
//! | `threading.local()` | [`Local`] |
//! | `threading.Timer(interval, f)` | [`Timer::new`] |
//! | `Lock`, `RLock`, `Condition`, `Semaphore`, `BoundedSemaphore`, `Event`, `Barrier` | [`Lock`], [`RLock`], [`Condition`], [`Semaphore`], [`BoundedSemaphore`], [`Event`], [`Barrier`] |
//! | `with lock:` | `let _g = lock.lock().await;` |
//! | `lock.acquire(timeout=t)`, `acquire(blocking=False)` | `acquire_timeout(t).await`, `try_acquire()` |
//! | `queue.Queue`, `LifoQueue`, `PriorityQueue`, `SimpleQueue` | [`queue::Queue`], [`queue::LifoQueue`], [`queue::PriorityQueue`], [`queue::SimpleQueue`] |
//! | `_thread.start_new_thread`, `allocate_lock`, `exit` | [`thread::start_new_thread`], [`thread::allocate_lock`], [`thread::exit`] |
//! | `time.sleep(s)` | `sleep(d).await` |
//! | `socket`, `socketserver.ThreadingTCPServer` | [`net::TcpListener`], [`net::TcpStream`], [`net::UdpSocket`], [`net::ThreadingTcpServer`] |
//! | `sys.setswitchinterval(s)` | [`gil::set_switch_interval`] |
//! | exception escaping a thread | a panic: caught, passed to the excepthook |
//! | `sys.exit()` in a thread | [`exit`] |
//!
//! # Every public item by category
//!
//! - **Running:** [`run`], [`Runtime`], [`Builder`], [`MAX_WORKERS`], [`Mode`], [`block_on`].
//! - **Threads:** [`Thread`], [`ThreadBuilder`], [`Target`], [`ThreadError`],
//!   [`spawn`], [`JoinHandle`], [`JoinError`], [`Timer`], [`Local`], [`exit`],
//!   [`current_thread`], [`main_thread`], [`enumerate`], [`active_count`],
//!   [`get_ident`], [`get_native_id`], [`stack_size`].
//! - **Hooks:** [`set_excepthook`], [`excepthook`], [`ExceptHook`],
//!   [`ExceptHookArgs`], [`settrace`], [`setprofile`],
//!   [`settrace_all_threads`], [`setprofile_all_threads`], [`gettrace`],
//!   [`getprofile`], [`TraceHook`], [`TraceEvent`].
//! - **Time:** [`sleep`], [`timeout`], [`yield_now`], [`TIMEOUT_MAX`],
//!   [`Elapsed`], [`time`].
//! - **GIL:** [`gil`], [`checkpoint`].
//! - **Synchronization:** [`Lock`], [`RLock`], [`Condition`], [`Semaphore`],
//!   [`BoundedSemaphore`], [`Event`], [`Barrier`], [`SyncError`],
//!   [`BrokenBarrierError`], [`queue`].
//! - **Network I/O:** [`net`] (sockets whose waits are switch points, and
//!   `ThreadingTcpServer`).
//! - **Low level:** [`thread`] (Python's `_thread`), [`coop`].
//! - **Observability:** [`debug`] (the thread dump, deadlock reports,
//!   stall warnings).
//!
//! # Cargo features
//!
//! - **`tracing`** (off by default): every thread is a task in
//!   [tokio-console](https://github.com/tokio-rs/console) — a `tracing`
//!   span named `runtime.spawn` per thread (its name, its ident as the task
//!   id, where `start()`/`spawn` was called), entered for each poll, and
//!   waker events with target `runtime::waker`, the instrumentation
//!   console-subscriber consumes. The excepthook's report is also an
//!   `ERROR` event with target `greenthread`. See `examples/console.rs`.
//!   Without the feature nothing of `tracing` is compiled in.

pub use greenthread_runtime::{
    active_count, block_on, checkpoint, coop, current_thread, enumerate, excepthook, exit,
    get_ident, get_native_id, getprofile, gettrace, gil, main_thread, net, run, set_excepthook,
    setprofile, setprofile_all_threads, settrace, settrace_all_threads, sleep, spawn, stack_size,
    time, timeout, yield_now, Builder, Elapsed, ExceptHook, ExceptHookArgs, JoinError, JoinHandle,
    Local, Mode, Runtime, Sleep, Target, Thread, ThreadBuilder, ThreadError, Timeout, Timer,
    TraceEvent, TraceHook, MAX_WORKERS, TIMEOUT_MAX,
};

pub use greenthread_sync::*;

pub use greenthread_runtime::debug;

/// Python's low-level `_thread` module.
pub mod thread {
    pub use greenthread_runtime::lowlevel::*;
    pub use greenthread_sync::allocate_lock;
}
