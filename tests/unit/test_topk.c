/*
 * test_topk: the Space-Saving sketch. Exact while it has room; on a
 * skewed stream it finds the heavy hitters and its counts bracket the
 * true ones; the total/cap guarantee; eviction arithmetic; merge; the
 * order of topk_top; and a long churn that would expose a broken index
 * (a lost key counted twice, a probe chain cut by a deletion).
 *
 * Randomness is a local splitmix64 with fixed seeds.
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

#include "cutover/topk.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static uint64_t mix_next(uint64_t *s);
static void add_s(struct topk *k, const char *s, uint64_t w);
static const struct topk_entry *held(const struct topk *k, const char *s);
static void check_consistent(struct topk *k);
static void churn(size_t cap, uint64_t seed);

/* splitmix64: a fixed-seed stream, the same on every run and host. */
static uint64_t
mix_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
add_s(struct topk *k, const char *s, uint64_t w)
{
	topk_add(k, s, strlen(s), w);
}

/* The entry holding key s, found by scanning (not through the index). */
static const struct topk_entry *
held(const struct topk *k, const char *s)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->e[i].key, s) == 0)
			return &k->e[i];
	return NULL;
}

/*
 * No two entries share a key, counts sum to the total (Space-Saving moves
 * counts, never drops them), and every held key is reached through the
 * index: adding it once more bumps that entry and evicts nothing.
 */
static void
check_consistent(struct topk *k)
{
	uint64_t sum = 0, before;
	size_t i, j, n = k->n;
	char key[TOPK_MAX_KEY + 1];

	assert_true(k->n <= k->cap);
	for (i = 0; i < n; i++) {
		sum += k->e[i].count;
		assert_true(k->e[i].error < k->e[i].count);
		for (j = i + 1; j < n; j++)
			if (strcmp(k->e[i].key, k->e[j].key) == 0)
				fail_msg("key \"%s\" held twice", k->e[i].key);
	}
	assert_true(sum == k->total);
	for (i = 0; i < n; i++) {
		before = k->e[i].count;
		strcpy(key, k->e[i].key);
		add_s(k, key, 1);
		assert_int_equal(k->n, n);
		assert_string_equal(k->e[i].key, key);
		assert_true(k->e[i].count == before + 1);
	}
}

/* Fewer keys than counters: every count exact, no error. */
static void
test_exact_below_cap(void **state)
{
	struct topk k;
	char key[32];
	uint64_t w;
	const struct topk_entry *e;
	int i, round;

	(void)state;
	topk_init(&k, 16);
	for (round = 0; round < 3; round++)
		for (i = 0; i < 16; i++) {
			snprintf(key, sizeof(key), "/k/%d", i);
			add_s(&k, key, (uint64_t)i + 1);
		}
	assert_int_equal(k.n, 16);
	assert_true(k.total == 3 * (16 * 17 / 2));
	for (i = 0; i < 16; i++) {
		snprintf(key, sizeof(key), "/k/%d", i);
		e = held(&k, key);
		assert_non_null(e);
		w = (uint64_t)i + 1;
		assert_true(e->count == 3 * w);
		assert_true(e->error == 0);
	}
	check_consistent(&k);
	topk_free(&k);
}

/*
 * 100,000 draws from Zipf(s = 1) over 10,000 keys into 64 counters. Every
 * key over total/cap (here the six heaviest) must be held, and come first
 * in topk_top in their true order: that is the report. For every held key
 * count - error <= true <= count. (Below total/cap the sketch is noise by
 * design: with 64 counters the smallest is about 1,290, so the true
 * seventh to tenth are mixed with keys seen 6 times, each with an error
 * near that.)
 */
#define ZIPF_KEYS 10000
#define ZIPF_DRAWS 100000
#define ZIPF_CAP 64

static void
test_zipf_heavy_hitters(void **state)
{
	static double cdf[ZIPF_KEYS];
	static uint64_t truth[ZIPF_KEYS];
	struct topk_entry top[ZIPF_CAP];
	struct topk k;
	const struct topk_entry *e;
	uint64_t seed = 42;
	double sum = 0, u;
	char key[32];
	size_t i, j, lo, hi, mid, n, best, heavy;

	(void)state;
	for (i = 0; i < ZIPF_KEYS; i++) {
		sum += 1.0 / (double)(i + 1);
		cdf[i] = sum;
	}
	memset(truth, 0, sizeof(truth));
	topk_init(&k, ZIPF_CAP);
	for (i = 0; i < ZIPF_DRAWS; i++) {
		u = (double)(mix_next(&seed) >> 11) / 9007199254740992.0 * sum;
		for (lo = 0, hi = ZIPF_KEYS - 1; lo < hi;) {
			mid = (lo + hi) / 2;
			if (cdf[mid] <= u)
				lo = mid + 1;
			else
				hi = mid;
		}
		truth[lo]++;
		snprintf(key, sizeof(key), "/k/%zu", lo);
		add_s(&k, key, 1);
	}
	assert_true(k.total == ZIPF_DRAWS);
	assert_int_equal(k.n, ZIPF_CAP);
	for (i = 0; i < ZIPF_KEYS; i++) {
		snprintf(key, sizeof(key), "/k/%zu", i);
		e = held(&k, key);
		if (truth[i] * ZIPF_CAP > k.total)
			if (e == NULL)
				fail_msg("%s (true %llu) not held", key,
				    (unsigned long long)truth[i]);
		if (e == NULL)
			continue;
		assert_true(e->count >= truth[i]);
		assert_true(e->count - e->error <= truth[i]);
	}
	n = topk_top(&k, top, NELEM(top));
	assert_int_equal(n, ZIPF_CAP);
	for (i = 0, heavy = 0; i < n; i++) {
		for (best = 0, j = 1; j < ZIPF_KEYS; j++)
			if (truth[j] > truth[best])
				best = j;
		if (truth[best] * ZIPF_CAP <= k.total)
			break;
		snprintf(key, sizeof(key), "/k/%zu", best);
		assert_string_equal(top[i].key, key);
		truth[best] = 0;
		heavy++;
	}
	assert_int_equal(heavy, 6);
	check_consistent(&k);
	topk_free(&k);
}

/*
 * The worst order for the guarantee: a heavy key spread thin among a
 * flood of distinct ones, each of which evicts something. 1,000 one-off
 * keys and "H" 200 times, cap 10: 200 > 1200 / 10, so H must be held.
 */
static void
test_guarantee_adversarial(void **state)
{
	struct topk k;
	const struct topk_entry *e;
	char key[32];
	int i;

	(void)state;
	topk_init(&k, 10);
	for (i = 0; i < 1000; i++) {
		snprintf(key, sizeof(key), "/once/%d", i);
		add_s(&k, key, 1);
		if (i % 5 == 4)
			add_s(&k, "H", 1);
	}
	assert_true(k.total == 1200);
	e = held(&k, "H");
	assert_non_null(e);
	assert_true(e->count >= 200);
	assert_true(e->count - e->error <= 200);
	check_consistent(&k);
	topk_free(&k);
}

/* A new key on a full sketch takes the smallest counter and its count. */
static void
test_replace_inherits_min(void **state)
{
	struct topk k;
	const struct topk_entry *e;

	(void)state;
	topk_init(&k, 2);
	add_s(&k, "/a", 5);
	add_s(&k, "/b", 3);
	add_s(&k, "/c", 1);
	assert_int_equal(k.n, 2);
	assert_null(held(&k, "/b"));
	e = held(&k, "/c");
	assert_non_null(e);
	assert_true(e->count == 4);
	assert_true(e->error == 3);
	e = held(&k, "/a");
	assert_true(e->count == 5 && e->error == 0);
	/* Now /c (4) is the smallest: /b comes back over it. */
	add_s(&k, "/b", 2);
	assert_null(held(&k, "/c"));
	e = held(&k, "/b");
	assert_true(e->count == 6);
	assert_true(e->error == 4);
	/* A hit on a replaced key keeps its error. */
	add_s(&k, "/b", 1);
	assert_true(e->count == 7 && e->error == 4);
	assert_true(k.total == 12);
	check_consistent(&k);
	topk_free(&k);
}

static void
test_weight_zero(void **state)
{
	struct topk k;

	(void)state;
	topk_init(&k, 1);
	add_s(&k, "/a", 0);
	assert_int_equal(k.n, 0);
	assert_true(k.total == 0);
	add_s(&k, "/a", 2);
	add_s(&k, "/b", 0); /* would evict /a if it counted */
	add_s(&k, "/a", 0);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.e[0].key, "/a");
	assert_true(k.e[0].count == 2 && k.e[0].error == 0);
	assert_true(k.total == 2);
	topk_free(&k);
}

/* Keys are cut at TOPK_MAX_KEY bytes: two differing later are one key. */
static void
test_long_keys_cut(void **state)
{
	struct topk k;
	char a[TOPK_MAX_KEY + 50], b[TOPK_MAX_KEY + 50];

	(void)state;
	memset(a, 'a', sizeof(a));
	memset(b, 'a', sizeof(b));
	b[TOPK_MAX_KEY + 10] = 'b';
	topk_init(&k, 4);
	topk_add(&k, a, sizeof(a), 1);
	topk_add(&k, b, sizeof(b), 1);
	topk_add(&k, a, TOPK_MAX_KEY, 1);
	assert_int_equal(k.n, 1);
	assert_int_equal(strlen(k.e[0].key), TOPK_MAX_KEY);
	assert_true(k.e[0].count == 3);
	/* One byte shorter is another key. */
	topk_add(&k, a, TOPK_MAX_KEY - 1, 1);
	assert_int_equal(k.n, 2);
	/* The length is what counts, not the NUL. */
	topk_add(&k, "/xyz", 2, 1);
	assert_non_null(held(&k, "/x"));
	assert_null(held(&k, "/xyz"));
	check_consistent(&k);
	topk_free(&k);
}

/* Merging sketches with room: every count and the total are the sums. */
static void
test_merge_sum(void **state)
{
	struct topk a, b;
	const struct topk_entry *e;
	char key[32];
	int i;

	(void)state;
	topk_init(&a, 32);
	topk_init(&b, 32);
	for (i = 0; i < 10; i++) {
		snprintf(key, sizeof(key), "/k/%d", i);
		add_s(&a, key, (uint64_t)i + 1); /* /k/0../k/9 */
		snprintf(key, sizeof(key), "/k/%d", i + 5);
		add_s(&b, key, 100); /* /k/5../k/14 */
	}
	topk_merge(&a, &b);
	assert_int_equal(a.n, 15);
	assert_true(a.total == 55 + 1000);
	for (i = 0; i < 15; i++) {
		snprintf(key, sizeof(key), "/k/%d", i);
		e = held(&a, key);
		assert_non_null(e);
		assert_true(e->count ==
		    (uint64_t)(i < 10 ? i + 1 : 0) + (i >= 5 ? 100 : 0));
		assert_true(e->error == 0);
	}
	/* src is untouched. */
	assert_int_equal(b.n, 10);
	assert_true(b.total == 1000);
	check_consistent(&a);
	/* Merging an empty sketch changes nothing. */
	topk_free(&b);
	topk_init(&b, 4);
	topk_merge(&a, &b);
	assert_int_equal(a.n, 15);
	topk_free(&a);
	topk_free(&b);
}

/*
 * Merging into a full sketch: a held key sums counts and errors; a new
 * one replaces the smallest counter, its error that count plus its own.
 */
static void
test_merge_carries_error(void **state)
{
	struct topk dst, src;
	const struct topk_entry *e;

	(void)state;
	topk_init(&dst, 2);
	add_s(&dst, "/a", 5);
	add_s(&dst, "/b", 3);
	topk_init(&src, 2);
	add_s(&src, "/x", 2);
	add_s(&src, "/a", 1);
	add_s(&src, "/c", 2); /* replaces /a (1): count 3, error 1 */
	add_s(&src, "/c", 1); /* count 4, error 1 */
	add_s(&src, "/y", 1); /* replaces /x (2): count 3, error 2 */
	topk_merge(&dst, &src);
	/* Largest first: /c replaces /b (3) -> count 7, error 4; then /y
	 * (3, error 2) replaces /a (5) -> count 8, error 7. */
	assert_int_equal(dst.n, 2);
	e = held(&dst, "/c");
	assert_non_null(e);
	assert_true(e->count == 7 && e->error == 4);
	e = held(&dst, "/y");
	assert_non_null(e);
	assert_true(e->count == 8 && e->error == 7);
	assert_true(dst.total == 8 + 7);
	check_consistent(&dst);

	/* A key held on both sides sums its error too. */
	topk_free(&dst);
	topk_init(&dst, 4);
	add_s(&dst, "/c", 10);
	topk_merge(&dst, &src);
	e = held(&dst, "/c");
	assert_true(e->count == 14 && e->error == 1);
	e = held(&dst, "/y");
	assert_true(e->count == 3 && e->error == 2);
	topk_free(&dst);
	topk_free(&src);
}

/* count desc, then error asc, then key bytes asc (unsigned: 0xc3 > 'z'). */
static void
test_top_order(void **state)
{
	static const char *want[] = { "/big", "/exact", "/a", "/b", "/z",
		"/\xc3\xa9", "/late", "/small" };
	struct topk k;
	struct topk_entry out[16];
	size_t n, i;

	(void)state;
	topk_init(&k, 8);
	add_s(&k, "/z", 5);
	add_s(&k, "/\xc3\xa9", 5);
	add_s(&k, "/small", 2);
	add_s(&k, "/b", 5);
	add_s(&k, "/filler", 1);
	add_s(&k, "/a", 5);
	add_s(&k, "/big", 9);
	add_s(&k, "/exact", 7);
	add_s(&k, "/late", 4); /* replaces /filler: 5, error 1 */
	assert_null(held(&k, "/filler"));

	n = topk_top(&k, out, NELEM(out));
	assert_int_equal(n, NELEM(want));
	for (i = 0; i < n; i++)
		assert_string_equal(out[i].key, want[i]);
	assert_true(out[6].count == 5 && out[6].error == 1);
	assert_true(out[5].count == 5 && out[5].error == 0);
	/* Keys are borrowed, not copied. */
	assert_ptr_equal(out[0].key, held(&k, "/big")->key);

	/* Fewer than held: the first ones of the same order. */
	memset(out, 0, sizeof(out));
	n = topk_top(&k, out, 3);
	assert_int_equal(n, 3);
	for (i = 0; i < n; i++)
		assert_string_equal(out[i].key, want[i]);
	assert_null(out[3].key);
	assert_int_equal(topk_top(&k, out, 0), 0);
	/* The sketch itself is not reordered into a broken index. */
	check_consistent(&k);
	topk_free(&k);

	topk_init(&k, 4);
	assert_int_equal(topk_top(&k, out, NELEM(out)), 0);
	topk_free(&k);
}

/*
 * A million adds over a few hot keys and many cold ones, into 8, 3 and
 * 1 counters: nearly every cold add evicts, so deletions from the index
 * happen all the time, in every probe position. The index must stay
 * exact throughout.
 */
static void
churn(size_t cap, uint64_t seed)
{
	struct topk k;
	char key[32];
	uint64_t r;
	size_t i;

	topk_init(&k, cap);
	for (i = 0; i < 1000000; i++) {
		r = mix_next(&seed);
		if (r & 1)
			snprintf(key, sizeof(key), "/hot/%u",
			    (unsigned)((r >> 1) % 12));
		else
			snprintf(key, sizeof(key), "/cold/%u",
			    (unsigned)((r >> 1) % 100000));
		add_s(&k, key, 1 + (r >> 40) % 3);
		/* Often early, so a broken deletion shows as a failure
		 * before stale slots fill the index and hang a probe. */
		if (i < 5000 || i % 10000 == 9999)
			check_consistent(&k);
	}
	assert_int_equal(k.n, cap);
	check_consistent(&k);
	topk_free(&k);
}

static void
test_churn_index(void **state)
{
	(void)state;
	churn(8, 1);
	churn(3, 2);
	churn(1, 3);
}

/* cap 0 is taken as 1 rather than a sketch that can hold nothing. */
static void
test_init_free(void **state)
{
	struct topk k;

	(void)state;
	topk_init(&k, 0);
	assert_int_equal(k.cap, 1);
	add_s(&k, "/a", 1);
	add_s(&k, "/b", 1);
	assert_int_equal(k.n, 1);
	assert_string_equal(k.e[0].key, "/b");
	topk_free(&k);
	assert_null(k.e);
	assert_null(k.index);
	topk_free(&k); /* twice is harmless */
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_below_cap),
		/* Before the others, which trust the index: a broken one
		 * fails here instead of hanging a full table's probe. */
		cmocka_unit_test(test_churn_index),
		cmocka_unit_test(test_zipf_heavy_hitters),
		cmocka_unit_test(test_guarantee_adversarial),
		cmocka_unit_test(test_replace_inherits_min),
		cmocka_unit_test(test_weight_zero),
		cmocka_unit_test(test_long_keys_cut),
		cmocka_unit_test(test_merge_sum),
		cmocka_unit_test(test_merge_carries_error),
		cmocka_unit_test(test_top_order),
		cmocka_unit_test(test_init_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
