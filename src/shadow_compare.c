/*
 * shadow_compare: does the shadow answer as the primary did (SPEC 4.5)?
 *
 * The rules are in include/cutover/shadow_compare.h; this file adds the
 * order of the walk, which makes "the first difference" the same on
 * every run: headers by lower-case name, object keys by byte order,
 * array elements by index, then the array lengths.
 *
 * Both responses come from upstreams we do not trust to be well formed,
 * and the difference text ends up in the admin API and the logs, so:
 * the JSON walk is bounded in depth on its own (not only by jansson's
 * parser), values shown are dumped through a callback that stops once
 * enough text is in hand (a mismatch in a 1 MB object costs a few
 * hundred bytes of output, not a megabyte), and the text is cut to
 * CMP_DIFF_MAX with control characters and invalid UTF-8 written as
 * '?', so it is one line and any JSON encoder takes it.
 *
 * Pure: no I/O, no globals. OpenSSL is only the SHA-256.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "cutover/log.h"
#include "cutover/shadow_compare.h"
#include "cutover/strbuf.h"

/*
 * How deep the JSON walk goes: jansson's own parser limit
 * (JSON_PARSER_MAX_DEPTH), restated so that a jansson built with a larger
 * one cannot make this recursion unbounded.
 */
#define CMP_JSON_DEPTH 2048

/* First body buffer; it doubles from there up to CMP_MAX_BODY. */
#define CMP_BODY_MIN 4096

static const char *const cmp_framing[] = {
	"connection", "keep-alive", "proxy-connection", "te", "trailer",
	"transfer-encoding", "upgrade", "content-length",
};

/*
 * The caller's diff buffer. Owner: the caller of cmp_responses; `s` is
 * NULL (and cap 0) when no text is wanted. len < cap always, s[len] NUL.
 */
struct diffbuf {
	char *s;
	size_t len;
	size_t cap; /* min(difflen, CMP_DIFF_MAX) */
};

/*
 * A bounded copy of text that may be long (a dumped JSON value, a path):
 * more than fits in any diff line is never produced. Owner: the stack.
 */
struct capbuf {
	char buf[CMP_DIFF_MAX + 8];
	size_t len;
	bool more; /* text was dropped past buf */
};

/* One header field that takes part, pointing into a cmp_response. */
struct hdr {
	const char *name;
	const char *value;
	size_t order; /* position in the response, to join in order */
};

/* One object member, pointing into a jansson value. */
struct jkey {
	const char *key;
	size_t len;
	json_t *value;
};

/* One step from the JSON root: a member (key != NULL) or an element. */
struct jseg {
	const char *key;
	size_t len;
	size_t index;
};

/*
 * State of one JSON walk. Owner: json_compare's stack; seg and keys are
 * its heap arrays of CMP_JSON_DEPTH entries, freed when it returns.
 * keys[] are the member steps of seg[] alone, which is what
 * ignore_json_fields paths are matched against (arrays are walked through).
 */
struct jwalk {
	const struct cmp_rules *rules;
	struct diffbuf *db;
	struct jseg *seg;
	size_t nseg;
	const struct jseg **keys;
	size_t nkeys;
};

static int ascii_lower(int c);
static int name_cmp(const char *a, const char *b);
static bool name_eq(const char *a, const char *b);
static bool ascii_caseeq(const char *a, const char *b, size_t n);
static void *grow(void *p, size_t *cap, size_t need, size_t elem);

static void db_raw(struct diffbuf *db, const char *s);
static void db_printf(struct diffbuf *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static size_t db_room(const struct diffbuf *db);
static size_t utf8_len(const unsigned char *p, size_t n);
static size_t safe_char(const unsigned char *p, size_t n, size_t *used);
static void db_text(struct diffbuf *db, const char *p, size_t n, bool more,
    size_t max);
static void db_pair(struct diffbuf *db, const char *a, size_t alen,
    bool amore, const char *b, size_t blen, bool bmore);
static void capbuf_add(struct capbuf *c, const char *p, size_t n);
static int capbuf_dump(const char *p, size_t n, void *data);

static bool hdr_skipped(const struct cmp_rules *rules, const char *name);
static int hdr_cmp(const void *x, const void *y);
static struct hdr *hdr_list(const struct cmp_rules *rules,
    const struct cmp_response *r, size_t *n);
static size_t hdr_join(const struct hdr *h, size_t n, size_t i,
    struct strbuf *out);
static bool hdr_compare(const struct cmp_rules *rules,
    const struct cmp_response *a, const struct cmp_response *b,
    struct diffbuf *db);
static void hdr_name(struct diffbuf *db, const char *name);

static const char *content_type(const struct cmp_response *r);
static bool is_json_type(const char *ct);
static bool body_whole(const struct cmp_response *r);
static void byte_show(struct diffbuf *db, unsigned char c);
static bool bytes_compare(const struct cmp_response *a,
    const struct cmp_response *b, struct diffbuf *db);
static bool body_compare(const struct cmp_rules *rules,
    const struct cmp_response *a, const struct cmp_response *b,
    struct diffbuf *db);

static bool path_next(const char **p, const char **seg, size_t *len);
static size_t path_nsegs(const char *path);
static bool path_ignores(const char *path, const struct jwalk *w,
    const char *key, size_t len);
static bool key_ignored(const struct jwalk *w, const char *key, size_t len);
static int jkey_cmp(const void *x, const void *y);
static struct jkey *jkey_list(const struct jwalk *w, json_t *o, size_t *n);
static void json_path(const struct jwalk *w);
static void json_show(struct diffbuf *db, const json_t *a, const json_t *b);
static bool json_push(struct jwalk *w, const char *key, size_t len,
    size_t index);
static void json_pop(struct jwalk *w);
static bool json_num_equal(const json_t *a, const json_t *b);
static int json_kind(const json_t *v);
static bool json_object_walk(struct jwalk *w, json_t *a, json_t *b);
static bool json_array_walk(struct jwalk *w, json_t *a, json_t *b);
static bool json_walk(struct jwalk *w, json_t *a, json_t *b);
static bool json_compare(const struct cmp_rules *rules, json_t *a,
    json_t *b, struct diffbuf *db);

/* ---- small helpers */

/* Header names are ASCII tokens: no locale. */
static int
ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
name_cmp(const char *a, const char *b)
{
	int ca, cb;

	for (;; a++, b++) {
		ca = ascii_lower((unsigned char)*a);
		cb = ascii_lower((unsigned char)*b);
		if (ca != cb || ca == '\0')
			return ca - cb;
	}
}

static bool
name_eq(const char *a, const char *b)
{
	return name_cmp(a, b) == 0;
}

/* The first n bytes of a and of the lower-case b are the same letters. */
static bool
ascii_caseeq(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (ascii_lower((unsigned char)a[i]) != b[i])
			return false;
	return true;
}

/* Room for `need` elements, doubling; *cap updated. */
static void *
grow(void *p, size_t *cap, size_t need, size_t elem)
{
	size_t n = *cap > 0 ? *cap : 4;

	if (need <= *cap)
		return p;
	while (n < need)
		n *= 2;
	*cap = n;
	return xrealloc(p, n * elem);
}

/* ---- the difference text */

static size_t
db_room(const struct diffbuf *db)
{
	return db->cap > 0 ? db->cap - 1 - db->len : 0;
}

/* Text of ours, known to be safe: cut, never sanitised. */
static void
db_raw(struct diffbuf *db, const char *s)
{
	size_t n = strlen(s), room = db_room(db);

	if (db->cap == 0)
		return;
	if (n > room)
		n = room;
	memcpy(db->s + db->len, s, n);
	db->len += n;
	db->s[db->len] = '\0';
}

static void
db_printf(struct diffbuf *db, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (db->cap == 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(db->s + db->len, db_room(db) + 1, fmt, ap);
	va_end(ap);
	if (n > 0)
		db->len += (size_t)n > db_room(db) ? db_room(db) : (size_t)n;
	db->s[db->len] = '\0';
}

/*
 * Length of the well-formed UTF-8 sequence of two to four bytes at p
 * (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF),
 * 0 if there is none.
 */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (p[0] == 0xe0)
		lo = 0xa0;
	else if (p[0] == 0xed)
		hi = 0x9f;
	else if (p[0] == 0xf0)
		lo = 0x90;
	else if (p[0] == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/*
 * How many output bytes the character at p takes once made safe, and in
 * *used how many input bytes it is: printable ASCII and well-formed UTF-8
 * stay, anything else (controls, C1 controls, stray bytes) becomes one '?'.
 */
static size_t
safe_char(const unsigned char *p, size_t n, size_t *used)
{
	size_t len;

	if (p[0] >= 0x20 && p[0] < 0x7f) {
		*used = 1;
		return 1;
	}
	len = utf8_len(p, n);
	if (len == 0) {
		*used = 1;
		return 1;
	}
	*used = len;
	/* U+0080..U+009F are controls too. */
	return p[0] == 0xc2 && p[1] < 0xa0 ? 1 : len;
}

/*
 * Foreign text p[0..n), made safe, in at most `max` bytes (and the
 * room left): when it does not all fit, or `more` says there was more of
 * it than p holds, what fits is followed by "...". Never cuts a UTF-8
 * sequence in two.
 */
static void
db_text(struct diffbuf *db, const char *p, size_t n, bool more, size_t max)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i, out, total, used, w, room = db_room(db);
	bool cut;

	if (db->cap == 0)
		return;
	if (max > room)
		max = room;
	/* Does all of it fit? Stop counting once it cannot. */
	total = 0;
	for (i = 0; i < n && total <= max; i += used)
		total += safe_char(u + i, n - i, &used);
	cut = more || i < n || total > max;
	out = !cut ? max : max >= 3 ? max - 3 : 0;
	for (i = 0; i < n; i += used) {
		w = safe_char(u + i, n - i, &used);
		if (w > out)
			break;
		if (w == 1 && u[i] >= 0x20 && u[i] < 0x7f)
			db->s[db->len] = p[i];
		else if (w == 1)
			db->s[db->len] = '?';
		else
			memcpy(db->s + db->len, p + i, w);
		db->len += w;
		out -= w;
	}
	db->s[db->len] = '\0';
	if (cut && max >= 3)
		db_raw(db, "...");
}

/* "A != B" in the room left, A given at most half of it. */
static void
db_pair(struct diffbuf *db, const char *a, size_t alen, bool amore,
    const char *b, size_t blen, bool bmore)
{
	size_t room = db_room(db);

	db_text(db, a, alen, amore, room > 4 ? (room - 4) / 2 : 0);
	db_raw(db, " != ");
	db_text(db, b, blen, bmore, db_room(db));
}

static void
capbuf_add(struct capbuf *c, const char *p, size_t n)
{
	size_t room = sizeof(c->buf) - c->len;

	if (n > room) {
		n = room;
		c->more = true;
	}
	memcpy(c->buf + c->len, p, n);
	c->len += n;
}

/* json_dump_callback's sink: stop the dump once the buffer is full. */
static int
capbuf_dump(const char *p, size_t n, void *data)
{
	struct capbuf *c = data;

	capbuf_add(c, p, n);
	return c->more ? -1 : 0;
}

/* ---- headers */

static bool
hdr_skipped(const struct cmp_rules *rules, const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(cmp_framing) / sizeof(cmp_framing[0]); i++)
		if (name_eq(name, cmp_framing[i]))
			return true;
	for (i = 0; i < rules->nignore_headers; i++)
		if (name_eq(name, rules->ignore_headers[i]))
			return true;
	return false;
}

/* By lower-case name, then as received: equal names end up together. */
static int
hdr_cmp(const void *x, const void *y)
{
	const struct hdr *a = x, *b = y;
	int c = name_cmp(a->name, b->name);

	if (c != 0)
		return c;
	return a->order < b->order ? -1 : a->order > b->order;
}

/* The fields of r that take part, sorted. The caller frees the array. */
static struct hdr *
hdr_list(const struct cmp_rules *rules, const struct cmp_response *r,
    size_t *n)
{
	struct hdr *h = xcalloc(r->nfields > 0 ? r->nfields : 1, sizeof(*h));
	size_t i;

	*n = 0;
	for (i = 0; i < r->nfields; i++) {
		if (hdr_skipped(rules, r->fields[i].name))
			continue;
		h[*n].name = r->fields[i].name;
		h[*n].value = r->fields[i].value;
		h[*n].order = i;
		(*n)++;
	}
	qsort(h, *n, sizeof(*h), hdr_cmp);
	return h;
}

/*
 * The values of the field named as h[i], joined with ", " into out
 * (reset first); returns the index past that name's run.
 */
static size_t
hdr_join(const struct hdr *h, size_t n, size_t i, struct strbuf *out)
{
	size_t j;

	out->len = 0;
	strbuf_adds(out, ""); /* allocates: out->s is never NULL after */
	for (j = i; j < n && name_eq(h[j].name, h[i].name); j++) {
		if (j > i)
			strbuf_adds(out, ", ");
		strbuf_adds(out, h[j].value);
	}
	return j;
}

static void
hdr_name(struct diffbuf *db, const char *name)
{
	char low[CMP_DIFF_MAX];
	size_t i;

	for (i = 0; i < sizeof(low) && name[i] != '\0'; i++)
		low[i] = (char)ascii_lower((unsigned char)name[i]);
	db_raw(db, "header ");
	db_text(db, low, i, name[i] != '\0', db_room(db) / 2);
	db_raw(db, ": ");
}

/* Merge the two sorted lists: the first name that differs wins. */
static bool
hdr_compare(const struct cmp_rules *rules, const struct cmp_response *a,
    const struct cmp_response *b, struct diffbuf *db)
{
	struct strbuf va, vb;
	struct hdr *ha, *hb;
	size_t na, nb, i = 0, j = 0, ni, nj;
	bool same = true;
	int c;

	ha = hdr_list(rules, a, &na);
	hb = hdr_list(rules, b, &nb);
	strbuf_init(&va);
	strbuf_init(&vb);
	while (same && (i < na || j < nb)) {
		if (i < na && j < nb)
			c = name_cmp(ha[i].name, hb[j].name);
		else
			c = i < na ? -1 : 1;
		if (c != 0) {
			hdr_name(db, c < 0 ? ha[i].name : hb[j].name);
			db_raw(db, c < 0 ? "missing in shadow" :
					   "missing in primary");
			same = false;
			break;
		}
		ni = hdr_join(ha, na, i, &va);
		nj = hdr_join(hb, nb, j, &vb);
		if (va.len != vb.len || memcmp(va.s, vb.s, va.len) != 0) {
			hdr_name(db, ha[i].name);
			db_pair(db, va.s, va.len, false, vb.s, vb.len, false);
			same = false;
		}
		i = ni;
		j = nj;
	}
	strbuf_free(&va);
	strbuf_free(&vb);
	free(ha);
	free(hb);
	return same;
}

/* ---- bodies */

/* The first Content-Type field's value, or NULL. */
static const char *
content_type(const struct cmp_response *r)
{
	size_t i;

	for (i = 0; i < r->nfields; i++)
		if (name_eq(r->fields[i].name, "content-type"))
			return r->fields[i].value;
	return NULL;
}

/* application/json or type/anything+json, parameters and case ignored. */
static bool
is_json_type(const char *ct)
{
	static const char suffix[] = "+json";
	const char *end, *slash;
	size_t n, k = sizeof(suffix) - 1;

	if (ct == NULL)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	end = strchr(ct, ';');
	n = end != NULL ? (size_t)(end - ct) : strlen(ct);
	while (n > 0 && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
		n--;
	if (n == 16 && ascii_caseeq(ct, "application/json", n))
		return true;
	slash = memchr(ct, '/', n);
	return slash != NULL && (size_t)(slash - ct) + 1 + k <= n &&
	    ascii_caseeq(ct + n - k, suffix, k);
}

static bool
body_whole(const struct cmp_response *r)
{
	return r->body_total == r->body_len;
}

static void
byte_show(struct diffbuf *db, unsigned char c)
{
	if (c >= 0x20 && c < 0x7f)
		db_printf(db, "'%c'", c);
	else
		db_printf(db, "0x%02x", c);
}

/* The kept bytes, then the total length, then the digest. */
static bool
bytes_compare(const struct cmp_response *a, const struct cmp_response *b,
    struct diffbuf *db)
{
	size_t n = a->body_len < b->body_len ? a->body_len : b->body_len, i;

	for (i = 0; i < n; i++)
		if (a->body[i] != b->body[i])
			break;
	if (i < n) {
		db_printf(db, "body at byte %zu: ", i);
		byte_show(db, (unsigned char)a->body[i]);
		db_raw(db, " != ");
		byte_show(db, (unsigned char)b->body[i]);
		return false;
	}
	if (a->body_total != b->body_total) {
		db_printf(db, "body length %llu != %llu",
		    (unsigned long long)a->body_total,
		    (unsigned long long)b->body_total);
		return false;
	}
	if (memcmp(a->digest, b->digest, sizeof(a->digest)) != 0) {
		/* Same length, same kept bytes: both kept all they could. */
		db_printf(db, "body differs after byte %zu", n);
		return false;
	}
	return true;
}

/*
 * JSON when both say so and both were kept whole; if both then fail to
 * parse, the bytes decide (two empty bodies match), if one does, that
 * is the difference.
 */
static bool
body_compare(const struct cmp_rules *rules, const struct cmp_response *a,
    const struct cmp_response *b, struct diffbuf *db)
{
	const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
	json_error_t ea, eb;
	const json_error_t *e;
	json_t *ja, *jb;
	size_t room;
	bool same;

	if (!is_json_type(content_type(a)) || !is_json_type(content_type(b)) ||
	    !body_whole(a) || !body_whole(b))
		return bytes_compare(a, b, db);
	ja = json_loadb(a->body != NULL ? a->body : "", a->body_len, flags,
	    &ea);
	jb = json_loadb(b->body != NULL ? b->body : "", b->body_len, flags,
	    &eb);
	if (ja != NULL && jb != NULL) {
		same = json_compare(rules, ja, jb, db);
	} else if (ja == NULL && jb == NULL) {
		same = bytes_compare(a, b, db);
	} else {
		e = ja == NULL ? &ea : &eb;
		db_printf(db, "body not JSON in %s (line %d column %d: ",
		    ja == NULL ? "primary" : "shadow", e->line, e->column);
		room = db_room(db);
		db_text(db, e->text, strnlen(e->text, sizeof(e->text)), false,
		    room > 0 ? room - 1 : 0);
		db_raw(db, ")");
		same = false;
	}
	json_decref(ja);
	json_decref(jb);
	return same;
}

/* ---- ignore_json_fields */

/* The next dot-separated segment of *p; false past the last. */
static bool
path_next(const char **p, const char **seg, size_t *len)
{
	const char *dot;

	if (*p == NULL)
		return false;
	*seg = *p;
	dot = strchr(*p, '.');
	if (dot != NULL) {
		*len = (size_t)(dot - *p);
		*p = dot + 1;
	} else {
		*len = strlen(*p);
		*p = NULL;
	}
	return true;
}

static size_t
path_nsegs(const char *path)
{
	size_t n = 1;

	for (; *path != '\0'; path++)
		n += *path == '.';
	return n;
}

/*
 * Does `path` name the member `key` of the object reached by w's member
 * steps? Its segments must match those steps from the root, one each,
 * and its last one the key; "*" matches any key.
 */
static bool
path_ignores(const char *path, const struct jwalk *w, const char *key,
    size_t len)
{
	const char *p = path, *seg, *k;
	size_t slen, klen, i;

	if (*path == '\0' || path_nsegs(path) != w->nkeys + 1)
		return false;
	for (i = 0; path_next(&p, &seg, &slen); i++) {
		k = i < w->nkeys ? w->keys[i]->key : key;
		klen = i < w->nkeys ? w->keys[i]->len : len;
		if (slen == 1 && seg[0] == '*')
			continue;
		if (slen != klen || memcmp(seg, k, klen) != 0)
			return false;
	}
	return true;
}

static bool
key_ignored(const struct jwalk *w, const char *key, size_t len)
{
	size_t i;

	for (i = 0; i < w->rules->nignore_json_fields; i++)
		if (path_ignores(w->rules->ignore_json_fields[i], w, key, len))
			return true;
	return false;
}

/* ---- the JSON walk */

/* Byte order, a prefix first. */
static int
jkey_cmp(const void *x, const void *y)
{
	const struct jkey *a = x, *b = y;
	size_t n = a->len < b->len ? a->len : b->len;
	int c = memcmp(a->key, b->key, n);

	if (c != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* o's members less the ignored ones, sorted. The caller frees it. */
static struct jkey *
jkey_list(const struct jwalk *w, json_t *o, size_t *n)
{
	size_t size = json_object_size(o);
	struct jkey *k = xcalloc(size > 0 ? size : 1, sizeof(*k));
	void *it;

	*n = 0;
	for (it = json_object_iter(o); it != NULL && *n < size;
	    it = json_object_iter_next(o, it)) {
		k[*n].key = json_object_iter_key(it);
		k[*n].len = json_object_iter_key_len(it);
		k[*n].value = json_object_iter_value(it);
		if (!key_ignored(w, k[*n].key, k[*n].len))
			(*n)++;
	}
	qsort(k, *n, sizeof(*k), jkey_cmp);
	return k;
}

/* "body $.items[2].price: " */
static void
json_path(const struct jwalk *w)
{
	struct capbuf c = { .len = 0, .more = false };
	char num[32];
	size_t i;

	capbuf_add(&c, "$", 1);
	for (i = 0; i < w->nseg && !c.more; i++) {
		if (w->seg[i].key != NULL) {
			capbuf_add(&c, ".", 1);
			capbuf_add(&c, w->seg[i].key, w->seg[i].len);
		} else {
			snprintf(num, sizeof(num), "[%zu]", w->seg[i].index);
			capbuf_add(&c, num, strlen(num));
		}
	}
	db_raw(w->db, "body ");
	db_text(w->db, c.buf, c.len, c.more, db_room(w->db) / 2);
	db_raw(w->db, ": ");
}

/*
 * Both values as compact JSON, cut. Reals with 15 digits first, so 0.1
 * shows as 0.1; with 17 (exact) when 15 would show two different values
 * the same.
 */
static void
json_show(struct diffbuf *db, const json_t *a, const json_t *b)
{
	const size_t flags = JSON_COMPACT | JSON_ENCODE_ANY;
	struct capbuf ca, cb;
	int prec;

	for (prec = 15;; prec = 17) {
		ca.len = cb.len = 0;
		ca.more = cb.more = false;
		json_dump_callback(a, capbuf_dump, &ca,
		    flags | JSON_REAL_PRECISION(prec));
		json_dump_callback(b, capbuf_dump, &cb,
		    flags | JSON_REAL_PRECISION(prec));
		if (prec == 17 || ca.len != cb.len ||
		    memcmp(ca.buf, cb.buf, ca.len) != 0)
			break;
	}
	db_pair(db, ca.buf, ca.len, ca.more, cb.buf, cb.len, cb.more);
}

/* One step down; false (the text written) past CMP_JSON_DEPTH. */
static bool
json_push(struct jwalk *w, const char *key, size_t len, size_t index)
{
	if (w->nseg >= CMP_JSON_DEPTH) {
		json_path(w);
		db_printf(w->db, "nested deeper than %d", CMP_JSON_DEPTH);
		return false;
	}
	w->seg[w->nseg].key = key;
	w->seg[w->nseg].len = len;
	w->seg[w->nseg].index = index;
	if (key != NULL)
		w->keys[w->nkeys++] = &w->seg[w->nseg];
	w->nseg++;
	return true;
}

static void
json_pop(struct jwalk *w)
{
	w->nseg--;
	if (w->seg[w->nseg].key != NULL)
		w->nkeys--;
}

/*
 * By value: an integer equals a real only when the real is integral,
 * within json_int_t's range, and then the same integer, so nothing is
 * rounded on the way (2^53 + 1 is not 2^53 + 1.0 made inexact).
 */
static bool
json_num_equal(const json_t *a, const json_t *b)
{
	const json_t *i, *r;
	double d;
	json_int_t n;

	if (json_is_integer(a) && json_is_integer(b))
		return json_integer_value(a) == json_integer_value(b);
	if (json_is_real(a) && json_is_real(b))
		return json_real_value(a) == json_real_value(b);
	i = json_is_integer(a) ? a : b;
	r = json_is_integer(a) ? b : a;
	d = json_real_value(r);
	/* -2^63 <= d < 2^63, so the cast is defined. */
	if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
		return false;
	n = (json_int_t)d;
	return (double)n == d && n == json_integer_value(i);
}

/* Integers and reals are one kind, true and false two. */
static int
json_kind(const json_t *v)
{
	return json_is_real(v) ? JSON_INTEGER : (int)json_typeof(v);
}

/*
 * Members in byte order of their keys: one side only is the difference,
 * else the two values.
 */
static bool
json_object_walk(struct jwalk *w, json_t *a, json_t *b)
{
	struct jkey *ka, *kb, *k;
	size_t na, nb, i = 0, j = 0;
	bool same = true;
	int c;

	ka = jkey_list(w, a, &na);
	kb = jkey_list(w, b, &nb);
	while (same && (i < na || j < nb)) {
		if (i < na && j < nb)
			c = jkey_cmp(&ka[i], &kb[j]);
		else
			c = i < na ? -1 : 1;
		k = c <= 0 ? &ka[i] : &kb[j];
		if (!json_push(w, k->key, k->len, 0)) {
			same = false;
			break;
		}
		if (c != 0) {
			json_path(w);
			db_raw(w->db, c < 0 ? "missing in shadow" :
					      "missing in primary");
			same = false;
		} else {
			same = json_walk(w, ka[i].value, kb[j].value);
		}
		json_pop(w);
		i += c <= 0;
		j += c >= 0;
	}
	free(ka);
	free(kb);
	return same;
}

/* The common elements by index, then the lengths. */
static bool
json_array_walk(struct jwalk *w, json_t *a, json_t *b)
{
	size_t na = json_array_size(a), nb = json_array_size(b), i;
	bool same;

	for (i = 0; i < na && i < nb; i++) {
		if (!json_push(w, NULL, 0, i))
			return false;
		same = json_walk(w, json_array_get(a, i), json_array_get(b, i));
		json_pop(w);
		if (!same)
			return false;
	}
	if (na != nb) {
		json_path(w);
		db_printf(w->db, "array length %zu != %zu", na, nb);
		return false;
	}
	return true;
}

static bool
json_walk(struct jwalk *w, json_t *a, json_t *b)
{
	bool same;

	if (json_kind(a) != json_kind(b)) {
		same = false;
	} else {
		switch (json_typeof(a)) {
		case JSON_OBJECT:
			return json_object_walk(w, a, b);
		case JSON_ARRAY:
			return json_array_walk(w, a, b);
		case JSON_STRING:
			same = json_string_length(a) == json_string_length(b) &&
			    memcmp(json_string_value(a), json_string_value(b),
				json_string_length(a)) == 0;
			break;
		case JSON_INTEGER:
		case JSON_REAL:
			same = json_num_equal(a, b);
			break;
		default: /* true, false, null: the kind says it all */
			same = true;
			break;
		}
	}
	if (!same) {
		json_path(w);
		json_show(w->db, a, b);
	}
	return same;
}

static bool
json_compare(const struct cmp_rules *rules, json_t *a, json_t *b,
    struct diffbuf *db)
{
	struct jwalk w = { .rules = rules, .db = db };
	bool same;

	w.seg = xcalloc(CMP_JSON_DEPTH, sizeof(*w.seg));
	w.keys = xcalloc(CMP_JSON_DEPTH, sizeof(*w.keys));
	same = json_walk(&w, a, b);
	free(w.seg);
	free(w.keys);
	return same;
}

/* ---- capture */

/* OpenSSL failing to start a SHA-256 is a broken install, not bad input. */
void
cmp_response_init(struct cmp_response *r)
{
	memset(r, 0, sizeof(*r));
	r->md = EVP_MD_CTX_new();
	if (r->md == NULL || EVP_DigestInit_ex(r->md, EVP_sha256(), NULL) != 1)
		fatal("shadow_compare: cannot start SHA-256");
}

void
cmp_response_free(struct cmp_response *r)
{
	size_t i;

	for (i = 0; i < r->nfields; i++) {
		free(r->fields[i].name);
		free(r->fields[i].value);
	}
	free(r->fields);
	free(r->body);
	EVP_MD_CTX_free(r->md);
	memset(r, 0, sizeof(*r));
}

void
cmp_response_set_status(struct cmp_response *r, int status)
{
	r->status = status;
}

void
cmp_response_add_field(struct cmp_response *r, const char *name,
    size_t nlen, const char *value, size_t vlen)
{
	r->fields = grow(r->fields, &r->fields_cap, r->nfields + 1,
	    sizeof(*r->fields));
	r->fields[r->nfields].name = xstrndup(name, nlen);
	r->fields[r->nfields].value = xstrndup(value, vlen);
	r->nfields++;
}

/* Bytes after finish are not part of the body that was digested: dropped. */
void
cmp_response_add_body(struct cmp_response *r, const void *p, size_t n)
{
	size_t keep, cap;

	if (r->finished || n == 0)
		return;
	if (EVP_DigestUpdate(r->md, p, n) != 1)
		fatal("shadow_compare: SHA-256 update failed");
	r->body_total += n;
	keep = CMP_MAX_BODY - r->body_len;
	if (keep > n)
		keep = n;
	if (keep == 0)
		return;
	if (r->body_len + keep > r->body_cap) {
		cap = r->body_cap > 0 ? r->body_cap : CMP_BODY_MIN;
		while (cap < r->body_len + keep)
			cap *= 2;
		if (cap > CMP_MAX_BODY)
			cap = CMP_MAX_BODY;
		r->body = xrealloc(r->body, cap);
		r->body_cap = cap;
	}
	memcpy(r->body + r->body_len, p, keep);
	r->body_len += keep;
}

void
cmp_response_finish(struct cmp_response *r)
{
	unsigned int len = 0;

	if (r->finished)
		return;
	if (EVP_DigestFinal_ex(r->md, r->digest, &len) != 1 ||
	    len != sizeof(r->digest))
		fatal("shadow_compare: SHA-256 final failed");
	EVP_MD_CTX_free(r->md);
	r->md = NULL;
	r->finished = true;
}

/* ---- the comparison */

bool
cmp_responses(const struct cmp_rules *rules, const struct cmp_response *a,
    const struct cmp_response *b, char *diff, size_t difflen)
{
	static const struct cmp_rules none;
	struct diffbuf db = { .s = diff, .len = 0, .cap = 0 };

	if (diff != NULL && difflen > 0) {
		db.cap = difflen < CMP_DIFF_MAX ? difflen : CMP_DIFF_MAX;
		diff[0] = '\0';
	}
	if (rules == NULL)
		rules = &none;
	if (a->status != b->status) {
		db_printf(&db, "status %d != %d", a->status, b->status);
		return false;
	}
	if (!hdr_compare(rules, a, b, &db))
		return false;
	return body_compare(rules, a, b, &db);
}

bool
cmp_json_path_valid(const char *path, const char **why)
{
	const char *p = path, *seg, *reason = NULL;
	size_t len;

	if (path == NULL || *path == '\0')
		reason = "empty path";
	else if (path[0] == '.')
		reason = "path starts with '.'";
	else if (path[strlen(path) - 1] == '.')
		reason = "path ends with '.'";
	while (reason == NULL && path_next(&p, &seg, &len)) {
		if (len == 0)
			reason = "empty segment ('..') in path";
		else if (memchr(seg, '*', len) != NULL && len != 1)
			reason = "'*' must be a whole segment";
	}
	if (reason != NULL && why != NULL)
		*why = reason;
	return reason == NULL;
}
