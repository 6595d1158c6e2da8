/*
 * fuzz_http_parse: the head parser over arbitrary bytes, as a request and
 * as a response, whole and fed in pieces.
 *
 * Input: byte 0 selects the mode (request / response and the request
 * method for it, the limits, the piece pattern); the rest is the message.
 * Every call gets an exact-size heap copy, so ASan flags any read beyond
 * what was "received". Invariants checked:
 *   - DONE: head_len <= len, every span inside the head, values free of
 *     CR/LF, names non-empty tokens, framing consistent with the flags;
 *   - ERROR: a known status, an offset inside the buffer, a reason;
 *   - fed in pieces, the parser reaches the same verdict as on the whole
 *     buffer (resumption through scan_pos loses nothing), and scan_pos
 *     never passes the bytes it was given.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/http_parse.h"

#define NFIELDS 64

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static enum http_parse_rc parse(const char *, size_t, struct http_head *,
    bool, enum http_method, const struct http_limits *,
    struct http_error *);
static enum http_parse_rc parse_copy(const uint8_t *, size_t,
    struct http_head *, bool, enum http_method, const struct http_limits *,
    struct http_error *, bool);
static void check_done(const char *, size_t, const struct http_head *, bool);
static void check_error(const struct http_error *, size_t, bool);

static const struct http_limits limits[2] = {
	{ .max_header_bytes = 32768, .max_target_bytes = 8192,
	    .max_headers = 100 },
	{ .max_header_bytes = 200, .max_target_bytes = 24, .max_headers = 6 },
};

static const enum http_method methods[4] = {
	HTTP_M_GET, HTTP_M_HEAD, HTTP_M_POST, HTTP_M_OTHER,
};

#define CHECK(c)                                                           \
	do {                                                               \
		if (!(c))                                                  \
			abort();                                           \
	} while (0)

static enum http_parse_rc
parse(const char *buf, size_t len, struct http_head *h, bool response,
    enum http_method meth, const struct http_limits *lim,
    struct http_error *err)
{
	if (response)
		return http_parse_response(buf, len, h, meth, lim, err);
	return http_parse_request(buf, len, h, lim, err);
}

/* Parse an exact-size copy; with `check`, verify the result against it. */
static enum http_parse_rc
parse_copy(const uint8_t *d, size_t n, struct http_head *h, bool response,
    enum http_method meth, const struct http_limits *lim,
    struct http_error *err, bool check)
{
	enum http_parse_rc rc;
	char *buf;

	buf = malloc(n > 0 ? n : 1);
	CHECK(buf != NULL);
	memcpy(buf, d, n);
	memset(err, 0, sizeof(*err));
	rc = parse(buf, n, h, response, meth, lim, err);
	CHECK(h->scan_pos <= n);
	if (check) {
		if (rc == HTTP_PARSE_DONE)
			check_done(buf, n, h, response);
		else if (rc == HTTP_PARSE_ERROR)
			check_error(err, n, response);
	}
	free(buf);
	return rc;
}

static void
check_done(const char *buf, size_t len, const struct http_head *h,
    bool response)
{
	const char *lo = buf, *hi = buf + h->head_len;
	struct http_span name;
	size_t i, j;

	CHECK(h->head_len > 0 && h->head_len <= len);
	CHECK(buf[h->head_len - 1] == '\n');
	CHECK(h->nfields <= h->max_fields);
	for (i = 0; i < h->nfields; i++) {
		const struct http_field *f = &h->fields[i];

		CHECK(f->name.len > 0);
		CHECK(f->name.p >= lo && f->name.p + f->name.len <= hi);
		CHECK(f->value.p >= lo && f->value.p + f->value.len <= hi);
		for (j = 0; j < f->name.len; j++)
			CHECK(http_parse_ctype[(unsigned char)f->name.p[j]] &
			    HTTP_CT_TCHAR);
		for (j = 0; j < f->value.len; j++)
			CHECK(http_parse_ctype[(unsigned char)f->value.p[j]] &
			    HTTP_CT_FVCHAR);
		if (f->value.len > 0) {
			CHECK(f->value.p[0] != ' ' && f->value.p[0] != '\t');
			CHECK(f->value.p[f->value.len - 1] != ' ' &&
			    f->value.p[f->value.len - 1] != '\t');
		}
		/* exercise the lookups on what was parsed */
		CHECK(http_head_find(h, "content-length") == NULL ||
		    (h->flags & HTTP_F_HAS_CL));
		name = f->name;
		(void)http_head_connection_lists(h, name);
	}
	CHECK(http_head_count(h, "transfer-encoding") == 0 ||
	    (h->flags & HTTP_F_HAS_TE));
	CHECK(h->version_minor == 0 || h->version_minor == 1);
	if (h->framing == HTTP_FRAMING_LENGTH)
		CHECK((h->flags & HTTP_F_HAS_CL) &&
		    h->content_length <= (uint64_t)INT64_MAX);
	if (h->framing == HTTP_FRAMING_CHUNKED)
		CHECK(h->flags & HTTP_F_HAS_TE);
	if (response) {
		CHECK(h->status >= 100 && h->status <= 599);
		CHECK(h->reason.p >= lo && h->reason.p + h->reason.len <= hi);
		if (h->framing == HTTP_FRAMING_CLOSE)
			CHECK(h->flags & HTTP_F_NO_REUSE);
	} else {
		CHECK(h->framing != HTTP_FRAMING_CLOSE);
		CHECK(!((h->flags & HTTP_F_HAS_CL) && (h->flags & HTTP_F_HAS_TE)));
		CHECK(h->method.len > 0 && h->target.len > 0);
		CHECK(h->method.p >= lo && h->target.p + h->target.len <= hi);
		CHECK(h->meth != HTTP_M_CONNECT);
		CHECK(h->version_minor == 0 || h->host.len > 0);
		if (h->host.len > 0)
			CHECK(h->host.p >= lo && h->host.p + h->host.len <= hi);
	}
}

static void
check_error(const struct http_error *err, size_t len, bool response)
{
	CHECK(err->reason != NULL);
	CHECK(err->offset <= len);
	if (response)
		CHECK(err->status == 502);
	else
		CHECK(err->status == 400 || err->status == 414 ||
		    err->status == 431 || err->status == 501 ||
		    err->status == 505);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_field fw[NFIELDS], fp[NFIELDS];
	struct http_head hw, hp;
	struct http_error ew, ep;
	const struct http_limits *lim;
	enum http_parse_rc rw, rp;
	enum http_method meth;
	const uint8_t *msg;
	uint32_t seed;
	size_t n, k, step;
	bool response;

	if (size < 1)
		return 0;
	response = data[0] & 1;
	meth = methods[(data[0] >> 1) & 3];
	lim = &limits[(data[0] >> 3) & 1];
	seed = data[0] >> 4;
	msg = data + 1;
	n = size - 1;

	/* whole */
	http_head_init(&hw, fw, NFIELDS);
	rw = parse_copy(msg, n, &hw, response, meth, lim, &ew, true);

	/* in pieces, resuming on the same head */
	http_head_init(&hp, fp, NFIELDS);
	rp = HTTP_PARSE_AGAIN;
	for (k = 0; k < n && rp == HTTP_PARSE_AGAIN;) {
		seed = seed * 1103515245u + 12345u;
		step = seed >> 28 == 0 ? 1 : (seed >> 20) % 97 + 1;
		k = k + step < n ? k + step : n;
		rp = parse_copy(msg, k, &hp, response, meth, lim, &ep, true);
	}
	if (n == 0)
		rp = parse_copy(msg, 0, &hp, response, meth, lim, &ep, true);

	/*
	 * Same verdict. (The status of an error may differ: a prefix that
	 * is over the size limit is judged on the bytes it has.)
	 */
	CHECK(rw == rp);
	if (rw == HTTP_PARSE_DONE) {
		CHECK(hw.head_len == hp.head_len);
		CHECK(hw.framing == hp.framing);
		CHECK(hw.content_length == hp.content_length);
		CHECK(hw.flags == hp.flags);
		CHECK(hw.nfields == hp.nfields);
		CHECK(hw.status == hp.status);
		CHECK(hw.meth == hp.meth);
	}
	return 0;
}
