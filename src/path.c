/*
 * path: request-target splitting, path normalisation and rewrites.
 *
 * Everything here is pure and allocation-free: inputs are (pointer, length)
 * pairs, outputs go to caller buffers whose sizes path.h documents. None of
 * it calls strlen() on request bytes.
 */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "cutover/path.h"

static bool path_visible(unsigned char c);
static int path_unescape(const char *p, size_t left);
static bool path_unreserved(unsigned char c);
static bool path_authority_char(unsigned char c);
static bool path_scheme_is(const char *p, size_t len, const char *lit);

/* The path of an absolute-form target without one ("http://a?q"). */
static const char path_root[] = "/";

static bool
path_visible(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* The byte "%XX" at p stands for, or -1 when it is not '%' HEXDIG HEXDIG. */
static int
path_unescape(const char *p, size_t left)
{
	int hi, lo;

	if (left < 3 || p[0] != '%')
		return -1;
	hi = http_hex_digit((unsigned char)p[1]);
	lo = http_hex_digit((unsigned char)p[2]);
	if (hi < 0 || lo < 0)
		return -1;
	return hi << 4 | lo;
}

/* RFC 3986 unreserved: ALPHA DIGIT "-" "." "_" "~". */
static bool
path_unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* host[:port] without userinfo: reg-name, IP literal and port characters. */
static bool
path_authority_char(unsigned char c)
{
	if (path_unreserved(c))
		return true;
	switch (c) {
	case '!': case '$': case '&': case '\'': case '(': case ')':
	case '*': case '+': case ',': case ';': case '=':
	case '%': case ':': case '[': case ']':
		return true;
	default:
		return false;
	}
}

/* Case-insensitive: does p[0..len) start with the lower-case `lit`? */
static bool
path_scheme_is(const char *p, size_t len, const char *lit)
{
	size_t i;

	for (i = 0; lit[i] != '\0'; i++) {
		unsigned char c;

		if (i >= len)
			return false;
		c = (unsigned char)p[i];
		if (c >= 'A' && c <= 'Z')
			c = (unsigned char)(c - 'A' + 'a');
		if (c != (unsigned char)lit[i])
			return false;
	}
	return true;
}

int
path_split_target(struct http_span target, struct target_parts *out)
{
	return path_split_target_ex(target, out, NULL);
}

int
path_split_target_ex(struct http_span target, struct target_parts *out,
    const char **reason)
{
	const char *p = target.p;
	size_t len = target.len, i, start, auth_end;
	const char *why = NULL;

	memset(out, 0, sizeof(*out));
	if (len == 0) {
		why = "empty request target";
		goto fail;
	}
	for (i = 0; i < len; i++) {
		if (!path_visible((unsigned char)p[i])) {
			why = "byte outside visible ASCII in request target";
			goto fail;
		}
		if (p[i] == '#') {
			why = "fragment in request target";
			goto fail;
		}
	}

	if (len == 1 && p[0] == '*') {
		out->asterisk = true;
		out->path.p = p;
		out->path.len = 1;
		return 0;
	}

	if (p[0] == '/') {
		start = 0;
	} else {
		if (path_scheme_is(p, len, "http://"))
			start = 7;
		else if (path_scheme_is(p, len, "https://"))
			start = 8;
		else {
			why = "request target is not origin-form, "
			      "absolute-form (http/https) or \"*\"";
			goto fail;
		}
		for (auth_end = start; auth_end < len; auth_end++) {
			unsigned char c = (unsigned char)p[auth_end];

			if (c == '/' || c == '?')
				break;
			if (c == '@') {
				why = "userinfo in request target authority";
				goto fail;
			}
			if (!path_authority_char(c)) {
				why = "bad character in target authority";
				goto fail;
			}
		}
		if (auth_end == start) {
			why = "empty authority in request target";
			goto fail;
		}
		out->absolute = true;
		out->authority.p = p + start;
		out->authority.len = auth_end - start;
		start = auth_end;
	}

	for (i = start; i < len && p[i] != '?'; i++)
		;
	if (i == start) {
		/* absolute-form with an empty path: RFC 9112 3.2.2 says "/". */
		out->path.p = path_root;
		out->path.len = 1;
	} else {
		out->path.p = p + start;
		out->path.len = i - start;
	}
	if (i < len) {
		out->has_query = true;
		out->query.p = p + i + 1;
		out->query.len = len - i - 1;
	} else {
		out->query.p = p + len;
		out->query.len = 0;
	}
	return 0;

fail:
	if (reason != NULL)
		*reason = why;
	return -1;
}

int
path_normalise(const char *in, size_t len, char *out, size_t *out_len)
{
	return path_normalise_ex(in, len, out, out_len, NULL);
}

/*
 * One pass over the input, one segment at a time. Each segment is decoded
 * into `out` behind a '/', then dropped again when it turns out to be "."
 * or "..". The output never overtakes the input position (every '/'
 * written matches a '/' read, and decoding only shrinks), which is why
 * `len + 1` bytes suffice.
 */
int
path_normalise_ex(const char *in, size_t len, char *out, size_t *out_len,
    const char **reason)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i = 0, o = 0, seg;
	bool trailing = false;
	const char *why = NULL;

	if (len == 0 || in[0] != '/') {
		why = "path does not start with '/'";
		goto fail;
	}
	while (i < len) {
		/* in[i] == '/': skip the run of slashes (merging them) */
		while (i < len && in[i] == '/')
			i++;
		if (i == len) {
			trailing = true;
			break;
		}
		seg = o;
		out[o++] = '/';
		while (i < len && in[i] != '/') {
			unsigned char c = (unsigned char)in[i];

			if (!path_visible(c)) {
				why = "byte outside visible ASCII in path";
				goto fail;
			}
			if (c == '%') {
				int v = path_unescape(in + i, len - i);

				if (v == -1) {
					why = "malformed percent-escape "
					      "in path";
					goto fail;
				}
				c = (unsigned char)v;
				if (path_unreserved(c)) {
					out[o++] = (char)c;
				} else {
					out[o++] = '%';
					out[o++] = hex[c >> 4];
					out[o++] = hex[c & 0xf];
				}
				i += 3;
			} else {
				out[o++] = (char)c;
				i++;
			}
		}
		/* the decoded segment is out[seg + 1 .. o) */
		if (o - seg == 2 && out[seg + 1] == '.') {
			o = seg;
			trailing = (i == len);
		} else if (o - seg == 3 && out[seg + 1] == '.' &&
		    out[seg + 2] == '.') {
			if (seg == 0) {
				why = "path climbs above /";
				goto fail;
			}
			/* drop this segment and the one before it */
			o = seg;
			while (o > 0 && out[o - 1] != '/')
				o--;
			o--; /* the '/' that opened the previous segment */
			trailing = (i == len);
		} else
			trailing = false;
	}
	if (trailing || o == 0)
		out[o++] = '/';
	out[o] = '\0';
	*out_len = o;
	return 0;

fail:
	if (reason != NULL)
		*reason = why;
	return -1;
}

bool
path_prefix_match(const char *prefix, size_t plen, const char *path,
    size_t len)
{
	/* tolerate a trailing '/' the loader did not strip */
	while (plen > 1 && prefix[plen - 1] == '/')
		plen--;
	if (plen == 1 && prefix[0] == '/')
		return len > 0 && path[0] == '/';
	if (len < plen || memcmp(prefix, path, plen) != 0)
		return false;
	return len == plen || path[plen] == '/';
}

/*
 * The part of the path after `from` (empty, or starting with '/') is
 * appended to `to` less its trailing '/'; an empty result is "/". A path
 * that `from` does not prefix is copied unchanged.
 */
size_t
path_rewrite(const struct route_rewrite *rw, const char *path, size_t len,
    char *out)
{
	const char *from, *to, *rest;
	size_t flen, tlen, rlen, o;

	if (rw == NULL || rw->kind == REWRITE_NONE || rw->from == NULL)
		goto copy;
	from = rw->from;
	flen = strlen(from); /* config, not request data */
	if (!path_prefix_match(from, flen, path, len))
		goto copy;
	while (flen > 1 && from[flen - 1] == '/')
		flen--;
	if (flen == 1) {
		/* from "/": everything is the rest, and "/" itself is empty */
		rest = path;
		rlen = (len == 1) ? 0 : len;
	} else {
		rest = path + flen;
		rlen = len - flen;
	}
	to = rw->to;
	if (rw->kind == REWRITE_STRIP_PREFIX || to == NULL)
		to = "/";
	tlen = strlen(to);
	while (tlen > 0 && to[tlen - 1] == '/')
		tlen--;
	memcpy(out, to, tlen);
	o = tlen;
	memcpy(out + o, rest, rlen);
	o += rlen;
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
	return o;

copy:
	memcpy(out, path, len);
	out[len] = '\0';
	return len;
}
