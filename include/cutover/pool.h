/*
 * pool: keep-alive pools of upstream connections, one list of idle
 * connections per (upstream, server, worker). The state of a pooled
 * connection is the list it is on (pgbouncer's rule): on `idle` it belongs
 * to the pool; off it, to the transaction using it.
 *
 * The pools live in the upstream's runtime state (upstream_rt.h, one
 * struct upstream_worker per worker), so that an upstream a reload keeps
 * keeps its pooled connections too.
 */
#ifndef CUTOVER_POOL_H
#define CUTOVER_POOL_H

#include <stddef.h>
#include <sys/queue.h>

#include "cutover/config.h"

struct upstream_conn;
struct worker;

/*
 * Owner: its upstream_worker. Idle connections on `idle` are owned by the
 * pool. `up` and `server` point into the configuration being served (a
 * reload that keeps the upstream points them at the new one).
 */
struct pool_server {
	TAILQ_HEAD(, upstream_conn) idle;
	size_t nidle;
	size_t nbusy; /* connections out with transactions (connecting or busy) */
	const struct upstream_conf *up;
	const struct server_conf *server;
};

void pool_server_init(struct pool_server *ps, const struct upstream_conf *up,
    const struct server_conf *server);
/* Close every idle connection (drain, reload, exit). */
void pool_server_close_idle(struct pool_server *ps);

#endif /* CUTOVER_POOL_H */
