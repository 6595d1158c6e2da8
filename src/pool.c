/* pool: idle lists of upstream connections (see pool.h). */
#include <stdlib.h>
#include <string.h>

#include "cutover/pool.h"
#include "cutover/strbuf.h"
#include "cutover/tls.h"
#include "cutover/upstream_conn.h"

void
pool_server_init(struct pool_server *ps, struct upstream_rt *rt,
    const struct upstream_conf *up, const struct server_conf *server)
{
	TAILQ_INIT(&ps->idle);
	ps->nidle = 0;
	ps->nbusy = 0;
	ps->rt = rt;
	ps->up_id = up->id;
	memcpy(&ps->addr, &server->addr, sizeof(ps->addr));
	ps->addrlen = server->addrlen;
	ps->address = xstrdup(server->address);
	ps->host = xstrdup(server->host);
	ps->tls_session.session = NULL;
}

void
pool_server_free(struct pool_server *ps)
{
	free(ps->address);
	free(ps->host);
	tls_session_slot_clear(&ps->tls_session);
	ps->address = ps->host = NULL;
}

void
pool_server_close_idle(struct pool_server *ps)
{
	struct upstream_conn *uc;

	while ((uc = TAILQ_FIRST(&ps->idle)) != NULL)
		upconn_close(uc, "pool closed");
}
