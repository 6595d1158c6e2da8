/*
 * reload: a new configuration generation while serving (SPEC 4.6, issue
 * 6). SIGHUP, POST /reload and the file watch all come here.
 *
 * The new file is loaded and checked whole first; if anything is wrong,
 * nothing changes and the errors are the answer. Otherwise, in order:
 * every name gets its metrics slot (conf_ids), upstreams the diff calls
 * kept share their runtime state with the old generation (breaker,
 * budget, bulkhead, health, pools), the listeners the new file adds are
 * opened, each worker switches on its own thread (worker_switch: new
 * requests use the new generation; requests, tunnels and shadow copies in
 * flight keep theirs), the old generation's replaced upstreams are
 * retired, the breaker clock, the health checker and the admin API move
 * over, and the changes are logged and returned.
 *
 * What cannot change without a restart (the number of workers, the admin
 * listener, the access log) is kept as it was and said in a warning.
 *
 * Owner: the server, which fills the borrowed pointers and keeps them
 * valid until reload_free. One reload at a time (`mu`).
 */
#ifndef CUTOVER_RELOAD_H
#define CUTOVER_RELOAD_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "cutover/conf_ids.h"
#include "cutover/config.h"
#include "cutover/strbuf.h"

struct health_checker;
struct worker;
struct worker_shared;

struct reload {
	pthread_mutex_t one;	      /* held through a whole reload */
	struct config_current current; /* the generation served (its own reference) */
	struct worker *workers;	      /* borrowed */
	unsigned nworkers;
	struct worker_shared *shared; /* borrowed */
	struct health_checker **health; /* borrowed: the server's checker, replaced on reload */
	struct conf_ids ids;
	atomic_bool closed;	      /* draining: no more reloads */
	_Atomic uint64_t ok;	      /* cutover_config_reloads_total{result="ok"} */
	_Atomic uint64_t failed;
};

/* Before serving: `cfg` is the first generation (referenced; its slots are taken here). */
void reload_init(struct reload *r, struct config *cfg);
void reload_free(struct reload *r);
/*
 * Load the served generation's file again and switch to it. `source` ("SIGHUP", "admin",
 * "watch") goes in the log. `answer` (may be NULL) gets "configuration
 * OK\n" and the changes, or the errors. 0 ok, -1 refused.
 */
int reload_run(struct reload *r, const char *source, struct strbuf *answer);
/* No more reloads (the drain begins); waits for one in progress. */
void reload_close(struct reload *r);
/* The generation served now, referenced. */
struct config *reload_current(struct reload *r);
/* cutover_config_reloads_total{result}. */
void reload_render_metrics(struct reload *r, struct strbuf *out);

#endif /* CUTOVER_RELOAD_H */
