//! `net::TcpListener` / `TcpStream`: echo at scale in every mode, errors,
//! EOF, halves used from two threads, many threads waiting in `accept`,
//! cancellation, the cooperative budget.

mod support;

use support::net::{echo, echo_client};

use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::io::{AsyncReadExt, AsyncWriteExt};
use greenthread::net::{OwnedReadHalf, OwnedWriteHalf, TcpListener, TcpStream};
use greenthread::{sleep, spawn, timeout};

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    const fn send_unpin<T: Send + Unpin>() {}
    send_sync::<TcpListener>();
    send_sync::<TcpStream>();
    send_unpin::<TcpStream>();
    send_sync::<OwnedReadHalf>();
    send_sync::<OwnedWriteHalf>();
};

/// Every public future is `Send`, so it can run in a green thread.
#[allow(dead_code)]
fn futures_are_send(l: &TcpListener) {
    support::assert_send(&l.accept());
    support::assert_send(&TcpStream::connect("127.0.0.1:1"));
}

/// Starts a thread accepting exactly `n` connections, each echoed by its own
/// thread; returns the address.
fn echo_listener(n: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    spawn(async move {
        for _ in 0..n {
            let (s, _) = listener.accept().await.unwrap();
            spawn(echo(s));
        }
    });
    addr
}

/// `clients` threads × `rounds` verified round trips.
async fn echo_clients(addr: SocketAddr, clients: usize, rounds: usize) {
    let handles: Vec<_> = (0..clients)
        .map(|c| spawn(echo_client(addr, c, rounds)))
        .collect();
    let mut total = 0;
    for h in handles {
        total += h.await.unwrap();
    }
    assert_eq!(total, clients * rounds);
}

fn echo_scale(kind: &str, clients: usize) {
    support::run_with(kind, || async move {
        let addr = echo_listener(clients);
        echo_clients(addr, clients, 20).await;
    });
}

#[test]
fn echo_1000_clients_green() {
    echo_scale("green_n", 1000);
}

#[test]
fn echo_1000_clients_green_1() {
    echo_scale("green_1", 1000);
}

#[test]
fn echo_1000_clients_gil() {
    echo_scale("gil", 1000);
}

#[test]
fn echo_100_clients_os() {
    echo_scale("os", 100);
}

#[test]
fn echo_100_clients_os_gil() {
    echo_scale("os_gil", 100);
}

rt_test! {
    async fn addresses_agree() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        assert_ne!(addr.port(), 0);
        let client = spawn(async move { TcpStream::connect(addr).await.unwrap() });
        let (server_side, peer) = listener.accept().await.unwrap();
        let client = client.await.unwrap();
        assert_eq!(client.peer_addr().unwrap(), addr);
        assert_eq!(server_side.local_addr().unwrap(), addr);
        assert_eq!(peer, client.local_addr().unwrap());
        assert_eq!(server_side.peer_addr().unwrap(), peer);
        client.set_nodelay(true).unwrap();
        assert!(client.nodelay().unwrap());
        client.set_nodelay(false).unwrap();
        assert!(!client.nodelay().unwrap());
    }
}

rt_test! {
    async fn ipv6_loopback_when_available() {
        let Ok(listener) = TcpListener::bind("[::1]:0") else {
            return; // no IPv6 on this machine
        };
        let addr = listener.local_addr().unwrap();
        assert!(addr.is_ipv6());
        let client = spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(b"six").await.unwrap();
        });
        let (mut s, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).await.unwrap();
        assert_eq!(buf, b"six");
        client.await.unwrap();
    }
}

rt_test! {
    async fn connect_refused_is_the_os_error() {
        let addr = {
            let l = TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let err = TcpStream::connect(addr).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused, "{err:?}");
    }
}

rt_test! {
    async fn bind_errors() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let err = TcpListener::bind(l.local_addr().unwrap()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
        let err = TcpListener::bind(&[][..] as &[SocketAddr]).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    }
}

rt_test! {
    /// The server closes one connection: that client sees EOF, then an error
    /// on writing; the other client goes on.
    async fn server_closing_affects_only_its_client() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (closed, _) = listener.accept().await.unwrap();
            let (kept, _) = listener.accept().await.unwrap();
            drop(closed);
            echo(kept).await;
        });
        let mut doomed = TcpStream::connect(addr).await.unwrap();
        // Make sure the doomed one is accepted first.
        doomed.write_all(b"x").await.unwrap();
        sleep(Duration::from_millis(20)).await;
        let mut other = TcpStream::connect(addr).await.unwrap();

        let mut buf = [0u8; 8];
        // EOF (or a reset, since unread data was discarded) for this one.
        match doomed.read(&mut buf).await {
            Ok(n) => assert_eq!(n, 0),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
        }
        // Writing to a closed peer fails eventually (EPIPE / ECONNRESET).
        let mut failed = false;
        for _ in 0..100 {
            if doomed.write_all(b"more").await.is_err() {
                failed = true;
                break;
            }
            sleep(Duration::from_millis(1)).await;
        }
        assert!(failed, "writing to a closed connection never failed");

        for i in 0..10u8 {
            other.write_all(&[i; 8]).await.unwrap();
            other.read_exact(&mut buf).await.unwrap();
            assert_eq!(buf, [i; 8]);
        }
        other.shutdown(Shutdown::Write).unwrap();
        assert_eq!(other.read(&mut buf).await.unwrap(), 0);
        server.await.unwrap();
    }
}

rt_test! {
    /// A reader thread and a writer thread on the two halves of one stream,
    /// at once, 1 MiB each way through an echo server.
    async fn halves_in_two_threads() {
        const TOTAL: usize = 1 << 20;
        let addr = echo_listener(1);
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut r, mut w) = stream.into_split();
        let writer = spawn(async move {
            let mut sent = 0usize;
            while sent < TOTAL {
                let chunk: Vec<u8> = (sent..sent + 4096).map(|i| (i % 251) as u8).collect();
                w.write_all(&chunk).await.unwrap();
                sent += chunk.len();
            }
            w.close().await.unwrap(); // shuts the write side: the echo ends
            w
        });
        let reader = spawn(async move {
            let mut got = 0usize;
            let mut buf = vec![0u8; 7000];
            loop {
                let n = r.read(&mut buf).await.unwrap();
                if n == 0 {
                    break;
                }
                for (j, b) in buf[..n].iter().enumerate() {
                    assert_eq!(*b, ((got + j) % 251) as u8, "byte {}", got + j);
                }
                got += n;
            }
            (r, got)
        });
        let w = writer.await.unwrap();
        let (r, got) = reader.await.unwrap();
        assert_eq!(got, TOTAL);
        let local = w.local_addr().unwrap();
        let stream = r.reunite(w).unwrap();
        assert_eq!(stream.local_addr().unwrap(), local);
    }
}

rt_test! {
    async fn borrowed_halves_and_copy() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let (mut r, mut w) = s.split_borrowed();
            futures::io::copy(&mut r, &mut w).await.unwrap()
        });
        let mut c = TcpStream::connect(addr).await.unwrap();
        let data = vec![7u8; 100_000];
        let (mut r, mut w) = c.split_borrowed();
        let write = async {
            w.write_all(&data).await.unwrap();
            w.close().await.unwrap();
        };
        let read = async {
            let mut back = Vec::new();
            r.read_to_end(&mut back).await.unwrap();
            back
        };
        let ((), back) = futures::join!(write, read);
        assert_eq!(back, data);
        assert_eq!(server.await.unwrap(), data.len() as u64);
    }
}

rt_test! {
    /// Many threads wait in `accept` on one listener; every connection is
    /// accepted by exactly one of them and none is lost, even though some
    /// waiters are cancelled (timeouts) while the connections arrive.
    async fn many_acceptors_lose_nothing() {
        const FOREVER: usize = 64;
        const CANCELLED: usize = 16;
        let listener = Arc::new(TcpListener::bind("127.0.0.1:0").unwrap());
        let addr = listener.local_addr().unwrap();
        let stolen = Arc::new(AtomicUsize::new(0));
        let mut forever = Vec::new();
        let mut cancelled = Vec::new();
        for i in 0..FOREVER + CANCELLED {
            let (l, stolen) = (listener.clone(), stolen.clone());
            if i % 5 == 0 && cancelled.len() < CANCELLED {
                cancelled.push(spawn(async move {
                    let wait = Duration::from_millis(1 + i as u64 % 7);
                    if let Ok(Ok((mut s, _))) = timeout(wait, l.accept()).await {
                        stolen.fetch_add(1, Ordering::SeqCst);
                        s.write_all(&[1]).await.unwrap();
                    }
                }));
            } else {
                forever.push(spawn(async move {
                    let (mut s, _) = l.accept().await.unwrap();
                    s.write_all(&[1]).await.unwrap();
                }));
            }
        }
        let client = || {
            spawn(async move {
                let mut s = TcpStream::connect(addr).await.unwrap();
                let mut b = [0u8; 1];
                s.read_exact(&mut b).await.unwrap();
            })
        };
        // A burst of connections while the cancellable waiters time out.
        sleep(Duration::from_millis(1)).await;
        let mut clients: Vec<_> = (0..FOREVER).map(|_| client()).collect();
        for c in cancelled {
            c.await.unwrap();
        }
        // Replace the connections the cancelled waiters took: then exactly
        // one connection exists per forever-waiter, so all of them finish
        // only if none was lost.
        clients.extend((0..stolen.load(Ordering::SeqCst)).map(|_| client()));
        for f in forever {
            timeout(Duration::from_secs(20), f)
                .await
                .expect("a connection was lost: an acceptor never woke")
                .unwrap();
        }
        for c in clients {
            c.await.unwrap();
        }
    }
}

rt_test! {
    /// Dropping a pending `accept` (timeout) does not lose the next
    /// connection for the thread that accepts afterwards.
    async fn cancelled_accept_then_accept() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        assert!(timeout(Duration::from_millis(5), listener.accept()).await.is_err());
        let c = spawn(async move { TcpStream::connect(addr).await.unwrap() });
        let (_s, _) = timeout(Duration::from_secs(10), listener.accept())
            .await
            .expect("connection lost after a cancelled accept")
            .unwrap();
        c.await.unwrap();
    }
}

#[test]
fn budget_lets_others_run_on_an_always_ready_socket() {
    // One worker; one thread reads 1 byte at a time from a socket holding
    // 64 KiB (always ready); a sleeper must still get to run meanwhile.
    support::run_with("green_1", || async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut c = TcpStream::connect(addr).await.unwrap();
        let (mut s, _) = listener.accept().await.unwrap();
        c.write_all(&vec![3u8; 65536]).await.unwrap();
        sleep(Duration::from_millis(20)).await; // let it all arrive
        let woke = Arc::new(AtomicBool::new(false));
        let w = woke.clone();
        let sleeper = spawn(async move {
            sleep(Duration::from_millis(1)).await;
            w.store(true, Ordering::SeqCst);
        });
        let reader = spawn(async move {
            let mut seen_wake_at = None;
            let mut b = [0u8; 1];
            for i in 0..65536 {
                s.read_exact(&mut b).await.unwrap();
                if seen_wake_at.is_none() && woke.load(Ordering::SeqCst) {
                    seen_wake_at = Some(i);
                }
                if i % 4096 == 0 {
                    // Burn a little time so the sleeper's 1 ms can elapse.
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_micros(200) {}
                }
            }
            seen_wake_at
        });
        let at = reader.await.unwrap();
        sleeper.await.unwrap();
        assert!(
            at.is_some_and(|i| i < 65535),
            "the sleeper never ran while reading: {at:?}"
        );
    });
}

/// Polled by hand: 100 pending `accept`s on one listener; one connection
/// wakes exactly one of them (no thundering herd); when the woken one
/// accepts while another connection is pending, the next waiter is woken
/// (baton); a woken waiter dropped without looking hands its wakeup on.
#[test]
fn accept_wakes_one_waiter_at_a_time() {
    use std::future::Future;
    use std::task::{Context, Poll, Waker};

    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let counters: Vec<Arc<support::Counting>> = (0..100)
        .map(|_| Arc::new(support::Counting::default()))
        .collect();
    let wakers: Vec<Waker> = counters.iter().map(|c| Waker::from(c.clone())).collect();
    let mut futs: Vec<Option<std::pin::Pin<Box<_>>>> = (0..100)
        .map(|_| Some(Box::pin(listener.accept())))
        .collect();
    for (f, w) in futs.iter_mut().zip(&wakers) {
        let r = f
            .as_mut()
            .unwrap()
            .as_mut()
            .poll(&mut Context::from_waker(w));
        assert!(r.is_pending());
    }
    let wakes = || {
        counters
            .iter()
            .map(|c| c.0.load(Ordering::SeqCst))
            .collect::<Vec<_>>()
    };
    let woken = |expect: usize| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let w = wakes();
            let total: usize = w.iter().sum();
            if total >= expect || Instant::now() > deadline {
                std::thread::sleep(Duration::from_millis(30)); // any extra wakes?
                return wakes();
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    };

    // One connection: exactly one waiter woken, the first.
    let c1 = std::net::TcpStream::connect(addr).unwrap();
    let w = woken(1);
    assert_eq!(w.iter().sum::<usize>(), 1, "{w:?}");
    assert_eq!(w[0], 1);

    // A second connection while the woken one has not looked: nobody else.
    let c2 = std::net::TcpStream::connect(addr).unwrap();
    std::thread::sleep(Duration::from_millis(30));
    assert_eq!(wakes().iter().sum::<usize>(), 1);

    // The woken one accepts; readiness remains (c2 pending): the baton goes
    // to waiter 1.
    let r = futs[0]
        .as_mut()
        .unwrap()
        .as_mut()
        .poll(&mut Context::from_waker(&wakers[0]));
    assert!(matches!(r, Poll::Ready(Ok(_))));
    futs[0] = None;
    let w = woken(2);
    assert_eq!((w[1], w.iter().sum::<usize>()), (1, 2), "{w:?}");

    // Waiter 1 is dropped without looking: its wakeup goes to waiter 2.
    futs[1] = None;
    let w = woken(3);
    assert_eq!((w[2], w.iter().sum::<usize>()), (1, 3), "{w:?}");
    let r = futs[2]
        .as_mut()
        .unwrap()
        .as_mut()
        .poll(&mut Context::from_waker(&wakers[2]));
    assert!(matches!(r, Poll::Ready(Ok(_))));
    futs[2] = None;

    // Nothing pending now: waiter 3 may get one spurious baton wake, finds
    // nothing, and waits again; nobody else is woken.
    std::thread::sleep(Duration::from_millis(30));
    let w = wakes();
    assert!(w[3] <= 1 && w[4..].iter().all(|&n| n == 0), "{w:?}");
    if w[3] == 1 {
        let r = futs[3]
            .as_mut()
            .unwrap()
            .as_mut()
            .poll(&mut Context::from_waker(&wakers[3]));
        assert!(r.is_pending());
    }
    drop((c1, c2));
}
