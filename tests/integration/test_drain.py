"""The drain (issue 6, SPEC sections 1 and 5), beyond test_signals.py: while
SIGTERM drains, /readyz says 503 and /healthz 200, new connections are
refused while every request in flight (on several connections and
workers) completes whole, a keep-alive connection in use ends cleanly after
its answer, idle ones are closed cleanly at once and never hold the exit,
a WebSocket tunnel keeps carrying bytes until it closes or shutdown_timeout
passes, an upload in progress reaches the upstream whole, and the access
and event logs are complete after exit 0.

"Cleanly" means a FIN: the client's recv() returns b"", never a
ConnectionResetError (harness.Client records that as was_reset)."""

import hashlib
import signal
import socket
import time

from harness import (Client, Cutover, echoed, params, refused, simple_config, time_limit,
                     wait_until)
from probes import admin_call, events, metric, metrics, observed, read_log
from upstream import Upstream, by_path, delay, echo, large, pattern_sha256, websocket

HANDSHAKE = [("Connection", "Upgrade"), ("Upgrade", "websocket"),
             ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]


def wait_refused(cut, timeout=1.5):
    """Bounded wait until every worker closed its listeners: the drain has
    reached the workers, not only the signal thread."""
    wait_until(lambda: refused(cut.port), timeout,
               "new connections to be refused after SIGTERM")


def wait_connections(admin, n, timeout=3.0):
    """Until cutover has accepted n client connections (the gauge), so
    that none still waits in a listener's backlog when the drain begins."""
    def ok():
        return (metric(metrics(admin), "cutover_connections_active") or 0) >= n
    wait_until(ok, timeout, "%d client connection(s) accepted by cutover" % n)


def wait_exit(cut, timeout, what):
    try:
        return cut.wait(timeout)
    except AssertionError:
        raise AssertionError("cutover still running %.1fs after SIGTERM (%s)" % (timeout, what))


def assert_clean_eof(c, what, timeout=2.0):
    """The peer closes c with a FIN within timeout, sending nothing more."""
    assert c.wait_closed(timeout), "%s: not closed within %.1fs" % (what, timeout)
    assert not c.was_reset, "%s: closed with a reset (RST), want a clean FIN" % what
    assert not c.buf, "%s: unexpected bytes before the close: %r" % (what, bytes(c.buf[:200]))


# ------------------------------------------------------------ 1. /readyz

def test_readyz_is_503_and_healthz_200_throughout_the_drain():
    up = Upstream(delay(2.0, echo()))
    cfg, _, admin = observed(simple_config(up, shutdown_timeout="10s"), log=False)
    cut = Cutover(cfg)
    c = cut.client()
    c.request("GET", "/slow")
    up.wait_requests(1, timeout=3)
    st, body = admin_call(admin, "/readyz")
    assert st == 200, "/readyz before SIGTERM, with a request in flight: %d %r" % (st, body)
    cut.signal(signal.SIGTERM)
    wait_until(lambda: admin_call(admin, "/readyz")[0] == 503, 1.5, "/readyz 503 after SIGTERM")
    # Poll both until the in-flight answer comes: the drain lasts that long.
    seen = 0
    while not c.poll(0.1):
        assert cut.alive(), "cutover exited with a request still in flight"
        st, body = admin_call(admin, "/readyz")
        assert st == 503, "/readyz during the drain: %d %r, want 503" % (st, body)
        st, body = admin_call(admin, "/healthz")
        assert st == 200, "/healthz during the drain: %d %r, want 200" % (st, body)
        seen += 1
    assert seen >= 3, "the drain was too short to observe (%d polls)" % seen
    assert echoed(c.read_response(timeout=5))["target"] == "/slow"
    assert wait_exit(cut, 5, "the only request was answered") == 0


# ------------------------------------------------- 2. refuse new, finish old

def test_new_connections_refused_while_every_in_flight_request_completes():
    size = 300000
    up = Upstream(by_path({"/big": delay(1.5, large(size)), "/small": delay(1.5, echo())}))
    cut = Cutover(simple_config(up, shutdown_timeout="10s", workers=2))
    # Eight connections: SO_REUSEPORT spreads them over both workers.
    clients = []
    for i in range(8):
        c = cut.client()
        c.request("GET", "/%s/%d" % ("big" if i % 2 else "small", i))
        clients.append(c)
    up.wait_requests(8, timeout=3)
    cut.signal(signal.SIGTERM)
    wait_refused(cut)
    for i, c in enumerate(clients):
        r = c.read_response(timeout=5)
        assert r.status == 200 and r.complete, "in-flight request %d: %r" % (i, r)
        if i % 2:
            assert len(r.body) == size, "request %d: %d of %d body bytes" % (i, len(r.body), size)
            assert hashlib.sha256(r.body).hexdigest() == pattern_sha256(size), \
                "request %d: body corrupted" % i
        else:
            assert echoed(r)["target"] == "/small/%d" % i, r
        assert refused(cut.port), "a new connection was accepted during the drain"
    assert wait_exit(cut, 5, "every in-flight request was answered") == 0


# ----------------------------------- 3. the keep-alive connection in flight

@params({"pipelined_before": "before", "sent_during": "during"})
def test_busy_keepalive_connection_ends_cleanly_after_its_answer(when):
    # client_drain on a busy connection: its answer goes out with
    # Connection: close, then a lingering close drops what the client sent
    # meanwhile; either way the client must see a FIN, never an RST.
    up = Upstream(by_path({"/first": delay(1.5, echo())}))
    cut = Cutover(simple_config(up, shutdown_timeout="10s"))
    c = cut.client()
    c.request("GET", "/first")
    if when == "before":
        c.request("GET", "/second")
    up.wait_requests(1, timeout=3)
    cut.signal(signal.SIGTERM)
    wait_refused(cut)
    if when == "during":
        c.request("GET", "/second")
    r = c.read_response(timeout=5)
    assert echoed(r)["target"] == "/first", r
    assert "close" in (r.header("Connection") or "").lower(), \
        "the answer finished during the drain has no Connection: close: %r" % r.headers
    # A second answer is allowed only if it says close too.
    if c.poll(2.0) and c.buf:
        r2 = c.read_response(timeout=3)
        assert "close" in (r2.header("Connection") or "").lower(), \
            "second answer during the drain without Connection: close: %r %r" % (r2, r2.headers)
    assert_clean_eof(c, "the busy keep-alive connection after its answer")
    c.close()
    assert wait_exit(cut, 4, "the last connection was closed") == 0


# ------------------------------------------------------ 4. idle connections

def test_idle_connections_get_a_clean_close_as_the_drain_starts():
    up = Upstream(by_path({"/slow": delay(3.0, echo())}))
    cfg, _, admin = observed(simple_config(up, shutdown_timeout="10s", workers=2), log=False)
    cut = Cutover(cfg)
    idle = []
    for i in range(4):
        c = cut.client()
        c.request("GET", "/warm/%d" % i)
        assert echoed(c.read_response())["target"] == "/warm/%d" % i
        idle.append(c)
    fresh = [cut.client() for _ in range(2)]  # connected, never sent a byte
    slow = cut.client()
    slow.request("GET", "/slow")
    up.wait_requests(5, timeout=3)
    wait_connections(admin, 7)
    t = time.time()
    cut.signal(signal.SIGTERM)
    for i, c in enumerate(idle + fresh):
        kind = "idle keep-alive" if i < len(idle) else "never-used"
        assert_clean_eof(c, "%s connection %d at the drain's start" % (kind, i), timeout=1.5)
    took = time.time() - t
    # Closed at the start, not when the drain ends: the slow one is still going.
    assert not slow.poll(0.01), "the slow answer came before the idle closes were checked"
    assert took < 2.0, "idle connections closed %.1fs after SIGTERM" % took
    assert echoed(slow.read_response(timeout=5))["target"] == "/slow"


def test_idle_connections_left_open_by_clients_do_not_hold_the_exit():
    up = Upstream(by_path({"/slow": delay(1.0, echo())}))
    cfg, _, admin = observed(simple_config(up, shutdown_timeout="10s", workers=2), log=False)
    cut = Cutover(cfg)
    idle = []
    for i in range(6):
        c = cut.client()
        for j in range(2):
            c.request("GET", "/warm/%d/%d" % (i, j))
            echoed(c.read_response())
        idle.append(c)  # kept open, never read again until the end
    slow = cut.client()
    slow.request("GET", "/slow")
    up.wait_requests(13, timeout=3)
    wait_connections(admin, 7)
    cut.signal(signal.SIGTERM)
    assert echoed(slow.read_response(timeout=5))["target"] == "/slow"
    assert_clean_eof(slow, "the in-flight connection after its answer")
    slow.close()
    t = time.time()
    code = wait_exit(cut, 3, "6 idle keep-alive connections still open on the client side, "
                             "shutdown_timeout 10s: they hold the exit")
    assert code == 0, "exit code %s, want 0" % code
    assert time.time() - t < 3
    for i, c in enumerate(idle):
        assert c.wait_closed(0.5) and not c.was_reset, "idle connection %d was reset" % i


# --------------------------------------------------------------- 5. tunnels

def open_tunnel(cut):
    c = cut.client()
    c.request("GET", "/ws", HANDSHAKE)
    r = c.read_response()
    assert r.status == 101, "want 101, got %r %r" % (r, r.body[:200])
    assert c.send(b"before") and c.recv_exact(6, timeout=3) == b"before", "tunnel does not echo"
    return c


def assert_tunnel_flows(c, what):
    for payload in (b"during the drain", bytes(range(256)) * 64):
        assert c.send(payload), "%s: send failed" % what
        got = c.recv_exact(len(payload), timeout=3)
        assert got == payload, "%s: tunnel echoed %d of %d bytes" % (what, len(got), len(payload))


def test_drain_ends_when_the_open_tunnel_closes():
    up = Upstream(websocket())
    cut = Cutover(simple_config(up, shutdown_timeout="10s"))
    c = open_tunnel(cut)
    cut.signal(signal.SIGTERM)
    wait_refused(cut)
    assert_tunnel_flows(c, "right after SIGTERM")
    time.sleep(0.5)
    assert cut.alive(), "cutover exited with a tunnel open, long before shutdown_timeout (10s)"
    assert_tunnel_flows(c, "0.5s into the drain")
    t = time.time()
    c.close()
    code = wait_exit(cut, 3, "the client closed its tunnel, shutdown_timeout 10s")
    assert code == 0, "exit code %s, want 0" % code
    assert time.time() - t < 3


@time_limit(20)
def test_drain_ends_at_shutdown_timeout_with_the_tunnel_still_open():
    up = Upstream(websocket())
    cut = Cutover(simple_config(up, shutdown_timeout="1s"))
    c = open_tunnel(cut)
    t = time.time()
    cut.signal(signal.SIGTERM)
    wait_refused(cut, timeout=0.8)
    assert_tunnel_flows(c, "during the drain")
    code = wait_exit(cut, 4, "tunnel open, shutdown_timeout 1s")
    took = time.time() - t
    assert code == 0, "exit code %s with the tunnel cut at shutdown_timeout, want 0" % code
    assert 0.8 <= took < 3.0, "exited %.2fs after SIGTERM, want about shutdown_timeout (1s)" % took
    assert c.wait_closed(1.0), "the tunnel's client connection outlived the process"


# ------------------------------------------------------------------ 6. logs

def test_every_request_finished_in_the_drain_is_in_the_access_log_after_exit():
    up = Upstream(by_path({"/slow": delay(1.0, echo())}))
    cfg, logpath, _ = observed(simple_config(up, shutdown_timeout="10s", workers=2), admin=False)
    cut = Cutover(cfg)
    want = {}
    for i in range(3):
        r = cut.request("GET", "/before/%d" % i)
        want[r.header("X-Request-ID")] = "/before/%d" % i
    clients = []
    for i in range(8):
        c = cut.client()
        c.request("GET", "/slow/%d" % i)
        clients.append(c)
    up.wait_requests(11, timeout=3)
    cut.signal(signal.SIGTERM)
    for i, c in enumerate(clients):
        r = c.read_response(timeout=5)
        assert echoed(r)["target"] == "/slow/%d" % i, r
        want[r.header("X-Request-ID")] = "/slow/%d" % i
        c.close()
    assert None not in want, "a response without X-Request-ID"
    assert wait_exit(cut, 5, "every request answered") == 0
    lines = read_log(logpath)
    got = {x.get("request_id"): x for x in lines}
    assert len(lines) == len(want), "%d access-log lines after exit for %d requests: %s" % (
        len(lines), len(want), sorted(x.get("path") for x in lines))
    missing = sorted(p for rid, p in want.items() if rid not in got)
    assert not missing, "no access-log line after exit for %s" % missing
    bad = [(x["path"], x["status"]) for x in lines if x.get("status") != 200]
    assert not bad, "access-log lines with another status than 200: %s" % bad


def test_event_log_records_the_drain_then_the_exit():
    up = Upstream(delay(1.0, echo()))
    cut = Cutover(simple_config(up, shutdown_timeout="7s"))
    c = cut.client()
    c.request("GET", "/slow")
    up.wait_requests(1, timeout=3)
    cut.signal(signal.SIGTERM)
    wait_until(lambda: events(cut, "draining"), 2, "the draining event")
    assert cut.alive() and not c.poll(0.01), "the draining line came only after the drain"
    echoed(c.read_response(timeout=5))
    c.close()
    assert wait_exit(cut, 5, "the request was answered") == 0
    (d,) = events(cut, "draining")
    assert d.get("signal") == "SIGTERM", d["_line"]
    assert d.get("shutdown_timeout_ms") == "7000", d["_line"]
    ex = events(cut, "exit")
    assert len(ex) == 1 and ex[0].get("status") == "0", "exit events: %r" % ex
    lines = [x for x in cut.stderr.splitlines() if " event=" in x]
    assert lines[-1] == ex[0]["_line"], "the exit line is not the last event: %r" % lines[-3:]
    assert not events(cut, "drain_timeout"), "drain_timeout logged with nothing left"


# -------------------------------------------------------- 7. upload in flight

@time_limit(30)
def test_upload_in_progress_at_sigterm_reaches_the_upstream_whole():
    size = 512 * 1024
    body = bytes((i * 7 + 3) & 0xff for i in range(size))
    up = Upstream(echo())
    cut = Cutover(simple_config(up, shutdown_timeout="10s"))
    c = cut.client()
    head = Client.build("POST", "/upload", [("Content-Type", "application/octet-stream")], body)
    head = head[:len(head) - size]
    c.pending.append("POST")
    c.send(head + body[:64 * 1024])
    up.wait_requests(1, timeout=3)  # the head reached the upstream: in flight
    cut.signal(signal.SIGTERM)
    wait_refused(cut)
    sent = 64 * 1024
    piece = 32 * 1024
    while sent < size:  # about 0.7s of a slow client still uploading
        c.send(body[sent:sent + piece])
        sent += piece
        time.sleep(0.05)
    r = c.read_response(timeout=5)
    d = echoed(r)
    assert d["body_len"] == size, "upstream got %d of %d body bytes" % (d["body_len"], size)
    assert d["body_sha256"] == hashlib.sha256(body).hexdigest(), "upstream got a corrupted body"
    req = up.requests[0]
    assert req.complete and len(up.requests) == 1, up.requests
    c.close()
    assert wait_exit(cut, 4, "the upload was answered") == 0
