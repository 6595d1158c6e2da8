/*
 * traceparent: W3C Trace Context `traceparent` header (version 00 format):
 *   VERSION "-" TRACE_ID "-" PARENT_ID "-" FLAGS
 *   2 hex      32 hex        16 hex          2 hex   (lower case)
 * Pure: randomness from a struct rng.
 */
#ifndef CUTOVER_TRACEPARENT_H
#define CUTOVER_TRACEPARENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/rng.h"

#define TRACEPARENT_LEN 55

struct traceparent {
	uint8_t version;
	char trace_id[33];  /* 32 lower-case hex + NUL */
	char parent_id[17]; /* 16 lower-case hex + NUL */
	uint8_t flags;
};

/*
 * Parse per the W3C rules: version 00 must be exactly 55 characters;
 * version ff is invalid; a higher version is accepted when its first 55
 * characters parse as 00 and the 56th, if any, is '-' (fields after are
 * ignored); trace-id and parent-id all zeros are invalid; upper-case hex is
 * invalid. Returns true when valid.
 */
bool traceparent_parse(const char *p, size_t n, struct traceparent *out);
/* Start a new trace: random trace-id and parent-id (never all zero), flags 00. */
void traceparent_new(struct traceparent *tp, struct rng *r);
/* Writes TRACEPARENT_LEN characters (as version 00) and a NUL; returns 55. */
size_t traceparent_format(const struct traceparent *tp, char out[TRACEPARENT_LEN + 1]);

#endif /* CUTOVER_TRACEPARENT_H */
