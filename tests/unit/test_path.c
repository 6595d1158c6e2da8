/*
 * test_path: request-target splitting, normalisation, segment-aware prefix
 * matching and the SPEC 4.1 rewrite table.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/path.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- normalisation */

struct norm_case {
	const char *in;
	const char *want; /* NULL: error */
};

static const struct norm_case norm_cases[] = {
	/* already normal */
	{ "/", "/" },
	{ "/a", "/a" },
	{ "/a/b/", "/a/b/" },
	{ "/api/billing/x", "/api/billing/x" },
	/* repeated slashes */
	{ "//", "/" },
	{ "///", "/" },
	{ "//a///b", "/a/b" },
	{ "/a//b//", "/a/b/" },
	/* dot segments */
	{ "/a/./b/../c", "/a/c" },
	{ "/.", "/" },
	{ "/./", "/" },
	{ "/a/.", "/a/" },
	{ "/a/..", "/" },
	{ "/a/../", "/" },
	{ "/a/b/..", "/a/" },
	{ "/a/b/../..", "/" },
	{ "/a/b/../../c", "/c" },
	{ "/a/./././b", "/a/b" },
	{ "/a//..", "/" },
	{ "/a/.b", "/a/.b" },
	{ "/a/..b", "/a/..b" },
	{ "/a/b..", "/a/b.." },
	{ "/a/.../b", "/a/.../b" },
	/* climbing above "/" */
	{ "/..", NULL },
	{ "/../a", NULL },
	{ "/a/../..", NULL },
	{ "/a/../../b", NULL },
	{ "/./..", NULL },
	{ "/a/%2e%2e/%2e%2e/b", NULL },
	{ "/%2E%2E", NULL },
	{ "/.%2e/etc/passwd", NULL },
	/* encoded dots are dots */
	{ "/a/%2e/b", "/a/b" },
	{ "/a/%2E%2E/b", "/b" },
	{ "/a/b/%2e%2E", "/a/" },
	{ "/a/.%2E/b", "/b" },
	/* encoded unreserved characters are decoded */
	{ "/%41%62%63", "/Abc" },
	{ "/%7euser", "/~user" },
	{ "/%7Euser", "/~user" },
	{ "/a%2Db%5Fc%2e", "/a-b_c." },
	{ "/%30%39", "/09" },
	/* other escapes kept, hex upper-cased */
	{ "/a%2fb", "/a%2Fb" },
	{ "/a%2Fb", "/a%2Fb" },
	{ "/a%2F..%2Fb", "/a%2F..%2Fb" },
	{ "/a/%2F/..", "/a/" },
	{ "/%2F", "/%2F" },
	{ "/a%20b", "/a%20b" },
	{ "/a%0d%0ab", "/a%0D%0Ab" },
	{ "/%0D%0ASet-Cookie:x", "/%0D%0ASet-Cookie:x" },
	{ "/%00", "/%00" },
	{ "/%c3%a9", "/%C3%A9" },
	{ "/%25", "/%25" },
	{ "/%3f", "/%3F" },
	/* reserved characters pass through */
	{ "/a;b=c/d,e", "/a;b=c/d,e" },
	{ "/a:b@c!$&'()*+", "/a:b@c!$&'()*+" },
	/* malformed escapes */
	{ "/%", NULL },
	{ "/a%", NULL },
	{ "/a%2", NULL },
	{ "/a%2g", NULL },
	{ "/a%g2", NULL },
	{ "/%%41", NULL },
	{ "/a%-1", NULL },
	/* bytes outside visible ASCII */
	{ "/a b", NULL },
	{ "/a\tb", NULL },
	{ "/a\rb", NULL },
	{ "/a\nb", NULL },
	{ "/a\x7f", NULL },
	{ "/caf\xc3\xa9", NULL },
	{ "/\x80", NULL },
	/* not a path */
	{ "", NULL },
	{ "a/b", NULL },
	{ "*", NULL },
};

static void
test_normalise_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(norm_cases); i++) {
		const struct norm_case *c = &norm_cases[i];
		size_t len = strlen(c->in), olen = 12345;
		char *out = malloc(len + 1); /* exactly what path.h promises */
		const char *why = NULL;
		int rc;

		assert_non_null(out);
		rc = path_normalise_ex(c->in, len, out, &olen, &why);
		if (c->want == NULL) {
			if (rc != -1)
				fail_msg("case %zu \"%s\": want error, "
					 "got \"%s\"", i, c->in, out);
			assert_non_null(why);
		} else {
			if (rc != 0)
				fail_msg("case %zu \"%s\": error %s", i, c->in,
				    why);
			if (strcmp(out, c->want) != 0 || olen != strlen(out))
				fail_msg("case %zu \"%s\": got \"%s\" "
					 "want \"%s\"", i, c->in, out, c->want);
			assert_true(olen <= len);
		}
		free(out);
	}
}

/* Normalising a normalised path changes nothing. */
static void
test_normalise_idempotent(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(norm_cases); i++) {
		const struct norm_case *c = &norm_cases[i];
		char a[256], b[256];
		size_t alen, blen;

		if (c->want == NULL)
			continue;
		assert_int_equal(path_normalise(c->in, strlen(c->in), a, &alen),
		    0);
		assert_int_equal(path_normalise(a, alen, b, &blen), 0);
		assert_string_equal(a, b);
	}
}

/* A length-bounded input: bytes after `len` are not read. */
static void
test_normalise_bounded(void **state)
{
	char out[8];
	size_t olen;

	(void)state;
	assert_int_equal(path_normalise("/a/b%zz", 4, out, &olen), 0);
	assert_string_equal(out, "/a/b");
	assert_int_equal(path_normalise("/a%41", 3, out, &olen), -1);
	assert_int_equal(path_normalise("/a\0b", 4, out, &olen), -1);
}

/* ---- target splitting */

struct split_case {
	const char *target;
	int rc;
	const char *authority; /* NULL: none */
	const char *path;
	const char *query; /* NULL: no '?' */
	bool absolute;
	bool asterisk;
};

static const struct split_case split_cases[] = {
	{ "/", 0, NULL, "/", NULL, false, false },
	{ "/a/b", 0, NULL, "/a/b", NULL, false, false },
	{ "/a?b=1&c=2", 0, NULL, "/a", "b=1&c=2", false, false },
	{ "/a?", 0, NULL, "/a", "", false, false },
	{ "/a?b?c", 0, NULL, "/a", "b?c", false, false },
	{ "/a?x=/y/../z", 0, NULL, "/a", "x=/y/../z", false, false },
	{ "//a", 0, NULL, "//a", NULL, false, false },
	{ "/%2e%2e/x", 0, NULL, "/%2e%2e/x", NULL, false, false },
	{ "*", 0, NULL, "*", NULL, false, true },
	{ "http://example.com/a?q=1", 0, "example.com", "/a", "q=1", true,
	    false },
	{ "https://example.com/a", 0, "example.com", "/a", NULL, true, false },
	{ "HTTP://Example.COM:8080/x/", 0, "Example.COM:8080", "/x/", NULL,
	    true, false },
	{ "HtTpS://h/", 0, "h", "/", NULL, true, false },
	{ "http://example.com", 0, "example.com", "/", NULL, true, false },
	{ "http://example.com?q", 0, "example.com", "/", "q", true, false },
	{ "http://[::1]:8080/p", 0, "[::1]:8080", "/p", NULL, true, false },
	{ "http://10.0.0.1/p?", 0, "10.0.0.1", "/p", "", true, false },
	/* errors */
	{ "", -1, NULL, NULL, NULL, false, false },
	{ "/a#frag", -1, NULL, NULL, NULL, false, false },
	{ "/a?b#frag", -1, NULL, NULL, NULL, false, false },
	{ "http://h/a#f", -1, NULL, NULL, NULL, false, false },
	{ "http://user@h/a", -1, NULL, NULL, NULL, false, false },
	{ "http://user:pw@h/a", -1, NULL, NULL, NULL, false, false },
	{ "http:///a", -1, NULL, NULL, NULL, false, false },
	{ "http://", -1, NULL, NULL, NULL, false, false },
	{ "ftp://h/a", -1, NULL, NULL, NULL, false, false },
	{ "http:/h/a", -1, NULL, NULL, NULL, false, false },
	{ "h/a", -1, NULL, NULL, NULL, false, false },
	{ "a", -1, NULL, NULL, NULL, false, false },
	{ "**", -1, NULL, NULL, NULL, false, false },
	{ "/a b", -1, NULL, NULL, NULL, false, false },
	{ "/a\r\n", -1, NULL, NULL, NULL, false, false },
	{ "/caf\xc3\xa9", -1, NULL, NULL, NULL, false, false },
	{ "/a?b\x01", -1, NULL, NULL, NULL, false, false },
	{ "http://h\"x/a", -1, NULL, NULL, NULL, false, false },
};

static void
assert_span(struct http_span s, const char *want, size_t i)
{
	if (s.len != strlen(want) ||
	    (s.len > 0 && memcmp(s.p, want, s.len) != 0))
		fail_msg("case %zu: got \"%.*s\" want \"%s\"", i, (int)s.len,
		    s.p, want);
}

static void
test_split_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(split_cases); i++) {
		const struct split_case *c = &split_cases[i];
		struct http_span t = { c->target, strlen(c->target) };
		struct target_parts tp;
		const char *why = NULL;
		int rc = path_split_target_ex(t, &tp, &why);

		if (rc != c->rc)
			fail_msg("case %zu \"%s\": rc %d want %d (%s)", i,
			    c->target, rc, c->rc, why ? why : "");
		if (rc == -1) {
			assert_non_null(why);
			continue;
		}
		assert_span(tp.path, c->path, i);
		assert_int_equal(tp.absolute, c->absolute);
		assert_int_equal(tp.asterisk, c->asterisk);
		if (c->authority != NULL)
			assert_span(tp.authority, c->authority, i);
		else
			assert_int_equal(tp.authority.len, 0);
		assert_int_equal(tp.has_query, c->query != NULL);
		assert_span(tp.query, c->query ? c->query : "", i);
	}
	/* the plain entry point agrees */
	{
		struct http_span t = { "/x#y", 4 };
		struct target_parts tp;

		assert_int_equal(path_split_target(t, &tp), -1);
	}
}

/* ---- prefix matching */

struct prefix_case {
	const char *prefix;
	const char *path;
	bool want;
};

static const struct prefix_case prefix_cases[] = {
	{ "/api/billing", "/api/billing", true },
	{ "/api/billing", "/api/billing/", true },
	{ "/api/billing", "/api/billing/x", true },
	{ "/api/billing", "/api/billing/x/y", true },
	{ "/api/billing", "/api/billingx", false },
	{ "/api/billing", "/api/billin", false },
	{ "/api/billing", "/api", false },
	{ "/api/billing", "/", false },
	{ "/api/billing", "/API/billing", false },
	{ "/api/billing", "/api/billing%2Fx", false },
	/* written with a trailing slash: the same */
	{ "/api/billing/", "/api/billing", true },
	{ "/api/billing/", "/api/billing/", true },
	{ "/api/billing/", "/api/billing/x", true },
	{ "/api/billing/", "/api/billingx", false },
	{ "/", "/", true },
	{ "/", "/anything", true },
	{ "/", "/a/b/", true },
};

static void
test_prefix_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(prefix_cases); i++) {
		const struct prefix_case *c = &prefix_cases[i];

		if (path_prefix_match(c->prefix, strlen(c->prefix), c->path,
			strlen(c->path)) != c->want)
			fail_msg("case %zu: prefix \"%s\" path \"%s\" want %d",
			    i, c->prefix, c->path, c->want);
	}
}

/* ---- rewrites: the SPEC 4.1 table and its corners */

struct rewrite_case {
	enum rewrite_kind kind;
	const char *from;
	const char *to;
	const char *path;
	const char *want;
};

static const struct rewrite_case rewrite_cases[] = {
	/* SPEC 4.1 */
	{ REWRITE_REPLACE_PREFIX, "/foo", "/xyz", "/foo/bar", "/xyz/bar" },
	{ REWRITE_REPLACE_PREFIX, "/foo", "/xyz", "/foo", "/xyz" },
	{ REWRITE_REPLACE_PREFIX, "/foo", "/xyz", "/foo/", "/xyz/" },
	{ REWRITE_REPLACE_PREFIX, "/foo", "/", "/foo/bar", "/bar" },
	{ REWRITE_REPLACE_PREFIX, "/foo", "/", "/foo", "/" },
	{ REWRITE_REPLACE_PREFIX, "/foo", "/", "/foo/", "/" },
	{ REWRITE_STRIP_PREFIX, "/foo", "/", "/foo/bar", "/bar" },
	{ REWRITE_STRIP_PREFIX, "/foo", "/", "/foo", "/" },
	{ REWRITE_STRIP_PREFIX, "/foo", "/", "/foo/", "/" },
	{ REWRITE_STRIP_PREFIX, "/foo", NULL, "/foo/bar", "/bar" },
	/* the SPEC 2 example routes */
	{ REWRITE_STRIP_PREFIX, "/api", "/", "/api/billing/x", "/billing/x" },
	{ REWRITE_REPLACE_PREFIX, "/api/billing", "/v2", "/api/billing/x",
	    "/v2/x" },
	{ REWRITE_REPLACE_PREFIX, "/api/billing", "/v2", "/api/billing",
	    "/v2" },
	/* never "//" */
	{ REWRITE_REPLACE_PREFIX, "/foo", "/xyz/", "/foo/bar", "/xyz/bar" },
	{ REWRITE_REPLACE_PREFIX, "/foo", "/xyz/", "/foo", "/xyz" },
	{ REWRITE_REPLACE_PREFIX, "/foo/", "/xyz", "/foo/bar", "/xyz/bar" },
	{ REWRITE_REPLACE_PREFIX, "/foo", "/a/b", "/foo/c/d/", "/a/b/c/d/" },
	/* from "/" */
	{ REWRITE_REPLACE_PREFIX, "/", "/v2", "/a/b", "/v2/a/b" },
	{ REWRITE_REPLACE_PREFIX, "/", "/v2", "/", "/v2" },
	{ REWRITE_REPLACE_PREFIX, "/", "/", "/a", "/a" },
	/* not under `from` (segment-aware): unchanged */
	{ REWRITE_REPLACE_PREFIX, "/foo", "/xyz", "/foobar", "/foobar" },
	{ REWRITE_STRIP_PREFIX, "/foo", "/", "/bar/foo", "/bar/foo" },
	/* none */
	{ REWRITE_NONE, NULL, NULL, "/a/b/", "/a/b/" },
	{ REWRITE_NONE, NULL, NULL, "/", "/" },
};

static void
test_rewrite_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(rewrite_cases); i++) {
		const struct rewrite_case *c = &rewrite_cases[i];
		struct route_rewrite rw = { c->kind, (char *)c->from,
			(char *)c->to };
		size_t len = strlen(c->path);
		size_t cap = len + (c->to ? strlen(c->to) : 1) + 2;
		char *out = malloc(cap);
		size_t n;

		assert_non_null(out);
		n = path_rewrite(&rw, c->path, len, out);
		if (n != strlen(c->want) || strcmp(out, c->want) != 0)
			fail_msg("case %zu: %s -> \"%s\" want \"%s\"", i,
			    c->path, out, c->want);
		assert_null(strstr(out, "//"));
		free(out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise_table),
		cmocka_unit_test(test_normalise_idempotent),
		cmocka_unit_test(test_normalise_bounded),
		cmocka_unit_test(test_split_table),
		cmocka_unit_test(test_prefix_table),
		cmocka_unit_test(test_rewrite_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
