#!/usr/bin/env python3
"""Helpers for bench/run.sh (Python 3 standard library only).

  benchtool.py freeports N              N free TCP ports on 127.0.0.1, one a line
  benchtool.py probe PORT PATH SECS [PID]
                                        poll until GET PATH answers 200 (exit 0),
                                        the deadline passes or PID dies (exit 1)
  benchtool.py tree PID                 PID and all its descendants, one a line
  benchtool.py cpu PID                  utime+stime of PID's process tree, in ticks
  benchtool.py run PID ORIGIN_PID OUT SECS CMD...
                                        run CMD (wrk) with output to OUT, killed
                                        after SECS; print PID's CPU ticks over
                                        it and the load of other processes on
                                        CPU 0 and CPU 1, in percent (TSV)
  benchtool.py wrk FILE                 parse wrk --latency output: one TSV line
                                        requests rps p50_ms p99_ms errors non2xx
  benchtool.py idle PORT N PID [PATH [tls]]
                                        open N keep-alive connections (HTTPS
                                        with tls), send one request on each,
                                        hold them idle, and print PID's tree
                                        RSS before/after (TSV)
  benchtool.py fitconf BIN FILE         drop the top-level keys of FILE that
                                        `BIN -t` refuses; print their names;
                                        exit 0 once `BIN -t -c FILE` passes
  benchtool.py report RUNS IDLE META OUT
                                        the markdown report (also on stdout)
"""

import json
import os
import re
import resource
import selectors
import socket
import ssl
import statistics
import subprocess
import sys
import time


# --- processes --------------------------------------------------------------

def proc_tree(root):
    """root and every descendant process, from /proc/*/stat parent links."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                s = f.read()
        except OSError:
            continue
        ppid = int(s[s.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def cpu_ticks(pid):
    """utime + stime (all threads) of one process, in clock ticks."""
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15 of stat


def tree_cpu(root):
    total = 0
    for p in proc_tree(root):
        try:
            total += cpu_ticks(p)
        except OSError:
            pass
    return total


def tree_rss_kib(root):
    total = 0
    for p in proc_tree(root):
        try:
            with open("/proc/%d/status" % p) as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our child, not yet reaped) is dead for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            s = f.read()
        return s[s.rindex(")") + 2] != "Z"
    except OSError:
        return False


def cpu_busy():
    """{cpu index: (busy ticks, total ticks)} from /proc/stat."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            m = re.match(r"cpu(\d+) (.*)", line)
            if m:
                v = [int(x) for x in m.group(2).split()]
                # user nice system idle iowait irq softirq steal ...
                busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7]
                out[int(m.group(1))] = (busy, busy + v[3] + v[4])
    return out


def cmd_run(pid, origin, out_path, secs, cmd):
    """Run cmd; report pid's CPU ticks and the other load on CPUs 0 and 1.

    "Other" is what /proc/stat counts busy on that CPU, less what the
    processes of the bench used there (the proxy on CPU 0; origin and wrk
    on CPU 1): other jobs on the machine, steal time, and the softirq work
    the kernel did not bill to any process (a few percent here)."""
    import signal
    child = None

    def on_term(signum, frame):
        if child is not None:
            child.kill()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    p0, o0, c0 = tree_cpu(pid), tree_cpu(origin), cpu_busy()
    with open(out_path, "w") as out:
        child = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        try:
            child.wait(timeout=secs)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    p1, o1, c1 = tree_cpu(pid), tree_cpu(origin), cpu_busy()
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    wrk_ticks = (ch.ru_utime + ch.ru_stime) * os.sysconf("SC_CLK_TCK")
    dp, do = p1 - p0, o1 - o0
    direct = pid == origin

    def other(cpu, ours):
        busy = c1[cpu][0] - c0[cpu][0]
        total = c1[cpu][1] - c0[cpu][1]
        return 100.0 * max(0, busy - ours) / total if total > 0 else float("nan")

    f0 = other(0, 0 if direct else dp)
    f1 = other(1, do + wrk_ticks)
    print("%d\t%.1f\t%.1f" % (dp, f0, f1))
    return child.returncode


# --- HTTP -------------------------------------------------------------------

def request_bytes(path):
    return ("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: cutover-bench\r\n"
            "\r\n" % path).encode()


def read_response(sock, deadline):
    """Read one response with a Content-Length body; return its status."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed before the response head")
        buf += d
    head, _, body = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    clen = 0
    for h in lines[1:]:
        name, _, value = h.partition(b":")
        if name.strip().lower() == b"content-length":
            clen = int(value.strip())
        elif name.strip().lower() == b"transfer-encoding":
            raise ConnectionError("chunked response (not expected here)")
    while len(body) < clen:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        d = sock.recv(65536)
        if not d:
            raise ConnectionError("closed in the body")
        body += d
    return status


def cmd_probe(port, path, secs, pid=None):
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        if pid is not None and not alive(pid):
            return 1
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(request_bytes(path))
                if read_response(s, time.monotonic() + 2) == 200:
                    return 0
        except (OSError, ValueError, IndexError):
            pass
        time.sleep(0.05)
    return 1


def raise_nofile(want):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else max(want, soft)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def idle_still_open(s, tls):
    """A readable idle connection: closed by the proxy, or (TLS) only a
    late record such as a session ticket?"""
    try:
        if not tls:
            return s.recv(1, socket.MSG_PEEK) != b""
        return s.recv(1) != b""
    except ssl.SSLWantReadError:
        return True
    except OSError:
        return False


def cmd_idle(port, n, pid, path="/small", tls=False):
    """Hold n idle keep-alive connections to the proxy; measure its RSS.

    Each connection first completes one request, so the proxy holds it in
    its keep-alive idle state (the state a real idle client is in), then is
    left alone. RSS is read before the first connection and after the last,
    once the proxy has settled; dead connections are counted and left out.
    tls: each connection is HTTPS (TLS 1.3 where offered, no verification:
    the bench's own certificate), handshaken before its request."""
    limit = raise_nofile(n + 64)
    if limit < n + 32:
        sys.stderr.write("idle: RLIMIT_NOFILE %d too low for %d connections\n"
                         % (limit, n))
        n = limit - 32
    time.sleep(0.5)
    before = tree_rss_kib(pid)
    socks, failed = [], 0
    req = request_bytes(path)
    ctx = None
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    # Pipeline in batches: connect a batch, send on each, then read each.
    batch = 200
    t0 = time.monotonic()
    for start in range(0, n, batch):
        cur = []
        for _ in range(min(batch, n - start)):
            try:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
                if ctx is not None:
                    s = ctx.wrap_socket(s, server_hostname="localhost")
                s.sendall(req)
                cur.append(s)
            except OSError:
                failed += 1
        for s in cur:
            try:
                if read_response(s, time.monotonic() + 10) == 200:
                    socks.append(s)
                    continue
            except (OSError, ValueError, IndexError):
                pass
            failed += 1
            s.close()
        if time.monotonic() - t0 > 120:
            sys.stderr.write("idle: giving up after 120 s\n")
            break
    time.sleep(1.0)
    # Leave out connections the proxy closed meanwhile.
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    closed = 0
    for key, _ in sel.select(timeout=0):
        if not idle_still_open(key.fileobj, tls):
            closed += 1
    after = tree_rss_kib(pid)
    held = len(socks) - closed
    for s in socks:
        s.close()
    per = (after - before) / held if held > 0 else float("nan")
    print("%d\t%d\t%d\t%d\t%.2f" % (held, failed + closed, before, after, per))
    return 0 if held > 0 else 1


# --- cutover config ---------------------------------------------------------

def cmd_fitconf(binary, path):
    """Make FILE acceptable to a cutover that lacks some optional keys.

    `cutover -t` names each refused key as FILE:LINE:COL: message; a
    refused key in column 1 is a top-level block, dropped whole (its line
    and the indented lines after it). Anything else is left to fail."""
    dropped = []
    for _ in range(8):
        try:
            r = subprocess.run([binary, "-t", "-c", path], capture_output=True,
                               text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return 1
        if r.returncode == 0:
            if dropped:
                print(" ".join(dropped))
            return 0
        lines = open(path).read().split("\n")
        m = None
        for err in (r.stderr + r.stdout).splitlines():
            m = re.match(re.escape(path) + r":(\d+):1: ", err)
            if m:
                break
        if m is None:
            return 1
        start = int(m.group(1)) - 1
        if start >= len(lines) or not re.match(r"[A-Za-z_]+:", lines[start]):
            return 1
        end = start + 1
        while end < len(lines) and (lines[end].startswith((" ", "\t"))
                                    or lines[end].strip() == ""):
            end += 1
        dropped.append(lines[start].split(":", 1)[0])
        del lines[start:end]
        open(path, "w").write("\n".join(lines))
    return 1


# --- wrk --------------------------------------------------------------------

UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(v):
    m = re.match(r"([0-9.]+)(us|ms|s|m)$", v)
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def cmd_wrk(path):
    text = open(path).read()
    req = re.search(r"^\s*(\d+) requests in", text, re.M)
    rps = re.search(r"^Requests/sec:\s*([0-9.]+)", text, re.M)
    p50 = re.search(r"^\s*50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", text, re.M)
    err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                    r"timeout (\d+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if not (req and rps and p50 and p99):
        print("0\t0\tnan\tnan\t0\t0")
        return 1
    errors = sum(int(x) for x in err.groups()) if err else 0
    print("%s\t%s\t%.3f\t%.3f\t%d\t%d" % (
        req.group(1), rps.group(1), to_ms(p50.group(1)), to_ms(p99.group(1)),
        errors, int(non2xx.group(1)) if non2xx else 0))
    return 0


# --- report -----------------------------------------------------------------

NAMES = {"nginx": "nginx", "haproxy": "HAProxy", "cutover": "cutover",
         "direct": "direct (no proxy)"}
ORDER = ["nginx", "haproxy", "cutover", "direct"]
PROXIES = ["nginx", "haproxy", "cutover"]


def read_tsv(path):
    rows = []
    if not os.path.exists(path):
        return rows
    with open(path) as f:
        header = f.readline().rstrip("\n").split("\t")
        for line in f:
            if line.strip():
                rows.append(dict(zip(header, line.rstrip("\n").split("\t"))))
    return rows


def fnum(x, digits=0):
    if x is None:
        return "n/a"
    if digits == 0:
        return "{:,.0f}".format(x)
    return "{:,.{d}f}".format(x, d=digits)


def ratio(x, base):
    if x is None or base is None or base == 0:
        return "n/a"
    return "%.2f×" % (x / base)


def fms(x):
    if x is None:
        return "n/a"
    if x < 1:
        return "%.0f µs" % (x * 1000)
    return "%.2f ms" % x


def cmd_report(runs_path, idle_path, meta_path, out_path):
    runs = read_tsv(runs_path)
    idle = read_tsv(idle_path)
    meta = json.load(open(meta_path))
    sizes = meta["sizes"]

    # Median over the rounds that succeeded.
    cell = {}
    for t in ORDER:
        for sz in sizes:
            ok = [r for r in runs if r["target"] == t and r["size"] == sz
                  and r["status"] == "ok"]
            n_all = meta["rounds"]
            if not ok:
                cell[t, sz] = None
                continue
            med = lambda k: statistics.median(float(r[k]) for r in ok)
            cpu = [float(r["cpu_us"]) for r in ok if r["cpu_us"] != "nan"]
            cell[t, sz] = {
                "rps": med("rps"), "p50": med("p50_ms"), "p99": med("p99_ms"),
                "cpu": statistics.median(cpu) if cpu else None,
                "rounds": "%d/%d" % (len(ok), n_all),
            }

    def get(t, sz, k):
        c = cell.get((t, sz))
        return None if c is None else c[k]

    out = []
    out.append("# cutover vs nginx vs HAProxy (reverse proxy, loopback)")
    out.append("")
    out.append("%s; %s mode: %d round(s) of `wrk -t1 -c%d -d%ds --latency` per "
               "proxy and size, order rotated each round; medians over rounds."
               % (meta["date"], meta["mode"], meta["rounds"], meta["conns"],
                  meta["duration"]))
    out.append("")
    out.append("Machine: %s, %s CPUs, Linux %s. Proxies pinned alone to CPU 0 "
               "with one worker; origin (nginx, static files) and wrk share "
               "CPU 1." % (meta["cpu"], meta["ncpu"], meta["kernel"]))
    out.append("Versions: %s." % "; ".join(meta["versions"]))
    out.append("")
    out.append("| proxy | size | req/s | ×nginx | ×HAProxy | p50 | p99 "
               "| CPU µs/req | ×nginx | ×HAProxy | rounds |")
    out.append("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for sz in sizes:
        for t in ORDER:
            c = cell.get((t, sz))
            if t == "direct":
                rx = ("—", "—")
                cx = ("—", "—")
            else:
                rx = (ratio(get(t, sz, "rps"), get("nginx", sz, "rps")),
                      ratio(get(t, sz, "rps"), get("haproxy", sz, "rps")))
                cx = (ratio(get(t, sz, "cpu"), get("nginx", sz, "cpu")),
                      ratio(get(t, sz, "cpu"), get("haproxy", sz, "cpu")))
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                NAMES[t], sz, fnum(get(t, sz, "rps")), rx[0], rx[1],
                fms(get(t, sz, "p50")), fms(get(t, sz, "p99")),
                fnum(get(t, sz, "cpu"), 1), cx[0], cx[1],
                c["rounds"] if c else "0/%d" % meta["rounds"]))
    out.append("")
    out.append("×nginx / ×HAProxy: this proxy's value divided by theirs, for the "
               "same size (req/s: higher is better; CPU: lower is better). "
               "n/a: no run counted (see the notes). "
               "CPU µs/req is the proxy process's own utime+stime "
               "(/proc/PID/stat) over the run divided by the requests wrk "
               "completed; for the direct row it is the origin's.")
    out.append("")

    idl = {r["target"]: r for r in idle}

    def kib(t):
        r = idl.get(t)
        if r is None or r["status"] != "ok":
            return None
        return float(r["kib_per_conn"])

    out.append("Idle keep-alive client connections (%s opened, each after one "
               "request; RSS = VmRSS of the proxy's processes):" % fnum(meta["idle"]))
    out.append("")
    out.append("| proxy | held | RSS before | RSS after | KiB/conn | ×nginx | ×HAProxy |")
    out.append("|---|--:|--:|--:|--:|--:|--:|")
    for t in PROXIES:
        r = idl.get(t)
        if r is None or r["status"] != "ok":
            out.append("| %s | n/a | n/a | n/a | n/a | n/a | n/a |" % NAMES[t])
            continue
        out.append("| %s | %s | %s KiB | %s KiB | %.2f | %s | %s |" % (
            NAMES[t], fnum(int(r["held"])), fnum(int(r["rss_before_kib"])),
            fnum(int(r["rss_after_kib"])), kib(t),
            ratio(kib(t), kib("nginx")), ratio(kib(t), kib("haproxy"))))
    out.append("")
    notes = list(meta.get("notes", []))
    for t in ORDER:
        mine = [r for r in runs if r["target"] == t]
        for st, why in (("stalled", "fewer than one request per connection "
                         "per second: keep-alive stalls?"),
                        ("fail", "more than 0.1% socket errors or non-2xx "
                         "answers"),
                        ("dead", "the process had died"),
                        ("noisy", "too much other load on the machine (run again)")):
            k = len([r for r in mine if r["status"] == st])
            if k:
                notes.append("%s: %d run(s) left out, %s" % (NAMES[t], k, why))
    def other(r):
        v = [float(r.get("other1", 0) or 0)]
        if r["target"] != "direct":
            v.append(float(r.get("other0", 0) or 0))
        return max(v)
    loud = [r for r in runs if r["status"] == "ok"
            and other(r) > meta.get("noisy", 15)]
    if loud:
        notes.append("%d counted run(s) still had more than %d%% other load "
                     "on a CPU (retries used up): treat req/s and latency "
                     "with care" % (len(loud), meta.get("noisy", 15)))
    if notes:
        out.append("Notes:")
        out.append("")
        for n in notes:
            out.append("- " + n)
        out.append("")
    out.append("<details><summary>Every run</summary>")
    out.append("")
    out.append("| round | proxy | size | requests | req/s | p50 | p99 | CPU µs/req "
               "| socket errors | non-2xx | other load CPU 0 / 1 | status |")
    out.append("|--:|---|---|--:|--:|--:|--:|--:|--:|--:|--:|---|")
    for r in runs:
        def fl(k):
            try:
                v = float(r[k])
                return None if v != v else v
            except ValueError:
                return None
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["round"], NAMES.get(r["target"], r["target"]), r["size"],
            r["requests"], fnum(fl("rps")), fms(fl("p50_ms")), fms(fl("p99_ms")),
            fnum(fl("cpu_us"), 1), r["errors"], r["non2xx"],
            "%s%% / %s%%" % (r.get("other0", "?"), r.get("other1", "?")),
            r["status"]))
    out.append("")
    out.append("</details>")
    text = "\n".join(out) + "\n"
    with open(out_path, "w") as f:
        f.write(text)
    sys.stdout.write(text)
    return 0


def main(argv):
    if len(argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    cmd, args = argv[1], argv[2:]
    if cmd == "freeports":
        socks = []
        for _ in range(int(args[0])):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        for s in socks:
            print(s.getsockname()[1])
            s.close()
        return 0
    if cmd == "probe":
        pid = int(args[3]) if len(args) > 3 else None
        return cmd_probe(int(args[0]), args[1], float(args[2]), pid)
    if cmd == "tree":
        for p in proc_tree(int(args[0])):
            print(p)
        return 0
    if cmd == "cpu":
        print(tree_cpu(int(args[0])))
        return 0
    if cmd == "run":
        return cmd_run(int(args[0]), int(args[1]), args[2], float(args[3]),
                       args[4:])
    if cmd == "wrk":
        return cmd_wrk(args[0])
    if cmd == "idle":
        return cmd_idle(int(args[0]), int(args[1]), int(args[2]),
                        args[3] if len(args) > 3 else "/small",
                        len(args) > 4 and args[4] == "tls")
    if cmd == "fitconf":
        return cmd_fitconf(args[0], args[1])
    if cmd == "report":
        return cmd_report(*args[:4])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
