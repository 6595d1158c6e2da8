/*
 * conf_ids: the metrics slots of every route, upstream and listener name
 * the process has served (config.h `id`). A name keeps its slot for the
 * life of the process, across reloads, so its counters go on; a new name
 * takes the next free slot. Slots are never reused: CONF_IDS_MAX names of
 * each kind since start, then a reload that brings yet another is refused.
 *
 * Owner: the server (conf_ids_init / conf_ids_free); used by its thread
 * and the reload path under the server's reload lock.
 */
#ifndef CUTOVER_CONF_IDS_H
#define CUTOVER_CONF_IDS_H

#include <stddef.h>

#include "cutover/config.h"

struct conf_ids {
	char **routes; /* CONF_IDS_MAX; [id] = name (owned) */
	size_t nroutes;
	char **upstreams;
	size_t nupstreams;
	char **listeners;
	size_t nlisteners;
};

void conf_ids_init(struct conf_ids *ids);
void conf_ids_free(struct conf_ids *ids);
/*
 * Give every route, upstream and listener of `cfg` its slot. Returns 0,
 * or -1 with a message in err[errlen] when a kind would pass CONF_IDS_MAX
 * (cfg is then left as it was).
 */
int conf_ids_assign(struct conf_ids *ids, struct config *cfg, char *err,
    size_t errlen);

#endif /* CUTOVER_CONF_IDS_H */
