"""Echo clients for comparing servers' CPU: N threads, each connects once and
makes ROUNDS round trips of a random 1-64 KiB payload, checking every byte.

    python3 benches/python/echo_clients.py HOST:PORT [CLIENTS=1000] [ROUNDS=20]

Prints the wall time; the server's CPU time is read from outside (see
benches/python/compare_echo.sh).
"""
import random
import socket
import sys
import threading
import time


def client(addr, rounds, seed, errors):
    rnd = random.Random(seed)
    try:
        with socket.create_connection(addr, timeout=120) as s:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for _ in range(rounds):
                payload = rnd.randbytes(rnd.randint(1024, 64 * 1024))
                s.sendall(payload)
                got = bytearray()
                while len(got) < len(payload):
                    chunk = s.recv(65536)
                    if not chunk:
                        raise ConnectionError("server closed early")
                    got += chunk
                if got != payload:
                    raise ValueError("echo mismatch")
    except Exception as e:  # counted, reported at the end
        errors.append(repr(e))


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    threading.stack_size(256 * 1024)
    errors = []
    start = time.monotonic()
    threads = [
        threading.Thread(target=client, args=((host, int(port)), rounds, i, errors))
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(f"{clients} clients x {rounds} rounds in {time.monotonic() - start:.2f} s, "
          f"{len(errors)} errors {errors[:3]}")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
