/* Unit tests for src/budget.c: the retry budget (SPEC 4.3). Time is passed in. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cutover/budget.h"

#define PCT20 200000u /* 20% in ppm */

static void
firsts(struct retry_budget *b, uint64_t now_ms, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		budget_first_try(b, now_ms);
}

/* How many retries in a row the budget grants at now_ms (stops at the first refusal). */
static unsigned
spend_all(struct retry_budget *b, uint64_t now_ms)
{
	unsigned n = 0;

	while (budget_try_spend(b, now_ms))
		if (++n > 1000000)
			fail_msg("budget never refuses");
	return n;
}

static void
test_window_clamped(void **state)
{
	static const struct {
		uint64_t ms;
		uint32_t s;
	} cases[] = {
		{ 0, 1 }, { 999, 1 }, { 1000, 1 }, { 1999, 1 }, { 10000, 10 },
		{ 3600000, 3600 }, { 3601000, 3600 }, { UINT64_MAX, 3600 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct retry_budget b;

		budget_init(&b, PCT20, cases[i].ms, 3);
		assert_int_equal(b.window_s, cases[i].s);
		assert_non_null(b.ring);
		budget_destroy(&b);
		assert_null(b.ring);
	}
}

/* Ratio alone (no floor): (retries + 1) <= 20% of firsts, exactly. */
static void
test_ratio_edges(void **state)
{
	static const struct {
		unsigned firsts, granted;
	} cases[] = {
		{ 0, 0 }, { 1, 0 }, { 4, 0 }, { 5, 1 }, { 9, 1 }, { 10, 2 },
		{ 14, 2 }, { 15, 3 }, { 100, 20 }, { 104, 20 }, { 105, 21 },
	};
	struct budget_snapshot s;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct retry_budget b;

		budget_init(&b, PCT20, 10000, 0);
		firsts(&b, 5000, cases[i].firsts);
		assert_int_equal(spend_all(&b, 5000), cases[i].granted);
		budget_snapshot(&b, 5000, &s);
		assert_int_equal(s.firsts, cases[i].firsts);
		assert_int_equal(s.retries, cases[i].granted);
		assert_int_equal(s.exhausted, 1);
		budget_destroy(&b);
	}
}

/* The floor alone (no first tries): min_per_second each second. */
static void
test_floor_edges(void **state)
{
	struct retry_budget b;
	struct budget_snapshot s;

	(void)state;
	budget_init(&b, PCT20, 10000, 3);
	assert_true(budget_try_spend(&b, 0));
	assert_true(budget_try_spend(&b, 1));
	assert_true(budget_try_spend(&b, 999));
	assert_false(budget_try_spend(&b, 999));
	budget_snapshot(&b, 999, &s);
	assert_int_equal(s.retries, 3);
	assert_int_equal(s.exhausted, 1);
	budget_destroy(&b);

	/* A zero floor means no free retries at all. */
	budget_init(&b, PCT20, 10000, 0);
	assert_false(budget_try_spend(&b, 0));
	budget_destroy(&b);
}

/*
 * Ratio and floor together: the floor is "at least min_per_second in this
 * second", not extra on top of what the ratio granted in that second.
 */
static void
test_ratio_or_floor(void **state)
{
	struct retry_budget b;
	struct budget_snapshot s;

	(void)state;
	budget_init(&b, PCT20, 10000, 3);
	firsts(&b, 0, 10);	 /* ratio: 2 */
	assert_int_equal(spend_all(&b, 0), 3);	/* 2 by ratio, 1 more by the floor */
	/* Next second: the window is spent by ratio, but the floor is fresh. */
	assert_int_equal(spend_all(&b, 1000), 3);
	/* Enough new firsts reopen the ratio: 20% of 50 = 10 > 6 spent. */
	firsts(&b, 2000, 40);
	assert_int_equal(spend_all(&b, 2000), 4);
	budget_snapshot(&b, 2000, &s);
	assert_int_equal(s.firsts, 50);
	assert_int_equal(s.retries, 10);
	assert_int_equal(s.exhausted, 3);
	budget_destroy(&b);
}

/* Retries count the moment they are granted: no completion needed. */
static void
test_counted_when_scheduled(void **state)
{
	struct retry_budget b;
	struct budget_snapshot s;

	(void)state;
	budget_init(&b, PCT20, 10000, 0);
	firsts(&b, 100, 10);
	assert_true(budget_try_spend(&b, 100));
	assert_true(budget_try_spend(&b, 150));
	budget_snapshot(&b, 150, &s);
	assert_int_equal(s.retries, 2);
	assert_false(budget_try_spend(&b, 200));
	budget_snapshot(&b, 200, &s);
	assert_int_equal(s.retries, 2);
	assert_int_equal(s.exhausted, 1);
	budget_destroy(&b);
}

static void
test_window_rolls_over(void **state)
{
	struct retry_budget b;
	struct budget_snapshot s;

	(void)state;
	budget_init(&b, PCT20, 10000, 0);
	firsts(&b, 0, 10);
	assert_int_equal(spend_all(&b, 0), 2);
	firsts(&b, 5500, 5);
	/* Last millisecond of the window still sees second 0. */
	budget_snapshot(&b, 9999, &s);
	assert_int_equal(s.firsts, 15);
	assert_int_equal(s.retries, 2);
	assert_int_equal(spend_all(&b, 9999), 1);
	/* Second 0 is gone at 10 s; second 5 stays till 15 s. */
	budget_snapshot(&b, 10000, &s);
	assert_int_equal(s.firsts, 5);
	assert_int_equal(s.retries, 1);
	assert_false(budget_try_spend(&b, 10000));
	budget_snapshot(&b, 14999, &s);
	assert_int_equal(s.firsts, 5);
	budget_snapshot(&b, 15000, &s);
	assert_int_equal(s.firsts, 0);
	assert_int_equal(s.retries, 1);	/* second 9's */
	budget_snapshot(&b, 19000, &s);
	assert_int_equal(s.firsts, 0);
	assert_int_equal(s.retries, 0);
	/* The old retries are forgotten too: 5 fresh firsts buy one again. */
	firsts(&b, 19000, 5);
	assert_true(budget_try_spend(&b, 19000));
	/* A long silence, then a reused bucket starts from zero. */
	budget_snapshot(&b, 1000000, &s);
	assert_int_equal(s.firsts, 0);
	assert_int_equal(s.retries, 0);
	firsts(&b, 1009000, 5);	/* same ring slot as second 19 */
	budget_snapshot(&b, 1009000, &s);
	assert_int_equal(s.firsts, 5);
	assert_int_equal(s.retries, 0);
	assert_int_equal(s.exhausted, 3);
	budget_destroy(&b);
}

static void
test_floor_resets_each_second(void **state)
{
	struct retry_budget b;
	struct budget_snapshot s;

	(void)state;
	budget_init(&b, 0, 10000, 3);	/* ratio 0: the floor alone */
	for (uint64_t sec = 0; sec < 30; sec++)
		assert_int_equal(spend_all(&b, sec * 1000 + 500), 3);
	budget_snapshot(&b, 29500, &s);
	assert_int_equal(s.retries, 30);	/* 10 s of 3 */
	assert_int_equal(s.exhausted, 30);
	budget_destroy(&b);
}

/*
 * A total outage: every request fails and asks for one retry. Retries
 * stay at the budget (20% of firsts, + the floor of 3 per second), and
 * every refusal is counted.
 */
static void
test_total_outage(void **state)
{
	struct retry_budget b;
	struct budget_snapshot s;
	uint64_t granted = 0, refused = 0;

	(void)state;
	budget_init(&b, PCT20, 10000, 3);
	for (uint64_t sec = 0; sec < 60; sec++) {
		uint64_t this_sec = 0;

		for (unsigned i = 0; i < 100; i++) {
			uint64_t now = sec * 1000 + i * 10;

			budget_first_try(&b, now);
			if (budget_try_spend(&b, now))
				this_sec++;
			else
				refused++;
		}
		assert_true(this_sec <= 100 * PCT20 / 1000000 + 3);
		/* And the budget is actually used, not starved. */
		assert_true(this_sec >= 20);
		granted += this_sec;
		budget_snapshot(&b, sec * 1000 + 999, &s);
		assert_true(s.retries * 1000000 <=
		    (uint64_t)PCT20 * s.firsts + 3 * 1000000 * 10);
	}
	assert_true(granted <= 60 * (20 + 3));
	assert_int_equal(granted + refused, 6000);
	budget_snapshot(&b, 59999, &s);
	assert_int_equal(s.exhausted, refused);
	assert_int_equal(s.firsts, 1000);
	budget_destroy(&b);
}

struct smoke_arg {
	struct retry_budget *b;
	uint64_t granted;
};

#define SMOKE_N 20000

static void *
smoke_thread(void *p)
{
	struct smoke_arg *a = p;

	for (unsigned i = 0; i < SMOKE_N; i++) {
		budget_first_try(a->b, 1000);
		if (budget_try_spend(a->b, 1000))
			a->granted++;
	}
	return NULL;
}

static void
test_two_threads(void **state)
{
	struct retry_budget b;
	struct budget_snapshot s;
	struct smoke_arg a[2] = { { &b, 0 }, { &b, 0 } };
	pthread_t t[2];

	(void)state;
	budget_init(&b, PCT20, 10000, 3);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, smoke_thread,
		    &a[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	budget_snapshot(&b, 1000, &s);
	assert_int_equal(s.firsts, 2 * SMOKE_N);
	assert_int_equal(s.retries, a[0].granted + a[1].granted);
	assert_int_equal(s.retries + s.exhausted, 2 * SMOKE_N);
	assert_true(s.retries <= 2 * SMOKE_N / 5 + 3);
	budget_destroy(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_clamped),
		cmocka_unit_test(test_ratio_edges),
		cmocka_unit_test(test_floor_edges),
		cmocka_unit_test(test_ratio_or_floor),
		cmocka_unit_test(test_counted_when_scheduled),
		cmocka_unit_test(test_window_rolls_over),
		cmocka_unit_test(test_floor_resets_each_second),
		cmocka_unit_test(test_total_outage),
		cmocka_unit_test(test_two_threads),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
