"""Request and response bodies: Content-Length, chunked, large, close-delimited, bodyless."""

import hashlib
import os

from harness import Cutover, echo_header, echo_header_all, echoed, simple_config, time_limit
from upstream import (Upstream, by_path, chunked, close_delimited, echo, large, pattern_sha256,
                      raw, status)

BIG = 20 * 1024 * 1024


def test_content_length_body_reaches_upstream_intact():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    body = os.urandom(100000)
    d = echoed(cut.request("POST", "/upload", body=body))
    assert d["body_len"] == len(body) and d["body_sha256"] == hashlib.sha256(body).hexdigest(), d
    assert echo_header(d, "Content-Length") == str(len(body)) or d["chunked"], d["headers"]


def test_chunked_body_reaches_upstream_intact():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    chunks = [b"a" * 1, os.urandom(1000), b"hello world", os.urandom(70000)]
    wire = b"".join(b"%x\r\n%s\r\n" % (len(x), x) for x in chunks) + b"0\r\n\r\n"
    c = cut.client()
    c.request("POST", "/chunked", [("Transfer-Encoding", "chunked")])
    c.send(wire)
    d = echoed(c.read_response())
    whole = b"".join(chunks)
    assert d["body_sha256"] == hashlib.sha256(whole).hexdigest(), "decoded body differs: %d bytes" % d["body_len"]
    has_cl = echo_header(d, "Content-Length") is not None
    has_te = bool(echo_header_all(d, "Transfer-Encoding"))
    assert not (has_cl and has_te), "forwarded both Content-Length and Transfer-Encoding: %r" % d["headers"]
    assert has_cl or has_te, "forwarded a body without framing headers: %r" % d["headers"]


@time_limit(60)
def test_large_upload_streams_through():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    body = os.urandom(1024 * 1024) * 20
    c = cut.client(timeout=30)
    c.request("POST", "/big", body=body)
    d = echoed(c.read_response(timeout=30))
    assert d["body_len"] == BIG and d["body_sha256"] == hashlib.sha256(body).hexdigest(), \
        "upstream got %d bytes" % d["body_len"]


@time_limit(60)
def test_large_download_streams_through():
    for chunked_resp in (False, True):
        up = Upstream(large(BIG, use_chunked=chunked_resp))
        cut = Cutover(simple_config(up))
        c = cut.client(timeout=30)
        c.request("GET", "/big")
        r = c.read_response(timeout=30)
        assert r.status == 200 and r.complete, r
        assert len(r.body) == BIG and hashlib.sha256(r.body).hexdigest() == pattern_sha256(BIG), \
            "got %d bytes (chunked upstream: %s)" % (len(r.body), chunked_resp)


def test_chunked_response_reaches_client_intact():
    parts = [b"one,", b"two," * 100, os.urandom(5000).hex().encode(), b"end"]
    up = Upstream(chunked(parts, headers=[("Content-Type", "text/plain")]))
    cut = Cutover(simple_config(up))
    c = cut.client()
    for _ in range(2):
        c.request("GET", "/chunks")
        r = c.read_response()
        assert r.status == 200 and r.complete and r.body == b"".join(parts), r


def test_close_delimited_response_reaches_client_intact():
    body = b"no length here\n" * 1000
    up = Upstream(close_delimited(body, headers=[("Content-Type", "text/plain")]))
    cut = Cutover(simple_config(up))
    c = cut.client()
    c.request("GET", "/eof")
    r = c.read_response()
    assert r.status == 200 and r.body == body, r
    assert r.framing in ("chunked", "close"), r
    if r.framing == "chunked":  # the client connection may stay usable
        c.request("GET", "/eof")
        assert c.read_response().body == body


def test_bodyless_responses_leave_connection_usable():
    up = Upstream(by_path({
        "/204": raw(b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n"),
        "/304": raw(b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n"),
        "/head": status(200, b"hello", [("Content-Type", "text/plain")]),
    }, default=echo()))
    cut = Cutover(simple_config(up))
    c = cut.client()
    for method, target, code in [("GET", "/204", 204), ("GET", "/after", 200),
                                 ("GET", "/304", 304), ("GET", "/after", 200),
                                 ("HEAD", "/head", 200), ("GET", "/after", 200)]:
        c.request(method, target)
        r = c.read_response()
        assert r.status == code, "%s %s: %r %r" % (method, target, r, r.body[:100])
        if target == "/after":
            assert echoed(r)["target"] == "/after"
        else:
            assert r.body == b"", "%s %s: body %r" % (method, target, r.body[:100])
    assert not c.buf, "stray bytes after the responses: %r" % bytes(c.buf[:100])
