/* pool: per-worker idle lists of upstream connections. */
#include <stdlib.h>

#include "cutover/pool.h"
#include "cutover/strbuf.h"
#include "cutover/upstream_conn.h"

void
pool_init(struct pool *p, const struct config *cfg)
{
	size_t total = 0;

	for (size_t i = 0; i < cfg->nupstreams; i++)
		total += cfg->upstreams[i].nservers;
	p->nservers = total;
	p->nupstreams = cfg->nupstreams;
	p->servers = xcalloc(total ? total : 1, sizeof(*p->servers));
	p->first = xcalloc(cfg->nupstreams ? cfg->nupstreams : 1, sizeof(*p->first));
	total = 0;
	for (size_t i = 0; i < cfg->nupstreams; i++) {
		const struct upstream_conf *up = &cfg->upstreams[i];

		p->first[i] = total;
		for (size_t j = 0; j < up->nservers; j++) {
			struct pool_server *ps = &p->servers[total++];

			TAILQ_INIT(&ps->idle);
			ps->up = up;
			ps->server = &up->servers[j];
		}
	}
}

struct pool_server *
pool_server(struct pool *p, size_t upstream, size_t server)
{
	return &p->servers[p->first[upstream] + server];
}

void
pool_close_idle(struct pool *p)
{
	for (size_t i = 0; i < p->nservers; i++) {
		struct upstream_conn *uc;

		while ((uc = TAILQ_FIRST(&p->servers[i].idle)) != NULL)
			upconn_close(uc, "pool closed");
	}
}

void
pool_free(struct pool *p)
{
	if (p->servers != NULL)
		pool_close_idle(p);
	free(p->servers);
	free(p->first);
	p->servers = NULL;
	p->first = NULL;
	p->nservers = 0;
}
