"""Retries (issue 4; SPEC 4.2's table and 4.3): which failures are tried
again, how often, after what backoff, with what body, within what deadline
and budget, and what the client finally gets. Every test counts what the
upstream really received, not only what the client saw."""

import hashlib
import os
import socket
import threading
import time

import harness
from harness import (ConnectionClosed, Cutover, assert_error, echo_header, echoed, server,
                     simple_config, wait_until)
from probes import events, expect, log_line, metric, metrics, observed, read_log
from upstream import (FullBacklog, Upstream, close_before_head, counted_status, echo, never, raw,
                      sequence, status, then_close, truncate)

# A breaker that never opens here, so it never stops a retry (SPEC 4.3: "the
# breaker is closed" is one of the conditions).
NOBREAK = {"consecutive_failures": 100000, "min_requests": 100000}
FAST = {"connect_timeout": "300ms", "response_timeout": "300ms"}


# ------------------------------------------------------------------ helpers

def config(up, retry=None, upstream=None, log=True, admin=True, **top):
    """simple_config with a never-opening breaker, short timeouts, an
    access log file and an admin listener. Returns (cfg, logpath, admin port).
    The retry budget is generous unless the test sets it: only the budget
    test is about the budget."""
    u = dict(FAST)
    u["breaker"] = dict(NOBREAK)
    u["retry"] = {"min_retries_per_second": 1000}
    u["retry"].update(retry or {})
    u.update(upstream or {})
    return observed(simple_config(up, upstream=u, **top), log, admin)


def log_lines(path, n, timeout=3.0):
    """At least n access-log lines (bounded wait); all of them."""
    wait_until(lambda: len(read_log(path)) >= n, timeout, "%d access log line(s)" % n)
    return read_log(path)


def attempts_seen(up):
    return [r.header("X-Cutover-Attempt") for r in up.requests]


def settle(up, n, extra=0.3):
    """Wait for n requests at the upstream, then a little more so that a
    retry that should not happen has time to show up; the request list."""
    up.wait_requests(n, timeout=3)
    time.sleep(extra)
    return list(up.requests)


def timed(cut, method="GET", target="/x", headers=(), body=None):
    t = time.time()
    r = cut.request(method, target, headers, body)
    return r, time.time() - t


# ------------------------------------------------ one retry per failure kind

def test_refused_server_is_retried_on_the_other_server():
    up = Upstream(echo())
    cfg, logpath, port = config(["127.0.0.1:1", up])
    cut = Cutover(cfg)
    n = 6
    for i in range(n):
        r = cut.request("GET", "/r/%d" % i, [("X-Request-ID", "refused-%d" % i)])
        assert echoed(r)["target"] == "/r/%d" % i
    reqs = settle(up, n)
    assert len(reqs) == n, "upstream got %d requests for %d client requests" % (len(reqs), n)
    assert sorted(r.target for r in reqs) == sorted("/r/%d" % i for i in range(n))
    lines = [log_line(logpath, "refused-%d" % i) for i in range(n)]
    retried = [x for x in lines if x["tries"] == 2]
    # Round robin sends some first tries to the refusing server.
    assert retried, "no request was retried: tries %r" % [x["tries"] for x in lines]
    assert all(x["tries"] in (1, 2) for x in lines), [x["tries"] for x in lines]
    for x in retried:
        assert "UF" in x["flags"] and x["status"] == 200 and x["server"] == up.address, x
    # Every retried request reached the good server as its attempt 2.
    by_target = {r.target: r for r in reqs}
    for x in retried:
        assert by_target[x["path"]].header("X-Cutover-Attempt") == "2", by_target[x["path"]]
    text = metrics(port)
    expect(text, "cutover_retries_total", len(retried), upstream="app", reason="connect_failure")


def test_connect_timeout_is_retried_on_the_other_server():
    bl = FullBacklog()
    up = Upstream(echo())
    cfg, logpath, port = config([bl.address, up])
    cut = Cutover(cfg)
    n = 4
    t = time.time()
    for i in range(n):
        r = cut.request("GET", "/t/%d" % i, [("X-Request-ID", "ct-%d" % i)])
        assert echoed(r)["target"] == "/t/%d" % i
    took = time.time() - t
    reqs = settle(up, n)
    assert len(reqs) == n, "upstream got %d requests for %d" % (len(reqs), n)
    assert took < 4.0, "%d requests took %.1fs with connect_timeout 300ms" % (n, took)
    lines = [log_line(logpath, "ct-%d" % i) for i in range(n)]
    retried = [x for x in lines if x["tries"] == 2]
    assert retried, "no request was retried: %r" % lines
    for x in retried:
        assert "UF" in x["flags"], x
    text = metrics(port)
    expect(text, "cutover_retries_total", len(retried), upstream="app", reason="connect_failure")


def test_retry_goes_to_another_server():
    # Weights 3:1 make a plain weighted round robin pick the failing server
    # twice in a row now and then; a retry must go to the other one.
    bad = Upstream(status(503, b"bad server"), name="bad")
    good = Upstream(echo(), name="good")
    cfg, logpath, port = config(bad)
    cfg["upstreams"]["app"]["servers"] = [server(bad, 3), server(good, 1)]
    cut = Cutover(cfg)
    n = 8
    for i in range(n):
        r = cut.request("GET", "/o/%d" % i)
        assert echoed(r)["target"] == "/o/%d" % i, "request %d: %r %r" % (i, r, r.body[:100])
    time.sleep(0.2)
    bad_targets = [q.target for q in bad.requests]
    good_targets = [q.target for q in good.requests]
    assert sorted(good_targets) == sorted("/o/%d" % i for i in range(n)), good_targets
    assert len(set(bad_targets)) == len(bad_targets), "a retry went back to the failing server: %r" \
        % bad_targets
    assert bad_targets, "the weight-3 server got no request at all"
    for q in bad.requests:
        assert q.header("X-Cutover-Attempt") == "1", q
    retried = {q.target for q in good.requests if q.header("X-Cutover-Attempt") == "2"}
    assert retried == set(bad_targets), (retried, bad_targets)


def test_refused_everywhere_is_502_after_all_attempts():
    cfg, logpath, port = config("127.0.0.1:1", retry={"attempts": 3})
    cut = Cutover(cfg)
    r = cut.request("GET", "/x", [("X-Request-ID", "refused-all")])
    assert_error(r, 502)
    x = log_line(logpath, "refused-all")
    assert x["tries"] == 3 and "UF" in x["flags"] and "RX" in x["flags"], x
    expect(metrics(port), "cutover_retries_total", 2, upstream="app", reason="connect_failure")


def test_connect_failure_is_retried_for_any_method():
    up = Upstream(echo())
    cfg, logpath, port = config(["127.0.0.1:1", up])
    cut = Cutover(cfg)
    body = b"order=1"
    for i in range(4):
        r = cut.request("POST", "/p/%d" % i, body=body)
        d = echoed(r)
        assert d["body_sha256"] == hashlib.sha256(body).hexdigest()
    reqs = settle(up, 4)
    assert len(reqs) == 4 and all(r.method == "POST" for r in reqs), reqs
    expect(metrics(port), "cutover_retries_total", 1,
           upstream="app", reason="connect_failure", op=">=")


@harness.params({"rst": True, "fin": False})
def test_reset_before_the_head_is_retried_for_get(rst):
    up = Upstream(sequence([close_before_head(reset=rst)], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    r = cut.request("GET", "/reset", [("X-Request-ID", "reset-get")])
    d = echoed(r)
    assert echo_header(d, "X-Cutover-Attempt") == "2", d["headers"]
    reqs = settle(up, 2)
    assert len(reqs) == 2, reqs
    assert attempts_seen(up) == ["1", "2"], attempts_seen(up)
    x = log_line(logpath, "reset-get")
    assert x["tries"] == 2 and "UR" in x["flags"] and x["status"] == 200, x
    expect(metrics(port), "cutover_retries_total", 1, upstream="app", reason="reset")


@harness.params({"rst": True, "fin": False})
def test_reset_before_the_head_is_not_retried_for_post(rst):
    up = Upstream(sequence([close_before_head(reset=rst)], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    r = cut.request("POST", "/reset", [("X-Request-ID", "reset-post")], body=b"charge=1")
    assert_error(r, 502)
    reqs = settle(up, 1)
    assert len(reqs) == 1, "a POST that reached the upstream was replayed: %r" % reqs
    x = log_line(logpath, "reset-post")
    assert x["tries"] == 1 and "UR" in x["flags"], x
    text = metrics(port)
    expect(text, "cutover_retries_skipped_total", 1, upstream="app", reason="not_replayable")
    expect(text, "cutover_retries_total", 0, upstream="app")


def test_response_timeout_is_retried_for_get():
    up = Upstream(sequence([never()], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    r, took = timed(cut, "GET", "/slow", [("X-Request-ID", "to-get")])
    d = echoed(r)
    assert echo_header(d, "X-Cutover-Attempt") == "2"
    assert 0.25 <= took < 2.0, "answered after %.2fs with response_timeout 300ms" % took
    assert len(settle(up, 2)) == 2, up.summary()
    x = log_line(logpath, "to-get")
    assert x["tries"] == 2 and "UT" in x["flags"], x
    expect(metrics(port), "cutover_retries_total", 1, upstream="app", reason="timeout")


def test_response_timeout_is_not_retried_for_post():
    up = Upstream(sequence([never()], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    r, took = timed(cut, "POST", "/slow", [("X-Request-ID", "to-post")], body=b"x=1")
    assert_error(r, 504)
    assert len(settle(up, 1)) == 1, up.requests
    assert took < 2.0, took


def test_response_timeout_every_try_is_504_after_all_attempts():
    up = Upstream(never())
    cfg, logpath, port = config(up, retry={"attempts": 3})
    cut = Cutover(cfg)
    r, took = timed(cut, "GET", "/slow", [("X-Request-ID", "to-all")])
    assert_error(r, 504)
    assert 0.8 <= took < 3.0, "504 after %.2fs: 3 tries of 300ms" % took
    reqs = settle(up, 3)
    assert len(reqs) == 3, reqs
    assert attempts_seen(up) == ["1", "2", "3"], attempts_seen(up)
    x = log_line(logpath, "to-all")
    assert x["tries"] == 3 and "UT" in x["flags"] and "RX" in x["flags"] and x["status"] == 504, x


@harness.params({"502": 502, "503": 503, "504": 504})
def test_gateway_status_is_retried_for_get(code):
    up = Upstream(sequence([status(code, b"upstream says %d" % code)], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    r = cut.request("GET", "/s", [("X-Request-ID", "st-%d" % code)])
    d = echoed(r)
    assert echo_header(d, "X-Cutover-Attempt") == "2"
    assert len(settle(up, 2)) == 2, up.summary()
    x = log_line(logpath, "st-%d" % code)
    assert x["tries"] == 2 and x["status"] == 200, x
    expect(metrics(port), "cutover_retries_total", 1, upstream="app", reason="status")


def test_gateway_status_is_not_retried_for_post():
    up = Upstream(sequence([status(503, b"busy")], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    r = cut.request("POST", "/s", body=b"x=1")
    assert r.status == 503 and r.body == b"busy", (r, r.body)
    assert len(settle(up, 1)) == 1, up.requests
    expect(metrics(port), "cutover_retries_skipped_total", 1,
           upstream="app", reason="not_replayable")


def test_500_is_not_retried_unless_listed():
    up = Upstream(sequence([status(500, b"boom")], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    r = cut.request("GET", "/s")
    assert r.status == 500 and r.body == b"boom", (r, r.body)
    assert len(settle(up, 1)) == 1, up.requests


def test_500_is_retried_when_listed():
    up = Upstream(sequence([status(500, b"boom")], then=echo()))
    cfg, logpath, port = config(up, retry={"on": ["connect-failure", "reset", "timeout",
                                                  502, 503, 504, 500]})
    cut = Cutover(cfg)
    d = echoed(cut.request("GET", "/s"))
    assert echo_header(d, "X-Cutover-Attempt") == "2"
    assert len(settle(up, 2)) == 2, up.summary()


def test_status_not_listed_is_not_retried():
    up = Upstream(sequence([status(503, b"busy")], then=echo()))
    cfg, logpath, port = config(up, retry={"on": ["connect-failure", "reset", "timeout", 502]})
    cut = Cutover(cfg)
    r = cut.request("GET", "/s")
    assert r.status == 503 and r.body == b"busy", (r, r.body)
    assert len(settle(up, 1)) == 1, up.requests


@harness.params({"503": "503", "reset": "reset"})
def test_post_with_idempotency_key_is_retried(kind):
    first = status(503, b"busy") if kind == "503" else close_before_head(reset=True)
    up = Upstream(sequence([first], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    body = b'{"amount": 10}'
    r = cut.request("POST", "/pay", [("Idempotency-Key", "k-123")], body=body)
    d = echoed(r)
    assert d["body_sha256"] == hashlib.sha256(body).hexdigest()
    reqs = settle(up, 2)
    assert len(reqs) == 2, reqs
    for q in reqs:
        assert q.method == "POST" and q.header("Idempotency-Key") == "k-123", q
        assert q.body == body, (q, q.body)


def test_503_with_a_long_retry_after_is_not_retried():
    up = Upstream(sequence([status(503, b"come back later", [("Retry-After", "5")])], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    r, took = timed(cut, "GET", "/ra", [("X-Request-ID", "ra-5")])
    assert r.status == 503 and r.body == b"come back later", (r, r.body)
    assert r.header("Retry-After") == "5", r.headers
    assert took < 1.0, "waited %.2fs" % took
    assert len(settle(up, 1)) == 1, up.requests
    assert log_line(logpath, "ra-5")["tries"] == 1


def test_503_with_retry_after_1_is_retried():
    up = Upstream(sequence([status(503, b"soon", [("Retry-After", "1")])], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    r, took = timed(cut, "GET", "/ra")
    echoed(r)
    assert took < 2.5, took
    assert len(settle(up, 2)) == 2, up.summary()


@harness.params({
    "not_http": b"NOT HTTP AT ALL\r\n\r\n",
    "bad_status": b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
})
def test_garbage_response_is_retried_for_get(data):
    up = Upstream(sequence([raw(data, close=True)], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    d = echoed(cut.request("GET", "/g"))
    assert echo_header(d, "X-Cutover-Attempt") == "2"
    assert len(settle(up, 2)) == 2, up.summary()


def test_garbage_response_is_502_for_post_without_retry():
    up = Upstream(sequence([raw(b"NOT HTTP AT ALL\r\n\r\n", close=True)], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    assert_error(cut.request("POST", "/g", body=b"x"), 502)
    assert len(settle(up, 1)) == 1, up.requests


def test_garbage_every_try_is_502():
    up = Upstream(raw(b"NOT HTTP AT ALL\r\n\r\n", close=True))
    cfg, logpath, port = config(up, retry={"attempts": 3})
    cut = Cutover(cfg)
    assert_error(cut.request("GET", "/g"), 502)
    assert len(settle(up, 3)) == 3, up.requests


# ------------------------------------------- attempts, headers, what comes back

def test_attempts_exactly_then_the_last_response_unchanged():
    up = Upstream(counted_status(503, headers=[("X-Upstream", "kept")]))
    cfg, logpath, port = config(up, retry={"attempts": 4})
    cut = Cutover(cfg)
    r = cut.request("GET", "/n", [("X-Request-ID", "four-tries")])
    assert r.status == 503, r
    assert r.body == b"try 4", "not the last upstream answer: %r" % r.body
    assert r.header("X-Try") == "4" and r.header("X-Upstream") == "kept", r.headers
    assert r.header("Content-Type") == "text/plain", r.headers
    reqs = settle(up, 4)
    assert len(reqs) == 4, "want exactly 4 tries, upstream got %d" % len(reqs)
    x = log_line(logpath, "four-tries")
    assert x["tries"] == 4 and "RX" in x["flags"] and x["status"] == 503, x
    text = metrics(port)
    expect(text, "cutover_retries_total", 3, upstream="app", reason="status")


@harness.params({"given": "client-id-42", "generated": None})
def test_every_try_carries_its_attempt_number_and_the_same_request_id(rid):
    up = Upstream(sequence([status(502), status(503), status(504)], then=echo()))
    cfg, logpath, port = config(up, retry={"attempts": 4})
    cut = Cutover(cfg)
    hs = [("X-Request-ID", rid)] if rid else []
    r = cut.request("GET", "/ids", hs)
    echoed(r)
    want = rid or r.header("X-Request-ID")
    assert want, r.headers
    reqs = settle(up, 4)
    assert len(reqs) == 4, reqs
    assert attempts_seen(up) == ["1", "2", "3", "4"], attempts_seen(up)
    for q in reqs:
        assert q.header_all("X-Request-ID") == [want], (q, q.header_all("X-Request-ID"))
        assert len(q.header_all("X-Cutover-Attempt")) == 1, q.raw_head
    assert r.header("X-Request-ID") == want


def test_client_cannot_set_the_attempt_number():
    up = Upstream(sequence([status(503)], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    echoed(cut.request("GET", "/a", [("X-Cutover-Attempt", "7")]))
    reqs = settle(up, 2)
    assert [q.header_all("X-Cutover-Attempt") for q in reqs] == [["1"], ["2"]], \
        [q.header_all("X-Cutover-Attempt") for q in reqs]


def test_backoff_is_bounded_by_max_backoff():
    up = Upstream(status(503, b"down"))
    cfg, logpath, port = config(up, retry={"attempts": 3, "backoff": "100ms",
                                           "max_backoff": "100ms"})
    cut = Cutover(cfg)
    gaps = []
    for i in range(5):
        before = len(up.requests)
        r, took = timed(cut, "GET", "/b/%d" % i)
        assert r.status == 503 and r.body == b"down", r
        # Two backoffs of [0, 100ms) each, plus three quick tries.
        assert 0 <= took < 0.6, "request %d took %.3fs (2 backoffs < 100ms each)" % (i, took)
        reqs = up.wait_requests(before + 3, timeout=2)[before:before + 3]
        gaps += [b.time - a.time for a, b in zip(reqs, reqs[1:])]
    assert len(up.requests) == 15, len(up.requests)
    assert all(0 <= g < 0.25 for g in gaps), "gaps between tries: %r" % gaps
    # Full jitter has a mean of 50 ms here: ten gaps summing to almost
    # nothing would mean there is no backoff at all.
    assert sum(gaps) >= 0.05, "no backoff between tries: %r" % gaps


def test_request_timeout_stops_retries():
    up = Upstream(never())
    cfg, logpath, port = config(up, retry={"attempts": 5},
                                upstream={"request_timeout": "700ms"})
    cut = Cutover(cfg)
    r, took = timed(cut, "GET", "/deadline", [("X-Request-ID", "deadline")])
    assert_error(r, 504)
    assert 0.5 <= took < 1.2, "504 after %.2fs with request_timeout 700ms" % took
    time.sleep(0.3)
    n = len(up.requests)
    assert 2 <= n <= 3, "5 attempts of 300ms within a 700ms deadline: upstream got %d" % n
    x = log_line(logpath, "deadline")
    assert x["status"] == 504 and x["tries"] == n, x
    expect(metrics(port), "cutover_retries_skipped_total", 1, upstream="app", reason="deadline")


# ------------------------------------------------------------------- bodies

def test_buffered_body_is_replayed_byte_identical():
    body = os.urandom(20000)
    sha = hashlib.sha256(body).hexdigest()
    up = Upstream(sequence([status(503)], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    d = echoed(cut.request("PUT", "/doc", [("Content-Type", "application/octet-stream")], body=body))
    assert d["body_sha256"] == sha and d["body_len"] == len(body), d
    reqs = settle(up, 2)
    assert len(reqs) == 2, reqs
    for q in reqs:
        assert q.complete and q.body_len == len(body) and q.body_sha256 == sha, q


def test_buffered_chunked_body_is_replayed_byte_identical():
    body = os.urandom(9000)
    sha = hashlib.sha256(body).hexdigest()
    chunks = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 1000]), body[i:i + 1000])
                      for i in range(0, len(body), 1000)) + b"0\r\n\r\n"
    up = Upstream(sequence([close_before_head(reset=True)], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    c = cut.client()
    c.request("PUT", "/doc", [("Transfer-Encoding", "chunked")], body=chunks)
    d = echoed(c.read_response())
    assert d["body_sha256"] == sha, d
    reqs = settle(up, 2)
    assert len(reqs) == 2, reqs
    assert reqs[1].body_sha256 == sha and reqs[1].complete, reqs


def test_body_above_buffer_body_is_not_retried():
    body = os.urandom(4096)
    sha = hashlib.sha256(body).hexdigest()
    up = Upstream(sequence([status(503, b"first answer")], then=echo()))
    cfg, logpath, port = config(up, retry={"buffer_body": "1KiB"})
    cut = Cutover(cfg)
    r = cut.request("PUT", "/big", [("X-Request-ID", "big-body")], body=body)
    # The client sees the upstream's own answer, never an error of ours.
    assert r.status == 503 and r.body == b"first answer", (r, r.body[:200])
    reqs = settle(up, 1)
    assert len(reqs) == 1, "a body above buffer_body was replayed: %r" % reqs
    assert reqs[0].body_len == len(body) and reqs[0].body_sha256 == sha, reqs[0]
    x = log_line(logpath, "big-body")
    assert "BL" in x["flags"] and x["tries"] == 1, x
    text = metrics(port)
    expect(text, "cutover_retries_skipped_total", 1, upstream="app", reason="body_too_large")


def test_body_above_buffer_body_still_streams_fine():
    body = os.urandom(200000)
    up = Upstream(echo())
    cfg, logpath, port = config(up, retry={"buffer_body": "1KiB"})
    cut = Cutover(cfg)
    d = echoed(cut.request("PUT", "/big", body=body))
    assert d["body_sha256"] == hashlib.sha256(body).hexdigest() and d["body_len"] == len(body)
    assert len(settle(up, 1, 0.1)) == 1, up.summary()


# --------------------------------------------- response already on its way

def test_nothing_is_retried_once_the_response_started():
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nhalf"
    up = Upstream(sequence([truncate(head)], then=echo()))
    cfg, logpath, port = config(up)
    cut = Cutover(cfg)
    c = cut.client()
    c.request("GET", "/cut", [("X-Request-ID", "cut-mid-body")])
    try:
        r = c.read_response(timeout=3)
    except ConnectionClosed:
        r = None
    if r is not None:
        assert r.status == 200 and not r.complete, "want the cut 200, got %r %r" % (r, r.body[:100])
        assert r.body == b"half"[:len(r.body)], r.body
    reqs = settle(up, 1, 0.5)
    assert len(reqs) == 1, "retried after part of the response went out: %r" % reqs


# -------------------------------------------------- pooled connection races

def test_upstream_closing_after_every_response_loses_no_post():
    beh = then_close()
    up = Upstream(beh)
    cfg, logpath, port = config(up, workers=1)
    cut = Cutover(cfg)
    c = cut.client()
    n = 30
    for i in range(n):
        body = b"post number %d" % i
        c.request("POST", "/ka/%d" % i, body=body)
        r = c.read_response(timeout=3)
        assert r.status == 200, "POST %d: %r %r" % (i, r, r.body[:200])
        d = r.json()
        assert d["target"] == "/ka/%d" % i and d["body_sha256"] == hashlib.sha256(body).hexdigest(), d
        # The next POST goes out only once the upstream's FIN is on its way
        # (so it is in cutover's socket before the request is): a POST
        # written on a connection that closes later is a race no proxy
        # can win; one written on a connection already closed is a bug.
        beh.wait_closed(i + 1)
    reqs = settle(up, n, 0.2)
    targets = [q.target for q in reqs]
    assert sorted(targets) == sorted("/ka/%d" % i for i in range(n)), \
        "each POST must reach the upstream exactly once: %r" % targets
    assert all(q.header("X-Cutover-Attempt") == "1" for q in reqs), attempts_seen(up)


def close_as_the_next_request_arrives():
    """Answer, then wait until the next request is in the socket and close
    without reading it: shutdown (FIN) then close (the unread bytes make
    the kernel send a RST). The keep-alive race made deterministic: the
    request was written before the FIN reached cutover."""
    def b(req, conn):
        echo()(req, conn)
        conn.wait_readable(3.0)
        conn.closed = True
        try:
            conn.sock.shutdown(socket.SHUT_WR)
            conn.sock.close()
        except OSError:
            pass
    return b


def test_post_racing_the_upstreams_close_is_replayed_only_when_unread():
    # Each POST is written on a pooled connection the upstream is about to
    # close without reading it. FIN then RST tells cutover the request was
    # never read, so it goes again on a fresh connection, whatever the
    # method, as attempt 1 still (the upstream saw no earlier one).
    up = Upstream(close_as_the_next_request_arrives())
    cfg, logpath, port = config(up, workers=1)
    cut = Cutover(cfg)
    c = cut.client()
    n = 10
    for i in range(n):
        body = b"racing post %d" % i
        c.request("POST", "/race/%d" % i, body=body)
        r = c.read_response(timeout=3)
        assert r.status == 200, "POST %d: %r %r" % (i, r, r.body[:200])
        assert r.json()["target"] == "/race/%d" % i
    reqs = settle(up, n, 0.2)
    targets = [q.target for q in reqs if q.complete]
    assert sorted(targets) == sorted("/race/%d" % i for i in range(n)), \
        "each POST must reach the upstream exactly once: %r" % targets
    assert all(q.header("X-Cutover-Attempt") == "1" for q in reqs if q.complete), attempts_seen(up)
    # Every POST after the first went out twice: once unread, once for real.
    assert len(up.connections) >= n if isinstance(up.connections, list) else up.connections >= n


def test_post_after_the_upstream_closed_an_idle_connection():
    up = Upstream(echo(), idle_close_after=0.2)
    cfg, logpath, port = config(up, workers=1)
    cut = Cutover(cfg)
    c = cut.client()
    for i in range(3):
        c.request("POST", "/idle/%d" % i, body=b"data")
        r = c.read_response(timeout=3)
        assert r.status == 200, "POST %d after an idle close: %r %r" % (i, r, r.body[:200])
        time.sleep(0.5)  # the upstream closes its side after 0.2 s idle
    reqs = settle(up, 3, 0.1)
    assert sorted(q.target for q in reqs) == ["/idle/0", "/idle/1", "/idle/2"], reqs
    assert up.connections == 3, "want a fresh connection for each POST, got %d" % up.connections


# ------------------------------------------------------------- retry budget

@harness.time_limit(25)
def test_retry_budget_caps_retries_in_a_total_outage():
    up = Upstream(status(503, b"outage"))
    cfg, logpath, port = config(up, retry={"attempts": 3, "budget": "20%",
                                           "budget_window": "10s",
                                           "min_retries_per_second": 3,
                                           "backoff": "2ms", "max_backoff": "5ms"})
    cut = Cutover(cfg)
    stop = time.time() + 3.0
    counts = [0] * 4
    errors = []

    def load(k):
        try:
            c = cut.client()
            while time.time() < stop:
                c.request("GET", "/o/%d" % k)
                r = c.read_response(timeout=3)
                if r.status != 503:
                    errors.append("got %r %r" % (r, r.body[:100]))
                    return
                counts[k] += 1
                time.sleep(0.005)
        except AssertionError as e:
            errors.append(str(e))

    t0 = time.time()
    threads = [threading.Thread(target=load, args=(k,), daemon=True) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    seconds = time.time() - t0
    assert not any(t.is_alive() for t in threads), "load threads hung"
    assert not errors, errors[:3]
    clients = sum(counts)
    time.sleep(0.3)
    seen = len(up.requests)
    # First tries: one per client request. Retries: at most 20% of them plus
    # 3 per second of the test (one more second for bucket edges), plus slack.
    bound = clients * 1.2 + 3 * (seconds + 1) + 5
    assert clients * 3 > bound * 1.5, "too little load to tell (%d requests)" % clients
    assert seen <= bound, ("upstream got %d requests for %d client requests in %.1fs: the "
                           "budget allows at most %.0f (without it: %d)"
                           % (seen, clients, seconds, bound, clients * 3))
    assert seen > clients, "no retry at all: %d requests for %d" % (seen, clients)
    text = metrics(port)
    expect(text, "cutover_retry_budget_exhausted_total", 0, upstream="app", op=">")
    expect(text, "cutover_retries_skipped_total", 0, upstream="app", reason="budget", op=">")
    retries = metric(text, "cutover_retries_total", upstream="app", reason="status") or 0
    assert retries == seen - clients, "cutover_retries_total %d, upstream saw %d retries" \
        % (retries, seen - clients)
    lines = log_lines(logpath, clients)
    assert any("RB" in x["flags"] for x in lines), "no access log line has the RB flag"
    ev = events(cut, "retry_budget_exhausted")
    assert ev and all(e.get("upstream") == "app" and e.get("request_id") for e in ev), \
        "no retry_budget_exhausted event: %s" % cut.stderr[-2000:]


# ---------------------------------- a streamed body the upstream half-read

class HalfReader:
    """A raw upstream: answers GETs with keep-alive; for a POST it reads the
    head and whatever body has come, acts on it ("processes" it), waits a
    moment and closes with the rest unread. Later body bytes then draw a
    RST after its FIN: the same signature as the keep-alive race, but the
    request was seen."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.address = "127.0.0.1:%d" % self.sock.getsockname()[1]
        self.posts = 0
        self.stopping = False
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()
        harness.on_cleanup(self.stop)

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        buf = b""
        c.settimeout(5)
        try:
            while True:
                while b"\r\n\r\n" not in buf:
                    d = c.recv(65536)
                    if not d:
                        return
                    buf += d
                head, buf = buf.split(b"\r\n\r\n", 1)
                if head.startswith(b"GET"):
                    c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                    continue
                with self.lock:
                    self.posts += 1
                time.sleep(0.1)
                c.setblocking(False)
                try:
                    while c.recv(65536):
                        pass
                except BlockingIOError:
                    pass
                return
        except OSError:
            return
        finally:
            c.close()

    def stop(self):
        self.stopping = True
        try:
            self.sock.close()
        except OSError:
            pass


def test_half_read_streaming_post_is_not_replayed():
    # A FIN then a RST after a body that was still streaming is no proof
    # the request went unseen: the POST must not be sent again (nor a
    # truncated copy of its body).
    up = HalfReader()
    cfg, logpath, port = config(up.address, workers=1)
    cut = Cutover(cfg)
    c = cut.client()
    c.request("GET", "/warm")
    assert c.read_response(timeout=3).status == 200
    c.send(b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
    deadline = time.time() + 0.6
    while time.time() < deadline:
        if not c.send(b"400\r\n" + b"x" * 1024 + b"\r\n", ignore_errors=True):
            break
        time.sleep(0.02)
    c.send(b"0\r\n\r\n", ignore_errors=True)
    try:
        r = c.read_response(timeout=3)
        assert r.status == 502, r
    except ConnectionClosed:
        pass  # cut while the body was still coming: also no replay
    time.sleep(0.3)
    assert up.posts == 1, "the half-read POST reached the upstream %d times" % up.posts
