/*
 * Unit tests for health_observe(), the pure part of src/health.c.
 *
 * Each row feeds a run of check results into a fresh counter and says
 * what must follow every one of them:
 *   checks:  'g' a good check, 'b' a failed one
 *   expect:  'U' still up, 'D' still down (no change reported),
 *            'v' went down, '^' came up (health_observe returned true)
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "cutover/health.h"

struct observe_case {
	const char *name;
	uint32_t healthy;
	uint32_t unhealthy;
	const char *checks;
	const char *expect;
};

static const struct observe_case observe_cases[] = {
	{ "starts up, good checks keep it up", 2, 3, "ggg", "UUU" },
	{ "unhealthy-1 failures keep it up", 2, 3, "bb", "UU" },
	{ "the unhealthy-th failure takes it down", 2, 3, "bbb", "UUv" },
	{ "more failures keep it down, no change", 2, 3, "bbbbb", "UUvDD" },
	{ "a success in between resets the failures", 2, 3, "bbgbb", "UUUUU" },
	{ "... and the run starts again after it", 2, 3, "bbgbbb", "UUUUUv" },
	{ "healthy-1 goods keep it down", 2, 3, "bbbg", "UUvD" },
	{ "the healthy-th good brings it up", 2, 3, "bbbgg", "UUvD^" },
	{ "a failure in between resets the goods", 2, 3, "bbbgbgg", "UUvDDD^" },
	{ "a failure while down is no change", 2, 3, "bbbgbb", "UUvDDD" },
	{ "up again, it takes unhealthy more to fall", 2, 3, "bbbggbbb",
	    "UUvD^UUv" },
	{ "healthy=1 unhealthy=1: every flip changes", 1, 1, "bgbbggb",
	    "v^vD^Uv" },
	{ "healthy=1: one good brings it up", 1, 3, "bbbg", "UUv^" },
	{ "unhealthy=1: one failure takes it down", 3, 1, "bggbggg", "vDDDDD^" },
	{ "threshold 0 reads as 1", 0, 0, "bg", "v^" },
};

static void
run_observe_case(const struct observe_case *c)
{
	struct health_counter h;
	size_t n = strlen(c->checks);

	assert_int_equal(n, strlen(c->expect));
	memset(&h, 0, sizeof(h));
	for (size_t i = 0; i < n; i++) {
		bool ok = c->checks[i] == 'g';
		char e = c->expect[i];
		bool changed = health_observe(&h, ok, c->healthy, c->unhealthy);

		if (changed != (e == 'v' || e == '^') ||
		    h.down != (e == 'v' || e == 'D'))
			fail_msg("case \"%s\": after check %zu ('%c') want '%c', "
				 "got changed=%d down=%d",
			    c->name, i + 1, c->checks[i], e, changed, h.down);
		/* A result ends the other kind's run. */
		if (ok)
			assert_int_equal(h.bad_run, 0);
		else
			assert_int_equal(h.good_run, 0);
	}
}

static void
test_observe_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(observe_cases) / sizeof(observe_cases[0]); i++)
		run_observe_case(&observe_cases[i]);
}

/* The run that decided a change is what the health_changed line shows. */
static void
test_runs_count_checks_in_a_row(void **state)
{
	struct health_counter h = { 0 };

	(void)state;
	assert_false(health_observe(&h, false, 2, 3));
	assert_false(health_observe(&h, false, 2, 3));
	assert_int_equal(h.bad_run, 2);
	assert_true(health_observe(&h, false, 2, 3));
	assert_int_equal(h.bad_run, 3);
	assert_int_equal(h.good_run, 0);
	assert_false(health_observe(&h, true, 2, 3));
	assert_int_equal(h.bad_run, 0);
	assert_int_equal(h.good_run, 1);
	assert_true(health_observe(&h, true, 2, 3));
	assert_int_equal(h.good_run, 2);
	assert_false(h.down);
}

/* A server failing for years must not wrap its run back to "few failures". */
static void
test_runs_saturate(void **state)
{
	struct health_counter h = { .bad_run = UINT32_MAX - 1, .down = true };

	(void)state;
	assert_false(health_observe(&h, false, 2, 3));
	assert_false(health_observe(&h, false, 2, 3));
	assert_int_equal(h.bad_run, UINT32_MAX);
	assert_true(h.down);

	h = (struct health_counter){ .good_run = UINT32_MAX };
	assert_false(health_observe(&h, true, 2, 3));
	assert_int_equal(h.good_run, UINT32_MAX);
	assert_false(h.down);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_observe_table),
		cmocka_unit_test(test_runs_count_checks_in_a_row),
		cmocka_unit_test(test_runs_saturate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
