//! A `ThreadingTcpServer` echo server: one green thread per connection,
//! each echoing what it reads until the client closes.
//!
//! Mirrors the `socketserver.ThreadingTCPServer` example of Python's
//! documentation (a `BaseRequestHandler` whose `handle()` echoes), with
//! `daemon_threads = True` so that stopping the server does not wait for
//! connected clients.
//!
//! Run it: `cargo run --release --example echo_server -- [--addr 127.0.0.1:0] [--seconds N]`
//! It prints the address it listens on and serves until Ctrl-C or for `N`
//! seconds. Try it with `cargo run --release --example echo_clients -- ADDR`.
//! `GREENTHREAD_MODE=os` / `GREENTHREAD_GIL=1` select the other modes.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use greenthread::net::{TcpStream, ThreadingTcpServer};
use greenthread::Timer;

/// The copy buffer: 64 KiB, so that a 64 KiB payload is one read and one
/// write. `futures::io::copy`'s own 8 KiB buffer made eight of each, and
/// this server used ~1.6x the CPU of CPython's `ThreadingTCPServer` under
/// 1,000 clients echoing 1-64 KiB; with 64 KiB it matched it (issue 11).
const COPY_BUFFER: usize = 64 * 1024;

/// The request handler: echo until EOF (Python's `handle()`).
async fn handle(stream: TcpStream, _peer: SocketAddr) {
    let _ = stream.set_nodelay(true);
    let (r, mut w) = stream.into_split();
    let r = futures::io::BufReader::with_capacity(COPY_BUFFER, r);
    let _ = futures::io::copy_buf(r, &mut w).await;
}

struct Args {
    addr: String,
    seconds: Option<f64>,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        addr: "127.0.0.1:0".into(),
        seconds: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--addr" => args.addr = it.next().ok_or("--addr needs a value")?,
            "--seconds" => {
                let v = it.next().ok_or("--seconds needs a value")?;
                let s: f64 = v.parse().map_err(|_| format!("bad --seconds {v:?}"))?;
                if !(s.is_finite() && s >= 0.0) {
                    return Err(format!("bad --seconds {v:?}"));
                }
                args.seconds = Some(s);
            }
            "-h" | "--help" => {
                return Err("usage: echo_server [--addr HOST:PORT] [--seconds N]".into())
            }
            other => return Err(format!("unknown argument {other:?} (try --help)")),
        }
    }
    Ok(args)
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
        let server = match ThreadingTcpServer::bind(&args.addr[..], handle) {
            Ok(s) => Arc::new(s),
            Err(e) => {
                eprintln!("cannot bind {}: {e}", args.addr);
                return ExitCode::FAILURE;
            }
        };
        server.set_daemon_threads(true);
        println!("echo server listening on {}", server.server_address());
        if let Some(secs) = args.seconds {
            let s = server.clone();
            let stop = Timer::new(Duration::from_secs_f64(secs), move || async move {
                s.shutdown();
            });
            stop.thread().set_daemon(true).unwrap();
            stop.start().unwrap();
        }
        match server.serve_forever().await {
            Ok(()) => {
                println!("echo server stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("echo server failed: {e}");
                ExitCode::FAILURE
            }
        }
    })
}
