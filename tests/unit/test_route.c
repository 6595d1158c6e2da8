/*
 * test_route: route conditions, first-match order and the explain trace,
 * over configurations built by hand (not through the YAML loader).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "cutover/config.h"
#include "cutover/route.h"
#include "cutover/route_explain.h"
#include "cutover/strbuf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_HDRS 6
#define SLOW_SUBJECT "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"

/* ---- a request described as text, turned into a route_request */

struct req_desc {
	const char *method;
	const char *path; /* already normalised */
	const char *query;
	const char *host;
	const char *hdrs[MAX_HDRS]; /* "Name: value" */
};

struct req_buf {
	struct route_request req;
	struct http_field fields[MAX_HDRS];
};

static struct http_span
span(const char *s)
{
	struct http_span sp = { s, s ? strlen(s) : 0 };

	return sp;
}

static void
build_req(const struct req_desc *d, struct req_buf *b)
{
	size_t i;

	memset(b, 0, sizeof(*b));
	b->req.method = span(d->method ? d->method : "GET");
	b->req.path = span(d->path ? d->path : "/");
	b->req.query = span(d->query ? d->query : "");
	b->req.host = span(d->host);
	for (i = 0; i < MAX_HDRS && d->hdrs[i] != NULL; i++) {
		const char *colon = strchr(d->hdrs[i], ':');
		const char *v = colon + 1;

		assert_non_null(colon);
		while (*v == ' ')
			v++;
		b->fields[i].name.p = d->hdrs[i];
		b->fields[i].name.len = (size_t)(colon - d->hdrs[i]);
		b->fields[i].value = span(v);
	}
	b->req.fields = b->fields;
	b->req.nfields = i;
}

/* ---- routes, one condition (or a combination) each */

static char *methods_get_post[] = { "GET", "POST" };
static char *methods_delete[] = { "DELETE" };
static char *vals_beta[] = { "1" };
static char *vals_tenants[] = { "acme", "globex" };
static char *vals_yes[] = { "yes" };
static char *vals_q_space[] = { "a b&c" };
static char *vals_preview[] = { "1", "true" };

static struct match_cond hdr_exact[] = {
	{ .name = "X-Beta", .kind = MATCH_EXACT, .values = vals_beta,
	    .nvalues = 1 },
};
static struct match_cond hdr_in[] = {
	{ .name = "x-tenant", .kind = MATCH_IN, .values = vals_tenants,
	    .nvalues = 2 },
};
static struct match_cond hdr_present[] = {
	{ .name = "X-Debug", .kind = MATCH_PRESENT, .present = true },
};
static struct match_cond hdr_absent[] = {
	{ .name = "X-Legacy-Only", .kind = MATCH_PRESENT, .present = false },
};
static struct match_cond hdr_two[] = {
	{ .name = "X-Beta", .kind = MATCH_EXACT, .values = vals_beta,
	    .nvalues = 1 },
	{ .name = "X-Tenant", .kind = MATCH_IN, .values = vals_tenants,
	    .nvalues = 2 },
};
static struct match_cond ck_exact[] = {
	{ .name = "beta", .kind = MATCH_EXACT, .values = vals_yes,
	    .nvalues = 1 },
};
static struct match_cond ck_present[] = {
	{ .name = "session_id", .kind = MATCH_PRESENT, .present = true },
};
static struct match_cond ck_absent[] = {
	{ .name = "old", .kind = MATCH_PRESENT, .present = false },
};
static struct match_cond q_in[] = {
	{ .name = "preview", .kind = MATCH_IN, .values = vals_preview,
	    .nvalues = 2 },
};
static struct match_cond q_enc[] = {
	{ .name = "the key", .kind = MATCH_EXACT, .values = vals_q_space,
	    .nvalues = 1 },
};
static struct match_cond q_present[] = {
	{ .name = "debug", .kind = MATCH_PRESENT, .present = true },
};
static struct match_cond q_absent[] = {
	{ .name = "nocache", .kind = MATCH_PRESENT, .present = false },
};

static struct route_conf r_any = { .name = "any", .active = true };
static struct route_conf r_prefix = { .name = "prefix", .active = true,
	.match = { .path_kind = PATH_MATCH_PREFIX, .path = "/api/billing" } };
static struct route_conf r_prefix_slash = { .name = "prefix-slash",
	.active = true,
	.match = { .path_kind = PATH_MATCH_PREFIX, .path = "/api/billing/" } };
static struct route_conf r_root = { .name = "root", .active = true,
	.match = { .path_kind = PATH_MATCH_PREFIX, .path = "/" } };
static struct route_conf r_exact = { .name = "exact", .active = true,
	.match = { .path_kind = PATH_MATCH_EXACT, .path = "/healthz" } };
static struct route_conf r_regex = { .name = "regex", .active = true,
	.match = { .path_kind = PATH_MATCH_REGEX,
	    .path = "/users/[0-9]+(/orders)?" } };
static struct route_conf r_regex_slow = { .name = "regex-slow",
	.active = true,
	.match = { .path_kind = PATH_MATCH_REGEX, .path = "/(a|aa)+" } };
static struct route_conf r_methods = { .name = "methods", .active = true,
	.match = { .methods = methods_get_post, .nmethods = 2 } };
static struct route_conf r_host = { .name = "host", .active = true,
	.match = { .host = "shop.example.com" } };
static struct route_conf r_host_dot = { .name = "host-dot", .active = true,
	.match = { .host = "shop.example.com." } };
static struct route_conf r_host_v6 = { .name = "host-v6", .active = true,
	.match = { .host = "[::1]" } };
static struct route_conf r_wild = { .name = "wild", .active = true,
	.match = { .host = ".example.com", .host_wildcard = true } };
static struct route_conf r_hdr_exact = { .name = "hdr-exact", .active = true,
	.match = { .headers = hdr_exact, .nheaders = 1 } };
static struct route_conf r_hdr_in = { .name = "hdr-in", .active = true,
	.match = { .headers = hdr_in, .nheaders = 1 } };
static struct route_conf r_hdr_present = { .name = "hdr-present",
	.active = true, .match = { .headers = hdr_present, .nheaders = 1 } };
static struct route_conf r_hdr_absent = { .name = "hdr-absent",
	.active = true, .match = { .headers = hdr_absent, .nheaders = 1 } };
static struct route_conf r_hdr_two = { .name = "hdr-two", .active = true,
	.match = { .headers = hdr_two, .nheaders = 2 } };
static struct route_conf r_ck_exact = { .name = "ck-exact", .active = true,
	.match = { .cookies = ck_exact, .ncookies = 1 } };
static struct route_conf r_ck_present = { .name = "ck-present",
	.active = true, .match = { .cookies = ck_present, .ncookies = 1 } };
static struct route_conf r_ck_absent = { .name = "ck-absent", .active = true,
	.match = { .cookies = ck_absent, .ncookies = 1 } };
static struct route_conf r_q_in = { .name = "q-in", .active = true,
	.match = { .query = q_in, .nquery = 1 } };
static struct route_conf r_q_enc = { .name = "q-enc", .active = true,
	.match = { .query = q_enc, .nquery = 1 } };
static struct route_conf r_q_present = { .name = "q-present", .active = true,
	.match = { .query = q_present, .nquery = 1 } };
static struct route_conf r_q_absent = { .name = "q-absent", .active = true,
	.match = { .query = q_absent, .nquery = 1 } };
/* everything at once: the order of the checks decides what is reported */
static struct route_conf r_all = { .name = "all", .active = true,
	.match = { .path_kind = PATH_MATCH_PREFIX, .path = "/api/billing",
	    .methods = methods_get_post, .nmethods = 2,
	    .host = "shop.example.com",
	    .headers = hdr_two, .nheaders = 2,
	    .cookies = ck_exact, .ncookies = 1,
	    .query = q_in, .nquery = 1 } };

static struct route_conf *regex_routes[] = { &r_regex, &r_regex_slow };

struct cond_case {
	const struct route_conf *route;
	struct req_desc req;
	const char *failed; /* NULL: the conditions hold */
	const char *detail;
};

#define OK NULL, NULL

static const struct cond_case cond_cases[] = {
	/* no conditions */
	{ &r_any, { "GET", "/x", NULL, NULL, { NULL } }, OK },
	{ &r_any, { "BREW", "/", "a=1", "h", { "A: b" } }, OK },

	/* path prefix, segment-aware (SPEC 4.1) */
	{ &r_prefix, { .path = "/api/billing" }, OK },
	{ &r_prefix, { .path = "/api/billing/" }, OK },
	{ &r_prefix, { .path = "/api/billing/x" }, OK },
	{ &r_prefix, { .path = "/api/billingx" }, "path", NULL },
	{ &r_prefix, { .path = "/api" }, "path", NULL },
	{ &r_prefix, { .path = "/API/billing" }, "path", NULL },
	{ &r_prefix, { .path = "/api/billing%2Fx" }, "path", NULL },
	{ &r_prefix_slash, { .path = "/api/billing" }, OK },
	{ &r_prefix_slash, { .path = "/api/billing/x" }, OK },
	{ &r_prefix_slash, { .path = "/api/billingx" }, "path", NULL },
	{ &r_root, { .path = "/" }, OK },
	{ &r_root, { .path = "/anything/at/all" }, OK },

	/* exact path */
	{ &r_exact, { .path = "/healthz" }, OK },
	{ &r_exact, { .path = "/healthz/" }, "path", NULL },
	{ &r_exact, { .path = "/healthzz" }, "path", NULL },
	{ &r_exact, { .path = "/health" }, "path", NULL },

	/* regex: anchored at both ends */
	{ &r_regex, { .path = "/users/42" }, OK },
	{ &r_regex, { .path = "/users/42/orders" }, OK },
	{ &r_regex, { .path = "/users/42/orders/7" }, "path", NULL },
	{ &r_regex, { .path = "/v1/users/42" }, "path", NULL },
	{ &r_regex, { .path = "/users/x" }, "path", NULL },
	/* the match limit is hit: no match, not a crash */
	{ &r_regex_slow,
	    { .path = SLOW_SUBJECT },
	    "path", NULL },

	/* methods: exact, upper-case tokens */
	{ &r_methods, { .method = "GET" }, OK },
	{ &r_methods, { .method = "POST" }, OK },
	{ &r_methods, { .method = "PUT" }, "method", NULL },
	{ &r_methods, { .method = "get" }, "method", NULL },
	{ &r_methods, { .method = "GETX" }, "method", NULL },
	{ &r_methods, { .method = "GE" }, "method", NULL },

	/* host: exact, case-insensitive, port and trailing dot ignored */
	{ &r_host, { .host = "shop.example.com" }, OK },
	{ &r_host, { .host = "SHOP.Example.COM" }, OK },
	{ &r_host, { .host = "shop.example.com:8080" }, OK },
	{ &r_host, { .host = "shop.example.com." }, OK },
	{ &r_host, { .host = "shop.example.com.:443" }, OK },
	{ &r_host, { .host = "shop.example.co" }, "host", NULL },
	{ &r_host, { .host = "shop.example.comm" }, "host", NULL },
	{ &r_host, { .host = "a.shop.example.com" }, "host", NULL },
	{ &r_host, { .host = NULL }, "host", NULL },
	{ &r_host_dot, { .host = "shop.example.com" }, OK },
	{ &r_host_dot, { .host = "shop.example.com." }, OK },
	{ &r_host_v6, { .host = "[::1]:8080" }, OK },
	{ &r_host_v6, { .host = "[::1]" }, OK },
	{ &r_host_v6, { .host = "[::2]" }, "host", NULL },

	/* host wildcard "*.example.com" */
	{ &r_wild, { .host = "a.example.com" }, OK },
	{ &r_wild, { .host = "b.a.example.com" }, OK },
	{ &r_wild, { .host = "A.Example.Com:80" }, OK },
	{ &r_wild, { .host = "a.example.com." }, OK },
	{ &r_wild, { .host = "example.com" }, "host", NULL },
	{ &r_wild, { .host = ".example.com" }, "host", NULL },
	{ &r_wild, { .host = "aexample.com" }, "host", NULL },
	{ &r_wild, { .host = "a.example.org" }, "host", NULL },
	{ &r_wild, { .host = "a.example.com.evil" }, "host", NULL },

	/* headers: exact value, name case-insensitive */
	{ &r_hdr_exact, { .hdrs = { "X-Beta: 1" } }, OK },
	{ &r_hdr_exact, { .hdrs = { "x-beta: 1" } }, OK },
	{ &r_hdr_exact, { .hdrs = { "X-BETA: 1" } }, OK },
	{ &r_hdr_exact, { .hdrs = { "X-Beta: 10" } }, "header", "X-Beta" },
	{ &r_hdr_exact, { .hdrs = { "X-Beta: " } }, "header", "X-Beta" },
	{ &r_hdr_exact, { .hdrs = { "X-Betax: 1" } }, "header", "X-Beta" },
	{ &r_hdr_exact, { .hdrs = { NULL } }, "header", "X-Beta" },
	/* several occurrences: any may match */
	{ &r_hdr_exact, { .hdrs = { "X-Beta: 0", "X-Other: 1", "X-Beta: 1" } },
	    OK },
	{ &r_hdr_exact, { .hdrs = { "X-Beta: 0", "X-Beta: 2" } }, "header",
	    "X-Beta" },
	/* in */
	{ &r_hdr_in, { .hdrs = { "X-Tenant: acme" } }, OK },
	{ &r_hdr_in, { .hdrs = { "X-Tenant: globex" } }, OK },
	{ &r_hdr_in, { .hdrs = { "X-Tenant: ACME" } }, "header", "x-tenant" },
	{ &r_hdr_in, { .hdrs = { "X-Tenant: initech" } }, "header",
	    "x-tenant" },
	{ &r_hdr_in, { .hdrs = { "X-Tenant: initech", "X-Tenant: globex" } },
	    OK },
	/* present / absent */
	{ &r_hdr_present, { .hdrs = { "X-Debug: " } }, OK },
	{ &r_hdr_present, { .hdrs = { "x-debug: anything" } }, OK },
	{ &r_hdr_present, { .hdrs = { "X-Debugger: 1" } }, "header",
	    "X-Debug" },
	{ &r_hdr_absent, { .hdrs = { NULL } }, OK },
	{ &r_hdr_absent, { .hdrs = { "X-Other: 1" } }, OK },
	{ &r_hdr_absent, { .hdrs = { "x-legacy-only: 1" } }, "header",
	    "X-Legacy-Only" },
	{ &r_hdr_absent, { .hdrs = { "A: 1", "X-Legacy-Only: " } }, "header",
	    "X-Legacy-Only" },
	/* two conditions: the first one failing is named */
	{ &r_hdr_two, { .hdrs = { "X-Beta: 1", "X-Tenant: acme" } }, OK },
	{ &r_hdr_two, { .hdrs = { "X-Tenant: acme" } }, "header", "X-Beta" },
	{ &r_hdr_two, { .hdrs = { "X-Beta: 1" } }, "header", "X-Tenant" },

	/* cookies: every Cookie field, names exact */
	{ &r_ck_exact, { .hdrs = { "Cookie: beta=yes" } }, OK },
	{ &r_ck_exact, { .hdrs = { "Cookie: a=b; beta=yes; c=d" } }, OK },
	{ &r_ck_exact, { .hdrs = { "cookie: a=b;beta=yes" } }, OK },
	{ &r_ck_exact, { .hdrs = { "Cookie: a=b", "Cookie: beta=yes" } }, OK },
	{ &r_ck_exact, { .hdrs = { "Cookie: beta=no; beta=yes" } }, OK },
	{ &r_ck_exact, { .hdrs = { "Cookie: beta=no" } }, "cookie", "beta" },
	{ &r_ck_exact, { .hdrs = { "Cookie: Beta=yes" } }, "cookie", "beta" },
	{ &r_ck_exact, { .hdrs = { "Cookie: xbeta=yes" } }, "cookie", "beta" },
	{ &r_ck_exact, { .hdrs = { "Cookie: beta=yess" } }, "cookie", "beta" },
	{ &r_ck_exact, { .hdrs = { "Cookie: beta" } }, "cookie", "beta" },
	{ &r_ck_exact, { .hdrs = { "X-Cookie: beta=yes" } }, "cookie", "beta" },
	{ &r_ck_exact, { .hdrs = { NULL } }, "cookie", "beta" },
	{ &r_ck_present, { .hdrs = { "Cookie: session_id=abc" } }, OK },
	{ &r_ck_present, { .hdrs = { "Cookie: x=1; session_id=" } }, OK },
	{ &r_ck_present, { .hdrs = { "Cookie: session=abc" } }, "cookie",
	    "session_id" },
	{ &r_ck_absent, { .hdrs = { "Cookie: new=1" } }, OK },
	{ &r_ck_absent, { .hdrs = { NULL } }, OK },
	{ &r_ck_absent, { .hdrs = { "Cookie: new=1", "Cookie: old=1" } },
	    "cookie", "old" },

	/* query: decoded (%XX and '+') before comparing */
	{ &r_q_in, { .query = "preview=1" }, OK },
	{ &r_q_in, { .query = "a=2&preview=true&b" }, OK },
	{ &r_q_in, { .query = "preview=%31" }, OK },
	{ &r_q_in, { .query = "pre%76iew=%74rue" }, OK },
	{ &r_q_in, { .query = "preview=0&preview=1" }, OK },
	{ &r_q_in, { .query = "preview=2" }, "query", "preview" },
	{ &r_q_in, { .query = "preview" }, "query", "preview" },
	{ &r_q_in, { .query = "preview=" }, "query", "preview" },
	{ &r_q_in, { .query = "xpreview=1" }, "query", "preview" },
	{ &r_q_in, { .query = "" }, "query", "preview" },
	{ &r_q_in, { .query = "&&" }, "query", "preview" },
	{ &r_q_enc, { .query = "the+key=a+b%26c" }, OK },
	{ &r_q_enc, { .query = "the%20key=a%20b%26c" }, OK },
	{ &r_q_enc, { .query = "the+key=a+b&c" }, "query", "the key" },
	{ &r_q_enc, { .query = "the key=a b%26" }, "query", "the key" },
	{ &r_q_present, { .query = "debug" }, OK },
	{ &r_q_present, { .query = "x=1&debug=" }, OK },
	{ &r_q_present, { .query = "debugx=1" }, "query", "debug" },
	{ &r_q_absent, { .query = "a=1" }, OK },
	{ &r_q_absent, { .query = "a=1&nocache=1" }, "query", "nocache" },
	{ &r_q_absent, { .query = "no%63ache" }, "query", "nocache" },

	/* combined: reported in the order path, method, host, headers,
	 * cookies, query */
	{ &r_all,
	    { "GET", "/api/billing/x", "preview=1", "shop.example.com",
		{ "X-Beta: 1", "X-Tenant: acme", "Cookie: beta=yes" } },
	    OK },
	{ &r_all,
	    { "PUT", "/other", "", "nope", { NULL } }, "path", NULL },
	{ &r_all,
	    { "PUT", "/api/billing", "", "nope", { NULL } }, "method", NULL },
	{ &r_all,
	    { "POST", "/api/billing", "", "nope", { NULL } }, "host", NULL },
	{ &r_all,
	    { "POST", "/api/billing", "", "shop.example.com",
		{ "X-Tenant: acme" } },
	    "header", "X-Beta" },
	{ &r_all,
	    { "POST", "/api/billing", "", "shop.example.com",
		{ "X-Beta: 1", "X-Tenant: acme" } },
	    "cookie", "beta" },
	{ &r_all,
	    { "POST", "/api/billing", "preview=0", "shop.example.com",
		{ "X-Beta: 1", "X-Tenant: acme", "Cookie: beta=yes" } },
	    "query", "preview" },
};

static int
regex_setup(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(regex_routes); i++) {
		struct route_match *m = &regex_routes[i]->match;
		int err;
		PCRE2_SIZE off;
		pcre2_match_context *mctx;

		m->regex = pcre2_compile((PCRE2_SPTR)m->path,
		    PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED | PCRE2_ENDANCHORED,
		    &err, &off, NULL);
		assert_non_null(m->regex);
		mctx = pcre2_match_context_create(NULL);
		assert_non_null(mctx);
		pcre2_set_match_limit(mctx, 1000);
		pcre2_set_depth_limit(mctx, 1000);
		m->regex_mctx = mctx;
	}
	return 0;
}

static int
regex_teardown(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(regex_routes); i++) {
		struct route_match *m = &regex_routes[i]->match;

		pcre2_code_free(m->regex);
		pcre2_match_context_free(m->regex_mctx);
		m->regex = NULL;
		m->regex_mctx = NULL;
	}
	route_thread_cleanup();
	return 0;
}

static void
test_conditions_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cond_cases); i++) {
		const struct cond_case *c = &cond_cases[i];
		const char *failed = "unset", *detail = "unset";
		struct req_buf b;
		bool ok;

		build_req(&c->req, &b);
		ok = route_conditions_hold(c->route, &b.req, &failed, &detail);
		if (ok != (c->failed == NULL))
			fail_msg("case %zu (%s): holds %d, want %d (failed %s)",
			    i, c->route->name, ok, c->failed == NULL,
			    failed ? failed : "-");
		if (c->failed == NULL) {
			assert_null(failed);
			assert_null(detail);
			continue;
		}
		if (failed == NULL || strcmp(failed, c->failed) != 0)
			fail_msg("case %zu (%s): failed %s, want %s", i,
			    c->route->name, failed ? failed : "-", c->failed);
		if (c->detail == NULL)
			assert_null(detail);
		else if (detail == NULL || strcmp(detail, c->detail) != 0)
			fail_msg("case %zu (%s): detail %s, want %s", i,
			    c->route->name, detail ? detail : "-", c->detail);
	}
}

/* NULL out-pointers are allowed; `active` is not looked at. */
static void
test_conditions_null_out(void **state)
{
	struct req_desc d = { .path = "/api/billing/x" };
	struct route_conf r = r_prefix;
	struct req_buf b;

	(void)state;
	build_req(&d, &b);
	r.active = false;
	assert_true(route_conditions_hold(&r, &b.req, NULL, NULL));
	b.req.path = span("/x");
	assert_false(route_conditions_hold(&r, &b.req, NULL, NULL));
}

/* The slow case really hits the match limit (so "no match" is tested). */
static void
test_regex_limit(void **state)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	int rc;

	(void)state;
	assert_non_null(md);
	rc = pcre2_match(r_regex_slow.match.regex, (PCRE2_SPTR)SLOW_SUBJECT,
	    strlen(SLOW_SUBJECT), 0, 0, md, r_regex_slow.match.regex_mctx);
	assert_true(rc == PCRE2_ERROR_MATCHLIMIT ||
	    rc == PCRE2_ERROR_DEPTHLIMIT);
	pcre2_match_data_free(md);
}

/* A regex route without a compiled regex never matches. */
static void
test_regex_uncompiled(void **state)
{
	struct route_conf r = { .name = "r", .active = true,
		.match = { .path_kind = PATH_MATCH_REGEX, .path = "/.*" } };
	struct req_desc d = { .path = "/a" };
	struct req_buf b;

	(void)state;
	build_req(&d, &b);
	assert_false(route_conditions_hold(&r, &b.req, NULL, NULL));
}

/* ---- first match over a whole configuration */

static struct server_conf legacy_servers[] = {
	{ .address = "10.0.0.5:8080", .host = "10.0.0.5", .port = 8080,
	    .weight = 1 },
	{ .address = "10.0.0.6:8080", .host = "10.0.0.6", .port = 8080,
	    .weight = 1 },
};
static struct server_conf billing_servers[] = {
	{ .address = "billing.internal:9000", .weight = 1 },
	{ .address = "billing2.internal:9000", .weight = 2 },
};
static struct server_conf users_servers[] = {
	{ .address = "users.internal:9100", .weight = 3 },
};
static struct upstream_conf upstreams[] = {
	{ .name = "legacy", .servers = legacy_servers, .nservers = 2 },
	{ .name = "billing", .servers = billing_servers, .nservers = 2 },
	{ .name = "users", .servers = users_servers, .nservers = 1 },
	{ .name = "reports", .servers = users_servers, .nservers = 1 },
};

static char gone[] = "Gone: use /reports/\n";

/*
 * The routes of the explain example (SPEC 2, trimmed): `upstream` is left
 * NULL on purpose for some, as if the name had not been resolved yet, so
 * explain's own lookup is exercised too.
 */
static struct route_conf routes[] = {
	{ .name = "reports-v2", .active = false,
	    .match = { .path_kind = PATH_MATCH_PREFIX, .path = "/reports" },
	    .upstream_name = "reports" },
	{ .name = "billing", .active = true,
	    .match = { .path_kind = PATH_MATCH_PREFIX, .path = "/api/billing",
		.methods = methods_get_post, .nmethods = 2 },
	    .upstream_name = "billing", .upstream = &upstreams[1],
	    .rewrite = { REWRITE_STRIP_PREFIX, "/api", "/" } },
	{ .name = "users", .active = true,
	    .match = { .path_kind = PATH_MATCH_PREFIX, .path = "/api",
		.headers = hdr_in, .nheaders = 1 },
	    .upstream_name = "users",
	    .rewrite = { REWRITE_REPLACE_PREFIX, "/api/users", "/v2" },
	    /* on: [failure, 404, 501] (bits 404-100 and 501-100) */
	    .fallback = { .upstream_name = "legacy", .upstream = &upstreams[0],
		.on_failure = true,
		.on_status = { [38] = 0x01, [50] = 0x02 } } },
	{ .name = "retired-reports", .active = true,
	    .match = { .path_kind = PATH_MATCH_PREFIX, .path = "/reports/old" },
	    .has_respond = true,
	    .respond = { 410, gone, sizeof(gone) - 1, "text/plain" } },
	{ .name = "deleter", .active = true,
	    .match = { .methods = methods_delete, .nmethods = 1 },
	    .has_respond = true, .respond = { 405, NULL, 0, NULL } },
	{ .name = "everything-else", .active = true,
	    .match = { .path_kind = PATH_MATCH_PREFIX, .path = "/",
		.host = ".example.com", .host_wildcard = true },
	    .upstream_name = "legacy", .upstream = &upstreams[0] },
};

static struct config cfg = {
	.upstreams = upstreams,
	.nupstreams = NELEM(upstreams),
	.routes = routes,
	.nroutes = NELEM(routes),
};

struct first_case {
	struct req_desc req;
	const char *want;   /* route name, NULL: none */
	size_t nsteps;	    /* routes considered */
	const char *failed; /* of the step before the match (or the last) */
};

static const struct first_case first_cases[] = {
	{ { "GET", "/api/billing/x", NULL, "shop.example.com", { NULL } },
	    "billing", 2, "inactive" },
	{ { "DELETE", "/api/billing/x", NULL, "a.example.com", { NULL } },
	    "deleter", 5, "path" },
	{ { "PUT", "/api/users/1", NULL, "a.example.com",
	      { "X-Tenant: acme" } },
	    "users", 3, "path" },
	{ { "PUT", "/api/users/1", NULL, "a.example.com", { NULL } },
	    "everything-else", 6, "method" },
	/* the inactive route would match, and is skipped */
	{ { "GET", "/reports/x", NULL, "a.example.com", { NULL } },
	    "everything-else", 6, "method" },
	{ { "GET", "/reports/old/x", NULL, "a.example.com", { NULL } },
	    "retired-reports", 4, "path" },
	{ { "GET", "/x", NULL, "example.com", { NULL } }, NULL, 6, "host" },
	{ { "GET", "/x", NULL, NULL, { NULL } }, NULL, 6, "host" },
};

static void
test_first_match(void **state)
{
	struct route_step steps[NELEM(routes)];
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(first_cases); i++) {
		const struct first_case *c = &first_cases[i];
		struct route_trace trace = { steps, 0, NELEM(steps) };
		const struct route_conf *r;
		struct req_buf b;

		build_req(&c->req, &b);
		r = route_match(&cfg, &b.req, &trace);
		if (c->want == NULL)
			assert_null(r);
		else if (r == NULL || strcmp(r->name, c->want) != 0)
			fail_msg("case %zu: got %s want %s", i,
			    r ? r->name : "(none)", c->want);
		assert_int_equal(trace.nsteps, c->nsteps);
		/* every step recorded in order, from the first route */
		assert_ptr_equal(steps[0].route, &routes[0]);
		assert_false(steps[0].matched);
		assert_string_equal(steps[0].failed, "inactive");
		assert_ptr_equal(steps[c->nsteps - 1].route,
		    &routes[c->nsteps - 1]);
		assert_int_equal(steps[c->nsteps - 1].matched, c->want != NULL);
		if (c->want != NULL) {
			assert_null(steps[c->nsteps - 1].failed);
			assert_string_equal(steps[c->nsteps - 2].failed,
			    c->failed);
		} else
			assert_string_equal(steps[c->nsteps - 1].failed,
			    c->failed);
		/* without a trace, the same answer */
		assert_ptr_equal(route_match(&cfg, &b.req, NULL), r);
	}
}

/* A short trace records the first max_steps routes and no more. */
static void
test_trace_truncated(void **state)
{
	struct route_step steps[2];
	struct route_trace trace = { steps, 0, 2 };
	struct req_desc d = { "GET", "/x", NULL, "a.example.com", { NULL } };
	struct req_buf b;
	const struct route_conf *r;

	(void)state;
	build_req(&d, &b);
	r = route_match(&cfg, &b.req, &trace);
	assert_non_null(r);
	assert_string_equal(r->name, "everything-else");
	assert_int_equal(trace.nsteps, 2);
	assert_ptr_equal(steps[1].route, &routes[1]);
	assert_string_equal(steps[1].failed, "path");
}

static void
test_empty_config(void **state)
{
	struct config empty = { .nroutes = 0 };
	struct req_desc d = { .path = "/" };
	struct req_buf b;
	struct strbuf out;

	(void)state;
	build_req(&d, &b);
	assert_null(route_match(&empty, &b.req, NULL));
	strbuf_init(&out);
	assert_int_equal(route_explain(&empty, "GET", "/", NULL, 0, &out), 1);
	assert_string_equal(out.s, "request: GET / host=(none)\n"
				   "normalised path: /\n"
				   "no route matched (404)\n");
	strbuf_free(&out);
}

/* ---- explain */

struct explain_case {
	const char *method;
	const char *url;
	const char *hdrs[MAX_HDRS];
	int rc;
	const char *want; /* the whole output */
};

static const struct explain_case explain_cases[] = {
	/* a match, with a rewrite */
	{ "GET", "/api/billing/x?y=1", { "Host: shop.example.com" }, 0,
	    "request: GET /api/billing/x?y=1 host=shop.example.com\n"
	    "normalised path: /api/billing/x\n"
	    "route 1 \"reports-v2\": skipped (inactive)\n"
	    "route 2 \"billing\": MATCH\n"
	    "  upstream: billing (share 100%)\n"
	    "    server billing.internal:9000 weight 1 (33.3%)\n"
	    "    server billing2.internal:9000 weight 2 (66.7%)\n"
	    "  rewrite: strip_prefix /api -> /billing/x?y=1\n"
	    "  fallback: none\n" },
	/* the catch-all, no rewrite, normalised path, absolute URL sets host */
	{ "PUT", "http://Shop.Example.com:8080/api//billing/./x/%7e?y=%2F",
	    { "Host: ignored.invalid", "X-Tenant: initech" }, 0,
	    "request: PUT "
	    "http://Shop.Example.com:8080/api//billing/./x/%7e?y=%2F "
	    "host=Shop.Example.com:8080\n"
	    "normalised path: /api/billing/x/~\n"
	    "route 1 \"reports-v2\": skipped (inactive)\n"
	    "route 2 \"billing\": no match (method)\n"
	    "route 3 \"users\": no match (header x-tenant)\n"
	    "route 4 \"retired-reports\": no match (path)\n"
	    "route 5 \"deleter\": no match (method)\n"
	    "route 6 \"everything-else\": MATCH\n"
	    "  upstream: legacy (share 100%)\n"
	    "    server 10.0.0.5:8080 weight 1 (50%)\n"
	    "    server 10.0.0.6:8080 weight 1 (50%)\n"
	    "  rewrite: none -> /api/billing/x/~?y=%2F\n"
	    "  fallback: none\n" },
	/* replace_prefix; the upstream is found by name; empty query kept */
	{ "POST", "/api/users/7?", { "host: a.example.com", "x-tenant: acme" },
	    0,
	    "request: POST /api/users/7? host=a.example.com\n"
	    "normalised path: /api/users/7\n"
	    "route 1 \"reports-v2\": skipped (inactive)\n"
	    "route 2 \"billing\": no match (path)\n"
	    "route 3 \"users\": MATCH\n"
	    "  upstream: users (share 100%)\n"
	    "    server users.internal:9100 weight 3 (100%)\n"
	    "  rewrite: replace_prefix /api/users to /v2 -> /v2/7?\n"
	    "  fallback: legacy on failure, 404, 501\n" },
	/* a respond route; the inactive route's conditions hold */
	{ "GET", "/reports/old/2019", { "Host: a.example.com" }, 0,
	    "request: GET /reports/old/2019 host=a.example.com\n"
	    "normalised path: /reports/old/2019\n"
	    "route 1 \"reports-v2\": skipped (inactive)\n"
	    "  conditions hold (reachable through an override)\n"
	    "route 2 \"billing\": no match (path)\n"
	    "route 3 \"users\": no match (path)\n"
	    "route 4 \"retired-reports\": MATCH\n"
	    "  respond: 410 text/plain (20 bytes)\n" },
	{ "DELETE", "/x", { "Host: a.example.com" }, 0,
	    "request: DELETE /x host=a.example.com\n"
	    "normalised path: /x\n"
	    "route 1 \"reports-v2\": skipped (inactive)\n"
	    "route 2 \"billing\": no match (path)\n"
	    "route 3 \"users\": no match (path)\n"
	    "route 4 \"retired-reports\": no match (path)\n"
	    "route 5 \"deleter\": MATCH\n"
	    "  respond: 405 text/plain (0 bytes)\n" },
	/* no route */
	{ "GET", "/x", { "Host: example.com" }, 1,
	    "request: GET /x host=example.com\n"
	    "normalised path: /x\n"
	    "route 1 \"reports-v2\": skipped (inactive)\n"
	    "route 2 \"billing\": no match (path)\n"
	    "route 3 \"users\": no match (path)\n"
	    "route 4 \"retired-reports\": no match (path)\n"
	    "route 5 \"deleter\": no match (method)\n"
	    "route 6 \"everything-else\": no match (host)\n"
	    "no route matched (404)\n" },
	/* bad paths and targets */
	{ "GET", "/a/%2e%2e/%2e%2e/b", { NULL }, -1,
	    "request: GET /a/%2e%2e/%2e%2e/b host=(none)\n"
	    "bad path \"/a/%2e%2e/%2e%2e/b\": path climbs above / (400)\n" },
	{ "GET", "/a%zz", { NULL }, -1,
	    "request: GET /a%zz host=(none)\n"
	    "bad path \"/a%zz\": malformed percent-escape in path (400)\n" },
	{ "GET", "/a#b", { NULL }, -1,
	    "bad URL \"/a#b\": fragment in request target\n" },
	{ "GET", "http://u@h/", { NULL }, -1,
	    "bad URL \"http://u@h/\": userinfo in request target authority\n" },
	{ "OPTIONS", "*", { NULL }, -1,
	    "bad URL \"*\": asterisk-form is not routed\n" },
	{ "G ET", "/", { NULL }, -1, "bad method \"G ET\": not a token\n" },
	{ "GET", "/", { "Host: a", "NoColon" }, -1,
	    "bad header line 2 \"NoColon\": no ':'\n" },
	{ "GET", "/", { "Bad Name: x" }, -1,
	    "bad header line 1 \"Bad Name: x\": field name is not a token\n" },
	{ "GET", "/", { "X: a\r\nY: \"b\"" }, -1,
	    "bad header line 1 \"X: a\\x0d\\x0aY: \\\"b\\\"\": control "
	    "character in field value\n" },
	{ "GET", "/caf\xc3\xa9", { NULL }, -1,
	    "bad URL \"/caf\\xc3\\xa9\": byte outside visible ASCII in "
	    "request target\n" },
};

static void
test_explain_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(explain_cases); i++) {
		const struct explain_case *c = &explain_cases[i];
		struct strbuf out;
		size_t n;
		int rc;

		for (n = 0; n < MAX_HDRS && c->hdrs[n] != NULL; n++)
			;
		strbuf_init(&out);
		rc = route_explain(&cfg, c->method, c->url, c->hdrs, n, &out);
		if (rc != c->rc || out.s == NULL || strcmp(out.s, c->want) != 0)
			fail_msg("case %zu: rc %d want %d\n"
				 "--- got\n%s--- want\n%s",
			    i, rc, c->rc, out.s ? out.s : "(null)\n", c->want);
		strbuf_free(&out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conditions_table),
		cmocka_unit_test(test_conditions_null_out),
		cmocka_unit_test(test_regex_limit),
		cmocka_unit_test(test_regex_uncompiled),
		cmocka_unit_test(test_first_match),
		cmocka_unit_test(test_trace_truncated),
		cmocka_unit_test(test_empty_config),
		cmocka_unit_test(test_explain_table),
	};

	return cmocka_run_group_tests(tests, regex_setup, regex_teardown);
}
