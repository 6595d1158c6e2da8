/*
 * http_body: resumable body framing for Content-Length, chunked and
 * close-delimited bodies.
 *
 * Content-Length and close-delimited bodies are a counter. Chunked bodies
 * are a byte-at-a-time state machine over the framing bytes (size line,
 * extensions, CRLFs, trailers) and a single run over the data, so the data
 * is never looked at, only pointed at. Everything in the framing is
 * validated to the letter of RFC 9112 7.1 and then dropped: the caller
 * re-frames the data it is handed, so no odd chunk line we accept can reach
 * a peer that would read it differently. Strictness is still the point:
 * bare LF in a chunk line, BWS before the size, a chunk longer than its
 * size, an unterminated quoted extension are all known smuggling vectors
 * (reliability-anchors R28-R36), and a hop that reframes is still a hop
 * that has to agree with the one in front of it on where the body ends.
 */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/http_body.h"

/*
 * Sub-phases of the chunk-extension and trailer-line states. They live in
 * b->digits, which is free once the chunk size has been read (the size is
 * complete when the first byte after it arrives), so the public state enum
 * stays as declared.
 */
enum ext_phase {
	EXT_PRE_NAME = 0, /* after ';': BWS, then a token */
	EXT_NAME,	  /* in the extension name */
	EXT_POST_NAME,	  /* BWS after the name: '=', ';' or CR */
	EXT_PRE_VAL,	  /* after '=': BWS, then token or quoted-string */
	EXT_VAL,	  /* in a token value */
};

enum trailer_phase {
	TRL_NAME = 0, /* in the field name */
	TRL_VALUE,    /* after the colon */
};

#define BODY_BIT(s) (1u << (s))

#ifndef NDEBUG
/* Legal transitions, checked in debug builds by body_set_state(). */
static const uint32_t body_next[HTTP_BODY_S_ERROR + 1] = {
	[HTTP_BODY_S_LENGTH] = BODY_BIT(HTTP_BODY_S_DONE),
	[HTTP_BODY_S_CHUNK_SIZE] = BODY_BIT(HTTP_BODY_S_CHUNK_SIZE_WS) |
	    BODY_BIT(HTTP_BODY_S_CHUNK_EXT) |
	    BODY_BIT(HTTP_BODY_S_CHUNK_SIZE_LF) | BODY_BIT(HTTP_BODY_S_ERROR),
	[HTTP_BODY_S_CHUNK_EXT] = BODY_BIT(HTTP_BODY_S_CHUNK_EXT_QUOTED) |
	    BODY_BIT(HTTP_BODY_S_CHUNK_SIZE_WS) |
	    BODY_BIT(HTTP_BODY_S_CHUNK_SIZE_LF) | BODY_BIT(HTTP_BODY_S_ERROR),
	[HTTP_BODY_S_CHUNK_EXT_QUOTED] =
	    BODY_BIT(HTTP_BODY_S_CHUNK_EXT_QUOTED_ESC) |
	    BODY_BIT(HTTP_BODY_S_CHUNK_SIZE_WS) | BODY_BIT(HTTP_BODY_S_ERROR),
	[HTTP_BODY_S_CHUNK_EXT_QUOTED_ESC] =
	    BODY_BIT(HTTP_BODY_S_CHUNK_EXT_QUOTED) |
	    BODY_BIT(HTTP_BODY_S_ERROR),
	[HTTP_BODY_S_CHUNK_SIZE_WS] = BODY_BIT(HTTP_BODY_S_CHUNK_EXT) |
	    BODY_BIT(HTTP_BODY_S_CHUNK_SIZE_LF) | BODY_BIT(HTTP_BODY_S_ERROR),
	[HTTP_BODY_S_CHUNK_SIZE_LF] = BODY_BIT(HTTP_BODY_S_CHUNK_DATA) |
	    BODY_BIT(HTTP_BODY_S_TRAILER_START) | BODY_BIT(HTTP_BODY_S_ERROR),
	[HTTP_BODY_S_CHUNK_DATA] = BODY_BIT(HTTP_BODY_S_CHUNK_DATA_CR),
	[HTTP_BODY_S_CHUNK_DATA_CR] = BODY_BIT(HTTP_BODY_S_CHUNK_DATA_LF) |
	    BODY_BIT(HTTP_BODY_S_ERROR),
	[HTTP_BODY_S_CHUNK_DATA_LF] = BODY_BIT(HTTP_BODY_S_CHUNK_SIZE) |
	    BODY_BIT(HTTP_BODY_S_ERROR),
	[HTTP_BODY_S_TRAILER_START] = BODY_BIT(HTTP_BODY_S_TRAILER_LINE) |
	    BODY_BIT(HTTP_BODY_S_FINAL_LF) | BODY_BIT(HTTP_BODY_S_ERROR),
	[HTTP_BODY_S_TRAILER_LINE] = BODY_BIT(HTTP_BODY_S_TRAILER_LF) |
	    BODY_BIT(HTTP_BODY_S_ERROR),
	[HTTP_BODY_S_TRAILER_LF] = BODY_BIT(HTTP_BODY_S_TRAILER_START) |
	    BODY_BIT(HTTP_BODY_S_ERROR),
	[HTTP_BODY_S_FINAL_LF] = BODY_BIT(HTTP_BODY_S_DONE) |
	    BODY_BIT(HTTP_BODY_S_ERROR),
	[HTTP_BODY_S_CLOSE] = 0,
	[HTTP_BODY_S_DONE] = 0,
	[HTTP_BODY_S_ERROR] = 0,
};
#endif

static void body_set_state(struct http_body *, enum http_body_state);
static int body_fail(struct http_body *, const char *);
static int size_line_byte(struct http_body *, unsigned char);
static int chunk_byte(struct http_body *, unsigned char);

#define CT(c) (http_parse_ctype[(unsigned char)(c)])
#define IS_OWS(c) ((c) == ' ' || (c) == '\t')

void
http_body_init(struct http_body *b, enum http_framing framing,
    uint64_t content_length)
{
	b->remaining = 0;
	b->total = 0;
	b->line_len = 0;
	b->trailer_bytes = 0;
	b->digits = 0;
	b->error = NULL;
	switch (framing) {
	case HTTP_FRAMING_LENGTH:
		/* A length of 0 ends on the first step, with skip 0. */
		b->state = HTTP_BODY_S_LENGTH;
		b->remaining = content_length;
		break;
	case HTTP_FRAMING_CHUNKED:
		b->state = HTTP_BODY_S_CHUNK_SIZE;
		break;
	case HTTP_FRAMING_CLOSE:
		b->state = HTTP_BODY_S_CLOSE;
		break;
	case HTTP_FRAMING_NONE:
	default:
		b->state = HTTP_BODY_S_DONE;
		break;
	}
}

enum http_body_rc
http_body_step(struct http_body *b, const char *buf, size_t len,
    size_t *skip, size_t *data_len)
{
	size_t i, n;

	*skip = 0;
	*data_len = 0;
	switch (b->state) {
	case HTTP_BODY_S_DONE:
		return HTTP_BODY_DONE;
	case HTTP_BODY_S_ERROR:
		return HTTP_BODY_ERROR;
	case HTTP_BODY_S_LENGTH:
		if (b->remaining == 0) {
			body_set_state(b, HTTP_BODY_S_DONE);
			return HTTP_BODY_DONE;
		}
		if (len == 0)
			return HTTP_BODY_AGAIN;
		n = (uint64_t)len < b->remaining ? len : (size_t)b->remaining;
		b->remaining -= n;
		b->total += n;
		*data_len = n;
		/* The next step reports DONE; this one hands out the data. */
		return HTTP_BODY_DATA;
	case HTTP_BODY_S_CLOSE:
		if (len == 0)
			return HTTP_BODY_AGAIN;
		b->total += len;
		*data_len = len;
		return HTTP_BODY_DATA;
	default:
		break;
	}

	for (i = 0; i < len; i++) {
		if (b->state == HTTP_BODY_S_CHUNK_DATA) {
			/* Never hand out more than the chunk holds (R33). */
			n = (uint64_t)(len - i) < b->remaining ?
			    len - i : (size_t)b->remaining;
			b->remaining -= n;
			b->total += n;
			if (b->remaining == 0)
				body_set_state(b, HTTP_BODY_S_CHUNK_DATA_CR);
			*skip = i;
			*data_len = n;
			return HTTP_BODY_DATA;
		}
		if (chunk_byte(b, (unsigned char)buf[i]) == -1) {
			*skip = i;
			return HTTP_BODY_ERROR;
		}
		if (b->state == HTTP_BODY_S_DONE) {
			*skip = i + 1;
			return HTTP_BODY_DONE;
		}
	}
	*skip = len;
	return HTTP_BODY_AGAIN;
}

static void
body_set_state(struct http_body *b, enum http_body_state to)
{
	assert(b->state <= HTTP_BODY_S_ERROR &&
	    (body_next[b->state] & BODY_BIT(to)) != 0);
	b->state = to;
}

static int
body_fail(struct http_body *b, const char *why)
{
	b->error = why;
	body_set_state(b, HTTP_BODY_S_ERROR);
	return -1;
}

/*
 * One framing byte of a chunked body. Returns 0, or -1 with b in ERROR.
 */
static int
chunk_byte(struct http_body *b, unsigned char c)
{
	switch (b->state) {
	case HTTP_BODY_S_CHUNK_SIZE:
	case HTTP_BODY_S_CHUNK_EXT:
	case HTTP_BODY_S_CHUNK_EXT_QUOTED:
	case HTTP_BODY_S_CHUNK_EXT_QUOTED_ESC:
	case HTTP_BODY_S_CHUNK_SIZE_WS:
		/*
		 * Size and extensions are bounded (R34: a 64 KiB extension);
		 * the CR that ends them is not counted.
		 */
		if (c != '\r' && ++b->line_len > HTTP_BODY_MAX_LINE)
			return body_fail(b, "chunk line too long");
		return size_line_byte(b, c);
	case HTTP_BODY_S_CHUNK_SIZE_LF:
		if (c != '\n')
			return body_fail(b, "bare CR in chunk line");
		b->line_len = 0;
		if (b->remaining == 0) {
			b->trailer_bytes = 0;
			body_set_state(b, HTTP_BODY_S_TRAILER_START);
		} else {
			body_set_state(b, HTTP_BODY_S_CHUNK_DATA);
		}
		return 0;
	case HTTP_BODY_S_CHUNK_DATA_CR:
		/* Anything but CRLF: the chunk was longer than its size. */
		if (c != '\r')
			return body_fail(b, "chunk data not followed by CRLF");
		body_set_state(b, HTTP_BODY_S_CHUNK_DATA_LF);
		return 0;
	case HTTP_BODY_S_CHUNK_DATA_LF:
		if (c != '\n')
			return body_fail(b, "chunk data not followed by CRLF");
		b->remaining = 0;
		b->digits = 0;
		b->line_len = 0;
		body_set_state(b, HTTP_BODY_S_CHUNK_SIZE);
		return 0;
	case HTTP_BODY_S_TRAILER_START:
	case HTTP_BODY_S_TRAILER_LINE:
	case HTTP_BODY_S_TRAILER_LF:
	case HTTP_BODY_S_FINAL_LF:
		if (++b->trailer_bytes > HTTP_BODY_MAX_TRAILERS)
			return body_fail(b, "trailer section too large");
		break;
	default:
		return body_fail(b, "chunk decoder misuse");
	}

	/*
	 * Trailers get the header-field rules (RFC 9112 7.1.2): they are
	 * validated so a trailer line cannot end the body early for a hop
	 * that parses it loosely (Puma CVE-2023-40175), then dropped.
	 */
	switch (b->state) {
	case HTTP_BODY_S_TRAILER_START:
		if (c == '\r') {
			body_set_state(b, HTTP_BODY_S_FINAL_LF);
			return 0;
		}
		if (c == '\n')
			return body_fail(b, "bare LF in trailer section");
		if (IS_OWS(c))
			return body_fail(b, "obs-fold in trailer section");
		if (c == ':')
			return body_fail(b, "empty trailer field name");
		if (!(CT(c) & HTTP_CT_TCHAR))
			return body_fail(b, "invalid trailer field name");
		b->digits = TRL_NAME;
		body_set_state(b, HTTP_BODY_S_TRAILER_LINE);
		return 0;
	case HTTP_BODY_S_TRAILER_LINE:
		if (b->digits == TRL_NAME) {
			if (c == ':')
				b->digits = TRL_VALUE;
			else if (!(CT(c) & HTTP_CT_TCHAR))
				return body_fail(b,
				    "invalid trailer field name");
			return 0;
		}
		if (c == '\r') {
			body_set_state(b, HTTP_BODY_S_TRAILER_LF);
			return 0;
		}
		if (!(CT(c) & HTTP_CT_FVCHAR))
			return body_fail(b, "invalid byte in trailer value");
		return 0;
	case HTTP_BODY_S_TRAILER_LF:
		if (c != '\n')
			return body_fail(b, "bare CR in trailer section");
		body_set_state(b, HTTP_BODY_S_TRAILER_START);
		return 0;
	case HTTP_BODY_S_FINAL_LF:
		if (c != '\n')
			return body_fail(b, "bare CR in trailer section");
		body_set_state(b, HTTP_BODY_S_DONE);
		return 0;
	default:
		return body_fail(b, "chunk decoder misuse");
	}
}

/*
 * chunk-size [ chunk-ext ] CRLF, with
 *   chunk-size = 1*HEXDIG
 *   chunk-ext  = *( BWS ";" BWS ext-name [ BWS "=" BWS ext-val ] )
 *   ext-val    = token / quoted-string
 * plus BWS before the CR. No leading whitespace, no sign, no "0x", and the
 * line ends in CRLF only: a bare LF here is read as a line end by some
 * parsers and as extension bytes by others (CVE-2025-22871).
 */
static int
size_line_byte(struct http_body *b, unsigned char c)
{
	int d;

	switch (b->state) {
	case HTTP_BODY_S_CHUNK_SIZE:
		if ((d = http_hex_digit(c)) >= 0) {
			if (b->digits == 16)
				return body_fail(b, "chunk size too long");
			/* Stay below 2^63: no caller can see it negative. */
			if (b->remaining > (UINT64_C(1) << 59) - 1)
				return body_fail(b, "chunk size too large");
			b->remaining = b->remaining << 4 | (uint64_t)d;
			b->digits++;
			return 0;
		}
		if (b->digits == 0)
			return body_fail(b, "invalid chunk size");
		if (IS_OWS(c)) {
			body_set_state(b, HTTP_BODY_S_CHUNK_SIZE_WS);
			return 0;
		}
		if (c == ';') {
			b->digits = EXT_PRE_NAME;
			body_set_state(b, HTTP_BODY_S_CHUNK_EXT);
			return 0;
		}
		if (c == '\r') {
			body_set_state(b, HTTP_BODY_S_CHUNK_SIZE_LF);
			return 0;
		}
		if (c == '\n')
			return body_fail(b, "bare LF in chunk line");
		return body_fail(b, "invalid chunk size");
	case HTTP_BODY_S_CHUNK_SIZE_WS:
		if (IS_OWS(c))
			return 0;
		if (c == ';') {
			b->digits = EXT_PRE_NAME;
			body_set_state(b, HTTP_BODY_S_CHUNK_EXT);
			return 0;
		}
		if (c == '\r') {
			body_set_state(b, HTTP_BODY_S_CHUNK_SIZE_LF);
			return 0;
		}
		if (c == '\n')
			return body_fail(b, "bare LF in chunk line");
		return body_fail(b, "invalid chunk extension");
	case HTTP_BODY_S_CHUNK_EXT:
		break;
	case HTTP_BODY_S_CHUNK_EXT_QUOTED:
		if (c == '"') {
			body_set_state(b, HTTP_BODY_S_CHUNK_SIZE_WS);
			return 0;
		}
		if (c == '\\') {
			body_set_state(b, HTTP_BODY_S_CHUNK_EXT_QUOTED_ESC);
			return 0;
		}
		/* qdtext: no CR, LF, NUL or CTL (R32: "val\nX...). */
		if (!(CT(c) & HTTP_CT_FVCHAR))
			return body_fail(b, "invalid byte in chunk extension");
		return 0;
	case HTTP_BODY_S_CHUNK_EXT_QUOTED_ESC:
		if (!(CT(c) & HTTP_CT_FVCHAR))
			return body_fail(b, "invalid byte in chunk extension");
		body_set_state(b, HTTP_BODY_S_CHUNK_EXT_QUOTED);
		return 0;
	default:
		return body_fail(b, "chunk decoder misuse");
	}

	/* HTTP_BODY_S_CHUNK_EXT, by phase */
	switch (b->digits) {
	case EXT_PRE_NAME:
		if (IS_OWS(c))
			return 0;
		if (CT(c) & HTTP_CT_TCHAR) {
			b->digits = EXT_NAME;
			return 0;
		}
		/* "5;\r\n", "5;\n", "5;\0": R32 */
		return body_fail(b, "invalid chunk extension");
	case EXT_NAME:
	case EXT_POST_NAME:
		if (b->digits == EXT_NAME && (CT(c) & HTTP_CT_TCHAR))
			return 0;
		if (IS_OWS(c)) {
			b->digits = EXT_POST_NAME;
			return 0;
		}
		if (c == '=') {
			b->digits = EXT_PRE_VAL;
			return 0;
		}
		if (c == ';') {
			b->digits = EXT_PRE_NAME;
			return 0;
		}
		if (c == '\r') {
			body_set_state(b, HTTP_BODY_S_CHUNK_SIZE_LF);
			return 0;
		}
		return body_fail(b, c == '\n' ? "bare LF in chunk line" :
						"invalid chunk extension");
	case EXT_PRE_VAL:
		if (IS_OWS(c))
			return 0;
		if (c == '"') {
			body_set_state(b, HTTP_BODY_S_CHUNK_EXT_QUOTED);
			return 0;
		}
		if (CT(c) & HTTP_CT_TCHAR) {
			b->digits = EXT_VAL;
			return 0;
		}
		return body_fail(b, "invalid chunk extension");
	case EXT_VAL:
		if (CT(c) & HTTP_CT_TCHAR)
			return 0;
		if (IS_OWS(c)) {
			body_set_state(b, HTTP_BODY_S_CHUNK_SIZE_WS);
			return 0;
		}
		if (c == ';') {
			b->digits = EXT_PRE_NAME;
			return 0;
		}
		if (c == '\r') {
			body_set_state(b, HTTP_BODY_S_CHUNK_SIZE_LF);
			return 0;
		}
		return body_fail(b, c == '\n' ? "bare LF in chunk line" :
						"invalid chunk extension");
	default:
		return body_fail(b, "chunk decoder misuse");
	}
}
