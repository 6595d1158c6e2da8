"""Fake upstreams for the cutover integration tests (Python 3 stdlib only).

An Upstream is a threaded raw-socket HTTP/1.1 server on 127.0.0.1 with a
port of its own. It parses every request itself (so it sees the exact bytes
cutover sent), records it, and hands it to a *behaviour*: a callable
behaviour(req, conn) that writes whatever the test wants on conn (a good
response, garbage, half a body, nothing at all...).

    up = Upstream(echo())                      # answers 200 + JSON describing the request
    up = Upstream(by_path({"/slow": delay(1, echo())}, default=echo()))
    up = Upstream(raw(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nok"))
    up.requests, up.connections, up.bytes_received, up.wait_requests(2)

Behaviour factories: echo, status, raw, delay, never, close_before_head,
truncate, stall, chunked, close_delimited, large, trickle, websocket, by_path,
sequence; tracked(Gauge(), behaviour) counts requests in flight.
Upstream(..., tls=ssl_context) serves TLS (a server-side ssl.SSLContext)
and records each handshake: up.tls_handshakes, up.sni_names (the name each
client sent, None for none), up.tls_conns, up.tls_failures. FullBacklog
is a listener whose accept queue is full, so new
connects to it hang (connect timeout tests). unused_address() is a port on
which nothing listens (connection refused).
"""

import base64
import hashlib
import json
import select
import socket
import ssl
import threading
import time
import weakref

MAX_HEAD = 1 << 20
KEEP_BODY = 1 << 20  # request bodies up to this size are kept in full
TLS_HANDSHAKE_TIMEOUT = 5.0


class Request:
    """One request as the upstream received it."""

    def __init__(self):
        self.method = self.target = self.version = ""
        self.headers = []  # [(name, value)] in order, names as received
        self.raw_head = b""
        self.body = b""  # decoded body (None when larger than KEEP_BODY)
        self.body_len = 0
        self.body_sha256 = hashlib.sha256(b"").hexdigest()
        self.chunked = False
        self.complete = False  # False: the connection ended mid-request
        self.conn_id = 0  # which accepted connection (1-based)
        self.seq = 0  # index of the request on its connection (1-based)
        self.time = 0.0

    @property
    def path(self):
        return self.target.split("?", 1)[0]

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def has_header(self, name):
        return any(k.lower() == name.lower() for k, _ in self.headers)

    def describe(self):
        d = {
            "method": self.method,
            "target": self.target,
            "version": self.version,
            "headers": [[k, v] for k, v in self.headers],
            "body_len": self.body_len,
            "body_sha256": self.body_sha256,
            "chunked": self.chunked,
            "conn": self.conn_id,
            "seq": self.seq,
        }
        if self.body is not None and len(self.body) <= 4096:
            d["body_hex"] = self.body.hex()
        return d

    def __repr__(self):
        return "<%s %s %s conn=%d seq=%d body=%d%s>" % (
            self.method, self.target, self.version, self.conn_id, self.seq,
            self.body_len, "" if self.complete else " INCOMPLETE")


class Conn:
    """One accepted connection, as seen by a behaviour."""

    def __init__(self, server, sock, conn_id):
        self.server = server
        self.sock = sock
        self.id = conn_id
        self.buf = b""
        self.closed = False
        self.seq = 0

    # -- output
    def send(self, data):
        if self.closed:
            return False
        try:
            self.sock.sendall(data)
            return True
        except OSError:
            return False

    def close(self):
        if not self.closed:
            self.closed = True
            if isinstance(self.sock, ssl.SSLSocket):
                _send_close_notify(self.sock)
            try:
                self.sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            try:
                self.sock.close()
            except OSError:
                pass

    def reset(self):
        """Close with RST (SO_LINGER 0)."""
        if not self.closed:
            try:
                import struct
                self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                     struct.pack("ii", 1, 0))
            except OSError:
                pass
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass

    # -- input
    def _recv(self, timeout=None):
        """More bytes into self.buf; False on EOF/error/stop."""
        while True:
            if self.server.stopping.is_set() or self.closed:
                return False
            t = 0.2 if timeout is None else min(0.2, timeout)
            try:
                r = self._pending() or select.select([self.sock], [], [], t)[0]
            except (OSError, ValueError):
                return False
            if not r:
                if timeout is not None:
                    timeout -= t
                    if timeout <= 0:
                        return None  # timed out, still open
                continue
            try:
                data = self.sock.recv(262144)
            except OSError:
                return False
            if not data:
                return False
            self.server._count_bytes(len(data))
            self.buf += data
            return True

    def _pending(self):
        """Decrypted bytes an SSLSocket holds already: select() on the
        socket does not see them (the record was read off the wire)."""
        try:
            return isinstance(self.sock, ssl.SSLSocket) and self.sock.pending() > 0
        except (OSError, ValueError):
            return False

    def wait_readable(self, timeout):
        """True when bytes are waiting (or EOF) within timeout."""
        if self.buf or self._pending():
            return True
        try:
            r, _, _ = select.select([self.sock], [], [], timeout)
        except (OSError, ValueError):
            return True
        return bool(r)

    def read_raw(self, timeout=None):
        """Whatever bytes come next (b'' on EOF), for tunnels."""
        if not self.buf:
            got = self._recv(timeout)
            if not got:
                return b"" if got is False else None
        data, self.buf = self.buf, b""
        return data

    def _read_line(self):
        while b"\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD or not self._recv():
                return None
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def read_request(self):
        """Parse the next request; None on a clean EOF before any byte."""
        while b"\r\n\r\n" not in self.buf:
            if len(self.buf) > MAX_HEAD:
                self.server._note_bad(self.id, self.buf[:200])
                return None
            if not self._recv():
                if self.buf:
                    self.server._note_bad(self.id, self.buf[:200])
                return None
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        req = Request()
        req.raw_head = head + b"\r\n\r\n"
        req.time = time.time()
        lines = head.split(b"\r\n")
        parts = lines[0].decode("latin-1").split(" ")
        if len(parts) == 3:
            req.method, req.target, req.version = parts
        else:
            req.method = lines[0].decode("latin-1")
        for ln in lines[1:]:
            name, _, value = ln.decode("latin-1").partition(":")
            req.headers.append((name, value.strip(" \t")))
        self.seq += 1
        req.conn_id, req.seq = self.id, self.seq
        self.server._record(req)
        if req.header("Expect", "").lower() == "100-continue" and self.server.send_100:
            self.send(b"HTTP/1.1 100 Continue\r\n\r\n")
        te = ",".join(req.header_all("Transfer-Encoding")).lower()
        sha = hashlib.sha256()
        body = bytearray()
        keep = True

        def take(data):
            nonlocal keep
            sha.update(data)
            req.body_len += len(data)
            if keep:
                body.extend(data)
                if len(body) > KEEP_BODY:
                    keep = False
                    body.clear()

        ok = True
        if "chunked" in te:
            req.chunked = True
            ok = self._read_chunked(take)
        elif req.has_header("Content-Length"):
            try:
                n = int(req.header("Content-Length"))
            except ValueError:
                n = 0
            while n > 0:
                if not self.buf and not self._recv():
                    ok = False
                    break
                piece, self.buf = self.buf[:n], self.buf[n:]
                take(piece)
                n -= len(piece)
        req.body = bytes(body) if keep else None
        req.body_sha256 = sha.hexdigest()
        req.complete = ok
        return req

    def _read_chunked(self, take):
        while True:
            line = self._read_line()
            if line is None:
                return False
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                return False
            if size == 0:
                while True:  # trailers
                    t = self._read_line()
                    if t is None:
                        return False
                    if t == b"":
                        return True
            while size > 0:
                if not self.buf and not self._recv():
                    return False
                piece, self.buf = self.buf[:size], self.buf[size:]
                take(piece)
                size -= len(piece)
            if self._read_line() is None:
                return False


class Upstream:
    """A fake upstream. behaviour(req, conn) answers each request."""

    def __init__(self, behaviour=None, name="upstream", idle_close_after=None,
                 send_100=True, tls=None):
        self.behaviour = behaviour or echo()
        # tls: a server-side ssl.SSLContext; each accepted connection does a
        # TLS handshake first (its sni_callback is set to record the name).
        self.tls = tls
        self.tls_handshakes = 0  # completed handshakes
        self.sni_names = []  # per completed handshake: the SNI name, or None
        self.tls_conns = []  # per completed handshake: conn, sni, version, resumed
        self.tls_failures = []  # (conn_id, error text) of failed handshakes
        if tls is not None:
            tls.sni_callback = _note_sni
        self.name = name
        self.idle_close_after = idle_close_after
        self.send_100 = send_100
        self.lock = threading.Lock()
        self.requests = []
        self.connections = 0
        self.bytes_received = 0
        self.bad = []  # (conn_id, first bytes) of unparsable input
        self.errors = []  # exceptions raised inside behaviours
        self.counter = 0  # requests seen overall, for sequence()
        self.stopping = threading.Event()
        self.socks = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.address = "127.0.0.1:%d" % self.port
        t = threading.Thread(target=self._accept_loop, daemon=True)
        t.start()
        try:
            import harness
            harness.register_upstream(self)
        except Exception:
            pass

    # -- bookkeeping
    def _record(self, req):
        with self.lock:
            self.requests.append(req)

    def _count_bytes(self, n):
        with self.lock:
            self.bytes_received += n

    def _note_bad(self, conn_id, data):
        with self.lock:
            self.bad.append((conn_id, bytes(data)))

    def next_index(self):
        with self.lock:
            self.counter += 1
            return self.counter

    def wait_requests(self, n, timeout=5.0):
        """Wait until at least n requests were received; returns the list."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                if len(self.requests) >= n:
                    return list(self.requests)
            time.sleep(0.01)
        raise AssertionError("%s: expected %d request(s), got %d within %.1fs"
                             % (self.name, n, len(self.requests), timeout))

    def targets(self):
        with self.lock:
            return [r.target for r in self.requests]

    def summary(self):
        with self.lock:
            lines = ["%s (%s): %d connection(s), %d request(s), %d byte(s) received"
                     % (self.name, self.address, self.connections,
                        len(self.requests), self.bytes_received)]
            for r in self.requests[:30]:
                lines.append("  %r" % r)
                lines.append("    head: %r" % r.raw_head[:600])
            if len(self.requests) > 30:
                lines.append("  ... %d more" % (len(self.requests) - 30))
            for cid, data in self.bad[:5]:
                lines.append("  unparsable on conn %d: %r" % (cid, data))
            for e in self.errors[:5]:
                lines.append("  behaviour error: %s" % e)
            if self.tls is not None:
                lines.append("  tls: %d handshake(s), sni %r, %d failure(s) %r"
                             % (self.tls_handshakes, self.sni_names[:10],
                                len(self.tls_failures), self.tls_failures[:5]))
        return "\n".join(lines)

    # -- serving
    def _accept_loop(self):
        while not self.stopping.is_set():
            try:
                r, _, _ = select.select([self.sock], [], [], 0.2)
                if not r:
                    continue
                s, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.connections += 1
                cid = self.connections
                self.socks.append(s)
            threading.Thread(target=self._serve, args=(s, cid), daemon=True).start()

    def _tls_accept(self, s, cid):
        """The handshake on an accepted socket: the SSLSocket, or None
        (recorded in tls_failures) when it failed."""
        try:
            s.settimeout(TLS_HANDSHAKE_TIMEOUT)
            ss = self.tls.wrap_socket(s, server_side=True, do_handshake_on_connect=False)
        except (OSError, ValueError) as e:
            with self.lock:
                self.tls_failures.append((cid, "%s: %s" % (type(e).__name__, e)))
            s.close()
            return None
        with self.lock:  # stop() must shut the SSLSocket now (s is detached)
            self.socks = [ss if x is s else x for x in self.socks]
        try:
            ss.do_handshake()
            ss.settimeout(None)
        except (OSError, ValueError) as e:
            with self.lock:
                self.tls_failures.append((cid, "%s: %s" % (type(e).__name__, e)))
            ss.close()
            return None
        with _sni_lock:
            name = _sni_seen.pop(ss, None)
        with self.lock:
            self.tls_handshakes += 1
            self.sni_names.append(name)
            self.tls_conns.append({"conn": cid, "sni": name, "version": ss.version(),
                                   "resumed": ss.session_reused})
        return ss

    def _serve(self, s, cid):
        if self.tls is not None:
            s = self._tls_accept(s, cid)
            if s is None:
                return
        conn = Conn(self, s, cid)
        try:
            while not conn.closed:
                req = conn.read_request()
                if req is None:
                    break
                self.behaviour(req, conn)
                if conn.closed or not req.complete:
                    break
                if self.idle_close_after is not None:
                    if not conn.wait_readable(self.idle_close_after):
                        break
        except Exception as e:  # a behaviour bug must not kill the server silently
            with self.lock:
                self.errors.append("%s: %s" % (type(e).__name__, e))
        finally:
            conn.close()

    def stop(self):
        self.stopping.set()
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
            try:
                s.close()
            except OSError:
                pass


# ---------------------------------------------------------------- TLS

# The SNI name each server-side SSLSocket was sent, noted by the context's
# sni_callback during the handshake and taken by _tls_accept after it.
_sni_lock = threading.Lock()
_sni_seen = weakref.WeakKeyDictionary()


def _note_sni(sslsock, server_name, context):
    with _sni_lock:
        _sni_seen[sslsock] = server_name
    return None  # go on with this context


def _send_close_notify(sslsock):
    """Send a TLS close_notify without waiting for the peer's: a
    non-blocking unwrap() writes it, then fails to read the answer."""
    try:
        sslsock.settimeout(0)
        sslsock.unwrap()
    except (OSError, ValueError):
        pass


# ---------------------------------------------------------------- behaviours

def _head(status, headers, reason=None):
    reasons = {100: "Continue", 101: "Switching Protocols", 200: "OK",
               204: "No Content", 304: "Not Modified", 400: "Bad Request",
               404: "Not Found", 500: "Internal Server Error"}
    out = "HTTP/1.1 %d %s\r\n" % (status, reason or reasons.get(status, "X"))
    for k, v in headers:
        out += "%s: %s\r\n" % (k, v)
    return (out + "\r\n").encode("latin-1")


def response_bytes(status=200, body=b"", headers=(), head_only=False):
    """A well-formed response with Content-Length (none for 1xx/204/304)."""
    if isinstance(body, str):
        body = body.encode()
    hs = list(headers)
    if status not in (204, 304) and status >= 200 and \
            not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in hs):
        hs.append(("Content-Length", str(len(body))))
    if head_only or status in (204, 304) or status < 200:
        body = b""
    return _head(status, hs) + body


class Gauge:
    """Requests a fake upstream is handling at once, and the peak (see tracked)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.cur = 0
        self.peak = 0


def tracked(gauge, then):
    """Behaviour wrapper: count `then` as in flight in `gauge` while it runs."""
    def b(req, conn):
        with gauge.lock:
            gauge.cur += 1
            gauge.peak = max(gauge.peak, gauge.cur)
        try:
            then(req, conn)
        finally:
            with gauge.lock:
                gauge.cur -= 1
    return b


def echo(status=200, headers=()):
    """200 with a JSON body describing the request exactly as received."""
    def b(req, conn):
        body = json.dumps(req.describe()).encode()
        hs = [("Content-Type", "application/json")] + list(headers)
        conn.send(response_bytes(status, body, hs, head_only=req.method == "HEAD"))
    return b


def status(code, body=b"", headers=()):
    def b(req, conn):
        conn.send(response_bytes(code, body, headers, head_only=req.method == "HEAD"))
    return b


def raw(data, close=False):
    """Send exactly these bytes (then close if asked)."""
    def b(req, conn):
        conn.send(data)
        if close:
            conn.close()
    return b


def delay(seconds, then):
    def b(req, conn):
        if not conn.server.stopping.wait(seconds):
            then(req, conn)
    return b


def never():
    """Read the request, never answer (until the upstream stops)."""
    def b(req, conn):
        while conn._recv() is not False:  # keep reading (and counting) until EOF
            pass
        conn.close()
    return b


def close_before_head(reset=False):
    def b(req, conn):
        conn.reset() if reset else conn.close()
    return b


def truncate(data, reset=False):
    """Send these bytes (an incomplete response, say), then close or reset."""
    def b(req, conn):
        conn.send(data)
        time.sleep(0.05)
        conn.reset() if reset else conn.close()
    return b


def chunked(chunks, headers=(), trailers=b""):
    def b(req, conn):
        out = _head(200, list(headers) + [("Transfer-Encoding", "chunked")])
        for c in chunks:
            out += b"%x\r\n%s\r\n" % (len(c), c)
        conn.send(out + b"0\r\n" + trailers + b"\r\n")
    return b


def close_delimited(body, headers=()):
    def b(req, conn):
        conn.send(_head(200, headers) + body)
        conn.close()
    return b


def pattern_bytes(size):
    """The deterministic body large() sends: yields pieces."""
    block = bytes(range(256)) * 4096  # 1 MiB
    left = size
    while left > 0:
        piece = block[:min(left, len(block))]
        left -= len(piece)
        yield piece


def pattern_sha256(size):
    h = hashlib.sha256()
    for p in pattern_bytes(size):
        h.update(p)
    return h.hexdigest()


def large(size, use_chunked=False):
    """Stream size bytes of pattern_bytes() (Content-Length or chunked)."""
    def b(req, conn):
        if use_chunked:
            if not conn.send(_head(200, [("Transfer-Encoding", "chunked")])):
                return
            for p in pattern_bytes(size):
                if not conn.send(b"%x\r\n%s\r\n" % (len(p), p)):
                    return
            conn.send(b"0\r\n\r\n")
        else:
            if not conn.send(_head(200, [("Content-Length", str(size))])):
                return
            for p in pattern_bytes(size):
                if not conn.send(p):
                    return
    return b


def stall(first, seconds, rest=b""):
    """Send first (say a head and half a body), wait, then send rest."""
    def b(req, conn):
        if conn.send(first) and not conn.server.stopping.wait(seconds):
            conn.send(rest)
    return b


def trickle(data, interval=0.1, then_close=True):
    """Send data one byte at a time, `interval` apart."""
    def b(req, conn):
        for i in range(len(data)):
            if conn.server.stopping.wait(interval) or not conn.send(data[i:i + 1]):
                return
        if then_close:
            conn.close()
    return b


def websocket(refuse=None):
    """101 + byte echo for a WebSocket handshake; refuse=N answers N instead."""
    def b(req, conn):
        if refuse is not None or req.header("Upgrade", "").lower() != "websocket":
            code = refuse or 400
            conn.send(response_bytes(code, b"no upgrade\n", [("Content-Type", "text/plain")]))
            return
        key = req.header("Sec-WebSocket-Key", "")
        accept = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()).decode()
        conn.send(_head(101, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                              ("Sec-WebSocket-Accept", accept)]))
        while True:
            data = conn.read_raw()
            if not data:
                break
            conn.send(data)
        conn.close()
    return b


def by_path(table, default=None):
    """Dispatch on the longest matching path prefix of the target."""
    default = default or echo()
    keys = sorted(table, key=len, reverse=True)

    def b(req, conn):
        for k in keys:
            if req.target.startswith(k):
                return table[k](req, conn)
        return default(req, conn)
    return b


def sequence(behaviours, then=None):
    """The Nth request this upstream sees (over all connections) gets behaviours[N]."""
    then = then or echo()

    def b(req, conn):
        i = conn.server.next_index() - 1
        return (behaviours[i] if i < len(behaviours) else then)(req, conn)
    return b


# ---------------------------------------------------------------- listeners

class FullBacklog:
    """A listener with listen(0) and its accept queue filled: new connects hang."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(0)
        self.port = self.sock.getsockname()[1]
        self.address = "127.0.0.1:%d" % self.port
        self.fillers = []
        for _ in range(4):
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.setblocking(False)
            c.connect_ex(("127.0.0.1", self.port))
            self.fillers.append(c)
        time.sleep(0.05)
        try:
            import harness
            harness.on_cleanup(self.stop)
        except Exception:
            pass

    def stop(self):
        for c in self.fillers:
            c.close()
        self.sock.close()


def unused_address():
    """An address on which nothing listens (connection refused)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return "127.0.0.1:%d" % port


# ---------------------------------------------------------------- more behaviours
# (retry and breaker tests)

def then_close(then=None):
    """Answer with `then` (default echo()) on a keep-alive response, then
    close the connection at once, without saying so (no Connection: close):
    one request per connection, a pooled connection that dies right after
    its response. b.wait_closed(n) waits until n connections were closed
    that way, so a test can send its next request only once the FIN is out."""
    then = then or echo()
    lock = threading.Condition()
    closed = [0]

    def b(req, conn):
        then(req, conn)
        conn.close()
        with lock:
            closed[0] += 1
            lock.notify_all()

    def wait_closed(n, timeout=2.0):
        deadline = time.time() + timeout
        with lock:
            while closed[0] < n:
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError("upstream closed %d connection(s), want %d within %.1fs"
                                         % (closed[0], n, timeout))
                lock.wait(left)
        return closed[0]

    b.wait_closed = wait_closed
    return b


def counted_status(code, headers=()):
    """Status `code`; the Nth request this upstream sees gets body b"try N"
    and header X-Try: N, so a test can tell which answer reached the client."""
    def b(req, conn):
        n = conn.server.next_index()
        hs = list(headers) + [("X-Try", str(n)), ("Content-Type", "text/plain")]
        conn.send(response_bytes(code, b"try %d" % n, hs, head_only=req.method == "HEAD"))
    return b


class switch:
    """A behaviour that can be changed while the upstream runs:
    sw = switch(status(500)); up = Upstream(sw); ...; sw.set(echo())."""

    def __init__(self, behaviour):
        self.lock = threading.Lock()
        self.behaviour = behaviour

    def set(self, behaviour):
        with self.lock:
            self.behaviour = behaviour

    def __call__(self, req, conn):
        with self.lock:
            b = self.behaviour
        return b(req, conn)
