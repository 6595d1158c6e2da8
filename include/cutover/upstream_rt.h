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
#include <sys/queue.h>

#include "cutover/breaker.h"
#include "cutover/budget.h"
#include "cutover/balance.h"
#include "cutover/health.h"
#include "cutover/pool.h"

struct config;
struct txn;
struct upstream_conf;

/* Transactions waiting for a bulkhead slot (txn.pending_entry). */
TAILQ_HEAD(txn_queue, txn);

/* One server's health. `down` is written by the checker thread, read by workers. */
struct server_rt {
	atomic_bool down;
	struct health_counter hc; /* the checker thread's own */
	uint64_t last_check_ms;	  /* monotonic; 0 = never */
	char last_error[96];	  /* the checker thread's own; "" when the last check passed */
};

/*
 * One worker's part of an upstream: touched by that worker's thread only
 * (`pending` holds its transactions waiting for a bulkhead slot).
 * Owner: the upstream_rt.
 */
struct upstream_worker {
	struct pool_server *servers; /* nservers: the idle connections to each */
	struct balance balance;	     /* smooth weighted round-robin */
	unsigned *weights;	     /* nservers */
	struct txn_queue pending;
};

/*
 * Owner: shared by every configuration generation whose upstream of that
 * name it serves, counted in `refs` (upstream_rt_attach takes one per
 * generation; config_free gives it back through upstream_rt_release).
 * An upstream that a reload changes gets a new upstream_rt, and its old
 * one is `retired`: its connections are closed when their requests end.
 * `name` is owned.
 */
struct upstream_rt {
	char *name;
	atomic_uint refs;
	atomic_bool retired;
	struct upstream_worker *w; /* nworkers */
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

/*
 * Attach runtime state to every upstream of `cfg`: for an upstream that
 * `old` (may be NULL) has too and `kept(name)` says is unchanged, the old
 * one (its breaker, budget, bulkhead, health and pools carry over);
 * otherwise a new one. `kept` may be NULL (nothing kept).
 */
void upstream_rt_attach(struct config *cfg, const struct config *old,
    bool (*kept)(const char *name, void *arg), void *arg);
/* Drop `cfg`'s references (config_free calls it); the last one frees. */
void upstream_rt_detach(struct config *cfg);
/* The rts of `old` that `cfg` does not share are retired (after a reload). */
void upstream_rt_retire(const struct config *old, const struct config *cfg);

/* Start / stop the breaker clock thread for `cfg`'s breakers; switch it to a new generation. */
void upstream_rt_clock_start(struct config *cfg);
void upstream_rt_clock_switch(struct config *cfg);
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
