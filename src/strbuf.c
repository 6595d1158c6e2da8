/* strbuf: growable strings and the x* allocation helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/log.h"
#include "cutover/strbuf.h"

static void strbuf_grow(struct strbuf *b, size_t extra);

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		fatal("out of memory (%zu bytes)", n);
	return p;
}

void *
xcalloc(size_t n, size_t m)
{
	void *p = calloc(n ? n : 1, m ? m : 1);

	if (p == NULL)
		fatal("out of memory (%zu x %zu bytes)", n, m);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		fatal("out of memory (%zu bytes)", n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void
strbuf_init(struct strbuf *b)
{
	b->s = NULL;
	b->len = 0;
	b->cap = 0;
}

void
strbuf_free(struct strbuf *b)
{
	free(b->s);
	strbuf_init(b);
}

static void
strbuf_grow(struct strbuf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap *= 2;
	b->s = xrealloc(b->s, cap);
	b->cap = cap;
}

void
strbuf_add(struct strbuf *b, const void *p, size_t n)
{
	strbuf_grow(b, n);
	if (n > 0)
		memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
strbuf_adds(struct strbuf *b, const char *s)
{
	strbuf_add(b, s, strlen(s));
}

void
strbuf_vaddf(struct strbuf *b, const char *fmt, va_list ap)
{
	va_list ap2;

	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	strbuf_grow(b, (size_t)n);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void
strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	strbuf_vaddf(b, fmt, ap);
	va_end(ap);
}

void
strbuf_add_json(struct strbuf *b, const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	strbuf_grow(b, n);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		char esc[6];

		switch (c) {
		case '"': strbuf_add(b, "\\\"", 2); break;
		case '\\': strbuf_add(b, "\\\\", 2); break;
		case '\n': strbuf_add(b, "\\n", 2); break;
		case '\r': strbuf_add(b, "\\r", 2); break;
		case '\t': strbuf_add(b, "\\t", 2); break;
		default:
			if (c < 0x20 || c == 0x7f) {
				esc[0] = '\\';
				esc[1] = 'u';
				esc[2] = '0';
				esc[3] = '0';
				esc[4] = hex[c >> 4];
				esc[5] = hex[c & 15];
				strbuf_add(b, esc, 6);
			} else {
				strbuf_add(b, &p[i], 1);
			}
		}
	}
}

char *
strbuf_detach(struct strbuf *b)
{
	char *s = b->s ? b->s : xstrdup("");

	strbuf_init(b);
	return s;
}

void
strbuf_add_json_str(struct strbuf *b, const char *s)
{
	if (s == NULL) {
		strbuf_adds(b, "null");
		return;
	}
	strbuf_adds(b, "\"");
	strbuf_add_json(b, s, strlen(s));
	strbuf_adds(b, "\"");
}

void
strbuf_add_share(struct strbuf *b, uint64_t part, uint64_t whole)
{
	char num[32];
	int n;

	n = snprintf(num, sizeof(num), "%.4f",
	    whole > 0 ? (double)part / (double)whole : 0.0);
	if (n <= 0 || (size_t)n >= sizeof(num)) {
		strbuf_adds(b, "0.0");
		return;
	}
	while (n > 2 && num[n - 1] == '0' && num[n - 2] != '.')
		num[--n] = '\0';
	strbuf_add(b, num, (size_t)n);
}
