/*
 * upstream_rt: the runtime state of one upstream that every worker
 * shares: its circuit breaker, its retry budget, its bulkhead counts and
 * its servers' health. The configuration stays immutable; each
 * upstream_conf points at its upstream_rt (`rt`), attached once before
 * serving by upstream_rt_attach().
 *
 * The breaker clock: one thread that sleeps until the earliest
 * OPEN -> HALF_OPEN (or probe lease) due over all breakers and applies
 * it, so the state shown is true even when no request comes. Breaker
 * transitions wake it.
 */
#ifndef CUTOVER_UPSTREAM_RT_H
#define CUTOVER_UPSTREAM_RT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cutover/breaker.h"
#include "cutover/budget.h"
#include "cutover/health.h"

struct config;
struct upstream_conf;

/* One server's health. `down` is written by the checker thread, read by workers. */
struct server_rt {
	atomic_bool down;
	struct health_counter hc; /* the checker thread's own */
	uint64_t last_check_ms;	  /* monotonic; 0 = never */
	char last_error[96];	  /* the checker thread's own; "" when the last check passed */
};

/*
 * Owner: upstream_rt_attach() allocates one per upstream of a config and
 * upstream_rt_detach() frees them (after the workers and the checker
 * stopped). `name` is owned.
 */
struct upstream_rt {
	char *name;
	struct breaker breaker;
	struct retry_budget budget;
	/* Bulkhead (SPEC 2: max_connections, max_pending), over all workers. */
	atomic_uint busy;    /* tries holding a connection (connecting or waiting for/reading a response) */
	atomic_uint pending; /* requests waiting for a connection slot */
	/*
	 * Waiters queue in their own worker; a freed slot goes to the oldest
	 * anywhere: each waiter takes a number from wait_seq, each worker
	 * publishes its oldest waiter's number in oldest[worker]
	 * (UINT64_MAX: none), and a slot handed to another worker is counted
	 * in granted[worker] until that worker's loop gives it to a waiter.
	 */
	_Atomic uint64_t wait_seq;
	_Atomic uint64_t *oldest;  /* nworkers */
	atomic_uint *granted;	   /* nworkers */
	unsigned nworkers;
	struct server_rt *servers;
	size_t nservers;
	atomic_uint servers_down;
	_Atomic uint64_t budget_logged_sec; /* last second a budget exhaustion was logged */
};

/* Create and attach the runtime state of every upstream of `cfg`. */
void upstream_rt_attach(struct config *cfg);
/* Free it (every user gone). */
void upstream_rt_detach(struct config *cfg);

/* Start / stop the breaker clock thread for `cfg`'s breakers. */
void upstream_rt_clock_start(struct config *cfg);
void upstream_rt_clock_stop(void);

/* Force the breaker (the admin API); `who` goes in the transition's log line. */
void upstream_rt_force(struct upstream_rt *rt, enum breaker_force f,
    const char *who);

/* Is server `i` of `rt` up (no health check, or passing)? */
static inline bool
upstream_rt_server_up(const struct upstream_rt *rt, size_t i)
{
	return !atomic_load_explicit(&rt->servers[i].down, memory_order_relaxed);
}

/* Every server is down: the upstream is unavailable. */
static inline bool
upstream_rt_all_down(const struct upstream_rt *rt)
{
	return atomic_load_explicit(&rt->servers_down, memory_order_relaxed) >=
	    rt->nservers;
}

/*
 * Append the breaker families of SPEC 6 for `cfg`'s upstreams:
 * cutover_upstream_breaker_state and
 * cutover_upstream_breaker_transitions_total.
 */
struct strbuf;
void upstream_rt_render_metrics(struct strbuf *out, const struct config *cfg);

#endif /* CUTOVER_UPSTREAM_RT_H */
