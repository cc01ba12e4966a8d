//! W10 TCP echo on loopback (`benches/README.md`):
//! N connections × 100 round trips of 64 B, each client a thread/task that
//! connects, sets `TCP_NODELAY`, then writes 64 B and reads them back 100
//! times; the server runs one thread/task per connection echoing with a
//! 4 KiB buffer. Timed: connects + round trips + closes of one batch.
//!
//! Back-ends: greenthread `green`, `green+gil` (Green mode), `os` (OS-thread
//! mode: 100 connections only), `tokio` (multi-thread, one worker per core,
//! `tokio::net`), `smol` (async-executor with one runner per core on
//! `async-io`). Sizes: 100 and 1,000 connections; 10,000 with
//! `GT_BENCH_FULL=1` (needs `ulimit -n` above 20,000: both ends live in this
//! process; a failure is reported, not hidden).
//!
//! Besides criterion's time (and round trips per second via throughput),
//! each back-end prints the p99 round-trip latency of its last batch.
//! Nothing is asserted about times.
//!
//! Run: `cargo bench --bench w10_echo` (`-- --quick` for a faster pass).

#![allow(missing_docs)] // criterion_group! generates undocumented functions

#[path = "common/mod.rs"]
mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::io::{AsyncReadExt, AsyncWriteExt};

const ROUNDS: usize = 100;
const SIZE: usize = 64;

/// Connection counts of this run.
fn sizes() -> Vec<usize> {
    if common::full() {
        vec![100, 1_000, 10_000]
    } else {
        vec![100, 1_000]
    }
}

/// Round-trip latencies of the last batch, per back-end.
type Latencies = Arc<Mutex<Vec<Duration>>>;

/// Sorts and prints the p50/p99 of the last batch.
fn report(name: &str, conns: usize, lat: &Latencies) {
    let mut l = std::mem::take(&mut *lat.lock().unwrap());
    if l.is_empty() {
        return;
    }
    let (p50, p99) = common::p50_p99(&mut l);
    println!(
        "w10_echo/{name}/{conns}: last batch latency p50 {} us, p99 {} us",
        p50.as_micros(),
        p99.as_micros()
    );
}

/// One client over any `futures::io` stream: 100 timed round trips.
async fn rounds<S: futures::io::AsyncRead + futures::io::AsyncWrite + Unpin>(
    mut s: S,
) -> Vec<Duration> {
    let msg = [0x5au8; SIZE];
    let mut buf = [0u8; SIZE];
    let mut lat = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        s.write_all(&msg).await.expect("write");
        s.read_exact(&mut buf).await.expect("read");
        lat.push(t.elapsed());
    }
    lat
}

/// Echo with a 4 KiB buffer until EOF or error (any `futures::io` stream).
async fn echo<S: futures::io::AsyncRead + futures::io::AsyncWrite + Unpin>(mut s: S) {
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if s.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

// ---- greenthread --------------------------------------------------------

/// Starts a `ThreadingTcpServer` echo server in `rt`.
fn green_server(rt: &greenthread::Runtime) -> SocketAddr {
    use greenthread::net::ThreadingTcpServer;
    let server = ThreadingTcpServer::bind("127.0.0.1:0", |s: greenthread::net::TcpStream, _| {
        let _ = s.set_nodelay(true);
        echo(s)
    })
    .expect("bind");
    server.set_daemon_threads(true);
    let addr = server.server_address();
    drop(rt.spawn(async move {
        let _ = server.serve_forever().await;
    }));
    addr
}

fn green_batch(rt: &greenthread::Runtime, addr: SocketAddr, conns: usize, lat: &Latencies) {
    let lat = lat.clone();
    common::green_run(rt, async move {
        let hs: Vec<_> = (0..conns)
            .map(|_| {
                greenthread::spawn(async move {
                    let s = greenthread::net::TcpStream::connect(addr).await?;
                    s.set_nodelay(true)?;
                    std::io::Result::Ok(rounds(s).await)
                })
            })
            .collect();
        let mut all = Vec::with_capacity(conns * ROUNDS);
        for h in hs {
            all.extend(h.await.expect("client thread").expect("connect"));
        }
        *lat.lock().unwrap() = all;
    });
}

// ---- tokio --------------------------------------------------------------

/// Pending-connection queue of every back-end's listener: greenthread's
/// (tokio's and async-io's default, std's 128, overflows on a burst of 1,000
/// connects, and each dropped SYN costs a 1 s retransmission, which would
/// measure the backlog instead of the runtime).
const BACKLOG: u32 = 1024;

/// A tokio listener on 127.0.0.1:0 with [`BACKLOG`] (needs a tokio context).
fn tokio_listener() -> tokio::net::TcpListener {
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket.set_reuseaddr(true).unwrap();
    socket.bind(([127, 0, 0, 1], 0).into()).expect("bind");
    socket.listen(BACKLOG).expect("listen")
}

fn tokio_server(rt: &tokio::runtime::Runtime) -> SocketAddr {
    let listener = rt.block_on(async { tokio_listener() });
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move {
        loop {
            let Ok((s, _)) = listener.accept().await else {
                continue;
            };
            let _ = s.set_nodelay(true);
            tokio::spawn(tokio_echo(s));
        }
    });
    addr
}

async fn tokio_echo(mut s: tokio::net::TcpStream) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut buf = [0u8; 4096];
    loop {
        match s.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if s.write_all(&buf[..n]).await.is_err() {
                    return;
                }
            }
        }
    }
}

async fn tokio_rounds(mut s: tokio::net::TcpStream) -> Vec<Duration> {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let msg = [0x5au8; SIZE];
    let mut buf = [0u8; SIZE];
    let mut lat = Vec::with_capacity(ROUNDS);
    for _ in 0..ROUNDS {
        let t = Instant::now();
        s.write_all(&msg).await.expect("write");
        s.read_exact(&mut buf).await.expect("read");
        lat.push(t.elapsed());
    }
    lat
}

fn tokio_batch(rt: &tokio::runtime::Runtime, addr: SocketAddr, conns: usize, lat: &Latencies) {
    let lat = lat.clone();
    common::tokio_run(rt, async move {
        let hs: Vec<_> = (0..conns)
            .map(|_| {
                tokio::spawn(async move {
                    let s = tokio::net::TcpStream::connect(addr).await.expect("connect");
                    s.set_nodelay(true).unwrap();
                    tokio_rounds(s).await
                })
            })
            .collect();
        let mut all = Vec::with_capacity(conns * ROUNDS);
        for h in hs {
            all.extend(h.await.expect("client task"));
        }
        *lat.lock().unwrap() = all;
    });
}

// ---- async-io on async-executor (smol) -----------------------------------

fn smol_server(smol: &common::Smol) -> SocketAddr {
    let listener =
        async_io::Async::<std::net::TcpListener>::bind(([127, 0, 0, 1], 0)).expect("bind");
    // async-io listens with std's backlog of 128; raise it to [`BACKLOG`]
    // like the other back-ends (Linux applies a second `listen` to the
    // listening socket), or a burst of connects measures SYN retries.
    {
        use std::os::fd::AsRawFd;
        let fd = listener.get_ref().as_raw_fd();
        // SAFETY: `fd` is the listener's open socket, alive for this call;
        // `listen` only changes its backlog.
        let rc = unsafe { libc::listen(fd, BACKLOG as libc::c_int) };
        assert_eq!(rc, 0, "listen: {}", std::io::Error::last_os_error());
    }
    let addr = listener.get_ref().local_addr().unwrap();
    let ex = smol.ex;
    smol.ex
        .spawn(async move {
            loop {
                let Ok((s, _)) = listener.accept().await else {
                    continue;
                };
                let _ = s.get_ref().set_nodelay(true);
                ex.spawn(echo(s)).detach();
            }
        })
        .detach();
    addr
}

fn smol_batch(smol: &common::Smol, addr: SocketAddr, conns: usize, lat: &Latencies) {
    let lat = lat.clone();
    let ex = smol.ex;
    smol.run(async move {
        let hs: Vec<_> = (0..conns)
            .map(|_| {
                ex.spawn(async move {
                    let s = async_io::Async::<std::net::TcpStream>::connect(addr)
                        .await
                        .expect("connect");
                    s.get_ref().set_nodelay(true).unwrap();
                    rounds(s).await
                })
            })
            .collect();
        let mut all = Vec::with_capacity(conns * ROUNDS);
        for h in hs {
            all.extend(h.await);
        }
        *lat.lock().unwrap() = all;
    });
}

// ---- the group ----------------------------------------------------------

fn w10_echo(c: &mut Criterion) {
    let green = common::green(false);
    let gil = common::green(true);
    let os = common::os();
    let tokio = common::tokio();
    let smol = common::Smol::new();
    let green_addr = green_server(&green);
    let gil_addr = green_server(&gil);
    let os_addr = green_server(&os);
    let tokio_addr = tokio_server(&tokio);
    let smol_addr = smol_server(&smol);
    let lat: Latencies = Arc::default();

    let mut g = c.benchmark_group("w10_echo");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for conns in sizes() {
        g.throughput(Throughput::Elements((conns * ROUNDS) as u64));
        for (name, rt, addr) in [("green", &green, green_addr), ("green+gil", &gil, gil_addr)] {
            g.bench_function(format!("{name}/{conns}"), |b| {
                b.iter(|| green_batch(rt, addr, conns, &lat))
            });
            report(name, conns, &lat);
        }
        if conns <= 100 {
            g.bench_function(format!("os/{conns}"), |b| {
                b.iter(|| green_batch(&os, os_addr, conns, &lat))
            });
            report("os", conns, &lat);
        }
        g.bench_function(format!("tokio/{conns}"), |b| {
            b.iter(|| tokio_batch(&tokio, tokio_addr, conns, &lat))
        });
        report("tokio", conns, &lat);
        g.bench_function(format!("smol/{conns}"), |b| {
            b.iter(|| smol_batch(&smol, smol_addr, conns, &lat))
        });
        report("smol", conns, &lat);
    }
    g.finish();
}

criterion_group!(benches, w10_echo);
criterion_main!(benches);
