/*
 * test_http_parse: the head parser against the hostile-input catalogue
 * (shared/research/reliability-anchors.md, rows R01-R55 and U01-U25 that
 * a head parser decides), plus the positive cases the proxy relies on.
 *
 * Every input is copied into a heap buffer of exactly its length before it
 * is parsed, so ASan reports any read past the end of what was received.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/http_parse.h"

#define NFIELDS 128

struct reject_case {
	const char *id;
	const char *in;
	size_t len;
	int status;
};

struct accept_case {
	const char *id;
	const char *in;
	size_t len;
	enum http_framing framing;
	uint64_t cl;
	uint32_t set;	/* flags that must be set */
	uint32_t clear; /* flags that must be clear */
	int minor;
};

struct resp_case {
	const char *id;
	const char *in;
	size_t len;
	enum http_method meth;
	enum http_parse_rc rc;
	enum http_framing framing;
	uint64_t cl;
	uint32_t set;
	uint32_t clear;
	int status;
};

/* One message under test: an exact-size copy of the input, and its head. */
struct msg {
	char *buf;
	size_t len;
	struct http_head h;
	struct http_field f[NFIELDS];
	struct http_error err;
	enum http_parse_rc rc;
};

static void msg_load(struct msg *, const char *, size_t);
static enum http_parse_rc msg_req(struct msg *, const char *, size_t,
    const struct http_limits *);
static enum http_parse_rc msg_resp(struct msg *, const char *, size_t,
    enum http_method);
static void msg_free(struct msg *);
static bool span_is(struct http_span, const char *);
static void check_spans(const struct msg *);
static char *make_big(size_t *, const char *, size_t, char, const char *);

static const struct http_limits lim = {
	.max_header_bytes = 32768,
	.max_target_bytes = 8192,
	.max_headers = 100,
};

#define S(s) s, sizeof(s) - 1
#define H "Host: a\r\n"
#define REQ(head) "POST / HTTP/1.1\r\n" H head "\r\n"

/* ---- rejected requests ------------------------------------------------ */

static const struct reject_case req_reject[] = {
	/* CL with TE, either order */
	{ "R01", S(REQ("Content-Length: 6\r\nTransfer-Encoding: chunked\r\n")
	    "0\r\n\r\nX"), 400 },
	{ "R02", S(REQ("Transfer-Encoding: chunked\r\nContent-Length: 3\r\n")
	    "8\r\nSMUGGLED\r\n0\r\n\r\n"), 400 },
	/* differing CL */
	{ "R03", S(REQ("Content-Length: 1\r\nContent-Length: 2\r\n") "ZZ"),
	    400 },
	{ "R03 list", S(REQ("Content-Length: 1, 2\r\n")), 400 },
	{ "R03 list+field", S(REQ("Content-Length: 1, 1\r\n"
	    "Content-Length: 2\r\n")), 400 },
	/* CL not 1*DIGIT */
	{ "R05 +1", S(REQ("Content-Length: +1\r\n")), 400 },
	{ "R05 -1", S(REQ("Content-Length: -1\r\n")), 400 },
	{ "R05 0x1", S(REQ("Content-Length: 0x1\r\n")), 400 },
	{ "R05 1_0", S(REQ("Content-Length: 1_0\r\n")), 400 },
	{ "R05 1Z", S(REQ("Content-Length: 1Z\r\n")), 400 },
	{ "R05 empty", S(REQ("Content-Length:\r\n")), 400 },
	{ "R05 space", S(REQ("Content-Length: \r\n")), 400 },
	{ "R05 arabic 3", S(REQ("Content-Length: \xd9\xa3\r\n")), 400 },
	{ "R05 1 1", S(REQ("Content-Length: 1 1\r\n")), 400 },
	{ "R05 empty elem", S(REQ("Content-Length: 1,\r\n")), 400 },
	{ "R05 lead comma", S(REQ("Content-Length: ,1\r\n")), 400 },
	/* CL overflow */
	{ "R07", S(REQ("Content-Length: 99999999999999999999999\r\n")), 400 },
	{ "R07 2^63", S(REQ("Content-Length: 9223372036854775808\r\n")), 400 },
	{ "R07 2^64", S(REQ("Content-Length: 18446744073709551616\r\n")), 400 },
	/* whitespace before the colon */
	{ "R08 SP", S(REQ("Content-Length : 1\r\n") "Z"), 400 },
	{ "R08 HTAB TE", S(REQ("Transfer-Encoding\t: chunked\r\n")), 400 },
	/* whitespace before the first field */
	{ "R09 SP", S("GET / HTTP/1.1\r\n Host: a\r\n\r\n"), 400 },
	{ "R09 HTAB CL", S("GET / HTTP/1.1\r\n\tContent-Length: 1\r\n" H
	    "\r\n"), 400 },
	/* obs-fold */
	{ "R10", S(REQ("X: a\r\n b\r\n")), 400 },
	{ "R10 HTAB", S(REQ("X: a\r\n\tb\r\n")), 400 },
	{ "R11", S(REQ("Transfer-Encoding:\r\n chunked\r\n")), 400 },
	/* transfer-codings */
	{ "R12 xchunked", S(REQ("Transfer-Encoding: xchunked\r\n")), 400 },
	{ "R12 chunked;ext", S(REQ("Transfer-Encoding: chunked;ext=val\r\n")),
	    501 },
	{ "R12 chunked; q", S(REQ("Transfer-Encoding: chunked ; a=\"x,y\"\r\n")),
	    501 },
	{ "R12 identity", S(REQ("Transfer-Encoding: identity\r\n")), 400 },
	{ "R13", S(REQ("Transfer-Encoding: chunked, chunked\r\n")), 400 },
	{ "R13 fields", S(REQ("Transfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n")), 400 },
	{ "R14", S(REQ("Transfer-Encoding: gzip\r\n")), 400 },
	{ "R14 after", S(REQ("Transfer-Encoding: chunked, gzip\r\n")), 400 },
	{ "R15", S(REQ("Transfer-Encoding: gzip, chunked\r\n")), 501 },
	{ "R15 fields", S(REQ("Transfer-Encoding: gzip\r\n"
	    "Transfer-Encoding: chunked\r\n")), 501 },
	{ "R16", S(REQ("Transfer-Encoding: ,chunked\r\n")), 400 },
	{ "R16 trailing", S(REQ("Transfer-Encoding: chunked,\r\n")), 400 },
	{ "R16 double", S(REQ("Transfer-Encoding: gzip,,chunked\r\n")), 400 },
	{ "R16 empty", S(REQ("Transfer-Encoding:\r\n")), 400 },
	{ "R17", S(REQ("Transfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: x\r\n")), 400 },
	{ "R18 VT", S(REQ("Transfer-Encoding: \x0b" "chunked\r\n")), 400 },
	{ "R18 NBSP", S(REQ("Transfer-Encoding: \xa0" "chunked\r\n")), 400 },
	{ "R18 param", S(REQ("Transfer-Encoding: chunked;\r\n")), 400 },
	{ "R18 unterminated", S(REQ("Transfer-Encoding: chunked;a=\"b\r\n")),
	    400 },
	{ "R19", S("POST / HTTP/1.0\r\n" H "Transfer-Encoding: chunked\r\n"
	    "\r\n0\r\n\r\n"), 400 },
	/* field names */
	{ "R20 x85", S(REQ("X\x85: v\r\n")), 400 },
	{ "R20 brackets", S(REQ("X[]: y\r\n")), 400 },
	{ "R20 NUL", S(REQ("Hea\0der: v\r\n")), 400 },
	{ "R20 LF", S(REQ("Te\nst: t\r\n")), 400 },
	{ "R21", S(REQ(": v\r\n")), 400 },
	{ "R21 before CL", S(REQ(":\r\nContent-Length: 1\r\n")), 400 },
	{ "R22 no colon", S(REQ("Test\r\n")), 400 },
	{ "R22 CL no colon", S(REQ("Content-Length 10\r\n")), 400 },
	{ "R22 split name", S(REQ("Transfer-\r\nEncoding: chunked\r\n")), 400 },
	/* field values */
	{ "R23 bare CR", S(REQ("X: a\rb\r\n")), 400 },
	{ "R23 CR terminator", S(REQ("X: a\rContent-Length: 10\r\n")), 400 },
	{ "R24 NUL", S(REQ("X: a\0b\r\n")), 400 },
	{ "R24 host NUL", S("GET / HTTP/1.1\r\nHost: google.com\0.kallus.org"
	    "\r\n\r\n"), 400 },
	{ "R25 BEL", S(REQ("X: test\x07\r\n")), 400 },
	{ "R25 DEL", S(REQ("X: te\x7fst\r\n")), 400 },
	{ "R25 ESC", S(REQ("X: \x1b[0m\r\n")), 400 },
	/* \r\n\r as the end of the head */
	{ "R27", S("GET / HTTP/1.1\r\n" H "\rZGET /evil: HTTP/1.1\r\n" H
	    "\r\n"), 400 },
	{ "R27 h1spec", S("GET / HTTP/1.1\r\n" H "\rSome-Header: Test\r\n"
	    "\r\n"), 400 },
	/* request line */
	{ "R39 NUL method", S("GE\0T / HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R39 separators", S("G=\":<>(e),[T];?\" /get HTTP/1.1\r\n" H "\r\n"),
	    400 },
	{ "R39 SP in line", S("GET /admin? HTTP/1.1 /static HTTP/1.1\r\n" H
	    "\r\n"), 400 },
	{ "R39 NUL first", S("\0 / HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R39 double SP", S("GET  / HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R39 HTAB", S("GET\t/ HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R39 trailing SP", S("GET / HTTP/1.1 \r\n" H "\r\n"), 400 },
	{ "R39 target CTL", S("GET /a\x01 HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R39 target 8bit", S("GET /\xc3\xa9 HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R39 bare CR line", S("GET / HTTP/1.1\r" H "\r\n"), 400 },
	/* target forms */
	{ "R40 GET *", S("GET * HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R40 relative", S("GET admin HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R40 authority", S("GET haproxy.org:80 HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R40 CONNECT /", S("CONNECT / HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R40 CONNECT a:443", S("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n"
	    "\r\n"), 400 },
	{ "R40 OPTIONS */test", S("OPTIONS */test HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R40 ftp", S("GET ftp://a/ HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R40 http:/", S("GET http:/a HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R40 empty authority", S("GET http:///x HTTP/1.1\r\n" H "\r\n"),
	    400 },
	{ "R40 userinfo", S("GET http://u@b/x HTTP/1.1\r\n" H "\r\n"), 400 },
	/* Host */
	{ "R42 missing", S("GET / HTTP/1.1\r\n\r\n"), 400 },
	{ "R42 missing absolute", S("GET http://b/ HTTP/1.1\r\n\r\n"), 400 },
	{ "R42 two", S("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400 },
	{ "R42 two same", S("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n"),
	    400 },
	{ "R42 a b", S("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400 },
	{ "R42 a/b", S("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400 },
	{ "R42 a@b", S("GET / HTTP/1.1\r\nHost: a@b\r\n\r\n"), 400 },
	{ "R42 empty", S("GET / HTTP/1.1\r\nHost:\r\n\r\n"), 400 },
	{ "R42 port", S("GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n"), 400 },
	{ "R42 port range", S("GET / HTTP/1.1\r\nHost: a:65536\r\n\r\n"), 400 },
	{ "R42 empty port", S("GET / HTTP/1.1\r\nHost: a:\r\n\r\n"), 400 },
	{ "R42 bad ipv6", S("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n"), 400 },
	{ "R42 bad pct", S("GET / HTTP/1.1\r\nHost: a%zz\r\n\r\n"), 400 },
	{ "R42 8bit", S("GET / HTTP/1.1\r\nHost: \xc3\xa9\r\n\r\n"), 400 },
	/* fragment */
	{ "R43", S("GET /a#b HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R43 absolute", S("GET http://a/x#y HTTP/1.1\r\n" H "\r\n"), 400 },
	/* versions */
	{ "R46 1.32", S("GET / HTTP/1.32\r\n" H "\r\n"), 400 },
	{ "R46 huge", S("GET / HTTP/4294967295.255\r\n" H "\r\n"), 400 },
	{ "R46 2.0", S("GET / HTTP/2.0\r\n" H "\r\n"), 505 },
	{ "R46 9.9", S("GET / HTTP/9.9\r\n" H "\r\n"), 505 },
	{ "R46 0.9", S("GET / HTTP/0.9\r\n" H "\r\n"), 505 },
	{ "R46 h2 preface", S("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505 },
	{ "R46 missing", S("GET / \r\n\r\n"), 400 },
	{ "R46 missing SP", S("GET /\r\n\r\n"), 400 },
	{ "R46 lower", S("GET / http/1.1\r\n" H "\r\n"), 400 },
	{ "R46 HTTP/1", S("GET / HTTP/1\r\n" H "\r\n"), 400 },
	{ "R46 HTTP/1.", S("GET / HTTP/1.\r\n" H "\r\n"), 400 },
	{ "R46 HTTP/11", S("GET / HTTP/11\r\n" H "\r\n"), 400 },
	/* leading junk */
	{ "R47 bare CR lead", S("\rGET / HTTP/1.1\r\n" H "\r\n"), 400 },
	{ "R47 too many", S("\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1"
	    "\r\n" H "\r\n"), 400 },
	/* Connection naming framing fields */
	{ "R52 CL", S("GET / HTTP/1.1\r\n" H "Connection: Content-Length\r\n"
	    "\r\n"), 400 },
	{ "R52 TE", S("GET / HTTP/1.1\r\n" H "Connection: close, "
	    "transfer-encoding\r\n\r\n"), 400 },
	{ "R52 Host", S("GET / HTTP/1.1\r\n" H "Connection: HOST\r\n\r\n"), 400 },
	{ "R52 bad token", S("GET / HTTP/1.1\r\n" H "Connection: close;x\r\n"
	    "\r\n"), 400 },
	/* garbage (S09) */
	{ "S09 TLS hello", S("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"),
	    400 },
};

/* ---- accepted requests ----------------------------------------------- */

static const struct accept_case req_accept[] = {
	{ "simple GET", S("GET / HTTP/1.1\r\nHost: a\r\n\r\n"),
	    HTTP_FRAMING_NONE, 0, 0, HTTP_F_CONN_CLOSE | HTTP_F_HAS_CL, 1 },
	{ "R04 equal fields", S(REQ("Content-Length: 1\r\n"
	    "Content-Length: 1\r\n") "Z"), HTTP_FRAMING_LENGTH, 1, HTTP_F_HAS_CL,
	    HTTP_F_HAS_TE, 1 },
	{ "R04 equal list", S(REQ("Content-Length: 1, 1\r\n") "Z"),
	    HTTP_FRAMING_LENGTH, 1, HTTP_F_HAS_CL, 0, 1 },
	{ "R06 010 is ten", S(REQ("Content-Length: 010\r\n") "0123456789"),
	    HTTP_FRAMING_LENGTH, 10, HTTP_F_HAS_CL, 0, 1 },
	{ "CL 0", S(REQ("Content-Length: 0\r\n")), HTTP_FRAMING_LENGTH, 0,
	    HTTP_F_HAS_CL, 0, 1 },
	{ "CL int64 max", S(REQ("Content-Length: 9223372036854775807\r\n")),
	    HTTP_FRAMING_LENGTH, INT64_MAX, HTTP_F_HAS_CL, 0, 1 },
	{ "CL many zeros", S(REQ("Content-Length: 00000000000000000000000007"
	    "\r\n")), HTTP_FRAMING_LENGTH, 7, HTTP_F_HAS_CL, 0, 1 },
	{ "chunked", S(REQ("Transfer-Encoding: chunked\r\n")),
	    HTTP_FRAMING_CHUNKED, 0, HTTP_F_HAS_TE, HTTP_F_HAS_CL, 1 },
	{ "chunked case", S(REQ("transfer-encoding: ChUnKeD\r\n")),
	    HTTP_FRAMING_CHUNKED, 0, HTTP_F_HAS_TE, 0, 1 },
	{ "chunked OWS", S(REQ("Transfer-Encoding: \t chunked \t\r\n")),
	    HTTP_FRAMING_CHUNKED, 0, HTTP_F_HAS_TE, 0, 1 },
	{ "R26 bare LF", S("GET / HTTP/1.1\nHost: a\n\n"), HTTP_FRAMING_NONE, 0,
	    0, HTTP_F_CONN_CLOSE, 1 },
	{ "R26 mixed", S("GET / HTTP/1.1\r\nHost: a\n\r\n"), HTTP_FRAMING_NONE,
	    0, 0, 0, 1 },
	{ "R37 GET body", S("GET / HTTP/1.1\r\n" H "Content-Length: 5\r\n\r\n"
	    "hello"), HTTP_FRAMING_LENGTH, 5, HTTP_F_HAS_CL, 0, 1 },
	{ "R41 absolute", S("GET http://b/x HTTP/1.1\r\nHost: a\r\n\r\n"),
	    HTTP_FRAMING_NONE, 0, HTTP_F_ABSOLUTE, HTTP_F_ASTERISK, 1 },
	{ "absolute https", S("GET HTTPS://b:8443?q HTTP/1.1\r\nHost: b\r\n"
	    "\r\n"), HTTP_FRAMING_NONE, 0, HTTP_F_ABSOLUTE, 0, 1 },
	{ "OPTIONS *", S("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"),
	    HTTP_FRAMING_NONE, 0, HTTP_F_ASTERISK, HTTP_F_ABSOLUTE, 1 },
	{ "R46 1.2", S("GET / HTTP/1.2\r\nHost: a\r\n\r\n"), HTTP_FRAMING_NONE,
	    0, 0, HTTP_F_CONN_CLOSE, 1 },
	{ "R46 1.9", S("GET / HTTP/1.9\r\nHost: a\r\n\r\n"), HTTP_FRAMING_NONE,
	    0, 0, 0, 1 },
	{ "R47 leading CRLF", S("\r\n\r\nGET / HTTP/1.1\r\n" H "\r\n"),
	    HTTP_FRAMING_NONE, 0, 0, 0, 1 },
	{ "R47 leading LF", S("\nGET / HTTP/1.1\r\n" H "\r\n"),
	    HTTP_FRAMING_NONE, 0, 0, 0, 1 },
	{ "1.0 close by default", S("GET / HTTP/1.0\r\n\r\n"),
	    HTTP_FRAMING_NONE, 0, HTTP_F_CONN_CLOSE, HTTP_F_CONN_KEEPALIVE, 0 },
	{ "1.0 keep-alive", S("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n"
	    "\r\n"), HTTP_FRAMING_NONE, 0, HTTP_F_CONN_KEEPALIVE,
	    HTTP_F_CONN_CLOSE, 0 },
	{ "1.1 keep-alive default", S("GET / HTTP/1.1\r\n" H "\r\n"),
	    HTTP_FRAMING_NONE, 0, 0, HTTP_F_CONN_CLOSE | HTTP_F_CONN_KEEPALIVE,
	    1 },
	{ "1.1 close", S("GET / HTTP/1.1\r\n" H "Connection: close\r\n\r\n"),
	    HTTP_FRAMING_NONE, 0, HTTP_F_CONN_CLOSE, 0, 1 },
	{ "1.1 close in list", S("GET / HTTP/1.1\r\n" H "Connection: foo,,"
	    " CLOSE \r\n\r\n"), HTTP_FRAMING_NONE, 0, HTTP_F_CONN_CLOSE, 0, 1 },
	{ "R51 hop-by-hop list", S("GET / HTTP/1.1\r\n" H "Connection: close,"
	    " X-Forwarded-For, X-Request-ID, X-Forwarded-Host\r\n\r\n"),
	    HTTP_FRAMING_NONE, 0, HTTP_F_CONN_CLOSE, 0, 1 },
	{ "R53 h2c", S("GET / HTTP/1.1\r\n" H "Upgrade: h2c\r\nHTTP2-Settings:"
	    " AAMAAABkAARAAAAAAAIAAAAA\r\nConnection: Upgrade, HTTP2-Settings"
	    "\r\n\r\n"), HTTP_FRAMING_NONE, 0,
	    HTTP_F_UPGRADE | HTTP_F_CONN_UPGRADE, HTTP_F_CONN_CLOSE, 1 },
	{ "websocket", S("GET /ws HTTP/1.1\r\n" H "Upgrade: websocket\r\n"
	    "Connection: keep-alive, Upgrade\r\n\r\n"), HTTP_FRAMING_NONE, 0,
	    HTTP_F_UPGRADE | HTTP_F_CONN_UPGRADE | HTTP_F_CONN_KEEPALIVE, 0, 1 },
	{ "upgrade without connection", S("GET / HTTP/1.1\r\n" H "Upgrade: x"
	    "\r\n\r\n"), HTTP_FRAMING_NONE, 0, HTTP_F_UPGRADE,
	    HTTP_F_CONN_UPGRADE, 1 },
	{ "R48 expect", S(REQ("Expect: 100-continue\r\nContent-Length: 3\r\n")),
	    HTTP_FRAMING_LENGTH, 3, HTTP_F_EXPECT_100, 0, 1 },
	{ "R48 expect case", S(REQ("expect: 100-Continue\r\n")),
	    HTTP_FRAMING_NONE, 0, HTTP_F_EXPECT_100, 0, 1 },
	{ "R50 expect foo", S(REQ("Expect: foo\r\n")), HTTP_FRAMING_NONE, 0, 0,
	    HTTP_F_EXPECT_100, 1 },
	{ "R50 expect y 100", S(REQ("Expect: y 100-continue\r\n")),
	    HTTP_FRAMING_NONE, 0, 0, HTTP_F_EXPECT_100, 1 },
	{ "R18 SP pre/post", S(REQ("Transfer-Encoding:  chunked  \r\n")),
	    HTTP_FRAMING_CHUNKED, 0, HTTP_F_HAS_TE, 0, 1 },
	{ "host forms", S("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"),
	    HTTP_FRAMING_NONE, 0, 0, 0, 1 },
	{ "host ipv4", S("GET / HTTP/1.1\r\nHost: 10.0.0.1:1\r\n\r\n"),
	    HTTP_FRAMING_NONE, 0, 0, 0, 1 },
	{ "host pct", S("GET / HTTP/1.1\r\nHost: a%2Db.example\r\n\r\n"),
	    HTTP_FRAMING_NONE, 0, 0, 0, 1 },
	{ "other method", S("PURGE /x HTTP/1.1\r\n" H "\r\n"), HTTP_FRAMING_NONE,
	    0, 0, 0, 1 },
	{ "obs-text value", S("GET / HTTP/1.1\r\n" H "X: caf\xc3\xa9\t!\r\n"
	    "\r\n"), HTTP_FRAMING_NONE, 0, 0, 0, 1 },
	{ "empty value", S("GET / HTTP/1.1\r\n" H "X:\r\nY: \r\n\r\n"),
	    HTTP_FRAMING_NONE, 0, 0, 0, 1 },
};

/* ---- responses -------------------------------------------------------- */

#define R200 "HTTP/1.1 200 OK\r\n"
static const struct resp_case resp[] = {
	{ "U01 CL+TE", S(R200 "Content-Length: 2\r\nTransfer-Encoding: chunked"
	    "\r\n\r\n0\r\n\r\n"), HTTP_M_GET, HTTP_PARSE_DONE,
	    HTTP_FRAMING_CHUNKED, 0, HTTP_F_NO_REUSE | HTTP_F_HAS_CL |
	    HTTP_F_HAS_TE, 0, 200 },
	{ "U02", S(R200 "Content-Length: 2\r\nContent-Length: 3\r\n\r\nabc"),
	    HTTP_M_GET, HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U03", S(R200 "Content-Length: abc\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U03 overflow", S(R200 "Content-Length: 99999999999999999999\r\n"
	    "\r\n"), HTTP_M_GET, HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U04", S(R200 "X: a\r\n b\r\nContent-Length: 0\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U08", S("HELLO\r\n\r\n"), HTTP_M_GET, HTTP_PARSE_ERROR, 0, 0, 0, 0,
	    502 },
	{ "U10 poisoning", S(R200 "Content-Length: 2\r\n\r\nokHTTP/1.1 200 OK"
	    "\r\nContent-Length: 4\r\n\r\nEVIL"), HTTP_M_GET, HTTP_PARSE_DONE,
	    HTTP_FRAMING_LENGTH, 2, 0, HTTP_F_NO_REUSE, 200 },
	{ "U11 101", S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket"
	    "\r\nConnection: upgrade\r\n\r\n"), HTTP_M_GET, HTTP_PARSE_DONE,
	    HTTP_FRAMING_NONE, 0, HTTP_F_UPGRADE | HTTP_F_CONN_UPGRADE, 0, 101 },
	{ "U12 100", S("HTTP/1.1 100 Continue\r\n\r\n"), HTTP_M_POST,
	    HTTP_PARSE_DONE, HTTP_FRAMING_NONE, 0, 0, 0, 100 },
	{ "U13 204", S("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
	    "hello"), HTTP_M_GET, HTTP_PARSE_DONE, HTTP_FRAMING_NONE, 0, 0, 0,
	    204 },
	{ "U13 304", S("HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n"
	    "\r\n"), HTTP_M_GET, HTTP_PARSE_DONE, HTTP_FRAMING_NONE, 0, 0, 0,
	    304 },
	{ "U13 HEAD", S(R200 "Content-Length: 5\r\n\r\n"), HTTP_M_HEAD,
	    HTTP_PARSE_DONE, HTTP_FRAMING_NONE, 0, 0, 0, 200 },
	{ "U13 HEAD chunked", S(R200 "Transfer-Encoding: chunked\r\n\r\n"),
	    HTTP_M_HEAD, HTTP_PARSE_DONE, HTTP_FRAMING_NONE, 0, 0, 0, 200 },
	{ "U14", S(R200 "X: a\rb\r\nContent-Length: 0\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U15 bare LF", S("HTTP/1.1 200 OK\nContent-Length: 2\n\nok"),
	    HTTP_M_GET, HTTP_PARSE_DONE, HTTP_FRAMING_LENGTH, 2, 0, 0, 200 },
	{ "U16 2000", S("HTTP/1.1 2000 OK\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U16 20", S("HTTP/1.1 20 OK\r\n\r\n"), HTTP_M_GET, HTTP_PARSE_ERROR,
	    0, 0, 0, 0, 502 },
	{ "U16 abc", S("HTTP/1.1 abc OK\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U16 no reason", S("HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n"),
	    HTTP_M_GET, HTTP_PARSE_DONE, HTTP_FRAMING_LENGTH, 0, 0, 0, 200 },
	{ "U16 empty reason", S("HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n"),
	    HTTP_M_GET, HTTP_PARSE_DONE, HTTP_FRAMING_LENGTH, 0, 0, 0, 200 },
	{ "U16 NUL reason", S("HTTP/1.1 200 O\0K\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U16 200 NUL", S("HTTP/1.1 200\0\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U16 099", S("HTTP/1.1 099 X\r\n\r\n"), HTTP_M_GET, HTTP_PARSE_ERROR,
	    0, 0, 0, 0, 502 },
	{ "U16 600", S("HTTP/1.1 600 X\r\n\r\n"), HTTP_M_GET, HTTP_PARSE_ERROR,
	    0, 0, 0, 0, 502 },
	{ "U16 HTTP/2", S("HTTP/2.0 200 OK\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U16 two SP", S("HTTP/1.1  200 OK\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U25 X Y", S(R200 "X Y: v\r\n\r\n"), HTTP_M_GET, HTTP_PARSE_ERROR, 0,
	    0, 0, 0, 502 },
	{ "U25 empty name", S(R200 ": v\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U25 NUL name", S(R200 "X\0: v\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "U25 SP colon", S(R200 "Content-Length : 0\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "chunked twice", S(R200 "Transfer-Encoding: chunked, chunked\r\n"
	    "\r\n"), HTTP_M_GET, HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "chunked params", S(R200 "Transfer-Encoding: chunked;a=b\r\n\r\n"),
	    HTTP_M_GET, HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "TE malformed", S(R200 "Transfer-Encoding: ,chunked\r\n\r\n"),
	    HTTP_M_GET, HTTP_PARSE_ERROR, 0, 0, 0, 0, 502 },
	{ "leading CRLF", S("\r\n" R200 "\r\n"), HTTP_M_GET, HTTP_PARSE_ERROR,
	    0, 0, 0, 0, 502 },
	{ "CL", S(R200 "Content-Length: 5\r\n\r\nhello"), HTTP_M_GET,
	    HTTP_PARSE_DONE, HTTP_FRAMING_LENGTH, 5, HTTP_F_HAS_CL,
	    HTTP_F_NO_REUSE | HTTP_F_CONN_CLOSE, 200 },
	{ "chunked", S(R200 "Transfer-Encoding: chunked\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_DONE, HTTP_FRAMING_CHUNKED, 0, HTTP_F_HAS_TE,
	    HTTP_F_NO_REUSE, 200 },
	{ "gzip, chunked", S(R200 "Transfer-Encoding: gzip, chunked\r\n\r\n"),
	    HTTP_M_GET, HTTP_PARSE_DONE, HTTP_FRAMING_CHUNKED, 0, HTTP_F_HAS_TE,
	    HTTP_F_NO_REUSE, 200 },
	{ "TE gzip only", S(R200 "Transfer-Encoding: gzip\r\n\r\n"), HTTP_M_GET,
	    HTTP_PARSE_DONE, HTTP_FRAMING_CLOSE, 0, HTTP_F_NO_REUSE, 0, 200 },
	{ "TE chunked, gzip", S(R200 "Transfer-Encoding: chunked, gzip\r\n"
	    "\r\n"), HTTP_M_GET, HTTP_PARSE_DONE, HTTP_FRAMING_CLOSE, 0,
	    HTTP_F_NO_REUSE, 0, 200 },
	{ "no framing", S(R200 "Server: x\r\n\r\nbody until close"),
	    HTTP_M_GET, HTTP_PARSE_DONE, HTTP_FRAMING_CLOSE, 0, HTTP_F_NO_REUSE,
	    0, 200 },
	{ "1.0 CL", S("HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx"),
	    HTTP_M_GET, HTTP_PARSE_DONE, HTTP_FRAMING_LENGTH, 1,
	    HTTP_F_CONN_CLOSE | HTTP_F_NO_REUSE, 0, 200 },
	{ "1.0 keep-alive", S("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	    "Content-Length: 1\r\n\r\nx"), HTTP_M_GET, HTTP_PARSE_DONE,
	    HTTP_FRAMING_LENGTH, 1, HTTP_F_CONN_KEEPALIVE,
	    HTTP_F_CONN_CLOSE | HTTP_F_NO_REUSE, 200 },
	{ "1.0 TE", S("HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n"), HTTP_M_GET, HTTP_PARSE_DONE,
	    HTTP_FRAMING_CHUNKED, 0, HTTP_F_NO_REUSE, HTTP_F_CONN_CLOSE, 200 },
	{ "1.1 close", S(R200 "Connection: close\r\nContent-Length: 0\r\n\r\n"),
	    HTTP_M_GET, HTTP_PARSE_DONE, HTTP_FRAMING_LENGTH, 0,
	    HTTP_F_CONN_CLOSE | HTTP_F_NO_REUSE, 0, 200 },
	{ "1.2 as 1.1", S("HTTP/1.2 404 Not Found\r\nContent-Length: 0\r\n"
	    "\r\n"), HTTP_M_GET, HTTP_PARSE_DONE, HTTP_FRAMING_LENGTH, 0, 0,
	    HTTP_F_CONN_CLOSE, 404 },
	{ "Connection: content-length ok", S(R200 "Connection: content-length"
	    "\r\nContent-Length: 0\r\n\r\n"), HTTP_M_GET, HTTP_PARSE_DONE,
	    HTTP_FRAMING_LENGTH, 0, 0, 0, 200 },
};

static void
msg_load(struct msg *m, const char *in, size_t n)
{
	/* malloc(0) may return NULL; keep a valid pointer for empty input */
	m->buf = malloc(n > 0 ? n : 1);
	assert_non_null(m->buf);
	memcpy(m->buf, in, n);
	m->len = n;
	http_head_init(&m->h, m->f, NFIELDS);
	memset(&m->err, 0, sizeof(m->err));
}

static enum http_parse_rc
msg_req(struct msg *m, const char *in, size_t n, const struct http_limits *l)
{
	msg_load(m, in, n);
	m->rc = http_parse_request(m->buf, m->len, &m->h, l, &m->err);
	return m->rc;
}

static enum http_parse_rc
msg_resp(struct msg *m, const char *in, size_t n, enum http_method meth)
{
	msg_load(m, in, n);
	m->rc = http_parse_response(m->buf, m->len, &m->h, meth, &lim, &m->err);
	return m->rc;
}

static void
msg_free(struct msg *m)
{
	free(m->buf);
	m->buf = NULL;
}

static bool
span_is(struct http_span s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

/* Every span of a parsed head lies inside the head. */
static void
check_spans(const struct msg *m)
{
	const char *lo = m->buf, *hi = m->buf + m->h.head_len;
	size_t i;

	assert_true(m->h.head_len <= m->len);
	assert_true(m->h.nfields <= m->h.max_fields);
	for (i = 0; i < m->h.nfields; i++) {
		const struct http_field *f = &m->h.fields[i];

		assert_true(f->name.len > 0);
		assert_true(f->name.p >= lo && f->name.p + f->name.len <= hi);
		assert_true(f->value.p >= lo && f->value.p + f->value.len <= hi);
		assert_null(memchr(f->value.p, '\r', f->value.len));
		assert_null(memchr(f->value.p, '\n', f->value.len));
	}
	if (m->h.host.len > 0)
		assert_true(m->h.host.p >= lo &&
		    m->h.host.p + m->h.host.len <= hi);
}

/* "prefix" + n copies of c + "suffix", heap-allocated. */
static char *
make_big(size_t *lenp, const char *prefix, size_t n, char c,
    const char *suffix)
{
	size_t a = strlen(prefix), z = strlen(suffix);
	char *s = malloc(a + n + z);

	assert_non_null(s);
	memcpy(s, prefix, a);
	memset(s + a, c, n);
	memcpy(s + a + n, suffix, z);
	*lenp = a + n + z;
	return s;
}

/* ---- tests ------------------------------------------------------------ */

static void
test_request_rejects(void **state)
{
	struct msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(req_reject) / sizeof(req_reject[0]); i++) {
		const struct reject_case *c = &req_reject[i];

		msg_req(&m, c->in, c->len, &lim);
		if (m.rc != HTTP_PARSE_ERROR || m.err.status != c->status)
			fail_msg("%s: rc %d status %d (%s), want %d", c->id,
			    m.rc, m.err.status,
			    m.err.reason ? m.err.reason : "-", c->status);
		assert_non_null(m.err.reason);
		assert_true(m.err.offset <= m.len);
		msg_free(&m);
	}
}

static void
test_request_accepts(void **state)
{
	struct msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(req_accept) / sizeof(req_accept[0]); i++) {
		const struct accept_case *c = &req_accept[i];

		msg_req(&m, c->in, c->len, &lim);
		if (m.rc != HTTP_PARSE_DONE)
			fail_msg("%s: rc %d status %d (%s)", c->id, m.rc,
			    m.err.status, m.err.reason ? m.err.reason : "-");
		check_spans(&m);
		if (m.h.framing != c->framing)
			fail_msg("%s: framing %d want %d", c->id, m.h.framing,
			    c->framing);
		if (c->framing == HTTP_FRAMING_LENGTH &&
		    m.h.content_length != c->cl)
			fail_msg("%s: cl %llu want %llu", c->id,
			    (unsigned long long)m.h.content_length,
			    (unsigned long long)c->cl);
		if ((m.h.flags & c->set) != c->set ||
		    (m.h.flags & c->clear) != 0)
			fail_msg("%s: flags %#x (set %#x clear %#x)", c->id,
			    m.h.flags, c->set, c->clear);
		if (m.h.version_minor != c->minor)
			fail_msg("%s: minor %d", c->id, m.h.version_minor);
		msg_free(&m);
	}
}

static void
test_responses(void **state)
{
	struct msg m;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(resp) / sizeof(resp[0]); i++) {
		const struct resp_case *c = &resp[i];

		msg_resp(&m, c->in, c->len, c->meth);
		if (m.rc != c->rc)
			fail_msg("%s: rc %d (%s) want %d", c->id, m.rc,
			    m.err.reason ? m.err.reason : "-", c->rc);
		if (c->rc == HTTP_PARSE_ERROR) {
			if (m.err.status != 502)
				fail_msg("%s: status %d", c->id, m.err.status);
			msg_free(&m);
			continue;
		}
		check_spans(&m);
		if (m.h.status != c->status)
			fail_msg("%s: status %d want %d", c->id, m.h.status,
			    c->status);
		if (m.h.framing != c->framing)
			fail_msg("%s: framing %d want %d", c->id, m.h.framing,
			    c->framing);
		if (c->framing == HTTP_FRAMING_LENGTH &&
		    m.h.content_length != c->cl)
			fail_msg("%s: cl %llu", c->id,
			    (unsigned long long)m.h.content_length);
		if ((m.h.flags & c->set) != c->set ||
		    (m.h.flags & c->clear) != 0)
			fail_msg("%s: flags %#x (set %#x clear %#x)", c->id,
			    m.h.flags, c->set, c->clear);
		msg_free(&m);
	}
}

/* R18: every odd byte before, inside and after "chunked". */
static void
test_te_mutations(void **state)
{
	static const char pre[] = "POST / HTTP/1.1\r\nHost: a\r\n"
				  "Transfer-Encoding: ";
	static const size_t at[3] = { 0, 4, 7 }; /* ^chunked chun^ked chunked^ */
	static const int extra[] = { 0x7f, 0xa0, 0xff };
	char in[256];
	struct msg m;
	int b, k, where;
	size_t n;

	(void)state;
	for (k = 0; k < 0x20 + 3; k++) {
		b = k < 0x20 ? k + 1 : extra[k - 0x20];
		for (where = 0; where < 3; where++) {
			n = sizeof(pre) - 1;
			memcpy(in, pre, n);
			memcpy(in + n, "chunked", at[where]);
			n += at[where];
			in[n++] = (char)b;
			memcpy(in + n, &"chunked"[at[where]], 7 - at[where]);
			n += 7 - at[where];
			memcpy(in + n, "\r\n\r\n", 4);
			n += 4;
			msg_req(&m, in, n, &lim);
			if (((b == ' ' || b == '\t') && where != 1) ||
			    (b == '\n' && where == 2)) {
				/*
				 * OWS around the value is trimmed, and a bare
				 * LF after it is just a line end: chunked
				 */
				if (m.rc != HTTP_PARSE_DONE ||
				    m.h.framing != HTTP_FRAMING_CHUNKED)
					fail_msg("byte %#x where %d: rc %d",
					    b, where, m.rc);
			} else if (m.rc != HTTP_PARSE_ERROR ||
			    m.err.status != 400) {
				fail_msg("byte %#x where %d: rc %d status %d",
				    b, where, m.rc, m.err.status);
			}
			msg_free(&m);
		}
	}
}

static void
test_simple_get_spans(void **state)
{
	static const char in[] = "GET /index.html?q=1 HTTP/1.1\r\n"
				 "Host: example.com \r\n"
				 "User-Agent:  curl/8 \t\r\n"
				 "Accept: */*\r\n\r\n";
	const struct http_field *f;
	struct msg m;

	(void)state;
	assert_int_equal(msg_req(&m, in, sizeof(in) - 1, &lim),
	    HTTP_PARSE_DONE);
	check_spans(&m);
	assert_int_equal(m.h.head_len, sizeof(in) - 1);
	assert_true(span_is(m.h.method, "GET"));
	assert_int_equal(m.h.meth, HTTP_M_GET);
	assert_true(span_is(m.h.target, "/index.html?q=1"));
	assert_int_equal(m.h.version_minor, 1);
	assert_int_equal(m.h.nfields, 3);
	/* R42: trailing OWS trimmed before anyone routes on it */
	assert_true(span_is(m.h.host, "example.com"));
	assert_true(span_is(m.h.fields[1].name, "User-Agent"));
	assert_true(span_is(m.h.fields[1].value, "curl/8"));
	f = http_head_find(&m.h, "user-agent");
	assert_non_null(f);
	assert_ptr_equal(f, &m.h.fields[1]);
	assert_null(http_head_find(&m.h, "X-None"));
	assert_int_equal(http_head_count(&m.h, "ACCEPT"), 1);
	assert_int_equal(http_head_count(&m.h, "Cookie"), 0);
	assert_int_equal(m.h.framing, HTTP_FRAMING_NONE);
	/* spans point into the buffer: nothing was copied */
	assert_ptr_equal(m.h.method.p, m.buf);
	msg_free(&m);
}

static void
test_many_headers(void **state)
{
	char in[8192];
	struct msg m;
	size_t n;
	int i;

	(void)state;
	n = (size_t)snprintf(in, sizeof(in), "GET / HTTP/1.1\r\nHost: a\r\n");
	for (i = 0; i < 99; i++)
		n += (size_t)snprintf(in + n, sizeof(in) - n, "X-%d: v%d\r\n",
		    i, i);
	n += (size_t)snprintf(in + n, sizeof(in) - n, "\r\n");
	assert_int_equal(msg_req(&m, in, n, &lim), HTTP_PARSE_DONE);
	assert_int_equal(m.h.nfields, 100);
	check_spans(&m);
	assert_true(span_is(m.h.fields[99].name, "X-98"));
	assert_true(span_is(m.h.fields[99].value, "v98"));
	msg_free(&m);

	/* S06 / R55: the 101st field is one too many */
	n -= 2;
	n += (size_t)snprintf(in + n, sizeof(in) - n, "X-last: v\r\n\r\n");
	assert_int_equal(msg_req(&m, in, n, &lim), HTTP_PARSE_ERROR);
	assert_int_equal(m.err.status, 431);
	msg_free(&m);
}

static void
test_field_array_bound(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\n"
				 "C: 3\r\n\r\n";
	struct http_field f[3];
	struct http_head h;
	struct http_error err;

	(void)state;
	/* max_fields below max_headers: the array bound wins */
	http_head_init(&h, f, 3);
	assert_int_equal(http_parse_request(in, sizeof(in) - 1, &h, &lim, &err),
	    HTTP_PARSE_ERROR);
	assert_int_equal(err.status, 431);
	/* no field array at all: any field is one too many */
	http_head_init(&h, NULL, 0);
	assert_int_equal(http_parse_request(in, sizeof(in) - 1, &h, &lim, &err),
	    HTTP_PARSE_ERROR);
	assert_int_equal(err.status, 431);
	http_head_init(&h, f, 3);
	assert_int_equal(http_parse_request("GET / HTTP/1.1\r\nHost: a\r\n"
	    "A: 1\r\nB: 2\r\n\r\n", 40, &h, &lim, &err), HTTP_PARSE_DONE);
	assert_int_equal(h.nfields, 3);
}

static void
test_limits(void **state)
{
	struct http_limits small = { 64, 16, 100 };
	struct msg m;
	size_t n;
	char *s;

	(void)state;
	/* R55: one 40 KB header */
	s = make_big(&n, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 40000, 'a',
	    "\r\n\r\n");
	assert_int_equal(msg_req(&m, s, n, &lim), HTTP_PARSE_ERROR);
	assert_int_equal(m.err.status, 431);
	msg_free(&m);
	/* ... also while the head is still incomplete */
	assert_int_equal(msg_req(&m, s, n - 4, &lim), HTTP_PARSE_ERROR);
	assert_int_equal(m.err.status, 431);
	msg_free(&m);
	free(s);

	/* R55: a 40 KB request-target is 414, complete or not */
	s = make_big(&n, "GET /", 40000, 'a', " HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(msg_req(&m, s, n, &lim), HTTP_PARSE_ERROR);
	assert_int_equal(m.err.status, 414);
	msg_free(&m);
	assert_int_equal(msg_req(&m, s, 35000, &lim), HTTP_PARSE_ERROR);
	assert_int_equal(m.err.status, 414);
	msg_free(&m);
	free(s);

	/* a target over max_target_bytes inside a small head: 414 */
	s = make_big(&n, "GET /", 16, 'a', " HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(msg_req(&m, s, n, &small), HTTP_PARSE_ERROR);
	assert_int_equal(m.err.status, 414);
	msg_free(&m);
	free(s);
	/* exactly max_target_bytes is fine */
	s = make_big(&n, "GET /", 15, 'a', " HTTP/1.1\r\nHost: a\r\n\r\n");
	assert_int_equal(msg_req(&m, s, n, &small), HTTP_PARSE_DONE);
	assert_int_equal(m.h.target.len, 16);
	msg_free(&m);
	free(s);

	/* head of exactly max_header_bytes: accepted; one more: 431 */
	s = make_big(&n, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 64 - 32, 'b',
	    "\r\n\r\n");
	assert_int_equal(n, 64);
	assert_int_equal(msg_req(&m, s, n, &small), HTTP_PARSE_DONE);
	msg_free(&m);
	free(s);
	s = make_big(&n, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 64 - 31, 'b',
	    "\r\n\r\n");
	assert_int_equal(msg_req(&m, s, n, &small), HTTP_PARSE_ERROR);
	assert_int_equal(m.err.status, 431);
	msg_free(&m);
	free(s);

	/* U17: a 100 KB response head */
	s = make_big(&n, "HTTP/1.1 200 OK\r\nX: ", 100000, 'a', "\r\n\r\n");
	assert_int_equal(msg_resp(&m, s, n, HTTP_M_GET), HTTP_PARSE_ERROR);
	assert_int_equal(m.err.status, 502);
	msg_free(&m);
	free(s);

	/* S06: 5,000 tiny headers */
	{
		char *big = malloc(5000 * 8 + 64);
		size_t k = 0;
		int i;

		assert_non_null(big);
		k += (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: a\r\n");
		for (i = 0; i < 5000; i++)
			k += (size_t)sprintf(big + k, "A: b\r\n");
		k += (size_t)sprintf(big + k, "\r\n");
		assert_int_equal(msg_req(&m, big, k, &lim), HTTP_PARSE_ERROR);
		assert_int_equal(m.err.status, 431);
		msg_free(&m);
		free(big);
	}
}

/*
 * Feed a head one byte at a time, the way a slow client sends it: AGAIN
 * until the last byte, DONE on it, and scan_pos never falls behind (the
 * search never re-reads more than two bytes).
 */
static void
test_byte_at_a_time(void **state)
{
	static const char *heads[] = {
		("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n"
		 "X-Long: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n\r\n"),
		"\r\n\r\nGET / HTTP/1.1\nHost: a\n\n",
		"GET / HTTP/1.1\r\nHost: a\r\n\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
	};
	struct http_field f[NFIELDS];
	struct http_head h;
	struct http_error err;
	enum http_parse_rc rc;
	size_t i, k, n;
	char *buf;

	(void)state;
	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		bool response = heads[i][0] == 'H';

		n = strlen(heads[i]);
		http_head_init(&h, f, NFIELDS);
		for (k = 0; k <= n; k++) {
			/* a fresh exact-size buffer each time, as after realloc */
			buf = malloc(k > 0 ? k : 1);
			assert_non_null(buf);
			memcpy(buf, heads[i], k);
			rc = response ?
			    http_parse_response(buf, k, &h, HTTP_M_GET, &lim,
				&err) :
			    http_parse_request(buf, k, &h, &lim, &err);
			if (k < n) {
				if (rc != HTTP_PARSE_AGAIN)
					fail_msg("head %zu: rc %d at %zu (%s)",
					    i, rc, k, err.reason);
				assert_true(h.scan_pos <= k);
				assert_true(h.scan_pos + 2 >= k);
			} else {
				assert_int_equal(rc, HTTP_PARSE_DONE);
				assert_int_equal(h.head_len, n);
			}
			free(buf);
		}
	}
}

/* Pipelining (R38): the head ends where it ends; what follows is not read. */
static void
test_pipelined(void **state)
{
	static const char in[] = "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
				 "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
				 "GET /3 HTTP/1.1\r\nHost: a b\r\n\r\n";
	struct msg m;
	size_t off;

	(void)state;
	assert_int_equal(msg_req(&m, in, sizeof(in) - 1, &lim),
	    HTTP_PARSE_DONE);
	assert_true(span_is(m.h.target, "/1"));
	off = m.h.head_len;
	assert_int_equal(off, 28);
	msg_free(&m);
	assert_int_equal(msg_req(&m, in + off, sizeof(in) - 1 - off, &lim),
	    HTTP_PARSE_DONE);
	assert_true(span_is(m.h.target, "/2"));
	off += m.h.head_len;
	msg_free(&m);
	assert_int_equal(msg_req(&m, in + off, sizeof(in) - 1 - off, &lim),
	    HTTP_PARSE_ERROR);
	assert_int_equal(m.err.status, 400);
	msg_free(&m);
}

static void
test_connection_lists(void **state)
{
	static const char in[] = "GET / HTTP/1.1\r\nHost: a\r\n"
				 "Connection: close, X-Forwarded-For\r\n"
				 "connection: x-real-ip,,\t Keep-Alive \r\n"
				 "X-Connection: x-other\r\n\r\n";
	struct http_span sp;
	struct msg m;

	(void)state;
	assert_int_equal(msg_req(&m, in, sizeof(in) - 1, &lim),
	    HTTP_PARSE_DONE);
#define LISTS(s) (sp.p = (s), sp.len = strlen(s), \
	http_head_connection_lists(&m.h, sp))
	/* R51: case-insensitive, across several Connection fields */
	assert_true(LISTS("x-forwarded-for"));
	assert_true(LISTS("X-Real-IP"));
	assert_true(LISTS("keep-alive"));
	assert_true(LISTS("close"));
	assert_false(LISTS("x-other"));
	assert_false(LISTS("x-forwarded"));
	assert_false(LISTS(""));
#undef LISTS
	assert_true(m.h.flags & HTTP_F_CONN_CLOSE);
	assert_true(m.h.flags & HTTP_F_CONN_KEEPALIVE);
	msg_free(&m);
}

static void
test_absolute_and_host(void **state)
{
	static const char in[] = "GET http://b:8080/x?y HTTP/1.1\r\n"
				 "Host: a\r\n\r\n";
	struct msg m;

	(void)state;
	assert_int_equal(msg_req(&m, in, sizeof(in) - 1, &lim),
	    HTTP_PARSE_DONE);
	/*
	 * R41: the parser reports both; the caller routes and forwards on
	 * the target's authority (RFC 9112 3.2.2).
	 */
	assert_true(m.h.flags & HTTP_F_ABSOLUTE);
	assert_true(span_is(m.h.target, "http://b:8080/x?y"));
	assert_true(span_is(m.h.host, "a"));
	msg_free(&m);

	/* HTTP/1.0 needs no Host; then host.len is 0 */
	assert_int_equal(msg_req(&m, S("GET / HTTP/1.0\r\n\r\n"), &lim),
	    HTTP_PARSE_DONE);
	assert_int_equal(m.h.host.len, 0);
	msg_free(&m);
}

static void
test_leading_lines_head_len(void **state)
{
	static const char in[] = "\r\n\nGET / HTTP/1.1\r\nHost: a\r\n\r\nX";
	struct msg m;

	(void)state;
	assert_int_equal(msg_req(&m, in, sizeof(in) - 1, &lim),
	    HTTP_PARSE_DONE);
	/* head_len covers the skipped lines: the caller drops all of it */
	assert_int_equal(m.h.head_len, sizeof(in) - 2);
	assert_ptr_equal(m.h.method.p, m.buf + 3);
	msg_free(&m);
	/* leading CRLFs alone: wait */
	assert_int_equal(msg_req(&m, S("\r\n\r\n\r"), &lim), HTTP_PARSE_AGAIN);
	msg_free(&m);
	assert_int_equal(msg_req(&m, "", 0, &lim), HTTP_PARSE_AGAIN);
	msg_free(&m);
}

static void
test_response_fields(void **state)
{
	static const char in[] = "HTTP/1.1 404 Not  Found\r\nServer: x\r\n"
				 "Content-Length: 0\r\n\r\n";
	struct msg m;

	(void)state;
	assert_int_equal(msg_resp(&m, in, sizeof(in) - 1, HTTP_M_GET),
	    HTTP_PARSE_DONE);
	check_spans(&m);
	assert_int_equal(m.h.status, 404);
	assert_true(span_is(m.h.reason, "Not  Found"));
	assert_int_equal(m.h.nfields, 2);
	/* a response needs no Host; Host in a response is just a field */
	assert_int_equal(m.h.host.len, 0);
	msg_free(&m);
	/* incomplete, and an impossible prefix */
	assert_int_equal(msg_resp(&m, S("HTT"), HTTP_M_GET), HTTP_PARSE_AGAIN);
	msg_free(&m);
	assert_int_equal(msg_resp(&m, S("HTX"), HTTP_M_GET), HTTP_PARSE_ERROR);
	assert_int_equal(m.err.status, 502);
	msg_free(&m);
}

static void
test_methods(void **state)
{
	static const struct {
		const char *s;
		enum http_method m;
		bool idem;
	} t[] = {
		{ "GET", HTTP_M_GET, true },
		{ "HEAD", HTTP_M_HEAD, true },
		{ "POST", HTTP_M_POST, false },
		{ "PUT", HTTP_M_PUT, true },
		{ "DELETE", HTTP_M_DELETE, true },
		{ "OPTIONS", HTTP_M_OPTIONS, true },
		{ "TRACE", HTTP_M_TRACE, true },
		{ "PATCH", HTTP_M_PATCH, false },
		{ "CONNECT", HTTP_M_CONNECT, false },
		{ "get", HTTP_M_OTHER, false },
		{ "PURGE", HTTP_M_OTHER, false },
		{ "GETX", HTTP_M_OTHER, false },
		{ "", HTTP_M_OTHER, false },
	};
	struct http_span s;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		s.p = t[i].s;
		s.len = strlen(t[i].s);
		assert_int_equal(http_method_from_span(s), t[i].m);
		assert_int_equal(http_method_idempotent(t[i].m), t[i].idem);
	}
	s.p = "Content-LENGTH";
	s.len = 14;
	assert_true(http_span_ieq(s, "content-length"));
	assert_false(http_span_ieq(s, "content-lengt"));
	s.len = 13;
	assert_false(http_span_ieq(s, "content-length"));
}

/* The compiler-built class table matches the grammar at a few points. */
static void
test_ctype(void **state)
{
	const char *tchars = "!#$%&'*+-.^_`|~09azAZ";
	int c;

	(void)state;
	for (; *tchars; tchars++)
		assert_true(http_parse_ctype[(unsigned char)*tchars] &
		    HTTP_CT_TCHAR);
	for (c = 0; c < 256; c++) {
		bool fv = c == '\t' || (c >= 0x20 && c != 0x7f);

		assert_int_equal(!!(http_parse_ctype[c] & HTTP_CT_FVCHAR), fv);
		assert_int_equal(!!(http_parse_ctype[c] & HTTP_CT_TARGET),
		    c >= 0x21 && c <= 0x7e);
		if (strchr("\"(),/:;<=>?@[\\]{} \t", c) != NULL && c != 0)
			assert_false(http_parse_ctype[c] & HTTP_CT_TCHAR);
		if (c >= 0x80 || c < 0x20)
			assert_false(http_parse_ctype[c] & HTTP_CT_TCHAR);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_rejects),
		cmocka_unit_test(test_request_accepts),
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_te_mutations),
		cmocka_unit_test(test_simple_get_spans),
		cmocka_unit_test(test_many_headers),
		cmocka_unit_test(test_field_array_bound),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_connection_lists),
		cmocka_unit_test(test_absolute_and_host),
		cmocka_unit_test(test_leading_lines_head_len),
		cmocka_unit_test(test_response_fields),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_ctype),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
