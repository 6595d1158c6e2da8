/*
 * migration: the /migration report. See migration.h: the counts come
 * from the metrics; the paths reaching the catch-all from one top-K
 * sketch per worker, summed when the report is asked for.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>

#include "cutover/migration.h"
#include "cutover/path_template.h"
#include "cutover/topk.h"

/* Owner: its worker. `mu` guards `paths` against the admin thread's reads. */
struct migration_worker {
	pthread_mutex_t mu;
	struct topk paths; /* templates of the paths that reached the catch-all */
};

struct migration_worker *
migration_worker_new(void)
{
	struct migration_worker *m = xcalloc(1, sizeof(*m));

	pthread_mutex_init(&m->mu, NULL);
	topk_init(&m->paths, MIGRATION_SKETCH);
	return m;
}

void
migration_worker_free(struct migration_worker *m)
{
	if (m == NULL)
		return;
	topk_free(&m->paths);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

void
migration_catch_all(struct migration_worker *m, const char *path, size_t len)
{
	char tpl[TOPK_MAX_KEY + 1];
	size_t n = path_template(path, len, tpl, sizeof(tpl));

	pthread_mutex_lock(&m->mu);
	topk_add(&m->paths, tpl, n, 1);
	pthread_mutex_unlock(&m->mu);
}

/* Per upstream of route `r`, what it served: its targets, then its fallback. */
static void
migration_route_upstreams(struct strbuf *out, const struct config *cfg,
    size_t r, struct metrics_worker *const *mw, size_t n, uint64_t total)
{
	const struct route_conf *rc = &cfg->routes[r];
	bool first = true;

	strbuf_adds(out, ",\"served_by\":[");
	for (size_t u = 0; u < cfg->nupstreams; u++) {
		uint64_t k = metrics_sum_requests(mw, n, rc->id,
		    cfg->upstreams[u].id);
		bool own = rc->fallback.upstream == &cfg->upstreams[u];

		for (size_t t = 0; t < rc->ntargets && !own; t++)
			own = rc->targets[t].upstream == &cfg->upstreams[u];
		if (!own && k == 0)
			continue;
		strbuf_adds(out, first ? "{\"upstream\":" : ",{\"upstream\":");
		first = false;
		strbuf_add_json_str(out, cfg->upstreams[u].name);
		strbuf_addf(out, ",\"requests\":%" PRIu64 ",\"share\":", k);
		strbuf_add_share(out, k, total);
		strbuf_adds(out, "}");
	}
	strbuf_adds(out, "]");
}

static void
migration_route_shadow(struct strbuf *out, const struct route_conf *rc,
    struct metrics_worker *const *mw, size_t n)
{
	uint64_t c[METRICS_SHADOW__COUNT];

	if (!rc->shadow.enabled) {
		strbuf_adds(out, ",\"shadow\":null");
		return;
	}
	strbuf_adds(out, ",\"shadow\":{\"upstream\":");
	strbuf_add_json_str(out, rc->shadow.upstream_name);
	strbuf_addf(out, ",\"compare\":%s", rc->shadow.compare ? "true" : "false");
	for (size_t k = 0; k < METRICS_SHADOW__COUNT; k++) {
		c[k] = metrics_sum_shadow(mw, n, rc->id, k);
		strbuf_addf(out, ",\"%s\":%" PRIu64, metrics_shadow_name(k), c[k]);
	}
	/* Of the copies compared, the share that matched (null before any). */
	strbuf_adds(out, ",\"match_rate\":");
	if (c[METRICS_SHADOW_MATCH] + c[METRICS_SHADOW_MISMATCH] == 0)
		strbuf_adds(out, "null");
	else
		strbuf_add_share(out, c[METRICS_SHADOW_MATCH],
		    c[METRICS_SHADOW_MATCH] + c[METRICS_SHADOW_MISMATCH]);
	strbuf_adds(out, "}");
}

static void
migration_route(struct strbuf *out, const struct config *cfg, size_t r,
    struct metrics_worker *const *mw, size_t n)
{
	const struct route_conf *rc = &cfg->routes[r];
	uint64_t total = metrics_sum_requests(mw, n, rc->id, METRICS_NONE);

	strbuf_adds(out, r > 0 ? ",{\"name\":" : "{\"name\":");
	strbuf_add_json_str(out, rc->name);
	strbuf_addf(out, ",\"active\":%s,\"catch_all\":%s,\"requests\":%" PRIu64,
	    rc->active ? "true" : "false", rc->catch_all ? "true" : "false",
	    total);
	if (rc->has_respond)
		strbuf_addf(out, ",\"respond\":%d", rc->respond.status);
	migration_route_upstreams(out, cfg, r, mw, n, total);
	/* Coverage gaps (the new service said "not yet") are not failures. */
	strbuf_addf(out, ",\"fallbacks\":%" PRIu64 ",\"coverage_gaps\":%" PRIu64,
	    metrics_sum_fallbacks(mw, n, rc->id, METRICS_FALLBACK_UNAVAILABLE) +
		metrics_sum_fallbacks(mw, n, rc->id, METRICS_FALLBACK_FAILURE),
	    metrics_sum_fallbacks(mw, n, rc->id, METRICS_FALLBACK_STATUS));
	migration_route_shadow(out, rc, mw, n);
	strbuf_adds(out, "}");
}

/* The busiest templates that reached the catch-all, summed over the workers. */
static void
migration_candidates(struct strbuf *out, struct migration_worker *const *gw,
    size_t n)
{
	struct topk sum;
	struct topk_entry top[MIGRATION_TOP];
	size_t k;

	topk_init(&sum, MIGRATION_SKETCH);
	for (size_t i = 0; i < n; i++) {
		pthread_mutex_lock(&gw[i]->mu);
		topk_merge(&sum, &gw[i]->paths);
		pthread_mutex_unlock(&gw[i]->mu);
	}
	k = topk_top(&sum, top, MIGRATION_TOP);
	strbuf_adds(out, ",\"candidates\":[");
	for (size_t i = 0; i < k; i++) {
		strbuf_adds(out, i > 0 ? ",{\"path\":" : "{\"path\":");
		strbuf_add_json_str(out, top[i].key);
		/* `requests` may over-count by up to `error` (a bounded sketch). */
		strbuf_addf(out, ",\"requests\":%" PRIu64 ",\"error\":%" PRIu64
		    ",\"share\":", top[i].count, top[i].error);
		strbuf_add_share(out, top[i].count, sum.total);
		strbuf_adds(out, "}");
	}
	strbuf_adds(out, "]");
	topk_free(&sum);
}

void
migration_render(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *mw, struct migration_worker *const *gw,
    size_t n)
{
	uint64_t routed = 0, rest = 0;
	const struct route_conf *ca = NULL;

	for (size_t r = 0; r < cfg->nroutes; r++) {
		uint64_t k = metrics_sum_requests(mw, n, cfg->routes[r].id,
		    METRICS_NONE);

		routed += k;
		if (cfg->routes[r].catch_all) {
			ca = &cfg->routes[r];
			rest = k;
		}
	}
	strbuf_addf(out, "{\"requests\":%" PRIu64 ",\"catch_all\":", routed);
	if (ca == NULL) {
		strbuf_adds(out, "null");
	} else {
		strbuf_adds(out, "{\"route\":");
		strbuf_add_json_str(out, ca->name);
		strbuf_addf(out, ",\"requests\":%" PRIu64 ",\"share\":", rest);
		strbuf_add_share(out, rest, routed);
		strbuf_adds(out, "}");
	}
	strbuf_adds(out, ",\"routes\":[");
	for (size_t r = 0; r < cfg->nroutes; r++)
		migration_route(out, cfg, r, mw, n);
	strbuf_adds(out, "]");
	migration_candidates(out, gw, n);
	strbuf_adds(out, "}\n");
}
