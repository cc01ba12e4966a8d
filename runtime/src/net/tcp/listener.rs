//! [`TcpListener`]: a TCP socket server waiting for connections.

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use super::stream::TcpStream;
use crate::driver::io::Readiness;
use crate::net::{each_addr, PollIo};

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
