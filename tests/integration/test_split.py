"""Split, sticky and override (issue 5, SPEC 2 route keys `split`, `sticky`,
`override`, and 4.5).

A route's `split` spreads requests over its targets by weight (relative
shares, 0..10000, default 1). Without `sticky` each request draws at random;
with `sticky: {cookie: NAME}` or `{header: NAME}` the key's bucket,
SipHash-2-4 (keyed by SHA-256 of `seed`, default the route's name) mod
10000, goes to a target by weighted rendezvous hashing of the targets'
upstream names (include/cutover/split.h), so a key always lands on the same
target, on every worker and every process with the same config, and raising
a weight only moves keys to the target that grew. Keyless requests draw at
random. `override` lets an allowed client pick a target (or an inactive
route's upstream whose conditions hold) by naming it in a header that is
never forwarded; anything else is ignored and logged as
`event=override_ignored`.

Each upstream here is an echo server that tags its answers with
`X-Which: NAME`, so a test knows which target served each request.
"""

import hashlib
import math
import re
import struct
import threading
import time

import harness
from harness import (Client, ConnectionClosed, Cutover, echoed, run_cli,
                     server, wait_until, write_file)
from probes import events, log_line, observed, read_log
from upstream import Upstream, echo, raw, response_bytes

OVERRIDE = "X-Cutover-Upstream"

# ------------------------------------------------------------ the model
# SPEC 4.5 and include/cutover/split.h, worked in Python: the tests use it
# to check that the proxy's buckets and targets are the documented ones
# (the values match the pins of tests/unit/test_split.c).

_M64 = (1 << 64) - 1


def _rotl(x, b):
    return ((x << b) | (x >> (64 - b))) & _M64


def siphash24(k0, k1, data):
    v0, v1 = k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d
    v2, v3 = k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573

    def rounds(n):
        nonlocal v0, v1, v2, v3
        for _ in range(n):
            v0 = (v0 + v1) & _M64
            v1 = _rotl(v1, 13) ^ v0
            v0 = _rotl(v0, 32)
            v2 = (v2 + v3) & _M64
            v3 = _rotl(v3, 16) ^ v2
            v0 = (v0 + v3) & _M64
            v3 = _rotl(v3, 21) ^ v0
            v2 = (v2 + v1) & _M64
            v1 = _rotl(v1, 17) ^ v2
            v2 = _rotl(v2, 32)

    n = len(data)
    whole = n - n % 8
    for i in range(0, whole, 8):
        m = struct.unpack_from("<Q", data, i)[0]
        v3 ^= m
        rounds(2)
        v0 ^= m
    m = (n & 0xff) << 56
    for i, c in enumerate(data[whole:]):
        m |= c << (8 * i)
    v3 ^= m
    rounds(2)
    v0 ^= m
    v2 ^= 0xff
    rounds(4)
    return v0 ^ v1 ^ v2 ^ v3


def seed_key(seed):
    return struct.unpack_from("<QQ", hashlib.sha256(seed.encode()).digest())


def model_bucket(seed, value):
    k0, k1 = seed_key(seed)
    return siphash24(k0, k1, value.encode()) % 10000


def model_target(seed, bucket, targets):
    """targets: [(upstream name, weight)] in config order."""
    k0, k1 = seed_key(seed)
    best, win = 0.0, 0
    for i, (name, w) in enumerate(targets):
        if w == 0:
            continue
        h = siphash24(k0, k1, bytes([bucket & 0xff, bucket >> 8]) + name.encode())
        u = ((h >> 11) + 0.5) / 9007199254740992.0
        score = w / -math.log(u)
        if score > best:
            best, win = score, i
    return targets[win][0]


# ------------------------------------------------------------ helpers

def tagged(name, light=False):
    """An upstream that says who it is in X-Which: echoing the request, or
    (light, for the bulk tests: cheaper) with a fixed small answer."""
    if light:
        return Upstream(raw(response_bytes(200, b"ok", [("X-Which", name)])), name=name)
    return Upstream(echo(headers=[("X-Which", name)]), name=name)


def split_route(targets, name="all", prefix="/", sticky=None, override=None, **extra):
    """A route splitting over targets [(upstream, weight or None)]."""
    sp = []
    for up, w in targets:
        t = {"upstream": up}
        if w is not None:
            t["weight"] = w
        sp.append(t)
    r = {"name": name, "match": {"path_prefix": prefix}, "split": sp}
    if sticky is not None:
        r["sticky"] = sticky
    if override is not None:
        r["override"] = override
    r.update(extra)
    return r


def split_config(ups, routes, **top):
    """ups: {name: Upstream}; one try per upstream so counts are exact."""
    cfg = dict(top)
    cfg["upstreams"] = {n: {"servers": [server(u)], "retry": {"attempts": 1}}
                        for n, u in ups.items()}
    cfg["routes"] = routes
    return cfg


def which(r, what="request"):
    """The X-Which of a proxied answer."""
    assert r.status == 200, "%s: got %d %s, body %r" % (what, r.status, r.reason, r.body[:200])
    w = r.header("X-Which")
    assert w, "%s: answer without X-Which (not from a test upstream?): %r" % (what, r.headers)
    return w


def send_all(cut, reqs, conns=8, deadline=15.0):
    """Send reqs, a list of (target, headers), over `conns` keep-alive
    connections in threads (request i on connection i % conns); return the
    X-Which of each answer, in the order of reqs. A connection cutover
    closes is replaced. Bounded: every read has the client's timeout, and
    the whole batch has `deadline` seconds."""
    out = [None] * len(reqs)
    errors = []
    stop = time.time() + deadline

    def work(k):
        c = None
        try:
            for i in range(k, len(reqs), conns):
                if time.time() > stop:
                    raise AssertionError("batch deadline passed")
                target, headers = reqs[i]
                for attempt in (1, 2):
                    if c is None:
                        c = Client(cut.port, timeout=5.0)
                    try:
                        c.request("GET", target, headers)
                        r = c.read_response()
                        break
                    except ConnectionClosed:
                        c.close()
                        c = None
                        if attempt == 2:
                            raise
                out[i] = which(r, "request %d (%s %r)" % (i, target, headers))
                if (r.header("Connection") or "").lower() == "close":
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
        raise AssertionError("send_all: client threads still running after %.0fs" % deadline)
    if errors:
        raise AssertionError("send_all: %d connection(s) failed; first: %s"
                             % (len(errors), errors[0]))
    return out


def counts(names):
    c = {}
    for n in names:
        c[n] = c.get(n, 0) + 1
    return c


def cookie(value, name="session_id"):
    return [("Cookie", "%s=%s" % (name, value))]


def keys(n, tag="k"):
    return ["%s-%05d-%s" % (tag, i, hashlib.sha1(b"%d" % i).hexdigest()[:8]) for i in range(n)]


def sticky_targets(cut, ks, header_for, conns=8, shift=0):
    """{key: target} of one request per key, over a fresh set of `conns`
    connections, key i on connection (i + shift) % conns."""
    n = len(ks)
    shift %= n
    order = list(range(n))
    order = order[n - shift:] + order[:n - shift]  # position j holds key (j - shift) % n
    got = send_all(cut, [("/s/%d" % i, header_for(ks[i])) for i in order], conns)
    return {ks[i]: got[j] for j, i in enumerate(order)}


def events_with(cut, name, timeout=2.0, **want):
    """Wait (bounded) for an event line `name` with these keys; return it."""
    def find():
        for e in events(cut, name):
            if all(e.get(k) == v for k, v in want.items()):
                return e
        return None
    return wait_until(find, timeout, "event=%s %r on stderr" % (name, want))


def not_forwarded(d, name=OVERRIDE):
    vals = [v for k, v in d["headers"] if k.lower() == name.lower()]
    assert not vals, "the upstream saw %s: %r (it must never be forwarded)" % (name, vals)


# ------------------------------------------------------------ 1. random split

def test_weighted_split_ten_ninety():
    a, b = tagged("a", True), tagged("b", True)
    cfg, logpath, _ = observed(split_config({"a": a, "b": b},
                                            [split_route([("a", 10), ("b", 90)])]),
                               admin=False)
    cut = Cutover(cfg)
    n = 10000
    got = counts(send_all(cut, [("/w/%d" % i, []) for i in range(n)], conns=4))
    ca, cb = got.get("a", 0), got.get("b", 0)
    assert ca + cb == n, "answers from %r, want only a and b" % got
    assert abs(ca * 100.0 / n - 10) <= 3 and abs(cb * 100.0 / n - 90) <= 3, \
        "split a/b = %d/%d of %d, want 10%%/90%% within 3 points" % (ca, cb, n)
    assert len(a.requests) == ca and len(b.requests) == cb, \
        "upstreams saw %d/%d, answers said %d/%d" % (len(a.requests), len(b.requests), ca, cb)
    # The access log's upstream is the target that served.
    wait_until(lambda: len(read_log(logpath)) >= n, 5, "%d access log lines" % n)
    logged = counts(x.get("upstream") for x in read_log(logpath))
    assert logged == {"a": ca, "b": cb}, "access log upstream counts %r, want a=%d b=%d" % (
        logged, ca, cb)


def test_split_weight_defaults_to_one_and_ignores_cookies_without_sticky():
    a, b = tagged("a", True), tagged("b", True)
    cut = Cutover(split_config({"a": a, "b": b}, [split_route([("a", None), ("b", None)])]))
    # The same cookie every time: without `sticky` it means nothing.
    got = counts(send_all(cut, [("/d/%d" % i, cookie("same")) for i in range(1000)]))
    assert set(got) <= {"a", "b"}, got
    assert 400 <= got.get("a", 0) <= 600 and 400 <= got.get("b", 0) <= 600, \
        "default weights gave %r of 1000, want about 500/500" % got


# ------------------------------------------------------------ 2. sticky cookie

def test_sticky_cookie_keeps_each_key_on_one_target():
    new, legacy = tagged("new", True), tagged("legacy", True)
    route = split_route([("new", 30), ("legacy", 70)], sticky={"cookie": "session_id"})
    cut = Cutover(split_config({"new": new, "legacy": legacy}, [route], workers=4))
    ks = keys(2000)
    first = sticky_targets(cut, ks, cookie)
    # Second round: other connections, and the cookie among others.
    second = sticky_targets(cut, ks, lambda k: [("Cookie", "lang=en; session_id=%s; x=y" % k)],
                            shift=3)
    moved = [k for k in ks if first[k] != second[k]]
    assert not moved, "%d of %d keys changed target between two requests, e.g. %s: %s then %s" % (
        len(moved), len(ks), moved[0], first[moved[0]], second[moved[0]])
    share = sum(1 for k in ks if first[k] == "new") * 100.0 / len(ks)
    assert 25 <= share <= 35, "sticky share of new is %.1f%% of keys, want 30%% +- 5" % share


# ------------------------------------------------------------ 3. two processes

def test_two_processes_put_each_key_on_the_same_target():
    new, legacy = tagged("new", True), tagged("legacy", True)
    route = split_route([("new", 50), ("legacy", 50)], name="users-rollout",
                        sticky={"cookie": "session_id"})
    cfg = split_config({"new": new, "legacy": legacy}, [route], workers=2)
    one, two = Cutover(cfg), Cutover(cfg)
    assert one.port != two.port
    ks = keys(1000, "p")
    t1 = sticky_targets(one, ks, cookie)
    t2 = sticky_targets(two, ks, cookie, shift=1)
    differ = [k for k in ks if t1[k] != t2[k]]
    assert not differ, "%d of %d keys got different targets from two cutovers, e.g. %s: %s vs %s" % (
        len(differ), len(ks), differ[0], t1[differ[0]], t2[differ[0]])
    assert 0 < sum(1 for k in ks if t1[k] == "new") < len(ks), "every key on one side: %r" % (
        counts(t1.values()))


def test_sticky_targets_are_the_documented_hash():
    """Bucket = SipHash-2-4(SHA-256(seed)) mod 10000, target = weighted
    rendezvous of the upstream names: what explain says and what the proxy
    does agree with the model (seed defaults to the route's name)."""
    legacy, v2 = tagged("legacy", True), tagged("orders-v2", True)
    targets = [("legacy", 50), ("orders-v2", 50)]
    route = split_route(targets, name="orders", sticky={"cookie": "session_id"})
    cfg = split_config({"legacy": legacy, "orders-v2": v2}, [route])
    cut = Cutover(cfg)
    ks = keys(500, "m")
    got = sticky_targets(cut, ks, cookie)
    wrong = [k for k in ks if got[k] != model_target("orders", model_bucket("orders", k), targets)]
    assert not wrong, ("%d of %d keys not on the target SPEC 4.5 / split.h give, e.g. %s "
                       "(bucket %d): proxy %s, model %s" % (
                           len(wrong), len(ks), wrong[0], model_bucket("orders", wrong[0]),
                           got[wrong[0]],
                           model_target("orders", model_bucket("orders", wrong[0]), targets)))
    # explain prints the same bucket (alice is 9945 under seed "orders": pinned in the unit test)
    assert model_bucket("orders", "alice") == 9945
    for k in ["alice", "bob"] + ks[:3]:
        r = run_cli(["explain", "-c", cut.config_path, "-H", "Cookie: session_id=%s" % k,
                     "GET", "/x"])
        assert r.code == 0, r
        m = re.search(r"^\s*sticky: cookie session_id bucket (\d+) -> (\S+)\s*$", r.stdout, re.M)
        assert m, "explain prints no sticky line for key %s: %r" % (k, r.stdout)
        b = model_bucket("orders", k)
        assert int(m.group(1)) == b, "explain: key %s bucket %s, want %d" % (k, m.group(1), b)
        assert m.group(2) == model_target("orders", b, targets), (k, m.group(0))


# ------------------------------------------------------------ 4. ramp

def test_ramp_only_moves_keys_to_the_side_that_grew():
    new, legacy = tagged("new", True), tagged("legacy", True)
    ks = keys(1000, "r")
    on_new = set()
    last_share = -1.0
    for wn, wl in [(1, 99), (10, 90), (50, 50), (90, 10), (100, 0)]:
        route = split_route([("new", wn), ("legacy", wl)], name="users",
                            sticky={"cookie": "session_id"})
        cut = Cutover(split_config({"new": new, "legacy": legacy}, [route], workers=2))
        got = sticky_targets(cut, ks, cookie)
        cut.stop()
        back = [k for k in on_new if got[k] != "new"]
        assert not back, "at %d/%d, %d key(s) that were on new went back to %s, e.g. %s" % (
            wn, wl, len(back), got[back[0]], back[0])
        now = {k for k in ks if got[k] == "new"}
        share = len(now) * 100.0 / len(ks)
        assert share > last_share, "share of new %.1f%% at %d/%d did not grow from %.1f%%" % (
            share, wn, wl, last_share)
        tol = 0.5 if wn == 100 else 5
        assert abs(share - wn) <= tol, "share of new %.1f%% at %d/%d, want %d%% +- %g" % (
            share, wn, wl, wn, tol)
        on_new, last_share = now, share


# ------------------------------------------------------------ 5. keyless

def test_keyless_requests_under_sticky_draw_at_random():
    new, legacy = tagged("new", True), tagged("legacy", True)
    route = split_route([("new", 50), ("legacy", 50)], sticky={"cookie": "session_id"})
    cut = Cutover(split_config({"new": new, "legacy": legacy}, [route]))
    # No cookie at all, and a cookie header without the sticky one.
    reqs = [("/n/%d" % i, [] if i % 2 else [("Cookie", "other=1")]) for i in range(400)]
    got = counts(send_all(cut, reqs))
    assert set(got) <= {"new", "legacy"}, got
    assert got.get("new", 0) >= 100 and got.get("legacy", 0) >= 100, \
        "400 keyless requests at 50/50 gave %r: not a random draw" % got


# ------------------------------------------------------------ 6. sticky header

def test_sticky_header_keeps_each_key_on_one_target():
    new, legacy = tagged("new", True), tagged("legacy", True)
    route = split_route([("new", 40), ("legacy", 60)], sticky={"header": "X-User-ID"})
    cut = Cutover(split_config({"new": new, "legacy": legacy}, [route], workers=4))
    ks = keys(1000, "u")
    first = sticky_targets(cut, ks, lambda k: [("X-User-ID", k)])
    second = sticky_targets(cut, ks, lambda k: [("x-user-id", k), ("Cookie", "session_id=zz")],
                            shift=5)
    moved = [k for k in ks if first[k] != second[k]]
    assert not moved, "%d of %d X-User-ID keys changed target, e.g. %s: %s then %s" % (
        len(moved), len(ks), moved[0], first[moved[0]], second[moved[0]])
    share = sum(1 for k in ks if first[k] == "new") * 100.0 / len(ks)
    assert 34 <= share <= 46, "share of new is %.1f%% of keys, want 40%% +- 6" % share
    # The model applies to headers as to cookies (seed: the route's name "all").
    tg = [("new", 40), ("legacy", 60)]
    wrong = [k for k in ks if first[k] != model_target("all", model_bucket("all", k), tg)]
    assert not wrong, "%d keys not on the documented target, e.g. %s" % (len(wrong), wrong[0])


# ------------------------------------------------------------ 7. seeds

def test_seed_changes_the_mapping_and_defaults_to_the_route_name():
    new, legacy = tagged("new", True), tagged("legacy", True)
    tg = [("new", 50), ("legacy", 50)]
    routes = [
        split_route(tg, name="plain", prefix="/plain", sticky={"cookie": "session_id"}),
        split_route(tg, name="same", prefix="/same",
                    sticky={"cookie": "session_id", "seed": "plain"}),
        split_route(tg, name="other", prefix="/other",
                    sticky={"cookie": "session_id", "seed": "users-2026"}),
        {"name": "rest", "match": {"path_prefix": "/"}, "upstream": "legacy"},
    ]
    cut = Cutover(split_config({"new": new, "legacy": legacy}, routes))
    ks = keys(1000, "s")

    def on(prefix):
        got = send_all(cut, [("%s/%d" % (prefix, i), cookie(k)) for i, k in enumerate(ks)])
        return dict(zip(ks, got))

    plain, same, other = on("/plain"), on("/same"), on("/other")
    d_same = sum(1 for k in ks if plain[k] != same[k])
    assert d_same == 0, ("seed \"plain\" on route \"same\" should equal route \"plain\"'s "
                         "default seed (its name); %d of 1000 keys differ" % d_same)
    d_other = sum(1 for k in ks if plain[k] != other[k])
    assert d_other > 200, "seeds plain / users-2026 put only %d of 1000 keys on different targets" % (
        d_other)


# ------------------------------------------------------------ 8. override

def test_override_from_an_allowed_client_picks_the_target():
    new, legacy = tagged("new"), tagged("legacy")
    route = split_route([("new", 100), ("legacy", 0)], sticky={"cookie": "session_id"},
                        override={"allow_from": ["127.0.0.1/32"]})
    cfg, logpath, _ = observed(split_config({"new": new, "legacy": legacy}, [route]), admin=False)
    cut = Cutover(cfg)

    r = cut.request("GET", "/o/1", [(OVERRIDE, "legacy"), ("X-Request-ID", "ov-1")])
    assert which(r, "override to legacy") == "legacy", "override to the 0-weight target went to %s" % (
        r.header("X-Which"))
    not_forwarded(echoed(r))
    line = log_line(logpath, "ov-1")
    assert line["upstream"] == "legacy", "access log upstream %r, want legacy" % line["upstream"]

    # The header's name is case-insensitive, and the override beats a sticky key.
    r = cut.request("GET", "/o/2", [(OVERRIDE.lower(), "legacy"), ("Cookie", "session_id=abc")])
    assert which(r) == "legacy", "override (lowercase header, with a sticky cookie) went to %s" % (
        r.header("X-Which"))
    not_forwarded(echoed(r))

    r = cut.request("GET", "/o/3", [(OVERRIDE, "new")])
    assert which(r) == "new"
    not_forwarded(echoed(r))

    r = cut.request("GET", "/o/4")
    assert which(r) == "new", "no override: 100/0 split went to %s" % r.header("X-Which")

    # A name that is not a target: ignored, logged, and still not forwarded.
    r = cut.request("GET", "/o/5", [(OVERRIDE, "nosuch")])
    assert which(r, "unknown override") == "new"
    not_forwarded(echoed(r))
    e = events_with(cut, "override_ignored", route="all", value="nosuch")
    assert e.get("reason"), "override_ignored without a reason: %s" % e["_line"]
    assert len(legacy.requests) == 2, legacy.targets()


def test_override_from_a_client_not_allowed_is_ignored():
    new, legacy = tagged("new"), tagged("legacy")
    route = split_route([("new", 100), ("legacy", 0)],
                        override={"allow_from": ["10.0.0.0/8"]})
    cut = Cutover(split_config({"new": new, "legacy": legacy}, [route]))
    r = cut.request("GET", "/o/1", [(OVERRIDE, "legacy")])
    assert which(r, "override from 127.0.0.1, allowed only 10/8") == "new", \
        "an override from a client outside allow_from was obeyed"
    not_forwarded(echoed(r))
    e = events_with(cut, "override_ignored", route="all", value="legacy")
    assert e.get("reason"), "override_ignored without a reason: %s" % e["_line"]
    assert len(legacy.requests) == 0, legacy.targets()


def test_override_custom_header_name():
    new, legacy = tagged("new"), tagged("legacy")
    route = split_route([("new", 100), ("legacy", 0)],
                        override={"header": "X-Test-Target", "allow_from": ["127.0.0.0/8"]})
    cut = Cutover(split_config({"new": new, "legacy": legacy}, [route]))
    r = cut.request("GET", "/c/1", [("X-Test-Target", "legacy")])
    assert which(r, "override by X-Test-Target") == "legacy"
    not_forwarded(echoed(r), "X-Test-Target")


# ------------------------------------------------------------ 9. inactive route

def test_override_reaches_an_inactive_route():
    reports, legacy = tagged("reports"), tagged("legacy")
    routes = [
        {"name": "reports-v2", "active": False, "match": {"path_prefix": "/reports"},
         "upstream": "reports",
         "rewrite": {"replace_prefix": {"from": "/reports", "to": "/v2/reports"}}},
        {"name": "everything-else", "match": {"path_prefix": "/"}, "upstream": "legacy",
         "override": {"allow_from": ["127.0.0.1/32"]}},
    ]
    cfg, logpath, _ = observed(split_config({"reports": reports, "legacy": legacy}, routes),
                               admin=False)
    cut = Cutover(cfg)

    r = cut.request("GET", "/reports/q?x=1", [(OVERRIDE, "reports"), ("X-Request-ID", "inact-1")])
    assert which(r, "override to the inactive route's upstream") == "reports"
    d = echoed(r)
    not_forwarded(d)
    assert d["target"] == "/v2/reports/q?x=1", "served without the inactive route's rewrite: %r" % (
        d["target"])
    line = log_line(logpath, "inact-1")
    assert line["upstream"] == "reports" and line["route"] == "reports-v2", \
        "access log route/upstream %r/%r, want reports-v2/reports" % (line["route"], line["upstream"])

    r = cut.request("GET", "/reports/q")
    assert which(r, "no override") == "legacy", "without the header /reports went to %s" % (
        r.header("X-Which"))
    assert echoed(r)["target"] == "/reports/q"

    # The inactive route's conditions do not hold for /other: ignored.
    r = cut.request("GET", "/other", [(OVERRIDE, "reports")])
    assert which(r, "override to reports for /other") == "legacy"
    not_forwarded(echoed(r))
    events_with(cut, "override_ignored", route="everything-else", value="reports")
    assert reports.targets() == ["/v2/reports/q?x=1"], reports.targets()


# ------------------------------------------------------------ 10. explain

EXPLAIN = """\
listeners:
  - address: "$LISTEN"
upstreams:
  users:
    servers: [ { address: "%(users)s" } ]
  legacy:
    servers: [ { address: "%(legacy)s" } ]
routes:
  - name: users-rollout
    match: { path_prefix: /api/users }
    split:
      - { upstream: users, weight: 10 }
      - { upstream: legacy, weight: 90 }
    sticky: { cookie: session_id }
    override:
      header: X-Cutover-Upstream
      allow_from: [127.0.0.1/32]
  - name: everything-else
    match: { path_prefix: / }
    upstream: legacy
"""


def _share_line(out, name, pct):
    pat = re.compile(r"^.*\b%s\b.*\b%d(\.0+)?\s*%%.*$" % (re.escape(name), pct), re.M)
    assert pat.search(out), "explain lists no share %d%% for %s: %r" % (pct, name, out)


def test_explain_prints_split_sticky_and_override():
    users, legacy = tagged("users"), tagged("legacy")
    cut = Cutover(EXPLAIN % {"users": users.address, "legacy": legacy.address})
    path = cut.config_path
    url = "http://a.example/api/users/7"

    r = run_cli(["explain", "-c", path, "-H", "Cookie: session_id=abc", "GET", url])
    assert r.code == 0, r
    assert re.search(r'route 1 "users-rollout": MATCH', r.stdout), r.stdout
    _share_line(r.stdout, "users", 10)
    _share_line(r.stdout, "legacy", 90)
    m = re.search(r"^  sticky: cookie session_id bucket (\d+) -> (\S+)$", r.stdout, re.M)
    assert m, "no '  sticky: cookie session_id bucket N -> TARGET' line: %r" % r.stdout
    b, tgt = int(m.group(1)), m.group(2)
    assert b == model_bucket("users-rollout", "abc"), "bucket %d, want %d" % (
        b, model_bucket("users-rollout", "abc"))
    assert tgt in ("users", "legacy"), m.group(0)
    # The proxy sends that key where explain says.
    for i in range(3):
        got = which(cut.request("GET", "/api/users/7", cookie("abc")))
        assert got == tgt, "explain says %s for session_id=abc, the proxy sent it to %s" % (tgt, got)

    r = run_cli(["explain", "-c", path, "GET", url])
    assert r.code == 0, r
    # "sticky: no key (random draw)"; the name of the key may come first.
    assert re.search(r"^  sticky: (.*: )?no key \(random draw\b", r.stdout, re.M), \
        "no '  sticky: no key (random draw)' line without the cookie: %r" % r.stdout

    r = run_cli(["explain", "-c", path, "-H", "X-Cutover-Upstream: users", "GET", url])
    assert r.code == 0, r
    assert re.search(r"^  override: X-Cutover-Upstream=users -> users( .*)?$", r.stdout, re.M), \
        "no '  override: X-Cutover-Upstream=users -> users' line: %r" % r.stdout

    r = run_cli(["explain", "-c", path, "-H", "X-Cutover-Upstream: nosuch", "GET", url])
    assert r.code == 0, r
    m = re.search(r"^  override: .*$", r.stdout, re.M)
    assert m, "no override line for an unknown name: %r" % r.stdout
    assert "-> nosuch" not in m.group(0) and "nosuch" in m.group(0), \
        "override line for an unknown name should say it is ignored: %r" % m.group(0)


# ------------------------------------------------------------ config checks

BAD_BASE = """\
listeners:
  - address: "127.0.0.1:18080"
upstreams:
  legacy:
    servers: [ { address: "127.0.0.1:18081" } ]
  users:
    servers: [ { address: "127.0.0.1:18082" } ]
routes:
  - name: users
    match: { path_prefix: /api/users }
%s
  - name: everything-else
    match: { path_prefix: / }
    upstream: legacy
"""


@harness.params({
    "sticky_without_split": ("    upstream: users\n    sticky: { cookie: session_id }",
                             "sticky: {", "sticky"),
    "weight_too_large": ("    split:\n      - { upstream: users, weight: 10001 }\n"
                         "      - { upstream: legacy, weight: 1 }", "10001", "10000"),
    "unknown_target": ("    split:\n      - { upstream: userz, weight: 10 }\n"
                       "      - { upstream: legacy, weight: 90 }", "userz",
                       'unknown upstream "userz"'),
    "cookie_and_header": ("    split:\n      - { upstream: users, weight: 10 }\n"
                          "      - { upstream: legacy, weight: 90 }\n"
                          "    sticky: { cookie: s, header: X-User-ID }", "sticky: {", "sticky"),
})
def test_check_refuses_bad_split(body, marker, message):
    text = BAD_BASE % body
    lineno = next(i for i, ln in enumerate(text.split("\n")) if marker in ln) + 1
    write_file("bad.yaml", text)
    r = run_cli(["-t", "-c", "bad.yaml"])
    assert r.code == 1, "exit %s, want 1: %r" % (r.code, r)
    want = re.compile(r"(^|[\s/])bad\.yaml:%d:\d+: .*%s" % (lineno, re.escape(message)),
                      re.M | re.I)
    assert want.search(r.stderr), "stderr lacks bad.yaml:%d:COL: ...%s...: %r" % (
        lineno, message, r.stderr)


def test_check_warns_of_override_without_allow_from():
    body = ("    split:\n      - { upstream: users, weight: 10 }\n"
            "      - { upstream: legacy, weight: 90 }\n"
            "    override: { header: X-Cutover-Upstream }")
    write_file("warn.yaml", BAD_BASE % body)
    r = run_cli(["-t", "-c", "warn.yaml"])
    assert r.code == 0, "exit %s, want 0 (a warning only): %r" % (r.code, r)
    assert "allow_from" in r.output, "no warning about the override without allow_from: %r" % r
