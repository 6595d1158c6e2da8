"""TLS, both ways (SPEC 2 `listeners[].tls` and `upstreams.*.tls`, 4.2's
connect-failure row, 4.6 reload).

Listener side: HTTPS is proxied with X-Forwarded-Proto: https; keep-alive
and large bodies both ways pass byte-identical over TLS; the certificate is
chosen by SNI (exact and one-label wildcard names, the first one the
default); min_version refuses older clients; ALPN selects http/1.1 and
never breaks a client offering only h2; plain HTTP on a TLS port gets a 400
in clear, garbage and silence are closed without harm; WebSocket tunnels run over TLS; a
reload serves renewed certificates to new connections while open ones go
on.

Upstream side: the chain is verified against `ca` and the name against
`sni` (or the host of the address; an IP address is checked against the IP
SANs and never sent as SNI); a failed handshake or verification is a
connect failure (502, `UF`, retried on another server) that never sends
the request; `verify: false` accepts any certificate; pooled TLS
connections are reused (TLS 1.3 session tickets do not kill them); health
checks speak TLS.

Config errors: each bad TLS key is refused by `cutover -t` with exit 1 and
one `FILE:LINE:COL:` error at the key or value at fault.

Certificates are made at test time with the openssl command (tlsutil.Pki).
"""

import hashlib
import os
import random
import re
import socket
import ssl
import threading
import time

import harness
from harness import (Cutover, assert_error, echo_header, echoed, free_port, run_cli, simple_config,
                     wait_until)
from probes import admin_call, events, expect, log_line, metrics, observed, upstreams
from tlsutil import (Pki, TLSClient, client_context, handshake, https_request, install,
                     plain_connection, refuses_handshake, server_context)
from upstream import Upstream, by_path, echo, large, pattern_sha256, raw, status, websocket

HANDSHAKE = [("Connection", "Upgrade"), ("Upgrade", "websocket"),
             ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]
NOBREAK = {"consecutive_failures": 100000, "min_requests": 100000}
UPSTREAM_NAMES = {"dns": ["app.internal", "localhost"], "ips": ["127.0.0.1"]}


# ------------------------------------------------------------------ helpers

def rel(cert):
    """A certificate's file names relative to the test's directory, where
    the config file is (relative names are resolved against it)."""
    return {"cert": os.path.basename(cert.crt), "key": os.path.basename(cert.key)}


def listener_tls(certs, min_version=None):
    t = {"certificates": [rel(c) for c in certs]}
    if min_version:
        t["min_version"] = min_version
    return t


def tls_cutover(up, certs, min_version=None, plain_too=False, upstream=None, route=None,
                admin=False, log=False, **top):
    """cutover with one TLS listener (and a plain one if plain_too) in
    front of simple_config(up). Returns (cut, tls port, plain port, admin
    port, access log path)."""
    tport = free_port()
    listeners = [{"address": "127.0.0.1:%d" % tport, "tls": listener_tls(certs, min_version)}]
    ports = [tport]
    pport = None
    if plain_too:
        pport = free_port()
        listeners.append({"address": "127.0.0.1:%d" % pport})
        ports.append(pport)
    cfg = simple_config(up, upstream=upstream, route=route, **top)
    cfg, logpath, aport = observed(cfg, log=log, admin=admin)
    cfg = dict([("listeners", listeners)] + list(cfg.items()))
    cut = Cutover(cfg, ports=ports)
    return cut, tport, pport, aport, logpath


def site(pki):
    """The usual listener setup: a CA and a certificate for a.example."""
    ca = pki.ca()
    return ca, pki.leaf("a", dns=["a.example"])


def upstream_tls_config(servers, tls, upstream=None, **top):
    """simple_config whose upstream "app" has this tls block, one try, a
    breaker that never opens, short timeouts, an access log and an admin
    listener -> (cfg, log path, admin port)."""
    u = {"tls": tls, "connect_timeout": "500ms", "response_timeout": "2s",
         "retry": {"attempts": 1}, "breaker": dict(NOBREAK)}
    u.update(upstream or {})
    return observed(simple_config(servers, upstream=u, **top))


def read_to_end(s):
    """Everything until the TLS stream ends -> (bytes, how it ended). With
    suppress_ragged_eofs=False on the socket, a FIN without close_notify
    shows as "eof without close_notify"."""
    got = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return got, "close_notify"
            got += chunk
    except ssl.SSLEOFError:
        return got, "eof without close_notify"
    except (ConnectionResetError, ssl.SSLError) as e:
        return got, "reset: %s" % e


def assert_connect_failure(r, logpath, rid, port):
    """What a refused connection gives (test_upstream_failures,
    test_retries): 502 "bad gateway", one try, flags ["UF"], a try counted
    as connect_failure."""
    assert_error(r, 502)
    assert r.json()["error"] == "bad gateway", r.body
    x = log_line(logpath, rid)
    assert (x["status"], x["tries"], x["flags"]) == (502, 1, ["UF"]), x
    text = metrics(port)
    expect(text, "cutover_upstream_tries_total", 1, upstream="app", outcome="connect_failure")
    expect(text, "cutover_upstream_tries_total", 0, upstream="app", outcome="success")


def random_bytes(n, seed=7):
    return random.Random(seed).randbytes(n)


def sha(data):
    return hashlib.sha256(data).hexdigest()


# ================================================================ listeners

def test_https_request_is_proxied_with_forwarded_proto_https():
    pki = Pki()
    ca, a = site(pki)
    up = Upstream(echo())
    cut, tport, pport, _, _ = tls_cutover(up, [a], plain_too=True)
    c = TLSClient(tport, client_context(ca, check_hostname=True), sni="a.example")
    assert c.fingerprint == a.fingerprint, "served %s, want a" % c.served(a)
    c.request("GET", "/secure?x=1", host="a.example")
    d = echoed(c.read_response())
    assert d["target"] == "/secure?x=1", d
    assert echo_header(d, "X-Forwarded-Proto") == "https", d["headers"]
    assert echo_header(d, "X-Forwarded-Host") == "a.example", d["headers"]
    assert echo_header(d, "Host") == "a.example", d["headers"]
    # The plain listener of the same process still says http.
    d = echoed(cut.request("GET", "/clear", port=pport))
    assert echo_header(d, "X-Forwarded-Proto") == "http", d["headers"]
    assert [q.target for q in up.requests] == ["/secure?x=1", "/clear"], up.targets()


@harness.params({"plain_upstream": False, "tls_upstream": True})
def test_keepalive_and_large_bodies_over_tls(tls_upstream):
    pki = Pki()
    ca, a = site(pki)
    big = 5 << 20
    behaviour = by_path({"/big": large(big)}, default=echo())
    if tls_upstream:
        up = Upstream(behaviour, tls=server_context(pki.leaf("app", **UPSTREAM_NAMES)))
        extra = {"tls": {"ca": ca.crt, "sni": "app.internal"}}
    else:
        up = Upstream(behaviour)
        extra = None
    cut, tport, _, _, _ = tls_cutover(up, [a], upstream=extra)
    c = TLSClient(tport, client_context(ca), sni="a.example", timeout=20)
    for i in range(3):
        c.request("GET", "/k/%d" % i)
        assert echoed(c.read_response())["target"] == "/k/%d" % i

    c.request("GET", "/big")
    r = c.read_response(timeout=20)
    assert r.status == 200 and r.complete, r
    assert len(r.body) == big and sha(r.body) == pattern_sha256(big), \
        "5 MiB body: %d bytes, sha256 %s" % (len(r.body), sha(r.body))

    body = random_bytes(3 << 20)
    c.send_raw_request(b"POST /upload HTTP/1.1\r\nHost: a.example\r\n"
                       b"Transfer-Encoding: chunked\r\n\r\n")
    step = 100000  # chunks that do not line up with TLS records
    for i in range(0, len(body), step):
        piece = body[i:i + step]
        c.send(b"%x\r\n%s\r\n" % (len(piece), piece))
    c.send(b"0\r\n\r\n")
    d = echoed(c.read_response(timeout=20))
    assert (d["body_len"], d["body_sha256"]) == (len(body), sha(body)), \
        "3 MiB chunked upload arrived as %d bytes, sha256 %s" % (d["body_len"], d["body_sha256"])

    c.request("GET", "/after")
    assert echoed(c.read_response())["target"] == "/after"
    reqs = up.requests
    assert [q.target for q in reqs] == ["/k/0", "/k/1", "/k/2", "/big", "/upload", "/after"], \
        up.targets()
    assert all(q.complete for q in reqs), reqs
    if tls_upstream:
        assert up.tls_handshakes == up.connections >= 1, (up.tls_handshakes, up.connections)


def test_certificate_is_chosen_by_sni():
    pki = Pki()
    ca = pki.ca()
    a = pki.leaf("a", dns=["a.example"])
    b = pki.leaf("b", dns=["b.example", "b2.example"])
    wild = pki.leaf("wild", dns=["*.w.example"])
    up = Upstream(echo())
    cut, tport, _, _, _ = tls_cutover(up, [a, b, wild])
    ctx = client_context(ca)
    want = {
        "b.example": "b", "b2.example": "b", "a.example": "a",
        "unknown.example": "a", None: "a",
        "x.w.example": "wild", "w.example": "a", "y.x.w.example": "a",
    }
    got = {sni: handshake(tport, ctx, sni).served(a, b, wild) for sni in want}
    assert got == want, "certificate served per SNI name: %r, want %r" % (got, want)
    # A name that matches verifies end to end, and the request is served.
    r = https_request(tport, client_context(ca, check_hostname=True), "GET", "/b",
                      sni="b.example", host="b.example")
    assert echoed(r)["target"] == "/b"
    assert cut.alive()


def test_min_version_tls13_refuses_a_tls12_client():
    pki = Pki()
    ca, a = site(pki)
    up = Upstream(echo())
    cut, tport, _, _, _ = tls_cutover(up, [a], min_version="TLSv1.3")
    err = refuses_handshake(tport, client_context(ca, maximum="TLSv1.2"), "a.example")
    assert "alert" in str(err).lower() or "version" in str(err).lower(), err
    c = TLSClient(tport, client_context(ca, minimum="TLSv1.3"), sni="a.example")
    assert c.version == "TLSv1.3", c.version
    c.request("GET", "/13")
    assert echoed(c.read_response())["target"] == "/13"
    assert [q.target for q in up.requests] == ["/13"], up.targets()


def test_default_min_version_accepts_tls12():
    pki = Pki()
    ca, a = site(pki)
    up = Upstream(echo())
    cut, tport, _, _, _ = tls_cutover(up, [a])
    c = TLSClient(tport, client_context(ca, maximum="TLSv1.2"), sni="a.example")
    assert c.version == "TLSv1.2", c.version
    for i in range(2):
        c.request("POST", "/12/%d" % i, body=random_bytes(40000, i))
        d = echoed(c.read_response())
        assert (d["target"], d["body_sha256"]) == ("/12/%d" % i, sha(random_bytes(40000, i))), d
    c = TLSClient(tport, client_context(ca), sni="a.example")
    assert c.version == "TLSv1.3", "a client allowing TLS 1.3 got %s" % c.version


def test_alpn_selects_http11_and_tolerates_h2_only():
    pki = Pki()
    ca, a = site(pki)
    up = Upstream(echo())
    cut, tport, _, _, _ = tls_cutover(up, [a])
    results = {}
    for offer in (["h2", "http/1.1"], ["http/1.1"], ["h2"], None):
        c = TLSClient(tport, client_context(ca, alpn=offer), sni="a.example")
        c.request("GET", "/alpn")
        r = c.read_response()
        results[str(offer)] = (c.alpn, r.status)
        c.close()
    want = {"['h2', 'http/1.1']": ("http/1.1", 200), "['http/1.1']": ("http/1.1", 200),
            # RFC 7301 allows a no_application_protocol alert; cutover
            # instead selects nothing, and the client may speak HTTP/1.1.
            "['h2']": (None, 200), "None": (None, 200)}
    assert results == want, "ALPN selected, status: %r, want %r" % (results, want)


GARBAGE = {
    "plain_http": b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n",
    "binary": bytes(range(256)) * 4,
    "bad_record_version": bytes.fromhex("1600000005") + b"\x01\x00\x00\x01\x00",
}


@harness.params({k: k for k in GARBAGE})
def test_non_tls_bytes_on_a_tls_port_are_closed(kind):
    pki = Pki()
    ca, a = site(pki)
    up = Upstream(echo())
    cut, tport, _, _, _ = tls_cutover(up, [a], client_timeouts={"header": "5s"})
    c = plain_connection(tport)
    c.send(GARBAGE[kind], ignore_errors=True)
    t = time.time()
    assert c.wait_closed(3.0), "%s: connection still open 3s later" % kind
    # Closed at once (not by the 5 s header timeout); nothing but a TLS
    # alert or a clear-text 400 may have been sent back.
    assert time.time() - t < 2.0, "%s: closed after %.1fs" % (kind, time.time() - t)
    got = bytes(c.buf)
    if kind == "plain_http":
        # As nginx does: a 400 in clear that says why, not a bare close.
        assert re.match(rb"HTTP/1\.1 400 ", got) and \
            b"plain HTTP request sent to a TLS port" in got, "%s: answered %r" % (kind, got[:300])
    else:
        assert got == b"" or got[:1] == b"\x15", "%s: answered %r" % (kind, got[:100])
    assert cut.alive()
    assert echoed(https_request(tport, client_context(ca), "GET", "/next",
                                sni="a.example"))["target"] == "/next"
    assert up.targets() == ["/next"], "garbage reached the upstream: %r" % up.targets()


SILENCES = {
    "nothing": b"",
    "half_client_hello": bytes.fromhex("16030100a5010000a10303") + b"\x00" * 40,
}


@harness.params({k: k for k in SILENCES})
def test_silent_tls_client_is_closed_by_the_header_timeout(kind):
    pki = Pki()
    ca, a = site(pki)
    up = Upstream(echo())
    cut, tport, _, _, _ = tls_cutover(up, [a], client_timeouts={"header": "1s"})
    c = plain_connection(tport)
    if SILENCES[kind]:
        c.send(SILENCES[kind])
    t = time.time()
    assert c.wait_closed(4.0), "%s: connection still open 4s later (header timeout 1s)" % kind
    took = time.time() - t
    assert 0.8 <= took <= 2.5, "%s: closed after %.2fs, header timeout 1s" % (kind, took)
    assert echoed(https_request(tport, client_context(ca), "GET", "/next",
                                sni="a.example"))["target"] == "/next"


def test_handshake_then_silence_is_closed_by_the_header_timeout():
    pki = Pki()
    ca, a = site(pki)
    up = Upstream(echo())
    cut, tport, _, _, _ = tls_cutover(up, [a], client_timeouts={"header": "1s"})
    t = time.time()  # the header timeout runs from the accept, the handshake included
    c = TLSClient(tport, client_context(ca), sni="a.example")
    assert c.wait_closed(4.0), "TLS connection without a request still open 4s later"
    took = time.time() - t
    assert 0.8 <= took <= 2.5, "closed after %.2fs, header timeout 1s" % took
    assert cut.alive()


def test_websocket_upgrade_over_tls():
    pki = Pki()
    ca, a = site(pki)
    up = Upstream(websocket())
    cut, tport, _, _, _ = tls_cutover(up, [a])
    c = TLSClient(tport, client_context(ca), sni="a.example")
    c.request("GET", "/ws", HANDSHAKE)
    r = c.read_response()
    assert r.status == 101, "want 101 Switching Protocols, got %r %r" % (r, r.body[:200])
    assert r.header("Sec-WebSocket-Accept") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", r.headers
    assert up.requests[0].header("X-Forwarded-Proto") == "https", up.requests[0].headers
    for payload in (b"hello", random_bytes(100000), b"\x00\xff\r\n\r\nGET / HTTP/1.1\r\n\r\n"):
        c.send(payload)
        got = c.recv_exact(len(payload), timeout=5)
        assert got == payload, "tunnel echoed %d of %d bytes (sha %s)" % (
            len(got), len(payload), sha(got))


def reload_setup(first):
    """cutover serving site.crt/site.key (a copy of `first`) with an admin
    listener; returns (cut, tls port, admin port)."""
    crt, key = (os.path.join(harness.tmpdir(), n) for n in ("site.crt", "site.key"))
    install(first, crt, key)
    up = Upstream(echo())
    tport = free_port()
    cfg, _, aport = observed(simple_config(up), log=False)
    cfg = dict([("listeners", [{"address": "127.0.0.1:%d" % tport,
                                "tls": {"certificates": [{"cert": "site.crt",
                                                          "key": "site.key"}]}}])]
               + list(cfg.items()))
    cut = Cutover(cfg, ports=[tport])
    admin_call(aport, "/healthz")
    return cut, tport, aport


def test_reload_serves_a_renewed_certificate():
    pki = Pki()
    ca = pki.ca()
    cert1 = pki.leaf("site1", dns=["a.example"])
    cert2 = pki.leaf("site2", dns=["a.example"])
    cut, tport, aport = reload_setup(cert1)
    ctx = client_context(ca, check_hostname=True)
    old = TLSClient(tport, ctx, sni="a.example")
    assert old.fingerprint == cert1.fingerprint, old.served(cert1, cert2)
    old.request("GET", "/before")
    assert echoed(old.read_response())["target"] == "/before"

    install(cert2, os.path.join(harness.tmpdir(), "site.crt"),
            os.path.join(harness.tmpdir(), "site.key"))
    st, answer = admin_call(aport, "/reload", "POST", timeout=10)
    assert st == 200 and "configuration OK" in answer, "POST /reload: %d %r" % (st, answer)
    new = TLSClient(tport, ctx, sni="a.example")
    assert new.fingerprint == cert2.fingerprint, \
        "after the reload a new connection got %s" % new.served(cert1, cert2)
    new.request("GET", "/new")
    assert echoed(new.read_response())["target"] == "/new"
    # The connection opened before the reload goes on, on its old session.
    for i in range(2):
        old.request("GET", "/old/%d" % i)
        assert echoed(old.read_response())["target"] == "/old/%d" % i


def test_sni_after_the_accepting_generation_is_gone():
    # A connection accepted under one generation sends its ClientHello
    # only after two reloads freed that generation: the SNI choice must
    # still find its certificates (under ASan a use-after-free otherwise).
    pki = Pki()
    ca = pki.ca()
    a = pki.leaf("a", dns=["a.example"])
    b = pki.leaf("b", dns=["b.example"])
    up = Upstream(echo())
    tport = free_port()
    cfg, _, aport = observed(simple_config(up), log=False)
    cfg = dict([("listeners", [{"address": "127.0.0.1:%d" % tport,
                                "tls": listener_tls([a, b])}])] + list(cfg.items()))
    cut = Cutover(cfg, ports=[tport])
    admin_call(aport, "/healthz")
    # The generation loaded at start is kept by the process: leave it first.
    st, answer = admin_call(aport, "/reload", "POST", timeout=10)
    assert st == 200, answer
    raw = socket.create_connection(("127.0.0.1", tport), timeout=5)
    time.sleep(0.2)  # accepted under the second generation
    for _ in range(2):
        st, answer = admin_call(aport, "/reload", "POST", timeout=10)
        assert st == 200, answer
    time.sleep(0.5)  # the workers switch; nothing else holds that generation
    s = client_context(ca).wrap_socket(raw, server_hostname="b.example")
    served = hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest()
    assert served == b.fingerprint, "SNI b.example was served %s" % (
        "a's certificate" if served == a.fingerprint else served)
    s.sendall(b"GET /late HTTP/1.1\r\nHost: b.example\r\nConnection: close\r\n\r\n")
    got, how = read_to_end(s)
    assert got.startswith(b"HTTP/1.1 200 "), (got[:200], how)
    assert cut.alive()


def test_a_cut_response_ends_without_close_notify():
    # A response cut short (the upstream closes mid-body) must not end
    # with a close_notify: that would tell the client the data is whole.
    # A whole response on a closing connection does end with one.
    pki = Pki()
    ca, cert = site(pki)
    up = Upstream(by_path({
        "/cut": raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part", close=True),
    }, default=echo()))
    cut, tport, _, _, _ = tls_cutover(up, [cert])

    def ending(path):
        s = client_context(ca).wrap_socket(
            socket.create_connection(("127.0.0.1", tport), timeout=5),
            server_hostname="a.example", suppress_ragged_eofs=False)
        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: a.example\r\nConnection: close\r\n\r\n")
        return read_to_end(s)

    got, how = ending(b"/cut")
    assert got.startswith(b"HTTP/1.1 200 ") and got.endswith(b"only part"), got[:200]
    assert how != "close_notify", "a cut response ended with %s" % how
    got, how = ending(b"/whole")
    assert got.startswith(b"HTTP/1.1 200 "), got[:200]
    assert how == "close_notify", "a whole response ended with %s" % how


def test_reload_with_a_mismatched_key_keeps_the_served_certificate():
    pki = Pki()
    ca = pki.ca()
    cert1 = pki.leaf("site1", dns=["a.example"])
    cert2 = pki.leaf("site2", dns=["a.example"])
    cut, tport, aport = reload_setup(cert1)
    # A renewal half done: the new certificate with the old key.
    tmp = os.path.join(harness.tmpdir(), "site.crt.new")
    with open(cert2.crt, "rb") as f, open(tmp, "wb") as g:
        g.write(f.read())
    os.replace(tmp, os.path.join(harness.tmpdir(), "site.crt"))
    st, answer = admin_call(aport, "/reload", "POST", timeout=10)
    assert st == 400, "POST /reload with a mismatched key: %d %r" % (st, answer)
    assert re.search(r"cutover-\d+\.yaml:\d+:\d+: ", answer), "no FILE:LINE:COL: %r" % answer
    c = TLSClient(tport, client_context(ca, check_hostname=True), sni="a.example")
    assert c.fingerprint == cert1.fingerprint, "after a failed reload: %s" % c.served(cert1, cert2)
    c.request("GET", "/still")
    assert echoed(c.read_response())["target"] == "/still"


# ================================================================ upstreams

@harness.params({
    "sni_set": ("127.0.0.1", "app.internal", "app.internal"),
    "host_name": ("localhost", None, "localhost"),
    "ip_literal": ("127.0.0.1", None, None),
})
def test_tls_upstream_verifies_and_sends_sni(host, sni, want_sni):
    pki = Pki()
    ca = pki.ca()
    up = Upstream(echo(), tls=server_context(pki.leaf("app", **UPSTREAM_NAMES)))
    tls = {"verify": True, "ca": ca.crt}
    if sni:
        tls["sni"] = sni
    cfg, logpath, aport = upstream_tls_config("%s:%d" % (host, up.port), tls)
    cut = Cutover(cfg)
    r = cut.request("GET", "/over-tls", [("X-Request-ID", "tls-ok")])
    assert echoed(r)["target"] == "/over-tls"
    assert (up.tls_handshakes, up.sni_names) == (1, [want_sni]), \
        "upstream saw %d handshake(s) with SNI %r, want 1 with %r" % (
            up.tls_handshakes, up.sni_names, want_sni)
    assert up.requests[0].conn_id == up.tls_conns[0]["conn"], (up.requests, up.tls_conns)
    x = log_line(logpath, "tls-ok")
    assert (x["status"], x["tries"], x["flags"]) == (200, 1, []), x


@harness.params({
    "other_ca": ("other_ca", {}),
    "self_signed": ("self_signed", {}),
    "name_not_sni": ("good", {"sni": "other.internal"}),
    "ip_without_ip_san": ("dns_only", {}),
    # No ca: the system's trust store, which does not know the test CA.
    "system_store": ("good", {"ca": None, "sni": "app.internal"}),
})
def test_unverifiable_upstream_is_a_connect_failure(kind, extra_tls):
    pki = Pki()
    ca = pki.ca()
    cert = {
        "other_ca": lambda: pki.leaf("foreign", ca="other-ca", **UPSTREAM_NAMES),
        "self_signed": lambda: pki.self_signed("self", **UPSTREAM_NAMES),
        "good": lambda: pki.leaf("app", **UPSTREAM_NAMES),
        "dns_only": lambda: pki.leaf("dns-only", dns=["app.internal"]),
    }[kind]()
    up = Upstream(echo(), tls=server_context(cert))
    tls = {"verify": True, "ca": ca.crt}
    tls.update(extra_tls)
    tls = {k: v for k, v in tls.items() if v is not None}
    cfg, logpath, aport = upstream_tls_config(up, tls)
    cut = Cutover(cfg)
    r = cut.request("GET", "/x", [("X-Request-ID", "bad-cert")])
    assert_connect_failure(r, logpath, "bad-cert", aport)
    # The handshake was given up: the request never went to that server.
    wait_until(lambda: up.tls_failures, 3, "the upstream to see the handshake fail")
    assert up.requests == [] and up.tls_handshakes == 0, (up.requests, up.tls_handshakes)
    assert cut.alive()


def test_unverifiable_server_is_retried_on_the_good_one():
    pki = Pki()
    ca = pki.ca()
    bad = Upstream(echo(), name="bad",
                   tls=server_context(pki.leaf("foreign", ca="other-ca", **UPSTREAM_NAMES)))
    good = Upstream(echo(), name="good", tls=server_context(pki.leaf("app", **UPSTREAM_NAMES)))
    cfg, logpath, aport = upstream_tls_config([bad, good], {"ca": ca.crt, "sni": "app.internal"},
                                              upstream={"retry": {"attempts": 2,
                                                                  "min_retries_per_second": 1000}})
    cut = Cutover(cfg)
    n = 6
    for i in range(n):
        r = cut.request("GET", "/r/%d" % i, [("X-Request-ID", "rt-%d" % i)])
        assert echoed(r)["target"] == "/r/%d" % i, r
    lines = [log_line(logpath, "rt-%d" % i) for i in range(n)]
    retried = [x for x in lines if x["tries"] == 2]
    assert retried, "no request was tried on the bad server first: %r" % lines
    for x in lines:
        want = (200, good.address, ["UF"] if x["tries"] == 2 else [])
        assert (x["status"], x["server"], x["flags"]) == want, x
    assert sorted(good.targets()) == sorted("/r/%d" % i for i in range(n)), good.targets()
    assert bad.requests == [], bad.requests
    wait_until(lambda: len(bad.tls_failures) >= len(retried), 3, "the bad server's failures")
    assert len(bad.tls_failures) == len(retried), (bad.tls_failures, len(retried))
    expect(metrics(aport), "cutover_upstream_tries_total", len(retried), upstream="app",
           outcome="connect_failure")


@harness.params({
    "self_signed": ("self_signed", None, None),
    "other_ca": ("other_ca", None, None),
    "name_mismatch": ("other_ca", "other.internal", "other.internal"),
})
def test_verify_false_accepts_any_certificate(kind, sni, want_sni):
    pki = Pki()
    if kind == "self_signed":
        cert = pki.self_signed("self", dns=["app.internal"])
    else:
        cert = pki.leaf("foreign", ca="other-ca", dns=["app.internal"])
    up = Upstream(echo(), tls=server_context(cert))
    tls = {"verify": False}
    if sni:
        tls["sni"] = sni
    cfg, logpath, aport = upstream_tls_config(up, tls)
    cut = Cutover(cfg)
    r = cut.request("GET", "/trusting", [("X-Request-ID", "nv")])
    assert echoed(r)["target"] == "/trusting"
    assert up.sni_names == [want_sni], up.sni_names
    assert log_line(logpath, "nv")["flags"] == [], log_line(logpath, "nv")


def test_tls_upstream_connections_are_pooled():
    pki = Pki()
    ca = pki.ca()
    up = Upstream(echo(), tls=server_context(pki.leaf("app", **UPSTREAM_NAMES)))
    cfg, logpath, aport = upstream_tls_config(up, {"ca": ca.crt, "sni": "app.internal"})
    cut = Cutover(cfg)
    for i in range(20):
        assert echoed(cut.request("GET", "/p/%d" % i))["target"] == "/p/%d" % i
        if i % 5 == 4:
            time.sleep(0.1)  # idle in the pool a moment: the session tickets are read by now
    assert len(up.requests) == 20, up.targets()
    assert up.tls_conns and up.tls_conns[0]["version"] == "TLSv1.3", up.tls_conns
    assert up.connections <= 2 and up.tls_handshakes <= 2, \
        "20 sequential requests used %d connection(s), %d TLS handshake(s): %r" % (
            up.connections, up.tls_handshakes, sorted({q.conn_id for q in up.requests}))


def test_new_upstream_connections_resume_the_last_session():
    # The server closes after every answer, so each request opens a new
    # connection: after the first full handshake (and its session ticket),
    # every later one resumes. workers: 1 so one pool sees them all.
    pki = Pki()
    ca = pki.ca()
    up = Upstream(echo(headers=[("Connection", "close")]),
                  tls=server_context(pki.leaf("app", **UPSTREAM_NAMES)))
    cfg, logpath, aport = upstream_tls_config(up, {"ca": ca.crt, "sni": "app.internal"},
                                              workers=1)
    cut = Cutover(cfg)
    for i in range(6):
        assert echoed(cut.request("GET", "/r/%d" % i))["target"] == "/r/%d" % i
    wait_until(lambda: len(up.tls_conns) == 6, what="6 TLS connections")
    resumed = [c["resumed"] for c in up.tls_conns]
    assert resumed == [False] + [True] * 5, resumed
    assert all(c["sni"] == "app.internal" for c in up.tls_conns), up.tls_conns


class ClearTextServer:
    """A plain HTTP server in front of which cutover expects TLS: it reads
    what comes (a ClientHello) and, if answer, says 400 in clear and
    closes, as HTTP servers do with bytes they cannot parse."""

    def __init__(self, answer=True):
        self.answer = answer
        self.first_bytes = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.address = "127.0.0.1:%d" % self.port
        self.stopping = threading.Event()
        threading.Thread(target=self._loop, daemon=True).start()
        harness.on_cleanup(self.stop)

    def _loop(self):
        while not self.stopping.is_set():
            try:
                s, _ = self.sock.accept()
            except OSError:
                return
            s.settimeout(3)
            try:
                self.first_bytes.append(s.recv(5))
                if self.answer:
                    s.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n"
                              b"Connection: close\r\n\r\n")
                else:
                    while s.recv(4096):
                        pass
            except OSError:
                pass
            s.close()

    def stop(self):
        self.stopping.set()
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept()
        except OSError:
            pass
        self.sock.close()


@harness.params({"answers_400": True, "silent": False})
def test_plain_server_behind_a_tls_upstream_is_a_connect_failure(answer):
    pki = Pki()
    ca = pki.ca()
    plain = ClearTextServer(answer)
    cfg, logpath, aport = upstream_tls_config(plain, {"ca": ca.crt, "sni": "app.internal"},
                                              upstream={"connect_timeout": "300ms"})
    cut = Cutover(cfg)
    t = time.time()
    r = cut.request("GET", "/x", [("X-Request-ID", "clear")])
    took = time.time() - t
    assert_connect_failure(r, logpath, "clear", aport)
    assert took < 2.0, "502 after %.2fs (connect_timeout 300ms)" % took
    assert plain.first_bytes and plain.first_bytes[0][:1] == b"\x16", \
        "cutover did not start with a TLS handshake record: %r" % plain.first_bytes
    assert cut.alive()
    assert_error(cut.request("GET", "/again"), 502)


HEALTH = {"path": "/healthz", "interval": "200ms", "timeout": "200ms",
          "healthy": 2, "unhealthy": 3}


def healthz_upstream(name, tls=None):
    return Upstream(by_path({"/healthz": status(200, b"health\n")}, default=echo()),
                    name=name, tls=tls)


def health_checks(up):
    with up.lock:
        return [q for q in up.requests if q.path == HEALTH["path"]]


def test_health_checks_speak_tls():
    pki = Pki()
    ca = pki.ca()
    good = healthz_upstream("good", tls=server_context(pki.leaf("app", **UPSTREAM_NAMES)))
    plain = healthz_upstream("plain")
    cfg, _, aport = upstream_tls_config([good, plain], {"ca": ca.crt, "sni": "app.internal"},
                                        upstream={"health_check": dict(HEALTH)})
    cut = Cutover(cfg)

    def healthy(up):
        return {s["address"]: s.get("healthy") for s in upstreams(aport)["app"]["servers"]}[
            up.address]

    wait_until(lambda: healthy(plain) is False, 4, "the plain server to be marked down")
    down = [e for e in events(cut, "health_changed") if e.get("server") == plain.address]
    assert [e["state"] for e in down] == ["down"], down
    assert plain.requests == [], "a check reached the plain server in clear: %r" % plain.requests
    wait_until(lambda: plain.bad, 3, "a check connection to the plain server to end")
    assert plain.bad[0][1][:1] == b"\x16", "not a TLS record: %r" % plain.bad[0][1][:20]

    wait_until(lambda: len(health_checks(good)) >= 3, 4, "three health checks of the TLS server")
    checks = health_checks(good)
    assert all(q.method == "GET" and q.complete for q in checks), checks
    assert good.tls_handshakes >= len(checks), (good.tls_handshakes, len(checks))
    assert set(good.sni_names) == {"app.internal"}, good.sni_names
    assert healthy(good) is True
    assert not [e for e in events(cut, "health_changed") if e.get("server") == good.address]
    for i in range(4):
        assert echoed(cut.request("GET", "/h/%d" % i))["target"] == "/h/%d" % i
    assert sorted(q.target for q in good.requests if q.path != HEALTH["path"]) == \
        ["/h/%d" % i for i in range(4)]


# ============================================================ config errors

GOOD = """\
listeners:
  - address: "127.0.0.1:18443"
    tls:
      certificates:
        - cert: a.crt
          key: a.key
        - cert: b.crt
          key: b.key
      min_version: TLSv1.2
upstreams:
  app:
    servers:
      - address: "127.0.0.1:18444"
    tls:
      verify: true
      ca: ca.crt
      sni: app.internal
routes:
  - name: all
    match: { path_prefix: / }
    upstream: app
"""

CERT_ENTRY_B = ("        - cert: b.crt", "          key: b.key")


def conf_dir():
    """A directory apart from cutover's working directory, with the
    certificates the config names (relative to the config file)."""
    d = os.path.join(harness.tmpdir(), "conf")
    os.makedirs(d, exist_ok=True)
    pki = Pki(d)
    pki.ca()
    pki.leaf("a", dns=["a.example"])
    pki.leaf("b", dns=["b.example"])
    return d


def check(text):
    conf_dir()
    harness.write_file("conf/tls.yaml", text)
    return run_cli(["-t", "-c", "conf/tls.yaml"])


def test_check_accepts_a_good_tls_config():
    r = check(GOOD)
    assert r.code == 0, "exit %s, want 0: %r" % (r.code, r)
    assert "configuration OK" in r.stdout, r
    r = check(GOOD.replace("      verify: true\n      ca: ca.crt\n      sni: app.internal\n",
                           "      verify: false\n").replace("      min_version: TLSv1.2\n", ""))
    assert r.code == 0, "exit %s, want 0 (verify false, default min_version): %r" % (r.code, r)


def columns(line):
    """The columns (1-based) a FILE:LINE:COL may name on this line: the
    list item's dash, the key, the value."""
    cols = set()
    body = line.lstrip(" ")
    col = len(line) - len(body) + 1
    if body.startswith("- "):
        cols.add(col)
        body = body[2:]
        col += 2
    cols.add(col)
    key, sep, value = body.partition(": ")
    if sep:
        cols.add(col + len(key) + 2 + (len(value) - len(value.lstrip(" "))))
    return cols


BAD = {
    # id: (replace this, with this, lines that may be named, message regex)
    "missing_cert": ("        - cert: b.crt", "        - cert: nowhere.crt",
                     ["        - cert: nowhere.crt"], r"nowhere\.crt"),
    # A key file that cannot be read is named at its value; a key that is
    # not its certificate's, at the entry (the pair is at fault).
    "missing_key": ("          key: b.key", "          key: nowhere.key",
                    ["          key: nowhere.key"], r"cannot load key \".*nowhere\.key\""),
    "key_not_matching": ("          key: b.key", "          key: a.key",
                         [CERT_ENTRY_B[0]],
                         r"key \".*a\.key\" does not match certificate \".*b\.crt\""),
    "empty_certificates": ("      certificates:\n        - cert: a.crt\n          key: a.key\n"
                           "        - cert: b.crt\n          key: b.key\n",
                           "      certificates: []\n", ["      certificates: []"],
                           r"(?i)certificate"),
    "min_version_tls11": ("      min_version: TLSv1.2", "      min_version: TLSv1.1",
                          ["      min_version: TLSv1.1"], r"TLSv1\.2 or TLSv1\.3.*TLSv1\.1"),
    "min_version_x": ("      min_version: TLSv1.2", '      min_version: "x"',
                      ['      min_version: "x"'], r'TLSv1\.2 or TLSv1\.3.*"x"'),
    "unknown_listener_tls_key": ("      min_version: TLSv1.2",
                                 "      min_version: TLSv1.2\n      ciphers: HIGH",
                                 ["      ciphers: HIGH"], r'unknown key "ciphers"'),
    "missing_ca": ("      ca: ca.crt", "      ca: nowhere-ca.pem", ["      ca: nowhere-ca.pem"],
                   r"nowhere-ca\.pem"),
    "verify_maybe": ("      verify: true", "      verify: maybe", ["      verify: maybe"],
                     r"(?i)true or false.*maybe"),
}


@harness.params({k: k for k in BAD})
def test_check_refuses_bad_tls_config(kind):
    old, new, lines_named, message = BAD[kind]
    assert old in GOOD, old
    text = GOOD.replace(old, new)
    r = check(text)
    assert r.code == 1, "exit %s, want 1: %r" % (r.code, r)
    places = re.findall(r"(?:^|[\s/])tls\.yaml:(\d+):(\d+): (.*)$", r.stderr, re.M)
    assert len(places) == 1, "want exactly one FILE:LINE:COL error: %r" % r.stderr
    lineno, col, msg = int(places[0][0]), int(places[0][1]), places[0][2]
    file_lines = text.split("\n")
    allowed = {}
    for want in lines_named:
        n = file_lines.index(want) + 1
        allowed[n] = columns(want)
    assert lineno in allowed and col in allowed[lineno], \
        "error at %d:%d, want one of %r (line: column set): %r" % (lineno, col, allowed, r.stderr)
    assert re.search(message, msg), "message %r does not match /%s/" % (msg, message)
    assert "not supported" not in msg, msg
