/*
 * path_template: collapse the ID-like segments of a path to "{id}", so the
 * /migration report counts /orders/42 and /orders/43 as one endpoint
 * (SPEC 5). The rules for "ID-like" are in the header; they are deliberately
 * conservative, since a wrongly collapsed segment ("v2", "2fa") would merge
 * endpoints an operator needs to tell apart, while a missed ID only splits
 * one endpoint's count.
 *
 * The output buffer is bounded because the template becomes a key of the
 * top-k sketch (topk.h). A template that does not fit is cut after a whole
 * segment and marked with "/...": a half segment would read like a real
 * path, "/orders/{i" like a bug.
 *
 * Pure: no allocation, no I/O, no globals. Bytes are bytes: a
 * percent-encoded character is three ordinary characters here.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "cutover/path_template.h"

#define PT_ID "{id}"
#define PT_ID_LEN (sizeof(PT_ID) - 1)
#define PT_CUT "/..."
#define PT_CUT_LEN (sizeof(PT_CUT) - 1)

/* The character counts the rules look at, gathered in one pass. */
struct pt_census {
	size_t digits;	/* 0-9 */
	size_t hexalpha; /* a-f, A-F */
	size_t alpha;	/* A-Z, a-z (hex letters included) */
	size_t other;	/* anything outside [A-Za-z0-9_-] */
};

static bool pt_is_digit(unsigned char c);
static bool pt_is_hex(unsigned char c);
static bool pt_is_alpha(unsigned char c);
static void pt_census(const char *seg, size_t len, struct pt_census *c);
static bool pt_is_uuid(const char *seg, size_t len);
static size_t pt_put_piece(char *out, const char *seg, size_t len, bool id);

static bool
pt_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool
pt_is_hex(unsigned char c)
{
	return pt_is_digit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* ASCII letters only: isalpha(3) would depend on the locale. */
static bool
pt_is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static void
pt_census(const char *seg, size_t len, struct pt_census *c)
{
	size_t i;
	unsigned char ch;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < len; i++) {
		ch = (unsigned char)seg[i];
		if (pt_is_digit(ch))
			c->digits++;
		else if (pt_is_alpha(ch)) {
			c->alpha++;
			if (pt_is_hex(ch))
				c->hexalpha++;
		} else if (ch != '_' && ch != '-')
			c->other++;
	}
}

/* 8-4-4-4-12 hex digits, either case; no version or variant check. */
static bool
pt_is_uuid(const char *seg, size_t len)
{
	size_t i;

	if (len != 36)
		return false;
	for (i = 0; i < len; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (seg[i] != '-')
				return false;
		} else if (!pt_is_hex((unsigned char)seg[i]))
			return false;
	}
	return true;
}

bool
path_segment_is_id(const char *seg, size_t len)
{
	struct pt_census c;

	if (len == 0)
		return false;
	pt_census(seg, len, &c);
	if (c.digits == len)
		return true;
	if (pt_is_uuid(seg, len))
		return true;
	/* Object IDs and hashes; a digit keeps words like "deadbeefcafebabe"
	 * (or any long all-letter word from a-f) out. */
	if (len >= 16 && c.digits + c.hexalpha == len && c.digits >= 1)
		return true;
	/* Opaque tokens: long, letters and digits, at least four digits, so
	 * a long slug with a version in it ("getting-started-v2-guide")
	 * stays. One with a year in it ("annual-report-2026-q1") does not:
	 * the price of catching base64url IDs. */
	if (len >= 20 && c.other == 0 && c.alpha >= 1 && c.digits >= 4)
		return true;
	return false;
}

/* One segment's output: itself, or "{id}". Returns the bytes written. */
static size_t
pt_put_piece(char *out, const char *seg, size_t len, bool id)
{
	if (id) {
		memcpy(out, PT_ID, PT_ID_LEN);
		return PT_ID_LEN;
	}
	memcpy(out, seg, len);
	return len;
}

/*
 * The path is read as pieces separated by '/': the (normally empty) one
 * before the first '/', then one after each '/'. Every piece end is a
 * place the output may be cut; `cut` remembers the last one that still
 * leaves room for "/...". When even "/..." does not fit (cap < 5) the
 * result is the empty string: a partial marker would be a lie.
 */
size_t
path_template(const char *path, size_t len, char *out, size_t cap)
{
	size_t room, o = 0, cut = 0, i = 0, start, plen, need;
	bool first = true, id;

	if (cap == 0)
		return 0;
	room = cap - 1;
	while (first || i < len) {
		if (!first)
			i++; /* the '/' */
		start = i;
		while (i < len && path[i] != '/')
			i++;
		id = path_segment_is_id(path + start, i - start);
		plen = id ? PT_ID_LEN : i - start;
		need = (first ? 0 : 1) + plen;
		if (need > room - o) {
			if (room < PT_CUT_LEN) {
				o = 0;
			} else {
				memcpy(out + cut, PT_CUT, PT_CUT_LEN);
				o = cut + PT_CUT_LEN;
			}
			out[o] = '\0';
			return o;
		}
		if (!first)
			out[o++] = '/';
		o += pt_put_piece(out + o, path + start, i - start, id);
		if (o + PT_CUT_LEN <= room)
			cut = o;
		first = false;
	}
	out[o] = '\0';
	return o;
}
