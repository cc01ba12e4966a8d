//! N concurrent green-thread echo clients: round trips per second and
//! latency percentiles.
//!
//! Each client is a `Thread` that connects, then sends `--size` bytes and
//! reads them back `--rounds` times, timing each round trip. With no address
//! it starts its own `ThreadingTcpServer` echo server in the same runtime
//! (the W10 workload of `benches/README.md`, quick version; `cargo bench --bench
//! w10_echo` compares it with tokio and async-io).
//!
//! Run it: `cargo run --release --example echo_clients -- [ADDR] [--clients N] [--rounds R] [--size B]`
//! (defaults: own server, 100 clients, 100 rounds, 64 bytes). The runtime
//! follows `GREENTHREAD_MODE=green|os`, `GREENTHREAD_GIL=0|1`,
//! `GREENTHREAD_WORKERS=N`. Mind `ulimit -n`: each connection costs one
//! descriptor per side.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::io::{AsyncReadExt, AsyncWriteExt};
use greenthread::net::{TcpStream, ThreadingTcpServer};
use greenthread::spawn;

struct Args {
    addr: Option<String>,
    clients: usize,
    rounds: usize,
    size: usize,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: None,
        clients: 100,
        rounds: 100,
        size: 64,
    };
    let mut it = std::env::args().skip(1);
    let num = |v: Option<String>, name: &str| -> Result<usize, String> {
        let v = v.ok_or(format!("{name} needs a value"))?;
        match v.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("bad {name} {v:?}: a positive integer")),
        }
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--clients" => args.clients = num(it.next(), "--clients")?,
            "--rounds" => args.rounds = num(it.next(), "--rounds")?,
            "--size" => args.size = num(it.next(), "--size")?,
            "-h" | "--help" => {
                return Err(
                    "usage: echo_clients [HOST:PORT] [--clients N] [--rounds R] [--size B]".into(),
                )
            }
            s if !s.starts_with('-') && args.addr.is_none() => args.addr = Some(s.to_string()),
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
}

/// Echo handler of the built-in server.
async fn echo(stream: TcpStream, _peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let (mut r, mut w) = stream.into_split();
    let _ = futures::io::copy(&mut r, &mut w).await;
}

/// One client: connect, then `rounds` timed round trips of `size` bytes.
async fn client(addr: SocketAddr, rounds: usize, size: usize) -> std::io::Result<Vec<Duration>> {
    let mut s = TcpStream::connect(addr).await?;
    s.set_nodelay(true)?;
    let msg = vec![0x5a; size];
    let mut buf = vec![0; size];
    let mut lat = Vec::with_capacity(rounds);
    for _ in 0..rounds {
        let t = Instant::now();
        s.write_all(&msg).await?;
        s.read_exact(&mut buf).await?;
        lat.push(t.elapsed());
    }
    Ok(lat)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    greenthread::run(async move {
        let mut server = None;
        let addr: SocketAddr = match &args.addr {
            Some(a) => match std::net::ToSocketAddrs::to_socket_addrs(&a[..]).map(|mut i| i.next())
            {
                Ok(Some(addr)) => addr,
                _ => {
                    eprintln!("cannot resolve {a}");
                    return ExitCode::FAILURE;
                }
            },
            None => {
                let s = match ThreadingTcpServer::bind("127.0.0.1:0", echo) {
                    Ok(s) => Arc::new(s),
                    Err(e) => {
                        eprintln!("cannot start the echo server: {e}");
                        return ExitCode::FAILURE;
                    }
                };
                s.set_daemon_threads(true);
                let addr = s.server_address();
                let s2 = s.clone();
                server = Some((s, spawn(async move { s2.serve_forever().await })));
                addr
            }
        };
        println!(
            "{} clients x {} round trips of {} B against {addr}{} (mode {}, gil {})",
            args.clients,
            args.rounds,
            args.size,
            if server.is_some() {
                " (own server)"
            } else {
                ""
            },
            std::env::var("GREENTHREAD_MODE").unwrap_or_else(|_| "green".into()),
            greenthread::gil::enabled(),
        );
        let start = Instant::now();
        let handles: Vec<_> = (0..args.clients)
            .map(|_| spawn(client(addr, args.rounds, args.size)))
            .collect();
        let mut lat = Vec::with_capacity(args.clients * args.rounds);
        let mut errors = 0;
        let mut first_error = None;
        for h in handles {
            match h.await {
                Ok(Ok(l)) => lat.extend(l),
                Ok(Err(e)) => {
                    errors += 1;
                    first_error.get_or_insert(e.to_string());
                }
                Err(e) => {
                    errors += 1;
                    first_error.get_or_insert(e.to_string());
                }
            }
        }
        let elapsed = start.elapsed();
        if let Some((s, serving)) = server {
            s.shutdown();
            let _ = serving.await;
        }
        if lat.is_empty() {
            eprintln!(
                "no round trip completed: {}",
                first_error.unwrap_or_default()
            );
            return ExitCode::FAILURE;
        }
        lat.sort_unstable();
        println!(
            "{} round trips in {:.3} s: {:.0} round trips/s; latency p50 {} us, p99 {} us, max {} us",
            lat.len(),
            elapsed.as_secs_f64(),
            lat.len() as f64 / elapsed.as_secs_f64(),
            percentile(&lat, 0.50).as_micros(),
            percentile(&lat, 0.99).as_micros(),
            lat.last().map_or(0, |d| d.as_micros()),
        );
        if errors > 0 {
            eprintln!(
                "{errors} clients failed; first error: {}",
                first_error.unwrap_or_default()
            );
            return ExitCode::FAILURE;
        }
        ExitCode::SUCCESS
    })
}
