//! UDP: [`UdpSocket`].

use std::fmt;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use super::{each_addr, no_addresses, PollIo};
use crate::driver::io::Readiness;

/// A UDP socket (Python's `socket.socket(AF_INET, SOCK_DGRAM)`).
///
/// All methods take `&self`: share the socket in an `Arc` and any number of
/// threads may send and receive at once; a datagram wakes one waiting
/// receiver, the longest waiting first (a thread that calls in just then
/// may take it first; the woken one then waits again, at the back).
///
/// # Examples
///
/// ```
/// use greenthread::net::UdpSocket;
///
/// greenthread::run(async {
///     let a = UdpSocket::bind("127.0.0.1:0").unwrap();
///     let b = UdpSocket::bind("127.0.0.1:0").unwrap();
///     a.send_to(b"ping", b.local_addr().unwrap()).await.unwrap();
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
///     assert_eq!(&buf[..n], b"ping");
///     assert_eq!(from, a.local_addr().unwrap());
/// });
/// ```
pub struct UdpSocket {
    /// The registered socket.
    io: PollIo<mio::net::UdpSocket>,
}

impl fmt::Debug for UdpSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UdpSocket")
            .field("local_addr", &self.local_addr().ok())
            .finish()
    }
}

impl UdpSocket {
    /// Binds a socket to `addr`, trying each resolved address in turn. Port 0
    /// picks a free port: see [`local_addr`](UdpSocket::local_addr).
    ///
    /// # Errors
    ///
    /// The OS's error for the last address tried (`AddrInUse`, ...),
    /// `InvalidInput` if `addr` resolves to nothing, or the error of
    /// registering with the driver.
    pub fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        let socket = each_addr(addr, mio::net::UdpSocket::bind)?;
        Ok(UdpSocket {
            io: PollIo::new(socket)?,
        })
    }

    /// Wraps a std socket (made non-blocking here).
    ///
    /// # Errors
    ///
    /// The OS's error from `set_nonblocking`, or registering with the driver.
    pub fn from_std(socket: std::net::UdpSocket) -> io::Result<UdpSocket> {
        socket.set_nonblocking(true)?;
        Ok(UdpSocket {
            io: PollIo::new(mio::net::UdpSocket::from_std(socket))?,
        })
    }

    /// The address it is bound to.
    ///
    /// # Errors
    ///
    /// The OS's error from `getsockname`.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().local_addr()
    }

    /// The address it is connected to.
    ///
    /// # Errors
    ///
    /// `NotConnected` if [`connect`](UdpSocket::connect) was not called.
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get().peer_addr()
    }

    /// Sets the default destination of [`send`](UdpSocket::send) and the
    /// only source [`recv`](UdpSocket::recv) accepts datagrams from, trying
    /// each resolved address in turn. Never waits (a UDP connect sends
    /// nothing), so it is not `async`.
    ///
    /// # Errors
    ///
    /// The OS's error for the last address tried, or `InvalidInput` if
    /// `addr` resolves to nothing.
    pub fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        each_addr(addr, |a| self.io.get().connect(a))
    }

    /// Sends one datagram to `target` (its first resolved address, as
    /// std's `send_to`); returns the bytes sent. A switch point while the
    /// send buffer is full.
    ///
    /// # Errors
    ///
    /// The OS's error (`EMSGSIZE` for a datagram larger than the path
    /// allows, `ConnectionRefused` reported for an earlier datagram...);
    /// `InvalidInput` if `target` resolves to nothing.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future sent nothing.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        let target = target.to_socket_addrs()?.next().ok_or_else(no_addresses)?;
        self.io
            .io(Readiness::WRITABLE, |s| s.send_to(buf, target))
            .await
    }

    /// Receives one datagram; returns its length and sender. Bytes beyond
    /// `buf`'s length are discarded, as the OS does. A switch point while
    /// nothing has arrived.
    ///
    /// # Errors
    ///
    /// The OS's error (e.g. `ConnectionRefused` after sending to a closed
    /// port of a connected peer).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future received nothing, and a wakeup it had
    /// received goes to the next waiting thread.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.io.io(Readiness::READABLE, |s| s.recv_from(buf)).await
    }

    /// Sends one datagram to the connected peer.
    ///
    /// # Errors
    ///
    /// As [`send_to`](UdpSocket::send_to); `NotConnected` without
    /// [`connect`](UdpSocket::connect).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        self.io.io(Readiness::WRITABLE, |s| s.send(buf)).await
    }

    /// Receives one datagram from the connected peer.
    ///
    /// # Errors
    ///
    /// As [`recv_from`](UdpSocket::recv_from).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.io.io(Readiness::READABLE, |s| s.recv(buf)).await
    }

    /// Sets `SO_BROADCAST`.
    ///
    /// # Errors
    ///
    /// The OS's error from `setsockopt`.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.io.get().set_broadcast(on)
    }

    /// Sets the IP time-to-live.
    ///
    /// # Errors
    ///
    /// The OS's error from `setsockopt`.
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get().set_ttl(ttl)
    }
}
