"""Load balancing across the servers of one upstream."""

from harness import Cutover, echoed, server, simple_config
from upstream import Upstream, echo


def test_weights_split_traffic_three_to_one():
    heavy, light = Upstream(echo(), name="heavy"), Upstream(echo(), name="light")
    cfg = simple_config(heavy)
    cfg["upstreams"]["app"]["servers"] = [server(heavy, 3), server(light, 1)]
    cut = Cutover(cfg)
    c = cut.client()
    for i in range(400):
        c.request("GET", "/w/%d" % i)
        echoed(c.read_response())
    h, l = len(heavy.requests), len(light.requests)
    assert h + l == 400, (h, l)
    assert abs(h - 300) <= 20 and abs(l - 100) <= 20, "split %d/%d, want 300/100 within 5%%" % (h, l)


def test_equal_servers_both_get_traffic():
    a, b = Upstream(echo(), name="a"), Upstream(echo(), name="b")
    cut = Cutover(simple_config([a, b]))
    c = cut.client()
    for i in range(20):
        c.request("GET", "/e/%d" % i)
        echoed(c.read_response())
    assert len(a.requests) == 10 and len(b.requests) == 10, (len(a.requests), len(b.requests))
