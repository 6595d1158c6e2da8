/*
 * topk: the most frequent keys of a stream in bounded memory (the
 * Space-Saving algorithm of Metwally, Agrawal and El Abbadi, 2005): at most
 * `cap` counters; a new key when all are taken replaces the smallest
 * counter and inherits its count as its possible over-count (`error`).
 * Every key whose true count exceeds total/cap is guaranteed to be held.
 *
 * Used for the busiest paths reaching the catch-all route (/migration).
 * Not thread-safe: each worker owns one, and the reader takes a copy
 * under the owner's lock (the caller's business).
 *
 * Owner: whoever called topk_init; topk_free releases the entries' keys
 * and the tables.
 */
#ifndef CUTOVER_TOPK_H
#define CUTOVER_TOPK_H

#include <stddef.h>
#include <stdint.h>

/* Keys longer than this are cut (a path template, so the cut rarely matters). */
#define TOPK_MAX_KEY 256

struct topk_entry {
	char *key;	/* NUL-terminated, owned */
	uint64_t count; /* an upper bound of the key's true count */
	uint64_t error; /* how much of count may belong to keys it replaced */
};

struct topk {
	struct topk_entry *e; /* e[0..n) used */
	size_t n;
	size_t cap;
	uint64_t total;	      /* every weight added */
	/* Private: an index from key to entry (open addressing), and whatever
	 * else the implementation needs to find the smallest counter fast. */
	size_t *index;
	size_t index_cap;
};

/* cap >= 1. */
void topk_init(struct topk *k, size_t cap);
void topk_free(struct topk *k);
/* Count `weight` more occurrences of key `p` (len bytes; cut at TOPK_MAX_KEY). */
void topk_add(struct topk *k, const char *p, size_t len, uint64_t weight);
/*
 * Add every counter of `src` into `dst` (for summing the workers' sketches):
 * each of src's keys is added with its count, and its error carried. The
 * result keeps dst's cap.
 */
void topk_merge(struct topk *dst, const struct topk *src);
/*
 * Copy up to `max` entries, largest count first (ties: smaller error, then
 * key in byte order), into `out` (keys borrowed from k, valid until the
 * next change of k). Returns how many.
 */
size_t topk_top(const struct topk *k, struct topk_entry *out, size_t max);

#endif /* CUTOVER_TOPK_H */
