/* conf_ids: stable metrics slots by name (see conf_ids.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/conf_ids.h"
#include "cutover/strbuf.h"

void
conf_ids_init(struct conf_ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	ids->routes = xcalloc(CONF_IDS_MAX, sizeof(char *));
	ids->upstreams = xcalloc(CONF_IDS_MAX, sizeof(char *));
	ids->listeners = xcalloc(CONF_IDS_MAX, sizeof(char *));
}

static void
conf_ids_free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
conf_ids_free(struct conf_ids *ids)
{
	conf_ids_free_names(ids->routes, ids->nroutes);
	conf_ids_free_names(ids->upstreams, ids->nupstreams);
	conf_ids_free_names(ids->listeners, ids->nlisteners);
	memset(ids, 0, sizeof(*ids));
}

/* The slot of `name`, or SIZE_MAX when it has none yet. */
static size_t
conf_ids_find(char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], name) == 0)
			return i;
	return SIZE_MAX;
}

/* How many of names[0..n) have no slot yet. */
static size_t
conf_ids_missing(char *const *v, size_t nv, const char *const *names, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += conf_ids_find(v, nv, names[i]) == SIZE_MAX;
	return k;
}

static unsigned
conf_ids_take(char **v, size_t *nv, const char *name)
{
	size_t i = conf_ids_find(v, *nv, name);

	if (i == SIZE_MAX) {
		i = (*nv)++;
		v[i] = xstrdup(name);
	}
	return (unsigned)i;
}

int
conf_ids_assign(struct conf_ids *ids, struct config *cfg, char *err,
    size_t errlen)
{
	const char **rn = xcalloc(cfg->nroutes + 1, sizeof(*rn));
	const char **un = xcalloc(cfg->nupstreams + 1, sizeof(*un));
	const char **ln = xcalloc(cfg->nlisteners + 1, sizeof(*ln));
	int rc = 0;

	for (size_t i = 0; i < cfg->nroutes; i++)
		rn[i] = cfg->routes[i].name;
	for (size_t i = 0; i < cfg->nupstreams; i++)
		un[i] = cfg->upstreams[i].name;
	for (size_t i = 0; i < cfg->nlisteners; i++)
		ln[i] = cfg->listeners[i].address;
	/* All or nothing: check every kind before taking a slot. */
	if (ids->nroutes + conf_ids_missing(ids->routes, ids->nroutes, rn,
		cfg->nroutes) > CONF_IDS_MAX ||
	    ids->nupstreams + conf_ids_missing(ids->upstreams, ids->nupstreams,
		un, cfg->nupstreams) > CONF_IDS_MAX ||
	    ids->nlisteners + conf_ids_missing(ids->listeners, ids->nlisteners,
		ln, cfg->nlisteners) > CONF_IDS_MAX) {
		snprintf(err, errlen, "more than %d distinct route, upstream or "
		    "listener names since start: restart to reload this file",
		    CONF_IDS_MAX);
		rc = -1;
		goto out;
	}
	for (size_t i = 0; i < cfg->nroutes; i++)
		cfg->routes[i].id = conf_ids_take(ids->routes, &ids->nroutes, rn[i]);
	for (size_t i = 0; i < cfg->nupstreams; i++)
		cfg->upstreams[i].id = conf_ids_take(ids->upstreams,
		    &ids->nupstreams, un[i]);
	for (size_t i = 0; i < cfg->nlisteners; i++)
		cfg->listeners[i].id = conf_ids_take(ids->listeners,
		    &ids->nlisteners, ln[i]);
out:
	free(rn);
	free(un);
	free(ln);
	return rc;
}
