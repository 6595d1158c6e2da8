/*
 * retry: the retry policy of SPEC 4.3, as one ordered list of rules.
 * The order matters for what is reported: a reason that holds whatever
 * the request (the outcome is not retryable, the response already went
 * out, no tries left) comes before one about this request (replay
 * safety, body, breaker, deadline), so the skip counters only count
 * retries that would otherwise have happened.
 */
#include <stddef.h>
#include <string.h>

#include "cutover/retry.h"

#define RETRY_STATUS_MIN 100
#define RETRY_STATUS_MAX 699
/* A 503 asking to come back later than this is taken at its word. */
#define RETRY_AFTER_MAX_MS 1000

static bool retry_gate_open(const struct retry_params *p, enum try_outcome o,
    const struct retry_request *r);

void
retry_params_default(struct retry_params *p)
{
	memset(p, 0, sizeof(*p));
	p->attempts = 2;
	p->on_kinds = RETRY_ON_CONNECT_FAILURE | RETRY_ON_RESET |
	    RETRY_ON_TIMEOUT;
	retry_set_status(p, 502);
	retry_set_status(p, 503);
	retry_set_status(p, 504);
	p->backoff_ms = 25;
	p->max_backoff_ms = 250;
}

bool
retry_on_status(const struct retry_params *p, int status)
{
	unsigned bit;

	if (status < RETRY_STATUS_MIN || status > RETRY_STATUS_MAX)
		return false;
	bit = (unsigned)(status - RETRY_STATUS_MIN);
	return (p->on_status[bit / 8] & (1u << (bit % 8))) != 0;
}

void
retry_set_status(struct retry_params *p, int status)
{
	unsigned bit;

	if (status < RETRY_STATUS_MIN || status > RETRY_STATUS_MAX)
		return;
	bit = (unsigned)(status - RETRY_STATUS_MIN);
	p->on_status[bit / 8] |= (uint8_t)(1u << (bit % 8));
}

/*
 * Is this kind of failure listed in retry.on? A stale pooled connection
 * is not: nothing was sent and the upstream said nothing, so retrying it
 * is part of using a pool, not a policy.
 */
static bool
retry_gate_open(const struct retry_params *p, enum try_outcome o,
    const struct retry_request *r)
{
	switch (o) {
	case OUTCOME_CONNECT_FAILURE:
		return (p->on_kinds & RETRY_ON_CONNECT_FAILURE) != 0;
	case OUTCOME_RESET:
	case OUTCOME_INVALID:
		return (p->on_kinds & RETRY_ON_RESET) != 0;
	case OUTCOME_TIMEOUT:
		return (p->on_kinds & RETRY_ON_TIMEOUT) != 0;
	case OUTCOME_GATEWAY_STATUS:
	case OUTCOME_OTHER_5XX:
	case OUTCOME_THROTTLED:
		return retry_on_status(p, r->status);
	case OUTCOME_RESET_UNSENT:
		return true;
	default:
		return false;
	}
}

enum retry_verdict
retry_decide(const struct retry_params *p, enum try_outcome o,
    const struct retry_request *r, uint64_t random, uint64_t *wait_ms)
{
	enum outcome_retry rule = outcome_retry_rule(o);
	uint64_t wait;

	if (wait_ms != NULL)
		*wait_ms = 0;
	if (rule == OUTCOME_R_NEVER || !retry_gate_open(p, o, r))
		return RETRY_NO;
	if (r->response_started)
		return RETRY_NO_RESPONSE_STARTED;
	/* Nothing was sent: a fresh connection is the whole remedy. */
	if (rule == OUTCOME_R_ANY_METHOD_NOW)
		return RETRY_YES_NOW;
	if (r->tries_done >= p->attempts)
		return RETRY_NO_EXHAUSTED;
	if (r->status == 503 && r->retry_after_ms != UINT64_MAX &&
	    r->retry_after_ms > RETRY_AFTER_MAX_MS)
		return RETRY_NO_RETRY_AFTER;
	/*
	 * Past this point the request reached the upstream (all but a
	 * connect failure), which may have acted on it: replay only what is
	 * safe to run twice.
	 */
	if (rule != OUTCOME_R_ANY_METHOD && !r->idempotent)
		return RETRY_SKIP_NOT_REPLAYABLE;
	if (!r->body_buffered)
		return RETRY_SKIP_BODY;
	if (!r->breaker_closed)
		return RETRY_SKIP_BREAKER;
	wait = retry_backoff_ms(p, r->tries_done, random);
	/* A retry that cannot get its answer before the deadline only adds load. */
	if (r->deadline_left_ms != UINT64_MAX && r->deadline_left_ms <= wait)
		return RETRY_SKIP_DEADLINE;
	if (wait_ms != NULL)
		*wait_ms = wait;
	return RETRY_YES;
}

/*
 * Full jitter (the whole interval is random, from 0) spreads the retries
 * of many clients that failed together, instead of moving the herd.
 * The cap is computed without overflow for any k: once backoff * 2^(k-1)
 * would pass max_backoff, the cap is max_backoff.
 */
uint64_t
retry_backoff_ms(const struct retry_params *p, unsigned k, uint64_t random)
{
	unsigned shift = k > 0 ? k - 1 : 0;
	uint64_t bound = p->max_backoff_ms;

	if (shift < 64 && p->backoff_ms <= (p->max_backoff_ms >> shift))
		bound = p->backoff_ms << shift;
	if (bound == 0)
		return 0;
	return random % bound;
}

const char *
retry_skip_label(enum retry_verdict v)
{
	switch (v) {
	case RETRY_SKIP_NOT_REPLAYABLE:
		return "not_replayable";
	case RETRY_SKIP_BODY:
		return "body_too_large";
	case RETRY_SKIP_DEADLINE:
		return "deadline";
	case RETRY_SKIP_BREAKER:
		return "breaker";
	default:
		return NULL;
	}
}
