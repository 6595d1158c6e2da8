/*
 * http_parse: strict, zero-copy HTTP/1.x message-head parser.
 *
 * Two phases. First the end of the head is found: a memchr for '\n' from
 * h->scan_pos, looking for "\n\n" or "\n\r\n". Nothing else is looked at
 * until the head is complete, so a client that sends one byte at a time
 * costs one memchr step per byte, not a re-parse. Then one pass over the
 * complete head validates the start line and every field line, records the
 * fields and folds the framing fields (Content-Length, Transfer-Encoding,
 * Host, Connection, Upgrade, Expect) into the http_head as it goes.
 *
 * The parser is deliberately strict. cutover sits in front of servers whose
 * parsers we do not know; every byte that two parsers could read two ways
 * (a space before a colon, a folded line, a bare CR, a second
 * Content-Length, an odd Transfer-Encoding list) is a request-smuggling
 * lever, so we reject rather than normalise. The one leniency is bare LF
 * line ends: cutover never forwards the head as received, it re-emits
 * every line with CRLF, so accepting LF cannot desynchronise anyone.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cutover/http_parse.h"

/*
 * Empty lines skipped before a request line. RFC 9112 2.2 asks for at least
 * one (old clients sent CRLF after a POST body). They are re-counted on each
 * call, so a bound keeps resumption constant-time per call.
 */
#define HTTP_PARSE_MAX_EMPTY_LINES 8

/* Used when the caller passes no limits (tests, fuzzers). */
static const struct http_limits http_parse_default_limits = {
	.max_header_bytes = 32768,
	.max_target_bytes = 8192,
	.max_headers = 100,
};

/* What the field pass learned about Transfer-Encoding, over all fields. */
struct te_summary {
	unsigned n;	     /* transfer-codings listed */
	unsigned chunked;    /* of which are named "chunked" */
	bool last_chunked;   /* the final coding is named "chunked" */
	bool chunked_params; /* a "chunked" coding carried parameters */
	bool other;	     /* a coding other than "chunked" is listed */
};

/* State of the single pass over a complete head; lives on the stack. */
struct head_scan {
	const char *buf;
	size_t end; /* the head is buf[0, end); buf[end - 1] == '\n' */
	struct http_head *h;
	struct http_error *err;
	size_t maxf;   /* field limit: min(max_headers, max_fields) */
	int estatus;   /* status for syntax errors: 400 or 502 */
	int lstatus;   /* status for limits: 431 or 502 */
	bool request;
	unsigned ncl;	/* Content-Length fields */
	unsigned nte;	/* Transfer-Encoding fields */
	unsigned nhost; /* Host fields */
	uint64_t cl;	/* the (single) Content-Length value */
	size_t cl_off;
	size_t te_off;
	struct te_summary te;
};

static enum http_parse_rc parse_fail(struct http_error *, int, size_t,
    const char *);
static enum http_parse_rc head_find(const char *, size_t, struct http_head *,
    const struct http_limits *, bool, size_t *, struct http_error *);
static enum http_parse_rc head_too_big(const char *, size_t, size_t,
    const struct http_limits *, bool, struct http_error *);
static void head_reset(struct http_head *);
static void head_scan_start(struct head_scan *, const char *,
    struct http_head *, const struct http_limits *, struct http_error *, bool);
static int version_parse(const char *, size_t *, int *, int *);
static int line_end(const char *, size_t *);
static enum http_parse_rc request_line(struct head_scan *, size_t *,
    const struct http_limits *);
static const char *request_target(struct head_scan *);
static const char *absolute_form(const char *, size_t);
static enum http_parse_rc status_line(struct head_scan *, size_t *);
static enum http_parse_rc fields_parse(struct head_scan *, size_t);
static const char *field_name_error(const char *, size_t, size_t);
static int field_apply(struct head_scan *, const struct http_field *,
    size_t);
static const char *cl_parse(struct http_span, uint64_t *);
static const char *te_parse(struct http_span, struct te_summary *);
static const char *conn_parse(struct head_scan *, struct http_span);
static size_t quoted_end(const char *, size_t, size_t);
static bool host_valid(const char *, size_t);
static bool list_next(struct http_span, size_t *, struct http_span *);
static bool name_is(struct http_span, const char *, size_t);
static bool span_ieq_span(struct http_span, struct http_span);
static bool token_only(struct http_span);
static size_t skip_fvchar(const char *, size_t, size_t);
static size_t skip_target(const char *, size_t, size_t);
static unsigned char lower(unsigned char);
static struct http_span span_make(const char *, size_t);

/*
 * The byte-class table is built by the compiler from the RFC grammar, so
 * it is read-only data and each entry can be checked against the macro
 * that made it.
 */
#define CT_ALPHA(c) (((c) >= 'a' && (c) <= 'z') || ((c) >= 'A' && (c) <= 'Z'))
#define CT_ISDIGIT(c) ((c) >= '0' && (c) <= '9')
#define CT_ISHEX(c)                                                        \
	(CT_ISDIGIT(c) || ((c) >= 'a' && (c) <= 'f') ||                    \
	    ((c) >= 'A' && (c) <= 'F'))
#define CT_UNRESERVED(c)                                                   \
	(CT_ALPHA(c) || CT_ISDIGIT(c) || (c) == '-' || (c) == '.' ||       \
	    (c) == '_' || (c) == '~')
#define CT_SUBDELIM(c)                                                     \
	((c) == '!' || (c) == '$' || (c) == '&' || (c) == '\'' ||          \
	    (c) == '(' || (c) == ')' || (c) == '*' || (c) == '+' ||        \
	    (c) == ',' || (c) == ';' || (c) == '=')
#define CT_ISTCHAR(c)                                                      \
	(CT_ALPHA(c) || CT_ISDIGIT(c) || (c) == '!' || (c) == '#' ||       \
	    (c) == '$' || (c) == '%' || (c) == '&' || (c) == '\'' ||       \
	    (c) == '*' || (c) == '+' || (c) == '-' || (c) == '.' ||        \
	    (c) == '^' || (c) == '_' || (c) == '`' || (c) == '|' ||        \
	    (c) == '~')
#define CT_ISFV(c) ((c) == '\t' || ((c) >= 0x20 && (c) != 0x7f))
#define CT_CLASS(c)                                                        \
	((uint8_t)((CT_ISTCHAR(c) ? HTTP_CT_TCHAR : 0) |                   \
	    (CT_ISFV(c) ? HTTP_CT_FVCHAR : 0) |                            \
	    ((c) >= 0x21 && (c) <= 0x7e ? HTTP_CT_TARGET : 0) |            \
	    (CT_UNRESERVED(c) || CT_SUBDELIM(c) || (c) == '%' ?            \
		    HTTP_CT_HOST :                                         \
		    0) |                                                   \
	    (CT_UNRESERVED(c) || CT_SUBDELIM(c) || (c) == ':' ?            \
		    HTTP_CT_IPLIT :                                        \
		    0) |                                                   \
	    (CT_ISDIGIT(c) ? HTTP_CT_DIGIT : 0) |                          \
	    (CT_ISHEX(c) ? HTTP_CT_HEX : 0) |                              \
	    ((c) == ' ' || (c) == '\t' ? HTTP_CT_OWS : 0)))
#define CT4(c)                                                             \
	CT_CLASS(c), CT_CLASS((c) + 1), CT_CLASS((c) + 2), CT_CLASS((c) + 3)
#define CT16(c) CT4(c), CT4((c) + 4), CT4((c) + 8), CT4((c) + 12)
#define CT64(c) CT16(c), CT16((c) + 16), CT16((c) + 32), CT16((c) + 48)

const uint8_t http_parse_ctype[256] = {
	CT64(0),
	CT64(64),
	CT64(128),
	CT64(192),
};

#define CT(c) (http_parse_ctype[(unsigned char)(c)])

/*
 * Word-at-a-time tests (Hacker's Delight 6-1; Anderson's bithacks): is any
 * byte of x below n (n <= 128), or equal to zero. Exact as yes/no answers,
 * which is all the fast paths below need; the byte loop then finds which.
 */
#define SWAR_ONES UINT64_C(0x0101010101010101)
#define SWAR_HIGH UINT64_C(0x8080808080808080)
#define SWAR_HASLESS(x, n) (((x) - SWAR_ONES * (n)) & ~(x) & SWAR_HIGH)
#define SWAR_HASZERO(x) (((x) - SWAR_ONES) & ~(x) & SWAR_HIGH)

void
http_head_init(struct http_head *h, struct http_field *fields,
    size_t max_fields)
{
	memset(h, 0, sizeof(*h));
	h->fields = fields;
	h->max_fields = fields != NULL ? max_fields : 0;
}

/*
 * Set up the one-pass scan of a complete head; requests answer 400/431,
 * responses 502.
 */
static void
head_scan_start(struct head_scan *s, const char *buf, struct http_head *h,
    const struct http_limits *lim, struct http_error *err, bool request)
{
	memset(s, 0, sizeof(*s));
	s->buf = buf;
	s->end = h->head_len;
	s->h = h;
	s->err = err;
	s->estatus = request ? 400 : 502;
	s->lstatus = request ? 431 : 502;
	s->request = request;
	s->maxf = lim->max_headers < h->max_fields ? lim->max_headers :
	    h->max_fields;
	head_reset(h);
}

enum http_parse_rc
http_parse_request(const char *buf, size_t len, struct http_head *h,
    const struct http_limits *lim, struct http_error *err)
{
	struct http_error dummy;
	struct head_scan s;
	enum http_parse_rc rc;
	size_t start, pos;

	if (lim == NULL)
		lim = &http_parse_default_limits;
	if (err == NULL)
		err = &dummy;
	rc = head_find(buf, len, h, lim, true, &start, err);
	if (rc != HTTP_PARSE_DONE)
		return rc;

	head_scan_start(&s, buf, h, lim, err, true);

	pos = start;
	if ((rc = request_line(&s, &pos, lim)) != HTTP_PARSE_DONE)
		return rc;
	if ((rc = fields_parse(&s, pos)) != HTTP_PARSE_DONE)
		return rc;

	if (s.nhost == 0 && h->version_minor >= 1)
		return parse_fail(err, 400, 0, "missing host");
	if (s.ncl > 0)
		h->flags |= HTTP_F_HAS_CL;
	if (s.nte > 0) {
		h->flags |= HTTP_F_HAS_TE;
		/*
		 * RFC 9112 6.1 lets a server process CL+TE with TE winning,
		 * but only if the hop in front of it did the same; we cannot
		 * know that, so the ambiguous message is refused (SPEC 3).
		 */
		if (s.ncl > 0)
			return parse_fail(err, 400, s.te_off,
			    "content-length with transfer-encoding");
		/* An HTTP/1.0 hop cannot have framed it with TE (6.1). */
		if (h->version_minor == 0)
			return parse_fail(err, 400, s.te_off,
			    "transfer-encoding on HTTP/1.0");
		if (s.te.chunked > 1)
			return parse_fail(err, 400, s.te_off,
			    "chunked applied more than once");
		/* 6.3 item 4: without a final chunked the length is unknown. */
		if (!s.te.last_chunked)
			return parse_fail(err, 400, s.te_off,
			    "chunked is not the final transfer-coding");
		/* Well framed, but a coding we would have to decode: 6.1. */
		if (s.te.other || s.te.chunked_params)
			return parse_fail(err, 501, s.te_off,
			    "unsupported transfer-coding");
		h->framing = HTTP_FRAMING_CHUNKED;
	} else if (s.ncl > 0) {
		h->framing = HTTP_FRAMING_LENGTH;
		h->content_length = s.cl;
	}
	if (h->version_minor == 0 && !(h->flags & HTTP_F_CONN_KEEPALIVE))
		h->flags |= HTTP_F_CONN_CLOSE;
	return HTTP_PARSE_DONE;
}

enum http_parse_rc
http_parse_response(const char *buf, size_t len, struct http_head *h,
    enum http_method request_meth, const struct http_limits *lim,
    struct http_error *err)
{
	struct http_error dummy;
	struct head_scan s;
	enum http_parse_rc rc;
	size_t start, pos;
	bool bodyless;

	if (lim == NULL)
		lim = &http_parse_default_limits;
	if (err == NULL)
		err = &dummy;
	rc = head_find(buf, len, h, lim, false, &start, err);
	if (rc != HTTP_PARSE_DONE)
		return rc;

	head_scan_start(&s, buf, h, lim, err, false);

	pos = start;
	if ((rc = status_line(&s, &pos)) != HTTP_PARSE_DONE)
		return rc;
	if ((rc = fields_parse(&s, pos)) != HTTP_PARSE_DONE)
		return rc;

	if (h->version_minor == 0 && !(h->flags & HTTP_F_CONN_KEEPALIVE))
		h->flags |= HTTP_F_CONN_CLOSE;
	if (s.ncl > 0)
		h->flags |= HTTP_F_HAS_CL;
	if (s.nte > 0)
		h->flags |= HTTP_F_HAS_TE;
	/* Two chunked codings cannot be undone by anyone: broken server. */
	if (s.te.chunked > 1)
		return parse_fail(err, 502, s.te_off,
		    "chunked applied more than once");

	/* RFC 9112 6.3 items 1-2: these never have a body, whatever it says. */
	bodyless = request_meth == HTTP_M_HEAD || h->status < 200 ||
	    h->status == 204 || h->status == 304;
	if (bodyless) {
		h->framing = HTTP_FRAMING_NONE;
	} else if (s.nte > 0) {
		if (!s.te.last_chunked) {
			/* 6.3 item 4: a response then runs until close. */
			h->framing = HTTP_FRAMING_CLOSE;
			h->flags |= HTTP_F_NO_REUSE;
		} else if (s.te.chunked_params) {
			/* 7.1: chunked defines no parameters; an error. */
			return parse_fail(err, 502, s.te_off,
			    "parameters on chunked");
		} else {
			h->framing = HTTP_FRAMING_CHUNKED;
		}
		/*
		 * 6.3 item 3: TE overrides CL, but the message was built by
		 * something confused; do not trust what follows it.
		 */
		if (s.ncl > 0)
			h->flags |= HTTP_F_NO_REUSE;
		/* 6.1: TE in an HTTP/1.0 message is faulty framing: close. */
		if (h->version_minor == 0)
			h->flags |= HTTP_F_NO_REUSE;
	} else if (s.ncl > 0) {
		h->framing = HTTP_FRAMING_LENGTH;
		h->content_length = s.cl;
	} else {
		h->framing = HTTP_FRAMING_CLOSE;
		h->flags |= HTTP_F_NO_REUSE;
	}
	if (h->flags & HTTP_F_CONN_CLOSE)
		h->flags |= HTTP_F_NO_REUSE;
	return HTTP_PARSE_DONE;
}

bool
http_span_ieq(struct http_span s, const char *lit)
{
	size_t i, n;

	n = strlen(lit);
	if (s.len != n)
		return false;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)s.p[i]) !=
		    lower((unsigned char)lit[i]))
			return false;
	return true;
}

const struct http_field *
http_head_find(const struct http_head *h, const char *name)
{
	size_t i;

	for (i = 0; i < h->nfields; i++)
		if (http_span_ieq(h->fields[i].name, name))
			return &h->fields[i];
	return NULL;
}

size_t
http_head_count(const struct http_head *h, const char *name)
{
	size_t i, n = 0;

	for (i = 0; i < h->nfields; i++)
		if (http_span_ieq(h->fields[i].name, name))
			n++;
	return n;
}

bool
http_head_connection_lists(const struct http_head *h, struct http_span name)
{
	struct http_span elem;
	size_t i, pos;

	for (i = 0; i < h->nfields; i++) {
		if (!http_span_ieq(h->fields[i].name, "connection"))
			continue;
		pos = 0;
		while (list_next(h->fields[i].value, &pos, &elem))
			if (elem.len > 0 && span_ieq_span(elem, name))
				return true;
	}
	return false;
}

enum http_method
http_method_from_span(struct http_span s)
{
	/* Methods are case-sensitive (RFC 9110 9.1): "get" is not GET. */
#define METH_IS(lit) (s.len == sizeof(lit) - 1 && memcmp(s.p, lit, s.len) == 0)
	switch (s.len) {
	case 3:
		if (METH_IS("GET"))
			return HTTP_M_GET;
		if (METH_IS("PUT"))
			return HTTP_M_PUT;
		break;
	case 4:
		if (METH_IS("HEAD"))
			return HTTP_M_HEAD;
		if (METH_IS("POST"))
			return HTTP_M_POST;
		break;
	case 5:
		if (METH_IS("TRACE"))
			return HTTP_M_TRACE;
		if (METH_IS("PATCH"))
			return HTTP_M_PATCH;
		break;
	case 6:
		if (METH_IS("DELETE"))
			return HTTP_M_DELETE;
		break;
	case 7:
		if (METH_IS("OPTIONS"))
			return HTTP_M_OPTIONS;
		if (METH_IS("CONNECT"))
			return HTTP_M_CONNECT;
		break;
	default:
		break;
	}
#undef METH_IS
	return HTTP_M_OTHER;
}

bool
http_method_idempotent(enum http_method m)
{
	switch (m) {
	case HTTP_M_GET:
	case HTTP_M_HEAD:
	case HTTP_M_OPTIONS:
	case HTTP_M_PUT:
	case HTTP_M_DELETE:
	case HTTP_M_TRACE:
		return true;
	default:
		return false;
	}
}

static enum http_parse_rc
parse_fail(struct http_error *err, int status, size_t off, const char *reason)
{
	err->status = status;
	err->offset = off;
	err->reason = reason;
	return HTTP_PARSE_ERROR;
}

/*
 * Find the end of the head in buf[0, len). On DONE, h->head_len is the end
 * and *startp the offset of the start line (after skipped empty lines).
 * h->scan_pos is left at the first '\n' not yet known to be followed by a
 * non-empty line, so the next call resumes there.
 */
static enum http_parse_rc
head_find(const char *buf, size_t len, struct http_head *h,
    const struct http_limits *lim, bool request, size_t *startp,
    struct http_error *err)
{
	const char *nl;
	size_t start = 0, pos, i, end, n;
	unsigned lines = 0;

	if (request) {
		while (start < len) {
			if (buf[start] == '\n') {
				start++;
			} else if (buf[start] == '\r') {
				if (start + 1 == len) {
					h->scan_pos = start;
					return HTTP_PARSE_AGAIN;
				}
				if (buf[start + 1] != '\n')
					return parse_fail(err, 400, start,
					    "bare CR");
				start += 2;
			} else {
				break;
			}
			if (++lines > HTTP_PARSE_MAX_EMPTY_LINES)
				return parse_fail(err, 400, start,
				    "too many empty lines before request");
		}
		if (start == len) {
			/* the head cannot end before its first line */
			h->scan_pos = start;
			return HTTP_PARSE_AGAIN;
		}
		/*
		 * Refuse garbage (a TLS hello on the plain port) at its first
		 * byte instead of waiting for a head that never ends.
		 */
		if (!(CT(buf[start]) & HTTP_CT_TCHAR))
			return parse_fail(err, 400, start, "invalid method");
	} else {
		n = len < 5 ? len : 5;
		if (memcmp(buf, "HTTP/", n) != 0)
			return parse_fail(err, 502, 0,
			    "not an HTTP/1 response");
	}

	pos = h->scan_pos;
	if (pos < start || pos > len)
		pos = start;
	while (pos < len) {
		nl = memchr(buf + pos, '\n', len - pos);
		if (nl == NULL) {
			pos = len;
			break;
		}
		i = (size_t)(nl - buf);
		if (i + 1 == len) {
			pos = i;
			break;
		}
		if (buf[i + 1] == '\n') {
			end = i + 2;
			goto found;
		}
		if (buf[i + 1] == '\r') {
			if (i + 2 == len) {
				pos = i;
				break;
			}
			if (buf[i + 2] == '\n') {
				end = i + 3;
				goto found;
			}
		}
		pos = i + 1;
	}
	h->scan_pos = pos;
	if (len > lim->max_header_bytes)
		return head_too_big(buf, len, start, lim, request, err);
	return HTTP_PARSE_AGAIN;

found:
	h->scan_pos = end;
	if (end > lim->max_header_bytes)
		return head_too_big(buf, end, start, lim, request, err);
	h->head_len = end;
	*startp = start;
	return HTTP_PARSE_DONE;
}

/*
 * The head outgrew max_header_bytes. RFC 9112 3 wants 414 when it is the
 * request-target that is too long, so look at the (possibly unfinished)
 * request line before answering 431. Error path only: one linear scan.
 */
static enum http_parse_rc
head_too_big(const char *buf, size_t n, size_t start,
    const struct http_limits *lim, bool request, struct http_error *err)
{
	size_t p = start, t;

	if (!request)
		return parse_fail(err, 502, n, "response head too large");
	while (p < n && (CT(buf[p]) & HTTP_CT_TCHAR))
		p++;
	if (p < n && buf[p] == ' ') {
		t = ++p;
		while (p < n && (CT(buf[p]) & HTTP_CT_TARGET))
			p++;
		if (p - t > lim->max_target_bytes)
			return parse_fail(err, 414, t,
			    "request-target too long");
	}
	return parse_fail(err, 431, n, "header section too large");
}

static void
head_reset(struct http_head *h)
{
	h->method = span_make(NULL, 0);
	h->meth = HTTP_M_OTHER;
	h->target = span_make(NULL, 0);
	h->status = 0;
	h->reason = span_make(NULL, 0);
	h->version_minor = 0;
	h->nfields = 0;
	h->framing = HTTP_FRAMING_NONE;
	h->content_length = 0;
	h->flags = 0;
	h->host = span_make(NULL, 0);
}

/*
 * "HTTP/" DIGIT "." DIGIT at b + *pp. Each byte is tested in turn, so the
 * scan stops at the line's '\n' at the latest and never leaves the head.
 */
static int
version_parse(const char *b, size_t *pp, int *major, int *minor)
{
	size_t p = *pp;

	if (b[p] != 'H' || b[p + 1] != 'T' || b[p + 2] != 'T' ||
	    b[p + 3] != 'P' || b[p + 4] != '/' ||
	    !(CT(b[p + 5]) & HTTP_CT_DIGIT) || b[p + 6] != '.' ||
	    !(CT(b[p + 7]) & HTTP_CT_DIGIT))
		return -1;
	*major = b[p + 5] - '0';
	*minor = b[p + 7] - '0';
	*pp = p + 8;
	return 0;
}

/* CRLF or LF at b + *pp. A CR is never the last byte of the head. */
static int
line_end(const char *b, size_t *pp)
{
	size_t p = *pp;

	if (b[p] == '\n') {
		*pp = p + 1;
		return 0;
	}
	if (b[p] == '\r' && b[p + 1] == '\n') {
		*pp = p + 2;
		return 0;
	}
	return -1;
}

static enum http_parse_rc
request_line(struct head_scan *s, size_t *posp, const struct http_limits *lim)
{
	struct http_head *h = s->h;
	const char *b = s->buf;
	const char *why;
	size_t p = *posp, m0, t0, tlen;
	int major, minor;

	m0 = p;
	while (CT(b[p]) & HTTP_CT_TCHAR)
		p++;
	if (p == m0 || b[p] != ' ')
		return parse_fail(s->err, 400, p, "invalid method");
	h->method = span_make(b + m0, p - m0);

	t0 = ++p;
	p = skip_target(b, p, s->end);
	tlen = p - t0;
	if (b[p] != ' ') {
		if (b[p] == '\r' || b[p] == '\n')
			return parse_fail(s->err, 400, p,
			    "missing HTTP version");
		return parse_fail(s->err, 400, p, "invalid request-target");
	}
	if (tlen == 0)
		return parse_fail(s->err, 400, p, "invalid request-target");
	if (tlen > lim->max_target_bytes)
		return parse_fail(s->err, 414, t0, "request-target too long");
	h->target = span_make(b + t0, tlen);

	p++;
	if (version_parse(b, &p, &major, &minor) == -1 ||
	    line_end(b, &p) == -1)
		return parse_fail(s->err, 400, p, "invalid HTTP version");
	/* RFC 9110 2.5: a higher minor is processed as the highest we know. */
	if (major != 1)
		return parse_fail(s->err, 505, t0 + tlen + 1,
		    "HTTP version not supported");
	h->version_minor = minor >= 1 ? 1 : 0;
	h->meth = http_method_from_span(h->method);

	if ((why = request_target(s)) != NULL)
		return parse_fail(s->err, 400, t0, why);
	*posp = p;
	return HTTP_PARSE_DONE;
}

/* Check the request-target form; NULL when acceptable. */
static const char *
request_target(struct head_scan *s)
{
	struct http_head *h = s->h;
	const char *t = h->target.p;
	const char *why;
	size_t n = h->target.len;

	/* A reverse proxy has no business opening tunnels for clients. */
	if (h->meth == HTTP_M_CONNECT)
		return "CONNECT is not supported";
	if (t[0] == '/') {
		/*
		 * Fragments are never sent (RFC 9110 4.2.4); a '#' that
		 * reaches a path matcher splits routing from the upstream.
		 */
		if (memchr(t, '#', n) != NULL)
			return "fragment in request-target";
		return NULL;
	}
	if (n == 1 && t[0] == '*') {
		if (h->meth != HTTP_M_OPTIONS)
			return "asterisk-form outside OPTIONS";
		h->flags |= HTTP_F_ASTERISK;
		return NULL;
	}
	if ((why = absolute_form(t, n)) != NULL)
		return why;
	h->flags |= HTTP_F_ABSOLUTE;
	return NULL;
}

/*
 * absolute-form limited to http and https with a plain host[:port]
 * authority: userinfo ("a@b") is refused because it makes the authority
 * read differently to different parsers. NULL when acceptable.
 */
static const char *
absolute_form(const char *t, size_t n)
{
	size_t i, a0;

	if (n >= 7 && lower((unsigned char)t[0]) == 'h' &&
	    lower((unsigned char)t[1]) == 't' &&
	    lower((unsigned char)t[2]) == 't' &&
	    lower((unsigned char)t[3]) == 'p') {
		i = 4;
		if (lower((unsigned char)t[i]) == 's')
			i++;
		if (i + 3 > n || t[i] != ':' || t[i + 1] != '/' ||
		    t[i + 2] != '/')
			return "invalid request-target";
		a0 = i + 3;
	} else {
		return "invalid request-target";
	}
	if (memchr(t, '#', n) != NULL)
		return "fragment in request-target";
	for (i = a0; i < n && t[i] != '/' && t[i] != '?'; i++)
		;
	if (!host_valid(t + a0, i - a0))
		return "invalid authority in request-target";
	return NULL;
}

static enum http_parse_rc
status_line(struct head_scan *s, size_t *posp)
{
	struct http_head *h = s->h;
	const char *b = s->buf;
	size_t p = *posp, r0;
	int major, minor;

	if (version_parse(b, &p, &major, &minor) == -1)
		return parse_fail(s->err, 502, p, "invalid status line");
	if (major != 1)
		return parse_fail(s->err, 502, p, "unsupported HTTP version");
	h->version_minor = minor >= 1 ? 1 : 0;
	if (b[p] != ' ' || !(CT(b[p + 1]) & HTTP_CT_DIGIT) ||
	    !(CT(b[p + 2]) & HTTP_CT_DIGIT) ||
	    !(CT(b[p + 3]) & HTTP_CT_DIGIT))
		return parse_fail(s->err, 502, p, "invalid status code");
	h->status = (b[p + 1] - '0') * 100 + (b[p + 2] - '0') * 10 +
	    (b[p + 3] - '0');
	p += 4;
	r0 = p;
	if (b[p] == ' ') {
		r0 = ++p;
		while (CT(b[p]) & HTTP_CT_FVCHAR)
			p++;
	}
	h->reason = span_make(b + r0, p - r0);
	if (line_end(b, &p) == -1)
		return parse_fail(s->err, 502, p, "invalid status line");
	if (h->status < 100 || h->status > 599)
		return parse_fail(s->err, 502, r0, "invalid status code");
	*posp = p;
	return HTTP_PARSE_DONE;
}

/*
 * The field lines from `pos` to the empty line that ends the head. The
 * hot loop of the parser: two table-driven runs per line (name, value).
 */
static enum http_parse_rc
fields_parse(struct head_scan *s, size_t pos)
{
	struct http_head *h = s->h;
	struct http_field *f;
	const char *b = s->buf;
	size_t p = pos, n0, nend, v0, v1, ls;
	unsigned char c;

	for (;;) {
		ls = p;
		c = (unsigned char)b[p];
		if (c == '\n' || (c == '\r' && b[p + 1] == '\n')) {
			p += c == '\n' ? 1 : 2;
			break;
		}
		if (c == ' ' || c == '\t') {
			/*
			 * obs-fold (RFC 9112 5.2) or a space before the first
			 * field (2.2): another parser would glue this line to
			 * the one before, so we cannot know what it means.
			 */
			return parse_fail(s->err, s->estatus, p,
			    h->nfields == 0 ? "whitespace before first field" :
					      "obs-fold");
		}
		n0 = p;
		while (CT(b[p]) & HTTP_CT_TCHAR)
			p++;
		nend = p;
		if (p == n0 || b[p] != ':')
			return parse_fail(s->err, s->estatus, p,
			    field_name_error(b, n0, p));
		p++;
		while (CT(b[p]) & HTTP_CT_OWS)
			p++;
		v0 = p;
		p = skip_fvchar(b, p, s->end);
		v1 = p;
		if (line_end(b, &p) == -1) {
			/* NUL, bare CR, other CTLs: RFC 9110 5.5. */
			return parse_fail(s->err, s->estatus, v1,
			    b[v1] == '\r' ? "bare CR" :
					    "invalid byte in field value");
		}
		while (v1 > v0 && (CT(b[v1 - 1]) & HTTP_CT_OWS))
			v1--;
		if (h->nfields >= s->maxf)
			return parse_fail(s->err, s->lstatus, ls,
			    "too many header fields");
		f = &h->fields[h->nfields++];
		f->name = span_make(b + n0, nend - n0);
		f->value = span_make(b + v0, v1 - v0);
		if (field_apply(s, f, ls) == -1)
			return HTTP_PARSE_ERROR;
	}
	if (p != s->end)
		return parse_fail(s->err, s->estatus, p, "head end mismatch");
	return HTTP_PARSE_DONE;
}

/* Why the field name running from n0 to p (not a colon) is refused. */
static const char *
field_name_error(const char *b, size_t n0, size_t p)
{
	if (p == n0 && b[p] == ':')
		return "empty field name";
	if (b[p] == ' ' || b[p] == '\t')
		return "whitespace before colon";
	if (b[p] == '\n' || (b[p] == '\r' && b[p + 1] == '\n'))
		return "field line without colon";
	if (b[p] == '\r')
		return "bare CR";
	return "invalid field name";
}

/*
 * Fold one field into the framing state. Names are sorted by length first
 * so that most fields cost one switch and no compare.
 */
static int
field_apply(struct head_scan *s, const struct http_field *f, size_t off)
{
	struct http_head *h = s->h;
	const char *why;
	uint64_t v;

	switch (f->name.len) {
	case 4:
		if (!s->request || !name_is(f->name, "host", 4))
			break;
		/* RFC 9112 3.2: MUST 400 on a missing, repeated or bad Host. */
		if (++s->nhost > 1) {
			parse_fail(s->err, 400, off, "duplicate host");
			return -1;
		}
		if (!host_valid(f->value.p, f->value.len)) {
			parse_fail(s->err, 400, off, "invalid host");
			return -1;
		}
		h->host = f->value;
		break;
	case 6:
		if (s->request && name_is(f->name, "expect", 6) &&
		    http_span_ieq(f->value, "100-continue"))
			h->flags |= HTTP_F_EXPECT_100;
		break;
	case 7:
		if (name_is(f->name, "upgrade", 7))
			h->flags |= HTTP_F_UPGRADE;
		break;
	case 10:
		if (name_is(f->name, "connection", 10) &&
		    (why = conn_parse(s, f->value)) != NULL) {
			parse_fail(s->err, s->estatus, off, why);
			return -1;
		}
		break;
	case 14:
		if (!name_is(f->name, "content-length", 14))
			break;
		if ((why = cl_parse(f->value, &v)) != NULL) {
			parse_fail(s->err, s->estatus, off, why);
			return -1;
		}
		/* RFC 9110 8.6: repeats are fine only when all agree. */
		if (s->ncl++ > 0 && v != s->cl) {
			parse_fail(s->err, s->estatus, off,
			    "differing content-length");
			return -1;
		}
		if (s->ncl == 1)
			s->cl_off = off;
		s->cl = v;
		break;
	case 17:
		if (!name_is(f->name, "transfer-encoding", 17))
			break;
		if (s->nte++ == 0)
			s->te_off = off;
		if ((why = te_parse(f->value, &s->te)) != NULL) {
			parse_fail(s->err, s->estatus, off, why);
			return -1;
		}
		break;
	default:
		break;
	}
	return 0;
}

/*
 * Content-Length = 1*DIGIT (RFC 9110 8.6), also as a list of equal values
 * ("1, 1", which some hops produce when merging fields). No sign, no hex,
 * no non-ASCII digits; leading zeros are decimal (010 is ten).
 */
static const char *
cl_parse(struct http_span value, uint64_t *out)
{
	struct http_span elem;
	uint64_t v, first = 0;
	size_t pos = 0, i;
	bool seen = false;
	unsigned d;

	while (list_next(value, &pos, &elem)) {
		if (elem.len == 0)
			return "invalid content-length";
		v = 0;
		for (i = 0; i < elem.len; i++) {
			if (!(CT(elem.p[i]) & HTTP_CT_DIGIT))
				return "invalid content-length";
			d = (unsigned)(elem.p[i] - '0');
			/* stay below 2^63: no caller can see it negative */
			if (v > ((uint64_t)INT64_MAX - d) / 10)
				return "content-length too large";
			v = v * 10 + d;
		}
		if (seen && v != first)
			return "differing content-length";
		first = v;
		seen = true;
	}
	*out = first;
	return NULL;
}

/*
 * Transfer-Encoding = #transfer-coding, transfer-coding = token
 * *( OWS ";" OWS token BWS "=" BWS ( token / quoted-string ) ). Stricter
 * than RFC 9110 5.6.1 on purpose: empty list elements (",chunked") are
 * refused, because a hop that drops them and a hop that does not see two
 * different lists.
 */
static const char *
te_parse(struct http_span v, struct te_summary *te)
{
	const char *p = v.p;
	size_t n = v.len, i = 0, t0;
	bool chunked, params;

	for (;;) {
		while (i < n && (CT(p[i]) & HTTP_CT_OWS))
			i++;
		if (i == n || p[i] == ',')
			return "empty transfer-coding";
		t0 = i;
		while (i < n && (CT(p[i]) & HTTP_CT_TCHAR))
			i++;
		if (i == t0)
			return "invalid transfer-coding";
		chunked = i - t0 == 7 && name_is(span_make(p + t0, 7),
		    "chunked", 7);
		params = false;
		while (i < n && (CT(p[i]) & HTTP_CT_OWS))
			i++;
		while (i < n && p[i] == ';') {
			i++;
			while (i < n && (CT(p[i]) & HTTP_CT_OWS))
				i++;
			t0 = i;
			while (i < n && (CT(p[i]) & HTTP_CT_TCHAR))
				i++;
			if (i == t0)
				return "invalid transfer-coding";
			while (i < n && (CT(p[i]) & HTTP_CT_OWS))
				i++;
			if (i == n || p[i] != '=')
				return "invalid transfer-coding";
			i++;
			while (i < n && (CT(p[i]) & HTTP_CT_OWS))
				i++;
			if (i < n && p[i] == '"') {
				if ((i = quoted_end(p, n, i)) == 0)
					return "invalid transfer-coding";
			} else {
				t0 = i;
				while (i < n && (CT(p[i]) & HTTP_CT_TCHAR))
					i++;
				if (i == t0)
					return "invalid transfer-coding";
			}
			while (i < n && (CT(p[i]) & HTTP_CT_OWS))
				i++;
			params = true;
		}
		te->n++;
		if (chunked) {
			te->chunked++;
			if (params)
				te->chunked_params = true;
		} else {
			te->other = true;
		}
		te->last_chunked = chunked;
		if (i == n)
			return NULL;
		if (p[i] != ',')
			return "invalid transfer-coding";
		i++;
	}
}

/*
 * The quoted-string opening at p[i]: the offset just past its closing
 * quote, or 0 when it is not closed. The bytes are already field-vchar,
 * so only '"' and '\\' need a look.
 */
static size_t
quoted_end(const char *p, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (p[i] == '"')
			return i + 1;
		if (p[i] == '\\')
			i++;
	}
	return 0;
}

/*
 * Connection = #connection-option. Options must be tokens: the list names
 * the headers a hop removes, and a list two hops split differently removes
 * different headers.
 */
static const char *
conn_parse(struct head_scan *s, struct http_span value)
{
	struct http_span elem;
	size_t pos = 0;

	while (list_next(value, &pos, &elem)) {
		if (elem.len == 0)
			continue;
		if (!token_only(elem))
			return "invalid connection option";
		if (http_span_ieq(elem, "close"))
			s->h->flags |= HTTP_F_CONN_CLOSE;
		else if (http_span_ieq(elem, "keep-alive"))
			s->h->flags |= HTTP_F_CONN_KEEPALIVE;
		else if (http_span_ieq(elem, "upgrade"))
			s->h->flags |= HTTP_F_CONN_UPGRADE;
		else if (s->request &&
		    (http_span_ieq(elem, "content-length") ||
			http_span_ieq(elem, "transfer-encoding") ||
			http_span_ieq(elem, "host")))
			/*
			 * A hop that honours this strips the framing (or the
			 * routing key) but forwards the body: refuse it.
			 */
			return "connection names a framing field";
	}
	return NULL;
}

/*
 * host [ ":" port ] with host = IP-literal / IPv4address / reg-name
 * (RFC 3986 3.2.2). No '@', '/', spaces or empty host: the Host value is a
 * routing key and must mean one thing to every parser.
 */
static bool
host_valid(const char *p, size_t n)
{
	size_t i = 0, d0;
	unsigned port = 0;

	if (n == 0)
		return false;
	if (p[0] == '[') {
		for (i = 1; i < n && p[i] != ']'; i++)
			if (!(CT(p[i]) & HTTP_CT_IPLIT))
				return false;
		if (i == n || i == 1)
			return false;
		i++;
	} else {
		for (; i < n && p[i] != ':'; i++) {
			if (!(CT(p[i]) & HTTP_CT_HOST))
				return false;
			if (p[i] == '%' && (i + 2 >= n ||
			    !(CT(p[i + 1]) & HTTP_CT_HEX) ||
			    !(CT(p[i + 2]) & HTTP_CT_HEX)))
				return false;
		}
		if (i == 0)
			return false;
	}
	if (i == n)
		return true;
	if (p[i] != ':')
		return false;
	d0 = ++i;
	for (; i < n; i++) {
		if (!(CT(p[i]) & HTTP_CT_DIGIT) || i - d0 >= 5)
			return false;
		port = port * 10 + (unsigned)(p[i] - '0');
	}
	return i > d0 && port <= 65535;
}

/*
 * The run of field-value bytes from p. Values are the bulk of a head, so
 * eight plain bytes (0x20-0x7E, 0x80-0xFF) are passed per step; HTAB and
 * the line end drop to the table loop. The head ends in '\n', which stops
 * both loops, and the word loop never reads past `end`.
 */
static size_t
skip_fvchar(const char *b, size_t p, size_t end)
{
	uint64_t w;

	while (end - p >= 8) {
		memcpy(&w, b + p, 8);
		if (SWAR_HASLESS(w, 0x20) |
		    SWAR_HASZERO(w ^ (SWAR_ONES * 0x7f)))
			break;
		p += 8;
	}
	while (CT(b[p]) & HTTP_CT_FVCHAR)
		p++;
	return p;
}

/* The run of request-target bytes (0x21-0x7E) from p; as skip_fvchar. */
static size_t
skip_target(const char *b, size_t p, size_t end)
{
	uint64_t w;

	while (end - p >= 8) {
		memcpy(&w, b + p, 8);
		if (SWAR_HASLESS(w, 0x21) | (w & SWAR_HIGH) |
		    SWAR_HASZERO(w ^ (SWAR_ONES * 0x7f)))
			break;
		p += 8;
	}
	while (CT(b[p]) & HTTP_CT_TARGET)
		p++;
	return p;
}

/*
 * Next element of a comma list, OWS-trimmed (empty elements are returned
 * as such, for the caller to judge). False when the list is exhausted.
 */
static bool
list_next(struct http_span v, size_t *pos, struct http_span *elem)
{
	const char *c;
	size_t s = *pos, e;

	if (s > v.len)
		return false;
	c = s < v.len ? memchr(v.p + s, ',', v.len - s) : NULL;
	e = c != NULL ? (size_t)(c - v.p) : v.len;
	*pos = e + 1;
	while (s < e && (CT(v.p[s]) & HTTP_CT_OWS))
		s++;
	while (e > s && (CT(v.p[e - 1]) & HTTP_CT_OWS))
		e--;
	*elem = span_make(v.p + s, e - s);
	return true;
}

/* Case-insensitive compare of a field name with a lower-case literal. */
static bool
name_is(struct http_span s, const char *lit, size_t n)
{
	size_t i;

	if (s.len != n)
		return false;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)s.p[i]) != (unsigned char)lit[i])
			return false;
	return true;
}

static bool
span_ieq_span(struct http_span a, struct http_span b)
{
	size_t i;

	if (a.len != b.len)
		return false;
	for (i = 0; i < a.len; i++)
		if (lower((unsigned char)a.p[i]) !=
		    lower((unsigned char)b.p[i]))
			return false;
	return true;
}

static bool
token_only(struct http_span s)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (!(CT(s.p[i]) & HTTP_CT_TCHAR))
			return false;
	return true;
}

static unsigned char
lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + ('a' - 'A')) : c;
}

static struct http_span
span_make(const char *p, size_t len)
{
	struct http_span s;

	s.p = p;
	s.len = len;
	return s;
}
