//! The halves of a [`TcpStream`]: owned ([`OwnedReadHalf`], [`OwnedWriteHalf`],
//! for two threads) and borrowed ([`ReadHalf`], [`WriteHalf`], for one).

use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::net::{Shutdown, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures::io::{AsyncRead, AsyncWrite};

use super::stream::TcpStream;

impl TcpStream {
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
