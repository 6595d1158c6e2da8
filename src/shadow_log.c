/*
 * shadow_log: a ring of the last SHADOW_LOG_CAP mismatches. See
 * shadow_log.h for why one mutex is enough.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cutover/shadow_log.h"

/* Owner: the server. `ring` holds the last min(total, CAP) entries. */
struct shadow_log {
	pthread_mutex_t mu;
	struct shadow_mismatch ring[SHADOW_LOG_CAP];
	uint64_t total; /* ever added; ring[(total - 1) % CAP] is the newest */
};

struct shadow_log *
shadow_log_new(void)
{
	struct shadow_log *l = xcalloc(1, sizeof(*l));

	pthread_mutex_init(&l->mu, NULL);
	return l;
}

void
shadow_log_free(struct shadow_log *l)
{
	if (l == NULL)
		return;
	pthread_mutex_destroy(&l->mu);
	free(l);
}

void
shadow_log_add(struct shadow_log *l, const struct shadow_mismatch *m)
{
	pthread_mutex_lock(&l->mu);
	l->ring[l->total % SHADOW_LOG_CAP] = *m;
	l->total++;
	pthread_mutex_unlock(&l->mu);
}

uint64_t
shadow_log_total(struct shadow_log *l)
{
	uint64_t t;

	pthread_mutex_lock(&l->mu);
	t = l->total;
	pthread_mutex_unlock(&l->mu);
	return t;
}

static void
shadow_log_str(struct strbuf *out, const char *key, const char *v, bool comma)
{
	strbuf_addf(out, "%s\"%s\":\"", comma ? "," : "", key);
	strbuf_add_json(out, v, strlen(v));
	strbuf_adds(out, "\"");
}

/* RFC 3339 in UTC with milliseconds, like the access log's `ts`. */
static void
shadow_log_time(struct strbuf *out, uint64_t unix_ms)
{
	time_t s = (time_t)(unix_ms / 1000u);
	struct tm tm;
	char buf[32];

	gmtime_r(&s, &tm);
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
	strbuf_addf(out, "\"time\":\"%s.%03uZ\"", buf, (unsigned)(unix_ms % 1000u));
}

static void
shadow_log_entry(struct strbuf *out, const struct shadow_mismatch *m)
{
	strbuf_adds(out, "{");
	shadow_log_time(out, m->unix_ms);
	shadow_log_str(out, "request_id", m->request_id, true);
	shadow_log_str(out, "route", m->route, true);
	shadow_log_str(out, "method", m->method, true);
	shadow_log_str(out, "path", m->path, true);
	shadow_log_str(out, "upstream", m->upstream, true);
	shadow_log_str(out, "shadow_upstream", m->shadow_upstream, true);
	strbuf_addf(out, ",\"primary_status\":%d,\"shadow_status\":%d",
	    m->primary_status, m->shadow_status);
	shadow_log_str(out, "difference", m->diff, true);
	strbuf_adds(out, "}");
}

void
shadow_log_render(struct shadow_log *l, struct strbuf *out)
{
	struct shadow_mismatch *copy = xmalloc(sizeof(l->ring));
	uint64_t total;
	size_t kept;

	/* Copy under the lock, format outside it. */
	pthread_mutex_lock(&l->mu);
	memcpy(copy, l->ring, sizeof(l->ring));
	total = l->total;
	pthread_mutex_unlock(&l->mu);
	kept = total < SHADOW_LOG_CAP ? (size_t)total : SHADOW_LOG_CAP;
	strbuf_addf(out, "{\"total\":%" PRIu64 ",\"kept\":%zu,\"mismatches\":[",
	    total, kept);
	for (size_t i = 0; i < kept; i++) {
		if (i > 0)
			strbuf_adds(out, ",");
		shadow_log_entry(out, &copy[(total - 1 - i) % SHADOW_LOG_CAP]);
	}
	strbuf_adds(out, "]}\n");
	free(copy);
}
