/*
 * test_shadow_compare: each rule of include/cutover/shadow_compare.h,
 * with the exact first-difference text, since that text is what an
 * operator reads in /shadow/mismatches: status, then header fields
 * (framing and ignored ones left out, names in any case, repeats joined),
 * then the body, as JSON values when both sides say JSON (key order,
 * whitespace and number spelling do not matter, ignore_json_fields
 * paths are left out) or byte for byte (kept bytes, length, digest past
 * CMP_MAX_BODY); and hostile input: control bytes, invalid UTF-8, NULs,
 * huge numbers, nesting past jansson's limit, text past CMP_DIFF_MAX.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/shadow_compare.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define JSON "Content-Type: application/json"
#define TEXT "Content-Type: text/plain"

static void capture(struct cmp_response *r, int status,
    const char *const *hdrs, const char *body, size_t blen);
static void check_text(const char *diff);
static void check_rules(const struct cmp_rules *rules,
    struct cmp_response *a, struct cmp_response *b, const char *want);
static void check_full(const struct cmp_rules *rules, int sa,
    const char *const *ha, const char *ba, int sb, const char *const *hb,
    const char *bb, const char *want);
static void check_hdrs(const struct cmp_rules *rules,
    const char *const *ha, const char *const *hb, const char *want);
static void check_body(const struct cmp_rules *rules, const char *ct,
    const char *ba, const char *bb, const char *want);
static void check_json(const char *const *ignore, size_t n,
    const char *ba, const char *bb, const char *want);
static void check_prefix(struct cmp_response *a, struct cmp_response *b,
    const char *want);
static void add_repeated(struct cmp_response *r, char c, size_t n);
static char *nested(size_t depth, const char *leaf);

/* ---- helpers */

/*
 * One finished response: hdrs are "Name: value" strings, NULL-ended;
 * the body goes in pieces of 7 bytes, to exercise the buffer growth.
 */
static void
capture(struct cmp_response *r, int status, const char *const *hdrs,
    const char *body, size_t blen)
{
	const char *colon;
	size_t i, k;

	cmp_response_init(r);
	cmp_response_set_status(r, status);
	for (i = 0; hdrs != NULL && hdrs[i] != NULL; i++) {
		colon = strchr(hdrs[i], ':');
		assert_non_null(colon);
		cmp_response_add_field(r, hdrs[i], (size_t)(colon - hdrs[i]),
		    colon + 2, strlen(colon + 2));
	}
	for (i = 0; i < blen; i += k) {
		k = blen - i < 7 ? blen - i : 7;
		cmp_response_add_body(r, body + i, k);
	}
	cmp_response_finish(r);
}

/* What every difference text must be: short, one line, no controls. */
static void
check_text(const char *diff)
{
	size_t i, n = strlen(diff);

	assert_true(n < CMP_DIFF_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)diff[i] < 0x20 || diff[i] == 0x7f)
			fail_msg("control byte 0x%02x at %zu in \"%s\"",
			    (unsigned char)diff[i], i, diff);
}

/* Compare, check the text (NULL: a match), free both. */
static void
check_rules(const struct cmp_rules *rules, struct cmp_response *a,
    struct cmp_response *b, const char *want)
{
	char diff[CMP_DIFF_MAX];
	bool same;

	memset(diff, 'Z', sizeof(diff));
	same = cmp_responses(rules, a, b, diff, sizeof(diff));
	if (want == NULL) {
		if (!same)
			fail_msg("expected a match, got \"%s\"", diff);
	} else {
		assert_false(same);
		check_text(diff);
		assert_string_equal(diff, want);
	}
	cmp_response_free(a);
	cmp_response_free(b);
}

static void
check_full(const struct cmp_rules *rules, int sa, const char *const *ha,
    const char *ba, int sb, const char *const *hb, const char *bb,
    const char *want)
{
	struct cmp_response a, b;

	capture(&a, sa, ha, ba, strlen(ba));
	capture(&b, sb, hb, bb, strlen(bb));
	check_rules(rules, &a, &b, want);
}

static void
check_hdrs(const struct cmp_rules *rules, const char *const *ha,
    const char *const *hb, const char *want)
{
	check_full(rules, 200, ha, "", 200, hb, "", want);
}

/* Both sides with Content-Type line `ct` (NULL: none). */
static void
check_body(const struct cmp_rules *rules, const char *ct, const char *ba,
    const char *bb, const char *want)
{
	const char *h[] = { ct, NULL };

	check_full(rules, 200, h, ba, 200, h, bb, want);
}

static void
check_json(const char *const *ignore, size_t n, const char *ba,
    const char *bb, const char *want)
{
	struct cmp_rules rules = { .ignore_json_fields = (char *const *)ignore,
		.nignore_json_fields = n };

	check_body(&rules, JSON, ba, bb, want);
}

/* Compare a and b, free them; the text must start with want. */
static void
check_prefix(struct cmp_response *a, struct cmp_response *b,
    const char *want)
{
	char diff[CMP_DIFF_MAX];

	assert_false(cmp_responses(NULL, a, b, diff, sizeof(diff)));
	check_text(diff);
	if (strncmp(diff, want, strlen(want)) != 0)
		fail_msg("\"%s\" does not start with \"%s\"", diff, want);
	cmp_response_free(a);
	cmp_response_free(b);
}

/* n bytes of c, in uneven pieces. */
static void
add_repeated(struct cmp_response *r, char c, size_t n)
{
	char buf[65521];
	size_t k;

	memset(buf, c, sizeof(buf));
	for (; n > 0; n -= k) {
		k = n < sizeof(buf) ? n : sizeof(buf);
		cmp_response_add_body(r, buf, k);
	}
}

/* "[[[...leaf...]]]", depth brackets deep. The caller frees it. */
static char *
nested(size_t depth, const char *leaf)
{
	size_t n = strlen(leaf);
	char *s = malloc(2 * depth + n + 1);

	assert_non_null(s);
	memset(s, '[', depth);
	memcpy(s + depth, leaf, n);
	memset(s + depth + n, ']', depth);
	s[2 * depth + n] = '\0';
	return s;
}

/* ---- status and headers */

static void
test_identical_match(void **state)
{
	const char *h[] = { JSON, "ETag: \"v1\"", "Cache-Control: no-store",
		NULL };

	(void)state;
	check_full(NULL, 200, h, "{\"a\":[1,2,{\"b\":null}]}", 200, h,
	    "{\"a\":[1,2,{\"b\":null}]}", NULL);
	check_body(NULL, NULL, "", "", NULL);
}

static void
test_status_differs(void **state)
{
	const char *ha[] = { "X-A: 1", NULL }, *hb[] = { "X-A: 2", NULL };

	(void)state;
	/* The status is looked at first, whatever else differs. */
	check_full(NULL, 200, ha, "a", 500, hb, "b", "status 200 != 500");
}

static void
test_header_value_differs(void **state)
{
	const char *ha[] = { "ETag: \"abc\"", NULL };
	const char *hb[] = { "ETag: \"abd\"", NULL };

	(void)state;
	check_hdrs(NULL, ha, hb, "header etag: \"abc\" != \"abd\"");
}

static void
test_header_missing(void **state)
{
	const char *one[] = { "X-New: 1", NULL }, *none[] = { NULL };

	(void)state;
	check_hdrs(NULL, one, none, "header x-new: missing in shadow");
	check_hdrs(NULL, none, one, "header x-new: missing in primary");
}

static void
test_header_name_case(void **state)
{
	const char *ha[] = { "ETag: x", "CONTENT-TYPE: text/plain", NULL };
	const char *hb[] = { "etag: x", "content-type: text/plain", NULL };

	(void)state;
	check_hdrs(NULL, ha, hb, NULL);
}

/* Ascending lower-case name: "a" before "B" before "c". */
static void
test_header_order(void **state)
{
	const char *ha[] = { "c: 1", "B: 1", "a: 1", NULL };
	const char *hb[] = { "c: 2", "b: 2", "A: 2", NULL };
	const char *hc[] = { "c: 2", "b: 2", "A: 1", NULL };

	(void)state;
	check_hdrs(NULL, ha, hb, "header a: 1 != 2");
	check_hdrs(NULL, ha, hc, "header b: 1 != 2");
}

static void
test_header_repeated_joined(void **state)
{
	const char *two[] = { "Vary: Accept", "X-B: 0", "vary: Origin", NULL };
	const char *one[] = { "X-B: 0", "Vary: Accept, Origin", NULL };
	const char *rev[] = { "Vary: Origin", "Vary: Accept", "X-B: 0", NULL };

	(void)state;
	check_hdrs(NULL, two, one, NULL);
	/* In the order received: a different order is a different value. */
	check_hdrs(NULL, two, rev,
	    "header vary: Accept, Origin != Origin, Accept");
}

static void
test_framing_headers_ignored(void **state)
{
	const char *ha[] = { "Content-Length: 10", "Connection: close",
		"Keep-Alive: timeout=5", "Proxy-Connection: keep-alive",
		"TE: trailers", "Trailer: X-Sum", "Upgrade: h2c", "X-A: 1",
		NULL };
	const char *hb[] = { "Transfer-Encoding: chunked",
		"connection: keep-alive", "X-A: 1", "CONTENT-LENGTH: 99",
		NULL };

	(void)state;
	check_hdrs(NULL, ha, hb, NULL);
}

static void
test_ignore_headers(void **state)
{
	char *const ig[] = { "date", "SERVER" };
	struct cmp_rules rules = { .ignore_headers = ig,
		.nignore_headers = NELEM(ig) };
	const char *ha[] = { "Date: Mon, 01 Jan 2024 00:00:00 GMT",
		"Server: old/1.0", "X-A: 1", NULL };
	const char *hb[] = { "DATE: Tue, 02 Jan 2024 00:00:00 GMT", "X-A: 1",
		NULL };
	const char *hc[] = { "X-A: 2", NULL };

	(void)state;
	check_hdrs(&rules, ha, hb, NULL);
	check_hdrs(&rules, ha, hc, "header x-a: 1 != 2");
}

/* Headers before the body. */
static void
test_header_before_body(void **state)
{
	const char *ha[] = { TEXT, "X-A: 1", NULL };
	const char *hb[] = { TEXT, "X-A: 2", NULL };

	(void)state;
	check_full(NULL, 200, ha, "a", 200, hb, "b", "header x-a: 1 != 2");
}

/* ---- JSON bodies */

static void
test_json_order_whitespace(void **state)
{
	(void)state;
	check_json(NULL, 0,
	    "{\"a\":1,\"b\":[1,2],\"c\":{\"x\":true,\"y\":null}}",
	    " {\n\t\"c\" : { \"y\" : null , \"x\" : true } ,\r\n"
	    " \"b\":[ 1 ,2 ],"
	    "\"a\":1 }\n",
	    NULL);
}

static void
test_json_numbers(void **state)
{
	(void)state;
	check_json(NULL, 0, "{\"n\":1}", "{\"n\":1.0}", NULL);
	check_json(NULL, 0, "{\"n\":100}", "{\"n\":1e2}", NULL);
	check_json(NULL, 0, "{\"n\":-0}", "{\"n\":0.0}", NULL);
	check_json(NULL, 0, "[0.5]", "[5e-1]", NULL);
	check_json(NULL, 0, "{\"n\":1}", "{\"n\":1.5}", "body $.n: 1 != 1.5");
	check_json(NULL, 0, "[0.1]", "[0.2]", "body $[0]: 0.1 != 0.2");
	/* 2^53 + 1 is no double: the real is 2^53, so they differ. */
	check_json(NULL, 0, "[9007199254740993]", "[9007199254740993.0]",
	    "body $[0]: 9007199254740993 != 9.00719925474099e15");
	/* Reals that 15 digits cannot tell apart are shown with 17. */
	check_json(NULL, 0, "[0.1]", "[0.10000000000000002]",
	    "body $[0]: 0.10000000000000001 != 0.10000000000000002");
	check_json(NULL, 0, "[1e300]", "[1e300]", NULL);
}

static void
test_json_nested_path(void **state)
{
	(void)state;
	check_json(NULL, 0,
	    "{\"items\":[{\"price\":1},{\"price\":2},{\"price\":3}]}",
	    "{\"items\":[{\"price\":1},{\"price\":2},{\"price\":4}]}",
	    "body $.items[2].price: 3 != 4");
	check_json(NULL, 0, "1", "2", "body $: 1 != 2");
	check_json(NULL, 0, "[true]", "[false]", "body $[0]: true != false");
	check_json(NULL, 0, "{\"a\":[[1,2]]}", "{\"a\":[[1,3]]}",
	    "body $.a[0][1]: 2 != 3");
}

static void
test_json_missing_key(void **state)
{
	(void)state;
	check_json(NULL, 0, "{\"user\":{\"email\":\"e\",\"name\":\"n\"}}",
	    "{\"user\":{\"name\":\"n\"}}",
	    "body $.user.email: missing in shadow");
	check_json(NULL, 0, "{\"user\":{\"name\":\"n\"}}",
	    "{\"user\":{\"email\":\"e\",\"name\":\"n\"}}",
	    "body $.user.email: missing in primary");
}

static void
test_json_array_length(void **state)
{
	(void)state;
	check_json(NULL, 0, "{\"items\":[1,2,3]}", "{\"items\":[1,2,3,4]}",
	    "body $.items: array length 3 != 4");
	/* The common elements come first. */
	check_json(NULL, 0, "{\"items\":[1,2,3]}", "{\"items\":[1,5,3,4]}",
	    "body $.items[1]: 2 != 5");
}

static void
test_json_types_differ(void **state)
{
	(void)state;
	check_json(NULL, 0, "{\"a\":1}", "{\"a\":\"1\"}",
	    "body $.a: 1 != \"1\"");
	check_json(NULL, 0, "{\"a\":null}", "{\"a\":[]}",
	    "body $.a: null != []");
	check_json(NULL, 0, "{\"a\":{\"b\":1}}", "{\"a\":[1]}",
	    "body $.a: {\"b\":1} != [1]");
}

/* Keys in byte order: "A" < "a" < "b", whatever order they came in. */
static void
test_json_first_difference_sorted(void **state)
{
	(void)state;
	check_json(NULL, 0, "{\"b\":1,\"a\":1,\"A\":1}",
	    "{\"b\":2,\"a\":2,\"A\":1}", "body $.a: 1 != 2");
	check_json(NULL, 0, "{\"ab\":1,\"a\":1}", "{\"ab\":2,\"a\":2}",
	    "body $.a: 1 != 2");
}

static void
test_ignore_json_top_level(void **state)
{
	const char *ig[] = { "generated_at" };

	(void)state;
	check_json(ig, 1, "{\"generated_at\":\"t1\",\"v\":1}",
	    "{\"v\":1,\"generated_at\":\"t2\"}", NULL);
	/* Present on one side only: left out all the same. */
	check_json(ig, 1, "{\"generated_at\":\"t1\",\"v\":1}", "{\"v\":1}",
	    NULL);
	check_json(ig, 1, "{\"generated_at\":1,\"v\":1}",
	    "{\"generated_at\":2,\"v\":2}", "body $.v: 1 != 2");
	/* Only at the top: a nested generated_at still counts. */
	check_json(ig, 1, "{\"x\":{\"generated_at\":1}}",
	    "{\"x\":{\"generated_at\":2}}", "body $.x.generated_at: 1 != 2");
}

static void
test_ignore_json_nested(void **state)
{
	const char *ig[] = { "meta.trace.id" };

	(void)state;
	check_json(ig, 1, "{\"meta\":{\"trace\":{\"id\":1,\"x\":1}}}",
	    "{\"meta\":{\"trace\":{\"id\":2,\"x\":1}}}", NULL);
	check_json(ig, 1, "{\"meta\":{\"trace\":{\"id\":1,\"x\":1}}}",
	    "{\"meta\":{\"trace\":{\"id\":2,\"x\":2}}}",
	    "body $.meta.trace.x: 1 != 2");
	check_json(ig, 1, "{\"id\":1}", "{\"id\":2}", "body $.id: 1 != 2");
	check_json(ig, 1, "{\"trace\":{\"id\":1}}", "{\"trace\":{\"id\":2}}",
	    "body $.trace.id: 1 != 2");
}

static void
test_ignore_json_star(void **state)
{
	const char *ig[] = { "*.id" };

	(void)state;
	check_json(ig, 1, "{\"a\":{\"id\":1,\"v\":1},\"b\":{\"id\":2}}",
	    "{\"a\":{\"id\":3,\"v\":1},\"b\":{\"id\":4}}", NULL);
	check_json(ig, 1, "{\"id\":1}", "{\"id\":2}", "body $.id: 1 != 2");
	check_json(ig, 1, "{\"a\":{\"b\":{\"id\":1}}}",
	    "{\"a\":{\"b\":{\"id\":2}}}", "body $.a.b.id: 1 != 2");
}

static void
test_ignore_json_arrays(void **state)
{
	const char *ig[] = { "items.id" }, *top[] = { "id" };

	(void)state;
	check_json(ig, 1, "{\"items\":[{\"id\":1,\"p\":1},{\"id\":2}]}",
	    "{\"items\":[{\"id\":9,\"p\":1},{\"id\":8}]}", NULL);
	check_json(ig, 1, "{\"items\":[[{\"id\":1}],[]]}",
	    "{\"items\":[[{\"id\":2}],[]]}", NULL);
	check_json(ig, 1, "{\"items\":[{\"id\":1,\"p\":1}]}",
	    "{\"items\":[{\"id\":9,\"p\":2}]}", "body $.items[0].p: 1 != 2");
	/* Through a top-level array too. */
	check_json(top, 1, "[{\"id\":1},{\"id\":3}]", "[{\"id\":2},{}]", NULL);
}

static void
test_ignore_json_several(void **state)
{
	const char *ig[] = { "a", "b.c", "*.*.d" };

	(void)state;
	check_json(ig, NELEM(ig),
	    "{\"a\":1,\"b\":{\"c\":1,\"e\":1},\"x\":{\"y\":{\"d\":1}}}",
	    "{\"a\":2,\"b\":{\"c\":2,\"e\":1},\"x\":{\"y\":{\"d\":2}}}", NULL);
}

/* ---- byte bodies */

static void
test_bytes_text(void **state)
{
	(void)state;
	check_body(NULL, TEXT, "hello world", "hello wOrld",
	    "body at byte 7: 'o' != 'O'");
	check_body(NULL, TEXT, "abc", "abcd", "body length 3 != 4");
	check_body(NULL, TEXT, "abc", "", "body length 3 != 0");
	/* Not JSON-typed: key order counts. */
	check_body(NULL, TEXT, "{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}",
	    "body at byte 2: 'a' != 'b'");
	check_body(NULL, NULL, "x", "x", NULL);
	check_body(NULL, "Content-Type: application/jsonx", "{ }", "{}",
	    "body at byte 1: ' ' != '}'");
}

static void
test_problem_json(void **state)
{
	(void)state;
	check_body(NULL,
	    "Content-Type: application/problem+json; charset=utf-8",
	    "{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", NULL);
	check_body(NULL, "Content-Type: APPLICATION/JSON ; charset=utf-8",
	    "{\"a\":1,\"b\":2}", "{\"b\":2,\"a\":1}", NULL);
	check_body(NULL, "Content-Type: application/vnd.api+json",
	    "[1]", "[2]", "body $[0]: 1 != 2");
}

/* Content-Type itself ignored, so the bodies are what differs. */
static void
test_one_side_json_type(void **state)
{
	char *const ig[] = { "content-type" };
	struct cmp_rules rules = { .ignore_headers = ig, .nignore_headers = 1 };
	const char *ha[] = { JSON, NULL }, *hb[] = { TEXT, NULL };

	(void)state;
	check_full(&rules, 200, ha, "{\"a\":1,\"b\":2}", 200, hb,
	    "{\"b\":2,\"a\":1}", "body at byte 2: 'a' != 'b'");
	check_full(&rules, 200, hb, "{\"a\":1}", 200, ha, "{\"a\":1}", NULL);
}

static void
test_one_side_invalid_json(void **state)
{
	struct cmp_response a, b;

	(void)state;
	capture(&a, 200, (const char *[]){ JSON, NULL }, "{\"a\":1}", 7);
	capture(&b, 200, (const char *[]){ JSON, NULL }, "{\"a\":", 5);
	check_prefix(&a, &b, "body not JSON in shadow (line 1 column ");
	capture(&a, 200, (const char *[]){ JSON, NULL }, "<html>", 6);
	capture(&b, 200, (const char *[]){ JSON, NULL }, "{}", 2);
	check_prefix(&a, &b, "body not JSON in primary (line 1 column ");
	/* An empty body is no JSON value. */
	capture(&a, 200, (const char *[]){ JSON, NULL }, "", 0);
	capture(&b, 200, (const char *[]){ JSON, NULL }, "{}", 2);
	check_prefix(&a, &b, "body not JSON in primary (");
}

static void
test_one_side_invalid_json_text(void **state)
{
	struct cmp_response a, b;
	char diff[CMP_DIFF_MAX];
	size_t n;

	(void)state;
	capture(&a, 200, (const char *[]){ JSON, NULL }, "[1]", 3);
	capture(&b, 200, (const char *[]){ JSON, NULL }, "[1] x", 5);
	assert_false(cmp_responses(NULL, &a, &b, diff, sizeof(diff)));
	check_text(diff);
	n = strlen(diff);
	assert_true(n > 0 && diff[n - 1] == ')');
	cmp_response_free(&a);
	cmp_response_free(&b);
}

static void
test_both_invalid_json(void **state)
{
	(void)state;
	check_body(NULL, JSON, "{\"a\":", "{\"b\":",
	    "body at byte 2: 'a' != 'b'");
	check_body(NULL, JSON, "not json", "not json", NULL);
}

static void
test_empty_bodies(void **state)
{
	(void)state;
	check_body(NULL, TEXT, "", "", NULL);
	check_body(NULL, JSON, "", "", NULL);
}

/* ---- bodies past CMP_MAX_BODY */

static void
test_big_kept_capped(void **state)
{
	struct cmp_response r;

	(void)state;
	cmp_response_init(&r);
	add_repeated(&r, 'x', CMP_MAX_BODY + 12345);
	cmp_response_finish(&r);
	assert_int_equal(r.body_len, CMP_MAX_BODY);
	assert_true(r.body_cap <= CMP_MAX_BODY);
	assert_true(r.body_total == CMP_MAX_BODY + 12345);
	assert_null(r.md);
	cmp_response_free(&r);
}

static void
test_big_equal(void **state)
{
	struct cmp_response a, b;

	(void)state;
	cmp_response_init(&a);
	cmp_response_init(&b);
	add_repeated(&a, 'x', CMP_MAX_BODY + 10);
	add_repeated(&b, 'x', CMP_MAX_BODY + 10);
	cmp_response_finish(&a);
	cmp_response_finish(&b);
	check_rules(NULL, &a, &b, NULL);
}

static void
test_big_differs_after_cap(void **state)
{
	struct cmp_response a, b;
	char buf[64];

	(void)state;
	cmp_response_init(&a);
	cmp_response_init(&b);
	add_repeated(&a, 'x', CMP_MAX_BODY + 10);
	add_repeated(&b, 'x', CMP_MAX_BODY + 9);
	cmp_response_add_body(&b, "y", 1);
	cmp_response_finish(&a);
	cmp_response_finish(&b);
	snprintf(buf, sizeof(buf), "body differs after byte %d", CMP_MAX_BODY);
	assert_string_equal(buf, "body differs after byte 1048576");
	check_rules(NULL, &a, &b, buf);
}

static void
test_big_length_differs(void **state)
{
	struct cmp_response a, b;

	(void)state;
	cmp_response_init(&a);
	cmp_response_init(&b);
	add_repeated(&a, 'x', CMP_MAX_BODY + 10);
	add_repeated(&b, 'x', CMP_MAX_BODY + 11);
	cmp_response_finish(&a);
	cmp_response_finish(&b);
	check_rules(NULL, &a, &b, "body length 1048586 != 1048587");
}

static void
test_big_differs_early(void **state)
{
	struct cmp_response a, b;

	(void)state;
	cmp_response_init(&a);
	cmp_response_init(&b);
	cmp_response_add_body(&a, "aaaaaX", 6);
	cmp_response_add_body(&b, "aaaaaY", 6);
	add_repeated(&a, 'x', CMP_MAX_BODY);
	add_repeated(&b, 'x', CMP_MAX_BODY + 1);
	cmp_response_finish(&a);
	cmp_response_finish(&b);
	check_rules(NULL, &a, &b, "body at byte 5: 'X' != 'Y'");
}

/* JSON past the cap is compared as bytes: key order counts again. */
static void
test_big_json_bytes(void **state)
{
	const char *h[] = { JSON, NULL };
	struct cmp_response a, b;

	(void)state;
	cmp_response_init(&a);
	cmp_response_init(&b);
	cmp_response_add_field(&a, h[0], 12, h[0] + 14, strlen(h[0] + 14));
	cmp_response_add_field(&b, h[0], 12, h[0] + 14, strlen(h[0] + 14));
	cmp_response_add_body(&a, "{\"a\":1,\"p\":\"", 12);
	cmp_response_add_body(&b, "{\"p\":\"", 6);
	add_repeated(&a, 'x', CMP_MAX_BODY);
	add_repeated(&b, 'x', CMP_MAX_BODY);
	cmp_response_add_body(&a, "\"}", 2);
	cmp_response_add_body(&b, "\",\"a\":1}", 8);
	cmp_response_finish(&a);
	cmp_response_finish(&b);
	check_rules(NULL, &a, &b, "body at byte 2: 'a' != 'p'");
}

/* ---- hostile input */

static void
test_diff_control_chars(void **state)
{
	const char *ha[] = { "X-V: a\nb\x01" "c\x7f" "d", NULL };
	const char *hb[] = { "X-V: e\xff\xc3\xa9\xc2\x85" "f", NULL };

	(void)state;
	/* Controls, C1 controls and stray bytes are '?', UTF-8 stays. */
	check_hdrs(NULL, ha, hb, "header x-v: a?b?c?d != e?\xc3\xa9?f");
	check_json(NULL, 0, "[\"a\\nb\\u0001\"]", "[\"c\"]",
	    "body $[0]: \"a\\nb\\u0001\" != \"c\"");
	check_body(NULL, TEXT, "a\n", "a\x01", "body at byte 1: 0x0a != 0x01");
}

static void
test_diff_bounded(void **state)
{
	char va[2000], vb[2000], diff[CMP_DIFF_MAX];
	const char *ha[] = { va, NULL }, *hb[] = { vb, NULL };
	struct cmp_response a, b;
	size_t i, n;

	(void)state;
	memcpy(va, "X-Long: ", 8);
	for (i = 8; i < sizeof(va) - 1; i++)
		va[i] = i % 50 == 0 ? '\n' : i % 51 == 0 ? '\x01' : 'v';
	va[sizeof(va) - 1] = '\0';
	memcpy(vb, va, sizeof(va));
	vb[sizeof(vb) - 2] = 'w';
	capture(&a, 200, ha, "", 0);
	capture(&b, 200, hb, "", 0);
	assert_false(cmp_responses(NULL, &a, &b, diff, sizeof(diff)));
	check_text(diff);
	n = strlen(diff);
	assert_true(n >= CMP_DIFF_MAX - 8);
	assert_memory_equal(diff + n - 3, "...", 3);
	assert_non_null(strstr(diff, "... != "));
	/* A smaller buffer is never overrun, the text only shorter. */
	memset(diff, 'Z', sizeof(diff));
	assert_false(cmp_responses(NULL, &a, &b, diff, 10));
	assert_int_equal(strlen(diff), 9);
	assert_int_equal(diff[10], 'Z');
	assert_false(cmp_responses(NULL, &a, &b, diff, 1));
	assert_string_equal(diff, "");
	assert_false(cmp_responses(NULL, &a, &b, NULL, 0));
	cmp_response_free(&a);
	cmp_response_free(&b);
}

/* A multi-byte character is never cut in two. */
static void
test_diff_utf8_cut(void **state)
{
	char va[1200], diff[CMP_DIFF_MAX];
	const char *ha[] = { va, NULL }, *hb[] = { "X-U: x", NULL };
	struct cmp_response a, b;
	size_t i, n;

	(void)state;
	memcpy(va, "X-U: ", 5);
	for (i = 5; i + 2 < sizeof(va); i += 2)
		memcpy(va + i, "\xc3\xa9", 2);
	va[i] = '\0';
	for (n = 20; n <= CMP_DIFF_MAX; n++) {
		capture(&a, 200, ha, "", 0);
		capture(&b, 200, hb, "", 0);
		assert_false(cmp_responses(NULL, &a, &b, diff, n));
		check_text(diff);
		/* "header x-u: " then whole é's, then "...". */
		for (i = 12; diff[i] == '\xc3'; i += 2)
			assert_int_equal((unsigned char)diff[i + 1], 0xa9);
		assert_true(diff[i] == '.' || diff[i] == '\0' ||
		    diff[i] == ' ');
		cmp_response_free(&a);
		cmp_response_free(&b);
	}
}

static void
test_deep_nesting(void **state)
{
	char *deep = nested(5000, "1"), *deep2 = nested(4999, "1");
	char *amax = nested(2047, "1"), *bmax = nested(2047, "2");
	struct cmp_response a, b;
	char diff[CMP_DIFF_MAX];
	size_t n;

	(void)state;
	/* Past jansson's depth: neither parses, so the bytes decide. */
	check_body(NULL, JSON, deep, deep, NULL);
	check_body(NULL, JSON, deep, deep2, "body at byte 4999: '[' != '1'");
	capture(&a, 200, (const char *[]){ JSON, NULL }, "[1]", 3);
	capture(&b, 200, (const char *[]){ JSON, NULL }, deep, strlen(deep));
	check_prefix(&a, &b, "body not JSON in shadow (");
	/* The deepest jansson parses (2047): walked to the leaf and back. */
	check_body(NULL, JSON, amax, amax, NULL);
	capture(&a, 200, (const char *[]){ JSON, NULL }, amax, strlen(amax));
	capture(&b, 200, (const char *[]){ JSON, NULL }, bmax, strlen(bmax));
	assert_false(cmp_responses(NULL, &a, &b, diff, sizeof(diff)));
	check_text(diff);
	n = strlen(diff);
	assert_true(strncmp(diff, "body $[0][0][0]", 15) == 0);
	assert_string_equal(diff + n - 11, "...: 1 != 2");
	cmp_response_free(&a);
	cmp_response_free(&b);
	free(deep);
	free(deep2);
	free(amax);
	free(bmax);
}

static void
test_nul_bytes(void **state)
{
	struct cmp_response a, b;

	(void)state;
	capture(&a, 200, (const char *[]){ TEXT, NULL }, "a\0b", 3);
	capture(&b, 200, (const char *[]){ TEXT, NULL }, "a\0c", 3);
	check_rules(NULL, &a, &b, "body at byte 2: 'b' != 'c'");
	capture(&a, 200, (const char *[]){ TEXT, NULL }, "a\0", 2);
	capture(&b, 200, (const char *[]){ TEXT, NULL }, "a\x01", 2);
	check_rules(NULL, &a, &b, "body at byte 1: 0x00 != 0x01");
	check_json(NULL, 0, "{\"a\":\"x\\u0000y\"}", "{\"a\":\"x\\u0000z\"}",
	    "body $.a: \"x\\u0000y\" != \"x\\u0000z\"");
	check_json(NULL, 0, "{\"a\":\"x\\u0000y\"}", "{\"a\":\"x\\u0000y\"}",
	    NULL);
	/* A raw NUL inside a JSON body is no JSON: both fail, bytes equal. */
	capture(&a, 200, (const char *[]){ JSON, NULL }, "[1]\0", 4);
	capture(&b, 200, (const char *[]){ JSON, NULL }, "[1]\0", 4);
	check_rules(NULL, &a, &b, NULL);
}

static void
test_invalid_utf8_json(void **state)
{
	struct cmp_response a, b;

	(void)state;
	check_body(NULL, JSON, "{\"a\":\"\xff\"}", "{\"a\":\"\xff\"}", NULL);
	check_body(NULL, JSON, "{\"a\":\"\xff\"}", "{\"a\":\"\xfe\"}",
	    "body at byte 6: 0xff != 0xfe");
	capture(&a, 200, (const char *[]){ JSON, NULL }, "[\"\xc3\"]", 4);
	capture(&b, 200, (const char *[]){ JSON, NULL }, "[\"\"]", 4);
	check_prefix(&a, &b, "body not JSON in primary (");
}

/* Numbers jansson cannot hold do not parse; both such: the bytes. */
static void
test_huge_numbers(void **state)
{
	struct cmp_response a, b;

	(void)state;
	check_json(NULL, 0, "{\"n\":1e400}", "{\"n\":1e400}", NULL);
	check_json(NULL, 0, "[123456789012345678901234567890]",
	    "[123456789012345678901234567890]", NULL);
	check_json(NULL, 0, "[-9223372036854775808]",
	    "[-9.223372036854775808e18]",
	    NULL);
	check_json(NULL, 0, "[9223372036854775807]",
	    "[9.223372036854775807e18]",
	    "body $[0]: 9223372036854775807 != 9.22337203685478e18");
	capture(&a, 200, (const char *[]){ JSON, NULL }, "[1e400]", 7);
	capture(&b, 200, (const char *[]){ JSON, NULL }, "[1]", 3);
	check_prefix(&a, &b, "body not JSON in primary (");
}

/* ---- capture and paths */

static void
test_finish_idempotent(void **state)
{
	struct cmp_response a, b;
	unsigned char d[32];

	(void)state;
	capture(&a, 200, NULL, "abc", 3);
	memcpy(d, a.digest, sizeof(d));
	cmp_response_finish(&a);
	assert_memory_equal(d, a.digest, sizeof(d));
	/* Bytes after the end are not part of it. */
	cmp_response_add_body(&a, "d", 1);
	assert_true(a.body_total == 3);
	capture(&b, 200, NULL, "abc", 3);
	check_rules(NULL, &a, &b, NULL);
}

static void
test_path_valid(void **state)
{
	static const char *const good[] = { "a", "a.b", "*.id", "*",
		"meta.trace.id", "items.*.x" };
	static const char *const bad[] = { "", ".a", "a.", "a..b", ".", "a*",
		"*b.c" };
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < NELEM(good); i++)
		if (!cmp_json_path_valid(good[i], &why))
			fail_msg("\"%s\" refused: %s", good[i], why);
	for (i = 0; i < NELEM(bad); i++) {
		why = NULL;
		if (cmp_json_path_valid(bad[i], &why))
			fail_msg("\"%s\" accepted", bad[i]);
		assert_non_null(why);
	}
	assert_false(cmp_json_path_valid(NULL, NULL));
	assert_false(cmp_json_path_valid("a..b", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identical_match),
		cmocka_unit_test(test_status_differs),
		cmocka_unit_test(test_header_value_differs),
		cmocka_unit_test(test_header_missing),
		cmocka_unit_test(test_header_name_case),
		cmocka_unit_test(test_header_order),
		cmocka_unit_test(test_header_repeated_joined),
		cmocka_unit_test(test_framing_headers_ignored),
		cmocka_unit_test(test_ignore_headers),
		cmocka_unit_test(test_header_before_body),
		cmocka_unit_test(test_json_order_whitespace),
		cmocka_unit_test(test_json_numbers),
		cmocka_unit_test(test_json_nested_path),
		cmocka_unit_test(test_json_missing_key),
		cmocka_unit_test(test_json_array_length),
		cmocka_unit_test(test_json_types_differ),
		cmocka_unit_test(test_json_first_difference_sorted),
		cmocka_unit_test(test_ignore_json_top_level),
		cmocka_unit_test(test_ignore_json_nested),
		cmocka_unit_test(test_ignore_json_star),
		cmocka_unit_test(test_ignore_json_arrays),
		cmocka_unit_test(test_ignore_json_several),
		cmocka_unit_test(test_bytes_text),
		cmocka_unit_test(test_problem_json),
		cmocka_unit_test(test_one_side_json_type),
		cmocka_unit_test(test_one_side_invalid_json),
		cmocka_unit_test(test_one_side_invalid_json_text),
		cmocka_unit_test(test_both_invalid_json),
		cmocka_unit_test(test_empty_bodies),
		cmocka_unit_test(test_big_kept_capped),
		cmocka_unit_test(test_big_equal),
		cmocka_unit_test(test_big_differs_after_cap),
		cmocka_unit_test(test_big_length_differs),
		cmocka_unit_test(test_big_differs_early),
		cmocka_unit_test(test_big_json_bytes),
		cmocka_unit_test(test_diff_control_chars),
		cmocka_unit_test(test_diff_bounded),
		cmocka_unit_test(test_diff_utf8_cut),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_nul_bytes),
		cmocka_unit_test(test_invalid_utf8_json),
		cmocka_unit_test(test_huge_numbers),
		cmocka_unit_test(test_finish_idempotent),
		cmocka_unit_test(test_path_valid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
