"""Fallback (issue 4, SPEC 4.4, 6, 7): a route's `fallback` upstream takes a
request when the route's upstream is unavailable (breaker open, bulkhead full
or pending timeout: the request never left, any method), when every try
failed and the request is replay-safe, and (long form) on a listed status for
a replay-safe request. The access log names the upstream that answered, the
reason in `fallback` and the flag FB; cutover_fallbacks_total counts it; an
event line `event=fallback route= from= to= reason= request_id=` goes to
stderr. A fallback never falls back again.
"""

import time

import harness
from harness import Cutover, assert_error, echo_header, echoed, server, wait_until
from probes import breaker_state, events, force, log_line, metric, metrics, observed
from upstream import (Upstream, close_before_head, delay, echo, never, raw, status,
                      unused_address)

# ------------------------------------------------------------------ helpers

ON_ALL = ["unavailable", "failure", 404, 501]


def fb_config(app, legacy, fallback="legacy", app_extra=None, legacy_extra=None,
              extra_routes=()):
    """Upstreams app (the route's) and legacy (its fallback), one try each,
    behind route "all"; an access log and an admin listener.
    Returns (cfg, access log path, admin port)."""
    a = {"servers": [server(app)], "retry": {"attempts": 1}}
    a.update(app_extra or {})
    b = {"servers": [server(legacy)], "retry": {"attempts": 1}}
    b.update(legacy_extra or {})
    route = {"name": "all", "match": {"path_prefix": "/"}, "upstream": "app"}
    if fallback is not None:
        route["fallback"] = fallback
    return observed({
        "shutdown_timeout": "2s",
        "upstreams": {"app": a, "legacy": b},
        "routes": list(extra_routes) + [route],
    })


def force_open(port, name):
    """Force the breaker of upstream `name` open and wait until /upstreams
    shows it so."""
    force(port, "open", name)
    wait_until(lambda: breaker_state(port, name) != "closed", 2,
               "breaker of %s shown open" % name)


def fallbacks(port, reason=None):
    labels = {"route": "all", "from": "app", "to": "legacy"}
    if reason:
        labels["reason"] = reason
    return metric(metrics(port), "cutover_fallbacks_total", **labels) or 0


def assert_fell_back(cut, logpath, port, rid, reason, legacy):
    """Access log, metric and event line of one fallback of request rid."""
    line = log_line(logpath, rid)
    assert line["upstream"] == "legacy", "upstream field %r, want the fallback's" % line["upstream"]
    assert line["server"] == legacy.address, line
    assert line["fallback"] == reason, "fallback field %r, want %r" % (line["fallback"], reason)
    assert "FB" in line["flags"], line["flags"]
    assert fallbacks(port, reason) == 1, "cutover_fallbacks_total{reason=%s} is %r" % (
        reason, fallbacks(port, reason))
    want = {"route": "all", "from": "app", "to": "legacy", "reason": reason, "request_id": rid}
    wait_until(lambda: any(all(e.get(k) == v for k, v in want.items())
                           for e in events(cut, "fallback")),
               2, "event=fallback %r on stderr" % want)


def assert_no_fallback(logpath, port, rid):
    line = log_line(logpath, rid)
    assert line["upstream"] == "app", line
    assert "FB" not in line["flags"] and not line["fallback"], line
    assert fallbacks(port) == 0, "cutover_fallbacks_total is %r" % fallbacks(port)


# ---------------------------------------------------------- unavailable

def test_open_breaker_sends_the_request_to_the_fallback():
    app, legacy = Upstream(echo(), name="app"), Upstream(echo(), name="legacy")
    plain = {"name": "plain", "match": {"path_prefix": "/plain"}, "upstream": "app"}
    cfg, logpath, port = fb_config(app, legacy, extra_routes=[plain])
    cut = Cutover(cfg)
    force_open(port, "app")
    r = cut.request("GET", "/x", [("X-Request-ID", "fb-open-1")])
    d = echoed(r)
    assert d["target"] == "/x" and echo_header(d, "X-Request-ID") == "fb-open-1", d
    assert r.header("X-Request-ID") == "fb-open-1"
    assert_fell_back(cut, logpath, port, "fb-open-1", "unavailable", legacy)
    # Without a fallback the open breaker answers itself.
    p = cut.request("GET", "/plain/y")
    assert_error(p, 503)
    assert p.has_header("Retry-After"), p.headers
    assert p.header("X-Cutover-Breaker") == "open; upstream=app", p.headers
    assert len(app.requests) == 0, "app's breaker is open, yet it saw %r" % app.requests
    assert legacy.targets() == ["/x"], legacy.targets()


def test_any_method_falls_back_when_unavailable():
    app, legacy = Upstream(echo(), name="app"), Upstream(echo(), name="legacy")
    cfg, logpath, port = fb_config(app, legacy)
    cut = Cutover(cfg)
    force_open(port, "app")
    body = b'{"order": 42}'
    d = echoed(cut.request("POST", "/orders", [("X-Request-ID", "fb-post-1"),
                                                ("Content-Type", "application/json")], body))
    assert d["method"] == "POST" and bytes.fromhex(d["body_hex"]) == body, d
    assert_fell_back(cut, logpath, port, "fb-post-1", "unavailable", legacy)
    assert len(app.requests) == 0 and len(legacy.requests) == 1


@harness.params({
    "full": (0, "5s"),
    "pending_timeout": (2, "200ms"),
})
def test_full_bulkhead_is_unavailable(max_pending, pending_timeout):
    app = Upstream(delay(1.5, echo()), name="app")
    legacy = Upstream(echo(), name="legacy")
    cfg, logpath, port = fb_config(app, legacy, app_extra={
        "max_connections": 1, "max_pending": max_pending, "pending_timeout": pending_timeout})
    cut = Cutover(cfg)
    held = cut.client()
    held.request("GET", "/held")
    app.wait_requests(1, timeout=1.0)
    t = time.time()
    d = echoed(cut.request("POST", "/more", [("X-Request-ID", "fb-full-1")], b"payload"))
    took = time.time() - t
    assert d["target"] == "/more" and d["method"] == "POST", d
    assert took < 1.0, "the fallback answered after %.2fs" % took
    assert_fell_back(cut, logpath, port, "fb-full-1", "unavailable", legacy)
    echoed(held.read_response(timeout=5))
    assert app.targets() == ["/held"], app.targets()
    assert legacy.targets() == ["/more"], legacy.targets()


# -------------------------------------------------------------- failure

@harness.params({
    "refused": "refused",
    "reset": "reset",
    "garbage": "garbage",
    "status_500": "500",
    "status_503": "503",
    "status_501": "501",
    "timeout": "timeout",
})
def test_get_falls_back_when_every_try_failed(kind):
    behaviours = {
        "reset": close_before_head(reset=True),
        "garbage": raw(b"THIS IS NOT HTTP\r\n\r\n", close=True),
        "500": status(500, b"app broke\n"),
        "503": status(503, b"app down\n"),
        "501": status(501, b"not implemented\n"),
        "timeout": never(),
    }
    app = unused_address() if kind == "refused" else Upstream(behaviours[kind], name="app")
    legacy = Upstream(echo(), name="legacy")
    cfg, logpath, port = fb_config(app, legacy, app_extra={"response_timeout": "300ms"})
    cut = Cutover(cfg)
    t = time.time()
    d = echoed(cut.request("GET", "/f", [("X-Request-ID", "fb-fail-1")]))
    assert time.time() - t < 2.0
    assert d["target"] == "/f" and echo_header(d, "X-Request-ID") == "fb-fail-1", d
    assert_fell_back(cut, logpath, port, "fb-fail-1", "failure", legacy)
    if kind != "refused":
        assert len(app.requests) == 1, "app saw %r with attempts 1" % app.requests
    assert len(legacy.requests) == 1


def test_retries_come_before_the_fallback():
    app = Upstream(status(502, b"bad gateway\n"), name="app")
    legacy = Upstream(echo(), name="legacy")
    cfg, logpath, port = fb_config(app, legacy, app_extra={"retry": {"attempts": 2}})
    cut = Cutover(cfg)
    echoed(cut.request("GET", "/r", [("X-Request-ID", "fb-retry-1")]))
    assert len(app.requests) == 2, "app saw %d tries, want 2 before falling back" % len(app.requests)
    assert len(legacy.requests) == 1
    assert_fell_back(cut, logpath, port, "fb-retry-1", "failure", legacy)


@harness.params({
    "post": ("POST", [], 10, False),
    "post_idempotency_key": ("POST", [("Idempotency-Key", "k-1")], 10, True),
    "put": ("PUT", [], 10, True),
    "delete": ("DELETE", [], None, True),
    "put_beyond_buffer_body": ("PUT", [], 4096, False),
})
def test_a_sent_request_falls_back_only_when_replay_safe(method, headers, body_len, falls_back):
    app = Upstream(close_before_head(reset=True), name="app")  # after reading it all
    legacy = Upstream(echo(), name="legacy")
    cfg, logpath, port = fb_config(app, legacy,
                                   app_extra={"retry": {"attempts": 1, "buffer_body": "1KiB"}})
    cut = Cutover(cfg)
    body = None if body_len is None else b"b" * body_len
    rid = "fb-replay-" + method
    r = cut.request(method, "/w", [("X-Request-ID", rid)] + headers, body)
    app.wait_requests(1, timeout=2)
    assert len(app.requests) == 1, app.requests
    if falls_back:
        d = echoed(r)
        assert d["method"] == method and d["body_len"] == (body_len or 0), d
        assert legacy.targets() == ["/w"], legacy.targets()
        assert_fell_back(cut, logpath, port, rid, "failure", legacy)
    else:
        assert_error(r, 502)
        assert r.json().get("request_id") == rid
        assert legacy.requests == [], "a request unsafe to replay reached the fallback: %r" % legacy.requests
        assert_no_fallback(logpath, port, rid)


# --------------------------------------------------------------- status

@harness.params({
    "404": 404,
    "501": 501,
})
def test_listed_status_hands_safe_requests_to_the_fallback(code):
    app = Upstream(status(code, b"not here yet\n", [("Content-Type", "text/plain")]), name="app")
    legacy = Upstream(echo(), name="legacy")
    cfg, logpath, port = fb_config(app, legacy, fallback={"upstream": "legacy", "on": ON_ALL})
    cut = Cutover(cfg)
    d = echoed(cut.request("GET", "/new", [("X-Request-ID", "fb-status-get")]))
    assert d["target"] == "/new", d
    assert_fell_back(cut, logpath, port, "fb-status-get", "status", legacy)
    # A POST is not safe to replay: the app's answer stands.
    r = cut.request("POST", "/new", [("X-Request-ID", "fb-status-post")], b"x")
    assert r.status == code and r.body == b"not here yet\n", (r, r.body[:200])
    line = log_line(logpath, "fb-status-post")
    assert line["upstream"] == "app" and "FB" not in line["flags"] and not line["fallback"], line
    assert fallbacks(port) == 1, "cutover_fallbacks_total is %r" % fallbacks(port)
    assert [q.method for q in app.requests] == ["GET", "POST"], app.requests
    assert [q.method for q in legacy.requests] == ["GET"], legacy.requests


def test_unlisted_status_is_passed_through():
    app = Upstream(status(404, b"no such order\n"), name="app")
    legacy = Upstream(echo(), name="legacy")
    cfg, logpath, port = fb_config(app, legacy,
                                   fallback={"upstream": "legacy", "on": ["unavailable", "failure", 501]})
    cut = Cutover(cfg)
    r = cut.request("GET", "/orders/7", [("X-Request-ID", "fb-unlisted")])
    assert r.status == 404 and r.body == b"no such order\n", (r, r.body[:200])
    assert legacy.requests == [], legacy.requests
    assert_no_fallback(logpath, port, "fb-unlisted")


def test_short_form_does_not_fall_back_on_404():
    # (A 501 is a 5xx, a failure: the short form falls back on it, reason
    # failure; see test_get_falls_back_when_every_try_failed[status_501].)
    code = 404
    app = Upstream(status(code, b"app says so\n"), name="app")
    legacy = Upstream(echo(), name="legacy")
    cfg, logpath, port = fb_config(app, legacy, fallback="legacy")
    cut = Cutover(cfg)
    r = cut.request("GET", "/s", [("X-Request-ID", "fb-short")])
    assert r.status == code and r.body == b"app says so\n", (r, r.body[:200])
    assert legacy.requests == [], legacy.requests
    assert len(app.requests) == 1
    assert_no_fallback(logpath, port, "fb-short")


# ------------------------------------------------------------ request ID

@harness.params({
    "incoming": "fb-same-id",
    "generated": None,
})
def test_both_upstreams_see_the_same_request_id(rid):
    app = Upstream(status(500, b"boom\n"), name="app")
    legacy = Upstream(echo(), name="legacy")
    cfg, logpath, port = fb_config(app, legacy)
    cut = Cutover(cfg)
    r = cut.request("GET", "/id", [("X-Request-ID", rid)] if rid else [])
    d = echoed(r)
    got = r.header("X-Request-ID")
    assert got and (rid is None or got == rid), got
    assert app.requests[0].header_all("X-Request-ID") == [got], app.requests[0].headers
    assert [v for k, v in d["headers"] if k.lower() == "x-request-id"] == [got], d["headers"]
    assert_fell_back(cut, logpath, port, got, "failure", legacy)


# ---------------------------------------------------------------- no loop

def test_a_failing_fallback_gives_its_answer():
    app = Upstream(status(500, b"app broke\n"), name="app")
    legacy = Upstream(status(503, b"legacy down too\n"), name="legacy")
    cfg, logpath, port = fb_config(app, legacy, fallback={"upstream": "legacy", "on": ON_ALL})
    cut = Cutover(cfg)
    t = time.time()
    r = cut.request("GET", "/both", [("X-Request-ID", "fb-loop-1")])
    assert time.time() - t < 2.0
    assert r.status == 503 and r.body == b"legacy down too\n", (r, r.body[:200])
    time.sleep(0.2)
    assert len(app.requests) == 1 and len(legacy.requests) == 1, \
        "app saw %d, legacy %d: a fallback must not fall back again" % (
            len(app.requests), len(legacy.requests))
    assert_fell_back(cut, logpath, port, "fb-loop-1", "failure", legacy)
    assert len(events(cut, "fallback")) == 1, events(cut, "fallback")


def test_a_refused_fallback_is_a_502():
    cfg, logpath, port = fb_config(unused_address(), unused_address())
    cut = Cutover(cfg)
    t = time.time()
    r = cut.request("GET", "/both", [("X-Request-ID", "fb-loop-2")])
    assert time.time() - t < 2.0
    assert_error(r, 502)
    line = log_line(logpath, "fb-loop-2")
    assert line["status"] == 502 and line["upstream"] == "legacy" and "FB" in line["flags"], line
    assert fallbacks(port) == 1, "cutover_fallbacks_total is %r" % fallbacks(port)


def test_an_unavailable_fallback_is_a_503():
    app, legacy = Upstream(echo(), name="app"), Upstream(echo(), name="legacy")
    cfg, logpath, port = fb_config(app, legacy)
    cut = Cutover(cfg)
    force_open(port, "app")
    force_open(port, "legacy")
    r = cut.request("GET", "/both", [("X-Request-ID", "fb-loop-3")])
    assert_error(r, 503)
    assert (r.header("X-Cutover-Breaker") or "").startswith("open"), r.headers
    assert r.has_header("Retry-After"), r.headers
    assert app.requests == [] and legacy.requests == []
    line = log_line(logpath, "fb-loop-3")
    assert line["status"] == 503, line
    assert fallbacks(port) <= 1, "cutover_fallbacks_total is %r" % fallbacks(port)
