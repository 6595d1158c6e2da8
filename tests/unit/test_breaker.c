/*
 * Unit tests for the circuit breaker (SPEC 4.2). Time is plain numbers
 * passed in; a hook records every transition so the tests can assert on
 * what the event log would have said.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

#include "cutover/breaker.h"

#define REC_MAX 64

struct rec {
	struct breaker_transition tr[REC_MAX];
	int n;
};

static void
rec_hook(void *arg, const struct breaker_transition *tr)
{
	struct rec *r = arg;

	if (r->n < REC_MAX)
		r->tr[r->n] = *tr;
	r->n++;
}

/* The defaults of SPEC 2, with no jitter so times are exact. */
static struct breaker_params
params(void)
{
	struct breaker_params p = {
		.mode = BREAKER_MODE_ENFORCE,
		.consecutive_failures = 5,
		.failure_rate_ppm = 500000,
		.window_s = 10,
		.min_requests = 20,
		.slow_call_ms = 0,
		.slow_call_rate_ppm = 800000,
		.open_for_ms = 5000,
		.max_open_for_ms = 120000,
		.open_jitter_ppm = 0,
		.half_open_probes = 1,
		.half_open_successes = 3,
		.probe_lease_ms = 10000,
	};
	return p;
}

static void
setup(struct breaker *b, struct rec *r, const struct breaker_params *p)
{
	memset(r, 0, sizeof(*r));
	breaker_init(b, p, 0, 42, rec_hook, r);
}

/* The state, asked both ways: they must always agree. */
static enum breaker_state
state(struct breaker *b, uint64_t now)
{
	struct breaker_snapshot s;
	bool dry;

	breaker_snapshot(b, now, &s);
	assert_int_equal(breaker_state_now(b, now, &dry), s.state);
	assert_int_equal(dry, s.dry_run);
	return s.state;
}

/* One whole call: admitted? then reported with `o`. */
static bool
call(struct breaker *b, uint64_t now, enum try_outcome o, uint64_t dur)
{
	struct breaker_ticket t;

	if (!breaker_admit(b, now, true, &t))
		return false;
	breaker_report(b, now, &t, o, dur);
	return true;
}

static void
fail_n(struct breaker *b, uint64_t now, int n)
{
	for (int i = 0; i < n; i++)
		assert_true(call(b, now, OUTCOME_CONNECT_FAILURE, 1));
}

/* CLOSED -> OPEN by consecutive failures at `now`. */
static void
open_at(struct breaker *b, uint64_t now)
{
	fail_n(b, now, (int)b->p.consecutive_failures);
	assert_int_equal(state(b, now), BREAKER_OPEN);
}

/* CLOSED -> OPEN -> HALF_OPEN; returns the time HALF_OPEN began. */
static uint64_t
half_open_at(struct breaker *b, uint64_t now)
{
	uint64_t due;

	open_at(b, now);
	due = b->half_open_at_ms;
	assert_int_equal(state(b, due), BREAKER_HALF_OPEN);
	return due;
}

static void
test_names(void **st)
{
	(void)st;
	assert_string_equal(breaker_state_name(BREAKER_CLOSED), "closed");
	assert_string_equal(breaker_state_name(BREAKER_HALF_OPEN), "half_open");
	assert_string_equal(breaker_state_name(BREAKER_OPEN), "open");
	assert_string_equal(breaker_state_name(BREAKER_FORCED_OPEN),
	    "forced_open");
	assert_string_equal(breaker_state_name(BREAKER_FORCED_CLOSED),
	    "forced_closed");
	assert_string_equal(breaker_reason_name(BREAKER_R_CONSECUTIVE),
	    "consecutive");
	assert_string_equal(breaker_reason_name(BREAKER_R_RATE), "rate");
	assert_string_equal(breaker_reason_name(BREAKER_R_SLOW), "slow");
	assert_string_equal(breaker_reason_name(BREAKER_R_PROBE_FAILED),
	    "probe-failed");
	assert_string_equal(breaker_reason_name(BREAKER_R_PROBES_PASSED),
	    "probes-passed");
	assert_string_equal(breaker_reason_name(BREAKER_R_TIMER), "timer");
	assert_string_equal(breaker_reason_name(BREAKER_R_OPERATOR),
	    "operator");
}

static void
test_init_clamps(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_snapshot s;

	(void)st;
	p.window_s = 0;
	p.half_open_probes = 1000;
	setup(&b, &r, &p);
	assert_int_equal(b.p.window_s, 1);
	assert_int_equal(b.p.half_open_probes, BREAKER_MAX_PROBES);
	breaker_snapshot(&b, 0, &s);
	assert_int_equal(s.state, BREAKER_CLOSED);
	assert_int_equal(s.generation, 1);
	assert_int_equal(s.calls, 0);
	assert_false(s.dry_run);
	breaker_destroy(&b);

	p.window_s = 100000;
	p.half_open_probes = 0;
	setup(&b, &r, &p);
	assert_int_equal(b.p.window_s, BREAKER_MAX_WINDOW_S);
	assert_int_equal(b.p.half_open_probes, 1);
	breaker_destroy(&b);
}

static void
test_opens_on_consecutive_failures(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();

	(void)st;
	setup(&b, &r, &p);
	fail_n(&b, 1000, 4);
	assert_int_equal(state(&b, 1000), BREAKER_CLOSED);
	assert_int_equal(r.n, 0);
	fail_n(&b, 1000, 1);
	assert_int_equal(state(&b, 1000), BREAKER_OPEN);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.tr[0].from, BREAKER_CLOSED);
	assert_int_equal(r.tr[0].to, BREAKER_OPEN);
	assert_int_equal(r.tr[0].reason, BREAKER_R_CONSECUTIVE);
	assert_int_equal(r.tr[0].consecutive, 5);
	breaker_destroy(&b);
}

static void
test_success_resets_consecutive_run(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_snapshot s;

	(void)st;
	setup(&b, &r, &p);
	fail_n(&b, 1000, 4);
	assert_true(call(&b, 1000, OUTCOME_SUCCESS, 1));
	fail_n(&b, 1000, 4);
	breaker_snapshot(&b, 1000, &s);
	assert_int_equal(s.state, BREAKER_CLOSED);
	assert_int_equal(s.consecutive, 4);
	assert_int_equal(s.calls, 9);
	assert_int_equal(s.failures, 8);
	fail_n(&b, 1000, 1);
	assert_int_equal(state(&b, 1000), BREAKER_OPEN);
	breaker_destroy(&b);
}

static void
test_rate_needs_min_requests(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();

	(void)st;
	p.consecutive_failures = 1000;
	p.min_requests = 10;
	setup(&b, &r, &p);
	/* 100% failures, but below min_requests: no decision by rate. */
	fail_n(&b, 1000, 9);
	assert_int_equal(state(&b, 1000), BREAKER_CLOSED);
	fail_n(&b, 1000, 1);
	assert_int_equal(state(&b, 1000), BREAKER_OPEN);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.tr[0].reason, BREAKER_R_RATE);
	assert_int_equal(r.tr[0].calls, 10);
	assert_int_equal(r.tr[0].failures, 10);
	breaker_destroy(&b);
}

static void
test_rate_threshold_exact(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();

	(void)st;
	p.consecutive_failures = 1000;
	p.min_requests = 10;
	setup(&b, &r, &p);
	/* 4 of 10 (40%) stays closed ... */
	for (int i = 0; i < 6; i++)
		assert_true(call(&b, 1000, OUTCOME_SUCCESS, 1));
	fail_n(&b, 1000, 4);
	assert_int_equal(state(&b, 1000), BREAKER_CLOSED);
	/* ... 6 of 12 (exactly 50%) opens. */
	fail_n(&b, 1000, 1);
	assert_int_equal(state(&b, 1000), BREAKER_CLOSED);
	fail_n(&b, 1000, 1);
	assert_int_equal(state(&b, 1000), BREAKER_OPEN);
	assert_int_equal(r.tr[0].reason, BREAKER_R_RATE);
	assert_int_equal(r.tr[0].calls, 12);
	assert_int_equal(r.tr[0].failures, 6);
	breaker_destroy(&b);

	/* failure_rate 0: never by rate. */
	p.failure_rate_ppm = 0;
	setup(&b, &r, &p);
	fail_n(&b, 1000, 50);
	assert_int_equal(state(&b, 1000), BREAKER_CLOSED);
	breaker_destroy(&b);
}

/* slow_call_rate 0% means "no slow-call rule", as failure_rate 0% does. */
static void
test_slow_call_rate_zero_never_opens(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();

	(void)st;
	p.consecutive_failures = 1000;
	p.failure_rate_ppm = 0;
	p.min_requests = 4;
	p.slow_call_ms = 100;
	p.slow_call_rate_ppm = 0;
	setup(&b, &r, &p);
	for (int i = 0; i < 20; i++)
		assert_true(call(&b, 1000, OUTCOME_SUCCESS, 10));
	assert_int_equal(state(&b, 1000), BREAKER_CLOSED);
	breaker_destroy(&b);
}

static void
test_slow_call_rate(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_snapshot s;

	(void)st;
	p.consecutive_failures = 1000;
	p.failure_rate_ppm = 0;
	p.min_requests = 4;
	p.slow_call_ms = 100;
	p.slow_call_rate_ppm = 500000;
	setup(&b, &r, &p);
	/* Fast successes, and one exactly at the limit, are not slow. */
	for (int i = 0; i < 3; i++)
		assert_true(call(&b, 1000, OUTCOME_SUCCESS, 50));
	assert_true(call(&b, 1000, OUTCOME_SUCCESS, 100));
	/* Timeouts are failures and slow; plain failures are not slow. */
	assert_true(call(&b, 1000, OUTCOME_TIMEOUT, 100));
	assert_true(call(&b, 1000, OUTCOME_TIMEOUT, 100));
	assert_true(call(&b, 1000, OUTCOME_GATEWAY_STATUS, 5000));
	breaker_snapshot(&b, 1000, &s);
	assert_int_equal(s.state, BREAKER_CLOSED);
	assert_int_equal(s.calls, 7);
	assert_int_equal(s.failures, 3);
	assert_int_equal(s.slow, 2);
	/* 3 of 8 and 4 of 9 stay closed; 5 of 10 opens. */
	for (int i = 0; i < 2; i++) {
		assert_true(call(&b, 1000, OUTCOME_SUCCESS, 101));
		assert_int_equal(state(&b, 1000), BREAKER_CLOSED);
	}
	assert_true(call(&b, 1000, OUTCOME_THROTTLED, 101));
	assert_int_equal(state(&b, 1000), BREAKER_OPEN);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.tr[0].reason, BREAKER_R_SLOW);
	assert_int_equal(r.tr[0].calls, 10);
	assert_int_equal(r.tr[0].failures, 3);
	assert_int_equal(r.tr[0].slow, 5);
	breaker_destroy(&b);

	/* slow_call 0: no slow rule, nothing counted slow but timeouts. */
	p.slow_call_ms = 0;
	setup(&b, &r, &p);
	for (int i = 0; i < 10; i++)
		assert_true(call(&b, 1000, OUTCOME_SUCCESS, 1000000));
	breaker_snapshot(&b, 1000, &s);
	assert_int_equal(s.slow, 0);
	assert_int_equal(s.state, BREAKER_CLOSED);
	breaker_destroy(&b);
}

static void
test_window_rollover(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_snapshot s;

	(void)st;
	p.window_s = 3;
	p.consecutive_failures = 1000;
	p.min_requests = 5;
	setup(&b, &r, &p);
	fail_n(&b, 0, 3);
	assert_true(call(&b, 1500, OUTCOME_SUCCESS, 1));
	breaker_snapshot(&b, 2999, &s);
	assert_int_equal(s.calls, 4);
	assert_int_equal(s.failures, 3);
	/* Second 0 has left the window [1, 3]. */
	breaker_snapshot(&b, 3000, &s);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.failures, 0);
	/*
	 * Second 3 reuses the bucket of second 0: it starts empty, so one
	 * failure makes 2 calls (not 5 with 4 failures, which would open
	 * by rate).
	 */
	fail_n(&b, 3500, 1);
	breaker_snapshot(&b, 3500, &s);
	assert_int_equal(s.state, BREAKER_CLOSED);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.failures, 1);
	assert_int_equal(b.ring[0].sec, 3);
	assert_int_equal(b.ring[0].calls, 1);
	/* Long after, nothing is live. */
	breaker_snapshot(&b, 100000, &s);
	assert_int_equal(s.calls, 0);
	breaker_destroy(&b);
}

static void
test_open_refuses_and_retry_after_counts_down(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_snapshot before, after;
	struct breaker_ticket t;

	(void)st;
	setup(&b, &r, &p);
	open_at(&b, 1000);
	breaker_snapshot(&b, 1000, &before);
	for (int i = 0; i < 10; i++) {
		assert_false(breaker_admit(&b, 1000 + i, i % 2, &t));
		assert_false(t.admitted);
	}
	breaker_snapshot(&b, 1000, &after);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(after.dry_run_rejects, 0);
	assert_int_equal(after.half_open_in_ms, 5000);

	assert_int_equal(breaker_retry_after_s(&b, 1000), 5);
	assert_int_equal(breaker_retry_after_s(&b, 1001), 5);
	assert_int_equal(breaker_retry_after_s(&b, 2000), 4);
	assert_int_equal(breaker_retry_after_s(&b, 4999), 2);
	assert_int_equal(breaker_retry_after_s(&b, 5000), 1);
	assert_int_equal(breaker_retry_after_s(&b, 5999), 1);
	assert_int_equal(state(&b, 5999), BREAKER_OPEN);
	assert_int_equal(breaker_retry_after_s(&b, 6000), 1);
	assert_int_equal(state(&b, 6000), BREAKER_HALF_OPEN);
	breaker_destroy(&b);
}

static void
test_timer_exact_without_jitter(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();

	(void)st;
	setup(&b, &r, &p);
	open_at(&b, 1000);
	assert_int_equal(breaker_poll(&b, 5999), 1);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(r.n, 1);
	assert_int_equal(breaker_poll(&b, 6000), UINT64_MAX);
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.tr[1].from, BREAKER_OPEN);
	assert_int_equal(r.tr[1].to, BREAKER_HALF_OPEN);
	assert_int_equal(r.tr[1].reason, BREAKER_R_TIMER);
	assert_int_equal(r.tr[1].half_open_in_ms, 0);
	assert_int_equal(r.tr[1].open_period_ms, 0);
	breaker_destroy(&b);
}

static void
test_timer_jitter_bounds_over_seeds(void **st)
{
	struct breaker_params p = params();
	uint64_t lo = UINT64_MAX, hi = 0;

	(void)st;
	p.open_jitter_ppm = 200000; /* up to 1000 ms on 5000 */
	for (uint64_t seed = 1; seed <= 500; seed++) {
		struct breaker b;
		struct rec r;
		uint64_t in;

		memset(&r, 0, sizeof(r));
		breaker_init(&b, &p, 0, seed, rec_hook, &r);
		open_at(&b, 1000);
		in = r.tr[0].half_open_in_ms;
		assert_int_equal(r.tr[0].open_period_ms, 5000);
		assert_in_range(in, 5000, 6000);
		if (in < lo)
			lo = in;
		if (in > hi)
			hi = in;
		assert_int_equal(breaker_poll(&b, 1000 + in - 1), 1);
		assert_int_equal(b.state, BREAKER_OPEN);
		breaker_poll(&b, 1000 + in);
		assert_int_equal(b.state, BREAKER_HALF_OPEN);
		breaker_destroy(&b);
	}
	/* Spread over the range, not stuck at one end. */
	assert_true(lo < 5100);
	assert_true(hi > 5900);
}

static void
probe_limit(unsigned probes)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_ticket t[BREAKER_MAX_PROBES + 1];
	struct breaker_snapshot s;
	uint64_t h;

	p.half_open_probes = probes;
	p.half_open_successes = 100;
	setup(&b, &r, &p);
	h = half_open_at(&b, 1000);
	for (unsigned i = 0; i < probes; i++) {
		assert_true(breaker_admit(&b, h, true, &t[i]));
		assert_true(t[i].admitted);
		assert_false(t[i].would_reject);
		assert_int_equal(t[i].slot, i);
	}
	assert_false(breaker_admit(&b, h, true, &t[probes]));
	assert_false(t[probes].admitted);
	breaker_snapshot(&b, h, &s);
	assert_int_equal(s.probes_in_flight, probes);
	/* A success frees its slot, and the next call may take it. */
	breaker_report(&b, h + 1, &t[0], OUTCOME_SUCCESS, 1);
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	assert_true(breaker_admit(&b, h + 2, true, &t[probes]));
	assert_int_equal(t[probes].slot, 0);
	assert_false(breaker_admit(&b, h + 2, true, &t[0]));
	breaker_destroy(&b);
}

static void
test_half_open_one_probe_in_flight(void **st)
{
	(void)st;
	probe_limit(1);
}

static void
test_half_open_three_probes_in_flight(void **st)
{
	(void)st;
	probe_limit(3);
}

static void
test_non_idempotent_probe_only_after_lease(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_ticket t, u;
	uint64_t h;

	(void)st;
	p.half_open_probes = 2;
	setup(&b, &r, &p);
	h = half_open_at(&b, 1000);
	assert_false(breaker_admit(&b, h, false, &t));
	assert_true(breaker_admit(&b, h + 5000, true, &t));
	assert_int_equal(t.slot, 0);
	/* A slot is free, yet a write waits a lease for a safer candidate. */
	assert_false(breaker_admit(&b, h + 9999, false, &u));
	assert_false(u.admitted);
	assert_true(breaker_admit(&b, h + 10000, false, &u));
	assert_int_equal(u.slot, 1);
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	breaker_destroy(&b);
}

static void
test_probes_passed_close_and_reset_window(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_snapshot s;
	struct breaker_ticket t;
	uint64_t h;

	(void)st;
	setup(&b, &r, &p);
	h = half_open_at(&b, 1000);
	breaker_snapshot(&b, h, &s);
	assert_int_equal(s.calls, 5); /* still in the 10 s window */
	for (int i = 0; i < 2; i++) {
		assert_true(call(&b, h + i, OUTCOME_SUCCESS, 1));
		assert_int_equal(state(&b, h + i), BREAKER_HALF_OPEN);
	}
	assert_int_equal(b.probe_successes, 2);
	assert_true(breaker_admit(&b, h + 2, true, &t));
	breaker_report(&b, h + 3, &t, OUTCOME_THROTTLED, 1);
	breaker_snapshot(&b, h + 3, &s);
	assert_int_equal(s.state, BREAKER_CLOSED);
	assert_int_equal(s.calls, 0);
	assert_int_equal(s.failures, 0);
	assert_int_equal(s.consecutive, 0);
	assert_int_equal(b.closed_at_ms, h + 3);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.tr[2].from, BREAKER_HALF_OPEN);
	assert_int_equal(r.tr[2].to, BREAKER_CLOSED);
	assert_int_equal(r.tr[2].reason, BREAKER_R_PROBES_PASSED);
	assert_int_equal(r.tr[2].half_open_in_ms, 0);
	/* Closed again: a fresh run of failures is needed. */
	fail_n(&b, h + 4, 4);
	assert_int_equal(state(&b, h + 4), BREAKER_CLOSED);
	breaker_destroy(&b);
}

static void
test_failed_probe_doubles_period_capped(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	uint64_t h, want[] = { 10000, 15000, 15000 };

	(void)st;
	p.max_open_for_ms = 15000;
	setup(&b, &r, &p);
	h = half_open_at(&b, 1000);
	assert_int_equal(r.tr[0].open_period_ms, 5000);
	for (int i = 0; i < 3; i++) {
		int n = r.n;

		assert_true(call(&b, h, OUTCOME_RESET, 1));
		assert_int_equal(r.n, n + 1);
		assert_int_equal(r.tr[n].from, BREAKER_HALF_OPEN);
		assert_int_equal(r.tr[n].to, BREAKER_OPEN);
		assert_int_equal(r.tr[n].reason, BREAKER_R_PROBE_FAILED);
		assert_int_equal(r.tr[n].open_period_ms, want[i]);
		assert_int_equal(r.tr[n].half_open_in_ms, want[i]);
		assert_int_equal(breaker_poll(&b, h), want[i]);
		h += want[i];
		assert_int_equal(state(&b, h), BREAKER_HALF_OPEN);
	}
	breaker_destroy(&b);
}

/* Drive a breaker to a 10 s period, closed at the returned time. */
static uint64_t
closed_with_period_10s(struct breaker *b)
{
	uint64_t h = half_open_at(b, 1000);

	assert_true(call(b, h, OUTCOME_OTHER_5XX, 1));
	assert_int_equal(b->open_period_ms, 10000);
	h += 10000;
	for (int i = 0; i < 3; i++)
		assert_true(call(b, h, OUTCOME_SUCCESS, 1));
	assert_int_equal(state(b, h), BREAKER_CLOSED);
	return h;
}

static void
test_period_decays_after_max_open_for_closed(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	uint64_t c;

	(void)st;
	/* Re-opened sooner than max_open_for: the period is kept. */
	setup(&b, &r, &p);
	c = closed_with_period_10s(&b);
	open_at(&b, c + 119999);
	assert_int_equal(r.tr[r.n - 1].open_period_ms, 10000);
	assert_int_equal(r.tr[r.n - 1].half_open_in_ms, 10000);
	breaker_destroy(&b);

	/* Closed for max_open_for: back to open_for. */
	setup(&b, &r, &p);
	c = closed_with_period_10s(&b);
	open_at(&b, c + 120000);
	assert_int_equal(r.tr[r.n - 1].open_period_ms, 5000);
	assert_int_equal(r.tr[r.n - 1].half_open_in_ms, 5000);
	breaker_destroy(&b);
}

static void
test_probe_timeout_reopens(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_ticket t;
	uint64_t h;

	(void)st;
	setup(&b, &r, &p);
	h = half_open_at(&b, 1000);
	assert_true(breaker_admit(&b, h, true, &t));
	breaker_report(&b, h + 9999, &t, OUTCOME_TIMEOUT, 9999);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(r.tr[r.n - 1].reason, BREAKER_R_PROBE_FAILED);
	assert_int_equal(r.tr[r.n - 1].open_period_ms, 10000);
	breaker_destroy(&b);
}

static void
test_probe_lease_expiry_reopens_on_admit(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_ticket t, u;
	struct breaker_snapshot s;
	uint64_t h;

	(void)st;
	setup(&b, &r, &p);
	h = half_open_at(&b, 1000);
	assert_true(breaker_admit(&b, h, true, &t));
	assert_false(breaker_admit(&b, h + 9999, true, &u));
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	assert_false(breaker_admit(&b, h + 10000, true, &u));
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(r.tr[r.n - 1].reason, BREAKER_R_PROBE_FAILED);
	assert_int_equal(b.open_period_ms, 10000);
	/* The late report is stale. */
	breaker_snapshot(&b, h + 10001, &s);
	breaker_report(&b, h + 10001, &t, OUTCOME_SUCCESS, 10001);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(b.generation, s.generation);
	breaker_destroy(&b);
}

static void
test_probe_lease_expiry_reopens_on_poll(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_ticket t;
	uint64_t h;

	(void)st;
	setup(&b, &r, &p);
	h = half_open_at(&b, 1000);
	assert_true(breaker_admit(&b, h, true, &t));
	assert_int_equal(breaker_poll(&b, h + 9999), 1);
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	assert_int_equal(breaker_poll(&b, h + 10000), 10000);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(r.tr[r.n - 1].from, BREAKER_HALF_OPEN);
	assert_int_equal(r.tr[r.n - 1].reason, BREAKER_R_PROBE_FAILED);
	breaker_destroy(&b);
}

static void
test_probe_client_gone_frees_slot(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_ticket t, u;
	uint64_t h, gen;
	int n;

	(void)st;
	setup(&b, &r, &p);
	h = half_open_at(&b, 1000);
	assert_true(call(&b, h, OUTCOME_SUCCESS, 1));
	gen = b.generation;
	n = r.n;
	assert_true(breaker_admit(&b, h + 1, true, &t));
	assert_false(breaker_admit(&b, h + 1, true, &u));
	breaker_report(&b, h + 2, &t, OUTCOME_CLIENT_GONE, 1);
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	assert_int_equal(b.generation, gen);
	assert_int_equal(b.probe_successes, 1);
	assert_int_equal(r.n, n);
	/* The slot is back, and the run of successes goes on. */
	assert_true(call(&b, h + 3, OUTCOME_SUCCESS, 1));
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	assert_true(call(&b, h + 4, OUTCOME_SUCCESS, 1));
	assert_int_equal(b.state, BREAKER_CLOSED);
	breaker_destroy(&b);
}

static void
test_stale_outcomes_change_nothing(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_ticket a, c, d, p1, p2, p3, x;
	struct breaker_snapshot s;
	uint64_t h;

	(void)st;
	p.half_open_probes = 2;
	p.half_open_successes = 2;
	setup(&b, &r, &p);
	assert_true(breaker_admit(&b, 1000, true, &a));
	assert_true(breaker_admit(&b, 1000, true, &c));
	assert_true(breaker_admit(&b, 1000, true, &d));
	open_at(&b, 1000);

	/* Admitted in CLOSED, reported in OPEN. */
	breaker_report(&b, 1001, &a, OUTCOME_SUCCESS, 1);
	assert_false(a.admitted);
	breaker_snapshot(&b, 1001, &s);
	assert_int_equal(s.state, BREAKER_OPEN);
	assert_int_equal(s.calls, 5);
	assert_int_equal(s.consecutive, 5);

	/* ... in HALF_OPEN: not a probe, no slot freed, nothing counted. */
	h = b.half_open_at_ms;
	assert_true(breaker_admit(&b, h, true, &p1));
	assert_true(breaker_admit(&b, h, true, &p2));
	breaker_report(&b, h, &c, OUTCOME_SUCCESS, 1);
	assert_int_equal(b.probe_successes, 0);
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	assert_false(breaker_admit(&b, h, true, &x));

	/* Close with p1 and p3 while p2 is still out. */
	breaker_report(&b, h, &p1, OUTCOME_SUCCESS, 1);
	assert_true(breaker_admit(&b, h, true, &p3));
	breaker_report(&b, h, &p3, OUTCOME_SUCCESS, 1);
	assert_int_equal(b.state, BREAKER_CLOSED);

	/* ... in CLOSED again: a CLOSED-era ticket and a probe's. */
	breaker_report(&b, h + 1, &d, OUTCOME_CONNECT_FAILURE, 1);
	breaker_report(&b, h + 1, &p2, OUTCOME_TIMEOUT, 1);
	breaker_snapshot(&b, h + 1, &s);
	assert_int_equal(s.state, BREAKER_CLOSED);
	assert_int_equal(s.calls, 0);
	assert_int_equal(s.slow, 0);
	assert_int_equal(s.consecutive, 0);
	assert_int_equal(r.n, 3);

	/* A second report of the same ticket is a no-op. */
	assert_true(breaker_admit(&b, h + 2, true, &a));
	breaker_report(&b, h + 2, &a, OUTCOME_CONNECT_FAILURE, 1);
	breaker_report(&b, h + 2, &a, OUTCOME_CONNECT_FAILURE, 1);
	breaker_snapshot(&b, h + 2, &s);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.consecutive, 1);
	breaker_destroy(&b);
}

static void
test_unsent_and_local_reject_change_nothing(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_snapshot s;
	struct breaker_ticket t;
	uint64_t h, gen;

	(void)st;
	setup(&b, &r, &p);
	fail_n(&b, 1000, 4);
	for (int i = 0; i < 10; i++) {
		assert_true(call(&b, 1000, OUTCOME_RESET_UNSENT, 1));
		assert_true(call(&b, 1000, OUTCOME_LOCAL_REJECT, 1));
	}
	breaker_snapshot(&b, 1000, &s);
	assert_int_equal(s.state, BREAKER_CLOSED);
	assert_int_equal(s.calls, 4);
	assert_int_equal(s.consecutive, 4);
	assert_int_equal(r.n, 0);
	fail_n(&b, 1000, 1);

	/*
	 * In HALF_OPEN they count nothing, but give the slot back (held
	 * until its lease ran out it would fail the probe).
	 */
	h = b.half_open_at_ms;
	assert_true(breaker_admit(&b, h, true, &t));
	gen = b.generation;
	breaker_report(&b, h, &t, OUTCOME_RESET_UNSENT, 1);
	assert_true(breaker_admit(&b, h, true, &t));
	breaker_report(&b, h, &t, OUTCOME_LOCAL_REJECT, 1);
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	assert_int_equal(b.generation, gen);
	assert_int_equal(b.probe_successes, 0);
	assert_int_equal(breaker_poll(&b, h + 20000), UINT64_MAX);
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	breaker_destroy(&b);
}

static void
test_throttled_counts_as_success_apart(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_snapshot s;

	(void)st;
	setup(&b, &r, &p);
	fail_n(&b, 1000, 4);
	assert_true(call(&b, 1000, OUTCOME_THROTTLED, 1));
	fail_n(&b, 1000, 4);
	breaker_snapshot(&b, 1000, &s);
	assert_int_equal(s.state, BREAKER_CLOSED);
	assert_int_equal(s.calls, 9);
	assert_int_equal(s.failures, 8);
	assert_int_equal(s.consecutive, 4);
	/* ...counted apart in the window (SPEC 4.2), and gone with its second. */
	assert_int_equal(s.throttled, 1);
	assert_true(call(&b, 1000, OUTCOME_SUCCESS, 1));
	breaker_snapshot(&b, 1000, &s);
	assert_int_equal(s.throttled, 1);
	breaker_snapshot(&b, 1000 + p.window_s * 1000, &s);
	assert_int_equal(s.calls, 0);
	assert_int_equal(s.throttled, 0);
	breaker_destroy(&b);
}

static void
test_dry_run_never_refuses(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_ticket t, probe;
	struct breaker_snapshot s;
	uint64_t h;

	(void)st;
	p.mode = BREAKER_MODE_DRY_RUN;
	setup(&b, &r, &p);
	open_at(&b, 1000);
	assert_int_equal(r.n, 1);
	assert_true(r.tr[0].dry_run);
	assert_int_equal(r.tr[0].reason, BREAKER_R_CONSECUTIVE);

	/* OPEN: admitted, flagged; its outcome changes nothing. */
	assert_true(breaker_admit(&b, 1001, true, &t));
	assert_true(t.admitted);
	assert_true(t.would_reject);
	assert_int_equal(t.slot, -1);
	assert_int_equal(t.generation, b.generation);
	breaker_report(&b, 1002, &t, OUTCOME_SUCCESS, 1);
	assert_true(breaker_admit(&b, 1003, false, &t));
	breaker_report(&b, 1004, &t, OUTCOME_CONNECT_FAILURE, 1);
	breaker_snapshot(&b, 1004, &s);
	assert_int_equal(s.state, BREAKER_OPEN);
	assert_true(s.dry_run);
	assert_int_equal(s.dry_run_rejects, 2);
	assert_int_equal(s.calls, 5);

	/* HALF_OPEN: the probe is real, the rest would be refused. */
	h = b.half_open_at_ms;
	assert_true(breaker_admit(&b, h, true, &probe));
	assert_false(probe.would_reject);
	assert_int_equal(probe.slot, 0);
	assert_true(breaker_admit(&b, h, true, &t));
	assert_true(t.would_reject);
	assert_int_equal(t.slot, -1);
	breaker_report(&b, h, &t, OUTCOME_CONNECT_FAILURE, 1);
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	breaker_report(&b, h, &probe, OUTCOME_CONNECT_FAILURE, 1);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(r.n, 3);
	assert_true(r.tr[2].dry_run);
	assert_int_equal(r.tr[2].reason, BREAKER_R_PROBE_FAILED);
	breaker_snapshot(&b, h, &s);
	assert_int_equal(s.dry_run_rejects, 3);
	assert_int_equal(s.transitions[BREAKER_HALF_OPEN][BREAKER_OPEN]
	    [BREAKER_R_PROBE_FAILED], 1);
	breaker_destroy(&b);
}

static void
test_forced_open_closed_auto(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_ticket t;
	struct breaker_snapshot s;
	uint64_t h, gen, n;

	(void)st;
	setup(&b, &r, &p);
	/* Leave the breaker with a doubled period first. */
	h = half_open_at(&b, 1000);
	assert_true(call(&b, h, OUTCOME_CONNECT_FAILURE, 1));
	assert_int_equal(b.open_period_ms, 10000);

	breaker_force(&b, h + 1, BREAKER_FORCE_OPEN);
	assert_int_equal(b.state, BREAKER_FORCED_OPEN);
	assert_int_equal(r.tr[r.n - 1].reason, BREAKER_R_OPERATOR);
	assert_int_equal(r.tr[r.n - 1].from, BREAKER_OPEN);
	assert_int_equal(r.tr[r.n - 1].to, BREAKER_FORCED_OPEN);
	assert_false(breaker_admit(&b, h + 100000, true, &t));
	assert_int_equal(b.state, BREAKER_FORCED_OPEN);
	assert_int_equal(breaker_retry_after_s(&b, h + 2), 5);
	assert_int_equal(breaker_poll(&b, h + 2), UINT64_MAX);
	gen = b.generation;
	breaker_force(&b, h + 2, BREAKER_FORCE_OPEN);
	assert_int_equal(b.generation, gen);

	breaker_force(&b, h + 3, BREAKER_FORCE_CLOSED);
	assert_int_equal(b.state, BREAKER_FORCED_CLOSED);
	breaker_snapshot(&b, h + 4, &s);
	fail_n(&b, h + 4, 50);
	gen = s.failures;
	n = s.consecutive;
	breaker_snapshot(&b, h + 4, &s);
	assert_int_equal(s.state, BREAKER_FORCED_CLOSED);
	assert_int_equal(s.failures, gen + 50);
	assert_int_equal(s.consecutive, n + 50);
	assert_int_equal(breaker_retry_after_s(&b, h + 4), 1);
	gen = b.generation;
	breaker_force(&b, h + 5, BREAKER_FORCE_CLOSED);
	assert_int_equal(b.generation, gen);

	breaker_force(&b, h + 6, BREAKER_FORCE_AUTO);
	breaker_snapshot(&b, h + 6, &s);
	assert_int_equal(s.state, BREAKER_CLOSED);
	assert_int_equal(s.calls, 0);
	assert_int_equal(s.consecutive, 0);
	assert_int_equal(s.open_period_ms, 5000);
	assert_int_equal(r.tr[r.n - 1].from, BREAKER_FORCED_CLOSED);
	assert_int_equal(r.tr[r.n - 1].to, BREAKER_CLOSED);
	assert_int_equal(r.tr[r.n - 1].reason, BREAKER_R_OPERATOR);
	gen = b.generation;
	breaker_force(&b, h + 7, BREAKER_FORCE_AUTO);
	assert_int_equal(b.generation, gen);

	/* Reopened at once: the period is open_for again. */
	open_at(&b, h + 8);
	assert_int_equal(r.tr[r.n - 1].open_period_ms, 5000);
	/* Auto from OPEN closes it. */
	breaker_force(&b, h + 9, BREAKER_FORCE_AUTO);
	assert_int_equal(b.state, BREAKER_CLOSED);
	breaker_destroy(&b);

	/* Dry run does not lift a forced open. */
	p.mode = BREAKER_MODE_DRY_RUN;
	setup(&b, &r, &p);
	breaker_force(&b, 0, BREAKER_FORCE_OPEN);
	assert_false(breaker_admit(&b, 1, true, &t));
	assert_false(t.admitted);
	assert_int_equal(b.dry_run_rejects, 0);
	breaker_destroy(&b);
}

static void
test_transition_counters_and_hook_fields(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_snapshot s;
	uint64_t h;

	(void)st;
	p.open_jitter_ppm = 100000;
	setup(&b, &r, &p);
	assert_true(call(&b, 500, OUTCOME_SUCCESS, 1));
	open_at(&b, 1000);
	assert_int_equal(r.tr[0].calls, 6);
	assert_int_equal(r.tr[0].failures, 5);
	assert_int_equal(r.tr[0].slow, 0);
	assert_int_equal(r.tr[0].consecutive, 5);
	assert_int_equal(r.tr[0].open_period_ms, 5000);
	assert_in_range(r.tr[0].half_open_in_ms, 5000, 5500);
	assert_int_equal(r.tr[0].half_open_in_ms, b.half_open_at_ms - 1000);
	assert_int_equal(r.tr[0].generation, 2);
	assert_false(r.tr[0].dry_run);
	breaker_snapshot(&b, 1000, &s);
	assert_int_equal(s.half_open_in_ms, r.tr[0].half_open_in_ms);

	h = b.half_open_at_ms;
	assert_int_equal(state(&b, h), BREAKER_HALF_OPEN);
	assert_int_equal(r.tr[1].generation, 3);
	assert_true(call(&b, h, OUTCOME_INVALID, 1));
	h = b.half_open_at_ms;
	assert_int_equal(state(&b, h), BREAKER_HALF_OPEN);
	for (int i = 0; i < 3; i++)
		assert_true(call(&b, h, OUTCOME_SUCCESS, 1));
	breaker_force(&b, h, BREAKER_FORCE_OPEN);
	breaker_force(&b, h, BREAKER_FORCE_AUTO);

	breaker_snapshot(&b, h, &s);
	assert_int_equal(r.n, 7);
	assert_int_equal(s.generation, 8);
	assert_int_equal(s.transitions[BREAKER_CLOSED][BREAKER_OPEN]
	    [BREAKER_R_CONSECUTIVE], 1);
	assert_int_equal(s.transitions[BREAKER_OPEN][BREAKER_HALF_OPEN]
	    [BREAKER_R_TIMER], 2);
	assert_int_equal(s.transitions[BREAKER_HALF_OPEN][BREAKER_OPEN]
	    [BREAKER_R_PROBE_FAILED], 1);
	assert_int_equal(s.transitions[BREAKER_HALF_OPEN][BREAKER_CLOSED]
	    [BREAKER_R_PROBES_PASSED], 1);
	assert_int_equal(s.transitions[BREAKER_CLOSED][BREAKER_FORCED_OPEN]
	    [BREAKER_R_OPERATOR], 1);
	assert_int_equal(s.transitions[BREAKER_FORCED_OPEN][BREAKER_CLOSED]
	    [BREAKER_R_OPERATOR], 1);
	for (int i = 0; i < 7; i++) {
		assert_int_equal(r.tr[i].generation, 2 + i);
		if (r.tr[i].to != BREAKER_OPEN) {
			assert_int_equal(r.tr[i].open_period_ms, 0);
			assert_int_equal(r.tr[i].half_open_in_ms, 0);
		}
	}
	assert_int_equal(r.tr[2].open_period_ms, 10000);
	assert_in_range(r.tr[2].half_open_in_ms, 10000, 11000);
	breaker_destroy(&b);
}

static void
test_poll_return_value(void **st)
{
	struct breaker b;
	struct rec r;
	struct breaker_params p = params();
	struct breaker_ticket t, u;
	uint64_t h;

	(void)st;
	p.half_open_probes = 2;
	setup(&b, &r, &p);
	assert_int_equal(breaker_poll(&b, 0), UINT64_MAX);
	open_at(&b, 1000);
	assert_int_equal(breaker_poll(&b, 1000), 5000);
	assert_int_equal(breaker_poll(&b, 2000), 4000);
	h = 6000;
	assert_int_equal(breaker_poll(&b, h), UINT64_MAX);
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	assert_true(breaker_admit(&b, h + 1000, true, &t));
	assert_int_equal(breaker_poll(&b, h + 3000), 8000);
	assert_true(breaker_admit(&b, h + 4000, true, &u));
	assert_int_equal(breaker_poll(&b, h + 5000), 6000);
	breaker_report(&b, h + 5000, &t, OUTCOME_CLIENT_GONE, 1);
	assert_int_equal(breaker_poll(&b, h + 5000), 9000);
	breaker_report(&b, h + 5000, &u, OUTCOME_CLIENT_GONE, 1);
	assert_int_equal(breaker_poll(&b, h + 5000), UINT64_MAX);
	breaker_force(&b, h + 5000, BREAKER_FORCE_OPEN);
	assert_int_equal(breaker_poll(&b, h + 5000), UINT64_MAX);
	breaker_destroy(&b);
}

/* ---- two threads at once */

struct hammer {
	struct breaker *b;
	_Atomic uint64_t *clock;
	uint64_t seed;
	uint64_t admitted;
};

static _Atomic uint64_t hammer_hooked;

static void
hammer_hook(void *arg, const struct breaker_transition *tr)
{
	(void)arg;
	(void)tr;
	atomic_fetch_add(&hammer_hooked, 1);
}

static void *
hammer_run(void *arg)
{
	static const enum try_outcome outs[] = {
		OUTCOME_SUCCESS, OUTCOME_SUCCESS, OUTCOME_SUCCESS,
		OUTCOME_THROTTLED, OUTCOME_CONNECT_FAILURE, OUTCOME_TIMEOUT,
		OUTCOME_CLIENT_GONE, OUTCOME_RESET_UNSENT,
	};
	struct hammer *h = arg;
	uint64_t x = h->seed;

	for (int i = 0; i < 20000; i++) {
		struct breaker_ticket t;
		uint64_t now = atomic_fetch_add(h->clock, 1);

		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		if (!breaker_admit(h->b, now, (x >> 40) % 4 != 0, &t))
			continue;
		h->admitted++;
		now = atomic_fetch_add(h->clock, 1);
		breaker_report(h->b, now, &t, outs[(x >> 33) % 8],
		    (x >> 50) % 8);
		if (i % 1000 == 0)
			breaker_poll(h->b, now);
	}
	return NULL;
}

static void
test_two_threads_stay_consistent(void **st)
{
	struct breaker b;
	struct breaker_params p = params();
	struct breaker_snapshot s;
	_Atomic uint64_t clock = 0;
	struct hammer h[2];
	pthread_t th[2];
	uint64_t total = 0;
	int64_t net[BREAKER__STATES] = { 0 };

	(void)st;
	p.consecutive_failures = 3;
	p.min_requests = 5;
	p.window_s = 2;
	p.slow_call_ms = 5;
	p.open_for_ms = 20;
	p.max_open_for_ms = 200;
	p.open_jitter_ppm = 500000;
	p.half_open_probes = 2;
	p.half_open_successes = 2;
	p.probe_lease_ms = 30;
	atomic_store(&hammer_hooked, 0);
	breaker_init(&b, &p, 0, 7, hammer_hook, NULL);
	for (int i = 0; i < 2; i++) {
		h[i] = (struct hammer){ .b = &b, .clock = &clock,
			.seed = 1000 + (uint64_t)i };
		assert_int_equal(
		    pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(th[i], NULL), 0);

	breaker_snapshot(&b, atomic_load(&clock), &s);
	for (int f = 0; f < BREAKER__STATES; f++)
		for (int t = 0; t < BREAKER__STATES; t++)
			for (int r = 0; r < BREAKER__REASONS; r++) {
				total += s.transitions[f][t][r];
				net[f] -= (int64_t)s.transitions[f][t][r];
				net[t] += (int64_t)s.transitions[f][t][r];
			}
	assert_true(total > 10);
	assert_true(h[0].admitted + h[1].admitted > 0);
	assert_int_equal(s.generation, 1 + total);
	assert_int_equal(atomic_load(&hammer_hooked), total);
	/* Entries minus exits: 1 for the state it ends in, -1 for CLOSED. */
	for (int i = 0; i < BREAKER__STATES; i++)
		assert_int_equal(net[i], (i == (int)s.state) -
		    (i == BREAKER_CLOSED));
	assert_true(s.probes_in_flight <= p.half_open_probes);
	assert_true(s.failures <= s.calls && s.slow <= s.calls);
	breaker_destroy(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_init_clamps),
		cmocka_unit_test(test_opens_on_consecutive_failures),
		cmocka_unit_test(test_success_resets_consecutive_run),
		cmocka_unit_test(test_rate_needs_min_requests),
		cmocka_unit_test(test_rate_threshold_exact),
		cmocka_unit_test(test_slow_call_rate),
		cmocka_unit_test(test_slow_call_rate_zero_never_opens),
		cmocka_unit_test(test_window_rollover),
		cmocka_unit_test(test_open_refuses_and_retry_after_counts_down),
		cmocka_unit_test(test_timer_exact_without_jitter),
		cmocka_unit_test(test_timer_jitter_bounds_over_seeds),
		cmocka_unit_test(test_half_open_one_probe_in_flight),
		cmocka_unit_test(test_half_open_three_probes_in_flight),
		cmocka_unit_test(test_non_idempotent_probe_only_after_lease),
		cmocka_unit_test(test_probes_passed_close_and_reset_window),
		cmocka_unit_test(test_failed_probe_doubles_period_capped),
		cmocka_unit_test(test_period_decays_after_max_open_for_closed),
		cmocka_unit_test(test_probe_timeout_reopens),
		cmocka_unit_test(test_probe_lease_expiry_reopens_on_admit),
		cmocka_unit_test(test_probe_lease_expiry_reopens_on_poll),
		cmocka_unit_test(test_probe_client_gone_frees_slot),
		cmocka_unit_test(test_stale_outcomes_change_nothing),
		cmocka_unit_test(test_unsent_and_local_reject_change_nothing),
		cmocka_unit_test(test_throttled_counts_as_success_apart),
		cmocka_unit_test(test_dry_run_never_refuses),
		cmocka_unit_test(test_forced_open_closed_auto),
		cmocka_unit_test(test_transition_counters_and_hook_fields),
		cmocka_unit_test(test_poll_return_value),
		cmocka_unit_test(test_two_threads_stay_consistent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
