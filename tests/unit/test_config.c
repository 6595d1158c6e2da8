/*
 * test_config: config_load_string() on YAML snippets. A full valid file
 * with every key, the defaults, upstream_defaults inheritance, the
 * resilience keys (breaker, retry, bulkhead, health_check, fallback: their
 * defaults, values, inheritance key by key), the correlation, access_log
 * and admin sections; then every error with its exact
 * "FILE:LINE:COL: message", and every warning.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cutover/conf_check.h"
#include "cutover/config.h"

#include <openssl/ssl.h>
#include "cutover/http_parse.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static struct config *load(const char *yaml, struct config_diag *d);
static void dump_diag(const struct config_diag *d);
static bool has_line(char **lines, size_t n, const char *want, bool prefix);
static char *tmpdir_make(void);
static void tmpdir_remove(char *dir);
static void write_file(const char *dir, const char *name, const char *text);
static void status_list(bool (*on)(const void *, int), const void *obj,
    char *buf, size_t size);
static bool retry_status_on(const void *obj, int s);
static bool fallback_status_on(const void *obj, int s);
static void assert_retry_statuses(const struct retry_params *p,
    const char *want);
static void assert_fallback_statuses(const struct fallback_conf *f,
    const char *want);
static void assert_resilience_defaults(const struct upstream_conf *u);

static void test_full(void **state);
static void test_defaults(void **state);
static void test_inheritance(void **state);
static void test_listeners(void **state);
static void test_resilience_defaults(void **state);
static void test_resilience_values(void **state);
static void test_resilience_inheritance(void **state);
static void test_health_check_inheritance(void **state);
static void test_retry_on(void **state);
static void test_fallback(void **state);
static void test_errors(void **state);
static void test_error_collect(void **state);
static void test_warnings(void **state);
static void test_no_warnings(void **state);
static void test_in_file(void **state);
static void test_sections(void **state);
static void test_section_forms(void **state);
static void test_access_log_files(void **state);
static void test_admin_token(void **state);
static void test_load_file(void **state);
static void test_no_dns(void **state);
static void test_refs(void **state);
static void test_distance(void **state);

static struct config *
load(const char *yaml, struct config_diag *d)
{
	config_diag_init(d);
	return config_load_string("t.yaml", yaml, strlen(yaml), d);
}

static void
dump_diag(const struct config_diag *d)
{
	for (size_t i = 0; i < d->nerrors; i++)
		print_message("  error: %s\n", d->errors[i]);
	for (size_t i = 0; i < d->nwarnings; i++)
		print_message("  warning: %s\n", d->warnings[i]);
}

static bool
has_line(char **lines, size_t n, const char *want, bool prefix)
{
	for (size_t i = 0; i < n; i++) {
		if (prefix ? strncmp(lines[i], want, strlen(want)) == 0 :
			     strcmp(lines[i], want) == 0)
			return true;
	}
	return false;
}

/* ---- the full file */

static const char full_yaml[] =
    "listeners:\n"
    "  - address: \"127.0.0.1:8080\"\n"
    "  - address: \"[::1]:8443\"\n"
    "workers: 3\n"
    "shutdown_timeout: 45s\n"
    "limits:\n"
    "  max_connections: 500\n"
    "  max_header_bytes: 16KiB\n"
    "  max_target_bytes: 4KiB\n"
    "  max_headers: 64\n"
    "  max_body_bytes: 1MiB\n"
    "client_timeouts:\n"
    "  header: 5s\n"
    "  body: 15s\n"
    "  send: 20s\n"
    "  idle: 90s\n"
    "upstream_defaults:\n"
    "  connect_timeout: 1s\n"
    "  response_timeout: 4s\n"
    "  read_timeout: 30s\n"
    "  request_timeout: 0\n"
    "  idle_timeout: 45s\n"
    "upstreams:\n"
    "  legacy:\n"
    "    servers:\n"
    "      - { address: \"127.0.0.1:9001\", weight: 3 }\n"
    "      - \"127.0.0.2:9001\"\n"
    "  billing:\n"
    "    servers: [ { address: \"[::1]:9002\" } ]\n"
    "    connect_timeout: 250ms\n"
    "    response_timeout: 5s\n"
    "    read_timeout: 6s\n"
    "    request_timeout: 7s\n"
    "    idle_timeout: 8s\n"
    "routes:\n"
    "  - name: billing\n"
    "    active: true\n"
    "    match:\n"
    "      path_prefix: /api/billing/\n"
    "      methods: [GET, POST]\n"
    "      host: Shop.Example.COM\n"
    "      headers:\n"
    "        X-Beta: \"1\"\n"
    "        X-Tenant: { in: [acme, globex] }\n"
    "        X-Debug: { present: true }\n"
    "        X-Old: { present: false }\n"
    "      cookies: { beta: \"yes\" }\n"
    "      query: { preview: 1 }\n"
    "    upstream: billing\n"
    "    rewrite: { strip_prefix: /api }\n"
    "  - name: orders\n"
    "    match: { path: /orders/, host: \"*.example.com\" }\n"
    "    upstream: legacy\n"
    "    rewrite: { replace_prefix: { from: /orders/, to: /v2/ } }\n"
    "  - name: ids\n"
    "    active: false\n"
    "    match: { path_regex: \"/id/[0-9]+\" }\n"
    "    upstream: billing\n"
    "  - name: retired\n"
    "    match: { path_prefix: /reports/old }\n"
    "    respond: { status: 410, body: \"Gone\\n\", content_type: "
    "text/html }\n"
    "  - name: everything-else\n"
    "    match: { path_prefix: / }\n"
    "    upstream: legacy\n"
    "watch: true\n";

static void
test_full(void **state)
{
	struct config_diag d;
	struct config *c;
	const struct route_conf *r;
	const struct upstream_conf *u;
	const struct sockaddr_in *sin;
	const struct sockaddr_in6 *sin6;

	(void)state;
	c = load(full_yaml, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_int_equal(d.nerrors, 0);
	assert_int_equal(d.nwarnings, 0);
	assert_string_equal(c->path, "t.yaml");
	assert_int_equal(atomic_load(&c->refs), 1);

	assert_int_equal(c->nlisteners, 2);
	assert_string_equal(c->listeners[0].address, "127.0.0.1:8080");
	sin = (const struct sockaddr_in *)&c->listeners[0].addr;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 8080);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(c->listeners[0].addrlen, sizeof(*sin));
	assert_false(c->listeners[0].any_address);
	assert_int_equal(c->listeners[0].mark.line, 2);
	assert_int_equal(c->listeners[0].mark.col, 5);
	sin6 = (const struct sockaddr_in6 *)&c->listeners[1].addr;
	assert_int_equal(sin6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(sin6->sin6_port), 8443);
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));

	assert_int_equal(c->workers, 3);
	assert_int_equal(c->shutdown_timeout_ms, 45000);
	assert_true(c->watch);
	assert_int_equal(c->limits.max_connections, 500);
	assert_int_equal(c->limits.max_header_bytes, 16384);
	assert_int_equal(c->limits.max_target_bytes, 4096);
	assert_int_equal(c->limits.max_headers, 64);
	assert_int_equal(c->limits.max_body_bytes, 1048576);
	assert_int_equal(c->client_timeouts.header_ms, 5000);
	assert_int_equal(c->client_timeouts.body_ms, 15000);
	assert_int_equal(c->client_timeouts.send_ms, 20000);
	assert_int_equal(c->client_timeouts.idle_ms, 90000);

	assert_int_equal(c->nupstreams, 2);
	u = config_upstream(c, "legacy");
	assert_ptr_equal(u, &c->upstreams[0]);
	assert_int_equal(u->index, 0);
	assert_int_equal(u->mark.line, 24);
	assert_int_equal(u->mark.col, 3);
	assert_int_equal(u->nservers, 2);
	assert_string_equal(u->servers[0].address, "127.0.0.1:9001");
	assert_string_equal(u->servers[0].host, "127.0.0.1");
	assert_int_equal(u->servers[0].port, 9001);
	assert_int_equal(u->servers[0].weight, 3);
	assert_string_equal(u->servers[1].address, "127.0.0.2:9001");
	assert_int_equal(u->servers[1].weight, 1);
	sin = (const struct sockaddr_in *)&u->servers[1].addr;
	assert_int_equal(ntohl(sin->sin_addr.s_addr), 0x7f000002);
	assert_int_equal(ntohs(sin->sin_port), 9001);
	assert_int_equal(u->connect_timeout_ms, 1000);
	assert_int_equal(u->response_timeout_ms, 4000);
	assert_int_equal(u->read_timeout_ms, 30000);
	assert_int_equal(u->request_timeout_ms, 0);
	assert_int_equal(u->idle_timeout_ms, 45000);
	u = config_upstream(c, "billing");
	assert_ptr_equal(u, &c->upstreams[1]);
	assert_int_equal(u->index, 1);
	assert_string_equal(u->servers[0].host, "::1");
	assert_int_equal(u->servers[0].port, 9002);
	assert_int_equal(u->servers[0].addr.ss_family, AF_INET6);
	assert_int_equal(u->connect_timeout_ms, 250);
	assert_int_equal(u->response_timeout_ms, 5000);
	assert_int_equal(u->read_timeout_ms, 6000);
	assert_int_equal(u->request_timeout_ms, 7000);
	assert_int_equal(u->idle_timeout_ms, 8000);
	assert_null(config_upstream(c, "nope"));

	assert_int_equal(c->nroutes, 5);
	r = &c->routes[0];
	assert_string_equal(r->name, "billing");
	assert_int_equal(r->index, 0);
	assert_int_equal(r->mark.line, 36);
	assert_int_equal(r->mark.col, 5);
	assert_true(r->active);
	assert_int_equal(r->match.path_kind, PATH_MATCH_PREFIX);
	assert_string_equal(r->match.path, "/api/billing");
	assert_null(r->match.regex);
	assert_int_equal(r->match.nmethods, 2);
	assert_string_equal(r->match.methods[0], "GET");
	assert_string_equal(r->match.methods[1], "POST");
	assert_string_equal(r->match.host, "shop.example.com");
	assert_false(r->match.host_wildcard);
	assert_int_equal(r->match.nheaders, 4);
	assert_string_equal(r->match.headers[0].name, "X-Beta");
	assert_int_equal(r->match.headers[0].kind, MATCH_EXACT);
	assert_int_equal(r->match.headers[0].nvalues, 1);
	assert_string_equal(r->match.headers[0].values[0], "1");
	assert_int_equal(r->match.headers[0].mark.line, 43);
	assert_string_equal(r->match.headers[1].name, "X-Tenant");
	assert_int_equal(r->match.headers[1].kind, MATCH_IN);
	assert_int_equal(r->match.headers[1].nvalues, 2);
	assert_string_equal(r->match.headers[1].values[0], "acme");
	assert_string_equal(r->match.headers[1].values[1], "globex");
	assert_int_equal(r->match.headers[2].kind, MATCH_PRESENT);
	assert_true(r->match.headers[2].present);
	assert_int_equal(r->match.headers[3].kind, MATCH_PRESENT);
	assert_false(r->match.headers[3].present);
	assert_int_equal(r->match.ncookies, 1);
	assert_string_equal(r->match.cookies[0].name, "beta");
	assert_string_equal(r->match.cookies[0].values[0], "yes");
	assert_int_equal(r->match.nquery, 1);
	assert_string_equal(r->match.query[0].name, "preview");
	assert_string_equal(r->match.query[0].values[0], "1");
	assert_string_equal(r->upstream_name, "billing");
	assert_ptr_equal(r->upstream, config_upstream(c, "billing"));
	assert_int_equal(r->upstream_mark.line, 49);
	assert_int_equal(r->upstream_mark.col, 15);
	assert_int_equal(r->rewrite.kind, REWRITE_STRIP_PREFIX);
	assert_string_equal(r->rewrite.from, "/api");
	assert_string_equal(r->rewrite.to, "/");
	assert_false(r->has_respond);

	r = &c->routes[1];
	assert_string_equal(r->name, "orders");
	assert_int_equal(r->match.path_kind, PATH_MATCH_EXACT);
	assert_string_equal(r->match.path, "/orders/"); /* exact: kept */
	assert_string_equal(r->match.host, ".example.com");
	assert_true(r->match.host_wildcard);
	assert_int_equal(r->match.nmethods, 0);
	assert_null(r->match.methods);
	assert_ptr_equal(r->upstream, &c->upstreams[0]);
	assert_int_equal(r->rewrite.kind, REWRITE_REPLACE_PREFIX);
	assert_string_equal(r->rewrite.from, "/orders");
	assert_string_equal(r->rewrite.to, "/v2");

	r = &c->routes[2];
	assert_false(r->active);
	assert_int_equal(r->match.path_kind, PATH_MATCH_REGEX);
	assert_string_equal(r->match.path, "/id/[0-9]+");
	assert_non_null(r->match.regex);
	assert_non_null(r->match.regex_mctx);
	assert_int_equal(r->rewrite.kind, REWRITE_NONE);

	r = &c->routes[3];
	assert_true(r->has_respond);
	assert_null(r->upstream_name);
	assert_null(r->upstream);
	assert_int_equal(r->respond.status, 410);
	assert_string_equal(r->respond.body, "Gone\n");
	assert_int_equal(r->respond.body_len, 5);
	assert_string_equal(r->respond.content_type, "text/html");
	assert_int_equal(r->upstream_mark.line, 0);

	r = &c->routes[4];
	assert_int_equal(r->match.path_kind, PATH_MATCH_PREFIX);
	assert_string_equal(r->match.path, "/");

	config_unref(c);
	config_diag_free(&d);
}

static void
test_defaults(void **state)
{
	static const char yaml[] =
	    "listeners: [ { address: \"127.0.0.1:8080\" } ]\n"
	    "upstreams: { legacy: { servers: [ \"127.0.0.1:9001\" ] } }\n"
	    "routes:\n"
	    "  - { name: all, upstream: legacy }\n"
	    "  - name: gone\n"
	    "    match:\n"
	    "    respond: { status: 404 }\n";
	struct config_diag d;
	struct config *c;
	const struct upstream_conf *u;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	(void)state;
	c = load(yaml, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_int_equal(c->workers, ncpu < 1 ? 1 : ncpu > 256 ? 256 : ncpu);
	assert_int_equal(c->shutdown_timeout_ms, 30000);
	assert_false(c->watch);
	assert_int_equal(c->limits.max_connections, 10000);
	assert_int_equal(c->limits.max_header_bytes, 32768);
	assert_int_equal(c->limits.max_target_bytes, 8192);
	assert_int_equal(c->limits.max_headers, 100);
	assert_int_equal(c->limits.max_body_bytes, 0);
	assert_int_equal(c->client_timeouts.header_ms, 10000);
	assert_int_equal(c->client_timeouts.body_ms, 30000);
	assert_int_equal(c->client_timeouts.send_ms, 60000);
	assert_int_equal(c->client_timeouts.idle_ms, 60000);
	u = &c->upstreams[0];
	assert_int_equal(u->connect_timeout_ms, 2000);
	assert_int_equal(u->response_timeout_ms, 10000);
	assert_int_equal(u->read_timeout_ms, 60000);
	assert_int_equal(u->request_timeout_ms, 30000);
	assert_int_equal(u->idle_timeout_ms, 60000);
	assert_int_equal(u->servers[0].weight, 1);
	/* No match key, and an empty one: match everything. */
	for (size_t i = 0; i < 2; i++) {
		const struct route_match *m = &c->routes[i].match;

		assert_true(c->routes[i].active);
		assert_int_equal(m->path_kind, PATH_MATCH_ANY);
		assert_null(m->path);
		assert_null(m->host);
		assert_int_equal(m->nmethods + m->nheaders + m->ncookies +
			m->nquery,
		    0);
	}
	assert_int_equal(c->routes[1].respond.status, 404);
	assert_null(c->routes[1].respond.body);
	assert_int_equal(c->routes[1].respond.body_len, 0);
	assert_string_equal(c->routes[1].respond.content_type, "text/plain");
	/* Sections that are absent take their defaults; admin stays off. */
	assert_string_equal(c->correlation.header, "X-Request-ID");
	assert_true(c->correlation.accept_incoming);
	assert_int_equal(c->correlation.generate, REQID_GEN_UUID7);
	assert_true(c->correlation.echo);
	assert_true(c->correlation.traceparent);
	assert_true(c->access_log.enabled);
	assert_true(c->access_log.to_stdout);
	assert_null(c->access_log.path);
	assert_int_equal(c->access_log.format, ACCESS_LOG_JSON);
	assert_false(c->admin.enabled);
	assert_null(c->admin.address);
	assert_int_equal(c->admin.addrlen, 0);
	assert_null(c->admin.token_file);
	assert_null(c->admin.token);
	assert_int_equal(d.nwarnings, 1); /* "gone" is behind "all" */
	config_unref(c);
	config_diag_free(&d);
}

static void
test_inheritance(void **state)
{
	static const char yaml[] =
	    "listeners: [ { address: \"127.0.0.1:8080\" } ]\n"
	    "upstream_defaults: { connect_timeout: 3s, request_timeout: 0 }\n"
	    "upstreams:\n"
	    "  a: { servers: [ \"127.0.0.1:1\" ] }\n"
	    "  b: { servers: [ \"127.0.0.1:2\" ], connect_timeout: 100ms,\n"
	    "       idle_timeout: 5m }\n"
	    "routes:\n"
	    "  - { name: x, match: { path_prefix: /x }, upstream: b }\n"
	    "  - { name: all, upstream: a }\n";
	struct config_diag d;
	struct config *c;

	(void)state;
	c = load(yaml, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_int_equal(c->upstreams[0].connect_timeout_ms, 3000);
	assert_int_equal(c->upstreams[0].request_timeout_ms, 0);
	assert_int_equal(c->upstreams[0].response_timeout_ms, 10000);
	assert_int_equal(c->upstreams[0].idle_timeout_ms, 60000);
	assert_int_equal(c->upstreams[1].connect_timeout_ms, 100);
	assert_int_equal(c->upstreams[1].request_timeout_ms, 0);
	assert_int_equal(c->upstreams[1].idle_timeout_ms, 300000);
	assert_int_equal(c->upstreams[1].read_timeout_ms, 60000);
	assert_int_equal(d.nwarnings, 0);
	config_unref(c);
	config_diag_free(&d);
}

static void
test_listeners(void **state)
{
	static const char yaml[] =
	    "listeners:\n"
	    "  - address: \"*:8080\"\n"
	    "  - address: \":8081\"\n"
	    "  - address: \"localhost:8082\"\n"
	    "routes: [ { name: r, respond: { status: 204 } } ]\n";
	struct config_diag d;
	struct config *c;

	(void)state;
	c = load(yaml, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_int_equal(c->nlisteners, 3);
	for (size_t i = 0; i < 2; i++) {
		const struct listener_conf *l = &c->listeners[i];

		assert_true(l->any_address);
		if (l->addr.ss_family == AF_INET6) {
			const struct sockaddr_in6 *s6 = (const void *)&l->addr;

			assert_true(IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr));
			assert_int_equal(ntohs(s6->sin6_port), 8080 + i);
		} else {
			const struct sockaddr_in *s4 = (const void *)&l->addr;

			assert_int_equal(l->addr.ss_family, AF_INET);
			assert_int_equal(s4->sin_addr.s_addr, INADDR_ANY);
			assert_int_equal(ntohs(s4->sin_port), 8080 + i);
		}
	}
	assert_false(c->listeners[2].any_address);
	assert_string_equal(c->listeners[2].address, "localhost:8082");
	/* A respond-only file has no catch-all to an upstream. */
	assert_int_equal(d.nwarnings, 1);
	config_unref(c);
	config_diag_free(&d);
}

/* ---- errors: each case is a whole file and one exact message */

#define OK_HEAD "listeners: [ { address: \"127.0.0.1:8080\" } ]\n"
#define ONE_UPS                                                              \
	"upstreams: { legacy: { servers: [ \"127.0.0.1:9001\" ] } }\n"         \
	"routes: [ { name: all, upstream: legacy } ]\n"
#define OK_UPS                                                               \
	"upstreams:\n"                                                       \
	"  legacy: { servers: [ \"127.0.0.1:9001\" ] }\n"                    \
	"  billing: { servers: [ \"127.0.0.1:9002\" ] }\n"

/*
 * The resilience keys, one per case, at known columns: breaker keys at
 * 2:33, retry keys at 2:31, upstream_defaults keys at 2:22, keys of one
 * upstream at 2:47, its health_check keys at 2:63, and a route's fallback
 * value at 5:50.
 */
#define DEF(kv) "upstream_defaults: { " kv " }\n"
#define DEF_BREAKER(kv) "upstream_defaults: { breaker: { " kv " } }\n"
#define DEF_RETRY(kv) "upstream_defaults: { retry: { " kv " } }\n"
#define UPS_A(kv)                                                            \
	"upstreams: { a: { servers: [ \"127.0.0.1:1\" ], " kv " } }\n"
#define UPS_HC(kv) UPS_A("health_check: { " kv " }")
#define FALLBACK(v)                                                          \
	OK_UPS "routes: [ { name: a, upstream: legacy, fallback: " v " } ]\n"
#define DURATION_GOT "expected a duration such as \"5s\", got "
#define WHOLE_S "(must be a whole number of seconds, at least 1s)"
#define RETRY_ON_GOT                                                         \
	"expected connect-failure, reset, timeout, 429 or a status from "     \
	"500 to 599, got "
#define FALLBACK_ON_GOT                                                      \
	"expected unavailable, failure or a status from 400 to 599, got "

struct error_case {
	const char *what;
	const char *yaml;
	const char *error;
	size_t nerrors; /* exact count, or 0 for "at least one" */
	bool prefix;	/* `error` is a prefix (resolver messages vary) */
};

static const struct error_case errors[] = {
	{ "unknown key, did you mean", OK_HEAD "workrs: 2\n",
	    "t.yaml:2:1: unknown key \"workrs\" (did you mean \"workers\"?)",
	    1, false },
	{ "unknown key, no suggestion", OK_HEAD "colour: blue\n",
	    "t.yaml:2:1: unknown key \"colour\"", 1, false },
	{ "unknown nested key", OK_HEAD "limits: { max_header: 1KiB }\n",
	    "t.yaml:2:11: unknown key \"max_header\" (did you mean "
	    "\"max_headers\"?)",
	    1, false },
	{ "unknown upstream key", OK_HEAD
	    "upstreams: { a: { servers: [ \"127.0.0.1:1\" ], conect_timeout: 1s } }\n",
	    "t.yaml:2:47: unknown key \"conect_timeout\" (did you mean "
	    "\"connect_timeout\"?)",
	    1, false },
	{ "watch: not a boolean", OK_HEAD "watch: sometimes\n",
	    "t.yaml:2:8: expected", 1, true },
	{ "listener tls: empty",
	    "listeners: [ { address: \"127.0.0.1:8443\", tls: {} } ]\n",
	    "t.yaml:1:48: missing required key \"certificates\"", 1, false },
	{ "listener tls: no certificate",
	    "listeners: [ { address: \"127.0.0.1:8443\", tls: { certificates: [] } } ]\n",
	    "t.yaml:1:64: tls needs at least one certificate", 1, false },
	{ "listener tls: min_version",
	    "listeners: [ { address: \"127.0.0.1:8443\", tls: { min_version: TLSv1.1, "
	    "certificates: [ { cert: a.crt, key: a.key } ] } } ]\n",
	    "t.yaml:1:63: expected TLSv1.2 or TLSv1.3, got \"TLSv1.1\"", 1, false },
	{ "listener tls: certificate not a mapping",
	    "listeners: [ { address: \"127.0.0.1:8443\", tls: { certificates: [ a.crt ] } } ]\n",
	    "t.yaml:1:66: expected a certificate: { cert: FILE, key: FILE }", 1,
	    false },
	{ "listener tls: certificate without its key",
	    "listeners: [ { address: \"127.0.0.1:8443\", tls: { certificates: "
	    "[ { cert: a.crt } ] } } ]\n",
	    "t.yaml:1:66: missing required key \"key\"", 1, false },
	{ "listener tls: certificate file missing",
	    "listeners: [ { address: \"127.0.0.1:8443\", tls: { certificates: "
	    "[ { cert: /nonexistent/a.crt, key: /nonexistent/a.key } ] } } ]\n",
	    "t.yaml:1:66: cannot load certificate \"/nonexistent/a.crt\": ", 1,
	    true },
	{ "upstream tls: verify not a boolean", OK_HEAD
	    "upstreams: { legacy: { servers: [ \"127.0.0.1:9001\" ], tls: { verify: maybe } } }\n"
	    "routes: [ { name: all, upstream: legacy } ]\n",
	    "t.yaml:2:70: expected true or false, got \"maybe\"", 1, false },
	{ "upstream tls: sni not a host name", OK_HEAD
	    "upstreams: { legacy: { servers: [ \"127.0.0.1:9001\" ], tls: { sni: \"a b\" } } }\n"
	    "routes: [ { name: all, upstream: legacy } ]\n",
	    "t.yaml:2:67: sni \"a b\" is not a host name", 1, false },
	{ "upstream tls: ca missing", OK_HEAD
	    "upstreams: { legacy: { servers: [ \"127.0.0.1:9001\" ], tls: { ca: /nonexistent/ca.pem } } }\n"
	    "routes: [ { name: all, upstream: legacy } ]\n",
	    "t.yaml:2:66: cannot read ca \"/nonexistent/ca.pem\": No such file or directory",
	    1, false },
	{ "tls in upstream defaults (it is per upstream)", OK_HEAD
	    "upstream_defaults: { tls: {} }\n",
	    "t.yaml:2:22: unknown key \"tls\"", 1, true },
	{ "split: empty", OK_HEAD
	    "routes: [ { name: a, split: [] } ]\n",
	    "t.yaml:2:29: a split takes 1 to 64 targets", 0, false },
	{ "split: unknown upstream", OK_HEAD OK_UPS
	    "routes: [ { name: a, split: [ { upstream: legacy }, "
	    "{ upstream: biling } ] } ]\n",
	    "t.yaml:5:65: unknown upstream \"biling\" (did you mean \"billing\"?)",
	    1, false },
	{ "split: twice the same upstream", OK_HEAD OK_UPS
	    "routes: [ { name: a, split: [ { upstream: legacy }, "
	    "{ upstream: legacy } ] } ]\n",
	    "t.yaml:5:65: upstream \"legacy\" is in this split twice", 1, false },
	{ "split: every weight 0", OK_HEAD OK_UPS
	    "routes: [ { name: a, split: [ { upstream: legacy, weight: 0 } ] } ]\n",
	    "t.yaml:5:43: every weight of this split is 0", 1, false },
	{ "split: weight too large", OK_HEAD OK_UPS
	    "routes: [ { name: a, split: [ { upstream: legacy, weight: 10001 } ] } ]\n",
	    "t.yaml:5:59: expected a whole number from 0 to 10000, got \"10001\"",
	    1, false },
	{ "split: target without upstream", OK_HEAD OK_UPS
	    "routes: [ { name: a, split: [ { weight: 1 } ] } ]\n",
	    "t.yaml:5:31: missing required key \"upstream\"", 1, false },
	{ "split and upstream", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, split: [ { upstream: billing } ] } ]\n",
	    "t.yaml:5:47: a route takes exactly one of \"upstream\", \"split\" and "
	    "\"respond\"", 1, false },
	{ "sticky without split", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, sticky: { cookie: s } } ]\n",
	    "t.yaml:5:48: \"sticky\" needs a route with a \"split\"", 1, false },
	{ "sticky with cookie and header", OK_HEAD OK_UPS
	    "routes: [ { name: a, split: [ { upstream: legacy } ], "
	    "sticky: { cookie: s, header: X-U } } ]\n",
	    "t.yaml:5:63: sticky takes exactly one of \"cookie\" and \"header\"",
	    1, false },
	{ "sticky with neither", OK_HEAD OK_UPS
	    "routes: [ { name: a, split: [ { upstream: legacy } ], sticky: {} } ]\n",
	    "t.yaml:5:63: sticky takes exactly one of \"cookie\" and \"header\"",
	    1, false },
	{ "override with a bad range", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, override: "
	    "{ allow_from: [ 10.0.0.0/33 ] } } ]\n",
	    "t.yaml:5:66: expected an address range such as \"10.0.0.0/8\", got "
	    "\"10.0.0.0/33\" (prefix over 32 for an IPv4 address)", 1, false },
	{ "sticky split without a name (found by fuzz_config)", OK_HEAD OK_UPS
	    "routes: [ { split: [ { upstream: legacy } ], sticky: { cookie: s } } ]\n",
	    "t.yaml:5:11: missing required key \"name\"", 1, false },
	{ "shadow: not a mapping", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, shadow: billing } ]\n",
	    "t.yaml:5:48: expected a mapping", 1, true },
	{ "shadow: no upstream", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, shadow: {} } ]\n",
	    "t.yaml:5:48: missing required key \"upstream\"", 1, false },
	{ "shadow: unknown upstream", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, shadow: { upstream: biling } } ]\n",
	    "t.yaml:5:60: unknown shadow upstream \"biling\" (did you mean "
	    "\"billing\"?)", 1, false },
	{ "shadow: on a respond route", OK_HEAD OK_UPS
	    "routes: [ { name: a, respond: { status: 410 }, "
	    "shadow: { upstream: billing } } ]\n",
	    "t.yaml:5:56: \"shadow\" needs a route with an \"upstream\" or a "
	    "\"split\"", 1, false },
	{ "shadow: percent over 100", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, "
	    "shadow: { upstream: billing, percent: 101 } } ]\n",
	    "t.yaml:5:78: expected a percentage from 0 to 100 such as \"100\" or "
	    "\"0.5\", got \"101\"", 1, true },
	{ "shadow: percent not a number", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, "
	    "shadow: { upstream: billing, percent: half } } ]\n",
	    "t.yaml:5:78: expected a percentage from 0 to 100 such as \"100\" or "
	    "\"0.5\", got \"half\"", 1, true },
	{ "shadow: unknown method", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, "
	    "shadow: { upstream: billing, methods: [GET, FETCH] } } ]\n",
	    "t.yaml:5:84: expected one of GET, HEAD, POST, PUT, DELETE, OPTIONS, "
	    "PATCH, got \"FETCH\"", 1, false },
	{ "shadow: no methods", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, "
	    "shadow: { upstream: billing, methods: [] } } ]\n",
	    "t.yaml:5:78: expected a non-empty list of methods", 1, false },
	{ "shadow: max_inflight 0", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, "
	    "shadow: { upstream: billing, max_inflight: 0 } } ]\n",
	    "t.yaml:5:83: expected a whole number from 1 to 100000, got \"0\"", 1,
	    false },
	{ "shadow: max_body too large", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, "
	    "shadow: { upstream: billing, max_body: 1GiB } } ]\n",
	    "t.yaml:5:79: expected a size such as \"64KiB\", got \"1GiB\" (at most 64MiB)", 1, false },
	{ "shadow: compare not a mapping", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, "
	    "shadow: { upstream: billing, compare: [Date] } } ]\n",
	    "t.yaml:5:78: expected a mapping", 1, true },
	{ "shadow: bad JSON field path", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, "
	    "shadow: { upstream: billing, compare: { ignore_json_fields: [a..b] } } } ]\n",
	    "t.yaml:5:101: expected a JSON field path such as \"generated_at\" or "
	    "\"items.id\", got \"a..b\"", 1, true },
	{ "shadow: bad header name", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, "
	    "shadow: { upstream: billing, compare: { ignore_headers: [\"a b\"] } } } ]\n",
	    "t.yaml:5:97: expected a header name such as \"Date\", got \"a b\"", 1,
	    false },
	{ "shadow: unknown key", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, "
	    "shadow: { upstream: billing, percnt: 5 } } ]\n",
	    "t.yaml:5:69: unknown key \"percnt\" (did you mean \"percent\"?)", 1,
	    false },

	/* breaker */
	{ "breaker: mode typo", OK_HEAD DEF_BREAKER("mode: dryrun"),
	    "t.yaml:2:39: expected \"enforce\" or \"dry_run\", got \"dryrun\" "
	    "(did you mean \"dry_run\"?)",
	    1, false },
	{ "breaker: mode unknown", OK_HEAD DEF_BREAKER("mode: off"),
	    "t.yaml:2:39: expected \"enforce\" or \"dry_run\", got \"off\"", 1,
	    false },
	{ "breaker: mode not a scalar", OK_HEAD DEF_BREAKER("mode: [a]"),
	    "t.yaml:2:39: expected \"enforce\" or \"dry_run\"", 1, false },
	{ "breaker: consecutive_failures 0", OK_HEAD
	    DEF_BREAKER("consecutive_failures: 0"),
	    "t.yaml:2:55: expected a whole number from 1 to 1000000, got \"0\"",
	    1, false },
	{ "breaker: consecutive_failures word", OK_HEAD
	    DEF_BREAKER("consecutive_failures: five"),
	    "t.yaml:2:55: expected a whole number from 1 to 1000000, got "
	    "\"five\"",
	    1, false },
	{ "breaker: failure_rate above 100%", OK_HEAD
	    DEF_BREAKER("failure_rate: 150%"),
	    "t.yaml:2:47: expected a ratio such as \"50%\", got \"150%\" (above "
	    "100%)",
	    1, false },
	{ "breaker: failure_rate just above 100%", OK_HEAD
	    DEF_BREAKER("failure_rate: 100.01%"),
	    "t.yaml:2:47: expected a ratio such as \"50%\", got \"100.01%\" "
	    "(above 100%)",
	    1, false },
	{ "breaker: failure_rate without %", OK_HEAD
	    DEF_BREAKER("failure_rate: 50"),
	    "t.yaml:2:47: expected a ratio such as \"50%\", got \"50\" (missing "
	    "'%')",
	    1, false },
	{ "breaker: window not whole seconds", OK_HEAD
	    DEF_BREAKER("window: 1500ms"),
	    "t.yaml:2:41: " DURATION_GOT "\"1500ms\" " WHOLE_S, 1, false },
	{ "breaker: window 0", OK_HEAD DEF_BREAKER("window: 0"),
	    "t.yaml:2:41: " DURATION_GOT "\"0\" " WHOLE_S, 1, false },
	{ "breaker: window below 1s", OK_HEAD DEF_BREAKER("window: 500ms"),
	    "t.yaml:2:41: " DURATION_GOT "\"500ms\" " WHOLE_S, 1, false },
	{ "breaker: window above an hour", OK_HEAD DEF_BREAKER("window: 61m"),
	    "t.yaml:2:41: " DURATION_GOT "\"61m\" (at most 3600s)", 1, false },
	{ "breaker: window without unit", OK_HEAD DEF_BREAKER("window: 10"),
	    "t.yaml:2:41: " DURATION_GOT "\"10\" (no unit: use ms, s, m or h)",
	    1, false },
	{ "breaker: min_requests 0", OK_HEAD DEF_BREAKER("min_requests: 0"),
	    "t.yaml:2:47: expected a whole number from 1 to 1000000, got \"0\"",
	    1, false },
	{ "breaker: slow_call bad duration", OK_HEAD
	    DEF_BREAKER("slow_call: 2secs"),
	    "t.yaml:2:44: " DURATION_GOT "\"2secs\" (unknown unit: use ms, s, "
	    "m or h)",
	    1, false },
	{ "breaker: slow_call_rate above 100%", OK_HEAD
	    DEF_BREAKER("slow_call_rate: 101%"),
	    "t.yaml:2:49: expected a ratio such as \"50%\", got \"101%\" (above "
	    "100%)",
	    1, false },
	{ "breaker: open_for 0", OK_HEAD DEF_BREAKER("open_for: 0"),
	    "t.yaml:2:43: " DURATION_GOT "\"0\" (must be more than 0)", 1,
	    false },
	{ "breaker: open_for bad duration", OK_HEAD
	    DEF_BREAKER("open_for: 5sec"),
	    "t.yaml:2:43: " DURATION_GOT "\"5sec\" (unknown unit: use ms, s, m "
	    "or h)",
	    1, false },
	{ "breaker: max_open_for 0", OK_HEAD DEF_BREAKER("max_open_for: 0"),
	    "t.yaml:2:47: " DURATION_GOT "\"0\" (must be more than 0)", 1,
	    false },
	{ "breaker: open_jitter not a ratio", OK_HEAD
	    DEF_BREAKER("open_jitter: 0.2"),
	    "t.yaml:2:46: expected a ratio such as \"50%\", got \"0.2\" (missing "
	    "'%')",
	    1, false },
	{ "breaker: half_open_probes 65", OK_HEAD
	    DEF_BREAKER("half_open_probes: 65"),
	    "t.yaml:2:51: expected a whole number from 1 to 64, got \"65\"", 1,
	    false },
	{ "breaker: half_open_probes 0", OK_HEAD
	    DEF_BREAKER("half_open_probes: 0"),
	    "t.yaml:2:51: expected a whole number from 1 to 64, got \"0\"", 1,
	    false },
	{ "breaker: half_open_successes 0", OK_HEAD
	    DEF_BREAKER("half_open_successes: 0"),
	    "t.yaml:2:54: expected a whole number from 1 to 1000, got \"0\"", 1,
	    false },
	{ "breaker: half_open_successes 1001", OK_HEAD
	    DEF_BREAKER("half_open_successes: 1001"),
	    "t.yaml:2:54: expected a whole number from 1 to 1000, got \"1001\"",
	    1, false },
	{ "breaker: unknown key", OK_HEAD
	    DEF_BREAKER("consecutive_failure: 3"),
	    "t.yaml:2:33: unknown key \"consecutive_failure\" (did you mean "
	    "\"consecutive_failures\"?)",
	    1, false },
	{ "breaker: not a mapping", OK_HEAD DEF("breaker: 5"),
	    "t.yaml:2:31: expected a mapping", 1, false },
	{ "breaker: in an upstream", OK_HEAD
	    UPS_A("breaker: { window: 1500ms }"),
	    "t.yaml:2:66: " DURATION_GOT "\"1500ms\" " WHOLE_S, 1, false },
	{ "breaker: max_open_for below open_for", OK_HEAD
	    UPS_A("breaker: { open_for: 10s, max_open_for: 5s }"),
	    "t.yaml:2:14: upstream \"a\": breaker.max_open_for (5000ms) is less "
	    "than breaker.open_for (10000ms)",
	    1, false },
	{ "breaker: open_for above the default max_open_for", OK_HEAD
	    DEF_BREAKER("open_for: 121s")
	    "upstreams: { a: { servers: [ \"127.0.0.1:1\" ] } }\n",
	    "t.yaml:3:14: upstream \"a\": breaker.max_open_for (120000ms) is "
	    "less than breaker.open_for (121000ms)",
	    1, false },

	/* retry */
	{ "retry: attempts 0", OK_HEAD DEF_RETRY("attempts: 0"),
	    "t.yaml:2:41: expected a whole number from 1 to 10, got \"0\"", 1,
	    false },
	{ "retry: attempts 11", OK_HEAD DEF_RETRY("attempts: 11"),
	    "t.yaml:2:41: expected a whole number from 1 to 10, got \"11\"", 1,
	    false },
	{ "retry: on 200", OK_HEAD DEF_RETRY("on: [reset, 200]"),
	    "t.yaml:2:43: " RETRY_ON_GOT "\"200\"", 1, false },
	{ "retry: on bogus", OK_HEAD DEF_RETRY("on: [bogus]"),
	    "t.yaml:2:36: " RETRY_ON_GOT "\"bogus\"", 1, false },
	{ "retry: on 600", OK_HEAD DEF_RETRY("on: [600]"),
	    "t.yaml:2:36: " RETRY_ON_GOT "\"600\"", 1, false },
	{ "retry: on 399", OK_HEAD DEF_RETRY("on: [399]"),
	    "t.yaml:2:36: " RETRY_ON_GOT "\"399\"", 1, false },
	{ "retry: on 404, a success that is never retried",
	    OK_HEAD DEF_RETRY("on: [404]"),
	    "t.yaml:2:36: " RETRY_ON_GOT "\"404\"", 1, false },
	{ "retry: on a kind with the wrong spelling", OK_HEAD
	    DEF_RETRY("on: [connect_failure]"),
	    "t.yaml:2:36: " RETRY_ON_GOT "\"connect_failure\"", 1, false },
	{ "retry: on two bad items", OK_HEAD DEF_RETRY("on: [200, timeout, x]"),
	    "t.yaml:2:50: " RETRY_ON_GOT "\"x\"", 2, false },
	{ "retry: on not a list", OK_HEAD DEF_RETRY("on: timeout"),
	    "t.yaml:2:35: expected a list", 1, false },
	{ "retry: on item not a scalar", OK_HEAD DEF_RETRY("on: [[502]]"),
	    "t.yaml:2:36: expected connect-failure, reset, timeout, 429 or a status",
	    1, false },
	{ "retry: backoff without unit", OK_HEAD DEF_RETRY("backoff: 25"),
	    "t.yaml:2:40: " DURATION_GOT "\"25\" (no unit: use ms, s, m or h)",
	    1, false },
	{ "retry: max_backoff bad unit", OK_HEAD DEF_RETRY("max_backoff: 1x"),
	    "t.yaml:2:44: " DURATION_GOT "\"1x\" (unknown unit: use ms, s, m or "
	    "h)",
	    1, false },
	{ "retry: budget above 100%", OK_HEAD DEF_RETRY("budget: 120%"),
	    "t.yaml:2:39: expected a ratio such as \"50%\", got \"120%\" (above "
	    "100%)",
	    1, false },
	{ "retry: budget_window not whole seconds", OK_HEAD
	    DEF_RETRY("budget_window: 1500ms"),
	    "t.yaml:2:46: " DURATION_GOT "\"1500ms\" " WHOLE_S, 1, false },
	{ "retry: budget_window 0", OK_HEAD DEF_RETRY("budget_window: 0"),
	    "t.yaml:2:46: " DURATION_GOT "\"0\" " WHOLE_S, 1, false },
	{ "retry: min_retries_per_second negative", OK_HEAD
	    DEF_RETRY("min_retries_per_second: -1"),
	    "t.yaml:2:55: expected a whole number from 0 to 1000000, got \"-1\"",
	    1, false },
	{ "retry: buffer_body above 64MiB", OK_HEAD
	    DEF_RETRY("buffer_body: 65MiB"),
	    "t.yaml:2:44: expected a size such as \"64KiB\", got \"65MiB\" (at "
	    "most 64MiB)",
	    1, false },
	{ "retry: buffer_body one byte above 64MiB", OK_HEAD
	    DEF_RETRY("buffer_body: 67108865"),
	    "t.yaml:2:44: expected a size such as \"64KiB\", got \"67108865\" (at "
	    "most 64MiB)",
	    1, false },
	{ "retry: buffer_body bad unit", OK_HEAD DEF_RETRY("buffer_body: 64KB"),
	    "t.yaml:2:44: expected a size such as \"64KiB\", got \"64KB\" "
	    "(unknown unit: use KiB, MiB or GiB)",
	    1, false },
	{ "retry: unknown key", OK_HEAD DEF_RETRY("attempt: 3"),
	    "t.yaml:2:31: unknown key \"attempt\" (did you mean \"attempts\"?)",
	    1, false },
	{ "retry: max_backoff below backoff", OK_HEAD
	    UPS_A("retry: { max_backoff: 10ms }"),
	    "t.yaml:2:14: upstream \"a\": retry.max_backoff (10ms) is less than "
	    "retry.backoff (25ms)",
	    1, false },

	/* bulkhead */
	{ "max_connections 0", OK_HEAD DEF("max_connections: 0"),
	    "t.yaml:2:39: expected a whole number from 1 to 1000000, got \"0\"",
	    1, false },
	{ "max_connections in an upstream too large", OK_HEAD
	    UPS_A("max_connections: 1000001"),
	    "t.yaml:2:64: expected a whole number from 1 to 1000000, got "
	    "\"1000001\"",
	    1, false },
	{ "max_pending not a number", OK_HEAD DEF("max_pending: x"),
	    "t.yaml:2:35: expected a whole number from 0 to 1000000, got \"x\"",
	    1, false },
	{ "pending_timeout 0", OK_HEAD DEF("pending_timeout: 0"),
	    "t.yaml:2:39: " DURATION_GOT "\"0\" (must be more than 0)", 1,
	    false },
	{ "pending_timeout bad duration", OK_HEAD
	    UPS_A("pending_timeout: half"),
	    "t.yaml:2:64: " DURATION_GOT "\"half\" (not a number)", 1, false },

	/* health_check */
	{ "health_check: path without slash", OK_HEAD UPS_HC("path: healthz"),
	    "t.yaml:2:69: expected a path starting with \"/\", got \"healthz\"",
	    1, false },
	{ "health_check: path with a query", OK_HEAD
	    UPS_HC("path: \"/h?x=1\""),
	    "t.yaml:2:69: a path may not contain spaces, control bytes, '?' or "
	    "'#'",
	    1, false },
	{ "health_check: interval 0", OK_HEAD UPS_HC("interval: 0"),
	    "t.yaml:2:73: " DURATION_GOT "\"0\" (must be more than 0)", 1,
	    false },
	{ "health_check: timeout without unit", OK_HEAD UPS_HC("timeout: 1"),
	    "t.yaml:2:72: " DURATION_GOT "\"1\" (no unit: use ms, s, m or h)", 1,
	    false },
	{ "health_check: healthy 0", OK_HEAD UPS_HC("healthy: 0"),
	    "t.yaml:2:72: expected a whole number from 1 to 1000, got \"0\"", 1,
	    false },
	{ "health_check: unhealthy 1001", OK_HEAD UPS_HC("unhealthy: 1001"),
	    "t.yaml:2:74: expected a whole number from 1 to 1000, got \"1001\"",
	    1, false },
	{ "health_check: unknown key", OK_HEAD UPS_HC("intervall: 5s"),
	    "t.yaml:2:63: unknown key \"intervall\" (did you mean "
	    "\"interval\"?)",
	    1, false },
	{ "health_check: not a mapping", OK_HEAD UPS_A("health_check: true"),
	    "t.yaml:2:61: expected a mapping", 1, false },
	{ "health_check: timeout longer than interval", OK_HEAD
	    UPS_HC("interval: 1s, timeout: 2s"),
	    "t.yaml:2:14: upstream \"a\": health_check.timeout (2000ms) is "
	    "longer than health_check.interval (1000ms)",
	    1, false },
	{ "health_check: default timeout longer than interval", OK_HEAD
	    UPS_HC("interval: 500ms"),
	    "t.yaml:2:14: upstream \"a\": health_check.timeout (1000ms) is "
	    "longer than health_check.interval (500ms)",
	    1, false },
	/* The defaults' check, with the upstream's interval. */
	{ "health_check: inherited timeout longer than interval", OK_HEAD
	    DEF("health_check: { path: /ready, timeout: 2s }")
	    "upstreams: { a: { servers: [ \"127.0.0.1:1\" ], health_check: { "
	    "interval: 1s } } }\n",
	    "t.yaml:3:14: upstream \"a\": health_check.timeout (2000ms) is "
	    "longer than health_check.interval (1000ms)",
	    1, false },

	/* fallback */
	{ "fallback: unknown upstream, did you mean", OK_HEAD
	    FALLBACK("biling"),
	    "t.yaml:5:50: unknown fallback upstream \"biling\" (did you mean "
	    "\"billing\"?)",
	    1, false },
	{ "fallback: unknown upstream", OK_HEAD FALLBACK("payments"),
	    "t.yaml:5:50: unknown fallback upstream \"payments\"", 1, false },
	{ "fallback: unknown upstream, long form", OK_HEAD
	    FALLBACK("{ upstream: legasy }"),
	    "t.yaml:5:62: unknown fallback upstream \"legasy\" (did you mean "
	    "\"legacy\"?)",
	    1, false },
	{ "fallback: the route's own upstream", OK_HEAD FALLBACK("legacy"),
	    "t.yaml:5:50: fallback \"legacy\" is the route's own upstream", 1,
	    false },
	{ "fallback: the route's own upstream, long form", OK_HEAD
	    FALLBACK("{ upstream: legacy, on: [failure] }"),
	    "t.yaml:5:62: fallback \"legacy\" is the route's own upstream", 1,
	    false },
	{ "fallback: on a respond route", OK_HEAD OK_UPS
	    "routes: [ { name: a, respond: { status: 503 }, fallback: legacy } "
	    "]\n",
	    "t.yaml:5:58: \"fallback\" needs a route with an \"upstream\"", 1,
	    false },
	{ "fallback: mapping without upstream", OK_HEAD
	    FALLBACK("{ on: [failure] }"),
	    "t.yaml:5:50: missing required key \"upstream\"", 1, false },
	{ "fallback: empty mapping", OK_HEAD FALLBACK("{}"),
	    "t.yaml:5:50: missing required key \"upstream\"", 1, false },
	{ "fallback: upstream key typo", OK_HEAD
	    FALLBACK("{ upstrem: billing }"),
	    "t.yaml:5:52: unknown key \"upstrem\" (did you mean \"upstream\"?)",
	    1, false },
	{ "fallback: upstream null", OK_HEAD FALLBACK("{ upstream: ~ }"),
	    "t.yaml:5:62: expected an upstream name", 1, false },
	{ "fallback: null", OK_HEAD FALLBACK("~"),
	    "t.yaml:5:50: expected an upstream name", 1, false },
	{ "fallback: a list", OK_HEAD FALLBACK("[billing]"),
	    "t.yaml:5:50: expected an upstream name or a mapping with "
	    "\"upstream\"",
	    1, false },
	{ "fallback: on maybe", OK_HEAD
	    FALLBACK("{ upstream: billing, on: [maybe] }"),
	    "t.yaml:5:76: " FALLBACK_ON_GOT "\"maybe\"", 1, false },
	{ "fallback: on 200", OK_HEAD
	    FALLBACK("{ upstream: billing, on: [200] }"),
	    "t.yaml:5:76: " FALLBACK_ON_GOT "\"200\"", 1, false },
	{ "fallback: on 600", OK_HEAD
	    FALLBACK("{ upstream: billing, on: [failure, 600] }"),
	    "t.yaml:5:85: " FALLBACK_ON_GOT "\"600\"", 1, false },
	{ "fallback: on a retry kind", OK_HEAD
	    FALLBACK("{ upstream: billing, on: [timeout] }"),
	    "t.yaml:5:76: " FALLBACK_ON_GOT "\"timeout\"", 1, false },
	{ "fallback: on empty", OK_HEAD FALLBACK("{ upstream: billing, on: [] }"),
	    "t.yaml:5:75: expected a non-empty list", 1, false },
	{ "fallback: on not a list", OK_HEAD
	    FALLBACK("{ upstream: billing, on: failure }"),
	    "t.yaml:5:75: expected a list", 1, false },
	{ "fallback: on item not a scalar", OK_HEAD
	    FALLBACK("{ upstream: billing, on: [{ a: 1 }] }"),
	    "t.yaml:5:76: expected unavailable, failure or a status", 1, false },

	/* correlation */
	{ "correlation: bad bool", OK_HEAD "correlation: { echo: yes }\n",
	    "t.yaml:2:22: expected true or false, got \"yes\"", 1, false },
	{ "correlation: bad bool accept_incoming", OK_HEAD
	    "correlation:\n  accept_incoming: 1\n",
	    "t.yaml:3:20: expected true or false, got \"1\"", 1, false },
	{ "correlation: bad bool traceparent", OK_HEAD
	    "correlation: { traceparent: [] }\n",
	    "t.yaml:2:29: expected true or false", 1, false },
	{ "correlation: generate, did you mean", OK_HEAD
	    "correlation: { generate: uuidv7 }\n",
	    "t.yaml:2:26: expected \"uuid4\" or \"uuid7\", got \"uuidv7\" (did "
	    "you mean \"uuid7\"?)",
	    1, false },
	{ "correlation: generate, no suggestion", OK_HEAD
	    "correlation: { generate: snowflake }\n",
	    "t.yaml:2:26: expected \"uuid4\" or \"uuid7\", got \"snowflake\"", 1,
	    false },
	{ "correlation: generate not a scalar", OK_HEAD
	    "correlation: { generate: { a: 1 } }\n",
	    "t.yaml:2:26: expected \"uuid4\" or \"uuid7\"", 1, false },
	{ "correlation: header not a token", OK_HEAD
	    "correlation: { header: \"X Request\" }\n",
	    "t.yaml:2:24: expected a header name (an HTTP token such as "
	    "\"X-Request-ID\"), got \"X Request\"",
	    1, false },
	{ "correlation: header empty", OK_HEAD "correlation: { header: \"\" }\n",
	    "t.yaml:2:24: expected a header name (an HTTP token such as "
	    "\"X-Request-ID\"), got \"\"",
	    1, false },
	{ "correlation: header null", OK_HEAD "correlation: { header: ~ }\n",
	    "t.yaml:2:24: expected a header name such as \"X-Request-ID\"", 1,
	    false },
	{ "correlation: header with a colon", OK_HEAD
	    "correlation: { header: \"X-ID:\" }\n",
	    "t.yaml:2:24: expected a header name (an HTTP token such as "
	    "\"X-Request-ID\"), got \"X-ID:\"",
	    1, false },
	{ "correlation: framing header", OK_HEAD
	    "correlation: { header: content-length }\n",
	    "t.yaml:2:24: header \"content-length\" cannot carry the request ID: "
	    "cutover manages it itself",
	    1, false },
	{ "correlation: traceparent header", OK_HEAD
	    "correlation: { header: Traceparent }\n",
	    "t.yaml:2:24: header \"Traceparent\" cannot carry the request ID: "
	    "cutover manages it itself",
	    1, false },
	{ "correlation: unknown key", OK_HEAD
	    "correlation: { generat: uuid4 }\n",
	    "t.yaml:2:16: unknown key \"generat\" (did you mean \"generate\"?)",
	    1, false },
	{ "correlation: not a mapping", OK_HEAD "correlation: [ a ]\n",
	    "t.yaml:2:14: expected a mapping", 1, false },

	/* access_log */
	{ "access_log: format not json", OK_HEAD
	    "access_log: { format: text }\n",
	    "t.yaml:2:23: expected \"json\", got \"text\"", 1, false },
	{ "access_log: format is case-sensitive", OK_HEAD
	    "access_log: { format: JSON }\n",
	    "t.yaml:2:23: expected \"json\", got \"JSON\"", 1, false },
	{ "access_log: format typo", OK_HEAD "access_log: { format: jsno }\n",
	    "t.yaml:2:23: expected \"json\", got \"jsno\" (did you mean "
	    "\"json\"?)",
	    1, false },
	{ "access_log: missing directory", OK_HEAD
	    "access_log: { path: /nonexistent-cutover-dir/access.log }\n",
	    "t.yaml:2:21: cannot use access_log directory "
	    "\"/nonexistent-cutover-dir\": No such file or directory",
	    1, false },
	{ "access_log: directory is a file", OK_HEAD
	    "access_log: { path: /dev/null/access.log }\n",
	    "t.yaml:2:21: cannot use access_log directory \"/dev/null\": Not a "
	    "directory",
	    1, false },
	{ "access_log: path is a directory", OK_HEAD
	    "access_log: { path: /tmp }\n",
	    "t.yaml:2:21: access_log path \"/tmp\" is a directory", 1, false },
	{ "access_log: path ends with a slash", OK_HEAD
	    "access_log: { path: /nonexistent-cutover-dir/ }\n",
	    "t.yaml:2:21: access_log path \"/nonexistent-cutover-dir/\" is a "
	    "directory",
	    1, false },
	{ "access_log: path null", OK_HEAD "access_log: { path: ~ }\n",
	    "t.yaml:2:21: expected a file path, \"stdout\" or \"off\"", 1,
	    false },
	{ "access_log: unknown key", OK_HEAD "access_log: { fromat: json }\n",
	    "t.yaml:2:15: unknown key \"fromat\" (did you mean \"format\"?)", 1,
	    false },
	{ "access_log: not a mapping", OK_HEAD "access_log: stdout\n",
	    "t.yaml:2:13: expected a mapping", 1, false },

	/* admin */
	{ "admin: address without port", OK_HEAD
	    "admin: { address: \"127.0.0.1\" }\n",
	    "t.yaml:2:19: invalid admin address \"127.0.0.1\": expected "
	    "\"HOST:PORT\"",
	    1, false },
	{ "admin: port 0", OK_HEAD "admin: { address: \"127.0.0.1:0\" }\n",
	    "t.yaml:2:19: invalid admin address \"127.0.0.1:0\": the port must "
	    "be a number from 1 to 65535",
	    1, false },
	{ "admin: IPv6 without brackets", OK_HEAD
	    "admin: { address: \"::1:9901\" }\n",
	    "t.yaml:2:19: invalid admin address \"::1:9901\": put IPv6 addresses "
	    "in brackets, as in \"[::1]:8080\"",
	    1, false },
	{ "admin: address null", OK_HEAD "admin: { address: ~ }\n",
	    "t.yaml:2:19: expected an address such as \"127.0.0.1:9901\"", 1,
	    false },
	{ "admin: same address as a listener", OK_HEAD
	    "admin: { address: \"127.0.0.1:8080\" }\n",
	    "t.yaml:2:19: admin address \"127.0.0.1:8080\" is the same address "
	    "as the listener at 1:14",
	    1, false },
	{ "admin: default address is a listener's",
	    "listeners:\n  - address: \"127.0.0.1:8080\"\n"
	    "  - address: \"127.0.0.1:9901\"\nadmin:\n",
	    "t.yaml:4:1: admin address \"127.0.0.1:9901\" is the same address "
	    "as the listener at 3:5",
	    1, false },
	{ "admin: overlaps a wildcard listener",
	    "listeners: [ { address: \"*:8080\" } ]\n"
	    "admin: { address: \"127.0.0.1:8080\" }\n",
	    "t.yaml:2:19: admin address \"127.0.0.1:8080\" overlaps the listener "
	    "\"*:8080\" at 1:14 (same port, one of them on every address)",
	    1, false },
	{ "admin: wildcard overlaps a listener", OK_HEAD
	    "admin: { address: \"0.0.0.0:8080\" }\n",
	    "t.yaml:2:19: admin address \"0.0.0.0:8080\" overlaps the listener "
	    "\"127.0.0.1:8080\" at 1:14 (same port, one of them on every "
	    "address)",
	    1, false },
	{ "admin: token_file missing", OK_HEAD
	    "admin: { token_file: /nonexistent-cutover.token }\n",
	    "t.yaml:2:22: cannot read token_file \"/nonexistent-cutover.token\": "
	    "No such file or directory",
	    1, false },
	{ "admin: token_file relative to the config", OK_HEAD
	    "admin: { token_file: nonexistent-cutover.token }\n",
	    "t.yaml:2:22: cannot read token_file "
	    "\"./nonexistent-cutover.token\": No such file or directory",
	    1, false },
	{ "admin: token_file a directory", OK_HEAD
	    "admin: { token_file: /tmp }\n",
	    "t.yaml:2:22: cannot read token_file \"/tmp\": Is a directory", 1,
	    false },
	{ "admin: token_file null", OK_HEAD "admin: { token_file: }\n",
	    "t.yaml:2:22: expected a file name", 1, false },
	{ "admin: unknown key, did you mean", OK_HEAD
	    "admin: { adress: \"127.0.0.1:9901\" }\n",
	    "t.yaml:2:10: unknown key \"adress\" (did you mean \"address\"?)", 1,
	    false },
	{ "admin: unknown key", OK_HEAD "admin: { token: abc }\n",
	    "t.yaml:2:10: unknown key \"token\"", 1, false },
	{ "admin: not a mapping", OK_HEAD "admin: \"127.0.0.1:9901\"\n",
	    "t.yaml:2:8: expected a mapping", 1, false },

	/* types */
	{ "limits not a mapping", OK_HEAD "limits: [ 1 ]\n",
	    "t.yaml:2:9: expected a mapping", 1, false },
	{ "top level not a mapping", "- a\n", "t.yaml:1:1: expected a mapping",
	    1, false },
	{ "listeners not a list", "listeners: { address: \"127.0.0.1:1\" }\n",
	    "t.yaml:1:12: expected a list", 1, false },
	{ "routes not a list", OK_HEAD "routes: { a: 1 }\n",
	    "t.yaml:2:9: expected a list", 1, false },
	{ "route not a mapping", OK_HEAD "routes: [ a ]\n",
	    "t.yaml:2:11: expected a mapping", 1, false },
	{ "bad duration: no unit", OK_HEAD "shutdown_timeout: 5\n",
	    "t.yaml:2:19: expected a duration such as \"5s\", got \"5\" (no "
	    "unit: use ms, s, m or h)",
	    1, false },
	{ "bad duration: unit", OK_HEAD "client_timeouts: { idle: 5sec }\n",
	    "t.yaml:2:26: expected a duration such as \"5s\", got \"5sec\" "
	    "(unknown unit: use ms, s, m or h)",
	    1, false },
	{ "bad duration: overflow", OK_HEAD
	    "shutdown_timeout: 99999999999999999999h\n",
	    "t.yaml:2:19: expected a duration such as \"5s\", got "
	    "\"99999999999999999999h\" (too large)",
	    1, false },
	{ "bad duration: zero", OK_HEAD
	    "upstream_defaults: { connect_timeout: 0 }\n",
	    "t.yaml:2:39: expected a duration such as \"5s\", got \"0\" (must be "
	    "more than 0)",
	    1, false },
	{ "duration not a scalar", OK_HEAD "shutdown_timeout: [5s]\n",
	    "t.yaml:2:19: expected a duration such as \"5s\"", 1, false },
	{ "bad size", OK_HEAD "limits: { max_body_bytes: 1MB }\n",
	    "t.yaml:2:27: expected a size such as \"64KiB\", got \"1MB\" (unknown "
	    "unit: use KiB, MiB or GiB)",
	    1, false },
	{ "size above max", OK_HEAD "limits: { max_header_bytes: 2MiB }\n",
	    "t.yaml:2:29: expected a size such as \"64KiB\", got \"2MiB\" (at "
	    "most 1MiB)",
	    1, false },
	{ "target above header", OK_HEAD
	    "limits: { max_header_bytes: 4KiB, max_target_bytes: 8KiB }\n",
	    "t.yaml:2:53: max_target_bytes (8192) is larger than "
	    "max_header_bytes (4096)",
	    1, false },
	{ "bad integer", OK_HEAD "limits: { max_headers: 1.5 }\n",
	    "t.yaml:2:24: expected a whole number from 1 to 1000, got \"1.5\"",
	    1, false },
	{ "integer too large", OK_HEAD "limits: { max_headers: 1001 }\n",
	    "t.yaml:2:24: expected a whole number from 1 to 1000, got \"1001\"",
	    1, false },
	{ "integer not a scalar", OK_HEAD "limits: { max_connections: {} }\n",
	    "t.yaml:2:28: expected a whole number from 1 to 1000000", 1, false },
	{ "workers 0", OK_HEAD "workers: 0\n",
	    "t.yaml:2:10: expected \"auto\" or a number from 1 to 256, got \"0\"",
	    1, false },
	{ "workers 257", OK_HEAD "workers: 257\n",
	    "t.yaml:2:10: expected \"auto\" or a number from 1 to 256, got "
	    "\"257\"",
	    1, false },
	{ "workers word", OK_HEAD "workers: many\n",
	    "t.yaml:2:10: expected \"auto\" or a number from 1 to 256, got "
	    "\"many\"",
	    1, false },
	{ "bool yes", OK_HEAD OK_UPS
	    "routes: [ { name: a, active: yes, upstream: legacy } ]\n",
	    "t.yaml:5:30: expected true or false, got \"yes\"", 1, false },
	{ "bool not scalar", OK_HEAD OK_UPS
	    "routes: [ { name: a, active: [], upstream: legacy } ]\n",
	    "t.yaml:5:30: expected true or false", 1, false },
	{ "weight 0", OK_HEAD
	    "upstreams: { a: { servers: [ { address: \"127.0.0.1:1\", weight: 0 } ] } }\n",
	    "t.yaml:2:64: expected a whole number from 1 to 1000, got \"0\"", 1,
	    false },
	{ "weight 1001", OK_HEAD
	    "upstreams: { a: { servers: [ { address: \"127.0.0.1:1\", weight: 1001 } ] } }\n",
	    "t.yaml:2:64: expected a whole number from 1 to 1000, got \"1001\"",
	    1, false },

	/* listeners */
	{ "no listeners key", "workers: 1\n",
	    "t.yaml:1:1: missing required key \"listeners\"", 1, false },
	{ "empty file", "", "t.yaml:1:1: missing required key \"listeners\"", 1,
	    false },
	{ "empty listeners", "listeners: []\n",
	    "t.yaml:1:12: at least one listener is required", 1, false },
	{ "listener without address", "listeners: [ {} ]\n",
	    "t.yaml:1:14: missing required key \"address\"", 1, false },
	{ "listener address typo", "listeners: [ { adress: \"127.0.0.1:1\" } ]\n",
	    "t.yaml:1:16: unknown key \"adress\" (did you mean \"address\"?)", 1,
	    false },
	{ "listener no port", "listeners: [ { address: \"127.0.0.1\" } ]\n",
	    "t.yaml:1:25: invalid listener address \"127.0.0.1\": expected "
	    "\"HOST:PORT\"",
	    1, false },
	{ "listener bad port", "listeners: [ { address: \"127.0.0.1:99999\" } ]\n",
	    "t.yaml:1:25: invalid listener address \"127.0.0.1:99999\": the port "
	    "must be a number from 1 to 65535",
	    1, false },
	{ "listener port 0", "listeners: [ { address: \"127.0.0.1:0\" } ]\n",
	    "t.yaml:1:25: invalid listener address \"127.0.0.1:0\": the port "
	    "must be a number from 1 to 65535",
	    1, false },
	{ "listener bare v6", "listeners: [ { address: \"::1:80\" } ]\n",
	    "t.yaml:1:25: invalid listener address \"::1:80\": put IPv6 "
	    "addresses in brackets, as in \"[::1]:8080\"",
	    1, false },
	{ "listener bad bracket", "listeners: [ { address: \"[::1\" } ]\n",
	    "t.yaml:1:25: invalid listener address \"[::1\": expected "
	    "\"[ADDRESS]:PORT\"",
	    1, false },
	{ "listener bad v6", "listeners: [ { address: \"[::zz]:80\" } ]\n",
	    "t.yaml:1:25: cannot resolve listener address \"[::zz]:80\": ", 1,
	    true },
	{ "listener twice",
	    "listeners:\n  - address: \"127.0.0.1:80\"\n"
	    "  - address: \"127.0.0.1:80\"\n",
	    "t.yaml:3:5: listener \"127.0.0.1:80\" is the same address as the "
	    "one at 2:5",
	    1, false },

	/* upstreams and servers */
	{ "upstream without servers", OK_HEAD "upstreams: { a: {} }\n",
	    "t.yaml:2:17: missing required key \"servers\"", 1, false },
	{ "upstream with no server", OK_HEAD "upstreams: { a: { servers: [] } }\n",
	    "t.yaml:2:28: upstream \"a\" needs at least one server", 1, false },
	{ "upstream bad name", OK_HEAD
	    "upstreams: { \"a b\": { servers: [ \"127.0.0.1:1\" ] } }\n",
	    "t.yaml:2:14: an upstream name may contain only letters, digits, "
	    "'.', '_' and '-'",
	    1, false },
	{ "server not a string or mapping", OK_HEAD
	    "upstreams: { a: { servers: [ [1] ] } }\n",
	    "t.yaml:2:30: expected a server: \"HOST:PORT\" or { address: "
	    "\"HOST:PORT\", weight: N }",
	    1, false },
	{ "server wildcard", OK_HEAD "upstreams: { a: { servers: [ \"*:80\" ] } }\n",
	    "t.yaml:2:30: invalid server address \"*:80\": expected \"HOST:PORT\"",
	    1, false },
	{ "server no port", OK_HEAD
	    "upstreams: { a: { servers: [ { address: \"10.0.0.1\" } ] } }\n",
	    "t.yaml:2:41: invalid server address \"10.0.0.1\": expected "
	    "\"HOST:PORT\"",
	    1, false },
	{ "server unresolvable", OK_HEAD
	    "upstreams: { a: { servers: [ \"no-such-host.invalid:80\" ] } }\n",
	    "t.yaml:2:30: cannot resolve server address "
	    "\"no-such-host.invalid:80\": ",
	    1, true },

	/* routes */
	{ "route without name", OK_HEAD OK_UPS "routes: [ { upstream: legacy } ]\n",
	    "t.yaml:5:11: missing required key \"name\"", 1, false },
	{ "route name typo", OK_HEAD OK_UPS
	    "routes: [ { nmae: a, upstream: legacy } ]\n",
	    "t.yaml:5:13: unknown key \"nmae\" (did you mean \"name\"?)", 1,
	    false },
	{ "route bad name", OK_HEAD OK_UPS
	    "routes: [ { name: \"a/b\", upstream: legacy } ]\n",
	    "t.yaml:5:19: a route name may contain only letters, digits, '.', "
	    "'_' and '-'",
	    1, false },
	{ "duplicate route names", OK_HEAD OK_UPS
	    "routes:\n"
	    "  - { name: a, match: { path: /a }, upstream: legacy }\n"
	    "  - { name: a, match: { path: /b }, upstream: billing }\n",
	    "t.yaml:7:13: duplicate route name \"a\" (first at 6:5)", 1, false },
	{ "unknown upstream, did you mean", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: biling } ]\n",
	    "t.yaml:5:32: unknown upstream \"biling\" (did you mean "
	    "\"billing\"?)",
	    1, false },
	{ "unknown upstream", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: payments } ]\n",
	    "t.yaml:5:32: unknown upstream \"payments\"", 1, false },
	{ "upstream and respond", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, respond: { status: 200 } } "
	    "]\n",
	    "t.yaml:5:49: a route takes exactly one of \"upstream\", \"split\" "
	    "and \"respond\"",
	    1, false },
	{ "neither upstream nor respond", OK_HEAD "routes: [ { name: a } ]\n",
	    "t.yaml:2:11: a route needs \"upstream\", \"split\" or \"respond\"", 1,
	    false },
	{ "rewrite on respond", OK_HEAD
	    "routes: [ { name: a, respond: { status: 200 }, rewrite: { "
	    "strip_prefix: / } } ]\n",
	    "t.yaml:2:57: \"rewrite\" needs a route with an \"upstream\"", 1,
	    false },
	{ "respond without status", OK_HEAD
	    "routes: [ { name: a, respond: { body: x } } ]\n",
	    "t.yaml:2:31: missing required key \"status\"", 1, false },
	{ "respond status 99", OK_HEAD
	    "routes: [ { name: a, respond: { status: 99 } } ]\n",
	    "t.yaml:2:41: expected a whole number from 100 to 599, got \"99\"", 1,
	    false },
	{ "respond status 600", OK_HEAD
	    "routes: [ { name: a, respond: { status: 600 } } ]\n",
	    "t.yaml:2:41: expected a whole number from 100 to 599, got \"600\"",
	    1, false },
	{ "respond bad content type", OK_HEAD
	    "routes: [ { name: a, respond: { status: 200, content_type: "
	    "\"a\\nb\" } } ]\n",
	    "t.yaml:2:60: expected a header value (visible ASCII)", 1, false },

	/* match */
	{ "match not a mapping", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: /a, upstream: legacy } ]\n",
	    "t.yaml:5:29: expected a mapping", 1, false },
	{ "two path kinds", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path: /b, path_prefix: /a }, "
	    "upstream: legacy } ]\n",
	    "t.yaml:5:41: a match takes at most one of \"path_prefix\", "
	    "\"path\" and \"path_regex\"",
	    1, false },
	{ "three path kinds", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path_regex: x, path: /b, "
	    "path_prefix: /a }, upstream: legacy } ]\n",
	    "t.yaml:5:46: a match takes at most one of \"path_prefix\", "
	    "\"path\" and \"path_regex\"",
	    2, false },
	{ "path without slash", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path_prefix: api }, upstream: legacy "
	    "} ]\n",
	    "t.yaml:5:44: expected a path starting with \"/\", got \"api\"", 1,
	    false },
	{ "path with dot segment", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path: /a/../b }, upstream: legacy } "
	    "]\n",
	    "t.yaml:5:37: a path may not contain \".\" or \"..\" segments", 1,
	    false },
	{ "path with //", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path_prefix: /a//b }, upstream: "
	    "legacy } ]\n",
	    "t.yaml:5:44: a path may not contain \"//\"", 1, false },
	{ "path with query", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path: \"/a?b\" }, upstream: legacy } "
	    "]\n",
	    "t.yaml:5:37: a path may not contain spaces, control bytes, '?' or "
	    "'#'",
	    1, false },
	{ "bad regex", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path_regex: \"/a(b\" }, upstream: "
	    "legacy } ]\n",
	    "t.yaml:5:43: invalid path_regex: missing closing parenthesis (at "
	    "offset 4)",
	    1, false },
	{ "methods not a list", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { methods: GET }, upstream: legacy } "
	    "]\n",
	    "t.yaml:5:40: expected a list", 1, false },
	{ "methods lower case", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { methods: [GET, post] }, upstream: "
	    "legacy } ]\n",
	    "t.yaml:5:46: expected an upper-case method such as \"GET\", got "
	    "\"post\"",
	    1, false },
	{ "methods empty", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { methods: [] }, upstream: legacy } ]\n",
	    "t.yaml:5:40: expected a non-empty list of methods", 1, false },
	{ "host with port", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { host: \"a.com:80\" }, upstream: "
	    "legacy } ]\n",
	    "t.yaml:5:37: expected a host name such as \"shop.example.com\" or "
	    "\"*.example.com\" (no port)",
	    1, false },
	{ "host bad wildcard", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { host: \"a.*.com\" }, upstream: legacy "
	    "} ]\n",
	    "t.yaml:5:37: expected a host name such as \"shop.example.com\" or "
	    "\"*.example.com\" (no port)",
	    1, false },
	{ "headers not a mapping", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { headers: [X-A] }, upstream: legacy } "
	    "]\n",
	    "t.yaml:5:40: expected a mapping", 1, false },
	{ "header bad name", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { headers: { \"X A\": b } }, upstream: "
	    "legacy } ]\n",
	    "t.yaml:5:42: invalid header name \"X A\"", 1, false },
	{ "header value a list", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { headers: { X-A: [b] } }, upstream: "
	    "legacy } ]\n",
	    "t.yaml:5:47: expected a value, { in: [...] }, { in_file: FILE } or "
	    "{ present: true|false }",
	    1, false },
	{ "header two forms", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { headers: { X-A: { in: [b], present: "
	    "true } } }, upstream: legacy } ]\n",
	    "t.yaml:5:47: expected exactly one of \"in\", \"in_file\" and "
	    "\"present\"",
	    1, false },
	{ "header unknown form", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { cookies: { s: { inn: [b] } } }, "
	    "upstream: legacy } ]\n",
	    "t.yaml:5:47: unknown key \"inn\" (did you mean \"in\"?)", 1, false },
	{ "header in empty", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { query: { q: { in: [] } } }, upstream: "
	    "legacy } ]\n",
	    "t.yaml:5:49: expected a non-empty list of values", 1, false },
	{ "header present not bool", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { headers: { X-A: { present: 1 } } }, "
	    "upstream: legacy } ]\n",
	    "t.yaml:5:58: expected true or false, got \"1\"", 1, false },
	{ "in_file missing", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { headers: { X-A: { in_file: "
	    "/nonexistent/t.txt } } }, upstream: legacy } ]\n",
	    "t.yaml:5:58: cannot read in_file \"/nonexistent/t.txt\": No such "
	    "file or directory",
	    1, false },
	{ "in_file a directory", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { headers: { X-A: { in_file: / } } }, "
	    "upstream: legacy } ]\n",
	    "t.yaml:5:58: cannot read in_file \"/\": Is a directory", 1, false },

	/* rewrite */
	{ "rewrite both", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path_prefix: /a }, upstream: legacy, "
	    "rewrite: { strip_prefix: /a, replace_prefix: { from: /a, to: /b } } "
	    "} ]\n",
	    "t.yaml:5:77: a rewrite takes one of \"strip_prefix\" and "
	    "\"replace_prefix\"",
	    1, false },
	{ "rewrite empty", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path_prefix: /a }, upstream: legacy, "
	    "rewrite: {} } ]\n",
	    "t.yaml:5:77: expected { strip_prefix: P } or { replace_prefix: { "
	    "from: P, to: Q } }",
	    1, false },
	{ "rewrite typo", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path_prefix: /a }, upstream: legacy, "
	    "rewrite: { strip_prefx: /a } } ]\n",
	    "t.yaml:5:79: unknown key \"strip_prefx\" (did you mean "
	    "\"strip_prefix\"?)",
	    1, false },
	{ "rewrite not under the prefix", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path_prefix: /api }, upstream: "
	    "legacy, rewrite: { strip_prefix: /api/v1 } } ]\n",
	    "t.yaml:5:95: the rewrite prefix \"/api/v1\" is not a prefix of the "
	    "route's path_prefix \"/api\"",
	    1, false },
	{ "rewrite not a segment prefix", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path: /apix }, upstream: legacy, "
	    "rewrite: { replace_prefix: { from: /api, to: /b } } } ]\n",
	    "t.yaml:5:99: the rewrite prefix \"/api\" is not a prefix of the "
	    "route's path \"/apix\"",
	    1, false },
	{ "rewrite without a path", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: legacy, rewrite: { strip_prefix: /a "
	    "} } ]\n",
	    "t.yaml:5:65: a rewrite prefix needs a path_prefix or path match "
	    "that starts with it",
	    1, false },
	{ "replace without to", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path_prefix: /a }, upstream: legacy, "
	    "rewrite: { replace_prefix: { from: /a } } } ]\n",
	    "t.yaml:5:95: missing required key \"to\"", 1, false },
	{ "replace to without slash", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { path_prefix: /a }, upstream: legacy, "
	    "rewrite: { replace_prefix: { from: /a, to: b } } } ]\n",
	    "t.yaml:5:111: expected a path starting with \"/\", got \"b\"", 1,
	    false },

	/* YAML */
	{ "duplicate keys", OK_HEAD "workers: 1\nworkers: 2\n",
	    "t.yaml:3:1: duplicate key \"workers\" (first at 2:1)", 1, false },
	{ "duplicate header names", OK_HEAD OK_UPS
	    "routes: [ { name: a, match: { headers: { X-A: b, X-A: c } }, "
	    "upstream: legacy } ]\n",
	    "t.yaml:5:50: duplicate key \"X-A\" (first at 5:42)", 1, false },
	{ "syntax error", OK_HEAD "workers: [1, 2\n",
	    "t.yaml:3:1: syntax error: did not find expected ',' or ']' (while "
	    "parsing a flow sequence at 2:10)",
	    1, false },
	{ "syntax error: tab", OK_HEAD "limits:\n\tmax_headers: 1\n",
	    "t.yaml:3:1: syntax error: found character that cannot start any "
	    "token (while scanning for the next token at 3:1)",
	    1, false },
	{ "alias", OK_HEAD OK_UPS
	    "routes: [ { name: a, upstream: *u } ]\n",
	    "t.yaml:5:32: aliases are not supported", 0, false },
	{ "anchor", OK_HEAD "limits: &l { max_headers: 1 }\n",
	    "t.yaml:2:9: anchors are not supported", 1, false },
	{ "merge key", OK_HEAD "limits: { <<: *x }\n",
	    "t.yaml:2:15: aliases are not supported", 0, false },
	{ "two documents", OK_HEAD "---\nworkers: 1\n",
	    "t.yaml:2:1: only one YAML document is allowed", 1, false },
	{ "NUL in a scalar", OK_HEAD "workers: \"1\\0\"\n",
	    "t.yaml:2:10: NUL bytes are not allowed", 1, false },
	{ "non-scalar key", OK_HEAD "? [a]\n: 1\n",
	    "t.yaml:2:3: mapping keys must be scalars", 1, false },
	{ "too deep", OK_HEAD
	    "x: [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
	    "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\n",
	    "t.yaml:2:67: nesting deeper than 64 levels", 1, false },
	{ "invalid UTF-8", OK_HEAD "workers: \"\xff\"\n",
	    "t.yaml:2:11: syntax error: invalid leading UTF-8 octet", 1, false },
};

static void
test_errors(void **state)
{
	size_t bad = 0;

	(void)state;
	for (size_t i = 0; i < N(errors); i++) {
		const struct error_case *e = &errors[i];
		struct config_diag d;
		struct config *c;
		bool ok;

		c = load(e->yaml, &d);
		ok = c == NULL && d.nwarnings == 0 &&
		    (e->nerrors != 0 ? d.nerrors == e->nerrors :
				       d.nerrors >= 1) &&
		    has_line(d.errors, d.nerrors, e->error, e->prefix);
		if (!ok) {
			/* Report every failing case, not just the first. */
			print_message("case: %s\n  wanted: %s\n", e->what,
			    e->error);
			dump_diag(&d);
			bad++;
		}
		config_unref(c);
		config_diag_free(&d);
	}
	assert_int_equal(bad, 0);
}

/* One run reports every mistake, each at its place. */
static void
test_error_collect(void **state)
{
	static const char yaml[] =
	    "listeners:\n"
	    "  - address: \"127.0.0.1\"\n"
	    "workrs: 2\n"
	    "limits: { max_headers: 0 }\n"
	    "upstreams:\n"
	    "  billing: { servers: [ \"127.0.0.1:9002\" ] }\n"
	    "routes:\n"
	    "  - name: a\n"
	    "    upstream: biling\n"
	    "  - name: a\n"
	    "    respond: { status: 1000 }\n"
	    "    watch: {}\n";
	static const char *want[] = {
		"t.yaml:3:1: unknown key \"workrs\" (did you mean \"workers\"?)",
		"t.yaml:2:14: invalid listener address \"127.0.0.1\": expected "
		"\"HOST:PORT\"",
		"t.yaml:4:24: expected a whole number from 1 to 1000, got \"0\"",
		"t.yaml:12:5: unknown key \"watch\" (did you mean \"match\"?)",
		"t.yaml:10:11: duplicate route name \"a\" (first at 8:5)",
		"t.yaml:11:24: expected a whole number from 100 to 599, got "
		"\"1000\"",
		"t.yaml:9:15: unknown upstream \"biling\" (did you mean "
		"\"billing\"?)",
	};
	struct config_diag d;
	struct config *c;

	(void)state;
	c = load(yaml, &d);
	dump_diag(&d);
	assert_null(c);
	assert_int_equal(d.nerrors, N(want));
	for (size_t i = 0; i < N(want); i++)
		assert_string_equal(d.errors[i], want[i]);
	config_diag_free(&d);
}

/* ---- warnings */

struct warning_case {
	const char *what;
	const char *yaml;
	const char *warnings[3];
};

static const struct warning_case warnings[] = {
	{ "split weights not summing to 100", OK_HEAD OK_UPS
	    "routes: [ { name: all, split: [ { upstream: legacy, weight: 3 }, "
	    "{ upstream: billing, weight: 1 } ] } ]\n",
	    { "t.yaml:5:45: warning: the weights of route \"all\" sum to 4, not 100 "
	      "(they are used as relative shares)" } },
	{ "override without allow_from", OK_HEAD OK_UPS
	    "routes: [ { name: all, upstream: legacy, override: {} },\n"
	    "          { name: b, match: { path: /b }, upstream: billing } ]\n",
	    { "t.yaml:5:42: warning: override of route \"all\" without allow_from: "
	      "any client can pick its target",
	      "t.yaml:6:11: warning: route \"b\" can never match: earlier route "
	      "\"all\" (line 5) takes every request it would" } },
	{ "unused upstream", OK_HEAD OK_UPS
	    "routes: [ { name: all, upstream: legacy } ]\n",
	    { "t.yaml:4:3: warning: upstream \"billing\" is not used by any "
	      "route" } },
	{ "covered by a prefix", OK_HEAD OK_UPS
	    "routes:\n"
	    "  - { name: api, match: { path_prefix: /api }, upstream: billing }\n"
	    "  - { name: api-v1, match: { path_prefix: /api/v1, methods: [GET] "
	    "}, upstream: legacy }\n"
	    "  - { name: all, upstream: legacy }\n",
	    { "t.yaml:7:5: warning: route \"api-v1\" can never match: earlier "
	      "route \"api\" (line 6) takes every request it would" } },
	{ "covered exact path", OK_HEAD OK_UPS
	    "routes:\n"
	    "  - { name: api, match: { path_prefix: /api/ }, upstream: billing }\n"
	    "  - { name: one, match: { path: /api/x }, upstream: legacy }\n"
	    "  - { name: all, match: { path_prefix: / }, upstream: legacy }\n",
	    { "t.yaml:7:5: warning: route \"one\" can never match: earlier "
	      "route \"api\" (line 6) takes every request it would" } },
	{ "covered by a catch-all", OK_HEAD OK_UPS
	    "routes:\n"
	    "  - { name: all, match: { path_prefix: / }, upstream: legacy }\n"
	    "  - { name: re, match: { path_regex: \"/x.*\" }, upstream: billing }\n"
	    "  - { name: gone, respond: { status: 410 } }\n",
	    { "t.yaml:7:5: warning: route \"re\" can never match: earlier "
	      "route \"all\" (line 6) takes every request it would",
		"t.yaml:8:5: warning: route \"gone\" can never match: earlier "
		"route \"all\" (line 6) takes every request it would" } },
	{ "no catch-all", OK_HEAD OK_UPS
	    "routes:\n"
	    "  - { name: a, match: { path_prefix: /a }, upstream: billing }\n"
	    "  - { name: b, match: { path_prefix: /, methods: [GET] }, "
	    "upstream: legacy }\n",
	    { "t.yaml:5:1: warning: no catch-all route (an active route with "
	      "\"path_prefix: /\" to an upstream): requests no route matches "
	      "get 404" } },
	{ "no routes at all", OK_HEAD,
	    { "t.yaml:1:1: warning: no catch-all route (an active route with "
	      "\"path_prefix: /\" to an upstream): requests no route matches "
	      "get 404" } },
	{ "admin off loopback without a token", OK_HEAD ONE_UPS
	    "admin: { address: \"0.0.0.0:9901\" }\n",
	    { "t.yaml:4:19: warning: admin API on a non-loopback address "
	      "\"0.0.0.0:9901\" without token_file: anyone who can reach it "
	      "can force breakers and reload" } },
	{ "admin on every address", OK_HEAD ONE_UPS
	    "admin:\n  address: \"*:9901\"\n",
	    { "t.yaml:5:12: warning: admin API on a non-loopback address "
	      "\"*:9901\" without token_file: anyone who can reach it can "
	      "force breakers and reload" } },
	{ "admin on an IPv6 address", OK_HEAD ONE_UPS
	    "admin: { address: \"[2001:db8::1]:9901\" }\n",
	    { "t.yaml:4:19: warning: admin API on a non-loopback address "
	      "\"[2001:db8::1]:9901\" without token_file: anyone who can reach "
	      "it can force breakers and reload" } },
	{ "shadow of write methods, to one of its own targets", OK_HEAD OK_UPS
	    "routes:\n"
	    "  - name: all\n"
	    "    split: [ { upstream: legacy, weight: 50 }, { upstream: billing, weight: 50 } ]\n"
	    "    shadow: { upstream: billing, methods: [GET, POST] }\n",
	    { "t.yaml:8:25: warning: route \"all\" shadows write methods: the "
	      "shadow upstream must not act on them (it gets X-Cutover-Shadow: 1)",
		"t.yaml:8:25: warning: route \"all\" shadows to \"billing\", one "
		"of its own targets: those requests are sent to it twice" } },
	{ "inactive catch-all", OK_HEAD OK_UPS
	    "routes:\n"
	    "  - { name: a, match: { path_prefix: /a }, upstream: billing }\n"
	    "  - { name: all, active: false, upstream: legacy }\n",
	    { "t.yaml:5:1: warning: no catch-all route (an active route with "
	      "\"path_prefix: /\" to an upstream): requests no route matches "
	      "get 404" } },
};

static void
test_warnings(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(warnings); i++) {
		const struct warning_case *w = &warnings[i];
		struct config_diag d;
		struct config *c;
		size_t n = 0;

		print_message("case: %s\n", w->what);
		c = load(w->yaml, &d);
		dump_diag(&d);
		assert_non_null(c);
		assert_int_equal(d.nerrors, 0);
		while (n < N(w->warnings) && w->warnings[n] != NULL)
			n++;
		assert_int_equal(d.nwarnings, n);
		for (size_t j = 0; j < n; j++)
			assert_string_equal(d.warnings[j], w->warnings[j]);
		config_unref(c);
		config_diag_free(&d);
	}
}

/* Only certain shadowing is reported. */
static void
test_no_warnings(void **state)
{
	static const char *yamls[] = {
		/* segment-aware: /api does not cover /apix */
		OK_HEAD OK_UPS
		"routes:\n"
		"  - { name: a, match: { path_prefix: /api }, upstream: billing }\n"
		"  - { name: b, match: { path_prefix: /apix }, upstream: legacy }\n"
		"  - { name: all, upstream: legacy }\n",
		/* an earlier route with a condition covers nothing for sure */
		OK_HEAD OK_UPS
		"routes:\n"
		"  - { name: a, match: { path_prefix: /, methods: [GET] }, "
		"upstream: billing }\n"
		"  - { name: b, match: { path_prefix: /, host: a.com }, upstream: "
		"billing }\n"
		"  - { name: c, match: { headers: { X-A: b } }, upstream: billing }\n"
		"  - { name: all, upstream: legacy }\n",
		/* an inactive earlier route covers nothing; a regex neither */
		OK_HEAD OK_UPS
		"routes:\n"
		"  - { name: a, active: false, upstream: billing }\n"
		"  - { name: r, match: { path_regex: \"/.*\" }, upstream: billing }\n"
		"  - { name: b, match: { path: /b }, upstream: billing }\n"
		"  - { name: all, upstream: legacy }\n",
		/* an inactive later route is staged, not dead */
		OK_HEAD OK_UPS
		"routes:\n"
		"  - { name: all, match: { path_prefix: / }, upstream: legacy }\n"
		"  - { name: staged, active: false, upstream: billing }\n",
		/* the admin API on loopback, any of them */
		OK_HEAD ONE_UPS "admin: { address: \"127.0.0.1:9901\" }\n",
		OK_HEAD ONE_UPS "admin: { address: \"127.3.4.5:9901\" }\n",
		OK_HEAD ONE_UPS "admin: { address: \"[::1]:9901\" }\n",
		OK_HEAD ONE_UPS "admin: { address: \"[::ffff:127.0.0.1]:9901\" }\n",
		OK_HEAD ONE_UPS "admin: { address: \"localhost:9901\" }\n",
		OK_HEAD ONE_UPS "admin:\n",
	};

	(void)state;
	for (size_t i = 0; i < N(yamls); i++) {
		struct config_diag d;
		struct config *c;

		print_message("case %zu\n", i);
		c = load(yamls[i], &d);
		dump_diag(&d);
		assert_non_null(c);
		assert_int_equal(d.nwarnings, 0);
		config_unref(c);
		config_diag_free(&d);
	}
}

/* ---- resilience: breaker, retry, bulkhead, health_check, fallback */

/* The statuses 100-699 for which `on` holds, as "502 503 504". */
static void
status_list(bool (*on)(const void *, int), const void *obj, char *buf,
    size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int s = 100; s < 700; s++) {
		if (!on(obj, s))
			continue;
		used += (size_t)snprintf(buf + used, size - used, "%s%d",
		    used == 0 ? "" : " ", s);
		assert_true(used < size);
	}
}

static bool
retry_status_on(const void *obj, int s)
{
	return retry_on_status(obj, s);
}

static bool
fallback_status_on(const void *obj, int s)
{
	return fallback_on_status(obj, s);
}

static void
assert_retry_statuses(const struct retry_params *p, const char *want)
{
	char got[256];

	status_list(retry_status_on, p, got, sizeof(got));
	assert_string_equal(got, want);
}

static void
assert_fallback_statuses(const struct fallback_conf *f, const char *want)
{
	char got[256];

	status_list(fallback_status_on, f, got, sizeof(got));
	assert_string_equal(got, want);
}

/* SPEC 2's values for every resilience key, as loaded for an upstream. */
static void
assert_resilience_defaults(const struct upstream_conf *u)
{
	const struct breaker_params *b = &u->breaker;
	const struct retry_conf *r = &u->retry;

	assert_int_equal(u->max_connections, 1024);
	assert_int_equal(u->max_pending, 256);
	assert_int_equal(u->pending_timeout_ms, 500);

	assert_int_equal(b->mode, BREAKER_MODE_ENFORCE);
	assert_int_equal(b->consecutive_failures, 5);
	assert_int_equal(b->failure_rate_ppm, 500000);
	assert_int_equal(b->window_s, 10); /* seconds, not ms */
	assert_int_equal(b->min_requests, 20);
	assert_int_equal(b->slow_call_ms, 0);
	assert_int_equal(b->slow_call_rate_ppm, 800000);
	assert_int_equal(b->open_for_ms, 5000);
	assert_int_equal(b->max_open_for_ms, 120000);
	assert_int_equal(b->open_jitter_ppm, 200000);
	assert_int_equal(b->half_open_probes, 1);
	assert_int_equal(b->half_open_successes, 3);
	/* One try's wait for an answer: connect plus response timeout. */
	assert_int_equal(b->probe_lease_ms,
	    u->connect_timeout_ms + u->response_timeout_ms);

	assert_int_equal(r->p.attempts, 2);
	assert_int_equal(r->p.on_kinds, RETRY_ON_CONNECT_FAILURE |
	    RETRY_ON_RESET | RETRY_ON_TIMEOUT);
	assert_retry_statuses(&r->p, "502 503 504");
	assert_int_equal(r->p.backoff_ms, 25);
	assert_int_equal(r->p.max_backoff_ms, 250);
	assert_int_equal(r->budget_ppm, 200000);
	assert_int_equal(r->budget_window_s, 10); /* seconds */
	assert_int_equal(r->min_retries_per_second, 3);
	assert_int_equal(r->buffer_body, 65536);
}

static void
test_resilience_defaults(void **state)
{
	static const char yaml[] = OK_HEAD
	    "upstreams:\n"
	    "  legacy: { servers: [ \"127.0.0.1:9001\" ] }\n"
	    "  billing:\n"
	    "    servers: [ \"127.0.0.1:9002\" ]\n"
	    "    health_check: {}\n"
	    "    breaker:\n"
	    "    retry: ~\n"
	    "routes:\n"
	    "  - { name: b, match: { path_prefix: /b }, upstream: billing }\n"
	    "  - { name: all, upstream: legacy }\n";
	struct config_diag d;
	struct config *c;
	const struct upstream_conf *u;
	const struct health_check_conf *hc;
	struct retry_params rp;

	(void)state;
	c = load(yaml, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_int_equal(d.nwarnings, 0);

	u = config_upstream(c, "legacy");
	assert_resilience_defaults(u);
	assert_int_equal(u->breaker.probe_lease_ms, 12000); /* 2 s + 10 s */
	/* The same list as retry_params_default(), bit for bit. */
	retry_params_default(&rp);
	assert_memory_equal(u->retry.p.on_status, rp.on_status,
	    sizeof(rp.on_status));
	/* No health_check key: no active checks. */
	assert_false(u->health_check.enabled);
	assert_null(u->health_check.path);

	/* Empty and null sections are the defaults too. */
	u = config_upstream(c, "billing");
	assert_resilience_defaults(u);
	hc = &u->health_check;
	assert_true(hc->enabled);
	assert_string_equal(hc->path, "/healthz");
	assert_int_equal(hc->interval_ms, 5000);
	assert_int_equal(hc->timeout_ms, 1000);
	assert_int_equal(hc->healthy, 2);
	assert_int_equal(hc->unhealthy, 3);
	assert_int_equal(hc->mark.line, 6); /* the health_check key */
	assert_int_equal(hc->mark.col, 5);

	/* No fallback key: none. */
	for (size_t i = 0; i < c->nroutes; i++) {
		const struct fallback_conf *f = &c->routes[i].fallback;

		assert_null(f->upstream_name);
		assert_null(f->upstream);
		assert_false(f->on_unavailable);
		assert_false(f->on_failure);
		assert_fallback_statuses(f, "");
	}
	config_unref(c);
	config_diag_free(&d);
}

/* Every key set to something else, the limits of each range included. */
static void
test_resilience_values(void **state)
{
	static const char yaml[] = OK_HEAD
	    "upstreams:\n"
	    "  a:\n"
	    "    servers: [ \"127.0.0.1:1\" ]\n"
	    "    connect_timeout: 300ms\n"
	    "    response_timeout: 2s\n"
	    "    max_connections: 1000000\n"
	    "    max_pending: 0\n"
	    "    pending_timeout: 2s\n"
	    "    breaker:\n"
	    "      mode: dry_run\n"
	    "      consecutive_failures: 1\n"
	    "      failure_rate: 12.5%\n"
	    "      window: 1h\n"
	    "      min_requests: 1\n"
	    "      slow_call: 750ms\n"
	    "      slow_call_rate: 100%\n"
	    "      open_for: 1s\n"
	    "      max_open_for: 1s\n"
	    "      open_jitter: 0%\n"
	    "      half_open_probes: 64\n"
	    "      half_open_successes: 1000\n"
	    "    retry:\n"
	    "      attempts: 10\n"
	    "      on: [ timeout, 429 ]\n"
	    "      backoff: 0\n"
	    "      max_backoff: 0\n"
	    "      budget: 0.0001%\n"
	    "      budget_window: 1s\n"
	    "      min_retries_per_second: 0\n"
	    "      buffer_body: 64MiB\n"
	    "    health_check:\n"
	    "      path: /status/\n"
	    "      interval: 2s\n"
	    "      timeout: 2s\n"
	    "      healthy: 1\n"
	    "      unhealthy: 1000\n"
	    "  b:\n"
	    "    servers: [ \"127.0.0.1:2\" ]\n"
	    "    breaker: { window: 3600s, mode: enforce }\n"
	    "    retry: { attempts: 1, buffer_body: 0, budget_window: 1h }\n"
	    "routes:\n"
	    "  - { name: b, match: { path_prefix: /b }, upstream: b }\n"
	    "  - { name: all, upstream: a }\n";
	struct config_diag d;
	struct config *c;
	const struct upstream_conf *u;
	const struct breaker_params *b;
	const struct retry_conf *r;
	const struct health_check_conf *hc;

	(void)state;
	c = load(yaml, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_int_equal(d.nwarnings, 0);

	u = config_upstream(c, "a");
	assert_int_equal(u->max_connections, 1000000);
	assert_int_equal(u->max_pending, 0);
	assert_int_equal(u->pending_timeout_ms, 2000);
	b = &u->breaker;
	assert_int_equal(b->mode, BREAKER_MODE_DRY_RUN);
	assert_int_equal(b->consecutive_failures, 1);
	assert_int_equal(b->failure_rate_ppm, 125000);
	assert_int_equal(b->window_s, 3600);
	assert_int_equal(b->min_requests, 1);
	assert_int_equal(b->slow_call_ms, 750);
	assert_int_equal(b->slow_call_rate_ppm, 1000000);
	assert_int_equal(b->open_for_ms, 1000);
	assert_int_equal(b->max_open_for_ms, 1000); /* equal is allowed */
	assert_int_equal(b->open_jitter_ppm, 0);
	assert_int_equal(b->half_open_probes, BREAKER_MAX_PROBES);
	assert_int_equal(b->half_open_successes, 1000);
	assert_int_equal(b->probe_lease_ms, 2300);
	r = &u->retry;
	assert_int_equal(r->p.attempts, 10);
	assert_int_equal(r->p.on_kinds, RETRY_ON_TIMEOUT);
	assert_retry_statuses(&r->p, "429");
	assert_int_equal(r->p.backoff_ms, 0);
	assert_int_equal(r->p.max_backoff_ms, 0);
	assert_int_equal(r->budget_ppm, 1);
	assert_int_equal(r->budget_window_s, 1);
	assert_int_equal(r->min_retries_per_second, 0);
	assert_int_equal(r->buffer_body, 64u << 20);
	hc = &u->health_check;
	assert_true(hc->enabled);
	assert_string_equal(hc->path, "/status"); /* trailing '/' dropped */
	assert_int_equal(hc->interval_ms, 2000);
	assert_int_equal(hc->timeout_ms, 2000); /* equal to interval is fine */
	assert_int_equal(hc->healthy, 1);
	assert_int_equal(hc->unhealthy, 1000);
	assert_int_equal(hc->mark.line, 32);
	assert_int_equal(hc->mark.col, 5);

	/* Keys a section leaves out keep their defaults. */
	u = config_upstream(c, "b");
	assert_int_equal(u->breaker.window_s, 3600);
	assert_int_equal(u->breaker.mode, BREAKER_MODE_ENFORCE);
	assert_int_equal(u->breaker.consecutive_failures, 5);
	assert_int_equal(u->breaker.probe_lease_ms, 12000);
	assert_int_equal(u->retry.p.attempts, 1);
	assert_int_equal(u->retry.buffer_body, 0);
	assert_int_equal(u->retry.budget_window_s, 3600);
	assert_int_equal(u->retry.budget_ppm, 200000);
	assert_retry_statuses(&u->retry.p, "502 503 504");
	assert_false(u->health_check.enabled);
	assert_int_equal(u->max_connections, 1024);
	config_unref(c);
	config_diag_free(&d);
}

/*
 * upstream_defaults sets single keys inside breaker and retry; an
 * upstream that writes one key of a section keeps the rest from the
 * defaults (not from SPEC's defaults), and probe_lease_ms follows each
 * upstream's own timeouts.
 */
static void
test_resilience_inheritance(void **state)
{
	static const char yaml[] = OK_HEAD
	    "upstream_defaults:\n"
	    "  response_timeout: 3s\n"
	    "  max_connections: 64\n"
	    "  pending_timeout: 100ms\n"
	    "  breaker: { consecutive_failures: 3, window: 5s, mode: dry_run }\n"
	    "  retry: { attempts: 3, on: [ reset, 503 ], buffer_body: 1KiB }\n"
	    "upstreams:\n"
	    "  a: { servers: [ \"127.0.0.1:1\" ] }\n"
	    "  b:\n"
	    "    servers: [ \"127.0.0.1:2\" ]\n"
	    "    connect_timeout: 100ms\n"
	    "    response_timeout: 1s\n"
	    "    max_pending: 8\n"
	    "    breaker: { window: 20s }\n"
	    "    retry: { backoff: 50ms, max_backoff: 1s }\n"
	    "  c:\n"
	    "    servers: [ \"127.0.0.1:3\" ]\n"
	    "    max_connections: 2\n"
	    "    breaker: { mode: enforce, consecutive_failures: 10 }\n"
	    "    retry: { on: [ connect-failure ] }\n"
	    "routes:\n"
	    "  - { name: b, match: { path_prefix: /b }, upstream: b }\n"
	    "  - { name: c, match: { path_prefix: /c }, upstream: c }\n"
	    "  - { name: all, upstream: a }\n";
	struct config_diag d;
	struct config *c;
	const struct upstream_conf *u;

	(void)state;
	c = load(yaml, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_int_equal(d.nwarnings, 0);

	/* a: everything from the defaults. */
	u = config_upstream(c, "a");
	assert_int_equal(u->max_connections, 64);
	assert_int_equal(u->max_pending, 256);
	assert_int_equal(u->pending_timeout_ms, 100);
	assert_int_equal(u->breaker.mode, BREAKER_MODE_DRY_RUN);
	assert_int_equal(u->breaker.consecutive_failures, 3);
	assert_int_equal(u->breaker.window_s, 5);
	assert_int_equal(u->breaker.min_requests, 20);
	assert_int_equal(u->breaker.open_for_ms, 5000);
	assert_int_equal(u->breaker.probe_lease_ms, 5000); /* 2 s + 3 s */
	assert_int_equal(u->retry.p.attempts, 3);
	assert_int_equal(u->retry.p.on_kinds, RETRY_ON_RESET);
	assert_retry_statuses(&u->retry.p, "503");
	assert_int_equal(u->retry.p.backoff_ms, 25);
	assert_int_equal(u->retry.buffer_body, 1024);
	assert_false(u->health_check.enabled);

	/* b: only window and the backoffs are its own. */
	u = config_upstream(c, "b");
	assert_int_equal(u->max_connections, 64);
	assert_int_equal(u->max_pending, 8);
	assert_int_equal(u->pending_timeout_ms, 100);
	assert_int_equal(u->breaker.mode, BREAKER_MODE_DRY_RUN);
	assert_int_equal(u->breaker.consecutive_failures, 3);
	assert_int_equal(u->breaker.window_s, 20);
	assert_int_equal(u->breaker.failure_rate_ppm, 500000);
	assert_int_equal(u->breaker.probe_lease_ms, 1100); /* 100 ms + 1 s */
	assert_int_equal(u->retry.p.attempts, 3);
	assert_int_equal(u->retry.p.on_kinds, RETRY_ON_RESET);
	assert_retry_statuses(&u->retry.p, "503");
	assert_int_equal(u->retry.p.backoff_ms, 50);
	assert_int_equal(u->retry.p.max_backoff_ms, 1000);
	assert_int_equal(u->retry.buffer_body, 1024);

	/* c: its own retry.on replaces the defaults' list. */
	u = config_upstream(c, "c");
	assert_int_equal(u->max_connections, 2);
	assert_int_equal(u->breaker.mode, BREAKER_MODE_ENFORCE);
	assert_int_equal(u->breaker.consecutive_failures, 10);
	assert_int_equal(u->breaker.window_s, 5);
	assert_int_equal(u->retry.p.attempts, 3);
	assert_int_equal(u->retry.p.on_kinds, RETRY_ON_CONNECT_FAILURE);
	assert_retry_statuses(&u->retry.p, "");
	config_unref(c);
	config_diag_free(&d);
}

/*
 * health_check in upstream_defaults turns checks on for every upstream;
 * an upstream that changes one key keeps the defaults' others (its path
 * too). Each upstream owns its copy of the path (valgrind checks that
 * none leaks and none is freed twice).
 */
static void
test_health_check_inheritance(void **state)
{
	static const char yaml[] = OK_HEAD
	    "upstream_defaults:\n"
	    "  health_check: { path: /ready, timeout: 2s, unhealthy: 5 }\n"
	    "upstreams:\n"
	    "  a: { servers: [ \"127.0.0.1:1\" ] }\n"
	    "  b:\n"
	    "    servers: [ \"127.0.0.1:2\" ]\n"
	    "    health_check: { interval: 10s }\n"
	    "  c:\n"
	    "    servers: [ \"127.0.0.1:3\" ]\n"
	    "    health_check: { path: /live/, healthy: 4 }\n"
	    "routes:\n"
	    "  - { name: b, match: { path_prefix: /b }, upstream: b }\n"
	    "  - { name: c, match: { path_prefix: /c }, upstream: c }\n"
	    "  - { name: all, upstream: a }\n";
	/* Without defaults, only the upstream that writes the key checks. */
	static const char yaml2[] = OK_HEAD
	    "upstreams:\n"
	    "  a: { servers: [ \"127.0.0.1:1\" ] }\n"
	    "  b:\n"
	    "    servers: [ \"127.0.0.1:2\" ]\n"
	    "    health_check: { interval: 10s }\n"
	    "routes:\n"
	    "  - { name: b, match: { path_prefix: /b }, upstream: b }\n"
	    "  - { name: all, upstream: a }\n";
	struct config_diag d;
	struct config *c;
	const struct health_check_conf *hc;

	(void)state;
	c = load(yaml, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_int_equal(d.nwarnings, 0);

	hc = &config_upstream(c, "a")->health_check;
	assert_true(hc->enabled);
	assert_string_equal(hc->path, "/ready");
	assert_int_equal(hc->interval_ms, 5000);
	assert_int_equal(hc->timeout_ms, 2000);
	assert_int_equal(hc->healthy, 2);
	assert_int_equal(hc->unhealthy, 5);

	hc = &config_upstream(c, "b")->health_check;
	assert_true(hc->enabled);
	assert_string_equal(hc->path, "/ready");
	assert_int_equal(hc->interval_ms, 10000);
	assert_int_equal(hc->timeout_ms, 2000);
	assert_int_equal(hc->healthy, 2);
	assert_int_equal(hc->unhealthy, 5);
	assert_int_equal(hc->mark.line, 8);
	assert_int_equal(hc->mark.col, 5);

	hc = &config_upstream(c, "c")->health_check;
	assert_true(hc->enabled);
	assert_string_equal(hc->path, "/live");
	assert_int_equal(hc->interval_ms, 5000);
	assert_int_equal(hc->timeout_ms, 2000);
	assert_int_equal(hc->healthy, 4);
	assert_int_equal(hc->unhealthy, 5);

	/* Separate copies, not one string shared by the three. */
	assert_ptr_not_equal(config_upstream(c, "a")->health_check.path,
	    config_upstream(c, "b")->health_check.path);
	config_unref(c);
	config_diag_free(&d);

	c = load(yaml2, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_false(config_upstream(c, "a")->health_check.enabled);
	assert_null(config_upstream(c, "a")->health_check.path);
	hc = &config_upstream(c, "b")->health_check;
	assert_true(hc->enabled);
	assert_string_equal(hc->path, "/healthz");
	assert_int_equal(hc->interval_ms, 10000);
	assert_int_equal(hc->timeout_ms, 1000);
	config_unref(c);
	config_diag_free(&d);

	/* A failed load with inherited paths frees them all too. */
	c = load(OK_HEAD
	    "upstream_defaults: { health_check: { path: /ready } }\n"
	    "upstreams:\n"
	    "  a: { servers: [ \"127.0.0.1:1\" ], health_check: { path: /x } }\n"
	    "  b: { servers: [ \"127.0.0.1:2\" ], health_check: { path: y } }\n"
	    "  c: { servers: [ \"127.0.0.1:3\" ] }\n",
	    &d);
	assert_null(c);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.errors[0], "t.yaml:5:58: expected a path "
	    "starting with \"/\", got \"y\"");
	config_diag_free(&d);
}

/* retry.on: every word, statuses at both ends, the order does not matter. */
static void
test_retry_on(void **state)
{
	static const struct {
		const char *on;
		uint32_t kinds;
		const char *statuses;
	} cases[] = {
		{ "[connect-failure, reset, timeout, 502, 503, 504]",
		    RETRY_ON_CONNECT_FAILURE | RETRY_ON_RESET |
			RETRY_ON_TIMEOUT,
		    "502 503 504" },
		{ "[504, timeout, 429, 599, reset]",
		    RETRY_ON_TIMEOUT | RETRY_ON_RESET, "429 504 599" },
		{ "[503]", 0, "503" },
		{ "[reset, reset]", RETRY_ON_RESET, "" },
		{ "[\"502\"]", 0, "502" },
		{ "[]", 0, "" },
	};
	char yaml[512];
	struct config_diag d;
	struct config *c;

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		print_message("case: %s\n", cases[i].on);
		snprintf(yaml, sizeof(yaml), OK_HEAD
		    "upstream_defaults: { retry: { on: [ timeout, 429 ] } }\n"
		    "upstreams: { a: { servers: [ \"127.0.0.1:1\" ], "
		    "retry: { on: %s } } }\n"
		    "routes: [ { name: all, upstream: a } ]\n",
		    cases[i].on);
		c = load(yaml, &d);
		dump_diag(&d);
		assert_non_null(c);
		assert_int_equal(c->upstreams[0].retry.p.on_kinds,
		    cases[i].kinds);
		assert_retry_statuses(&c->upstreams[0].retry.p,
		    cases[i].statuses);
		/* The rest of retry is untouched by `on`. */
		assert_int_equal(c->upstreams[0].retry.p.attempts, 2);
		config_unref(c);
		config_diag_free(&d);
	}
}

/* shadow: values, defaults, the catch-all, and a split falling back to one of its targets. */
static void
test_shadow(void **state)
{
	static const char yaml[] = OK_HEAD
	    "upstreams:\n"
	    "  users: { servers: [ \"127.0.0.1:9003\" ] }\n"
	    "  legacy: { servers: [ \"127.0.0.1:9001\" ] }\n"
	    "  next: { servers: [ \"127.0.0.1:9002\" ] }\n"
	    "routes:\n"
	    "  - name: full\n"
	    "    match: { path_prefix: /f }\n"
	    "    split: [ { upstream: users, weight: 10 }, { upstream: legacy, weight: 90 } ]\n"
	    "    fallback: legacy\n"
	    "    shadow:\n"
	    "      upstream: next\n"
	    "      percent: 12.5\n"
	    "      methods: [GET, OPTIONS]\n"
	    "      max_inflight: 3\n"
	    "      max_body: 1KiB\n"
	    "      compare: { ignore_headers: [Date, Server], "
	    "ignore_json_fields: [generated_at, \"items.*.id\"] }\n"
	    "  - name: defaults\n"
	    "    match: { path_prefix: /d }\n"
	    "    upstream: users\n"
	    "    shadow: { upstream: next, percent: \"50%\" }\n"
	    "  - name: compare-forms\n"
	    "    match: { path_prefix: /c }\n"
	    "    upstream: users\n"
	    "    shadow: { upstream: next, compare: true }\n"
	    "  - name: headered-root\n"
	    "    match: { path_prefix: /, headers: { X-Beta: \"1\" } }\n"
	    "    upstream: users\n"
	    "  - name: all\n"
	    "    upstream: legacy\n"
	    "  - name: staged-root\n"
	    "    active: false\n"
	    "    upstream: users\n";
	struct config_diag d;
	struct config *c;
	const struct shadow_conf *sh;

	(void)state;
	c = load(yaml, &d);
	dump_diag(&d);
	assert_non_null(c);
	sh = &c->routes[0].shadow;
	assert_true(sh->enabled);
	assert_string_equal(sh->upstream_name, "next");
	assert_ptr_equal(sh->upstream, config_upstream(c, "next"));
	assert_int_equal(sh->percent_ppm, 125000);
	assert_int_equal(sh->methods, 1u << HTTP_M_GET | 1u << HTTP_M_OPTIONS);
	assert_int_equal(sh->max_inflight, 3);
	assert_int_equal(sh->max_body, 1024);
	assert_true(sh->compare);
	assert_int_equal(sh->nignore_headers, 2);
	assert_string_equal(sh->ignore_headers[1], "Server");
	assert_int_equal(sh->nignore_json_fields, 2);
	assert_string_equal(sh->ignore_json_fields[1], "items.*.id");
	/* A split may fall back to one of its own targets. */
	assert_ptr_equal(c->routes[0].fallback.upstream, config_upstream(c, "legacy"));

	sh = &c->routes[1].shadow;
	assert_int_equal(sh->percent_ppm, 500000);
	assert_int_equal(sh->methods, 1u << HTTP_M_GET | 1u << HTTP_M_HEAD);
	assert_int_equal(sh->max_inflight, 64);
	assert_int_equal(sh->max_body, 64 * 1024);
	assert_false(sh->compare);
	assert_int_equal(sh->nignore_headers, 0);
	assert_true(c->routes[2].shadow.compare);
	assert_false(c->routes[3].shadow.enabled);

	/* The catch-all: the last active plain "/" route to an upstream. */
	for (size_t i = 0; i < c->nroutes; i++)
		assert_int_equal(c->routes[i].catch_all, i == 4);
	config_unref(c);
	config_diag_free(&d);
}

static void
test_fallback(void **state)
{
	static const char yaml[] = OK_HEAD
	    "upstreams:\n"
	    "  users: { servers: [ \"127.0.0.1:9003\" ] }\n"
	    "  legacy: { servers: [ \"127.0.0.1:9001\" ] }\n"
	    "  billing: { servers: [ \"127.0.0.1:9002\" ] }\n"
	    "routes:\n"
	    "  - name: short\n"
	    "    match: { path_prefix: /s }\n"
	    "    upstream: users\n"
	    "    fallback: legacy\n"
	    "  - name: long\n"
	    "    match: { path_prefix: /l }\n"
	    "    upstream: billing\n"
	    "    fallback: { upstream: legacy, on: [failure, 404, 501] }\n"
	    "  - name: long-default\n"
	    "    match: { path_prefix: /d }\n"
	    "    upstream: legacy\n"
	    "    fallback: { upstream: billing }\n"
	    "  - name: statuses-only\n"
	    "    match: { path_prefix: /o }\n"
	    "    upstream: users\n"
	    "    fallback: { upstream: billing, on: [599, 400] }\n"
	    "  - name: all-words\n"
	    "    match: { path_prefix: /w }\n"
	    "    upstream: users\n"
	    "    fallback: { upstream: legacy, on: [unavailable, failure, "
	    "503] }\n"
	    "  - name: all\n"
	    "    upstream: legacy\n";
	struct config_diag d;
	struct config *c;
	const struct fallback_conf *f;

	(void)state;
	c = load(yaml, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_int_equal(d.nwarnings, 0);
	assert_int_equal(c->nroutes, 6);

	/* Short form: on unavailable and on failure, no statuses. */
	f = &c->routes[0].fallback;
	assert_string_equal(f->upstream_name, "legacy");
	assert_ptr_equal(f->upstream, &c->upstreams[1]);
	assert_ptr_equal(f->upstream, config_upstream(c, "legacy"));
	assert_ptr_equal(c->routes[0].upstream, &c->upstreams[0]);
	assert_true(f->on_unavailable);
	assert_true(f->on_failure);
	assert_fallback_statuses(f, "");
	assert_int_equal(f->mark.line, 10); /* the value */
	assert_int_equal(f->mark.col, 15);

	/* Long form: exactly what `on` lists. */
	f = &c->routes[1].fallback;
	assert_string_equal(f->upstream_name, "legacy");
	assert_ptr_equal(f->upstream, &c->upstreams[1]);
	assert_false(f->on_unavailable);
	assert_true(f->on_failure);
	assert_fallback_statuses(f, "404 501");
	assert_true(fallback_on_status(f, 404));
	assert_false(fallback_on_status(f, 405));
	assert_false(fallback_on_status(f, 99));
	assert_false(fallback_on_status(f, 700));
	assert_int_equal(f->mark.line, 14); /* the upstream value */
	assert_int_equal(f->mark.col, 27);

	/* Long form without `on`: as the short form. */
	f = &c->routes[2].fallback;
	assert_ptr_equal(f->upstream, &c->upstreams[2]);
	assert_true(f->on_unavailable);
	assert_true(f->on_failure);
	assert_fallback_statuses(f, "");

	f = &c->routes[3].fallback;
	assert_ptr_equal(f->upstream, config_upstream(c, "billing"));
	assert_false(f->on_unavailable);
	assert_false(f->on_failure);
	assert_fallback_statuses(f, "400 599");

	f = &c->routes[4].fallback;
	assert_ptr_equal(f->upstream, config_upstream(c, "legacy"));
	assert_true(f->on_unavailable);
	assert_true(f->on_failure);
	assert_fallback_statuses(f, "503");

	f = &c->routes[5].fallback;
	assert_null(f->upstream_name);
	assert_null(f->upstream);
	config_unref(c);
	config_diag_free(&d);
}

/* ---- in_file, files, options */

static char *
tmpdir_make(void)
{
	char *dir = strdup("/tmp/test_config.XXXXXX");

	assert_non_null(dir);
	assert_non_null(mkdtemp(dir));
	return dir;
}

static void
tmpdir_remove(char *dir)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(dir);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
test_in_file(void **state)
{
	static const char yaml[] = OK_HEAD OK_UPS
	    "routes:\n"
	    "  - name: t\n"
	    "    match: { path_prefix: /t, headers: { X-Tenant: { in_file: "
	    "tenants.txt } } }\n"
	    "    upstream: billing\n"
	    "  - name: e\n"
	    "    match: { path_prefix: /e, query: { q: { in_file: empty.txt } } }\n"
	    "    upstream: billing\n"
	    "  - { name: all, upstream: legacy }\n";
	char *dir = tmpdir_make();
	char name[512], want[1024];
	struct config_diag d;
	struct config *c;
	const struct match_cond *mc;

	(void)state;
	snprintf(name, sizeof(name), "%s/c.yaml", dir);
	write_file(dir, "tenants.txt",
	    "# tenants in the beta\n"
	    "acme\n"
	    "  globex  \r\n"
	    "\n"
	    "   # indented comment\n"
	    "initech");
	write_file(dir, "empty.txt", "# nothing yet\n\n");

	/* empty.txt has no values: an error with its place and path */
	config_diag_init(&d);
	c = config_load_string(name, yaml, strlen(yaml), &d);
	dump_diag(&d);
	assert_null(c);
	assert_int_equal(d.nerrors, 1);
	snprintf(want, sizeof(want),
	    "%s:10:54: in_file \"%s/empty.txt\" has no values", name, dir);
	assert_string_equal(d.errors[0], want);
	config_diag_free(&d);

	write_file(dir, "empty.txt", "one\n");
	config_diag_init(&d);
	c = config_load_string(name, yaml, strlen(yaml), &d);
	dump_diag(&d);
	assert_non_null(c);
	mc = &c->routes[0].match.headers[0];
	assert_string_equal(mc->name, "X-Tenant");
	assert_int_equal(mc->kind, MATCH_IN);
	assert_int_equal(mc->nvalues, 3);
	assert_string_equal(mc->values[0], "acme");
	assert_string_equal(mc->values[1], "globex");
	assert_string_equal(mc->values[2], "initech");
	mc = &c->routes[1].match.query[0];
	assert_int_equal(mc->nvalues, 1);
	assert_string_equal(mc->values[0], "one");
	config_unref(c);
	config_diag_free(&d);

	/* relative to the file's directory, not the working directory */
	unlink(name);
	snprintf(name, sizeof(name), "%s/tenants.txt", dir);
	unlink(name);
	snprintf(name, sizeof(name), "%s/c.yaml", dir);
	config_diag_init(&d);
	c = config_load_string(name, yaml, strlen(yaml), &d);
	assert_null(c);
	snprintf(want, sizeof(want),
	    "%s:7:63: cannot read in_file \"%s/tenants.txt\": No such file or "
	    "directory",
	    name, dir);
	dump_diag(&d);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.errors[0], want);
	config_diag_free(&d);

	/* CONFIG_LOAD_NO_FILES never opens anything */
	config_diag_init(&d);
	c = config_load_string_flags(name, yaml, strlen(yaml),
	    CONFIG_LOAD_NO_FILES, &d);
	assert_null(c);
	assert_int_equal(d.nerrors, 2);
	snprintf(want, sizeof(want), "%s:7:63: in_file is disabled here", name);
	assert_string_equal(d.errors[0], want);
	config_diag_free(&d);
	tmpdir_remove(dir);
}

/* ---- tls: settings and defaults (CONFIG_LOAD_NO_FILES: the files are not read) */

static void
test_tls_values(void **state)
{
	static const char yaml[] =
	    "listeners:\n"
	    "  - address: \"127.0.0.1:8443\"\n"
	    "    tls:\n"
	    "      certificates:\n"
	    "        - { cert: site.crt, key: /keys/site.key }\n"
	    "        - { cert: other.crt, key: other.key }\n"
	    "  - address: \"127.0.0.1:8444\"\n"
	    "    tls: { min_version: TLSv1.3, certificates: [ { cert: a, key: b } ] }\n"
	    "  - address: \"127.0.0.1:8080\"\n"
	    "upstreams:\n"
	    "  plain: { servers: [ \"127.0.0.1:9001\" ] }\n"
	    "  defaults: { servers: [ \"127.0.0.1:9002\" ], tls: }\n"
	    "  set: { servers: [ \"127.0.0.1:9003\" ], tls: { verify: false, "
	    "ca: ca.pem, sni: billing.internal } }\n"
	    "routes:\n"
	    "  - { name: a, match: { path_prefix: /a }, upstream: defaults }\n"
	    "  - { name: b, match: { path_prefix: /b }, upstream: set }\n"
	    "  - { name: all, upstream: plain }\n";
	struct config_diag d;
	struct config *c;
	const struct upstream_conf *u;

	(void)state;
	config_diag_init(&d);
	c = config_load_string_flags("/etc/cutover/c.yaml", yaml, strlen(yaml),
	    CONFIG_LOAD_NO_FILES, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_true(c->listeners[0].tls.enabled);
	assert_int_equal(c->listeners[0].tls.min_version, TLS1_2_VERSION);
	assert_int_equal(c->listeners[0].tls.ncerts, 2);
	/* Relative to the file's directory; absolute as written. */
	assert_string_equal(c->listeners[0].tls.certs[0].cert, "/etc/cutover/site.crt");
	assert_string_equal(c->listeners[0].tls.certs[0].key, "/keys/site.key");
	assert_string_equal(c->listeners[0].tls.certs[1].key, "/etc/cutover/other.key");
	assert_null(c->listeners[0].tls.ctx); /* not read under NO_FILES */
	assert_int_equal(c->listeners[1].tls.min_version, TLS1_3_VERSION);
	assert_false(c->listeners[2].tls.enabled);
	u = config_upstream(c, "plain");
	assert_false(u->tls.enabled);
	u = config_upstream(c, "defaults");
	assert_true(u->tls.enabled);
	assert_true(u->tls.verify);
	assert_null(u->tls.ca);
	assert_null(u->tls.sni);
	u = config_upstream(c, "set");
	assert_true(u->tls.enabled);
	assert_false(u->tls.verify);
	assert_string_equal(u->tls.ca, "/etc/cutover/ca.pem");
	assert_string_equal(u->tls.sni, "billing.internal");
	config_unref(c);
	config_diag_free(&d);
}

/* ---- correlation, access_log, admin */

/* Every key of the three sections set to something other than its default. */
static void
test_sections(void **state)
{
	static const char yaml[] = OK_HEAD ONE_UPS
	    "correlation:\n"
	    "  header: X-Correlation-ID\n"
	    "  accept_incoming: false\n"
	    "  generate: uuid4\n"
	    "  echo: false\n"
	    "  traceparent: false\n"
	    "access_log:\n"
	    "  path: logs/access.log\n"
	    "  format: json\n"
	    "admin:\n"
	    "  address: \"127.0.0.1:9911\"\n"
	    "  token_file: admin.token\n";
	char *dir = tmpdir_make();
	char name[512], want[1024];
	struct config_diag d;
	struct config *c;
	const struct sockaddr_in *sin;
	struct stat st;

	(void)state;
	snprintf(name, sizeof(name), "%s/logs", dir);
	assert_int_equal(mkdir(name, 0700), 0);
	write_file(dir, "admin.token", "s3cr3t-Token_1.~+/= \t\r\nsecond line\n");
	snprintf(name, sizeof(name), "%s/c.yaml", dir);
	config_diag_init(&d);
	c = config_load_string(name, yaml, strlen(yaml), &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_int_equal(d.nwarnings, 0);

	assert_string_equal(c->correlation.header, "X-Correlation-ID");
	assert_false(c->correlation.accept_incoming);
	assert_int_equal(c->correlation.generate, REQID_GEN_UUID4);
	assert_false(c->correlation.echo);
	assert_false(c->correlation.traceparent);

	assert_true(c->access_log.enabled);
	assert_false(c->access_log.to_stdout);
	snprintf(want, sizeof(want), "%s/logs/access.log", dir);
	assert_string_equal(c->access_log.path, want);
	assert_int_equal(c->access_log.format, ACCESS_LOG_JSON);
	/* Checked, never opened: the running process creates it. */
	assert_int_equal(stat(want, &st), -1);

	assert_true(c->admin.enabled);
	assert_string_equal(c->admin.address, "127.0.0.1:9911");
	sin = (const struct sockaddr_in *)&c->admin.addr;
	assert_int_equal(sin->sin_family, AF_INET);
	assert_int_equal(ntohs(sin->sin_port), 9911);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_int_equal(c->admin.addrlen, sizeof(*sin));
	assert_false(c->admin.any_address);
	assert_int_equal(c->admin.mark.line, 14); /* the address value */
	assert_int_equal(c->admin.mark.col, 12);
	snprintf(want, sizeof(want), "%s/admin.token", dir);
	assert_string_equal(c->admin.token_file, want);
	assert_string_equal(c->admin.token, "s3cr3t-Token_1.~+/=");
	config_unref(c);
	config_diag_free(&d);

	/* The values that are also defaults, written out. */
	static const char yaml2[] = OK_HEAD ONE_UPS
	    "correlation: { header: x-request-id, accept_incoming: true, "
	    "generate: uuid7, echo: true, traceparent: true }\n"
	    "access_log: { path: stdout, format: json }\n";
	c = load(yaml2, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_string_equal(c->correlation.header, "x-request-id");
	assert_true(c->correlation.accept_incoming);
	assert_int_equal(c->correlation.generate, REQID_GEN_UUID7);
	assert_true(c->correlation.echo && c->correlation.traceparent);
	assert_true(c->access_log.enabled && c->access_log.to_stdout);
	assert_null(c->access_log.path);
	assert_false(c->admin.enabled);
	config_unref(c);
	config_diag_free(&d);
	tmpdir_remove(dir);
}

/* Empty and null sections, "off", absolute paths, admin with defaults. */
static void
test_section_forms(void **state)
{
	static const char *const yamls[] = {
		OK_HEAD ONE_UPS "correlation: {}\naccess_log: {}\nadmin: {}\n",
		OK_HEAD ONE_UPS "correlation:\naccess_log:\nadmin:\n",
		OK_HEAD ONE_UPS "correlation: ~\naccess_log: ~\nadmin: ~\n",
	};
	struct config_diag d;
	struct config *c;
	const struct sockaddr_in *sin;

	(void)state;
	for (size_t i = 0; i < N(yamls); i++) {
		print_message("case %zu\n", i);
		c = load(yamls[i], &d);
		dump_diag(&d);
		assert_non_null(c);
		assert_int_equal(d.nwarnings, 0);
		assert_string_equal(c->correlation.header, "X-Request-ID");
		assert_true(c->correlation.accept_incoming);
		assert_int_equal(c->correlation.generate, REQID_GEN_UUID7);
		assert_true(c->correlation.echo);
		assert_true(c->correlation.traceparent);
		assert_true(c->access_log.enabled);
		assert_true(c->access_log.to_stdout);
		assert_null(c->access_log.path);
		/* A present admin section turns the admin API on. */
		assert_true(c->admin.enabled);
		assert_string_equal(c->admin.address, "127.0.0.1:9901");
		sin = (const struct sockaddr_in *)&c->admin.addr;
		assert_int_equal(sin->sin_family, AF_INET);
		assert_int_equal(ntohs(sin->sin_port), 9901);
		assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
		assert_int_equal(c->admin.mark.line, 6); /* the admin key */
		assert_int_equal(c->admin.mark.col, 1);
		assert_null(c->admin.token_file);
		assert_null(c->admin.token);
		config_unref(c);
		config_diag_free(&d);
	}

	c = load(OK_HEAD ONE_UPS "access_log: { path: off }\n", &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_false(c->access_log.enabled);
	assert_false(c->access_log.to_stdout);
	assert_null(c->access_log.path);
	config_unref(c);
	config_diag_free(&d);

	c = load(OK_HEAD ONE_UPS "access_log: { path: /tmp/cutover-access.log }\n"
		 "admin: { address: \"[::1]:9901\" }\n",
	    &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_true(c->access_log.enabled);
	assert_false(c->access_log.to_stdout);
	assert_string_equal(c->access_log.path, "/tmp/cutover-access.log");
	assert_int_equal(c->admin.addr.ss_family, AF_INET6);
	assert_true(IN6_IS_ADDR_LOOPBACK(
	    &((const struct sockaddr_in6 *)&c->admin.addr)->sin6_addr));
	config_unref(c);
	config_diag_free(&d);

	/* "*:PORT" as for listeners (and a warning, see test_warnings) */
	c = load(OK_HEAD ONE_UPS "admin: { address: \":9901\" }\n", &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_true(c->admin.any_address);
	assert_int_equal(d.nwarnings, 1);
	config_unref(c);
	config_diag_free(&d);

	/* A listener on another port of the admin's address is fine. */
	c = load("listeners: [ { address: \"*:8080\" } ]\n" ONE_UPS
		 "admin: { address: \"127.0.0.1:8081\" }\n",
	    &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_int_equal(d.nerrors, 0);
	config_unref(c);
	config_diag_free(&d);
}

/* Relative to the file's directory; the directory must exist. */
static void
test_access_log_files(void **state)
{
	static const char yaml[] = OK_HEAD ONE_UPS
	    "access_log: { path: nodir/access.log }\n";
	char *dir = tmpdir_make();
	char name[512], want[1024];
	struct config_diag d;
	struct config *c;

	(void)state;
	snprintf(name, sizeof(name), "%s/c.yaml", dir);
	config_diag_init(&d);
	c = config_load_string(name, yaml, strlen(yaml), &d);
	dump_diag(&d);
	assert_null(c);
	assert_int_equal(d.nerrors, 1);
	snprintf(want, sizeof(want),
	    "%s:4:21: cannot use access_log directory \"%s/nodir\": No such "
	    "file or directory",
	    name, dir);
	assert_string_equal(d.errors[0], want);
	config_diag_free(&d);

	/* CONFIG_LOAD_NO_FILES does not look at the file system. */
	config_diag_init(&d);
	c = config_load_string_flags(name, yaml, strlen(yaml),
	    CONFIG_LOAD_NO_FILES, &d);
	dump_diag(&d);
	assert_non_null(c);
	snprintf(want, sizeof(want), "%s/nodir/access.log", dir);
	assert_string_equal(c->access_log.path, want);
	config_unref(c);
	config_diag_free(&d);

	snprintf(want, sizeof(want), "%s/nodir", dir);
	assert_int_equal(mkdir(want, 0700), 0);
	config_diag_init(&d);
	c = config_load_string(name, yaml, strlen(yaml), &d);
	dump_diag(&d);
	assert_non_null(c);
	snprintf(want, sizeof(want), "%s/nodir/access.log", dir);
	assert_string_equal(c->access_log.path, want);
	config_unref(c);
	config_diag_free(&d);

	/* An existing file is fine too (it is appended to). */
	write_file(dir, "nodir/access.log", "old line\n");
	config_diag_init(&d);
	c = config_load_string(name, yaml, strlen(yaml), &d);
	assert_non_null(c);
	config_unref(c);
	config_diag_free(&d);
	tmpdir_remove(dir);
}

static void
test_admin_token(void **state)
{
	static const char yaml[] = OK_HEAD ONE_UPS
	    "admin: { address: \"0.0.0.0:9901\", token_file: t.token }\n";
	static const struct {
		const char *what;
		const char *content; /* NULL: see `size` */
		size_t size;	     /* content of this many 'a's */
		const char *token;   /* NULL: an error */
		const char *error;   /* after "FILE:4:47: token_file \"PATH\"" */
	} cases[] = {
		{ "plain", "abc", 0, "abc", NULL },
		{ "LF", "abc\n", 0, "abc", NULL },
		{ "CRLF and spaces", "abc  \r\n", 0, "abc", NULL },
		{ "first line only", "abc\ndef\n", 0, "abc", NULL },
		{ "4 KiB", NULL, 4096, "", NULL },
		{ "empty", "", 0, NULL, " is empty (the token is its first line)" },
		{ "empty first line", "\nabc\n", 0, NULL,
		    " is empty (the token is its first line)" },
		{ "blank", " \t\r\n", 0, NULL,
		    " is empty (the token is its first line)" },
		{ "too big", NULL, 4097, NULL,
		    " is larger than 4KiB" },
		{ "space inside", "abc def\n", 0, NULL,
		    ": the token may contain only visible "
		    "ASCII characters, no spaces" },
		{ "leading space", " abc\n", 0, NULL,
		    ": the token may contain only visible "
		    "ASCII characters, no spaces" },
		{ "control byte", "ab\x01" "c\n", 0, NULL,
		    ": the token may contain only visible "
		    "ASCII characters, no spaces" },
	};
	char *dir = tmpdir_make();
	char name[512], path[512], want[2048];
	struct config_diag d;
	struct config *c;

	(void)state;
	snprintf(name, sizeof(name), "%s/c.yaml", dir);
	snprintf(path, sizeof(path), "%s/t.token", dir);
	for (size_t i = 0; i < N(cases); i++) {
		char *big = NULL;

		print_message("case: %s\n", cases[i].what);
		if (cases[i].content == NULL) {
			big = malloc(cases[i].size + 1);
			assert_non_null(big);
			memset(big, 'a', cases[i].size);
			big[cases[i].size] = '\0';
		}
		write_file(dir, "t.token", big != NULL ? big : cases[i].content);
		config_diag_init(&d);
		c = config_load_string(name, yaml, strlen(yaml), &d);
		dump_diag(&d);
		if (cases[i].error == NULL) {
			assert_non_null(c);
			assert_string_equal(c->admin.token_file, path);
			assert_string_equal(c->admin.token,
			    big != NULL ? big : cases[i].token);
			/* with a token, no warning about the address */
			assert_int_equal(d.nwarnings, 0);
		} else {
			assert_null(c);
			assert_int_equal(d.nerrors, 1);
			snprintf(want, sizeof(want), "%s:4:47: token_file \"%s\"%s",
			    name, path, cases[i].error);
			assert_string_equal(d.errors[0], want);
		}
		config_unref(c);
		config_diag_free(&d);
		free(big);
	}

	/* A NUL would cut the token short. */
	{
		FILE *f = fopen(path, "w");

		assert_non_null(f);
		assert_int_equal(fwrite("ab\0cd\n", 1, 6, f), 6);
		assert_int_equal(fclose(f), 0);
	}
	config_diag_init(&d);
	c = config_load_string(name, yaml, strlen(yaml), &d);
	assert_null(c);
	assert_int_equal(d.nerrors, 1);
	snprintf(want, sizeof(want),
	    "%s:4:47: token_file \"%s\": the token may contain only visible "
	    "ASCII characters, no spaces",
	    name, path);
	assert_string_equal(d.errors[0], want);
	config_diag_free(&d);

	/* Unreadable (unless we are root, who reads anything). */
	write_file(dir, "t.token", "abc\n");
	assert_int_equal(chmod(path, 0), 0);
	if (geteuid() != 0) {
		config_diag_init(&d);
		c = config_load_string(name, yaml, strlen(yaml), &d);
		assert_null(c);
		assert_int_equal(d.nerrors, 1);
		snprintf(want, sizeof(want),
		    "%s:4:47: cannot read token_file \"%s\": Permission denied",
		    name, path);
		assert_string_equal(d.errors[0], want);
		config_diag_free(&d);
	}

	/* CONFIG_LOAD_NO_FILES reads nothing. */
	config_diag_init(&d);
	c = config_load_string_flags(name, yaml, strlen(yaml),
	    CONFIG_LOAD_NO_FILES, &d);
	assert_null(c);
	assert_int_equal(d.nerrors, 1);
	snprintf(want, sizeof(want), "%s:4:47: token_file is disabled here",
	    name);
	assert_string_equal(d.errors[0], want);
	config_diag_free(&d);
	tmpdir_remove(dir);
}

static void
test_load_file(void **state)
{
	char *dir = tmpdir_make();
	char path[512], want[1024];
	struct config_diag d;
	struct config *c;

	(void)state;
	snprintf(path, sizeof(path), "%s/cutover.yaml", dir);
	write_file(dir, "cutover.yaml", full_yaml);
	config_diag_init(&d);
	c = config_load(path, &d);
	dump_diag(&d);
	assert_non_null(c);
	assert_string_equal(c->path, path);
	assert_int_equal(c->nroutes, 5);
	config_unref(c);
	config_diag_free(&d);

	write_file(dir, "cutover.yaml", OK_HEAD "workers: x\n");
	config_diag_init(&d);
	assert_null(config_load(path, &d));
	snprintf(want, sizeof(want),
	    "%s:2:10: expected \"auto\" or a number from 1 to 256, got \"x\"",
	    path);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.errors[0], want);
	config_diag_free(&d);

	snprintf(path, sizeof(path), "%s/missing.yaml", dir);
	config_diag_init(&d);
	assert_null(config_load(path, &d));
	snprintf(want, sizeof(want),
	    "%s: cannot read the configuration: No such file or directory",
	    path);
	assert_int_equal(d.nerrors, 1);
	assert_string_equal(d.errors[0], want);
	config_diag_free(&d);

	config_diag_init(&d);
	assert_null(config_load(dir, &d));
	assert_int_equal(d.nerrors, 1);
	assert_non_null(strstr(d.errors[0], "Is a directory"));
	config_diag_free(&d);
	tmpdir_remove(dir);
}

static void
test_no_dns(void **state)
{
	static const char yaml[] =
	    "listeners: [ { address: \"localhost:8080\" } ]\n"
	    "upstreams: { a: { servers: [ \"localhost:1\", \"127.0.0.1:2\" ] } }\n"
	    "routes: [ { name: all, upstream: a } ]\n"
	    "admin: { address: \"localhost:9901\" }\n";
	struct config_diag d;
	struct config *c;

	(void)state;
	config_diag_init(&d);
	c = config_load_string_flags("t.yaml", yaml, strlen(yaml),
	    CONFIG_LOAD_NO_DNS, &d);
	dump_diag(&d);
	assert_null(c);
	assert_int_equal(d.nerrors, 3);
	assert_true(has_line(d.errors, d.nerrors,
	    "t.yaml:1:25: cannot resolve listener address \"localhost:8080\": ",
	    true));
	assert_true(has_line(d.errors, d.nerrors,
	    "t.yaml:4:19: cannot resolve admin address \"localhost:9901\": ",
	    true));
	assert_true(has_line(d.errors, d.nerrors,
	    "t.yaml:2:30: cannot resolve server address \"localhost:1\": ",
	    true));
	config_diag_free(&d);
}

static void
test_refs(void **state)
{
	struct config_diag d;
	struct config *c;

	(void)state;
	c = load(full_yaml, &d);
	assert_non_null(c);
	assert_ptr_equal(config_ref(c), c);
	assert_int_equal(atomic_load(&c->refs), 2);
	config_unref(c);
	assert_int_equal(atomic_load(&c->refs), 1);
	config_unref(c); /* frees; LeakSanitizer checks the rest */
	config_unref(NULL);
	config_free(NULL);
	config_diag_free(&d);
}

static void
test_distance(void **state)
{
	static const struct {
		const char *a, *b;
		size_t d;
	} cases[] = {
		{ "", "", 0 },
		{ "abc", "abc", 0 },
		{ "biling", "billing", 1 },
		{ "wokrers", "workers", 1 }, /* a transposition is one edit */
		{ "", "ab", 2 },
		{ "abc", "", 3 },
		{ "kitten", "sitting", 3 },
		{ "connect_timeout", "conect_timeot", 2 },
		{ "abcdefgh", "a", 3 }, /* capped at max + 1 */
	};
	struct conf_check_suggest s;

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		assert_int_equal(conf_check_distance(cases[i].a, cases[i].b, 2),
		    cases[i].d > 2 ? 3 : cases[i].d);
	conf_check_suggest_init(&s, "wrokers");
	conf_check_suggest_add(&s, "listeners");
	conf_check_suggest_add(&s, "workers");
	conf_check_suggest_add(&s, "worker");
	assert_string_equal(s.best, "workers");
	conf_check_suggest_init(&s, "zzz");
	conf_check_suggest_add(&s, "workers");
	assert_null(s.best);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_inheritance),
		cmocka_unit_test(test_listeners),
		cmocka_unit_test(test_resilience_defaults),
		cmocka_unit_test(test_resilience_values),
		cmocka_unit_test(test_resilience_inheritance),
		cmocka_unit_test(test_health_check_inheritance),
		cmocka_unit_test(test_retry_on),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_shadow),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_error_collect),
		cmocka_unit_test(test_warnings),
		cmocka_unit_test(test_no_warnings),
		cmocka_unit_test(test_in_file),
		cmocka_unit_test(test_tls_values),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_section_forms),
		cmocka_unit_test(test_access_log_files),
		cmocka_unit_test(test_admin_token),
		cmocka_unit_test(test_load_file),
		cmocka_unit_test(test_no_dns),
		cmocka_unit_test(test_refs),
		cmocka_unit_test(test_distance),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
