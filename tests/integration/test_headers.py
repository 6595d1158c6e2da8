"""Header handling (SPEC section 3): hop-by-hop, X-Forwarded-*, Host, absolute-form."""

from harness import Cutover, echo_header, echo_header_all, echoed, simple_config
from upstream import Upstream, echo, raw

HOP_BY_HOP = ["Connection", "Keep-Alive", "Proxy-Connection", "TE", "Upgrade", "X-Secret"]


def test_hop_by_hop_request_headers_are_not_forwarded():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    d = echoed(cut.request("GET", "/h", [
        ("Connection", "keep-alive, X-Secret"), ("X-Secret", "s"), ("Keep-Alive", "timeout=5"),
        ("Proxy-Connection", "keep-alive"), ("TE", "trailers"), ("Upgrade", "foo/1"),
        ("X-Kept", "yes")]))
    names = [k.lower() for k, _ in d["headers"]]
    leaked = [h for h in HOP_BY_HOP if h.lower() in names and
              not (h == "Connection" and echo_header(d, "Connection").lower() in ("keep-alive", "close"))]
    assert not leaked, "forwarded hop-by-hop headers %s: %r" % (leaked, d["headers"])
    assert echo_header(d, "X-Kept") == "yes", d["headers"]


def test_connection_close_names_are_dropped():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    d = echoed(cut.request("GET", "/h", [("Connection", "close, X-Secret"), ("X-Secret", "s")]))
    assert echo_header(d, "X-Secret") is None, "X-Secret forwarded: %r" % d["headers"]


def test_hop_by_hop_response_headers_are_not_forwarded():
    up = Upstream(raw(b"HTTP/1.1 200 OK\r\nConnection: X-Up-Secret\r\nX-Up-Secret: s\r\n"
                      b"Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nUpgrade: foo\r\n"
                      b"X-Other: kept\r\nContent-Length: 2\r\n\r\nok"))
    cut = Cutover(simple_config(up))
    r = cut.request("GET", "/r")
    assert r.status == 200 and r.body == b"ok", r
    leaked = [h for h in ("X-Up-Secret", "Keep-Alive", "Proxy-Connection", "Upgrade") if r.has_header(h)]
    assert not leaked, "response carried hop-by-hop headers %s: %r" % (leaked, r.headers)
    assert "x-up-secret" not in (r.header("Connection") or "").lower(), r.headers
    assert r.header("X-Other") == "kept", r.headers


def test_x_forwarded_headers_are_added():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    d = echoed(cut.request("GET", "/xff", host="shop.example:8080"))
    assert ", ".join(echo_header_all(d, "X-Forwarded-For")) == "127.0.0.1", d["headers"]
    assert echo_header(d, "X-Forwarded-Proto") == "http", d["headers"]
    assert echo_header(d, "X-Forwarded-Host") == "shop.example:8080", d["headers"]
    assert echo_header(d, "Host") == "shop.example:8080", "Host not passed through: %r" % d["headers"]


def test_x_forwarded_for_is_appended():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    d = echoed(cut.request("GET", "/xff", [("X-Forwarded-For", "1.2.3.4")]))
    assert ", ".join(echo_header_all(d, "X-Forwarded-For")) == "1.2.3.4, 127.0.0.1", d["headers"]


def test_absolute_form_routes_and_forwards_by_its_authority():
    up_a, up_b = Upstream(echo(), name="a"), Upstream(echo(), name="b")
    cfg = {"upstreams": {"a": {"servers": [{"address": up_a.address}]},
                         "b": {"servers": [{"address": up_b.address}]}},
           "routes": [{"name": "b", "match": {"path_prefix": "/", "host": "b.example"}, "upstream": "b"},
                      {"name": "a", "match": {"path_prefix": "/"}, "upstream": "a"}]}
    cut = Cutover(cfg)
    c = cut.client()
    c.request("GET", "http://b.example/x?y=1", host="a")
    d = echoed(c.read_response())
    assert not up_a.requests, "routed on the Host header instead of the target: %s" % up_a.targets()
    assert d["target"] == "/x?y=1", "upstream got target %r, want origin-form /x?y=1" % d["target"]
    assert echo_header(d, "Host") == "b.example", "Host %r, want b.example" % echo_header(d, "Host")
