"""Expect: 100-continue, proxied and answered by cutover itself."""

from harness import Client, ConnectionClosed, Cutover, echoed, simple_config
from upstream import Upstream, echo


def test_100_continue_then_body_reaches_upstream():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    c = cut.client()
    body = b"0123456789" * 10
    c.pending.append("POST")
    c.send(b"POST /upload HTTP/1.1\r\nHost: a.example\r\nExpect: 100-continue\r\n"
           b"Content-Length: %d\r\n\r\n" % len(body))
    r = c.read_response(timeout=3, expect_100=True)
    assert r.status == 100 and r.version == "HTTP/1.1", "want 100 Continue before the body, got %r" % r
    c.send(body)
    d = echoed(c.read_response())
    assert d["body_len"] == len(body), d
    # the connection stays usable
    c.request("GET", "/next")
    assert echoed(c.read_response())["target"] == "/next"


SMUGGLED = Client.build("GET", "/api/smuggled")


def expect_answered_by_cutover(route_for_post, want_status):
    """POST with Expect to a route cutover answers itself; the body is a
    complete request that must never be taken as the next request."""
    up = Upstream(echo())
    cfg = simple_config(up, route={"match": {"path_prefix": "/api"}})
    if route_for_post:
        cfg["routes"].insert(0, route_for_post)
    cut = Cutover(cfg)
    c = cut.client()
    c.pending.append("POST")
    c.send(b"POST /nope HTTP/1.1\r\nHost: a.example\r\nExpect: 100-continue\r\n"
           b"Content-Length: %d\r\n\r\n" % len(SMUGGLED))
    r = c.read_response(timeout=3, expect_100=True)
    assert r.status == want_status, "want the final %d without 100 Continue, got %r" % (want_status, r)
    try:
        c.send(SMUGGLED)
        c.request("GET", "/api/real")
        r2 = c.read_response(timeout=2)
        assert echoed(r2)["target"] == "/api/real", "unexpected second response %r %r" % (r2, r2.body[:200])
    except ConnectionClosed:
        pass  # closed after the final status: fine
    assert "/api/smuggled" not in up.targets(), "the unread body was parsed as a request: %s" % up.targets()


def test_expect_with_no_route_gets_404_without_100():
    expect_answered_by_cutover(None, 404)


def test_expect_with_respond_route_gets_final_status_without_100():
    expect_answered_by_cutover({"name": "nope", "match": {"path": "/nope"},
                                "respond": {"status": 403, "body": "no\n"}}, 403)
