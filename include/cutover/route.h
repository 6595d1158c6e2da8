/*
 * route: first-match routing over a configuration generation, with an
 * optional decision trace for `explain`.
 */
#ifndef CUTOVER_ROUTE_H
#define CUTOVER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "cutover/config.h"
#include "cutover/http_parse.h"

/*
 * What routing looks at. All spans borrowed from the caller. `path` is the
 * normalised path (no query); `host` is the Host (or absolute-form
 * authority) with any port still attached: route_match ignores the port and
 * compares case-insensitively.
 */
struct route_request {
	struct http_span method;
	struct http_span path;
	struct http_span query; /* raw query string without '?' */
	struct http_span host;
	const struct http_field *fields;
	size_t nfields;
};

/* Why one route did not match (for explain). */
struct route_step {
	const struct route_conf *route;
	bool matched;
	const char *failed; /* static: "inactive", "path", "method", "host", "header", "cookie", "query" */
	const char *detail; /* the name of the failing header/cookie/query field, or NULL */
};

/*
 * Trace of a routing decision. Owner: the caller; `steps` is an array of
 * `max_steps` entries; at most that many are recorded.
 */
struct route_trace {
	struct route_step *steps;
	size_t nsteps;
	size_t max_steps;
};

/*
 * First active route of `cfg` whose conditions all hold, or NULL. When
 * `trace` is given, every route considered is recorded in order (including
 * inactive ones, as failed "inactive").
 */
const struct route_conf *route_match(const struct config *cfg,
    const struct route_request *req, struct route_trace *trace);

/* True when `route`'s conditions all hold (ignores `active`). */
bool route_conditions_hold(const struct route_conf *route,
    const struct route_request *req, const char **failed,
    const char **detail);

/* The value of the first cookie `name` in the request's Cookie fields. */
bool route_cookie_value(const struct route_request *req, const char *name,
    struct http_span *out);

/*
 * Free the calling thread's cached PCRE2 match data (created by the first
 * regex route a thread evaluates). Call it before a worker thread exits;
 * harmless when there is none.
 */
void route_thread_cleanup(void);

#endif /* CUTOVER_ROUTE_H */
