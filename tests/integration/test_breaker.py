"""The circuit breaker (issue 4; SPEC 4.2, 5, 6, 7): what opens it, what an
open breaker answers, the timer-driven half-open state and its probes, dry
run, operator control through the admin API, and the metrics, /upstreams
and event-log lines that show it. Retries are off (attempts 1) unless a
test says otherwise, so every count at the upstream is exact."""

import json
import re
import time

import harness
from harness import Cutover, assert_error, echoed, free_port, server, simple_config, wait_until
from probes import (admin_call, breaker_state, events, expect, force, log_line, metrics,
                    observed, upstreams)
from upstream import (Upstream, by_path, close_before_head, counted_status, delay, echo, never,
                      status, switch)

STATE_VALUE = {"closed": 0, "half_open": 1, "open": 2, "forced_open": 3, "forced_closed": 4}
FAMILIES = ["cutover_upstream_breaker_state", "cutover_upstream_breaker_transitions_total",
            "cutover_upstream_rejected_total", "cutover_retries_total",
            "cutover_retries_skipped_total", "cutover_retry_budget_exhausted_total",
            "cutover_upstream_tries_total"]


# ------------------------------------------------------------------ helpers

def config(up, breaker=None, retry=None, upstream=None, **top):
    """One upstream "app" with short timeouts, no retries, the given breaker
    keys, an access log file and an admin listener -> (cfg, logpath, port)."""
    u = {"connect_timeout": "300ms", "response_timeout": "300ms",
         "retry": dict(retry or {"attempts": 1}),
         "breaker": dict(breaker or {})}
    u.update(upstream or {})
    return observed(simple_config(up, upstream=u, **top))


def wait_state(port, want, timeout=3.0, name="app"):
    seen = []

    def check():
        s = breaker_state(port, name)
        if not seen or seen[-1] != s:
            seen.append(s)
        return s == want
    try:
        wait_until(check, timeout, "breaker state %s" % want, interval=0.02)
    except AssertionError:
        raise AssertionError("breaker of %s never became %s within %.1fs; states seen: %r"
                             % (name, want, timeout, seen))


def transitions(cut):
    return events(cut, "breaker_transition")


def wait_transitions(cut, n, timeout=3.0):
    wait_until(lambda: len(transitions(cut)) >= n, timeout, "%d breaker_transition line(s)" % n)
    return transitions(cut)


def get(cut, target="/x", rid=None, method="GET"):
    hs = [("X-Request-ID", rid)] if rid else []
    return cut.request(method, target, hs)


def assert_open_answer(r, name="app", max_retry_after=None):
    """cutover's 503 for an open breaker (SPEC 3)."""
    assert_error(r, 503)
    ra = r.header("Retry-After")
    assert ra is not None and ra.isdigit() and int(ra) >= 1, "Retry-After %r" % ra
    if max_retry_after is not None:
        assert int(ra) <= max_retry_after, "Retry-After %s > %d" % (ra, max_retry_after)
    xb = r.header("X-Cutover-Breaker")
    assert xb == "open; upstream=%s" % name, "X-Cutover-Breaker %r" % xb
    body = r.json()
    assert body.get("request_id") == r.header("X-Request-ID"), body


# ---------------------------------------------------------------- opening

def test_consecutive_failures_open_it():
    up = Upstream(status(500, b"upstream broke"))
    cfg, logpath, port = config(up, {"consecutive_failures": 3, "open_for": "5s"})
    cut = Cutover(cfg)
    for i in range(3):
        r = get(cut, "/c/%d" % i)
        assert r.status == 500 and r.body == b"upstream broke", (i, r, r.body)
    assert len(up.requests) == 3, up.summary()
    wait_state(port, "open", 1)
    for i in range(5):
        r = get(cut, "/c/refused", rid="refused-%d" % i)
        assert_open_answer(r, max_retry_after=6)  # 5 s plus at most 20% jitter
    time.sleep(0.1)
    assert len(up.requests) == 3, "an open breaker let requests through: %r" % up.requests
    x = log_line(logpath, "refused-0")
    assert "BO" in x["flags"] and x["breaker"] == "open" and x["status"] == 503, x
    (tr,) = wait_transitions(cut, 1)
    assert tr.get("upstream") == "app" and tr.get("from") == "closed" and tr.get("to") == "open", tr
    assert tr.get("reason") == "consecutive", tr
    assert tr.get("calls") == "3" and tr.get("failures") == "3" and tr.get("consecutive") == "3", tr
    assert tr.get("slow") == "0", tr
    assert tr.get("open_ms") == "5000", tr
    assert 4000 <= int(tr.get("half_open_in_ms", "-1")) <= 6000, tr
    u = upstreams(port)["app"]
    assert u["breaker"]["state"] == "open" and u["breaker"]["mode"] == "enforce", u
    # Refusals are not calls: the window holds the three failures only.
    assert u["window"]["requests"] == 3 and u["window"]["failures"] == 3, u
    assert 0 < u["seconds_until_half_open"] <= 6, u
    text = metrics(port)
    expect(text, "cutover_upstream_breaker_state", 2, upstream="app")
    expect(text, "cutover_upstream_breaker_transitions_total", 1,
           upstream="app", **{"from": "closed", "to": "open", "reason": "consecutive"})
    expect(text, "cutover_upstream_rejected_total", 5, upstream="app", reason="breaker_open")
    expect(text, "cutover_upstream_tries_total", 3, upstream="app")


@harness.params({"refused": "refused", "timeout": "timeout", "reset": "reset", "503": "503"})
def test_every_failure_kind_counts(kind):
    if kind == "refused":
        up = None
        target = "127.0.0.1:1"
        want = 502
    else:
        up = Upstream({"timeout": never(), "reset": close_before_head(reset=True),
                       "503": status(503, b"busy")}[kind])
        target = up
        want = {"timeout": 504, "reset": 502, "503": 503}[kind]
    cfg, logpath, port = config(target, {"consecutive_failures": 2, "open_for": "5s"})
    cut = Cutover(cfg)
    for i in range(2):
        assert get(cut).status == want
    wait_state(port, "open", 1)
    assert_open_answer(get(cut))
    if up is not None:
        time.sleep(0.1)
        assert len(up.requests) == 2, up.requests
    (tr,) = wait_transitions(cut, 1)
    assert tr.get("reason") == "consecutive" and tr.get("to") == "open", tr


def test_failure_rate_opens_it_only_with_min_requests():
    up = Upstream(switch(status(500)))
    sw = up.behaviour
    cfg, logpath, port = config(up, {"consecutive_failures": 100, "failure_rate": "50%",
                                     "min_requests": 10, "window": "10s", "open_for": "5s"})
    cut = Cutover(cfg)
    # Five failures (100%, but fewer than min_requests), four successes:
    # 5/9 = 55% with 9 < 10 calls is no decision yet.
    for i in range(5):
        assert get(cut, "/f/%d" % i).status == 500
    sw.set(echo())
    for i in range(4):
        echoed(get(cut, "/s/%d" % i))
    assert breaker_state(port) == "closed", upstreams(port)
    assert not transitions(cut), transitions(cut)
    # The tenth call fails: 6/10 = 60% >= 50% with 10 calls.
    sw.set(status(500))
    assert get(cut, "/f/last").status == 500
    assert len(up.requests) == 10, up.summary()
    wait_state(port, "open", 1)
    assert_open_answer(get(cut, "/after"))
    time.sleep(0.1)
    assert len(up.requests) == 10, up.requests
    (tr,) = wait_transitions(cut, 1)
    assert tr.get("reason") == "rate" and tr.get("from") == "closed" and tr.get("to") == "open", tr
    assert tr.get("calls") == "10" and tr.get("failures") == "6", tr
    expect(metrics(port), "cutover_upstream_breaker_transitions_total", 1,
           upstream="app", reason="rate")


def test_slow_calls_open_it():
    up = Upstream(delay(0.2, echo()))
    cfg, logpath, port = config(up, {"consecutive_failures": 100, "min_requests": 4,
                                     "slow_call": "100ms", "slow_call_rate": "50%",
                                     "open_for": "5s"},
                                upstream={"response_timeout": "2s"})
    cut = Cutover(cfg)
    for i in range(4):
        echoed(get(cut, "/slow/%d" % i))  # slow, but each one a success
    wait_state(port, "open", 1)
    assert_open_answer(get(cut, "/after"))
    time.sleep(0.1)
    assert len(up.requests) == 4, up.requests
    (tr,) = wait_transitions(cut, 1)
    assert tr.get("reason") == "slow" and tr.get("to") == "open", tr
    assert tr.get("slow") == "4" and tr.get("failures") == "0" and tr.get("calls") == "4", tr
    u = upstreams(port)["app"]
    assert u["window"]["slow"] == 4 and u["window"]["failures"] == 0, u


@harness.params({"429": 429, "404": 404, "400": 400})
def test_client_errors_do_not_open_it(code):
    up = Upstream(status(code, b"client side"))
    cfg, logpath, port = config(up, {"consecutive_failures": 2, "failure_rate": "50%",
                                     "min_requests": 4})
    cut = Cutover(cfg)
    for i in range(8):
        r = get(cut, "/e/%d" % i)
        assert r.status == code and r.body == b"client side", (i, r, r.body)
    time.sleep(0.1)
    assert len(up.requests) == 8, "retried or refused: %r" % up.requests
    u = upstreams(port)["app"]
    assert u["breaker"]["state"] == "closed", u
    assert u["window"]["requests"] == 8 and u["window"]["failures"] == 0, u
    assert u["seconds_until_half_open"] is None, u
    assert not transitions(cut), transitions(cut)
    text = metrics(port)
    expect(text, "cutover_upstream_breaker_transitions_total", 0, upstream="app")
    expect(text, "cutover_upstream_breaker_state", 0, upstream="app")


def test_no_retry_once_the_breaker_opened():
    up = Upstream(counted_status(503))
    cfg, logpath, port = config(up, {"consecutive_failures": 2, "open_for": "5s"},
                                retry={"attempts": 3, "backoff": "5ms"})
    cut = Cutover(cfg)
    r = get(cut, "/r", rid="opened-mid-request")
    # Try 1 fails, try 2 fails and opens the breaker: no try 3; the client
    # gets the last upstream answer, not our own 503.
    assert r.status == 503 and r.body == b"try 2", (r, r.body)
    time.sleep(0.2)
    assert len(up.requests) == 2, up.requests
    text = metrics(port)
    expect(text, "cutover_retries_skipped_total", 1, upstream="app", reason="breaker")
    expect(text, "cutover_retries_total", 1, upstream="app")
    assert_open_answer(get(cut, "/r2"))
    assert len(up.requests) == 2, up.summary()


# ------------------------------------------------------- half-open, probes

def test_timer_half_opens_and_probes_close_it():
    sw = switch(status(500))
    up = Upstream(sw)
    cfg, logpath, port = config(up, {"consecutive_failures": 2, "open_for": "500ms",
                                     "half_open_probes": 1, "half_open_successes": 2})
    cut = Cutover(cfg)
    for i in range(2):
        assert get(cut).status == 500
    wait_state(port, "open", 1)
    assert_open_answer(get(cut), max_retry_after=1)
    # No traffic at all: the timer alone moves it (500 ms + <= 20% jitter).
    t = time.time()
    wait_state(port, "half_open", timeout=3)
    assert time.time() - t < 1.5
    assert len(up.requests) == 2, up.summary()
    text = metrics(port)
    expect(text, "cutover_upstream_breaker_state", 1, upstream="app")
    expect(text, "cutover_upstream_breaker_transitions_total", 1,
           upstream="app", **{"from": "open", "to": "half_open", "reason": "timer"})
    assert upstreams(port)["app"]["seconds_until_half_open"] is None
    sw.set(echo())
    echoed(get(cut, "/probe/1", rid="probe-1"))
    assert breaker_state(port) == "half_open", "closed after 1 of 2 probes"
    echoed(get(cut, "/probe/2", rid="probe-2"))
    wait_state(port, "closed", 1)
    for i in range(3):
        echoed(get(cut, "/after/%d" % i))
    assert len(up.requests) == 7, up.summary()
    assert log_line(logpath, "probe-1")["breaker"] == "half_open"
    trs = [(x.get("from"), x.get("to"), x.get("reason")) for x in wait_transitions(cut, 3)]
    assert trs == [("closed", "open", "consecutive"), ("open", "half_open", "timer"),
                   ("half_open", "closed", "probes-passed")], trs
    text = metrics(port)
    expect(text, "cutover_upstream_breaker_state", 0, upstream="app")
    expect(text, "cutover_upstream_breaker_transitions_total", 1,
           upstream="app", **{"from": "half_open", "to": "closed", "reason": "probes-passed"})
    u = upstreams(port)["app"]
    assert u["window"]["failures"] == 0, "the window is reset on closing: %r" % u


def test_half_open_admits_one_probe_at_a_time():
    sw = switch(status(500))
    up = Upstream(sw)
    cfg, logpath, port = config(up, {"consecutive_failures": 2, "open_for": "500ms",
                                     "half_open_probes": 1, "half_open_successes": 1},
                                upstream={"response_timeout": "2s"})
    cut = Cutover(cfg)
    for i in range(2):
        assert get(cut).status == 500
    wait_state(port, "half_open", timeout=3)
    sw.set(delay(0.5, echo()))
    probe = cut.client()
    probe.request("GET", "/probe")
    up.wait_requests(3, timeout=2)
    r = get(cut, "/other", rid="while-probing")
    assert_open_answer(r)
    x = log_line(logpath, "while-probing")
    assert "BO" in x["flags"] and x["breaker"] == "half_open", x
    echoed(probe.read_response(timeout=3))
    wait_state(port, "closed", 1)
    echoed(get(cut, "/after"))
    assert len(up.requests) == 4, up.requests


def test_failed_probe_reopens_for_longer():
    up = Upstream(status(500, b"still broken"))
    cfg, logpath, port = config(up, {"consecutive_failures": 2, "open_for": "500ms",
                                     "max_open_for": "10s"})
    cut = Cutover(cfg)
    for i in range(2):
        assert get(cut).status == 500
    wait_state(port, "open", 1)
    s1 = upstreams(port)["app"]["seconds_until_half_open"]
    assert s1 is not None and s1 > 0, s1
    for n in (3, 4):
        wait_state(port, "half_open", timeout=4)
        r = get(cut, "/probe")
        assert r.status == 500 and r.body == b"still broken", (r, r.body)  # the probe's own answer
        assert len(up.requests) == n, up.summary()
        wait_state(port, "open", 1)
    s3 = upstreams(port)["app"]["seconds_until_half_open"]
    assert s3 is not None and s3 > s1, \
        "seconds_until_half_open %r after two failed probes, %r at first" % (s3, s1)
    opens = [x for x in wait_transitions(cut, 5) if x.get("to") == "open"]
    assert [x.get("reason") for x in opens] == ["consecutive", "probe-failed", "probe-failed"], opens
    assert [x.get("open_ms") for x in opens] == ["500", "1000", "2000"], opens
    waits = [int(x.get("half_open_in_ms", "0")) for x in opens]
    assert waits[0] < waits[1] < waits[2], waits
    text = metrics(port)
    expect(text, "cutover_upstream_breaker_transitions_total", 2,
           upstream="app", **{"from": "half_open", "to": "open", "reason": "probe-failed"})
    expect(text, "cutover_upstream_breaker_transitions_total", 2,
           upstream="app", **{"from": "open", "to": "half_open", "reason": "timer"})


def test_open_period_stops_growing_at_max_open_for():
    up = Upstream(status(500))
    cfg, logpath, port = config(up, {"consecutive_failures": 2, "open_for": "500ms",
                                     "max_open_for": "1s"})
    cut = Cutover(cfg)
    for i in range(2):
        assert get(cut).status == 500
    for n in (3, 4):
        wait_state(port, "half_open", timeout=4)
        assert get(cut, "/probe").status == 500
        assert len(up.requests) == n, up.summary()
    opens = [x for x in wait_transitions(cut, 5) if x.get("to") == "open"]
    assert [x.get("open_ms") for x in opens] == ["500", "1000", "1000"], opens


# ----------------------------------------------------------------- dry run

def test_dry_run_refuses_nothing_but_decides_logs_and_counts():
    up = Upstream(status(500, b"broken"))
    cfg, logpath, port = config(up, {"mode": "dry_run", "consecutive_failures": 2,
                                     "open_for": "5s"})
    cut = Cutover(cfg)
    for i in range(6):
        r = get(cut, "/d/%d" % i, rid="dry-%d" % i)
        assert r.status == 500 and r.body == b"broken", "dry run refused request %d: %r" % (i, r)
    time.sleep(0.1)
    assert len(up.requests) == 6, up.requests
    trs = wait_transitions(cut, 1)
    assert trs[0].get("from") == "closed" and trs[0].get("to") == "open", trs
    assert trs[0].get("reason") == "consecutive", trs
    text = metrics(port)
    expect(text, "cutover_upstream_breaker_transitions_total", 1,
           upstream="app", **{"from": "closed", "to": "open", "reason": "consecutive"}, op=">=")
    u = upstreams(port)["app"]
    assert u["breaker"]["mode"] == "dry_run", u
    # Requests after the (dry) opening say what enforce would have done.
    x = log_line(logpath, "dry-5")
    assert x["status"] == 500 and x["breaker"] == "dry_run_open", x
    assert log_line(logpath, "dry-0")["breaker"] is None


# ---------------------------------------------------------------- operator

def test_admin_forces_open_closed_and_back_to_auto():
    sw = switch(echo())
    up = Upstream(sw)
    cfg, logpath, port = config(up, {"consecutive_failures": 2, "open_for": "5s"})
    cut = Cutover(cfg)
    force(port, "open")
    assert breaker_state(port) == "forced_open", upstreams(port)
    r = get(cut, "/forced")
    assert_error(r, 503)
    assert r.header("Retry-After") and "upstream=app" in (r.header("X-Cutover-Breaker") or ""), r.headers
    time.sleep(0.1)
    assert len(up.requests) == 0, up.requests
    expect(metrics(port), "cutover_upstream_breaker_state", 3, upstream="app")
    force(port, "closed")
    assert breaker_state(port) == "forced_closed", upstreams(port)
    expect(metrics(port), "cutover_upstream_breaker_state", 4, upstream="app")
    sw.set(status(500))
    for i in range(5):
        assert get(cut, "/fc/%d" % i).status == 500, "forced closed refused a call"
    assert len(up.requests) == 5, up.summary()
    assert breaker_state(port) == "forced_closed", upstreams(port)
    force(port, "auto")
    assert breaker_state(port) == "closed", upstreams(port)
    expect(metrics(port), "cutover_upstream_breaker_state", 0, upstream="app")
    for i in range(2):
        assert get(cut).status == 500
    wait_state(port, "open", 1)
    assert_open_answer(get(cut))
    assert len(up.requests) == 7, up.summary()
    ops = [x for x in wait_transitions(cut, 4) if x.get("reason") == "operator"]
    assert [x.get("to") for x in ops] == ["forced_open", "forced_closed", "closed"], ops
    for x in ops:
        assert "127.0.0.1" in x["_line"], \
            "operator transition without the caller's address: %s" % x["_line"]
    text = metrics(port)
    expect(text, "cutover_upstream_breaker_transitions_total", 3, upstream="app", reason="operator")


def test_admin_breaker_call_errors():
    up = Upstream(echo())
    cfg, logpath, port = config(up)
    Cutover(cfg)
    st, text = admin_call(port, "/upstreams/nope/breaker", "POST", json.dumps({"state": "open"}))
    assert st == 404, (st, text)
    for body in ('{"state":"sideways"}', "not json", "{}", '{"state":1}'):
        st, text = admin_call(port, "/upstreams/app/breaker", "POST", body)
        assert st == 400, "body %r: %d %s" % (body, st, text[:200])
    assert breaker_state(port) == "closed", upstreams(port)


# ----------------------------------------------------------------- metrics

def test_metrics_are_consistent_with_upstreams():
    bad = Upstream(status(500), name="bad")
    good = Upstream(echo(), name="good")
    port = free_port()
    cfg = {
        "admin": {"address": "127.0.0.1:%d" % port},
        "upstream_defaults": {"connect_timeout": "300ms", "response_timeout": "300ms",
                              "retry": {"attempts": 1},
                              "breaker": {"consecutive_failures": 2, "open_for": "5s"}},
        "upstreams": {"app": {"servers": [server(bad)]}, "other": {"servers": [server(good)]}},
        "routes": [{"name": "a", "match": {"path_prefix": "/a"}, "upstream": "app"},
                   {"name": "rest", "match": {"path_prefix": "/"}, "upstream": "other"}],
    }
    cut = Cutover(cfg)
    for i in range(2):
        assert get(cut, "/a/%d" % i).status == 500
    for i in range(3):
        assert_open_answer(get(cut, "/a/x"))
    for i in range(4):
        echoed(get(cut, "/b/%d" % i))
    assert len(bad.requests) == 2 and len(good.requests) == 4
    text = metrics(port)
    for fam in FAMILIES:
        assert re.search(r"^# TYPE %s (counter|gauge)$" % fam, text, re.M), "family %s missing" % fam
    ups = upstreams(port)
    assert set(ups) == {"app", "other"}, ups
    for name, u in ups.items():
        st = u["breaker"]["state"]
        expect(text, "cutover_upstream_breaker_state", STATE_VALUE[st], upstream=name)
        assert [s["address"] for s in u["servers"]] == [(bad if name == "app" else good).address], u
        assert u["servers"][0]["healthy"] is True, u
    assert ups["app"]["breaker"]["state"] == "open" and ups["other"]["breaker"]["state"] == "closed"
    w = {k: ups["app"]["window"].get(k) for k in ("requests", "failures", "slow")}
    assert w == {"requests": 2, "failures": 2, "slow": 0}, ups["app"]
    w = {k: ups["other"]["window"].get(k) for k in ("requests", "failures", "slow")}
    assert w == {"requests": 4, "failures": 0, "slow": 0}, ups["other"]
    assert ups["other"]["seconds_until_half_open"] is None
    assert 0 < ups["app"]["seconds_until_half_open"] <= 6
    expect(text, "cutover_upstream_tries_total", 2, upstream="app", outcome="failure")
    expect(text, "cutover_upstream_tries_total", 4, upstream="other", outcome="success")
    expect(text, "cutover_upstream_rejected_total", 3, upstream="app", reason="breaker_open")
    expect(text, "cutover_upstream_rejected_total", 0, upstream="other")
    expect(text, "cutover_upstream_breaker_transitions_total", 1, upstream="app")
    expect(text, "cutover_upstream_breaker_transitions_total", 0, upstream="other")


def test_a_slow_client_is_408_and_not_the_upstreams_failure():
    # request_timeout runs out while the client is still trickling its
    # body: that is the client's fault (408), and must not open the
    # breaker of a healthy upstream (consecutive_failures 1 here).
    up = Upstream(echo())
    cfg, logpath, port = config(up, breaker={"consecutive_failures": 1},
                                upstream={"request_timeout": "600ms"})
    cut = Cutover(cfg)
    c = cut.client()
    c.send(b"POST /slow HTTP/1.1\r\nHost: a\r\nContent-Length: 100\r\n\r\n")
    r = None
    for _ in range(30):  # a byte every 100 ms: slower than the deadline allows
        if c.poll(0.1) or not c.send(b"x", ignore_errors=True):
            break
    r = c.read_response(timeout=2)
    assert r.status == 408, r
    assert breaker_state(port) == "closed", upstreams(port)["app"]["breaker"]
    assert cut.request("GET", "/after").status == 200


def test_429_is_a_success_counted_apart_in_the_window():
    # SPEC 4.2: a 429 is a success to the breaker, counted apart. Three
    # 429s in a row do not open a breaker that opens at 2 failures; the
    # window shows them as throttled, and the tries as successes.
    up = Upstream(by_path({"/busy": status(429)}, default=echo()))
    cfg, _, port = config(up, breaker={"consecutive_failures": 2})
    cut = Cutover(cfg)
    for i in range(3):
        assert get(cut, "/busy").status == 429
    echoed(get(cut, "/ok"))
    assert breaker_state(port, "app") == "closed"
    # A try is counted just after its answer went out: poll, bounded.
    wait_until(lambda: upstreams(port)["app"]["window"]["requests"] == 4, what="4 calls counted")
    w = upstreams(port)["app"]["window"]
    assert w == {"requests": 4, "failures": 0, "slow": 0, "throttled": 3}, w
    expect(metrics(port), "cutover_upstream_tries_total", 4, upstream="app", outcome="success")
