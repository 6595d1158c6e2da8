/*
 * http_parse: strict, zero-copy HTTP/1.x message-head parser (requests and
 * responses).
 *
 * Contract (shared by both entry points):
 *   - The parser never allocates and never copies. Every span it returns
 *     points into the caller's buffer and is valid while that buffer is.
 *   - The caller owns `struct http_head` and the field array it points at
 *     (`fields`, capacity `max_fields`).
 *   - It is resumable: call it again with the same head and a longer buffer
 *     (same start) after HTTP_PARSE_AGAIN; `scan_pos` remembers how far the
 *     search for the end of the head got, so a byte-at-a-time client costs
 *     linear time, not quadratic.
 *   - Returns HTTP_PARSE_DONE (head->head_len bytes form the head, framing
 *     fields filled in), HTTP_PARSE_AGAIN (need more bytes) or
 *     HTTP_PARSE_ERROR (err filled: the status to answer, the offset and a
 *     short reason). Ambiguity is always an error, never a guess.
 */
#ifndef CUTOVER_HTTP_PARSE_H
#define CUTOVER_HTTP_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct http_span {
	const char *p;
	size_t len;
};

struct http_field {
	struct http_span name;	/* token, as received (case kept) */
	struct http_span value; /* leading/trailing OWS trimmed */
};

enum http_method {
	HTTP_M_OTHER = 0, /* any other token method: forwarded as is */
	HTTP_M_GET,
	HTTP_M_HEAD,
	HTTP_M_POST,
	HTTP_M_PUT,
	HTTP_M_DELETE,
	HTTP_M_OPTIONS,
	HTTP_M_TRACE,
	HTTP_M_PATCH,
	HTTP_M_CONNECT,
};

/* How the body after the head is delimited. */
enum http_framing {
	HTTP_FRAMING_NONE = 0, /* no body */
	HTTP_FRAMING_LENGTH,   /* content_length bytes */
	HTTP_FRAMING_CHUNKED,  /* Transfer-Encoding: chunked */
	HTTP_FRAMING_CLOSE,    /* response only: until the server closes */
};

/* Head flags (bit set in http_head.flags). */
#define HTTP_F_CONN_CLOSE     0x0001u /* Connection: close (or 1.0 without keep-alive) */
#define HTTP_F_CONN_KEEPALIVE 0x0002u /* Connection: keep-alive seen */
#define HTTP_F_CONN_UPGRADE   0x0004u /* "upgrade" listed in Connection */
#define HTTP_F_UPGRADE	      0x0008u /* an Upgrade header is present */
#define HTTP_F_EXPECT_100     0x0010u /* Expect: 100-continue (request) */
#define HTTP_F_HAS_CL	      0x0020u /* a Content-Length header was present */
#define HTTP_F_HAS_TE	      0x0040u /* a Transfer-Encoding header was present */
#define HTTP_F_NO_REUSE	      0x0080u /* response: connection must not be pooled */
#define HTTP_F_ABSOLUTE	      0x0100u /* request target was absolute-form */
#define HTTP_F_ASTERISK	      0x0200u /* request target was "*" (OPTIONS only) */

struct http_limits {
	size_t max_header_bytes; /* request line + fields + final CRLF; beyond: 431 */
	size_t max_target_bytes; /* request target; beyond: 414 */
	size_t max_headers;	 /* field count; beyond: 431 (<= max_fields) */
};

struct http_error {
	int status;	    /* 400, 413, 414, 431, 501, 505 (requests); 502 (responses) */
	size_t offset;	    /* byte offset in the buffer where it went wrong */
	const char *reason; /* static string, e.g. "content-length with transfer-encoding" */
};

/*
 * A parsed head. Zero it (or call http_head_init) before the first call.
 * Owner: the caller (one per message being read); `fields` is the caller's
 * array of `max_fields` entries.
 */
struct http_head {
	/* resume state: bytes already searched for the end of the head */
	size_t scan_pos;

	size_t head_len; /* bytes of the head, including the final empty line */

	/* request line */
	struct http_span method; /* as received */
	enum http_method meth;
	struct http_span target; /* as received */

	/* status line */
	int status;
	struct http_span reason;

	int version_minor; /* 0 or 1 (HTTP/1.2+ is treated as 1.1) */

	struct http_field *fields;
	size_t nfields;
	size_t max_fields;

	/* framing, computed from the fields */
	enum http_framing framing;
	uint64_t content_length; /* when framing == HTTP_FRAMING_LENGTH */
	uint32_t flags;		 /* HTTP_F_* */

	/* request: the Host field value (trimmed); len 0 when absent */
	struct http_span host;
};

enum http_parse_rc {
	HTTP_PARSE_AGAIN = 0,
	HTTP_PARSE_DONE = 1,
	HTTP_PARSE_ERROR = -1,
};

void http_head_init(struct http_head *h, struct http_field *fields,
    size_t max_fields);

/*
 * Parse a request head. Beyond the syntax it enforces: a Host on 1.1
 * (exactly one, valid), no CL together with TE, CL = 1*DIGIT and all equal,
 * TE exactly "chunked" (other codings: 501), no TE on HTTP/1.0, no obs-fold,
 * NUL, bare CR or CTL in values, token field names, no space before the
 * colon, origin-form / absolute-form / "*" (OPTIONS) targets only, CONNECT
 * refused (400), versions 1.0/1.1 (1.x > 1 as 1.1, 2+ is 505). Leading empty
 * lines before the request line are skipped. Bare LF line ends are accepted
 * (RFC 9112 2.2) because the head is always re-emitted with CRLF.
 */
enum http_parse_rc http_parse_request(const char *buf, size_t len,
    struct http_head *h, const struct http_limits *lim,
    struct http_error *err);

/*
 * Parse a response head. `request_meth` decides bodyless framing (HEAD), as
 * do 1xx, 204 and 304. CL+TE: TE wins and HTTP_F_NO_REUSE is set. Differing
 * or invalid CL, invalid TE, obs-fold: error (status 502).
 */
enum http_parse_rc http_parse_response(const char *buf, size_t len,
    struct http_head *h, enum http_method request_meth,
    const struct http_limits *lim, struct http_error *err);

/* Case-insensitive compare of a span with a NUL-terminated ASCII string. */
bool http_span_ieq(struct http_span s, const char *lit);

/* First field named `name` (case-insensitive), or NULL. */
const struct http_field *http_head_find(const struct http_head *h,
    const char *name);

/* Number of fields named `name`. */
size_t http_head_count(const struct http_head *h, const char *name);

/*
 * True when the Connection field(s) of `h` list `name` as a token
 * (case-insensitive), so that header is hop-by-hop for this message.
 */
bool http_head_connection_lists(const struct http_head *h,
    struct http_span name);

/* Method enum for a token (HTTP_M_OTHER when not a known one). */
enum http_method http_method_from_span(struct http_span s);

/* Idempotent per RFC 9110 9.2.2 (GET HEAD OPTIONS PUT DELETE TRACE). */
bool http_method_idempotent(enum http_method m);

/* The value of hex digit c (either case), or -1 (percent-encoding, chunk sizes). */
static inline int
http_hex_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Byte classes shared by the head parser and the chunked decoder (one
 * 256-entry table, so the hot loops cost one load and one test per byte).
 */
#define HTTP_CT_TCHAR  0x01u /* tchar (RFC 9110 5.6.2) */
#define HTTP_CT_FVCHAR 0x02u /* field-value byte: HTAB SP VCHAR obs-text */
#define HTTP_CT_TARGET 0x04u /* request-target byte: visible ASCII 0x21-0x7E */
#define HTTP_CT_HOST   0x08u /* reg-name / IPv4: unreserved sub-delims '%' */
#define HTTP_CT_IPLIT  0x10u /* inside "[...]": unreserved sub-delims ':' */
#define HTTP_CT_DIGIT  0x20u
#define HTTP_CT_HEX    0x40u
#define HTTP_CT_OWS    0x80u /* SP HTAB */

extern const uint8_t http_parse_ctype[256];

#endif /* CUTOVER_HTTP_PARSE_H */
