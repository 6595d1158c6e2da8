"""Bad upstream responses (reliability-anchors 2C): 502, truncation, queue poisoning."""

import time

from harness import ConnectionClosed, Cutover, assert_error, echoed, params, simple_config
from upstream import Upstream, raw, sequence, stall, truncate

BAD_RESPONSES = {
    "two_content_lengths": b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",  # U02
    "content_length_abc": b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\nabc",  # U03
    "content_length_negative": b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\nabc",
    "garbage_status_line": b"HELLO\r\n\r\n",  # U08
    "status_not_three_digits": b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",  # U16
    "bare_cr_in_header": b"HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 0\r\n\r\n",  # U14
}


@params(BAD_RESPONSES)
def test_invalid_upstream_response_is_502(data):
    up = Upstream(raw(data, close=True))
    cut = Cutover(simple_config(up))
    assert_error(cut.request("GET", "/bad"), 502)


def test_truncated_body_is_forwarded_then_connection_closed():
    # U06: Content-Length 10, only 3 bytes, then close
    up = Upstream(truncate(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"))
    cut = Cutover(simple_config(up))
    c = cut.client()
    c.request("GET", "/short")
    r = c.read_response(timeout=5)
    assert r.status == 200, r
    assert not r.complete, "a truncated upstream body arrived as a complete message: %r %r" % (r, r.body)
    assert r.body == b"abc", "client got %r, want exactly the 3 bytes the upstream sent" % r.body
    assert c.wait_closed(2.0), "connection not closed after the truncated body"


def test_extra_bytes_after_response_never_reach_next_request():
    # U10: response queue poisoning
    poison = (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
              b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL")
    up = Upstream(sequence([raw(poison)]))
    cut = Cutover(simple_config(up))
    c = cut.client()
    c.request("GET", "/first")
    r = c.read_response()
    assert r.status == 200 and r.body == b"ok", r
    for i in range(3):
        try:
            c.request("GET", "/next/%d" % i)
            r = c.read_response()
        except ConnectionClosed:
            c = cut.client()
            c.request("GET", "/next/%d" % i)
            r = c.read_response()
        assert r.body != b"EVIL", "a later request got the smuggled response"
        assert echoed(r)["target"] == "/next/%d" % i


def test_chunked_with_content_length_response_is_not_passed_on_raw():
    # U01: TE wins (forward the chunked body, drop CL) or 502; never both headers
    up = Upstream(sequence([raw(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n"
                                b"0\r\n\r\n")]))
    cut = Cutover(simple_config(up))
    r = cut.request("GET", "/u01")
    if r.status == 502:
        assert_error(r, 502)
    else:
        assert r.status == 200 and r.body == b"", r
        assert not (r.has_header("Content-Length") and r.has_header("Transfer-Encoding")), r.headers
    echoed(cut.request("GET", "/after"))


def test_obs_fold_in_response_is_502_or_unfolded():
    # U04
    up = Upstream(raw(b"HTTP/1.1 200 OK\r\nX-A: a\r\n b\r\nContent-Length: 2\r\n\r\nok"))
    cut = Cutover(simple_config(up))
    r = cut.request("GET", "/u04")
    if r.status == 502:
        assert_error(r, 502)
    else:
        assert r.status == 200 and r.body == b"ok" and "\n" not in (r.header("X-A") or ""), r.headers


def test_bad_chunk_size_in_response_is_502():
    # U05: nothing sent yet, so a clean 502
    up = Upstream(raw(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                      close=True))
    cut = Cutover(simple_config(up))
    c = cut.client()
    c.request("GET", "/u05")
    try:
        r = c.read_response()
    except ConnectionClosed:
        return  # the head had gone out already: cutting the connection is the answer
    if r.status == 200:
        assert not r.complete, "a broken chunked body arrived complete: %r" % r
    else:
        assert_error(r, 502)


def test_truncated_chunked_body_ends_without_terminal_chunk():
    # U07
    up = Upstream(truncate(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"))
    cut = Cutover(simple_config(up))
    c = cut.client()
    c.request("GET", "/u07")
    r = c.read_response(timeout=5)
    assert r.status == 200 and not r.complete, "a truncated chunked body arrived complete: %r" % r
    assert r.body == b"hel", r.body
    assert c.wait_closed(2.0)


def test_reset_mid_body_cuts_the_client_connection():
    # U20
    up = Upstream(truncate(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"r" * 5000, reset=True))
    cut = Cutover(simple_config(up))
    c = cut.client()
    c.request("GET", "/u20")
    r = c.read_response(timeout=5)
    assert r.status == 200 and not r.complete and len(r.body) <= 5000, r


def test_read_timeout_cuts_a_stalled_body():
    up = Upstream(stall(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 5, b"defghij"))
    cut = Cutover(simple_config(up, upstream={"read_timeout": "300ms"}))
    c = cut.client()
    t = time.time()
    c.request("GET", "/stall")
    r = c.read_response(timeout=4)
    assert r.status in (200, 504), r
    if r.status == 200:
        assert not r.complete and r.body == b"abc", r
    assert time.time() - t < 2.5, "stalled body cut after %.1fs with read_timeout 300ms" % (time.time() - t)
