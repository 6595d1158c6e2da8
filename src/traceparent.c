/*
 * traceparent: the W3C Trace Context `traceparent` header (Level 1,
 * section 3.2), parsed, started and formatted.
 *
 *   00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
 *   0  3                                36               53
 *
 * Pure and allocation-free; the parser takes (pointer, length) and never
 * reads past n.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cutover/rng.h"
#include "cutover/traceparent.h"

/* Offsets in the version 00 layout. */
#define TP_VERSION 0
#define TP_TRACE_ID 3
#define TP_PARENT_ID 36
#define TP_FLAGS 53

static bool tp_hex(const char *p, size_t n, uint8_t *out);
static bool tp_all_zero(const uint8_t *b, size_t n);
static void tp_tohex(char *out, const uint8_t *b, size_t n);

/*
 * Lower-case hex digit values plus one; 0 for every other byte, 'A'-'F'
 * included (the spec allows lower case only).
 */
static const uint8_t tp_hexval1[256] = {
	['0'] = 1, ['1'] = 2, ['2'] = 3, ['3'] = 4, ['4'] = 5,
	['5'] = 6, ['6'] = 7, ['7'] = 8, ['8'] = 9, ['9'] = 10,
	['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
};

static const char tp_hexdig[] = "0123456789abcdef";

/* n bytes from 2n lower-case hex digits at p; false on any other byte. */
static bool
tp_hex(const char *p, size_t n, uint8_t *out)
{
	int hi, lo;
	size_t i;

	for (i = 0; i < n; i++) {
		hi = tp_hexval1[(unsigned char)p[2 * i]];
		lo = tp_hexval1[(unsigned char)p[2 * i + 1]];
		if (hi == 0 || lo == 0)
			return false;
		out[i] = (uint8_t)((hi - 1) << 4 | (lo - 1));
	}
	return true;
}

static bool
tp_all_zero(const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (b[i] != 0)
			return false;
	return true;
}

/* 2n lower-case hex digits and a NUL. */
static void
tp_tohex(char *out, const uint8_t *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = tp_hexdig[b[i] >> 4];
		out[2 * i + 1] = tp_hexdig[b[i] & 0x0f];
	}
	out[2 * n] = '\0';
}

/*
 * The rules, in the spec's order: a version of two lower-case hex digits
 * other than ff, then a dash; version 00 is exactly 55 characters; a higher
 * version is parsed as 00 and may go on only after a dash at offset 55.
 * `out` is written only when the header is valid.
 */
bool
traceparent_parse(const char *p, size_t n, struct traceparent *out)
{
	uint8_t version, trace[16], parent[8], flags;

	if (n < TRACEPARENT_LEN)
		return false;
	if (!tp_hex(p + TP_VERSION, 1, &version) || version == 0xff)
		return false;
	if (version == 0 && n != TRACEPARENT_LEN)
		return false;
	if (version != 0 && n > TRACEPARENT_LEN && p[TRACEPARENT_LEN] != '-')
		return false;
	if (p[TP_TRACE_ID - 1] != '-' || p[TP_PARENT_ID - 1] != '-' ||
	    p[TP_FLAGS - 1] != '-')
		return false;
	if (!tp_hex(p + TP_TRACE_ID, sizeof(trace), trace) ||
	    !tp_hex(p + TP_PARENT_ID, sizeof(parent), parent) ||
	    !tp_hex(p + TP_FLAGS, 1, &flags))
		return false;
	if (tp_all_zero(trace, sizeof(trace)) ||
	    tp_all_zero(parent, sizeof(parent)))
		return false;

	out->version = version;
	memcpy(out->trace_id, p + TP_TRACE_ID, 32);
	out->trace_id[32] = '\0';
	memcpy(out->parent_id, p + TP_PARENT_ID, 16);
	out->parent_id[16] = '\0';
	out->flags = flags;
	return true;
}

/* All-zero ids are invalid, so a zero draw (2^-128 or 2^-64) is redrawn. */
void
traceparent_new(struct traceparent *tp, struct rng *r)
{
	uint8_t trace[16], parent[8];

	do
		rng_bytes(r, trace, sizeof(trace));
	while (tp_all_zero(trace, sizeof(trace)));
	do
		rng_bytes(r, parent, sizeof(parent));
	while (tp_all_zero(parent, sizeof(parent)));

	tp->version = 0;
	tp_tohex(tp->trace_id, trace, sizeof(trace));
	tp_tohex(tp->parent_id, parent, sizeof(parent));
	tp->flags = 0;
}

/*
 * Always as version 00, the only layout we know: a higher version we
 * accepted is passed on in the form we understood. Flags go out as given.
 */
size_t
traceparent_format(const struct traceparent *tp,
    char out[TRACEPARENT_LEN + 1])
{
	out[0] = '0';
	out[1] = '0';
	out[2] = '-';
	memcpy(out + TP_TRACE_ID, tp->trace_id, 32);
	out[TP_PARENT_ID - 1] = '-';
	memcpy(out + TP_PARENT_ID, tp->parent_id, 16);
	out[TP_FLAGS - 1] = '-';
	out[TP_FLAGS] = tp_hexdig[tp->flags >> 4];
	out[TP_FLAGS + 1] = tp_hexdig[tp->flags & 0x0f];
	out[TRACEPARENT_LEN] = '\0';
	return TRACEPARENT_LEN;
}
