"""Upstream failures: refused, connect timeout, response/request timeouts, early close."""

import time

from harness import ConnectionClosed, Cutover, Timeout, assert_error, simple_config
from upstream import FullBacklog, Upstream, close_before_head, never, trickle, unused_address


def timed(cut, target="/x"):
    t = time.time()
    r = cut.request("GET", target)
    return r, time.time() - t


def test_connection_refused_is_502():
    cut = Cutover(simple_config(unused_address()))
    assert_error(cut.request("GET", "/x"), 502)


def test_connect_timeout_is_502_quickly():
    bl = FullBacklog()
    cut = Cutover(simple_config(bl.address, upstream={"connect_timeout": "300ms"}))
    r, took = timed(cut)
    assert_error(r, 502)
    assert took < 1.5, "502 after %.2fs with connect_timeout 300ms" % took


def test_no_response_head_within_response_timeout_is_504():
    up = Upstream(never())
    cut = Cutover(simple_config(up, upstream={"response_timeout": "300ms"}))
    r, took = timed(cut)
    assert_error(r, 504)
    assert 0.25 <= took < 2.0, "504 after %.2fs with response_timeout 300ms" % took


def test_request_timeout_bounds_a_trickled_head():
    head = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"s" * 100 + b"\r\nContent-Length: 2\r\n\r\nok"
    up = Upstream(trickle(head, interval=0.05))
    cut = Cutover(simple_config(up, upstream={"request_timeout": "1s", "response_timeout": "10s",
                                              "read_timeout": "10s"}))
    r, took = timed(cut)
    assert_error(r, 504)
    assert took < 2.5, "504 after %.2fs with request_timeout 1s" % took


def test_request_timeout_cuts_a_trickled_body():
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"
    up = Upstream(trickle(head + b"b" * 1000, interval=0.01))  # ~10 s to send it all
    cut = Cutover(simple_config(up, upstream={"request_timeout": "1s", "response_timeout": "10s",
                                              "read_timeout": "10s"}))
    c = cut.client()
    t = time.time()
    c.request("GET", "/trickle")
    try:
        r = c.read_response(timeout=5)
    except ConnectionClosed:
        return  # cut before the head was passed on: acceptable
    except Timeout:
        raise AssertionError("still trickling %.1fs later with request_timeout 1s" % (time.time() - t))
    took = time.time() - t
    if r.status == 504:
        return
    assert r.status == 200 and not r.complete, "want a cut connection, got a complete %r" % r
    assert took < 2.5, "cut after %.2fs with request_timeout 1s" % took


def test_upstream_closing_before_head_is_502():
    up = Upstream(close_before_head())
    cut = Cutover(simple_config(up))
    assert_error(cut.request("GET", "/x"), 502)
    assert up.requests, "the upstream never got the request"
