/*
 * test_conf_diff: two configurations loaded from YAML, one base file and
 * edits of it, and the changes between them as conf_diff_text() prints
 * them: nothing for the same file or one only reformatted; each route
 * kind and aspect; each reason an upstream is reset; upstreams and
 * listeners added and removed; the order of changes; conf_diff_kept and
 * conf_change_name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cutover/conf_diff.h"
#include "cutover/config.h"
#include "cutover/strbuf.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_EDITS 3

/* The base file, in pieces so tests can reorder routes. */
#define LISTENERS                                                            \
	"listeners:\n"                                                       \
	"  - address: \"127.0.0.1:8080\"\n"
#define UPSTREAMS                                                            \
	"upstreams:\n"                                                       \
	"  legacy:\n"                                                        \
	"    servers:\n"                                                     \
	"      - \"127.0.0.1:9001\"\n"                                       \
	"      - { address: \"127.0.0.1:9002\", weight: 2 }\n"               \
	"  users:\n"                                                         \
	"    servers: [ \"127.0.0.1:9003\" ]\n"                              \
	"    connect_timeout: 1s\n"                                          \
	"    max_connections: 100\n"                                         \
	"    pending_timeout: 200ms\n"                                       \
	"    breaker: { consecutive_failures: 5, mode: enforce }\n"          \
	"    retry: { attempts: 2, on: [connect-failure, 503] }\n"           \
	"  billing:\n"                                                       \
	"    servers: [ \"127.0.0.1:9004\" ]\n"                              \
	"    health_check: { path: /healthz }\n"
#define R_BILLING                                                            \
	"  - name: billing\n"                                                \
	"    match: { path_prefix: /api/billing, methods: [GET], "           \
	"headers: { X-Beta: \"1\" } }\n"                                     \
	"    upstream: billing\n"                                            \
	"    rewrite: { strip_prefix: /api }\n"                              \
	"    fallback: legacy\n"
#define R_USERS                                                              \
	"  - name: users\n"                                                  \
	"    match: { path_prefix: /api/users }\n"                           \
	"    split:\n"                                                       \
	"      - { upstream: users, weight: 10 }\n"                          \
	"      - { upstream: legacy, weight: 90 }\n"                         \
	"    sticky: { cookie: session_id }\n"                               \
	"    override: { allow_from: [127.0.0.1/32] }\n"                     \
	"    shadow: { upstream: billing, percent: 50 }\n"
#define R_RETIRED                                                            \
	"  - name: retired\n"                                                \
	"    match: { path_regex: \"/old/[a-z]+\" }\n"                       \
	"    respond: { status: 410, body: \"Gone\\n\" }\n"
#define R_ELSE                                                               \
	"  - name: everything-else\n"                                        \
	"    match: { path_prefix: / }\n"                                    \
	"    upstream: legacy\n"
#define R_NEW                                                                \
	"  - name: new\n"                                                    \
	"    match: { path_prefix: /reports }\n"                             \
	"    upstream: reports\n"
#define UPS_REPORTS                                                          \
	"  reports:\n"                                                       \
	"    servers: [ \"127.0.0.1:9005\" ]\n"

#define BASE LISTENERS UPSTREAMS "routes:\n" R_BILLING R_USERS R_RETIRED R_ELSE

#define KEPT_ALL                                                             \
	"upstream kept: legacy\n"                                            \
	"upstream kept: users\n"                                             \
	"upstream kept: billing\n"

/* The base file again, reformatted: other styles, key order, comments. */
static const char base_reformatted[] =
    "# the same configuration, written differently\n"
    "listeners: [ { address: \"127.0.0.1:8080\" } ]\n"
    "\n"
    "upstreams:\n"
    "  legacy:\n"
    "    # two servers, the second twice as heavy\n"
    "    servers: [ \"127.0.0.1:9001\", { weight: 2, address: "
    "\"127.0.0.1:9002\" } ]\n"
    "  users:\n"
    "    retry:\n"
    "      on: [connect-failure, 503]\n"
    "      attempts: 2\n"
    "    breaker:\n"
    "      mode: enforce\n"
    "      consecutive_failures: 5\n"
    "    pending_timeout: 200ms\n"
    "    max_connections: 100\n"
    "    connect_timeout: 1000ms\n"
    "    servers:\n"
    "      - address: \"127.0.0.1:9003\"\n"
    "  billing:\n"
    "    health_check:\n"
    "      path: /healthz\n"
    "    servers: [ { address: \"127.0.0.1:9004\" } ]\n"
    "\n"
    "routes:\n"
    "  - match:\n"
    "      headers:\n"
    "        x-beta: \"1\"   # header names fold case\n"
    "      methods: [GET]\n"
    "      path_prefix: /api/billing\n"
    "    fallback: { upstream: legacy }\n"
    "    rewrite: { strip_prefix: /api }\n"
    "    upstream: billing\n"
    "    name: billing\n"
    "  - name: users\n"
    "    shadow: { percent: 50, upstream: billing }\n"
    "    override:\n"
    "      allow_from:\n"
    "        - 127.0.0.1/32\n"
    "    sticky: { seed: users, cookie: session_id }   # the default seed\n"
    "    split: [ { upstream: users, weight: 10 }, { weight: 90, upstream: "
    "legacy } ]\n"
    "    match: { path_prefix: /api/users/ }\n"
    "  - name: retired\n"
    "    respond: { body: \"Gone\\n\", status: 410 }\n"
    "    match: { path_regex: \"/old/[a-z]+\" }\n"
    "    active: true\n"
    "  - name: everything-else\n"
    "    upstream: legacy\n"
    "    match: { path_prefix: / }\n";

/* The base file with up to MAX_EDITS replacements, and what changes. */
struct edit_case {
	const char *what;
	const char *edits[2 * MAX_EDITS]; /* from, to, ...; NULL ends */
	const char *want;
};

static char *subst(const char *s, const char *from, const char *to);
static char *apply_edits(const char *base, const char *const *edits);
static struct config *load_ok(const char *yaml);
static char *diff_text(const char *old_yaml, const char *new_yaml,
    size_t *nchanges);
static void assert_diff(const char *what, const char *old_yaml,
    const char *new_yaml, const char *want);
static void run_edit_cases(const struct edit_case *cases, size_t n);

static void test_identical(void **state);
static void test_reformatted(void **state);
static void test_route_added(void **state);
static void test_route_removed(void **state);
static void test_route_moved(void **state);
static void test_route_moved_and_reweighted(void **state);
static void test_route_reweighted(void **state);
static void test_route_changed(void **state);
static void test_upstream_reset(void **state);
static void test_upstream_added_removed(void **state);
static void test_listener_added_removed(void **state);
static void test_order(void **state);
static void test_kept(void **state);
static void test_upstream_same(void **state);
static void test_change_names(void **state);

/* `s` with the first `from` replaced by `to` (which must be there). */
static char *
subst(const char *s, const char *from, const char *to)
{
	const char *at = strstr(s, from);
	struct strbuf sb;

	if (at == NULL)
		fail_msg("edit \"%s\" not found", from);
	strbuf_init(&sb);
	strbuf_add(&sb, s, (size_t)(at - s));
	strbuf_adds(&sb, to);
	strbuf_adds(&sb, at + strlen(from));
	return strbuf_detach(&sb);
}

static char *
apply_edits(const char *base, const char *const *edits)
{
	char *s = xstrdup(base), *t;

	for (size_t i = 0; i < 2 * MAX_EDITS && edits[i] != NULL; i += 2) {
		t = subst(s, edits[i], edits[i + 1]);
		free(s);
		s = t;
	}
	return s;
}

static struct config *
load_ok(const char *yaml)
{
	struct config_diag d;
	struct config *c;

	config_diag_init(&d);
	/* TLS settings compare without their files being read. */
	c = config_load_string_flags("t.yaml", yaml, strlen(yaml),
	    CONFIG_LOAD_NO_FILES, &d);
	for (size_t i = 0; i < d.nerrors; i++)
		print_message("  error: %s\n", d.errors[i]);
	config_diag_free(&d);
	assert_non_null(c);
	return c;
}

/* The text of the diff from `old_yaml` to `new_yaml` (caller frees). */
static char *
diff_text(const char *old_yaml, const char *new_yaml, size_t *nchanges)
{
	struct config *old = load_ok(old_yaml), *new = load_ok(new_yaml);
	struct conf_diff d;
	struct strbuf sb;

	conf_diff_init(&d);
	conf_diff_compute(&d, old, new);
	strbuf_init(&sb);
	conf_diff_text(&d, &sb);
	if (nchanges != NULL)
		*nchanges = d.n;
	conf_diff_free(&d);
	config_free(old);
	config_free(new);
	return strbuf_detach(&sb);
}

static void
assert_diff(const char *what, const char *old_yaml, const char *new_yaml,
    const char *want)
{
	char *got = diff_text(old_yaml, new_yaml, NULL);

	if (strcmp(got, want) != 0)
		print_message("case \"%s\":\n--- want\n%s--- got\n%s", what,
		    want, got);
	assert_string_equal(got, want);
	free(got);
}

static void
run_edit_cases(const struct edit_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *edited = apply_edits(BASE, cases[i].edits);

		assert_diff(cases[i].what, BASE, edited, cases[i].want);
		free(edited);
	}
}

/* ---- nothing changed */

static void
test_identical(void **state)
{
	size_t n;
	char *text;

	(void)state;
	text = diff_text(BASE, BASE, &n);
	assert_int_equal(n, 0);
	assert_string_equal(text, "no changes\n");
	free(text);
}

/* Marks, key order, styles, comments and spelled-out defaults do not count. */
static void
test_reformatted(void **state)
{
	size_t n;
	char *text;

	(void)state;
	text = diff_text(BASE, base_reformatted, &n);
	assert_string_equal(text, "no changes\n");
	assert_int_equal(n, 0);
	free(text);
	text = diff_text(base_reformatted, BASE, &n);
	assert_string_equal(text, "no changes\n");
	free(text);
}

/* ---- routes */

/* A route added ahead of others moves none of them (ranks, not positions). */
static void
test_route_added(void **state)
{
	(void)state;
	assert_diff("added in the middle", BASE,
	    LISTENERS UPSTREAMS UPS_REPORTS "routes:\n" R_BILLING R_NEW R_USERS
		R_RETIRED R_ELSE,
	    "route added: new (position 2)\n" KEPT_ALL
	    "upstream added: reports\n");
	assert_diff("added first", BASE,
	    LISTENERS UPSTREAMS UPS_REPORTS "routes:\n" R_NEW R_BILLING R_USERS
		R_RETIRED R_ELSE,
	    "route added: new (position 1)\n" KEPT_ALL
	    "upstream added: reports\n");
}

static void
test_route_removed(void **state)
{
	(void)state;
	assert_diff("removed", BASE,
	    LISTENERS UPSTREAMS "routes:\n" R_BILLING R_USERS R_ELSE,
	    "route removed: retired\n" KEPT_ALL);
	assert_diff("removed first", BASE,
	    LISTENERS UPSTREAMS "routes:\n" R_USERS R_RETIRED R_ELSE,
	    "route removed: billing\n" KEPT_ALL);
}

static void
test_route_moved(void **state)
{
	(void)state;
	assert_diff("two swapped", BASE,
	    LISTENERS UPSTREAMS "routes:\n" R_USERS R_BILLING R_RETIRED R_ELSE,
	    "route moved: users (position 2 -> 1)\n"
	    "route moved: billing (position 1 -> 2)\n" KEPT_ALL);
	/*
	 * Positions are in each file; ranks among the common routes decide,
	 * and a route that kept its line (users) is not listed.
	 */
	assert_diff("moved past an added and a removed route", BASE,
	    LISTENERS UPSTREAMS UPS_REPORTS "routes:\n" R_NEW R_USERS R_ELSE
		R_BILLING,
	    "route added: new (position 1)\n"
	    "route moved: everything-else (position 4 -> 3)\n"
	    "route moved: billing (position 1 -> 4)\n"
	    "route removed: retired\n" KEPT_ALL "upstream added: reports\n");
}

static void
test_route_moved_and_reweighted(void **state)
{
	char *new_yaml;

	(void)state;
	new_yaml = subst(LISTENERS UPSTREAMS "routes:\n" R_USERS R_BILLING
		R_RETIRED R_ELSE,
	    "weight: 10 }", "weight: 20 }");
	assert_diff("moved and re-weighted", BASE, new_yaml,
	    "route moved: users (position 2 -> 1)\n"
	    "route re-weighted: users (users 10 -> 20)\n"
	    "route moved: billing (position 1 -> 2)\n" KEPT_ALL);
	free(new_yaml);
}

static void
test_route_reweighted(void **state)
{
	static const struct edit_case cases[] = {
		{ "both weights",
		    { "weight: 10 }", "weight: 25 }", "weight: 90 }",
			"weight: 75 }", NULL },
		    "route re-weighted: users (users 10 -> 25, legacy 90 -> 75)\n"
		    KEPT_ALL },
		{ "one weight", { "weight: 90 }", "weight: 0 }", NULL },
		    "route re-weighted: users (legacy 90 -> 0)\n" KEPT_ALL },
		{ "weights and the match",
		    { "weight: 10 }", "weight: 25 }", "/api/users }",
			"/api/people }", NULL },
		    "route changed: users (match, weights)\n" KEPT_ALL },
		{ "weights and the targets' order",
		    { "      - { upstream: users, weight: 10 }\n"
		      "      - { upstream: legacy, weight: 90 }\n",
			"      - { upstream: legacy, weight: 75 }\n"
			"      - { upstream: users, weight: 25 }\n",
			NULL },
		    "route changed: users (targets)\n" KEPT_ALL },
	};

	(void)state;
	run_edit_cases(cases, N(cases));
}

/* One case an aspect, then several at once, then edits that are no change. */
static void
test_route_changed(void **state)
{
	static const struct edit_case cases[] = {
		{ "path", { "/api/billing,", "/api/bills,", NULL },
		    "route changed: billing (match)\n" KEPT_ALL },
		{ "path kind", { "path_prefix: /api/users", "path: /api/users",
				   NULL },
		    "route changed: users (match)\n" KEPT_ALL },
		{ "regex source", { "[a-z]+", "[a-z0-9]+", NULL },
		    "route changed: retired (match)\n" KEPT_ALL },
		{ "methods", { "methods: [GET]", "methods: [GET, POST]", NULL },
		    "route changed: billing (match)\n" KEPT_ALL },
		{ "host", { "/old/[a-z]+\" }", "/old/[a-z]+\", host: a.test }",
			      NULL },
		    "route changed: retired (match)\n" KEPT_ALL },
		{ "header value", { "X-Beta: \"1\"", "X-Beta: \"2\"", NULL },
		    "route changed: billing (match)\n" KEPT_ALL },
		{ "header form", { "X-Beta: \"1\"", "X-Beta: { in: [\"1\"] }",
				     NULL },
		    "route changed: billing (match)\n" KEPT_ALL },
		{ "header present",
		    { "X-Beta: \"1\"", "X-Beta: { present: true }", NULL },
		    "route changed: billing (match)\n" KEPT_ALL },
		{ "cookie", { "/api/users }", "/api/users, cookies: { b: y } }",
				NULL },
		    "route changed: users (match)\n" KEPT_ALL },
		{ "query", { "/api/users }", "/api/users, query: { p: \"1\" } }",
			       NULL },
		    "route changed: users (match)\n" KEPT_ALL },
		{ "upstream", { "    upstream: billing\n", "    upstream: users\n",
				  NULL },
		    "route changed: billing (targets)\n" KEPT_ALL },
		{ "upstream to a split of one",
		    { "    upstream: legacy\n",
			"    split: [ { upstream: legacy, weight: 100 } ]\n",
			NULL },
		    "route changed: everything-else (targets)\n" KEPT_ALL },
		{ "a split target more",
		    { "weight: 90 }\n",
			"weight: 80 }\n      - { upstream: billing, weight: 10 }\n",
			NULL },
		    "route changed: users (targets)\n" KEPT_ALL },
		{ "rewrite", { "{ strip_prefix: /api }",
				 "{ replace_prefix: { from: /api, to: /v2 } }",
				 NULL },
		    "route changed: billing (rewrite)\n" KEPT_ALL },
		{ "rewrite removed", { "    rewrite: { strip_prefix: /api }\n", "",
					 NULL },
		    "route changed: billing (rewrite)\n" KEPT_ALL },
		{ "respond status", { "status: 410", "status: 404", NULL },
		    "route changed: retired (respond)\n" KEPT_ALL },
		{ "respond body", { "\"Gone\\n\"", "\"Gone!\\n\"", NULL },
		    "route changed: retired (respond)\n" KEPT_ALL },
		{ "respond content type",
		    { "status: 410,", "status: 410, content_type: text/html,",
			NULL },
		    "route changed: retired (respond)\n" KEPT_ALL },
		{ "respond to upstream",
		    { "    respond: { status: 410, body: \"Gone\\n\" }\n",
			"    upstream: legacy\n", NULL },
		    "route changed: retired (targets, respond)\n" KEPT_ALL },
		{ "fallback on", { "fallback: legacy",
				     "fallback: { upstream: legacy, on: "
				     "[unavailable, 404] }",
				     NULL },
		    "route changed: billing (fallback)\n" KEPT_ALL },
		{ "fallback upstream", { "fallback: legacy", "fallback: users",
					   NULL },
		    "route changed: billing (fallback)\n" KEPT_ALL },
		{ "fallback removed", { "    fallback: legacy\n", "", NULL },
		    "route changed: billing (fallback)\n" KEPT_ALL },
		{ "sticky key", { "cookie: session_id", "header: X-User", NULL },
		    "route changed: users (sticky)\n" KEPT_ALL },
		{ "sticky seed", { "cookie: session_id", "cookie: session_id, "
							  "seed: users-2026",
				     NULL },
		    "route changed: users (sticky)\n" KEPT_ALL },
		{ "sticky removed",
		    { "    sticky: { cookie: session_id }\n", "", NULL },
		    "route changed: users (sticky)\n" KEPT_ALL },
		{ "override allow_from", { "127.0.0.1/32", "10.0.0.0/8", NULL },
		    "route changed: users (override)\n" KEPT_ALL },
		{ "override header",
		    { "{ allow_from:", "{ header: X-Pick, allow_from:", NULL },
		    "route changed: users (override)\n" KEPT_ALL },
		{ "shadow percent", { "percent: 50", "percent: 60", NULL },
		    "route changed: users (shadow)\n" KEPT_ALL },
		{ "shadow upstream",
		    { "{ upstream: billing, percent", "{ upstream: legacy, percent",
			NULL },
		    "route changed: users (shadow)\n" KEPT_ALL },
		{ "shadow compare", { "percent: 50 }", "percent: 50, compare: "
							   "{ ignore_headers: "
							   "[Date] } }",
					NULL },
		    "route changed: users (shadow)\n" KEPT_ALL },
		{ "shadow methods", { "percent: 50 }",
					"percent: 50, methods: [GET] }", NULL },
		    "route changed: users (shadow)\n" KEPT_ALL },
		{ "active", { "  - name: retired\n",
				"  - name: retired\n    active: false\n", NULL },
		    "route changed: retired (active)\n" KEPT_ALL },
		{ "several aspects, in a fixed order",
		    { "    fallback: legacy\n", "    active: false\n",
			"{ strip_prefix: /api }", "{ strip_prefix: /api/billing }",
			"methods: [GET]", "methods: [POST]" },
		    "route changed: billing (match, rewrite, fallback, active)\n"
		    KEPT_ALL },
		{ "several routes, in the new file's order",
		    { "percent: 50", "percent: 60", "status: 410", "status: 404",
			"/api/billing,", "/api/bills," },
		    "route changed: billing (match)\n"
		    "route changed: users (shadow)\n"
		    "route changed: retired (respond)\n" KEPT_ALL },
		{ "header name case only", { "X-Beta", "x-BETA", NULL },
		    "no changes\n" },
		{ "the default seed spelled out",
		    { "cookie: session_id", "cookie: session_id, seed: users",
			NULL },
		    "no changes\n" },
		{ "the default override header spelled out",
		    { "{ allow_from:", "{ header: X-Cutover-Upstream, allow_from:",
			NULL },
		    "no changes\n" },
	};

	(void)state;
	run_edit_cases(cases, N(cases));
}

/* ---- upstreams */

static void
test_upstream_reset(void **state)
{
	static const struct edit_case cases[] = {
		{ "server address", { "127.0.0.1:9003", "127.0.0.2:9003", NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (servers)\n"
		    "upstream kept: billing\n" },
		{ "server port", { "127.0.0.1:9003", "127.0.0.1:9013", NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (servers)\n"
		    "upstream kept: billing\n" },
		{ "server weight", { "weight: 2 }", "weight: 3 }", NULL },
		    "upstream reset: legacy (servers)\n"
		    "upstream kept: users\n"
		    "upstream kept: billing\n" },
		{ "server order",
		    { "      - \"127.0.0.1:9001\"\n"
		      "      - { address: \"127.0.0.1:9002\", weight: 2 }\n",
			"      - { address: \"127.0.0.1:9002\", weight: 2 }\n"
			"      - \"127.0.0.1:9001\"\n",
			NULL },
		    "upstream reset: legacy (servers)\n"
		    "upstream kept: users\n"
		    "upstream kept: billing\n" },
		{ "a server more",
		    { "[ \"127.0.0.1:9004\" ]", "[ \"127.0.0.1:9004\", "
						"\"127.0.0.1:9014\" ]",
			NULL },
		    "upstream kept: legacy\n"
		    "upstream kept: users\n"
		    "upstream reset: billing (servers)\n" },
		{ "connect_timeout", { "connect_timeout: 1s", "connect_timeout: 2s",
					 NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (timeouts)\n"
		    "upstream kept: billing\n" },
		/* The probe lease follows it, but the reason is the timeout. */
		{ "response_timeout",
		    { "connect_timeout: 1s",
			"connect_timeout: 1s\n    response_timeout: 3s", NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (timeouts)\n"
		    "upstream kept: billing\n" },
		{ "idle_timeout", { "    health_check:",
				      "    idle_timeout: 5s\n    health_check:",
				      NULL },
		    "upstream kept: legacy\n"
		    "upstream kept: users\n"
		    "upstream reset: billing (timeouts)\n" },
		{ "max_connections",
		    { "max_connections: 100", "max_connections: 101", NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (bulkhead)\n"
		    "upstream kept: billing\n" },
		{ "pending_timeout",
		    { "pending_timeout: 200ms", "pending_timeout: 300ms", NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (bulkhead)\n"
		    "upstream kept: billing\n" },
		{ "max_pending", { "max_connections: 100",
				     "max_connections: 100\n    max_pending: 7",
				     NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (bulkhead)\n"
		    "upstream kept: billing\n" },
		{ "tls on", { "    health_check:",
				"    tls: { verify: false }\n    health_check:", NULL },
		    "upstream kept: legacy\n"
		    "upstream kept: users\n"
		    "upstream reset: billing (tls)\n" },
		{ "tls sni", { "    health_check:",
				 "    tls: { sni: billing.internal }\n    health_check:",
				 NULL },
		    "upstream kept: legacy\n"
		    "upstream kept: users\n"
		    "upstream reset: billing (tls)\n" },
		{ "breaker consecutive_failures",
		    { "consecutive_failures: 5", "consecutive_failures: 6", NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (breaker)\n"
		    "upstream kept: billing\n" },
		{ "breaker mode", { "mode: enforce", "mode: dry_run", NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (breaker)\n"
		    "upstream kept: billing\n" },
		{ "breaker open_for",
		    { "mode: enforce", "mode: enforce, open_for: 7s", NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (breaker)\n"
		    "upstream kept: billing\n" },
		{ "retry attempts", { "attempts: 2", "attempts: 3", NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (retry)\n"
		    "upstream kept: billing\n" },
		{ "retry on a status", { "503]", "503, 502]", NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (retry)\n"
		    "upstream kept: billing\n" },
		{ "retry on a kind", { "[connect-failure, 503]", "[503]", NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (retry)\n"
		    "upstream kept: billing\n" },
		{ "retry budget", { "attempts: 2", "attempts: 2, budget: 10%",
				      NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (retry)\n"
		    "upstream kept: billing\n" },
		{ "health_check off",
		    { "    health_check: { path: /healthz }\n", "", NULL },
		    "upstream kept: legacy\n"
		    "upstream kept: users\n"
		    "upstream reset: billing (health_check)\n" },
		{ "health_check on",
		    { "    connect_timeout: 1s\n",
			"    connect_timeout: 1s\n    health_check:\n", NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (health_check)\n"
		    "upstream kept: billing\n" },
		{ "health_check path", { "path: /healthz", "path: /ready", NULL },
		    "upstream kept: legacy\n"
		    "upstream kept: users\n"
		    "upstream reset: billing (health_check)\n" },
		{ "health_check interval",
		    { "path: /healthz", "path: /healthz, interval: 9s", NULL },
		    "upstream kept: legacy\n"
		    "upstream kept: users\n"
		    "upstream reset: billing (health_check)\n" },
		{ "the first reason of several",
		    { "max_connections: 100", "max_connections: 101",
			"attempts: 2", "attempts: 3", "127.0.0.1:9003",
			"127.0.0.2:9003" },
		    "upstream kept: legacy\n"
		    "upstream reset: users (servers)\n"
		    "upstream kept: billing\n" },
		{ "breaker before timeouts",
		    { "connect_timeout: 1s", "connect_timeout: 2s",
			"consecutive_failures: 5", "consecutive_failures: 6",
			NULL },
		    "upstream kept: legacy\n"
		    "upstream reset: users (breaker)\n"
		    "upstream kept: billing\n" },
		{ "defaults spelled out",
		    { "path: /healthz }", "path: /healthz, interval: 5s, "
					   "timeout: 1s, healthy: 2 }",
			NULL },
		    "no changes\n" },
	};

	(void)state;
	run_edit_cases(cases, N(cases));
}

static void
test_upstream_added_removed(void **state)
{
	static const char with_reports[] = LISTENERS UPSTREAMS UPS_REPORTS
	    "routes:\n" R_BILLING R_USERS R_RETIRED R_ELSE;
	static const char reports_first[] = LISTENERS "upstreams:\n" UPS_REPORTS
	    "  legacy: { servers: [ \"127.0.0.1:9001\", { address: "
	    "\"127.0.0.1:9002\", weight: 2 } ] }\n"
	    "  users:\n"
	    "    servers: [ \"127.0.0.1:9003\" ]\n"
	    "    connect_timeout: 1s\n"
	    "    max_connections: 100\n"
	    "    pending_timeout: 200ms\n"
	    "    breaker: { consecutive_failures: 5, mode: enforce }\n"
	    "    retry: { attempts: 2, on: [connect-failure, 503] }\n"
	    "  billing:\n"
	    "    servers: [ \"127.0.0.1:9004\" ]\n"
	    "    health_check: { path: /healthz }\n"
	    "routes:\n" R_BILLING R_USERS R_RETIRED R_ELSE;

	(void)state;
	/* An unused upstream changes no route: only the upstream lines. */
	assert_diff("added", BASE, with_reports,
	    KEPT_ALL "upstream added: reports\n");
	assert_diff("removed", with_reports, BASE,
	    KEPT_ALL "upstream removed: reports\n");
	/* In the new file's order; removed ones last. */
	assert_diff("added first", BASE, reports_first,
	    "upstream added: reports\n" KEPT_ALL);
	assert_diff("removed first", reports_first, BASE,
	    KEPT_ALL "upstream removed: reports\n");
}

static void
test_listener_added_removed(void **state)
{
	static const struct edit_case cases[] = {
		{ "added", { "  - address: \"127.0.0.1:8080\"\n",
			       "  - address: \"127.0.0.1:8080\"\n"
			       "  - address: \"127.0.0.1:8081\"\n",
			       NULL },
		    KEPT_ALL "listener added: 127.0.0.1:8081\n" },
		{ "replaced", { "127.0.0.1:8080", "127.0.0.1:8081", NULL },
		    KEPT_ALL "listener added: 127.0.0.1:8081\n"
			     "listener removed: 127.0.0.1:8080\n" },
		{ "order only", { "  - address: \"127.0.0.1:8080\"\n",
				    "  - address: \"127.0.0.1:8081\"\n"
				    "  - address: \"127.0.0.1:8080\"\n",
				    NULL },
		    KEPT_ALL "listener added: 127.0.0.1:8081\n" },
	};
	static const char tls_a[] = "listeners:\n"
				    "  - address: \"127.0.0.1:8080\"\n"
				    "    tls: { certificates: [ { cert: a.crt, "
				    "key: a.key } ] }\n" UPSTREAMS
				    "routes:\n" R_BILLING R_USERS R_RETIRED R_ELSE;
	static const char tls_b[] = "listeners:\n"
				    "  - address: \"127.0.0.1:8080\"\n"
				    "    tls: { certificates: [ { cert: b.crt, "
				    "key: a.key } ] }\n" UPSTREAMS
				    "routes:\n" R_BILLING R_USERS R_RETIRED R_ELSE;
	static const char tls_13[] = "listeners:\n"
				     "  - address: \"127.0.0.1:8080\"\n"
				     "    tls:\n"
				     "      min_version: TLSv1.3\n"
				     "      certificates: [ { key: a.key, cert: a.crt } ]\n"
				     UPSTREAMS
				     "routes:\n" R_BILLING R_USERS R_RETIRED R_ELSE;
	static const char two[] = "listeners:\n"
				  "  - address: \"127.0.0.1:8081\"\n"
				  "  - address: \"127.0.0.1:8080\"\n" UPSTREAMS
				  "routes:\n" R_BILLING R_USERS R_RETIRED R_ELSE;

	(void)state;
	run_edit_cases(cases, N(cases));
	assert_diff("removed", two, BASE,
	    KEPT_ALL "listener removed: 127.0.0.1:8081\n");
	assert_diff("tls on", BASE, tls_a,
	    KEPT_ALL "listener changed: 127.0.0.1:8080 (tls)\n");
	assert_diff("tls off", tls_a, BASE,
	    KEPT_ALL "listener changed: 127.0.0.1:8080 (tls)\n");
	assert_diff("other certificate file", tls_a, tls_b,
	    KEPT_ALL "listener changed: 127.0.0.1:8080 (tls)\n");
	assert_diff("min_version", tls_a, tls_13,
	    KEPT_ALL "listener changed: 127.0.0.1:8080 (tls)\n");
	/* The same names (renewed files are read, not compared): no change. */
	assert_diff("same tls", tls_a, tls_a, "no changes\n");
}

/* ---- all kinds together: the order of the list and its text */

#define OLD_COMBINED                                                         \
	LISTENERS UPSTREAMS "  old-api:\n"                                   \
			    "    servers: [ \"127.0.0.1:9006\" ]\n"            \
			    "routes:\n" R_BILLING R_USERS R_RETIRED R_ELSE

static const char combined_want[] =
    "route moved: users (position 2 -> 1)\n"
    "route re-weighted: users (users 10 -> 25, legacy 90 -> 75)\n"
    "route added: new (position 2)\n"
    "route moved: billing (position 1 -> 3)\n"
    "route changed: everything-else (match, active)\n"
    "route removed: retired\n"
    "upstream kept: legacy\n"
    "upstream reset: users (servers)\n"
    "upstream kept: billing\n"
    "upstream added: reports\n"
    "upstream removed: old-api\n"
    "listener added: 127.0.0.1:8081\n"
    "listener removed: 127.0.0.1:8080\n";

static char *
combined_new(void)
{
	static const char *const edits[] = {
		"127.0.0.1:8080", "127.0.0.1:8081",
		"127.0.0.1:9003", "127.0.0.2:9003",
		"weight: 10 }\n      - { upstream: legacy, weight: 90 }",
		"weight: 25 }\n      - { upstream: legacy, weight: 75 }",
	};
	char *s = apply_edits(LISTENERS UPSTREAMS UPS_REPORTS "routes:\n"
		R_USERS R_NEW R_BILLING R_ELSE,
	    edits), *t;

	t = subst(s, "match: { path_prefix: / }",
	    "match: { path_prefix: /, methods: [GET] }\n    active: false");
	free(s);
	return t;
}

static void
test_order(void **state)
{
	char *new_yaml = combined_new();

	(void)state;
	assert_diff("combined", OLD_COMBINED, new_yaml, combined_want);
	free(new_yaml);
}

/* The list itself, beside its text: kinds, names and details. */
static void
test_kept(void **state)
{
	struct config *old, *new;
	struct conf_diff d;
	char *new_yaml = combined_new();

	(void)state;
	old = load_ok(OLD_COMBINED);
	new = load_ok(new_yaml);
	conf_diff_init(&d);
	conf_diff_compute(&d, old, new);
	assert_int_equal(d.n, 13);
	assert_int_equal(d.changes[0].kind, CONF_CHANGE_ROUTE_MOVED);
	assert_string_equal(d.changes[0].name, "users");
	assert_string_equal(d.changes[0].detail, "2 -> 1");
	assert_int_equal(d.changes[2].kind, CONF_CHANGE_ROUTE_ADDED);
	assert_string_equal(d.changes[2].detail, "2");
	assert_int_equal(d.changes[5].kind, CONF_CHANGE_ROUTE_REMOVED);
	assert_null(d.changes[5].detail);
	assert_int_equal(d.changes[7].kind, CONF_CHANGE_UPSTREAM_RESET);
	assert_string_equal(d.changes[7].detail, "servers");
	assert_true(conf_diff_kept(&d, "legacy"));
	assert_true(conf_diff_kept(&d, "billing"));
	assert_false(conf_diff_kept(&d, "users"));
	assert_false(conf_diff_kept(&d, "reports"));
	conf_diff_free(&d);
	assert_int_equal(d.n, 0);
	assert_null(d.changes);
	config_free(new);

	/* Nothing changed: an empty list, and every upstream kept. */
	new = load_ok(base_reformatted);
	config_free(old);
	old = load_ok(BASE);
	conf_diff_compute(&d, old, new);
	assert_int_equal(d.n, 0);
	assert_true(conf_diff_kept(&d, "legacy"));
	assert_true(conf_diff_kept(&d, "users"));
	assert_true(conf_diff_kept(&d, "billing"));
	conf_diff_free(&d);
	conf_diff_free(&d); /* twice is harmless */
	config_free(old);
	config_free(new);
	free(new_yaml);
}

static void
test_upstream_same(void **state)
{
	struct config *a, *b;
	const char *why = "unset";
	char *edited;

	(void)state;
	a = load_ok(BASE);
	edited = subst(BASE, "attempts: 2", "attempts: 3");
	b = load_ok(edited);
	assert_true(conf_upstream_same(config_upstream(a, "users"),
	    config_upstream(b, "users"), NULL) == false);
	assert_false(conf_upstream_same(config_upstream(a, "users"),
	    config_upstream(b, "users"), &why));
	assert_string_equal(why, "retry");
	assert_true(conf_upstream_same(config_upstream(a, "legacy"),
	    config_upstream(b, "legacy"), &why));
	assert_null(why);
	assert_true(conf_upstream_same(config_upstream(a, "billing"),
	    config_upstream(b, "billing"), NULL));
	/* Two upstreams of one file compare by their settings, not names. */
	assert_false(conf_upstream_same(config_upstream(a, "legacy"),
	    config_upstream(a, "billing"), &why));
	assert_string_equal(why, "servers");
	config_free(a);
	config_free(b);
	free(edited);
}

static void
test_change_names(void **state)
{
	static const struct {
		enum conf_change_kind k;
		const char *name;
	} names[] = {
		{ CONF_CHANGE_ROUTE_ADDED, "route_added" },
		{ CONF_CHANGE_ROUTE_REMOVED, "route_removed" },
		{ CONF_CHANGE_ROUTE_MOVED, "route_moved" },
		{ CONF_CHANGE_ROUTE_REWEIGHTED, "route_reweighted" },
		{ CONF_CHANGE_ROUTE_CHANGED, "route_changed" },
		{ CONF_CHANGE_UPSTREAM_KEPT, "upstream_kept" },
		{ CONF_CHANGE_UPSTREAM_RESET, "upstream_reset" },
		{ CONF_CHANGE_UPSTREAM_ADDED, "upstream_added" },
		{ CONF_CHANGE_UPSTREAM_REMOVED, "upstream_removed" },
		{ CONF_CHANGE_LISTENER_ADDED, "listener_added" },
		{ CONF_CHANGE_LISTENER_REMOVED, "listener_removed" },
	};

	(void)state;
	for (size_t i = 0; i < N(names); i++)
		assert_string_equal(conf_change_name(names[i].k), names[i].name);
	assert_string_equal(conf_change_name((enum conf_change_kind)99),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical),
		cmocka_unit_test(test_reformatted),
		cmocka_unit_test(test_route_added),
		cmocka_unit_test(test_route_removed),
		cmocka_unit_test(test_route_moved),
		cmocka_unit_test(test_route_moved_and_reweighted),
		cmocka_unit_test(test_route_reweighted),
		cmocka_unit_test(test_route_changed),
		cmocka_unit_test(test_upstream_reset),
		cmocka_unit_test(test_upstream_added_removed),
		cmocka_unit_test(test_listener_added_removed),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_kept),
		cmocka_unit_test(test_upstream_same),
		cmocka_unit_test(test_change_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
