/*
 * topk: Space-Saving (Metwally, Agrawal and El Abbadi, "Efficient
 * computation of frequent and top-k elements in data streams", 2005) over
 * at most `cap` counters, for the busiest catch-all paths of /migration.
 *
 * Every request reaching the catch-all lands here, so a key already held
 * must cost one hash and a short probe, never a scan: e[] is indexed by an
 * open-addressing table (linear probing, at least twice as many slots as
 * counters, so chains stay short). Only a new key arriving when every
 * counter is taken scans e[] for the smallest count; with cap around 128
 * that is a few cache lines, and it keeps the struct free of a heap whose
 * upkeep would cost every hit a sift.
 *
 * Removing a key from a linear-probing table must not leave a hole in
 * another key's probe chain, so deletion shifts the following entries
 * back (Knuth, TAOCP 3, 6.4, algorithm R) instead of leaving tombstones,
 * which would fill the table of a long-running proxy.
 *
 * Keys are cut at TOPK_MAX_KEY bytes and at a NUL byte, so a stored key is
 * exactly its C string.
 *
 * Pure: no clock, no I/O, no globals.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/strbuf.h"
#include "cutover/topk.h"

#define TOPK_EMPTY SIZE_MAX /* an unused index slot */

static uint64_t topk_hash(const char *p, size_t len);
static size_t topk_key_len(const char *p, size_t len);
static bool topk_key_eq(const char *key, const char *p, size_t len);
static size_t topk_find(const struct topk *k, const char *p, size_t len,
    uint64_t h);
static void topk_index_put(struct topk *k, size_t ei, uint64_t h);
static void topk_index_del(struct topk *k, size_t slot);
static size_t topk_min(const struct topk *k);
static void topk_count(struct topk *k, const char *p, size_t len,
    uint64_t count, uint64_t error);
static int topk_cmp(const void *a, const void *b);

/*
 * FNV-1a 64 with a final avalanche (the splitmix64 finaliser): FNV's low
 * bits, the ones a power-of-two mask keeps, mix poorly for keys that
 * differ only in their last byte ("/a/1", "/a/2").
 */
static uint64_t
topk_hash(const char *p, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 0x100000001b3ULL;
	}
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

/* The bytes of `p` that make the key: up to TOPK_MAX_KEY, before any NUL. */
static size_t
topk_key_len(const char *p, size_t len)
{
	const char *nul;

	if (len > TOPK_MAX_KEY)
		len = TOPK_MAX_KEY;
	nul = memchr(p, '\0', len);
	return nul != NULL ? (size_t)(nul - p) : len;
}

/* strncmp stops at key's NUL, so a shorter key is never read past its end. */
static bool
topk_key_eq(const char *key, const char *p, size_t len)
{
	return strncmp(key, p, len) == 0 && key[len] == '\0';
}

/* The index slot holding key p, or TOPK_EMPTY. */
static size_t
topk_find(const struct topk *k, const char *p, size_t len, uint64_t h)
{
	size_t mask = k->index_cap - 1, s, ei;

	for (s = (size_t)h & mask;; s = (s + 1) & mask) {
		ei = k->index[s];
		if (ei == TOPK_EMPTY)
			return TOPK_EMPTY;
		if (topk_key_eq(k->e[ei].key, p, len))
			return s;
	}
}

/* Index entry ei (its key known absent) under hash h. */
static void
topk_index_put(struct topk *k, size_t ei, uint64_t h)
{
	size_t mask = k->index_cap - 1, s;

	for (s = (size_t)h & mask; k->index[s] != TOPK_EMPTY;
	    s = (s + 1) & mask)
		;
	k->index[s] = ei;
}

/*
 * Empty `slot`, then walk the chain after it: an entry whose home slot
 * does not lie cyclically in (hole, j] would be cut off from its home by
 * the hole, so it moves into the hole, which moves to j.
 */
static void
topk_index_del(struct topk *k, size_t slot)
{
	size_t mask = k->index_cap - 1, hole = slot, j = slot, home, ei;
	const char *key;

	k->index[hole] = TOPK_EMPTY;
	for (;;) {
		j = (j + 1) & mask;
		ei = k->index[j];
		if (ei == TOPK_EMPTY)
			return;
		key = k->e[ei].key;
		home = (size_t)topk_hash(key, strlen(key)) & mask;
		if (((j - home) & mask) < ((j - hole) & mask))
			continue; /* home in (hole, j]: still reachable */
		k->index[hole] = ei;
		k->index[j] = TOPK_EMPTY;
		hole = j;
	}
}

/* The entry with the smallest count; the first of equals, for determinism. */
static size_t
topk_min(const struct topk *k)
{
	size_t i, m = 0;

	for (i = 1; i < k->n; i++)
		if (k->e[i].count < k->e[m].count)
			m = i;
	return m;
}

/*
 * The one update both topk_add and topk_merge make: `count` more for key
 * p (already cut), whose own possible over-count is `error`. A new key
 * takes a free counter, or else the smallest one, whose count it inherits
 * as over-count on top of its own.
 */
static void
topk_count(struct topk *k, const char *p, size_t len, uint64_t count,
    uint64_t error)
{
	uint64_t h = topk_hash(p, len);
	struct topk_entry *e;
	size_t s, ei;

	s = topk_find(k, p, len, h);
	if (s != TOPK_EMPTY) {
		e = &k->e[k->index[s]];
		e->count += count;
		e->error += error;
		return;
	}
	if (k->n < k->cap) {
		ei = k->n++;
		e = &k->e[ei];
		e->count = count;
		e->error = error;
	} else {
		ei = topk_min(k);
		e = &k->e[ei];
		topk_index_del(k, topk_find(k, e->key, strlen(e->key),
		    topk_hash(e->key, strlen(e->key))));
		free(e->key);
		e->key = NULL;
		e->error = e->count + error;
		e->count += count;
	}
	e->key = xstrndup(p, len);
	topk_index_put(k, ei, h);
}

/* Index slots: a power of two, at least twice cap, so the load stays <= 1/2. */
void
topk_init(struct topk *k, size_t cap)
{
	size_t i;

	if (cap == 0)
		cap = 1;
	memset(k, 0, sizeof(*k));
	k->cap = cap;
	k->e = xcalloc(cap, sizeof(*k->e));
	for (k->index_cap = 2; k->index_cap < 2 * cap; k->index_cap *= 2)
		;
	k->index = xcalloc(k->index_cap, sizeof(*k->index));
	for (i = 0; i < k->index_cap; i++)
		k->index[i] = TOPK_EMPTY;
}

void
topk_free(struct topk *k)
{
	size_t i;

	if (k->e != NULL)
		for (i = 0; i < k->n; i++)
			free(k->e[i].key);
	free(k->e);
	free(k->index);
	memset(k, 0, sizeof(*k));
}

void
topk_add(struct topk *k, const char *p, size_t len, uint64_t weight)
{
	if (weight == 0)
		return;
	k->total += weight;
	topk_count(k, p, topk_key_len(p, len), weight, 0);
}

/*
 * src's counters go in largest first, so a small one cannot evict (and
 * inherit) a large one merged a moment before. dst and src must differ.
 */
void
topk_merge(struct topk *dst, const struct topk *src)
{
	struct topk_entry *v;
	size_t i, n;

	if (src->n == 0) {
		dst->total += src->total;
		return;
	}
	v = xcalloc(src->n, sizeof(*v));
	n = topk_top(src, v, src->n);
	for (i = 0; i < n; i++)
		if (v[i].count > 0)
			topk_count(dst, v[i].key, strlen(v[i].key), v[i].count,
			    v[i].error);
	dst->total += src->total;
	free(v);
}

/* count desc, error asc, key asc (strcmp compares as unsigned char). */
static int
topk_cmp(const void *a, const void *b)
{
	const struct topk_entry *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	if (x->error != y->error)
		return x->error < y->error ? -1 : 1;
	return strcmp(x->key, y->key);
}

size_t
topk_top(const struct topk *k, struct topk_entry *out, size_t max)
{
	struct topk_entry *v;

	if (max == 0 || k->n == 0)
		return 0;
	if (max >= k->n) {
		memcpy(out, k->e, k->n * sizeof(*out));
		qsort(out, k->n, sizeof(*out), topk_cmp);
		return k->n;
	}
	v = xcalloc(k->n, sizeof(*v));
	memcpy(v, k->e, k->n * sizeof(*v));
	qsort(v, k->n, sizeof(*v), topk_cmp);
	memcpy(out, v, max * sizeof(*out));
	free(v);
	return max;
}
