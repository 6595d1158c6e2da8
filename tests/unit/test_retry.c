/* Unit tests for src/outcome.c (SPEC 4.2's table) and src/retry.c (SPEC 4.3). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cutover/accesslog.h"
#include "cutover/outcome.h"
#include "cutover/retry.h"

/* ---- outcome: the spec table, written out again independently */

struct outcome_want {
	enum try_outcome o;
	const char *name;
	enum outcome_breaker breaker;
	enum outcome_retry retry;
	const char *metrics;
	uint32_t log_flag;
	const char *retry_label;
};

static const struct outcome_want outcome_rows[] = {
	{ OUTCOME_SUCCESS, "success", OUTCOME_B_SUCCESS, OUTCOME_R_NEVER,
	    "success", 0, NULL },
	{ OUTCOME_THROTTLED, "throttled", OUTCOME_B_SUCCESS, OUTCOME_R_LISTED,
	    "success", 0, "status" },
	{ OUTCOME_CONNECT_FAILURE, "connect-failure", OUTCOME_B_FAILURE,
	    OUTCOME_R_ANY_METHOD, "connect_failure", ACCESSLOG_F_UF,
	    "connect_failure" },
	{ OUTCOME_RESET_UNSENT, "reset-unsent", OUTCOME_B_IGNORE,
	    OUTCOME_R_ANY_METHOD_NOW, "reset", ACCESSLOG_F_UR, "reset" },
	{ OUTCOME_RESET, "reset", OUTCOME_B_FAILURE, OUTCOME_R_REPLAY_SAFE,
	    "reset", ACCESSLOG_F_UR, "reset" },
	{ OUTCOME_INVALID, "invalid", OUTCOME_B_FAILURE, OUTCOME_R_REPLAY_SAFE,
	    "failure", 0, "reset" },
	{ OUTCOME_TIMEOUT, "timeout", OUTCOME_B_FAILURE_SLOW,
	    OUTCOME_R_REPLAY_SAFE, "timeout", ACCESSLOG_F_UT, "timeout" },
	{ OUTCOME_GATEWAY_STATUS, "gateway-status", OUTCOME_B_FAILURE,
	    OUTCOME_R_REPLAY_SAFE_LISTED, "failure", 0, "status" },
	{ OUTCOME_OTHER_5XX, "5xx", OUTCOME_B_FAILURE, OUTCOME_R_LISTED,
	    "failure", 0, "status" },
	{ OUTCOME_CLIENT_GONE, "client-gone", OUTCOME_B_RELEASE,
	    OUTCOME_R_NEVER, NULL, 0, NULL },
	{ OUTCOME_LOCAL_REJECT, "local-reject", OUTCOME_B_IGNORE,
	    OUTCOME_R_NEVER, NULL, 0, NULL },
};

#define NROWS (sizeof(outcome_rows) / sizeof(outcome_rows[0]))

static void
assert_label(const char *got, const char *want)
{
	if (want == NULL)
		assert_null(got);
	else {
		assert_non_null(got);
		assert_string_equal(got, want);
	}
}

static void
test_outcome_table_covers_every_outcome(void **state)
{
	bool seen[OUTCOME__COUNT] = { false };

	(void)state;
	assert_int_equal(NROWS, OUTCOME__COUNT);
	for (size_t i = 0; i < NROWS; i++) {
		assert_false(seen[outcome_rows[i].o]);
		seen[outcome_rows[i].o] = true;
	}
}

static void
test_outcome_breaker_effect(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS; i++)
		assert_int_equal(outcome_breaker_effect(outcome_rows[i].o),
		    outcome_rows[i].breaker);
}

static void
test_outcome_retry_rule(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS; i++)
		assert_int_equal(outcome_retry_rule(outcome_rows[i].o),
		    outcome_rows[i].retry);
}

static void
test_outcome_metrics_label(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS; i++)
		assert_label(outcome_metrics_label(outcome_rows[i].o),
		    outcome_rows[i].metrics);
}

static void
test_outcome_log_flag(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS; i++)
		assert_int_equal(outcome_log_flag(outcome_rows[i].o),
		    outcome_rows[i].log_flag);
}

static void
test_outcome_retry_label(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS; i++)
		assert_label(outcome_retry_label(outcome_rows[i].o),
		    outcome_rows[i].retry_label);
}

static void
test_outcome_name(void **state)
{
	(void)state;
	for (size_t i = 0; i < NROWS; i++)
		assert_label(outcome_name(outcome_rows[i].o),
		    outcome_rows[i].name);
}

static void
test_outcome_of_status(void **state)
{
	static const struct {
		int status;
		enum try_outcome o;
	} cases[] = {
		{ 200, OUTCOME_SUCCESS }, { 204, OUTCOME_SUCCESS },
		{ 102, OUTCOME_SUCCESS }, { 301, OUTCOME_SUCCESS },
		{ 400, OUTCOME_SUCCESS }, { 404, OUTCOME_SUCCESS },
		{ 428, OUTCOME_SUCCESS }, { 430, OUTCOME_SUCCESS },
		{ 499, OUTCOME_SUCCESS },
		{ 429, OUTCOME_THROTTLED },
		{ 500, OUTCOME_OTHER_5XX }, { 501, OUTCOME_OTHER_5XX },
		{ 502, OUTCOME_GATEWAY_STATUS }, { 503, OUTCOME_GATEWAY_STATUS },
		{ 504, OUTCOME_GATEWAY_STATUS },
		{ 505, OUTCOME_OTHER_5XX }, { 599, OUTCOME_OTHER_5XX },
		{ 600, OUTCOME_SUCCESS }, { 0, OUTCOME_SUCCESS },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(outcome_of_status(cases[i].status),
		    cases[i].o);
}

/* ---- retry params */

static void
test_params_default(void **state)
{
	struct retry_params p;

	(void)state;
	retry_params_default(&p);
	assert_int_equal(p.attempts, 2);
	assert_int_equal(p.on_kinds, RETRY_ON_CONNECT_FAILURE |
	    RETRY_ON_RESET | RETRY_ON_TIMEOUT);
	assert_int_equal(p.backoff_ms, 25);
	assert_int_equal(p.max_backoff_ms, 250);
	for (int s = 0; s < 800; s++)
		assert_int_equal(retry_on_status(&p, s),
		    s == 502 || s == 503 || s == 504);
}

static void
test_status_bits(void **state)
{
	struct retry_params p;

	(void)state;
	memset(&p, 0, sizeof(p));
	retry_set_status(&p, 100);
	retry_set_status(&p, 699);
	retry_set_status(&p, 429);
	retry_set_status(&p, 99);	/* ignored */
	retry_set_status(&p, 700);	/* ignored */
	retry_set_status(&p, -5);	/* ignored */
	for (int s = -10; s < 800; s++)
		assert_int_equal(retry_on_status(&p, s),
		    s == 100 || s == 699 || s == 429);
}

/* ---- retry_decide */

/* A request every rule would let through: a GET, buffered, closed breaker. */
static struct retry_request
req_ok(void)
{
	struct retry_request r = {
		.tries_done = 1,
		.idempotent = true,
		.body_buffered = true,
		.response_started = false,
		.breaker_closed = true,
		.deadline_left_ms = UINT64_MAX,
		.status = 0,
		.retry_after_ms = UINT64_MAX,
	};
	return r;
}

static struct retry_request
req_post(void)
{
	struct retry_request r = req_ok();

	r.idempotent = false;
	return r;
}

static struct retry_request
req_status(int status)
{
	struct retry_request r = req_ok();

	r.status = status;
	return r;
}

static enum retry_verdict
decide(const struct retry_params *p, enum try_outcome o,
    const struct retry_request *r)
{
	uint64_t wait = 12345;
	enum retry_verdict v = retry_decide(p, o, r, 7, &wait);

	if (v != RETRY_YES)
		assert_int_equal(wait, 0);
	return v;
}

static void
test_decide_replay_safety(void **state)
{
	struct retry_params p;
	struct retry_request post = req_post(), r;

	(void)state;
	retry_params_default(&p);
	/* A POST that reached the upstream is not replayed ... */
	assert_int_equal(decide(&p, OUTCOME_RESET, &post),
	    RETRY_SKIP_NOT_REPLAYABLE);
	assert_int_equal(decide(&p, OUTCOME_INVALID, &post),
	    RETRY_SKIP_NOT_REPLAYABLE);
	assert_int_equal(decide(&p, OUTCOME_TIMEOUT, &post),
	    RETRY_SKIP_NOT_REPLAYABLE);
	r = post;
	r.status = 502;
	assert_int_equal(decide(&p, OUTCOME_GATEWAY_STATUS, &r),
	    RETRY_SKIP_NOT_REPLAYABLE);
	retry_set_status(&p, 500);
	r.status = 500;
	assert_int_equal(decide(&p, OUTCOME_OTHER_5XX, &r),
	    RETRY_SKIP_NOT_REPLAYABLE);
	/* ... one that never left is, whatever the method ... */
	assert_int_equal(decide(&p, OUTCOME_CONNECT_FAILURE, &post), RETRY_YES);
	assert_int_equal(decide(&p, OUTCOME_RESET_UNSENT, &post),
	    RETRY_YES_NOW);
	/* ... and an Idempotency-Key makes a POST replay-safe (idempotent = true). */
	r = req_ok();
	assert_int_equal(decide(&p, OUTCOME_RESET, &r), RETRY_YES);
	assert_int_equal(decide(&p, OUTCOME_TIMEOUT, &r), RETRY_YES);
	r.status = 503;
	assert_int_equal(decide(&p, OUTCOME_GATEWAY_STATUS, &r), RETRY_YES);
}

static void
test_decide_body_breaker_deadline(void **state)
{
	struct retry_params p;
	struct retry_request r;
	uint64_t wait;

	(void)state;
	retry_params_default(&p);

	r = req_ok();
	r.body_buffered = false;
	assert_int_equal(decide(&p, OUTCOME_RESET, &r), RETRY_SKIP_BODY);
	assert_int_equal(decide(&p, OUTCOME_CONNECT_FAILURE, &r),
	    RETRY_SKIP_BODY);
	assert_string_equal(retry_skip_label(RETRY_SKIP_BODY), "body_too_large");

	r = req_ok();
	r.breaker_closed = false;
	assert_int_equal(decide(&p, OUTCOME_TIMEOUT, &r), RETRY_SKIP_BREAKER);
	assert_int_equal(decide(&p, OUTCOME_CONNECT_FAILURE, &r),
	    RETRY_SKIP_BREAKER);

	/* First retry: wait = random % 25; random 20 -> 20 ms. */
	r = req_ok();
	r.deadline_left_ms = 20;
	assert_int_equal(retry_decide(&p, OUTCOME_RESET, &r, 20, &wait),
	    RETRY_SKIP_DEADLINE);
	assert_int_equal(wait, 0);
	r.deadline_left_ms = 19;
	assert_int_equal(retry_decide(&p, OUTCOME_RESET, &r, 20, &wait),
	    RETRY_SKIP_DEADLINE);
	r.deadline_left_ms = 21;
	assert_int_equal(retry_decide(&p, OUTCOME_RESET, &r, 20, &wait),
	    RETRY_YES);
	assert_int_equal(wait, 20);
	/* No deadline: any wait fits; a NULL wait_ms is fine. */
	r.deadline_left_ms = UINT64_MAX;
	assert_int_equal(retry_decide(&p, OUTCOME_RESET, &r, 24, NULL),
	    RETRY_YES);
	/* A deadline already spent refuses even a zero wait. */
	r.deadline_left_ms = 0;
	assert_int_equal(retry_decide(&p, OUTCOME_RESET, &r, 0, &wait),
	    RETRY_SKIP_DEADLINE);
}

static void
test_decide_retry_after(void **state)
{
	struct retry_params p;
	struct retry_request r = req_status(503);

	(void)state;
	retry_params_default(&p);
	r.retry_after_ms = 2000;
	assert_int_equal(decide(&p, OUTCOME_GATEWAY_STATUS, &r),
	    RETRY_NO_RETRY_AFTER);
	r.retry_after_ms = 1001;
	assert_int_equal(decide(&p, OUTCOME_GATEWAY_STATUS, &r),
	    RETRY_NO_RETRY_AFTER);
	r.retry_after_ms = 1000;
	assert_int_equal(decide(&p, OUTCOME_GATEWAY_STATUS, &r), RETRY_YES);
	r.retry_after_ms = 0;
	assert_int_equal(decide(&p, OUTCOME_GATEWAY_STATUS, &r), RETRY_YES);
	r.retry_after_ms = UINT64_MAX;
	assert_int_equal(decide(&p, OUTCOME_GATEWAY_STATUS, &r), RETRY_YES);
	/* Retry-After matters on a 503 only. */
	r = req_status(502);
	r.retry_after_ms = 5000;
	assert_int_equal(decide(&p, OUTCOME_GATEWAY_STATUS, &r), RETRY_YES);
	/* And it is reported before replay safety: a POST 503 asking 2 s is a "no". */
	r = req_status(503);
	r.idempotent = false;
	r.retry_after_ms = 2000;
	assert_int_equal(decide(&p, OUTCOME_GATEWAY_STATUS, &r),
	    RETRY_NO_RETRY_AFTER);
}

static void
test_decide_exhausted_and_started(void **state)
{
	struct retry_params p;
	struct retry_request r = req_ok();

	(void)state;
	retry_params_default(&p);
	r.tries_done = 2;
	assert_int_equal(decide(&p, OUTCOME_CONNECT_FAILURE, &r),
	    RETRY_NO_EXHAUSTED);
	assert_int_equal(decide(&p, OUTCOME_RESET, &r), RETRY_NO_EXHAUSTED);
	/* Exhausted is reported before the per-request skips. */
	r.idempotent = false;
	r.body_buffered = false;
	r.breaker_closed = false;
	assert_int_equal(decide(&p, OUTCOME_RESET, &r), RETRY_NO_EXHAUSTED);
	p.attempts = 3;
	r = req_ok();
	r.tries_done = 2;
	assert_int_equal(decide(&p, OUTCOME_RESET, &r), RETRY_YES);
	p.attempts = 1;
	r.tries_done = 1;
	assert_int_equal(decide(&p, OUTCOME_TIMEOUT, &r), RETRY_NO_EXHAUSTED);

	/* Response started beats everything but "not retryable". */
	retry_params_default(&p);
	r = req_ok();
	r.response_started = true;
	r.tries_done = 5;
	assert_int_equal(decide(&p, OUTCOME_RESET, &r),
	    RETRY_NO_RESPONSE_STARTED);
	assert_int_equal(decide(&p, OUTCOME_RESET_UNSENT, &r),
	    RETRY_NO_RESPONSE_STARTED);
	assert_int_equal(decide(&p, OUTCOME_SUCCESS, &r), RETRY_NO);
}

static void
test_decide_reset_unsent(void **state)
{
	struct retry_params p;
	struct retry_request r = req_post();
	uint64_t wait = 99;

	(void)state;
	retry_params_default(&p);
	/* Any method, no attempt used, even exhausted, body or breaker aside. */
	r.tries_done = 9;
	r.body_buffered = false;
	r.breaker_closed = false;
	r.deadline_left_ms = 0;
	assert_int_equal(retry_decide(&p, OUTCOME_RESET_UNSENT, &r, 1000,
	    &wait), RETRY_YES_NOW);
	assert_int_equal(wait, 0);
	/* Not gated by retry.on: it is part of using a pool. */
	p.on_kinds = 0;
	assert_int_equal(decide(&p, OUTCOME_RESET_UNSENT, &r), RETRY_YES_NOW);
	assert_null(retry_skip_label(RETRY_YES_NOW));
}

static void
test_decide_gates(void **state)
{
	struct retry_params p;
	struct retry_request r = req_ok();

	(void)state;
	retry_params_default(&p);
	p.on_kinds = RETRY_ON_RESET | RETRY_ON_TIMEOUT;
	assert_int_equal(decide(&p, OUTCOME_CONNECT_FAILURE, &r), RETRY_NO);
	assert_int_equal(decide(&p, OUTCOME_RESET, &r), RETRY_YES);
	p.on_kinds = RETRY_ON_CONNECT_FAILURE | RETRY_ON_TIMEOUT;
	assert_int_equal(decide(&p, OUTCOME_RESET, &r), RETRY_NO);
	assert_int_equal(decide(&p, OUTCOME_INVALID, &r), RETRY_NO);
	p.on_kinds = RETRY_ON_CONNECT_FAILURE | RETRY_ON_RESET;
	assert_int_equal(decide(&p, OUTCOME_TIMEOUT, &r), RETRY_NO);
	assert_int_equal(decide(&p, OUTCOME_INVALID, &r), RETRY_YES);
	/* Not retryable is reported first of all. */
	r.response_started = true;
	assert_int_equal(decide(&p, OUTCOME_TIMEOUT, &r), RETRY_NO);
	for (size_t i = 0; i < NROWS; i++)
		if (outcome_rows[i].retry == OUTCOME_R_NEVER)
			assert_int_equal(decide(&p, outcome_rows[i].o, &r),
			    RETRY_NO);
}

static void
test_decide_statuses(void **state)
{
	struct retry_params p;
	struct retry_request r;

	(void)state;
	retry_params_default(&p);
	/* Defaults list 502-504, not 500 nor 429. */
	r = req_status(500);
	assert_int_equal(decide(&p, OUTCOME_OTHER_5XX, &r), RETRY_NO);
	r = req_status(429);
	assert_int_equal(decide(&p, OUTCOME_THROTTLED, &r), RETRY_NO);
	for (int s = 502; s <= 504; s++) {
		r = req_status(s);
		assert_int_equal(decide(&p, OUTCOME_GATEWAY_STATUS, &r),
		    RETRY_YES);
	}
	/* A list without 504. */
	memset(p.on_status, 0, sizeof(p.on_status));
	retry_set_status(&p, 502);
	r = req_status(504);
	assert_int_equal(decide(&p, OUTCOME_GATEWAY_STATUS, &r), RETRY_NO);
	/* 429 and 500 once listed. */
	retry_set_status(&p, 429);
	retry_set_status(&p, 500);
	r = req_status(429);
	assert_int_equal(decide(&p, OUTCOME_THROTTLED, &r), RETRY_YES);
	r = req_status(500);
	assert_int_equal(decide(&p, OUTCOME_OTHER_5XX, &r), RETRY_YES);
	/* 404 is a success: never retried, even listed. */
	retry_set_status(&p, 404);
	r = req_status(404);
	assert_int_equal(decide(&p, outcome_of_status(404), &r), RETRY_NO);
}

static void
test_skip_labels(void **state)
{
	static const struct {
		enum retry_verdict v;
		const char *label;
	} cases[] = {
		{ RETRY_YES, NULL },
		{ RETRY_YES_NOW, NULL },
		{ RETRY_NO, NULL },
		{ RETRY_NO_RESPONSE_STARTED, NULL },
		{ RETRY_NO_EXHAUSTED, NULL },
		{ RETRY_NO_RETRY_AFTER, NULL },
		{ RETRY_SKIP_NOT_REPLAYABLE, "not_replayable" },
		{ RETRY_SKIP_BODY, "body_too_large" },
		{ RETRY_SKIP_DEADLINE, "deadline" },
		{ RETRY_SKIP_BREAKER, "breaker" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_label(retry_skip_label(cases[i].v), cases[i].label);
}

/* ---- backoff */

/* splitmix64: a deterministic stream of well-mixed randoms. */
static uint64_t
test_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
test_backoff_bounds_full_jitter(void **state)
{
	struct retry_params p;
	uint64_t seed = 42;

	(void)state;
	retry_params_default(&p);
	for (unsigned k = 1; k <= 10; k++) {
		uint64_t bound = 25ull << (k - 1), max = 0, min = UINT64_MAX;

		if (bound > 250)
			bound = 250;
		for (int i = 0; i < 20000; i++) {
			uint64_t w = retry_backoff_ms(&p, k, test_rand(&seed));

			assert_true(w < bound);
			if (w > max)
				max = w;
			if (w < min)
				min = w;
		}
		/* Full jitter: the whole of [0, bound) is used. */
		assert_int_equal(max, bound - 1);
		assert_int_equal(min, 0);
	}
	/* The exact formula. */
	assert_int_equal(retry_backoff_ms(&p, 1, 24), 24);
	assert_int_equal(retry_backoff_ms(&p, 1, 25), 0);
	assert_int_equal(retry_backoff_ms(&p, 2, 49), 49);
	assert_int_equal(retry_backoff_ms(&p, 3, 99), 99);
	assert_int_equal(retry_backoff_ms(&p, 4, 199), 199);
	assert_int_equal(retry_backoff_ms(&p, 4, 200), 0);
	assert_int_equal(retry_backoff_ms(&p, 5, 200), 200);	/* capped at 250 */
	assert_int_equal(retry_backoff_ms(&p, 5, 250), 0);
}

static void
test_backoff_no_overflow(void **state)
{
	struct retry_params p;
	unsigned ks[] = { 33, 63, 64, 65, 100, 1000, 4000000000u };

	(void)state;
	retry_params_default(&p);
	for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++) {
		assert_int_equal(retry_backoff_ms(&p, ks[i], 249), 249);
		assert_true(retry_backoff_ms(&p, ks[i], UINT64_MAX) < 250);
	}
	/* A large base, where the shift would wrap long before k = 64. */
	p.backoff_ms = UINT64_MAX / 3;
	p.max_backoff_ms = UINT64_MAX;
	for (unsigned k = 1; k < 70; k++) {
		uint64_t w = retry_backoff_ms(&p, k, UINT64_MAX - 1);

		if (k == 1)
			assert_true(w < UINT64_MAX / 3);
		else if (k == 2)
			assert_true(w < UINT64_MAX / 3 * 2);
		else	/* capped at max: the whole range, nothing wrapped */
			assert_int_equal(w, UINT64_MAX - 1);
	}
	/* Zero backoff or zero cap: no wait at all. */
	p.backoff_ms = 0;
	p.max_backoff_ms = 250;
	assert_int_equal(retry_backoff_ms(&p, 3, 12345), 0);
	p.backoff_ms = 25;
	p.max_backoff_ms = 0;
	assert_int_equal(retry_backoff_ms(&p, 1, 12345), 0);
	/* k = 0 is taken as the first retry. */
	p.max_backoff_ms = 250;
	assert_int_equal(retry_backoff_ms(&p, 0, 30), 5);
}

static void
test_decide_wait_uses_tries_done(void **state)
{
	struct retry_params p;
	struct retry_request r = req_ok();
	uint64_t wait;

	(void)state;
	retry_params_default(&p);
	p.attempts = 10;
	for (unsigned t = 1; t < 10; t++) {
		r.tries_done = t;
		assert_int_equal(retry_decide(&p, OUTCOME_TIMEOUT, &r, 1000003,
		    &wait), RETRY_YES);
		assert_int_equal(wait, retry_backoff_ms(&p, t, 1000003));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome_table_covers_every_outcome),
		cmocka_unit_test(test_outcome_breaker_effect),
		cmocka_unit_test(test_outcome_retry_rule),
		cmocka_unit_test(test_outcome_metrics_label),
		cmocka_unit_test(test_outcome_log_flag),
		cmocka_unit_test(test_outcome_retry_label),
		cmocka_unit_test(test_outcome_name),
		cmocka_unit_test(test_outcome_of_status),
		cmocka_unit_test(test_params_default),
		cmocka_unit_test(test_status_bits),
		cmocka_unit_test(test_decide_replay_safety),
		cmocka_unit_test(test_decide_body_breaker_deadline),
		cmocka_unit_test(test_decide_retry_after),
		cmocka_unit_test(test_decide_exhausted_and_started),
		cmocka_unit_test(test_decide_reset_unsent),
		cmocka_unit_test(test_decide_gates),
		cmocka_unit_test(test_decide_statuses),
		cmocka_unit_test(test_skip_labels),
		cmocka_unit_test(test_backoff_bounds_full_jitter),
		cmocka_unit_test(test_backoff_no_overflow),
		cmocka_unit_test(test_decide_wait_uses_tries_done),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
