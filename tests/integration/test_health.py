"""Active health checks (the upstream `health_check` key): failing servers are
taken out of the balancer and come back, refused connections count, and an
upstream whose servers are all down is unavailable (503, or the fallback)."""

from harness import Cutover, assert_error, echoed, server, simple_config, wait_until
from probes import events, observed, upstreams
from upstream import Upstream, by_path, echo, status

# Fast checks so that each test settles within a second or two:
# down after 3 failures (~0.4 s: the first check runs at start), up after 2 goods.
HEALTH = {"path": "/healthz", "interval": "200ms", "timeout": "200ms",
          "healthy": 2, "unhealthy": 3}
CHECK_UA = "cutover-health-check"
SETTLE = 4.0  # bound on every wait for a state change


def health_upstream(name, code=200):
    """An echo upstream whose /healthz answers up.health["code"] (switchable
    while the test runs)."""
    state = {"code": code}

    def healthz(req, conn):
        status(state["code"], b"health\n")(req, conn)
    up = Upstream(by_path({"/healthz": healthz}, default=echo()), name=name)
    up.health = state
    return up


def is_check(req):
    return req.path == HEALTH["path"] and req.header("User-Agent") == CHECK_UA


def checks(up):
    with up.lock:
        return [r for r in up.requests if is_check(r)]


def proxied(up):
    """Requests cutover forwarded for clients (health checks left out)."""
    with up.lock:
        return [r for r in up.requests if not is_check(r)]


def health_config(servers, route=None, **top):
    """simple_config with a health check on "app" and an admin listener."""
    cfg = simple_config(servers, upstream={"health_check": dict(HEALTH)}, route=route, **top)
    cfg, _, port = observed(cfg, log=False)
    return cfg, port


def healthy_map(port, upstream="app"):
    """{server address: healthy} as /upstreams shows it."""
    u = upstreams(port).get(upstream)
    if u is None:
        raise AssertionError("upstream %s not in /upstreams" % upstream)
    return {s["address"]: s.get("healthy") for s in u["servers"]}


def wait_health(port, up, healthy, timeout=SETTLE):
    wait_until(lambda: healthy_map(port).get(up.address) is healthy, timeout,
               "%s (%s) shown healthy=%s in /upstreams" % (up.name, up.address, healthy))


def changes(cut, up=None, state=None):
    """The health_changed event lines of cut's log, as dicts, optionally only
    those of one server and state."""
    return [kv for kv in events(cut, "health_changed")
            if (up is None or kv.get("server") == up.address)
            and (state is None or kv.get("state") == state)]


def wait_change(cut, up, state, timeout=SETTLE):
    return wait_until(lambda: changes(cut, up, state), timeout,
                      "health_changed state=%s for %s in the log" % (state, up.address))[-1]


def send(cut, n, prefix="/r"):
    """n proxied GETs on one connection, each answered 200 by an echo upstream."""
    c = cut.client()
    for i in range(n):
        c.request("GET", "%s/%d" % (prefix, i))
        echoed(c.read_response())
    c.close()


# ------------------------------------------------------------------ the check

def test_check_request_is_well_formed_and_repeats():
    up = health_upstream("app")
    Cutover(simple_config(up, upstream={"health_check": dict(HEALTH)}))
    wait_until(lambda: len(checks(up)) >= 3, 3, "three health checks")
    for r in checks(up):
        assert r.method == "GET" and r.target == "/healthz" and r.version == "HTTP/1.1", r
        assert r.header("Host") == up.address, r.raw_head
        assert r.header("Connection", "").lower() == "close", r.raw_head
        assert r.complete, r
    first, third = checks(up)[0], checks(up)[2]
    # Two intervals of 200 ms apart, give or take scheduling.
    assert 0.25 <= third.time - first.time <= 1.5, third.time - first.time
    assert not proxied(up)


# ------------------------------------------------------------ down and back up

def test_failing_server_is_taken_out_and_gets_no_traffic():
    good, bad = health_upstream("good"), health_upstream("bad", 500)
    cfg, port = health_config([good, bad])
    cut = Cutover(cfg)
    wait_health(port, bad, False)
    assert healthy_map(port)[good.address] is True
    line = wait_change(cut, bad, "down")
    assert line["upstream"] == "app" and line["checks"] == "3", line
    assert line["reason"] == "status 500", line
    assert len(checks(bad)) >= 3
    assert not changes(cut, good), changes(cut, good)

    send(cut, 20)
    assert len(proxied(bad)) == 0, proxied(bad)
    assert len(proxied(good)) == 20, len(proxied(good))


def test_server_comes_back_after_healthy_good_checks():
    good, flappy = health_upstream("good"), health_upstream("flappy", 500)
    cfg, port = health_config([good, flappy])
    cut = Cutover(cfg)
    wait_health(port, flappy, False)
    send(cut, 6, "/while-down")
    assert len(proxied(flappy)) == 0 and len(proxied(good)) == 6

    flappy.health["code"] = 200
    switched = len(checks(flappy))
    wait_health(port, flappy, True)
    line = wait_change(cut, flappy, "up")
    assert line["checks"] == "2" and line["reason"] == "status 200", line
    assert len(checks(flappy)) - switched >= 2, "up again after fewer than 2 good checks"

    send(cut, 20, "/after")
    back = [r for r in proxied(flappy) if r.path.startswith("/after/")]
    kept = [r for r in proxied(good) if r.path.startswith("/after/")]
    assert len(back) + len(kept) == 20, (len(back), len(kept))
    assert len(back) > 0 and len(kept) > 0, "traffic after recovery: %d/%d" % (len(kept), len(back))


def test_refusing_server_is_marked_down():
    alive, gone = health_upstream("alive"), health_upstream("gone")
    cfg, port = health_config([alive, gone])
    cut = Cutover(cfg)
    wait_until(lambda: checks(gone), 3, "a first health check of 'gone'")
    assert healthy_map(port)[gone.address] is True
    gone.stop()
    wait_health(port, gone, False)
    line = wait_change(cut, gone, "down")
    assert line["reason"] == "connect refused", line

    send(cut, 10)
    assert len(proxied(alive)) == 10 and len(proxied(gone)) == 0


# --------------------------------------------------------- every server down

def test_all_servers_down_is_503():
    a, b = health_upstream("a", 500), health_upstream("b", 503)
    cfg, port = health_config([a, b])
    cut = Cutover(cfg)
    wait_health(port, a, False)
    wait_health(port, b, False)
    r = cut.request("GET", "/nobody-home")
    assert_error(r, 503)
    assert not proxied(a) and not proxied(b), (proxied(a), proxied(b))
    downs = changes(cut, state="down")
    assert {d["server"] for d in downs} == {a.address, b.address}, downs
    assert {d["reason"] for d in downs} == {"status 500", "status 503"}, downs

    # One server back: the upstream is available again.
    b.health["code"] = 200
    wait_health(port, b, True)
    send(cut, 3, "/back")
    assert len(proxied(b)) == 3 and not proxied(a)


def test_all_servers_down_uses_the_fallback():
    sick = health_upstream("sick", 500)
    other = Upstream(echo(), name="other")
    cfg, port = health_config(sick, route={"fallback": "other"})
    cfg["upstreams"]["other"] = {"servers": [server(other)]}
    cut = Cutover(cfg)
    wait_health(port, sick, False)
    d = echoed(cut.request("GET", "/fall"))
    assert d["target"] == "/fall", d
    assert len(other.requests) == 1 and not proxied(sick)
    assert changes(cut, sick, "down")
