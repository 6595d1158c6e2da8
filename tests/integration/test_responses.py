"""Bad upstream responses (reliability-anchors 2C): 502, truncation, queue poisoning."""

from harness import ConnectionClosed, Cutover, assert_error, echoed, params, simple_config
from upstream import Upstream, raw, sequence, truncate

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
