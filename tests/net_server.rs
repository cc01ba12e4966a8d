//! `net::ThreadingTcpServer`: echo at scale in every mode, shutdown while
//! clients are connected, handlers whose connection the server closes,
//! daemon threads, thread names, `server_close`, misuse.

mod support;

use support::net::echo_client;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::io::{AsyncReadExt, AsyncWriteExt};
use greenthread::net::{TcpStream, ThreadingTcpServer};
use greenthread::{current_thread, sleep, spawn, timeout, Event, JoinHandle};

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<ThreadingTcpServer>();
};

/// Every public future is `Send`.
#[allow(dead_code)]
fn futures_are_send(s: &ThreadingTcpServer) {
    support::assert_send(&s.serve_forever());
    support::assert_send(&s.server_close());
    support::assert_send(&s.handle_request());
}

/// The echo handler (Python's `StreamRequestHandler` echoing lines).
async fn echo(stream: TcpStream, _peer: SocketAddr) {
    support::net::echo(stream).await
}

/// Binds an echo server and runs `serve_forever` in a thread.
fn start_echo() -> (Arc<ThreadingTcpServer>, JoinHandle<std::io::Result<()>>) {
    let server = Arc::new(ThreadingTcpServer::bind("127.0.0.1:0", echo).unwrap());
    let s = server.clone();
    let serving = spawn(async move { s.serve_forever().await });
    (server, serving)
}

fn echo_scale(kind: &str, clients: usize) {
    support::run_with(kind, || async move {
        let (server, serving) = start_echo();
        let addr = server.server_address();
        let handles: Vec<_> = (0..clients)
            .map(|id| spawn(echo_client(addr, id, 20)))
            .collect();
        for h in handles {
            h.await.unwrap();
        }
        server.shutdown();
        serving.await.unwrap().unwrap();
    });
}

#[test]
fn echo_1000_clients_green() {
    echo_scale("green_n", 1000);
}

#[test]
fn echo_1000_clients_gil() {
    echo_scale("gil", 1000);
}

#[test]
fn echo_100_clients_os() {
    echo_scale("os", 100);
}

rt_test! {
    async fn addresses() {
        let server = ThreadingTcpServer::bind("127.0.0.1:0", echo).unwrap();
        let addr = server.server_address();
        assert_eq!(addr.ip(), std::net::Ipv4Addr::LOCALHOST);
        assert_ne!(addr.port(), 0);
        assert_eq!(server.local_addr().unwrap(), addr);
        let taken = ThreadingTcpServer::bind(addr, echo).unwrap_err();
        assert_eq!(taken.kind(), std::io::ErrorKind::AddrInUse);
    }
}

rt_test! {
    /// `shutdown()` while clients are connected: `serve_forever` returns
    /// promptly, the running handlers finish their conversations.
    async fn shutdown_with_clients_connected() {
        let (server, serving) = start_echo();
        let addr = server.server_address();
        let mut conns = Vec::new();
        for i in 0..10u8 {
            let mut c = TcpStream::connect(addr).await.unwrap();
            c.write_all(&[i]).await.unwrap();
            let mut b = [0u8; 1];
            c.read_exact(&mut b).await.unwrap(); // its handler is running
            conns.push(c);
        }
        server.shutdown();
        timeout(Duration::from_secs(5), serving)
            .await
            .expect("serve_forever did not return after shutdown()")
            .unwrap()
            .unwrap();
        for (i, c) in conns.iter_mut().enumerate() {
            for r in 0..5u8 {
                let msg = [i as u8, r, 42];
                c.write_all(&msg).await.unwrap();
                let mut back = [0u8; 3];
                c.read_exact(&mut back).await.unwrap();
                assert_eq!(back, msg);
            }
        }
        // No new connection is served any more: the listener still exists
        // (the kernel may complete the handshake) but nobody reads.
        let mut late = TcpStream::connect(addr).await.unwrap();
        late.write_all(b"?").await.unwrap();
        let mut b = [0u8; 1];
        assert!(timeout(Duration::from_millis(50), late.read_exact(&mut b)).await.is_err());
    }
}

rt_test! {
    /// As in Python, a `shutdown()` before `serve_forever` makes it return
    /// at once; the request is then consumed and serving works again.
    async fn shutdown_before_serving() {
        let server = Arc::new(ThreadingTcpServer::bind("127.0.0.1:0", echo).unwrap());
        server.shutdown();
        timeout(Duration::from_secs(5), server.serve_forever()).await.unwrap().unwrap();
        let s = server.clone();
        let serving = spawn(async move { s.serve_forever().await });
        echo_client(server.server_address(), 0, 3).await;
        server.shutdown();
        serving.await.unwrap().unwrap();
    }
}

rt_test! {
    /// `shutdown()` from a plain OS thread wakes the accept loop.
    async fn shutdown_from_an_os_thread() {
        let (server, serving) = start_echo();
        sleep(Duration::from_millis(5)).await;
        let s = server.clone();
        std::thread::spawn(move || s.shutdown()).join().unwrap();
        timeout(Duration::from_secs(5), serving).await.unwrap().unwrap().unwrap();
    }
}

rt_test! {
    async fn second_serve_forever_is_an_error() {
        let (server, serving) = start_echo();
        // Make sure the first loop is running.
        echo_client(server.server_address(), 1, 1).await;
        let err = server.serve_forever().await.unwrap_err();
        assert!(err.to_string().contains("already running"), "{err}");
        server.shutdown();
        serving.await.unwrap().unwrap();
    }
}

rt_test! {
    /// A handler that closes its connection at once: that client reads EOF
    /// (or a reset); another client is served normally.
    async fn client_whose_server_closes() {
        let server = Arc::new(
            ThreadingTcpServer::bind("127.0.0.1:0", |mut stream: TcpStream, _| async move {
                let mut first = [0u8; 1];
                if stream.read_exact(&mut first).await.is_err() || first[0] == b'q' {
                    return; // drops (closes) the connection
                }
                stream.write_all(&first).await.unwrap();
                let (mut r, mut w) = stream.into_split();
                let _ = futures::io::copy(&mut r, &mut w).await;
            })
            .unwrap(),
        );
        let s = server.clone();
        let serving = spawn(async move { s.serve_forever().await });
        let addr = server.server_address();

        let mut quitter = TcpStream::connect(addr).await.unwrap();
        quitter.write_all(b"q").await.unwrap();
        let mut buf = [0u8; 4];
        match quitter.read(&mut buf).await {
            Ok(n) => assert_eq!(n, 0),
            Err(e) => assert_eq!(e.kind(), std::io::ErrorKind::ConnectionReset),
        }

        let mut stayer = TcpStream::connect(addr).await.unwrap();
        stayer.write_all(b"sabc").await.unwrap();
        stayer.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"sabc");

        server.shutdown();
        serving.await.unwrap().unwrap();
    }
}

rt_test! {
    /// Handler threads are named like Python's, are non-daemon by default,
    /// and daemon with `daemon_threads`; `server_close` joins the non-daemon
    /// ones.
    async fn handler_threads_names_daemon_and_close() {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let release = Event::new();
        let (seen2, release2) = (seen.clone(), release.clone());
        let finished = Arc::new(AtomicUsize::new(0));
        let finished2 = finished.clone();
        let server = Arc::new(
            ThreadingTcpServer::bind("127.0.0.1:0", move |mut stream: TcpStream, _| {
                let (seen, release, finished) = (seen2.clone(), release2.clone(), finished2.clone());
                async move {
                    let t = current_thread();
                    seen.lock().unwrap().push((t.name(), t.is_daemon()));
                    stream.write_all(b"!").await.unwrap();
                    release.wait().await;
                    finished.fetch_add(1, Ordering::SeqCst);
                }
            })
            .unwrap(),
        );
        assert!(!server.daemon_threads());
        let s = server.clone();
        let serving = spawn(async move { s.serve_forever().await });
        let addr = server.server_address();
        let mut b = [0u8; 1];
        let mut c1 = TcpStream::connect(addr).await.unwrap();
        c1.read_exact(&mut b).await.unwrap();
        server.set_daemon_threads(true);
        let mut c2 = TcpStream::connect(addr).await.unwrap();
        c2.read_exact(&mut b).await.unwrap();
        {
            let seen = seen.lock().unwrap();
            assert_eq!(seen.len(), 2);
            assert!(
                seen[0].0.starts_with("Thread-") && seen[0].0.ends_with(" (process_request_thread)"),
                "{}",
                seen[0].0
            );
            assert!(!seen[0].1);
            assert!(seen[1].1);
        }
        // server_close waits for the non-daemon handler.
        let s = server.clone();
        let closing = spawn(async move { s.server_close().await });
        sleep(Duration::from_millis(20)).await;
        assert!(!closing.is_finished(), "server_close did not wait for the handler");
        release.set();
        timeout(Duration::from_secs(5), closing).await.unwrap().unwrap();
        assert!(finished.load(Ordering::SeqCst) >= 1);
        serving.await.unwrap().unwrap();
    }
}

rt_test! {
    /// A panicking handler ends only its own thread; the server goes on.
    async fn panicking_handler_is_isolated() {
        let server = Arc::new(
            ThreadingTcpServer::bind("127.0.0.1:0", |mut stream: TcpStream, _| async move {
                let mut b = [0u8; 1];
                stream.read_exact(&mut b).await.unwrap();
                if b[0] == b'p' {
                    panic!("handler asked to panic");
                }
                stream.write_all(&b).await.unwrap();
            })
            .unwrap(),
        );
        let s = server.clone();
        let serving = spawn(async move { s.serve_forever().await });
        let addr = server.server_address();
        let mut bad = TcpStream::connect(addr).await.unwrap();
        bad.write_all(b"p").await.unwrap();
        let mut b = [0u8; 1];
        assert!(matches!(bad.read(&mut b).await, Ok(0) | Err(_)));
        let mut good = TcpStream::connect(addr).await.unwrap();
        good.write_all(b"g").await.unwrap();
        good.read_exact(&mut b).await.unwrap();
        assert_eq!(&b, b"g");
        server.shutdown();
        serving.await.unwrap().unwrap();
    }
}

rt_test! {
    async fn handle_request_serves_one() {
        let server = ThreadingTcpServer::bind("127.0.0.1:0", echo).unwrap();
        let addr = server.server_address();
        let c = spawn(echo_client(addr, 3, 4));
        server.handle_request().await.unwrap();
        c.await.unwrap();
    }
}

/// Out of file descriptors: `accept` fails with `EMFILE` while the
/// connection waits in the backlog; the server backs off (no spin), keeps
/// serving, and handles the connection once descriptors are free again.
///
/// Runs in a child process (this test binary, re-executed with a low
/// `ulimit -n`): filling the descriptor table would break the tests running
/// in parallel in this process.
#[cfg(target_os = "linux")]
#[test]
fn emfile_on_accept_backs_off_and_recovers() {
    if std::env::var_os("GT_NET_EMFILE_CHILD").is_some() {
        return emfile_child();
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 256 && exec \"$0\" --exact emfile_on_accept_backs_off_and_recovers --nocapture --test-threads 1")
        .arg(&exe)
        .env("GT_NET_EMFILE_CHILD", "1")
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "child failed:\n{text}");
    assert!(
        text.contains("EMFILE-CHILD-OK"),
        "child did not run:\n{text}"
    );
}

/// CPU time (user + system) of this process so far, read through `stat`
/// (`/proc/self/stat`, opened before the descriptor table is full).
#[cfg(target_os = "linux")]
fn cpu_time(stat: &mut std::fs::File) -> Duration {
    use std::io::{Read, Seek};
    stat.rewind().unwrap();
    let mut text = String::new();
    stat.read_to_string(&mut text).unwrap();
    let stat = text;
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields overall, in clock ticks (100 per second).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

#[cfg(target_os = "linux")]
fn emfile_child() {
    support::run_with("green_n", || async {
        let (server, serving) = start_echo();
        // If an assertion fails, stop serving, or `run` would wait for the
        // (non-daemon) serving thread forever.
        struct StopOnDrop(Arc<ThreadingTcpServer>);
        impl Drop for StopOnDrop {
            fn drop(&mut self) {
                self.0.shutdown();
            }
        }
        let _stop = StopOnDrop(server.clone());
        let addr = server.server_address();
        let mut stat = std::fs::File::open("/proc/self/stat").unwrap();
        // Fill the descriptor table, then free one for the client's socket.
        let mut filler = Vec::new();
        loop {
            match std::fs::File::open("/dev/null") {
                Ok(f) => filler.push(f),
                Err(e) => {
                    assert_eq!(e.raw_os_error(), Some(24), "{e}"); // EMFILE
                    break;
                }
            }
        }
        filler.pop();
        let mut c = TcpStream::connect(addr).await.unwrap();
        c.write_all(b"hello").await.unwrap();
        // The server cannot accept: it must wait, without spinning.
        let cpu0 = cpu_time(&mut stat);
        sleep(Duration::from_millis(300)).await;
        let burnt = cpu_time(&mut stat) - cpu0;
        assert!(
            burnt < Duration::from_millis(150),
            "spinning on EMFILE: {burnt:?} of CPU in 300 ms"
        );
        let mut b = [0u8; 5];
        assert!(timeout(Duration::from_millis(10), c.read_exact(&mut b))
            .await
            .is_err());
        // Descriptors back: the pending connection is served.
        drop(filler);
        timeout(Duration::from_secs(5), c.read_exact(&mut b))
            .await
            .expect("the server did not recover from EMFILE")
            .unwrap();
        assert_eq!(&b, b"hello");
        assert!(!serving.is_finished(), "serve_forever ended on EMFILE");
        server.shutdown();
        serving.await.unwrap().unwrap();
    });
    println!("EMFILE-CHILD-OK");
}
