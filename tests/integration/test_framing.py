"""Hostile request framing (reliability-anchors 2A): rejected, nothing forwarded.

Each row: raw request bytes -> the status cutover must answer with. For every
row the upstream must have received zero bytes, 400s and 501s must close the
connection, and a canary request on a new connection must still work."""

import time

from harness import Client, ConnectionClosed, Cutover, assert_error, echoed, params, simple_config
from upstream import Upstream, echo

H = b"Host: a\r\n"
LIMITS = {"max_target_bytes": 1024, "max_header_bytes": 4096, "max_headers": 20,
          "max_body_bytes": 1000}

CASES = {
    # R01/R02: Content-Length with Transfer-Encoding, both orders
    "cl_then_te": (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX", 400),
    "te_then_cl": (b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n8\r\nSMUGGLED\r\n0\r\n\r\n", 400),
    # R03: two different lengths
    "two_content_lengths": (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1\r\nContent-Length: 2\r\n\r\nZZ", 400),
    # R05: Content-Length = 1*DIGIT
    "cl_plus": (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: +1\r\n\r\nZ", 400),
    "cl_minus": (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: -1\r\n\r\nZ", 400),
    "cl_hex": (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 0x1\r\n\r\nZ", 400),
    "cl_underscore": (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 1_0\r\n\r\n0123456789", 400),
    "cl_empty": (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: \r\n\r\nZ", 400),
    "cl_overflow": (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 99999999999999999999999\r\n\r\nZ", 400),
    # R28: chunk-size = 1*HEXDIG
    "chunk_size_0x": (b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0x1\r\nZ\r\n0\r\n\r\n", 400),
    "chunk_size_negative": (b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n-1\r\nZ\r\n0\r\n\r\n", 400),
    "chunk_size_empty": (b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n\r\nZ\r\n0\r\n\r\n", 400),
    # R10, R11: obs-fold
    "obs_fold": (b"GET / HTTP/1.1\r\n" + H + b"X-A: a\r\n b\r\n\r\n", 400),
    "obs_fold_on_te": (b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding:\r\n chunked\r\n\r\n0\r\n\r\n", 400),
    # R23, R24: bare CR, NUL
    "nul_in_value": (b"GET / HTTP/1.1\r\n" + H + b"X-A: a\x00b\r\n\r\n", 400),
    "bare_cr_in_value": (b"GET / HTTP/1.1\r\n" + H + b"X-A: a\rb\r\n\r\n", 400),
    # R08, R09: whitespace around field names
    "space_before_colon": (b"POST / HTTP/1.1\r\n" + H + b"Content-Length : 1\r\n\r\nZ", 400),
    "leading_whitespace_first_header": (b"GET / HTTP/1.1\r\n Host: a\r\n\r\n", 400),
    # R42: Host
    "missing_host_http11": (b"GET / HTTP/1.1\r\nX-A: b\r\n\r\n", 400),
    "two_hosts": (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
    # R15, R46
    "te_gzip_chunked": (b"POST / HTTP/1.1\r\n" + H + b"Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501),
    "http_2_0": (b"GET / HTTP/2.0\r\n" + H + b"\r\n", 505),
    # R55, S06: limits
    "target_too_long": (b"GET /" + b"a" * 2000 + b" HTTP/1.1\r\n" + H + b"\r\n", 414),
    "too_many_headers": (b"GET / HTTP/1.1\r\n" + H + b"".join(b"X-%d: v\r\n" % i for i in range(30)) + b"\r\n", 431),
    "header_too_large": (b"GET / HTTP/1.1\r\n" + H + b"X-Big: " + b"v" * 5000 + b"\r\n\r\n", 431),
    "body_over_limit": (b"POST / HTTP/1.1\r\n" + H + b"Content-Length: 2000\r\n\r\n" + b"z" * 2000, 413),
}


def start():
    up = Upstream(echo())
    cut = Cutover(simple_config(up, limits=LIMITS))
    return up, cut


def canary(cut):
    echoed(cut.request("GET", "/canary"))


@params(CASES)
def test_rejected_and_nothing_forwarded(data, status):
    up, cut = start()
    c = cut.client()
    c.send_raw_request(data)
    r = c.read_response(timeout=3)
    assert_error(r, status)
    if status in (400, 501):
        assert c.wait_closed(2.0), "connection still open after %d" % status
    time.sleep(0.1)
    assert up.bytes_received == 0, "upstream received %d bytes: %s" % (up.bytes_received, up.targets())
    canary(cut)


def test_chunked_body_over_limit_is_413_or_cut():
    up, cut = start()
    c = cut.client()
    c.pending.append("POST")
    c.send(b"POST /big HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"258\r\n" + b"x" * 600 + b"\r\n")
    time.sleep(0.2)
    c.send(b"258\r\n" + b"y" * 600 + b"\r\n0\r\n\r\n", ignore_errors=True)
    try:
        r = c.read_response(timeout=3)
        assert_error(r, 413)
    except ConnectionClosed:
        pass  # the head was already forwarded: cutting the connection is the answer
    done = [q for q in up.requests if q.complete and q.body_len > LIMITS["max_body_bytes"]]
    assert not done, "upstream got a complete over-limit body: %r" % done
    canary(cut)


def test_pipelined_bad_request_stops_the_pipeline():
    up, cut = start()
    c = cut.client()
    c.send_raw_request(Client.build("GET", "/one") + CASES["cl_then_te"][0] + Client.build("GET", "/three"))
    c.pending.extend(["POST", "GET"])
    assert echoed(c.read_response())["target"] == "/one"
    assert_error(c.read_response(), 400)
    assert c.wait_closed(2.0), "connection still open after a 400"
    time.sleep(0.1)
    assert up.targets() == ["/one"], "upstream saw %s" % up.targets()


def test_leading_empty_lines_are_skipped():
    up, cut = start()
    c = cut.client()
    c.send_raw_request(b"\r\n" + Client.build("GET", "/after-crlf"), method="GET")
    assert echoed(c.read_response())["target"] == "/after-crlf"
