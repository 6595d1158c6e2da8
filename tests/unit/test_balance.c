/* Unit tests for smooth weighted round-robin. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "cutover/balance.h"

static void
test_single_server_always_zero(void **state)
{
	struct balance b;
	unsigned w[] = { 5 };

	(void)state;
	balance_init(&b, 1);
	for (int i = 0; i < 10; i++)
		assert_int_equal(balance_pick(&b, w), 0);
	balance_free(&b);
}

static void
test_exact_shares_per_cycle(void **state)
{
	struct balance b;
	unsigned w[] = { 3, 1, 2 };
	unsigned seen[3] = { 0 };

	(void)state;
	balance_init(&b, 3);
	for (int cycle = 0; cycle < 100; cycle++) {
		unsigned c[3] = { 0 };
		for (int i = 0; i < 6; i++)
			c[balance_pick(&b, w)]++;
		assert_int_equal(c[0], 3);
		assert_int_equal(c[1], 1);
		assert_int_equal(c[2], 2);
		for (int i = 0; i < 3; i++)
			seen[i] += c[i];
	}
	assert_int_equal(seen[0], 300);
	balance_free(&b);
}

static void
test_interleaved_not_bunched(void **state)
{
	struct balance b;
	unsigned w[] = { 5, 1, 1 };
	size_t seq[7];

	(void)state;
	balance_init(&b, 3);
	for (int i = 0; i < 7; i++)
		seq[i] = balance_pick(&b, w);
	/* nginx's documented sequence for 5,1,1: a a b a c a a */
	size_t want[7] = { 0, 0, 1, 0, 2, 0, 0 };
	for (int i = 0; i < 7; i++)
		assert_int_equal(seq[i], want[i]);
	balance_free(&b);
}

/* Down or excluded servers never win; the rest keep their shares; none usable: SIZE_MAX. */
static void
test_pick_among_usable(void **state)
{
	struct balance b;
	unsigned w[3] = { 1, 2, 1 };
	bool usable[3] = { true, false, true };
	size_t counts[3] = { 0, 0, 0 };

	(void)state;
	balance_init(&b, 3);
	for (int i = 0; i < 200; i++)
		counts[balance_pick_among(&b, w, usable)]++;
	assert_int_equal(counts[1], 0);
	assert_int_equal(counts[0], 100);
	assert_int_equal(counts[2], 100);
	usable[0] = usable[2] = false;
	assert_true(balance_pick_among(&b, w, usable) == SIZE_MAX);
	usable[1] = true;
	assert_int_equal(balance_pick_among(&b, w, usable), 1);
	balance_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_single_server_always_zero),
		cmocka_unit_test(test_exact_shares_per_cycle),
		cmocka_unit_test(test_interleaved_not_bunched),
		cmocka_unit_test(test_pick_among_usable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
