/* pool: idle lists of upstream connections (see pool.h). */
#include "cutover/pool.h"
#include "cutover/upstream_conn.h"

void
pool_server_init(struct pool_server *ps, const struct upstream_conf *up,
    const struct server_conf *server)
{
	TAILQ_INIT(&ps->idle);
	ps->nidle = 0;
	ps->nbusy = 0;
	ps->up = up;
	ps->server = server;
}

void
pool_server_close_idle(struct pool_server *ps)
{
	struct upstream_conn *uc;

	while ((uc = TAILQ_FIRST(&ps->idle)) != NULL)
		upconn_close(uc, "pool closed");
}
