/*
 * test_split: SipHash-2-4 against the published vectors, the seed's key
 * and the buckets of a few keys pinned, the bucket table's shares,
 * monotonicity under weight changes, independence from target order and
 * from added targets, and the keyless weighted draw.
 *
 * The pinned values (key_from_seed, buckets, table entries) are part of
 * the external contract, not of this implementation: a sticky user must
 * keep their side across builds, versions and machines. If one of those
 * tests fails, the change that broke it moves users between the old and
 * the new service on upgrade; fix the change, never the expected value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cutover/rng.h"
#include "cutover/split.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define NKEYS 10000

static void key_of(struct split_key *k, const char *seed);
static void build(struct split_table *t, const struct split_key *k,
    const char *const *names, const uint32_t *w, size_t n);
static void check_shares(const char *seed, const uint32_t *w, size_t n,
    double tolerance);
static unsigned key_bucket(const struct split_key *k, uint64_t i);
static void check_moves(const struct split_key *k, const char *const *names,
    const uint32_t *from, const uint32_t *to, size_t n);

/* ---- helpers */

static void
key_of(struct split_key *k, const char *seed)
{
	split_key_from_seed(k, seed, strlen(seed));
}

static void
build(struct split_table *t, const struct split_key *k,
    const char *const *names, const uint32_t *w, size_t n)
{
	memset(t, 0xff, sizeof(*t)); /* so an unset bucket shows */
	split_table_build(t, k, names, w, n);
}

/* Each target's share of the 10,000 buckets is its weight's, +- tolerance. */
static void
check_shares(const char *seed, const uint32_t *w, size_t n, double tolerance)
{
	static const char *const names[] = { "legacy", "orders-v2", "orders-v3",
		"canary" };
	struct split_key k;
	struct split_table t;
	unsigned count[NELEM(names)] = { 0 };
	uint32_t total = 0;
	double want, got;
	size_t i;
	unsigned b;

	assert_true(n <= NELEM(names));
	key_of(&k, seed);
	build(&t, &k, names, w, n);
	for (b = 0; b < SPLIT_BUCKETS; b++) {
		assert_true(t.target[b] < n);
		count[t.target[b]]++;
	}
	for (i = 0; i < n; i++)
		total += w[i];
	for (i = 0; i < n; i++) {
		want = 100.0 * w[i] / total;
		got = 100.0 * count[i] / SPLIT_BUCKETS;
		if (w[i] == 0 && count[i] != 0)
			fail_msg("seed %s: weight 0 target %zu got %u buckets",
			    seed, i, count[i]);
		if (got < want - tolerance || got > want + tolerance)
			fail_msg("seed %s: target %zu has %.2f%%, weight says "
				 "%.2f%%",
			    seed, i, got, want);
	}
}

/* The bucket of the i-th of NKEYS pseudo-random cookie values. */
static unsigned
key_bucket(const struct split_key *k, uint64_t i)
{
	uint64_t st = i;
	char key[40];
	int len;

	len = snprintf(key, sizeof(key), "u-%016llx",
	    (unsigned long long)rng_splitmix64(&st));
	return split_bucket(k, key, (size_t)len);
}

/*
 * Going from weights `from` to `to`, a bucket (and a key) may only move
 * to a target whose weight grew or from one whose weight shrank. For
 * two targets that is "towards the one that grew"; with one weight
 * changing at a time it is "only to it" or "only from it".
 */
static void
check_moves(const struct split_key *k, const char *const *names,
    const uint32_t *from, const uint32_t *to, size_t n)
{
	struct split_table a, c;
	unsigned b, moved = 0;
	size_t x, y;
	uint64_t i;

	build(&a, k, names, from, n);
	build(&c, k, names, to, n);
	for (b = 0; b < SPLIT_BUCKETS; b++) {
		x = a.target[b];
		y = c.target[b];
		if (x == y)
			continue;
		moved++;
		if (!(to[y] > from[y] || to[x] < from[x]))
			fail_msg("bucket %u moved %zu -> %zu, neither grew nor "
				 "shrank",
			    b, x, y);
		if (to[y] < from[y] || to[x] > from[x])
			fail_msg("bucket %u moved %zu -> %zu, against the "
				 "change",
			    b, x, y);
	}
	for (i = 0; i < NKEYS; i++) {
		b = key_bucket(k, i);
		x = a.target[b];
		y = c.target[b];
		if (x != y && (to[y] < from[y] || to[x] > from[x]))
			fail_msg("key %llu moved %zu -> %zu, against the "
				 "change",
			    (unsigned long long)i, x, y);
	}
	/* Some buckets must move when the shares change (all do here). */
	assert_true(moved > 0);
}

/* ---- SipHash */

/*
 * The 64 outputs of the SipHash paper's appendix (and the reference
 * implementation's vectors.h): key 00 01 .. 0f, message 00 01 .. of
 * length 0..63, output read as a little-endian word.
 */
static const uint64_t sip_vectors[64] = {
	UINT64_C(0x726fdb47dd0e0e31), UINT64_C(0x74f839c593dc67fd),
	UINT64_C(0x0d6c8009d9a94f5a), UINT64_C(0x85676696d7fb7e2d),
	UINT64_C(0xcf2794e0277187b7), UINT64_C(0x18765564cd99a68d),
	UINT64_C(0xcbc9466e58fee3ce), UINT64_C(0xab0200f58b01d137),
	UINT64_C(0x93f5f5799a932462), UINT64_C(0x9e0082df0ba9e4b0),
	UINT64_C(0x7a5dbbc594ddb9f3), UINT64_C(0xf4b32f46226bada7),
	UINT64_C(0x751e8fbc860ee5fb), UINT64_C(0x14ea5627c0843d90),
	UINT64_C(0xf723ca908e7af2ee), UINT64_C(0xa129ca6149be45e5),
	UINT64_C(0x3f2acc7f57c29bdb), UINT64_C(0x699ae9f52cbe4794),
	UINT64_C(0x4bc1b3f0968dd39c), UINT64_C(0xbb6dc91da77961bd),
	UINT64_C(0xbed65cf21aa2ee98), UINT64_C(0xd0f2cbb02e3b67c7),
	UINT64_C(0x93536795e3a33e88), UINT64_C(0xa80c038ccd5ccec8),
	UINT64_C(0xb8ad50c6f649af94), UINT64_C(0xbce192de8a85b8ea),
	UINT64_C(0x17d835b85bbb15f3), UINT64_C(0x2f2e6163076bcfad),
	UINT64_C(0xde4daaaca71dc9a5), UINT64_C(0xa6a2506687956571),
	UINT64_C(0xad87a3535c49ef28), UINT64_C(0x32d892fad841c342),
	UINT64_C(0x7127512f72f27cce), UINT64_C(0xa7f32346f95978e3),
	UINT64_C(0x12e0b01abb051238), UINT64_C(0x15e034d40fa197ae),
	UINT64_C(0x314dffbe0815a3b4), UINT64_C(0x027990f029623981),
	UINT64_C(0xcadcd4e59ef40c4d), UINT64_C(0x9abfd8766a33735c),
	UINT64_C(0x0e3ea96b5304a7d0), UINT64_C(0xad0c42d6fc585992),
	UINT64_C(0x187306c89bc215a9), UINT64_C(0xd4a60abcf3792b95),
	UINT64_C(0xf935451de4f21df2), UINT64_C(0xa9538f0419755787),
	UINT64_C(0xdb9acddff56ca510), UINT64_C(0xd06c98cd5c0975eb),
	UINT64_C(0xe612a3cb9ecba951), UINT64_C(0xc766e62cfcadaf96),
	UINT64_C(0xee64435a9752fe72), UINT64_C(0xa192d576b245165a),
	UINT64_C(0x0a8787bf8ecb74b2), UINT64_C(0x81b3e73d20b49b6f),
	UINT64_C(0x7fa8220ba3b2ecea), UINT64_C(0x245731c13ca42499),
	UINT64_C(0xb78dbfaf3a8d83bd), UINT64_C(0xea1ad565322a1a0b),
	UINT64_C(0x60e61c23a3795013), UINT64_C(0x6606d7e446282b93),
	UINT64_C(0x6ca4ecb15c5f91e1), UINT64_C(0x9f626da15c9625f3),
	UINT64_C(0xe51b38608ef25f57), UINT64_C(0x958a324ceb064572),
};

static void
test_siphash_vectors(void **state)
{
	/* Key bytes 00..0f, little-endian. */
	const struct split_key k = { UINT64_C(0x0706050403020100),
		UINT64_C(0x0f0e0d0c0b0a0908) };
	uint8_t msg[64];
	uint64_t h;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	for (i = 0; i < NELEM(sip_vectors); i++) {
		h = split_hash(&k, msg, i);
		if (h != sip_vectors[i])
			fail_msg("length %zu: %016llx, want %016llx", i,
			    (unsigned long long)h,
			    (unsigned long long)sip_vectors[i]);
	}
}

/* The input is read as bytes: an unaligned start changes nothing. */
static void
test_siphash_unaligned(void **state)
{
	const struct split_key k = { UINT64_C(0x0706050403020100),
		UINT64_C(0x0f0e0d0c0b0a0908) };
	uint8_t buf[64 + 3];
	size_t i;

	(void)state;
	for (i = 0; i < 64; i++)
		buf[3 + i] = (uint8_t)i;
	for (i = 0; i < NELEM(sip_vectors); i++)
		assert_true(split_hash(&k, buf + 3, i) == sip_vectors[i]);
}

/* ---- keys and buckets: pinned forever (see the top of the file) */

static void
test_key_from_seed_pinned(void **state)
{
	static const struct {
		const char *seed;
		uint64_t k0, k1;
	} cases[] = {
		/* SHA-256("") = e3b0c442 98fc1c14 9afbf4c8 996fb924 ... */
		{ "", UINT64_C(0x141cfc9842c4b0e3),
		    UINT64_C(0x24b96f99c8f4fb9a) },
		{ "orders", UINT64_C(0xe408d200db8a161c),
		    UINT64_C(0x9cfaf1294531932f) },
		{ "checkout", UINT64_C(0xdd7e9f96581e76c7),
		    UINT64_C(0xe821201b64868149) },
	};
	struct split_key k;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		key_of(&k, cases[i].seed);
		if (k.k0 != cases[i].k0 || k.k1 != cases[i].k1)
			fail_msg("seed '%s': %016llx %016llx", cases[i].seed,
			    (unsigned long long)k.k0,
			    (unsigned long long)k.k1);
	}
	/* The length counts, not a NUL: "orders" and "orders\0x" differ. */
	split_key_from_seed(&k, "orders\0x", 8);
	assert_true(k.k0 != cases[1].k0);
}

static void
test_bucket_pinned(void **state)
{
	static const struct {
		const char *seed, *key;
		uint64_t hash;
		unsigned bucket;
	} cases[] = {
		{ "orders", "alice", UINT64_C(0x302568d296095499), 9945 },
		{ "orders", "bob", UINT64_C(0x30c516a2f601a93c), 7180 },
		{ "orders", "3f2a9c1e-77aa-4b1c-9d2e-1a2b3c4d5e6f",
		    UINT64_C(0xed967a19df40d0d5), 7237 },
		{ "orders", "", UINT64_C(0x0ec3c73e9aaa364b), 5083 },
		{ "checkout", "alice", UINT64_C(0x82d05dbea03e82e9), 8841 },
		{ "checkout", "bob", UINT64_C(0x1776aa037e7b312b), 6475 },
		{ "checkout", "3f2a9c1e-77aa-4b1c-9d2e-1a2b3c4d5e6f",
		    UINT64_C(0x633bc36f93460873), 979 },
		{ "", "alice", UINT64_C(0xea0faaa727d15fca), 186 },
		{ "", "bob", UINT64_C(0xb6f30d2754399880), 128 },
	};
	struct split_key k;
	size_t i, len;

	(void)state;
	for (i = 0; i < NELEM(cases); i++) {
		key_of(&k, cases[i].seed);
		len = strlen(cases[i].key);
		assert_true(split_hash(&k, cases[i].key, len) ==
		    cases[i].hash);
		if (split_bucket(&k, cases[i].key, len) != cases[i].bucket)
			fail_msg("seed '%s' key '%s': bucket %u, want %u",
			    cases[i].seed, cases[i].key,
			    split_bucket(&k, cases[i].key, len),
			    cases[i].bucket);
	}
}

/* Buckets land in range, and 10,000 keys fill them about evenly. */
static void
test_bucket_range_and_spread(void **state)
{
	static unsigned hits[SPLIT_BUCKETS / 100];
	struct split_key k;
	unsigned b;
	uint64_t i;
	size_t j;

	(void)state;
	memset(hits, 0, sizeof(hits));
	key_of(&k, "orders");
	for (i = 0; i < NKEYS; i++) {
		b = key_bucket(&k, i);
		assert_true(b < SPLIT_BUCKETS);
		hits[b / 100]++;
	}
	/* 100 per hundred-bucket band expected; sd 10. */
	for (j = 0; j < NELEM(hits); j++)
		assert_in_range(hits[j], 50, 150);
}

/* ---- the bucket table */

/* Seed "orders", legacy/orders-v2 at 50/50: pinned like the buckets. */
static void
test_table_pinned(void **state)
{
	static const char *const names[] = { "legacy", "orders-v2" };
	static const uint32_t w[] = { 50, 50 };
	static const uint8_t first[16] = { 1, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0,
		0, 0, 1, 1 };
	struct split_key k;
	struct split_table t;
	unsigned b, ones = 0;

	(void)state;
	key_of(&k, "orders");
	build(&t, &k, names, w, 2);
	for (b = 0; b < NELEM(first); b++)
		assert_int_equal(t.target[b], first[b]);
	for (b = 0; b < SPLIT_BUCKETS; b++)
		ones += t.target[b];
	assert_int_equal(ones, 5016);
}

/*
 * The table is the formula of split.h, worked here from split_hash() of
 * the whole message (so the table's piecewise hashing of bucket and name
 * is checked for every name length that straddles a word).
 */
static void
test_table_matches_formula(void **state)
{
	static const char *const names[] = { "a", "bcdefg", "hijklm",
		"nopqrstuvwxyz", "0123456789abcdefghij" };
	static const uint32_t w[] = { 3, 1, 4, 1, 5 };
	struct split_key k;
	struct split_table t;
	uint8_t msg[2 + 32];
	double best, score, u;
	size_t i, len, win;
	unsigned b;

	(void)state;
	key_of(&k, "formula");
	build(&t, &k, names, w, NELEM(names));
	for (b = 0; b < SPLIT_BUCKETS; b++) {
		best = 0;
		win = 0;
		for (i = 0; i < NELEM(names); i++) {
			len = strlen(names[i]);
			msg[0] = (uint8_t)b;
			msg[1] = (uint8_t)(b >> 8);
			memcpy(msg + 2, names[i], len);
			u = ((double)(split_hash(&k, msg, 2 + len) >> 11) +
				0.5) /
			    9007199254740992.0;
			score = w[i] / -log(u);
			if (score > best) {
				best = score;
				win = i;
			}
		}
		if (t.target[b] != win)
			fail_msg("bucket %u: table %u, formula %zu", b,
			    t.target[b], win);
	}
}

static void
test_table_shares(void **state)
{
	static const uint32_t w1090[] = { 10, 90 };
	static const uint32_t w199[] = { 1, 99 };
	static const uint32_t w333334[] = { 33, 33, 34 };
	static const uint32_t w0100[] = { 0, 100 };
	static const uint32_t w1000[] = { 100, 0 };
	static const uint32_t w4[] = { 25, 0, 70, 5 };
	static const char *const seeds[] = { "orders", "checkout", "" };
	size_t s;

	(void)state;
	for (s = 0; s < NELEM(seeds); s++) {
		check_shares(seeds[s], w1090, 2, 1.5);
		check_shares(seeds[s], w199, 2, 1.5);
		check_shares(seeds[s], w333334, 3, 1.5);
		check_shares(seeds[s], w0100, 2, 0);
		check_shares(seeds[s], w1000, 2, 0);
		check_shares(seeds[s], w4, 4, 1.5);
	}
}

/* One target, or one with weight: every bucket is its. */
static void
test_table_single_and_ties(void **state)
{
	static const char *const one[] = { "only" };
	static const char *const same[] = { "twin", "twin" };
	static const uint32_t w1[] = { 7 };
	static const uint32_t w11[] = { 1, 1 };
	struct split_key k;
	struct split_table t;
	unsigned b;

	(void)state;
	key_of(&k, "orders");
	build(&t, &k, one, w1, 1);
	for (b = 0; b < SPLIT_BUCKETS; b++)
		assert_int_equal(t.target[b], 0);
	/* Equal names and weights score equally: the lower index wins. */
	build(&t, &k, same, w11, 2);
	for (b = 0; b < SPLIT_BUCKETS; b++)
		assert_int_equal(t.target[b], 0);
}

/* The 64 targets split.h allows all fit and all get their share. */
static void
test_table_max_targets(void **state)
{
	char names_buf[SPLIT_MAX_TARGETS][16];
	const char *names[SPLIT_MAX_TARGETS];
	uint32_t w[SPLIT_MAX_TARGETS];
	unsigned count[SPLIT_MAX_TARGETS] = { 0 };
	struct split_key k;
	struct split_table t;
	size_t i;
	unsigned b;

	(void)state;
	for (i = 0; i < SPLIT_MAX_TARGETS; i++) {
		snprintf(names_buf[i], sizeof(names_buf[i]), "up%zu", i);
		names[i] = names_buf[i];
		w[i] = 1;
	}
	key_of(&k, "many");
	build(&t, &k, names, w, SPLIT_MAX_TARGETS);
	for (b = 0; b < SPLIT_BUCKETS; b++) {
		assert_true(t.target[b] < SPLIT_MAX_TARGETS);
		count[t.target[b]]++;
	}
	/* 156.25 each expected, sd about 12. */
	for (i = 0; i < SPLIT_MAX_TARGETS; i++)
		assert_in_range(count[i], 100, 215);
}

/* A migration ramp: legacy shrinks while the new service grows. */
static void
test_monotonic_two_targets(void **state)
{
	static const char *const names[] = { "legacy", "orders-v2" };
	static const uint32_t steps[][2] = { { 99, 1 }, { 95, 5 }, { 75, 25 },
		{ 50, 50 }, { 10, 90 }, { 0, 100 } };
	static const char *const seeds[] = { "orders", "checkout" };
	struct split_key k;
	size_t s, i;

	(void)state;
	for (s = 0; s < NELEM(seeds); s++) {
		key_of(&k, seeds[s]);
		for (i = 0; i + 1 < NELEM(steps); i++)
			check_moves(&k, names, steps[i], steps[i + 1], 2);
		/* And back down, as a rollback would. */
		for (i = NELEM(steps) - 1; i > 0; i--)
			check_moves(&k, names, steps[i], steps[i - 1], 2);
	}
}

/* The brief's direction too: the first target growing from 1 to 100. */
static void
test_monotonic_two_targets_first_grows(void **state)
{
	static const char *const names[] = { "orders-v2", "legacy" };
	static const uint32_t steps[][2] = { { 1, 99 }, { 5, 95 }, { 25, 75 },
		{ 50, 50 }, { 100, 0 } };
	struct split_key k;
	size_t i;

	(void)state;
	key_of(&k, "orders");
	for (i = 0; i + 1 < NELEM(steps); i++)
		check_moves(&k, names, steps[i], steps[i + 1], 2);
}

/* Three targets, one weight changing at a time. */
static void
test_monotonic_three_targets(void **state)
{
	static const char *const names[] = { "legacy", "orders-v2",
		"orders-v3" };
	static const uint32_t steps[][3] = {
		{ 100, 0, 0 },
		{ 100, 10, 0 },
		{ 100, 10, 10 },
		{ 50, 10, 10 },
		{ 50, 40, 10 },
		{ 50, 40, 60 },
		{ 5, 40, 60 },
		{ 5, 10, 60 },
		{ 0, 10, 60 },
		{ 0, 10, 1 },
		{ 0, 0, 1 },
	};
	struct split_key k;
	size_t i;

	(void)state;
	key_of(&k, "orders");
	for (i = 0; i + 1 < NELEM(steps); i++)
		check_moves(&k, names, steps[i], steps[i + 1], 3);
}

/* Listing the same targets in another order changes no user's side. */
static void
test_reorder_keeps_mapping(void **state)
{
	static const char *const names[] = { "legacy", "orders-v2",
		"orders-v3" };
	static const uint32_t w[] = { 20, 50, 30 };
	static const size_t perm[] = { 2, 0, 1 };
	const char *pnames[3];
	uint32_t pw[3];
	struct split_key k;
	struct split_table a, c;
	size_t i;
	unsigned b;

	(void)state;
	for (i = 0; i < 3; i++) {
		pnames[i] = names[perm[i]];
		pw[i] = w[perm[i]];
	}
	key_of(&k, "orders");
	build(&a, &k, names, w, 3);
	build(&c, &k, pnames, pw, 3);
	for (b = 0; b < SPLIT_BUCKETS; b++)
		assert_string_equal(names[a.target[b]], pnames[c.target[b]]);
}

/* A new target only takes buckets; none move between the old ones. */
static void
test_added_target_only_takes(void **state)
{
	static const char *const names[] = { "legacy", "orders-v2",
		"orders-v3" };
	static const uint32_t w2[] = { 50, 50 };
	static const uint32_t w3[] = { 50, 50, 20 };
	struct split_key k;
	struct split_table a, c;
	unsigned b, taken = 0;

	(void)state;
	key_of(&k, "orders");
	build(&a, &k, names, w2, 2);
	build(&c, &k, names, w3, 3);
	for (b = 0; b < SPLIT_BUCKETS; b++) {
		if (c.target[b] == 2)
			taken++;
		else
			assert_int_equal(c.target[b], a.target[b]);
	}
	/* 20 of 120: 16.7% expected. */
	assert_in_range(taken, 1517, 1817);
}

/* Another seed splits the same users differently. */
static void
test_seed_changes_mapping(void **state)
{
	static const char *const names[] = { "legacy", "orders-v2" };
	static const uint32_t w[] = { 50, 50 };
	struct split_key k1, k2;
	struct split_table a, c;
	unsigned b, differ = 0, kdiffer = 0;
	uint64_t i;

	(void)state;
	key_of(&k1, "orders");
	key_of(&k2, "checkout");
	build(&a, &k1, names, w, 2);
	build(&c, &k2, names, w, 2);
	for (b = 0; b < SPLIT_BUCKETS; b++)
		differ += a.target[b] != c.target[b];
	/* Independent tables disagree on half the buckets. */
	assert_true(differ >= SPLIT_BUCKETS * 3 / 10);
	for (i = 0; i < NKEYS; i++)
		kdiffer += a.target[key_bucket(&k1, i)] !=
		    c.target[key_bucket(&k2, i)];
	assert_true(kdiffer >= NKEYS * 3 / 10);
}

/* ---- the keyless draw */

static void
test_draw_shares(void **state)
{
	static const uint32_t wa[] = { 10, 90 };
	static const uint32_t wb[] = { 33, 33, 34 };
	static const uint32_t wc[] = { 1, 0, 99 };
	static const struct {
		const uint32_t *w;
		size_t n;
	} cases[] = { { wa, 2 }, { wb, 3 }, { wc, 3 } };
	unsigned count[3];
	uint64_t st = 42;
	uint32_t total;
	double want, got;
	size_t c, i, j;

	(void)state;
	for (c = 0; c < NELEM(cases); c++) {
		memset(count, 0, sizeof(count));
		for (i = 0; i < 100000; i++) {
			j = split_draw(cases[c].w, cases[c].n, rng_splitmix64(&st));
			assert_true(j < cases[c].n);
			count[j]++;
		}
		total = 0;
		for (j = 0; j < cases[c].n; j++)
			total += cases[c].w[j];
		for (j = 0; j < cases[c].n; j++) {
			want = 100.0 * cases[c].w[j] / total;
			got = count[j] / 1000.0;
			if (got < want - 1 || got > want + 1)
				fail_msg("case %zu target %zu: %.2f%%, want "
					 "%.2f%%",
				    c, j, got, want);
		}
		assert_int_equal(count[1] == 0, cases[c].w[1] == 0);
	}
}

static void
test_draw_edges(void **state)
{
	static const uint32_t one[] = { 5 };
	static const uint32_t gaps[] = { 0, 5, 0, 5, 0 };
	static const uint32_t big[] = { UINT32_MAX, UINT32_MAX };
	uint64_t st = 7, r;
	size_t i, j;

	(void)state;
	assert_int_equal(split_draw(one, 1, 0), 0);
	assert_int_equal(split_draw(one, 1, UINT64_MAX), 0);
	for (i = 0; i < 1000; i++) {
		r = rng_splitmix64(&st);
		assert_int_equal(split_draw(one, 1, r), 0);
		j = split_draw(gaps, NELEM(gaps), r);
		assert_true(j == 1 || j == 3);
	}
	/* The stretches: [0,5) is target 1, [5,10) target 3. */
	assert_int_equal(split_draw(gaps, NELEM(gaps), 0), 1);
	assert_int_equal(split_draw(gaps, NELEM(gaps), 4), 1);
	assert_int_equal(split_draw(gaps, NELEM(gaps), 5), 3);
	assert_int_equal(split_draw(gaps, NELEM(gaps), 9), 3);
	assert_int_equal(split_draw(gaps, NELEM(gaps), 10), 1);
	/* Weights summing past 32 bits do not wrap. */
	assert_int_equal(split_draw(big, 2, UINT32_MAX - 1), 0);
	assert_int_equal(split_draw(big, 2, UINT32_MAX), 1);
	assert_int_equal(split_draw(big, 2, UINT64_C(2) * UINT32_MAX - 1), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_siphash_vectors),
		cmocka_unit_test(test_siphash_unaligned),
		cmocka_unit_test(test_key_from_seed_pinned),
		cmocka_unit_test(test_bucket_pinned),
		cmocka_unit_test(test_bucket_range_and_spread),
		cmocka_unit_test(test_table_pinned),
		cmocka_unit_test(test_table_matches_formula),
		cmocka_unit_test(test_table_shares),
		cmocka_unit_test(test_table_single_and_ties),
		cmocka_unit_test(test_table_max_targets),
		cmocka_unit_test(test_monotonic_two_targets),
		cmocka_unit_test(test_monotonic_two_targets_first_grows),
		cmocka_unit_test(test_monotonic_three_targets),
		cmocka_unit_test(test_reorder_keeps_mapping),
		cmocka_unit_test(test_added_target_only_takes),
		cmocka_unit_test(test_seed_changes_mapping),
		cmocka_unit_test(test_draw_shares),
		cmocka_unit_test(test_draw_edges),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
