//! Helpers the socket tests share: an echo handler and a client that
//! checks every echoed byte.

use std::net::SocketAddr;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use greenthread::net::TcpStream;

/// Echoes everything back until EOF (Python's echoing request handler).
pub(crate) async fn echo(stream: TcpStream) {
    let (mut r, mut w) = stream.into_split();
    let _ = futures::io::copy(&mut r, &mut w).await;
}

/// Client `id` connects to `addr` and makes `rounds` round trips of 64
/// bytes (distinct per client and round), each verified; returns `rounds`.
pub(crate) async fn echo_client(addr: SocketAddr, id: usize, rounds: usize) -> usize {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.set_nodelay(true).unwrap();
    let mut buf = [0u8; 64];
    for r in 0..rounds {
        let msg: Vec<u8> = (0..64).map(|i| (id * 31 + r * 7 + i) as u8).collect();
        s.write_all(&msg).await.unwrap();
        s.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf[..], &msg[..], "client {id} round {r}");
    }
    rounds
}
