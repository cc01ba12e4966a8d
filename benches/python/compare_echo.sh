#!/usr/bin/env bash
# Server CPU time of examples/echo_server against CPython's
# socketserver.ThreadingTCPServer under the same python3 clients.
#
#   bash benches/python/compare_echo.sh [CLIENTS=1000] [ROUNDS=20]
#
# Prints, per server, the clients' wall time and the server process's CPU
# seconds (user + system, from /proc/PID/stat). Needs python3 >= 3.9.
set -euo pipefail
cd "$(dirname "$0")/../.."
clients="${1:-1000}"
rounds="${2:-20}"
cargo build --release --example echo_server -q
tick=$(getconf CLK_TCK)

measure() { # name, command...
    local name="$1"; shift
    local log; log=$(mktemp)
    "$@" >"$log" 2>&1 &
    local pid=$!
    local addr=""
    for _ in $(seq 100); do
        addr=$(grep -o '127.0.0.1:[0-9]*' "$log" | head -1 || true)
        [ -n "$addr" ] && break
        sleep 0.1
    done
    [ -n "$addr" ] || { echo "$name did not start"; cat "$log"; kill "$pid"; exit 1; }
    local out; out=$(python3 benches/python/echo_clients.py "$addr" "$clients" "$rounds")
    local cpu; cpu=$(awk -v t="$tick" '{printf "%.2f", ($14 + $15) / t}' "/proc/$pid/stat")
    kill "$pid"; wait "$pid" 2>/dev/null || true
    rm -f "$log"
    printf '%-34s %s; server CPU %s s\n' "$name" "$out" "$cpu"
}

measure "greenthread examples/echo_server" target/release/examples/echo_server
measure "CPython ThreadingTCPServer" python3 -u benches/python/echo_server.py
