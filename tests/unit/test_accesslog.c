/*
 * test_accesslog: line format, JSON escaping (checked by a strict JSON
 * parser below and, when available, by Python's json module), the writer
 * thread with two workers, reopen after rename, and a stuck reader that
 * must not block the workers. alarm() guards against a hang.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cutover/accesslog.h"
#include "cutover/strbuf.h"

#define NKEYS 18

static const char *const keys[NKEYS] = { "ts", "request_id", "client",
	"method", "path", "route", "upstream", "server", "status", "bytes_in",
	"bytes_out", "duration_ms", "upstream_ms", "tries", "breaker",
	"fallback", "shadow", "flags" };

enum jkind { J_NULL, J_STR, J_NUM, J_ARR, J_BOOL, J_OBJ };

/* One member of the top-level object; `val` is owned (decoded for strings). */
struct jmember {
	char *key;
	enum jkind kind;
	char *val; /* decoded string, or the raw text of anything else */
	size_t len;
};

struct jline {
	struct jmember m[32];
	int n;
};

struct jp {
	const unsigned char *s;
	size_t n, i;
};

static char *tmpdir;

static char *format_entry(const struct accesslog_entry *e);
static struct accesslog_entry sample_entry(void);
static bool jp_ws(struct jp *p);
static bool jp_lit(struct jp *p, const char *lit);
static bool jp_hex4(struct jp *p, unsigned *v);
static bool jp_utf8(struct jp *p, struct strbuf *dec);
static bool jp_string(struct jp *p, struct strbuf *dec);
static bool jp_number(struct jp *p);
static bool jp_value(struct jp *p, int depth, enum jkind *kind, struct strbuf *dec);
static bool json_parse_line(const char *s, size_t n, struct jline *out);
static void jline_free(struct jline *j);
static void check_line(const char *line, size_t n, struct jline *j);
static const struct jmember *jget(const struct jline *j, const char *key);
static char *slurp(const char *path, size_t *len);
static size_t count_lines(const char *s, size_t n);
static double now_s(void);
static char *tmp_path(const char *name);
static void rm_tmpdir(void);
static uint64_t rng_next(uint64_t *st);
static size_t rand_bytes(uint64_t *st, unsigned char *buf, size_t max, bool nul_ok);
static bool python_check(const char *path);
static void *thread_writer(void *arg);
static void *fifo_reader(void *arg);
static double time_writes(struct accesslog *log, const struct accesslog_entry *e, int n);
static void test_format_full(void **state);
static void test_format_nulls(void **state);
static void test_format_all_flags(void **state);
static void test_format_numbers(void **state);
static void test_format_timestamps(void **state);
static void test_escape_exact(void **state);
static void test_escape_fuzz(void **state);
static void test_off(void **state);
static void test_open_fail_and_stdout(void **state);
static void test_two_workers(void **state);
static void test_long_line(void **state);
static void test_reopen(void **state);
static void test_stuck_reader(void **state);
static void test_write_errors(void **state);

/* ---- helpers ---- */

static char *
format_entry(const struct accesslog_entry *e)
{
	struct strbuf b;

	strbuf_init(&b);
	accesslog_format(&b, e);
	return strbuf_detach(&b);
}

static struct accesslog_entry
sample_entry(void)
{
	struct accesslog_entry e = {
		.ts_unix_us = 1796150400123456ull, /* 2026-12-01T18:40:00.123456Z */
		.request_id = "01HZX3K9Q2",
		.client = "127.0.0.1",
		.method = { "GET", 3 },
		.path = { "/a?b=1", 6 },
		.route = "billing",
		.upstream = "billing",
		.server = "10.0.0.5:8080",
		.status = 200,
		.bytes_in = 123,
		.bytes_out = 4567,
		.duration_us = 1234,
		.upstream_us = 987,
		.tries = 1,
		.flags = ACCESSLOG_F_UF | ACCESSLOG_F_RX,
	};
	return e;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
tmp_path(const char *name)
{
	struct strbuf b;

	strbuf_init(&b);
	strbuf_addf(&b, "%s/%s", tmpdir, name);
	return strbuf_detach(&b);
}

/* Remove what a failed test left behind, then the directory. */
static void
rm_tmpdir(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *de;

	while (d != NULL && (de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *p = tmp_path(de->d_name);
		unlink(p);
		free(p);
	}
	if (d != NULL)
		closedir(d);
	rmdir(tmpdir);
}

static char *
slurp(const char *path, size_t *len)
{
	struct strbuf b;
	char buf[65536];
	int fd = open(path, O_RDONLY);
	ssize_t r;

	strbuf_init(&b);
	if (fd == -1) {
		*len = 0;
		return strbuf_detach(&b);
	}
	while ((r = read(fd, buf, sizeof(buf))) > 0)
		strbuf_add(&b, buf, (size_t)r);
	close(fd);
	*len = b.len;
	return strbuf_detach(&b);
}

static size_t
count_lines(const char *s, size_t n)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += s[i] == '\n';
	return c;
}

static uint64_t
rng_next(uint64_t *st)
{
	uint64_t x = *st;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *st = x;
}

/* Random bytes of several flavours: ASCII, raw high bytes, valid UTF-8, escapes. */
static size_t
rand_bytes(uint64_t *st, unsigned char *buf, size_t max, bool nul_ok)
{
	static const char *const pieces[] = { "\"", "\\", "\r\n", "\t", "\x01",
		"\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xed\xa0\x80",
		"\xc0\xaf", "\xf4\x90\x80\x80", "\xe2\x82", "\x80", "\xff", "\\u0041" };
	size_t n = (size_t)(rng_next(st) % max), i = 0;
	unsigned flavour = (unsigned)(rng_next(st) % 3);

	while (i < n) {
		uint64_t r = rng_next(st);
		unsigned char c;

		if (flavour == 2 || r % 4 == 0) {
			const char *p = pieces[(r >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t k = strlen(p);

			if (i + k > n)
				break;
			memcpy(buf + i, p, k);
			i += k;
			continue;
		}
		c = flavour == 0 ? (unsigned char)(0x20 + (r >> 8) % 95)
				 : (unsigned char)(r >> 8);
		if (c == 0 && !nul_ok)
			c = 1;
		buf[i++] = c;
	}
	return i;
}

/* ---- a strict JSON parser: RFC 8259 grammar, strict UTF-8 ---- */

static bool
jp_ws(struct jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
				  p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
	return p->i < p->n;
}

static bool
jp_lit(struct jp *p, const char *lit)
{
	size_t k = strlen(lit);

	if (p->n - p->i < k || memcmp(p->s + p->i, lit, k) != 0)
		return false;
	p->i += k;
	return true;
}

static bool
jp_hex4(struct jp *p, unsigned *v)
{
	*v = 0;
	if (p->n - p->i < 4)
		return false;
	for (int k = 0; k < 4; k++) {
		unsigned char c = p->s[p->i++];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			*v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			*v |= c - 'A' + 10;
		else
			return false;
	}
	return true;
}

/* Decode one raw UTF-8 sequence by code point (independent of the module's table). */
static bool
jp_utf8(struct jp *p, struct strbuf *dec)
{
	unsigned char c = p->s[p->i];
	size_t len;
	uint32_t cp;

	if ((c & 0xe0) == 0xc0) {
		len = 2;
		cp = c & 0x1f;
	} else if ((c & 0xf0) == 0xe0) {
		len = 3;
		cp = c & 0x0f;
	} else if ((c & 0xf8) == 0xf0) {
		len = 4;
		cp = c & 0x07;
	} else {
		return false;
	}
	if (p->n - p->i < len)
		return false;
	for (size_t k = 1; k < len; k++) {
		if ((p->s[p->i + k] & 0xc0) != 0x80)
			return false;
		cp = cp << 6 | (p->s[p->i + k] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
	    (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	strbuf_add(dec, p->s + p->i, len);
	p->i += len;
	return true;
}

/*
 * A string; `dec` gets its bytes, with \u00XX mapped back to the single
 * byte XX (the module's inverse for bytes that are not UTF-8).
 */
static bool
jp_string(struct jp *p, struct strbuf *dec)
{
	if (p->i >= p->n || p->s[p->i] != '"')
		return false;
	p->i++;
	while (p->i < p->n) {
		unsigned char c = p->s[p->i];
		unsigned v;

		if (c == '"') {
			p->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c >= 0x80) {
			if (!jp_utf8(p, dec))
				return false;
			continue;
		}
		p->i++;
		if (c != '\\') {
			strbuf_add(dec, &c, 1);
			continue;
		}
		if (p->i >= p->n)
			return false;
		c = p->s[p->i++];
		switch (c) {
		case '"': case '\\': case '/': strbuf_add(dec, &c, 1); break;
		case 'b': strbuf_add(dec, "\b", 1); break;
		case 'f': strbuf_add(dec, "\f", 1); break;
		case 'n': strbuf_add(dec, "\n", 1); break;
		case 'r': strbuf_add(dec, "\r", 1); break;
		case 't': strbuf_add(dec, "\t", 1); break;
		case 'u':
			if (!jp_hex4(p, &v))
				return false;
			if (v >= 0x100)
				return false; /* never produced by the module */
			c = (unsigned char)v;
			strbuf_add(dec, &c, 1);
			break;
		default:
			return false;
		}
	}
	return false;
}

static bool
jp_number(struct jp *p)
{
	size_t start;

	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i >= p->n)
		return false;
	if (p->s[p->i] == '0') {
		p->i++;
	} else if (p->s[p->i] >= '1' && p->s[p->i] <= '9') {
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
	} else {
		return false;
	}
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		start = p->i;
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
		if (p->i == start)
			return false;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		start = p->i;
		while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
			p->i++;
		if (p->i == start)
			return false;
	}
	return true;
}

static bool
jp_value(struct jp *p, int depth, enum jkind *kind, struct strbuf *dec)
{
	struct strbuf scratch;
	enum jkind k;
	bool ok;

	if (depth > 16 || !jp_ws(p))
		return false;
	switch (p->s[p->i]) {
	case '"':
		*kind = J_STR;
		return jp_string(p, dec);
	case 'n':
		*kind = J_NULL;
		return jp_lit(p, "null");
	case 't':
		*kind = J_BOOL;
		return jp_lit(p, "true");
	case 'f':
		*kind = J_BOOL;
		return jp_lit(p, "false");
	case '[':
		*kind = J_ARR;
		p->i++;
		if (!jp_ws(p))
			return false;
		if (p->s[p->i] == ']') {
			p->i++;
			return true;
		}
		for (;;) {
			strbuf_init(&scratch);
			ok = jp_value(p, depth + 1, &k, &scratch);
			strbuf_free(&scratch);
			if (!ok || !jp_ws(p))
				return false;
			if (p->s[p->i] == ']') {
				p->i++;
				return true;
			}
			if (p->s[p->i++] != ',')
				return false;
		}
	case '{':
		*kind = J_OBJ;
		p->i++;
		if (!jp_ws(p))
			return false;
		if (p->s[p->i] == '}') {
			p->i++;
			return true;
		}
		for (;;) {
			strbuf_init(&scratch);
			ok = jp_ws(p) && jp_string(p, &scratch) && jp_ws(p) &&
			    p->s[p->i++] == ':';
			strbuf_free(&scratch);
			strbuf_init(&scratch);
			ok = ok && jp_value(p, depth + 1, &k, &scratch);
			strbuf_free(&scratch);
			if (!ok || !jp_ws(p))
				return false;
			if (p->s[p->i] == '}') {
				p->i++;
				return true;
			}
			if (p->s[p->i++] != ',')
				return false;
		}
	default:
		*kind = J_NUM;
		return jp_number(p);
	}
}

/* Parse one line (without its '\n') as a JSON object and list its members. */
static bool
json_parse_line(const char *s, size_t n, struct jline *out)
{
	struct jp p = { (const unsigned char *)s, n, 0 };

	memset(out, 0, sizeof(*out));
	if (!jp_ws(&p) || p.s[p.i++] != '{')
		return false;
	for (;;) {
		struct jmember *m = &out->m[out->n];
		struct strbuf kb, vb;
		size_t start;
		bool ok;

		if (out->n == 32)
			return false;
		strbuf_init(&kb);
		strbuf_init(&vb);
		ok = jp_ws(&p) && jp_string(&p, &kb) && jp_ws(&p) &&
		    p.s[p.i++] == ':' && jp_ws(&p);
		start = p.i;
		ok = ok && jp_value(&p, 1, &m->kind, &vb);
		if (ok && m->kind != J_STR) {
			strbuf_free(&vb);
			strbuf_add(&vb, s + start, p.i - start);
		}
		m->len = vb.len;
		m->key = strbuf_detach(&kb);
		m->val = strbuf_detach(&vb);
		out->n++;
		if (!ok || !jp_ws(&p))
			return false;
		if (p.s[p.i] == '}') {
			p.i++;
			break;
		}
		if (p.s[p.i++] != ',')
			return false;
	}
	/* Nothing may follow the object. */
	return !jp_ws(&p);
}

static void
jline_free(struct jline *j)
{
	for (int i = 0; i < j->n; i++) {
		free(j->m[i].key);
		free(j->m[i].val);
	}
	j->n = 0;
}

/* Assert the line is valid JSON with exactly our keys in order. */
static void
check_line(const char *line, size_t n, struct jline *j)
{
	bool ok = json_parse_line(line, n, j);

	if (!ok)
		print_error("invalid JSON line: %.*s\n", (int)n, line);
	assert_true(ok);
	assert_int_equal(j->n, NKEYS);
	for (int i = 0; i < NKEYS; i++)
		assert_string_equal(j->m[i].key, keys[i]);
}

static const struct jmember *
jget(const struct jline *j, const char *key)
{
	for (int i = 0; i < j->n; i++)
		if (strcmp(j->m[i].key, key) == 0)
			return &j->m[i];
	fail_msg("no key %s", key);
	return NULL;
}

/* Python's json module as a second opinion; true when it agrees or is absent. */
static bool
python_check(const char *path)
{
	struct strbuf cmd;
	int rc;

	if (system("command -v python3 >/dev/null 2>&1") != 0)
		return true;
	strbuf_init(&cmd);
	strbuf_addf(&cmd,
	    "python3 -c 'import json,sys\n"
	    "keys=%s\n"
	    "n=0\n"
	    "for l in open(sys.argv[1],\"rb\"):\n"
	    "  o=json.loads(l.decode(\"utf-8\"))\n"
	    "  assert list(o.keys())==keys, o.keys()\n"
	    "  n+=1\n"
	    "print(n)' %s",
	    "[\"ts\",\"request_id\",\"client\",\"method\",\"path\",\"route\","
	    "\"upstream\",\"server\",\"status\",\"bytes_in\",\"bytes_out\","
	    "\"duration_ms\",\"upstream_ms\",\"tries\",\"breaker\",\"fallback\","
	    "\"shadow\",\"flags\"]",
	    path);
	FILE *f = popen(cmd.s, "r");
	char out[64] = "";

	strbuf_free(&cmd);
	if (f == NULL)
		return true;
	if (fgets(out, sizeof(out), f) == NULL)
		out[0] = '\0';
	rc = pclose(f);
	if (rc != 0)
		print_error("python3 rejected %s (output %s)\n", path, out);
	return rc == 0;
}

/* ---- formatting ---- */

static void
test_format_full(void **state)
{
	struct accesslog_entry e = sample_entry();
	char *s;

	(void)state;
	s = format_entry(&e);
	assert_string_equal(s,
	    "{\"ts\":\"2026-12-01T18:40:00.123Z\",\"request_id\":\"01HZX3K9Q2\","
	    "\"client\":\"127.0.0.1\",\"method\":\"GET\",\"path\":\"/a?b=1\","
	    "\"route\":\"billing\",\"upstream\":\"billing\","
	    "\"server\":\"10.0.0.5:8080\",\"status\":200,\"bytes_in\":123,"
	    "\"bytes_out\":4567,\"duration_ms\":1.234,\"upstream_ms\":0.987,"
	    "\"tries\":1,\"breaker\":null,\"fallback\":null,\"shadow\":null,"
	    "\"flags\":[\"UF\",\"RX\"]}\n");
	free(s);

	e.breaker = "half-open";
	e.fallback = "static";
	e.shadow = "billing-v2";
	e.flags = ACCESSLOG_F_FB;
	s = format_entry(&e);
	assert_non_null(strstr(s, ",\"breaker\":\"half-open\",\"fallback\":\"static\","
				  "\"shadow\":\"billing-v2\",\"flags\":[\"FB\"]}\n"));
	free(s);
}

static void
test_format_nulls(void **state)
{
	struct accesslog_entry e = { .ts_unix_us = 0, .upstream_us = -1 };
	char *s;

	(void)state;
	s = format_entry(&e);
	assert_string_equal(s,
	    "{\"ts\":\"1970-01-01T00:00:00.000Z\",\"request_id\":null,"
	    "\"client\":null,\"method\":null,\"path\":null,\"route\":null,"
	    "\"upstream\":null,\"server\":null,\"status\":0,\"bytes_in\":0,"
	    "\"bytes_out\":0,\"duration_ms\":0.000,\"upstream_ms\":null,"
	    "\"tries\":0,\"breaker\":null,\"fallback\":null,\"shadow\":null,"
	    "\"flags\":[]}\n");
	free(s);

	/* Empty but present strings are "", not null. */
	e.request_id = "";
	e.method.p = "";
	e.method.len = 0;
	s = format_entry(&e);
	assert_non_null(strstr(s, "\"request_id\":\"\",\"client\":null,\"method\":\"\","));
	free(s);
}

static void
test_format_all_flags(void **state)
{
	struct accesslog_entry e = sample_entry();
	char *s;

	(void)state;
	e.flags = 0x3ffu | 0xfc00u; /* unknown high bits are ignored */
	s = format_entry(&e);
	assert_non_null(strstr(s, ",\"flags\":[\"UF\",\"UT\",\"UR\",\"BO\",\"UO\","
				  "\"RX\",\"RB\",\"BL\",\"FB\",\"NR\"]}\n"));
	free(s);
	e.flags = ACCESSLOG_F_NR | ACCESSLOG_F_UF | ACCESSLOG_F_BO;
	s = format_entry(&e);
	assert_non_null(strstr(s, ",\"flags\":[\"UF\",\"BO\",\"NR\"]}\n"));
	free(s);
}

static void
test_format_numbers(void **state)
{
	static const struct {
		uint64_t us;
		const char *ms;
	} ms[] = {
		{ 0, "0.000" }, { 1, "0.001" }, { 10, "0.010" }, { 999, "0.999" },
		{ 1000, "1.000" }, { 1001, "1.001" }, { 123456789, "123456.789" },
		{ UINT64_MAX, "18446744073709551.615" },
	};
	struct accesslog_entry e = sample_entry();
	struct strbuf want;
	struct jline j;
	char *s;

	(void)state;
	for (size_t i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
		e.duration_us = ms[i].us;
		e.upstream_us = ms[i].us > INT64_MAX ? INT64_MAX : (int64_t)ms[i].us;
		s = format_entry(&e);
		strbuf_init(&want);
		strbuf_addf(&want, "\"duration_ms\":%s,", ms[i].ms);
		assert_non_null(strstr(s, want.s));
		strbuf_free(&want);
		free(s);
	}
	e.upstream_us = INT64_MAX;
	s = format_entry(&e);
	assert_non_null(strstr(s, "\"upstream_ms\":9223372036854775.807,"));
	free(s);
	e.upstream_us = 0;
	s = format_entry(&e);
	assert_non_null(strstr(s, "\"upstream_ms\":0.000,"));
	free(s);

	e.status = 504;
	e.bytes_in = UINT64_MAX;
	e.bytes_out = 9;
	e.tries = 4294967295u;
	s = format_entry(&e);
	assert_non_null(strstr(s, "\"status\":504,\"bytes_in\":18446744073709551615,"
				  "\"bytes_out\":9,"));
	assert_non_null(strstr(s, "\"tries\":4294967295,"));
	free(s);
	e.status = -1;
	s = format_entry(&e);
	assert_non_null(strstr(s, "\"status\":-1,"));
	check_line(s, strlen(s) - 1, &j);
	jline_free(&j);
	free(s);
	e.status = INT32_MIN;
	s = format_entry(&e);
	assert_non_null(strstr(s, "\"status\":-2147483648,"));
	free(s);
}

/* The hand-written civil date agrees with gmtime_r over a wide range. */
static void
test_format_timestamps(void **state)
{
	static const struct {
		uint64_t us;
		const char *ts;
	} fixed[] = {
		{ 951782400000000ull, "2000-02-29T00:00:00.000Z" },
		{ 1709251199999999ull, "2024-02-29T23:59:59.999Z" },
		{ 1735689599001000ull, "2024-12-31T23:59:59.001Z" },
		{ 4102444800000000ull, "2100-01-01T00:00:00.000Z" },
		{ 253402300799999000ull, "9999-12-31T23:59:59.999Z" },
	};
	struct accesslog_entry e = sample_entry();
	struct accesslog_worker *w;
	struct accesslog *log;
	uint64_t st = 0x9e3779b97f4a7c15ull;
	char want[64], *s, *got;
	const char *err = NULL;
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
		e.ts_unix_us = fixed[i].us;
		s = format_entry(&e);
		snprintf(want, sizeof(want), "{\"ts\":\"%s\",", fixed[i].ts);
		assert_memory_equal(s, want, strlen(want));
		free(s);
	}
	for (int i = 0; i < 5000; i++) {
		uint64_t us = rng_next(&st) % 253402300800000000ull;
		time_t sec = (time_t)(us / 1000000);
		struct tm tm;
		size_t n;

		gmtime_r(&sec, &tm);
		n = strftime(want, sizeof(want), "{\"ts\":\"%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(want + n, sizeof(want) - n, ".%03uZ\",",
		    (unsigned)(us % 1000000 / 1000));
		e.ts_unix_us = us;
		s = format_entry(&e);
		assert_memory_equal(s, want, strlen(want));
		free(s);
	}

	/* The per-worker cache of the second: same second, then the next one. */
	char *path = tmp_path("ts.log");
	log = accesslog_open(path, &err);
	assert_non_null(log);
	w = accesslog_worker_new(log);
	e.ts_unix_us = 1796150400999000ull;
	accesslog_write(w, &e);
	e.ts_unix_us = 1796150400000000ull;
	accesslog_write(w, &e);
	e.ts_unix_us = 1796150401000000ull;
	accesslog_write(w, &e);
	e.ts_unix_us = 1796150400500000ull;
	accesslog_write(w, &e);
	accesslog_worker_free(w);
	accesslog_close(log);
	got = slurp(path, &len);
	assert_int_equal(count_lines(got, len), 4);
	const char *p = got;
	const char *expect[] = { "2026-12-01T18:40:00.999Z", "2026-12-01T18:40:00.000Z",
		"2026-12-01T18:40:01.000Z", "2026-12-01T18:40:00.500Z" };
	for (int i = 0; i < 4; i++) {
		assert_memory_equal(p + 7, expect[i], strlen(expect[i]));
		p = strchr(p, '\n') + 1;
	}
	free(got);
	unlink(path);
	free(path);
}

/* ---- escaping ---- */

static void
test_escape_exact(void **state)
{
	static const struct {
		const char *in;
		size_t len;
		const char *out;
	} cases[] = {
#define C(in, out) { in, sizeof(in) - 1, out }
		C("plain", "\"plain\""),
		C("", "\"\""),
		C("a\"b", "\"a\\\"b\""),
		C("a\\b", "\"a\\\\b\""),
		C("\\\"", "\"\\\\\\\"\""),
		C("x\r\ny", "\"x\\r\\ny\""),
		C("\t\b\f", "\"\\t\\b\\f\""),
		C("\x01\x1f\x0b", "\"\\u0001\\u001f\\u000b\""),
		C("a\0b", "\"a\\u0000b\""),
		C("\x7f", "\"\\u007f\""),
		C("/</script>", "\"/</script>\""),
		C("\xc3\xa9", "\"\xc3\xa9\""),			/* é */
		C("\xe2\x82\xac", "\"\xe2\x82\xac\""),		/* € */
		C("\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""),	/* U+1F600 */
		C("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""),	/* U+10FFFF */
		C("\xef\xbf\xbf", "\"\xef\xbf\xbf\""),		/* U+FFFF */
		C("\xff", "\"\\u00ff\""),
		C("\x80", "\"\\u0080\""),			/* lone continuation */
		C("\xc0\xaf", "\"\\u00c0\\u00af\""),		/* overlong '/' */
		C("\xc1\xbf", "\"\\u00c1\\u00bf\""),
		C("\xe0\x80\xaf", "\"\\u00e0\\u0080\\u00af\""), /* overlong */
		C("\xed\xa0\x80", "\"\\u00ed\\u00a0\\u0080\""), /* surrogate */
		C("\xf4\x90\x80\x80", "\"\\u00f4\\u0090\\u0080\\u0080\""), /* > U+10FFFF */
		C("\xf5\x80", "\"\\u00f5\\u0080\""),
		C("\xe2\x82", "\"\\u00e2\\u0082\""),		/* truncated € */
		C("\xe2\x82x", "\"\\u00e2\\u0082x\""),
		C("a\xc3", "\"a\\u00c3\""),			/* truncated at the end */
		C("\xc3\xa9\xff\xc3\xa9", "\"\xc3\xa9\\u00ff\xc3\xa9\""),
		C("%00\"\\", "\"%00\\\"\\\\\""),
#undef C
	};
	struct accesslog_entry e = sample_entry();
	struct jline j;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct strbuf want;
		char *s;

		e.path.p = cases[i].in;
		e.path.len = cases[i].len;
		s = format_entry(&e);
		strbuf_init(&want);
		strbuf_addf(&want, ",\"path\":%s,\"route\":", cases[i].out);
		if (strstr(s, want.s) == NULL)
			fail_msg("case %zu: got %s want %s", i, s, want.s);
		check_line(s, strlen(s) - 1, &j);
		/* Decoding gives back the original bytes. */
		assert_int_equal(jget(&j, "path")->len, cases[i].len);
		assert_memory_equal(jget(&j, "path")->val, cases[i].in, cases[i].len);
		jline_free(&j);
		strbuf_free(&want);
		free(s);
	}
}

/* Arbitrary bytes in every string: each line is valid JSON and decodes back. */
static void
test_escape_fuzz(void **state)
{
	enum { N = 2000, MAXLEN = 48 };
	unsigned char buf[10][MAXLEN + 1];
	size_t lens[10];
	uint64_t st = 0x243f6a8885a308d3ull;
	char *path = tmp_path("fuzz.log");
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	for (int it = 0; it < N; it++) {
		struct accesslog_entry e = sample_entry();
		const char **strs[8] = { &e.request_id, &e.client, &e.route,
			&e.upstream, &e.server, &e.breaker, &e.fallback, &e.shadow };
		const char *names[10] = { "request_id", "client", "route",
			"upstream", "server", "breaker", "fallback", "shadow",
			"method", "path" };
		struct jline j;
		char *s;

		for (int k = 0; k < 10; k++) {
			lens[k] = rand_bytes(&st, buf[k], MAXLEN, k >= 8);
			buf[k][lens[k]] = '\0';
		}
		for (int k = 0; k < 8; k++)
			*strs[k] = (const char *)buf[k];
		e.method.p = (const char *)buf[8];
		e.method.len = lens[8];
		e.path.p = (const char *)buf[9];
		e.path.len = lens[9];
		e.flags = (uint32_t)rng_next(&st);
		e.ts_unix_us = rng_next(&st) % 4102444800000000ull;
		s = format_entry(&e);
		check_line(s, strlen(s) - 1, &j);
		assert_int_equal(strchr(s, '\n') - s, (ptrdiff_t)strlen(s) - 1);
		for (int k = 0; k < 10; k++) {
			const struct jmember *m = jget(&j, names[k]);

			assert_int_equal(m->kind, J_STR);
			assert_int_equal(m->len, lens[k]);
			assert_memory_equal(m->val, buf[k], lens[k]);
		}
		jline_free(&j);
		fputs(s, f);
		free(s);
	}
	assert_int_equal(fclose(f), 0);
	assert_true(python_check(path));
	unlink(path);
	free(path);
}

/* ---- the writer ---- */

static void
test_off(void **state)
{
	struct accesslog_entry e = sample_entry();
	const char *err = NULL;
	struct accesslog *log = accesslog_open(NULL, &err);
	struct accesslog_worker *w;
	double t0;

	(void)state;
	assert_non_null(log);
	w = accesslog_worker_new(log);
	assert_non_null(w);
	t0 = now_s();
	for (int i = 0; i < 100000; i++)
		accesslog_write(w, &e);
	assert_true(now_s() - t0 < 0.5);
	accesslog_flush(w);
	accesslog_reopen(log);
	assert_int_equal(accesslog_dropped(log), 0);
	accesslog_worker_free(w);
	accesslog_close(log);
}

static void
test_open_fail_and_stdout(void **state)
{
	const char *err = NULL;
	struct accesslog *log;

	(void)state;
	log = accesslog_open("/nonexistent-dir/cutover/access.log", &err);
	assert_null(log);
	assert_non_null(err);
	assert_int_equal(errno, ENOENT);

	/* "stdout": opened and closed without writing; fd 1 stays open. */
	err = NULL;
	log = accesslog_open("stdout", &err);
	assert_non_null(log);
	accesslog_reopen(log);
	struct accesslog_worker *w = accesslog_worker_new(log);
	accesslog_flush(w);
	accesslog_worker_free(w);
	accesslog_close(log);
	assert_true(fcntl(STDOUT_FILENO, F_GETFD) != -1);
}

struct writer_arg {
	struct accesslog *log;
	int id;
	int n;
};

static void *
thread_writer(void *arg)
{
	struct writer_arg *a = arg;
	struct accesslog_worker *w = accesslog_worker_new(a->log);
	struct accesslog_entry e = sample_entry();
	char id[32];

	for (int i = 0; i < a->n; i++) {
		snprintf(id, sizeof(id), "w%d-%06d", a->id, i);
		e.request_id = id;
		e.bytes_out = (uint64_t)i;
		e.path.p = i % 7 == 0 ? "/q?x=\"\\\xff\n" : "/a?b=1";
		e.path.len = strlen(e.path.p);
		accesslog_write(w, &e);
		if (i % 1000 == 999)
			accesslog_flush(w);
	}
	accesslog_worker_free(w);
	return NULL;
}

static void
test_two_workers(void **state)
{
	enum { N = 6000 }; /* per worker: ~5 MB in all, below the queue bound */
	char *path = tmp_path("two.log");
	const char *err = NULL;
	struct accesslog *log = accesslog_open(path, &err);
	struct writer_arg a[2];
	pthread_t t[2];
	int next[2] = { 0, 0 };
	char *data, *p, *nl;
	size_t len;

	(void)state;
	assert_non_null(log);
	for (int i = 0; i < 2; i++) {
		a[i] = (struct writer_arg){ log, i, N };
		assert_int_equal(pthread_create(&t[i], NULL, thread_writer, &a[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(accesslog_dropped(log), 0);
	accesslog_close(log);

	data = slurp(path, &len);
	assert_int_equal(count_lines(data, len), 2 * N);
	assert_true(len > 0 && data[len - 1] == '\n');
	for (p = data; p < data + len; p = nl + 1) {
		struct jline j;
		int wid, seq;

		nl = memchr(p, '\n', (size_t)(data + len - p));
		assert_non_null(nl);
		check_line(p, (size_t)(nl - p), &j);
		assert_int_equal(sscanf(jget(&j, "request_id")->val, "w%d-%d", &wid, &seq), 2);
		assert_true(wid == 0 || wid == 1);
		/* Each worker's lines arrive complete and in order. */
		assert_int_equal(seq, next[wid]);
		next[wid]++;
		jline_free(&j);
	}
	assert_int_equal(next[0], N);
	assert_int_equal(next[1], N);
	assert_true(python_check(path));
	free(data);
	unlink(path);
	free(path);
}

/* A line larger than a block gets a block of its own, and stays whole. */
static void
test_long_line(void **state)
{
	enum { BIG = 200 * 1024 };
	char *path = tmp_path("long.log");
	const char *err = NULL;
	struct accesslog *log = accesslog_open(path, &err);
	struct accesslog_worker *w;
	struct accesslog_entry e = sample_entry();
	char *big = xmalloc(BIG), *data, *p, *nl;
	size_t len;
	int n = 0;

	(void)state;
	assert_non_null(log);
	memset(big, '\xff', BIG);
	w = accesslog_worker_new(log);
	for (int i = 0; i < 5; i++) {
		e.path.p = i % 2 == 1 ? big : "/small";
		e.path.len = i % 2 == 1 ? BIG : 6;
		accesslog_write(w, &e);
	}
	accesslog_worker_free(w);
	accesslog_close(log);
	data = slurp(path, &len);
	assert_int_equal(count_lines(data, len), 5);
	for (p = data; p < data + len; p = nl + 1, n++) {
		struct jline j;

		nl = memchr(p, '\n', (size_t)(data + len - p));
		check_line(p, (size_t)(nl - p), &j);
		if (n % 2 == 1) {
			assert_int_equal(jget(&j, "path")->len, BIG);
			assert_memory_equal(jget(&j, "path")->val, big, BIG);
		} else {
			assert_string_equal(jget(&j, "path")->val, "/small");
		}
		jline_free(&j);
	}
	free(data);
	free(big);
	unlink(path);
	free(path);
}

static void
test_reopen(void **state)
{
	char *path = tmp_path("rot.log"), *rotated = tmp_path("rot.log.1");
	const char *err = NULL;
	struct accesslog *log = accesslog_open(path, &err);
	struct accesslog_worker *w;
	struct accesslog_entry e = sample_entry();
	char *data, *p;
	size_t len = 0;
	double deadline;

	(void)state;
	assert_non_null(log);
	w = accesslog_worker_new(log);
	e.request_id = "before";
	for (int i = 0; i < 10; i++)
		accesslog_write(w, &e);
	accesslog_flush(w);
	/* Poll, with a deadline, until the writer has written them. */
	deadline = now_s() + 5;
	for (;;) {
		data = slurp(path, &len);
		size_t n = count_lines(data, len);
		free(data);
		if (n == 10)
			break;
		assert_true(now_s() < deadline);
		usleep(1000);
	}
	assert_int_equal(rename(path, rotated), 0);
	accesslog_reopen(log);
	e.request_id = "after";
	for (int i = 0; i < 5; i++)
		accesslog_write(w, &e);
	accesslog_worker_free(w);
	accesslog_close(log);

	data = slurp(rotated, &len);
	assert_int_equal(count_lines(data, len), 10);
	for (p = data; (p = strstr(p, "\"request_id\":")) != NULL; p++)
		assert_memory_equal(p, "\"request_id\":\"before\"", 21);
	free(data);
	data = slurp(path, &len);
	assert_int_equal(count_lines(data, len), 5);
	for (p = data; (p = strstr(p, "\"request_id\":")) != NULL; p++)
		assert_memory_equal(p, "\"request_id\":\"after\"", 20);
	free(data);
	struct stat sb;
	mode_t um = umask(0);
	umask(um);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0644 & ~um);
	unlink(path);
	unlink(rotated);
	free(path);
	free(rotated);
}

struct reader_arg {
	int fd;
	size_t lines;
	size_t bytes;
};

static void *
fifo_reader(void *arg)
{
	struct reader_arg *r = arg;
	char buf[65536];
	ssize_t n;

	while ((n = read(r->fd, buf, sizeof(buf))) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		r->lines += count_lines(buf, (size_t)n);
		r->bytes += (size_t)n;
	}
	return NULL;
}

/* Seconds taken by `n` writes of `e` through a new worker of `log`. */
static double
time_writes(struct accesslog *log, const struct accesslog_entry *e, int n)
{
	struct accesslog_worker *w = accesslog_worker_new(log);
	double t0 = now_s();

	for (int i = 0; i < n; i++)
		accesslog_write(w, e);
	accesslog_flush(w);
	t0 = now_s() - t0;
	accesslog_worker_free(w);
	return t0;
}

/*
 * Nobody reads the FIFO: the writer thread blocks in write(2), the queue
 * fills, and the workers keep going, dropping and counting.
 */
static void
test_stuck_reader(void **state)
{
	enum { N = 100000 };
	char *path = tmp_path("fifo");
	const char *err = NULL;
	struct accesslog *log;
	struct accesslog_entry e = sample_entry();
	struct reader_arg r = { -1, 0, 0 };
	char longpath[256];
	pthread_t t;
	double base, dt;
	uint64_t dropped;

	(void)state;
	memset(longpath, 'p', sizeof(longpath) - 1);
	longpath[0] = '/';
	longpath[sizeof(longpath) - 1] = '\0';
	e.path.p = longpath;
	e.path.len = strlen(longpath);

	/* Baseline: the same writes to a log nothing holds back. */
	log = accesslog_open("/dev/null", &err);
	assert_non_null(log);
	base = time_writes(log, &e, N);
	accesslog_close(log);

	assert_int_equal(mkfifo(path, 0600), 0);
	/* A reader must exist for the log's open(O_WRONLY) not to block. */
	r.fd = open(path, O_RDONLY | O_NONBLOCK);
	assert_true(r.fd != -1);
	log = accesslog_open(path, &err);
	assert_non_null(log);
	dt = time_writes(log, &e, N);
	dropped = accesslog_dropped(log);
	print_message("stuck reader: %d writes in %.3f s (%.3f s unblocked), "
		      "%llu lines dropped\n",
	    N, dt, base, (unsigned long long)dropped);
	/*
	 * Well under a second on an idle machine even under ASan; the
	 * baseline keeps a loaded CI box from failing the test spuriously.
	 */
	assert_true(dt < 1.0 || dt < 3 * base);
	assert_true(dropped > 0);
	assert_true(dropped < N);

	/* Unblock: read everything until the writer closes on accesslog_close(). */
	assert_int_equal(fcntl(r.fd, F_SETFL, 0), 0);
	assert_int_equal(pthread_create(&t, NULL, fifo_reader, &r), 0);
	accesslog_close(log);
	pthread_join(t, NULL);
	close(r.fd);
	/* Every line was either written whole or counted as dropped. */
	assert_int_equal(r.lines + dropped, N);
	assert_int_equal(r.bytes % r.lines, 0); /* all lines have one length */
	unlink(path);
	free(path);
}

/*
 * Write errors: ENOSPC from /dev/full, then EPIPE from a FIFO whose reader
 * left. The writer drops, warns once per streak, and SIGPIPE does not kill
 * the process.
 */
static void
test_write_errors(void **state)
{
	struct accesslog_entry e = sample_entry();
	char *errpath = tmp_path("stderr.log"), *fifo = tmp_path("fifo-epipe");
	const char *err = NULL;
	struct accesslog *log;
	struct accesslog_worker *w;
	int saved, efd, rfd;
	char *data, *p;
	size_t len, warns = 0;

	(void)state;
	saved = dup(STDERR_FILENO);
	efd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(saved != -1 && efd != -1);
	assert_int_equal(dup2(efd, STDERR_FILENO), STDERR_FILENO);
	close(efd);

	log = accesslog_open("/dev/full", &err);
	assert_non_null(log);
	w = accesslog_worker_new(log);
	for (int i = 0; i < 5; i++) {
		accesslog_write(w, &e);
		accesslog_flush(w);
	}
	accesslog_worker_free(w);
	accesslog_close(log);

	assert_int_equal(mkfifo(fifo, 0600), 0);
	rfd = open(fifo, O_RDONLY | O_NONBLOCK);
	assert_true(rfd != -1);
	log = accesslog_open(fifo, &err);
	assert_non_null(log);
	close(rfd); /* the reader goes away: writes fail with EPIPE */
	w = accesslog_worker_new(log);
	for (int i = 0; i < 5; i++) {
		accesslog_write(w, &e);
		accesslog_flush(w);
	}
	accesslog_worker_free(w);
	accesslog_close(log);

	assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
	close(saved);
	data = slurp(errpath, &len);
	for (p = data; (p = strstr(p, "event=access_log_write ")) != NULL; p++)
		warns++;
	if (warns != 2)
		print_error("stderr was: %s\n", data);
	assert_int_equal(warns, 2); /* one a streak, one streak a log */
	assert_non_null(strstr(data, "err=\"Broken pipe\""));
	free(data);
	unlink(errpath);
	unlink(fifo);
	free(errpath);
	free(fifo);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_full),
		cmocka_unit_test(test_format_nulls),
		cmocka_unit_test(test_format_all_flags),
		cmocka_unit_test(test_format_numbers),
		cmocka_unit_test(test_format_timestamps),
		cmocka_unit_test(test_escape_exact),
		cmocka_unit_test(test_escape_fuzz),
		cmocka_unit_test(test_off),
		cmocka_unit_test(test_open_fail_and_stdout),
		cmocka_unit_test(test_two_workers),
		cmocka_unit_test(test_long_line),
		cmocka_unit_test(test_reopen),
		cmocka_unit_test(test_stuck_reader),
		cmocka_unit_test(test_write_errors),
	};
	char tmpl[] = "/tmp/test_accesslog.XXXXXX";
	int rc;

	alarm(60); /* watchdog: a hang kills the program, and the test fails */
	tmpdir = mkdtemp(tmpl);
	if (tmpdir == NULL) {
		perror("mkdtemp");
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rm_tmpdir();
	return rc;
}
