"""Keep-alive on both sides, pooling, pipelining, HTTP/1.0 clients."""

import time

import harness
from harness import Client, Cutover, echoed, simple_config
from upstream import Upstream, by_path, delay, echo


def test_many_requests_on_one_client_connection():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    c = cut.client()
    for i in range(50):
        c.request("GET", "/r/%d" % i)
        assert echoed(c.read_response())["target"] == "/r/%d" % i
    assert len(up.requests) == 50


def test_upstream_connection_is_reused_for_sequential_requests():
    up = Upstream(echo())
    cut = Cutover(simple_config(up, workers=1))
    c = cut.client()
    for i in range(10):
        c.request("GET", "/seq/%d" % i)
        d = echoed(c.read_response())
        assert d["version"] == "HTTP/1.1", "upstream got %s, want HTTP/1.1" % d["version"]
    assert up.connections == 1, "upstream saw %d connections for 10 sequential requests" % up.connections


def test_pool_is_shared_across_client_connections():
    up = Upstream(echo())
    cut = Cutover(simple_config(up, workers=1))
    for i in range(5):
        echoed(cut.request("GET", "/conn/%d" % i))
    assert up.connections == 1, "upstream saw %d connections for 5 sequential requests" % up.connections


def test_pipelined_requests_are_answered_in_order():
    up = Upstream(by_path({"/slow": delay(0.3, echo())}, default=echo()))
    cut = Cutover(simple_config(up))
    c = cut.client()
    reqs = b"".join(Client.build("GET", t) for t in ("/slow/1", "/fast/2", "/slow/3", "/fast/4"))
    c.pending.extend(["GET"] * 4)
    c.send(reqs)
    got = [echoed(c.read_response())["target"] for _ in range(4)]
    assert got == ["/slow/1", "/fast/2", "/slow/3", "/fast/4"], got


def test_stale_pooled_connection_is_never_used():
    # the upstream closes each connection 100 ms after answering
    up = Upstream(echo(), idle_close_after=0.1)
    cut = Cutover(simple_config(up))
    c = cut.client()
    for i in range(6):
        c.request("POST", "/stale/%d" % i, body=b"x" * 10)
        r = c.read_response()
        assert r.status == 200, "request %d after the upstream closed its idle connection: %r %r" % (i, r, r.body[:200])
        time.sleep(0.3)
    assert up.connections >= 2, "the upstream closed idle connections but saw only %d" % up.connections


def test_http10_client_connection_closes_after_response():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    c = cut.client()
    c.request("GET", "/old", version="HTTP/1.0", host=None)
    r = c.read_response()
    assert r.status == 200 and r.version.startswith("HTTP/1."), r
    assert echoed(r)["version"] == "HTTP/1.1", "upstream should be spoken to in HTTP/1.1"
    assert c.wait_closed(2.0), "connection still open after an HTTP/1.0 response"


def test_http10_keep_alive_client_can_reuse_connection():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    c = cut.client()
    for i in range(3):
        c.request("GET", "/ka/%d" % i, [("Connection", "keep-alive")], version="HTTP/1.0", host=None)
        r = c.read_response()
        assert echoed(r)["target"] == "/ka/%d" % i
        assert r.framing == "length", "an HTTP/1.0 keep-alive response needs a Content-Length: %r" % r


def test_connection_close_from_client_is_honoured():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    c = cut.client()
    c.request("GET", "/bye", [("Connection", "close")])
    echoed(c.read_response())
    assert c.wait_closed(2.0), "connection still open after Connection: close"


@harness.params({"expires": ("300ms", 2), "kept": ("10s", 1)})
def test_pooled_connection_lives_for_idle_timeout(idle_timeout, connections):
    # Two requests 1 s apart: a pool idle_timeout shorter than the gap means
    # the first connection was closed by cutover and a new one was opened.
    up = Upstream(echo())
    cut = Cutover(simple_config(up, workers=1, upstream={"idle_timeout": idle_timeout}))
    echoed(cut.request("GET", "/first"))
    time.sleep(1.0)
    echoed(cut.request("GET", "/second"))
    assert up.connections == connections, \
        "idle_timeout %s: upstream saw %d connections, want %d" % (idle_timeout, up.connections, connections)


def test_server_host_name_is_resolved_at_load():
    up = Upstream(echo())
    cfg = simple_config(up)
    cfg["upstreams"]["app"]["servers"] = [{"address": "localhost:%d" % up.port}]
    cut = Cutover(cfg)
    assert echoed(cut.request("GET", "/by-name"))["target"] == "/by-name"
