"""Stress sanity: concurrent keep-alive clients."""

import threading

from harness import Cutover, simple_config, time_limit
from upstream import Upstream, echo

THREADS, REQUESTS = 8, 200


@time_limit(60)
def test_concurrent_keep_alive_clients_all_get_200():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    results = [None] * THREADS

    def client(n):
        ok = 0
        try:
            c = cut.client(timeout=10)
            for i in range(REQUESTS):
                c.request("GET", "/s/%d/%d" % (n, i))
                r = c.read_response()
                if r.status != 200 or b'"/s/%d/%d"' % (n, i) not in r.body:
                    results[n] = "thread %d request %d: %r %r" % (n, i, r, r.body[:100])
                    return
                ok += 1
            results[n] = ok
        except Exception as e:
            results[n] = "thread %d after %d ok: %s" % (n, ok, e)

    threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(50)
    bad = [r for r in results if r != REQUESTS]
    assert not bad, "%d thread(s) failed: %s" % (len(bad), "; ".join(str(b) for b in bad[:3]))
    assert cut.alive(), "cutover died under load"
    assert len(up.requests) == THREADS * REQUESTS
