"""Command line (SPEC section 1): -t, -V, -h, explain, config errors."""

import re

from harness import run_cli, write_file

GOOD = """\
listeners:
  - address: "127.0.0.1:18080"
upstreams:
  legacy:
    servers:
      - address: "127.0.0.1:18081"
  billing:
    servers:
      - address: "127.0.0.1:18082"
routes:
  - name: static
    match: { path_prefix: /static }
    respond: { status: 200, body: "static\\n", content_type: text/plain }
  - name: billing
    match: { path_prefix: /api/billing }
    upstream: billing
    rewrite: { strip_prefix: /api }
  - name: beta
    match:
      path_prefix: /beta
      headers: { X-Beta: "1" }
    upstream: billing
  - name: everything-else
    match: { path_prefix: / }
    upstream: legacy
"""

NO_CATCH_ALL = """\
listeners:
  - address: "127.0.0.1:18080"
upstreams:
  billing:
    servers:
      - address: "127.0.0.1:18082"
routes:
  - name: billing
    match: { path_prefix: /api/billing }
    upstream: billing
"""


def place(file, line, col, message):
    """A regex for 'FILE:LINE:COL: message' (FILE as given, maybe with a directory)."""
    return re.compile(r"(^|[\s/])%s:%d:%s: %s" % (re.escape(file), line, col, re.escape(message)), re.M)


def test_check_good_config_prints_configuration_ok():
    write_file("good.yaml", GOOD)
    r = run_cli(["-t", "-c", "good.yaml"])
    assert r.code == 0, "exit %s, want 0: %r" % (r.code, r)
    assert "configuration OK" in r.stdout, "no 'configuration OK' on stdout: %r" % r


def test_check_misspelt_key_names_place_and_suggestion():
    write_file("bad.yaml", "# a config with a typo\nlistners:\n  - address: \"127.0.0.1:18080\"\n")
    r = run_cli(["-t", "-c", "bad.yaml"])
    assert r.code == 1, "exit %s, want 1: %r" % (r.code, r)
    want = place("bad.yaml", 2, 1, 'unknown key "listners" (did you mean "listeners"?)')
    assert want.search(r.stderr), "stderr lacks %s: %r" % (want.pattern, r.stderr)


def test_check_unknown_upstream_names_place_and_suggestion():
    text = GOOD.replace("    upstream: billing\n    rewrite", "    upstream: biling\n    rewrite")
    lines = text.split("\n")
    lineno = next(i for i, ln in enumerate(lines) if "upstream: biling" in ln) + 1
    write_file("bad.yaml", text)
    r = run_cli(["-t", "-c", "bad.yaml"])
    assert r.code == 1, "exit %s, want 1: %r" % (r.code, r)
    # the column may point at the key (5) or at the value (15)
    want = place("bad.yaml", lineno, "(5|15)", 'unknown upstream "biling" (did you mean "billing"?)')
    assert want.search(r.stderr), "stderr lacks %s: %r" % (want.pattern, r.stderr)


def test_check_reports_every_error_in_one_run():
    text = GOOD.replace("upstreams:", "upstreamz:").replace("routes:\n  - name: static",
                                                           "routes:\n  - nam: static")
    write_file("bad.yaml", text)
    r = run_cli(["-t", "-c", "bad.yaml"])
    assert r.code == 1, "exit %s, want 1: %r" % (r.code, r)
    places = re.findall(r"bad\.yaml:\d+:\d+: ", r.stderr)
    assert len(places) >= 2, "want both errors reported, got: %r" % r.stderr


def test_check_warns_about_unused_upstream():
    text = GOOD.replace("upstreams:\n", "upstreams:\n  spare:\n    servers:\n      - address: \"127.0.0.1:18083\"\n")
    write_file("warn.yaml", text)
    r = run_cli(["-t", "-c", "warn.yaml"])
    assert r.code == 0, "exit %s, want 0 (warnings only): %r" % (r.code, r)
    warn = [ln for ln in r.output.split("\n") if "warning:" in ln]
    assert any("spare" in ln for ln in warn), "no warning naming upstream spare: %r" % r


def test_check_warns_without_catch_all_route():
    write_file("warn.yaml", NO_CATCH_ALL)
    r = run_cli(["-t", "-c", "warn.yaml"])
    assert r.code == 0, "exit %s, want 0 (warnings only): %r" % (r.code, r)
    assert "warning:" in r.output, "no warning about the missing catch-all: %r" % r


def test_check_missing_file_names_it():
    r = run_cli(["-t", "-c", "nowhere.yaml"])
    assert r.code == 1, "exit %s, want 1: %r" % (r.code, r)
    assert "nowhere.yaml" in r.stderr, "error does not name the file: %r" % r


def test_run_missing_file_exits_1():
    r = run_cli(["-c", "nowhere.yaml"], timeout=5)
    assert r.code == 1, "exit %s, want 1: %r" % (r.code, r)
    assert "nowhere.yaml" in r.stderr, "error does not name the file: %r" % r


def test_version_prints_cutover():
    for flag in ("-V", "--version"):
        r = run_cli([flag])
        assert r.code == 0, "%s: exit %s: %r" % (flag, r.code, r)
        assert "cutover" in r.stdout.lower(), "%s: no version line: %r" % (flag, r)


def test_help_prints_usage():
    for flag in ("-h", "--help"):
        r = run_cli([flag])
        assert r.code == 0, "%s: exit %s: %r" % (flag, r.code, r)
        assert "usage" in r.output.lower() and "-c" in r.output, "%s: no usage: %r" % (flag, r)


def test_explain_traces_the_matching_route():
    write_file("good.yaml", GOOD)
    r = run_cli(["explain", "-c", "good.yaml", "GET", "http://shop.example/api/billing/x?a=1"])
    assert r.code == 0, "exit %s, want 0: %r" % (r.code, r)
    out = r.stdout
    assert re.search(r'route 1 "static": .*', out), "route 1 not listed: %r" % out
    assert re.search(r'route 2 "billing": MATCH', out), "no 'route 2 \"billing\": MATCH': %r" % out
    assert re.search(r"upstream: billing", out), "no 'upstream: billing': %r" % out
    assert re.search(r"rewrite: .*/billing/x", out), "no rewrite to /billing/x: %r" % out
    assert 'route 3 "beta"' not in out or "MATCH" not in out.split('route 3 "beta"')[1].split("\n")[0]


def test_explain_uses_given_headers():
    write_file("good.yaml", GOOD)
    r = run_cli(["explain", "-c", "good.yaml", "-H", "X-Beta: 1", "GET", "/beta/x"])
    assert r.code == 0, "exit %s: %r" % (r.code, r)
    assert re.search(r'route 3 "beta": MATCH', r.stdout), "beta did not match with X-Beta: %r" % r
    r = run_cli(["explain", "-c", "good.yaml", "GET", "/beta/x"])
    assert r.code == 0, "exit %s: %r" % (r.code, r)
    assert re.search(r'route 4 "everything-else": MATCH', r.stdout), "want the catch-all without X-Beta: %r" % r


def test_explain_no_route_exits_1():
    write_file("nocatch.yaml", NO_CATCH_ALL)
    r = run_cli(["explain", "-c", "nocatch.yaml", "GET", "/elsewhere"])
    assert r.code == 1, "exit %s, want 1: %r" % (r.code, r)
    assert "no route" in r.output.lower(), "no 'no route' in output: %r" % r
