"""Workers, limits.max_connections and client_timeouts (slow clients S01-S10)."""

import time

from harness import Cutover, assert_error, echoed, simple_config, time_limit, wait_until
from upstream import Upstream, by_path, echo, large

BIG = 20 * 1024 * 1024


def test_two_workers_start_and_serve():
    up = Upstream(echo())
    cut = Cutover(simple_config(up, workers=2))
    for i in range(4):
        echoed(cut.request("GET", "/w/%d" % i))
    assert cut.task_count() >= 3, "only %d task(s) in /proc/%d/task with workers: 2" % (cut.task_count(), cut.pid)


def test_max_connections_holds_the_third_connection():
    up = Upstream(echo())
    cut = Cutover(simple_config(up, limits={"max_connections": 2}))
    c1, c2 = cut.client(), cut.client()
    for c in (c1, c2):
        c.request("GET", "/held")
        echoed(c.read_response())
    c3 = cut.client()
    c3.request("GET", "/third")
    assert not c3.poll(0.5), "third connection answered while two were open: %r" % bytes(c3.buf[:100])
    c1.close()
    r = c3.read_response(timeout=3)
    assert echoed(r)["target"] == "/third"
    c2.request("GET", "/still")
    assert echoed(c2.read_response())["target"] == "/still"


def test_slowloris_gets_408_within_header_timeout():
    up = Upstream(echo())
    cut = Cutover(simple_config(up, client_timeouts={"header": "500ms"}))
    c = cut.client()
    t = time.time()
    c.send(b"GET / HTTP/1.1\r\nHost: a\r\n")
    trickle = b"X-Slow: " + b"z" * 100
    for i in range(len(trickle)):  # a byte every 100 ms until cutover answers
        if c.poll(0.1) or not c.send(trickle[i:i + 1], ignore_errors=True):
            break
    r = c.read_response(timeout=2)
    assert_error(r, 408)
    assert c.wait_closed(1.5), "connection open after the 408"
    took = time.time() - t
    assert took < 1.5, "408 and close took %.2fs with header timeout 500ms" % took
    assert up.bytes_received == 0


def test_idle_keep_alive_connection_is_closed():
    up = Upstream(echo())
    cut = Cutover(simple_config(up, client_timeouts={"idle": "500ms"}))
    c = cut.client()
    c.request("GET", "/once")
    echoed(c.read_response())
    t = time.time()
    assert c.wait_closed(3.0), "idle connection still open 3s later (idle: 500ms)"
    assert time.time() - t >= 0.3, "closed too early (%.2fs)" % (time.time() - t)
    assert not c.buf, "bytes on an idle connection: %r" % bytes(c.buf[:100])


@time_limit(40)
def test_client_that_never_reads_is_cut_after_send_timeout():
    up = Upstream(by_path({"/big": large(BIG)}, default=echo()))
    cut = Cutover(simple_config(up, client_timeouts={"send": "500ms"}))
    slow = cut.client(rcvbuf=65536, timeout=10)
    slow.request("GET", "/big")
    time.sleep(3)
    got, closed = slow.drain(timeout=10)
    assert closed, "connection still open after reading %d bytes" % got
    assert got < BIG // 2, "client got %d bytes; send timeout did not cut the connection" % got
    assert cut.alive()
    echoed(cut.request("GET", "/small"))  # and still serves others


def test_many_idle_connections_do_not_block_new_ones():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    idle = [cut.client() for _ in range(50)]
    for c in idle[:25]:
        c.send(b"GET / HTTP/1.1\r\n")  # half a head
    for i in range(5):
        echoed(cut.request("GET", "/alive/%d" % i))
    wait_until(cut.alive, 1, "cutover alive")
