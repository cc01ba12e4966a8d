//! TCP: [`TcpListener`], [`TcpStream`] and its read/write halves.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

use super::{each_addr, no_addresses, PollIo};
use crate::driver::io::Readiness;

/// Pending connections the kernel queues for a listener: tokio's figure. std
/// and mio use 128, which a burst of a thousand connects overflows (each
/// dropped SYN costs the client a one-second retransmission); the kernel
/// caps it at `net.core.somaxconn`.
const LISTEN_BACKLOG: i32 = 1024;

/// A TCP socket server, listening for connections (Python's
/// `socket.socket(AF_INET, SOCK_STREAM)` after `bind` and `listen`).
///
/// Any number of threads may wait in [`accept`](TcpListener::accept) on one
/// listener (share it in an `Arc`): each incoming connection wakes one of
/// them, the longest waiting first. A thread that calls `accept` just then
/// may take the connection first (as with a blocking `accept`); the woken
/// one then waits again, at the back.
///
/// # Examples
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use greenthread::net::{TcpListener, TcpStream};
///
/// greenthread::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = greenthread::spawn(async move {
///         let mut s = TcpStream::connect(addr).await.unwrap();
///         s.write_all(b"ping").await.unwrap();
///         let mut buf = [0; 4];
///         s.read_exact(&mut buf).await.unwrap();
///         buf
///     });
///     let (mut conn, _peer) = listener.accept().await.unwrap();
///     let mut buf = [0; 4];
///     conn.read_exact(&mut buf).await.unwrap();
///     conn.write_all(&buf).await.unwrap();
///     assert_eq!(&client.await.unwrap(), b"ping");
/// });
/// ```
pub struct TcpListener {
    /// The registered listener.
    io: PollIo<mio::net::TcpListener>,
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpListener")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl TcpListener {
    /// Binds a listening socket to `addr` (with `SO_REUSEADDR`, as Python's
    /// `socketserver` does), trying each resolved address in turn. Port 0
    /// picks a free port: see [`local_addr`](TcpListener::local_addr).
    ///
    /// # Errors
    ///
    /// The OS's error for the last address tried (`AddrInUse`,
    /// `AddrNotAvailable`, `PermissionDenied`, out of descriptors...),
    /// `InvalidInput` if `addr` resolves to nothing, or the error of
    /// registering with the driver.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        let listener = each_addr(addr, |a| {
            let l = mio::net::TcpListener::bind(a)?;
            set_backlog(&l)?;
            Ok(l)
        })?;
        Ok(TcpListener {
            io: PollIo::new(listener)?,
        })
    }

    /// Wraps a std listener (made non-blocking here).
    ///
    /// # Errors
    ///
    /// The OS's error from `set_nonblocking`, or registering with the driver.
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        Ok(TcpListener {
            io: PollIo::new(mio::net::TcpListener::from_std(listener))?,
        })
    }

    /// Waits for a connection and returns it with the peer's address
    /// (Python's `accept()`). A switch point while no connection is pending.
    ///
    /// # Errors
    ///
    /// The OS's error: `EMFILE`/`ENFILE` (raw OS errors 24/23) when out of
    /// file descriptors — the pending connection stays queued, so retry
    /// after closing something or backing off; `ConnectionAborted` for a
    /// connection reset before it was accepted; or the error of registering
    /// the new stream with the driver.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `accept` future accepted nothing, and a wakeup
    /// it had received goes to the next waiting thread.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.io.io(Readiness::READABLE, |l| l.accept()).await?;
        Ok((TcpStream::from_mio(stream)?, peer))
    }

    /// The address it is bound to (with the real port after binding port 0).
    ///
    /// # Errors
    ///
    /// The OS's error from `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// Sets the IP time-to-live of accepted sockets.
    ///
    /// # Errors
    ///
    /// The OS's error from `setsockopt`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get().set_ttl(ttl)
    }

    /// The IP time-to-live.
    ///
    /// # Errors
    ///
    /// The OS's error from `getsockopt`.
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get().ttl()
    }
}

/// Raises the accept backlog of a listening socket to [`LISTEN_BACKLOG`].
#[cfg(unix)]
fn set_backlog(l: &mio::net::TcpListener) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: `listen` only reads its two integer arguments; the descriptor
    // is owned by `l`, which is alive for the call. Calling `listen` again
    // on a listening socket just updates its backlog.
    let r = unsafe { libc::listen(l.as_raw_fd(), LISTEN_BACKLOG) };
    if r == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(unix))]
fn set_backlog(_: &mio::net::TcpListener) -> io::Result<()> {
    Ok(())
}

/// A TCP connection (Python's connected `socket.socket`), implementing
/// [`futures::io::AsyncRead`] and [`AsyncWrite`], so `AsyncReadExt`,
/// `AsyncWriteExt`, `futures::io::copy` and `BufReader` work on it.
///
/// Reading and writing from two threads at once: [`into_split`] gives owned
/// halves that can move to different threads; [`split_borrowed`] gives borrowed
/// halves for one thread (e.g. `futures::io::copy` from one to the other).
///
/// Dropping it closes the connection; the peer reads EOF.
///
/// [`into_split`]: TcpStream::into_split
/// [`split_borrowed`]: TcpStream::split_borrowed
///
/// # Examples
///
/// ```
/// use futures::io::{AsyncReadExt, AsyncWriteExt};
/// use greenthread::net::{TcpListener, TcpStream};
///
/// greenthread::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = greenthread::spawn(async move {
///         let (conn, _) = listener.accept().await.unwrap();
///         let (mut r, mut w) = conn.into_split();
///         futures::io::copy(&mut r, &mut w).await.unwrap(); // echo until EOF
///     });
///     let mut s = TcpStream::connect(addr).await.unwrap();
///     s.set_nodelay(true).unwrap();
///     s.write_all(b"hello").await.unwrap();
///     s.shutdown(std::net::Shutdown::Write).unwrap();
///     let mut back = String::new();
///     s.read_to_string(&mut back).await.unwrap();
///     assert_eq!(back, "hello");
///     server.await.unwrap();
/// });
/// ```
pub struct TcpStream {
    /// The registered stream.
    io: PollIo<mio::net::TcpStream>,
}

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpStream")
            .field("local_addr", &self.local_addr().ok())
            .field("peer_addr", &self.peer_addr().ok())
            .finish()
    }
}

impl TcpStream {
    /// Opens a connection to `addr`, trying each resolved address in turn
    /// (Python's `socket.create_connection`). A switch point while the
    /// handshake is in progress.
    ///
    /// # Errors
    ///
    /// The OS's error for the last address tried: `ConnectionRefused`,
    /// `TimedOut`, `NetworkUnreachable`, out of descriptors...;
    /// `InvalidInput` if `addr` resolves to nothing.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future abandons the connection attempt and closes its
    /// socket.
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        let addrs: Vec<SocketAddr> = addr.to_socket_addrs()?.collect();
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_addr(a).await {
                Ok(s) => return Ok(s),
                Err(e) => last = Some(e),
            }
        }
        Err(last.unwrap_or_else(no_addresses))
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        let io = PollIo::new(mio::net::TcpStream::connect(addr)?)?;
        // mio's recipe: once writable, a pending error means failure and a
        // peer address means success; neither means still in progress.
        io.io(Readiness::WRITABLE, |s| {
            if let Some(e) = s.take_error()? {
                return Err(e);
            }
            match s.peer_addr() {
                Ok(_) => Ok(()),
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    Err(io::ErrorKind::WouldBlock.into())
                }
                Err(e) => Err(e),
            }
        })
        .await?;
        Ok(TcpStream { io })
    }

    pub(crate) fn from_mio(stream: mio::net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream {
            io: PollIo::new(stream)?,
        })
    }

    /// Wraps a connected std stream (made non-blocking here).
    ///
    /// # Errors
    ///
    /// The OS's error from `set_nonblocking`, or registering with the driver.
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_mio(mio::net::TcpStream::from_std(stream))
    }

    /// The local address of the connection.
    ///
    /// # Errors
    ///
    /// The OS's error from `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` once the connection is gone, or another OS error from
    /// `getpeername`.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// Shuts down the read half, the write half or both (Python's
    /// `shutdown(SHUT_RD | SHUT_WR | SHUT_RDWR)`). After `Shutdown::Write`
    /// the peer reads EOF; the descriptor stays open until the stream is
    /// dropped.
    ///
    /// # Errors
    ///
    /// The OS's error, e.g. `NotConnected`.
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get().shutdown(how)
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm): small writes go out
    /// at once, which request/response protocols want.
    ///
    /// # Errors
    ///
    /// The OS's error from `setsockopt`.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// # Errors
    ///
    /// The OS's error from `getsockopt`.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get().nodelay()
    }

    /// Splits into owned halves that can be used from two threads at once;
    /// [`OwnedReadHalf::reunite`] puts them back together. The connection
    /// closes when both halves are dropped.
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        let inner = Arc::new(self);
        (
            OwnedReadHalf {
                inner: inner.clone(),
            },
            OwnedWriteHalf { inner },
        )
    }

    /// Splits into borrowed halves (both usable at once in one thread, e.g.
    /// to `futures::io::copy` from one to the other). Not named `split`:
    /// with `futures::io::AsyncReadExt` in scope, `stream.split()` is that
    /// trait's (by-value, lock-based) split, which also works.
    pub fn split_borrowed(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        (ReadHalf { inner: self }, WriteHalf { inner: self })
    }

    fn poll_read_priv(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Readiness::READABLE, |mut s| s.read(&mut *buf))
    }

    fn poll_read_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Readiness::READABLE, |mut s| s.read_vectored(&mut *bufs))
    }

    fn poll_write_priv(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Readiness::WRITABLE, |mut s| s.write(buf))
    }

    fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Readiness::WRITABLE, |mut s| s.write_vectored(bufs))
    }

    /// `poll_close`: shuts the write half down (the peer reads EOF).
    fn shutdown_write(&self) -> Poll<io::Result<()>> {
        match self.io.get().shutdown(Shutdown::Write) {
            Err(e) if e.kind() != io::ErrorKind::NotConnected => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(())),
        }
    }
}

/// Implements `AsyncRead` and `AsyncWrite` for a type whose `inner` field
/// derefs to a `TcpStream`.
macro_rules! impl_async_io {
    (read: $t:ty) => {
        impl AsyncRead for $t {
            /// Reads what is available (a switch point while nothing is);
            /// `Ok(0)` at EOF.
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: no data is read unless `Ready` is returned.
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.inner.poll_read_priv(cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                self.inner.poll_read_vectored_priv(cx, bufs)
            }
        }
    };
    (write: $t:ty) => {
        impl AsyncWrite for $t {
            /// Writes what the socket buffer takes (a switch point while it
            /// is full).
            ///
            /// # Cancel safety
            ///
            /// Cancel safe: no data is written unless `Ready` is returned.
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.inner.poll_write_priv(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.inner.poll_write_vectored_priv(cx, bufs)
            }

            /// Nothing is buffered: always ready.
            fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                Poll::Ready(Ok(()))
            }

            /// Shuts the write direction down; the peer reads EOF.
            fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.inner.shutdown_write()
            }
        }
    };
}

impl AsyncRead for TcpStream {
    /// Reads what is available (a switch point while nothing is); `Ok(0)` at
    /// EOF.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: no data is read unless `Ready` is returned.
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_priv(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_read_vectored_priv(cx, bufs)
    }
}

impl AsyncWrite for TcpStream {
    /// Writes what the socket buffer takes (a switch point while it is
    /// full).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: no data is written unless `Ready` is returned.
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_priv(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored_priv(cx, bufs)
    }

    /// Nothing is buffered: always ready.
    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    /// Shuts the write direction down; the peer reads EOF.
    fn poll_close(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.shutdown_write()
    }
}

/// The read half of [`TcpStream::into_split`]; movable to another thread.
#[derive(Debug)]
pub struct OwnedReadHalf {
    /// The shared stream.
    inner: Arc<TcpStream>,
}

/// The write half of [`TcpStream::into_split`]; movable to another thread.
/// Closing it ([`AsyncWriteExt::close`](futures::io::AsyncWriteExt::close))
/// shuts the write direction down.
#[derive(Debug)]
pub struct OwnedWriteHalf {
    /// The shared stream.
    inner: Arc<TcpStream>,
}

/// The read half of [`TcpStream::split_borrowed`].
#[derive(Debug)]
pub struct ReadHalf<'a> {
    /// The stream.
    inner: &'a TcpStream,
}

/// The write half of [`TcpStream::split_borrowed`].
#[derive(Debug)]
pub struct WriteHalf<'a> {
    /// The stream.
    inner: &'a TcpStream,
}

impl_async_io!(read: OwnedReadHalf);
impl_async_io!(write: OwnedWriteHalf);
impl_async_io!(read: ReadHalf<'_>);
impl_async_io!(write: WriteHalf<'_>);

impl OwnedReadHalf {
    /// Puts the halves of one stream back together.
    ///
    /// # Errors
    ///
    /// [`ReuniteError`] (holding both halves) if they come from different
    /// streams.
    pub fn reunite(self, other: OwnedWriteHalf) -> Result<TcpStream, ReuniteError> {
        if !Arc::ptr_eq(&self.inner, &other.inner) {
            return Err(ReuniteError(self, other));
        }
        drop(other);
        // Exactly two `Arc`s exist per split and `other`'s is gone.
        Arc::try_unwrap(self.inner)
            .map_err(|_| unreachable!("a stream's halves hold its only two references"))
    }

    /// The peer's address.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }
}

impl OwnedWriteHalf {
    /// The peer's address.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::peer_addr`].
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.peer_addr()
    }

    /// The local address.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::local_addr`].
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.inner.local_addr()
    }

    /// Shuts down the given direction(s) of the whole connection.
    ///
    /// # Errors
    ///
    /// As [`TcpStream::shutdown`].
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.inner.shutdown(how)
    }
}

/// The halves given to [`OwnedReadHalf::reunite`] came from different
/// streams; both are handed back.
#[derive(Debug)]
pub struct ReuniteError(pub OwnedReadHalf, pub OwnedWriteHalf);

impl fmt::Display for ReuniteError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same socket")
    }
}

impl std::error::Error for ReuniteError {}
