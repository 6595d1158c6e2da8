/*
 * test_metrics: counting across workers, the text exposition (exact lines,
 * cumulative buckets, escaping, zero rows), the resilience counters
 * (rejections, retries, skipped retries, budget exhaustion, fallbacks), the
 * request table's overflow, promtool's verdict when it is installed, and a
 * scrape racing a writer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutover/metrics.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NONE METRICS_NONE

/*
 * The test config: names with characters that need escaping. Counters
 * are named by metrics slot (`id`), which a reload keeps for a name while
 * positions move: the slots here differ from the positions (P_*), so a
 * render that confused the two would show.
 */
#define R_API 5
#define R_WEIRD 9
#define U_BLUE 3
#define U_GREEN 7
#define L_V4 2
#define L_V6 6
#define P_API 0
#define P_WEIRD 1
#define P_BLUE 0
#define P_GREEN 1

static struct route_conf test_routes[] = {
	{ .name = "api", .index = P_API, .id = R_API },
	{ .name = "we\"ird\\route\nx", .index = P_WEIRD, .id = R_WEIRD },
};
static struct upstream_conf test_upstreams[] = {
	{ .name = "blue", .index = P_BLUE, .id = U_BLUE },
	{ .name = "gr\"een", .index = P_GREEN, .id = U_GREEN },
};
static struct listener_conf test_listeners[] = {
	{ .address = "127.0.0.1:8080", .id = L_V4 },
	{ .address = "[::1]:8443", .id = L_V6 },
};

#define WEIRD "we\\\"ird\\\\route\\nx" /* as rendered */
#define GREEN "gr\\\"een"

static void
test_config(struct config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->routes = test_routes;
	cfg->nroutes = NELEM(test_routes);
	cfg->upstreams = test_upstreams;
	cfg->nupstreams = NELEM(test_upstreams);
	cfg->listeners = test_listeners;
	cfg->nlisteners = NELEM(test_listeners);
}

/* Three workers on the test config. */
struct fixture {
	struct config cfg;
	struct metrics_worker *w[3];
	struct strbuf out;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	size_t i;

	if (f == NULL)
		return -1;
	test_config(&f->cfg);
	for (i = 0; i < NELEM(f->w); i++)
		f->w[i] = metrics_worker_new(&f->cfg);
	strbuf_init(&f->out);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	size_t i;

	for (i = 0; i < NELEM(f->w); i++) {
		metrics_worker_free(f->w[i]);
		f->w[i] = NULL;
	}
	strbuf_free(&f->out);
	free(f);
	return 0;
}

static const char *
render(struct fixture *f, const char *extra)
{
	f->out.len = 0;
	if (f->out.s != NULL)
		f->out.s[0] = '\0';
	metrics_render(&f->out, &f->cfg, f->w, NELEM(f->w), extra);
	return f->out.s;
}

/* The whole line `line` (without its newline) is in `text`. */
static bool
has_line(const char *text, const char *line)
{
	size_t n = strlen(line);
	const char *p = text;

	while ((p = strstr(p, line)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

static void
assert_line(const char *text, const char *line)
{
	if (!has_line(text, line)) {
		print_error("missing line: %s\n--- in:\n%s---\n", line, text);
		fail();
	}
}

/* The value of the series `series` ("name{labels}"), or -1 when absent. */
static double
series_value(const char *text, const char *series)
{
	size_t n = strlen(series);
	const char *p = text;

	while ((p = strstr(p, series)) != NULL) {
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
		p++;
	}
	return -1;
}

/* Lines starting with `prefix`. */
static size_t
count_lines(const char *text, const char *prefix)
{
	size_t n = 0, len = strlen(prefix);
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');

		if (strncmp(p, prefix, len) == 0)
			n++;
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return n;
}

/* ---- escaping */

struct escape_case {
	const char *in;
	const char *want;
};

static const struct escape_case escape_cases[] = {
	{ "", "" },
	{ "plain", "plain" },
	{ "a\"b", "a\\\"b" },
	{ "a\\b", "a\\\\b" },
	{ "a\nb", "a\\nb" },
	{ "\"\\\n", "\\\"\\\\\\n" },
	{ "tab\tstays", "tab\tstays" },
	{ "ünïcode", "ünïcode" },
	{ "end\\", "end\\\\" },
};

static void
test_escape_label(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(escape_cases); i++) {
		struct strbuf b;

		strbuf_init(&b);
		strbuf_adds(&b, "<");
		metrics_escape_label(&b, escape_cases[i].in);
		strbuf_adds(&b, ">");
		if (strncmp(b.s + 1, escape_cases[i].want, b.len - 2) != 0 ||
		    strlen(escape_cases[i].want) != b.len - 2)
			fail_msg("case %zu: got %s want <%s>", i, b.s,
			    escape_cases[i].want);
		strbuf_free(&b);
	}
}

/* ---- the whole exposition of a small scenario, byte for byte */

static const char tries_family[] =
    "# HELP cutover_upstream_tries_total Tries sent to an upstream, by "
    "outcome.\n"
    "# TYPE cutover_upstream_tries_total counter\n";

/* The families of render_resilience(), HELP and TYPE lines. */
#define REJECTED_FAMILY                                                      \
	"# HELP cutover_upstream_rejected_total Requests refused by cutover "  \
	"without trying the upstream, by reason.\n"                          \
	"# TYPE cutover_upstream_rejected_total counter\n"
#define RETRIES_FAMILY                                                       \
	"# HELP cutover_retries_total Retries sent, by what failed the try "  \
	"before.\n"                                                          \
	"# TYPE cutover_retries_total counter\n"
#define SKIPPED_FAMILY                                                       \
	"# HELP cutover_retries_skipped_total Retries not made although the " \
	"outcome was retryable, by reason.\n"                                \
	"# TYPE cutover_retries_skipped_total counter\n"
#define EXHAUSTED_FAMILY                                                     \
	"# HELP cutover_retry_budget_exhausted_total Retries refused because " \
	"the upstream's retry budget was spent.\n"                            \
	"# TYPE cutover_retry_budget_exhausted_total counter\n"
#define FALLBACKS_FAMILY                                                     \
	"# HELP cutover_fallbacks_total Requests handed to a route's "        \
	"fallback upstream, by reason.\n"                                    \
	"# TYPE cutover_fallbacks_total counter\n"
#define SHADOW_FAMILY                                                        \
	"# HELP cutover_shadow_total Shadow copies of a route's requests, by " \
	"what became of them.\n"                                             \
	"# TYPE cutover_shadow_total counter\n"

/* One upstream's rows of each per-upstream family, all zero. */
#define REJECTED_ZERO(u)                                                     \
	"cutover_upstream_rejected_total{upstream=\"" u                       \
	"\",reason=\"breaker_open\"} 0\n"                                     \
	"cutover_upstream_rejected_total{upstream=\"" u                       \
	"\",reason=\"no_capacity\"} 0\n"                                      \
	"cutover_upstream_rejected_total{upstream=\"" u                       \
	"\",reason=\"pending_timeout\"} 0\n"
#define RETRIES_ZERO(u)                                                      \
	"cutover_retries_total{upstream=\"" u                                 \
	"\",reason=\"connect_failure\"} 0\n"                                  \
	"cutover_retries_total{upstream=\"" u "\",reason=\"reset\"} 0\n"       \
	"cutover_retries_total{upstream=\"" u "\",reason=\"timeout\"} 0\n"     \
	"cutover_retries_total{upstream=\"" u "\",reason=\"status\"} 0\n"
#define SKIPPED_ZERO(u)                                                      \
	"cutover_retries_skipped_total{upstream=\"" u                         \
	"\",reason=\"budget\"} 0\n"                                           \
	"cutover_retries_skipped_total{upstream=\"" u                         \
	"\",reason=\"not_replayable\"} 0\n"                                   \
	"cutover_retries_skipped_total{upstream=\"" u                         \
	"\",reason=\"body_too_large\"} 0\n"                                   \
	"cutover_retries_skipped_total{upstream=\"" u                         \
	"\",reason=\"deadline\"} 0\n"                                         \
	"cutover_retries_skipped_total{upstream=\"" u                         \
	"\",reason=\"breaker\"} 0\n"
#define EXHAUSTED_ZERO(u)                                                    \
	"cutover_retry_budget_exhausted_total{upstream=\"" u "\"} 0\n"

/* render_resilience() of the test config with nothing counted. */
#define RESILIENCE_ZERO                                                      \
	REJECTED_FAMILY REJECTED_ZERO("blue") REJECTED_ZERO(GREEN)            \
	RETRIES_FAMILY RETRIES_ZERO("blue") RETRIES_ZERO(GREEN)               \
	SKIPPED_FAMILY SKIPPED_ZERO("blue") SKIPPED_ZERO(GREEN)               \
	EXHAUSTED_FAMILY EXHAUSTED_ZERO("blue") EXHAUSTED_ZERO(GREEN)         \
	FALLBACKS_FAMILY SHADOW_FAMILY

static void
test_render_exact(void **state)
{
	struct fixture *f = *state;
	const char *want =
	    "# HELP cutover_requests_total Requests answered, by route, "
	    "upstream and status code.\n"
	    "# TYPE cutover_requests_total counter\n"
	    "cutover_requests_total{route=\"\",upstream=\"\",code=\"404\"} 1\n"
	    "cutover_requests_total{route=\"api\",upstream=\"blue\","
	    "code=\"200\"} 3\n"
	    "# HELP cutover_request_duration_seconds Time from the parsed "
	    "request head to the end of its response, seen by the "
	    "client.\n"
	    "# TYPE cutover_request_duration_seconds histogram\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"0.001\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"0.0025\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"0.005\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"0.01\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"0.025\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"0.05\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"0.1\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"0.25\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"0.5\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"1\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"2.5\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"5\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"10\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"30\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"60\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"\",le=\"+Inf\"} 1\n"
	    "cutover_request_duration_seconds_sum{route=\"\"} 0.000050\n"
	    "cutover_request_duration_seconds_count{route=\"\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"0.001\"} 0\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"0.0025\"} 0\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"0.005\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"0.01\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"0.025\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"0.05\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"0.1\"} 1\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"0.25\"} 2\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"0.5\"} 2\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"1\"} 2\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"2.5\"} 2\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"5\"} 2\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"10\"} 2\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"30\"} 2\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"60\"} 2\n"
	    "cutover_request_duration_seconds_bucket{route=\"api\",le=\"+Inf\"} 3\n"
	    "cutover_request_duration_seconds_sum{route=\"api\"} 61.203000\n"
	    "cutover_request_duration_seconds_count{route=\"api\"} 3\n"
	    "# HELP cutover_upstream_tries_total Tries sent to an upstream, "
	    "by outcome.\n"
	    "# TYPE cutover_upstream_tries_total counter\n"
	    "cutover_upstream_tries_total{upstream=\"blue\",outcome=\"success\"} 3\n"
	    "cutover_upstream_tries_total{upstream=\"blue\",outcome=\"failure\"} 0\n"
	    "cutover_upstream_tries_total{upstream=\"blue\",outcome=\"timeout\"} 0\n"
	    "cutover_upstream_tries_total{upstream=\"blue\",outcome=\"reset\"} 0\n"
	    "cutover_upstream_tries_total{upstream=\"blue\","
	    "outcome=\"connect_failure\"} 1\n"
	    "cutover_upstream_tries_total{upstream=\"" GREEN
	    "\",outcome=\"success\"} 0\n"
	    "cutover_upstream_tries_total{upstream=\"" GREEN
	    "\",outcome=\"failure\"} 0\n"
	    "cutover_upstream_tries_total{upstream=\"" GREEN
	    "\",outcome=\"timeout\"} 0\n"
	    "cutover_upstream_tries_total{upstream=\"" GREEN
	    "\",outcome=\"reset\"} 0\n"
	    "cutover_upstream_tries_total{upstream=\"" GREEN
	    "\",outcome=\"connect_failure\"} 0\n"
	    "# HELP cutover_connections_active Client connections open, by "
	    "listener.\n"
	    "# TYPE cutover_connections_active gauge\n"
	    "cutover_connections_active{listener=\"127.0.0.1:8080\"} 2\n"
	    "cutover_connections_active{listener=\"[::1]:8443\"} 0\n"
	    "# HELP cutover_upstream_connections Connections to an upstream, "
	    "active (carrying a request) or idle (pooled).\n"
	    "# TYPE cutover_upstream_connections gauge\n"
	    "cutover_upstream_connections{upstream=\"blue\",state=\"active\"} 1\n"
	    "cutover_upstream_connections{upstream=\"blue\",state=\"idle\"} 2\n"
	    "cutover_upstream_connections{upstream=\"" GREEN
	    "\",state=\"active\"} 0\n"
	    "cutover_upstream_connections{upstream=\"" GREEN
	    "\",state=\"idle\"} 0\n"
	    /* No route of the test config has a fallback: no rows. */
	    RESILIENCE_ZERO
	    "# extra\n";

	metrics_request(f->w[0], R_API, U_BLUE, 200, 3000);
	metrics_request(f->w[1], R_API, U_BLUE, 200, 200000);
	metrics_request(f->w[2], R_API, U_BLUE, 200, 61000000);
	metrics_request(f->w[2], NONE, NONE, 404, 50);
	metrics_try(f->w[0], U_BLUE, METRICS_TRY_SUCCESS);
	metrics_try(f->w[1], U_BLUE, METRICS_TRY_SUCCESS);
	metrics_try(f->w[2], U_BLUE, METRICS_TRY_SUCCESS);
	metrics_try(f->w[2], U_BLUE, METRICS_TRY_CONNECT_FAILURE);
	metrics_connection(f->w[0], L_V4, 1);
	metrics_connection(f->w[1], L_V4, 1);
	metrics_connection(f->w[1], L_V6, 1);
	metrics_connection(f->w[2], L_V6, -1);
	metrics_upstream_conns(f->w[0], U_BLUE, 1, 0);
	metrics_upstream_conns(f->w[1], U_BLUE, 1, 1);
	metrics_upstream_conns(f->w[1], U_BLUE, -1, 1);

	assert_string_equal(render(f, "# extra\n"), want);
	/* A second scrape of the same counters is byte-identical. */
	assert_string_equal(render(f, "# extra\n"), want);
}

/* ---- requests_total: sums, sorting, escaping, "" labels */

static void
test_requests_total(void **state)
{
	struct fixture *f = *state;
	const char *t;
	int i;

	/* Counted in different orders on different workers. */
	for (i = 0; i < 5; i++)
		metrics_request(f->w[0], R_WEIRD, U_GREEN, 503, 10);
	metrics_request(f->w[0], R_API, U_BLUE, 200, 10);
	metrics_request(f->w[1], R_API, U_BLUE, 200, 10);
	metrics_request(f->w[1], R_WEIRD, U_GREEN, 503, 10);
	metrics_request(f->w[2], R_API, U_GREEN, 200, 10);
	metrics_request(f->w[2], R_API, U_BLUE, 502, 10);
	metrics_request(f->w[2], R_WEIRD, NONE, 204, 10); /* respond route */
	metrics_request(f->w[0], NONE, NONE, 400, 10);
	metrics_request(f->w[1], NONE, NONE, 400, 10);
	metrics_request(f->w[1], NONE, NONE, 404, 10);

	t = render(f, NULL);
	assert_line(t, "cutover_requests_total{route=\"api\",upstream=\"blue\","
	    "code=\"200\"} 2");
	assert_line(t, "cutover_requests_total{route=\"api\",upstream=\"blue\","
	    "code=\"502\"} 1");
	assert_line(t, "cutover_requests_total{route=\"api\",upstream=\"" GREEN
	    "\",code=\"200\"} 1");
	assert_line(t, "cutover_requests_total{route=\"" WEIRD
	    "\",upstream=\"" GREEN "\",code=\"503\"} 6");
	assert_line(t, "cutover_requests_total{route=\"" WEIRD
	    "\",upstream=\"\",code=\"204\"} 1");
	assert_line(t,
	    "cutover_requests_total{route=\"\",upstream=\"\",code=\"400\"} 2");
	assert_line(t,
	    "cutover_requests_total{route=\"\",upstream=\"\",code=\"404\"} 1");
	/* Only counted label sets appear. */
	assert_int_equal(count_lines(t, "cutover_requests_total{"), 7);

	/* Sorted: no route first, then by route, upstream, code. */
	{
		const char *order[] = {
			"cutover_requests_total{route=\"\",upstream=\"\","
			"code=\"400\"}",
			"cutover_requests_total{route=\"\",upstream=\"\","
			"code=\"404\"}",
			"cutover_requests_total{route=\"api\","
			"upstream=\"blue\",code=\"200\"}",
			"cutover_requests_total{route=\"api\","
			"upstream=\"blue\",code=\"502\"}",
			"cutover_requests_total{route=\"api\",upstream=\"" GREEN
			"\",code=\"200\"}",
			"cutover_requests_total{route=\"" WEIRD
			"\",upstream=\"\",code=\"204\"}",
			"cutover_requests_total{route=\"" WEIRD
			"\",upstream=\"" GREEN "\",code=\"503\"}",
		};
		const char *prev = t;
		size_t k;

		for (k = 0; k < NELEM(order); k++) {
			const char *p = strstr(t, order[k]);

			assert_non_null(p);
			assert_true(p >= prev);
			prev = p;
		}
	}

	/* Histogram series exist only for routes with observations. */
	assert_int_equal(count_lines(t,
	    "cutover_request_duration_seconds_count{"), 3);
	assert_line(t, "cutover_request_duration_seconds_count{route=\"api\"} 4");
	assert_line(t, "cutover_request_duration_seconds_count{route=\"" WEIRD
	    "\"} 7");
	assert_line(t, "cutover_request_duration_seconds_count{route=\"\"} 3");
}

static void
test_sum_requests(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(metrics_sum_requests(f->w, 3, R_API, NONE), 0);
	metrics_request(f->w[0], R_API, U_BLUE, 200, 1);
	metrics_request(f->w[1], R_API, U_BLUE, 500, 1);
	metrics_request(f->w[2], R_API, U_GREEN, 200, 1);
	metrics_request(f->w[2], R_API, NONE, 204, 1);
	metrics_request(f->w[0], R_WEIRD, U_GREEN, 200, 1);
	metrics_request(f->w[1], NONE, NONE, 404, 1);
	metrics_request(f->w[2], NONE, NONE, 404, 1);

	assert_int_equal(metrics_sum_requests(f->w, 3, R_API, NONE), 4);
	assert_int_equal(metrics_sum_requests(f->w, 3, R_API, U_BLUE), 2);
	assert_int_equal(metrics_sum_requests(f->w, 3, R_API, U_GREEN), 1);
	assert_int_equal(metrics_sum_requests(f->w, 3, R_WEIRD, NONE), 1);
	assert_int_equal(metrics_sum_requests(f->w, 3, R_WEIRD, U_BLUE), 0);
	assert_int_equal(metrics_sum_requests(f->w, 3, NONE, NONE), 2);
	/* Over a subset of the workers. */
	assert_int_equal(metrics_sum_requests(f->w, 1, R_API, NONE), 1);
	assert_int_equal(metrics_sum_requests(f->w, 0, R_API, NONE), 0);
	/* A route index the workers do not have. */
	assert_int_equal(metrics_sum_requests(f->w, 3, 99, NONE), 0);
}

/* ---- the duration histogram */

static void
test_histogram(void **state)
{
	struct fixture *f = *state;
	const char *t;

#define B(le) "cutover_request_duration_seconds_bucket{route=\"api\",le=\"" \
	le "\"}"
	/* Bounds are inclusive (le); values are microseconds. */
	metrics_request(f->w[0], R_API, U_BLUE, 200, 0);
	metrics_request(f->w[1], R_API, U_BLUE, 200, 1000);	/* le 0.001 */
	metrics_request(f->w[2], R_API, U_BLUE, 200, 1001);	/* le 0.0025 */
	metrics_request(f->w[0], R_API, U_BLUE, 200, 250000);	/* le 0.25 */
	metrics_request(f->w[1], R_API, U_BLUE, 200, 999999);	/* le 1 */
	metrics_request(f->w[2], R_API, U_BLUE, 200, 60000000); /* le 60 */
	metrics_request(f->w[0], R_API, U_BLUE, 200, 60000001); /* +Inf */
	metrics_request(f->w[0], R_API, U_BLUE, 200, UINT32_MAX); /* +Inf */

	t = render(f, NULL);
	assert_line(t, B("0.001") " 2");
	assert_line(t, B("0.0025") " 3");
	assert_line(t, B("0.005") " 3");
	assert_line(t, B("0.1") " 3");
	assert_line(t, B("0.25") " 4");
	assert_line(t, B("0.5") " 4");
	assert_line(t, B("1") " 5");
	assert_line(t, B("30") " 5");
	assert_line(t, B("60") " 6");
	assert_line(t, B("+Inf") " 8");
	assert_line(t, "cutover_request_duration_seconds_count{route=\"api\"} 8");
	/* 0 + 1000 + 1001 + 250000 + 999999 + 60000000 + 60000001 +
	 * 4294967295 us, printed as exact seconds */
	assert_line(t, "cutover_request_duration_seconds_sum{route=\"api\"} "
	    "4416.219296");
	assert_int_equal(count_lines(t, B("")), 0);
	assert_int_equal(count_lines(t,
	    "cutover_request_duration_seconds_bucket{route=\"api\""), 16);
	/* No other route observed anything. */
	assert_int_equal(count_lines(t,
	    "cutover_request_duration_seconds_bucket{"), 16);
#undef B
}

static void
test_histogram_sum_format(void **state)
{
	struct fixture *f = *state;
	const char *t;

	metrics_request(f->w[0], R_WEIRD, NONE, 204, 1);
	t = render(f, NULL);
	assert_line(t, "cutover_request_duration_seconds_sum{route=\"" WEIRD
	    "\"} 0.000001");
	metrics_request(f->w[1], R_WEIRD, NONE, 204, 1999999);
	t = render(f, NULL);
	assert_line(t, "cutover_request_duration_seconds_sum{route=\"" WEIRD
	    "\"} 2.000000");
	/* Parses back as the exact number of seconds. */
	assert_true(series_value(t, "cutover_request_duration_seconds_sum"
	    "{route=\"" WEIRD "\"}") == 2.0);
}

/* ---- tries, connections */

static void
test_tries(void **state)
{
	struct fixture *f = *state;
	static const char *const outcomes[] = {
		"success", "failure", "timeout", "reset", "connect_failure",
	};
	char line[256];
	const char *t;
	size_t o;

	/* No tries: every upstream x outcome, zeros included. */
	t = render(f, NULL);
	assert_int_equal(count_lines(t, "cutover_upstream_tries_total{"), 10);
	for (o = 0; o < NELEM(outcomes); o++) {
		snprintf(line, sizeof(line), "cutover_upstream_tries_total{"
		    "upstream=\"blue\",outcome=\"%s\"} 0", outcomes[o]);
		assert_line(t, line);
		snprintf(line, sizeof(line), "cutover_upstream_tries_total{"
		    "upstream=\"" GREEN "\",outcome=\"%s\"} 0", outcomes[o]);
		assert_line(t, line);
	}

	metrics_try(f->w[0], U_GREEN, METRICS_TRY_TIMEOUT);
	metrics_try(f->w[1], U_GREEN, METRICS_TRY_TIMEOUT);
	metrics_try(f->w[2], U_GREEN, METRICS_TRY_RESET);
	metrics_try(f->w[2], U_BLUE, METRICS_TRY_FAILURE);
	/* Out of range: ignored. */
	metrics_try(f->w[2], 7, METRICS_TRY_FAILURE);
	metrics_try(f->w[2], NONE, METRICS_TRY_FAILURE);
	metrics_try(f->w[2], U_BLUE, METRICS_TRY__COUNT);

	t = render(f, NULL);
	assert_line(t, "cutover_upstream_tries_total{upstream=\"" GREEN
	    "\",outcome=\"timeout\"} 2");
	assert_line(t, "cutover_upstream_tries_total{upstream=\"" GREEN
	    "\",outcome=\"reset\"} 1");
	assert_line(t, "cutover_upstream_tries_total{upstream=\"blue\","
	    "outcome=\"failure\"} 1");
	assert_line(t, "cutover_upstream_tries_total{upstream=\"blue\","
	    "outcome=\"success\"} 0");
	assert_int_equal(count_lines(t, "cutover_upstream_tries_total{"), 10);
}

static void
test_gauges(void **state)
{
	struct fixture *f = *state;
	const char *t;
	int i;

	for (i = 0; i < 10; i++)
		metrics_connection(f->w[i % 3], L_V6, 1);
	for (i = 0; i < 4; i++)
		metrics_connection(f->w[0], L_V6, -1);
	metrics_connection(f->w[2], L_V4, 1);
	metrics_connection(f->w[2], 9, 1); /* ignored */
	metrics_upstream_conns(f->w[0], U_GREEN, 3, 0);
	metrics_upstream_conns(f->w[1], U_GREEN, 2, 0);
	metrics_upstream_conns(f->w[1], U_GREEN, -1, 1); /* back to the pool */
	metrics_upstream_conns(f->w[2], U_GREEN, 0, 5);
	metrics_upstream_conns(f->w[2], U_GREEN, 0, -2);
	metrics_upstream_conns(f->w[2], NONE, 1, 1); /* ignored */

	t = render(f, NULL);
	/* A worker's own gauge may go negative; the sum is what counts. */
	assert_line(t, "cutover_connections_active{listener=\"[::1]:8443\"} 6");
	assert_line(t,
	    "cutover_connections_active{listener=\"127.0.0.1:8080\"} 1");
	assert_line(t, "cutover_upstream_connections{upstream=\"" GREEN
	    "\",state=\"active\"} 4");
	assert_line(t, "cutover_upstream_connections{upstream=\"" GREEN
	    "\",state=\"idle\"} 4");
	assert_line(t, "cutover_upstream_connections{upstream=\"blue\","
	    "state=\"active\"} 0");

	for (i = 0; i < 8; i++)
		metrics_connection(f->w[1], L_V4, -1);
	t = render(f, NULL);
	assert_line(t,
	    "cutover_connections_active{listener=\"127.0.0.1:8080\"} -7");
}

/* ---- odd inputs */

static void
test_out_of_range(void **state)
{
	struct fixture *f = *state;
	const char *t;

	/*
	 * Slots beyond CONF_IDS_MAX count as "none"; slots the rendering
	 * config does not name are not shown; odd statuses count as code 0.
	 */
	metrics_request(f->w[0], CONF_IDS_MAX + 42, CONF_IDS_MAX, 200, 10);
	metrics_request(f->w[0], R_API, CONF_IDS_MAX + 1, 1000, 10);
	metrics_request(f->w[0], 42, U_BLUE, 200, 10);
	metrics_request(f->w[0], R_API, 42, 200, 10);
	metrics_request(f->w[0], R_API, U_BLUE, -1, 10);
	metrics_request(f->w[0], R_API, U_BLUE, 0, 10);
	metrics_request(f->w[0], R_API, U_BLUE, 999, 10);

	t = render(f, NULL);
	assert_line(t,
	    "cutover_requests_total{route=\"\",upstream=\"\",code=\"200\"} 1");
	assert_line(t,
	    "cutover_requests_total{route=\"api\",upstream=\"\",code=\"0\"} 1");
	assert_line(t, "cutover_requests_total{route=\"api\",upstream=\"blue\","
	    "code=\"0\"} 2");
	assert_line(t, "cutover_requests_total{route=\"api\",upstream=\"blue\","
	    "code=\"999\"} 1");
	assert_int_equal(count_lines(t, "cutover_requests_total{"), 4);
}

static void
test_empty_config(void **state)
{
	struct config cfg;
	struct metrics_worker *w;
	struct strbuf b;

	(void)state;
	memset(&cfg, 0, sizeof(cfg));
	w = metrics_worker_new(&cfg);
	metrics_request(w, NONE, NONE, 404, 100);
	metrics_request(w, CONF_IDS_MAX, CONF_IDS_MAX, 200, 100); /* out of range: "none" */
	metrics_request(w, 0, 0, 200, 100); /* a slot this config does not name */
	metrics_try(w, 0, METRICS_TRY_SUCCESS);
	metrics_connection(w, 0, 1);
	metrics_upstream_conns(w, 0, 1, 1);
	/* No upstream or route to count them for: ignored. */
	metrics_rejected(w, 0, METRICS_REJECT_BREAKER_OPEN);
	metrics_retry(w, 0, METRICS_RETRY_STATUS);
	metrics_retry_skipped(w, 0, METRICS_SKIP_BUDGET);
	metrics_budget_exhausted(w, 0);
	metrics_fallback(w, 0, METRICS_FALLBACK_FAILURE);
	metrics_fallback(w, NONE, METRICS_FALLBACK_FAILURE);
	strbuf_init(&b);
	metrics_render(&b, &cfg, &w, 1, NULL);
	assert_true(has_line(b.s,
	    "cutover_requests_total{route=\"\",upstream=\"\",code=\"404\"} 1"));
	assert_true(has_line(b.s,
	    "cutover_requests_total{route=\"\",upstream=\"\",code=\"200\"} 1"));
	assert_true(has_line(b.s,
	    "cutover_request_duration_seconds_count{route=\"\"} 2"));
	assert_true(has_line(b.s, "# TYPE cutover_upstream_tries_total counter"));
	assert_int_equal(count_lines(b.s, "cutover_upstream_tries_total{"), 0);
	assert_int_equal(count_lines(b.s, "cutover_connections_active{"), 0);
	/* The resilience families are there, with no rows. */
	assert_non_null(strstr(b.s, REJECTED_FAMILY RETRIES_FAMILY
	    SKIPPED_FAMILY EXHAUSTED_FAMILY FALLBACKS_FAMILY SHADOW_FAMILY));
	assert_int_equal(count_lines(b.s, "cutover_upstream_rejected_total{"), 0);
	assert_int_equal(count_lines(b.s, "cutover_retries"), 0);
	assert_int_equal(count_lines(b.s, "cutover_retry_budget"), 0);
	assert_int_equal(count_lines(b.s, "cutover_fallbacks_total{"), 0);
	assert_int_equal(metrics_sum_requests(&w, 1, NONE, NONE), 2);
	strbuf_free(&b);
	metrics_worker_free(w);
	metrics_worker_free(NULL);

	/* No workers at all: the families, all zero. */
	test_config(&cfg);
	strbuf_init(&b);
	metrics_render(&b, &cfg, NULL, 0, "");
	assert_true(has_line(b.s, "cutover_upstream_tries_total{"
	    "upstream=\"blue\",outcome=\"success\"} 0"));
	assert_int_equal(count_lines(b.s, "cutover_requests_total{"), 0);
	assert_int_equal(count_lines(b.s, "cutover_request_duration"), 0);
	assert_int_equal(count_lines(b.s, "# HELP "), 11);
	assert_int_equal(count_lines(b.s, "# TYPE "), 11);
	assert_non_null(strstr(b.s, RESILIENCE_ZERO));
	strbuf_free(&b);
}

static void
test_extra(void **state)
{
	struct fixture *f = *state;
	const char *extra = "# HELP cutover_x_total X.\n"
	    "# TYPE cutover_x_total counter\ncutover_x_total 7\n";
	const char *t = render(f, extra);
	size_t n = strlen(t), m = strlen(extra);

	assert_true(n > m);
	assert_string_equal(t + n - m, extra);
	assert_non_null(strstr(t, tries_family));
}

/* ---- the request table's overflow */

static void
test_overflow(void **state)
{
	struct fixture *f = *state;
	static const size_t routes[] = { NONE, R_API, R_WEIRD };
	static const size_t ups[] = { NONE, U_BLUE, U_GREEN };
	uint64_t total = 0, other = 0;
	size_t r, u, sets = 0, lines;
	const char *t, *p;
	int code;

	/* 3 x 3 x 500 = 4500 label sets: more than one table holds. */
	for (code = 100; code < 600; code++)
		for (r = 0; r < NELEM(routes); r++)
			for (u = 0; u < NELEM(ups); u++) {
				metrics_request(f->w[0], routes[r], ups[u],
				    code, 10);
				sets++;
			}
	/* A label set already in the table keeps its own row. */
	metrics_request(f->w[0], NONE, NONE, 100, 10);
	/* Another worker's table is its own. */
	metrics_request(f->w[1], R_WEIRD, U_GREEN, 599, 10);

	t = render(f, NULL);
	lines = count_lines(t, "cutover_requests_total{");
	/* Every row the first table took, one "other" row per route, and
	 * the second worker's row. */
	assert_int_equal(lines, 4096 / 4 * 3 + 3 + 1);
	assert_int_equal(count_lines(t, "cutover_requests_total{route=\"\","
	    "upstream=\"\",code=\"other\"}"), 1);
	assert_int_equal(count_lines(t, "cutover_requests_total{route=\"api\","
	    "upstream=\"\",code=\"other\"}"), 1);
	assert_int_equal(count_lines(t, "cutover_requests_total{route=\""
	    WEIRD "\",upstream=\"\",code=\"other\"}"), 1);
	assert_line(t, "cutover_requests_total{route=\"\",upstream=\"\","
	    "code=\"100\"} 2");
	assert_line(t, "cutover_requests_total{route=\"" WEIRD "\",upstream=\""
	    GREEN "\",code=\"599\"} 1");

	for (p = t; (p = strstr(p, "\ncutover_requests_total{")) != NULL;
	     p++) {
		const char *sp = strchr(p, '}');
		uint64_t v = strtoull(sp + 2, NULL, 10);

		total += v;
		if (strncmp(sp - 12, "code=\"other\"", 12) == 0)
			other += v;
	}
	assert_int_equal(total, sets + 2);
	assert_int_equal(other, sets - (lines - 3 - 1));
	/* Per-route totals stay exact; only their split is lost. */
	assert_int_equal(metrics_sum_requests(f->w, 3, NONE, NONE), 1501);
	assert_int_equal(metrics_sum_requests(f->w, 3, R_API, NONE), 1500);
	assert_int_equal(metrics_sum_requests(f->w, 3, R_WEIRD, NONE), 1501);
	assert_true(metrics_sum_requests(f->w, 3, R_API, U_BLUE) < 500);
	/* The histogram is dense, so it has every request. */
	assert_line(t, "cutover_request_duration_seconds_count{route=\"api\"} "
	    "1500");
}

/* ---- promtool */

static bool
find_promtool(char *path, size_t len)
{
	const char *env = getenv("PATH");
	char *dirs, *dir, *save = NULL;
	bool found = false;

	if (access("/usr/bin/promtool", X_OK) == 0) {
		snprintf(path, len, "/usr/bin/promtool");
		return true;
	}
	if (env == NULL)
		return false;
	dirs = strdup(env);
	if (dirs == NULL)
		return false;
	for (dir = strtok_r(dirs, ":", &save); dir != NULL && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, len, "%s/promtool", dir);
		found = access(path, X_OK) == 0;
	}
	free(dirs);
	return found;
}

/* `promtool check metrics` must accept `text` (lint warnings included). */
static void
promtool_check(const char *promtool, const char *text)
{
	char file[] = "/tmp/test_metrics.XXXXXX";
	char cmd[8192], buf[512];
	struct strbuf output;
	FILE *fp, *pp;
	int fd, rc;

	fd = mkstemp(file);
	assert_true(fd != -1);
	fp = fdopen(fd, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);

	snprintf(cmd, sizeof(cmd), "'%s' check metrics < '%s' 2>&1", promtool,
	    file);
	pp = popen(cmd, "r");
	assert_non_null(pp);
	strbuf_init(&output);
	while (fgets(buf, sizeof(buf), pp) != NULL)
		strbuf_adds(&output, buf);
	rc = pclose(pp);
	unlink(file);
	if (rc != 0) {
		print_error("promtool exit %d:\n%s\n--- input:\n%s", rc,
		    output.s != NULL ? output.s : "", text);
		strbuf_free(&output);
		fail();
	}
	strbuf_free(&output);
}

static void
test_promtool(void **state)
{
	struct fixture *f = *state;
	char promtool[4096];
	const char *t;

	if (!find_promtool(promtool, sizeof(promtool))) {
		print_message("promtool not found; skipping\n");
		skip();
	}
	metrics_request(f->w[0], R_API, U_BLUE, 200, 1500);
	metrics_request(f->w[1], R_WEIRD, U_GREEN, 503, 12345678);
	metrics_request(f->w[2], R_WEIRD, NONE, 204, 5);
	metrics_request(f->w[2], NONE, NONE, 404, 77);
	metrics_try(f->w[0], U_BLUE, METRICS_TRY_SUCCESS);
	metrics_try(f->w[1], U_GREEN, METRICS_TRY_RESET);
	metrics_connection(f->w[0], L_V4, 1);
	metrics_connection(f->w[1], L_V6, 2);
	metrics_upstream_conns(f->w[2], U_BLUE, 1, 3);
	t = render(f, "# HELP cutover_config_reloads_total Reloads.\n"
	    "# TYPE cutover_config_reloads_total counter\n"
	    "cutover_config_reloads_total{result=\"ok\"} 1\n");
	promtool_check(promtool, t);
}

/* ---- resilience counters, summed over workers */

/*
 * Two workers count every reason of every resilience family (the third
 * counts nothing); the scrape shows the sums, zeros included, and a
 * fallbacks_total row set only for the route that has a fallback.
 */
static void
test_resilience(void **state)
{
	struct fixture *f = *state;
	/* The test routes, "api" with a fallback from blue to green. */
	struct route_conf routes[NELEM(test_routes)];
	const char *want =
	    REJECTED_FAMILY
	    "cutover_upstream_rejected_total{upstream=\"blue\","
	    "reason=\"breaker_open\"} 5\n"
	    "cutover_upstream_rejected_total{upstream=\"blue\","
	    "reason=\"no_capacity\"} 0\n"
	    "cutover_upstream_rejected_total{upstream=\"blue\","
	    "reason=\"pending_timeout\"} 1\n"
	    "cutover_upstream_rejected_total{upstream=\"" GREEN "\","
	    "reason=\"breaker_open\"} 0\n"
	    "cutover_upstream_rejected_total{upstream=\"" GREEN "\","
	    "reason=\"no_capacity\"} 5\n"
	    "cutover_upstream_rejected_total{upstream=\"" GREEN "\","
	    "reason=\"pending_timeout\"} 0\n"
	    RETRIES_FAMILY
	    "cutover_retries_total{upstream=\"blue\","
	    "reason=\"connect_failure\"} 1\n"
	    "cutover_retries_total{upstream=\"blue\",reason=\"reset\"} 0\n"
	    "cutover_retries_total{upstream=\"blue\",reason=\"timeout\"} 0\n"
	    "cutover_retries_total{upstream=\"blue\",reason=\"status\"} 5\n"
	    "cutover_retries_total{upstream=\"" GREEN "\","
	    "reason=\"connect_failure\"} 0\n"
	    "cutover_retries_total{upstream=\"" GREEN "\",reason=\"reset\"} 2\n"
	    "cutover_retries_total{upstream=\"" GREEN "\",reason=\"timeout\"} "
	    "1\n"
	    "cutover_retries_total{upstream=\"" GREEN "\",reason=\"status\"} "
	    "0\n"
	    SKIPPED_FAMILY
	    "cutover_retries_skipped_total{upstream=\"blue\","
	    "reason=\"budget\"} 3\n"
	    "cutover_retries_skipped_total{upstream=\"blue\","
	    "reason=\"not_replayable\"} 1\n"
	    "cutover_retries_skipped_total{upstream=\"blue\","
	    "reason=\"body_too_large\"} 0\n"
	    "cutover_retries_skipped_total{upstream=\"blue\","
	    "reason=\"deadline\"} 0\n"
	    "cutover_retries_skipped_total{upstream=\"blue\","
	    "reason=\"breaker\"} 0\n"
	    "cutover_retries_skipped_total{upstream=\"" GREEN "\","
	    "reason=\"budget\"} 0\n"
	    "cutover_retries_skipped_total{upstream=\"" GREEN "\","
	    "reason=\"not_replayable\"} 0\n"
	    "cutover_retries_skipped_total{upstream=\"" GREEN "\","
	    "reason=\"body_too_large\"} 1\n"
	    "cutover_retries_skipped_total{upstream=\"" GREEN "\","
	    "reason=\"deadline\"} 1\n"
	    "cutover_retries_skipped_total{upstream=\"" GREEN "\","
	    "reason=\"breaker\"} 3\n"
	    EXHAUSTED_FAMILY
	    "cutover_retry_budget_exhausted_total{upstream=\"blue\"} 3\n"
	    "cutover_retry_budget_exhausted_total{upstream=\"" GREEN "\"} 1\n"
	    FALLBACKS_FAMILY
	    "cutover_fallbacks_total{route=\"api\",from=\"blue\",to=\"" GREEN
	    "\",reason=\"unavailable\"} 3\n"
	    "cutover_fallbacks_total{route=\"api\",from=\"blue\",to=\"" GREEN
	    "\",reason=\"failure\"} 4\n"
	    "cutover_fallbacks_total{route=\"api\",from=\"blue\",to=\"" GREEN
	    "\",reason=\"status\"} 1\n"
	    SHADOW_FAMILY
	    "cutover_shadow_total{route=\"we\\\"ird\\\\route\\nx\",result=\"match\"} 2\n"
	    "cutover_shadow_total{route=\"we\\\"ird\\\\route\\nx\",result=\"mismatch\"} 1\n"
	    "cutover_shadow_total{route=\"we\\\"ird\\\\route\\nx\",result=\"error\"} 0\n"
	    "cutover_shadow_total{route=\"we\\\"ird\\\\route\\nx\",result=\"skipped\"} 4\n"
	    "cutover_shadow_total{route=\"we\\\"ird\\\\route\\nx\",result=\"sent\"} 0\n";
	char promtool[4096];
	const char *t, *p;
	int i;

	memcpy(routes, test_routes, sizeof(routes));
	routes[P_API].upstream = &test_upstreams[P_BLUE];
	routes[P_API].upstream_name = test_upstreams[P_BLUE].name;
	routes[P_API].fallback.upstream = &test_upstreams[P_GREEN];
	routes[P_API].fallback.upstream_name = test_upstreams[P_GREEN].name;
	routes[P_WEIRD].upstream = &test_upstreams[P_GREEN];
	routes[P_WEIRD].upstream_name = test_upstreams[P_GREEN].name;
	routes[P_WEIRD].shadow.enabled = true;
	f->cfg.routes = routes;

	/* Before anything is counted: every row, at zero. */
	t = render(f, NULL);
	p = strstr(t, REJECTED_FAMILY);
	assert_non_null(p);
	assert_int_equal(count_lines(p, "cutover_upstream_rejected_total{"), 6);
	assert_int_equal(count_lines(p, "cutover_retries_total{"), 8);
	assert_int_equal(count_lines(p, "cutover_retries_skipped_total{"), 10);
	assert_int_equal(count_lines(p,
	    "cutover_retry_budget_exhausted_total{"), 2);
	assert_int_equal(count_lines(p, "cutover_fallbacks_total{"), 3);
	assert_line(t, "cutover_fallbacks_total{route=\"api\",from=\"blue\","
	    "to=\"" GREEN "\",reason=\"status\"} 0");

	/* cutover_upstream_rejected_total */
	for (i = 0; i < 3; i++)
		metrics_rejected(f->w[0], U_BLUE, METRICS_REJECT_BREAKER_OPEN);
	metrics_rejected(f->w[0], U_GREEN, METRICS_REJECT_NO_CAPACITY);
	for (i = 0; i < 2; i++)
		metrics_rejected(f->w[1], U_BLUE, METRICS_REJECT_BREAKER_OPEN);
	metrics_rejected(f->w[1], U_BLUE, METRICS_REJECT_PENDING_TIMEOUT);
	for (i = 0; i < 4; i++)
		metrics_rejected(f->w[1], U_GREEN, METRICS_REJECT_NO_CAPACITY);
	/* cutover_retries_total */
	metrics_retry(f->w[0], U_BLUE, METRICS_RETRY_CONNECT_FAILURE);
	for (i = 0; i < 2; i++)
		metrics_retry(f->w[0], U_BLUE, METRICS_RETRY_STATUS);
	for (i = 0; i < 3; i++)
		metrics_retry(f->w[1], U_BLUE, METRICS_RETRY_STATUS);
	metrics_retry(f->w[1], U_GREEN, METRICS_RETRY_TIMEOUT);
	for (i = 0; i < 2; i++)
		metrics_retry(f->w[1], U_GREEN, METRICS_RETRY_RESET);
	/* cutover_retries_skipped_total */
	for (i = 0; i < 2; i++)
		metrics_retry_skipped(f->w[0], U_BLUE, METRICS_SKIP_BUDGET);
	metrics_retry_skipped(f->w[0], U_GREEN, METRICS_SKIP_BODY_TOO_LARGE);
	metrics_retry_skipped(f->w[1], U_BLUE, METRICS_SKIP_BUDGET);
	metrics_retry_skipped(f->w[1], U_BLUE, METRICS_SKIP_NOT_REPLAYABLE);
	metrics_retry_skipped(f->w[1], U_GREEN, METRICS_SKIP_DEADLINE);
	for (i = 0; i < 3; i++)
		metrics_retry_skipped(f->w[1], U_GREEN, METRICS_SKIP_BREAKER);
	/* cutover_retry_budget_exhausted_total */
	metrics_budget_exhausted(f->w[0], U_BLUE);
	for (i = 0; i < 2; i++)
		metrics_budget_exhausted(f->w[1], U_BLUE);
	metrics_budget_exhausted(f->w[1], U_GREEN);
	/* cutover_fallbacks_total */
	for (i = 0; i < 2; i++)
		metrics_fallback(f->w[0], R_API, METRICS_FALLBACK_UNAVAILABLE);
	metrics_fallback(f->w[0], R_API, METRICS_FALLBACK_STATUS);
	metrics_fallback(f->w[1], R_API, METRICS_FALLBACK_UNAVAILABLE);
	for (i = 0; i < 4; i++)
		metrics_fallback(f->w[1], R_API, METRICS_FALLBACK_FAILURE);
	/* cutover_shadow_total: rendered for routes with a shadow only. */
	metrics_shadow(f->w[0], R_WEIRD, METRICS_SHADOW_MATCH);
	metrics_shadow(f->w[1], R_WEIRD, METRICS_SHADOW_MATCH);
	metrics_shadow(f->w[1], R_WEIRD, METRICS_SHADOW_MISMATCH);
	for (i = 0; i < 4; i++)
		metrics_shadow(f->w[i % 2], R_WEIRD, METRICS_SHADOW_SKIPPED);
	metrics_shadow(f->w[0], R_API, METRICS_SHADOW_ERROR);
	metrics_shadow(f->w[0], CONF_IDS_MAX, METRICS_SHADOW_ERROR);
	metrics_shadow(f->w[0], R_WEIRD, METRICS_SHADOW__COUNT);
	assert_int_equal(metrics_sum_shadow(f->w, 2, R_WEIRD,
	    METRICS_SHADOW_SKIPPED), 4);
	assert_int_equal(metrics_sum_fallbacks(f->w, 2, R_API,
	    METRICS_FALLBACK_UNAVAILABLE), 3);
	assert_string_equal(metrics_shadow_name(METRICS_SHADOW_SENT), "sent");
	/* Counted for a route without a fallback: not rendered. */
	for (i = 0; i < 5; i++)
		metrics_fallback(f->w[1], R_WEIRD, METRICS_FALLBACK_FAILURE);
	/* Slots out of range: ignored; slots the config does not name: not shown. */
	metrics_rejected(f->w[0], CONF_IDS_MAX, METRICS_REJECT_BREAKER_OPEN);
	metrics_rejected(f->w[0], NONE, METRICS_REJECT_NO_CAPACITY);
	metrics_retry(f->w[0], 8, METRICS_RETRY_STATUS);
	metrics_retry_skipped(f->w[1], NONE, METRICS_SKIP_BUDGET);
	metrics_budget_exhausted(f->w[1], CONF_IDS_MAX + 2);
	metrics_budget_exhausted(f->w[1], NONE);
	metrics_fallback(f->w[0], CONF_IDS_MAX, METRICS_FALLBACK_UNAVAILABLE);
	metrics_fallback(f->w[0], 4, METRICS_FALLBACK_STATUS);
	metrics_fallback(f->w[0], NONE, METRICS_FALLBACK_STATUS);

	/* The resilience families close the exposition (no `extra`). */
	t = render(f, NULL);
	p = strstr(t, REJECTED_FAMILY);
	assert_non_null(p);
	assert_string_equal(p, want);
	/* The families before them did not move. */
	assert_int_equal(count_lines(t, "cutover_requests_total{"), 0);
	assert_line(t, "cutover_upstream_tries_total{upstream=\"blue\","
	    "outcome=\"success\"} 0");
	/* A second scrape is the same. */
	assert_string_equal(strstr(render(f, NULL), REJECTED_FAMILY), want);

	/* Without the fallback, its rows go. */
	routes[P_API].fallback.upstream = NULL;
	routes[P_API].fallback.upstream_name = NULL;
	t = render(f, NULL);
	assert_int_equal(count_lines(t, "cutover_fallbacks_total{"), 0);
	assert_line(t, "cutover_retry_budget_exhausted_total{upstream=\"blue\"} "
	    "3");
	/* A route with a fallback but no upstream (a respond route) has none. */
	routes[P_API].upstream = NULL;
	routes[P_API].fallback.upstream = &test_upstreams[P_GREEN];
	t = render(f, NULL);
	assert_int_equal(count_lines(t, "cutover_fallbacks_total{"), 0);
	routes[P_API].upstream = &test_upstreams[P_BLUE];

	if (!find_promtool(promtool, sizeof(promtool))) {
		print_message("promtool not found; skipping its check\n");
		return;
	}
	promtool_check(promtool, render(f, NULL));
}

/* ---- a scrape racing the writer */

#define RACE_N 1000000

struct race {
	struct metrics_worker *w;
	atomic_bool done;
};

static void *
race_writer(void *arg)
{
	struct race *r = arg;
	int i;

	for (i = 0; i < RACE_N; i++) {
		metrics_request(r->w, (i & 1) == 0 ? R_API : R_WEIRD, U_BLUE,
		    i % 10 == 0 ? 503 : 200, (uint64_t)(i % 100000));
		metrics_try(r->w, U_BLUE, METRICS_TRY_SUCCESS);
	}
	atomic_store_explicit(&r->done, true, memory_order_release);
	return NULL;
}

static void
test_threaded(void **state)
{
	struct fixture *f = *state;
	struct race r = { .w = f->w[1] };
	double last_api = 0, last_count = 0, last_tries = 0, last_503 = 0;
	uint64_t last_sum = 0;
	pthread_t th;
	unsigned scrapes = 0;
	const char *t;

	assert_int_equal(pthread_create(&th, NULL, race_writer, &r), 0);
	for (;;) {
		bool done = atomic_load_explicit(&r.done, memory_order_acquire);
		double api, count, tries, e503, bucket;
		uint64_t sum;

		t = render(f, NULL);
		api = series_value(t, "cutover_requests_total{route=\"api\","
		    "upstream=\"blue\",code=\"200\"}");
		e503 = series_value(t, "cutover_requests_total{route=\"api\","
		    "upstream=\"blue\",code=\"503\"}");
		count = series_value(t, "cutover_request_duration_seconds_count"
		    "{route=\"api\"}");
		bucket = series_value(t,
		    "cutover_request_duration_seconds_bucket"
		    "{route=\"api\",le=\"+Inf\"}");
		tries = series_value(t, "cutover_upstream_tries_total"
		    "{upstream=\"blue\",outcome=\"success\"}");
		sum = metrics_sum_requests(f->w, 3, NONE, NONE) +
		    metrics_sum_requests(f->w, 3, R_API, NONE) +
		    metrics_sum_requests(f->w, 3, R_WEIRD, NONE);
		/* Counters never go backwards; _count is the +Inf bucket. */
		assert_true(api >= last_api || api == -1);
		assert_true(e503 >= last_503 || e503 == -1);
		assert_true(count >= last_count || count == -1);
		assert_true(tries >= last_tries);
		assert_true(sum >= last_sum);
		assert_true(count == bucket);
		if (api != -1)
			last_api = api;
		if (e503 != -1)
			last_503 = e503;
		if (count != -1)
			last_count = count;
		last_tries = tries;
		last_sum = sum;
		scrapes++;
		if (done)
			break;
	}
	assert_int_equal(pthread_join(th, NULL), 0);
	print_message("%u scrapes during %d requests\n", scrapes, RACE_N);

	t = render(f, NULL);
	assert_true(last_sum == RACE_N);
	assert_line(t, "cutover_requests_total{route=\"api\",upstream=\"blue\","
	    "code=\"200\"} 400000");
	assert_line(t, "cutover_requests_total{route=\"api\",upstream=\"blue\","
	    "code=\"503\"} 100000");
	assert_line(t, "cutover_requests_total{route=\"" WEIRD "\","
	    "upstream=\"blue\",code=\"200\"} 500000");
	assert_line(t, "cutover_request_duration_seconds_count{route=\"api\"} "
	    "500000");
	assert_line(t, "cutover_upstream_tries_total{upstream=\"blue\","
	    "outcome=\"success\"} 1000000");
	/* Sum over i of i % 100000 for even i, in microseconds: 10 rounds
	 * of (0 + 2 + ... + 99998) = 10 * 2499950000 us. */
	assert_line(t, "cutover_request_duration_seconds_sum{route=\"api\"} "
	    "24999.500000");
	assert_int_equal(metrics_sum_requests(f->w, 3, R_API, U_BLUE), 500000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape_label),
		cmocka_unit_test_setup_teardown(test_render_exact, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_requests_total, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_sum_requests, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_histogram, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_histogram_sum_format,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_tries, setup, teardown),
		cmocka_unit_test_setup_teardown(test_gauges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_out_of_range, setup,
		    teardown),
		cmocka_unit_test(test_empty_config),
		cmocka_unit_test_setup_teardown(test_resilience, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_extra, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overflow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_promtool, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_threaded, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
