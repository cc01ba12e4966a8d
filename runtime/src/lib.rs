//! The runtime of greenthread: the M:N executor, the timer and I/O driver,
//! Python-style [`Thread`]s and their registry, [`Timer`], [`Local`], GIL
//! mode and OS-thread mode.
//!
//! Use it through the facade crate `greenthread`, which re-exports all of
//! this together with the synchronization primitives.
//!
//! # Map of the crate
//!
//! Its folders are its layers; every import runs downward.
//!
//! | layer | module | what |
//! |---|---|---|
//! | top | [`runtime`](Runtime) | [`run`], [`Runtime`], [`Builder`], [`Mode`], shutdown |
//! | top | [`gil`] | GIL mode's switches and [`checkpoint`] |
//! | top | [`debug`] | the thread dump, deadlock reports, stall warnings |
//! | top | [`net`], [`lowlevel`] | sockets as switch points, `ThreadingTcpServer`; Python's `_thread` |
//! | threads | `thread` | [`Thread`], its lifecycle, registry, context, hooks, [`spawn`], [`block_on`], [`Timer`], [`Local`], and the runtime handle threads hold |
//! | schedulers | `scheduler` | the green executor and OS-thread mode behind one spawning interface; the GIL lock (private) |
//! | time | [`time`] | [`sleep`], [`timeout`], [`TIMEOUT_MAX`] |
//! | driver | `driver` | the reactor: timers and per-source I/O readiness (private) |
//! | leaves | `park`, [`coop`], `record`, `waker`, `catch`, `native`, `loom` | parking an OS thread, the cooperative budget, what a thread waits on, panic-safe wakers and drops |

mod catch;
pub mod coop;
pub mod debug;
mod driver;
pub mod gil;
#[doc(hidden)]
pub mod glue;
mod loom;
pub mod lowlevel;
mod native;
pub mod net;
mod park;
mod record;
mod runtime;
mod scheduler;
mod thread;
pub mod time;
mod waker;

pub use gil::checkpoint;
pub use runtime::{run, Builder, Mode, Runtime, MAX_WORKERS};
pub use thread::block_on;
pub use thread::{
    active_count, current_thread, enumerate, excepthook, exit, get_ident, get_native_id,
    getprofile, gettrace, main_thread, set_excepthook, setprofile, setprofile_all_threads,
    settrace, settrace_all_threads, spawn, stack_size, ExceptHook, ExceptHookArgs, JoinError,
    JoinHandle, Local, Target, Thread, ThreadBuilder, ThreadError, Timer, TraceEvent, TraceHook,
};
pub use time::{sleep, timeout, yield_now, Elapsed, Sleep, Timeout, TIMEOUT_MAX};
