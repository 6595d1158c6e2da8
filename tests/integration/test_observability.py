"""Observability (issue 3): correlation IDs, trace context, the access log,
the admin API and its Prometheus metrics."""

import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import time

import harness
from harness import Cutover, Skip, echo_header, echoed, free_port, simple_config, wait_until, write_file
from upstream import Upstream, delay, echo

UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$")
LOG_FIELDS = ["ts", "request_id", "client", "method", "path", "route", "upstream", "server",
              "status", "bytes_in", "bytes_out", "duration_ms", "upstream_ms", "tries",
              "breaker", "fallback", "shadow", "flags"]


def log_lines(path, n, timeout=3.0):
    """The first n JSON lines of an access log file, waiting (bounded) for them."""
    def ready():
        try:
            with open(path) as f:
                return len(f.read().splitlines()) >= n
        except OSError:
            return False
    wait_until(ready, timeout, "%d access log line(s) in %s" % (n, path))
    with open(path) as f:
        return [json.loads(line) for line in f.read().splitlines()]


def with_log(cfg, name="access.log"):
    path = os.path.join(harness.tmpdir(), name)
    cfg["access_log"] = {"path": path}
    return cfg, path


def admin_config(up, token=None, **kw):
    cfg = simple_config(up, **kw)
    port = free_port()
    cfg["admin"] = {"address": "127.0.0.1:%d" % port}
    if token is not None:
        cfg["admin"]["token_file"] = write_file("admin.token", token + "\n")
    return cfg, port


def admin_get(port, path, token=None, method="GET", timeout=3.0):
    """(status, headers dict lower-cased, body text); retries until the admin listener is up."""
    deadline = time.time() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            headers = {"Authorization": "Bearer " + token} if token else {}
            conn.request(method, path, headers=headers)
            r = conn.getresponse()
            body = r.read().decode("utf-8", "replace")
            hdrs = {k.lower(): v for k, v in r.getheaders()}
            conn.close()
            return r.status, hdrs, body
        except (ConnectionRefusedError, ConnectionResetError):
            if time.time() > deadline:
                raise
            time.sleep(0.05)


# ----------------------------------------------------------- correlation IDs

def test_missing_request_id_is_generated_and_is_the_same_everywhere():
    up = Upstream(echo())
    cfg, logpath = with_log(simple_config(up))
    cut = Cutover(cfg)
    r = cut.request("GET", "/id")
    rid = r.header("X-Request-ID")
    assert rid and UUID7.match(rid), "response X-Request-ID %r is not a UUIDv7" % rid
    assert echo_header(echoed(r), "X-Request-ID") == rid, "the upstream saw another ID"
    (line,) = log_lines(logpath, 1)
    assert line["request_id"] == rid, line


def test_well_formed_incoming_id_is_kept():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    rid = "abc.DEF_123:xyz-" + "9" * 100
    r = cut.request("GET", "/id", [("X-Request-ID", rid)])
    assert r.header("X-Request-ID") == rid
    assert echo_header(echoed(r), "X-Request-ID") == rid


@harness.params({
    "space": [("X-Request-ID", "has space")],
    "too_long": [("X-Request-ID", "a" * 129)],
    "slash": [("X-Request-ID", "a/b")],
    "duplicated": [("X-Request-ID", "one"), ("X-Request-ID", "two")],
    "empty": [("X-Request-ID", "")],
})
def test_malformed_incoming_id_is_replaced(headers):
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    r = cut.request("GET", "/id", headers)
    rid = r.header("X-Request-ID")
    assert rid and UUID7.match(rid), "kept a malformed ID: %r" % rid
    d = echoed(r)
    ids = [v for k, v in d["headers"] if k.lower() == "x-request-id"]
    assert ids == [rid], "upstream got %r" % ids


def test_generate_uuid4_and_another_header_name():
    up = Upstream(echo())
    cfg = simple_config(up)
    cfg["correlation"] = {"header": "X-Correlation-ID", "generate": "uuid4", "accept_incoming": False}
    cut = Cutover(cfg)
    r = cut.request("GET", "/id", [("X-Correlation-ID", "client-chose-this")])
    rid = r.header("X-Correlation-ID")
    assert rid and UUID4.match(rid), rid
    assert echo_header(echoed(r), "X-Correlation-ID") == rid


def test_echo_false_keeps_the_id_off_the_response():
    up = Upstream(echo())
    cfg = simple_config(up)
    cfg["correlation"] = {"echo": False}
    cut = Cutover(cfg)
    r = cut.request("GET", "/id")
    assert not r.has_header("X-Request-ID"), r.headers
    assert UUID7.match(echo_header(echoed(r), "X-Request-ID") or "")


@harness.params({
    "no_route": ("/nothing", 404),
    "bad_path": ("/../x", 400),
    "refused": ("/r", 502),
})
def test_error_bodies_carry_the_request_id(target, status):
    cfg = {"upstreams": {"app": {"servers": [{"address": "127.0.0.1:1"}]}},
           "routes": [{"name": "r", "match": {"path_prefix": "/r"}, "upstream": "app"}]}
    cut = Cutover(cfg)
    r = cut.request("GET", target, [("X-Request-ID", "trace-me-1")])
    assert r.status == status, r
    body = r.json()
    assert body.get("request_id") == "trace-me-1", body
    assert r.header("X-Request-ID") == "trace-me-1"


def test_unparsable_request_gets_a_fresh_id_in_its_error_body():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    c = cut.client()
    c.send_raw_request(b"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n")
    r = c.read_response()
    assert r.status == 400
    assert UUID7.match(r.json().get("request_id", "")), r.body


# ------------------------------------------------------------ trace context

def test_valid_traceparent_is_forwarded_with_its_tracestate():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    d = echoed(cut.request("GET", "/t", [("traceparent", tp), ("tracestate", "vendor=1")]))
    assert echo_header(d, "traceparent") == tp, d["headers"]
    assert echo_header(d, "tracestate") == "vendor=1", d["headers"]


def test_missing_traceparent_is_started():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    d = echoed(cut.request("GET", "/t"))
    m = TRACEPARENT.match(echo_header(d, "traceparent") or "")
    assert m and m.group(1) != "0" * 32 and m.group(2) != "0" * 16, d["headers"]


@harness.params({
    "upper_case": "00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01",
    "zero_trace": "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
    "short": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902-01",
    "version_ff": "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
})
def test_invalid_traceparent_is_dropped_with_its_tracestate(tp):
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    d = echoed(cut.request("GET", "/t", [("traceparent", tp), ("tracestate", "vendor=1")]))
    sent = [v for k, v in d["headers"] if k.lower() == "traceparent"]
    assert tp not in sent, "forwarded an invalid traceparent: %r" % sent
    assert len(sent) == 1 and TRACEPARENT.match(sent[0]), "want one fresh traceparent: %r" % sent
    assert echo_header(d, "tracestate") is None, "tracestate kept without its traceparent"


def test_traceparent_off_leaves_the_headers_alone():
    up = Upstream(echo())
    cfg = simple_config(up)
    cfg["correlation"] = {"traceparent": False}
    cut = Cutover(cfg)
    d = echoed(cut.request("GET", "/t", [("traceparent", "garbage")]))
    assert echo_header(d, "traceparent") == "garbage"


# --------------------------------------------------------------- access log

def test_access_log_line_has_every_field():
    up = Upstream(echo())
    cfg, logpath = with_log(simple_config(up))
    cut = Cutover(cfg)
    r = cut.request("POST", "/logged?q=1", body=b"hello")
    assert r.status == 200
    (line,) = log_lines(logpath, 1)
    assert list(line.keys()) == LOG_FIELDS, list(line.keys())
    assert line["method"] == "POST" and line["path"] == "/logged?q=1", line
    assert line["route"] == "all" and line["upstream"] == "app", line
    assert line["server"] == up.address and line["status"] == 200, line
    assert line["client"] == "127.0.0.1" and line["tries"] == 1, line
    assert line["bytes_in"] >= 5 and line["bytes_out"] >= len(r.body), line
    assert line["duration_ms"] >= line["upstream_ms"] >= 0, line
    assert line["flags"] == [], line
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", line["ts"]), line["ts"]


def test_access_log_flags_no_route_and_connect_failure():
    cfg = {"upstreams": {"app": {"servers": [{"address": "127.0.0.1:1"}]}},
           "routes": [{"name": "r", "match": {"path_prefix": "/r"}, "upstream": "app"}]}
    cfg, logpath = with_log(cfg)
    cut = Cutover(cfg)
    assert cut.request("GET", "/none").status == 404
    assert cut.request("GET", "/r").status == 502
    # Lines of different workers may come in either order.
    a, b = sorted(log_lines(logpath, 2), key=lambda x: x["status"])
    assert a["flags"] == ["NR"] and a["route"] is None and a["status"] == 404, a
    # The default retry.attempts is 2: the refused connect is tried again, then RX.
    assert b["flags"] == ["UF", "RX"] and b["tries"] == 2, (b["flags"], b)
    assert b["upstream"] == "app" and b["status"] == 502, b


def test_access_log_escapes_hostile_bytes():
    up = Upstream(echo())
    cfg, logpath = with_log(simple_config(up))
    cut = Cutover(cfg)
    c = cut.client()
    c.send_raw_request(b'GET /q?x=%22"\\\xff HTTP/1.1\r\nHost: a\r\nX-Request-ID: a"b\r\n\r\n')
    c.read_response()
    (line,) = log_lines(logpath, 1)  # json.loads in log_lines proves it is valid JSON


def test_access_log_off_writes_nothing():
    up = Upstream(echo())
    cfg = simple_config(up)
    cfg["access_log"] = {"path": "off"}
    cut = Cutover(cfg)
    echoed(cut.request("GET", "/quiet"))
    cut.stop()
    assert '"request_id"' not in cut.stdout, cut.stdout[:300]


def test_access_log_to_stdout_by_default():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    rid = cut.request("GET", "/out").header("X-Request-ID")
    assert cut.stop() == 0
    lines = [json.loads(x) for x in cut.stdout.splitlines() if x.startswith("{")]
    assert [x["request_id"] for x in lines] == [rid], cut.stdout[:500]


def test_sigterm_loses_no_access_log_line():
    up = Upstream(echo())
    cfg, logpath = with_log(simple_config(up))
    cut = Cutover(cfg)
    c = cut.client()
    for i in range(200):
        c.request("GET", "/n/%d" % i)
        c.read_response()
    assert cut.stop() == 0
    with open(logpath) as f:
        assert len(f.read().splitlines()) == 200


def test_sigusr1_reopens_the_log_for_logrotate():
    up = Upstream(echo())
    cfg, logpath = with_log(simple_config(up))
    cut = Cutover(cfg)
    echoed(cut.request("GET", "/before"))
    log_lines(logpath, 1)
    os.rename(logpath, logpath + ".1")
    cut.signal(signal.SIGUSR1)
    wait_until(lambda: "access_log_reopen" in cut.stderr, 2, "reopen logged")
    time.sleep(0.2)
    echoed(cut.request("GET", "/after"))
    (new,) = log_lines(logpath, 1)
    assert new["path"] == "/after", new
    with open(logpath + ".1") as f:
        old = [json.loads(x) for x in f.read().splitlines()]
    assert [x["path"] for x in old] == ["/before"], old


# ---------------------------------------------------------------- admin API

def test_admin_health_and_readiness():
    up = Upstream(delay(1.5, echo()))
    cfg, port = admin_config(up, shutdown_timeout="5s")
    cut = Cutover(cfg)
    assert admin_get(port, "/healthz")[0] == 200
    assert admin_get(port, "/readyz")[0] == 200
    c = cut.client()
    c.request("GET", "/slow")
    up.wait_requests(1)
    cut.signal(signal.SIGTERM)
    wait_until(lambda: admin_get(port, "/readyz")[0] == 503, 2, "/readyz 503 while draining")
    assert c.read_response(timeout=5).status == 200
    assert cut.wait(5) == 0


def test_admin_is_never_reachable_through_public_listeners():
    up = Upstream(echo())
    cfg, port = admin_config(up)
    cut = Cutover(cfg)
    d = echoed(cut.request("GET", "/metrics"))  # proxied like any path
    assert d["target"] == "/metrics"
    assert admin_get(port, "/metrics")[0] == 200


def test_admin_token_is_required_everywhere():
    up = Upstream(echo())
    cfg, port = admin_config(up, token="s3cret-token")
    Cutover(cfg)
    for path in ("/healthz", "/readyz", "/metrics", "/upstreams", "/routes", "/explain?method=GET&url=/"):
        st, hdrs, _ = admin_get(port, path)
        assert st == 401, "%s without a token: %d" % (path, st)
        assert admin_get(port, path, token="wrong-token")[0] == 401
        assert admin_get(port, path, token="s3cret-token")[0] == 200, path


def test_metrics_count_requests_and_pass_promtool():
    up = Upstream(echo())
    cfg, port = admin_config(up, workers=1)
    cut = Cutover(cfg)
    for _ in range(3):
        echoed(cut.request("GET", "/m"))
    st, hdrs, text = admin_get(port, "/metrics")
    assert st == 200 and hdrs["content-type"].startswith("text/plain"), hdrs
    assert 'cutover_requests_total{route="all",upstream="app",code="200"} 3' in text, text
    assert 'cutover_upstream_tries_total{upstream="app",outcome="success"} 3' in text, text
    assert re.search(r'cutover_request_duration_seconds_count\{route="all"\} 3', text), text
    assert 'cutover_connections_active{listener=' in text
    assert 'cutover_upstream_connections{upstream="app",state="idle"} 1' in text, text
    promtool = shutil.which("promtool")
    if not promtool:
        raise Skip("promtool not installed (Debian package prometheus)")
    p = subprocess.run([promtool, "check", "metrics"], input=text.encode(), capture_output=True, timeout=20)
    assert p.returncode == 0, p.stdout.decode() + p.stderr.decode()


def test_admin_routes_upstreams_and_explain():
    up = Upstream(echo())
    cfg, port = admin_config(up)
    cut = Cutover(cfg)
    echoed(cut.request("GET", "/x"))
    st, _, body = admin_get(port, "/routes")
    routes = json.loads(body)["routes"]
    assert routes[0]["name"] == "all" and routes[0]["hits"] == 1, routes
    st, _, body = admin_get(port, "/upstreams")
    ups = json.loads(body)["upstreams"]
    assert ups[0]["name"] == "app" and ups[0]["servers"][0]["address"] == up.address, ups
    st, hdrs, body = admin_get(port, "/explain?method=GET&url=/api/x&h=X-Beta:1")
    assert st == 200 and 'route 1 "all": MATCH' in body, body


def test_event_log_is_key_value_lines():
    up = Upstream(echo())
    cfg, port = admin_config(up)
    cut = Cutover(cfg)
    admin_get(port, "/healthz")
    for line in cut.stderr.splitlines():
        assert re.match(r'^ts=\S+ level=(error|warn|info|debug) event=\w+( \w+=("[^"]*"|\S+))*$', line), line
    assert re.search(r"event=admin_listening address=127\.0\.0\.1:%d" % port, cut.stderr)
    assert "event=start " in cut.stderr
