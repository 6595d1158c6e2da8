#!/usr/bin/env python3
"""Runner for cutover's integration tests.

    run.py [-jN] [-t SECONDS] [FILTER...]

Finds tests/integration/test_*.py, runs every test_* function (once per row
of a @harness.params table) in its own subprocess, with its own temporary
directory and a hard time limit; the subprocess's process group (the test,
and every cutover it started) is killed when the limit is hit. Prints
PASS/FAIL/SKIP lines and then exactly one summary line:

    integration: N passed, N failed, N skipped

Exit status 0 iff nothing failed. A FILTER keeps the tests whose name
contains it (any of them). Logs are printed only for failed tests; their
directories are kept (the path is printed), everything else is removed.
"""

import importlib.util
import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TIMEOUT = 30
MAX_LOG = 40000


def load_module(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def list_tests(files):
    """[{name, file, func, param, timeout}] or {"error": ...} rows per module."""
    out = []
    for path in files:
        mod_name = os.path.splitext(os.path.basename(path))[0]
        try:
            mod = load_module(path)
        except BaseException as e:
            out.append({"name": mod_name, "error": "cannot load module: %s: %s"
                        % (type(e).__name__, e)})
            continue
        for fname, fn in inspect.getmembers(mod, inspect.isfunction):
            if not fname.startswith("test_") or fn.__module__ != mod.__name__:
                continue
            line = fn.__code__.co_firstlineno
            timeout = getattr(fn, "_timeout", DEFAULT_TIMEOUT)
            rows = getattr(fn, "_params", None)
            if rows is None:
                out.append({"name": "%s.%s" % (mod_name, fname), "file": path, "func": fname,
                            "param": None, "timeout": timeout, "line": line})
            else:
                for i, pid in enumerate(rows):
                    out.append({"name": "%s.%s[%s]" % (mod_name, fname, pid), "file": path,
                                "func": fname, "param": pid, "timeout": timeout,
                                "line": line + i / 1000.0})
    out.sort(key=lambda t: (t.get("file", ""), t.get("line", 0)))
    return out


def child_run(path, func, param, tdir, result_file, timeout):
    """Inside the test subprocess: run one test, write the verdict."""
    sys.path.insert(0, HERE)
    import harness
    verdict = {"status": "fail", "reason": "no verdict"}

    def on_alarm(signum, frame):
        raise harness.HarnessError("test exceeded its %ds time limit" % timeout)

    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(max(1, timeout - 3))
    harness.begin(tdir)
    failed = False
    try:
        try:
            mod = load_module(path)
            fn = getattr(mod, func)
            args = fn._params[param] if param is not None else ()
            fn(*args)
            verdict = {"status": "pass"}
        except harness.Skip as e:
            verdict = {"status": "skip", "reason": str(e) or "skipped"}
        except BaseException as e:
            failed = True
            msg = str(e).strip().split("\n")[0] if str(e).strip() else ""
            if not isinstance(e, AssertionError) or not msg:
                msg = "%s%s" % (type(e).__name__, ": " + msg if msg else "")
            verdict = {"status": "fail", "reason": msg[:300]}
            if not isinstance(e, harness.HarnessError):
                print("--- traceback")
                traceback.print_exc(file=sys.stdout)
        signal.alarm(10)  # end() may wait for a drain (3 s per cutover)
        try:
            problems = harness.end()
        except BaseException as e:
            problems = ["harness cleanup failed: %s" % e]
        if problems and verdict["status"] == "pass":
            failed = True
            verdict = {"status": "fail", "reason": "; ".join(problems)}
        elif problems and verdict["status"] == "fail":
            verdict["reason"] += " [also: %s]" % "; ".join(problems)
        if failed:
            print(harness.logs())
    finally:
        signal.alarm(0)
        sys.stdout.flush()
        with open(result_file, "w") as f:
            json.dump(verdict, f)
    os._exit(0)  # don't wait for daemon threads


class Runner:
    def __init__(self, tests, jobs, timeout_override):
        self.tests = tests
        self.jobs = jobs
        self.timeout_override = timeout_override
        self.counts = {"pass": 0, "fail": 0, "skip": 0}
        self.lock = threading.Lock()
        self.procs = set()
        self.base = tempfile.mkdtemp(prefix="cutover-it-")
        self.kept = []
        self.failed = []  # (name, reason), repeated after the run: logs can be long
        self.interrupted = False

    def report(self, t, status, reason, log):
        with self.lock:
            self.counts[status] += 1
            if status == "pass":
                print("PASS %s" % t["name"])
            elif status == "skip":
                print("SKIP %s: %s" % (t["name"], reason))
            else:
                print("FAIL %s: %s" % (t["name"], reason))
                self.failed.append((t["name"], reason))
                if log:
                    if len(log) > MAX_LOG:
                        log = "... (%d bytes cut)\n" % (len(log) - MAX_LOG) + log[-MAX_LOG:]
                    for ln in log.rstrip("\n").split("\n"):
                        print("    | " + ln)
            sys.stdout.flush()

    def run_one(self, t):
        if "error" in t:
            self.report(t, "fail", t["error"], "")
            return
        safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in t["name"])
        tdir = os.path.join(self.base, safe)
        os.makedirs(tdir, exist_ok=True)
        result_file = os.path.join(tdir, ".verdict.json")
        log_path = os.path.join(tdir, ".test-output.log")
        timeout = self.timeout_override or t["timeout"]
        cmd = [sys.executable, os.path.abspath(__file__), "--child", t["file"], t["func"],
               json.dumps(t["param"]), tdir, result_file, str(timeout)]
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
        start = time.time()
        with open(log_path, "wb") as logf:
            p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
                                 cwd=tdir, env=env, start_new_session=True)
            with self.lock:
                self.procs.add(p)
            timed_out = False
            try:
                p.wait(timeout)
            except subprocess.TimeoutExpired:
                timed_out = True
            finally:
                self._kill_group(p)
                with self.lock:
                    self.procs.discard(p)
        try:
            with open(log_path, "rb") as f:
                log = f.read().decode("utf-8", "replace")
        except OSError:
            log = ""
        verdict = None
        try:
            with open(result_file) as f:
                verdict = json.load(f)
        except (OSError, ValueError):
            pass
        if timed_out:
            status, reason = "fail", "killed after %ds (hard time limit)" % timeout
        elif verdict is None:
            status, reason = "fail", "test process exited %s without a verdict" % p.returncode
        else:
            status, reason = verdict["status"], verdict.get("reason", "")
        if status == "fail":
            if "--- cutover #" not in log:  # killed before it could print its logs
                for f in sorted(os.listdir(tdir)):
                    if f.startswith("cutover-") and f.endswith(".stderr"):
                        with open(os.path.join(tdir, f), "rb") as fh:
                            tail = fh.read()[-4000:].decode("utf-8", "replace")
                        log += "\n--- %s (tail)\n%s" % (f, tail)
            log += "\n(test dir %s, %.1fs)" % (tdir, time.time() - start)
            self.kept.append(tdir)
        else:
            shutil.rmtree(tdir, ignore_errors=True)
        self.report(t, status, reason, log)

    def _kill_group(self, p):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass

    def run(self):
        queue = list(self.tests)
        qlock = threading.Lock()

        def worker():
            while not self.interrupted:
                with qlock:
                    if not queue:
                        return
                    t = queue.pop(0)
                self.run_one(t)

        threads = [threading.Thread(target=worker, daemon=True) for _ in range(max(1, self.jobs))]
        for th in threads:
            th.start()
        try:
            for th in threads:
                while th.is_alive():
                    th.join(0.2)
        except KeyboardInterrupt:
            self.interrupted = True
            with self.lock:
                procs = list(self.procs)
            for p in procs:
                self._kill_group(p)
            print("interrupted")
        if not self.kept:
            shutil.rmtree(self.base, ignore_errors=True)
        else:
            # keep only failed tests' directories
            for d in os.listdir(self.base):
                full = os.path.join(self.base, d)
                if full not in self.kept:
                    shutil.rmtree(full, ignore_errors=True)
            print("logs of failed tests kept in %s" % self.base)
        # A CI log keeps only its tail; name every failure there again.
        for name, reason in self.failed:
            print("FAILED %s: %s" % (name, " ".join(reason.split())[:500]))
        c = self.counts
        print("integration: %d passed, %d failed, %d skipped" % (c["pass"], c["fail"], c["skip"]))
        return 1 if c["fail"] or self.interrupted else 0


def main(argv):
    sys.dont_write_bytecode = True
    if argv and argv[0] == "--child":
        path, func, param, tdir, result_file, timeout = argv[1:7]
        child_run(path, func, json.loads(param), tdir, result_file, int(timeout))
        return 0
    if argv and argv[0] == "--list-child":
        sys.path.insert(0, HERE)
        print(json.dumps(list_tests(argv[1:])))
        return 0
    jobs, timeout, filters = 1, None, []
    args = list(argv)
    while args:
        a = args.pop(0)
        if a.startswith("-j"):
            v = a[2:] or (args.pop(0) if args else "1")
            jobs = int(v) if v.isdigit() else 1
        elif a == "-t" and args:
            timeout = int(args.pop(0))
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            filters.append(a)
    files = sorted(os.path.join(HERE, f) for f in os.listdir(HERE)
                   if f.startswith("test_") and f.endswith(".py"))
    # Listing imports the test modules: do it in a subprocess too, so a
    # broken module cannot take the runner down.
    try:
        p = subprocess.run([sys.executable, os.path.abspath(__file__), "--list-child"] + files,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60,
                           env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
        tests = json.loads(p.stdout.decode())
    except (subprocess.TimeoutExpired, ValueError) as e:
        print("FAIL discovery: cannot list tests: %s" % e)
        print("integration: 0 passed, 1 failed, 0 skipped")
        return 1
    if filters:
        tests = [t for t in tests if any(f in t["name"] for f in filters)]
    if not tests:
        print("no tests match %s" % " ".join(filters))
        print("integration: 0 passed, 0 failed, 0 skipped")
        return 1
    sys.path.insert(0, HERE)
    import harness
    b = harness.bin_path()
    print("running %d integration test(s), binary %s, -j%d" % (len(tests), b, jobs))
    if not (os.path.isfile(b) and os.access(b, os.X_OK)):
        print("warning: cutover binary not found or not executable: %s "
              "(set CUTOVER_BIN); the tests that start it will fail" % b)
    sys.stdout.flush()
    return Runner(tests, jobs, timeout).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
