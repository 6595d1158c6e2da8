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
#include <sys/socket.h>

#include "cutover/config.h"
#include "cutover/tls.h"

struct upstream_conn;
struct upstream_rt;
struct worker;

/*
 * Owner: its upstream_worker. Idle connections on `idle` are owned by the
 * pool. What a connection needs of its upstream and server is copied
 * here, never pointed at in a configuration: a pool outlives the
 * generation it was made for when a reload keeps the upstream, and its
 * busy connections may outlive the generation after that.
 */
struct pool_server {
	TAILQ_HEAD(, upstream_conn) idle;
	size_t nidle;
	size_t nbusy; /* connections out with transactions (connecting or busy) */
	struct upstream_rt *rt;	      /* the owner: name, retired */
	unsigned up_id;		      /* the upstream's metrics slot */
	struct sockaddr_storage addr; /* the server, resolved */
	socklen_t addrlen;
	char *address;		      /* as written, for logs; owned */
	char *host;		      /* its host part: TLS name to send and check; owned */
	struct tls_session_slot tls_session; /* TLS upstreams: to resume the next connection */
};

void pool_server_init(struct pool_server *ps, struct upstream_rt *rt,
    const struct upstream_conf *up, const struct server_conf *server);
/* Release what init copied (the pool holds no connection any more). */
void pool_server_free(struct pool_server *ps);
/* Close every idle connection (drain, reload, exit). */
void pool_server_close_idle(struct pool_server *ps);

#endif /* CUTOVER_POOL_H */
