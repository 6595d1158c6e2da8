/*
 * reqid: correlation IDs (SPEC section 3). Pure: randomness comes from a
 * struct rng, time from the caller.
 */
#ifndef CUTOVER_REQID_H
#define CUTOVER_REQID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/rng.h"

#define REQID_MAX 128	  /* longest ID accepted from a client */
#define REQID_UUID_LEN 36 /* "xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx" */

/* A well-formed incoming ID: 1-128 characters of [A-Za-z0-9._:-]. */
bool reqid_valid(const char *p, size_t n);

/*
 * RFC 9562 UUIDv7: 48-bit Unix milliseconds, version 7, variant 10, the
 * rest random. `out` gets REQID_UUID_LEN lower-case characters and a NUL.
 */
void reqid_uuid7(char out[REQID_UUID_LEN + 1], uint64_t unix_ms, struct rng *r);
/*
 * Addition: the state behind reqid_uuid7's monotonic counter (RFC 9562
 * section 6.2, method 1: the 12 rand_a bits count within a millisecond).
 * reqid_uuid7() keeps one per thread; reqid_uuid7_r() takes the caller's,
 * so tests (and anyone who wants it explicit) can start from a known state.
 * Owner: whoever embeds it; holds no heap memory; zero it to start.
 */
struct reqid_v7 {
	uint64_t last_ms; /* timestamp of the last ID (may run ahead, see .c) */
	uint16_t seq;	  /* rand_a of the last ID */
	bool started;	  /* false until the first ID */
};

void reqid_uuid7_r(char out[REQID_UUID_LEN + 1], uint64_t unix_ms,
    struct rng *r, struct reqid_v7 *st);

/* RFC 9562 UUIDv4: random, version 4, variant 10. */
void reqid_uuid4(char out[REQID_UUID_LEN + 1], struct rng *r);

#endif /* CUTOVER_REQID_H */
