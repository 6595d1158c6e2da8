/*
 * test_traceparent: W3C Trace Context Level 1 `traceparent` (section 3.2):
 * the spec's examples, the invalid forms, future versions, every one-byte
 * corruption of a valid header, and new -> format -> parse.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cutover/rng.h"
#include "cutover/traceparent.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

#define TRACE "4bf92f3577b34da6a3ce929d0e0e4736"
#define PARENT "00f067aa0ba902b7"
#define GOOD "00-" TRACE "-" PARENT "-01"

static bool lower_hex(unsigned char c);
static bool parses(const char *s);

static bool
lower_hex(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool
parses(const char *s)
{
	struct traceparent tp;

	return traceparent_parse(s, strlen(s), &tp);
}

/* ---- valid */

struct valid_case {
	const char *in;
	uint8_t version;
	const char *trace_id;
	const char *parent_id;
	uint8_t flags;
};

static const struct valid_case valid_cases[] = {
	/* section 3.2.2.5 examples: sampled and not */
	{ GOOD, 0x00, TRACE, PARENT, 0x01 },
	{ "00-" TRACE "-" PARENT "-00", 0x00, TRACE, PARENT, 0x00 },
	/* the tracestate section's example */
	{ "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", 0x00,
	    "0af7651916cd43dd8448eb211c80319c", "b7ad6b7169203331", 0x01 },
	/* flags other than sampled still parse (their meaning is not ours) */
	{ "00-" TRACE "-" PARENT "-09", 0x00, TRACE, PARENT, 0x09 },
	{ "00-" TRACE "-" PARENT "-ff", 0x00, TRACE, PARENT, 0xff },
	/* ids with a single non-zero digit are not all zero */
	{ "00-00000000000000000000000000000001-0000000000000001-01", 0x00,
	    "00000000000000000000000000000001", "0000000000000001", 0x01 },
	{ "00-10000000000000000000000000000000-1000000000000000-00", 0x00,
	    "10000000000000000000000000000000", "1000000000000000", 0x00 },
	/* higher versions: parsed as 00, what follows a '-' ignored */
	{ "cc-" TRACE "-" PARENT "-01-what-the-future-will-be-like", 0xcc,
	    TRACE, PARENT, 0x01 },
	{ "01-" TRACE "-" PARENT "-01", 0x01, TRACE, PARENT, 0x01 },
	{ "01-" TRACE "-" PARENT "-00-", 0x01, TRACE, PARENT, 0x00 },
	{ "fe-" TRACE "-" PARENT "-01-x", 0xfe, TRACE, PARENT, 0x01 },
};

static void
test_valid(void **state)
{
	struct traceparent tp;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(valid_cases); i++) {
		const struct valid_case *c = &valid_cases[i];

		memset(&tp, 0xaa, sizeof(tp));
		if (!traceparent_parse(c->in, strlen(c->in), &tp))
			fail_msg("case %zu rejected: %s", i, c->in);
		assert_int_equal(tp.version, c->version);
		assert_string_equal(tp.trace_id, c->trace_id);
		assert_string_equal(tp.parent_id, c->parent_id);
		assert_int_equal(tp.flags, c->flags);
	}
}

/* ---- invalid */

static const char *const invalid_cases[] = {
	/* wrong length */
	"",
	"00",
	"00-",
	"00-" TRACE "-" PARENT "-0",
	"00-" TRACE "-" PARENT "-",
	"00-" TRACE "-" PARENT,
	"00-" TRACE "-" PARENT "-01-",	  /* 00 means exactly 55 */
	"00-" TRACE "-" PARENT "-01-extra",
	"00-" TRACE "-" PARENT "-01 ",
	"00-" TRACE "-" PARENT "-010",
	" 00-" TRACE "-" PARENT "-01",
	"00-" TRACE "0-" PARENT "-01",
	"00-4bf92f3577b34da6a3ce929d0e0e473-" PARENT "-01",
	"00-" TRACE "-00f067aa0ba902b-01",
	"00-" TRACE "-00f067aa0ba902b77-01",
	/* upper case, anywhere */
	"00-4BF92F3577B34DA6A3CE929D0E0E4736-" PARENT "-01",
	"00-4bf92f3577b34da6a3ce929d0e0e473A-" PARENT "-01",
	"00-" TRACE "-00F067AA0BA902B7-01",
	"00-" TRACE "-" PARENT "-0A",
	"0A-" TRACE "-" PARENT "-01",
	"CC-" TRACE "-" PARENT "-01-what-the-future-will-be-like",
	/* version ff is forbidden, whatever follows */
	"ff-" TRACE "-" PARENT "-01",
	"ff-" TRACE "-" PARENT "-01-what-the-future-will-be-like",
	/* all-zero ids */
	"00-00000000000000000000000000000000-" PARENT "-01",
	"00-" TRACE "-0000000000000000-01",
	"00-00000000000000000000000000000000-0000000000000000-00",
	"cc-00000000000000000000000000000000-" PARENT "-01-future",
	/* not hex */
	"00-4bf92f3577b34da6a3ce929d0e0e473g-" PARENT "-01",
	"00-" TRACE "-00f067aa0ba902bz-01",
	"00-" TRACE "-" PARENT "-0x",
	"0g-" TRACE "-" PARENT "-01",
	"zz-" TRACE "-" PARENT "-01",
	"00-4bf92f3577b34da6+3ce929d0e0e4736-" PARENT "-01",
	"00-" TRACE "-" PARENT "- 1",
	/* wrong separators */
	"00_" TRACE "-" PARENT "-01",
	"00-" TRACE "_" PARENT "-01",
	"00-" TRACE "-" PARENT "_01",
	"00 " TRACE " " PARENT " 01",
	"00." TRACE "." PARENT ".01",
	/* a higher version must go on with '-' after the 55th character */
	"cc-" TRACE "-" PARENT "-01.what-the-future-will-be-like",
	"cc-" TRACE "-" PARENT "-01what-the-future-will-be-like",
	"cc-" TRACE "-" PARENT "-012",
	"cc-" TRACE "-" PARENT "-01 ",
	/* and its first 55 characters must parse as 00 */
	"cc-" TRACE "-" PARENT "-1-what-the-future-will-be-like",
	"cc-" TRACE "-" PARENT "_01-future",
	"cc-" TRACE "-" PARENT "-0A-future",
	"cc-" TRACE "-" PARENT,
};

static void
test_invalid(void **state)
{
	struct traceparent tp, before;
	size_t i;

	(void)state;
	memset(&before, 0x5a, sizeof(before));
	for (i = 0; i < NELEM(invalid_cases); i++) {
		const char *in = invalid_cases[i];

		tp = before;
		if (traceparent_parse(in, strlen(in), &tp))
			fail_msg("case %zu accepted: \"%s\"", i, in);
		/* out is left alone on failure */
		assert_memory_equal(&tp, &before, sizeof(tp));
	}
}

/* A NUL inside: the length counts, not the terminator. */
static void
test_invalid_nul(void **state)
{
	char s[TRACEPARENT_LEN + 1];
	struct traceparent tp;
	size_t i;

	(void)state;
	for (i = 0; i < TRACEPARENT_LEN; i++) {
		memcpy(s, GOOD, sizeof(s));
		s[i] = '\0';
		assert_false(traceparent_parse(s, TRACEPARENT_LEN, &tp));
	}
	/* every proper prefix of a good header */
	for (i = 0; i < TRACEPARENT_LEN; i++)
		assert_false(traceparent_parse(GOOD, i, &tp));
	assert_true(traceparent_parse(GOOD, TRACEPARENT_LEN, &tp));
}

/*
 * Every position of a valid header, every byte value: a dash position takes
 * only '-', the rest only lower-case hex (no single change makes an id zero
 * or the version ff here), and a change of version keeps 55 characters
 * valid.
 */
static void
test_every_byte(void **state)
{
	char s[TRACEPARENT_LEN + 1];
	struct traceparent tp;
	bool want, dash;
	size_t i;
	int c;

	(void)state;
	for (i = 0; i < TRACEPARENT_LEN; i++) {
		dash = i == 2 || i == 35 || i == 52;
		for (c = 0; c < 256; c++) {
			memcpy(s, GOOD, sizeof(s));
			s[i] = (char)c;
			want = dash ? c == '-' : lower_hex((unsigned char)c);
			if (traceparent_parse(s, TRACEPARENT_LEN, &tp) != want)
				fail_msg("at %zu 0x%02x: %d", i, c, want);
		}
	}
}

/* ---- format, new */

static void
test_format(void **state)
{
	char out[TRACEPARENT_LEN + 1];
	struct traceparent tp;
	const char *future =
	    "cc-" TRACE "-" PARENT "-01-what-the-future-will-be-like";

	(void)state;
	assert_true(parses(GOOD));
	assert_true(traceparent_parse(GOOD, strlen(GOOD), &tp));
	memset(out, 'X', sizeof(out));
	assert_int_equal(traceparent_format(&tp, out), TRACEPARENT_LEN);
	assert_string_equal(out, GOOD);

	/* flags in lower-case hex */
	tp.flags = 0xab;
	traceparent_format(&tp, out);
	assert_string_equal(out, "00-" TRACE "-" PARENT "-ab");

	/* a future version goes out in the 00 layout we understood */
	assert_true(traceparent_parse(future, strlen(future), &tp));
	assert_int_equal(tp.version, 0xcc);
	traceparent_format(&tp, out);
	assert_string_equal(out, GOOD);
}

static void
test_new_round_trip(void **state)
{
	char out[TRACEPARENT_LEN + 1], prev[TRACEPARENT_LEN + 1] = "";
	struct traceparent tp, back;
	struct rng r;
	int i, k;

	(void)state;
	rng_init(&r);
	for (i = 0; i < 2000; i++) {
		memset(&tp, 0x77, sizeof(tp));
		traceparent_new(&tp, &r);
		assert_int_equal(tp.version, 0);
		assert_int_equal(tp.flags, 0);
		assert_int_equal(strlen(tp.trace_id), 32);
		assert_int_equal(strlen(tp.parent_id), 16);
		for (k = 0; k < 32; k++)
			assert_true(lower_hex((unsigned char)tp.trace_id[k]));
		for (k = 0; k < 16; k++)
			assert_true(lower_hex((unsigned char)tp.parent_id[k]));

		assert_int_equal(traceparent_format(&tp, out), TRACEPARENT_LEN);
		assert_int_equal(strlen(out), TRACEPARENT_LEN);
		assert_memory_equal(out + 52, "-00", 4);
		assert_true(traceparent_parse(out, TRACEPARENT_LEN, &back));
		assert_int_equal(back.version, 0);
		assert_int_equal(back.flags, 0);
		assert_string_equal(back.trace_id, tp.trace_id);
		assert_string_equal(back.parent_id, tp.parent_id);
		assert_string_not_equal(out, prev);
		memcpy(prev, out, sizeof(out));
	}
}

/* The same seed, the same traces. */
static void
test_new_fake_deterministic(void **state)
{
	struct traceparent a, b;
	struct rng ra, rb;
	int i;

	(void)state;
	rng_init_fake(&ra, 2024);
	rng_init_fake(&rb, 2024);
	for (i = 0; i < 100; i++) {
		traceparent_new(&a, &ra);
		traceparent_new(&b, &rb);
		assert_string_equal(a.trace_id, b.trace_id);
		assert_string_equal(a.parent_id, b.parent_id);
	}
}

/*
 * A generator that hands out zeros first: the trace-id is drawn zero twice
 * and the parent-id once, and each is redrawn rather than used. The fake
 * rng serves bytes from its buffer in order, so the test writes the stream.
 */
static void
test_new_redraws_zero(void **state)
{
	char out[TRACEPARENT_LEN + 1];
	struct traceparent tp, back;
	struct rng r;

	(void)state;
	rng_init_fake(&r, 1);
	memset(r.buf, 0, 32);	      /* two all-zero trace-ids */
	memset(r.buf + 32, 0x11, 16); /* then a good one */
	memset(r.buf + 48, 0, 8);     /* an all-zero parent-id */
	memset(r.buf + 56, 0x22, 8);  /* then a good one */
	r.buf[63] = 0x2f;
	r.pos = 0;
	traceparent_new(&tp, &r);
	assert_string_equal(tp.trace_id, "11111111111111111111111111111111");
	assert_string_equal(tp.parent_id, "222222222222222f");
	assert_int_equal(r.pos, 64);
	traceparent_format(&tp, out);
	assert_string_equal(out,
	    "00-11111111111111111111111111111111-222222222222222f-00");
	assert_true(traceparent_parse(out, TRACEPARENT_LEN, &back));

	/* zeros up to the buffer's end: the redraw crosses a refill */
	rng_init_fake(&r, 5);
	memset(r.buf + RNG_BUF - 40, 0, 40);
	r.pos = RNG_BUF - 40;
	traceparent_new(&tp, &r);
	assert_string_not_equal(tp.trace_id,
	    "00000000000000000000000000000000");
	assert_string_not_equal(tp.parent_id, "0000000000000000");
	traceparent_format(&tp, out);
	assert_true(traceparent_parse(out, TRACEPARENT_LEN, &back));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_invalid),
		cmocka_unit_test(test_invalid_nul),
		cmocka_unit_test(test_every_byte),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_new_round_trip),
		cmocka_unit_test(test_new_fake_deterministic),
		cmocka_unit_test(test_new_redraws_zero),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
