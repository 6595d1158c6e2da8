"""Hot reload (issue 6; SPEC 1, 4.6, 5 `POST /reload`, 6
cutover_config_reloads_total): SIGHUP, `POST /reload` and, with
`watch: true`, a change of the file load the same file again. An invalid
file changes nothing (each error logged `event=reload_failed` with its
FILE:LINE:COL, POST /reload answers 400 with them); a valid one is served
by new requests at once, while requests in flight, keep-alive client
connections and WebSocket tunnels go on; upstreams that did not change keep
their breaker, budget and pooled connections, changed ones start fresh;
counters go on for the same names. `workers`, `admin`, `access_log` and
`watch` need a restart: kept, with `event=reload_ignored`.

Every test writes its own listeners (fixed ports) so that a rewritten file
keeps or changes them on purpose; files are replaced atomically (write a
temporary file, rename) unless a test is about the way a file is written.
"""

import os
import re
import signal
import socket
import threading
import time

from harness import (Client, ConnectionClosed, Cutover, assert_error, free_port, server, tmpdir, to_yaml,
                     wait_until)
from probes import admin_call, breaker_state, events, force, metric, metrics, observed
from upstream import Upstream, delay, raw, response_bytes, unused_address, websocket

HANDSHAKE = [("Connection", "Upgrade"), ("Upgrade", "websocket"),
             ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13")]


# ------------------------------------------------------------------ helpers

class TrackedUpstream(Upstream):
    """An Upstream that also counts the connections that ended (the peer,
    cutover, closed them), so a test can see a pooled connection go."""

    def __init__(self, *a, **kw):
        self.ended = 0
        super().__init__(*a, **kw)

    def _serve(self, s, cid):
        try:
            super()._serve(s, cid)
        finally:
            with self.lock:
                self.ended += 1


def fixed(body, name=None):
    """A light upstream answering 200 with exactly `body`."""
    hs = [("Content-Type", "text/plain")]
    return Upstream(raw(response_bytes(200, body.encode(), hs)), name=name or body)


def respond(name, prefix, body, status=200):
    return {"name": name, "match": {"path_prefix": prefix},
            "respond": {"status": status, "body": body, "content_type": "text/plain"}}


def to(name, prefix, upstream, **extra):
    r = {"name": name, "match": {"path_prefix": prefix}, "upstream": upstream}
    r.update(extra)
    return r


def ups(**named):
    """upstreams: {name: Upstream | address | [those]}, one try each."""
    out = {}
    for n, u in named.items():
        lst = u if isinstance(u, list) else [u]
        out[n] = {"servers": [server(x) for x in lst], "retry": {"attempts": 1}}
    return out


class Reloadable:
    """A cutover whose file the test rewrites: fixed listeners, an admin
    port, and the file path it was started with (or `path`, given with -c)."""

    def __init__(self, body, nlisteners=1, path=None, **top):
        self.lports = [free_port() for _ in range(nlisteners)]
        self.aport = free_port()
        self.top = top
        cfg = self.config(body)
        args = ("-c", path) if path else ()
        if path:
            atomic_write(path, to_yaml(cfg))
        self.cut = Cutover(cfg, args=args, ports=list(self.lports))
        self.path = path or self.cut.config_path
        self.cut.wait_listening()
        # The admin listener opens a moment after the proxy listeners.
        admin_call(self.aport, "/healthz")

    def config(self, body, listeners=None):
        cfg = {"listeners": [{"address": "127.0.0.1:%d" % p}
                             for p in (listeners or self.lports)],
               "admin": {"address": "127.0.0.1:%d" % self.aport}}
        cfg.update(self.top)
        cfg.update(body)
        return cfg

    def write(self, body, listeners=None):
        text = to_yaml(self.config(body, listeners))
        atomic_write(self.path, text)
        return text

    def write_text(self, text):
        atomic_write(self.path, text)

    def counts(self):
        t = metrics(self.aport)
        return (int(metric(t, "cutover_config_reloads_total", result="ok") or 0),
                int(metric(t, "cutover_config_reloads_total", result="failed") or 0))

    def admin_reload(self):
        return admin_call(self.aport, "/reload", "POST", timeout=12)

    def sighup(self):
        """SIGHUP and wait (bounded) until that reload is counted; True if ok."""
        ok, failed = self.counts()
        self.cut.proc.send_signal(signal.SIGHUP)
        now = wait_until(lambda: (lambda c: c if c != (ok, failed) else None)(self.counts()),
                         5, "the SIGHUP reload to be counted")
        assert sum(now) == ok + failed + 1, "one SIGHUP, counts %r -> %r" % ((ok, failed), now)
        return now[0] == ok + 1

    def get(self, target, port=None):
        return self.cut.request("GET", target, port=port)


def atomic_write(path, text):
    tmp = path + ".tmp-%d" % os.getpid()
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def body_of(r, what):
    assert r.status == 200 and r.complete, "%s: %r body %r" % (what, r, r.body[:200])
    return r.body.decode()


def line_of(text, needle):
    """1-based number of the first line of text containing needle."""
    for i, ln in enumerate(text.split("\n")):
        if needle in ln:
            return i + 1, ln
    raise AssertionError("%r not in the file" % needle)


def assert_place(err, path, text, needle):
    """err is "PATH:LINE:COL: ..." with LINE the line holding needle and COL
    within that line (the key or the value the message is about)."""
    m = re.match(r"^(.*?):(\d+):(\d+): \S", err)
    assert m, "error without FILE:LINE:COL: %r" % err
    want_line, ln = line_of(text, needle)
    assert m.group(1) == path, "error names file %r, want %r: %r" % (m.group(1), path, err)
    assert int(m.group(2)) == want_line, "error at line %s, want %d (%r): %r" % (
        m.group(2), want_line, ln, err)
    col = int(m.group(3))
    assert 1 <= col <= len(ln) + 1, "column %d outside line %r: %r" % (col, ln, err)


def reload_events(cut, source=None):
    return [e for e in events(cut, "reload") if source is None or e.get("source") == source]


# ------------------------------------------------- A: reloads under steady load

def a_body(gen, flip, users, legacy, app, dead):
    return {
        "upstreams": dict(ups(app=app, users=users, legacy=legacy, dead=dead)),
        "routes": [
            respond("gen", "/gen", "gen %d" % gen),
            {"name": "split", "match": {"path_prefix": "/split"},
             "split": [{"upstream": "users", "weight": 100 if flip else 0},
                       {"upstream": "legacy", "weight": 0 if flip else 100}]},
            to("forced", "/forced", "dead"),
            to("forcedfb", "/forcedfb", "dead", fallback="legacy"),
            to("all", "/", "app"),
        ],
    }


def test_reloads_under_keepalive_load_lose_nothing():
    app, users, legacy = fixed("app"), fixed("users"), fixed("legacy")
    dead = unused_address()
    rl = Reloadable(a_body(0, False, users, legacy, app, dead))
    force(rl.aport, "open", "dead")
    wait_until(lambda: breaker_state(rl.aport, "dead") == "forced_open", 2,
               "dead shown forced_open")
    cur = {"gen": 0, "flip": False}
    stop = threading.Event()
    errors, counts, seen = [], [0] * 4, [[] for _ in range(4)]

    def check(t, r):
        if t == "/gen":
            b = body_of(r, t)
            assert re.match(r"^gen \d+$", b), b
            return int(b.split()[1])
        if t == "/split":
            assert body_of(r, t) in ("users", "legacy"), r.body
        elif t == "/forced":
            assert_error(r, 503)
            assert r.header("X-Cutover-Breaker") == "open; upstream=dead", r.headers
            assert r.complete, r
        elif t == "/forcedfb":
            assert body_of(r, t) == "legacy", "forced-open with fallback: %r" % r.body
        else:
            assert body_of(r, t) == "app", r.body
        return None

    def load(k):
        targets = ["/gen", "/split", "/forced", "/forcedfb", "/x"]
        c = None
        try:
            c = rl.cut.client(timeout=5.0)
            i = k
            while not stop.is_set():
                t = targets[i % len(targets)]
                i += 1
                c.request("GET", t)
                r = c.read_response()
                g = check(t, r)
                if g is not None:
                    if seen[k] and g < seen[k][-1]:
                        raise AssertionError("gen went back on one connection: %d after %d"
                                             % (g, seen[k][-1]))
                    seen[k].append(g)
                if (r.header("Connection") or "").lower() == "close":
                    raise AssertionError("cutover closed the keep-alive connection on %s" % t)
                counts[k] += 1
        except BaseException as e:
            errors.append("client %d after %d requests: %s: %s"
                          % (k, counts[k], type(e).__name__, e))
        finally:
            if c is not None:
                c.close()

    threads = [threading.Thread(target=load, args=(k,), daemon=True) for k in range(4)]
    for t in threads:
        t.start()
    try:
        wait_until(lambda: min(counts) >= 5 or errors, 5, "load running")
        gen = 0
        for i in range(20):
            valid = i % 2 == 0
            by_signal = (i // 2) % 2 == 0
            if valid:
                gen += 1
                text = rl.write(a_body(gen, gen % 2 == 1, users, legacy, app, dead))
            elif i % 4 == 1:
                text = rl.write(a_body(gen, gen % 2 == 1, users, legacy, app, dead))
                text += "shutdown_timeout: 2s: 3s\n"  # YAML: a mapping value in a plain scalar
                rl.write_text(text)
            else:
                b = a_body(gen, gen % 2 == 1, users, legacy, app, dead)
                b["routes"][2]["upstream"] = "deadd"  # semantic: unknown upstream
                text = rl.write(b)
            before = rl.counts()
            if by_signal:
                ok = rl.sighup()
                assert ok == valid, "reload %d (SIGHUP, %s) ok=%r" % (
                    i, "valid" if valid else "invalid", ok)
            else:
                st, answer = rl.admin_reload()
                assert st == (200 if valid else 400), "reload %d: %d %r" % (i, st, answer)
                if valid:
                    assert answer.startswith("configuration OK\n"), answer
                    assert "route changed: gen (respond)\n" in answer, answer
                else:
                    needle = "deadd" if i % 4 == 3 else "shutdown_timeout: 2s: 3s"
                    assert_place(answer.strip().split("\n")[0], rl.path, text, needle)
            after = rl.counts()
            assert after == (before[0] + valid, before[1] + (not valid)), (i, before, after)
            # Visible at once on a new connection: the reload is done when it is counted.
            assert body_of(rl.get("/gen"), "/gen after reload %d" % i) == "gen %d" % gen
            side = "users" if gen % 2 == 1 else "legacy"
            for _ in range(3):
                assert body_of(rl.get("/split"), "/split") == side, "reload %d" % i
            assert not errors, errors
        time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(8)
    assert not any(t.is_alive() for t in threads), "client threads hung"
    assert not errors, "requests failed across the reloads:\n" + "\n".join(errors)
    assert min(counts) >= 20, "too little load: %r" % counts
    for k in range(4):
        assert seen[k] and seen[k][-1] == 10, "client %d saw gens %r" % (k, sorted(set(seen[k])))
    ok, failed = rl.counts()
    assert (ok, failed) == (10, 10), "cutover_config_reloads_total ok=%d failed=%d" % (ok, failed)
    assert breaker_state(rl.aport, "dead") == "forced_open", "forced state lost: %s" % (
        breaker_state(rl.aport, "dead"))
    assert metric(metrics(rl.aport), "cutover_upstream_breaker_state", upstream="dead") == 3
    assert_error(rl.get("/forced"), 503)
    assert body_of(rl.get("/forcedfb"), "/forcedfb") == "legacy"
    fails = events(rl.cut, "reload_failed")
    assert {e.get("source") for e in fails} == {"SIGHUP", "admin"}, fails
    for e in fails:
        assert re.match(r"^%s:\d+:\d+: " % re.escape(rl.path), e.get("error", "")), e
    oks = reload_events(rl.cut)
    assert len(oks) == 10 and all(e.get("result") == "ok" for e in oks), oks
    assert {e.get("source") for e in oks} == {"SIGHUP", "admin"}, oks


# ------------------------------------------------------- B: WebSocket tunnel

def test_websocket_tunnel_survives_reloads():
    ws1 = Upstream(websocket(), name="ws1")
    ws2 = Upstream(websocket(), name="ws2")

    def body(note="v0", ws_route=True, ws_up=ws1, with_ws=True):
        routes = [respond("note", "/note", note)]
        u = {}
        if with_ws:
            u.update(ups(ws=ws_up))
            if ws_route:
                routes.append(to("ws", "/ws", "ws"))
        routes.append(respond("all", "/", "catch-all"))
        return {"upstreams": u, "routes": routes} if u else {"routes": routes}

    rl = Reloadable(body())
    c = rl.cut.client(timeout=5.0)
    c.request("GET", "/ws", HANDSHAKE)
    r = c.read_response()
    assert r.status == 101, "handshake: %r %r" % (r, r.body[:200])

    def exchange(what):
        for payload in (b"ping " + what.encode(), os.urandom(2000)):
            c.send(payload)
            got = c.recv_exact(len(payload), timeout=3)
            assert got == payload, "tunnel after %s: sent %d bytes, got back %d" % (
                what, len(payload), len(got))

    exchange("open")
    steps = [
        ("note changed", body(note="v1"), "admin"),
        ("tunnel's route removed", body(note="v1", ws_route=False), "SIGHUP"),
        ("route back, upstream servers changed", body(note="v2", ws_up=ws2), "admin"),
        ("invalid file", None, "SIGHUP"),
        ("upstream and route removed", body(note="v3", with_ws=False), "admin"),
    ]
    for what, b, how in steps:
        if b is None:
            rl.write_text("routes:\n  - name: [oops\n")
        else:
            rl.write(b)
        if how == "admin":
            st, answer = rl.admin_reload()
            assert st == 200, "%s: %d %s" % (what, st, answer)
        else:
            assert rl.sighup() == (b is not None), what
        exchange(what)
        if what == "tunnel's route removed":
            assert body_of(rl.get("/ws"), what) == "catch-all"
        if what.startswith("route back"):
            assert "upstream reset: ws (servers)\n" in answer, answer
            n = rl.cut.client(timeout=5.0)
            n.request("GET", "/ws", HANDSHAKE)
            assert n.read_response().status == 101
            n.close()
            assert len(ws2.requests) == 1, ws2.summary()
    exchange("all reloads")
    assert ws1.connections == 1 and len(ws1.requests) == 1, ws1.summary()
    assert rl.counts() == (4, 1), rl.counts()
    c.close()
    wait_until(lambda: not rl.cut.client().close(), 1, "still serving")


# ------------------------------------------------- C: a request in flight

def test_request_in_flight_finishes_on_its_configuration():
    slow = Upstream(delay(1.5, raw(response_bytes(200, b"slow old answer"))), name="slow")
    old = {"upstreams": ups(slow=slow),
           "routes": [to("slow", "/slow", "slow"), respond("all", "/", "old catch-all")]}
    new = {"routes": [respond("all", "/", "new configuration")]}
    rl = Reloadable(old)
    c = rl.cut.client(timeout=5.0)
    t0 = time.time()
    c.request("GET", "/slow/x")
    slow.wait_requests(1, 2)
    rl.write(new)
    st, answer = rl.admin_reload()
    assert st == 200, answer
    assert "route removed: slow\n" in answer and "upstream removed: slow\n" in answer, answer
    assert body_of(rl.get("/slow/x"), "new request") == "new configuration"
    assert time.time() - t0 < 1.4, "the reload or new request waited for the slow request"
    r = c.read_response(timeout=5)
    assert r.status == 200 and r.complete and r.body == b"slow old answer", (r, r.body)
    assert time.time() - t0 >= 1.4
    # The same keep-alive connection: its next request is on the new file.
    c.request("GET", "/slow/x")
    assert body_of(c.read_response(), "next request") == "new configuration"
    assert len(slow.requests) == 1, slow.summary()


# ------------------------------------------------- D: POST /reload answers

def d_body(users_up, fresh=False, users_srv=None, weights=(10, 90), hello="hi"):
    app, users, users2, legacy, old, freshup = users_up
    named = dict(app=app, users=users_srv or users, legacy=legacy)
    if fresh:
        named["fresh"] = freshup
    else:
        named["old"] = old
    routes = [respond("hello", "/hello", hello),
              {"name": "rollout", "match": {"path_prefix": "/rollout"},
               "split": [{"upstream": "users", "weight": weights[0]},
                         {"upstream": "legacy", "weight": weights[1]}]}]
    if fresh:
        routes = ([to("fresh", "/fresh", "fresh")] + routes
                  + [to("web", "/web", "app"), to("api", "/api", "app")])
    else:
        routes += [to("gone", "/gone", "old"), to("api", "/api", "app"),
                   to("web", "/web", "app")]
    routes.append(to("all", "/", "legacy"))
    return {"upstreams": ups(**named), "routes": routes}


def test_post_reload_answers_and_events():
    app, users, users2, legacy = fixed("app"), fixed("users"), fixed("users2"), fixed("legacy")
    old, freshup = fixed("old"), fixed("fresh")
    set_ = (app, users, users2, legacy, old, freshup)
    rl = Reloadable(d_body(set_))
    st, answer = rl.admin_reload()
    assert (st, answer) == (200, "configuration OK\nno changes\n"), (st, answer)
    extra = free_port()
    rl.write(d_body(set_, fresh=True, users_srv=users2, weights=(25, 75), hello="hello v2"),
             listeners=rl.lports + [extra])
    st, answer = rl.admin_reload()
    want = ("configuration OK\n"
            "route added: fresh (position 1)\n"
            "route changed: hello (respond)\n"
            "route re-weighted: rollout (users 10 -> 25, legacy 90 -> 75)\n"
            "route moved: web (position 5 -> 4)\n"
            "route moved: api (position 4 -> 5)\n"
            "route removed: gone\n"
            "upstream kept: app\n"
            "upstream reset: users (servers)\n"
            "upstream kept: legacy\n"
            "upstream added: fresh\n"
            "upstream removed: old\n"
            "listener added: 127.0.0.1:%d\n" % extra)
    assert st == 200 and answer == want, "got %d:\n%s\nwant:\n%s" % (st, answer, want)
    assert body_of(rl.get("/fresh", port=extra), "new listener") == "fresh"
    ev = events(rl.cut, "reload_change")
    got = [(e.get("kind"), e.get("name"), e.get("detail")) for e in ev]
    assert got == [
        ("route_added", "fresh", "1"), ("route_changed", "hello", "respond"),
        ("route_reweighted", "rollout", "users 10 -> 25, legacy 90 -> 75"),
        ("route_moved", "web", "5 -> 4"), ("route_moved", "api", "4 -> 5"),
        ("route_removed", "gone", None), ("upstream_kept", "app", None),
        ("upstream_reset", "users", "servers"), ("upstream_kept", "legacy", None),
        ("upstream_added", "fresh", None), ("upstream_removed", "old", None),
        ("listener_added", "127.0.0.1:%d" % extra, None)], got
    res = reload_events(rl.cut, "admin")
    assert [e.get("changes") for e in res] == ["0", "12"], res
    # A bad file: 400, each error with its place; nothing changes.
    b = d_body(set_, fresh=True, users_srv=users2, weights=(25, 75), hello="hello v2")
    b["routes"][3]["upstream"] = "lgacy"
    text = rl.write(b, listeners=rl.lports + [extra])
    st, answer = rl.admin_reload()
    assert st == 400, (st, answer)
    assert not answer.startswith("configuration OK"), answer
    assert_place(answer.split("\n")[0], rl.path, text, '"lgacy"')
    assert "lgacy" in answer, answer
    f = events(rl.cut, "reload_failed")
    assert len(f) == 1 and f[0].get("source") == "admin", f
    failed_line = (f[0], answer.split("\n")[0])
    text = "routes:\n  - name: x\n    match: { path_prefix: / }: y\n"
    rl.write_text(text)
    st, answer = rl.admin_reload()
    assert st == 400, (st, answer)
    assert_place(answer.split("\n")[0], rl.path, text, "}: y")
    assert body_of(rl.get("/fresh"), "after refusals") == "fresh"
    assert rl.counts() == (2, 2), rl.counts()
    # The same file again: no changes.
    rl.write(d_body(set_, fresh=True, users_srv=users2, weights=(25, 75), hello="hello v2"),
             listeners=rl.lports + [extra])
    st, answer = rl.admin_reload()
    assert (st, answer) == (200, "configuration OK\nno changes\n"), (st, answer)
    assert [e.get("changes") for e in reload_events(rl.cut, "admin")] == ["0", "12", "0"]
    # The event line holds the error whole: a quoted value whose own quotes
    # are escaped, so that key=value readers get the message back.
    ev, err = failed_line
    assert ev.get("error") == err, ("event=reload_failed error= value %r is not the error %r "
                                    "(unescaped quotes?): %s" % (ev.get("error"), err, ev["_line"]))


# ------------------------------------------------- E: what carries over

def test_kept_upstream_keeps_its_pool_changed_one_starts_fresh_counters_go_on():
    app = TrackedUpstream(raw(response_bytes(200, b"app")), name="app")
    c1 = TrackedUpstream(raw(response_bytes(200, b"c1")), name="c1")
    c2 = TrackedUpstream(raw(response_bytes(200, b"c2")), name="c2")

    def body(chg, note="n0", temp=True):
        routes = [to("r-app", "/app", "app"), to("r-chg", "/chg", "chg"),
                  respond("note", "/note", note)]
        if temp:
            routes.append(respond("temp", "/temp", "temp"))
        routes.append(respond("all", "/", "catch-all"))
        return {"upstreams": ups(app=app, chg=chg), "routes": routes}

    rl = Reloadable(body(c1))
    k = rl.cut.client(timeout=5.0)

    def kget(t):
        k.request("GET", t)
        return body_of(k.read_response(), t)

    assert kget("/app") == "app" and kget("/chg") == "c1"
    assert kget("/app") == "app"
    assert app.connections == 1 and c1.connections == 1, (app.summary(), c1.summary())
    for _ in range(3):
        assert body_of(rl.get("/temp"), "/temp") == "temp"
    force(rl.aport, "open", "chg")
    wait_until(lambda: breaker_state(rl.aport, "chg") == "forced_open", 2, "chg forced open")
    # A request is counted just after its answer went out: poll, bounded.
    def counted(route, n):
        wait_until(lambda: metric(metrics(rl.aport), "cutover_requests_total",
                                  route=route) == n, 3.0,
                   "cutover_requests_total{route=%r} == %d" % (route, n))
    counted("r-app", 2)
    counted("temp", 3)

    rl.write(body(c2, note="n1", temp=False))
    st, answer = rl.admin_reload()
    assert st == 200, answer
    for line in ("upstream kept: app\n", "upstream reset: chg (servers)\n",
                 "route removed: temp\n"):
        assert line in answer, "%r not in:\n%s" % (line, answer)
    # Kept: the next keep-alive request reuses the pooled connection.
    assert kget("/app") == "app"
    assert app.connections == 1, "kept upstream got a new connection:\n" + app.summary()
    assert app.requests[-1].conn_id == 1
    assert app.ended == 0, "kept upstream's pooled connection was closed"
    # Changed: a fresh breaker, and the old server's pooled connection closes.
    assert breaker_state(rl.aport, "chg") == "closed", breaker_state(rl.aport, "chg")
    assert kget("/chg") == "c2"
    assert len(c1.requests) == 1, c1.summary()
    # Counters go on for the same names.
    assert kget("/app") == "app"
    counted("r-app", 4)
    rl.write(body(c2, note="n1", temp=True))
    st, answer = rl.admin_reload()
    assert st == 200 and "route added: temp (position 4)\n" in answer, answer
    assert body_of(rl.get("/temp"), "/temp again") == "temp"
    counted("temp", 4)
    # The changed upstream's pooled connection to the old server is closed.
    try:
        wait_until(lambda: c1.ended >= 1, 2, "c1's pooled connection closed")
        closed = True
    except AssertionError:
        closed = False
    # Whatever cutover did with it, the old server going away must not hurt.
    c1.stop()
    time.sleep(0.3)
    assert rl.cut.alive(), "cutover died when the replaced server closed its connection"
    assert kget("/app") == "app" and kget("/chg") == "c2"
    assert closed, ("changed upstream chg: its pooled connection to the old server (c1) was "
                    "not closed within 2 s of the reload")


# ------------------------------------------------- F: listeners

def test_listeners_added_and_removed():
    rl = Reloadable({"routes": [respond("all", "/", "hello")]}, nlisteners=2)
    keep, gone = rl.lports
    new = free_port()
    k = rl.cut.client(port=gone, timeout=5.0)
    k.request("GET", "/")
    assert body_of(k.read_response(), "before") == "hello"
    rl.write({"routes": [respond("all", "/", "hello v2")]}, listeners=[keep, new])
    st, answer = rl.admin_reload()
    assert st == 200, answer
    assert "listener added: 127.0.0.1:%d\n" % new in answer, answer
    assert "listener removed: 127.0.0.1:%d\n" % gone in answer, answer
    assert body_of(rl.get("/", port=new), "new listener") == "hello v2"
    assert body_of(rl.get("/", port=keep), "kept listener") == "hello v2"
    for _ in range(3):
        s = socket.socket()
        s.settimeout(2)
        try:
            s.connect(("127.0.0.1", gone))
            raise AssertionError("a removed listener (port %d) still accepts" % gone)
        except ConnectionRefusedError:
            pass
        finally:
            s.close()
    # A connection accepted before stays and is served on the new file.
    for i in range(3):
        k.request("GET", "/")
        try:
            assert body_of(k.read_response(), "kept connection %d" % i) == "hello v2"
        except ConnectionClosed as e:
            raise AssertionError("a keep-alive connection accepted on the removed listener "
                                 "was dropped: %s" % e)


# ------------------------------------------------- G: watch

def test_watch_reloads_on_each_kind_of_file_change():
    d = os.path.join(tmpdir(), "conf")
    os.makedirs(d)
    path = os.path.join(d, "cutover.yaml")
    rl = Reloadable({"routes": [respond("all", "/", "v0")]}, path=path, watch=True)
    wait_until(lambda: events(rl.cut, "watching"), 2, "event=watching")

    def served():
        return body_of(rl.get("/"), "/")

    def expect_one(what, want_ok, want_body, before):
        want = (before[0] + want_ok, before[1] + (not want_ok))
        wait_until(lambda: rl.counts() == want or sum(rl.counts()) > sum(want), 3,
                   "one reload after %s" % what)
        time.sleep(0.5)  # more than the settle time: a second reload would show now
        assert rl.counts() == want, "%s: counts %r -> %r, want %r" % (what, before, rl.counts(), want)
        assert served() == want_body, what

    def body_text(v):
        return to_yaml(rl.config({"routes": [respond("all", "/", v)]}))

    before = rl.counts()
    with open(path, "w") as f:  # in place
        f.write(body_text("v1"))
    expect_one("an in-place write", True, "v1", before)
    before = rl.counts()
    atomic_write(path, body_text("v2"))  # an editor's write + rename
    expect_one("write + rename", True, "v2", before)
    before = rl.counts()
    with open(path, "w") as f:
        f.write(body_text("v3") + "routes: [\n")
    expect_one("an invalid in-place write", False, "v2", before)
    srcs = [e.get("source") for e in events(rl.cut, "reload_failed")]
    assert srcs == ["watch"], srcs
    assert [e.get("source") for e in reload_events(rl.cut)] == ["watch", "watch"]
    rl.cut.stop()

    # A ConfigMap volume: cutover.yaml -> ..data/cutover.yaml, ..data -> ..2026_01.
    cm = os.path.join(tmpdir(), "cm")
    os.makedirs(os.path.join(cm, "..2026_01"))
    link = os.path.join(cm, "cutover.yaml")
    os.symlink("..2026_01", os.path.join(cm, "..data"))
    os.symlink("..data/cutover.yaml", link)
    rl2 = Reloadable.__new__(Reloadable)
    rl2.lports, rl2.aport, rl2.top = [free_port()], free_port(), {"watch": True}
    text0 = to_yaml(rl2.config({"routes": [respond("all", "/", "cm0")]}))
    with open(os.path.join(cm, "..2026_01", "cutover.yaml"), "w") as f:
        f.write(text0)
    rl2.cut = Cutover(text0, args=("-c", link), ports=list(rl2.lports))
    rl2.path = link
    admin_call(rl2.aport, "/healthz")
    wait_until(lambda: events(rl2.cut, "watching"), 2, "event=watching")
    rl = rl2
    for n, (v, valid) in enumerate([("cm1", True), ("cm2", False), ("cm3", True)]):
        gen = os.path.join(cm, "..2026_%02d" % (n + 2))
        os.makedirs(gen)
        t = to_yaml(rl2.config({"routes": [respond("all", "/", v)]}))
        if not valid:
            t += "limits: {max_connections: [\n"
        with open(os.path.join(gen, "cutover.yaml"), "w") as f:
            f.write(t)
        tmp = os.path.join(cm, "..data_tmp")
        os.symlink(os.path.basename(gen), tmp)
        before = rl2.counts()
        os.replace(tmp, os.path.join(cm, "..data"))
        expect_one("a ..data swap to %s" % v, valid, v if valid else "cm1", before)
    assert [e.get("source") for e in reload_events(rl2.cut)] == ["watch", "watch"]
    assert [e.get("source") for e in events(rl2.cut, "reload_failed")] == ["watch"]


# ------------------------------------------------- H: workers

def test_workers_change_is_ignored():
    rl = Reloadable({"routes": [respond("all", "/", "w0")]}, workers=2)
    time.sleep(0.3)
    tasks = rl.cut.task_count()
    assert tasks > 2, tasks
    rl.top = {"workers": 4}
    rl.write({"routes": [respond("all", "/", "w1")]})
    st, answer = rl.admin_reload()
    assert st == 200, answer
    assert "route changed: all (respond)\n" in answer, answer
    ign = wait_until(lambda: [e for e in events(rl.cut, "reload_ignored")
                              if e.get("key") == "workers"], 2, "event=reload_ignored key=workers")
    assert len(ign) == 1, ign
    assert ign[0]["_line"].find("level=") < 0 or "warn" in ign[0]["_line"], ign
    assert body_of(rl.get("/"), "/") == "w1"
    time.sleep(0.3)
    assert rl.cut.task_count() == tasks, "threads %d -> %d" % (tasks, rl.cut.task_count())
    # The kept value is the running one: a second reload says it again.
    st, answer = rl.admin_reload()
    # The verdict, then the new file's warnings (as `cutover -t` prints them), then the changes.
    assert st == 200 and answer.startswith("configuration OK\n"), answer
    assert answer.endswith("\nno changes\n"), answer
    assert "warning: no catch-all route" in answer, answer


# ------------------------------------------------------------ review regressions

def _respond_config(port, max_connections, routes=1):
    rs = [{"name": "r%d" % i, "match": {"path_prefix": "/p%d" % i},
           "respond": {"status": 200, "body": "ok", "content_type": "text/plain"}}
          for i in range(routes)]
    rs.append({"name": "all", "match": {"path_prefix": "/"},
               "respond": {"status": 200, "body": "ok", "content_type": "text/plain"}})
    return {"workers": 1, "listeners": [{"address": "127.0.0.1:%d" % port}],
            "limits": {"max_connections": max_connections}, "routes": rs}


def test_raising_max_connections_resumes_a_worker_paused_at_the_old_limit():
    """A worker at limits.max_connections stops accepting; a reload that
    raises the limit lets it accept again (the waiting connection and new
    ones are answered)."""
    port = free_port()
    cut = Cutover(_respond_config(port, 2), ports=[port])
    held = [Client(cut.port) for _ in range(2)]
    for c in held:
        c.request("GET", "/")
        assert c.read_response().status == 200
    waiting = Client(cut.port, timeout=1.0)
    waiting.request("GET", "/waiting")
    assert not waiting.poll(0.5), "answered beyond limits.max_connections"
    with open(cut.config_path, "w") as f:
        f.write(to_yaml(_respond_config(port, 100)))
    cut.signal(signal.SIGHUP)
    assert waiting.read_response(timeout=3.0).status == 200
    assert cut.request("GET", "/fresh").status == 200


def test_sigterm_during_a_reload_waits_for_it_and_exits_at_once():
    """A POST /reload in progress when SIGTERM comes finishes first; the
    drain then starts on whatever is served, and the process exits 0 at
    once (no worker left holding a half-done switch)."""
    port, aport = free_port(), free_port()
    cfg = _respond_config(port, 100, routes=1000)
    cfg["workers"] = 2
    cfg["shutdown_timeout"] = "30s"
    cfg["admin"] = {"address": "127.0.0.1:%d" % aport}
    cut = Cutover(cfg, ports=[port])
    admin_call(aport, "/healthz")
    s = socket.create_connection(("127.0.0.1", aport))
    s.sendall(b"POST /reload HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n")
    t0 = time.time()
    cut.signal(signal.SIGTERM)
    assert cut.wait(8) == 0
    assert time.time() - t0 < 5, "exit took %.1fs" % (time.time() - t0)
    assert "reload_slow_worker" not in cut.stderr, cut.stderr[-2000:]
    s.close()


def test_sticky_assignments_survive_reloads():
    """A reload that leaves a sticky split alone leaves every key where it
    was; one that raises the new side's weight moves keys only towards it
    (SPEC 4.5, and the issue's "sticky assignments carry over")."""
    from test_split import cookie, keys, split_config, split_route, sticky_targets, tagged
    users, legacy = tagged("users", light=True), tagged("legacy", light=True)
    ups = {"users": users, "legacy": legacy}

    port = free_port()

    def cfg(w):
        c = split_config(ups, [split_route([("users", w), ("legacy", 100 - w)],
                                           sticky={"cookie": "session_id"})], workers=2)
        c["listeners"] = [{"address": "127.0.0.1:%d" % port}]
        return c
    cut = Cutover(cfg(20), ports=[port])
    ks = keys(400, "reload")
    before = sticky_targets(cut, ks, cookie)
    assert 40 <= sum(1 for t in before.values() if t == "users") <= 130, before
    # An unrelated change: every key stays.
    c = cfg(20)
    c["routes"].insert(0, {"name": "gone", "match": {"path_prefix": "/gone"},
                           "respond": {"status": 410}})
    with open(cut.config_path, "w") as f:
        f.write(to_yaml(c))
    cut.signal(signal.SIGHUP)
    wait_until(lambda: cut.request("GET", "/gone").status == 410, 3.0, "the reload")
    assert sticky_targets(cut, ks, cookie, shift=3) == before
    # Raise the new side: keys only move from legacy to users.
    with open(cut.config_path, "w") as f:
        f.write(to_yaml(cfg(60)))
    cut.signal(signal.SIGHUP)
    wait_until(lambda: cut.request("GET", "/gone").status == 200, 3.0, "the second reload")
    after = sticky_targets(cut, ks, cookie, shift=5)
    moved_back = [k for k in ks if before[k] == "users" and after[k] == "legacy"]
    assert not moved_back, "keys moved away from the side that grew: %r" % moved_back[:5]
    assert sum(1 for t in after.values() if t == "users") > sum(
        1 for t in before.values() if t == "users")
