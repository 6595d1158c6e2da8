"""SIGTERM / SIGINT: drain in-flight requests, refuse new connections, exit 0."""

import signal
import time

from harness import Cutover, echoed, params, refused, simple_config, wait_until
from upstream import Upstream, delay, echo


@params({"SIGTERM": signal.SIGTERM, "SIGINT": signal.SIGINT})
def test_signal_drains_in_flight_request_and_exits_0(sig):
    # The client keeps its connection open after the response, as browsers
    # do: once nothing is in flight the drain is over, long before the timeout.
    up = Upstream(delay(1.0, echo()))
    cut = Cutover(simple_config(up, shutdown_timeout="10s"))
    c = cut.client()
    c.request("GET", "/in-flight")
    up.wait_requests(1, timeout=3)
    t = time.time()
    cut.signal(sig)
    wait_until(lambda: refused(cut.port), 1.5, "new connections to be refused after the signal")
    r = c.read_response(timeout=5)
    assert echoed(r)["target"] == "/in-flight", r
    try:
        code = cut.wait(4)
    except AssertionError:
        raise AssertionError("still running 4s after %s with nothing in flight "
                             "(shutdown_timeout 10s; idle keep-alive connections keep it alive?)" % sig.name)
    assert code == 0, "exit code %s after %s, want 0" % (code, sig.name)


def test_shutdown_timeout_bounds_the_drain():
    up = Upstream(delay(10.0, echo()))
    cut = Cutover(simple_config(up, shutdown_timeout="1s"))
    c = cut.client()
    c.request("GET", "/too-slow")
    up.wait_requests(1, timeout=3)
    t = time.time()
    cut.signal(signal.SIGTERM)
    code = cut.wait(4)
    took = time.time() - t
    assert code == 0, "exit code %s, want 0" % code
    assert took < 3, "exited %.1fs after SIGTERM with shutdown_timeout 1s" % took


def test_idle_process_exits_0_on_sigterm():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    echoed(cut.request("GET", "/x"))
    cut.signal(signal.SIGTERM)
    assert cut.wait(5) == 0
