//! [`ThreadingTcpServer`]: Python's `socketserver.ThreadingTCPServer`.
//!
//! # Design notes
//!
//! 1. `serve_forever` is one accept loop; each connection gets a new
//!    [`Thread`] (named `Thread-N (process_request_thread)`, as in Python
//!    3.10+) running the handler. The handler is stored type-erased as a
//!    "make a thread" closure, so the only allocation per connection beyond
//!    the socket's is the thread itself.
//! 2. Shutdown is a flag plus an `event_listener::Event`. The accept loop
//!    keeps one listener of that event alive across iterations and polls it
//!    beside `accept`, so `shutdown()` — from any thread, even a plain OS
//!    thread — interrupts a pending accept at once; no polling interval.
//!    As in Python, a `shutdown()` that comes while no loop is serving makes
//!    the next `serve_forever` return at once, and each `serve_forever`
//!    clears the request when it returns.
//! 3. Accept errors never crash the loop and never spin: errors that belong
//!    to one connection (`ConnectionAborted`, `ConnectionReset`, `EPROTO`,
//!    `EPERM`) are skipped; running out of descriptors, memory or threads
//!    (`EMFILE`, `ENFILE`, `ENOBUFS`, `ENOMEM`, `ENOSPC`, a refused OS
//!    thread) backs off — [`BACKOFF_MIN`] doubling to [`BACKOFF_MAX`], reset
//!    by the next success, interruptible by `shutdown()` — and retries; the
//!    pending connection stays queued meanwhile. Any other error ends
//!    `serve_forever` with that error.
//! 4. Handler threads are not tracked by the loop; non-daemon ones are kept
//!    in a list (pruned of finished threads as it grows, like Python's
//!    `_threads`) only so [`ThreadingTcpServer::server_close`] can join them
//!    (Python's `block_on_close`).

use std::fmt;
use std::future::{poll_fn, Future};
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::time::Duration;

use event_listener::{Event, EventListener};

use super::{TcpListener, TcpStream};
use crate::thread::{Thread, ThreadBuilder, ThreadError};

/// First pause after running out of a resource while accepting (Go's
/// `net/http` figure): long enough to let handlers close descriptors, short
/// enough to be invisible to clients.
const BACKOFF_MIN: Duration = Duration::from_millis(5);
/// Longest pause between accept retries while a resource stays exhausted.
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// Length of the tracked-thread list below which it is never pruned.
const PRUNE_MIN: usize = 64;

/// Builds the handler thread for one connection (type-erased handler).
type MakeThread = Box<dyn Fn(TcpStream, SocketAddr, ThreadBuilder) -> Thread + Send + Sync>;

/// Python's `socketserver.ThreadingTCPServer`: accepts connections and runs
/// a handler for each in its own green [`Thread`].
///
/// `Send + Sync`: share it in an `Arc` to call [`shutdown`] from another
/// thread while one thread runs [`serve_forever`].
///
/// [`shutdown`]: ThreadingTcpServer::shutdown
/// [`serve_forever`]: ThreadingTcpServer::serve_forever
///
/// # Examples
///
/// An echo server (Python's `StreamRequestHandler` echo example):
///
/// ```
/// use std::sync::Arc;
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use greenthread::net::{TcpStream, ThreadingTcpServer};
///
/// greenthread::run(async {
///     let server = ThreadingTcpServer::bind("127.0.0.1:0", |stream: TcpStream, _peer| async move {
///         let (r, mut w) = stream.into_split();
///         // A 64 KiB copy buffer (`futures::io::copy` has 8 KiB): large
///         // payloads then cost one read and one write, as in CPython.
///         let r = futures::io::BufReader::with_capacity(64 * 1024, r);
///         let _ = futures::io::copy_buf(r, &mut w).await;
///     })
///     .unwrap();
///     let server = Arc::new(server);
///     let addr = server.server_address();
///     let s = server.clone();
///     let serving = greenthread::spawn(async move { s.serve_forever().await });
///
///     let mut c = TcpStream::connect(addr).await.unwrap();
///     c.write_all(b"hi").await.unwrap();
///     let mut buf = [0; 2];
///     c.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
///
///     server.shutdown();
///     serving.await.unwrap().unwrap();
/// });
/// ```
pub struct ThreadingTcpServer {
    /// The listening socket.
    listener: TcpListener,
    /// Its address, read once at bind.
    address: SocketAddr,
    /// The handler, as a thread factory.
    make_thread: MakeThread,
    /// Python's `daemon_threads`.
    daemon_threads: AtomicBool,
    /// Python's `__shutdown_request`.
    shutdown_request: AtomicBool,
    /// Notified by `shutdown()`.
    shutdown_event: Event,
    /// A `serve_forever` is running.
    serving: AtomicBool,
    /// Non-daemon handler threads (maybe finished) and the length at which
    /// the list is next pruned.
    threads: Mutex<(Vec<Thread>, usize)>,
}

impl fmt::Debug for ThreadingTcpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ThreadingTcpServer")
            .field("server_address", &self.address)
            .field("daemon_threads", &self.daemon_threads())
            .field("serving", &self.serving.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Clears `serving` when `serve_forever` returns or is dropped.
struct Serving<'a>(&'a ThreadingTcpServer);

impl Drop for Serving<'_> {
    fn drop(&mut self) {
        self.0.shutdown_request.store(false, Ordering::Release);
        self.0.serving.store(false, Ordering::Release);
    }
}

impl ThreadingTcpServer {
    /// Binds the listening socket (`SO_REUSEADDR`, as Python's
    /// `allow_reuse_address`) and stores the handler; serving starts with
    /// [`serve_forever`](ThreadingTcpServer::serve_forever).
    ///
    /// `handler(stream, peer)` is Python's `RequestHandler.handle`; it runs
    /// in a new thread per connection, and the connection closes when it
    /// drops the stream. A panic in it goes to the
    /// [`excepthook`](crate::excepthook) and ends only that thread.
    ///
    /// # Errors
    ///
    /// As [`TcpListener::bind`].
    pub fn bind<H, Fut>(addr: impl ToSocketAddrs, handler: H) -> io::Result<ThreadingTcpServer>
    where
        H: Fn(TcpStream, SocketAddr) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let listener = TcpListener::bind(addr)?;
        let address = listener.local_addr()?;
        let handler = Arc::new(handler);
        let make_thread: MakeThread = Box::new(move |stream, peer, builder: ThreadBuilder| {
            let handler = handler.clone();
            builder.build(move || handler(stream, peer))
        });
        Ok(ThreadingTcpServer {
            listener,
            address,
            make_thread,
            daemon_threads: AtomicBool::new(false),
            shutdown_request: AtomicBool::new(false),
            shutdown_event: Event::new(),
            serving: AtomicBool::new(false),
            threads: Mutex::new((Vec::new(), PRUNE_MIN)),
        })
    }

    /// The bound address (Python's `server_address`), with the real port
    /// after binding port 0.
    pub fn server_address(&self) -> SocketAddr {
        self.address
    }

    /// The bound address, from the OS.
    ///
    /// # Errors
    ///
    /// The OS's error from `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Python's `daemon_threads`: whether handler threads started from now
    /// on are daemon threads (default `false`: `run` waits for running
    /// handlers at exit, and [`server_close`](ThreadingTcpServer::server_close)
    /// joins them).
    pub fn set_daemon_threads(&self, daemon: bool) {
        self.daemon_threads.store(daemon, Ordering::Relaxed);
    }

    /// Whether new handler threads are daemon threads.
    pub fn daemon_threads(&self) -> bool {
        self.daemon_threads.load(Ordering::Relaxed)
    }

    /// Accepts connections and starts a handler thread for each, until
    /// [`shutdown`](ThreadingTcpServer::shutdown) (Python's
    /// `serve_forever()`). Handlers still running when it returns go on.
    ///
    /// # Errors
    ///
    /// - `ErrorKind::Other` if another `serve_forever` of this server is
    ///   running, or if the runtime is shutting down (no thread can start:
    ///   [`ThreadError::ShuttingDown`] is the source).
    /// - An accept error that is neither about one connection nor resource
    ///   exhaustion (module notes): e.g. `EBADF`, `EINVAL`.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future stops serving; a connection accepted
    /// and not yet handed to a thread cannot exist across an `.await`.
    pub async fn serve_forever(&self) -> io::Result<()> {
        if self.serving.swap(true, Ordering::AcqRel) {
            return Err(io::Error::other("serve_forever is already running"));
        }
        let _serving = Serving(self);
        let mut shutdown = self.shutdown_event.listen();
        let mut backoff = BACKOFF_MIN;
        loop {
            if self.shutdown_request.load(Ordering::Acquire) {
                return Ok(());
            }
            let Some(accepted) = self
                .or_shutdown(&mut shutdown, self.listener.accept())
                .await
            else {
                shutdown = self.shutdown_event.listen();
                continue; // the loop head checks the request
            };
            match accepted {
                Ok((stream, peer)) => match self.process_request(stream, peer) {
                    Ok(()) => {
                        backoff = BACKOFF_MIN;
                        continue;
                    }
                    Err(ThreadError::ShuttingDown) => {
                        return Err(io::Error::other(ThreadError::ShuttingDown));
                    }
                    // Python's `handle_error`: report, drop the connection,
                    // back off (the OS refused a thread).
                    Err(e) => {
                        eprintln!(
                            "Exception occurred during processing of request from {peer}: {e}"
                        );
                    }
                },
                Err(e) if is_per_connection(&e) => continue,
                Err(e) if is_exhaustion(&e) => {}
                Err(e) => return Err(e),
            }
            // Out of a resource: pause (interruptible by `shutdown`).
            let pause = crate::time::sleep(backoff);
            if self.or_shutdown(&mut shutdown, pause).await.is_none() {
                shutdown = self.shutdown_event.listen();
            }
            backoff = (backoff * 2).min(BACKOFF_MAX);
        }
    }

    /// Runs `fut` until it completes (`Some`) or `shutdown` fires (`None`).
    async fn or_shutdown<T>(
        &self,
        shutdown: &mut EventListener,
        fut: impl Future<Output = T>,
    ) -> Option<T> {
        let mut fut = pin!(fut);
        // `shutdown()` notifies the listener inside event_listener's lock:
        // a user's waker is wrapped to catch its panic (SPEC §10.27).
        let mut catch = crate::waker::CatchWaker::new();
        poll_fn(|cx| {
            if catch
                .poll(cx, |cx| std::pin::Pin::new(&mut *shutdown).poll(cx))
                .is_ready()
            {
                return Poll::Ready(None);
            }
            fut.as_mut().poll(cx).map(Some)
        })
        .await
    }

    /// Accepts one connection and starts its handler thread (Python's
    /// `handle_request()`, without a timeout).
    ///
    /// # Errors
    ///
    /// The accept error, as [`TcpListener::accept`]; `ErrorKind::Other`
    /// with the [`ThreadError`] if the thread cannot start.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, as [`TcpListener::accept`].
    pub async fn handle_request(&self) -> io::Result<()> {
        let (stream, peer) = self.listener.accept().await?;
        self.process_request(stream, peer).map_err(io::Error::other)
    }

    /// Starts the handler thread for one connection (Python's
    /// `process_request`).
    fn process_request(&self, stream: TcpStream, peer: SocketAddr) -> Result<(), ThreadError> {
        let daemon = self.daemon_threads();
        let thread = (self.make_thread)(stream, peer, Thread::builder().daemon(daemon));
        thread.set_name(format!("{} (process_request_thread)", thread.name()));
        thread.start()?;
        if !daemon {
            let mut guard = self.threads.lock().unwrap_or_else(|e| e.into_inner());
            let (threads, prune_at) = &mut *guard;
            threads.push(thread);
            if threads.len() >= *prune_at {
                threads.retain(Thread::is_alive);
                *prune_at = (threads.len() * 2).max(PRUNE_MIN);
            }
        }
        Ok(())
    }

    /// Asks [`serve_forever`](ThreadingTcpServer::serve_forever) to stop
    /// (Python's `shutdown()`, without waiting): it returns soon after, from
    /// any thread, even while blocked in `accept`. Running handler threads
    /// are not affected. If no loop is serving, the next `serve_forever`
    /// returns at once.
    pub fn shutdown(&self) {
        self.shutdown_request.store(true, Ordering::Release);
        self.shutdown_event.notify(usize::MAX);
    }

    /// Stops serving and waits for every non-daemon handler thread started
    /// so far to end (Python's `server_close()` with `block_on_close`). The
    /// listening socket itself closes when the server is dropped.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future only stops waiting.
    pub async fn server_close(&self) {
        self.shutdown();
        let threads = std::mem::take(&mut self.threads.lock().unwrap_or_else(|e| e.into_inner()).0);
        for t in threads {
            let _ = t.join().await; // `JoinSelf` from a handler: skip itself
        }
    }
}

/// Accept errors that concern one connection only.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    ) || matches!(e.raw_os_error(), Some(libc::EPROTO | libc::EPERM))
}

/// Accept errors that mean a resource ran out for now.
fn is_exhaustion(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::OutOfMemory
        || matches!(
            e.raw_os_error(),
            Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM | libc::ENOSPC)
        )
}
