"""Self-tests of the harness: the raw client against the fake upstreams
directly, no cutover involved. If these fail, distrust the other results."""

import hashlib
import socket
import time

from harness import Client, ConnectionClosed, Timeout, to_yaml
from upstream import (FullBacklog, Upstream, by_path, chunked, close_delimited, delay, echo,
                      large, pattern_sha256, raw, sequence, truncate, unused_address, websocket)


def test_harness_echo_keep_alive_and_pipelining():
    up = Upstream(echo())
    c = Client(up.port)
    for i in range(3):
        c.request("POST", "/k/%d" % i, [("X-A", "1")], body=b"abc")
        d = c.read_response().json()
        assert d["target"] == "/k/%d" % i and d["conn"] == 1 and d["body_hex"] == "616263", d
        assert d["headers"][0] == ["Host", "a.example"] and ["X-A", "1"] in d["headers"], d
    c.send_raw_request(Client.build("GET", "/p1") + Client.build("HEAD", "/p2") + Client.build("GET", "/p3"))
    c.pending.extend(["HEAD", "GET"])
    got = [c.read_response() for _ in range(3)]
    assert [r.status for r in got] == [200] * 3 and got[1].body == b"", got
    assert got[2].json()["target"] == "/p3"
    assert up.connections == 1 and len(up.requests) == 6


def test_harness_framings():
    up = Upstream(by_path({
        "/chunked": chunked([b"ab", b"cdef"]),
        "/close": close_delimited(b"until eof"),
        "/trunc": truncate(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"),
        "/204": raw(b"HTTP/1.1 204 No Content\r\n\r\n"),
        "/big": large(3 * 1024 * 1024 + 7, use_chunked=True),
        "/expect": echo(),
    }))
    c = Client(up.port)
    c.request("GET", "/chunked")
    r = c.read_response()
    assert r.framing == "chunked" and r.body == b"abcdef" and r.complete, r
    c.request("GET", "/204")
    assert c.read_response().status == 204
    c.request("GET", "/big")
    r = c.read_response()
    assert hashlib.sha256(r.body).hexdigest() == pattern_sha256(3 * 1024 * 1024 + 7), r
    c.pending.append("POST")
    c.send(b"POST /expect HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n")
    assert c.read_response(expect_100=True).status == 100
    c.send(b"hi")
    assert c.read_response().json()["body_hex"] == "6869"
    c.request("GET", "/close")
    r = c.read_response()
    assert r.framing == "close" and r.body == b"until eof", r
    c = Client(up.port)
    c.request("GET", "/trunc")
    r = c.read_response()
    assert not r.complete and r.body == b"abc", r


def test_harness_chunked_request_is_decoded_by_upstream():
    up = Upstream(echo())
    c = Client(up.port)
    c.request("POST", "/c", [("Transfer-Encoding", "chunked")])
    c.send(b"3\r\nabc\r\n1;ext=1\r\nd\r\n0\r\nX-T: 1\r\n\r\n")
    d = c.read_response().json()
    assert d["chunked"] and d["body_hex"] == b"abcd".hex(), d


def test_harness_websocket_echo():
    up = Upstream(websocket())
    c = Client(up.port)
    c.request("GET", "/ws", [("Connection", "Upgrade"), ("Upgrade", "websocket"),
                             ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")])
    r = c.read_response()
    assert r.status == 101 and r.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", r
    c.send(b"ping")
    assert c.recv_exact(4) == b"ping"


def test_harness_timeouts_and_closes_are_bounded():
    up = Upstream(by_path({"/slow": delay(5, echo())}, default=sequence([raw(b"", close=True)])))
    c = Client(up.port)
    c.request("GET", "/first")
    t = time.time()
    try:
        c.read_response()
        raise AssertionError("no ConnectionClosed")
    except ConnectionClosed:
        pass
    assert time.time() - t < 1
    c = Client(up.port)
    c.request("GET", "/slow")
    t = time.time()
    try:
        c.read_response(timeout=0.3)
        raise AssertionError("no Timeout")
    except Timeout:
        pass
    assert time.time() - t < 1
    try:
        Client(int(unused_address().split(":")[1]))
        raise AssertionError("connected to an unused port")
    except ConnectionClosed:
        pass


def test_harness_idle_close_and_full_backlog():
    up = Upstream(echo(), idle_close_after=0.1)
    c = Client(up.port)
    c.request("GET", "/x")
    c.read_response()
    assert c.wait_closed(1.0), "upstream did not close the idle connection"
    bl = FullBacklog()
    s = socket.socket()
    s.settimeout(0.3)
    try:
        s.connect(("127.0.0.1", bl.port))
        raise AssertionError("connected to a full backlog")
    except socket.timeout:
        pass
    finally:
        s.close()


def test_harness_yaml_emitter():
    text = to_yaml({"listeners": [{"address": "127.0.0.1:1"}], "workers": 2,
                    "routes": [{"name": "r", "active": False, "match": {"methods": ["GET"],
                                "headers": {"X-A": {"in": ["a", "b"]}}}, "respond": {}}]})
    assert text == ('listeners:\n  - address: "127.0.0.1:1"\nworkers: 2\nroutes:\n'
                    '  - name: "r"\n    active: false\n    match:\n      methods:\n        - "GET"\n'
                    '      headers:\n        X-A:\n          in:\n            - "a"\n            - "b"\n'
                    '    respond: {}\n'), text
