/* test_conf_units: the strict value syntaxes, good and bad, as tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cutover/conf_units.h"

struct units_case {
	const char *in;
	int rc;
	uint64_t out;
	const char *why; /* substring of the reason, for failures */
};

static void test_durations(void **state);
static void test_sizes(void **state);
static void test_ratios(void **state);
static void test_uints(void **state);

static const struct units_case durations[] = {
	{ "0", 0, 0, NULL },
	{ "0ms", 0, 0, NULL },
	{ "0s", 0, 0, NULL },
	{ "1ms", 0, 1, NULL },
	{ "250ms", 0, 250, NULL },
	{ "5s", 0, 5000, NULL },
	{ "05s", 0, 5000, NULL },
	{ "2m", 0, 120000, NULL },
	{ "1h", 0, 3600000, NULL },
	{ "18446744073709551615ms", 0, UINT64_MAX, NULL },
	{ "18446744073709551616ms", -1, 0, "too large" },
	{ "18446744073709551615s", -1, 0, "too large" },
	{ "5124095576030432h", -1, 0, "too large" },
	{ "", -1, 0, "empty" },
	{ "5", -1, 0, "no unit" },
	{ "00", 0, 0, NULL },
	{ "5x", -1, 0, "unknown unit" },
	{ "5 s", -1, 0, "unknown unit" },
	{ "5S", -1, 0, "unknown unit" },
	{ "5sec", -1, 0, "unknown unit" },
	{ "5ms ", -1, 0, "unknown unit" },
	{ "1.5s", -1, 0, "unknown unit" },
	{ "-1s", -1, 0, "not a number" },
	{ "+1s", -1, 0, "not a number" },
	{ " 1s", -1, 0, "not a number" },
	{ "s", -1, 0, "not a number" },
	{ "1d", -1, 0, "unknown unit" },
	{ "1us", -1, 0, "unknown unit" },
};

static const struct units_case sizes[] = {
	{ "0", 0, 0, NULL },
	{ "512", 0, 512, NULL },
	{ "1KiB", 0, 1024, NULL },
	{ "64KiB", 0, 65536, NULL },
	{ "16MiB", 0, 16777216, NULL },
	{ "2GiB", 0, UINT64_C(2147483648), NULL },
	{ "18446744073709551615", 0, UINT64_MAX, NULL },
	{ "18446744073709551616", -1, 0, "too large" },
	{ "17179869184GiB", -1, 0, "too large" },
	{ "17179869183GiB", 0, UINT64_C(17179869183) << 30, NULL },
	{ "", -1, 0, "empty" },
	{ "1KB", -1, 0, "unknown unit" },
	{ "1kib", -1, 0, "unknown unit" },
	{ "1K", -1, 0, "unknown unit" },
	{ "1 KiB", -1, 0, "unknown unit" },
	{ "1.5KiB", -1, 0, "unknown unit" },
	{ "KiB", -1, 0, "not a number" },
	{ "-1", -1, 0, "not a number" },
	{ "1TiB", -1, 0, "unknown unit" },
};

static const struct units_case ratios[] = {
	{ "0%", 0, 0, NULL },
	{ "50%", 0, 500000, NULL },
	{ "100%", 0, 1000000, NULL },
	{ "12.5%", 0, 125000, NULL },
	{ "0.0001%", 0, 1, NULL },
	{ "99.9999%", 0, 999999, NULL },
	{ "100.0%", 0, 1000000, NULL },
	{ "100.0001%", -1, 0, "above 100%" },
	{ "101%", -1, 0, "above 100%" },
	{ "99999999999999999999%", -1, 0, "too large" },
	{ "0.00001%", -1, 0, "more than 4 decimals" },
	{ "50", -1, 0, "missing '%'" },
	{ "50 %", -1, 0, "missing '%'" },
	{ "50%%", -1, 0, "missing '%'" },
	{ "5.%", -1, 0, "digits after" },
	{ ".5%", -1, 0, "not a number" },
	{ "%", -1, 0, "not a number" },
	{ "", -1, 0, "empty" },
	{ "-5%", -1, 0, "not a number" },
	{ "0.5", -1, 0, "missing '%'" },
};

struct uint_case {
	const char *in;
	uint64_t max;
	int rc;
	uint64_t out;
	const char *why;
};

static const struct uint_case uints[] = {
	{ "0", 10, 0, 0, NULL },
	{ "10", 10, 0, 10, NULL },
	{ "007", 10, 0, 7, NULL },
	{ "11", 10, -1, 0, "too large" },
	{ "18446744073709551615", UINT64_MAX, 0, UINT64_MAX, NULL },
	{ "18446744073709551616", UINT64_MAX, -1, 0, "too large" },
	{ "99999999999999999999999", UINT64_MAX, -1, 0, "too large" },
	{ "", 10, -1, 0, "empty" },
	{ "1.0", 10, -1, 0, "not a number" },
	{ "1e3", 10000, -1, 0, "not a number" },
	{ "0x10", 100, -1, 0, "not a number" },
	{ "-1", 10, -1, 0, "not a number" },
	{ "+1", 10, -1, 0, "not a number" },
	{ " 1", 10, -1, 0, "not a number" },
	{ "1 ", 10, -1, 0, "not a number" },
	{ "one", 10, -1, 0, "not a number" },
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void
check_case(const struct units_case *c, int rc, uint64_t out, const char *why)
{
	print_message("case \"%s\"\n", c->in);
	assert_int_equal(rc, c->rc);
	if (rc == 0) {
		assert_true(out == c->out);
	} else {
		assert_non_null(why);
		assert_non_null(strstr(why, c->why));
	}
}

static void
test_durations(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(durations); i++) {
		uint64_t v = 12345;
		const char *why = NULL;
		int rc = units_parse_duration(durations[i].in, &v, &why);

		check_case(&durations[i], rc, v, why);
	}
}

static void
test_sizes(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(sizes); i++) {
		uint64_t v = 12345;
		const char *why = NULL;
		int rc = units_parse_size(sizes[i].in, &v, &why);

		check_case(&sizes[i], rc, v, why);
	}
}

static void
test_ratios(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(ratios); i++) {
		uint32_t v = 12345;
		const char *why = NULL;
		int rc = units_parse_ratio(ratios[i].in, &v, &why);

		check_case(&ratios[i], rc, v, why);
	}
}

static void
test_uints(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(uints); i++) {
		const struct uint_case *c = &uints[i];
		uint64_t v = 12345;
		const char *why = NULL;
		int rc = units_parse_uint(c->in, c->max, &v, &why);

		print_message("case \"%s\" max %llu\n", c->in,
		    (unsigned long long)c->max);
		assert_int_equal(rc, c->rc);
		if (rc == 0) {
			assert_true(v == c->out);
		} else {
			assert_true(v == 12345); /* untouched on failure */
			assert_non_null(strstr(why, c->why));
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_durations),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_ratios),
		cmocka_unit_test(test_uints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
