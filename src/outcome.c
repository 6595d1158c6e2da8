/*
 * outcome: SPEC 4.2's table, kept as a table. One row per outcome holds
 * everything every consumer reads from it (breaker, retry, metrics, access
 * log), so a change of meaning is a change of one row and the consumers
 * cannot drift apart.
 */
#include <stddef.h>

#include "cutover/accesslog.h"
#include "cutover/outcome.h"

struct outcome_row {
	const char *name;		/* event-log name */
	enum outcome_breaker breaker;	/* effect on the circuit breaker */
	enum outcome_retry retry;	/* when it may be retried */
	const char *metrics;		/* cutover_upstream_tries_total outcome; NULL: not a try */
	uint32_t log_flag;		/* ACCESSLOG_F_* or 0 */
	const char *retry_label;	/* cutover_retries_total reason; NULL: never retried */
};

static const struct outcome_row *outcome_row(enum try_outcome o);

static const struct outcome_row outcome_table[OUTCOME__COUNT] = {
	[OUTCOME_SUCCESS] = { "success",
	    OUTCOME_B_SUCCESS, OUTCOME_R_NEVER,
	    "success", 0, NULL },
	/* 429 means the upstream is alive and answering: not a breaker failure. */
	[OUTCOME_THROTTLED] = { "throttled",
	    OUTCOME_B_SUCCESS, OUTCOME_R_LISTED,
	    "success", 0, "status" },
	[OUTCOME_CONNECT_FAILURE] = { "connect-failure",
	    OUTCOME_B_FAILURE, OUTCOME_R_ANY_METHOD,
	    "connect_failure", ACCESSLOG_F_UF, "connect_failure" },
	/*
	 * A pooled connection the upstream had already closed: says nothing
	 * about the upstream's health, and nothing was sent, so it is retried
	 * at once on a fresh connection.
	 */
	[OUTCOME_RESET_UNSENT] = { "reset-unsent",
	    OUTCOME_B_IGNORE, OUTCOME_R_ANY_METHOD_NOW,
	    "reset", ACCESSLOG_F_UR, "reset" },
	[OUTCOME_RESET] = { "reset",
	    OUTCOME_B_FAILURE, OUTCOME_R_REPLAY_SAFE,
	    "reset", ACCESSLOG_F_UR, "reset" },
	[OUTCOME_INVALID] = { "invalid",
	    OUTCOME_B_FAILURE, OUTCOME_R_REPLAY_SAFE,
	    "failure", 0, "reset" },
	[OUTCOME_TIMEOUT] = { "timeout",
	    OUTCOME_B_FAILURE_SLOW, OUTCOME_R_REPLAY_SAFE,
	    "timeout", ACCESSLOG_F_UT, "timeout" },
	[OUTCOME_GATEWAY_STATUS] = { "gateway-status",
	    OUTCOME_B_FAILURE, OUTCOME_R_REPLAY_SAFE_LISTED,
	    "failure", 0, "status" },
	[OUTCOME_OTHER_5XX] = { "5xx",
	    OUTCOME_B_FAILURE, OUTCOME_R_LISTED,
	    "failure", 0, "status" },
	/* The client left: no verdict on the upstream, but a probe slot is freed. */
	[OUTCOME_CLIENT_GONE] = { "client-gone",
	    OUTCOME_B_RELEASE, OUTCOME_R_NEVER,
	    NULL, 0, NULL },
	[OUTCOME_LOCAL_REJECT] = { "local-reject",
	    OUTCOME_B_IGNORE, OUTCOME_R_NEVER,
	    NULL, 0, NULL },
};

/* An out-of-range value is a caller bug; treat it as the harmless row. */
static const struct outcome_row *
outcome_row(enum try_outcome o)
{
	if ((unsigned)o >= OUTCOME__COUNT)
		return &outcome_table[OUTCOME_LOCAL_REJECT];
	return &outcome_table[o];
}

enum try_outcome
outcome_of_status(int status)
{
	if (status == 429)
		return OUTCOME_THROTTLED;
	if (status == 502 || status == 503 || status == 504)
		return OUTCOME_GATEWAY_STATUS;
	if (status >= 500 && status <= 599)
		return OUTCOME_OTHER_5XX;
	return OUTCOME_SUCCESS;
}

enum outcome_breaker
outcome_breaker_effect(enum try_outcome o)
{
	return outcome_row(o)->breaker;
}

enum outcome_retry
outcome_retry_rule(enum try_outcome o)
{
	return outcome_row(o)->retry;
}

const char *
outcome_metrics_label(enum try_outcome o)
{
	return outcome_row(o)->metrics;
}

uint32_t
outcome_log_flag(enum try_outcome o)
{
	return outcome_row(o)->log_flag;
}

const char *
outcome_retry_label(enum try_outcome o)
{
	return outcome_row(o)->retry_label;
}

const char *
outcome_name(enum try_outcome o)
{
	if ((unsigned)o >= OUTCOME__COUNT)
		return "unknown";
	return outcome_table[o].name;
}
