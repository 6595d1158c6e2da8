/*
 * strbuf: a growable, always NUL-terminated byte string.
 * Owner: whoever holds the struct; strbuf_free() releases `s`.
 * Allocation failure is fatal (like xmalloc): a proxy out of memory for a
 * few bytes of text has nothing better to do.
 */
#ifndef CUTOVER_STRBUF_H
#define CUTOVER_STRBUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct strbuf {
	char *s;    /* NUL-terminated; NULL until the first append */
	size_t len; /* bytes before the NUL */
	size_t cap;
};

void strbuf_init(struct strbuf *b);
void strbuf_free(struct strbuf *b);
void strbuf_add(struct strbuf *b, const void *p, size_t n);
void strbuf_adds(struct strbuf *b, const char *s);
void strbuf_addf(struct strbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void strbuf_vaddf(struct strbuf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
/* Append `n` bytes as a JSON string body (no quotes), escaping as needed. */
void strbuf_add_json(struct strbuf *b, const char *p, size_t n);
/* A JSON string, quotes included; NULL as null. */
void strbuf_add_json_str(struct strbuf *b, const char *s);
/* part/whole as a JSON number with 1 to 4 decimals: 1.0, 0.5, 0.3333 (0.0 when whole is 0). */
void strbuf_add_share(struct strbuf *b, uint64_t part, uint64_t whole);
/* Hand the string to the caller (who frees it); the strbuf is reset. */
char *strbuf_detach(struct strbuf *b);
/* Small helpers used everywhere. Fatal on out of memory. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t m);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

#endif /* CUTOVER_STRBUF_H */
