#!/usr/bin/env python3
"""Two tiny HTTP/1.1 upstreams for trying cutover by hand (the Quick start).

  legacy  the "legacy monolith"           127.0.0.1:9001
  orders  the extracted "orders" service  127.0.0.1:9002

Each answers every method on every path with a short JSON body naming itself,
the method, the path and query it received, how many body bytes it read, and
the request headers a proxy sets (Host, X-Forwarded-*, X-Request-ID, ...), so
a curl through cutover shows which system served the request and what path the
proxy rewrote it to:

    $ python3 scripts/demo_upstreams.py &
    $ curl -s localhost:8080/api/orders/42
    {"service": "orders", "method": "GET", "path": "/orders/42", ...}

Responses carry Content-Length, so keep-alive works; request bodies are read
whole (Content-Length or chunked). One line a request goes to stderr. Runs
until SIGTERM or SIGINT. Python 3 standard library only.
"""

import argparse
import json
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The request headers worth showing: what a reverse proxy adds or rewrites.
SHOWN_HEADERS = (
    "Host",
    "X-Forwarded-For",
    "X-Forwarded-Host",
    "X-Forwarded-Proto",
    "X-Request-ID",
    "X-Cutover-Attempt",
    "X-Cutover-Shadow",
    "Traceparent",
    "Connection",
)

MAX_BODY = 64 * 1024 * 1024  # refuse bodies larger than this (a demo, not a sink)


class BadRequest(Exception):
    pass


def make_handler(service):
    """Return a request handler class that answers as `service`."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "demo-" + service
        timeout = 120  # drop keep-alive connections idle this long (seconds)

        # BaseHTTPRequestHandler looks up do_<METHOD>; answer them all.
        def __getattr__(self, name):
            if name.startswith("do_"):
                return self._handle
            raise AttributeError(name)

        def _read_body(self):
            te = self.headers.get("Transfer-Encoding")
            cl = self.headers.get("Content-Length")
            if te is not None:
                if cl is not None:
                    raise BadRequest("both Content-Length and Transfer-Encoding")
                if te.strip().lower() != "chunked":
                    raise BadRequest("unsupported Transfer-Encoding " + te)
                return self._read_chunked()
            if cl is None:
                return b""
            if not cl.strip().isdigit():
                raise BadRequest("bad Content-Length")
            n = int(cl)
            if n > MAX_BODY:
                raise BadRequest("body too large")
            data = self.rfile.read(n)
            if len(data) != n:
                raise BadRequest("body cut short")
            return data

        def _read_chunked(self):
            parts, total = [], 0
            while True:
                line = self.rfile.readline(4098)
                if not line.endswith(b"\n"):
                    raise BadRequest("bad chunk size line")
                size = line.split(b";", 1)[0].strip()
                try:
                    n = int(size, 16)
                except ValueError:
                    raise BadRequest("bad chunk size")
                if n < 0 or total + n > MAX_BODY:
                    raise BadRequest("body too large")
                if n == 0:
                    break
                data = self.rfile.read(n)
                if len(data) != n or self.rfile.read(2) != b"\r\n":
                    raise BadRequest("chunk cut short")
                parts.append(data)
                total += n
            # Trailer fields, up to the empty line.
            while True:
                line = self.rfile.readline(8192)
                if not line:
                    raise BadRequest("trailers cut short")
                if line in (b"\r\n", b"\n"):
                    break
            return b"".join(parts)

        def _handle(self):
            start = time.monotonic()
            try:
                body = self._read_body()
            except BadRequest as e:
                self.close_connection = True
                self._reply(400, {"service": service, "error": str(e)}, start, 0)
                return
            path, _, query = self.path.partition("?")
            doc = {
                "service": service,
                "method": self.command,
                "path": path,
                "query": query,
                "body_bytes": len(body),
                "headers": {h: self.headers[h] for h in SHOWN_HEADERS
                            if self.headers.get(h) is not None},
            }
            self._reply(200, doc, start, len(body))

        def _reply(self, status, doc, start, nbody):
            payload = (json.dumps(doc) + "\n").encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("X-Served-By", service)
            if self.close_connection:
                self.send_header("Connection", "close")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)
            ms = (time.monotonic() - start) * 1000
            sys.stderr.write(
                "%s %s %s:%d \"%s %s\" %d in=%d out=%d %.1fms\n" % (
                    time.strftime("%H:%M:%S"), service,
                    self.client_address[0], self.client_address[1],
                    self.command, self.path, status, nbody, len(payload), ms))
            sys.stderr.flush()

        # Our own line per request replaces the default access log; keep
        # the server's own error messages (bad request lines and the like).
        def log_request(self, code="-", size="-"):
            pass

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s %s\n" % (time.strftime("%H:%M:%S"),
                                             service, fmt % args))

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


def main():
    ap = argparse.ArgumentParser(
        description="Start the two demo upstreams of the cutover Quick start.")
    ap.add_argument("--host", default="127.0.0.1",
                    help="address to listen on (default 127.0.0.1)")
    ap.add_argument("--legacy-port", type=int, default=9001,
                    help="port of the legacy monolith (default 9001)")
    ap.add_argument("--orders-port", type=int, default=9002,
                    help="port of the orders service (default 9002)")
    args = ap.parse_args()

    servers = []
    try:
        for name, port in (("legacy", args.legacy_port),
                           ("orders", args.orders_port)):
            servers.append((name, Server((args.host, port), make_handler(name))))
    except OSError as e:
        sys.stderr.write("demo_upstreams: cannot listen: %s\n" % e)
        return 1

    stop = threading.Event()

    def on_signal(signum, frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    threads = []
    for name, srv in servers:
        t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1},
                             name=name, daemon=True)
        t.start()
        threads.append(t)
        host, port = srv.server_address[:2]
        sys.stderr.write("demo_upstreams: %s listening on http://%s:%d/\n"
                         % (name, host, port))
    sys.stderr.flush()

    while not stop.wait(0.2):
        pass
    sys.stderr.write("demo_upstreams: stopping\n")
    for _, srv in servers:
        srv.shutdown()
        srv.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
