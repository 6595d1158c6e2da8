"""Flow control and connection ends on the data path: a pipelining client
that never reads, slow readers of a closing connection, a body paused while
the upstream connection is made, HEAD error replies, tunnel close after both
half-closes, half-closed pipelining, an upstream that stops reading, early
responses, interim (1xx) responses.

Several behaviours need an upstream the harness's Upstream cannot play (one
that accepts late, never reads a body, answers before the body, sends 1xx):
RawUpstream below is a bare listener running a handler per connection.

On loopback the kernel buffers a lot (a socket's send buffer grows to MiBs),
which hides bytes stuck in cutover itself. Where that matters the client
advertises a small MSS (TCP_MAXSEG) and a small receive buffer, so what is
in flight stays small and cutover's own buffering shows."""

import os
import hashlib
import re
import select
import signal
import socket
import threading
import time

import harness
from harness import (Client, ConnectionClosed, Cutover, Timeout, assert_error, echoed, params,
                     simple_config, time_limit)
from upstream import FullBacklog, Upstream, echo, large, pattern_sha256, unused_address

SMALL_MSS = 536
REQUEST_LINE = re.compile(r"^(GET|HEAD|POST|PUT|DELETE|PATCH|OPTIONS) /\S* HTTP/1\.[01]$")


# ------------------------------------------------------------------ helpers

class RawConn:
    """One connection accepted by a RawUpstream."""

    def __init__(self, up, sock, n):
        self.up, self.sock, self.n = up, sock, n
        self.buf = b""

    def _recv(self, deadline):
        """More bytes into buf: True; False on EOF/error/stop; None at the deadline."""
        while not self.up.stopping.is_set():
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                r, _, _ = select.select([self.sock], [], [], min(0.2, left))
                if not r:
                    continue
                data = self.sock.recv(262144)
            except (OSError, ValueError):
                return False
            if not data:
                return False
            self.buf += data
            return True
        return False

    def read_head(self, timeout=10.0):
        """The next request head as (request line, {lower-case name: value}),
        recorded in up.lines; None if the connection ends (or times out) first."""
        deadline = time.time() + timeout
        while b"\r\n\r\n" not in self.buf:
            if not self._recv(deadline):
                return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for ln in lines[1:]:
            k, _, v = ln.partition(":")
            headers[k.strip().lower()] = v.strip()
        self.up.record(lines[0])
        return lines[0], headers

    def read_exact(self, n, timeout=10.0):
        deadline = time.time() + timeout
        while len(self.buf) < n:
            if not self._recv(deadline):
                break
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def read_to_eof(self, timeout=10.0):
        """Everything until EOF; None if the deadline passed first."""
        deadline = time.time() + timeout
        while True:
            got = self._recv(deadline)
            if got is None:
                return None
            if not got:
                break
        data, self.buf = self.buf, b""
        return data

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


class RawUpstream:
    """A bare upstream: handler(conn) in a thread per accepted connection.

    mss/rcvbuf shape the accepted sockets (they inherit them from the
    listener). listener= adopts an existing listening socket; paused=True
    accepts nothing until resume() (an upstream slow to accept)."""

    def __init__(self, handler, mss=None, rcvbuf=None, listener=None, paused=False):
        self.handler = handler
        self.lock = threading.Lock()
        self.lines = []  # request lines of every complete head read, in order
        self.notes = []  # what handlers report (for the failure log)
        self.socks = []
        self.stopping = threading.Event()
        self.accepting = threading.Event()
        if not paused:
            self.accepting.set()
        if listener is None:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if rcvbuf:
                listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            if mss:
                listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
            listener.bind(("127.0.0.1", 0))
            listener.listen(64)
        self.sock = listener
        self.address = "127.0.0.1:%d" % listener.getsockname()[1]
        threading.Thread(target=self._accept_loop, daemon=True).start()
        harness.register_upstream(self)

    def record(self, line):
        with self.lock:
            self.lines.append(line)

    def note(self, what):
        with self.lock:
            self.notes.append(what)

    def resume(self):
        self.accepting.set()

    def _accept_loop(self):
        n = 0
        while not self.stopping.is_set():
            if not self.accepting.wait(0.2):
                continue
            try:
                r, _, _ = select.select([self.sock], [], [], 0.2)
                if not r:
                    continue
                s, _ = self.sock.accept()
            except (OSError, ValueError):
                return
            n += 1
            with self.lock:
                self.socks.append(s)
            threading.Thread(target=self._serve, args=(RawConn(self, s, n),), daemon=True).start()

    def _serve(self, conn):
        try:
            self.handler(conn)
        except Exception as e:
            self.note("handler error on conn %d: %s: %s" % (conn.n, type(e).__name__, e))
        finally:
            conn.close()

    def summary(self):
        with self.lock:
            return "raw (%s): %d connection(s); request lines %r; notes %r" % (
                self.address, len(self.socks), [ln[:100] for ln in self.lines[:20]],
                self.notes[:20])

    def stop(self):
        self.stopping.set()
        self.accepting.set()
        try:
            self.sock.close()
        except OSError:
            pass
        with self.lock:
            socks = list(self.socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()


def small_socket(port, rcvbuf=4096, mss=SMALL_MSS, timeout=10.0):
    """A client socket that keeps little in flight (small window, small segments)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if mss:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG, mss)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", port))
    harness.on_cleanup(s.close)
    return s


def read_to_eof(s, deadline, nap=0.0, rate=None):
    """All bytes until EOF, optionally slowly (nap per recv, or at most rate bytes/s).
    Returns (data, why) where why is "eof", "reset" or "timeout"."""
    got = bytearray()
    start = time.time()
    while True:
        s.settimeout(max(0.01, deadline - time.time()))
        try:
            d = s.recv(65536)
        except socket.timeout:
            return bytes(got), "timeout"
        except ConnectionResetError:
            return bytes(got), "reset"
        if not d:
            return bytes(got), "eof"
        got += d
        if nap:
            time.sleep(nap)
        if rate:
            ahead = len(got) / rate - (time.time() - start)
            if ahead > 0:
                time.sleep(ahead)


def split_response(data):
    """(status, {lower-case header: value}, body) of one raw response."""
    i = data.find(b"\r\n\r\n")
    assert i >= 0, "no complete response head in %d bytes: %r" % (len(data), data[:200])
    lines = data[:i].decode("latin-1").split("\r\n")
    m = re.match(r"^HTTP/1\.[01] (\d{3})", lines[0])
    assert m, "bad status line %r" % lines[0]
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(":")
        headers[k.strip().lower()] = v.strip()
    return int(m.group(1)), headers, data[i + 4:]


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def sanitized(pid):
    """True when the process runs with AddressSanitizer (its runtime is mapped)."""
    with open("/proc/%d/maps" % pid) as f:
        return any("libasan" in line for line in f)


WS_HANDSHAKE = [("Connection", "Upgrade"), ("Upgrade", "websocket"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]


# ------------------------------------------------------------------ 1. pipelining, never reading

@time_limit(30)
def test_pipelining_client_that_never_reads_keeps_memory_bounded():
    # Thousands of GET /nope, each answered 404 by cutover itself; the client
    # never reads. cutover must stop reading it instead of queueing answers.
    # Access log off: its bounded queue (16 MiB of lines) is not what this measures.
    cut = Cutover(simple_config(unused_address(), route={"match": {"path_prefix": "/only"}},
                                access_log={"path": "off"}))
    before = rss_kb(cut.pid)
    s = small_socket(cut.port, mss=None, timeout=1.0)
    batch = b"GET /nope HTTP/1.1\r\nHost: a.example\r\n\r\n" * 2000
    sent, t0, blocked = 0, time.time(), False
    while sent < (50 << 20) and time.time() - t0 < 8:
        try:
            s.sendall(batch)
        except socket.timeout:
            blocked = True  # cutover stopped reading us: what we want
            break
        except OSError as e:
            raise AssertionError("cutover dropped the pipelining client after %d MB: %s"
                                 % (sent >> 20, e))
        sent += len(batch)
    grown_mb = (rss_kb(cut.pid) - before) / 1024.0
    # Under AddressSanitizer freed memory sits in its quarantine, so churn
    # shows as growth; the unbounded bug grew by hundreds of MB either way.
    limit = 64 if sanitized(cut.pid) else 20
    assert grown_mb < limit, ("cutover grew by %.0f MB while a client pipelined %d MB of requests "
                           "without reading (send %s)"
                           % (grown_mb, sent >> 20, "blocked" if blocked else "never blocked"))
    assert_error(cut.request("GET", "/nope"), 404)
    assert cut.alive()


# ------------------------------------------------------------------ 2. slow reader, Connection: close

@params({
    # Stalled for 3 s right away: cutover has the whole response at once (it
    # fits in its buffer beside the ~100 KiB the small window keeps in the
    # kernel), so a linger timed from the response's end cuts it.
    "256KiB_stalled_3s": (256 << 10, 3.0, 1 << 20),
    # 2 MiB read at ~512 KiB/s (4 s). Once the client reads, the kernel's send
    # buffer grows to MiBs and holds the tail, so on loopback this row passes
    # even with a linger timed from the response's end: it guards the send
    # timeout and the drain-then-close path, the row above the linger.
    "2MiB_slow": (2 << 20, 0.0, 512 << 10),
})
@time_limit(30)
def test_slow_reader_of_a_closing_connection_gets_the_whole_response(size, stall, rate):
    up = Upstream(large(size))
    cut = Cutover(simple_config(up, client_timeouts={"send": "20s"}))
    s = small_socket(cut.port)
    s.sendall(Client.build("GET", "/big", [("Connection", "close")]))
    t0 = time.time()
    time.sleep(stall)
    data, why = read_to_eof(s, time.time() + 15, rate=rate)
    took = time.time() - t0
    status, headers, body = split_response(data)
    assert status == 200, (status, headers)
    assert len(body) == size and hashlib.sha256(body).hexdigest() == pattern_sha256(size), \
        ("slow reader got %d of %d body bytes over %.1fs (ended by %s): the close did not wait "
         "for the output to drain" % (len(body), size, took, why))
    assert why == "eof", "connection ended by %s after the whole response" % why
    assert took > 3, "the reader was not slow (%.1fs): the test proves nothing" % took


# ------------------------------------------------------------------ 3. body paused while connecting

@params({"request_timeout_default": None, "request_timeout_0": 0})
@time_limit(30)
def test_large_post_survives_a_slow_upstream_connect(request_timeout):
    body = bytes(range(256)) * 4096  # 1 MiB
    got = {}

    def handler(conn):
        head = conn.read_head(timeout=5)
        if head is None:
            return  # one of the backlog fillers: never sends
        n = int(head[1].get("content-length", "0"))
        data = conn.read_exact(n, timeout=8)
        got.update(line=head[0], length=len(data), sha=hashlib.sha256(data).hexdigest())
        conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        conn.read_to_eof(timeout=5)

    bl = FullBacklog()  # connects hang until the backlog is accepted
    up = RawUpstream(handler, listener=bl.sock, paused=True)
    opts = {"connect_timeout": "5s"}
    if request_timeout is not None:
        opts["request_timeout"] = request_timeout
    cut = Cutover(simple_config(up.address, upstream=opts))
    c = cut.client(timeout=8)
    t0 = time.time()
    # Accept ~1 s from now: cutover's SYN retry then gets through.
    threading.Timer(0.8, up.resume).start()
    c.request("POST", "/upload", body=body)
    try:
        r = c.read_response(timeout=8)
    except Timeout:
        raise AssertionError("no response %.1fs after a 1 MiB POST whose upstream connect took ~1s "
                             "(upstream got %r)" % (time.time() - t0, got))
    assert r.status == 200 and r.body == b"ok", "want the upstream's 200, got %r %r (upstream got %r)" \
        % (r, r.body[:200], got)
    assert got.get("length") == len(body) and got["sha"] == hashlib.sha256(body).hexdigest(), \
        "upstream got %r of the 1 MiB body" % got
    assert time.time() - t0 > 0.7, "the upstream connect was not slow: the test proves nothing"


# ------------------------------------------------------------------ 4. HEAD error replies

def test_head_error_replies_have_no_body_and_keep_the_connection():
    up = Upstream(echo())
    cfg = {
        "upstreams": {"app": {"servers": [up.address]}, "dead": {"servers": [unused_address()]}},
        "routes": [{"name": "ok", "match": {"path_prefix": "/ok"}, "upstream": "app"},
                   {"name": "dead", "match": {"path_prefix": "/dead"}, "upstream": "dead"}],
    }
    cut = Cutover(cfg)
    c = cut.client()
    for target, code in (("/nope", 404), ("/dead/x", 502)):
        c.request("HEAD", target)
        r = c.read_response()
        assert r.status == code, "HEAD %s: want %d, got %r" % (target, code, r)
        cl = r.header("Content-Length")
        assert cl is not None and cl.isdigit() and int(cl) > 0, \
            "HEAD %s: %d without the Content-Length of the body it leaves out: %r" % (target, code, r.headers)
        assert not c.poll(0.3), "HEAD %s: %d followed by %d body byte(s): %r" \
            % (target, code, len(c.buf), bytes(c.buf[:200]))
        c.request("GET", "/ok/after-%d" % code)
        r = c.read_response()
        assert echoed(r)["target"] == "/ok/after-%d" % code, "the connection broke after HEAD %s" % target


# ------------------------------------------------------------------ 5. tunnel: both sides close

@time_limit(30)
def test_tunnel_closes_once_both_sides_closed_and_output_drained():
    size = 4 << 20
    state = {}

    def handler(conn):
        conn.read_head()
        conn.send(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        state["from_client"] = conn.read_to_eof(timeout=5)  # the client's half-close passed on
        conn.send(b"x" * size)
        conn.close()
        state["upstream_done"] = time.time()

    up = RawUpstream(handler)
    cut = Cutover(simple_config(up.address, shutdown_timeout="10s"))
    s = small_socket(cut.port)
    s.sendall(Client.build("GET", "/ws", WS_HANDSHAKE))
    head = b""
    while b"\r\n\r\n" not in head:
        d = s.recv(4096)
        assert d, "closed before the 101: %r" % head
        head += d
    status, _, rest = split_response(head)
    assert status == 101, head
    s.sendall(b"hello")
    s.shutdown(socket.SHUT_WR)
    time.sleep(0.5)  # not reading while the upstream sends and closes
    data, why = read_to_eof(s, time.time() + 10, nap=0.001)
    assert state.get("from_client") == b"hello", \
        "upstream got %r from the half-closed client (want b'hello' then EOF)" % state.get("from_client")
    got = len(rest) + len(data)
    assert got == size, "client got %d of %d tunnel bytes (ended by %s)" % (got, size, why)
    assert why == "eof", ("the tunnel was not closed after both sides closed and every byte was "
                          "delivered (%s)" % why)
    t = time.time()
    cut.signal(signal.SIGTERM)
    try:
        code = cut.wait(2)
    except AssertionError:
        raise AssertionError("still running 2s after SIGTERM with the tunnel over "
                             "(shutdown_timeout 10s): the tunnel's connections were kept")
    assert code == 0, "exit code %s after SIGTERM" % code
    assert time.time() - t < 2


# ------------------------------------------------------------------ 6. half-closed pipelining

def test_half_closed_client_gets_every_pipelined_response():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    c = cut.client()
    c.send_raw_request(Client.build("GET", "/1") + Client.build("GET", "/2"))
    c.pending.append("GET")
    c.sock.shutdown(socket.SHUT_WR)
    for i in (1, 2):
        try:
            r = c.read_response(timeout=3)
        except (ConnectionClosed, Timeout) as e:
            raise AssertionError("response %d of 2 missing after the client half-closed: %s "
                                 "(upstream saw %r)" % (i, e, up.targets()))
        assert echoed(r)["target"] == "/%d" % i, "response %d out of order: %r" % (i, r)
    assert up.targets() == ["/1", "/2"], up.targets()
    assert c.wait_closed(3), "connection still open after both answers to a half-closed client"


# ------------------------------------------------------------------ 7. upstream stops reading

@time_limit(30)
def test_upstream_that_stops_reading_the_body_gives_504():
    def handler(conn):
        conn.read_head()
        conn.up.stopping.wait(30)  # never read the body, never answer

    up = RawUpstream(handler, rcvbuf=65536)
    cut = Cutover(simple_config(up.address, upstream={"response_timeout": "500ms",
                                                      "request_timeout": 0}))
    c = cut.client(timeout=8)
    c.pending.append("POST")
    head = Client.build("POST", "/upload", [("Content-Length", str(8 << 20))])
    body = b"b" * (8 << 20)
    threading.Thread(target=c.send, args=(head + body, True), daemon=True).start()
    t0 = time.time()
    try:
        r = c.read_response(timeout=6)
    except Timeout:
        raise AssertionError("no answer %.1fs after the upstream stopped reading an 8 MiB body "
                             "(response_timeout 500ms, request_timeout 0)" % (time.time() - t0))
    except ConnectionClosed:
        raise AssertionError("connection closed without the 504 (no response had started)")
    assert_error(r, 504)
    assert time.time() - t0 < 4, "504 after %.1fs with response_timeout 500ms" % (time.time() - t0)


# ------------------------------------------------------------------ 8. early response, no poisoned reuse

@time_limit(30)
def test_early_response_never_poisons_the_next_request():
    # A naive upstream answers 413 (keep-alive) before reading the POST's
    # body, stops reading for a second, then takes whatever comes next on
    # the connection as the next request. The 0.3 s before the 413 lets
    # cutover take the whole body from the client (the request is complete
    # on its side); small segments and buffers (~140 KiB in flight at most)
    # keep the rest of the 192 KiB unsent in cutover when the 413 comes. A
    # connection with unsent request bytes must never be pooled: the next
    # request would be queued behind the body.
    def handler(conn):
        while True:
            head = conn.read_head()
            if head is None:
                return
            if head[0].startswith("POST"):
                conn.up.stopping.wait(0.3)
                conn.send(b"HTTP/1.1 413 Payload Too Large\r\nContent-Length: 9\r\n\r\ntoo large")
                conn.up.stopping.wait(1.0)
            else:
                conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    up = RawUpstream(handler, mss=SMALL_MSS, rcvbuf=4096)
    cut = Cutover(simple_config(up.address, workers=1))  # one pool for both client connections
    c = cut.client()
    c.request("POST", "/upload", body=b"B" * (192 << 10))
    r = c.read_response()
    assert r.status == 413 and r.body == b"too large", "want the upstream's 413, got %r %r" % (r, r.body[:100])
    c.close()
    r = cut.request("GET", "/second")
    assert r.status == 200 and r.body == b"ok", "second request: %r %r (upstream saw %r)" \
        % (r, r.body[:100], [ln[:80] for ln in up.lines])
    bad = [ln[:80] for ln in up.lines if not REQUEST_LINE.match(ln)]
    assert not bad, ("the upstream took body bytes for a request: a connection with an unsent "
                     "body was reused; request lines %r" % bad)
    assert up.lines == ["POST /upload HTTP/1.1", "GET /second HTTP/1.1"], up.lines


# ------------------------------------------------------------------ 9. 103 Early Hints

@params({"HTTP/1.1": "HTTP/1.1", "HTTP/1.0": "HTTP/1.0"})
def test_early_hints_reach_http11_clients_only(version):
    def handler(conn):
        while conn.read_head() is not None:
            conn.send(b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n")
            conn.send(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")

    up = RawUpstream(handler)
    cut = Cutover(simple_config(up.address))
    c = cut.client()
    c.request("GET", "/page", version=version)
    first = c.read_response(expect_100=True)
    if version == "HTTP/1.1":
        assert first.status == 103, "want the 103 first, got %r" % first
        assert first.version == "HTTP/1.1", first
        assert first.header("Link") == "</style.css>; rel=preload", first.headers
        final = c.read_response()
    else:
        assert first.status != 103, "a 103 went to an HTTP/1.0 client"
        final = first
    assert final.status == 200 and final.body == b"ok", (final, final.body[:100])
