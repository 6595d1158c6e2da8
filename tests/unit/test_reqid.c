/*
 * test_reqid: incoming correlation ID validity, UUIDv7 (layout, timestamp,
 * per-thread ordering, uniqueness) and UUIDv4, and the rng underneath them
 * (there is no test_rng program; rng is only ever used through these IDs).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/reqid.h"
#include "cutover/rng.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MANY 1000000
/*
 * The decoding and set helpers run 2e6 times; sanitising them (they are
 * not what is under test) would triple the suite's time under ASan.
 */
#define HOT_HELPER __attribute__((no_sanitize("address", "undefined")))

static int hexval(char c);
static void uuid_bytes(const char *s, uint8_t b[16]);
static void check_uuid_format(const char *s, char version);
static uint64_t uuid7_ms(const char *s);
static unsigned uuid7_seq(const char *s);
struct idset;
static void idset_init(struct idset *s, size_t n);
static bool idset_add(struct idset *s, const uint8_t id[16]);
static void idset_free(struct idset *s);
static bool allowed_ref(unsigned char c);

/* ---- helpers */

/* Lower-case hex digit values plus one, 0 for anything else. */
static const uint8_t hexval1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5, ['5'] = 6,
	['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10, ['a'] = 11, ['b'] = 12,
	['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static int
hexval(char c)
{
	return hexval1[(unsigned char)c] - 1;
}

/*
 * The 16 bytes a UUID string stands for. Plain checks and one fail_msg:
 * this runs 2e6 times and cmocka's asserts are calls.
 */
HOT_HELPER static void
uuid_bytes(const char *s, uint8_t b[16])
{
	static const uint8_t at[16] = { 0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24,
		26, 28, 30, 32, 34 };
	unsigned hi, lo, bad = 0;
	int i;

	for (i = 0; i < 16; i++) {
		hi = hexval1[(unsigned char)s[at[i]]];
		lo = hexval1[(unsigned char)s[at[i] + 1]];
		bad |= hi == 0 || lo == 0;
		b[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
	}
	if (bad || s[8] != '-' || s[13] != '-' || s[18] != '-' ||
	    s[23] != '-' || s[36] != '\0')
		fail_msg("not a UUID: %s", s);
}

/*
 * By hand, what /^[0-9a-f]{8}-[0-9a-f]{4}-V[0-9a-f]{3}-[89ab][0-9a-f]{3}-
 * [0-9a-f]{12}$/ would say.
 */
static void
check_uuid_format(const char *s, char version)
{
	size_t i;

	assert_int_equal(strlen(s), REQID_UUID_LEN);
	for (i = 0; i < REQID_UUID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23)
			assert_int_equal(s[i], '-');
		else
			assert_true(hexval(s[i]) >= 0);
	}
	assert_int_equal(s[14], version);
	assert_non_null(strchr("89ab", s[19]));
	assert_true(reqid_valid(s, strlen(s)));
}

/* unix_ts_ms: the first 48 bits. */
static uint64_t
uuid7_ms(const char *s)
{
	uint8_t b[16];
	uint64_t ms = 0;
	int i;

	uuid_bytes(s, b);
	for (i = 0; i < 6; i++)
		ms = ms << 8 | b[i];
	return ms;
}

/* rand_a: the 12 bits after the version nibble. */
static unsigned
uuid7_seq(const char *s)
{
	uint8_t b[16];

	uuid_bytes(s, b);
	return (unsigned)(b[6] & 0x0f) << 8 | b[7];
}

/*
 * A set of 16-byte IDs: open addressing on the last 8 bytes (random in both
 * versions); a slot whose version byte is zero is empty.
 */
struct idset {
	uint8_t (*slot)[16];
	size_t mask;
};

static void
idset_init(struct idset *s, size_t n)
{
	size_t cap = 1;

	while (cap < 2 * n)
		cap <<= 1;
	s->slot = calloc(cap, 16);
	assert_non_null(s->slot);
	s->mask = cap - 1;
}

/* false when id was already there */
HOT_HELPER static bool
idset_add(struct idset *s, const uint8_t id[16])
{
	uint64_t h;
	size_t i;

	memcpy(&h, id + 8, 8);
	h *= UINT64_C(0x9e3779b97f4a7c15);
	for (i = (size_t)(h >> 20) & s->mask;; i = (i + 1) & s->mask) {
		if (s->slot[i][6] == 0) { /* empty: no version nibble */
			memcpy(s->slot[i], id, 16);
			return true;
		}
		if (memcmp(s->slot[i], id, 16) == 0)
			return false;
	}
}

static void
idset_free(struct idset *s)
{
	free(s->slot);
	s->slot = NULL;
}

/* An independent statement of the allowed set, to check the table. */
static bool
allowed_ref(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	    c == '-';
}

/* ---- reqid_valid */

struct valid_case {
	const char *p;
	size_t n;
	bool want;
};

#define V(s, w) { s, sizeof(s) - 1, w }

static const struct valid_case valid_cases[] = {
	V("", false),
	/* one character of each allowed class */
	V("a", true),
	V("z", true),
	V("A", true),
	V("Z", true),
	V("0", true),
	V("9", true),
	V(".", true),
	V("_", true),
	V(":", true),
	V("-", true),
	/* typical IDs */
	V("0190b4c5-1f2e-7abc-8def-0123456789ab", true),
	V("req_42", true),
	V("svc.checkout:7f3a-XY", true),
	V("...", true),
	V("--", true),
	/* spaces and controls */
	V(" ", false),
	V("a b", false),
	V(" abc", false),
	V("abc ", false),
	V("\t", false),
	V("abc\r", false),
	V("abc\n", false),
	V("abc\r\nX-Injected: 1", false),
	V("\x7f", false),
	/* separators and specials */
	V("a/b", false),
	V("/", false),
	V("a%20b", false),
	V("%", false),
	V("a+b", false),
	V("a=b", false),
	V("a,b", false),
	V("a;b", false),
	V("a\"b", false),
	V("a'b", false),
	V("a\\b", false),
	V("a~b", false),
	V("a@b", false),
	V("{a}", false),
	V("<script>", false),
	/* non-ASCII bytes */
	V("\x80", false),
	V("\xff", false),
	V("caf\xc3\xa9", false),
	V("abc\xe2\x80\x8b", false), /* U+200B zero width space */
	/* NUL inside: the length counts, not the terminator */
	V("a\0b", false),
	V("abc\0", false),
	V("\0", false),
};

static void
test_valid_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(valid_cases); i++)
		if (reqid_valid(valid_cases[i].p, valid_cases[i].n) !=
		    valid_cases[i].want)
			fail_msg("case %zu: want %d", i, valid_cases[i].want);
}

static void
test_valid_every_byte(void **state)
{
	bool want;
	char s[3];
	int c;

	(void)state;
	for (c = 0; c < 256; c++) {
		s[0] = 'a';
		s[1] = (char)c;
		s[2] = 'b';
		want = allowed_ref((unsigned char)c);
		assert_int_equal(reqid_valid(&s[1], 1), want);
		assert_int_equal(reqid_valid(s, 3), want);
	}
}

static void
test_valid_length(void **state)
{
	char s[REQID_MAX + 2];

	(void)state;
	memset(s, 'a', sizeof(s));
	assert_true(reqid_valid(s, 1));
	assert_true(reqid_valid(s, REQID_MAX - 1));
	assert_true(reqid_valid(s, REQID_MAX));
	assert_false(reqid_valid(s, REQID_MAX + 1));
	assert_false(reqid_valid(s, REQID_MAX + 2));
	assert_false(reqid_valid(s, 0));
	assert_false(reqid_valid(NULL, 0));
	/* a bad byte at the very end of the longest ID */
	s[REQID_MAX - 1] = ' ';
	assert_false(reqid_valid(s, REQID_MAX));
	/* the length bounds what is read: the space lies beyond it */
	assert_true(reqid_valid(s, REQID_MAX - 1));
}

/* ---- UUIDv7 */

static void
test_uuid7_format(void **state)
{
	static const uint64_t ms[] = { 0, 1, 1700000000000ULL,
		1736942400123ULL, 0xffffffffffffULL };
	char id[REQID_UUID_LEN + 1];
	struct reqid_v7 st;
	struct rng r;
	size_t i;

	(void)state;
	rng_init_fake(&r, 7);
	for (i = 0; i < NELEM(ms); i++) {
		memset(&st, 0, sizeof(st));
		memset(id, 'X', sizeof(id));
		reqid_uuid7_r(id, ms[i], &r, &st);
		check_uuid_format(id, '7');
		assert_int_equal(uuid7_ms(id), ms[i]);
		/* a fresh counter starts with its top bit clear */
		assert_true(uuid7_seq(id) < 0x800);
	}
	/* a known timestamp, spelt out: 0x0194_6b0f_b1bb */
	memset(&st, 0, sizeof(st));
	reqid_uuid7_r(id, 0x01946b0fb1bbULL, &r, &st);
	assert_memory_equal(id, "01946b0f-b1bb-7", 15);
}

/* The per-thread entry point agrees with the explicit one. */
static void
test_uuid7_thread_state(void **state)
{
	char a[REQID_UUID_LEN + 1], b[REQID_UUID_LEN + 1];
	uint64_t ms = 4102444800000ULL; /* later than anything before it */
	struct rng r;

	(void)state;
	rng_init(&r);
	reqid_uuid7(a, ms, &r);
	check_uuid_format(a, '7');
	assert_int_equal(uuid7_ms(a), ms);
	reqid_uuid7(b, ms, &r);
	check_uuid_format(b, '7');
	assert_int_equal(uuid7_ms(b), ms);
	assert_int_equal(uuid7_seq(b), uuid7_seq(a) + 1);
	assert_true(strcmp(a, b) < 0);
	reqid_uuid7(a, ms + 1, &r);
	assert_int_equal(uuid7_ms(a), ms + 1);
	assert_true(strcmp(b, a) < 0);
}

/* 10,000 in one millisecond: more than the counter holds, still in order. */
static void
test_uuid7_monotonic_same_ms(void **state)
{
	char prev[REQID_UUID_LEN + 1], cur[REQID_UUID_LEN + 1];
	const uint64_t ms = 1736942400123ULL;
	struct reqid_v7 st = { 0 };
	unsigned borrowed = 0;
	struct rng r;
	int i;

	(void)state;
	rng_init(&r);
	reqid_uuid7_r(prev, ms, &r, &st);
	for (i = 1; i < 10000; i++) {
		reqid_uuid7_r(cur, ms, &r, &st);
		check_uuid_format(cur, '7');
		if (strcmp(prev, cur) >= 0)
			fail_msg("not increasing at %d: %s, %s", i, prev, cur);
		if (uuid7_ms(cur) == uuid7_ms(prev)) {
			/* the counter continues from the last value */
			assert_int_equal(uuid7_seq(cur), uuid7_seq(prev) + 1);
		} else {
			/* it ran out and borrowed the next millisecond */
			assert_int_equal(uuid7_seq(prev), 0xfff);
			assert_int_equal(uuid7_ms(cur), uuid7_ms(prev) + 1);
			assert_true(uuid7_seq(cur) < 0x800);
			borrowed++;
		}
		memcpy(prev, cur, sizeof(cur));
	}
	/* 10,000 IDs need at least 3 milliseconds' worth of counter */
	assert_true(borrowed >= 2);
	assert_true(uuid7_ms(prev) <= ms + 4);

	/* once the clock catches up the order still holds */
	reqid_uuid7_r(cur, ms + 1, &r, &st);
	assert_true(strcmp(prev, cur) < 0);
	reqid_uuid7_r(cur, ms + 100, &r, &st);
	assert_true(strcmp(prev, cur) < 0);
	assert_int_equal(uuid7_ms(cur), ms + 100);
}

static void
test_uuid7_new_ms_rerandomises(void **state)
{
	char a[REQID_UUID_LEN + 1], b[REQID_UUID_LEN + 1];
	struct reqid_v7 st = { 0 };
	unsigned seen_diff = 0;
	struct rng r;
	uint64_t ms;

	(void)state;
	rng_init_fake(&r, 99);
	reqid_uuid7_r(a, 1000, &r, &st);
	for (ms = 1001; ms < 1065; ms++) {
		reqid_uuid7_r(b, ms, &r, &st);
		assert_int_equal(uuid7_ms(b), ms);
		assert_true(uuid7_seq(b) < 0x800);
		assert_true(strcmp(a, b) < 0);
		if (uuid7_seq(b) != uuid7_seq(a) + 1)
			seen_diff++;
		memcpy(a, b, sizeof(b));
	}
	/* not a counter carried across milliseconds */
	assert_true(seen_diff > 60);
}

static void
test_uuid7_clock_steps_back(void **state)
{
	char a[REQID_UUID_LEN + 1], b[REQID_UUID_LEN + 1];
	struct reqid_v7 st = { 0 };
	struct rng r;

	(void)state;
	rng_init_fake(&r, 3);
	/* a small step back keeps the order and the later timestamp */
	reqid_uuid7_r(a, 50000, &r, &st);
	reqid_uuid7_r(b, 49990, &r, &st);
	assert_true(strcmp(a, b) < 0);
	assert_int_equal(uuid7_ms(b), 50000);
	assert_int_equal(uuid7_seq(b), uuid7_seq(a) + 1);
	/* a large one starts again from the clock */
	reqid_uuid7_r(b, 1000, &r, &st);
	assert_int_equal(uuid7_ms(b), 1000);
	check_uuid_format(b, '7');
}

/* Every bit outside version and variant varies; those never do. */
static void
test_uuid7_bits(void **state)
{
	uint8_t b[16], ones[16], zeros[16];
	char id[REQID_UUID_LEN + 1];
	struct reqid_v7 st = { 0 };
	struct rng r;
	int i, k;

	(void)state;
	rng_init(&r);
	memset(ones, 0, sizeof(ones));
	memset(zeros, 0, sizeof(zeros));
	for (i = 0; i < 2000; i++) {
		reqid_uuid7_r(id, 1736942400000ULL, &r, &st);
		uuid_bytes(id, b);
		assert_int_equal(b[6] >> 4, 7);
		assert_int_equal(b[8] >> 6, 2);
		for (k = 0; k < 16; k++) {
			ones[k] |= b[k];
			zeros[k] |= (uint8_t)~b[k];
		}
	}
	/* rand_b: the 62 bits after the variant */
	assert_int_equal(ones[8] & 0x3f, 0x3f);
	assert_int_equal(zeros[8] & 0x3f, 0x3f);
	for (k = 9; k < 16; k++) {
		assert_int_equal(ones[k], 0xff);
		assert_int_equal(zeros[k], 0xff);
	}
}

/*
 * 1e6 IDs from eight workers (own rng, own counter) interleaved, 128 per
 * worker per millisecond: unique, and each worker's run strictly ordered.
 */
static void
test_uuid7_unique(void **state)
{
	enum { WORKERS = 8 };
	char id[REQID_UUID_LEN + 1];
	struct reqid_v7 st[WORKERS];
	uint8_t last[WORKERS][16], b[16];
	struct rng r[WORKERS];
	struct idset set;
	size_t i, w;

	(void)state;
	idset_init(&set, MANY);
	memset(st, 0, sizeof(st));
	for (w = 0; w < WORKERS; w++)
		rng_init(&r[w]);
	for (i = 0; i < MANY; i++) {
		w = i % WORKERS;
		reqid_uuid7_r(id, 1736942400000ULL + i / 1024, &r[w], &st[w]);
		uuid_bytes(id, b);
		if (i >= WORKERS && memcmp(last[w], b, 16) >= 0)
			fail_msg("worker %zu out of order at %zu", w, i);
		memcpy(last[w], b, 16);
		if (!idset_add(&set, b))
			fail_msg("duplicate %s at %zu", id, i);
	}
	assert_false(idset_add(&set, b)); /* the set does see a repeat */
	idset_free(&set);
}

/* ---- UUIDv4 */

static void
test_uuid4_format_and_bits(void **state)
{
	uint8_t b[16], ones[16], zeros[16];
	char id[REQID_UUID_LEN + 1];
	struct rng r;
	int i, k;

	(void)state;
	rng_init(&r);
	memset(ones, 0, sizeof(ones));
	memset(zeros, 0, sizeof(zeros));
	for (i = 0; i < 2000; i++) {
		reqid_uuid4(id, &r);
		check_uuid_format(id, '4');
		uuid_bytes(id, b);
		assert_int_equal(b[6] >> 4, 4);
		assert_int_equal(b[8] >> 6, 2);
		for (k = 0; k < 16; k++) {
			ones[k] |= b[k];
			zeros[k] |= (uint8_t)~b[k];
		}
	}
	/* 122 random bits: all but the version nibble and variant pair vary */
	for (k = 0; k < 16; k++) {
		uint8_t mask = k == 6 ? 0x0f : k == 8 ? 0x3f : 0xff;

		assert_int_equal(ones[k] & mask, mask);
		assert_int_equal(zeros[k] & mask, mask);
	}
}

static void
test_uuid4_unique(void **state)
{
	char id[REQID_UUID_LEN + 1];
	struct idset set;
	struct rng r;
	uint8_t b[16];
	size_t i;

	(void)state;
	idset_init(&set, MANY);
	rng_init(&r);
	for (i = 0; i < MANY; i++) {
		reqid_uuid4(id, &r);
		uuid_bytes(id, b);
		if (!idset_add(&set, b))
			fail_msg("duplicate %s at %zu", id, i);
	}
	assert_false(idset_add(&set, b)); /* the set does see a repeat */
	idset_free(&set);
}

/* ---- rng */

static void
test_fake_determinism(void **state)
{
	char a[REQID_UUID_LEN + 1], b[REQID_UUID_LEN + 1];
	struct reqid_v7 sa = { 0 }, sb = { 0 };
	struct rng ra, rb, rc;
	int i;

	(void)state;
	rng_init_fake(&ra, 42);
	rng_init_fake(&rb, 42);
	rng_init_fake(&rc, 43);
	for (i = 0; i < 1000; i++) {
		reqid_uuid4(a, &ra);
		reqid_uuid4(b, &rb);
		assert_string_equal(a, b);
		reqid_uuid7_r(a, 1000 + (uint64_t)i / 10, &ra, &sa);
		reqid_uuid7_r(b, 1000 + (uint64_t)i / 10, &rb, &sb);
		assert_string_equal(a, b);
	}
	reqid_uuid4(a, &rc);
	reqid_uuid4(b, &rb);
	assert_string_not_equal(a, b);
}

/* splitmix64's published first outputs for seed 0, little-endian bytes. */
static void
test_fake_splitmix64(void **state)
{
	static const uint64_t want[] = { UINT64_C(0xe220a8397b1dcdaf),
		UINT64_C(0x6e789e6aa1b965f4), UINT64_C(0x06c45d188009454f) };
	uint8_t b[8];
	struct rng r;
	size_t i;
	int k;

	(void)state;
	rng_init_fake(&r, 0);
	for (i = 0; i < NELEM(want); i++) {
		rng_bytes(&r, b, sizeof(b));
		for (k = 0; k < 8; k++)
			assert_int_equal(b[k], (uint8_t)(want[i] >> (8 * k)));
	}
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	rng_init_fake(&r, 0);
	for (i = 0; i < NELEM(want); i++)
		assert_true(rng_u64(&r) == want[i]);
#endif
}

/* However a caller slices its reads, across refills, it sees one stream. */
static void
test_rng_slicing(void **state)
{
	static const size_t sizes[] = { 1, 3, 8, 0, 5, 511, 2, 700, 16, 1 };
	uint8_t whole[3000], parts[3000];
	size_t i, off = 0;
	struct rng r;

	(void)state;
	rng_init_fake(&r, 12345);
	rng_bytes(&r, whole, sizeof(whole));
	rng_init_fake(&r, 12345);
	for (i = 0; off < sizeof(parts); i++) {
		size_t n = sizes[i % NELEM(sizes)];

		if (n > sizeof(parts) - off)
			n = sizeof(parts) - off;
		rng_bytes(&r, parts + off, n);
		off += n;
	}
	assert_memory_equal(whole, parts, sizeof(whole));
	rng_bytes(&r, NULL, 0);
}

static void
test_rng_real(void **state)
{
	uint8_t a[2 * RNG_BUF + 17], b[sizeof(a)], zero[sizeof(a)];
	struct rng ra, rb;

	(void)state;
	memset(zero, 0, sizeof(zero));
	rng_init(&ra);
	rng_init(&rb);
	assert_int_equal(ra.fake, 0);
	rng_bytes(&ra, a, sizeof(a));
	rng_bytes(&rb, b, sizeof(b));
	assert_memory_not_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, zero, 64);
	/* the tail came from a later refill and is not a copy of the head */
	assert_memory_not_equal(a, a + RNG_BUF, RNG_BUF);
	assert_true(rng_u64(&ra) != rng_u64(&ra));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_table),
		cmocka_unit_test(test_valid_every_byte),
		cmocka_unit_test(test_valid_length),
		cmocka_unit_test(test_uuid7_format),
		cmocka_unit_test(test_uuid7_thread_state),
		cmocka_unit_test(test_uuid7_monotonic_same_ms),
		cmocka_unit_test(test_uuid7_new_ms_rerandomises),
		cmocka_unit_test(test_uuid7_clock_steps_back),
		cmocka_unit_test(test_uuid7_bits),
		cmocka_unit_test(test_uuid7_unique),
		cmocka_unit_test(test_uuid4_format_and_bits),
		cmocka_unit_test(test_uuid4_unique),
		cmocka_unit_test(test_fake_determinism),
		cmocka_unit_test(test_fake_splitmix64),
		cmocka_unit_test(test_rng_slicing),
		cmocka_unit_test(test_rng_real),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
