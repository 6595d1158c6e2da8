/*
 * conf_diff: what a reload changes (SPEC 4.6, issue 6 point 3). Pure: two
 * loaded and checked configurations in, a list of changes out, for the
 * event log (one line a change) and the answer of POST /reload.
 *
 * Upstreams are matched by name. An upstream whose every setting that
 * shapes its runtime state is the same (servers with their addresses,
 * weights and order; connect/response/read/request/idle timeouts;
 * max_connections, max_pending, pending_timeout; breaker, retry,
 * health_check and tls settings) is KEPT: its breaker, retry budget,
 * bulkhead, health and pooled connections carry over. Otherwise it is
 * RESET, with the first setting that differs as the reason ("servers",
 * "breaker", "retry", "health_check", "timeouts", "bulkhead", "tls").
 * TLS settings compare by file name: a renewed certificate or CA under
 * the same name is read by the reload and is no change.
 *
 * Routes are matched by name: added, removed, moved (its order among
 * the routes both files have changed, and its place in the file), re-weighted (same targets, other
 * weights), changed (anything else: match, targets, rewrite, respond,
 * fallback, sticky, override, shadow, active). Listeners by address:
 * added, removed, changed (its tls settings).
 */
#ifndef CUTOVER_CONF_DIFF_H
#define CUTOVER_CONF_DIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "cutover/config.h"
#include "cutover/strbuf.h"

enum conf_change_kind {
	CONF_CHANGE_ROUTE_ADDED = 0,
	CONF_CHANGE_ROUTE_REMOVED,
	CONF_CHANGE_ROUTE_MOVED,
	CONF_CHANGE_ROUTE_REWEIGHTED,
	CONF_CHANGE_ROUTE_CHANGED,
	CONF_CHANGE_UPSTREAM_KEPT,
	CONF_CHANGE_UPSTREAM_RESET,
	CONF_CHANGE_UPSTREAM_ADDED,
	CONF_CHANGE_UPSTREAM_REMOVED,
	CONF_CHANGE_LISTENER_ADDED,
	CONF_CHANGE_LISTENER_REMOVED,
	CONF_CHANGE_LISTENER_CHANGED, /* same address, other tls settings */
};

/* One change. `name` and `detail` are owned (detail may be NULL). */
struct conf_change {
	enum conf_change_kind kind;
	char *name;   /* route or upstream name, or listener address */
	char *detail; /* e.g. "2 -> 1", "users 10 -> 25, legacy 90 -> 75", "servers" */
};

/* Owner: the caller (conf_diff_init / conf_diff_free). */
struct conf_diff {
	struct conf_change *changes; /* routes first (in the new file's order, removed ones last), then upstreams, then listeners */
	size_t n;
	size_t cap;
};

void conf_diff_init(struct conf_diff *d);
void conf_diff_free(struct conf_diff *d);
/* Fill `d` with the changes from `old` to `new` (both checked). */
void conf_diff_compute(struct conf_diff *d, const struct config *old,
    const struct config *new);
/* Are these two upstreams the same for carrying runtime state over? `why` gets the first difference. */
bool conf_upstream_same(const struct upstream_conf *a,
    const struct upstream_conf *b, const char **why);
/* Is upstream `name` of the new config kept (state carried over)? */
bool conf_diff_kept(const struct conf_diff *d, const char *name);

/*
 * One line a change, each ending in '\n', in this form:
 *   route added: NAME (position N)
 *   route removed: NAME
 *   route moved: NAME (position A -> B)
 *   route re-weighted: NAME (users 10 -> 25, legacy 90 -> 75)
 *   route changed: NAME (match, shadow)
 *   upstream kept: NAME
 *   upstream reset: NAME (servers)
 *   upstream added: NAME
 *   upstream removed: NAME
 *   listener added: ADDRESS
 *   listener removed: ADDRESS
 * or "no changes\n" when there are none.
 */
void conf_diff_text(const struct conf_diff *d, struct strbuf *out);
/* The short name of a kind, for event-log lines: "route_added", ... */
const char *conf_change_name(enum conf_change_kind k);

#endif /* CUTOVER_CONF_DIFF_H */
