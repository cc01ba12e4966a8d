//! The runtime of greenthread: the M:N executor, the timer and I/O driver,
//! Python-style [`Thread`]s and their registry, [`Timer`], [`Local`], GIL
//! mode and OS-thread mode.
//!
//! Use it through the facade crate `greenthread`, which re-exports all of
//! this together with the synchronization primitives.
//!
//! # Map of the crate
//!
//! | module | what |
//! |---|---|
//! | [`runtime`](Runtime) | [`run`], [`Runtime`], [`Builder`], [`Mode`], shutdown |
//! | `executor` | work-stealing scheduler for Green mode (private) |
//! | `os` | one OS thread per `Thread` (private) |
//! | [`time`] | [`sleep`], [`timeout`], [`TIMEOUT_MAX`] and the timer/I-O driver |
//! | `thread` | [`Thread`], registry, hooks, [`spawn`], [`Timer`], [`Local`] |
//! | [`gil`] | GIL mode and [`checkpoint`] |
//! | [`coop`] | the cooperative budget, for primitives built on greenthread |
//! | [`lowlevel`] | Python's `_thread` |
//! | [`net`] | sockets as switch points, `ThreadingTcpServer` |

mod catch;
pub mod coop;
pub mod gil;
mod driver;
mod loom;
pub mod lowlevel;
pub mod net;
mod native;
mod park;
mod runtime;
mod scheduler;
mod thread;
pub mod time;
#[doc(hidden)]
pub mod waker;

pub use gil::checkpoint;
pub use thread::block_on;
pub use runtime::{run, Builder, Mode, Runtime, MAX_WORKERS};
pub use thread::{
    active_count, current_thread, enumerate, excepthook, exit, get_ident, get_native_id,
    getprofile, gettrace, main_thread, set_excepthook, setprofile, setprofile_all_threads,
    settrace, settrace_all_threads, spawn, stack_size, ExceptHook, ExceptHookArgs, JoinError,
    JoinHandle, Local, Target, Thread, ThreadBuilder, ThreadError, Timer, TraceEvent, TraceHook,
};
pub use time::{sleep, timeout, yield_now, Elapsed, Sleep, Timeout, TIMEOUT_MAX};
