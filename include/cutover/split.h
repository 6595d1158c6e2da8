/*
 * split: which target of a route a request goes to (SPEC 4.5).
 *
 * Sticky: a stable, seeded hash of the key (a cookie or header value)
 * picks a bucket in 0..SPLIT_BUCKETS-1, and a table built at load maps
 * each bucket to a target by weighted rendezvous hashing: bucket b goes
 * to the target i with the highest score w_i / -ln(U(b, name_i)), U a
 * uniform value in (0, 1) drawn from the seeded hash of the bucket and
 * the target's upstream name. So:
 *   - the same key lands on the same target on every worker, every
 *     instance and after restarts (nothing depends on the process);
 *   - a target's expected share of buckets is exactly its weight's share;
 *   - raising one weight only moves buckets to that target, lowering it
 *     only moves buckets away from it (its score alone changes);
 *   - reordering targets or adding one moves no bucket between the others;
 *   - weight 0 gets no bucket.
 * Keyless requests, and splits without `sticky`, draw at random by weight.
 *
 * The hash is SipHash-2-4 keyed by the first 16 bytes of SHA-256(seed)
 * (the route's seed, which defaults to its name), so two routes with
 * different seeds split the same users differently.
 * Pure: no clock, no I/O; randomness comes in as an argument.
 */
#ifndef CUTOVER_SPLIT_H
#define CUTOVER_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#define SPLIT_BUCKETS 10000
#define SPLIT_MAX_TARGETS 64

struct split_key {
	uint64_t k0, k1;
};

/* Bucket -> target index. Owner: whoever embeds it; no heap memory. */
struct split_table {
	uint8_t target[SPLIT_BUCKETS];
};

/* The SipHash key of a seed (SHA-256 of it, first 16 bytes, little-endian). */
void split_key_from_seed(struct split_key *k, const char *seed, size_t len);
/* SipHash-2-4 of data under k. */
uint64_t split_hash(const struct split_key *k, const void *data, size_t len);
/* The bucket (0..SPLIT_BUCKETS-1) of a sticky key value. */
unsigned split_bucket(const struct split_key *k, const void *data, size_t len);

/*
 * Fill `t` for targets named names[0..n) with weights[0..n) (n >= 1, at
 * least one weight > 0, n <= SPLIT_MAX_TARGETS).
 */
void split_table_build(struct split_table *t, const struct split_key *k,
    const char *const *names, const uint32_t *weights, size_t n);

/* A target drawn at random by weight from `random` (uniform 64 bits). */
size_t split_draw(const uint32_t *weights, size_t n, uint64_t random);

#endif /* CUTOVER_SPLIT_H */
