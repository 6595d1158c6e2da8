/*
 * metrics: Prometheus counters and histograms, per worker, lock-free.
 *
 * Threading. Each struct metrics_worker has exactly one writer (its
 * worker thread) and any number of readers (the admin thread scraping
 * /metrics). Every counter is an _Atomic integer accessed with
 * memory_order_relaxed; the writer increments with a load and a store
 * rather than fetch_add, which is correct with a single writer and
 * compiles to plain moves (no lock prefix). Readers never see a torn
 * value, and since each counter only grows, a sum over workers never goes
 * backwards between two scrapes.
 *
 * cutover_requests_total{route,upstream,code} would be large if dense, so
 * each worker has a fixed open-addressing table of METRICS_REQ_SLOTS
 * slots keyed by (route, upstream, code) packed in a uint64 (0 = empty).
 * The writer claims an empty slot by storing its counter first and then
 * publishing the key with a release store; a reader acquire-loads the key,
 * so a visible key always has a counter >= 1 behind it. The table is never
 * resized or cleared. Once METRICS_REQ_MAX label sets are in use (3/4 of
 * the slots, which keeps linear probes short), requests with a new label
 * set are counted per route in `overflow` and rendered as
 * {route="R",upstream="",code="other"}: per-route totals stay exact, only
 * the upstream/code split of the excess is lost, and a warning is logged
 * once per worker.
 *
 * The duration histogram is dense: per route (+1 for "no route") one
 * counter per bucket (not cumulative: the writer touches one) and the sum
 * in microseconds as an integer. _count is derived from the buckets when
 * rendering, so it always equals the +Inf bucket.
 */
#include <inttypes.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/log.h"
#include "cutover/metrics.h"

#define METRICS_REQ_SLOTS 4096 /* power of two */
#define METRICS_REQ_MAX (METRICS_REQ_SLOTS / 4 * 3)
#define METRICS_REQ_HASH_SHIFT 52 /* 64 - log2(METRICS_REQ_SLOTS) */
_Static_assert(UINT64_C(1) << (64 - METRICS_REQ_HASH_SHIFT) ==
	METRICS_REQ_SLOTS, "hash shift matches the table size");

/* Key layout: bit 63 set (so 0 is "empty"), route+1, upstream+1, code. */
#define KEY_USED (UINT64_C(1) << 63)
#define KEY_ROUTE_SHIFT 40
#define KEY_ROUTE_MASK ((UINT64_C(1) << 23) - 1) /* bits 40..62 */
#define KEY_UP_SHIFT 16
#define KEY_UP_MASK ((UINT64_C(1) << 24) - 1) /* bits 16..39 */
#define KEY_CODE_MASK UINT64_C(0xffff)
/* Render-only: the overflow row of a route sorts after its other rows. */
#define KEY_UP_OVERFLOW KEY_UP_MASK
#define KEY_CODE_OVERFLOW KEY_CODE_MASK

#define HIST_NBUCKETS 16 /* 15 finite bounds and +Inf */

static const uint64_t hist_bounds_us[HIST_NBUCKETS - 1] = {
	1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000,
	1000000, 2500000, 5000000, 10000000, 30000000, 60000000,
};
static const char *const hist_le[HIST_NBUCKETS] = {
	"0.001", "0.0025", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25",
	"0.5", "1", "2.5", "5", "10", "30", "60", "+Inf",
};

static const char *const outcome_names[METRICS_TRY__COUNT] = {
	[METRICS_TRY_SUCCESS] = "success",
	[METRICS_TRY_FAILURE] = "failure",
	[METRICS_TRY_TIMEOUT] = "timeout",
	[METRICS_TRY_RESET] = "reset",
	[METRICS_TRY_CONNECT_FAILURE] = "connect_failure",
};

struct req_slot {
	_Atomic uint64_t key; /* 0 = empty; published last, with release */
	_Atomic uint64_t count;
};

struct hist {
	_Atomic uint64_t bucket[HIST_NBUCKETS]; /* not cumulative */
	_Atomic uint64_t sum_us;
};

/*
 * One worker's counters. Allocated whole by metrics_worker_new(), sized
 * from the config; freed by metrics_worker_free(). No member is on any
 * list, and nothing is allocated after creation.
 */
struct metrics_worker {
	size_t nroutes;
	size_t nupstreams;
	size_t nlisteners;

	struct req_slot *req;		/* METRICS_REQ_SLOTS */
	size_t req_used;		/* writer only */
	bool overflow_warned;		/* writer only */
	_Atomic uint64_t *overflow;	/* nroutes + 1; [nroutes] = no route */
	struct hist *hist;		/* nroutes + 1; [nroutes] = no route */
	_Atomic uint64_t *tries;	/* nupstreams * METRICS_TRY__COUNT */
	_Atomic int64_t *conns;		/* nlisteners */
	_Atomic int64_t *up_conns;	/* nupstreams * 2: active, idle */
	_Atomic uint64_t *rejected;	/* nupstreams * METRICS_REJECT__COUNT */
	_Atomic uint64_t *retries;	/* nupstreams * METRICS_RETRY__COUNT */
	_Atomic uint64_t *skipped;	/* nupstreams * METRICS_SKIP__COUNT */
	_Atomic uint64_t *exhausted;	/* nupstreams */
	_Atomic uint64_t *fallbacks;	/* nroutes * METRICS_FALLBACK__COUNT */
	_Atomic uint64_t *shadows;	/* nroutes * METRICS_SHADOW__COUNT */
};

static const char *const reject_names[METRICS_REJECT__COUNT] = {
	"breaker_open", "no_capacity", "pending_timeout",
};
static const char *const retry_names[METRICS_RETRY__COUNT] = {
	"connect_failure", "reset", "timeout", "status",
};
static const char *const skip_names[METRICS_SKIP__COUNT] = {
	"budget", "not_replayable", "body_too_large", "deadline", "breaker",
};
static const char *const shadow_names[METRICS_SHADOW__COUNT] = {
	"match", "mismatch", "error", "skipped", "sent",
};
static const char *const fallback_names[METRICS_FALLBACK__COUNT] = {
	"unavailable", "failure", "status",
};

/* A (key, value) row gathered for rendering. */
struct req_row {
	uint64_t key;
	uint64_t count;
};

static inline void counter_add(_Atomic uint64_t *c, uint64_t n);
static inline void gauge_add(_Atomic int64_t *g, int64_t n);
static inline uint64_t req_key(const struct metrics_worker *m, size_t route,
    size_t upstream, int status);
static inline size_t key_route(uint64_t key, size_t nroutes);
static inline size_t key_upstream(uint64_t key);
static int req_row_cmp(const void *a, const void *b);
static size_t req_rows_gather(struct metrics_worker *const *w, size_t n,
    struct req_row **out);
static void render_family(struct strbuf *out, const char *name,
    const char *type, const char *help);
static void render_route_label(struct strbuf *out, const struct config *cfg,
    size_t route);
static void render_requests(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n);
static void render_duration(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n);
static void render_tries(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n);
static void render_connections(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n);
static void render_upstream_conns(struct strbuf *out,
    const struct config *cfg, struct metrics_worker *const *w, size_t n);

/* Single-writer increment: a relaxed load and store, no read-modify-write. */
static inline void
counter_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c,
	    atomic_load_explicit(c, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

static inline void
gauge_add(_Atomic int64_t *g, int64_t n)
{
	atomic_store_explicit(g,
	    atomic_load_explicit(g, memory_order_relaxed) + n,
	    memory_order_relaxed);
}

/*
 * Pack a label set. Indices out of range (a caller bug, or a stale index
 * from another config generation) count as METRICS_NONE; a status outside
 * 0..999 counts as code 0.
 */
static inline uint64_t
req_key(const struct metrics_worker *m, size_t route, size_t upstream,
    int status)
{
	uint64_t r = route < m->nroutes ? (uint64_t)route + 1 : 0;
	uint64_t u = upstream < m->nupstreams ? (uint64_t)upstream + 1 : 0;
	uint64_t code = status >= 0 && status <= 999 ? (uint64_t)status : 0;

	return KEY_USED | r << KEY_ROUTE_SHIFT | u << KEY_UP_SHIFT | code;
}

/* The route index of a key, nroutes for "no route". */
static inline size_t
key_route(uint64_t key, size_t nroutes)
{
	uint64_t r = key >> KEY_ROUTE_SHIFT & KEY_ROUTE_MASK;

	return r == 0 ? nroutes : (size_t)(r - 1);
}

/* The upstream index of a key, METRICS_NONE for none. */
static inline size_t
key_upstream(uint64_t key)
{
	uint64_t u = key >> KEY_UP_SHIFT & KEY_UP_MASK;

	return u == 0 ? METRICS_NONE : (size_t)(u - 1);
}

/*
 * Counters for `cfg`'s routes, upstreams and listeners. Fatal on out of
 * memory (like xcalloc); the caller frees with metrics_worker_free(). The
 * indices later passed in are those of `cfg`.
 */
struct metrics_worker *
metrics_worker_new(const struct config *cfg)
{
	struct metrics_worker *m = xcalloc(1, sizeof(*m));

	/* Slots for every id a generation may use, so a reload never resizes. */
	(void)cfg;
	m->nroutes = CONF_IDS_MAX;
	m->nupstreams = CONF_IDS_MAX;
	m->nlisteners = CONF_IDS_MAX;
	/* The key has 23 bits for route + 1 and 24 for upstream + 1. */
	if (m->nroutes >= KEY_ROUTE_MASK || m->nupstreams >= KEY_UP_MASK - 1)
		fatal("metrics: %zu routes, %zu upstreams: too many",
		    m->nroutes, m->nupstreams);

	m->req = xcalloc(METRICS_REQ_SLOTS, sizeof(*m->req));
	m->overflow = xcalloc(m->nroutes + 1, sizeof(*m->overflow));
	m->hist = xcalloc(m->nroutes + 1, sizeof(*m->hist));
	m->tries = xcalloc(m->nupstreams * METRICS_TRY__COUNT,
	    sizeof(*m->tries));
	m->conns = xcalloc(m->nlisteners, sizeof(*m->conns));
	m->up_conns = xcalloc(m->nupstreams * 2, sizeof(*m->up_conns));
	m->rejected = xcalloc(m->nupstreams * METRICS_REJECT__COUNT + 1,
	    sizeof(*m->rejected));
	m->retries = xcalloc(m->nupstreams * METRICS_RETRY__COUNT + 1,
	    sizeof(*m->retries));
	m->skipped = xcalloc(m->nupstreams * METRICS_SKIP__COUNT + 1,
	    sizeof(*m->skipped));
	m->exhausted = xcalloc(m->nupstreams + 1, sizeof(*m->exhausted));
	m->fallbacks = xcalloc(m->nroutes * METRICS_FALLBACK__COUNT + 1,
	    sizeof(*m->fallbacks));
	m->shadows = xcalloc(m->nroutes * METRICS_SHADOW__COUNT + 1,
	    sizeof(*m->shadows));
	return m;
}

void
metrics_worker_free(struct metrics_worker *m)
{
	if (m == NULL)
		return;
	free(m->req);
	m->req = NULL;
	free(m->overflow);
	m->overflow = NULL;
	free(m->hist);
	m->hist = NULL;
	free(m->tries);
	m->tries = NULL;
	free(m->conns);
	m->conns = NULL;
	free(m->up_conns);
	m->up_conns = NULL;
	free(m->rejected);
	free(m->retries);
	free(m->skipped);
	free(m->exhausted);
	free(m->fallbacks);
	free(m->shadows);
	free(m);
}

/*
 * Hot path: one table probe (usually one slot) and one bucket search. The
 * writer is the only one that stores keys, so a relaxed load of its own
 * keys is enough here.
 */
void
metrics_request(struct metrics_worker *m, size_t route, size_t upstream,
    int status, uint64_t duration_us)
{
	uint64_t key = req_key(m, route, upstream, status);
	size_t ri = route < m->nroutes ? route : m->nroutes;
	struct hist *h = &m->hist[ri];
	size_t i, b;

	/* Fibonacci hashing: the top bits of key * 2^64/phi. */
	i = (size_t)((key * UINT64_C(0x9e3779b97f4a7c15)) >>
	    METRICS_REQ_HASH_SHIFT);
	for (;;) {
		struct req_slot *s = &m->req[i];
		uint64_t k = atomic_load_explicit(&s->key,
		    memory_order_relaxed);

		if (k == key) {
			counter_add(&s->count, 1);
			break;
		}
		if (k == 0) {
			if (m->req_used >= METRICS_REQ_MAX) {
				counter_add(&m->overflow[ri], 1);
				if (!m->overflow_warned) {
					m->overflow_warned = true;
					log_warnx("metrics_overflow",
					    "label_sets=%d", METRICS_REQ_MAX);
				}
				break;
			}
			/* Counter first, then publish the key. */
			atomic_store_explicit(&s->count, 1,
			    memory_order_relaxed);
			atomic_store_explicit(&s->key, key,
			    memory_order_release);
			m->req_used++;
			break;
		}
		i = (i + 1) & (METRICS_REQ_SLOTS - 1);
	}

	for (b = 0; b < HIST_NBUCKETS - 1; b++)
		if (duration_us <= hist_bounds_us[b])
			break;
	counter_add(&h->bucket[b], 1);
	counter_add(&h->sum_us, duration_us);
}

void
metrics_try(struct metrics_worker *m, size_t upstream, enum metrics_outcome o)
{
	if (upstream >= m->nupstreams || (unsigned)o >= METRICS_TRY__COUNT)
		return;
	counter_add(&m->tries[upstream * METRICS_TRY__COUNT + o], 1);
}

void
metrics_connection(struct metrics_worker *m, size_t listener, int delta)
{
	if (listener >= m->nlisteners)
		return;
	gauge_add(&m->conns[listener], delta);
}

void
metrics_upstream_conns(struct metrics_worker *m, size_t upstream,
    int active_delta, int idle_delta)
{
	if (upstream >= m->nupstreams)
		return;
	if (active_delta != 0)
		gauge_add(&m->up_conns[upstream * 2], active_delta);
	if (idle_delta != 0)
		gauge_add(&m->up_conns[upstream * 2 + 1], idle_delta);
}

/*
 * route is exact (METRICS_NONE: requests that matched no route); upstream
 * METRICS_NONE means any upstream. Requests counted as overflow have lost
 * their upstream, so they are included only when upstream is METRICS_NONE.
 */
uint64_t
metrics_sum_requests(struct metrics_worker *const *w, size_t n, size_t route,
    size_t upstream)
{
	uint64_t total = 0;
	size_t i, j;

	for (i = 0; i < n; i++) {
		const struct metrics_worker *m = w[i];
		size_t ri;

		if (route != METRICS_NONE && route >= m->nroutes)
			continue;
		ri = route == METRICS_NONE ? m->nroutes : route;
		for (j = 0; j < METRICS_REQ_SLOTS; j++) {
			struct req_slot *s = &m->req[j];
			uint64_t k = atomic_load_explicit(&s->key,
			    memory_order_acquire);

			if (k == 0 || key_route(k, m->nroutes) != ri)
				continue;
			if (upstream != METRICS_NONE &&
			    key_upstream(k) != upstream)
				continue;
			total += atomic_load_explicit(&s->count,
			    memory_order_relaxed);
		}
		if (upstream == METRICS_NONE)
			total += atomic_load_explicit(&m->overflow[ri],
			    memory_order_relaxed);
	}
	return total;
}

void
metrics_escape_label(struct strbuf *out, const char *v)
{
	const char *p, *run;

	if (v == NULL)
		return;
	for (p = run = v; *p != '\0'; p++) {
		const char *esc;

		switch (*p) {
		case '\\':
			esc = "\\\\";
			break;
		case '"':
			esc = "\\\"";
			break;
		case '\n':
			esc = "\\n";
			break;
		default:
			continue;
		}
		strbuf_add(out, run, (size_t)(p - run));
		strbuf_adds(out, esc);
		run = p + 1;
	}
	strbuf_add(out, run, (size_t)(p - run));
}

static int
req_row_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct req_row *)a)->key;
	uint64_t y = ((const struct req_row *)b)->key;

	return x < y ? -1 : x > y;
}

/*
 * Every request row of every worker, overflow rows included, sorted by key
 * (route, then upstream, then code; "no route" and "no upstream" first)
 * and merged. Returns the number of rows; *out is the caller's to free.
 */
static size_t
req_rows_gather(struct metrics_worker *const *w, size_t n,
    struct req_row **out)
{
	struct req_row *rows;
	size_t cap = 0, nrows = 0, i, j, k;

	for (i = 0; i < n; i++)
		cap += METRICS_REQ_SLOTS + w[i]->nroutes + 1;
	rows = xcalloc(cap, sizeof(*rows));
	for (i = 0; i < n; i++) {
		const struct metrics_worker *m = w[i];

		for (j = 0; j < METRICS_REQ_SLOTS; j++) {
			uint64_t key = atomic_load_explicit(&m->req[j].key,
			    memory_order_acquire);

			if (key == 0)
				continue;
			rows[nrows].key = key;
			rows[nrows].count = atomic_load_explicit(
			    &m->req[j].count, memory_order_relaxed);
			nrows++;
		}
		for (j = 0; j <= m->nroutes; j++) {
			uint64_t c = atomic_load_explicit(&m->overflow[j],
			    memory_order_relaxed);
			uint64_t r = j == m->nroutes ? 0 : (uint64_t)j + 1;

			if (c == 0)
				continue;
			rows[nrows].key = KEY_USED | r << KEY_ROUTE_SHIFT |
			    KEY_UP_OVERFLOW << KEY_UP_SHIFT |
			    KEY_CODE_OVERFLOW;
			rows[nrows].count = c;
			nrows++;
		}
	}
	qsort(rows, nrows, sizeof(*rows), req_row_cmp);
	for (i = 0, k = 0; i < nrows; i++) {
		if (k > 0 && rows[k - 1].key == rows[i].key)
			rows[k - 1].count += rows[i].count;
		else
			rows[k++] = rows[i];
	}
	*out = rows;
	return k;
}

static void
render_family(struct strbuf *out, const char *name, const char *type,
    const char *help)
{
	strbuf_addf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

/* The position in `cfg` of the route with metrics slot `id`, or METRICS_NONE. */
static size_t
slot_route(const struct config *cfg, size_t id)
{
	for (size_t i = 0; i < cfg->nroutes; i++)
		if (cfg->routes[i].id == id)
			return i;
	return METRICS_NONE;
}

/* The position in `cfg` of the upstream with metrics slot `id`, or METRICS_NONE. */
static size_t
slot_upstream(const struct config *cfg, size_t id)
{
	for (size_t i = 0; i < cfg->nupstreams; i++)
		if (cfg->upstreams[i].id == id)
			return i;
	return METRICS_NONE;
}

/* route="NAME" ("" for none). */
static void
render_route_label(struct strbuf *out, const struct config *cfg, size_t route)
{
	strbuf_adds(out, "route=\"");
	if (route < cfg->nroutes)
		metrics_escape_label(out, cfg->routes[route].name);
	strbuf_adds(out, "\"");
}

static void
render_requests(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n)
{
	struct req_row *rows;
	size_t nrows, i;

	render_family(out, "cutover_requests_total", "counter",
	    "Requests answered, by route, upstream and status code.");
	nrows = req_rows_gather(w, n, &rows);
	for (i = 0; i < nrows; i++) {
		uint64_t key = rows[i].key;
		uint64_t r = key >> KEY_ROUTE_SHIFT & KEY_ROUTE_MASK;
		uint64_t u = key >> KEY_UP_SHIFT & KEY_UP_MASK;
		uint64_t code = key & KEY_CODE_MASK;
		bool over = u == KEY_UP_OVERFLOW && code == KEY_CODE_OVERFLOW;

		size_t rp = r == 0 ? METRICS_NONE : slot_route(cfg, r - 1);
		size_t up = over || u == 0 ? METRICS_NONE : slot_upstream(cfg, u - 1);

		/* Skip slots the rendering config does not name. */
		if ((r != 0 && rp == METRICS_NONE) ||
		    (!over && u != 0 && up == METRICS_NONE))
			continue;
		strbuf_adds(out, "cutover_requests_total{");
		render_route_label(out, cfg, rp);
		strbuf_adds(out, ",upstream=\"");
		if (up != METRICS_NONE)
			metrics_escape_label(out, cfg->upstreams[up].name);
		if (over)
			strbuf_adds(out, "\",code=\"other\"} ");
		else
			strbuf_addf(out, "\",code=\"%" PRIu64 "\"} ", code);
		strbuf_addf(out, "%" PRIu64 "\n", rows[i].count);
	}
	free(rows);
}

/* "No route", then routes in config order; only those with observations. */
static void
render_duration(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n)
{
	const char *name = "cutover_request_duration_seconds";
	size_t r, i, b;

	render_family(out, name, "histogram",
	    "Time from the parsed request head to the end of its "
	    "response, seen by the client.");
	for (r = 0; r <= cfg->nroutes; r++) {
		size_t route = r == 0 ? METRICS_NONE : r - 1;
		uint64_t bucket[HIST_NBUCKETS] = { 0 };
		uint64_t sum_us = 0, cum = 0;

		for (i = 0; i < n; i++) {
			const struct metrics_worker *m = w[i];
			const struct hist *h;

			if (route == METRICS_NONE)
				h = &m->hist[m->nroutes];
			else if (cfg->routes[route].id < m->nroutes)
				h = &m->hist[cfg->routes[route].id];
			else
				continue;
			for (b = 0; b < HIST_NBUCKETS; b++)
				bucket[b] += atomic_load_explicit(
				    &h->bucket[b], memory_order_relaxed);
			sum_us += atomic_load_explicit(&h->sum_us,
			    memory_order_relaxed);
		}
		for (b = 0; b < HIST_NBUCKETS; b++)
			cum += bucket[b];
		if (cum == 0)
			continue;
		cum = 0;
		for (b = 0; b < HIST_NBUCKETS; b++) {
			cum += bucket[b];
			strbuf_addf(out, "%s_bucket{", name);
			render_route_label(out, cfg, route);
			strbuf_addf(out, ",le=\"%s\"} %" PRIu64 "\n",
			    hist_le[b], cum);
		}
		strbuf_addf(out, "%s_sum{", name);
		render_route_label(out, cfg, route);
		strbuf_addf(out, "} %" PRIu64 ".%06" PRIu64 "\n",
		    sum_us / 1000000, sum_us % 1000000);
		strbuf_addf(out, "%s_count{", name);
		render_route_label(out, cfg, route);
		strbuf_addf(out, "} %" PRIu64 "\n", cum);
	}
}

static void
render_tries(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n)
{
	size_t u, o, i;

	render_family(out, "cutover_upstream_tries_total", "counter",
	    "Tries sent to an upstream, by outcome.");
	for (u = 0; u < cfg->nupstreams; u++) {
		for (o = 0; o < METRICS_TRY__COUNT; o++) {
			uint64_t v = 0;

			size_t id = cfg->upstreams[u].id;

			for (i = 0; i < n; i++)
				if (id < w[i]->nupstreams)
					v += atomic_load_explicit(
					    &w[i]->tries[id * METRICS_TRY__COUNT
						+ o],
					    memory_order_relaxed);
			strbuf_adds(out,
			    "cutover_upstream_tries_total{upstream=\"");
			metrics_escape_label(out, cfg->upstreams[u].name);
			strbuf_addf(out, "\",outcome=\"%s\"} %" PRIu64 "\n",
			    outcome_names[o], v);
		}
	}
}

static void
render_connections(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n)
{
	size_t l, i;

	render_family(out, "cutover_connections_active", "gauge",
	    "Client connections open, by listener.");
	for (l = 0; l < cfg->nlisteners; l++) {
		size_t id = cfg->listeners[l].id;
		int64_t v = 0;

		for (i = 0; i < n; i++)
			if (id < w[i]->nlisteners)
				v += atomic_load_explicit(&w[i]->conns[id],
				    memory_order_relaxed);
		strbuf_adds(out, "cutover_connections_active{listener=\"");
		metrics_escape_label(out, cfg->listeners[l].address);
		strbuf_addf(out, "\"} %" PRId64 "\n", v);
	}
}

static void
render_upstream_conns(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n)
{
	static const char *const states[2] = { "active", "idle" };
	size_t u, s, i;

	render_family(out, "cutover_upstream_connections", "gauge",
	    "Connections to an upstream, active (carrying a request) or "
	    "idle (pooled).");
	for (u = 0; u < cfg->nupstreams; u++) {
		for (s = 0; s < 2; s++) {
			size_t id = cfg->upstreams[u].id;
			int64_t v = 0;

			for (i = 0; i < n; i++)
				if (id < w[i]->nupstreams)
					v += atomic_load_explicit(
					    &w[i]->up_conns[id * 2 + s],
					    memory_order_relaxed);
			strbuf_adds(out,
			    "cutover_upstream_connections{upstream=\"");
			metrics_escape_label(out, cfg->upstreams[u].name);
			strbuf_addf(out, "\",state=\"%s\"} %" PRId64 "\n",
			    states[s], v);
		}
	}
}

void
metrics_rejected(struct metrics_worker *m, size_t upstream,
    enum metrics_reject r)
{
	if (upstream < m->nupstreams && (unsigned)r < METRICS_REJECT__COUNT)
		counter_add(&m->rejected[upstream * METRICS_REJECT__COUNT + r], 1);
}

void
metrics_retry(struct metrics_worker *m, size_t upstream, enum metrics_retry r)
{
	if (upstream < m->nupstreams && (unsigned)r < METRICS_RETRY__COUNT)
		counter_add(&m->retries[upstream * METRICS_RETRY__COUNT + r], 1);
}

void
metrics_retry_skipped(struct metrics_worker *m, size_t upstream,
    enum metrics_skip r)
{
	if (upstream < m->nupstreams && (unsigned)r < METRICS_SKIP__COUNT)
		counter_add(&m->skipped[upstream * METRICS_SKIP__COUNT + r], 1);
}

void
metrics_budget_exhausted(struct metrics_worker *m, size_t upstream)
{
	if (upstream < m->nupstreams)
		counter_add(&m->exhausted[upstream], 1);
}

void
metrics_fallback(struct metrics_worker *m, size_t route,
    enum metrics_fallback r)
{
	if (route < m->nroutes && (unsigned)r < METRICS_FALLBACK__COUNT)
		counter_add(&m->fallbacks[route * METRICS_FALLBACK__COUNT + r], 1);
}

void
metrics_shadow(struct metrics_worker *m, size_t route, enum metrics_shadow r)
{
	if (route < m->nroutes && (unsigned)r < METRICS_SHADOW__COUNT)
		counter_add(&m->shadows[route * METRICS_SHADOW__COUNT + r], 1);
}

const char *
metrics_shadow_name(enum metrics_shadow r)
{
	return (unsigned)r < METRICS_SHADOW__COUNT ? shadow_names[r] : "?";
}

static uint64_t sum_counter(struct metrics_worker *const *w, size_t n,
    size_t off, size_t row, bool per_route, size_t idx);

uint64_t
metrics_sum_fallbacks(struct metrics_worker *const *w, size_t n, size_t route,
    enum metrics_fallback r)
{
	return sum_counter(w, n, offsetof(struct metrics_worker, fallbacks),
	    route, true, route * METRICS_FALLBACK__COUNT + r);
}

uint64_t
metrics_sum_shadow(struct metrics_worker *const *w, size_t n, size_t route,
    enum metrics_shadow r)
{
	return sum_counter(w, n, offsetof(struct metrics_worker, shadows), route,
	    true, route * METRICS_SHADOW__COUNT + r);
}

/* Sum of counter `idx` of the array at byte offset `off` over the workers that have row `row`. */
static uint64_t
sum_counter(struct metrics_worker *const *w, size_t n, size_t off,
    size_t row, bool per_route, size_t idx)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++) {
		_Atomic uint64_t *a = *(_Atomic uint64_t **)(void *)((char *)w[i] + off);

		if (row < (per_route ? w[i]->nroutes : w[i]->nupstreams))
			v += atomic_load_explicit(&a[idx], memory_order_relaxed);
	}
	return v;
}

/* A per-upstream counter family with one `reason` label from `names`. */
static void
render_upstream_reasons(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n, const char *name,
    const char *help, size_t off, const char *const *names, size_t nnames)
{
	render_family(out, name, "counter", help);
	for (size_t u = 0; u < cfg->nupstreams; u++) {
		for (size_t r = 0; r < nnames; r++) {
			strbuf_addf(out, "%s{upstream=\"", name);
			metrics_escape_label(out, cfg->upstreams[u].name);
			size_t id = cfg->upstreams[u].id;

			strbuf_addf(out, "\",reason=\"%s\"} %" PRIu64 "\n", names[r],
			    sum_counter(w, n, off, id, false, id * nnames + r));
		}
	}
}

static void
render_resilience(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n)
{
	render_upstream_reasons(out, cfg, w, n,
	    "cutover_upstream_rejected_total",
	    "Requests refused by cutover without trying the upstream, by reason.",
	    offsetof(struct metrics_worker, rejected), reject_names,
	    METRICS_REJECT__COUNT);
	render_upstream_reasons(out, cfg, w, n, "cutover_retries_total",
	    "Retries sent, by what failed the try before.",
	    offsetof(struct metrics_worker, retries), retry_names,
	    METRICS_RETRY__COUNT);
	render_upstream_reasons(out, cfg, w, n, "cutover_retries_skipped_total",
	    "Retries not made although the outcome was retryable, by reason.",
	    offsetof(struct metrics_worker, skipped), skip_names,
	    METRICS_SKIP__COUNT);
	render_family(out, "cutover_retry_budget_exhausted_total", "counter",
	    "Retries refused because the upstream's retry budget was spent.");
	for (size_t u = 0; u < cfg->nupstreams; u++) {
		strbuf_adds(out, "cutover_retry_budget_exhausted_total{upstream=\"");
		metrics_escape_label(out, cfg->upstreams[u].name);
		strbuf_addf(out, "\"} %" PRIu64 "\n",
		    sum_counter(w, n, offsetof(struct metrics_worker, exhausted),
			cfg->upstreams[u].id, false, cfg->upstreams[u].id));
	}
	render_family(out, "cutover_fallbacks_total", "counter",
	    "Requests handed to a route's fallback upstream, by reason.");
	for (size_t r = 0; r < cfg->nroutes; r++) {
		const struct route_conf *rc = &cfg->routes[r];

		if (rc->fallback.upstream == NULL || rc->upstream == NULL)
			continue;
		for (size_t k = 0; k < METRICS_FALLBACK__COUNT; k++) {
			strbuf_adds(out, "cutover_fallbacks_total{route=\"");
			metrics_escape_label(out, rc->name);
			strbuf_adds(out, "\",from=\"");
			metrics_escape_label(out, rc->upstream->name);
			strbuf_adds(out, "\",to=\"");
			metrics_escape_label(out, rc->fallback.upstream->name);
			strbuf_addf(out, "\",reason=\"%s\"} %" PRIu64 "\n",
			    fallback_names[k],
			    metrics_sum_fallbacks(w, n, rc->id, k));
		}
	}
	render_family(out, "cutover_shadow_total", "counter",
	    "Shadow copies of a route's requests, by what became of them.");
	for (size_t r = 0; r < cfg->nroutes; r++) {
		const struct route_conf *rc = &cfg->routes[r];

		if (!rc->shadow.enabled)
			continue;
		for (size_t k = 0; k < METRICS_SHADOW__COUNT; k++) {
			strbuf_adds(out, "cutover_shadow_total{route=\"");
			metrics_escape_label(out, rc->name);
			strbuf_addf(out, "\",result=\"%s\"} %" PRIu64 "\n",
			    shadow_names[k], metrics_sum_shadow(w, n, rc->id, k));
		}
	}
}

/*
 * Families in a fixed order; label sets in config order (route, then
 * upstream, then code; "no route" and "no upstream" first). Names come
 * from `cfg`, which must be the config the workers were sized from
 * (series with indices `cfg` lacks are skipped).
 */
void
metrics_render(struct strbuf *out, const struct config *cfg,
    struct metrics_worker *const *w, size_t n, const char *extra)
{
	render_requests(out, cfg, w, n);
	render_duration(out, cfg, w, n);
	render_tries(out, cfg, w, n);
	render_connections(out, cfg, w, n);
	render_upstream_conns(out, cfg, w, n);
	render_resilience(out, cfg, w, n);
	if (extra != NULL)
		strbuf_adds(out, extra);
}
