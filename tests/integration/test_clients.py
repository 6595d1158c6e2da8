"""Odd and abusive clients (reliability-anchors 2B: S02, S08, S09, S10) and an
independent client (curl) for interoperability."""

import shutil
import socket
import subprocess
import time

from harness import Client, ConnectionClosed, Cutover, Skip, echoed, simple_config
from upstream import Upstream, echo


def test_body_that_never_arrives_is_closed_after_body_timeout():
    # S02: Content-Length 10, 3 bytes, then silence
    up = Upstream(echo())
    cut = Cutover(simple_config(up, client_timeouts={"body": "500ms"}))
    c = cut.client()
    c.pending.append("POST")
    c.send(b"POST /slow-body HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc")
    t = time.time()
    assert c.wait_closed(3.0), "connection still open 3s into a stalled body (body timeout 500ms)"
    assert time.time() - t < 2.5
    echoed(cut.request("GET", "/canary"))


def test_many_pipelined_requests_are_answered_in_order():
    # S08, scaled down: 500 GETs in one write
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    c = cut.client(timeout=10)
    n = 500
    c.send_raw_request(b"".join(Client.build("GET", "/p/%d" % i) for i in range(n)))
    c.pending.extend(["GET"] * (n - 1))
    for i in range(n):
        try:
            r = c.read_response()
        except ConnectionClosed:
            assert i > 0, "closed before answering anything"
            break  # closing part way is allowed; answering out of order is not
        assert echoed(r)["target"] == "/p/%d" % i, "response %d out of order" % i
    assert cut.alive()


GARBAGE = {
    "binary": bytes(range(256)) * 4,
    "tls_client_hello": bytes.fromhex("16030100a5010000a10303") + b"\x00" * 40,
    "no_version": b"GET /\r\n\r\n",
    "lone_crlfs": b"\r\n" * 2000,
}


def test_garbage_gets_400_or_close_and_cutover_stays_up():
    # S09
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    for name, data in GARBAGE.items():
        c = cut.client()
        c.send(data, ignore_errors=True)
        try:
            r = c.read_response(timeout=3)
            assert 400 <= r.status < 500, "%s: got %r" % (name, r)
        except ConnectionClosed:
            pass
        c.close()
    assert up.bytes_received == 0, "garbage reached the upstream: %s" % up.targets()
    echoed(cut.request("GET", "/canary"))


def test_half_closed_client_still_gets_its_response():
    # S10: request, then shutdown(SHUT_WR)
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    c = cut.client()
    c.request("GET", "/half")
    c.sock.shutdown(socket.SHUT_WR)
    assert echoed(c.read_response())["target"] == "/half"


def test_curl_reuses_one_connection():
    curl = shutil.which("curl")
    if not curl:
        raise Skip("curl not installed")
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    url = "http://127.0.0.1:%d" % cut.port
    p = subprocess.run([curl, "-sv", "--max-time", "5", url + "/one", url + "/two"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=10)
    err = p.stderr.decode("utf-8", "replace")
    assert p.returncode == 0, "curl exit %d: %s" % (p.returncode, err[-500:])
    assert p.stdout.count(b'"method": "GET"') == 2, p.stdout[:300]
    assert "Re-using existing connection" in err or "Reusing existing connection" in err, err[-800:]
