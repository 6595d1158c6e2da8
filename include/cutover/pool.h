/*
 * pool: per-worker keep-alive pools of upstream connections, one list of
 * idle connections per (upstream, server). The state of a pooled
 * connection is the list it is on (pgbouncer's rule): on `idle` it belongs
 * to the pool; off it, to the transaction using it.
 */
#ifndef CUTOVER_POOL_H
#define CUTOVER_POOL_H

#include <stddef.h>
#include <sys/queue.h>

#include "cutover/config.h"

struct upstream_conn;
struct worker;

/* Owner: the pool. Idle connections on `idle` are owned by the pool. */
struct pool_server {
	TAILQ_HEAD(, upstream_conn) idle;
	size_t nidle;
	size_t nbusy; /* connections out with transactions (connecting or busy) */
	const struct upstream_conf *up;
	const struct server_conf *server;
};

/* Owner: the worker. `servers` is one flat array; `first[i]` is upstream i's start. */
struct pool {
	struct pool_server *servers;
	size_t nservers;
	size_t *first;
	size_t nupstreams;
};

void pool_init(struct pool *p, const struct config *cfg);
/* Close every idle connection and free the pool. */
void pool_free(struct pool *p);
struct pool_server *pool_server(struct pool *p, size_t upstream, size_t server);
/* Close every idle connection (drain). */
void pool_close_idle(struct pool *p);

#endif /* CUTOVER_POOL_H */
