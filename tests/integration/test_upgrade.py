"""Upgrade: a WebSocket handshake answered 101 becomes a byte tunnel; otherwise HTTP goes on."""

import os

from harness import Cutover, echoed, simple_config
from upstream import Upstream, by_path, websocket

HANDSHAKE = [("Connection", "Upgrade"), ("Upgrade", "websocket"),
             ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]


def test_websocket_upgrade_becomes_a_tunnel():
    up = Upstream(websocket())
    cut = Cutover(simple_config(up))
    c = cut.client()
    c.request("GET", "/ws", HANDSHAKE)
    r = c.read_response()
    assert r.status == 101, "want 101 Switching Protocols, got %r %r" % (r, r.body[:200])
    assert (r.header("Upgrade") or "").lower() == "websocket", r.headers
    assert r.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", r.headers
    req = up.requests[0]
    assert (req.header("Upgrade") or "").lower() == "websocket", "Upgrade not forwarded: %r" % req.headers
    assert "upgrade" in (req.header("Connection") or "").lower(), "Connection: upgrade not forwarded"
    for payload in (b"hello", os.urandom(3000), b"\x00\xff\r\n\r\nGET / HTTP/1.1\r\n\r\n"):
        c.send(payload)
        assert c.recv_exact(len(payload), timeout=3) == payload, "tunnel did not echo %d bytes" % len(payload)


def test_refused_upgrade_keeps_http():
    up = Upstream(by_path({"/ws400": websocket(refuse=400), "/ws200": websocket(refuse=200)}))
    cut = Cutover(simple_config(up))
    c = cut.client()
    for target, code in (("/ws400", 400), ("/ws200", 200)):
        c.request("GET", target, HANDSHAKE)
        r = c.read_response()
        assert r.status == code and r.body == b"no upgrade\n", "%s: %r %r" % (target, r, r.body[:100])
        c.request("GET", "/plain")
        assert echoed(c.read_response())["target"] == "/plain", "HTTP did not continue after %d" % code
