/*
 * outcome: the one classification of how a try towards an upstream ended
 * (SPEC 4.2's table). The breaker, the retry policy, the metrics and the
 * access-log flags all read their meaning from here, so they never
 * disagree about what a reset or a 503 is.
 * Pure: no state, no clock.
 */
#ifndef CUTOVER_OUTCOME_H
#define CUTOVER_OUTCOME_H

#include <stdbool.h>
#include <stdint.h>

enum try_outcome {
	OUTCOME_SUCCESS = 0,	 /* a final response 1xx-4xx other than 429 */
	OUTCOME_THROTTLED,	 /* 429: a success for the breaker, counted apart */
	OUTCOME_CONNECT_FAILURE, /* refused, connect timeout, TLS failure */
	OUTCOME_RESET_UNSENT,	 /* a stale pooled connection: no byte of the request was written */
	OUTCOME_RESET,		 /* closed or reset after the request was written, before a complete head */
	OUTCOME_INVALID,	 /* the response head could not be parsed (garbage) */
	OUTCOME_TIMEOUT,	 /* no response head within response_timeout */
	OUTCOME_GATEWAY_STATUS,	 /* 502, 503, 504 */
	OUTCOME_OTHER_5XX,	 /* 500, 501, 505.. 599 */
	OUTCOME_CLIENT_GONE,	 /* the client went away first */
	OUTCOME_LOCAL_REJECT,	 /* refused by cutover itself: breaker open, bulkhead full, budget spent */
	OUTCOME__COUNT,
};

/* What an outcome does to the circuit breaker. */
enum outcome_breaker {
	OUTCOME_B_SUCCESS = 0, /* a success (maybe slow, by duration) */
	OUTCOME_B_FAILURE,     /* a failure */
	OUTCOME_B_FAILURE_SLOW, /* a failure that also counts as slow (timeout) */
	OUTCOME_B_RELEASE,     /* nothing counted; a probe slot held is given back */
	OUTCOME_B_IGNORE,      /* nothing at all */
};

/* When an outcome may be retried (before the other rules of SPEC 4.3). */
enum outcome_retry {
	OUTCOME_R_NEVER = 0,
	OUTCOME_R_ANY_METHOD,	     /* connect failure: the request never left */
	OUTCOME_R_ANY_METHOD_NOW,    /* stale pooled connection: at once, no backoff, no budget */
	OUTCOME_R_REPLAY_SAFE,	     /* reset, timeout, invalid: replay-safe requests only */
	OUTCOME_R_REPLAY_SAFE_LISTED, /* 502/503/504: replay-safe and listed in retry.on */
	OUTCOME_R_LISTED,	     /* other 5xx, 429: only when listed in retry.on */
};

/* The outcome of a final response status (>= 200, or 1xx other than 100/101 never get here). */
enum try_outcome outcome_of_status(int status);
enum outcome_breaker outcome_breaker_effect(enum try_outcome o);
enum outcome_retry outcome_retry_rule(enum try_outcome o);
/*
 * The `outcome` label of cutover_upstream_tries_total:
 * "success" | "failure" | "timeout" | "reset" | "connect_failure";
 * NULL for outcomes that are not a try (client gone, local reject).
 */
const char *outcome_metrics_label(enum try_outcome o);
/* The access-log flag an outcome sets (ACCESSLOG_F_UF/UT/UR), or 0. */
uint32_t outcome_log_flag(enum try_outcome o);
/* The retry reason label of cutover_retries_total ("connect_failure", "reset", "timeout", "status"). */
const char *outcome_retry_label(enum try_outcome o);
/* Short name, for event-log lines ("connect-failure", "reset", ...). */
const char *outcome_name(enum try_outcome o);

#endif /* CUTOVER_OUTCOME_H */
