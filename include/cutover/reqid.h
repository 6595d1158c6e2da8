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
/* RFC 9562 UUIDv4: random, version 4, variant 10. */
void reqid_uuid4(char out[REQID_UUID_LEN + 1], struct rng *r);

#endif /* CUTOVER_REQID_H */
