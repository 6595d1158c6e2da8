/*
 * route_explain: the decision trace printed by `cutover explain`.
 *
 * Not on the request path, so it may allocate; it runs the very functions
 * the proxy runs (path_split_target, path_normalise, route_match,
 * path_rewrite) so what it says is what a request would get.
 *
 * Output, one fact a line (integration tests grep these, keep them stable):
 *
 *	request: GET /api/billing/x?y=1 host=shop.example.com
 *	normalised path: /api/billing/x
 *	route 1 "reports-v2": skipped (inactive)
 *	route 2 "billing": no match (method)
 *	route 3 "users": no match (header X-Tenant)
 *	route 4 "everything-else": MATCH
 *	  upstream: legacy (share 100%)
 *	    server 10.0.0.5:8080 weight 1 (50%)
 *	    server 10.0.0.6:8080 weight 1 (50%)
 *	  rewrite: none -> /api/billing/x?y=1
 *	  fallback: none
 *
 * or, for a respond route, "  respond: 410 text/plain (21 bytes)"; and
 * "no route matched (404)" when nothing matched.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cutover/config.h"
#include "cutover/http_parse.h"
#include "cutover/path.h"
#include "cutover/route.h"
#include "cutover/route_explain.h"
#include "cutover/split.h"
#include "cutover/strbuf.h"

static bool explain_tchar(unsigned char c);
static bool explain_token(const char *p, size_t len);
static int explain_header(const char *line, struct http_field *f,
    const char **why);
static bool explain_ieq(struct http_span s, const char *lit);
static void explain_quote(struct strbuf *out, const char *p, size_t n);
static void explain_share(struct strbuf *out, unsigned long part,
    unsigned long whole);
static const struct upstream_conf *explain_upstream(const struct config *cfg,
    const struct route_conf *r);
static void explain_fallback(struct strbuf *out, const struct fallback_conf *f);
static void explain_shadow(struct strbuf *out, const struct shadow_conf *sh,
    const struct route_request *rq);
static void explain_servers(struct strbuf *out, const struct upstream_conf *u);
static void explain_sticky(struct strbuf *out, const struct route_conf *r,
    const struct route_request *rq);
static void explain_override(struct strbuf *out, const struct config *cfg,
    const struct route_conf *r, const struct route_request *rq);
static void explain_target(struct strbuf *out, const struct config *cfg,
    const struct route_conf *r, const char *path, size_t plen,
    const struct target_parts *tp, const struct route_request *rq);

/* RFC 9110 tchar. */
static bool
explain_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool
explain_token(const char *p, size_t len)
{
	size_t i;

	if (len == 0)
		return false;
	for (i = 0; i < len; i++)
		if (!explain_tchar((unsigned char)p[i]))
			return false;
	return true;
}

/* "Name: value" -> a field pointing into `line`. */
static int
explain_header(const char *line, struct http_field *f, const char **why)
{
	const char *colon = strchr(line, ':'), *v, *end;

	if (colon == NULL) {
		*why = "no ':'";
		return -1;
	}
	if (!explain_token(line, (size_t)(colon - line))) {
		*why = "field name is not a token";
		return -1;
	}
	for (v = colon + 1; *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			*why = "control character in field value";
			return -1;
		}
	}
	end = v;
	v = colon + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	f->name.p = line;
	f->name.len = (size_t)(colon - line);
	f->value.p = v;
	f->value.len = (size_t)(end - v);
	return 0;
}

static bool
explain_ieq(struct http_span s, const char *lit)
{
	return s.len == strlen(lit) && strncasecmp(s.p, lit, s.len) == 0;
}

/*
 * Append "p" in double quotes, with control and non-ASCII bytes (and '"'
 * and '\\') escaped, so a bad input cannot garble the terminal.
 */
static void
explain_quote(struct strbuf *out, const char *p, size_t n)
{
	size_t i;

	strbuf_adds(out, "\"");
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '"' || c == '\\')
			strbuf_addf(out, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			strbuf_addf(out, "\\x%02x", c);
		else
			strbuf_add(out, &p[i], 1);
	}
	strbuf_adds(out, "\"");
}

/* part/whole as a percentage with at most one decimal: "50%", "33.3%". */
static void
explain_share(struct strbuf *out, unsigned long part, unsigned long whole)
{
	unsigned long tenths;

	if (whole == 0) {
		strbuf_adds(out, "0%");
		return;
	}
	tenths = (part * 1000 + whole / 2) / whole;
	if (tenths % 10 == 0)
		strbuf_addf(out, "%lu%%", tenths / 10);
	else
		strbuf_addf(out, "%lu.%lu%%", tenths / 10, tenths % 10);
}

/* The route's upstream: resolved by the loader, else looked up by name. */
static const struct upstream_conf *
explain_upstream(const struct config *cfg, const struct route_conf *r)
{
	size_t i;

	if (r->upstream != NULL)
		return r->upstream;
	if (r->upstream_name == NULL)
		return NULL;
	for (i = 0; i < cfg->nupstreams; i++)
		if (cfg->upstreams[i].name != NULL &&
		    strcmp(cfg->upstreams[i].name, r->upstream_name) == 0)
			return &cfg->upstreams[i];
	return NULL;
}

/* The servers of `u` with their shares. */
static void
explain_servers(struct strbuf *out, const struct upstream_conf *u)
{
	unsigned long total = 0;
	size_t i;

	for (i = 0; i < u->nservers; i++)
		total += u->servers[i].weight;
	for (i = 0; i < u->nservers; i++) {
		const struct server_conf *s = &u->servers[i];

		if (s->address != NULL)
			strbuf_addf(out, "    server %s", s->address);
		else
			strbuf_addf(out, "    server %s:%u",
			    s->host ? s->host : "?", (unsigned)s->port);
		strbuf_addf(out, " weight %u (", s->weight);
		explain_share(out, s->weight, total);
		strbuf_adds(out, ")\n");
	}
}

/* "sticky: cookie NAME bucket N -> TARGET", or that the key is absent. */
static void
explain_sticky(struct strbuf *out, const struct route_conf *r,
    const struct route_request *rq)
{
	const struct sticky_conf *st = &r->sticky;
	struct http_span key = { NULL, 0 };
	bool have = false;
	unsigned b;

	if (!st->enabled || st->table == NULL)
		return;
	if (st->cookie != NULL) {
		have = route_cookie_value(rq, st->cookie, &key);
	} else {
		for (size_t i = 0; i < rq->nfields && !have; i++)
			if (http_span_ieq(rq->fields[i].name, st->header)) {
				key = rq->fields[i].value;
				have = true;
			}
	}
	if (!have || key.len == 0) {
		strbuf_addf(out, "  sticky: %s %s: no key (random draw by weight)\n",
		    st->cookie ? "cookie" : "header",
		    st->cookie ? st->cookie : st->header);
		return;
	}
	b = split_bucket(&st->key, key.p, key.len);
	strbuf_addf(out, "  sticky: %s %s bucket %u -> %s\n",
	    st->cookie ? "cookie" : "header", st->cookie ? st->cookie : st->header,
	    b, r->targets[st->table->target[b]].upstream_name);
}

/* What the override header would do (the client address is checked at run time). */
static void
explain_override(struct strbuf *out, const struct config *cfg,
    const struct route_conf *r, const struct route_request *rq)
{
	const struct override_conf *oc = &r->override;
	const struct http_field *f = NULL;

	if (!oc->enabled)
		return;
	for (size_t i = 0; i < rq->nfields && f == NULL; i++)
		if (http_span_ieq(rq->fields[i].name, oc->header))
			f = &rq->fields[i];
	if (f == NULL) {
		strbuf_addf(out, "  override: %s not sent\n", oc->header);
		return;
	}
	for (size_t i = 0; i < r->ntargets; i++) {
		if (f->value.len == strlen(r->targets[i].upstream_name) &&
		    memcmp(f->value.p, r->targets[i].upstream_name, f->value.len) == 0) {
			strbuf_addf(out, "  override: %s=%.*s -> %s (from allow_from "
			    "addresses)\n", oc->header, (int)f->value.len, f->value.p,
			    r->targets[i].upstream_name);
			return;
		}
	}
	for (size_t k = 0; k < cfg->nroutes; k++) {
		const struct route_conf *ir = &cfg->routes[k];

		if (ir->active || !route_conditions_hold(ir, rq, NULL, NULL))
			continue;
		for (size_t i = 0; i < ir->ntargets; i++) {
			if (f->value.len == strlen(ir->targets[i].upstream_name) &&
			    memcmp(f->value.p, ir->targets[i].upstream_name,
				f->value.len) == 0) {
				strbuf_addf(out, "  override: %s=%.*s -> %s via inactive "
				    "route \"%s\" (from allow_from addresses)\n",
				    oc->header, (int)f->value.len, f->value.p,
				    ir->targets[i].upstream_name, ir->name);
				return;
			}
		}
	}
	strbuf_addf(out, "  override: %s=%.*s names no target: ignored\n",
	    oc->header, (int)(f->value.len > 64 ? 64 : f->value.len), f->value.p);
}

/* What the matching route does with the request. */
static void
explain_target(struct strbuf *out, const struct config *cfg,
    const struct route_conf *r, const char *path, size_t plen,
    const struct target_parts *tp, const struct route_request *rq)
{
	const struct upstream_conf *u;
	const struct route_rewrite *rw = &r->rewrite;
	char *rewritten;
	size_t i, rlen;

	if (r->has_respond) {
		strbuf_addf(out, "  respond: %d %s (%zu bytes)\n",
		    r->respond.status,
		    r->respond.content_type ? r->respond.content_type
					    : "text/plain",
		    r->respond.body ? r->respond.body_len : (size_t)0);
		return;
	}

	if (r->ntargets > 1) {
		unsigned long wsum = 0;

		for (i = 0; i < r->ntargets; i++)
			wsum += r->targets[i].weight;
		for (i = 0; i < r->ntargets; i++) {
			strbuf_addf(out, "  upstream: %s (share ",
			    r->targets[i].upstream_name);
			explain_share(out, r->targets[i].weight, wsum);
			strbuf_adds(out, ")\n");
			explain_servers(out, r->targets[i].upstream);
		}
	} else {
		u = explain_upstream(cfg, r);
		strbuf_addf(out, "  upstream: %s (share 100%%)\n",
		    u ? u->name : r->upstream_name ? r->upstream_name : "(none)");
		if (u == NULL)
			strbuf_adds(out, "    (upstream not defined)\n");
		else
			explain_servers(out, u);
	}
	explain_sticky(out, r, rq);
	explain_override(out, cfg, r, rq);

	rewritten = xmalloc(plen + (rw->to ? strlen(rw->to) : 0) + 2);
	rlen = path_rewrite(rw, path, plen, rewritten);
	switch (rw->kind) {
	case REWRITE_STRIP_PREFIX:
		strbuf_addf(out, "  rewrite: strip_prefix %s -> ",
		    rw->from ? rw->from : "/");
		break;
	case REWRITE_REPLACE_PREFIX:
		strbuf_addf(out, "  rewrite: replace_prefix %s to %s -> ",
		    rw->from ? rw->from : "/", rw->to ? rw->to : "/");
		break;
	default:
		strbuf_adds(out, "  rewrite: none -> ");
		break;
	}
	strbuf_add(out, rewritten, rlen);
	if (tp->has_query) {
		strbuf_adds(out, "?");
		strbuf_add(out, tp->query.p, tp->query.len);
	}
	strbuf_adds(out, "\n");
	free(rewritten);

	explain_fallback(out, &r->fallback);
	explain_shadow(out, &r->shadow, rq);
}

/* The names of the methods a shadow copies (config.h: bit per enum http_method). */
static const char *const explain_methods[] = {
	[HTTP_M_GET] = "GET", [HTTP_M_HEAD] = "HEAD", [HTTP_M_POST] = "POST",
	[HTTP_M_PUT] = "PUT", [HTTP_M_DELETE] = "DELETE",
	[HTTP_M_OPTIONS] = "OPTIONS", [HTTP_M_PATCH] = "PATCH",
};

static void
explain_list(struct strbuf *out, const char *what, char *const *v, size_t n)
{
	if (n == 0)
		return;
	strbuf_addf(out, " %s ", what);
	for (size_t i = 0; i < n; i++)
		strbuf_addf(out, "%s%s", i > 0 ? "," : "", v[i]);
}

/*
 * Only for a route with a shadow:
 * "shadow: users-next 100% of GET,HEAD -> copied; compared ignoring headers Date fields gen"
 */
static void
explain_shadow(struct strbuf *out, const struct shadow_conf *sh,
    const struct route_request *rq)
{
	enum http_method m = http_method_from_span(rq->method);
	const char *sep = "";

	if (!sh->enabled)
		return;
	strbuf_addf(out, "  shadow: %s ", sh->upstream_name);
	explain_share(out, sh->percent_ppm, 1000000u);
	strbuf_adds(out, " of ");
	for (size_t i = 0; i < sizeof(explain_methods) / sizeof(explain_methods[0]);
	     i++) {
		if (explain_methods[i] != NULL && (sh->methods & (1u << i))) {
			strbuf_addf(out, "%s%s", sep, explain_methods[i]);
			sep = ",";
		}
	}
	if (!(sh->methods & (1u << m)))
		strbuf_adds(out, " -> not copied (method)");
	else if (sh->percent_ppm == 0)
		strbuf_adds(out, " -> not copied (0%)");
	else
		strbuf_adds(out, sh->percent_ppm < 1000000u ?
		    " -> copied (by draw)" : " -> copied");
	if (!sh->compare) {
		strbuf_adds(out, "; not compared\n");
		return;
	}
	strbuf_adds(out, "; compared");
	if (sh->nignore_headers + sh->nignore_json_fields > 0)
		strbuf_adds(out, " ignoring");
	explain_list(out, "headers", sh->ignore_headers, sh->nignore_headers);
	explain_list(out, "fields", sh->ignore_json_fields,
	    sh->nignore_json_fields);
	strbuf_adds(out, "\n");
}

/* "fallback: legacy on unavailable, failure, 404" (SPEC 4.4), or none. */
static void
explain_fallback(struct strbuf *out, const struct fallback_conf *f)
{
	const char *sep = " on ";

	if (f->upstream == NULL) {
		strbuf_adds(out, "  fallback: none\n");
		return;
	}
	strbuf_addf(out, "  fallback: %s", f->upstream->name);
	if (f->on_unavailable) {
		strbuf_addf(out, "%sunavailable", sep);
		sep = ", ";
	}
	if (f->on_failure) {
		strbuf_addf(out, "%sfailure", sep);
		sep = ", ";
	}
	for (int s = 400; s < 600; s++) {
		if (fallback_on_status(f, s)) {
			strbuf_addf(out, "%s%d", sep, s);
			sep = ", ";
		}
	}
	strbuf_adds(out, "\n");
}

int
route_explain(const struct config *cfg, const char *method, const char *url,
    const char *const *headers, size_t nheaders, struct strbuf *out)
{
	struct http_field *fields = NULL;
	struct route_step *steps = NULL;
	struct route_trace trace;
	struct route_request req;
	struct target_parts tp;
	struct http_span target, host = { NULL, 0 };
	const struct route_conf *match;
	const char *why = NULL;
	char *npath = NULL;
	size_t i, nlen;
	int rc = -1;

	if (method == NULL || !explain_token(method, strlen(method))) {
		strbuf_adds(out, "bad method ");
		explain_quote(out, method ? method : "",
		    method ? strlen(method) : 0);
		strbuf_adds(out, ": not a token\n");
		return -1;
	}
	fields = xcalloc(nheaders, sizeof(*fields));
	for (i = 0; i < nheaders; i++) {
		if (explain_header(headers[i], &fields[i], &why) == -1) {
			strbuf_addf(out, "bad header line %zu ", i + 1);
			explain_quote(out, headers[i], strlen(headers[i]));
			strbuf_addf(out, ": %s\n", why);
			goto done;
		}
	}
	target.p = url ? url : "";
	target.len = strlen(target.p);
	if (path_split_target_ex(target, &tp, &why) == -1) {
		strbuf_adds(out, "bad URL ");
		explain_quote(out, target.p, target.len);
		strbuf_addf(out, ": %s\n", why);
		goto done;
	}
	if (tp.asterisk) {
		strbuf_adds(out,
		    "bad URL \"*\": asterisk-form is not routed\n");
		goto done;
	}
	if (tp.absolute)
		host = tp.authority;
	else {
		for (i = 0; i < nheaders; i++) {
			if (explain_ieq(fields[i].name, "host")) {
				host = fields[i].value;
				break;
			}
		}
	}

	strbuf_addf(out, "request: %s %s host=", method, target.p);
	if (host.len > 0)
		strbuf_add(out, host.p, host.len);
	else
		strbuf_adds(out, "(none)");
	strbuf_adds(out, "\n");

	npath = xmalloc(tp.path.len + 1);
	if (path_normalise_ex(tp.path.p, tp.path.len, npath, &nlen, &why) ==
	    -1) {
		strbuf_adds(out, "bad path ");
		explain_quote(out, tp.path.p, tp.path.len);
		strbuf_addf(out, ": %s (400)\n", why);
		goto done;
	}
	strbuf_addf(out, "normalised path: %s\n", npath);

	req.method.p = method;
	req.method.len = strlen(method);
	req.path.p = npath;
	req.path.len = nlen;
	req.query = tp.query;
	req.host = host;
	req.fields = fields;
	req.nfields = nheaders;

	steps = xcalloc(cfg->nroutes, sizeof(*steps));
	trace.steps = steps;
	trace.nsteps = 0;
	trace.max_steps = cfg->nroutes;
	match = route_match(cfg, &req, &trace);

	for (i = 0; i < trace.nsteps; i++) {
		const struct route_step *s = &steps[i];

		strbuf_addf(out, "route %zu \"%s\": ",
		    (size_t)(s->route - cfg->routes) + 1,
		    s->route->name ? s->route->name : "");
		if (s->matched)
			strbuf_adds(out, "MATCH\n");
		else if (strcmp(s->failed, "inactive") == 0) {
			strbuf_adds(out, "skipped (inactive)\n");
			/* staged routes are reachable by override: say so */
			if (route_conditions_hold(s->route, &req, NULL, NULL))
				strbuf_adds(out, "  conditions hold (reachable "
						 "through an override)\n");
		} else if (s->detail != NULL)
			strbuf_addf(out, "no match (%s %s)\n", s->failed,
			    s->detail);
		else
			strbuf_addf(out, "no match (%s)\n", s->failed);
	}

	if (match == NULL) {
		strbuf_adds(out, "no route matched (404)\n");
		rc = 1;
		goto done;
	}
	explain_target(out, cfg, match, npath, nlen, &tp, &req);
	rc = 0;

done:
	free(steps);
	free(npath);
	free(fields);
	return rc;
}
