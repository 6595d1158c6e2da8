/*
 * conf_check: cross-references and warnings over a built configuration,
 * and the edit distance behind "did you mean".
 *
 * The warnings are conservative: a route is only said to be unreachable
 * when an earlier route is certain to take every request it could match.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cutover/conf_check.h"
#include "cutover/http_parse.h"
#include "cutover/split.h"
#include "cutover/strbuf.h"

static bool conf_check_under(const char *prefix, const char *path);
static bool conf_check_only_path(const struct route_conf *r);
static bool conf_check_covers(const struct route_conf *a,
    const struct route_conf *b);
static bool conf_check_loopback(const struct sockaddr_storage *ss);

size_t
conf_check_distance(const char *a, const char *b, size_t max)
{
	size_t la = strlen(a), lb = strlen(b), d;
	size_t *base, *prev2, *prev, *cur;

	if ((la > lb ? la - lb : lb - la) > max)
		return max + 1;
	base = prev2 = xcalloc(3 * (lb + 1), sizeof(size_t));
	prev = prev2 + lb + 1;
	cur = prev + lb + 1;
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t rowmin;

		cur[0] = rowmin = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t v = prev[j - 1] + cost;

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
			if (v < rowmin)
				rowmin = v;
		}
		if (rowmin > max) {
			free(base);
			return max + 1;
		}
		/* Rotate the three rows. */
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	d = prev[lb];
	free(base);
	return d > max ? max + 1 : d;
}

void
conf_check_suggest_init(struct conf_check_suggest *s, const char *word)
{
	s->word = word;
	s->best = NULL;
	s->dist = CONF_CHECK_SUGGEST_MAX + 1;
}

void
conf_check_suggest_add(struct conf_check_suggest *s, const char *cand)
{
	size_t d = conf_check_distance(s->word, cand, CONF_CHECK_SUGGEST_MAX);

	if (d < s->dist && d > 0) {
		s->dist = d;
		s->best = cand;
	}
}

/* An upstream by name, or an "unknown ..." error (with a suggestion) at `m`. */
static struct upstream_conf *
conf_check_upstream_named(struct config *c, const char *name,
    struct conf_mark m, const char *what, struct config_diag *d)
{
	struct upstream_conf *u = (struct upstream_conf *)config_upstream(c, name);
	struct conf_check_suggest s;

	if (u != NULL)
		return u;
	conf_check_suggest_init(&s, name);
	for (size_t j = 0; j < c->nupstreams; j++)
		conf_check_suggest_add(&s, c->upstreams[j].name);
	if (s.best != NULL)
		config_diag_error(d, c->path, m,
		    "unknown %s \"%s\" (did you mean \"%s\"?)", what, name, s.best);
	else
		config_diag_error(d, c->path, m, "unknown %s \"%s\"", what, name);
	return NULL;
}

/*
 * Resolve a route's targets: its `upstream` becomes its one target
 * (weight 1); a split's entries must exist, differ, and not all weigh 0.
 * A sticky split gets its bucket table here.
 */
static int
conf_check_targets(struct config *c, struct route_conf *r,
    struct config_diag *d)
{
	const char *names[SPLIT_MAX_TARGETS];
	uint32_t weights[SPLIT_MAX_TARGETS];
	uint64_t total = 0;
	int rc = 0;

	if (r->upstream_name != NULL && !r->has_split) { /* both: refused already */
		r->upstream = conf_check_upstream_named(c, r->upstream_name,
		    r->upstream_mark, "upstream", d);
		if (r->upstream == NULL)
			return -1;
		r->targets = xcalloc(1, sizeof(*r->targets));
		r->targets[0].upstream_name = xstrdup(r->upstream_name);
		r->targets[0].upstream = r->upstream;
		r->targets[0].weight = 1;
		r->targets[0].mark = r->upstream_mark;
		r->ntargets = 1;
		return 0;
	}
	if (!r->has_split)
		return 0;
	for (size_t i = 0; i < r->ntargets; i++) {
		struct route_target *tg = &r->targets[i];

		if (tg->upstream_name == NULL) {
			rc = -1;
			continue;
		}
		tg->upstream = conf_check_upstream_named(c, tg->upstream_name,
		    tg->mark, "upstream", d);
		if (tg->upstream == NULL) {
			rc = -1;
			continue;
		}
		for (size_t j = 0; j < i; j++) {
			if (r->targets[j].upstream == tg->upstream) {
				config_diag_error(d, c->path, tg->mark,
				    "upstream \"%s\" is in this split twice",
				    tg->upstream_name);
				rc = -1;
			}
		}
		names[i] = tg->upstream_name;
		weights[i] = tg->weight;
		total += tg->weight;
	}
	if (rc == -1 || r->ntargets == 0)
		return -1;
	if (total == 0) {
		config_diag_error(d, c->path, r->targets[0].mark,
		    "every weight of this split is 0");
		return -1;
	}
	r->upstream = r->targets[0].upstream;
	if (r->sticky.enabled) {
		/* A route whose name is missing is refused already; still build. */
		const char *seed = r->sticky.seed != NULL ? r->sticky.seed :
		    r->name != NULL ? r->name : "";

		split_key_from_seed(&r->sticky.key, seed, strlen(seed));
		r->sticky.table = xmalloc(sizeof(*r->sticky.table));
		split_table_build(r->sticky.table, &r->sticky.key, names, weights,
		    r->ntargets);
	}
	return 0;
}

/*
 * Resolve a route's fallback upstream: it must exist and not be the
 * route's one upstream. A split may fall back to one of its targets (the
 * monolith, during a ramp): requests sent to the others fall back to it.
 */
static int
conf_check_fallback(struct config *c, struct route_conf *r,
    struct config_diag *d)
{
	struct fallback_conf *f = &r->fallback;

	if (f->upstream_name == NULL)
		return 0;
	f->upstream = conf_check_upstream_named(c, f->upstream_name, f->mark,
	    "fallback upstream", d);
	if (f->upstream == NULL)
		return -1;
	if (!r->has_split && r->ntargets == 1 &&
	    r->targets[0].upstream == f->upstream) {
		config_diag_error(d, c->path, f->mark,
		    "fallback \"%s\" is the route's own upstream",
		    f->upstream_name);
		return -1;
	}
	return 0;
}

/* Resolve a route's shadow upstream: it must exist. */
static int
conf_check_shadow(struct config *c, struct route_conf *r,
    struct config_diag *d)
{
	struct shadow_conf *sh = &r->shadow;

	if (!sh->enabled || sh->upstream_name == NULL)
		return 0;
	sh->upstream = conf_check_upstream_named(c, sh->upstream_name, sh->mark,
	    "shadow upstream", d);
	return sh->upstream == NULL ? -1 : 0;
}

static bool conf_check_only_path(const struct route_conf *r);

/* The last active route that takes every request to an upstream (route_conf.catch_all). */
static void
conf_check_catch_all(struct config *c)
{
	for (size_t i = c->nroutes; i-- > 0;) {
		struct route_conf *r = &c->routes[i];

		if (r->active && r->ntargets > 0 && conf_check_only_path(r) &&
		    (r->match.path_kind == PATH_MATCH_ANY ||
			strcmp(r->match.path, "/") == 0)) {
			r->catch_all = true;
			return;
		}
	}
}

int
conf_check_routes(struct config *c, struct config_diag *d)
{
	int rc = 0;

	for (size_t i = 0; i < c->nroutes; i++) {
		struct route_conf *r = &c->routes[i];

		if (conf_check_targets(c, r, d) == -1)
			rc = -1;
		if (conf_check_fallback(c, r, d) == -1)
			rc = -1;
		if (conf_check_shadow(c, r, d) == -1)
			rc = -1;
	}
	conf_check_catch_all(c);
	return rc;
}

/* Segment-aware: "/a" is under "/a" and "/a/b", never "/ab"; "/" is under all. */
static bool
conf_check_under(const char *prefix, const char *path)
{
	size_t n = strlen(prefix);

	if (strcmp(prefix, "/") == 0)
		return true;
	return strncmp(prefix, path, n) == 0 &&
	    (path[n] == '\0' || path[n] == '/');
}

/* No condition but (at most) a path prefix. */
static bool
conf_check_only_path(const struct route_conf *r)
{
	const struct route_match *m = &r->match;

	return (m->path_kind == PATH_MATCH_ANY ||
		   m->path_kind == PATH_MATCH_PREFIX) &&
	    m->nmethods == 0 && m->host == NULL && m->nheaders == 0 &&
	    m->ncookies == 0 && m->nquery == 0;
}

/* Route `a` takes every request `b` could match. */
static bool
conf_check_covers(const struct route_conf *a, const struct route_conf *b)
{
	const struct route_match *ma = &a->match, *mb = &b->match;

	if (!a->active || !conf_check_only_path(a))
		return false;
	if (ma->path_kind == PATH_MATCH_ANY || strcmp(ma->path, "/") == 0)
		return true;
	if (mb->path_kind == PATH_MATCH_PREFIX ||
	    mb->path_kind == PATH_MATCH_EXACT)
		return conf_check_under(ma->path, mb->path);
	return false;
}

/* 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104. */
static bool
conf_check_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)ss;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)ss;

		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
			s6->sin6_addr.s6_addr[12] == 127);
	}
	return false;
}

void
conf_check_warnings(const struct config *c, struct conf_mark routes_mark,
    struct config_diag *d)
{
	bool catchall = false;

	for (size_t i = 0; i < c->nroutes; i++) {
		const struct route_conf *r = &c->routes[i];
		uint64_t sum = 0;

		for (size_t k = 0; r->has_split && k < r->ntargets; k++)
			sum += r->targets[k].weight;
		if (r->has_split && sum != 100)
			config_diag_warning(d, c->path, r->targets[0].mark,
			    "the weights of route \"%s\" sum to %llu, not 100 "
			    "(they are used as relative shares)",
			    r->name, (unsigned long long)sum);
		if (r->override.enabled && r->override.nallow == 0)
			config_diag_warning(d, c->path, r->override.mark,
			    "override of route \"%s\" without allow_from: any "
			    "client can pick its target", r->name);
		if (r->shadow.enabled && (r->shadow.methods & (1u << HTTP_M_POST |
			1u << HTTP_M_PUT | 1u << HTTP_M_DELETE | 1u << HTTP_M_PATCH)))
			config_diag_warning(d, c->path, r->shadow.mark,
			    "route \"%s\" shadows write methods: the shadow "
			    "upstream must not act on them (it gets "
			    "X-Cutover-Shadow: 1)", r->name);
		for (size_t k = 0; r->shadow.upstream != NULL && k < r->ntargets; k++)
			if (r->targets[k].upstream == r->shadow.upstream)
				config_diag_warning(d, c->path, r->shadow.mark,
				    "route \"%s\" shadows to \"%s\", one of its "
				    "own targets: those requests are sent to it twice",
				    r->name, r->shadow.upstream_name);
	}

	/*
	 * The admin API can force breakers open and reload. Off loopback
	 * without a token anyone who reaches it may; with a token the
	 * operator has chosen to expose it (say, for a remote Prometheus),
	 * and a warning they cannot silence would only teach them to skip
	 * warnings. Its lack of TLS is documented in cutover.yaml(5).
	 */
	if (c->admin.enabled && c->admin.address != NULL &&
	    c->admin.token == NULL && !conf_check_loopback(&c->admin.addr))
		config_diag_warning(d, c->path, c->admin.mark,
		    "admin API on a non-loopback address \"%s\" without "
		    "token_file: anyone who can reach it can force breakers and "
		    "reload",
		    c->admin.address);

	for (size_t i = 0; i < c->nupstreams; i++) {
		const struct upstream_conf *u = &c->upstreams[i];
		bool used = false;

		for (size_t j = 0; j < c->nroutes && !used; j++) {
			used = c->routes[j].fallback.upstream == u ||
			    c->routes[j].shadow.upstream == u;
			for (size_t k = 0; k < c->routes[j].ntargets && !used; k++)
				used = c->routes[j].targets[k].upstream == u;
		}
		if (!used)
			config_diag_warning(d, c->path, u->mark,
			    "upstream \"%s\" is not used by any route",
			    u->name);
	}
	for (size_t i = 0; i < c->nroutes; i++) {
		const struct route_conf *r = &c->routes[i];

		if (r->active && r->upstream != NULL &&
		    conf_check_only_path(r) &&
		    (r->match.path_kind == PATH_MATCH_ANY ||
			strcmp(r->match.path, "/") == 0))
			catchall = true;
		if (!r->active)
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct route_conf *e = &c->routes[j];

			if (!conf_check_covers(e, r))
				continue;
			config_diag_warning(d, c->path, r->mark,
			    "route \"%s\" can never match: earlier route "
			    "\"%s\" (line %u) takes every request it would",
			    r->name, e->name, e->mark.line);
			break;
		}
	}
	if (!catchall)
		config_diag_warning(d, c->path, routes_mark,
		    "no catch-all route (an active route with "
		    "\"path_prefix: /\" to an upstream): requests no route "
		    "matches get 404");
}
