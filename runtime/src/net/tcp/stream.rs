//! [`TcpStream`]: one TCP connection, read and written as a switch point.

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut, Read, Write};
use std::net::{Shutdown, SocketAddr, ToSocketAddrs};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

use crate::driver::io::Readiness;
use crate::net::{no_addresses, PollIo};

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
    pub(super) fn poll_read_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Readiness::READABLE, |mut s| s.read(&mut *buf))
    }

    pub(super) fn poll_read_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Readiness::READABLE, |mut s| s.read_vectored(&mut *bufs))
    }

    pub(super) fn poll_write_priv(
        &self,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Readiness::WRITABLE, |mut s| s.write(buf))
    }

    pub(super) fn poll_write_vectored_priv(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.io
            .poll_io(cx, Readiness::WRITABLE, |mut s| s.write_vectored(bufs))
    }

    /// `poll_close`: shuts the write half down (the peer reads EOF).
    pub(super) fn shutdown_write(&self) -> Poll<io::Result<()>> {
        match self.io.get().shutdown(Shutdown::Write) {
            Err(e) if e.kind() != io::ErrorKind::NotConnected => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(())),
        }
    }
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
