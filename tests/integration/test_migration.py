"""The migration report and explain over the admin API (issue 5, points 6
and 7; SPEC 5 `/migration`, `/explain`, 4.4, 4.5).

GET /migration: per route the requests served by each upstream since start
(its targets and fallback, and any other upstream that served it), the
fallbacks (unavailable + failure) apart from the coverage gaps (a fallback
on a listed status), the shadow counts and match rate; the share still
served by the catch-all route (the last active route on "/" with no other
condition that sends to an upstream); and the busiest paths reaching the
catch-all with ID-like segments collapsed to {id}, from a bounded top-K
sketch per worker merged when asked: the next candidates to extract.

GET /explain?method=M&url=U&h=Name:value is the `cutover explain` trace
against the running configuration: the tests run both and compare texts.
"""

import http.client
import json
import os
import threading
import time
import urllib.parse
import uuid

from harness import Client, Cutover, bin_path, run_cli, server, wait_until
from probes import admin_call, breaker_state, force, observed
from upstream import Upstream, by_path, raw, response_bytes

# ------------------------------------------------------------ helpers


def light(name, code=200, body=b"ok", headers=()):
    """A cheap upstream with a fixed answer that says who it is (X-Which)."""
    hs = [("X-Which", name), ("Content-Type", "text/plain")] + list(headers)
    return raw(response_bytes(code, body, hs))


def up(name, behaviour=None):
    return Upstream(behaviour or light(name), name=name)


def config(ups, routes, **top):
    """ups: {name: Upstream}; one try each so the counts are exact; an admin
    listener. -> (cfg, admin port)."""
    cfg = dict(top)
    cfg["upstreams"] = {n: {"servers": [server(u)], "retry": {"attempts": 1}}
                        for n, u in ups.items()}
    cfg["routes"] = routes
    cfg.setdefault("access_log", {"path": "off"})
    cfg, _, port = observed(cfg, log=False)
    return cfg, port


def migration(port):
    """GET /migration (asserting 200 and a JSON object)."""
    st, text = admin_call(port, "/migration")
    assert st == 200, "GET /migration: %d %s" % (st, text[:300])
    try:
        m = json.loads(text)
    except ValueError:
        raise AssertionError("GET /migration is not JSON: %r" % text[:300])
    assert isinstance(m, dict) and isinstance(m.get("routes"), list), m
    return m


def route(m, name):
    for r in m["routes"]:
        if r["name"] == name:
            return r
    raise AssertionError("no route %r in /migration: %s" % (name, [r["name"] for r in m["routes"]]))


def served(r):
    """{upstream: requests} of a route's served_by, checking each share."""
    out = {}
    for s in r["served_by"]:
        assert s["upstream"] not in out, "upstream %s twice in served_by: %r" % (s["upstream"], r)
        out[s["upstream"]] = s["requests"]
        near(s["share"], s["requests"], r["requests"],
             "route %s served_by %s share" % (r["name"], s["upstream"]))
    return out


def near(share, part, whole, what):
    want = part / whole if whole else 0.0
    assert isinstance(share, (int, float)), "%s: %r is not a number" % (what, share)
    assert abs(share - want) <= 0.00006, "%s = %r, want %d/%d = %.5f" % (what, share, part, whole,
                                                                         want)


def send_many(cut, targets, conns=8, headers=(), depth=1, fresh=False, deadline=15.0):
    """GET each target over `conns` connections in threads (target i on
    connection i % conns), `depth` requests pipelined at a time; a fresh
    connection per request when `fresh`. Returns the statuses, in the order
    of targets. Bounded: every read has the client's timeout and the batch
    has `deadline` seconds."""
    out = [None] * len(targets)
    errors = []
    stop = time.time() + deadline

    def work(k):
        mine = list(range(k, len(targets), conns))
        c = None
        try:
            j = 0
            while j < len(mine):
                if time.time() > stop:
                    raise AssertionError("batch deadline passed")
                if c is None:
                    c = Client(cut.port, timeout=5.0)
                batch = mine[j:j + (1 if fresh else depth)]
                c.send(b"".join(Client.build("GET", targets[i], headers) for i in batch))
                for i in batch:
                    c.pending.append("GET")
                for i in batch:
                    r = c.read_response()
                    out[i] = r.status
                j += len(batch)
                if fresh or (r.header("Connection") or "").lower() == "close":
                    c.close()
                    c = None
        except BaseException as e:  # reported by the main thread
            errors.append("connection %d: %s: %s" % (k, type(e).__name__, e))
        finally:
            if c is not None:
                c.close()

    threads = [threading.Thread(target=work, args=(k,), daemon=True) for k in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(max(0.1, stop + 6.0 - time.time()))
    if any(t.is_alive() for t in threads):
        raise AssertionError("send_many: client threads still running after %.0fs" % deadline)
    if errors:
        raise AssertionError("send_many: %d connection(s) failed; first: %s" % (len(errors),
                                                                             errors[0]))
    return out


def all_ok(statuses, want=200):
    bad = [(i, s) for i, s in enumerate(statuses) if s != want]
    assert not bad, "%d of %d answers not %d, first: %r" % (len(bad), len(statuses), want, bad[:3])


def candidates(m):
    """[(path, requests)] of the report, checking the list's shape."""
    cs = m["candidates"]
    assert isinstance(cs, list) and len(cs) <= 20, "candidates: %d entries, want at most 20" % (
        len(cs))
    counts = [c["requests"] for c in cs]
    assert counts == sorted(counts, reverse=True), "candidates not sorted by requests: %r" % (
        [(c["path"], c["requests"]) for c in cs])
    for c in cs:
        assert 0 <= c["error"] <= c["requests"], c
    return [(c["path"], c["requests"]) for c in cs]


def rss_comparable():
    """RSS says something about cutover's own memory only when it runs
    bare: not under a wrapper (valgrind), not with ASan's quarantine."""
    if os.environ.get("CUTOVER_WRAPPER", "").strip():
        return False
    with open(bin_path(), "rb") as f:
        return b"__asan_init" not in f.read()


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


# ------------------------------------------------------------ 1. per route

def test_split_route_shares_are_what_the_upstreams_saw():
    a, b, legacy = up("a"), up("b"), up("legacy")
    routes = [
        {"name": "rollout", "match": {"path_prefix": "/api"},
         "split": [{"upstream": "a", "weight": 10}, {"upstream": "b", "weight": 90}]},
        {"name": "everything-else", "match": {"path_prefix": "/"}, "upstream": "legacy"},
    ]
    cfg, port = config({"a": a, "b": b, "legacy": legacy}, routes, workers=2)
    cut = Cutover(cfg)
    m = migration(port)
    assert m["requests"] == 0 and route(m, "rollout")["requests"] == 0, m

    all_ok(send_many(cut, ["/api/x/%d" % i for i in range(1000)], depth=10)
           + send_many(cut, ["/old/%d" % i for i in range(250)], depth=10))
    m = migration(port)
    r = route(m, "rollout")
    assert r["requests"] == 1000 and r["active"] is True and r["catch_all"] is False, r
    got = served(r)
    assert got == {"a": len(a.requests), "b": len(b.requests)}, \
        "served_by %r, the upstreams saw a=%d b=%d" % (got, len(a.requests), len(b.requests))
    assert got["a"] + got["b"] == 1000, got
    assert 70 <= got["a"] <= 130, "a served %d of 1000 at weight 10/90" % got["a"]
    assert r["fallbacks"] == 0 and r["coverage_gaps"] == 0 and r["shadow"] is None, r
    assert "respond" not in r, r

    rest = route(m, "everything-else")
    assert rest["catch_all"] is True and served(rest) == {"legacy": 250} == {
        "legacy": len(legacy.requests)}, rest
    assert m["requests"] == 1250, "top-level requests %r, want 1250" % m["requests"]
    ca = m["catch_all"]
    assert ca["route"] == "everything-else" and ca["requests"] == 250, ca
    near(ca["share"], 250, 1250, "catch_all share")


def test_fallbacks_coverage_gaps_respond_and_inactive_routes():
    app = up("app", by_path({"/fail": light("app", 500, b"broke\n"),
                             "/gap": light("app", 404, b"not yet\n")},
                            default=light("app")))
    legacy, new = up("legacy"), up("new")
    routes = [
        {"name": "staged", "active": False, "match": {"path_prefix": "/staged"},
         "upstream": "new"},
        {"name": "gone", "match": {"path_prefix": "/gone"},
         "respond": {"status": 410, "body": "gone\n", "content_type": "text/plain"}},
        {"name": "all", "match": {"path_prefix": "/"}, "upstream": "app",
         "fallback": {"upstream": "legacy", "on": ["unavailable", "failure", 404]}},
    ]
    cfg, port = config({"app": app, "legacy": legacy, "new": new}, routes)
    cut = Cutover(cfg)

    all_ok(send_many(cut, ["/ok/%d" % i for i in range(5)] + ["/staged/%d" % i for i in range(2)]))
    all_ok(send_many(cut, ["/fail/1", "/fail/2"]))      # 500: failure -> legacy
    all_ok(send_many(cut, ["/gap/1", "/gap/2", "/gap/3"]))  # 404 listed: coverage gap
    all_ok(send_many(cut, ["/gone/%d" % i for i in range(4)]), 410)
    force(port, "open", "app")
    wait_until(lambda: breaker_state(port, "app") != "closed", 2, "breaker of app shown open")
    all_ok(send_many(cut, ["/ok/unavailable"]))        # breaker open: unavailable -> legacy
    force(port, "auto", "app")

    assert len(legacy.requests) == 6 and len(app.requests) == 12 and not new.requests, \
        "upstreams saw app=%d legacy=%d new=%d, want 12/6/0" % (
            len(app.requests), len(legacy.requests), len(new.requests))
    m = migration(port)
    r = route(m, "all")
    assert r["requests"] == 13, r
    got = served(r)
    assert got == {"app": 7, "legacy": len(legacy.requests)}, \
        "served_by %r, want app 7 (its 2xx) and legacy 6 (every fallback)" % got
    assert r["fallbacks"] == 3, "fallbacks %r, want 3 (2 failure + 1 unavailable)" % r["fallbacks"]
    assert r["coverage_gaps"] == 3, "coverage_gaps %r, want 3 (the 404s)" % r["coverage_gaps"]
    assert r["catch_all"] is True and r["shadow"] is None, r

    g = route(m, "gone")
    assert g.get("respond") == 410 and g["requests"] == 4, g
    assert g["catch_all"] is False and g["active"] is True, g
    assert g["fallbacks"] == 0 and g["coverage_gaps"] == 0, g

    s = route(m, "staged")
    assert s["active"] is False and s["catch_all"] is False and s["requests"] == 0, s
    assert served(s) == {"new": 0}, "an inactive route lists its target at 0: %r" % s

    assert m["requests"] == 17, m["requests"]
    assert m["catch_all"]["route"] == "all" and m["catch_all"]["requests"] == 13, m["catch_all"]
    near(m["catch_all"]["share"], 13, 17, "catch_all share")


# ------------------------------------------------------------ 2. shadow

def test_shadow_counts_and_match_rate():
    users = up("users", light("users", body=b"same\n"))
    nxt = up("users-next", by_path({"/api/users/diff": light("users", body=b"other\n")},
                                   default=light("users", body=b"same\n")))
    routes = [
        {"name": "users-api", "match": {"path_prefix": "/api/users"}, "upstream": "users",
         "shadow": {"upstream": "users-next", "compare": {}}},
        {"name": "plain", "match": {"path_prefix": "/plain"}, "upstream": "users"},
    ]
    cfg, port = config({"users": users, "users-next": nxt}, routes)
    cut = Cutover(cfg)

    sh = route(migration(port), "users-api")["shadow"]
    assert sh is not None and sh["upstream"] == "users-next" and sh["compare"] is True, sh
    assert sh["match"] == 0 and sh["mismatch"] == 0, sh
    assert sh["match_rate"] is None, "match_rate before any comparison: %r, want null" % sh

    all_ok(send_many(cut, ["/api/users/1", "/api/users/2", "/api/users/3", "/api/users/diff",
                           "/plain/1"], conns=1))
    nxt.wait_requests(4, timeout=3)

    def compared():
        s = route(migration(port), "users-api")["shadow"]
        return s if s["match"] + s["mismatch"] + s["error"] + s["skipped"] >= 4 else None
    sh = wait_until(compared, 3, "4 shadow results in /migration")
    assert (sh["match"], sh["mismatch"], sh["error"], sh["skipped"], sh["sent"]) == (3, 1, 0, 0, 0), sh
    assert sh["match_rate"] == 0.75, "match_rate %r, want 0.75 (3 of 4)" % sh["match_rate"]
    m = migration(port)
    assert route(m, "plain")["shadow"] is None, route(m, "plain")
    # The copies are not requests of the route: users served them all.
    r = route(m, "users-api")
    assert r["requests"] == 4 and served(r) == {"users": 4}, r
    # No catch-all route in this configuration.
    assert m["catch_all"] is None, "catch_all %r with only specific routes" % m["catch_all"]
    assert m["candidates"] == [], m["candidates"]


# ------------------------------------------------------------ 3. catch-all

def test_catch_all_is_the_last_active_plain_root_route():
    app, legacy = up("app"), up("legacy")
    routes = [
        {"name": "api", "match": {"path_prefix": "/api"}, "upstream": "app"},
        {"name": "beta-root", "match": {"path_prefix": "/", "headers": {"X-Beta": "1"}},
         "upstream": "app"},
        {"name": "everything-else", "match": {"path_prefix": "/"}, "upstream": "legacy"},
        # Later, but neither takes every request: a condition, inactive.
        {"name": "late-header", "match": {"path_prefix": "/", "headers": {"X-Late": "1"}},
         "upstream": "app"},
        {"name": "staged-root", "active": False, "match": {"path_prefix": "/"},
         "upstream": "app"},
    ]
    cfg, port = config({"app": app, "legacy": legacy}, routes, workers=2)
    cut = Cutover(cfg)
    m = migration(port)
    assert m["catch_all"] is not None and m["catch_all"]["route"] == "everything-else", \
        "catch_all %r, want everything-else" % m["catch_all"]
    flags = {r["name"]: r["catch_all"] for r in m["routes"]}
    assert flags == {"api": False, "beta-root": False, "everything-else": True,
                     "late-header": False, "staged-root": False}, flags
    assert m["catch_all"]["requests"] == 0 and m["catch_all"]["share"] == 0, m["catch_all"]

    all_ok(send_many(cut, ["/api/orders/%d" % i for i in range(6)]))
    all_ok(send_many(cut, ["/beta/%d" % i for i in range(4)], headers=[("X-Beta", "1")]))
    all_ok(send_many(cut, ["/rest/page"] * 5 + ["/rest/%d" % i for i in range(5)]))
    m = migration(port)
    assert m["requests"] == 20, m
    assert m["catch_all"]["requests"] == 10, m["catch_all"]
    near(m["catch_all"]["share"], 10, 20, "catch_all share")
    assert served(route(m, "everything-else")) == {"legacy": 10}
    # Only what reached the catch-all is a candidate.
    got = candidates(m)
    assert got == [("/rest/page", 5), ("/rest/{id}", 5)] or \
        got == [("/rest/{id}", 5), ("/rest/page", 5)], got


def test_no_catch_all_without_a_plain_root_route():
    app = up("app")
    routes = [
        {"name": "api", "match": {"path_prefix": "/api"}, "upstream": "app"},
        {"name": "root-beta", "match": {"path_prefix": "/", "headers": {"X-Beta": "1"}},
         "upstream": "app"},
        {"name": "root-gone", "match": {"path_prefix": "/"}, "respond": {"status": 410}},
    ]
    cfg, port = config({"app": app}, routes)
    cut = Cutover(cfg)
    all_ok(send_many(cut, ["/api/1", "/api/2"]))
    all_ok(send_many(cut, ["/x/1"]), 410)
    m = migration(port)
    assert m["catch_all"] is None, "catch_all %r: a header route or a respond route is none" % (
        m["catch_all"])
    assert not any(r["catch_all"] for r in m["routes"]), m["routes"]
    assert m["requests"] == 3 and m["candidates"] == [], m


# ------------------------------------------------------------ 4. candidates

def test_candidates_collapse_ids_and_merge_workers():
    legacy, orders = up("legacy"), up("orders")
    routes = [
        {"name": "orders-v2", "match": {"path_prefix": "/api/orders"}, "upstream": "orders"},
        {"name": "everything-else", "match": {"path_prefix": "/"}, "upstream": "legacy"},
    ]
    cfg, port = config({"legacy": legacy, "orders": orders}, routes, workers=4)
    cut = Cutover(cfg)
    targets = (["/orders/%d" % i for i in range(1, 51)]
               + ["/orders/%s/items/7" % uuid.uuid4() for _ in range(20)]
               + ["/users/5f3a9c0e1b2d4f6a"] * 12
               + ["/static/app.js"] * 7
               + ["/v2/users"] * 3
               + ["/api/orders/%d" % i for i in range(30)])  # carved out: never a candidate
    # A fresh connection per request: they spread over the four workers.
    all_ok(send_many(cut, targets, conns=8, fresh=True))
    assert len(orders.requests) == 30 and len(legacy.requests) == 92
    m = migration(port)
    want = [("/orders/{id}", 50), ("/orders/{id}/items/{id}", 20), ("/users/{id}", 12),
            ("/static/app.js", 7), ("/v2/users", 3)]
    got = candidates(m)
    assert got == want, "candidates %r, want %r" % (got, want)
    for c in m["candidates"]:
        assert c["error"] == 0, "few paths, yet an error bound: %r" % c
    near(m["candidates"][0]["share"], 50, 92, "share of /orders/{id}")
    assert m["catch_all"]["requests"] == 92 and m["requests"] == 122, m["catch_all"]


def test_candidates_are_bounded():
    legacy = up("legacy")
    routes = [{"name": "everything-else", "match": {"path_prefix": "/"}, "upstream": "legacy"}]
    cfg, port = config({"legacy": legacy}, routes, workers=2)
    cut = Cutover(cfg)

    def word(i):  # letters only: never ID-like
        s = ""
        for _ in range(4):
            s += chr(ord("a") + i % 26)
            i //= 26
        return s

    all_ok(send_many(cut, ["/warm/%s" % word(i) for i in range(200)], depth=20))
    before = rss_kib(cut.pid)
    distinct = ["/page-%s" % word(i) for i in range(5000)]
    assert len(set(distinct)) == 5000
    targets = []
    for i in range(5000):  # the heavy path among them, 2 in 5
        targets.append(distinct[i])
        if i % 5 < 2:
            targets.append("/heavy/path")
    assert targets.count("/heavy/path") == 2000
    all_ok(send_many(cut, targets, conns=8, depth=50))
    after = rss_kib(cut.pid)

    m = migration(port)
    cs = m["candidates"]
    got = candidates(m)
    assert len(cs) == 20, "%d candidates after 5000 distinct paths, want the top 20" % len(cs)
    assert cs[0]["path"] == "/heavy/path", "the heavy path is not first: %r" % got[:3]
    h = cs[0]
    assert h["requests"] >= 2000 and h["requests"] - h["error"] <= 2000, \
        "heavy path: requests %d error %d, want requests - error <= 2000 <= requests" % (
            h["requests"], h["error"])
    assert all(p.startswith("/page-") or p.startswith("/warm/") for p, _ in got[1:]), got
    assert m["catch_all"]["requests"] == 7200, m["catch_all"]
    # Bounded memory: 128 counters per worker, whatever the number of paths.
    if rss_comparable():
        assert after - before < 4 * 1024, "RSS grew %d KiB over 7000 requests to 5001 paths" % (
            after - before)


# ------------------------------------------------------------ 5. explain

EXPLAIN_ROUTES = [
    {"name": "users-rollout", "match": {"path_prefix": "/api/users"},
     "split": [{"upstream": "users", "weight": 10}, {"upstream": "legacy", "weight": 90}],
     "sticky": {"cookie": "session_id"},
     "override": {"header": "X-Cutover-Upstream", "allow_from": ["127.0.0.1/32"]}},
    {"name": "orders", "match": {"path_prefix": "/api/orders"}, "upstream": "orders",
     "shadow": {"upstream": "orders-next", "compare": {"ignore_headers": ["Date", "Server"],
                                                       "ignore_json_fields": ["gen"]}}},
    {"name": "billing", "match": {"path_prefix": "/api/billing"}, "upstream": "billing",
     "fallback": {"upstream": "legacy", "on": ["unavailable", "failure", 404]}},
    {"name": "reports-v2", "active": False, "match": {"path_prefix": "/reports"},
     "upstream": "orders"},
]


def admin_explain(port, method, url, headers=()):
    """GET /explain with URL-encoded parameters -> (status, X-Cutover-Matched, text)."""
    q = [("method", method), ("url", url)] + [("h", "%s:%s" % hv) for hv in headers]
    path = "/explain?" + urllib.parse.urlencode(q, quote_via=urllib.parse.quote)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=3)
    try:
        conn.request("GET", path)
        r = conn.getresponse()
        return r.status, r.getheader("X-Cutover-Matched"), r.read().decode("utf-8", "replace")
    finally:
        conn.close()


def test_admin_explain_equals_the_command():
    from test_split import model_bucket
    ups = {n: up(n) for n in ("users", "legacy", "orders", "orders-next", "billing")}
    cfg, port = config(ups, EXPLAIN_ROUTES)
    cut = Cutover(cfg)
    admin_call(port, "/healthz")  # the admin listener is up
    cases = [
        ("GET", "http://a.example/api/users/7", [("Cookie", "session_id=abc")], True),
        ("GET", "/api/users/7?x=1&y=a%20b", [("X-Cutover-Upstream", "users")], True),
        ("GET", "/api/users/7", [("X-Cutover-Upstream", "nosuch")], True),
        ("GET", "/api/users/7", [], True),
        ("GET", "/api/orders/42", [], True),
        ("POST", "/api/orders/42", [], True),
        ("GET", "/api/billing/x", [("X-Tenant", "acme"), ("Cookie", "a=1; b=2")], True),
        ("GET", "/reports/q", [("X-Cutover-Upstream", "orders")], False),
        ("GET", "/nowhere", [], False),
    ]
    for method, url, headers, matched in cases:
        args = ["explain", "-c", cut.config_path]
        for k, v in headers:
            args += ["-H", "%s: %s" % (k, v)]
        cli = run_cli(args + [method, url])
        assert cli.code == (0 if matched else 1), "explain %s %s %r: %r" % (method, url, headers,
                                                                           cli)
        st, flag, text = admin_explain(port, method, url, headers)
        what = "%s %s %r" % (method, url, headers)
        assert st == 200, "/explain %s: %d %s" % (what, st, text[:300])
        assert flag == ("true" if matched else "false"), "X-Cutover-Matched %r for %s" % (flag,
                                                                                         what)
        cl, al = cli.stdout.splitlines(), text.splitlines()
        for i, (x, y) in enumerate(zip(cl, al)):
            assert x == y, "%s: line %d differs:\n  command: %r\n  admin:   %r" % (what, i + 1,
                                                                                 x, y)
        assert cl == al, "%s: command %d lines, admin %d:\n%s\n---\n%s" % (
            what, len(cl), len(al), cli.stdout, text)
        assert text == cli.stdout, what

        if headers[:1] == [("Cookie", "session_id=abc")]:
            b = model_bucket("users-rollout", "abc")
            want = "  sticky: cookie session_id bucket %d -> " % b
            assert any(x.startswith(want) for x in al), "no %r line: %s" % (want, text)
        if headers[:1] == [("X-Cutover-Upstream", "users")]:
            assert any(x.startswith("  override: X-Cutover-Upstream=users -> users")
                       for x in al), text
        if headers[:1] == [("X-Cutover-Upstream", "nosuch")]:
            assert any(x.startswith("  override:") and "nosuch" in x and "-> nosuch" not in x
                       for x in al), text
        if url.startswith("/api/orders"):
            sl = [x for x in al if x.startswith("  shadow: orders-next ")]
            assert len(sl) == 1, "no '  shadow: orders-next ...' line: %s" % text
            assert ("-> copied" in sl[0]) == (method == "GET"), sl[0]
        if url.startswith("/api/billing"):
            assert any(x.startswith("  fallback: legacy") and "404" in x for x in al), text
        if url == "/nowhere":
            assert "no route matched (404)" in text, text
