"""CPython's own threaded echo server, the baseline for
examples/echo_server.rs: socketserver.ThreadingTCPServer with a handler that
echoes until EOF through a 64 KiB recv.

    python3 benches/python/echo_server.py [PORT=0]
"""
import socket
import socketserver
import sys


class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while data := self.request.recv(65536):
            self.request.sendall(data)


class Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    with Server(("127.0.0.1", port), Echo) as srv:
        print(f"echo server listening on 127.0.0.1:{srv.server_address[1]}", flush=True)
        srv.serve_forever()
