"""Harness for cutover's integration tests (Python 3 stdlib only).

The runner (run.py) calls begin() before each test and end() after it; a
test uses:

    cut = Cutover(simple_config(up))        # start $CUTOVER_BIN -c FILE, wait for its ports
    r = cut.request("GET", "/x")            # one request on a fresh connection -> Response
    c = cut.client()                        # raw client: c.send(bytes), c.request(...), c.read_response()
    run_cli(["-t", "-c", path])             # run the binary, -> Result(code, stdout, stderr)
    write_file("x.yaml", text), tmpdir(), free_port(), wait_until(pred, timeout, what)
    assert_error(r, 400)                    # cutover's own JSON error
    raise Skip("reason")

Configs are dicts (turned into YAML by to_yaml) or YAML text in which $LISTEN,
$LISTEN1, ... become fresh 127.0.0.1 ports and $TMP the test's directory.

Every process and upstream a test starts is stopped at the end of the test;
their logs (cutover stderr, upstream records) are printed only when the test
fails.
"""

import collections
import json
import os
import re
import signal
import socket
import subprocess
import time

# --------------------------------------------------------------- test context


class Skip(Exception):
    """Raise to skip the current test (e.g. a missing optional tool)."""


class HarnessError(AssertionError):
    """A failure in setting up the test (missing binary, no listener...)."""


class _Ctx:
    def __init__(self, path):
        self.dir = path
        self.cleanups = []  # callables, run in reverse order
        self.cutovers = []
        self.upstreams = []


_ctx = None


def begin(path):
    global _ctx
    _ctx = _Ctx(path)


def end():
    """Stop everything; return a list of problems found after the test
    (cutover crashed, sanitizer reports)."""
    problems = []
    if _ctx is None:
        return problems
    for cut in _ctx.cutovers:
        problems.extend(cut._post_mortem())
    for fn in reversed(_ctx.cleanups):
        try:
            fn()
        except Exception as e:  # cleanup must never raise out of the runner
            problems.append("cleanup error: %s" % e)
    return problems


def logs():
    """Text worth printing when the test failed."""
    out = []
    if _ctx is None:
        return ""
    for cut in _ctx.cutovers:
        out.append(cut.describe())
    for up in _ctx.upstreams:
        out.append("--- upstream " + up.summary())
    return "\n".join(out)


def on_cleanup(fn):
    if _ctx is not None:
        _ctx.cleanups.append(fn)


def register_upstream(up):
    if _ctx is not None:
        _ctx.upstreams.append(up)
        _ctx.cleanups.append(up.stop)


def tmpdir():
    if _ctx is None:
        raise HarnessError("no test context (run tests through run.py)")
    return _ctx.dir


def write_file(name, text):
    path = os.path.join(tmpdir(), name)
    with open(path, "wb") as f:
        f.write(text.encode() if isinstance(text, str) else text)
    return path


_ports_given = set()


def free_port():
    """A port nothing listens on now. The kernel may hand the same
    ephemeral port out again right after it is closed, so one test never
    gets the same port twice (a listener and the admin API on one port)."""
    for _ in range(50):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        if port not in _ports_given:
            _ports_given.add(port)
            return port
    return port


def refused(port):
    """True if a connect to 127.0.0.1:port is refused now. A timeout is no
    answer (the connection may sit in a backlog nobody accepts from)."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.3).close()
        return False
    except ConnectionRefusedError:
        return True
    except OSError:
        return False


def wait_until(pred, timeout=5.0, what="condition", interval=0.02):
    """Poll pred() until it returns a true value; AssertionError at the deadline."""
    deadline = time.time() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.time() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))
        time.sleep(interval)


# --------------------------------------------------------------- test marks

def params(table):
    """Decorator: run the test once per row. table: {id: args tuple or single value}."""
    def mark(fn):
        fn._params = {k: (v if isinstance(v, tuple) else (v,)) for k, v in table.items()}
        return fn
    return mark


def time_limit(seconds):
    """Decorator: a per-test time limit other than the default."""
    def mark(fn):
        fn._timeout = seconds
        return fn
    return mark


# --------------------------------------------------------------- the binary

def bin_path():
    b = os.environ.get("CUTOVER_BIN")
    if not b:
        src = os.environ.get("CUTOVER_SRCDIR", ".")
        b = os.path.join(src, "src", "cutover")
    return b


def _check_bin():
    b = bin_path()
    if not (os.path.isfile(b) and os.access(b, os.X_OK)):
        raise HarnessError("cutover binary not found or not executable: %s" % b)
    return b


class Result:
    def __init__(self, code, stdout, stderr):
        self.code, self.stdout, self.stderr = code, stdout, stderr

    @property
    def output(self):
        return self.stdout + self.stderr

    def __repr__(self):
        return "exit %s\n--- stdout\n%s\n--- stderr\n%s" % (self.code, self.stdout, self.stderr)


def run_cli(args, timeout=10, cwd=None):
    """Run `cutover ARGS...` to completion (killed at the timeout)."""
    b = _check_bin()
    try:
        p = subprocess.run([b] + list(args), cwd=cwd or tmpdir(), stdin=subprocess.DEVNULL,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise AssertionError("cutover %s did not finish within %ss" % (" ".join(args), timeout))
    return Result(p.returncode, p.stdout.decode("utf-8", "replace"),
                  p.stderr.decode("utf-8", "replace"))


# --------------------------------------------------------------- YAML

_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def _scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    return json.dumps(str(v))  # a JSON string is a valid YAML double-quoted scalar


def to_yaml(obj, indent=0):
    """A tiny block-style YAML emitter for dicts, lists and scalars."""
    pad = " " * indent
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            key = k if _PLAIN_KEY.match(str(k)) else json.dumps(str(k))
            if isinstance(v, (dict, list)) and v:
                out.append("%s%s:\n%s" % (pad, key, to_yaml(v, indent + 2)))
            elif isinstance(v, (dict, list)):
                out.append("%s%s: %s\n" % (pad, key, "{}" if isinstance(v, dict) else "[]"))
            else:
                out.append("%s%s: %s\n" % (pad, key, _scalar(v)))
    elif isinstance(obj, list):
        for v in obj:
            if isinstance(v, (dict, list)) and v:
                inner = to_yaml(v, indent + 2)
                out.append(pad + "- " + inner[indent + 2:])
            else:
                out.append("%s- %s\n" % (pad, _scalar(v) if not isinstance(v, (dict, list))
                                         else ("{}" if isinstance(v, dict) else "[]")))
    else:
        out.append(pad + _scalar(obj) + "\n")
    return "".join(out)


def server(up, weight=None):
    s = {"address": up if isinstance(up, str) else up.address}
    if weight is not None:
        s["weight"] = weight
    return s


def simple_config(up, upstream=None, route=None, **top):
    """One upstream "app" (an Upstream, an address, or a list of them) behind
    a catch-all route. upstream/route: extra keys; top: extra top-level keys."""
    ups = up if isinstance(up, list) else [up]
    u = {"servers": [server(x) for x in ups]}
    u.update(upstream or {})
    r = {"name": "all", "match": {"path_prefix": "/"}, "upstream": "app"}
    r.update(route or {})
    cfg = dict(top)
    cfg["upstreams"] = {"app": u}
    cfg["routes"] = [r]
    return cfg


# --------------------------------------------------------------- cutover process

class Cutover:
    """The real binary, running `cutover -c FILE` in the test's directory."""

    _n = 0

    def __init__(self, config, args=(), wait=True, start_timeout=5.0, ports=None):
        b = _check_bin()
        Cutover._n += 1
        self.n = Cutover._n
        self.ports = list(ports or [])
        if isinstance(config, dict):
            config = dict(config)
            if "listeners" not in config:
                self.ports = [free_port()]
                config = dict([("listeners", [{"address": "127.0.0.1:%d" % self.ports[0]}])]
                              + list(config.items()))
            text = to_yaml(config)
        else:
            text = config
        text = text.replace("$TMP", tmpdir())

        def listen(m):
            p = free_port()
            self.ports.append(p)
            return "127.0.0.1:%d" % p
        text = re.sub(r"\$LISTEN\d*", listen, text)
        self.config_text = text
        self.config_path = write_file("cutover-%d.yaml" % self.n, text)
        self.stderr_path = os.path.join(tmpdir(), "cutover-%d.stderr" % self.n)
        self.stdout_path = os.path.join(tmpdir(), "cutover-%d.stdout" % self.n)
        self._signalled = False
        self._stopped = False
        with open(self.stderr_path, "wb") as err, open(self.stdout_path, "wb") as out:
            # CUTOVER_WRAPPER runs the binary under a tool, e.g. valgrind.
            wrapper = os.environ.get("CUTOVER_WRAPPER", "").split()
            self.proc = subprocess.Popen(wrapper + [b, "-c", self.config_path] + list(args),
                                         cwd=tmpdir(), stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err)
        self.pid = self.proc.pid
        _ctx.cutovers.append(self)
        _ctx.cleanups.append(self._kill)
        if wait:
            self.wait_listening(start_timeout)

    @property
    def port(self):
        return self.ports[0]

    @property
    def stderr(self):
        return _read(self.stderr_path)

    @property
    def stdout(self):
        return _read(self.stdout_path)

    def wait_listening(self, timeout=10.0):
        deadline = time.time() + timeout
        for p in self.ports:
            while True:
                code = self.proc.poll()
                if code is not None:
                    raise HarnessError("cutover exited with code %s before listening on %d; "
                                       "stderr: %s" % (code, p, _tail(self.stderr, 3)))
                # Our own line first: a port we picked may have been taken
                # by another test's listener before cutover bound it (the
                # wider window under valgrind), and that one would answer.
                if re.search(r"event=(admin_)?listening address=\S*:%d\b" % p,
                             self.stderr):
                    try:
                        socket.create_connection(("127.0.0.1", p), timeout=0.5).close()
                        break
                    except OSError:
                        pass
                if time.time() >= deadline:
                    raise HarnessError("cutover not listening on port %d after %.0fs" % (p, timeout))
                time.sleep(0.02)

    def alive(self):
        return self.proc.poll() is None

    def signal(self, sig):
        self._signalled = True
        self.proc.send_signal(sig)

    def wait(self, timeout=10.0):
        """Exit code; AssertionError if still running after timeout."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("cutover still running %.1fs later" % timeout)

    def stop(self, timeout=5.0):
        """SIGTERM, then SIGKILL after timeout; returns the exit code."""
        self._stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        return self.proc.wait()

    def _kill(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _post_mortem(self):
        problems = []
        try:
            code = self.proc.wait(0.05)  # a crash may still be in progress
        except subprocess.TimeoutExpired:
            code = None
        if code is not None and not self._signalled and not self._stopped:
            how = ("killed by %s" % signal.Signals(-code).name) if code < 0 else "exit code %d" % code
            problems.append("cutover died during the test (%s)" % how)
        if code is None:
            # Still running: end it the way an operator would, so every test
            # also checks a clean drain and (under ASan) a leak-free exit.
            self._stopped = True
            self.proc.send_signal(signal.SIGTERM)
            # A drain may rightly wait for open tunnels or half-sent heads
            # (up to shutdown_timeout): give it a little, then kill.
            try:
                code = self.proc.wait(3)
                if code != 0:
                    problems.append("cutover exited %d after SIGTERM at the end of the test" % code)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        err = self.stderr
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if marker in err:
                problems.append("sanitizer report in cutover stderr (%s)" % marker)
                break
        return problems

    def task_count(self):
        try:
            return len(os.listdir("/proc/%d/task" % self.pid))
        except OSError:
            return 0

    def client(self, port=None, **kw):
        return Client(port or self.port, **kw)

    def request(self, method="GET", target="/", headers=(), body=None, port=None, **kw):
        """One request on a fresh connection; the Response."""
        c = self.client(port)
        try:
            c.request(method, target, headers, body, **kw)
            return c.read_response()
        finally:
            c.close()

    def describe(self):
        code = self.proc.poll()
        return ("--- cutover #%d pid %d (%s), ports %s\n--- config %s\n%s"
                "--- stderr (last 80 lines)\n%s\n--- stdout (last 20 lines)\n%s"
                % (self.n, self.pid, "running" if code is None else "exit %s" % code,
                   self.ports, self.config_path, self.config_text, _tail(self.stderr, 80),
                   _tail(self.stdout, 20)))


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _tail(text, n):
    lines = text.rstrip("\n").split("\n")
    return "\n".join(lines[-n:]) if text else "(empty)"


# --------------------------------------------------------------- raw client

class Timeout(AssertionError):
    pass


class ConnectionClosed(AssertionError):
    pass


class Response:
    def __init__(self):
        self.version = ""
        self.status = 0
        self.reason = ""
        self.headers = []
        self.body = b""
        self.complete = True  # False: the connection ended before the body's end
        self.framing = "none"  # none | length | chunked | close
        self.raw_head = b""

    def header(self, name, default=None):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return default

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    def has_header(self, name):
        return any(k.lower() == name.lower() for k, _ in self.headers)

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise AssertionError("response %d body is not JSON: %r" % (self.status, self.body[:200]))

    def __repr__(self):
        return "<Response %s %d %r %s body=%d%s>" % (
            self.version, self.status, self.reason, self.framing, len(self.body),
            "" if self.complete else " INCOMPLETE")


def _norm_headers(headers):
    if isinstance(headers, dict):
        return list(headers.items())
    return list(headers)


class Client:
    """A raw HTTP/1.1 client over one socket: exact bytes out, framed responses in."""

    def __init__(self, port, host="127.0.0.1", timeout=5.0, rcvbuf=None):
        self.timeout = timeout
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect((host, port))
        except OSError as e:
            self.sock.close()
            raise ConnectionClosed("cannot connect to %s:%d: %s" % (host, port, e))
        self.buf = bytearray()
        self.eof = False
        self.was_reset = False
        self.pending = collections.deque()  # methods of requests not yet answered
        self.informational = []  # 1xx responses skipped by read_response
        on_cleanup(self.close)

    # -- output
    def send(self, data, ignore_errors=False):
        try:
            self.sock.sendall(data)
            return True
        except OSError as e:
            if ignore_errors:
                return False
            raise ConnectionClosed("send failed: %s" % e)

    @staticmethod
    def build(method="GET", target="/", headers=(), body=None, version="HTTP/1.1",
              host="a.example"):
        hs = _norm_headers(headers)
        names = {k.lower() for k, _ in hs}
        out = ["%s %s %s\r\n" % (method, target, version)]
        if host is not None and "host" not in names:
            out.append("Host: %s\r\n" % host)
        for k, v in hs:
            out.append("%s: %s\r\n" % (k, v))
        if body is not None and "content-length" not in names and "transfer-encoding" not in names:
            out.append("Content-Length: %d\r\n" % len(body))
        data = "".join(out).encode("latin-1") + b"\r\n"
        if body is not None:
            data += body if isinstance(body, bytes) else body.encode()
        return data

    def request(self, method="GET", target="/", headers=(), body=None, version="HTTP/1.1",
                host="a.example"):
        """Send one request (Host and Content-Length added unless given)."""
        self.pending.append(method)
        return self.send(self.build(method, target, headers, body, version, host))

    def send_raw_request(self, data, method=None):
        """Send raw bytes that form a request (method taken from the bytes)."""
        self.pending.append(method or data.split(b" ", 1)[0].decode("latin-1"))
        return self.send(data)

    # -- input
    def _fill(self, deadline):
        if self.eof:
            return False
        left = deadline - time.time()
        if left <= 0:
            raise Timeout("timed out")
        self.sock.settimeout(left)
        try:
            data = self.sock.recv(262144)
        except socket.timeout:
            raise Timeout("timed out") from None
        except ConnectionResetError:
            self.eof = self.was_reset = True
            return False
        except OSError:
            self.eof = True
            return False
        if not data:
            self.eof = True
            return False
        self.buf.extend(data)
        return True

    def poll(self, timeout):
        """True if bytes (or EOF) are available within timeout."""
        if self.buf or self.eof:
            return True
        try:
            self._fill(time.time() + timeout)
        except Timeout:
            return False
        return True

    def _head_end(self):
        i = self.buf.find(b"\r\n\r\n")
        j = self.buf.find(b"\n\n")
        if i >= 0 and (j < 0 or i <= j):
            return i, 4
        if j >= 0:
            return j, 2
        return -1, 0

    def read_head(self, timeout=None):
        """Response head only: (Response with status/headers, remaining body unread)."""
        deadline = time.time() + (timeout or self.timeout)
        while True:
            i, n = self._head_end()
            if i >= 0:
                break
            try:
                more = self._fill(deadline)
            except Timeout:
                raise Timeout("timed out waiting for a response head (got %d bytes: %r)"
                              % (len(self.buf), bytes(self.buf[:120]))) from None
            if not more:
                raise ConnectionClosed("connection %s before a response head (got %d bytes: %r)"
                                       % ("reset" if self.was_reset else "closed",
                                          len(self.buf), bytes(self.buf[:120])))
        head = bytes(self.buf[:i])
        del self.buf[:i + n]
        r = Response()
        r.raw_head = head
        lines = head.replace(b"\r\n", b"\n").split(b"\n")
        m = re.match(rb"^(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise AssertionError("bad status line from cutover: %r" % lines[0][:200])
        r.version = m.group(1).decode()
        r.status = int(m.group(2))
        r.reason = (m.group(3) or b"").decode("latin-1")
        for ln in lines[1:]:
            k, sep, v = ln.decode("latin-1").partition(":")
            if not sep:
                raise AssertionError("bad header line from cutover: %r" % ln[:200])
            r.headers.append((k, v.strip(" \t")))
        return r

    def read_response(self, timeout=None, expect_100=False, method=None):
        """The next response, framed per RFC 9112 section 6.3.

        1xx responses other than 101 are skipped (kept in .informational)
        unless expect_100 is true, when the first response is returned as is.
        A body cut short by EOF gives complete=False (never raises)."""
        deadline = time.time() + (timeout or self.timeout)
        while True:
            r = self.read_head(max(0.01, deadline - time.time()))
            if 100 <= r.status < 200 and r.status != 101 and not expect_100:
                self.informational.append(r)
                continue
            break
        if r.status >= 200 or r.status == 101:
            req_method = method or (self.pending.popleft() if self.pending else "GET")
        else:
            req_method = method or (self.pending[0] if self.pending else "GET")
        self._read_body(r, req_method, deadline)
        return r

    def _read_body(self, r, method, deadline):
        if r.status < 200 or r.status in (204, 304) or method == "HEAD":
            r.framing = "none"
            return
        te = ",".join(r.header_all("Transfer-Encoding")).lower()
        cls = set(v.strip() for v in r.header_all("Content-Length"))
        try:
            if te:
                if te.replace(" ", "").split(",")[-1] == "chunked":
                    r.framing = "chunked"
                    self._read_chunked(r, deadline)
                else:
                    r.framing = "close"
                    self._read_to_close(r, deadline)
            elif cls:
                if len(cls) > 1 or not all(c.isdigit() for c in cls):
                    raise AssertionError("bad Content-Length from cutover: %r" % r.header_all("Content-Length"))
                r.framing = "length"
                n = int(cls.pop())
                while len(self.buf) < n:
                    if not self._fill(deadline):
                        r.complete = False
                        break
                take = min(n, len(self.buf))
                r.body = bytes(self.buf[:take])
                del self.buf[:take]
            else:
                r.framing = "close"
                self._read_to_close(r, deadline)
        except Timeout:
            raise Timeout("timed out reading the body of %r (%s framing, got %d bytes so far)"
                          % (r, r.framing, len(self.buf) + len(r.body))) from None

    def _read_to_close(self, r, deadline):
        while self._fill(deadline):
            pass
        r.body = bytes(self.buf)
        self.buf.clear()

    def _line(self, deadline):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i]).rstrip(b"\r")
                del self.buf[:i + 1]
                return line
            if not self._fill(deadline):
                return None

    def _read_chunked(self, r, deadline):
        body = bytearray()
        while True:
            line = self._line(deadline)
            if line is None:
                r.complete = False
                break
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise AssertionError("bad chunk size line from cutover: %r" % line[:100])
            if size == 0:
                while True:
                    t = self._line(deadline)
                    if t is None:
                        r.complete = False
                        break
                    if t == b"":
                        break
                break
            while len(self.buf) < size + 2:
                if not self._fill(deadline):
                    break
            if len(self.buf) < size + 2:
                body.extend(self.buf[:size])
                self.buf.clear()
                r.complete = False
                break
            body.extend(self.buf[:size])
            del self.buf[:size + 2]
        r.body = bytes(body)

    def recv_exact(self, n, timeout=None):
        """Exactly n raw bytes (tunnels); fewer only if the connection ended."""
        deadline = time.time() + (timeout or self.timeout)
        while len(self.buf) < n:
            try:
                if not self._fill(deadline):
                    break
            except Timeout:
                raise Timeout("timed out: wanted %d bytes, got %d" % (n, len(self.buf))) from None
        data = bytes(self.buf[:n])
        del self.buf[:n]
        return data

    def drain(self, timeout=5.0, limit=None):
        """Read and discard until EOF; returns (bytes read, closed?). closed is
        False if the deadline passed first."""
        total = len(self.buf)
        self.buf.clear()
        deadline = time.time() + timeout
        while limit is None or total < limit:
            try:
                if not self._fill(deadline):
                    return total + len(self.buf), True
            except Timeout:
                return total + len(self.buf), False
            total += len(self.buf)
            self.buf.clear()
        return total, False

    def wait_closed(self, timeout=2.0):
        """True if the peer closes (EOF or reset) within timeout. Bytes that
        arrive meanwhile stay in self.buf."""
        deadline = time.time() + timeout
        while not self.eof:
            try:
                self._fill(deadline)
            except Timeout:
                return False
        return True

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


# --------------------------------------------------------------- assertions

def assert_error(r, status):
    """cutover's own error response: that status, a JSON body with "error"."""
    assert r.status == status, "expected %d, got %d %s (body %r)" % (status, r.status, r.reason, r.body[:200])
    ct = (r.header("Content-Type") or "").lower()
    assert ct.startswith("application/json"), "error %d has Content-Type %r, want application/json" % (status, ct)
    j = r.json()
    assert isinstance(j, dict) and "error" in j, "error body has no \"error\" key: %r" % r.body[:200]


def echoed(r):
    """The upstream's echo description from a proxied response."""
    assert r.status == 200, "expected 200 from the echo upstream, got %r body %r" % (r, r.body[:200])
    return r.json()


def echo_header(desc, name):
    vals = [v for k, v in desc["headers"] if k.lower() == name.lower()]
    return vals[0] if vals else None


def echo_header_all(desc, name):
    return [v for k, v in desc["headers"] if k.lower() == name.lower()]
