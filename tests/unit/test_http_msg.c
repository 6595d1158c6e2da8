/*
 * test_http_msg: the heads cutover re-emits (http_msg) and the responses it
 * makes itself (http_reply), byte for byte.
 *
 * Each head is written as bytes, copied into a heap buffer of exactly its
 * length (so ASan sees any read past it), parsed by the real parser, and
 * re-emitted into an evbuffer that already holds a marker: the output must
 * be the marker followed by exactly the expected bytes. Cases follow SPEC
 * section 3 and rows R41, R45, R51-R53 of the hostile-input catalogue
 * (shared/research/reliability-anchors.md).
 *
 * A table keeps going after a mismatch, prints every failing case with
 * both byte strings escaped, and fails once at the end.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "cutover/http_msg.h"
#include "cutover/http_parse.h"
#include "cutover/http_reply.h"

#define NFIELDS 64
#define MARK	"<prior>"
#define CLIENT	"192.0.2.7"

/* What the proxy adds to every request, for a given Host. */
#define XFF_ONLY "X-Forwarded-For: " CLIENT "\r\nX-Forwarded-Proto: http\r\n"
#define XF(host) XFF_ONLY "X-Forwarded-Host: " host "\r\n"

/*
 * A parsed head. Owner: the test that declares it; parsed_free() releases
 * the heap copy of the input that every span in `h` points into.
 */
struct parsed {
	char *buf;
	struct http_head h;
	struct http_field fields[NFIELDS];
};

struct req_case {
	const char *id;
	const char *in;
	const char *path;
	const char *query; /* NULL: no query, no '?' */
	const char *host;
	const char *client; /* NULL: CLIENT */
	const char *proto;  /* NULL: "http" */
	enum http_out_framing framing;
	uint64_t length;
	bool upgrade;
	const char *want;
};

struct resp_case {
	const char *id;
	const char *in;
	enum http_method meth; /* the request's method (HEAD: bodyless) */
	enum http_out_framing framing;
	uint64_t length;
	bool keep_cl;
	bool close;
	bool ka10;
	bool upgrade;
	const char *want;
};

struct error_case {
	const char *id;
	int status;
	const char *detail;
	bool close;
	const char *want;
};

struct respond_case {
	const char *id;
	int status;
	const char *body;
	size_t body_len;
	const char *ctype;
	bool head_only;
	bool close;
	int minor;
	const char *want;
	size_t want_len;
};

static void parsed_request(struct parsed *, const char *);
static void parsed_response(struct parsed *, const char *, enum http_method);
static void parsed_free(struct parsed *);
static struct http_span span(const char *);
static struct evbuffer *out_new(void);
static void print_escaped(const char *, const char *, size_t);
static bool out_equals(struct evbuffer *, const char *, size_t, const char *);
static bool run_req(const struct req_case *);
static bool run_resp(const struct resp_case *);
static size_t run_req_table(const struct req_case *, size_t);
static size_t run_resp_table(const struct resp_case *, size_t);
static size_t body_after_head(const char *, size_t, size_t *);
static void test_request_line(void **);
static void test_request_host(void **);
static void test_request_hop_by_hop(void **);
static void test_request_connection_lists(void **);
static void test_request_forwarded(void **);
static void test_request_connection_names_xff_drops_client_values(void **);
static void test_request_framing(void **);
static void test_request_upgrade(void **);
static void test_request_appends(void **);
static void test_response_status_line(void **);
static void test_response_hop_by_hop(void **);
static void test_response_connection(void **);
static void test_response_framing(void **);
static void test_response_codings(void **);
static void test_response_codings_quoted_param(void **);
static void test_response_keep_content_length(void **);
static void test_chunk_helpers(void **);
static void test_reply_reason(void **);
static void test_reply_error_text(void **);
static void test_reply_error(void **);
static void test_reply_error_length(void **);
static void test_reply_respond(void **);
static void test_reply_continue(void **);

static const struct http_limits limits = { 65536, 8192, NFIELDS };

static void
parsed_request(struct parsed *p, const char *in)
{
	size_t n = strlen(in);
	struct http_error err;
	enum http_parse_rc rc;

	p->buf = malloc(n);
	assert_non_null(p->buf);
	memcpy(p->buf, in, n);
	http_head_init(&p->h, p->fields, NFIELDS);
	memset(&err, 0, sizeof(err));
	rc = http_parse_request(p->buf, n, &p->h, &limits, &err);
	if (rc != HTTP_PARSE_DONE) {
		print_message("request did not parse (rc %d, %d at %zu: %s)\n",
		    (int)rc, err.status, err.offset,
		    err.reason ? err.reason : "-");
		print_escaped("input", in, n);
	}
	assert_int_equal(rc, HTTP_PARSE_DONE);
	assert_int_equal(p->h.head_len, n);
}

static void
parsed_response(struct parsed *p, const char *in, enum http_method meth)
{
	size_t n = strlen(in);
	struct http_error err;
	enum http_parse_rc rc;

	p->buf = malloc(n);
	assert_non_null(p->buf);
	memcpy(p->buf, in, n);
	http_head_init(&p->h, p->fields, NFIELDS);
	memset(&err, 0, sizeof(err));
	rc = http_parse_response(p->buf, n, &p->h, meth, &limits, &err);
	if (rc != HTTP_PARSE_DONE) {
		print_message("response did not parse (rc %d, %d at %zu: %s)\n",
		    (int)rc, err.status, err.offset,
		    err.reason ? err.reason : "-");
		print_escaped("input", in, n);
	}
	assert_int_equal(rc, HTTP_PARSE_DONE);
	assert_int_equal(p->h.head_len, n);
}

static void
parsed_free(struct parsed *p)
{
	free(p->buf);
	p->buf = NULL;
}

static struct http_span
span(const char *s)
{
	struct http_span sp = { s, strlen(s) };

	return sp;
}

/* An output buffer that already holds bytes: emitters must append. */
static struct evbuffer *
out_new(void)
{
	struct evbuffer *b = evbuffer_new();

	assert_non_null(b);
	assert_int_equal(evbuffer_add(b, MARK, sizeof(MARK) - 1), 0);
	return b;
}

static void
print_escaped(const char *label, const char *p, size_t n)
{
	print_message("  %-6s \"", label);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '\r')
			print_message("\\r");
		else if (c == '\n' && i + 1 < n)
			print_message("\\n\"\n         \"");
		else if (c == '\n')
			print_message("\\n");
		else if (c == '\t')
			print_message("\\t");
		else if (c == '"' || c == '\\')
			print_message("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			print_message("\\x%02x", c);
		else
			print_message("%c", c);
	}
	print_message("\"\n");
}

/* True when `b` holds MARK followed by exactly want[0..wlen). */
static bool
out_equals(struct evbuffer *b, const char *want, size_t wlen, const char *id)
{
	size_t n = evbuffer_get_length(b);
	const char *got = (const char *)evbuffer_pullup(b, -1);
	size_t m = sizeof(MARK) - 1;

	if (n >= m && memcmp(got, MARK, m) == 0 && n - m == wlen &&
	    memcmp(got + m, want, wlen) == 0)
		return true;
	print_message("case \"%s\": output differs\n", id);
	print_escaped("want", want, wlen);
	if (n >= m && memcmp(got, MARK, m) == 0)
		print_escaped("got", got + m, n - m);
	else
		print_escaped("got", got, n); /* the prior bytes were lost */
	return false;
}

static bool
run_req(const struct req_case *c)
{
	struct parsed p;
	struct http_msg_request m;
	struct evbuffer *out = out_new();
	bool ok;

	parsed_request(&p, c->in);
	memset(&m, 0, sizeof(m));
	m.path = span(c->path);
	m.has_query = c->query != NULL;
	m.query = span(c->query ? c->query : "");
	m.host = span(c->host);
	m.client_addr = c->client ? c->client : CLIENT;
	m.proto = c->proto ? c->proto : "http";
	m.framing = c->framing;
	m.length = c->length;
	m.upgrade = c->upgrade;
	http_msg_request(out, &p.h, &m);
	ok = out_equals(out, c->want, strlen(c->want), c->id);
	evbuffer_free(out);
	parsed_free(&p);
	return ok;
}

static bool
run_resp(const struct resp_case *c)
{
	struct parsed p;
	struct http_msg_response m;
	struct evbuffer *out = out_new();
	bool ok;

	parsed_response(&p, c->in, c->meth ? c->meth : HTTP_M_GET);
	memset(&m, 0, sizeof(m));
	m.framing = c->framing;
	m.length = c->length;
	m.keep_content_length = c->keep_cl;
	m.close = c->close;
	m.keepalive_10 = c->ka10;
	m.upgrade = c->upgrade;
	http_msg_response(out, &p.h, &m);
	ok = out_equals(out, c->want, strlen(c->want), c->id);
	evbuffer_free(out);
	parsed_free(&p);
	return ok;
}

static size_t
run_req_table(const struct req_case *t, size_t n)
{
	size_t fails = 0;

	for (size_t i = 0; i < n; i++)
		if (!run_req(&t[i]))
			fails++;
	return fails;
}

static size_t
run_resp_table(const struct resp_case *t, size_t n)
{
	size_t fails = 0;

	for (size_t i = 0; i < n; i++)
		if (!run_resp(&t[i]))
			fails++;
	return fails;
}

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- requests ---------------------------------------------------------- */

static const struct req_case req_line_cases[] = {
	{ .id = "plain GET",
	    .in = "GET /a HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n",
	    .path = "/a", .host = "example.com",
	    .want = "GET /a HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n"
		    XF("example.com") "\r\n" },
	{ .id = "rewritten path and query",
	    .in = "GET /api/v1/items?a=1 HTTP/1.1\r\nHost: h\r\n\r\n",
	    .path = "/items", .query = "a=1&b=%20", .host = "h",
	    .want = "GET /items?a=1&b=%20 HTTP/1.1\r\nHost: h\r\n" XF("h")
		    "\r\n" },
	{ .id = "empty query keeps '?'",
	    .in = "GET /x? HTTP/1.1\r\nHost: h\r\n\r\n",
	    .path = "/x", .query = "", .host = "h",
	    .want = "GET /x? HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "no query drops '?'",
	    .in = "GET /x? HTTP/1.1\r\nHost: h\r\n\r\n",
	    .path = "/x", .host = "h",
	    .want = "GET /x HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "client target is not reused",
	    .in = "GET /a/../b//c?q HTTP/1.1\r\nHost: h\r\n\r\n",
	    .path = "/b/c", .host = "h",
	    .want = "GET /b/c HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "R45 encoded CRLF stays encoded",
	    .in = "GET /x%0d%0aHost:%20evil HTTP/1.1\r\nHost: h\r\n\r\n",
	    .path = "/x%0d%0aHost:%20evil", .host = "h",
	    .want = "GET /x%0d%0aHost:%20evil HTTP/1.1\r\nHost: h\r\n" XF("h")
		    "\r\n" },
	{ .id = "HTTP/1.0 forwarded as 1.1",
	    .in = "GET / HTTP/1.0\r\nHost: h\r\nUser-Agent: t\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\n" XF("h")
		    "\r\n" },
	{ .id = "HTTP/1.2 forwarded as 1.1",
	    .in = "GET / HTTP/1.2\r\nHost: h\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "HTTP/1.0 without Host: empty Host, no X-Forwarded-Host",
	    .in = "GET / HTTP/1.0\r\nUser-Agent: t\r\n\r\n",
	    .path = "/", .host = "",
	    .want = "GET / HTTP/1.1\r\nHost: \r\nUser-Agent: t\r\n" XFF_ONLY
		    "\r\n" },
	{ .id = "method kept: POST",
	    .in = "POST /f HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n",
	    .path = "/f", .host = "h", .framing = HTTP_OUT_LENGTH,
	    .length = 3,
	    .want = "POST /f HTTP/1.1\r\nHost: h\r\n" XF("h")
		    "Content-Length: 3\r\n\r\n" },
	{ .id = "method kept: unknown token",
	    .in = "PURGE /f HTTP/1.1\r\nHost: h\r\n\r\n",
	    .path = "/f", .host = "h",
	    .want = "PURGE /f HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "OPTIONS *",
	    .in = "OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n",
	    .path = "*", .host = "h",
	    .want = "OPTIONS * HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "bare LF in, CRLF out; names and values as received",
	    .in = "GET / HTTP/1.1\nHost: h\nx-LoWeR: \t v  a \t\nA:b\n\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nx-LoWeR: v  a\r\nA: b\r\n"
		    XF("h") "\r\n" },
	{ .id = "empty value kept",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nX-Empty: \r\n" XF("h")
		    "\r\n" },
	{ .id = "repeated fields kept in order",
	    .in = "GET / HTTP/1.1\r\nAccept: a\r\nHost: h\r\nCookie: x=1\r\n"
		  "Accept: b\r\nCookie: y=2\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\nCookie: x=1\r\n"
		    "Accept: b\r\nCookie: y=2\r\n" XF("h") "\r\n" },
};

static void
test_request_line(void **state)
{
	(void)state;
	assert_int_equal(run_req_table(req_line_cases,
	    NELEM(req_line_cases)), 0);
}

static const struct req_case req_host_cases[] = {
	{ .id = "Host first, whatever its place",
	    .in = "GET / HTTP/1.1\r\nAccept: a\r\nX-A: 1\r\nHost: h.example\r\n"
		  "X-B: 2\r\n\r\n",
	    .path = "/", .host = "h.example",
	    .want = "GET / HTTP/1.1\r\nHost: h.example\r\nAccept: a\r\n"
		    "X-A: 1\r\nX-B: 2\r\n" XF("h.example") "\r\n" },
	{ .id = "R41 absolute-form authority replaces Host",
	    .in = "GET http://b.example/x HTTP/1.1\r\nHost: a.example\r\n"
		  "Accept: a\r\n\r\n",
	    .path = "/x", .host = "b.example",
	    .want = "GET /x HTTP/1.1\r\nHost: b.example\r\nAccept: a\r\n"
		    XF("b.example") "\r\n" },
	{ .id = "host with port",
	    .in = "GET / HTTP/1.1\r\nhost: h.example:8080\r\n\r\n",
	    .path = "/", .host = "h.example:8080",
	    .want = "GET / HTTP/1.1\r\nHost: h.example:8080\r\n"
		    XF("h.example:8080") "\r\n" },
	{ .id = "IPv6 literal host",
	    .in = "GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n\r\n",
	    .path = "/", .host = "[2001:db8::1]:80",
	    .want = "GET / HTTP/1.1\r\nHost: [2001:db8::1]:80\r\n"
		    XF("[2001:db8::1]:80") "\r\n" },
};

static void
test_request_host(void **state)
{
	(void)state;
	assert_int_equal(run_req_table(req_host_cases,
	    NELEM(req_host_cases)), 0);
}

static const struct req_case req_hop_cases[] = {
	{ .id = "every fixed hop-by-hop field dropped",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\n"
		  "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n"
		  "TE: trailers\r\nTrailer: X-Sum\r\nUpgrade: websocket\r\n"
		  "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
		  "Accept: a\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\n" XF("h")
		    "\r\n" },
	{ .id = "fixed names in any case, no Connection field",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nkeep-ALIVE: 1\r\n"
		  "proxy-CONNECTION: x\r\nte: x\r\nTRAILER: x\r\n"
		  "uPgRaDe: x\r\nhttp2-settings: x\r\nX-Keep: 1\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nX-Keep: 1\r\n" XF("h")
		    "\r\n" },
	{ .id = "Connection in upper case dropped",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nCONNECTION: close\r\n"
		  "X-Keep: 1\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nX-Keep: 1\r\n" XF("h")
		    "\r\n" },
	{ .id = "R53 h2c upgrade stripped, not tunnelled",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\n"
		  "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n"
		  "Connection: Upgrade, HTTP2-Settings\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "Expect dropped",
	    .in = "PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
		  "Content-Length: 5\r\nX-Keep: 1\r\n\r\n",
	    .path = "/", .host = "h", .framing = HTTP_OUT_LENGTH,
	    .length = 5,
	    .want = "PUT / HTTP/1.1\r\nHost: h\r\nX-Keep: 1\r\n" XF("h")
		    "Content-Length: 5\r\n\r\n" },
	{ .id = "other Expect values dropped too",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nEXPECT: foo\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "look-alike names kept",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nConnections: 1\r\n"
		  "X-Upgrade: 1\r\nTEx: 1\r\nContent-Lengthy: 1\r\n"
		  "Keep-Alive2: 1\r\nHost-X: 1\r\nExpects: 1\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nConnections: 1\r\n"
		    "X-Upgrade: 1\r\nTEx: 1\r\nContent-Lengthy: 1\r\n"
		    "Keep-Alive2: 1\r\nHost-X: 1\r\nExpects: 1\r\n" XF("h")
		    "\r\n" },
};

static void
test_request_hop_by_hop(void **state)
{
	(void)state;
	assert_int_equal(run_req_table(req_hop_cases, NELEM(req_hop_cases)),
	    0);
}

static const struct req_case req_conn_cases[] = {
	{ .id = "fields named in Connection dropped, case-insensitive",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Secret, x-other\r\n"
		  "X-Secret: 1\r\nX-OTHER: 2\r\nX-Keep: 3\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nX-Keep: 3\r\n" XF("h")
		    "\r\n" },
	{ .id = "R51 lower-case connection option",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nconnection: x-real-ip\r\n"
		  "X-Real-IP: 10.0.0.9\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "several Connection fields",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n"
		  "X-A: 1\r\nConnection: X-B\r\nX-B: 2\r\nX-C: 3\r\n"
		  "connection: x-c\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n" XF("h") "\r\n" },
	{ .id = "named field before the Connection field",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nX-B: 2\r\nX-A: 1\r\n"
		  "Connection: x-b\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n" XF("h") "\r\n" },
	{ .id = "list with OWS and empty elements",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nConnection: , x-a ,,\tX-B\t,\r\n"
		  "X-A: 1\r\nX-B: 2\r\nX-C: 3\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nX-C: 3\r\n" XF("h") "\r\n" },
	{ .id = "every field of a repeated name dropped",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nConnection: X-A\r\n"
		  "X-A: 2\r\nx-a: 3\r\nX-Z: 4\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nX-Z: 4\r\n" XF("h") "\r\n" },
	{ .id = "option naming no field removes nothing else",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Absent\r\n"
		  "X-A: 1\r\nX-Absent-Not: 2\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nX-Absent-Not: 2\r\n"
		    XF("h") "\r\n" },
	{ .id = "prefix of a name is not the name",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nConnection: X-A\r\n"
		  "X-AB: 1\r\nX-: 2\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nX-AB: 1\r\nX-: 2\r\n" XF("h")
		    "\r\n" },
	{ .id = "R51 X-Forwarded-* named in Connection: ours still sent",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\n"
		  "Connection: close, X-Forwarded-For, X-Request-ID, "
		  "X-Forwarded-Host, X-Forwarded-Proto\r\n"
		  "X-Request-ID: abc\r\nX-Forwarded-Host: evil\r\n"
		  "X-Forwarded-Proto: gopher\r\nX-Keep: 1\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nX-Keep: 1\r\n" XF("h")
		    "\r\n" },
	{ .id = "Connection: Expect, Keep-Alive, TE",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nConnection: Expect, Keep-Alive, "
		  "TE\r\nExpect: 100-continue\r\nKeep-Alive: 5\r\nTE: x\r\n"
		  "\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
};

static void
test_request_connection_lists(void **state)
{
	(void)state;
	assert_int_equal(run_req_table(req_conn_cases,
	    NELEM(req_conn_cases)), 0);
}

static const struct req_case req_xf_cases[] = {
	{ .id = "no incoming X-Forwarded-For",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "one incoming value, then the client",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.1\r\n"
		  "\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n"
		    "X-Forwarded-For: 10.0.0.1, " CLIENT "\r\n"
		    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n" },
	{ .id = "several fields folded in order",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.1\r\n"
		  "Accept: a\r\nx-forwarded-for: 10.0.0.2, 10.0.0.3\r\n"
		  "X-FORWARDED-FOR: 10.0.0.4\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nAccept: a\r\n"
		    "X-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.3, 10.0.0.4, "
		    CLIENT "\r\n"
		    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n" },
	{ .id = "empty incoming values skipped",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For:\r\n"
		  "X-Forwarded-For:  \r\nX-Forwarded-For: 10.0.0.1\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n"
		    "X-Forwarded-For: 10.0.0.1, " CLIENT "\r\n"
		    "X-Forwarded-Proto: http\r\nX-Forwarded-Host: h\r\n\r\n" },
	{ .id = "IPv6 client, https",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\n\r\n",
	    .path = "/", .host = "h", .client = "2001:db8::1",
	    .proto = "https",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n"
		    "X-Forwarded-For: 2001:db8::1\r\n"
		    "X-Forwarded-Proto: https\r\nX-Forwarded-Host: h\r\n\r\n" },
	{ .id = "client X-Forwarded-Proto and -Host replaced",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-Proto: https\r\n"
		  "x-forwarded-host: evil.example\r\nX-Forwarded-Proto: ftp\r\n"
		  "\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "no Host: client X-Forwarded-Host still dropped",
	    .in = "GET / HTTP/1.0\r\nX-Forwarded-Host: evil\r\n\r\n",
	    .path = "/", .host = "",
	    .want = "GET / HTTP/1.1\r\nHost: \r\n" XFF_ONLY "\r\n" },
	{ .id = "X-Forwarded-Host is the Host we send (R41)",
	    .in = "GET http://b.example/ HTTP/1.1\r\nHost: a.example\r\n"
		  "X-Forwarded-Host: a.example\r\n\r\n",
	    .path = "/", .host = "b.example",
	    .want = "GET / HTTP/1.1\r\nHost: b.example\r\n" XF("b.example")
		    "\r\n" },
	{ .id = "other X-Forwarded-* left alone",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-Port: 443\r\n"
		  "X-Forwarded-Fo: 1\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-Port: 443\r\n"
		    "X-Forwarded-Fo: 1\r\n" XF("h") "\r\n" },
};

static void
test_request_forwarded(void **state)
{
	(void)state;
	assert_int_equal(run_req_table(req_xf_cases, NELEM(req_xf_cases)),
	    0);
}

/*
 * R51 / RFC 9110 7.6.1: a field the client names in Connection is removed
 * before we add our own X-Forwarded-For; its values must not be folded into
 * ours. Only the client address is left.
 */
static const struct req_case req_xff_named_cases[] = {
	{ .id = "Connection: X-Forwarded-For drops the client's values",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Forwarded-For\r\n"
		  "X-Forwarded-For: 10.0.0.1\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "lower-case option, values in several fields",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: 10.0.0.1\r\n"
		  "connection: close, x-forwarded-for\r\n"
		  "X-Forwarded-For: 10.0.0.2\r\n\r\n",
	    .path = "/", .host = "h",
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
};

static void
test_request_connection_names_xff_drops_client_values(void **state)
{
	(void)state;
	assert_int_equal(run_req_table(req_xff_named_cases,
	    NELEM(req_xff_named_cases)), 0);
}

static const struct req_case req_framing_cases[] = {
	{ .id = "Content-Length replaced by ours, after our fields",
	    .in = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n"
		  "Content-Type: a/b\r\n\r\n",
	    .path = "/", .host = "h", .framing = HTTP_OUT_LENGTH,
	    .length = 10,
	    .want = "POST / HTTP/1.1\r\nHost: h\r\nContent-Type: a/b\r\n"
		    XF("h") "Content-Length: 10\r\n\r\n" },
	{ .id = "Content-Length value from the struct, not the client",
	    .in = "POST / HTTP/1.1\r\nHost: h\r\ncontent-length: 10\r\n\r\n",
	    .path = "/", .host = "h", .framing = HTTP_OUT_LENGTH,
	    .length = 7,
	    .want = "POST / HTTP/1.1\r\nHost: h\r\n" XF("h")
		    "Content-Length: 7\r\n\r\n" },
	{ .id = "Content-Length: 0",
	    .in = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
	    .path = "/", .host = "h", .framing = HTTP_OUT_LENGTH,
	    .want = "POST / HTTP/1.1\r\nHost: h\r\n" XF("h")
		    "Content-Length: 0\r\n\r\n" },
	{ .id = "largest length",
	    .in = "POST / HTTP/1.1\r\nHost: h\r\n\r\n",
	    .path = "/", .host = "h", .framing = HTTP_OUT_LENGTH,
	    .length = UINT64_MAX,
	    .want = "POST / HTTP/1.1\r\nHost: h\r\n" XF("h")
		    "Content-Length: 18446744073709551615\r\n\r\n" },
	{ .id = "chunked stays chunked",
	    .in = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		  "\r\n",
	    .path = "/", .host = "h", .framing = HTTP_OUT_CHUNKED,
	    .want = "POST / HTTP/1.1\r\nHost: h\r\n" XF("h")
		    "Transfer-Encoding: chunked\r\n\r\n" },
	{ .id = "chunked re-framed with a length",
	    .in = "POST / HTTP/1.1\r\nHost: h\r\ntransfer-encoding: Chunked\r\n"
		  "\r\n",
	    .path = "/", .host = "h", .framing = HTTP_OUT_LENGTH,
	    .length = 42,
	    .want = "POST / HTTP/1.1\r\nHost: h\r\n" XF("h")
		    "Content-Length: 42\r\n\r\n" },
	{ .id = "length re-framed as chunked",
	    .in = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n",
	    .path = "/", .host = "h", .framing = HTTP_OUT_CHUNKED,
	    .want = "POST / HTTP/1.1\r\nHost: h\r\n" XF("h")
		    "Transfer-Encoding: chunked\r\n\r\n" },
	{ .id = "NONE: framing fields dropped, none added",
	    .in = "GET / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n",
	    .path = "/", .host = "h", .framing = HTTP_OUT_NONE,
	    .want = "GET / HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n" },
	{ .id = "equal repeated Content-Length fields become one",
	    .in = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
		  "Content-Length: 4\r\n\r\n",
	    .path = "/", .host = "h", .framing = HTTP_OUT_LENGTH,
	    .length = 4,
	    .want = "POST / HTTP/1.1\r\nHost: h\r\n" XF("h")
		    "Content-Length: 4\r\n\r\n" },
};

static void
test_request_framing(void **state)
{
	(void)state;
	assert_int_equal(run_req_table(req_framing_cases,
	    NELEM(req_framing_cases)), 0);
}

static const struct req_case req_upgrade_cases[] = {
	{ .id = "WebSocket: Upgrade kept, Connection: upgrade added",
	    .in = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\nSec-WebSocket-Key: k==\r\n"
		  "Sec-WebSocket-Version: 13\r\n\r\n",
	    .path = "/ws", .host = "h", .upgrade = true,
	    .want = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
		    "Sec-WebSocket-Key: k==\r\nSec-WebSocket-Version: 13\r\n"
		    XF("h") "Connection: upgrade\r\n\r\n" },
	{ .id = "upgrade: other Connection options still removed",
	    .in = "GET /ws HTTP/1.1\r\nHost: h\r\n"
		  "Connection: keep-alive, Upgrade, X-Hop\r\nX-Hop: 1\r\n"
		  "upgrade: websocket\r\nKeep-Alive: 5\r\n"
		  "HTTP2-Settings: x\r\nTE: trailers\r\n\r\n",
	    .path = "/ws", .host = "h", .upgrade = true,
	    .want = "GET /ws HTTP/1.1\r\nHost: h\r\nupgrade: websocket\r\n"
		    XF("h") "Connection: upgrade\r\n\r\n" },
	{ .id = "no upgrade: Upgrade and Connection dropped, none added",
	    .in = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",
	    .path = "/ws", .host = "h",
	    .want = "GET /ws HTTP/1.1\r\nHost: h\r\n"
		    "Sec-WebSocket-Version: 13\r\n" XF("h") "\r\n" },
	{ .id = "upgrade with a length",
	    .in = "POST /ws HTTP/1.1\r\nHost: h\r\nUpgrade: x\r\n"
		  "Connection: upgrade\r\nContent-Length: 2\r\n\r\n",
	    .path = "/ws", .host = "h", .upgrade = true,
	    .framing = HTTP_OUT_LENGTH, .length = 2,
	    .want = "POST /ws HTTP/1.1\r\nHost: h\r\nUpgrade: x\r\n" XF("h")
		    "Connection: upgrade\r\nContent-Length: 2\r\n\r\n" },
};

static void
test_request_upgrade(void **state)
{
	(void)state;
	assert_int_equal(run_req_table(req_upgrade_cases,
	    NELEM(req_upgrade_cases)), 0);
}

/* Two heads into one buffer: the second follows the first, byte-exact. */
static void
test_request_appends(void **state)
{
	static const char want[] =
	    "GET /1 HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n"
	    "GET /2 HTTP/1.1\r\nHost: h\r\n" XF("h") "\r\n";
	struct parsed p;
	struct http_msg_request m;
	struct evbuffer *out = out_new();

	(void)state;
	parsed_request(&p, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n");
	memset(&m, 0, sizeof(m));
	m.host = span("h");
	m.client_addr = CLIENT;
	m.proto = "http";
	m.path = span("/1");
	http_msg_request(out, &p.h, &m);
	m.path = span("/2");
	http_msg_request(out, &p.h, &m);
	assert_true(out_equals(out, want, sizeof(want) - 1, "appends"));
	evbuffer_free(out);
	parsed_free(&p);
}

/* ---- responses --------------------------------------------------------- */

static const struct resp_case resp_status_cases[] = {
	{ .id = "200 OK",
	    .in = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		  "Content-Length: 5\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH, .length = 5,
	    .want = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
		    "Content-Length: 5\r\n\r\n" },
	{ .id = "reason kept as received",
	    .in = "HTTP/1.1 200 Okey Dokey\r\nContent-Length: 0\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH,
	    .want = "HTTP/1.1 200 Okey Dokey\r\nContent-Length: 0\r\n\r\n" },
	{ .id = "1.0 upstream answered as 1.1",
	    .in = "HTTP/1.0 404 Nope\r\nContent-Length: 0\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH,
	    .want = "HTTP/1.1 404 Nope\r\nContent-Length: 0\r\n\r\n" },
	{ .id = "empty reason gets the standard phrase",
	    .in = "HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH,
	    .want = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n" },
	{ .id = "no reason, no SP: standard phrase",
	    .in = "HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH,
	    .want = "HTTP/1.1 503 Service Unavailable\r\n"
		    "Content-Length: 0\r\n\r\n" },
	{ .id = "empty reason, 204",
	    .in = "HTTP/1.1 204 \r\n\r\n",
	    .want = "HTTP/1.1 204 No Content\r\n\r\n" },
	{ .id = "empty reason, unknown status",
	    .in = "HTTP/1.1 299 \r\nContent-Length: 0\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH,
	    .want = "HTTP/1.1 299 Unknown\r\nContent-Length: 0\r\n\r\n" },
	{ .id = "fields in order, names and values as received",
	    .in = "HTTP/1.1 200 OK\nset-cookie: a=1\nX-V:  b  c \n"
		  "Set-Cookie: b=2\nContent-Length: 0\n\n",
	    .framing = HTTP_OUT_LENGTH,
	    .want = "HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nX-V: b  c\r\n"
		    "Set-Cookie: b=2\r\nContent-Length: 0\r\n\r\n" },
	{ .id = "X-Forwarded-* and Host untouched in responses",
	    .in = "HTTP/1.1 200 OK\r\nX-Forwarded-For: 1.1.1.1\r\n"
		  "Host: x\r\nExpect: y\r\nContent-Length: 0\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH,
	    .want = "HTTP/1.1 200 OK\r\nX-Forwarded-For: 1.1.1.1\r\n"
		    "Host: x\r\nExpect: y\r\nContent-Length: 0\r\n\r\n" },
};

static void
test_response_status_line(void **state)
{
	(void)state;
	assert_int_equal(run_resp_table(resp_status_cases,
	    NELEM(resp_status_cases)), 0);
}

static const struct resp_case resp_hop_cases[] = {
	{ .id = "fixed hop-by-hop fields dropped",
	    .in = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
		  "Keep-Alive: timeout=5, max=100\r\nProxy-Connection: x\r\n"
		  "Trailer: X-Sum\r\nTE: x\r\nUpgrade: h2c\r\n"
		  "HTTP2-Settings: x\r\nServer: s\r\nContent-Length: 0\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH,
	    .want = "HTTP/1.1 200 OK\r\nServer: s\r\nContent-Length: 0\r\n"
		    "\r\n" },
	{ .id = "fields named in Connection dropped",
	    .in = "HTTP/1.1 200 OK\r\nX-A: 1\r\nConnection: X-Internal, x-a\r\n"
		  "x-internal: 2\r\nConnection: X-B\r\nX-B: 3\r\nX-C: 4\r\n"
		  "Content-Length: 0\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH,
	    .want = "HTTP/1.1 200 OK\r\nX-C: 4\r\nContent-Length: 0\r\n\r\n" },
	{ .id = "1.0 keep-alive response",
	    .in = "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
		  "Keep-Alive: timeout=5\r\nContent-Length: 2\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH, .length = 2,
	    .want = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n" },
	{ .id = "Upgrade dropped on a non-upgrade answer (R54)",
	    .in = "HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\nContent-Length: 0\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH,
	    .want = "HTTP/1.1 426 Upgrade Required\r\nContent-Length: 0\r\n"
		    "\r\n" },
};

static void
test_response_hop_by_hop(void **state)
{
	(void)state;
	assert_int_equal(run_resp_table(resp_hop_cases,
	    NELEM(resp_hop_cases)), 0);
}

static const struct resp_case resp_conn_cases[] = {
	{ .id = "close",
	    .in = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
		  "Content-Length: 1\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH, .length = 1, .close = true,
	    .want = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
		    "Content-Length: 1\r\n\r\n" },
	{ .id = "keep-alive for a 1.0 client",
	    .in = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
		  "Content-Length: 1\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH, .length = 1, .ka10 = true,
	    .want = "HTTP/1.1 200 OK\r\nConnection: keep-alive\r\n"
		    "Content-Length: 1\r\n\r\n" },
	{ .id = "close wins over keep-alive",
	    .in = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH, .length = 1, .close = true,
	    .ka10 = true,
	    .want = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
		    "Content-Length: 1\r\n\r\n" },
	{ .id = "neither: no Connection field",
	    .in = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
		  "Content-Length: 1\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH, .length = 1,
	    .want = "HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n" },
	{ .id = "101: Upgrade kept, Connection: upgrade",
	    .in = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		  "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pP==\r\n\r\n",
	    .upgrade = true,
	    .want = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
		    "Sec-WebSocket-Accept: s3pP==\r\nConnection: upgrade\r\n"
		    "\r\n" },
	{ .id = "101: upgrade wins over close",
	    .in = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
		  "connection: upgrade, x-hop\r\nX-Hop: 1\r\n\r\n",
	    .upgrade = true, .close = true,
	    .want = "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\n"
		    "Connection: upgrade\r\n\r\n" },
	{ .id = "close-delimited body: no framing field",
	    .in = "HTTP/1.0 200 OK\r\nServer: s\r\n\r\n",
	    .framing = HTTP_OUT_CLOSE, .close = true,
	    .want = "HTTP/1.1 200 OK\r\nServer: s\r\nConnection: close\r\n"
		    "\r\n" },
};

static void
test_response_connection(void **state)
{
	(void)state;
	assert_int_equal(run_resp_table(resp_conn_cases,
	    NELEM(resp_conn_cases)), 0);
}

static const struct resp_case resp_framing_cases[] = {
	{ .id = "length replaced by ours",
	    .in = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nETag: e\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH, .length = 10,
	    .want = "HTTP/1.1 200 OK\r\nETag: e\r\nContent-Length: 10\r\n\r\n" },
	{ .id = "chunked stays chunked",
	    .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
		  "ETag: e\r\n\r\n",
	    .framing = HTTP_OUT_CHUNKED,
	    .want = "HTTP/1.1 200 OK\r\nETag: e\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n" },
	{ .id = "chunked de-chunked to a length",
	    .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH, .length = 12,
	    .want = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n" },
	{ .id = "chunked de-chunked, close-delimited for a 1.0 client",
	    .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    .framing = HTTP_OUT_CLOSE, .close = true,
	    .want = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" },
	{ .id = "length re-chunked",
	    .in = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n",
	    .framing = HTTP_OUT_CHUNKED,
	    .want = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" },
	{ .id = "close-delimited re-chunked",
	    .in = "HTTP/1.1 200 OK\r\nServer: s\r\n\r\n",
	    .framing = HTTP_OUT_CHUNKED,
	    .want = "HTTP/1.1 200 OK\r\nServer: s\r\n"
		    "Transfer-Encoding: chunked\r\n\r\n" },
	{ .id = "CL with TE: CL dropped",
	    .in = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
		  "Transfer-Encoding: chunked\r\n\r\n",
	    .framing = HTTP_OUT_CHUNKED,
	    .want = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" },
	{ .id = "NONE: no framing field",
	    .in = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n",
	    .want = "HTTP/1.1 204 No Content\r\n\r\n" },
	{ .id = "Connection cannot name our framing away",
	    .in = "HTTP/1.1 200 OK\r\nConnection: Content-Length, "
		  "Transfer-Encoding\r\nContent-Length: 3\r\n\r\n",
	    .framing = HTTP_OUT_LENGTH, .length = 3,
	    .want = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n" },
};

static void
test_response_framing(void **state)
{
	(void)state;
	assert_int_equal(run_resp_table(resp_framing_cases,
	    NELEM(resp_framing_cases)), 0);
}

static const struct resp_case resp_coding_cases[] = {
	{ .id = "gzip, chunked re-chunked keeps gzip",
	    .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
		  "\r\n",
	    .framing = HTTP_OUT_CHUNKED,
	    .want = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
		    "\r\n" },
	{ .id = "codings over two fields",
	    .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nX: y\r\n"
		  "transfer-encoding: chunked\r\n\r\n",
	    .framing = HTTP_OUT_CHUNKED,
	    .want = "HTTP/1.1 200 OK\r\nX: y\r\n"
		    "Transfer-Encoding: gzip, chunked\r\n\r\n" },
	{ .id = "several codings, OWS normalised, order kept",
	    .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: br ,\tgzip,CHUNKED"
		  "\r\n\r\n",
	    .framing = HTTP_OUT_CHUNKED,
	    .want = "HTTP/1.1 200 OK\r\nTransfer-Encoding: br, gzip, chunked\r\n"
		    "\r\n" },
	{ .id = "coding with a token parameter",
	    .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo;p=1, chunked\r\n"
		  "\r\n",
	    .framing = HTTP_OUT_CHUNKED,
	    .want = "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo;p=1, chunked\r\n"
		    "\r\n" },
	{ .id = "close-delimited gzip re-chunked",
	    .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n",
	    .framing = HTTP_OUT_CHUNKED,
	    .want = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
		    "\r\n" },
	{ .id = "gzip, chunked with CL: CL dropped, gzip kept",
	    .in = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n"
		  "Transfer-Encoding: gzip, chunked\r\n\r\n",
	    .framing = HTTP_OUT_CHUNKED,
	    .want = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n"
		    "\r\n" },
	{ .id = "gzip, chunked with close and keep-alive flags",
	    .in = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
		  "Transfer-Encoding: gzip, chunked\r\n\r\n",
	    .framing = HTTP_OUT_CHUNKED, .close = true,
	    .want = "HTTP/1.1 200 OK\r\nConnection: close\r\n"
		    "Transfer-Encoding: gzip, chunked\r\n\r\n" },
};

static void
test_response_codings(void **state)
{
	(void)state;
	assert_int_equal(run_resp_table(resp_coding_cases,
	    NELEM(resp_coding_cases)), 0);
}

/*
 * A transfer-coding parameter may be a quoted-string holding commas (the
 * parser accepts it, RFC 9110 5.6.6); re-emitting the codings must keep it
 * byte for byte, not split it at the comma and rejoin it with ", ".
 */
static const struct resp_case resp_quoted_cases[] = {
	{ .id = "quoted parameter with a comma",
	    .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo;p=\"a,b\", "
		  "chunked\r\n\r\n",
	    .framing = HTTP_OUT_CHUNKED,
	    .want = "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo;p=\"a,b\", "
		    "chunked\r\n\r\n" },
	{ .id = "quoted parameter holding \"chunked\"",
	    .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: foo;p=\"x,chunked,y\""
		  ", chunked\r\n\r\n",
	    .framing = HTTP_OUT_CHUNKED,
	    .want = "HTTP/1.1 200 OK\r\nTransfer-Encoding: "
		    "foo;p=\"x,chunked,y\", chunked\r\n\r\n" },
};

static void
test_response_codings_quoted_param(void **state)
{
	(void)state;
	assert_int_equal(run_resp_table(resp_quoted_cases,
	    NELEM(resp_quoted_cases)), 0);
}

static const struct resp_case resp_keep_cl_cases[] = {
	{ .id = "HEAD: upstream Content-Length kept in place",
	    .in = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n"
		  "Content-Type: a/b\r\n\r\n",
	    .meth = HTTP_M_HEAD, .keep_cl = true,
	    .want = "HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n"
		    "Content-Type: a/b\r\n\r\n" },
	{ .id = "304: upstream Content-Length kept",
	    .in = "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n"
		  "content-length: 99\r\n\r\n",
	    .keep_cl = true,
	    .want = "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n"
		    "content-length: 99\r\n\r\n" },
	{ .id = "304 without keep: Content-Length dropped",
	    .in = "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n"
		  "Content-Length: 99\r\n\r\n",
	    .want = "HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n" },
	{ .id = "HEAD: Transfer-Encoding still dropped",
	    .in = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	    .meth = HTTP_M_HEAD, .keep_cl = true,
	    .want = "HTTP/1.1 200 OK\r\n\r\n" },
	{ .id = "HEAD: kept even when Connection names it",
	    .in = "HTTP/1.1 200 OK\r\nConnection: content-length\r\n"
		  "Content-Length: 5\r\n\r\n",
	    .meth = HTTP_M_HEAD, .keep_cl = true, .close = true,
	    .want = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		    "Connection: close\r\n\r\n" },
	{ .id = "HEAD for a 1.0 client",
	    .in = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		  "Keep-Alive: 1\r\n\r\n",
	    .meth = HTTP_M_HEAD, .keep_cl = true, .ka10 = true,
	    .want = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
		    "Connection: keep-alive\r\n\r\n" },
};

static void
test_response_keep_content_length(void **state)
{
	(void)state;
	assert_int_equal(run_resp_table(resp_keep_cl_cases,
	    NELEM(resp_keep_cl_cases)), 0);
}

/* ---- chunk helpers ----------------------------------------------------- */

static void
test_chunk_helpers(void **state)
{
	static const struct {
		size_t n;
		const char *want;
	} sizes[] = {
		{ 0, "0\r\n" },
		{ 1, "1\r\n" },
		{ 10, "a\r\n" },
		{ 255, "ff\r\n" },
		{ 4096, "1000\r\n" },
		{ 0xdeadbeef, "deadbeef\r\n" },
		{ SIZE_MAX, "ffffffffffffffff\r\n" },
	};
	static const char body[] =
	    "5\r\nhello\r\nb\r\n world!!!!!\r\n0\r\n\r\n";
	size_t fails = 0;
	struct evbuffer *out;

	(void)state;
	assert_int_equal(sizeof(size_t), 8);
	for (size_t i = 0; i < NELEM(sizes); i++) {
		char id[32];

		out = out_new();
		snprintf(id, sizeof(id), "chunk header %zu", sizes[i].n);
		http_msg_chunk_header(out, sizes[i].n);
		if (!out_equals(out, sizes[i].want, strlen(sizes[i].want), id))
			fails++;
		evbuffer_free(out);
	}
	assert_int_equal(fails, 0);

	out = out_new();
	http_msg_chunk_end(out);
	assert_true(out_equals(out, "\r\n", 2, "chunk end"));
	evbuffer_free(out);

	out = out_new();
	http_msg_last_chunk(out);
	assert_true(out_equals(out, "0\r\n\r\n", 5, "last chunk"));
	evbuffer_free(out);

	/* A whole re-chunked body, as the relay writes it. */
	out = out_new();
	http_msg_chunk_header(out, 5);
	evbuffer_add(out, "hello", 5);
	http_msg_chunk_end(out);
	http_msg_chunk_header(out, 11);
	evbuffer_add(out, " world!!!!!", 11);
	http_msg_chunk_end(out);
	http_msg_last_chunk(out);
	assert_true(out_equals(out, body, sizeof(body) - 1, "whole body"));
	evbuffer_free(out);
}

/* ---- http_reply -------------------------------------------------------- */

static void
test_reply_reason(void **state)
{
	static const struct {
		int status;
		const char *want;
	} t[] = {
		{ 100, "Continue" },
		{ 101, "Switching Protocols" },
		{ 200, "OK" },
		{ 204, "No Content" },
		{ 304, "Not Modified" },
		{ 400, "Bad Request" },
		{ 404, "Not Found" },
		{ 408, "Request Timeout" },
		{ 410, "Gone" },
		{ 413, "Content Too Large" },
		{ 414, "URI Too Long" },
		{ 417, "Expectation Failed" },
		{ 431, "Request Header Fields Too Large" },
		{ 501, "Not Implemented" },
		{ 502, "Bad Gateway" },
		{ 503, "Service Unavailable" },
		{ 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" },
		{ 299, "Unknown" },
		{ 0, "Unknown" },
		{ 999, "Unknown" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(t); i++)
		assert_string_equal(http_reply_reason(t[i].status), t[i].want);
}

static void
test_reply_error_text(void **state)
{
	static const struct {
		int status;
		const char *want;
	} t[] = {
		{ 400, "bad request" },
		{ 404, "no route" },
		{ 408, "request timeout" },
		{ 413, "payload too large" },
		{ 414, "uri too long" },
		{ 431, "request header fields too large" },
		{ 501, "not implemented" },
		{ 502, "bad gateway" },
		{ 503, "service unavailable" },
		{ 504, "gateway timeout" },
		{ 505, "http version not supported" },
		{ 500, "error" },
		{ 418, "error" },
	};

	(void)state;
	for (size_t i = 0; i < NELEM(t); i++)
		assert_string_equal(http_reply_error_text(t[i].status),
		    t[i].want);
}

/* Content-Length values below are counted by hand. */
static const struct error_case error_cases[] = {
	{ "404 without detail", 404, NULL, false,
	    "HTTP/1.1 404 Not Found\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 21\r\n"
	    "\r\n"
	    "{\"error\":\"no route\"}\n" },
	{ "502 with detail", 502, "connection refused", false,
	    "HTTP/1.1 502 Bad Gateway\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 54\r\n"
	    "\r\n"
	    "{\"error\":\"bad gateway\",\"detail\":\"connection refused\"}\n" },
	{ "400 with close", 400, "content-length with transfer-encoding", true,
	    "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 73\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "{\"error\":\"bad request\","
	    "\"detail\":\"content-length with transfer-encoding\"}\n" },
	{ "empty detail kept", 503, "", false,
	    "HTTP/1.1 503 Service Unavailable\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 44\r\n"
	    "\r\n"
	    "{\"error\":\"service unavailable\",\"detail\":\"\"}\n" },
	{ "unknown status", 418, NULL, true,
	    "HTTP/1.1 418 Unknown\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 18\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "{\"error\":\"error\"}\n" },
	{ "detail escaped", 400, "say \"hi\" \\ \n\r\t\x01\x1f\x7f \xc3\xa9 /",
	    false,
	    "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 79\r\n"
	    "\r\n"
	    "{\"error\":\"bad request\",\"detail\":\"say \\\"hi\\\" \\\\ "
	    "\\n\\r\\t\\u0001\\u001f\\u007f \xc3\xa9 /\"}\n" },
	{ "detail cannot inject a field", 400, "x\r\nSet-Cookie: a=b", true,
	    "HTTP/1.1 400 Bad Request\r\n"
	    "Content-Type: application/json\r\n"
	    "Content-Length: 56\r\n"
	    "Connection: close\r\n"
	    "\r\n"
	    "{\"error\":\"bad request\",\"detail\":\"x\\r\\nSet-Cookie: a=b\"}"
	    "\n" },
};

static void
test_reply_error(void **state)
{
	size_t fails = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(error_cases); i++) {
		const struct error_case *c = &error_cases[i];
		struct evbuffer *out = out_new();

		http_reply_error(out, c->status, c->detail, c->close);
		if (!out_equals(out, c->want, strlen(c->want), c->id))
			fails++;
		evbuffer_free(out);
	}
	assert_int_equal(fails, 0);
}

/*
 * The body length after a head at `p` (n bytes, no MARK): parses the
 * Content-Length the head declares into *cl; returns the bytes after the
 * empty line.
 */
static size_t
body_after_head(const char *p, size_t n, size_t *cl)
{
	const char *end = memmem(p, n, "\r\n\r\n", 4);
	const char *f = memmem(p, n, "\r\nContent-Length: ", 18);

	assert_non_null(end);
	assert_non_null(f);
	assert_true(f < end);
	*cl = (size_t)strtoull(f + 18, NULL, 10);
	return n - (size_t)(end + 4 - p);
}

/* For every status and a range of details, Content-Length is the body. */
static void
test_reply_error_length(void **state)
{
	static const int statuses[] = { 400, 404, 408, 413, 414, 431, 500,
		501, 502, 503, 504, 505, 599 };
	static const char *const details[] = { NULL, "", "x", "\"\"\"\"",
		"\\\\", "\x01\x02\x03", "tab\there", "\xff\xfe",
		"a long detail that goes on for a while to be sure of it" };

	(void)state;
	for (size_t i = 0; i < NELEM(statuses); i++) {
		for (size_t j = 0; j < NELEM(details); j++) {
			struct evbuffer *out = evbuffer_new();
			size_t n, cl, body;
			const char *p;

			assert_non_null(out);
			http_reply_error(out, statuses[i], details[j],
			    (i + j) % 2 == 0);
			n = evbuffer_get_length(out);
			p = (const char *)evbuffer_pullup(out, -1);
			body = body_after_head(p, n, &cl);
			assert_int_equal(cl, body);
			assert_true(body > 2);
			assert_memory_equal(p + n - body, "{\"error\":\"", 10);
			assert_memory_equal(p + n - 2, "}\n", 2);
			/* no raw control bytes in the JSON */
			for (size_t k = n - body; k < n - 1; k++)
				assert_true((unsigned char)p[k] >= 0x20 &&
				    p[k] != 0x7f);
			evbuffer_free(out);
		}
	}
}

#define RESPOND_WANT(s) .want = s, .want_len = sizeof(s) - 1

static const struct respond_case respond_cases[] = {
	{ .id = "200 default content type", .status = 200,
	    .body = "hello\n", .body_len = 6, .minor = 1,
	    RESPOND_WANT("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			 "Content-Length: 6\r\n\r\nhello\n") },
	{ .id = "SPEC example 410", .status = 410,
	    .body = "Gone: use /reports/\n", .body_len = 20,
	    .ctype = "text/plain", .minor = 1,
	    RESPOND_WANT("HTTP/1.1 410 Gone\r\nContent-Type: text/plain\r\n"
			 "Content-Length: 20\r\n\r\nGone: use /reports/\n") },
	{ .id = "given content type", .status = 200, .body = "{}",
	    .body_len = 2, .ctype = "application/json", .minor = 1,
	    RESPOND_WANT("HTTP/1.1 200 OK\r\n"
			 "Content-Type: application/json\r\n"
			 "Content-Length: 2\r\n\r\n{}") },
	{ .id = "HEAD: same head, no body", .status = 200,
	    .body = "hello\n", .body_len = 6, .head_only = true, .minor = 1,
	    RESPOND_WANT("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			 "Content-Length: 6\r\n\r\n") },
	{ .id = "no body", .status = 200, .minor = 1,
	    RESPOND_WANT("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			 "Content-Length: 0\r\n\r\n") },
	{ .id = "binary body with NUL", .status = 200, .body = "a\0b",
	    .body_len = 3, .ctype = "application/octet-stream", .minor = 1,
	    RESPOND_WANT("HTTP/1.1 200 OK\r\n"
			 "Content-Type: application/octet-stream\r\n"
			 "Content-Length: 3\r\n\r\na\0b") },
	{ .id = "204: no body fields, no body", .status = 204,
	    .body = "ignored", .body_len = 7, .minor = 1,
	    RESPOND_WANT("HTTP/1.1 204 No Content\r\n\r\n") },
	{ .id = "304: no body fields, no body", .status = 304,
	    .body = "ignored", .body_len = 7, .ctype = "text/html",
	    .minor = 1,
	    RESPOND_WANT("HTTP/1.1 304 Not Modified\r\n\r\n") },
	{ .id = "204 for HEAD", .status = 204, .head_only = true,
	    .minor = 1,
	    RESPOND_WANT("HTTP/1.1 204 No Content\r\n\r\n") },
	{ .id = "1.0 client kept alive", .status = 200, .body = "ok",
	    .body_len = 2, .minor = 0,
	    RESPOND_WANT("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			 "Content-Length: 2\r\nConnection: keep-alive\r\n"
			 "\r\nok") },
	{ .id = "1.0 client, HEAD", .status = 200, .body = "ok",
	    .body_len = 2, .head_only = true, .minor = 0,
	    RESPOND_WANT("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			 "Content-Length: 2\r\nConnection: keep-alive\r\n"
			 "\r\n") },
	{ .id = "1.0 client, 204", .status = 204, .minor = 0,
	    RESPOND_WANT("HTTP/1.1 204 No Content\r\n"
			 "Connection: keep-alive\r\n\r\n") },
	{ .id = "1.0 client closing", .status = 200, .body = "ok",
	    .body_len = 2, .close = true, .minor = 0,
	    RESPOND_WANT("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			 "Content-Length: 2\r\nConnection: close\r\n\r\nok") },
	{ .id = "1.1 client closing", .status = 200, .body = "ok",
	    .body_len = 2, .close = true, .minor = 1,
	    RESPOND_WANT("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
			 "Content-Length: 2\r\nConnection: close\r\n\r\nok") },
	{ .id = "304 closing", .status = 304, .close = true, .minor = 1,
	    RESPOND_WANT("HTTP/1.1 304 Not Modified\r\n"
			 "Connection: close\r\n\r\n") },
	{ .id = "redirect", .status = 308, .body = "moved", .body_len = 5,
	    .minor = 1,
	    RESPOND_WANT("HTTP/1.1 308 Permanent Redirect\r\n"
			 "Content-Type: text/plain\r\nContent-Length: 5\r\n"
			 "\r\nmoved") },
};

static void
test_reply_respond(void **state)
{
	size_t fails = 0;

	(void)state;
	for (size_t i = 0; i < NELEM(respond_cases); i++) {
		const struct respond_case *c = &respond_cases[i];
		struct route_respond r;
		struct evbuffer *out = out_new();

		memset(&r, 0, sizeof(r));
		r.status = c->status;
		r.body = (char *)(uintptr_t)c->body;
		r.body_len = c->body_len;
		r.content_type = (char *)(uintptr_t)c->ctype;
		http_reply_respond(out, &r, c->head_only, c->close, c->minor);
		if (!out_equals(out, c->want, c->want_len, c->id))
			fails++;
		evbuffer_free(out);
	}
	assert_int_equal(fails, 0);
}

static void
test_reply_continue(void **state)
{
	static const char want[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct evbuffer *out = out_new();

	(void)state;
	http_reply_continue(out);
	assert_true(out_equals(out, want, sizeof(want) - 1, "continue"));
	http_reply_continue(out);
	assert_int_equal(evbuffer_get_length(out),
	    sizeof(MARK) - 1 + 2 * (sizeof(want) - 1));
	evbuffer_free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_request_host),
		cmocka_unit_test(test_request_hop_by_hop),
		cmocka_unit_test(test_request_connection_lists),
		cmocka_unit_test(test_request_forwarded),
		cmocka_unit_test(
		    test_request_connection_names_xff_drops_client_values),
		cmocka_unit_test(test_request_framing),
		cmocka_unit_test(test_request_upgrade),
		cmocka_unit_test(test_request_appends),
		cmocka_unit_test(test_response_status_line),
		cmocka_unit_test(test_response_hop_by_hop),
		cmocka_unit_test(test_response_connection),
		cmocka_unit_test(test_response_framing),
		cmocka_unit_test(test_response_codings),
		cmocka_unit_test(test_response_codings_quoted_param),
		cmocka_unit_test(test_response_keep_content_length),
		cmocka_unit_test(test_chunk_helpers),
		cmocka_unit_test(test_reply_reason),
		cmocka_unit_test(test_reply_error_text),
		cmocka_unit_test(test_reply_error),
		cmocka_unit_test(test_reply_error_length),
		cmocka_unit_test(test_reply_respond),
		cmocka_unit_test(test_reply_continue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
