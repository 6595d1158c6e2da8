/*
 * test_http_body: body framing (Content-Length, chunked, close) against
 * rows R28-R36 and U05-U07/U10 of the hostile-input catalogue, fed whole,
 * one byte at a time, in fixed pieces, and split at every offset.
 *
 * The driver behaves like the proxy: it holds a window of received bytes,
 * calls http_body_step on it, drops *skip, forwards *data_len, and reads
 * more only on AGAIN. Each window is copied to an exact-size heap buffer so
 * ASan sees any read past what was received.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/http_body.h"

struct body_case {
	const char *id;
	const char *in;
	size_t len;
	enum http_body_rc rc; /* DONE or ERROR (or AGAIN: ran out of input) */
	const char *data;     /* decoded data when DONE */
	size_t used;	      /* bytes that belong to the body when DONE */
};

/* Outcome of feeding one input. */
struct run {
	enum http_body_rc rc;
	size_t end;	   /* DONE: offset just past the body */
	char data[16384];  /* decoded data */
	size_t data_len;
	size_t calls;
	struct http_body b;
};

static void run_body(struct run *, enum http_framing, uint64_t, const char *,
    size_t, const size_t *, size_t);
static void run_pieces(struct run *, enum http_framing, uint64_t,
    const char *, size_t, size_t);
static void run_split(struct run *, enum http_framing, uint64_t,
    const char *, size_t, size_t);
static void check_case(const struct body_case *, const struct run *,
    const char *);

#define S(s) s, sizeof(s) - 1
/* used 0: the whole input is the body */
#define OK(id, in, data, used) { id, S(in), HTTP_BODY_DONE, data, used }
#define BAD(id, in) { id, S(in), HTTP_BODY_ERROR, NULL, 0 }

static const struct body_case chunked_cases[] = {
	OK("simple", "5\r\nhello\r\n0\r\n\r\n", "hello", 0),
	OK("two chunks", "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n", "abcde", 0),
	OK("hex digits", "A\r\n0123456789\r\na\r\nABCDEFGHIJ\r\n0\r\n\r\n",
	    "0123456789ABCDEFGHIJ", 0),
	OK("leading zeros", "0005\r\nhello\r\n000\r\n\r\n", "hello", 0),
	OK("16 digits", "000000000000000a\r\n0123456789\r\n0\r\n\r\n",
	    "0123456789", 0),
	OK("empty body", "0\r\n\r\n", "", 0),
	/* extensions are parsed and dropped */
	OK("ext token", "5;a=b\r\nhello\r\n0;last\r\n\r\n", "hello", 0),
	OK("ext name only", "5;a;b;c\r\nhello\r\n0\r\n\r\n", "hello", 0),
	OK("ext quoted", "5;a=\"x;y \\\"z\\\"\"\r\nhello\r\n0\r\n\r\n", "hello",
	    0),
	OK("ext BWS", "5 ;a = b ; c\t\r\nhello\r\n0\r\n\r\n", "hello", 0),
	OK("size BWS", "5 \r\nhello\r\n0\r\n\r\n", "hello", 0),
	OK("quoted then BWS", "5;a=\"q\" \r\nhello\r\n0\r\n\r\n", "hello", 0),
	OK("quoted obs-text", "5;a=\"\xe9\"\r\nhello\r\n0\r\n\r\n", "hello", 0),
	/* trailers are validated and dropped (R35) */
	OK("trailers", "0\r\nX-Sum: abc\r\nY: \r\nZ:\r\n\r\n", "", 0),
	OK("R35 framing trailers", "1\r\nZ\r\n0\r\nContent-Length: 5\r\n"
	    "Host: evil\r\n\r\n", "Z", 0),
	OK("R35 puma", "0\r\nX:POST / HTTP/1.1\r\n\r\n", "", 0),
	/* pipelining: what follows the body is not touched */
	OK("pipelined", "1\r\nZ\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", "Z", 11),
	OK("pipelined chunk", "1\r\nZ\r\n0\r\n\r\n1\r\nY\r\n0\r\n\r\n", "Z", 11),

	/* R28: chunk-size is 1*HEXDIG and nothing else */
	BAD("R28 0x1", "0x1\r\nZ\r\n0\r\n\r\n"),
	BAD("R28 trailing junk", "1these-bytes-never-get-validated\r\nZ\r\n"),
	BAD("R28 SP first", " 1\r\nZ\r\n0\r\n\r\n"),
	BAD("R28 HTAB first", "\t0\r\n\r\n"),
	BAD("R28 -1", "-1\r\nZ\r\n0\r\n\r\n"),
	BAD("R28 +1", "+1\r\nZ\r\n0\r\n\r\n"),
	BAD("R28 0_2e", "0_2e\r\n"),
	BAD("R28 empty line", "\r\n0\r\n\r\n"),
	BAD("R28 ext only", ";a\r\nZ\r\n"),
	BAD("R28 g", "g\r\n"),
	BAD("R28 1 1", "1 1\r\nZ\r\n0\r\n\r\n"),
	/* R29: overflow */
	BAD("R29 overflow", "fffffffffffffffff1\r\n"),
	BAD("R29 17 digits", "00000000000000001\r\nZ\r\n0\r\n\r\n"),
	BAD("R29 2^63", "8000000000000000\r\n"),
	BAD("R29 2^64-1", "ffffffffffffffff\r\n"),
	/* R30: bare LF ends nothing */
	BAD("R30 size LF", "1\nZ\r\n0\r\n\r\n"),
	BAD("R30 ext LF", "1;a\nZ\r\n0\r\n\r\n"),
	BAD("R30 ext val LF", "1;a=b\nZ\r\n0\r\n\r\n"),
	BAD("R30 BWS LF", "1 \nZ\r\n0\r\n\r\n"),
	BAD("R30 data LF", "1\r\nZ\n0\r\n\r\n"),
	BAD("R30 last LF", "0\n\r\n"),
	BAD("R30 final LF", "0\r\n\n"),
	BAD("R30 trailer LF", "0\r\nX: y\n\r\n"),
	/* R31: CR alone */
	BAD("R31", "1\r\r;a\r\nZ\r\n0\r\n\r\n"),
	BAD("R31 data CR", "1\r\nZ\r0\r\n\r\n"),
	BAD("R31 final CR", "0\r\n\rX"),
	/* R32: chunk-ext grammar */
	BAD("R32 ;LF", "5;\nhello\r\n0\r\n\r\n"),
	BAD("R32 NUL", "5;\0ext\r\nhello\r\n0\r\n\r\n"),
	BAD("R32 bare ;", "5;\r\nhello\r\n0\r\n\r\n"),
	BAD("R32 unterminated", "1;ext=\"val\nX\r\n0\r\n\r\nGET /smuggled "
	    "HTTP/1.1\r\nHost: a\r\n\r\n\"\r\nZ\r\n0\r\n\r\n"),
	BAD("R32 no name", "5;=v\r\nhello\r\n0\r\n\r\n"),
	BAD("R32 no value", "5;a=\r\nhello\r\n0\r\n\r\n"),
	BAD("R32 name SP name", "5;a b\r\nhello\r\n0\r\n\r\n"),
	BAD("R32 value SP junk", "5;a=b c\r\nhello\r\n0\r\n\r\n"),
	BAD("R32 quoted junk", "5;a=\"b\"c\r\nhello\r\n0\r\n\r\n"),
	BAD("R32 quoted CR", "5;a=\"b\rc\"\r\nhello\r\n0\r\n\r\n"),
	BAD("R32 esc LF", "5;a=\"b\\\n\"\r\nhello\r\n0\r\n\r\n"),
	BAD("R32 separator", "5;a@b\r\nhello\r\n0\r\n\r\n"),
	BAD("R32 CTL", "5;a=\x01\r\nhello\r\n0\r\n\r\n"),
	/* R33: more data than the size */
	BAD("R33", "1\r\nZZ\r\n0\r\n\r\n"),
	BAD("R33 short", "2\r\nZ\r\n0\r\n\r\n"),
	/* R35: trailer lines follow the header rules */
	BAD("R35 obs-fold", "0\r\nX: a\r\n b\r\n\r\n"),
	BAD("R35 leading SP", "0\r\n X: a\r\n\r\n"),
	BAD("R35 SP colon", "0\r\nX : a\r\n\r\n"),
	BAD("R35 empty name", "0\r\n: a\r\n\r\n"),
	BAD("R35 no colon", "0\r\nX\r\n\r\n"),
	BAD("R35 NUL", "0\r\nX: a\0b\r\n\r\n"),
	BAD("R35 bare CR", "0\r\nX: a\rb\r\n\r\n"),
	BAD("R35 bad name", "0\r\nX[]: a\r\n\r\n"),
	/* R36: stray CRLFs */
	BAD("R36 extra CRLF", "1\r\nZ\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"),
	BAD("R36 smuggle", "17\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n\r\n\r\n"
	    "0\r\n\r\n"),
	/* U05 */
	BAD("U05 zz", "zz\r\n"),
};

/*
 * Feed `in` the way the proxy would: `reads[i]` more bytes arrive before
 * the i-th read (the last entry repeats). Stops at DONE, ERROR, or when
 * the input is exhausted (rc AGAIN or DATA then).
 */
static void
run_body(struct run *r, enum http_framing framing, uint64_t cl,
    const char *in, size_t n, const size_t *reads, size_t nreads)
{
	size_t off = 0, avail = 0, skip, dlen, ri = 0, want, len;
	enum http_body_rc rc;
	char *win;

	memset(r, 0, sizeof(*r));
	http_body_init(&r->b, framing, cl);
	for (;;) {
		len = avail - off;
		win = malloc(len > 0 ? len : 1);
		assert_non_null(win);
		memcpy(win, in + off, len);
		skip = dlen = 12345;
		rc = http_body_step(&r->b, win, len, &skip, &dlen);
		r->calls++;
		assert_true(skip <= len);
		assert_true(dlen <= len - skip);
		if (rc == HTTP_BODY_DATA) {
			assert_true(dlen > 0);
			assert_true(r->data_len + dlen <= sizeof(r->data));
			memcpy(r->data + r->data_len, win + skip, dlen);
			r->data_len += dlen;
		} else {
			assert_int_equal(dlen, 0);
		}
		free(win);
		r->rc = rc;
		if (rc == HTTP_BODY_DONE) {
			r->end = off + skip;
			return;
		}
		if (rc == HTTP_BODY_ERROR) {
			assert_non_null(r->b.error);
			assert_int_equal(r->b.state, HTTP_BODY_S_ERROR);
			return;
		}
		if (rc == HTTP_BODY_AGAIN)
			assert_int_equal(skip, len);
		off += skip + dlen;
		if (rc == HTTP_BODY_AGAIN) {
			if (avail == n)
				return;
			want = reads[ri < nreads ? ri : nreads - 1];
			ri++;
			avail = avail + want < n ? avail + want : n;
		}
		/* a step must make progress, or it is waiting for bytes */
		assert_true(r->calls < 4 * n + 16);
	}
}

static void
run_pieces(struct run *r, enum http_framing framing, uint64_t cl,
    const char *in, size_t n, size_t piece)
{
	run_body(r, framing, cl, in, n, &piece, 1);
}

/* Two reads: the first `k` bytes, then the rest. */
static void
run_split(struct run *r, enum http_framing framing, uint64_t cl,
    const char *in, size_t n, size_t k)
{
	size_t reads[2];

	reads[0] = k;
	reads[1] = n;
	run_body(r, framing, cl, in, n, reads, 2);
}

static void
check_case(const struct body_case *c, const struct run *r, const char *how)
{
	if (r->rc != c->rc)
		fail_msg("%s (%s): rc %d (%s), want %d", c->id, how, r->rc,
		    r->b.error ? r->b.error : "-", c->rc);
	if (c->rc != HTTP_BODY_DONE)
		return;
	if (r->end != (c->used != 0 ? c->used : c->len))
		fail_msg("%s (%s): ended at %zu, want %zu", c->id, how, r->end,
		    c->used != 0 ? c->used : c->len);
	if (r->data_len != strlen(c->data) ||
	    memcmp(r->data, c->data, r->data_len) != 0)
		fail_msg("%s (%s): data \"%.*s\"", c->id, how,
		    (int)r->data_len, r->data);
	assert_int_equal(r->b.total, r->data_len);
}

/* ---- tests ------------------------------------------------------------ */

static void
test_chunked_table(void **state)
{
	static const size_t pieces[] = { 1, 2, 3, 7, 64, 100000 };
	struct run r;
	char how[32];
	size_t i, k, p;

	(void)state;
	for (i = 0; i < sizeof(chunked_cases) / sizeof(chunked_cases[0]); i++) {
		const struct body_case *c = &chunked_cases[i];

		for (p = 0; p < sizeof(pieces) / sizeof(pieces[0]); p++) {
			run_pieces(&r, HTTP_FRAMING_CHUNKED, 0, c->in, c->len,
			    pieces[p]);
			snprintf(how, sizeof(how), "pieces of %zu", pieces[p]);
			check_case(c, &r, how);
		}
		for (k = 0; k <= c->len; k++) {
			run_split(&r, HTTP_FRAMING_CHUNKED, 0, c->in, c->len, k);
			snprintf(how, sizeof(how), "split at %zu", k);
			check_case(c, &r, how);
		}
	}
}

static void
test_length_every_split(void **state)
{
	static const char in[] = "hello, worldGET / HTTP/1.1\r\n\r\n";
	struct run r;
	size_t k;

	(void)state;
	for (k = 0; k <= sizeof(in) - 1; k++) {
		run_split(&r, HTTP_FRAMING_LENGTH, 12, in, sizeof(in) - 1, k);
		assert_int_equal(r.rc, HTTP_BODY_DONE);
		/* U10: exactly the declared bytes, the rest is not touched */
		assert_int_equal(r.end, 12);
		assert_int_equal(r.data_len, 12);
		assert_memory_equal(r.data, "hello, world", 12);
		assert_int_equal(r.b.total, 12);
	}
	run_pieces(&r, HTTP_FRAMING_LENGTH, 12, in, sizeof(in) - 1, 1);
	assert_int_equal(r.rc, HTTP_BODY_DONE);
	assert_int_equal(r.data_len, 12);
}

static void
test_length_edges(void **state)
{
	struct http_body b;
	size_t skip, dlen;

	(void)state;
	/* CL 0: DONE on the first call, consuming nothing */
	http_body_init(&b, HTTP_FRAMING_LENGTH, 0);
	assert_int_equal(http_body_step(&b, "GET", 3, &skip, &dlen),
	    HTTP_BODY_DONE);
	assert_int_equal(skip, 0);
	assert_int_equal(dlen, 0);
	assert_int_equal(http_body_step(&b, "GET", 3, &skip, &dlen),
	    HTTP_BODY_DONE);

	/* NONE: the same */
	http_body_init(&b, HTTP_FRAMING_NONE, 99);
	assert_int_equal(http_body_step(&b, "x", 1, &skip, &dlen),
	    HTTP_BODY_DONE);
	assert_int_equal(skip, 0);

	/* U06: CL 10, three bytes, then EOF: never DONE, never padded */
	http_body_init(&b, HTTP_FRAMING_LENGTH, 10);
	assert_int_equal(http_body_step(&b, "abc", 3, &skip, &dlen),
	    HTTP_BODY_DATA);
	assert_int_equal(skip, 0);
	assert_int_equal(dlen, 3);
	assert_int_equal(http_body_step(&b, "", 0, &skip, &dlen),
	    HTTP_BODY_AGAIN);
	assert_int_equal(b.remaining, 7);

	/* a huge length counts down without overflow */
	http_body_init(&b, HTTP_FRAMING_LENGTH, UINT64_MAX);
	assert_int_equal(http_body_step(&b, "abc", 3, &skip, &dlen),
	    HTTP_BODY_DATA);
	assert_int_equal(b.remaining, UINT64_MAX - 3);
}

static void
test_close_framing(void **state)
{
	struct http_body b;
	size_t skip, dlen;
	int i;

	(void)state;
	http_body_init(&b, HTTP_FRAMING_CLOSE, 0);
	for (i = 0; i < 3; i++) {
		assert_int_equal(http_body_step(&b, "0\r\n\r\n", 5, &skip,
		    &dlen), HTTP_BODY_DATA);
		assert_int_equal(skip, 0);
		assert_int_equal(dlen, 5);
	}
	assert_int_equal(http_body_step(&b, "", 0, &skip, &dlen),
	    HTTP_BODY_AGAIN);
	assert_int_equal(b.total, 15);
	assert_int_equal(b.state, HTTP_BODY_S_CLOSE);
}

/* A data run never runs past its chunk, even with more bytes in hand. */
static void
test_data_run_bounded(void **state)
{
	static const char in[] = "3\r\nabcdef\r\n";
	struct http_body b;
	size_t skip, dlen;

	(void)state;
	http_body_init(&b, HTTP_FRAMING_CHUNKED, 0);
	assert_int_equal(http_body_step(&b, in, sizeof(in) - 1, &skip, &dlen),
	    HTTP_BODY_DATA);
	assert_int_equal(skip, 3);
	assert_int_equal(dlen, 3);
	assert_memory_equal(in + skip, "abc", 3);
	/* the next step sees "def": not CRLF, so the chunk was too long */
	assert_int_equal(http_body_step(&b, in + 6, sizeof(in) - 1 - 6, &skip,
	    &dlen), HTTP_BODY_ERROR);
	assert_int_equal(skip, 0);
	assert_non_null(b.error);

	/* a large chunk handed out in pieces keeps its count */
	http_body_init(&b, HTTP_FRAMING_CHUNKED, 0);
	assert_int_equal(http_body_step(&b, "10\r\nabcd", 8, &skip, &dlen),
	    HTTP_BODY_DATA);
	assert_int_equal(skip, 4);
	assert_int_equal(dlen, 4);
	assert_int_equal(b.remaining, 12);
	assert_int_equal(http_body_step(&b, "", 0, &skip, &dlen),
	    HTTP_BODY_AGAIN);

	/* the largest size accepted: 2^63 - 1, waiting for data */
	http_body_init(&b, HTTP_FRAMING_CHUNKED, 0);
	assert_int_equal(http_body_step(&b, "7fffffffffffffff\r\n", 18, &skip,
	    &dlen), HTTP_BODY_AGAIN);
	assert_int_equal(b.remaining, INT64_MAX);
	assert_int_equal(b.state, HTTP_BODY_S_CHUNK_DATA);
}

static void
test_sticky_states(void **state)
{
	struct http_body b;
	size_t skip, dlen;

	(void)state;
	http_body_init(&b, HTTP_FRAMING_CHUNKED, 0);
	assert_int_equal(http_body_step(&b, "x\r\n", 3, &skip, &dlen),
	    HTTP_BODY_ERROR);
	assert_int_equal(skip, 0);
	assert_int_equal(http_body_step(&b, "0\r\n\r\n", 5, &skip, &dlen),
	    HTTP_BODY_ERROR);
	assert_int_equal(skip, 0);
	assert_int_equal(dlen, 0);

	http_body_init(&b, HTTP_FRAMING_CHUNKED, 0);
	assert_int_equal(http_body_step(&b, "0\r\n\r\nX", 6, &skip, &dlen),
	    HTTP_BODY_DONE);
	assert_int_equal(skip, 5);
	assert_int_equal(http_body_step(&b, "X", 1, &skip, &dlen),
	    HTTP_BODY_DONE);
	assert_int_equal(skip, 0);
}

/* R34: a 64 KiB extension is refused once the line passes the limit. */
static void
test_long_lines(void **state)
{
	static char in[65536 + 64];
	struct http_body b;
	size_t n, skip, dlen, i;

	(void)state;
	memcpy(in, "5;ext=", 6);
	memset(in + 6, 'a', 65536);
	memcpy(in + 6 + 65536, "\r\nhello\r\n0\r\n\r\n", 14);
	n = 6 + 65536 + 14;
	http_body_init(&b, HTTP_FRAMING_CHUNKED, 0);
	assert_int_equal(http_body_step(&b, in, n, &skip, &dlen),
	    HTTP_BODY_ERROR);
	/* the byte that made the line one too long */
	assert_int_equal(skip, HTTP_BODY_MAX_LINE);

	/* byte at a time: the same, and nothing kept but a counter */
	http_body_init(&b, HTTP_FRAMING_CHUNKED, 0);
	for (i = 0; i < n; i++)
		if (http_body_step(&b, in + i, 1, &skip, &dlen) != HTTP_BODY_AGAIN)
			break;
	assert_int_equal(i, HTTP_BODY_MAX_LINE);
	assert_int_equal(b.state, HTTP_BODY_S_ERROR);

	/* a line of exactly HTTP_BODY_MAX_LINE bytes is fine */
	memcpy(in, "5;e=", 4);
	memset(in + 4, 'a', HTTP_BODY_MAX_LINE - 4);
	memcpy(in + HTTP_BODY_MAX_LINE, "\r\nhello\r\n0\r\n\r\n", 14);
	http_body_init(&b, HTTP_FRAMING_CHUNKED, 0);
	assert_int_equal(http_body_step(&b, in, HTTP_BODY_MAX_LINE + 14, &skip,
	    &dlen), HTTP_BODY_DATA);
	assert_int_equal(skip, HTTP_BODY_MAX_LINE + 2);
	assert_int_equal(dlen, 5);

	/* trailers over HTTP_BODY_MAX_TRAILERS */
	memcpy(in, "0\r\n", 3);
	for (i = 3; i + 12 < HTTP_BODY_MAX_TRAILERS + 64; i += 12)
		memcpy(in + i, "X-Pad: aaa\r\n", 12);
	memcpy(in + i, "\r\n", 2);
	http_body_init(&b, HTTP_FRAMING_CHUNKED, 0);
	assert_int_equal(http_body_step(&b, in, i + 2, &skip, &dlen),
	    HTTP_BODY_ERROR);
	assert_true(skip <= HTTP_BODY_MAX_TRAILERS + 3);
}

/* S07: many one-byte chunks decode with no per-chunk state growth. */
static void
test_many_small_chunks(void **state)
{
	struct run r;
	size_t n = 0, i;
	char *in;

	(void)state;
	in = malloc(6 * 2000 + 5);
	assert_non_null(in);
	for (i = 0; i < 2000; i++) {
		memcpy(in + n, "1\r\nZ\r\n", 6);
		n += 6;
	}
	memcpy(in + n, "0\r\n\r\n", 5);
	n += 5;
	run_pieces(&r, HTTP_FRAMING_CHUNKED, 0, in, n, 4096);
	assert_int_equal(r.rc, HTTP_BODY_DONE);
	assert_int_equal(r.end, n);
	assert_int_equal(r.data_len, 2000);
	free(in);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunked_table),
		cmocka_unit_test(test_length_every_split),
		cmocka_unit_test(test_length_edges),
		cmocka_unit_test(test_close_framing),
		cmocka_unit_test(test_data_run_bounded),
		cmocka_unit_test(test_sticky_states),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_many_small_chunks),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
