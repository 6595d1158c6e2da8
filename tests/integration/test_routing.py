"""Routing (SPEC section 4.1): matching, normalisation, rewrites, respond, 404.

Matching tests use respond routes whose body is the route name, so each
case is (method, target, headers) -> route name (or a status)."""

from harness import Client, Cutover, assert_error, echoed, simple_config, write_file
from upstream import Upstream, echo


def named(name, match, active=True):
    r = {"name": name}
    if not active:
        r["active"] = False
    r["match"] = match
    r["respond"] = {"status": 200, "body": name, "content_type": "text/plain"}
    return r


def matching_config():
    teams = write_file("teams.txt", "red\nblue\n")
    return {"routes": [
        named("inactive", {"path_prefix": "/a"}, active=False),
        named("a-active", {"path_prefix": "/a"}),
        named("exact", {"path": "/exact"}),
        named("billing", {"path_prefix": "/api/billing"}),
        named("slash", {"path_prefix": "/slash/"}),
        named("regex", {"path_regex": "/items/[0-9]+"}),
        named("writes", {"path_prefix": "/m", "methods": ["POST", "PUT"]}),
        named("m-any", {"path_prefix": "/m"}),
        named("host-exact", {"path_prefix": "/h", "host": "shop.example.com"}),
        named("host-wild", {"path_prefix": "/h", "host": "*.example.com"}),
        named("hdr-exact", {"path_prefix": "/hdr", "headers": {"X-Beta": "1"}}),
        named("hdr-in", {"path_prefix": "/hdr", "headers": {"X-Tenant": {"in": ["acme", "globex"]}}}),
        named("hdr-file", {"path_prefix": "/hdr", "headers": {"X-Team": {"in_file": teams}}}),
        named("hdr-present", {"path_prefix": "/hdr", "headers": {"X-Debug": {"present": True}}}),
        named("cookie", {"path_prefix": "/c", "cookies": {"beta": "yes"}}),
        named("query", {"path_prefix": "/q", "query": {"preview": "1"}}),
        named("first-1", {"path_prefix": "/first"}),
        named("first-2", {"path_prefix": "/first"}),
    ]}


def check_rows(rows):
    """rows: (method, target, headers, expected route name or int status)."""
    cut = Cutover(matching_config())
    bad = []
    for method, target, headers, want in rows:
        c = cut.client()
        c.request(method, target, headers, body=b"" if method in ("POST", "PUT") else None,
                  host="other.test")  # unless the row gives its own Host
        r = c.read_response()
        c.close()
        got = r.body.decode("latin-1") if r.status == 200 else r.status
        if got != want:
            bad.append("%s %s %s: got %r, want %r" % (method, target, headers or "", got, want))
    assert not bad, "%d case(s) wrong: %s" % (len(bad), "; ".join(bad))


def test_prefix_matches_whole_segments_only():
    check_rows([
        ("GET", "/api/billing", [], "billing"),
        ("GET", "/api/billing/", [], "billing"),
        ("GET", "/api/billing/x/y", [], "billing"),
        ("GET", "/api/billing?x=1", [], "billing"),
        ("GET", "/api/billingx", [], 404),
        ("GET", "/api", [], 404),
        ("GET", "/slash", [], "slash"),
        ("GET", "/slash/x", [], "slash"),
        ("GET", "/slashx", [], 404),
    ])


def test_exact_and_regex_paths():
    check_rows([
        ("GET", "/exact", [], "exact"),
        ("GET", "/exact/", [], 404),
        ("GET", "/exact/x", [], 404),
        ("GET", "/items/42", [], "regex"),
        ("GET", "/items/42/x", [], 404),  # anchored on the whole path
        ("GET", "/x/items/42", [], 404),
        ("GET", "/items/abc", [], 404),
    ])


def test_methods_condition():
    check_rows([
        ("POST", "/m/x", [], "writes"),
        ("PUT", "/m", [], "writes"),
        ("GET", "/m/x", [], "m-any"),
        ("DELETE", "/m", [], "m-any"),
    ])


def test_host_exact_and_wildcard():
    check_rows([
        ("GET", "/h", [("Host", "shop.example.com")], "host-exact"),
        ("GET", "/h", [("Host", "SHOP.Example.COM")], "host-exact"),
        ("GET", "/h", [("Host", "shop.example.com:8080")], "host-exact"),
        ("GET", "/h", [("Host", "a.example.com")], "host-wild"),
        ("GET", "/h", [("Host", "a.b.example.com")], "host-wild"),
        ("GET", "/h", [("Host", "example.com")], 404),
        ("GET", "/h", [("Host", "shop.example.org")], 404),
    ])


def test_header_conditions():
    check_rows([
        ("GET", "/hdr", [("X-Beta", "1")], "hdr-exact"),
        ("GET", "/hdr", [("x-beta", "1")], "hdr-exact"),
        ("GET", "/hdr", [("X-Beta", "2")], 404),
        ("GET", "/hdr", [("X-Tenant", "globex")], "hdr-in"),
        ("GET", "/hdr", [("X-Tenant", "initech")], 404),
        ("GET", "/hdr", [("X-Team", "blue")], "hdr-file"),
        ("GET", "/hdr", [("X-Team", "green")], 404),
        ("GET", "/hdr", [("X-Debug", "whatever")], "hdr-present"),
        ("GET", "/hdr", [], 404),
    ])


def test_cookie_and_query_conditions():
    check_rows([
        ("GET", "/c", [("Cookie", "beta=yes")], "cookie"),
        ("GET", "/c", [("Cookie", "a=b; beta=yes; c=d")], "cookie"),
        ("GET", "/c", [("Cookie", "beta=no")], 404),
        ("GET", "/c", [], 404),
        ("GET", "/q?preview=1", [], "query"),
        ("GET", "/q?x=2&preview=1", [], "query"),
        ("GET", "/q?preview=2", [], 404),
        ("GET", "/q", [], 404),
    ])


def test_first_match_wins_and_inactive_routes_are_skipped():
    check_rows([
        ("GET", "/first", [], "first-1"),
        ("GET", "/first/x", [], "first-1"),
        ("GET", "/a", [], "a-active"),
        ("GET", "/a/b", [], "a-active"),
    ])


def test_no_route_is_404_json():
    cut = Cutover(matching_config())
    assert_error(cut.request("GET", "/nothing/here"), 404)


NORMALISED = [
    ("/a//b/./c/../d", "/a/b/d"),
    ("/%7Euser", "/~user"),
    ("/a%2Fb/c", "/a%2Fb/c"),
    ("/x/%2e%2e/y", "/y"),
    ("/a/b/../../c", "/c"),
    ("/a//b?x=%7E&y=a//b/../c", "/a/b?x=%7E&y=a//b/../c"),
]


def test_upstream_receives_normalised_path():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    bad = []
    for sent, want in NORMALISED:
        got = echoed(cut.request("GET", sent))["target"]
        if got != want:
            bad.append("%s -> %s, want %s" % (sent, got, want))
    assert not bad, "; ".join(bad)


def test_path_climbing_above_root_is_400():
    up = Upstream(echo())
    cut = Cutover(simple_config(up))
    for target in ("/..", "/a/../../b", "/%2e%2e/x"):
        assert_error(cut.request("GET", target), 400)
    assert up.bytes_received == 0, "upstream got bytes: %s" % up.targets()
    # An error in the request itself closes the connection: a request
    # pipelined behind the bad one is never served.
    c = cut.client()
    c.send(Client.build("GET", "/../x") + Client.build("GET", "/after"))
    r = c.read_response()
    assert_error(r, 400)
    assert r.header("Connection") == "close", r.headers
    assert c.wait_closed(2.0), "the connection stayed open after the 400"
    assert up.bytes_received == 0, "the pipelined request was served: %s" % up.targets()


REWRITES = [
    ("/api/billing/x", "/billing/x"),
    ("/api/billing", "/billing"),
    ("/foo/bar", "/xyz/bar"),
    ("/foo", "/xyz"),
    ("/foo/", "/xyz/"),
    ("/foo/bar?q=1&r=//2", "/xyz/bar?q=1&r=//2"),
    ("/root/bar", "/bar"),
    ("/root", "/"),
    ("/strip/bar", "/bar"),
    ("/strip", "/"),
    ("/strip?x=1", "/?x=1"),
    ("/other/x", "/other/x"),
]


def test_rewrites_follow_the_spec_table():
    up = Upstream(echo())
    route = lambda name, prefix, rw: {"name": name, "match": {"path_prefix": prefix},
                                      "upstream": "app", "rewrite": rw}
    cfg = simple_config(up)
    cfg["routes"] = [
        route("billing", "/api/billing", {"strip_prefix": "/api"}),
        route("foo", "/foo", {"replace_prefix": {"from": "/foo", "to": "/xyz"}}),
        route("root", "/root", {"replace_prefix": {"from": "/root", "to": "/"}}),
        route("strip", "/strip", {"strip_prefix": "/strip"}),
        {"name": "rest", "match": {"path_prefix": "/"}, "upstream": "app"},
    ]
    cut = Cutover(cfg)
    bad = []
    for sent, want in REWRITES:
        got = echoed(cut.request("GET", sent))["target"]
        if got != want:
            bad.append("%s -> %s, want %s" % (sent, got, want))
    assert not bad, "; ".join(bad)


def test_respond_route_answers_without_upstream():
    up = Upstream(echo())
    cfg = simple_config(up)
    cfg["routes"].insert(0, {"name": "gone", "match": {"path_prefix": "/old"},
                             "respond": {"status": 410, "body": "Gone: use /new\n",
                                         "content_type": "text/plain"}})
    cut = Cutover(cfg)
    c = cut.client()
    for _ in range(2):  # and the connection stays usable
        c.request("GET", "/old/page")
        r = c.read_response()
        assert r.status == 410, r
        assert r.body == b"Gone: use /new\n", r.body
        assert (r.header("Content-Type") or "").startswith("text/plain"), r.headers
    c.request("GET", "/new")
    assert echoed(c.read_response())["target"] == "/new"
    assert up.targets() == ["/new"], up.targets()
