"""TLS helpers for the integration tests (Python 3 stdlib and the openssl
command): certificates made at test time, client and server contexts, and
a raw HTTP/1.1 client over TLS that frames responses like harness.Client.

    pki = Pki()                                   # files in the test's directory
    ca = pki.ca()                                 # a CA ("ca.crt", "ca.key")
    a = pki.leaf("a", dns=["a.example"])          # signed by ca, SAN DNS:a.example
    other = pki.ca("other-ca"); pki.leaf("x", dns=[...], ca="other-ca")
    pki.self_signed("self", dns=["app.internal"])
    c = TLSClient(port, client_context(ca), sni="a.example")
    c.request("GET", "/"); r = c.read_response(); c.fingerprint == a.fingerprint
    up = Upstream(echo(), tls=server_context(a))  # a TLS upstream (upstream.py)

Not a test module (run.py only collects test_*.py)."""

import hashlib
import os
import shutil
import ssl
import subprocess

import harness
from harness import Client, ConnectionClosed

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
DAYS = "3"


class HandshakeFailed(AssertionError):
    """The TLS handshake with cutover did not complete; .error is the cause."""

    def __init__(self, message, error):
        super().__init__(message)
        self.error = error


# ------------------------------------------------------------ certificates

class Cert:
    """A certificate and its key in PEM files; the DER bytes and SHA-256
    fingerprint are what a client compares with what it was served."""

    def __init__(self, name, crt, key):
        self.name, self.crt, self.key = name, crt, key

    def der(self):
        with open(self.crt) as f:
            return ssl.PEM_cert_to_DER_cert(f.read())

    @property
    def fingerprint(self):
        return hashlib.sha256(self.der()).hexdigest()

    def __repr__(self):
        return "<Cert %s %s>" % (self.name, self.fingerprint[:16])


_CA_EXT = """\
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
"""

_LEAF_EXT = """\
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
"""


def _req_config(cn, ext):
    # Our own config: the system's openssl.cnf would add its v3_ca section
    # (CA:TRUE) to every `req -x509` certificate, leaves included.
    return ("[req]\ndistinguished_name = dn\nprompt = no\nx509_extensions = ext\n"
            "[dn]\nCN = %s\n[ext]\n%s" % (cn, ext))


class Pki:
    """Certificates made with the openssl command (EC P-256: fast) in one
    directory, the test's by default. Each name is made once; fresh=True
    makes it again (a renewed certificate: new key, new serial)."""

    def __init__(self, directory=None):
        self.dir = directory or harness.tmpdir()
        self.made = {}

    def _path(self, name, ext):
        return os.path.join(self.dir, "%s.%s" % (name, ext))

    def _openssl(self, name, cn, ext, signer=None):
        cnf = self._path(name, "cnf")
        with open(cnf, "w") as f:
            f.write(_req_config(cn, ext))
        crt, key = self._path(name, "crt"), self._path(name, "key")
        args = [OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-nodes", "-keyout", key, "-out", crt, "-days", DAYS, "-config", cnf,
                "-set_serial", "0x" + os.urandom(8).hex()]
        if signer is not None:
            args += ["-CA", signer.crt, "-CAkey", signer.key]
        p = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=20)
        if p.returncode != 0:
            raise harness.HarnessError("openssl req for %s failed: %s"
                                       % (name, p.stderr.decode("utf-8", "replace")[-400:]))
        cert = Cert(name, crt, key)
        self.made[name] = cert
        return cert

    def ca(self, name="ca", fresh=False):
        if name in self.made and not fresh:
            return self.made[name]
        return self._openssl(name, "cutover test %s" % name, _CA_EXT)

    def leaf(self, name, dns=(), ips=(), ca="ca", cn=None, fresh=False):
        """A server certificate signed by CA `ca` (made if needed), naming
        dns and ips in its subjectAltName."""
        if name in self.made and not fresh:
            return self.made[name]
        signer = self.ca(ca)
        return self._openssl(name, cn or (list(dns) + list(ips) + [name])[0],
                             _LEAF_EXT + _san(dns, ips) + "authorityKeyIdentifier = keyid\n",
                             signer)

    def self_signed(self, name, dns=(), ips=(), fresh=False):
        if name in self.made and not fresh:
            return self.made[name]
        return self._openssl(name, (list(dns) + list(ips) + [name])[0], _LEAF_EXT + _san(dns, ips))


def _san(dns, ips):
    names = ["DNS:%s" % d for d in dns] + ["IP:%s" % i for i in ips]
    return ("subjectAltName = %s\n" % ",".join(names)) if names else ""


def install(cert, crt_path, key_path):
    """Put cert's files at these paths, each replaced at once (a reader
    never sees half a file)."""
    for src, dst in ((cert.crt, crt_path), (cert.key, key_path)):
        tmp = dst + ".tmp"
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)


# ----------------------------------------------------------------- contexts

_VERSIONS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}


def client_context(ca=None, check_hostname=False, minimum=None, maximum=None, alpn=None):
    """A client context. ca: a Cert (its chain is verified) or None (no
    verification). check_hostname: the served certificate must name the SNI.
    minimum/maximum: "TLSv1.2" / "TLSv1.3"; alpn: protocols to offer."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if ca is not None:
        ctx.load_verify_locations(cafile=ca.crt)
        ctx.check_hostname = check_hostname
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    if minimum:
        ctx.minimum_version = _VERSIONS[minimum]
    if maximum:
        ctx.maximum_version = _VERSIONS[maximum]
    if alpn:
        ctx.set_alpn_protocols(list(alpn))
    return ctx


def server_context(cert, minimum=None):
    """A server context serving cert (for Upstream(tls=...)). Python sends
    TLS 1.3 session tickets right after each handshake, as servers do."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert.crt, cert.key)
    if minimum:
        ctx.minimum_version = _VERSIONS[minimum]
    return ctx


# ------------------------------------------------------------------- client

class TLSClient(Client):
    """harness.Client over TLS: the same request/read_response/recv_exact,
    and what the handshake gave (version, alpn, the served certificate).
    sni None sends no server name. HandshakeFailed if the handshake fails."""

    def __init__(self, port, context, sni=None, host="127.0.0.1", timeout=5.0, rcvbuf=None):
        super().__init__(port, host=host, timeout=timeout, rcvbuf=rcvbuf)
        plain = self.sock
        try:
            self.sock = context.wrap_socket(plain, server_hostname=sni)
        except (ssl.SSLError, OSError) as e:
            plain.close()
            raise HandshakeFailed("TLS handshake with 127.0.0.1:%d (sni %r) failed: %s: %s"
                                  % (port, sni, type(e).__name__, e), e) from None
        self.version = self.sock.version()
        self.alpn = self.sock.selected_alpn_protocol()
        self.peer_der = self.sock.getpeercert(binary_form=True)
        self.fingerprint = hashlib.sha256(self.peer_der).hexdigest() if self.peer_der else None

    def served(self, *certs):
        """The name of the one of certs that this connection was served."""
        for c in certs:
            if c.fingerprint == self.fingerprint:
                return c.name
        return "(another certificate: %s)" % self.fingerprint


def handshake(port, context, sni=None, timeout=5.0):
    """Connect, handshake, close: the TLSClient (closed) for its details."""
    c = TLSClient(port, context, sni=sni, timeout=timeout)
    c.close()
    return c


def https_request(port, context, method="GET", target="/", headers=(), body=None, sni=None,
                  timeout=5.0, **kw):
    """One request on a fresh TLS connection: the Response."""
    c = TLSClient(port, context, sni=sni, timeout=timeout)
    try:
        c.request(method, target, headers, body, **kw)
        return c.read_response()
    finally:
        c.close()


def plain_connection(port, timeout=5.0):
    """A plain TCP harness.Client (bytes in clear to a TLS port)."""
    return Client(port, timeout=timeout)


def refuses_handshake(port, context, sni=None, timeout=5.0):
    """The exception of a handshake that fails; AssertionError if it completes."""
    try:
        c = TLSClient(port, context, sni=sni, timeout=timeout)
    except HandshakeFailed as e:
        return e.error
    except ConnectionClosed as e:
        return e
    c.close()
    raise AssertionError("TLS handshake with port %d completed (%s, cert %s), want it refused"
                         % (port, c.version, c.fingerprint))
