"""Bulkhead (issue 4): per-upstream max_connections, max_pending and
pending_timeout, over all workers (SPEC 2, 3, 4.2, 6, 7).

max_connections counts the connections to an upstream in use by a request
(connecting, or waiting for / reading a response); idle pooled ones do not
count. Beyond it a request waits, at most max_pending of them, each at most
pending_timeout, and the oldest waiter goes first. A request that finds the
queue full gets 503 at once (reason no_capacity), one that waited too long
503 (reason pending_timeout): both carry Retry-After: 1, set the access-log
flag UO, are counted in cutover_upstream_rejected_total, never reach the
upstream and are not breaker failures.
"""

import socket
import struct
import threading
import time

from harness import Cutover, assert_error, echoed, server, simple_config
from probes import log_line, metric, metrics, observed, upstreams
from upstream import Gauge, Upstream, delay, echo, tracked

# ------------------------------------------------------------------ helpers


def bulkhead_config(up, max_connections, max_pending, pending_timeout, **extra):
    u = {"max_connections": max_connections, "max_pending": max_pending,
         "pending_timeout": pending_timeout}
    u.update(extra)
    return observed(simple_config(up, upstream=u, shutdown_timeout="2s"))


def send(cut, target, rid=None):
    """Send a GET on a fresh connection; the client, its response unread."""
    c = cut.client()
    c.request("GET", target, [("X-Request-ID", rid or "bh" + target.replace("/", "-"))])
    return c


def assert_refused(r, why):
    assert_error(r, 503)
    assert r.header("Retry-After") == "1", "%s: Retry-After %r" % (why, r.header("Retry-After"))
    assert not r.has_header("X-Cutover-Breaker"), "%s: says the breaker is open" % why


# -------------------------------------------------------------------- tests

def test_a_waiter_gets_the_free_slot_and_a_full_queue_is_refused_at_once():
    g = Gauge()
    up = Upstream(tracked(g, delay(1.5, echo())))
    cfg, logpath, port = bulkhead_config(up, 2, 1, "3s")
    cut = Cutover(cfg)
    t0 = time.time()
    c1, c2 = send(cut, "/1"), send(cut, "/2")
    up.wait_requests(2, timeout=1.0)
    c3 = send(cut, "/3")
    time.sleep(0.3)  # let it queue
    assert len(up.requests) == 2, "a 3rd request reached the upstream: %r" % up.requests

    t4 = time.time()
    r4 = cut.request("GET", "/4", [("X-Request-ID", "bh-4")])
    took4, at4 = time.time() - t4, time.time() - t0
    assert_refused(r4, "4th request")
    assert took4 < 0.6 and at4 < 1.4, \
        "the 4th waited (%.2fs, %.2fs after start) instead of a 503 at once" % (took4, at4)
    assert r4.json().get("request_id") == "bh-4", r4.body
    assert len(up.requests) == 2, "the upstream saw %d requests" % len(up.requests)

    for c in (c1, c2):
        echoed(c.read_response(timeout=5))
    r3 = c3.read_response(timeout=6)
    echoed(r3)
    t3 = time.time() - t0
    assert t3 >= 1.4, "the 3rd was answered after %.2fs: it did not wait for a slot" % t3
    assert sorted(up.targets()) == ["/1", "/2", "/3"], up.targets()
    assert g.peak <= 2, "the upstream had %d requests at once with max_connections 2" % g.peak

    line = log_line(logpath, "bh-4")
    assert line["status"] == 503 and "UO" in line["flags"], line
    assert line["upstream"] == "app", line
    ok = log_line(logpath, "bh-3")
    assert ok["status"] == 200 and "UO" not in ok["flags"], ok
    assert metric(metrics(port), "cutover_upstream_rejected_total",
                  upstream="app", reason="no_capacity") == 1
    assert not metric(metrics(port), "cutover_upstream_rejected_total",
                      upstream="app", reason="pending_timeout")


def test_a_waiter_gets_503_after_pending_timeout():
    up = Upstream(delay(1.5, echo()))
    cfg, logpath, port = bulkhead_config(up, 1, 4, "200ms")
    cut = Cutover(cfg)
    c1 = send(cut, "/1")
    up.wait_requests(1, timeout=1.0)
    t = time.time()
    r2 = cut.request("GET", "/2", [("X-Request-ID", "bh-wait")])
    took = time.time() - t
    assert_refused(r2, "waiter")
    assert 0.15 <= took < 1.0, "503 after %.2fs with pending_timeout 200ms" % took
    echoed(c1.read_response(timeout=5))
    time.sleep(0.1)
    assert up.targets() == ["/1"], "the timed-out waiter reached the upstream: %r" % up.targets()
    line = log_line(logpath, "bh-wait")
    assert line["status"] == 503 and "UO" in line["flags"], line
    assert metric(metrics(port), "cutover_upstream_rejected_total",
                  upstream="app", reason="pending_timeout") == 1
    assert not metric(metrics(port), "cutover_upstream_rejected_total",
                      upstream="app", reason="no_capacity")


def test_waiters_go_oldest_first():
    # Over all workers: the waiters' connections land on different workers,
    # and the oldest goes first wherever the slot frees.
    g = Gauge()
    up = Upstream(tracked(g, delay(0.4, echo())))
    cfg, _, _ = bulkhead_config(up, 1, 8, "5s")
    cfg["workers"] = 2
    cut = Cutover(cfg)
    order = ["/a", "/b", "/c", "/d", "/e", "/f", "/g"]
    clients = [send(cut, order[0])]
    up.wait_requests(1, timeout=1.0)
    for p in order[1:]:
        time.sleep(0.05)
        clients.append(send(cut, p))
    for c in clients:
        echoed(c.read_response(timeout=5))
    assert up.targets() == order, "not first come, first served: %r" % up.targets()
    assert g.peak == 1, "the upstream had %d requests at once with max_connections 1" % g.peak


def test_idle_pooled_connections_do_not_count():
    # With workers > 1 each worker may keep its own idle connection; were
    # idle ones counted, the second request would wait and time out.
    up = Upstream(echo())
    cfg, _, _ = bulkhead_config(up, 1, 1, "500ms")
    cut = Cutover(cfg)
    for i in range(5):
        r = cut.request("GET", "/seq/%d" % i)
        assert r.status == 200, "request %d: %r %r" % (i, r, r.body[:200])
    c = cut.client()
    for i in range(5):
        c.request("GET", "/ka/%d" % i)
        assert c.read_response().status == 200
    assert len(up.requests) == 10, up.targets()


def test_a_full_upstream_does_not_slow_another():
    g = Gauge()
    slow = Upstream(tracked(g, delay(5, echo())), name="slow")
    fast = Upstream(echo(), name="fast")
    cfg = {
        "shutdown_timeout": "2s",
        "upstreams": {
            "slow": {"servers": [server(slow)], "max_connections": 2, "max_pending": 0,
                     "pending_timeout": "100ms"},
            "fast": {"servers": [server(fast)]},
        },
        "routes": [
            {"name": "slow", "match": {"path_prefix": "/slow"}, "upstream": "slow"},
            {"name": "fast", "match": {"path_prefix": "/fast"}, "upstream": "fast"},
        ],
    }
    cfg, _, port = observed(cfg)
    cut = Cutover(cfg)
    held = [send(cut, "/slow/1"), send(cut, "/slow/2")]
    slow.wait_requests(2, timeout=1.0)
    for i in range(3):
        assert_refused(cut.request("GET", "/slow/x%d" % i), "slow request beyond the limit")

    results = []
    lock = threading.Lock()

    def client(n):
        try:
            c = cut.client()
            for i in range(10):
                c.request("GET", "/fast/%d/%d" % (n, i))
                r = c.read_response(timeout=3)
                with lock:
                    results.append(r.status)
            c.close()
        except Exception as e:  # reported through results
            with lock:
                results.append(repr(e))

    t = time.time()
    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(6)
    took = time.time() - t
    assert results == [200] * 80, "fast requests: %r" % sorted(set(map(str, results)))
    assert took < 3, "80 requests to the fast upstream took %.2fs while slow was full" % took
    assert len(fast.requests) == 80, "fast saw %d requests" % len(fast.requests)
    assert len(slow.requests) == 2 and g.peak <= 2, \
        "slow saw %d requests (%d at once) with max_connections 2" % (len(slow.requests), g.peak)
    assert metric(metrics(port), "cutover_upstream_rejected_total",
                  upstream="slow", reason="no_capacity") == 3
    assert not metric(metrics(port), "cutover_upstream_rejected_total",
                      upstream="fast", reason="no_capacity")
    for c in held:
        c.close()
    slow.stop()  # end the held requests now, not at the drain


def test_rejections_are_not_breaker_failures():
    up = Upstream(delay(1.5, echo()))
    cfg, logpath, port = bulkhead_config(
        up, 1, 0, "100ms", breaker={"consecutive_failures": 2, "open_for": "5s"},
        retry={"attempts": 1})
    cut = Cutover(cfg)
    c1 = send(cut, "/held")
    up.wait_requests(1, timeout=1.0)
    for i in range(6):
        assert_refused(cut.request("GET", "/r%d" % i), "rejection %d" % i)
    app = upstreams(port)["app"]
    assert app["breaker"]["state"] == "closed", "breaker after 6 rejections: %r" % app["breaker"]
    assert metric(metrics(port), "cutover_upstream_breaker_state", upstream="app") == 0
    assert metric(metrics(port), "cutover_upstream_rejected_total",
                  upstream="app", reason="no_capacity") == 6
    echoed(c1.read_response(timeout=5))
    r = cut.request("GET", "/after")
    echoed(r)
    assert up.targets() == ["/held", "/after"], up.targets()


def test_a_client_gone_while_queued_is_never_sent():
    # One slot, held by a slow request; B queues, then hangs up. Its place
    # in the queue goes with it: B never reaches the upstream, and the
    # slot goes on to C.
    up = Upstream(delay(1.0, echo()))
    cfg, _, port = bulkhead_config(up, 1, 4, "5s")
    cfg["workers"] = 1
    cut = Cutover(cfg)
    a = send(cut, "/a")
    up.wait_requests(1, timeout=2)
    b = send(cut, "/abandoned")
    time.sleep(0.2)
    # An abortive close: a FIN alone could be a half-close still waiting
    # for its answer, which cutover honours.
    b.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    b.close()
    time.sleep(0.2)
    assert upstreams(port)["app"]["bulkhead"]["pending"] == 0, upstreams(port)["app"]["bulkhead"]
    c = send(cut, "/c")
    echoed(a.read_response(timeout=5))
    echoed(c.read_response(timeout=5))
    assert up.targets() == ["/a", "/c"], up.targets()
