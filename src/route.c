/*
 * route: first-match routing over one configuration generation.
 *
 * This runs on every request, so the match path never allocates (except
 * the one per-thread PCRE2 match data, created on a thread's first regex
 * route) and never calls strlen() on request bytes: request data comes as
 * spans, configuration strings are NUL-terminated and walked in step with
 * them.
 */
#include <stdbool.h>
#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "cutover/route.h"

static unsigned char route_lower(unsigned char c);
static bool route_span_eq(struct http_span s, const char *lit);
static bool route_span_ieq(struct http_span s, const char *lit);
static bool route_prefix_holds(const char *prefix, struct http_span path);
static bool route_regex_holds(const struct route_match *m,
    struct http_span path);
static bool route_method_holds(const struct route_match *m,
    struct http_span method);
static struct http_span route_host_bare(struct http_span host);
static bool route_host_holds(const struct route_match *m,
    struct http_span host);
static bool route_value_ok(const struct match_cond *c, struct http_span v,
    bool form);
static bool route_cond_result(const struct match_cond *c, bool found);
static bool route_header_holds(const struct match_cond *c,
    const struct route_request *req);
static bool route_cookie_next(const char **p, const char *end,
    struct http_span *name, struct http_span *value);
static bool route_cookie_found(const struct match_cond *c,
    struct http_span cookie);
static bool route_cookie_holds(const struct match_cond *c,
    const struct route_request *req);
static int route_form_next(const char **p, const char *end);
static bool route_form_eq(struct http_span s, const char *lit);
static bool route_query_holds(const struct match_cond *c,
    struct http_span query);
static struct http_span route_trim(const char *p, const char *end);

/*
 * One match data per thread, big enough for a yes/no answer (pcre2_match
 * returns 0, still a match, when the ovector is too small for the groups).
 * Freed by route_thread_cleanup().
 */
static __thread pcre2_match_data *route_md;

static unsigned char
route_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

static bool
route_span_eq(struct http_span s, const char *lit)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (lit[i] == '\0' || s.p[i] != lit[i])
			return false;
	return lit[i] == '\0';
}

static bool
route_span_ieq(struct http_span s, const char *lit)
{
	size_t i;

	for (i = 0; i < s.len; i++)
		if (lit[i] == '\0' || route_lower((unsigned char)s.p[i]) !=
		    route_lower((unsigned char)lit[i]))
			return false;
	return lit[i] == '\0';
}

/* path_prefix_match without measuring the configured prefix first. */
static bool
route_prefix_holds(const char *prefix, struct http_span path)
{
	size_t i;

	if (prefix[0] == '/' && prefix[1] == '\0')
		return path.len > 0 && path.p[0] == '/';
	for (i = 0; prefix[i] != '\0'; i++) {
		if (prefix[i] == '/' && prefix[i + 1] == '\0')
			break; /* a trailing '/' the loader did not strip */
		if (i >= path.len || path.p[i] != prefix[i])
			return false;
	}
	return i == path.len || path.p[i] == '/';
}

static bool
route_regex_holds(const struct route_match *m, struct http_span path)
{
	int rc;

	if (m->regex == NULL)
		return false;
	if (route_md == NULL) {
		route_md = pcre2_match_data_create(1, NULL);
		if (route_md == NULL)
			return false;
	}
	/*
	 * The loader compiled with PCRE2_ANCHORED|PCRE2_ENDANCHORED; passing
	 * them here again would keep JIT code from being used.
	 */
	rc = pcre2_match(m->regex, (PCRE2_SPTR)path.p, path.len, 0, 0, route_md,
	    m->regex_mctx);
	return rc >= 0; /* errors, match limit included: no match */
}

static bool
route_method_holds(const struct route_match *m, struct http_span method)
{
	size_t i;

	if (m->nmethods == 0)
		return true;
	for (i = 0; i < m->nmethods; i++)
		if (route_span_eq(method, m->methods[i]))
			return true;
	return false;
}

/* The host without ":port" and without a trailing dot. */
static struct http_span
route_host_bare(struct http_span host)
{
	size_t i;

	if (host.len > 0 && host.p[0] == '[') {
		for (i = 0; i < host.len && host.p[i] != ']'; i++)
			;
		host.len = (i < host.len) ? i + 1 : host.len;
		return host;
	}
	for (i = 0; i < host.len && host.p[i] != ':'; i++)
		;
	host.len = i;
	if (host.len > 0 && host.p[host.len - 1] == '.')
		host.len--;
	return host;
}

static bool
route_host_holds(const struct route_match *m, struct http_span host)
{
	const char *want = m->host;
	size_t wlen, i;

	if (want == NULL)
		return true;
	host = route_host_bare(host);
	if (!m->host_wildcard) {
		for (i = 0; i < host.len; i++) {
			if (want[i] == '\0')
				return false;
			if (route_lower((unsigned char)host.p[i]) !=
			    route_lower((unsigned char)want[i]))
				return false;
		}
		/* a trailing dot in the configured name is ignored too */
		return want[i] == '\0' ||
		    (want[i] == '.' && want[i + 1] == '\0');
	}
	/* "*.example.com" is stored as ".example.com"; accept either */
	if (want[0] == '.')
		want++;
	for (wlen = 0; want[wlen] != '\0'; wlen++)
		;
	if (wlen > 0 && want[wlen - 1] == '.')
		wlen--;
	/* at least one label, then '.', then the suffix */
	if (host.len < wlen + 2 || host.p[host.len - wlen - 1] != '.')
		return false;
	for (i = 0; i < wlen; i++)
		if (route_lower((unsigned char)host.p[host.len - wlen + i]) !=
		    route_lower((unsigned char)want[i]))
			return false;
	return true;
}

/* Does one occurrence's value satisfy an exact / in condition? */
static bool
route_value_ok(const struct match_cond *c, struct http_span v, bool form)
{
	size_t i, n;

	if (c->kind == MATCH_PRESENT)
		return true;
	n = (c->kind == MATCH_EXACT && c->nvalues > 1) ? 1 : c->nvalues;
	for (i = 0; i < n; i++) {
		if (form ? route_form_eq(v, c->values[i])
			 : route_span_eq(v, c->values[i]))
			return true;
	}
	return false;
}

/* `found`: some occurrence of the name had a satisfying value. */
static bool
route_cond_result(const struct match_cond *c, bool found)
{
	if (c->kind == MATCH_PRESENT)
		return found == c->present;
	return found;
}

static bool
route_header_holds(const struct match_cond *c,
    const struct route_request *req)
{
	size_t i;

	for (i = 0; i < req->nfields; i++) {
		const struct http_field *f = &req->fields[i];

		if (route_span_ieq(f->name, c->name) &&
		    route_value_ok(c, f->value, false))
			return route_cond_result(c, true);
	}
	return route_cond_result(c, false);
}

static struct http_span
route_trim(const char *p, const char *end)
{
	struct http_span s;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	s.p = p;
	s.len = (size_t)(end - p);
	return s;
}

/* One Cookie field value, "a=b; c=d": is `c` satisfied by one of them? */
/*
 * The next cookie-pair ("name=value") of a Cookie field at *p (before
 * end), both sides trimmed; pieces without '=' are skipped. False at the
 * end.
 */
static bool
route_cookie_next(const char **p, const char *end, struct http_span *name,
    struct http_span *value)
{
	while (*p < end) {
		const char *pair = *p, *pend, *eq;

		while (*p < end && **p != ';')
			(*p)++;
		pend = *p;
		if (*p < end)
			(*p)++;
		for (eq = pair; eq < pend && *eq != '='; eq++)
			;
		if (eq == pend)
			continue; /* not a cookie-pair */
		*name = route_trim(pair, eq);
		*value = route_trim(eq + 1, pend);
		return true;
	}
	return false;
}

static bool
route_cookie_found(const struct match_cond *c, struct http_span cookie)
{
	const char *p = cookie.p, *end = cookie.p + cookie.len;
	struct http_span name, value;

	while (route_cookie_next(&p, end, &name, &value))
		if (route_span_eq(name, c->name) &&
		    route_value_ok(c, value, false))
			return true;
	return false;
}

bool
route_cookie_value(const struct route_request *req, const char *name,
    struct http_span *out)
{
	for (size_t i = 0; i < req->nfields; i++) {
		const struct http_field *f = &req->fields[i];
		const char *p = f->value.p, *end = f->value.p + f->value.len;
		struct http_span n, v;

		if (!route_span_ieq(f->name, "cookie"))
			continue;
		while (route_cookie_next(&p, end, &n, &v)) {
			if (route_span_eq(n, name)) {
				*out = v;
				return true;
			}
		}
	}
	return false;
}

static bool
route_cookie_holds(const struct match_cond *c,
    const struct route_request *req)
{
	size_t i;

	for (i = 0; i < req->nfields; i++) {
		const struct http_field *f = &req->fields[i];

		if (route_span_ieq(f->name, "cookie") &&
		    route_cookie_found(c, f->value))
			return route_cond_result(c, true);
	}
	return route_cond_result(c, false);
}

/*
 * Next decoded byte of a form-encoded string ('+' is a space, %XX a byte;
 * a '%' not followed by two hex digits is itself), advancing *p.
 */
static int
route_form_next(const char **p, const char *end)
{
	const char *s = *p;
	int hi, lo;

	if (*s == '+') {
		*p = s + 1;
		return ' ';
	}
	if (*s == '%' && end - s >= 3) {
		hi = http_hex_digit((unsigned char)s[1]);
		lo = http_hex_digit((unsigned char)s[2]);
		if (hi >= 0 && lo >= 0) {
			*p = s + 3;
			return hi << 4 | lo;
		}
	}
	*p = s + 1;
	return (unsigned char)*s;
}

/* Decoded `s` equals the literal `lit`, without decoding into a buffer. */
static bool
route_form_eq(struct http_span s, const char *lit)
{
	const char *p = s.p, *end = s.p + s.len;
	size_t i = 0;

	while (p < end) {
		int c = route_form_next(&p, end);

		if (lit[i] == '\0' || (unsigned char)lit[i] != c)
			return false;
		i++;
	}
	return lit[i] == '\0';
}

static bool
route_query_holds(const struct match_cond *c, struct http_span query)
{
	const char *p = query.p, *end = query.p + query.len;
	bool found = false;

	while (p < end && !found) {
		const char *pair = p, *pend, *eq;
		struct http_span name, value;

		while (p < end && *p != '&')
			p++;
		pend = p;
		if (p < end)
			p++;
		if (pend == pair)
			continue;
		for (eq = pair; eq < pend && *eq != '='; eq++)
			;
		name.p = pair;
		name.len = (size_t)(eq - pair);
		value.p = (eq < pend) ? eq + 1 : pend;
		value.len = (size_t)(pend - value.p);
		if (route_form_eq(name, c->name) &&
		    route_value_ok(c, value, true))
			found = true;
	}
	return route_cond_result(c, found);
}

bool
route_conditions_hold(const struct route_conf *route,
    const struct route_request *req, const char **failed,
    const char **detail)
{
	const struct route_match *m = &route->match;
	const char *why = NULL, *what = NULL;
	bool ok;
	size_t i;

	switch (m->path_kind) {
	case PATH_MATCH_ANY:
		ok = true;
		break;
	case PATH_MATCH_PREFIX:
		ok = m->path != NULL && route_prefix_holds(m->path, req->path);
		break;
	case PATH_MATCH_EXACT:
		ok = m->path != NULL && route_span_eq(req->path, m->path);
		break;
	case PATH_MATCH_REGEX:
		ok = route_regex_holds(m, req->path);
		break;
	default:
		ok = false;
		break;
	}
	if (!ok) {
		why = "path";
		goto out;
	}
	if (!route_method_holds(m, req->method)) {
		why = "method";
		goto out;
	}
	if (!route_host_holds(m, req->host)) {
		why = "host";
		goto out;
	}
	for (i = 0; i < m->nheaders; i++) {
		if (!route_header_holds(&m->headers[i], req)) {
			why = "header";
			what = m->headers[i].name;
			goto out;
		}
	}
	for (i = 0; i < m->ncookies; i++) {
		if (!route_cookie_holds(&m->cookies[i], req)) {
			why = "cookie";
			what = m->cookies[i].name;
			goto out;
		}
	}
	for (i = 0; i < m->nquery; i++) {
		if (!route_query_holds(&m->query[i], req->query)) {
			why = "query";
			what = m->query[i].name;
			goto out;
		}
	}
out:
	if (failed != NULL)
		*failed = why;
	if (detail != NULL)
		*detail = what;
	return why == NULL;
}

const struct route_conf *
route_match(const struct config *cfg, const struct route_request *req,
    struct route_trace *trace)
{
	size_t i;

	for (i = 0; i < cfg->nroutes; i++) {
		const struct route_conf *r = &cfg->routes[i];
		const char *failed = NULL, *detail = NULL;
		bool ok;

		if (!r->active) {
			ok = false;
			failed = "inactive";
		} else
			ok = route_conditions_hold(r, req, &failed, &detail);
		if (trace != NULL && trace->nsteps < trace->max_steps) {
			struct route_step *s = &trace->steps[trace->nsteps++];

			s->route = r;
			s->matched = ok;
			s->failed = failed;
			s->detail = detail;
		}
		if (ok)
			return r;
	}
	return NULL;
}

void
route_thread_cleanup(void)
{
	pcre2_match_data_free(route_md);
	route_md = NULL;
}
