/*
 * admin: the admin API (SPEC section 5) on its own listener and thread,
 * never on the public listeners. It reads the running state through a
 * struct admin_view that the server owns and keeps valid until
 * admin_stop() returns.
 */
#ifndef CUTOVER_ADMIN_H
#define CUTOVER_ADMIN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "cutover/config.h"

struct metrics_worker;
struct migration_worker;
struct shadow_log;
struct strbuf;

/*
 * What the admin API may look at. Owner: the server. `cfg` changes on a
 * reload: read it with admin_view_cfg() (a reference, under cfg_mu).
 */
struct admin_view {
	pthread_mutex_t cfg_mu;
	struct config *cfg;		  /* the running generation (a reference) */
	/* POST /reload: run a reload, fill `answer`; 0 ok, -1 refused. */
	int (*reload)(void *arg, struct strbuf *answer);
	void *reload_arg;
	struct metrics_worker **metrics;  /* one per worker */
	struct migration_worker **migration; /* one per worker */
	struct shadow_log *shadow_log;	  /* the last shadow mismatches */
	size_t nworkers;
	atomic_bool *draining;		  /* /readyz answers 503 once set */
	/* Optional: more metrics text to append to /metrics (may be NULL). */
	void (*extra_metrics)(struct strbuf *out, void *arg);
	void *extra_arg;
};

/* The running generation, referenced (config_unref it). */
struct config *admin_view_cfg(struct admin_view *v);
/* Serve `cfg` from now on (takes a reference; drops the old one). */
void admin_view_set_cfg(struct admin_view *v, struct config *cfg);

struct admin;

/*
 * Bind admin.address and serve on a new thread. Returns NULL with errno
 * set when the address cannot be bound.
 */
struct admin *admin_start(const struct admin_conf *conf, struct admin_view *view);
/* Stop serving, join the thread, free. */
void admin_stop(struct admin *a);

#endif /* CUTOVER_ADMIN_H */
