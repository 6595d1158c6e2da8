/*
 * reqid: correlation IDs (SPEC section 3): checking the ones clients send
 * and making RFC 9562 UUIDs (v7 by default, v4 on request).
 *
 * Pure: time comes in as an argument, randomness from a struct rng. The one
 * piece of hidden state is reqid_uuid7()'s per-thread counter, which exists
 * so that IDs from one worker sort in the order they were made.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cutover/reqid.h"
#include "cutover/rng.h"

/*
 * How far the clock may step back (or the counter may have pushed the
 * timestamp ahead) before reqid_uuid7_r() gives up keeping order and starts
 * again from the clock's value. Within it, IDs keep increasing and carry a
 * timestamp at most this far ahead of the clock.
 */
#define REQID_V7_SLACK_MS 1000
#define REQID_V7_SEQ_MAX 0xfff

static void reqid_v7_reseed(struct reqid_v7 *st, uint64_t ms, struct rng *r);
static void reqid_format(char out[REQID_UUID_LEN + 1], const uint8_t b[16]);

/* [A-Za-z0-9._:-]: the bytes an incoming ID may hold. */
static const bool reqid_allowed[256] = {
	['0' ... '9'] = true,
	['A' ... 'Z'] = true,
	['a' ... 'z'] = true,
	['.'] = true,
	['_'] = true,
	[':'] = true,
	['-'] = true,
};

/* Each byte's two lower-case hex digits: "000102...ff". */
#define REQID_HEX_ROW(h)                                              \
	h "0" h "1" h "2" h "3" h "4" h "5" h "6" h "7" h "8" h "9" h "a" \
	    h "b" h "c" h "d" h "e" h "f"
static const char reqid_hex2[] = REQID_HEX_ROW("0") REQID_HEX_ROW("1")
    REQID_HEX_ROW("2") REQID_HEX_ROW("3") REQID_HEX_ROW("4") REQID_HEX_ROW("5")
    REQID_HEX_ROW("6") REQID_HEX_ROW("7") REQID_HEX_ROW("8") REQID_HEX_ROW("9")
    REQID_HEX_ROW("a") REQID_HEX_ROW("b") REQID_HEX_ROW("c") REQID_HEX_ROW("d")
    REQID_HEX_ROW("e") REQID_HEX_ROW("f");
_Static_assert(sizeof(reqid_hex2) == 2 * 256 + 1, "one pair a byte");

/* Per worker thread, like the struct rng that goes with it. */
static __thread struct reqid_v7 reqid_v7_tls;

bool
reqid_valid(const char *p, size_t n)
{
	size_t i;

	if (n == 0 || n > REQID_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!reqid_allowed[(unsigned char)p[i]])
			return false;
	return true;
}

/* 16 bytes as 8-4-4-4-12 lower-case hex and a NUL. */
static void
reqid_format(char out[REQID_UUID_LEN + 1], const uint8_t b[16])
{
	char *o = out;
	int i;

	for (i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*o++ = '-';
		memcpy(o, &reqid_hex2[2 * b[i]], 2);
		o += 2;
	}
	*o = '\0';
}

/*
 * A new millisecond: a random counter start with its top bit clear, so at
 * least 2048 more IDs fit before the counter runs out (RFC 9562 6.2).
 */
static void
reqid_v7_reseed(struct reqid_v7 *st, uint64_t ms, struct rng *r)
{
	uint8_t b[2];

	rng_bytes(r, b, sizeof(b));
	st->last_ms = ms;
	st->seq = (uint16_t)((b[0] << 8 | b[1]) & (REQID_V7_SEQ_MAX >> 1));
	st->started = true;
}

/*
 * UUIDv7 with the 12 rand_a bits as a counter. The same millisecond again
 * continues the counter; a counter at its end borrows the next millisecond
 * (RFC 9562 6.2 allows the timestamp to run ahead), so the order holds even
 * beyond 4096 IDs in a millisecond. A clock that steps back less than
 * REQID_V7_SLACK_MS counts as the same millisecond; further back, or any new
 * millisecond, re-randomises the counter.
 */
void
reqid_uuid7_r(char out[REQID_UUID_LEN + 1], uint64_t unix_ms, struct rng *r,
    struct reqid_v7 *st)
{
	uint8_t b[16];
	uint64_t ms;
	int i;

	if (!st->started || unix_ms > st->last_ms ||
	    st->last_ms - unix_ms > REQID_V7_SLACK_MS)
		reqid_v7_reseed(st, unix_ms, r);
	else if (st->seq < REQID_V7_SEQ_MAX)
		st->seq++;
	else
		reqid_v7_reseed(st, st->last_ms + 1, r);

	ms = st->last_ms;
	for (i = 5; i >= 0; i--) {
		b[i] = (uint8_t)ms;
		ms >>= 8;
	}
	b[6] = (uint8_t)(0x70 | st->seq >> 8);
	b[7] = (uint8_t)st->seq;
	rng_bytes(r, b + 8, 8);
	b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
	reqid_format(out, b);
}

void
reqid_uuid7(char out[REQID_UUID_LEN + 1], uint64_t unix_ms, struct rng *r)
{
	reqid_uuid7_r(out, unix_ms, r, &reqid_v7_tls);
}

void
reqid_uuid4(char out[REQID_UUID_LEN + 1], struct rng *r)
{
	uint8_t b[16];

	rng_bytes(r, b, sizeof(b));
	b[6] = (uint8_t)(0x40 | (b[6] & 0x0f));
	b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
	reqid_format(out, b);
}
