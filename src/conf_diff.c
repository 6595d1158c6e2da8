/*
 * conf_diff: what a reload changes (SPEC 4.6). Two checked generations in,
 * a list of changes out; nothing here looks at runtime state.
 *
 * Only what the operator wrote counts. Runtime pointers (->rt, resolved
 * ->upstream), positions in the file (marks, ->index), compiled regexes
 * (their source string is compared) and tables built from other settings
 * (sticky.table, sticky.key, the breaker's probe lease, which is the
 * response timeout) are left out, so a file whose lines only moved, or
 * that only gained comments, has no changes.
 *
 * Pure: no I/O, no globals.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cutover/conf_diff.h"
#include "cutover/strbuf.h"

#define NOT_COMMON SIZE_MAX

/* How each kind reads in the text: a label, and what precedes the detail. */
struct change_form {
	const char *name;   /* for the event log */
	const char *label;  /* for the text */
	const char *prefix; /* inside the parentheses, before the detail */
};

static const struct change_form change_forms[] = {
	[CONF_CHANGE_ROUTE_ADDED] = { "route_added", "route added", "position " },
	[CONF_CHANGE_ROUTE_REMOVED] = { "route_removed", "route removed", "" },
	[CONF_CHANGE_ROUTE_MOVED] = { "route_moved", "route moved", "position " },
	[CONF_CHANGE_ROUTE_REWEIGHTED] = { "route_reweighted",
	    "route re-weighted", "" },
	[CONF_CHANGE_ROUTE_CHANGED] = { "route_changed", "route changed", "" },
	[CONF_CHANGE_UPSTREAM_KEPT] = { "upstream_kept", "upstream kept", "" },
	[CONF_CHANGE_UPSTREAM_RESET] = { "upstream_reset", "upstream reset", "" },
	[CONF_CHANGE_UPSTREAM_ADDED] = { "upstream_added", "upstream added", "" },
	[CONF_CHANGE_UPSTREAM_REMOVED] = { "upstream_removed",
	    "upstream removed", "" },
	[CONF_CHANGE_LISTENER_ADDED] = { "listener_added", "listener added", "" },
	[CONF_CHANGE_LISTENER_REMOVED] = { "listener_removed",
	    "listener removed", "" },
	[CONF_CHANGE_LISTENER_CHANGED] = { "listener_changed",
	    "listener changed", "" },
};

static void diff_add(struct conf_diff *d, enum conf_change_kind k,
    const char *name, char *detail);
static void diff_drop_if_only_kept(struct conf_diff *d);
static bool str_same(const char *a, const char *b);
static bool strv_same(char *const *a, size_t na, char *const *b, size_t nb);

static bool servers_same(const struct upstream_conf *a,
    const struct upstream_conf *b);
static bool breaker_same(const struct breaker_params *a,
    const struct breaker_params *b);
static bool retry_same(const struct retry_conf *a, const struct retry_conf *b);
static bool health_same(const struct health_check_conf *a,
    const struct health_check_conf *b);
static bool timeouts_same(const struct upstream_conf *a,
    const struct upstream_conf *b);
static bool bulkhead_same(const struct upstream_conf *a,
    const struct upstream_conf *b);

static bool cond_same(const struct match_cond *a, const struct match_cond *b,
    bool fold_name);
static bool conds_same(const struct match_cond *a, size_t na,
    const struct match_cond *b, size_t nb, bool fold_name);
static bool match_same(const struct route_match *a,
    const struct route_match *b);
static bool targets_same(const struct route_conf *a,
    const struct route_conf *b);
static bool weights_same(const struct route_conf *a,
    const struct route_conf *b);
static bool rewrite_same(const struct route_conf *a,
    const struct route_conf *b);
static bool respond_same(const struct route_conf *a,
    const struct route_conf *b);
static bool fallback_same(const struct route_conf *a,
    const struct route_conf *b);
static bool sticky_same(const struct route_conf *a,
    const struct route_conf *b);
static bool override_same(const struct route_conf *a,
    const struct route_conf *b);
static bool shadow_same(const struct route_conf *a,
    const struct route_conf *b);
static char *route_aspects(const struct route_conf *a,
    const struct route_conf *b, bool *only_weights);
static char *route_weights_detail(const struct route_conf *a,
    const struct route_conf *b);

static const struct route_conf *route_find(const struct config *c,
    const char *name);
static size_t *route_ranks(const struct config *c, const struct config *other);
static void diff_route(struct conf_diff *d, const struct route_conf *a,
    size_t apos, size_t arank, const struct route_conf *b, size_t bpos,
    size_t brank);
static void diff_routes(struct conf_diff *d, const struct config *old,
    const struct config *new);
static void diff_upstreams(struct conf_diff *d, const struct config *old,
    const struct config *new);
static const struct listener_conf *listener_find(const struct config *c,
    const char *address);
static void diff_listeners(struct conf_diff *d, const struct config *old,
    const struct config *new);

void
conf_diff_init(struct conf_diff *d)
{
	d->changes = NULL;
	d->n = 0;
	d->cap = 0;
}

void
conf_diff_free(struct conf_diff *d)
{
	for (size_t i = 0; i < d->n; i++) {
		free(d->changes[i].name);
		free(d->changes[i].detail);
	}
	free(d->changes);
	conf_diff_init(d);
}

/* `name` is copied; `detail` (may be NULL) is taken over. */
static void
diff_add(struct conf_diff *d, enum conf_change_kind k, const char *name,
    char *detail)
{
	struct conf_change *c;

	if (d->n == d->cap) {
		d->cap = d->cap == 0 ? 8 : d->cap * 2;
		d->changes = xrealloc(d->changes, d->cap * sizeof(*d->changes));
	}
	c = &d->changes[d->n++];
	c->kind = k;
	c->name = xstrdup(name);
	c->detail = detail;
}

/*
 * An upstream kept is not a change in itself: it is listed beside real
 * changes, so the log says what carried over, but a reload of the same
 * file (or one that only gained comments) has no changes at all.
 */
static void
diff_drop_if_only_kept(struct conf_diff *d)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->changes[i].kind != CONF_CHANGE_UPSTREAM_KEPT)
			return;
	}
	conf_diff_free(d);
}

/* NULL equals only NULL. */
static bool
str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static bool
strv_same(char *const *a, size_t na, char *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if (!str_same(a[i], b[i]))
			return false;
	}
	return true;
}

/* ---- upstreams */

/*
 * Order counts (the balancer's state is per position), and so does the
 * resolved address: a name that now resolves elsewhere must not keep
 * pooled connections to the old place.
 */
static bool
servers_same(const struct upstream_conf *a, const struct upstream_conf *b)
{
	if (a->nservers != b->nservers)
		return false;
	for (size_t i = 0; i < a->nservers; i++) {
		const struct server_conf *x = &a->servers[i], *y = &b->servers[i];

		if (!str_same(x->address, y->address) || x->port != y->port ||
		    x->weight != y->weight || x->addrlen != y->addrlen ||
		    memcmp(&x->addr, &y->addr, x->addrlen) != 0)
			return false;
	}
	return true;
}

/* probe_lease_ms is left out: it is response_timeout ("timeouts"). */
static bool
breaker_same(const struct breaker_params *a, const struct breaker_params *b)
{
	return a->mode == b->mode &&
	    a->consecutive_failures == b->consecutive_failures &&
	    a->failure_rate_ppm == b->failure_rate_ppm &&
	    a->window_s == b->window_s && a->min_requests == b->min_requests &&
	    a->slow_call_ms == b->slow_call_ms &&
	    a->slow_call_rate_ppm == b->slow_call_rate_ppm &&
	    a->open_for_ms == b->open_for_ms &&
	    a->max_open_for_ms == b->max_open_for_ms &&
	    a->open_jitter_ppm == b->open_jitter_ppm &&
	    a->half_open_probes == b->half_open_probes &&
	    a->half_open_successes == b->half_open_successes;
}

static bool
retry_same(const struct retry_conf *a, const struct retry_conf *b)
{
	return a->p.attempts == b->p.attempts &&
	    a->p.on_kinds == b->p.on_kinds &&
	    memcmp(a->p.on_status, b->p.on_status, sizeof(a->p.on_status)) ==
	    0 &&
	    a->p.backoff_ms == b->p.backoff_ms &&
	    a->p.max_backoff_ms == b->p.max_backoff_ms &&
	    a->budget_ppm == b->budget_ppm &&
	    a->budget_window_s == b->budget_window_s &&
	    a->min_retries_per_second == b->min_retries_per_second &&
	    a->buffer_body == b->buffer_body;
}

/* Two upstreams without checks are alike whatever defaults they hold. */
static bool
health_same(const struct health_check_conf *a,
    const struct health_check_conf *b)
{
	if (a->enabled != b->enabled)
		return false;
	if (!a->enabled)
		return true;
	return str_same(a->path, b->path) && a->interval_ms == b->interval_ms &&
	    a->timeout_ms == b->timeout_ms && a->healthy == b->healthy &&
	    a->unhealthy == b->unhealthy;
}

/* Settings, not file contents: a renewed CA under one name is used, not a change. */
static bool
tls_same(const struct upstream_tls_conf *a, const struct upstream_tls_conf *b)
{
	if (a->enabled != b->enabled)
		return false;
	return !a->enabled || (a->verify == b->verify && str_same(a->ca, b->ca) &&
	    str_same(a->sni, b->sni));
}

static bool
timeouts_same(const struct upstream_conf *a, const struct upstream_conf *b)
{
	return a->connect_timeout_ms == b->connect_timeout_ms &&
	    a->response_timeout_ms == b->response_timeout_ms &&
	    a->read_timeout_ms == b->read_timeout_ms &&
	    a->request_timeout_ms == b->request_timeout_ms &&
	    a->idle_timeout_ms == b->idle_timeout_ms;
}

static bool
bulkhead_same(const struct upstream_conf *a, const struct upstream_conf *b)
{
	return a->max_connections == b->max_connections &&
	    a->max_pending == b->max_pending &&
	    a->pending_timeout_ms == b->pending_timeout_ms;
}

/* Checked in the order of the reasons the header lists. */
bool
conf_upstream_same(const struct upstream_conf *a,
    const struct upstream_conf *b, const char **why)
{
	const char *r = NULL;

	if (!servers_same(a, b))
		r = "servers";
	else if (!breaker_same(&a->breaker, &b->breaker))
		r = "breaker";
	else if (!retry_same(&a->retry, &b->retry))
		r = "retry";
	else if (!health_same(&a->health_check, &b->health_check))
		r = "health_check";
	else if (!timeouts_same(a, b))
		r = "timeouts";
	else if (!bulkhead_same(a, b))
		r = "bulkhead";
	else if (!tls_same(&a->tls, &b->tls))
		r = "tls";
	if (why != NULL)
		*why = r;
	return r == NULL;
}

/*
 * Upstreams are not in the list of changes until they are compared, so
 * "kept" is "neither reset nor added": true also when nothing changed at
 * all and the list is empty.
 */
bool
conf_diff_kept(const struct conf_diff *d, const char *name)
{
	for (size_t i = 0; i < d->n; i++) {
		const struct conf_change *c = &d->changes[i];

		if ((c->kind == CONF_CHANGE_UPSTREAM_RESET ||
			c->kind == CONF_CHANGE_UPSTREAM_ADDED) &&
		    strcmp(c->name, name) == 0)
			return false;
	}
	return true;
}

static void
diff_upstreams(struct conf_diff *d, const struct config *old,
    const struct config *new)
{
	const struct upstream_conf *a, *b;
	const char *why;

	for (size_t i = 0; i < new->nupstreams; i++) {
		b = &new->upstreams[i];
		a = config_upstream(old, b->name);
		if (a == NULL)
			diff_add(d, CONF_CHANGE_UPSTREAM_ADDED, b->name, NULL);
		else if (conf_upstream_same(a, b, &why))
			diff_add(d, CONF_CHANGE_UPSTREAM_KEPT, b->name, NULL);
		else
			diff_add(d, CONF_CHANGE_UPSTREAM_RESET, b->name,
			    xstrdup(why));
	}
	for (size_t i = 0; i < old->nupstreams; i++) {
		a = &old->upstreams[i];
		if (config_upstream(new, a->name) == NULL)
			diff_add(d, CONF_CHANGE_UPSTREAM_REMOVED, a->name, NULL);
	}
}

/* ---- routes: one function an aspect */

/* Header names compare case-insensitively, cookies and query exactly. */
static bool
cond_same(const struct match_cond *a, const struct match_cond *b,
    bool fold_name)
{
	if (a->name == NULL || b->name == NULL) {
		if (a->name != b->name)
			return false;
	} else if (fold_name ? strcasecmp(a->name, b->name) != 0 :
			       strcmp(a->name, b->name) != 0)
		return false;
	if (a->kind != b->kind)
		return false;
	if (a->kind == MATCH_PRESENT)
		return a->present == b->present;
	return strv_same(a->values, a->nvalues, b->values, b->nvalues);
}

static bool
conds_same(const struct match_cond *a, size_t na, const struct match_cond *b,
    size_t nb, bool fold_name)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++) {
		if (!cond_same(&a[i], &b[i], fold_name))
			return false;
	}
	return true;
}

/* `path` is also the regex source: the compiled code is not compared. */
static bool
match_same(const struct route_match *a, const struct route_match *b)
{
	return a->path_kind == b->path_kind && str_same(a->path, b->path) &&
	    strv_same(a->methods, a->nmethods, b->methods, b->nmethods) &&
	    str_same(a->host, b->host) &&
	    a->host_wildcard == b->host_wildcard &&
	    conds_same(a->headers, a->nheaders, b->headers, b->nheaders, true) &&
	    conds_same(a->cookies, a->ncookies, b->cookies, b->ncookies,
		false) &&
	    conds_same(a->query, a->nquery, b->query, b->nquery, false);
}

/* The same upstreams in the same order, in the same form (split or not). */
static bool
targets_same(const struct route_conf *a, const struct route_conf *b)
{
	if (a->has_split != b->has_split || a->ntargets != b->ntargets)
		return false;
	for (size_t i = 0; i < a->ntargets; i++) {
		if (!str_same(a->targets[i].upstream_name,
			b->targets[i].upstream_name))
			return false;
	}
	return true;
}

/* Only meaningful once targets_same() holds. */
static bool
weights_same(const struct route_conf *a, const struct route_conf *b)
{
	for (size_t i = 0; i < a->ntargets; i++) {
		if (a->targets[i].weight != b->targets[i].weight)
			return false;
	}
	return true;
}

static bool
rewrite_same(const struct route_conf *a, const struct route_conf *b)
{
	return a->rewrite.kind == b->rewrite.kind &&
	    str_same(a->rewrite.from, b->rewrite.from) &&
	    str_same(a->rewrite.to, b->rewrite.to);
}

static bool
respond_same(const struct route_conf *a, const struct route_conf *b)
{
	const struct route_respond *x = &a->respond, *y = &b->respond;

	if (a->has_respond != b->has_respond)
		return false;
	if (!a->has_respond)
		return true;
	if (x->status != y->status || x->body_len != y->body_len ||
	    !str_same(x->content_type, y->content_type))
		return false;
	if ((x->body == NULL) != (y->body == NULL))
		return false;
	return x->body == NULL || memcmp(x->body, y->body, x->body_len) == 0;
}

static bool
fallback_same(const struct route_conf *a, const struct route_conf *b)
{
	const struct fallback_conf *x = &a->fallback, *y = &b->fallback;

	if (!str_same(x->upstream_name, y->upstream_name))
		return false;
	if (x->upstream_name == NULL)
		return true;
	return x->on_unavailable == y->on_unavailable &&
	    x->on_failure == y->on_failure &&
	    memcmp(x->on_status, y->on_status, sizeof(x->on_status)) == 0;
}

/*
 * The seed as it takes effect (it defaults to the route's name), since
 * that, not how it was written, decides which side each user lands on.
 */
static bool
sticky_same(const struct route_conf *a, const struct route_conf *b)
{
	const struct sticky_conf *x = &a->sticky, *y = &b->sticky;

	if (x->enabled != y->enabled)
		return false;
	if (!x->enabled)
		return true;
	return str_same(x->cookie, y->cookie) &&
	    str_same(x->header, y->header) &&
	    str_same(x->seed != NULL ? x->seed : a->name,
		y->seed != NULL ? y->seed : b->name);
}

static bool
override_same(const struct route_conf *a, const struct route_conf *b)
{
	const struct override_conf *x = &a->override, *y = &b->override;

	if (x->enabled != y->enabled)
		return false;
	if (!x->enabled)
		return true;
	if (!str_same(x->header, y->header) || x->nallow != y->nallow)
		return false;
	for (size_t i = 0; i < x->nallow; i++) {
		const struct cidr *p = &x->allow[i], *q = &y->allow[i];

		if (p->family != q->family || p->prefix != q->prefix ||
		    memcmp(p->addr, q->addr, sizeof(p->addr)) != 0)
			return false;
	}
	return true;
}

/* `inflight` is the generation's counter, not configuration. */
static bool
shadow_same(const struct route_conf *a, const struct route_conf *b)
{
	const struct shadow_conf *x = &a->shadow, *y = &b->shadow;

	if (x->enabled != y->enabled)
		return false;
	if (!x->enabled)
		return true;
	return str_same(x->upstream_name, y->upstream_name) &&
	    x->percent_ppm == y->percent_ppm && x->methods == y->methods &&
	    x->max_inflight == y->max_inflight && x->max_body == y->max_body &&
	    x->compare == y->compare &&
	    strv_same(x->ignore_headers, x->nignore_headers, y->ignore_headers,
		y->nignore_headers) &&
	    strv_same(x->ignore_json_fields, x->nignore_json_fields,
		y->ignore_json_fields, y->nignore_json_fields);
}

/*
 * The aspects that differ, as "match, weights, shadow", or NULL when none
 * does. *only_weights: the weights are the one difference (a re-weight).
 */
static char *
route_aspects(const struct route_conf *a, const struct route_conf *b,
    bool *only_weights)
{
	const char *diff[10];
	struct strbuf sb;
	size_t n = 0;

	if (!match_same(&a->match, &b->match))
		diff[n++] = "match";
	if (!targets_same(a, b))
		diff[n++] = "targets";
	else if (!weights_same(a, b))
		diff[n++] = "weights";
	if (!rewrite_same(a, b))
		diff[n++] = "rewrite";
	if (!respond_same(a, b))
		diff[n++] = "respond";
	if (!fallback_same(a, b))
		diff[n++] = "fallback";
	if (!sticky_same(a, b))
		diff[n++] = "sticky";
	if (!override_same(a, b))
		diff[n++] = "override";
	if (!shadow_same(a, b))
		diff[n++] = "shadow";
	if (a->active != b->active)
		diff[n++] = "active";
	*only_weights = n == 1 && strcmp(diff[0], "weights") == 0;
	if (n == 0)
		return NULL;
	strbuf_init(&sb);
	for (size_t i = 0; i < n; i++)
		strbuf_addf(&sb, "%s%s", i > 0 ? ", " : "", diff[i]);
	return strbuf_detach(&sb);
}

/* "users 10 -> 25, legacy 90 -> 75": the targets whose weight moved. */
static char *
route_weights_detail(const struct route_conf *a, const struct route_conf *b)
{
	struct strbuf sb;
	bool first = true;

	strbuf_init(&sb);
	for (size_t i = 0; i < b->ntargets; i++) {
		const struct route_target *x = &a->targets[i], *y = &b->targets[i];

		if (x->weight == y->weight)
			continue;
		strbuf_addf(&sb, "%s%s %u -> %u", first ? "" : ", ",
		    y->upstream_name, (unsigned)x->weight, (unsigned)y->weight);
		first = false;
	}
	return strbuf_detach(&sb);
}

static const struct route_conf *
route_find(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nroutes; i++) {
		if (str_same(c->routes[i].name, name))
			return &c->routes[i];
	}
	return NULL;
}

/*
 * For each route of `c`, its rank among the routes `other` has too, or
 * NOT_COMMON. Comparing ranks rather than positions means adding or
 * removing a route does not make every route after it "moved".
 * Returns an array of c->nroutes (caller frees; NULL when empty).
 */
static size_t *
route_ranks(const struct config *c, const struct config *other)
{
	size_t *rank, next = 0;

	if (c->nroutes == 0)
		return NULL;
	rank = xcalloc(c->nroutes, sizeof(*rank));
	for (size_t i = 0; i < c->nroutes; i++)
		rank[i] = route_find(other, c->routes[i].name) != NULL ?
		    next++ :
		    NOT_COMMON;
	return rank;
}

/* A route both files have: moved, and then re-weighted or changed. */
static void
diff_route(struct conf_diff *d, const struct route_conf *a, size_t apos,
    size_t arank, const struct route_conf *b, size_t bpos, size_t brank)
{
	struct strbuf sb;
	bool only_weights;
	char *aspects;

	/*
	 * Its order among the common routes changed, and its place in the
	 * file too (a route pushed along by another's move is not listed).
	 */
	if (arank != brank && apos != bpos) {
		strbuf_init(&sb);
		strbuf_addf(&sb, "%zu -> %zu", apos + 1, bpos + 1);
		diff_add(d, CONF_CHANGE_ROUTE_MOVED, b->name, strbuf_detach(&sb));
	}
	aspects = route_aspects(a, b, &only_weights);
	if (aspects == NULL)
		return;
	if (only_weights) {
		free(aspects);
		diff_add(d, CONF_CHANGE_ROUTE_REWEIGHTED, b->name,
		    route_weights_detail(a, b));
	} else
		diff_add(d, CONF_CHANGE_ROUTE_CHANGED, b->name, aspects);
}

static void
diff_routes(struct conf_diff *d, const struct config *old,
    const struct config *new)
{
	size_t *old_rank = route_ranks(old, new);
	size_t *new_rank = route_ranks(new, old);
	const struct route_conf *a, *b;
	struct strbuf sb;
	size_t apos;

	for (size_t i = 0; i < new->nroutes; i++) {
		b = &new->routes[i];
		a = route_find(old, b->name);
		if (a == NULL) {
			strbuf_init(&sb);
			strbuf_addf(&sb, "%zu", i + 1);
			diff_add(d, CONF_CHANGE_ROUTE_ADDED, b->name,
			    strbuf_detach(&sb));
			continue;
		}
		apos = (size_t)(a - old->routes);
		diff_route(d, a, apos, old_rank[apos], b, i, new_rank[i]);
	}
	for (size_t i = 0; i < old->nroutes; i++) {
		if (old_rank[i] == NOT_COMMON)
			diff_add(d, CONF_CHANGE_ROUTE_REMOVED,
			    old->routes[i].name, NULL);
	}
	free(old_rank);
	free(new_rank);
}

/* ---- listeners: by address as written */

static const struct listener_conf *
listener_find(const struct config *c, const char *address)
{
	for (size_t i = 0; i < c->nlisteners; i++) {
		if (str_same(c->listeners[i].address, address))
			return &c->listeners[i];
	}
	return NULL;
}

/* As for upstreams, renewed files under the same names are no change. */
static bool
listener_tls_same(const struct listener_tls_conf *a,
    const struct listener_tls_conf *b)
{
	if (a->enabled != b->enabled)
		return false;
	if (!a->enabled)
		return true;
	if (a->min_version != b->min_version || a->ncerts != b->ncerts)
		return false;
	for (size_t i = 0; i < a->ncerts; i++)
		if (!str_same(a->certs[i].cert, b->certs[i].cert) ||
		    !str_same(a->certs[i].key, b->certs[i].key))
			return false;
	return true;
}

static void
diff_listeners(struct conf_diff *d, const struct config *old,
    const struct config *new)
{
	for (size_t i = 0; i < new->nlisteners; i++) {
		const struct listener_conf *l = &new->listeners[i];
		const struct listener_conf *o = listener_find(old, l->address);

		if (o == NULL)
			diff_add(d, CONF_CHANGE_LISTENER_ADDED, l->address, NULL);
		else if (!listener_tls_same(&o->tls, &l->tls))
			diff_add(d, CONF_CHANGE_LISTENER_CHANGED, l->address,
			    xstrdup("tls"));
	}
	for (size_t i = 0; i < old->nlisteners; i++) {
		if (listener_find(new, old->listeners[i].address) == NULL)
			diff_add(d, CONF_CHANGE_LISTENER_REMOVED,
			    old->listeners[i].address, NULL);
	}
}

void
conf_diff_compute(struct conf_diff *d, const struct config *old,
    const struct config *new)
{
	diff_routes(d, old, new);
	diff_upstreams(d, old, new);
	diff_listeners(d, old, new);
	diff_drop_if_only_kept(d);
}

void
conf_diff_text(const struct conf_diff *d, struct strbuf *out)
{
	if (d->n == 0) {
		strbuf_adds(out, "no changes\n");
		return;
	}
	for (size_t i = 0; i < d->n; i++) {
		const struct conf_change *c = &d->changes[i];
		const struct change_form *f = &change_forms[c->kind];

		strbuf_addf(out, "%s: %s", f->label, c->name);
		if (c->detail != NULL)
			strbuf_addf(out, " (%s%s)", f->prefix, c->detail);
		strbuf_adds(out, "\n");
	}
}

const char *
conf_change_name(enum conf_change_kind k)
{
	if ((size_t)k >= sizeof(change_forms) / sizeof(change_forms[0]))
		return "unknown";
	return change_forms[k].name;
}
