//! `net::UdpSocket`: round trips in every mode, connected sockets, many
//! receivers on one socket (woken one at a time, none lost, cancellation),
//! truncation and errors.

mod support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use greenthread::net::UdpSocket;
use greenthread::{sleep, spawn, timeout};

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<UdpSocket>();
};

/// Every public future is `Send`.
#[allow(dead_code)]
fn futures_are_send(s: &UdpSocket, buf: &mut [u8]) {
    support::assert_send(&s.send_to(b"", "127.0.0.1:1"));
    support::assert_send(&s.send(b""));
    support::assert_send(&s.recv_from(buf));
}

rt_test! {
    /// An echo thread and 200 ping-pong round trips.
    async fn round_trips() {
        let server = UdpSocket::bind("127.0.0.1:0").unwrap();
        let server_addr = server.local_addr().unwrap();
        let echo = spawn(async move {
            let mut buf = [0u8; 1500];
            for _ in 0..200 {
                let (n, from) = server.recv_from(&mut buf).await.unwrap();
                server.send_to(&buf[..n], from).await.unwrap();
            }
        });
        let client = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut buf = [0u8; 1500];
        for i in 0..200u32 {
            let msg = i.to_le_bytes();
            client.send_to(&msg, server_addr).await.unwrap();
            // Loopback does not drop datagrams at this rate; a timeout makes
            // a loss a clear failure instead of a hang.
            let (n, from) = timeout(Duration::from_secs(10), client.recv_from(&mut buf))
                .await
                .expect("datagram lost")
                .unwrap();
            assert_eq!(from, server_addr);
            assert_eq!(&buf[..n], &msg);
        }
        echo.await.unwrap();
    }
}

rt_test! {
    async fn connected_send_recv() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        assert_eq!(
            a.peer_addr().unwrap_err().kind(),
            std::io::ErrorKind::NotConnected
        );
        a.connect(b.local_addr().unwrap()).unwrap();
        b.connect(a.local_addr().unwrap()).unwrap();
        assert_eq!(a.peer_addr().unwrap(), b.local_addr().unwrap());
        assert_eq!(a.send(b"hello").await.unwrap(), 5);
        let mut buf = [0u8; 16];
        assert_eq!(b.recv(&mut buf).await.unwrap(), 5);
        assert_eq!(&buf[..5], b"hello");
        b.send(b"back").await.unwrap();
        assert_eq!(a.recv(&mut buf).await.unwrap(), 4);
        assert_eq!(&buf[..4], b"back");
    }
}

rt_test! {
    async fn ipv6_when_available() {
        let Ok(a) = UdpSocket::bind("[::1]:0") else {
            return;
        };
        let b = UdpSocket::bind("[::1]:0").unwrap();
        a.send_to(b"v6", b.local_addr().unwrap()).await.unwrap();
        let mut buf = [0u8; 4];
        let (n, from) = b.recv_from(&mut buf).await.unwrap();
        assert_eq!((&buf[..n], from), (&b"v6"[..], a.local_addr().unwrap()));
    }
}

rt_test! {
    /// A datagram larger than the buffer is truncated (the rest discarded).
    async fn truncation() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let b = UdpSocket::bind("127.0.0.1:0").unwrap();
        a.send_to(&[9u8; 100], b.local_addr().unwrap()).await.unwrap();
        a.send_to(&[8u8; 3], b.local_addr().unwrap()).await.unwrap();
        let mut small = [0u8; 10];
        let (n, _) = b.recv_from(&mut small).await.unwrap();
        assert_eq!((n, small), (10, [9u8; 10]));
        let (n, _) = b.recv_from(&mut small).await.unwrap();
        assert_eq!((n, &small[..3]), (3, &[8u8; 3][..]));
    }
}

rt_test! {
    async fn errors() {
        let a = UdpSocket::bind("127.0.0.1:0").unwrap();
        let err = UdpSocket::bind(a.local_addr().unwrap()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
        // Sending without a peer.
        let err = a.send(b"x").await.unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc_edestaddrreq()), "{err:?}");
        // A connected socket learns that the peer port is closed.
        let closed = UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        a.connect(closed).unwrap();
        a.send(b"anyone?").await.unwrap();
        let mut buf = [0u8; 8];
        let err = timeout(Duration::from_secs(10), a.recv(&mut buf)).await.unwrap().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    }
}

/// `EDESTADDRREQ` (Linux: 89).
fn libc_edestaddrreq() -> i32 {
    89
}

rt_test! {
    /// 32 threads wait in `recv_from` on one socket, a third of them
    /// cancelled by timeouts while datagrams arrive; every datagram is
    /// received exactly once and every forever-receiver gets one.
    async fn many_receivers_lose_nothing() {
        const FOREVER: usize = 32;
        const CANCELLED: usize = 16;
        let sock = Arc::new(UdpSocket::bind("127.0.0.1:0").unwrap());
        let addr = sock.local_addr().unwrap();
        let stolen = Arc::new(AtomicUsize::new(0));
        let mut forever = Vec::new();
        let mut cancelled = Vec::new();
        for i in 0..FOREVER + CANCELLED {
            let (s, stolen) = (sock.clone(), stolen.clone());
            if i % 3 == 0 && cancelled.len() < CANCELLED {
                cancelled.push(spawn(async move {
                    let mut buf = [0u8; 8];
                    let wait = Duration::from_millis(1 + i as u64 % 5);
                    if let Ok(r) = timeout(wait, s.recv_from(&mut buf)).await {
                        r.unwrap();
                        stolen.fetch_add(1, Ordering::SeqCst);
                    }
                }));
            } else {
                forever.push(spawn(async move {
                    let mut buf = [0u8; 8];
                    s.recv_from(&mut buf).await.unwrap().0
                }));
            }
        }
        sleep(Duration::from_millis(1)).await;
        let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
        for i in 0..FOREVER as u64 {
            sender.send_to(&i.to_le_bytes(), addr).await.unwrap();
        }
        for c in cancelled {
            c.await.unwrap();
        }
        for i in 0..stolen.load(Ordering::SeqCst) as u64 {
            sender.send_to(&(1000 + i).to_le_bytes(), addr).await.unwrap();
        }
        for f in forever {
            let n = timeout(Duration::from_secs(20), f)
                .await
                .expect("a datagram's wakeup was lost")
                .unwrap();
            assert_eq!(n, 8);
        }
    }
}
