"""What the resilience tests (breaker, retries, bulkhead, fallback, health)
look at besides the responses: the admin API (/upstreams, /metrics, the
breaker control), the access log file and the event log on stderr.

Not a test module (run.py only collects test_*.py); its functions are
imported by name, and each waits a bounded time when it waits at all."""

import http.client
import json
import os
import re
import time

import harness
from harness import free_port, wait_until


# ------------------------------------------------------------ configuration

def observed(cfg, log=True, admin=True):
    """Add an access log file in the test's directory and an admin listener
    on a free port to cfg (in place) -> (cfg, log path, admin port); the
    path or the port is None when log or admin is false."""
    logpath = None
    if log:
        logpath = os.path.join(harness.tmpdir(), "access.log")
        cfg["access_log"] = {"path": logpath}
    port = None
    if admin:
        port = free_port()
        cfg["admin"] = {"address": "127.0.0.1:%d" % port}
    return cfg, logpath, port


# ---------------------------------------------------------------- admin API

def admin_call(port, path, method="GET", body=None, timeout=3.0):
    """(status, body text) of one admin API call; a body is sent as JSON.
    Retries (up to timeout) while the admin listener is not up yet: cutover
    opens it a moment after it starts proxying."""
    deadline = time.time() + timeout
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
            hdrs = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            text = r.read().decode("utf-8", "replace")
            conn.close()
            return r.status, text
        except (ConnectionRefusedError, ConnectionResetError):
            if time.time() > deadline:
                raise
            time.sleep(0.05)


def upstreams(port):
    """GET /upstreams (asserting 200) -> {upstream name: its object}."""
    st, text = admin_call(port, "/upstreams")
    assert st == 200, "GET /upstreams: %d %s" % (st, text[:200])
    return {u["name"]: u for u in json.loads(text)["upstreams"]}


def breaker_state(port, name="app"):
    """The breaker state of upstream `name` as /upstreams shows it."""
    return upstreams(port)[name]["breaker"]["state"]


def force(port, state, name="app"):
    """POST /upstreams/NAME/breaker {"state": state} (open, closed or auto);
    asserts a 200 with a JSON answer, and returns the answer's text."""
    st, text = admin_call(port, "/upstreams/%s/breaker" % name, "POST",
                          json.dumps({"state": state}))
    assert st == 200, "POST /upstreams/%s/breaker %s: %d %s" % (name, state, st, text[:300])
    json.loads(text)  # a JSON answer
    return text


# ------------------------------------------------------------------ metrics

_SAMPLE = re.compile(r'^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$')
_LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def metrics(port):
    """GET /metrics (asserting 200): the Prometheus text."""
    st, text = admin_call(port, "/metrics")
    assert st == 200, "GET /metrics: %d %s" % (st, text[:200])
    return text


def metric(text, name, **labels):
    """Sum of the samples of `name` in the Prometheus text whose labels
    include `labels` (values compared as strings); None if no sample
    matches, so that a missing gauge is told apart from a zero one."""
    total = None
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        m = _SAMPLE.match(line.strip())
        if not m or m.group(1) != name:
            continue
        have = dict(_LABEL.findall(m.group(2) or ""))
        if all(have.get(k) == str(v) for k, v in labels.items()):
            total = (total or 0.0) + float(m.group(3))
    return total


def expect(text, name, want, op="==", **labels):
    """Assert that metric() of these labels (0 when no sample matches: a
    counter not yet incremented may be absent) compares `op` to want; on
    failure show every sample of the family."""
    got = metric(text, name, **labels) or 0.0
    ok = {"==": got == want, ">=": got >= want, ">": got > want, "<=": got <= want}[op]
    if not ok:
        fam = [x for x in text.splitlines() if x.startswith(name)]
        raise AssertionError("%s%r = %g, want %s %g; samples:\n%s"
                             % (name, labels, got, op, want, "\n".join(fam) or "(none)"))


# --------------------------------------------------------------- access log

def read_log(path):
    """Every line of the JSON access log at path, as dicts ([] before the
    file exists)."""
    try:
        with open(path) as f:
            return [json.loads(x) for x in f.read().splitlines() if x.strip()]
    except OSError:
        return []


def log_line(path, rid, timeout=3.0):
    """The access-log line of request ID rid (bounded wait for it: cutover
    writes it after the response went out)."""
    def find():
        for x in read_log(path):
            if x.get("request_id") == rid:
                return x
        return None
    return wait_until(find, timeout, "the access log line of request %s" % rid)


# ---------------------------------------------------------------- event log

_KV = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def events(cut, name):
    """The event-log lines (cut's stderr) of event `name`, as dicts of
    their keys, quoted values unquoted; the raw line under "_line"."""
    out = []
    for line in cut.stderr.splitlines():
        if (" event=%s " % name) not in (line + " "):
            continue
        kv = {"_line": line}
        for k, v in _KV.findall(line):
            # Quoted values escape '"' and '\\' with a backslash (log_quote).
            kv[k] = re.sub(r'\\(.)', r'\1', v[1:-1]) if v.startswith('"') else v
        if kv.get("event") == name:
            out.append(kv)
    return out
