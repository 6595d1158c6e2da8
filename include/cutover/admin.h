/*
 * admin: the admin API (SPEC section 5) on its own listener and thread,
 * never on the public listeners. It reads the running state through a
 * struct admin_view that the server owns and keeps valid until
 * admin_stop() returns.
 */
#ifndef CUTOVER_ADMIN_H
#define CUTOVER_ADMIN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "cutover/config.h"

struct metrics_worker;
struct migration_worker;
struct shadow_log;
struct strbuf;

/*
 * What the admin API may look at. Owner: the server. The generation
 * served changes on a reload: each call reads its own from `current`.
 */
struct admin_view {
	struct config_current *current;	  /* borrowed from the reload state */
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

struct admin;

/*
 * Bind admin.address and serve on a new thread. Returns NULL with errno
 * set when the address cannot be bound.
 */
struct admin *admin_start(const struct admin_conf *conf, struct admin_view *view);
/* Stop serving, join the thread, free. */
void admin_stop(struct admin *a);

#endif /* CUTOVER_ADMIN_H */
