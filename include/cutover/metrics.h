/*
 * metrics: Prometheus counters and histograms (SPEC section 6), counted per
 * worker without locks and summed when /metrics is scraped.
 *
 * Each worker owns one struct metrics_worker and is its only writer; the
 * admin thread reads. Counters are relaxed atomics: a single writer's
 * increment is a plain load and store (no lock prefix), and a reader never
 * sees a torn value. Label values come only from the configuration (route
 * and upstream names) and from bounded sets (status 100-599, outcomes), so
 * cardinality is bounded.
 *
 * Routes, upstreams and listeners are named by their metrics slot (`id`
 * in config.h, below CONF_IDS_MAX), not by their position in one
 * generation, so counters outlive a reload; rendering maps slots back to
 * the names of the configuration it is given.
 */
#ifndef CUTOVER_METRICS_H
#define CUTOVER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "cutover/config.h"
#include "cutover/strbuf.h"

/* No route / no upstream (a 404, a respond route, an early 400). */
#define METRICS_NONE SIZE_MAX

enum metrics_outcome {
	METRICS_TRY_SUCCESS = 0,
	METRICS_TRY_FAILURE,	     /* 5xx, invalid response */
	METRICS_TRY_TIMEOUT,
	METRICS_TRY_RESET,
	METRICS_TRY_CONNECT_FAILURE,
	METRICS_TRY__COUNT,
};

/* cutover_upstream_rejected_total{reason} */
enum metrics_reject {
	METRICS_REJECT_BREAKER_OPEN = 0,
	METRICS_REJECT_NO_CAPACITY,
	METRICS_REJECT_PENDING_TIMEOUT,
	METRICS_REJECT__COUNT,
};

/* cutover_retries_total{reason}: what failed the try that is retried. */
enum metrics_retry {
	METRICS_RETRY_CONNECT_FAILURE = 0,
	METRICS_RETRY_RESET,
	METRICS_RETRY_TIMEOUT,
	METRICS_RETRY_STATUS,
	METRICS_RETRY__COUNT,
};

/* cutover_retries_skipped_total{reason} */
enum metrics_skip {
	METRICS_SKIP_BUDGET = 0,
	METRICS_SKIP_NOT_REPLAYABLE,
	METRICS_SKIP_BODY_TOO_LARGE,
	METRICS_SKIP_DEADLINE,
	METRICS_SKIP_BREAKER,
	METRICS_SKIP__COUNT,
};

/* cutover_fallbacks_total{reason} */
enum metrics_fallback {
	METRICS_FALLBACK_UNAVAILABLE = 0,
	METRICS_FALLBACK_FAILURE,
	METRICS_FALLBACK_STATUS,
	METRICS_FALLBACK__COUNT,
};

/*
 * cutover_shadow_total{result}: what became of a route's shadow copy.
 * `sent`: answered, not compared (the route's shadow has no `compare`).
 */
enum metrics_shadow {
	METRICS_SHADOW_MATCH = 0,
	METRICS_SHADOW_MISMATCH,
	METRICS_SHADOW_ERROR,
	METRICS_SHADOW_SKIPPED,
	METRICS_SHADOW_SENT,
	METRICS_SHADOW__COUNT,
};

struct metrics_worker;

/* Allocate counters sized for `cfg` (routes, upstreams, listeners). */
struct metrics_worker *metrics_worker_new(const struct config *cfg);
void metrics_worker_free(struct metrics_worker *m);

/* One finished request: cutover_requests_total and the duration histogram. */
void metrics_request(struct metrics_worker *m, size_t route, size_t upstream,
    int status, uint64_t duration_us);
/* One try towards an upstream: cutover_upstream_tries_total. */
void metrics_try(struct metrics_worker *m, size_t upstream,
    enum metrics_outcome o);
/* Resilience counters (SPEC 6), per upstream (fallbacks: per route). */
void metrics_rejected(struct metrics_worker *m, size_t upstream,
    enum metrics_reject r);
void metrics_retry(struct metrics_worker *m, size_t upstream,
    enum metrics_retry r);
void metrics_retry_skipped(struct metrics_worker *m, size_t upstream,
    enum metrics_skip r);
void metrics_budget_exhausted(struct metrics_worker *m, size_t upstream);
void metrics_fallback(struct metrics_worker *m, size_t route,
    enum metrics_fallback r);
void metrics_shadow(struct metrics_worker *m, size_t route,
    enum metrics_shadow r);
/* cutover_connections_active{listener}: +1 on accept, -1 on close. */
void metrics_connection(struct metrics_worker *m, size_t listener, int delta);
/* cutover_upstream_connections{upstream,state="active"|"idle"}. */
void metrics_upstream_conns(struct metrics_worker *m, size_t upstream,
    int active_delta, int idle_delta);

/* Requests counted for (route, upstream) over all workers; upstream may be METRICS_NONE for all. */
uint64_t metrics_sum_requests(struct metrics_worker *const *w, size_t n,
    size_t route, size_t upstream);

/* Fallbacks (by reason) and shadow results of `route`, over all workers. */
uint64_t metrics_sum_fallbacks(struct metrics_worker *const *w, size_t n,
    size_t route, enum metrics_fallback r);
uint64_t metrics_sum_shadow(struct metrics_worker *const *w, size_t n,
    size_t route, enum metrics_shadow r);
/* The label value of a shadow result ("match", ...). */
const char *metrics_shadow_name(enum metrics_shadow r);

/*
 * Append the Prometheus text exposition (version 0.0.4) of every metric,
 * summed over the `n` workers, with HELP and TYPE lines and escaped label
 * values. `extra` (may be NULL) is appended verbatim before the end: other
 * modules' metrics, already formatted.
 */
void metrics_render(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n, const char *extra);

/* Escape a label value (backslash, double quote, newline) into `out`. */
void metrics_escape_label(struct strbuf *out, const char *v);

#endif /* CUTOVER_METRICS_H */
