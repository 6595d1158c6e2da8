"""Shadow traffic and comparison (issue 5; SPEC 2 route key `shadow`, 4.5,
5 /shadow/mismatches, 6 cutover_shadow_total, 7 access log `shadow`).

A route's `shadow` sends a copy of a matching request (methods GET, HEAD
unless listed; `percent` of them) to another upstream, marked
`X-Cutover-Shadow: 1`, with the same request ID, head and body as the
primary got. The copy goes out once the whole request is in hand, never
delays the primary nor holds the client connection, runs under the shadow
upstream's own breaker, bulkhead, pool and timeouts, and is bounded by
`max_inflight` and `max_body` (beyond them: skipped and counted). With
`compare`, status, headers (less framing/hop-by-hop and ignore_headers)
and body (JSON-aware, less ignore_json_fields) of both answers are
compared: each mismatch is counted, logged (`event=shadow_mismatch`) and
kept (the last 100) for GET /shadow/mismatches. Results settle after the
client's answer, so every count here is polled with a bounded wait.

The primary upstream is "app", the shadow upstream "next"; one try each
so the counts at the fake upstreams are exact.
"""

import json
import re
import threading
import time

import harness
from harness import (Client, Cutover, echo_header, echo_header_all, echoed, run_cli, server,
                     wait_until, write_file)
from probes import (admin_call, breaker_state, events, log_line, metric, metrics, observed,
                    read_log)
from upstream import (Gauge, Upstream, by_path, close_before_head, delay, echo, large,
                      pattern_bytes, raw, response_bytes, status, tracked, truncate,
                      unused_address, websocket)

MARK = "X-Cutover-Shadow"
RESULTS = ("match", "mismatch", "error", "skipped", "sent")
JSON_CT = [("Content-Type", "application/json")]

# ------------------------------------------------------------------ helpers


def shadow_route(name="all", prefix="/", shadow=None, **extra):
    """A route to app with a shadow to next (shadow: extra shadow keys;
    None for no shadow at all)."""
    r = {"name": name, "match": {"path_prefix": prefix}, "upstream": "app"}
    if shadow is not None:
        s = {"upstream": "next"}
        s.update(shadow)
        r["shadow"] = s
    r.update(extra)
    return r


def shadow_config(app, nxt, routes=None, app_extra=None, next_extra=None, **top):
    """Upstreams app and next (Upstream objects or addresses), one try each;
    routes default to one catch-all "all" shadowing every GET/HEAD to next.
    An access log and an admin listener -> (cfg, access log path, admin port)."""
    a = {"servers": [server(app)], "retry": {"attempts": 1}}
    a.update(app_extra or {})
    n = {"servers": [server(nxt)], "retry": {"attempts": 1}}
    n.update(next_extra or {})
    cfg = {"shutdown_timeout": "2s"}
    cfg.update(top)
    cfg["upstreams"] = {"app": a, "next": n}
    cfg["routes"] = routes if routes is not None else [shadow_route(shadow={})]
    return observed(cfg)


def shadow_count(port, result, route="all"):
    return metric(metrics(port), "cutover_shadow_total", route=route, result=result) or 0


def shadow_counts(port, route="all"):
    text = metrics(port)
    return {r: int(metric(text, "cutover_shadow_total", route=route, result=r) or 0)
            for r in RESULTS}


def wait_shadow(port, result, n, route="all", timeout=3.0):
    """Wait (bounded) until cutover_shadow_total{route,result} reaches n;
    AssertionError showing every result if it never does."""
    try:
        wait_until(lambda: shadow_count(port, result, route) >= n, timeout,
                   "cutover_shadow_total{route=%s,result=%s} >= %d" % (route, result, n))
    except AssertionError:
        raise AssertionError("cutover_shadow_total{route=%s,result=%s} never reached %d "
                             "within %.1fs; counts %r" % (route, result, n, timeout,
                                                          shadow_counts(port, route)))
    return shadow_counts(port, route)


def wait_settled(port, n, route="all", timeout=3.0):
    """Wait until n copies of route have a result (any); -> the counts."""
    wait_until(lambda: sum(shadow_counts(port, route).values()) >= n, timeout,
               "%d shadow result(s) of route %s" % (n, route))
    return shadow_counts(port, route)


def mismatches(port):
    st, text = admin_call(port, "/shadow/mismatches")
    assert st == 200, "GET /shadow/mismatches: %d %s" % (st, text[:300])
    return json.loads(text)


def head_fields(req, drop=()):
    """A fake upstream's request's header fields, less those named in drop
    and less X-Cutover-Attempt: a primary try's number (SPEC 4.3), which a
    copy, being no try of the primary, does not carry."""
    low = {d.lower() for d in drop} | {"x-cutover-attempt"}
    return [(k.lower(), v) for k, v in req.headers if k.lower() not in low]


def only_sentinel_after(cut, nxt, before, target="/sentinel"):
    """Send a request whose copy must reach next, wait for it there: any
    copy of an earlier request would have gone out before it (a copy leaves
    once its request is whole, before its primary answer). Then the copies
    next saw are `before` plus the sentinel's."""
    r = cut.request("GET", target)
    assert r.status == 200, r
    wait_until(lambda: target in nxt.targets(), 3, "the sentinel's copy at the shadow")
    time.sleep(0.05)
    assert nxt.targets() == list(before) + [target], \
        "the shadow upstream saw %r, want %r" % (nxt.targets(), list(before) + [target])


def chunked_body(chunks):
    out = b""
    for c in chunks:
        out += b"%x\r\n%s\r\n" % (len(c), c)
    return out + b"0\r\n\r\n"


def unescape(v):
    return re.sub(r'\\(.)', r'\1', v)


# ------------------------------------------------- 1. what the copy carries

def test_copy_has_the_primary_head_and_id_plus_the_mark():
    app, nxt = Upstream(echo(), name="app"), Upstream(echo(), name="next")
    routes = [shadow_route("api", "/api", shadow={}, rewrite={"strip_prefix": "/api"})]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)

    # A client-given ID.
    d = echoed(cut.request("GET", "/api/users/7?x=1&y=%20z", [("X-Request-ID", "sh-id-1"),
                                                              ("Accept", "text/x")]))
    assert d["target"] == "/users/7?x=1&y=%20z", d["target"]
    assert MARK.lower() not in [k.lower() for k, _ in d["headers"]], \
        "the primary saw %s: %r" % (MARK, d["headers"])
    got = nxt.wait_requests(1)[0]
    assert got.method == "GET" and got.target == "/users/7?x=1&y=%20z", got
    assert got.header_all(MARK) == ["1"], "copy's %s: %r" % (MARK, got.header_all(MARK))
    assert got.header("X-Request-ID") == "sh-id-1", got.headers
    prim = app.requests[0]
    # The copy is the primary's head as sent (rewrite, X-Forwarded-*,
    # traceparent...) plus the mark; no X-Cutover-Attempt (it is no try).
    assert not got.has_header("X-Cutover-Attempt"), got.headers
    assert head_fields(got, [MARK]) == head_fields(prim), \
        "copy head %r\n!= primary head %r" % (got.raw_head, prim.raw_head)
    assert got.complete and got.body_len == 0

    # A generated ID: the same on the answer, the primary and the copy.
    r = cut.request("GET", "/api/gen")
    rid = r.header("X-Request-ID")
    assert rid, "no X-Request-ID on the answer: %r" % r.headers
    assert echo_header(echoed(r), "X-Request-ID") == rid
    got = nxt.wait_requests(2)[1]
    assert got.target == "/gen" and got.header("X-Request-ID") == rid, \
        "copy's ID %r, the primary's %r" % (got.header("X-Request-ID"), rid)
    assert got.header_all(MARK) == ["1"]

    # A client's own X-Cutover-Shadow: never to the primary, never twice on the copy.
    for i, value in enumerate(["1", "0"]):
        d = echoed(cut.request("GET", "/api/own/%d" % i, [(MARK, value), (MARK.lower(), "yes"),
                                                         ("X-Request-ID", "own-%d" % i)]))
        assert not echo_header_all(d, MARK), "the primary got the client's %s: %r" % (
            MARK, d["headers"])
        got = nxt.wait_requests(3 + i)[2 + i]
        assert got.header("X-Request-ID") == "own-%d" % i, got.headers
        assert got.header_all(MARK) == ["1"], "copy's %s fields: %r (client sent %r, 'yes')" % (
            MARK, got.header_all(MARK), value)
        assert head_fields(got, [MARK]) == head_fields(app.requests[2 + i])
    assert line_shadow(logpath, "sh-id-1") == "sent"


def line_shadow(logpath, rid):
    line = log_line(logpath, rid)
    assert "shadow" in line, "access log line without a shadow field: %r" % line
    return line["shadow"]


def test_copy_of_a_listed_post_has_the_same_body():
    app, nxt = Upstream(echo(), name="app"), Upstream(echo(), name="next")
    routes = [shadow_route(shadow={"methods": ["GET", "POST"]})]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)
    body = bytes(range(256)) * 2 + b"\r\n\r\nend"
    d = echoed(cut.request("POST", "/orders?a=1", [("Content-Type", "application/octet-stream"),
                                                   ("X-Request-ID", "post-1")], body))
    assert bytes.fromhex(d["body_hex"]) == body
    got = nxt.wait_requests(1)[0]
    assert got.method == "POST" and got.target == "/orders?a=1", got
    assert got.complete and got.body == body, "copy body %r..., want %r..." % (
        (got.body or b"")[:40], body[:40])
    assert got.header("Content-Length") == str(len(body)), got.headers
    assert got.header("X-Request-ID") == "post-1" and got.header_all(MARK) == ["1"]
    assert head_fields(got, [MARK]) == head_fields(app.requests[0])
    c = wait_settled(port, 1)
    assert c["sent"] == 1, c  # answered, and the route has no compare


# ----------------------------------------------------- 2. never delays

@harness.time_limit(20)
def test_slow_shadow_never_delays_the_primary_nor_holds_the_client():
    app = Upstream(status(200, b"primary\n", [("Content-Type", "text/plain")]), name="app")
    nxt = Upstream(delay(2.0, status(200, b"primary\n", [("Content-Type", "text/plain")])),
                   name="next")
    routes = [shadow_route("slow", "/s", shadow={"compare": {}}),
              shadow_route("plain", "/plain")]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)
    cut.request("GET", "/plain/warm")  # the primary's pool is warm for both routes

    t0 = time.time()
    r = cut.request("GET", "/plain/1")
    plain = time.time() - t0
    assert r.status == 200

    c = Client(cut.port)
    t0 = time.time()
    c.request("GET", "/s/1", [("X-Request-ID", "slow-1")])
    r1 = c.read_response()
    first = time.time() - t0
    # The next request on the same keep-alive connection, at once.
    t1 = time.time()
    c.request("GET", "/s/2", [("X-Request-ID", "slow-2")])
    r2 = c.read_response()
    second = time.time() - t1
    for r in (r1, r2):
        assert r.status == 200 and r.body == b"primary\n", r
    assert first < 0.5 and second < 0.5, \
        "with a 2 s shadow the primary took %.2fs and %.2fs (no shadow: %.2fs)" % (
            first, second, plain)
    assert first < plain + 0.3, "shadowed %.2fs vs plain %.2fs" % (first, plain)
    # Both copies are out and still waiting on the slow shadow; the client leaves.
    nxt.wait_requests(2, timeout=1.5)
    assert sum(shadow_counts(port, "slow").values()) == 0, \
        "results counted before the shadow answered: %r" % shadow_counts(port, "slow")
    c.close()
    assert line_shadow(logpath, "slow-1") == "sent" and line_shadow(logpath, "slow-2") == "sent"
    # The copies still finish and are compared after the client went away.
    c2 = wait_shadow(port, "match", 2, "slow", timeout=4.0)
    assert c2["mismatch"] == 0 and c2["error"] == 0 and c2["skipped"] == 0, c2
    assert sum(shadow_counts(port, "plain").values()) == 0


# ------------------------------------------------- 3. breaker and pool

def test_down_shadow_fails_and_opens_its_own_breaker():
    app = Upstream(status(200, b"ok\n"), name="app")
    dead = unused_address()
    cfg, logpath, port = shadow_config(
        app, dead, next_extra={"connect_timeout": "300ms",
                               "breaker": {"consecutive_failures": 3, "open_for": "10s"}})
    cut = Cutover(cfg)
    for i in range(3):
        r = cut.request("GET", "/d/%d" % i, [("X-Request-ID", "down-%d" % i)])
        assert r.status == 200 and r.body == b"ok\n", r
        wait_shadow(port, "error", i + 1)
    wait_until(lambda: breaker_state(port, "next") == "open", 2, "the shadow's breaker open")
    text = metrics(port)
    assert metric(text, "cutover_upstream_breaker_state", upstream="next") == 2, \
        [x for x in text.splitlines() if x.startswith("cutover_upstream_breaker_state")]
    assert metric(text, "cutover_upstream_breaker_state", upstream="app") == 0
    # The primary keeps serving; the open breaker refuses the copies (skipped).
    for i in range(3, 8):
        r = cut.request("GET", "/d/%d" % i)
        assert r.status == 200 and r.body == b"ok\n", r
    c = wait_shadow(port, "skipped", 5)
    assert c["error"] == 3 and c["skipped"] == 5, c
    assert breaker_state(port, "app") == "closed"
    assert len(app.requests) == 8


def test_shadow_connections_are_pooled():
    app = Upstream(status(200, b"ok\n"), name="app")
    nxt = Upstream(status(200, b"ok\n"), name="next")
    cfg, logpath, port = shadow_config(app, nxt, workers=1)
    cut = Cutover(cfg)
    c = Client(cut.port)
    for i in range(20):
        c.request("GET", "/p/%d" % i)
        assert c.read_response().status == 200
        wait_shadow(port, "sent", i + 1)  # one copy at a time
    assert len(nxt.requests) == 20
    assert nxt.connections <= 2, "20 sequential copies used %d connections to the shadow" % (
        nxt.connections)


def test_shadow_has_its_own_bulkhead_and_timeouts():
    app = Upstream(status(200, b"ok\n"), name="app")
    nxt = Upstream(by_path({"/never": delay(5.0, status(200, b"late")),
                            "/slow": delay(0.6, status(200, b"ok\n"))}), name="next")
    cfg, logpath, port = shadow_config(app, nxt, next_extra={
        "max_connections": 1, "max_pending": 10, "pending_timeout": "2s",
        "response_timeout": "800ms", "breaker": {"consecutive_failures": 100}})
    cut = Cutover(cfg)
    # The shadow's response_timeout: an error, the primary unaffected.
    t0 = time.time()
    r = cut.request("GET", "/never")
    assert r.status == 200 and time.time() - t0 < 0.5, r
    t0 = time.time()
    c = wait_shadow(port, "error", 1, timeout=2.0)
    assert time.time() - t0 > 0.5, "a timeout before response_timeout 800ms"
    assert c["error"] == 1, c
    # Its bulkhead: one slot, taken by a slow copy; a copy never waits for one.
    assert cut.request("GET", "/slow/warm").status == 200
    wait_until(lambda: len([x for x in nxt.requests if x.path == "/slow/warm"]) == 1, 2,
               "the first slow copy")
    for i in range(3):
        assert cut.request("GET", "/slow/%d" % i).status == 200
    c = wait_shadow(port, "skipped", 3)
    assert c["skipped"] == 3, c
    c = wait_shadow(port, "sent", 1, timeout=3.0)
    assert c == dict(match=0, mismatch=0, error=1, skipped=3, sent=1), c
    assert [x.path for x in nxt.requests if x.path.startswith("/slow")] == ["/slow/warm"]


def test_copies_without_a_whole_primary_answer_are_skipped():
    nxt = Upstream(status(200, b"ok\n"), name="next")
    app = Upstream(by_path({"/trunc": truncate(response_bytes(200, b"x" * 100)[:50], reset=True)},
                           default=status(200, b"ok\n")), name="app")
    routes = [shadow_route("cmp", "/", shadow={"compare": {}, "methods": ["GET", "POST"]})]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)
    # The primary's answer cut short: the copy went out, nothing to compare with.
    c = Client(cut.port)
    c.request("GET", "/trunc", [("X-Request-ID", "inc-trunc")])
    try:
        r = c.read_response()
        assert not r.complete or r.status >= 500, r
    except harness.ConnectionClosed:
        pass
    c.close()
    wait_until(lambda: "/trunc" in nxt.targets(), 2, "the copy of /trunc")
    cnt = wait_shadow(port, "skipped", 1, "cmp")
    assert cnt == dict(match=0, mismatch=0, error=0, skipped=1, sent=0), cnt
    # The client leaves mid-body: the copy is never sent.
    c = Client(cut.port)
    c.send(Client.build("POST", "/upload", [("Transfer-Encoding", "chunked"),
                                            ("X-Request-ID", "inc-gone")]) + b"10\r\n0123")
    wait_until(lambda: "/upload" in app.targets(), 2, "the primary's upload")
    c.close()
    cnt = wait_shadow(port, "skipped", 2, "cmp")
    assert cnt["skipped"] == 2, cnt
    only_sentinel_after(cut, nxt, ["/trunc"])


def test_a_down_primary_skips_the_comparison():
    nxt = Upstream(status(200, b"ok\n"), name="next")
    routes = [shadow_route("cmp", "/", shadow={"compare": {}})]
    cfg, logpath, port = shadow_config(unused_address(), nxt, routes,
                                       app_extra={"connect_timeout": "300ms"})
    cut = Cutover(cfg)
    r = cut.request("GET", "/x", [("X-Request-ID", "down-primary")])
    assert r.status in (502, 503, 504), r
    cnt = wait_settled(port, 1, "cmp")
    assert cnt == dict(match=0, mismatch=0, error=0, skipped=1, sent=0), cnt
    assert mismatches(port)["total"] == 0


# ------------------------------------------------- 4. max_inflight, max_body

@harness.time_limit(20)
def test_max_inflight_skips_copies_beyond_it():
    g = Gauge()
    app = Upstream(status(200, b"ok\n"), name="app")
    nxt = Upstream(tracked(g, delay(1.0, status(200, b"ok\n"))), name="next")
    routes = [shadow_route(shadow={"max_inflight": 2})]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)
    clients = []
    t0 = time.time()
    for i in range(6):
        c = Client(cut.port)
        c.request("GET", "/m/%d" % i, [("X-Request-ID", "mi-%d" % i)])
        clients.append(c)
    for c in clients:
        r = c.read_response()
        assert r.status == 200 and r.body == b"ok\n", r
    assert time.time() - t0 < 0.8, "6 primaries took %.2fs behind a 1 s shadow" % (
        time.time() - t0)
    c = wait_shadow(port, "skipped", 4)
    assert c["skipped"] == 4, c
    c = wait_shadow(port, "sent", 2, timeout=4.0)
    assert c == dict(match=0, mismatch=0, error=0, skipped=4, sent=2), c
    assert g.peak <= 2, "the shadow had %d copies at once with max_inflight 2" % g.peak
    assert len(nxt.requests) == 2, nxt.targets()
    notes = sorted(line_shadow(logpath, "mi-%d" % i) for i in range(6))
    assert notes == ["sent"] * 2 + ["skipped"] * 4, notes
    # The slots come back: the next copy goes out.
    assert cut.request("GET", "/m/again").status == 200
    wait_shadow(port, "sent", 3)
    assert len(nxt.requests) == 3


def test_max_body_bounds_the_copy():
    app, nxt = Upstream(echo(), name="app"), Upstream(echo(), name="next")
    routes = [shadow_route(shadow={"methods": ["GET", "POST"], "max_body": "1KiB"})]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)
    octets = [("Content-Type", "application/octet-stream")]

    # Content-Length over max_body: skipped at the head, the primary gets it all.
    big = bytes(range(256)) * 8  # 2048
    d = echoed(cut.request("POST", "/big", octets + [("X-Request-ID", "mb-big")], big))
    assert d["body_len"] == len(big)
    assert line_shadow(logpath, "mb-big") == "skipped"
    wait_shadow(port, "skipped", 1)
    # Chunked, over max_body once the bytes are counted: skipped too.
    chunks = [bytes(range(256)) * 2 + b"a" * 88, b"b" * 600]  # 600 + 600
    c = Client(cut.port)
    c.request("POST", "/big-chunked", octets + [("Transfer-Encoding", "chunked"),
                                                 ("X-Request-ID", "mb-bigc")],
              chunked_body(chunks))
    d = echoed(c.read_response())
    c.close()
    assert d["chunked"] and d["body_len"] == 1200, d
    wait_shadow(port, "skipped", 2)
    # (the copy was started at the head: the access log says so)
    assert line_shadow(logpath, "mb-bigc") == "sent"
    only_sentinel_after(cut, nxt, [])

    # Within max_body: byte-identical, as Content-Length ...
    small = bytes(range(256)) * 3 + b"\r\n0\r\n\r\n"
    exact = bytes(reversed(range(256))) * 4  # exactly max_body
    for i, body in enumerate([small, exact]):
        rid = "mb-ok-%d" % i
        d = echoed(cut.request("POST", "/ok/%d" % i, octets + [("X-Request-ID", rid)], body))
        assert d["body_len"] == len(body)
        got = wait_until(lambda: [x for x in nxt.requests if x.header("X-Request-ID") == rid],
                         3, "the copy of %s" % rid)[0]
        assert got.complete and not got.chunked and got.body == body, \
            "copy of a %d-byte body: %d bytes, equal %s" % (len(body), got.body_len,
                                                             got.body == body)
        assert got.header("Content-Length") == str(len(body))
        assert line_shadow(logpath, rid) == "sent"
    # ... and chunked (re-framed as chunks).
    chunks = [bytes(range(256)), b"\r\n" * 100, b"0\r\n\r\n", b"z"]
    want = b"".join(chunks)
    c = Client(cut.port)
    c.request("POST", "/ok/chunked", octets + [("Transfer-Encoding", "chunked"),
                                                ("X-Request-ID", "mb-okc")], chunked_body(chunks))
    d = echoed(c.read_response())
    c.close()
    assert d["body_len"] == len(want)
    got = wait_until(lambda: [x for x in nxt.requests if x.header("X-Request-ID") == "mb-okc"],
                     3, "the copy of the chunked request")[0]
    assert got.complete and got.chunked and got.body == want, \
        "chunked copy: chunked=%s %d bytes, equal %s" % (got.chunked, got.body_len,
                                                          got.body == want)
    assert not got.has_header("Content-Length")
    c = wait_shadow(port, "sent", 4)
    assert c["skipped"] == 2, c


# ------------------------------------------------- 5. methods

def test_post_is_copied_only_when_listed():
    app, nxt = Upstream(echo(), name="app"), Upstream(echo(), name="next")
    routes = [shadow_route("writes", "/w", shadow={"methods": ["POST"]}),
              shadow_route("reads", "/", shadow={})]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)

    # Default methods (GET, HEAD): a POST is not copied, and not counted.
    d = echoed(cut.request("POST", "/r/1", [("X-Request-ID", "m-post")], b"data"))
    assert d["method"] == "POST"
    for m in ("PUT", "DELETE"):
        assert cut.request(m, "/r/2", [("X-Request-ID", "m-" + m)], b"x").status == 200
    r = cut.request("HEAD", "/r/head", [("X-Request-ID", "m-head")])
    assert r.status == 200
    wait_until(lambda: "/r/head" in nxt.targets(), 3, "the HEAD's copy")
    only_sentinel_after(cut, nxt, ["/r/head"])
    assert nxt.requests[0].method == "HEAD"
    c = wait_settled(port, 2, "reads")
    assert sum(c.values()) == 2, "reads counted %r for HEAD + sentinel" % c
    assert line_shadow(logpath, "m-post") is None
    assert line_shadow(logpath, "m-PUT") is None and line_shadow(logpath, "m-DELETE") is None
    assert line_shadow(logpath, "m-head") == "sent"

    # methods: [POST]: the POST is copied, a GET is not.
    d = echoed(cut.request("POST", "/w/1", [("X-Request-ID", "w-post")], b"payload"))
    got = wait_until(lambda: [x for x in nxt.requests if x.target == "/w/1"], 3,
                     "the listed POST's copy")[0]
    assert got.method == "POST" and got.body == b"payload" and got.header_all(MARK) == ["1"]
    assert cut.request("GET", "/w/2", [("X-Request-ID", "w-get")]).status == 200
    only_sentinel_after(cut, nxt, ["/r/head", "/sentinel", "/w/1"], "/sentinel2")
    wait_settled(port, 1, "writes")
    assert sum(shadow_counts(port, "writes").values()) == 1
    assert line_shadow(logpath, "w-post") == "sent"
    assert line_shadow(logpath, "w-get") is None


WS_HANDSHAKE = [("Connection", "Upgrade"), ("Upgrade", "websocket"),
                ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                ("Sec-WebSocket-Version", "13")]


def test_websocket_upgrade_is_never_copied():
    app = Upstream(by_path({"/ws": websocket()}, default=status(200, b"ok")), name="app")
    nxt = Upstream(echo(), name="next")
    cfg, logpath, port = shadow_config(app, nxt)
    cut = Cutover(cfg)
    c = cut.client()
    c.request("GET", "/ws", WS_HANDSHAKE + [("X-Request-ID", "ws-1")])
    r = c.read_response()
    assert r.status == 101, r
    c.send(b"hello")
    assert c.recv_exact(5, timeout=3) == b"hello"
    c.close()
    only_sentinel_after(cut, nxt, [])
    assert line_shadow(logpath, "ws-1") is None


# ------------------------------------------------- 6. percent

@harness.time_limit(30)
def test_percent_zero_and_half():
    app = Upstream(status(200, b"ok\n"), name="app")
    nxt = Upstream(status(200, b"ok\n"), name="next")
    routes = [shadow_route("zero", "/zero", shadow={"percent": 0}),
              shadow_route("half", "/half", shadow={"percent": 50}),
              shadow_route("all", "/", shadow={})]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)
    c = Client(cut.port)
    for i in range(50):
        c.request("GET", "/zero/%d" % i, [("X-Request-ID", "z-%d" % i)])
        assert c.read_response().status == 200
    only_sentinel_after(cut, nxt, [])
    assert sum(shadow_counts(port, "zero").values()) == 0, shadow_counts(port, "zero")
    assert line_shadow(logpath, "z-49") is None

    n = 400
    for i in range(n):
        c.request("GET", "/half/%d" % i, [("X-Request-ID", "h-%d" % i)])
        assert c.read_response().status == 200
    c.close()
    wait_until(lambda: sum(1 for x in read_log(logpath)
                           if x.get("request_id", "").startswith("h-")) == n, 3,
               "%d access log lines" % n)
    sent = [x["request_id"] for x in read_log(logpath)
            if x.get("request_id", "").startswith("h-") and x.get("shadow") == "sent"]
    others = {x.get("shadow") for x in read_log(logpath)
              if x.get("request_id", "").startswith("h-") and x.get("shadow") != "sent"}
    assert others <= {None}, others
    assert 0.3 * n <= len(sent) <= 0.7 * n, "percent 50 copied %d of %d" % (len(sent), n)
    cnt = wait_shadow(port, "sent", len(sent), "half")
    assert cnt["sent"] == len(sent) and sum(cnt.values()) == len(sent), (cnt, len(sent))
    ids = {x.header("X-Request-ID") for x in nxt.requests if x.path.startswith("/half/")}
    assert ids == set(sent), "copies and 'sent' log lines disagree: %d vs %d" % (
        len(ids), len(sent))


# ------------------------------------------------- 7. comparison

CASES = [
    # path, primary behaviour, shadow behaviour, expected difference (None: match;
    # a string ending in "..." : a prefix)
    ("/same", status(200, b'{"a":1}', JSON_CT), status(200, b'{"a":1}', JSON_CT), None),
    ("/status", status(200, b"x"), status(500, b"x"), "status 200 != 500"),
    ("/etag", status(200, b"x", [("ETag", '"a"')]), status(200, b"x", [("ETag", '"b"')]),
     'header etag: "a" != "b"'),
    ("/new-header", status(200, b"x"), status(200, b"x", [("X-New", "1")]),
     "header x-new: missing in primary"),
    ("/ignored-headers",
     status(200, b"x", [("Date", "Mon, 01 Jan 2026 00:00:00 GMT"), ("X-Trace", "1")]),
     status(200, b"x", [("date", "Tue, 02 Jan 2026 00:00:00 GMT"), ("x-trace", "2"),
                        ("Connection", "keep-alive")]), None),
    ("/json-format", status(200, b'{"a":1,"b":[1,2],"c":{"d":"e","f":null}}', JSON_CT),
     status(200, b'{\n  "c": { "f": null, "d": "e" },\n  "b": [ 1, 2 ],\n  "a": 1\n}\n',
            JSON_CT), None),
    ("/json-plus", status(200, b'{"a":1,"b":2}', [("Content-Type", "application/problem+json")]),
     status(200, b'{"b":2, "a":1}', [("content-type", "application/problem+json")]), None),
    ("/json-ignored",
     status(200, b'{"x":1,"generated_at":"2026-01-01T00:00:00Z",'
                 b'"items":[{"id":1,"v":"a"},{"id":2,"v":"b"}]}', JSON_CT),
     status(200, b'{"x":1,"generated_at":"2026-05-05T11:11:11Z",'
                 b'"items":[{"id":91,"v":"a"},{"id":92,"v":"b"}]}', JSON_CT), None),
    ("/json-value", status(200, b'{"x":1,"y":2}', JSON_CT), status(200, b'{"y":2,"x":2}', JSON_CT),
     "body $.x: 1 != 2"),
    ("/json-deep", status(200, b'{"items":[{"p":1},{"p":2},{"p":3}]}', JSON_CT),
     status(200, b'{"items":[{"p":1},{"p":2},{"p":4}]}', JSON_CT), "body $.items[2].p: 3 != 4"),
    ("/json-numbers", status(200, b'{"a":1,"b":[0.5,2e2]}', JSON_CT),
     status(200, b'{"a":1.0,"b":[0.50,200]}', JSON_CT), None),
    ("/json-star", status(200, b'{"meta":{"a":{"etag":1},"b":{"etag":2}},"k":1}', JSON_CT),
     status(200, b'{"meta":{"a":{"etag":7},"b":{"etag":8}},"k":1}', JSON_CT), None),
    ("/json-missing", status(200, b'{"user":{"name":"a","email":"a@x"}}', JSON_CT),
     status(200, b'{"user":{"name":"a"}}', JSON_CT), "body $.user.email: missing in shadow"),
    ("/repeated-headers", status(200, b"x", [("Vary", "Accept"), ("Vary", "Cookie")]),
     status(200, b"x", [("vary", "Accept, Cookie")]), None),
    ("/text", status(200, b"hello world", [("Content-Type", "text/plain")]),
     status(200, b"hello wurld", [("Content-Type", "text/plain")]), "body at byte 7..."),
    ("/length", status(200, b"abc", [("Content-Type", "text/plain")]),
     status(200, b"abcdef", [("Content-Type", "text/plain")]), "body length 3 != 6"),
]


def compare_setup():
    app = Upstream(by_path({p: a for p, a, _, _ in CASES}), name="app")
    nxt = Upstream(by_path({p: b for p, _, b, _ in CASES}), name="next")
    routes = [shadow_route("cmp", "/", shadow={"compare": {
        "ignore_headers": ["Date", "X-Trace"],
        "ignore_json_fields": ["generated_at", "items.id", "meta.*.etag"]}})]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    return Cutover(cfg), port, app, nxt


def diff_ok(got, want):
    if want.endswith("..."):
        return got.startswith(want[:-3])
    return got == want


def test_comparison_finds_the_first_difference():
    cut, port, app, nxt = compare_setup()
    assert mismatches(port) == {"total": 0, "kept": 0, "mismatches": []}
    done = 0
    want_mm = []
    for path, a, b, want in CASES:
        rid = "cmp" + path.replace("/", "-")
        r = cut.request("GET", path + "?q=1", [("X-Request-ID", rid)])
        assert r.status == 200, (path, r)
        done += 1
        c = wait_settled(port, done, "cmp")
        if want is None:
            assert c["match"] == done - len(want_mm), \
                "%s: want a match, counts %r; last mismatch %r" % (
                    path, c, (mismatches(port)["mismatches"] or [None])[0])
            continue
        want_mm.append((rid, path, want))
        assert c["mismatch"] == len(want_mm), "%s: want a mismatch (%s), counts %r" % (
            path, want, c)
        m = mismatches(port)
        assert m["total"] == len(want_mm) and m["kept"] == len(want_mm), m
        top = m["mismatches"][0]
        assert top["request_id"] == rid, "newest mismatch %r, want %s" % (top, rid)
        assert diff_ok(top["difference"], want), "%s: difference %r, want %r" % (
            path, top["difference"], want)
    c = shadow_counts(port, "cmp")
    assert c == dict(match=len(CASES) - len(want_mm), mismatch=len(want_mm), error=0,
                     skipped=0, sent=0), c

    m = mismatches(port)
    assert [x["request_id"] for x in m["mismatches"]] == [x[0] for x in reversed(want_mm)], \
        "not newest first: %r" % [x["request_id"] for x in m["mismatches"]]
    for x in m["mismatches"]:
        rid, path, want = next(w for w in want_mm if w[0] == x["request_id"])
        assert x["route"] == "cmp" and x["method"] == "GET", x
        assert x["path"] == path, "path %r, want %r" % (x["path"], path)
        assert x["upstream"] == "app" and x["shadow_upstream"] == "next", x
        assert x["primary_status"] == 200, x
        assert x["shadow_status"] == (500 if path == "/status" else 200), x
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$", x["time"]), x["time"]

    def logged():
        ev = events(cut, "shadow_mismatch")
        return ev if len(ev) >= len(want_mm) else None
    ev = wait_until(logged, 2, "%d event=shadow_mismatch lines" % len(want_mm))
    assert len(ev) == len(want_mm), [e["_line"] for e in ev]
    for rid, path, want in want_mm:
        e = [e for e in ev if e.get("request_id") == rid]
        assert len(e) == 1, (rid, [x["_line"] for x in ev])
        e = e[0]
        assert e.get("route") == "cmp" and e.get("upstream") == "app" and \
            e.get("shadow") == "next", e["_line"]
        assert e.get("primary_status") == "200", e["_line"]
        assert e.get("shadow_status") == ("500" if path == "/status" else "200"), e["_line"]
        assert diff_ok(unescape(e.get("difference", "")), want), \
            "event difference %r, want %r" % (e.get("difference"), want)
    etag = next(e for e in ev if e.get("request_id") == "cmp-etag")
    assert 'difference="header etag: \\"a\\" != \\"b\\""' in etag["_line"], etag["_line"]


@harness.time_limit(40)
def test_mismatch_ring_keeps_the_last_100():
    app = Upstream(status(200, b"ok"), name="app")
    # 404: a mismatch, yet no failure for the shadow's breaker.
    nxt = Upstream(status(404, b"no"), name="next")
    routes = [shadow_route(shadow={"compare": True})]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)
    c = Client(cut.port)
    for i in range(105):
        c.request("GET", "/ring/%d" % i, [("X-Request-ID", "ring-%03d" % i)])
        assert c.read_response().status == 200
        wait_shadow(port, "mismatch", i + 1)  # in order: one at a time
    c.close()
    m = mismatches(port)
    assert m["total"] == 105 and m["kept"] == 100, (m["total"], m["kept"])
    ids = [x["request_id"] for x in m["mismatches"]]
    assert ids == ["ring-%03d" % i for i in range(104, 4, -1)], \
        "kept %d, first %r last %r" % (len(ids), ids[:2], ids[-2:])
    assert m["mismatches"][0]["difference"] == "status 200 != 404"
    assert m["mismatches"][0]["path"] == "/ring/104"
    assert len(events(cut, "shadow_mismatch")) == 105


def test_large_answers_compare_by_length_and_digest_whatever_the_framing():
    size = 3 << 20
    app = Upstream(large(size), name="app")
    nxt = Upstream(by_path({"/chunked": large(size, use_chunked=True),
                            "/longer": large(size + 1),
                            "/tail": raw(response_bytes(200, b"".join(pattern_bytes(size - 1))
                                                        + b"!"))},
                           default=large(size)), name="next")
    routes = [shadow_route("big", "/", shadow={"compare": {}})]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)
    want = {"/same": None, "/chunked": None, "/longer": "body length %d != %d" % (size, size + 1),
            "/tail": "body differs after byte 1048576"}
    done = mm = 0
    for path, diff in want.items():
        r = cut.request("GET", path)
        assert r.status == 200 and len(r.body) == size and r.complete, (path, r)
        done += 1
        c = wait_settled(port, done, "big", timeout=5.0)
        if diff is None:
            assert c["match"] == done - mm, (path, c, mismatches(port)["mismatches"][:1])
        else:
            mm += 1
            assert c["mismatch"] == mm, (path, c)
            top = mismatches(port)["mismatches"][0]
            assert top["path"] == path and top["difference"] == diff, (path, top)


def test_expect_100_continue_post_is_copied_whole():
    app, nxt = Upstream(echo(), name="app"), Upstream(echo(), name="next")
    routes = [shadow_route(shadow={"methods": ["POST"]})]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)
    body = b"e" * 5000
    c = Client(cut.port)
    c.send(Client.build("POST", "/e", [("Expect", "100-continue"), ("X-Request-ID", "exp-1"),
                                       ("Content-Length", str(len(body)))]))
    c.pending.append("POST")
    r = c.read_response(expect_100=True)
    if r.status == 100:
        c.send(body)
        r = c.read_response()
    else:
        raise AssertionError("no 100 Continue: %r" % r)
    d = echoed(r)
    assert d["body_len"] == len(body)
    got = nxt.wait_requests(1)[0]
    # The copy is recorded at its head; its body may still be on its way.
    wait_until(lambda: got.complete, 3.0, "the copy's whole body at the shadow")
    assert got.body == body, got
    assert head_fields(got, [MARK]) == head_fields(app.requests[0])
    wait_shadow(port, "sent", 1)


# ------------------------------------------------- 8. metrics

def test_every_result_is_counted_per_route():
    app = Upstream(status(200, b'{"v":1}', JSON_CT), name="app")
    nxt = Upstream(by_path({"/c/diff": status(200, b'{"v":2}', JSON_CT),
                            "/c/reset": close_before_head(reset=True),
                            "/n/": status(404, b"other")},
                           default=status(200, b'{"v":1}', JSON_CT)), name="next")
    routes = [shadow_route("cmp", "/c", shadow={"compare": {}, "methods": ["GET", "POST"],
                                                 "max_body": 4}),
              shadow_route("nocmp", "/n", shadow={}),
              shadow_route("plain", "/")]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)
    text = metrics(port)
    for route in ("cmp", "nocmp"):
        for res in RESULTS:
            assert metric(text, "cutover_shadow_total", route=route, result=res) == 0, \
                "no zero sample cutover_shadow_total{route=%s,result=%s}: %r" % (
                    route, res, [x for x in text.splitlines() if "shadow" in x])
    assert metric(text, "cutover_shadow_total", route="plain") is None, \
        "a route without shadow has cutover_shadow_total samples"

    for target in ("/c/same", "/c/same2", "/c/diff", "/c/reset"):
        assert cut.request("GET", target).status == 200
    assert cut.request("POST", "/c/big", body=b"too large").status == 200
    for i in range(3):
        assert cut.request("GET", "/n/%d" % i).status == 200  # the shadow's 404: still "sent"
    assert cut.request("GET", "/plain").status == 200
    wait_settled(port, 5, "cmp")
    wait_settled(port, 3, "nocmp")
    assert shadow_counts(port, "cmp") == dict(match=2, mismatch=1, error=1, skipped=1, sent=0), \
        shadow_counts(port, "cmp")
    assert shadow_counts(port, "nocmp") == dict(match=0, mismatch=0, error=0, skipped=0, sent=3), \
        shadow_counts(port, "nocmp")
    assert metric(metrics(port), "cutover_shadow_total", route="plain") is None


# ------------------------------------------------- 9. access log

def test_access_log_shadow_field():
    app, nxt = Upstream(echo(), name="app"), Upstream(echo(), name="next")
    routes = [shadow_route("s", "/s", shadow={"methods": ["GET", "HEAD", "POST"],
                                              "max_body": 10}),
              shadow_route("plain", "/")]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)
    reqs = [("GET", "/s/1", None, "sent"), ("HEAD", "/s/2", None, "sent"),
            ("POST", "/s/3", b"0123456789", "sent"), ("POST", "/s/4", b"0123456789X", "skipped"),
            ("PUT", "/s/5", b"x", None), ("GET", "/plain", None, None),
            ("POST", "/plain", b"x", None)]
    for i, (m, target, body, _) in enumerate(reqs):
        assert cut.request(m, target, [("X-Request-ID", "al-%d" % i)], body).status == 200
    for i, (m, target, body, want) in enumerate(reqs):
        line = log_line(logpath, "al-%d" % i)
        assert "shadow" in line and line["shadow"] == want, \
            "%s %s: access log shadow %r, want %r" % (m, target, line.get("shadow", "(none)"),
                                                      want)
        assert line["upstream"] == "app" and line["status"] == 200, line


# ------------------------------------------------- 10. the client's answer

def test_the_primary_answer_is_unchanged_whatever_the_shadow_does():
    answer = b'{"ok":true,"n":[1,2,3]}'
    app = Upstream(status(200, answer, JSON_CT + [("X-App", "yes"), ("ETag", '"v1"')]),
                   name="app")
    bad = {
        "/s/garbage": raw(b"NOT HTTP AT ALL\r\n\r\n", close=True),
        "/s/reset": close_before_head(reset=True),
        "/s/500": status(500, b"boom", [("Content-Type", "text/plain"),
                                         ("Set-Cookie", "evil=1")]),
        "/s/truncated": truncate(response_bytes(200, b"0123456789" * 10)[:60], reset=True),
        "/s/huge-head": raw(b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n",
                            close=True),
    }
    nxt = Upstream(by_path(bad), name="next")
    routes = [shadow_route("s", "/s", shadow={"compare": {}}), shadow_route("plain", "/")]
    cfg, logpath, port = shadow_config(app, nxt, routes)
    cut = Cutover(cfg)
    ref = cut.request("GET", "/plain/ref")
    assert ref.status == 200 and ref.body == answer

    def fields(r):
        return [(k.lower(), v) for k, v in r.headers if k.lower() not in ("x-request-id", "date")]

    for i, path in enumerate(sorted(bad)):
        r = cut.request("GET", path, [("X-Request-ID", "un-%d" % i)])
        assert r.status == 200 and r.body == answer and r.complete, (path, r, r.body[:100])
        assert fields(r) == fields(ref), "%s: answer headers %r, without shadow %r" % (
            path, r.headers, ref.headers)
        assert r.header("X-Request-ID") == "un-%d" % i
        assert not r.has_header(MARK) and not r.has_header("Set-Cookie")
    c = wait_settled(port, len(bad), "s")
    assert c == dict(match=0, mismatch=1, error=len(bad) - 1, skipped=0, sent=0), c
    # Keep-alive still works after all that, and the process is fine.
    cl = Client(cut.port)
    for i in range(3):
        cl.request("GET", "/s/500")
        r = cl.read_response()
        assert r.status == 200 and r.body == answer
    wait_settled(port, len(bad) + 3, "s")


# ------------------------------------------------- 11. -t and explain

BASE = """\
listeners:
  - address: "127.0.0.1:18080"
upstreams:
  legacy:
    servers: [ { address: "127.0.0.1:18081" } ]
  users:
    servers: [ { address: "127.0.0.1:18082" } ]
  users-next:
    servers: [ { address: "127.0.0.1:18083" } ]
routes:
  - name: users
    match: { path_prefix: /api/users }
%s
  - name: everything-else
    match: { path_prefix: / }
    upstream: legacy
"""


@harness.params({
    "unknown_upstream": ("    upstream: users\n    shadow: { upstream: usrs-next }",
                         "usrs-next", 'unknown shadow upstream "usrs-next" (did you mean '
                         '"users-next"?)'),
    "percent_too_large": ("    upstream: users\n    shadow:\n      upstream: users-next\n"
                          "      percent: 150", "percent: 150",
                          "expected a percentage from 0 to 100"),
    "percent_not_a_number": ("    upstream: users\n    shadow:\n      upstream: users-next\n"
                             "      percent: lots", "percent: lots",
                             "expected a percentage from 0 to 100"),
    "percent_negative": ("    upstream: users\n    shadow:\n      upstream: users-next\n"
                         "      percent: -1", "percent: -1",
                         "expected a percentage from 0 to 100"),
    "unknown_method": ("    upstream: users\n    shadow:\n      upstream: users-next\n"
                       "      methods:\n        - GET\n        - FETCH", "- FETCH",
                       "expected one of GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH"),
    "empty_methods": ("    upstream: users\n    shadow:\n      upstream: users-next\n"
                      "      methods: []", "methods: []", "methods"),
    "respond_route": ("    respond: { status: 410 }\n    shadow: { upstream: users-next }",
                      "shadow:", '"shadow" needs a route with an "upstream" or a "split"'),
    "missing_upstream": ("    upstream: users\n    shadow: { percent: 10 }", "shadow:",
                         "upstream"),
    "not_a_mapping": ("    upstream: users\n    shadow: users-next", "shadow:", ""),
    "bad_json_field": ("    upstream: users\n    shadow:\n      upstream: users-next\n"
                       "      compare: { ignore_json_fields: [\"a..b\"] }", "a..b", "a..b"),
    "bad_header_name": ("    upstream: users\n    shadow:\n      upstream: users-next\n"
                        "      compare: { ignore_headers: [\"Bad Header\"] }", "Bad Header",
                        "Bad Header"),
})
def test_check_refuses_bad_shadow(body, marker, message):
    text = BASE % body
    lineno = next(i for i, ln in enumerate(text.split("\n")) if marker in ln) + 1
    write_file("bad.yaml", text)
    r = run_cli(["-t", "-c", "bad.yaml"])
    assert r.code == 1, "exit %s, want 1: %r" % (r.code, r)
    want = re.compile(r"(^|[\s/])bad\.yaml:%d:\d+: .*%s" % (lineno, re.escape(message)),
                      re.M | re.I)
    assert want.search(r.stderr), "stderr lacks bad.yaml:%d:COL: ...%s...: %r" % (
        lineno, message, r.stderr)


@harness.params({"decimal": "0.5", "with_percent": "12.5%", "zero": "0", "hundred": "100%"})
def test_check_accepts_percent_forms(pct):
    body = ("    upstream: users\n    shadow:\n      upstream: users-next\n"
            "      percent: \"%s\"\n      methods: [GET, POST, PATCH]\n"
            "      compare: { ignore_headers: [Date], ignore_json_fields: [\"items.*.id\"] }"
            % pct)
    write_file("ok.yaml", BASE % body)
    r = run_cli(["-t", "-c", "ok.yaml"])
    assert r.code == 0, "percent %r refused: %r" % (pct, r)
    # An upstream used only as a shadow is used.
    assert "users-next" not in r.output, "a warning about the shadow upstream: %r" % r


def test_check_warns_when_shadowing_to_an_own_target():
    body = ("    split:\n      - { upstream: users, weight: 10 }\n"
            "      - { upstream: legacy, weight: 90 }\n"
            "    shadow: { upstream: users }")
    text = BASE % body
    lineno = next(i for i, ln in enumerate(text.split("\n")) if "shadow:" in ln) + 1
    write_file("warn.yaml", text)
    r = run_cli(["-t", "-c", "warn.yaml"])
    assert r.code == 0, "exit %s, want 0 (a warning only): %r" % (r.code, r)
    assert re.search(r'warn\.yaml:%d:\d+: .*shadows to "users", one of its own targets'
                     % lineno, r.output), r


EXPLAIN = """\
listeners:
  - address: "$LISTEN"
admin:
  address: "$LISTEN"
upstreams:
  users:
    servers: [ { address: "%(app)s" } ]
  users-next:
    servers: [ { address: "%(next)s" } ]
routes:
  - name: users
    match: { path_prefix: /api/users }
    upstream: users
    shadow:
      upstream: users-next
      compare: { ignore_headers: [Date, Server], ignore_json_fields: [generated_at] }
  - name: drawn
    match: { path_prefix: /drawn }
    upstream: users
    shadow: { upstream: users-next, percent: 25, methods: [POST] }
  - name: everything-else
    match: { path_prefix: / }
    upstream: users
"""


def test_explain_prints_the_shadow_line():
    app, nxt = Upstream(echo(), name="app"), Upstream(echo(), name="next")
    cut = Cutover(EXPLAIN % {"app": app.address, "next": nxt.address})
    path = cut.config_path

    def shadow_line(*args):
        r = run_cli(["explain", "-c", path] + list(args))
        assert r.code == 0, r
        lines = [x for x in r.stdout.splitlines() if x.startswith("  shadow:")]
        return lines

    want = ("  shadow: users-next 100% of GET,HEAD -> copied; compared ignoring headers "
            "Date,Server fields generated_at")
    assert shadow_line("GET", "/api/users/1") == [want]
    assert shadow_line("POST", "/api/users/1") == [
        "  shadow: users-next 100% of GET,HEAD -> not copied (method); compared ignoring "
        "headers Date,Server fields generated_at"]
    assert shadow_line("POST", "/drawn/x") == [
        "  shadow: users-next 25% of POST -> copied (by draw); not compared"]
    assert shadow_line("GET", "/drawn/x") == [
        "  shadow: users-next 25% of POST -> not copied (method); not compared"]
    assert shadow_line("GET", "/other") == [], "a shadow line for a route without shadow"
    # The admin API's explain says the same.
    st, text = admin_call(cut.ports[1], "/explain?method=GET&url=/api/users/1")
    assert st == 200 and want in text.splitlines(), (st, text)
