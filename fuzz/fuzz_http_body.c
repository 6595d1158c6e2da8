/*
 * fuzz_http_body: the body decoder over arbitrary bytes, fed whole and in
 * pieces the way the proxy feeds it.
 *
 * Input: byte 0 selects the framing (mostly chunked; Content-Length with a
 * length from bytes 1-2; close) and the piece pattern; the rest is the
 * body. Invariants checked on every step:
 *   - skip + data_len <= len, data only with DATA, AGAIN consumes all;
 *   - a data run stays inside the input and inside its chunk (total
 *     never passes a Content-Length);
 *   - CLOSE bodies never end, and forward every byte;
 *   - whole and piecewise feeding agree on the verdict, on where the body
 *     ends (or fails), and on the decoded bytes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/http_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

struct outcome {
	enum http_body_rc rc;
	size_t end; /* DONE: just past the body; ERROR: where it failed */
	uint8_t *data;
	size_t data_len;
	uint64_t total;
};

static void drive(struct outcome *, enum http_framing, uint64_t,
    const uint8_t *, size_t, uint32_t);

#define CHECK(c)                                                           \
	do {                                                               \
		if (!(c))                                                  \
			abort();                                           \
	} while (0)

/*
 * Feed `in` like the proxy: a window of received bytes, grown on AGAIN by
 * a pseudo-random amount (seed 0: everything at once).
 */
static void
drive(struct outcome *o, enum http_framing framing, uint64_t cl,
    const uint8_t *in, size_t n, uint32_t seed)
{
	struct http_body b;
	size_t off = 0, avail, len, skip, dlen, calls = 0;
	enum http_body_rc rc;
	char *win;

	o->data = malloc(n > 0 ? n : 1);
	CHECK(o->data != NULL);
	o->data_len = 0;
	o->end = 0;
	http_body_init(&b, framing, cl);
	avail = seed == 0 ? n : 0;
	for (;;) {
		len = avail - off;
		win = malloc(len > 0 ? len : 1);
		CHECK(win != NULL);
		memcpy(win, in + off, len);
		rc = http_body_step(&b, win, len, &skip, &dlen);
		CHECK(++calls <= 2 * n + 8);
		CHECK(skip <= len && dlen <= len - skip);
		if (rc == HTTP_BODY_DATA) {
			CHECK(dlen > 0);
			memcpy(o->data + o->data_len, win + skip, dlen);
			o->data_len += dlen;
		} else {
			CHECK(dlen == 0);
		}
		free(win);
		if (rc == HTTP_BODY_AGAIN)
			CHECK(skip == len);
		if (framing == HTTP_FRAMING_CLOSE)
			CHECK(rc == HTTP_BODY_DATA || rc == HTTP_BODY_AGAIN);
		if (framing == HTTP_FRAMING_LENGTH)
			CHECK(b.total <= cl && rc != HTTP_BODY_ERROR);
		if (rc == HTTP_BODY_DONE || rc == HTTP_BODY_ERROR) {
			if (rc == HTTP_BODY_ERROR)
				CHECK(b.error != NULL);
			o->end = off + skip;
			break;
		}
		off += skip + dlen;
		if (rc == HTTP_BODY_AGAIN) {
			if (avail == n)
				break;
			seed = seed * 1103515245u + 12345u;
			avail += seed >> 28 == 0 ? 1 : (seed >> 20) % 61 + 1;
			if (avail > n)
				avail = n;
		}
	}
	o->rc = rc;
	o->total = b.total;
	CHECK(o->total == o->data_len);
	CHECK(o->data_len <= n);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, split;
	enum http_framing framing;
	uint64_t cl = 0;
	const uint8_t *in;
	uint32_t seed;
	size_t n;

	if (size < 1)
		return 0;
	switch (data[0] & 7) {
	case 0:
		framing = HTTP_FRAMING_CLOSE;
		break;
	case 1:
	case 2:
		framing = HTTP_FRAMING_LENGTH;
		if (size >= 3)
			cl = (uint64_t)data[1] << 8 | data[2];
		break;
	default:
		framing = HTTP_FRAMING_CHUNKED;
		break;
	}
	seed = (uint32_t)(data[0] >> 3) + 1;
	in = data + 1;
	n = size - 1;

	drive(&whole, framing, cl, in, n, 0);
	drive(&split, framing, cl, in, n, seed);
	CHECK(whole.rc == split.rc);
	CHECK(whole.data_len == split.data_len);
	CHECK(memcmp(whole.data, split.data, whole.data_len) == 0);
	if (whole.rc == HTTP_BODY_DONE || whole.rc == HTTP_BODY_ERROR)
		CHECK(whole.end == split.end);
	free(whole.data);
	free(split.data);
	return 0;
}
