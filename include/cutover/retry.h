/*
 * retry: may a failed try be tried again (SPEC 4.3), and how long to wait
 * first. Pure: the caller passes everything it knows about the request,
 * including a random number for the jitter; the retry budget (stateful,
 * shared) is checked by the caller after a RETRY_YES, last, so a retry
 * refused for another reason never spends it.
 */
#ifndef CUTOVER_RETRY_H
#define CUTOVER_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "cutover/outcome.h"

/* retry.on: kinds of failures, and statuses (a bit per status 100-599). */
#define RETRY_ON_CONNECT_FAILURE 0x01u
#define RETRY_ON_RESET		 0x02u
#define RETRY_ON_TIMEOUT	 0x04u

struct retry_params {
	uint32_t attempts;     /* tries in total, the first included; >= 1 */
	uint32_t on_kinds;     /* RETRY_ON_* */
	uint8_t on_status[75]; /* bit (s - 100) for status s in 100..699 */
	uint64_t backoff_ms;
	uint64_t max_backoff_ms;
};

/* What the caller knows about the request when a try failed. */
struct retry_request {
	unsigned tries_done;	/* tries made so far (>= 1) */
	bool idempotent;	/* method idempotent, or an Idempotency-Key header */
	bool body_buffered;	/* the whole body so far is kept (within buffer_body) */
	bool response_started;	/* some of the response reached the client */
	bool breaker_closed;	/* the upstream's breaker lets calls through freely */
	uint64_t deadline_left_ms; /* UINT64_MAX: no request deadline */
	int status;		/* the response status for status outcomes, else 0 */
	uint64_t retry_after_ms; /* a 503's Retry-After; UINT64_MAX when absent */
};

enum retry_verdict {
	RETRY_YES = 0,		  /* retry after retry_backoff_ms() (then ask the budget) */
	RETRY_YES_NOW,		  /* retry at once: no backoff, no budget, no attempt used */
	RETRY_NO,		  /* not a retryable outcome (or not listed in retry.on) */
	RETRY_NO_RESPONSE_STARTED, /* part of the response already reached the client */
	RETRY_NO_EXHAUSTED,	  /* no tries left */
	RETRY_NO_RETRY_AFTER,	  /* a 503 asking for more than 1 s */
	RETRY_SKIP_NOT_REPLAYABLE, /* the request may have been processed and is not safe to replay */
	RETRY_SKIP_BODY,	  /* the body was too large to keep (buffer_body) */
	RETRY_SKIP_DEADLINE,	  /* the request deadline leaves no room */
	RETRY_SKIP_BREAKER,	  /* the breaker is not closed */
};

void retry_params_default(struct retry_params *p);
bool retry_on_status(const struct retry_params *p, int status);
void retry_set_status(struct retry_params *p, int status);

/*
 * The decision for a try that ended in `o`. `wait_ms` (may be NULL)
 * receives the backoff for a RETRY_YES, computed from `random` by
 * retry_backoff_ms(); the deadline must leave more room than that wait.
 */
enum retry_verdict retry_decide(const struct retry_params *p,
    enum try_outcome o, const struct retry_request *r, uint64_t random,
    uint64_t *wait_ms);

/*
 * Full-jitter exponential backoff: retry k (k = 1 for the first retry)
 * waits a uniform time in [0, min(max_backoff, backoff * 2^(k-1))).
 */
uint64_t retry_backoff_ms(const struct retry_params *p, unsigned k,
    uint64_t random);

/* The cutover_retries_skipped_total reason label, or NULL when the verdict is not a skip. */
const char *retry_skip_label(enum retry_verdict v);

#endif /* CUTOVER_RETRY_H */
