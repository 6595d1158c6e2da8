/*
 * upstream_rt: the shared runtime state of every upstream, and the
 * breaker clock. See upstream_rt.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cutover/clock.h"
#include "cutover/config.h"
#include "cutover/log.h"
#include "cutover/metrics.h"
#include "cutover/pool.h"
#include "cutover/strbuf.h"
#include "cutover/upstream_rt.h"

/*
 * The clock thread sleeps on `cond` (CLOCK_MONOTONIC) until the earliest
 * due time of all breakers, or until a transition wakes it. Owner: this
 * file; one per process.
 */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t cond;
	pthread_t thread;
	bool running;
	bool woken;
	struct config *cfg; /* a reference while running */
} rt_clock = { .mu = PTHREAD_MUTEX_INITIALIZER };

static void
upstream_rt_clock_wake(void)
{
	pthread_mutex_lock(&rt_clock.mu);
	rt_clock.woken = true;
	pthread_cond_signal(&rt_clock.cond);
	pthread_mutex_unlock(&rt_clock.mu);
}

/* Who forced a breaker, for the transition line (the admin thread's own). */
static __thread const char *rt_actor;

/* Every breaker transition is one event-log line (SPEC 4.2). */
static void
upstream_rt_on_transition(void *arg, const struct breaker_transition *tr)
{
	const struct upstream_rt *rt = arg;

	log_info("breaker_transition",
	    "upstream=%s from=%s to=%s reason=%s calls=%u failures=%u slow=%u "
	    "consecutive=%u open_ms=%" PRIu64 " half_open_in_ms=%" PRIu64
	    " mode=%s%s%s",
	    rt->name, breaker_state_name(tr->from), breaker_state_name(tr->to),
	    breaker_reason_name(tr->reason), tr->calls, tr->failures, tr->slow,
	    tr->consecutive, tr->open_period_ms, tr->half_open_in_ms,
	    tr->dry_run ? "dry_run" : "enforce",
	    rt_actor != NULL ? " client=" : "", rt_actor != NULL ? rt_actor : "");
	if (tr->to == BREAKER_OPEN || tr->to == BREAKER_HALF_OPEN)
		upstream_rt_clock_wake();
}

static uint64_t
upstream_rt_seed(void)
{
	uint64_t s = 0;

	if (getrandom(&s, sizeof(s), 0) != (ssize_t)sizeof(s))
		s = clock_unix_ms() ^ (uint64_t)(uintptr_t)&s;
	return s;
}

static void upstream_rt_init_worker(struct upstream_rt *rt, unsigned k,
    const struct upstream_conf *u);

static struct upstream_rt *
upstream_rt_new(const struct upstream_conf *u, uint64_t now_ms,
    unsigned nworkers)
{
	struct upstream_rt *rt = xcalloc(1, sizeof(*rt));

	rt->nworkers = nworkers;
	rt->oldest = xcalloc(nworkers, sizeof(*rt->oldest));
	rt->granted = xcalloc(nworkers, sizeof(*rt->granted));
	for (unsigned i = 0; i < nworkers; i++) {
		atomic_init(&rt->oldest[i], UINT64_MAX);
		atomic_init(&rt->granted[i], 0);
	}
	atomic_init(&rt->wait_seq, 0);

	rt->name = xstrdup(u->name);
	breaker_init(&rt->breaker, &u->breaker, now_ms, upstream_rt_seed(),
	    upstream_rt_on_transition, rt);
	budget_init(&rt->budget, u->retry.budget_ppm,
	    u->retry.budget_window_s * 1000u, u->retry.min_retries_per_second);
	atomic_init(&rt->busy, 0);
	atomic_init(&rt->pending, 0);
	atomic_init(&rt->servers_down, 0);
	rt->nservers = u->nservers;
	rt->servers = xcalloc(u->nservers ? u->nservers : 1, sizeof(*rt->servers));
	for (size_t i = 0; i < u->nservers; i++)
		atomic_init(&rt->servers[i].down, false);
	rt->w = xcalloc(nworkers, sizeof(*rt->w));
	for (unsigned k = 0; k < nworkers; k++) {
		struct upstream_worker *uw = &rt->w[k];

		uw->servers = xcalloc(u->nservers ? u->nservers : 1,
		    sizeof(*uw->servers));
		uw->weights = xcalloc(u->nservers ? u->nservers : 1,
		    sizeof(*uw->weights));
		balance_init(&uw->balance, u->nservers);
		TAILQ_INIT(&uw->pending);
		upstream_rt_init_worker(rt, k, u);
	}
	atomic_init(&rt->refs, 1);
	atomic_init(&rt->retired, false);
	return rt;
}

/* Worker `k`'s pools and weights for `u`'s servers (copied: see pool.h). */
static void
upstream_rt_init_worker(struct upstream_rt *rt, unsigned k,
    const struct upstream_conf *u)
{
	struct upstream_worker *uw = &rt->w[k];

	for (size_t j = 0; j < u->nservers; j++) {
		pool_server_init(&uw->servers[j], rt, u, &u->servers[j]);
		uw->weights[j] = u->servers[j].weight ? u->servers[j].weight : 1;
	}
}

/* Free one upstream_rt: its users are gone and its pools hold no connection. */
static void
upstream_rt_free(struct upstream_rt *rt)
{
	for (unsigned k = 0; k < rt->nworkers; k++) {
		for (size_t j = 0; j < rt->nservers; j++)
			pool_server_free(&rt->w[k].servers[j]);
		balance_free(&rt->w[k].balance);
		free(rt->w[k].servers);
		free(rt->w[k].weights);
	}
	free(rt->w);
	breaker_destroy(&rt->breaker);
	budget_destroy(&rt->budget);
	free(rt->servers);
	free(rt->oldest);
	free(rt->granted);
	free(rt->name);
	free(rt);
}

void
upstream_rt_attach(struct config *cfg, const struct config *old,
    bool (*kept)(const char *name, void *arg), void *arg)
{
	uint64_t now = clock_now_ms();
	unsigned nworkers = cfg->workers ? cfg->workers : 1;

	for (size_t i = 0; i < cfg->nupstreams; i++) {
		struct upstream_conf *u = &cfg->upstreams[i];
		const struct upstream_conf *o =
		    old != NULL ? config_upstream(old, u->name) : NULL;

		if (o != NULL && o->rt != NULL && kept != NULL &&
		    kept(u->name, arg) && o->rt->nworkers == nworkers) {
			u->rt = o->rt;
			atomic_fetch_add(&u->rt->refs, 1);
			continue;
		}
		u->rt = upstream_rt_new(u, now, nworkers);
	}
}

void
upstream_rt_detach(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nupstreams; i++) {
		struct upstream_rt *rt = cfg->upstreams[i].rt;

		if (rt == NULL)
			continue;
		cfg->upstreams[i].rt = NULL;
		if (atomic_fetch_sub(&rt->refs, 1) == 1)
			upstream_rt_free(rt);
	}
}

void
upstream_rt_retire(const struct config *old, const struct config *cfg)
{
	for (size_t i = 0; i < old->nupstreams; i++) {
		struct upstream_rt *rt = old->upstreams[i].rt;
		bool shared = false;

		for (size_t j = 0; rt != NULL && j < cfg->nupstreams && !shared; j++)
			shared = cfg->upstreams[j].rt == rt;
		if (rt != NULL && !shared)
			atomic_store(&rt->retired, true);
	}
}

/* Sleep until `delay_ms` from now or a wake-up; called with the lock held. */
static void
upstream_rt_clock_sleep(uint64_t delay_ms)
{
	struct timespec ts;

	if (delay_ms == UINT64_MAX) {
		pthread_cond_wait(&rt_clock.cond, &rt_clock.mu);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	if (delay_ms > 3600u * 1000u)
		delay_ms = 3600u * 1000u;
	ts.tv_sec += (time_t)(delay_ms / 1000u);
	ts.tv_nsec += (long)(delay_ms % 1000u) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	(void)pthread_cond_timedwait(&rt_clock.cond, &rt_clock.mu, &ts);
}

static void *
upstream_rt_clock_main(void *arg)
{
	(void)arg;
	for (;;) {
		uint64_t now = clock_now_ms(), next = UINT64_MAX;
		struct config *cfg;

		/* The generation served now (a reload switches it). */
		pthread_mutex_lock(&rt_clock.mu);
		cfg = config_ref(rt_clock.cfg);
		pthread_mutex_unlock(&rt_clock.mu);
		/* Polling may transition, and the hook takes rt_clock.mu. */
		for (size_t i = 0; i < cfg->nupstreams; i++) {
			uint64_t d = breaker_poll(&cfg->upstreams[i].rt->breaker,
			    now);

			if (d < next)
				next = d;
		}
		config_unref(cfg);
		pthread_mutex_lock(&rt_clock.mu);
		if (!rt_clock.running) {
			pthread_mutex_unlock(&rt_clock.mu);
			break;
		}
		/* +1: wake just after the due time, not just before it. */
		if (!rt_clock.woken)
			upstream_rt_clock_sleep(next == UINT64_MAX ? next : next + 1);
		rt_clock.woken = false;
		pthread_mutex_unlock(&rt_clock.mu);
	}
	return NULL;
}

void
upstream_rt_clock_start(struct config *cfg)
{
	pthread_condattr_t ca;
	int rc;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&rt_clock.cond, &ca);
	pthread_condattr_destroy(&ca);
	rt_clock.cfg = config_ref(cfg);
	rt_clock.running = true;
	rt_clock.woken = false;
	rc = pthread_create(&rt_clock.thread, NULL, upstream_rt_clock_main,
	    rt_clock.cfg);
	if (rc != 0)
		fatal("upstream_rt: cannot start the breaker clock: %s",
		    strerror(rc));
}

void
upstream_rt_clock_switch(struct config *cfg)
{
	struct config *old;

	pthread_mutex_lock(&rt_clock.mu);
	old = rt_clock.cfg;
	rt_clock.cfg = config_ref(cfg);
	rt_clock.woken = true;
	pthread_cond_signal(&rt_clock.cond);
	pthread_mutex_unlock(&rt_clock.mu);
	if (old != NULL)
		config_unref(old);
}

void
upstream_rt_clock_stop(void)
{
	if (rt_clock.cfg == NULL)
		return;
	pthread_mutex_lock(&rt_clock.mu);
	rt_clock.running = false;
	pthread_cond_signal(&rt_clock.cond);
	pthread_mutex_unlock(&rt_clock.mu);
	pthread_join(rt_clock.thread, NULL);
	pthread_cond_destroy(&rt_clock.cond);
	config_unref(rt_clock.cfg);
	rt_clock.cfg = NULL;
}

void
upstream_rt_force(struct upstream_rt *rt, enum breaker_force f,
    const char *who)
{
	rt_actor = who;
	breaker_force(&rt->breaker, clock_now_ms(), f);
	rt_actor = NULL;
}

void
upstream_rt_render_metrics(struct strbuf *out, const struct config *cfg)
{
	uint64_t now = clock_now_ms();
	struct breaker_snapshot *snaps;

	snaps = xcalloc(cfg->nupstreams ? cfg->nupstreams : 1, sizeof(*snaps));
	for (size_t i = 0; i < cfg->nupstreams; i++)
		if (cfg->upstreams[i].rt != NULL)
			breaker_snapshot(&cfg->upstreams[i].rt->breaker, now,
			    &snaps[i]);
	strbuf_adds(out,
	    "# HELP cutover_upstream_breaker_state Circuit breaker state: 0 "
	    "closed, 1 half-open, 2 open, 3 forced open, 4 forced closed.\n"
	    "# TYPE cutover_upstream_breaker_state gauge\n");
	for (size_t i = 0; i < cfg->nupstreams; i++) {
		if (cfg->upstreams[i].rt == NULL)
			continue;
		strbuf_adds(out, "cutover_upstream_breaker_state{upstream=\"");
		metrics_escape_label(out, cfg->upstreams[i].name);
		strbuf_addf(out, "\"} %d\n", (int)snaps[i].state);
	}
	strbuf_adds(out,
	    "# HELP cutover_upstream_breaker_transitions_total Circuit breaker "
	    "transitions.\n"
	    "# TYPE cutover_upstream_breaker_transitions_total counter\n");
	for (size_t i = 0; i < cfg->nupstreams; i++) {
		if (cfg->upstreams[i].rt == NULL)
			continue;
		for (int f = 0; f < BREAKER__STATES; f++)
			for (int t = 0; t < BREAKER__STATES; t++)
				for (int r = 0; r < BREAKER__REASONS; r++) {
					uint64_t n = snaps[i].transitions[f][t][r];

					if (n == 0)
						continue;
					strbuf_adds(out,
					    "cutover_upstream_breaker_transitions_total{upstream=\"");
					metrics_escape_label(out, cfg->upstreams[i].name);
					strbuf_addf(out,
					    "\",from=\"%s\",to=\"%s\",reason=\"%s\"} %" PRIu64 "\n",
					    breaker_state_name((enum breaker_state)f),
					    breaker_state_name((enum breaker_state)t),
					    breaker_reason_name((enum breaker_reason)r), n);
				}
	}
	free(snaps);
}
