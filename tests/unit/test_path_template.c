/*
 * test_path_template: which segments count as IDs (each kind, and the
 * near misses that must stay), whole-path templates, and the cut of a
 * template that does not fit its buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cutover/path_template.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

struct seg_case {
	const char *seg;
	bool id;
};

struct path_case {
	const char *path;
	const char *want;
};

static const struct seg_case seg_cases[] = {
	/* all decimal digits */
	{ "42", true },
	{ "0", true },
	{ "2026", true },
	{ "123456789012345678901234567890", true },
	/* UUIDs, either case, and mixed */
	{ "0b7c4d2e-1a2b-4c3d-8e6f-7a8b9c0d1e2f", true },
	{ "0B7C4D2E-1A2B-4C3D-8E6F-7A8B9C0D1E2F", true },
	{ "0b7C4d2E-1a2B-4c3D-8e6F-7a8B9c0D1e2F", true },
	/* few digits: only the UUID rule can take it */
	{ "deadbeef-cafe-babe-f00d-facefeedbeef", true },
	/* 16+ hex with a decimal digit */
	{ "5f3a9c0e1b2d4f6a", true },
	{ "5F3A9C0E1B2D4F6A", true },
	{ "abcdefabcdefabc1", true },
	{ "507f1f77bcf86cd799439011", true },
	{ "da39a3ee5e6b4b0d3255bfef95601890afd80709", true },
	/* 20+ token chars, letters and >= 4 digits */
	{ "aZ3kP9qL2mX7vB1nC8tR", true },
	{ "user_2a9Xk-Lq81pZzYw", true },
	{ "V1StGXR8_Z5jdHi6B-myT", true },
	{ "ghijklmnopqrstuv1234", true },
	/* near misses */
	{ "", false },
	{ "v2", false },
	{ "2fa", false },
	{ "abcdef", false },
	{ "5f3a9c0e1b2d4f6", false },	/* 15 hex */
	{ "deadbeefdeadbeef", false },	/* 16 hex, no decimal digit */
	{ "DEADBEEFDEADBEEFCAFE", false }, /* 20 hex letters, no digit */
	{ "ghijklmnopqrstuv1230x", true }, /* control for the next one */
	{ "ghijklmnopqrstuvw123", false }, /* 20 token chars, 3 digits */
	{ "ghijklmnopqrstu1234", false },  /* 4 digits, 19 chars */
	{ "2026-12-01", false },
	{ "deadbeef-cafe-babe-f00d-facefeedbee", false },  /* last group 11 */
	{ "deadbeef-cafe-babe-f00d-facefeedbeeff", false }, /* last group 13 */
	{ "deadbee-fcafe-babe-f00d-facefeedbeef", false },  /* 7-5-4-4-12 */
	{ "deadbeef_cafe_babe_f00d_facefeedbeef", false },  /* '_' for '-' */
	{ "deadbeef-cafe-babe-f00g-facefeedbeef", false },  /* 'g' */
	{ "getting-started-v2-guide", false },
	{ "users", false },
	{ "%34%32", false },		    /* "42" percent-encoded */
	{ "ab%2Fcd0123456789abcdef", false }, /* '%' is not a token char */
	{ "12a", false },
	{ "-1", false },
	{ "1.5", false },
	{ "aaaaaaaaaaaaaaaa1234 ", false }, /* trailing space */
	{ "----____----____1234", false },  /* no letter */
};

/*
 * A UUID with a wrong group length but four or more digits is still an
 * opaque token (36 chars of [A-Za-z0-9-]): collapsed by the last rule.
 */
static const struct seg_case seg_token_cases[] = {
	{ "0b7c4d2e-1a2b-4c3d-8e6f-7a8b9c0d1e2", true },
};

static const struct path_case path_cases[] = {
	{ "/", "/" },
	{ "", "" },
	{ "/users", "/users" },
	{ "/orders/42", "/orders/{id}" },
	{ "/orders/42/", "/orders/{id}/" },
	{ "/42", "/{id}" },
	{ "/42/", "/{id}/" },
	{ "/orders/42/items/7", "/orders/{id}/items/{id}" },
	{ "/1/2/3", "/{id}/{id}/{id}" },
	{ "/api/v2/users/0b7c4d2e-1a2b-4c3d-8e6f-7a8b9c0d1e2f/2fa",
	    "/api/v2/users/{id}/2fa" },
	{ "/blobs/da39a3ee5e6b4b0d3255bfef95601890afd80709/raw",
	    "/blobs/{id}/raw" },
	{ "/reports/2026-12-01", "/reports/2026-12-01" },
	{ "/t/aZ3kP9qL2mX7vB1nC8tR/x/", "/t/{id}/x/" },
	{ "/a%2Fb/42", "/a%2Fb/{id}" },
};

static void
test_segment_rules(void **state)
{
	size_t i;
	bool got;

	(void)state;
	for (i = 0; i < NELEM(seg_cases); i++) {
		got = path_segment_is_id(seg_cases[i].seg,
		    strlen(seg_cases[i].seg));
		if (got != seg_cases[i].id)
			fail_msg("\"%s\": got %d, want %d", seg_cases[i].seg,
			    got, seg_cases[i].id);
	}
	for (i = 0; i < NELEM(seg_token_cases); i++)
		assert_int_equal(path_segment_is_id(seg_token_cases[i].seg,
				     strlen(seg_token_cases[i].seg)),
		    seg_token_cases[i].id);
}

/* The length argument is what counts, not a NUL further on. */
static void
test_segment_length_bounded(void **state)
{
	(void)state;
	assert_true(path_segment_is_id("42abc", 2));
	assert_false(path_segment_is_id("42abc", 3));
	assert_false(path_segment_is_id("42", 0));
}

static void
test_paths(void **state)
{
	char out[256];
	size_t i, n;

	(void)state;
	for (i = 0; i < NELEM(path_cases); i++) {
		memset(out, 'X', sizeof(out));
		n = path_template(path_cases[i].path,
		    strlen(path_cases[i].path), out, sizeof(out));
		if (strcmp(out, path_cases[i].want) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"",
			    path_cases[i].path, out, path_cases[i].want);
		assert_int_equal(n, strlen(path_cases[i].want));
	}
}

/* The path length bounds the input: bytes after it are not read. */
static void
test_path_length_bounded(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	n = path_template("/orders/42/items", 10, out, sizeof(out));
	assert_string_equal(out, "/orders/{id}");
	assert_int_equal(n, 12);
}

/*
 * "/orders/{id}/items/{id}" is 23 bytes. Every cap from 1 to 30: the
 * result is NUL-terminated within cap, is either the whole template or a
 * whole-segment prefix of it followed by "/...", and the longest such.
 */
static void
test_cut_every_cap(void **state)
{
	static const struct {
		size_t cap;
		const char *want;
	} cases[] = {
		{ 1, "" },
		{ 2, "" },
		{ 4, "" },
		{ 5, "/..." },
		{ 11, "/..." },
		{ 12, "/orders/..." },
		{ 16, "/orders/..." },
		{ 17, "/orders/{id}/..." },
		{ 22, "/orders/{id}/..." },
		{ 23, "/orders/{id}/items/..." },
		{ 24, "/orders/{id}/items/{id}" },
		{ 30, "/orders/{id}/items/{id}" },
	};
	const char *path = "/orders/42/items/7";
	const char *full = "/orders/{id}/items/{id}";
	char out[64];
	size_t i, n, cap;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		memset(out, 'X', sizeof(out));
		n = path_template(path, strlen(path), out, cases[i].cap);
		if (strcmp(out, cases[i].want) != 0)
			fail_msg("cap %zu: got \"%s\", want \"%s\"",
			    cases[i].cap, out, cases[i].want);
		assert_int_equal(n, strlen(cases[i].want));
		assert_int_equal(out[cases[i].cap], 'X');
	}
	for (cap = 1; cap <= 30; cap++) {
		memset(out, 'X', sizeof(out));
		n = path_template(path, strlen(path), out, cap);
		assert_true(n <= cap - 1);
		assert_int_equal(out[n], '\0');
		assert_int_equal(strlen(out), n);
		assert_int_equal(out[cap], 'X'); /* nothing written past cap */
		if (strcmp(out, full) == 0 || n == 0)
			continue;
		/* A prefix ending at a segment end, then the marker. */
		assert_true(n >= 4);
		assert_memory_equal(out + n - 4, "/...", 4);
		assert_memory_equal(out, full, n - 4);
		assert_true(full[n - 4] == '/');
	}
}

/* A long trailing-slash path cut: the marker replaces the tail. */
static void
test_cut_trailing_slash(void **state)
{
	char out[64];
	size_t n;

	(void)state;
	/* "/orders/{id}/" is 13 bytes; 12 do not hold it. */
	n = path_template("/orders/42/", 11, out, 13);
	assert_string_equal(out, "/orders/...");
	assert_int_equal(n, 11);
	n = path_template("/orders/42/", 11, out, 14);
	assert_string_equal(out, "/orders/{id}/");
	assert_int_equal(n, 13);
}

/* One segment too long for the buffer leaves only the marker. */
static void
test_cut_long_first_segment(void **state)
{
	char path[300], out[100];
	size_t n;

	(void)state;
	path[0] = '/';
	memset(path + 1, 'a', 200);
	memcpy(path + 201, "/42", 4);
	n = path_template(path, strlen(path), out, sizeof(out));
	assert_string_equal(out, "/...");
	assert_int_equal(n, 4);
}

/* A template longer than its path (several "{id}" for short IDs). */
static void
test_template_grows(void **state)
{
	char out[16];
	size_t n;

	(void)state;
	/* "/{id}/{id}/{id}" is 15 bytes: just fits in 16. */
	n = path_template("/1/2/3", 6, out, sizeof(out));
	assert_string_equal(out, "/{id}/{id}/{id}");
	assert_int_equal(n, 15);
	n = path_template("/1/2/3/4", 8, out, sizeof(out));
	assert_string_equal(out, "/{id}/{id}/...");
	assert_int_equal(n, 14);
}

static void
test_cap_one(void **state)
{
	char out[2] = { 'X', 'X' };
	size_t n;

	(void)state;
	n = path_template("/orders/42", 10, out, 1);
	assert_int_equal(n, 0);
	assert_int_equal(out[0], '\0');
	assert_int_equal(out[1], 'X');
	out[0] = 'X';
	n = path_template("/", 1, out, 1);
	assert_int_equal(n, 0);
	assert_int_equal(out[0], '\0');
	n = path_template("/", 1, out, 2);
	assert_string_equal(out, "/");
	assert_int_equal(n, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segment_rules),
		cmocka_unit_test(test_segment_length_bounded),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_path_length_bounded),
		cmocka_unit_test(test_cut_every_cap),
		cmocka_unit_test(test_cut_trailing_slash),
		cmocka_unit_test(test_cut_long_first_segment),
		cmocka_unit_test(test_template_grows),
		cmocka_unit_test(test_cap_one),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
