/*
 * accesslog: the JSON access log (SPEC section 7) and its writer thread.
 *
 * Formatting runs on the worker thread, once a request, so it is written
 * for speed: the worst-case length of a line is computed first (every
 * string byte can become a six-byte \u00XX), then the line is rendered
 * straight into the worker's block with hand-written integer conversion and
 * a per-worker cache of the formatted second of the timestamp. No snprintf,
 * no strbuf growth on the hot path.
 *
 * Strings are escaped so the output is always valid JSON in UTF-8: '"',
 * '\\' and control bytes are escaped, well-formed UTF-8 is copied as is,
 * and every byte that is not part of a well-formed sequence is written as
 * \u00XX (so a reader can map \u00XX back to byte XX and recover the
 * original bytes exactly).
 *
 * Hand-off: a worker fills its own block (64 KiB) without locking and
 * takes the log's mutex once a block, to queue the full block and pick up a
 * spare one. The writer thread pops blocks one at a time and write(2)s them;
 * blocks from one worker are queued, hence written, in order. When the
 * queue already holds ACCESSLOG_QUEUE_MAX blocks, the block is dropped, its
 * lines are added to `dropped`, and the worker reuses the block at once, so
 * a stuck disk never blocks a worker and never grows memory past the bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cutover/accesslog.h"
#include "cutover/log.h"
#include "cutover/strbuf.h"

#define ACCESSLOG_BLOCK_SIZE (64u * 1024u)
#define ACCESSLOG_QUEUE_MAX 256u /* blocks: 16 MiB */
#define ACCESSLOG_SPARE_MAX 16u	 /* blocks kept for reuse: 1 MiB */
/* Bound on everything but the escaped strings (keys, numbers, ts, flags). */
#define ACCESSLOG_FIXED_MAX 640u
#define ACCESSLOG_NSTR 10

/*
 * A run of whole lines. Allocated by the worker (or taken from the log's
 * spare list); owned by the worker while it fills it, by the queue once
 * handed off, by the writer thread while it writes it; the writer frees it
 * or puts it on the spare list. `next` links it on log->head (the queue) or
 * log->spare. A line longer than ACCESSLOG_BLOCK_SIZE gets a block of its
 * own size, which is never kept as a spare.
 */
struct accesslog_block {
	struct accesslog_block *next;
	size_t len;
	size_t cap;
	unsigned lines;
	char data[];
};

/* The formatted "YYYY-MM-DDTHH:MM:SS" of the last second seen. */
struct accesslog_tscache {
	uint64_t sec;
	size_t len; /* 0: empty */
	char text[32];
};

/*
 * The process-wide log. Allocated by accesslog_open(), freed by
 * accesslog_close(), which also joins the writer thread. Everything under
 * `mu` is shared by the workers and the writer; fd, err_streak and partial
 * belong to the writer thread alone (and to close(), after the join).
 */
struct accesslog {
	bool off;	 /* path NULL: all calls are no-ops */
	bool is_stdout;	 /* fd 1: never reopened, never closed */
	char *path;	 /* owned */
	int fd;
	bool err_streak; /* a write failed and none has succeeded since */
	bool partial;	 /* the last failed write left a partial line */
	pthread_t thread;
	atomic_bool reopen;
	atomic_uint_fast64_t dropped;

	pthread_mutex_t mu;
	pthread_cond_t cv; /* signalled: queue non-empty, or stopping */
	struct accesslog_block *head, *tail; /* the queue, oldest first */
	unsigned queued;
	struct accesslog_block *spare;
	unsigned nspare;
	bool stopping;
};

/*
 * One per worker thread, used by that thread only. Allocated by
 * accesslog_worker_new(), freed by accesslog_worker_free(), which hands the
 * current block to the writer first. Must be freed before its log is
 * closed.
 */
struct accesslog_worker {
	struct accesslog *log;
	struct accesslog_block *cur; /* NULL until the first line */
	struct accesslog_tscache ts;
};

/* The strings of an entry, in output order, with their lengths. */
struct accesslog_strs {
	const char *p[ACCESSLOG_NSTR]; /* NULL: JSON null */
	size_t n[ACCESSLOG_NSTR];
};

static size_t accesslog_measure(const struct accesslog_entry *e,
    struct accesslog_strs *s);
static char *accesslog_render(char *p, const struct accesslog_entry *e,
    const struct accesslog_strs *s, struct accesslog_tscache *tc);
static char *put_u64(char *p, uint64_t v);
static char *put_ms(char *p, uint64_t us);
static char *put_2(char *p, unsigned v);
static char *put_ts(char *p, uint64_t us, struct accesslog_tscache *tc);
static char *put_str(char *p, const char *s, size_t n);
static size_t utf8_seq(const unsigned char *s, size_t n);
static struct accesslog_block *block_new(size_t cap);
static struct accesslog_block *block_get(struct accesslog_worker *w, size_t need);
static void block_handoff(struct accesslog_worker *w);
static void *writer_main(void *arg);
static void writer_block(struct accesslog *log, struct accesslog_block *b);
static void writer_reopen(struct accesslog *log);
static int write_all(int fd, const char *p, size_t n, size_t *done)
    __attribute__((warn_unused_result));

/*
 * Byte classes for put_str(): 0 copy, 1 two-character escape, 2 \u00XX,
 * 3 first byte of a possible UTF-8 sequence (checked by utf8_seq()).
 */
static const unsigned char json_class[256] = {
	2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 2, 1, 1, 2, 2, /* \b \t \n \f \r */
	2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* " */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* \ */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, /* DEL */
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
	3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3,
};

#define PUT_LIT(p, s) (memcpy((p), (s), sizeof(s) - 1), (p) + sizeof(s) - 1)

/* ---- formatting ---- */

/* Fill `s` and return an upper bound on the length of the line. */
static size_t
accesslog_measure(const struct accesslog_entry *e, struct accesslog_strs *s)
{
	const char *c[ACCESSLOG_NSTR] = { e->request_id, e->client, NULL, NULL,
		e->route, e->upstream, e->server, e->breaker, e->fallback,
		e->shadow };
	size_t need = ACCESSLOG_FIXED_MAX;

	for (int i = 0; i < ACCESSLOG_NSTR; i++) {
		s->p[i] = c[i];
		s->n[i] = c[i] != NULL ? strlen(c[i]) : 0;
	}
	s->p[2] = e->method.p;
	s->n[2] = e->method.p != NULL ? e->method.len : 0;
	s->p[3] = e->path.p;
	s->n[3] = e->path.p != NULL ? e->path.len : 0;
	for (int i = 0; i < ACCESSLOG_NSTR; i++)
		need += 6 * s->n[i];
	return need;
}

/* Render the line at `p`, which has room for accesslog_measure() bytes. */
static char *
accesslog_render(char *p, const struct accesslog_entry *e,
    const struct accesslog_strs *s, struct accesslog_tscache *tc)
{
	static const char flag_names[][3] = { "UF", "UT", "UR", "BO", "UO",
		"RX", "RB", "BL", "FB", "NR" };
	bool first = true;

	p = PUT_LIT(p, "{\"ts\":\"");
	p = put_ts(p, e->ts_unix_us, tc);
	p = PUT_LIT(p, "\",\"request_id\":");
	p = put_str(p, s->p[0], s->n[0]);
	p = PUT_LIT(p, ",\"client\":");
	p = put_str(p, s->p[1], s->n[1]);
	p = PUT_LIT(p, ",\"method\":");
	p = put_str(p, s->p[2], s->n[2]);
	p = PUT_LIT(p, ",\"path\":");
	p = put_str(p, s->p[3], s->n[3]);
	p = PUT_LIT(p, ",\"route\":");
	p = put_str(p, s->p[4], s->n[4]);
	p = PUT_LIT(p, ",\"upstream\":");
	p = put_str(p, s->p[5], s->n[5]);
	p = PUT_LIT(p, ",\"server\":");
	p = put_str(p, s->p[6], s->n[6]);
	p = PUT_LIT(p, ",\"status\":");
	if (e->status < 0) {
		*p++ = '-';
		p = put_u64(p, (uint64_t)0 - (uint64_t)(int64_t)e->status);
	} else {
		p = put_u64(p, (uint64_t)e->status);
	}
	p = PUT_LIT(p, ",\"bytes_in\":");
	p = put_u64(p, e->bytes_in);
	p = PUT_LIT(p, ",\"bytes_out\":");
	p = put_u64(p, e->bytes_out);
	p = PUT_LIT(p, ",\"duration_ms\":");
	p = put_ms(p, e->duration_us);
	p = PUT_LIT(p, ",\"upstream_ms\":");
	if (e->upstream_us < 0)
		p = PUT_LIT(p, "null");
	else
		p = put_ms(p, (uint64_t)e->upstream_us);
	p = PUT_LIT(p, ",\"tries\":");
	p = put_u64(p, e->tries);
	p = PUT_LIT(p, ",\"breaker\":");
	p = put_str(p, s->p[7], s->n[7]);
	p = PUT_LIT(p, ",\"fallback\":");
	p = put_str(p, s->p[8], s->n[8]);
	p = PUT_LIT(p, ",\"shadow\":");
	p = put_str(p, s->p[9], s->n[9]);
	p = PUT_LIT(p, ",\"flags\":[");
	for (unsigned i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		if ((e->flags & (1u << i)) == 0)
			continue;
		if (!first)
			*p++ = ',';
		first = false;
		*p++ = '"';
		*p++ = flag_names[i][0];
		*p++ = flag_names[i][1];
		*p++ = '"';
	}
	return PUT_LIT(p, "]}\n");
}

static char *
put_u64(char *p, uint64_t v)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

/* Microseconds as milliseconds with three decimals. */
static char *
put_ms(char *p, uint64_t us)
{
	unsigned frac = (unsigned)(us % 1000);

	p = put_u64(p, us / 1000);
	*p++ = '.';
	*p++ = (char)('0' + frac / 100);
	*p++ = (char)('0' + frac / 10 % 10);
	*p++ = (char)('0' + frac % 10);
	return p;
}

static char *
put_2(char *p, unsigned v)
{
	*p++ = (char)('0' + v / 10 % 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/*
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" in UTC. The civil date comes from Howard
 * Hinnant's days_from_civil inverse (no gmtime_r, no locale, no lock); the
 * text of the second is cached in `tc`.
 */
static char *
put_ts(char *p, uint64_t us, struct accesslog_tscache *tc)
{
	uint64_t sec = us / 1000000;
	unsigned ms = (unsigned)(us % 1000000 / 1000);

	if (tc->len == 0 || tc->sec != sec) {
		uint64_t z = sec / 86400 + 719468;
		unsigned rem = (unsigned)(sec % 86400);
		uint64_t era = z / 146097;
		unsigned doe = (unsigned)(z - era * 146097);
		unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
		unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
		unsigned mp = (5 * doy + 2) / 153;
		unsigned d = doy - (153 * mp + 2) / 5 + 1;
		unsigned m = mp < 10 ? mp + 3 : mp - 9;
		uint64_t y = yoe + era * 400 + (m <= 2);
		char *q = tc->text;

		if (y < 10000) {
			q = put_2(q, (unsigned)(y / 100));
			q = put_2(q, (unsigned)(y % 100));
		} else {
			q = put_u64(q, y);
		}
		*q++ = '-';
		q = put_2(q, m);
		*q++ = '-';
		q = put_2(q, d);
		*q++ = 'T';
		q = put_2(q, rem / 3600);
		*q++ = ':';
		q = put_2(q, rem / 60 % 60);
		*q++ = ':';
		q = put_2(q, rem % 60);
		tc->sec = sec;
		tc->len = (size_t)(q - tc->text);
	}
	memcpy(p, tc->text, tc->len);
	p += tc->len;
	*p++ = '.';
	*p++ = (char)('0' + ms / 100);
	p = put_2(p, ms % 100);
	*p++ = 'Z';
	return p;
}

/* A quoted, escaped JSON string, or null; at most 6 * n + 2 bytes. */
static char *
put_str(char *p, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;

	if (s == NULL)
		return PUT_LIT(p, "null");
	*p++ = '"';
	while (i < n) {
		size_t run = i;

		while (run < n && json_class[u[run]] == 0)
			run++;
		if (run > i) {
			memcpy(p, u + i, run - i);
			p += run - i;
			i = run;
			if (i == n)
				break;
		}
		unsigned char c = u[i];
		size_t k;

		switch (json_class[c]) {
		case 1:
			*p++ = '\\';
			switch (c) {
			case '\b': *p++ = 'b'; break;
			case '\t': *p++ = 't'; break;
			case '\n': *p++ = 'n'; break;
			case '\f': *p++ = 'f'; break;
			case '\r': *p++ = 'r'; break;
			default: *p++ = (char)c; break; /* '"' and '\\' */
			}
			i++;
			continue;
		case 3:
			k = utf8_seq(u + i, n - i);
			if (k > 0) {
				memcpy(p, u + i, k);
				p += k;
				i += k;
				continue;
			}
			break; /* not well-formed: escape the byte */
		default:
			break;
		}
		p = PUT_LIT(p, "\\u00");
		*p++ = hex[c >> 4];
		*p++ = hex[c & 15];
		i++;
	}
	*p++ = '"';
	return p;
}

/*
 * Length of the well-formed UTF-8 sequence at s (s[0] >= 0x80), or 0.
 * Rejects overlong forms, surrogates and code points above U+10FFFF
 * (Unicode Table 3-7).
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void
accesslog_format(struct strbuf *out, const struct accesslog_entry *e)
{
	struct accesslog_tscache tc = { .len = 0 };
	struct accesslog_strs s;
	size_t need = accesslog_measure(e, &s);
	char *buf = xmalloc(need);
	char *end = accesslog_render(buf, e, &s, &tc);

	strbuf_add(out, buf, (size_t)(end - buf));
	free(buf);
}

/* ---- the workers' side ---- */

struct accesslog *
accesslog_open(const char *path, const char **err)
{
	struct accesslog *log = xcalloc(1, sizeof(*log));
	sigset_t all, old;
	int rc;

	atomic_init(&log->reopen, false);
	atomic_init(&log->dropped, 0);
	log->fd = -1;
	if (path == NULL) {
		log->off = true;
		return log;
	}
	if (strcmp(path, "stdout") == 0) {
		log->is_stdout = true;
		log->fd = STDOUT_FILENO;
	} else {
		log->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
		if (log->fd == -1) {
			int saved = errno;

			free(log);
			if (err != NULL)
				*err = "cannot open the access log file";
			errno = saved;
			return NULL;
		}
	}
	log->path = xstrdup(path);
	pthread_mutex_init(&log->mu, NULL);
	pthread_cond_init(&log->cv, NULL);
	/* The writer takes no signals: they belong to the event loops. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&log->thread, NULL, writer_main, log);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		pthread_cond_destroy(&log->cv);
		pthread_mutex_destroy(&log->mu);
		if (!log->is_stdout)
			close(log->fd);
		free(log->path);
		free(log);
		if (err != NULL)
			*err = "cannot start the access log writer thread";
		errno = rc;
		return NULL;
	}
	return log;
}

struct accesslog_worker *
accesslog_worker_new(struct accesslog *log)
{
	struct accesslog_worker *w = xcalloc(1, sizeof(*w));

	w->log = log;
	return w;
}

void
accesslog_write(struct accesslog_worker *w, const struct accesslog_entry *e)
{
	struct accesslog_strs s;
	struct accesslog_block *b;
	size_t need;

	if (w->log->off)
		return;
	need = accesslog_measure(e, &s);
	b = w->cur;
	if (b == NULL || b->cap - b->len < need)
		b = block_get(w, need);
	b->len += (size_t)(accesslog_render(b->data + b->len, e, &s, &w->ts) -
	    (b->data + b->len));
	b->lines++;
}

void
accesslog_flush(struct accesslog_worker *w)
{
	if (w->cur != NULL && w->cur->lines > 0)
		block_handoff(w);
}

void
accesslog_worker_free(struct accesslog_worker *w)
{
	if (w == NULL)
		return;
	accesslog_flush(w);
	free(w->cur);
	w->cur = NULL;
	free(w);
}

static struct accesslog_block *
block_new(size_t cap)
{
	struct accesslog_block *b = xmalloc(sizeof(*b) + cap);

	b->next = NULL;
	b->len = 0;
	b->cap = cap;
	b->lines = 0;
	return b;
}

/* Make w->cur a block with `need` bytes free, handing off the full one. */
static struct accesslog_block *
block_get(struct accesslog_worker *w, size_t need)
{
	if (w->cur != NULL && w->cur->lines > 0)
		block_handoff(w);
	if (w->cur != NULL && w->cur->cap < need) {
		free(w->cur);
		w->cur = NULL;
	}
	if (w->cur == NULL)
		w->cur = block_new(need > ACCESSLOG_BLOCK_SIZE ? need : ACCESSLOG_BLOCK_SIZE);
	return w->cur;
}

/*
 * Queue w->cur (one lock a block) and take a spare block in its place; if
 * the queue is full, count its lines as dropped and keep it for reuse.
 */
static void
block_handoff(struct accesslog_worker *w)
{
	struct accesslog *log = w->log;
	struct accesslog_block *b = w->cur;

	pthread_mutex_lock(&log->mu);
	if (log->queued >= ACCESSLOG_QUEUE_MAX || log->stopping) {
		pthread_mutex_unlock(&log->mu);
		atomic_fetch_add_explicit(&log->dropped, b->lines,
		    memory_order_relaxed);
		b->len = 0;
		b->lines = 0;
		return;
	}
	b->next = NULL;
	if (log->tail != NULL)
		log->tail->next = b;
	else
		log->head = b;
	log->tail = b;
	if (log->queued++ == 0)
		pthread_cond_signal(&log->cv);
	w->cur = log->spare;
	if (w->cur != NULL) {
		log->spare = w->cur->next;
		log->nspare--;
	}
	pthread_mutex_unlock(&log->mu);
	if (w->cur != NULL) {
		w->cur->next = NULL;
		w->cur->len = 0;
		w->cur->lines = 0;
	}
}

void
accesslog_reopen(struct accesslog *log)
{
	/*
	 * Only an atomic store: safe from a signal handler. The writer acts on
	 * it before its next block, so lines queued but not yet written when
	 * logrotate renamed the file land in the new file (none are lost).
	 */
	if (!log->off && !log->is_stdout)
		atomic_store(&log->reopen, true);
}

uint64_t
accesslog_dropped(const struct accesslog *log)
{
	return atomic_load_explicit(&log->dropped, memory_order_relaxed);
}

void
accesslog_close(struct accesslog *log)
{
	struct accesslog_block *b;

	if (log == NULL)
		return;
	if (log->off) {
		free(log);
		return;
	}
	pthread_mutex_lock(&log->mu);
	log->stopping = true;
	pthread_cond_signal(&log->cv);
	pthread_mutex_unlock(&log->mu);
	pthread_join(log->thread, NULL);
	while ((b = log->spare) != NULL) {
		log->spare = b->next;
		free(b);
	}
	if (!log->is_stdout && log->fd != -1)
		close(log->fd);
	log->fd = -1;
	pthread_cond_destroy(&log->cv);
	pthread_mutex_destroy(&log->mu);
	free(log->path);
	log->path = NULL;
	free(log);
}

/* ---- the writer thread ---- */

/* Write queued blocks until the queue is empty and close() asked to stop. */
static void *
writer_main(void *arg)
{
	struct accesslog *log = arg;
	struct accesslog_block *done = NULL, *b;

	pthread_mutex_lock(&log->mu);
	for (;;) {
		if (done != NULL && done->cap == ACCESSLOG_BLOCK_SIZE &&
		    log->nspare < ACCESSLOG_SPARE_MAX) {
			done->next = log->spare;
			log->spare = done;
			log->nspare++;
			done = NULL;
		}
		while (log->head == NULL && !log->stopping)
			pthread_cond_wait(&log->cv, &log->mu);
		b = log->head;
		if (b == NULL)
			break; /* stopping, and everything is written */
		log->head = b->next;
		if (log->head == NULL)
			log->tail = NULL;
		log->queued--;
		pthread_mutex_unlock(&log->mu);
		free(done);
		writer_block(log, b);
		done = b;
		pthread_mutex_lock(&log->mu);
	}
	pthread_mutex_unlock(&log->mu);
	free(done);
	return NULL;
}

static void
writer_block(struct accesslog *log, struct accesslog_block *b)
{
	static const struct timespec zero = { 0, 0 };
	size_t done = 0;
	int rc = 0;

	if (atomic_exchange(&log->reopen, false))
		writer_reopen(log);
	if (log->partial) {
		/* End the cut line so the next one starts on its own. */
		rc = write_all(log->fd, "\n", 1, &done);
		if (rc == 0)
			log->partial = false;
	}
	if (rc == 0) {
		done = 0;
		rc = write_all(log->fd, b->data, b->len, &done);
		if (rc == -1 && done > 0)
			log->partial = true;
	}
	if (rc == -1) {
		int saved = errno;

		if (!log->err_streak)
			log_warn("access_log_write", "path=%s lines_lost=%u",
			    log->path, b->lines);
		log->err_streak = true;
		if (saved == EPIPE) {
			/* SIGPIPE is blocked here; consume it so it stays rare. */
			sigset_t sigpipe;

			sigemptyset(&sigpipe);
			sigaddset(&sigpipe, SIGPIPE);
			while (sigtimedwait(&sigpipe, NULL, &zero) == SIGPIPE)
				;
		}
	} else if (log->err_streak) {
		log->err_streak = false;
		log_info("access_log_write_resumed", "path=%s", log->path);
	}
}

/* Reopen the path (after logrotate's rename); on failure keep the old fd. */
static void
writer_reopen(struct accesslog *log)
{
	int fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);

	if (fd == -1) {
		log_warn("access_log_reopen_failed", "path=%s", log->path);
		return;
	}
	close(log->fd);
	log->fd = fd;
	log->partial = false;
}

static int
write_all(int fd, const char *p, size_t n, size_t *done)
{
	while (*done < n) {
		ssize_t r = write(fd, p + *done, n - *done);

		if (r == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		*done += (size_t)r;
	}
	return 0;
}
