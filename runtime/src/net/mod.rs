//! Network I/O as switch points: [`TcpListener`], [`TcpStream`],
//! [`UdpSocket`] and [`ThreadingTcpServer`] (Python's `socket` and
//! `socketserver.ThreadingTCPServer`).
//!
//! # Design notes
//!
//! 1. Every socket is a non-blocking `mio` socket registered with the one
//!    process-wide `mio::Poll` of the driver (`driver`; turned by the
//!    workers while they run, else by its own thread), for both
//!    directions, edge-triggered. The driver
//!    turns events into readiness bits of the socket's `ScheduledIo` and
//!    wakes its waiters; see `io.rs` for the rules that make edge
//!    triggering lose nothing (bits are cleared only on `WouldBlock`, and
//!    only if no event came since) and for the one-waiter-at-a-time wakeups
//!    of `accept`, `recv_from` and friends (no thundering herd when many
//!    threads wait on one socket).
//! 2. Every operation first spends one unit of the cooperative budget
//!    ([`crate::coop::poll_proceed`]), then tries the
//!    syscall if the direction is (believed) ready, and waits otherwise. A
//!    wait is a switch point: the thread's future returns `Pending`, its
//!    worker runs other threads, and in GIL mode the thread wrapper releases
//!    the GIL. A thread on an always-ready socket still yields once its
//!    budget is spent.
//! 3. The same types work in every mode without change: in OS-thread mode
//!    (and under [`block_on`](crate::block_on)) a `Pending` parks the one OS
//!    thread until the driver's wake unparks it; inside a foreign executor
//!    the waker is that executor's.
//! 4. Errors are the OS's `io::Error`s, unchanged. Name resolution
//!    (`ToSocketAddrs`) is std's and blocks, as in Python; loopback and
//!    literal addresses resolve without any lookup.
//! 5. Dropping a socket closes its descriptor first (which removes it from
//!    the epoll set) and then frees its driver token.

mod server;
mod tcp;
mod udp;

pub use server::ThreadingTcpServer;
pub use tcp::{
    OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, TcpListener, TcpStream, WriteHalf,
};
pub use udp::UdpSocket;

use std::future::Future;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use crate::coop;
use crate::driver::io::Readiness;
use crate::driver::registration::Registration;

/// A non-blocking source and its registration with the driver.
///
/// Field order matters: `source` is dropped (closed) before `reg` frees the
/// token (design note 5).
#[derive(Debug)]
pub(crate) struct PollIo<S> {
    /// The mio socket.
    source: S,
    /// Its readiness.
    reg: Registration,
}

impl<S: mio::event::Source> PollIo<S> {
    /// Registers `source` with the driver.
    pub(crate) fn new(mut source: S) -> io::Result<PollIo<S>> {
        let reg = Registration::new(&mut source)?;
        Ok(PollIo { source, reg })
    }
}

impl<S> PollIo<S> {
    /// The socket.
    pub(crate) fn get(&self) -> &S {
        &self.source
    }

    /// The `poll_*` path: runs `op` once `dir` is ready, until it does not
    /// say `WouldBlock`. One poller per direction at a time.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Readiness,
        mut op: impl FnMut(&S) -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        ready!(coop::poll_proceed(cx));
        loop {
            let tick = ready!(self.reg.io.poll_ready(cx, dir));
            match op(&self.source) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.reg.io.clear(dir, tick),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => return Poll::Ready(r),
            }
        }
    }

    /// The queued path: a future that runs `op` once `dir` is ready; any
    /// number of threads may wait at once (woken one at a time).
    pub(crate) fn io<R, F>(&self, dir: Readiness, op: F) -> IoFuture<'_, S, F>
    where
        F: FnMut(&S) -> io::Result<R> + Unpin,
    {
        IoFuture {
            io: self,
            dir,
            key: None,
            op,
        }
    }
}

/// The future of [`PollIo::io`].
///
/// Cancel safe: dropped while queued it leaves the queue, handing a wakeup it
/// had received to the next waiter; the operation itself runs inside one
/// poll, so a dropped future never performed it half-way.
#[derive(Debug)]
pub(crate) struct IoFuture<'a, S, F> {
    /// The socket.
    io: &'a PollIo<S>,
    /// The direction waited for.
    dir: Readiness,
    /// Our place in the direction's queue while waiting.
    key: Option<u64>,
    /// The non-blocking operation.
    op: F,
}

impl<S, R, F> Future for IoFuture<'_, S, F>
where
    F: FnMut(&S) -> io::Result<R> + Unpin,
{
    type Output = io::Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let this = self.get_mut();
        ready!(coop::poll_proceed(cx));
        let sched = &this.io.reg.io;
        loop {
            let tick = ready!(sched.poll_ready_queued(cx, this.dir, &mut this.key));
            match (this.op)(&this.io.source) {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => sched.clear(this.dir, tick),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                r => {
                    sched.pass(this.dir);
                    return Poll::Ready(r);
                }
            }
        }
    }
}

impl<S, F> Drop for IoFuture<'_, S, F> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.io.reg.io.cancel(self.dir, key);
        }
    }
}

/// Resolves `addr` (std's `ToSocketAddrs`, which blocks for a name lookup)
/// and runs `f` on each address until one succeeds; returns the last error.
pub(crate) fn each_addr<T>(
    addr: impl ToSocketAddrs,
    mut f: impl FnMut(SocketAddr) -> io::Result<T>,
) -> io::Result<T> {
    let mut last = None;
    for a in addr.to_socket_addrs()? {
        match f(a) {
            Ok(v) => return Ok(v),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(no_addresses))
}

/// The error for an address that resolved to nothing (std's message).
pub(crate) fn no_addresses() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "could not resolve to any addresses",
    )
}
