/*
 * admin: the admin API (SPEC section 5) on evhttp, on its own thread and
 * event base.
 *
 * evhttp is fine here and nowhere else: the admin API is small, rare and
 * off the data path. The base is created with EVENT_BASE_FLAG_NOLOCK and
 * only the admin thread touches it; admin_stop() talks to it through a
 * pipe (as the workers do), so no base needs evthread locking.
 *
 * Every call goes through admin_cb(): authentication first (when a token
 * is configured, every call needs it, /healthz included), then the
 * endpoint table, then one reply path (admin_reply) that sets the
 * Content-Type, sends and logs at debug level with the caller's address.
 *
 * The view (admin.h) is read at request time, on the admin thread: the
 * configuration generation it points to is only read, metrics counters are
 * relaxed atomics summed by metrics.c, `draining` is an atomic.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cutover/admin.h"
#include "cutover/clock.h"
#include "cutover/upstream_rt.h"
#include "cutover/config.h"
#include "cutover/http_parse.h"
#include "cutover/log.h"
#include "cutover/metrics.h"
#include "cutover/migration.h"
#include "cutover/route.h"
#include "cutover/route_explain.h"
#include "cutover/shadow_log.h"
#include "cutover/strbuf.h"

#define ADMIN_BACKLOG 64
#define ADMIN_TIMEOUT_S 30		 /* idle and read/write timeout of a connection */
#define ADMIN_MAX_HEADERS_SIZE 16384	 /* request line and headers */
#define ADMIN_MAX_BODY_SIZE 65536	 /* for the POST calls to come */
#define ADMIN_EXPLAIN_MAX_HEADERS 100	 /* h= parameters of one /explain */

#define ADMIN_CT_JSON "application/json"
#define ADMIN_CT_TEXT "text/plain"
#define ADMIN_CT_METRICS "text/plain; version=0.0.4; charset=utf-8"

/* Every method evhttp parses: the 405 for a known path is ours, with Allow. */
#define ADMIN_ALL_METHODS                                                   \
	(EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | \
	    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |        \
	    EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH)

/*
 * The running admin server. Allocated by admin_start(), freed by
 * admin_stop(). `http` owns the listening socket (closed by evhttp_free)
 * and the client connections; `base` owns nothing of ours but `cmd_ev`'s
 * registration; `token` is a private copy, wiped before it is freed.
 * `view` is the server's, borrowed.
 */
struct admin {
	struct admin_view *view;
	char *address; /* as configured, for logs */
	char *token;   /* NULL: no authentication */
	size_t token_len;

	struct event_base *base;
	struct evhttp *http;
	int cmd_fd[2]; /* admin_stop() writes one byte to [1] */
	struct event *cmd_ev;
	pthread_t thread;
	bool thread_started;
};

/* One call as admin_reply() logs it. */
struct admin_call {
	struct admin *a;
	struct config *cfg; /* the generation this call reads (a reference) */
	struct evhttp_request *req;
	const char *method;
	const char *path;
};

/*
 * A known path. `methods` is what it answers (an EVHTTP_REQ_* mask);
 * `allow` is the matching Allow header for a 405. HEAD is answered as GET
 * (evhttp sends the headers and drops the body), as RFC 9110 section 9.1
 * asks of every server.
 */
struct admin_endpoint {
	const char *path;
	int methods;
	const char *allow;
	void (*fn)(struct admin_call *call);
};

/* What /explain was asked; the strings are ours (admin_explain frees). */
struct admin_explain_args {
	char *method;
	char *url;
	char *headers[ADMIN_EXPLAIN_MAX_HEADERS]; /* "Name: value" lines */
	size_t nheaders;
};

static void *admin_main(void *arg);
static void admin_cmdcb(evutil_socket_t fd, short what, void *arg);
static int admin_listen(const struct admin_conf *conf);
static void admin_free(struct admin *a);
static void admin_cb(struct evhttp_request *req, void *arg);
static bool admin_authorised(const struct admin *a,
    struct evhttp_request *req);
static bool admin_token_eq(const char *p, size_t plen, const char *t,
    size_t tlen);
static const char *admin_method_name(enum evhttp_cmd_type cmd);
static void admin_reply(struct admin_call *call, int status,
    const char *ctype, const char *body, size_t len);
static void admin_reply_sb(struct admin_call *call, int status,
    const char *ctype, struct strbuf *body);
static void admin_reply_error(struct admin_call *call, int status,
    const char *msg);
static void admin_log_safe(char *dst, size_t dstlen, const char *src);
static void admin_healthz(struct admin_call *call);
static void admin_readyz(struct admin_call *call);
static void admin_metrics(struct admin_call *call);
static void admin_upstreams(struct admin_call *call);
static void admin_breaker(struct admin_call *call);
static bool admin_path_match(const char *pattern, const char *path);
static void admin_routes(struct admin_call *call);
static void admin_explain(struct admin_call *call);
static void admin_migration(struct admin_call *call);
static void admin_reload(struct admin_call *call);
static void admin_shadow_mismatches(struct admin_call *call);
static int admin_explain_param(const char *p, size_t len,
    struct admin_explain_args *ea, struct strbuf *err);
static char *admin_query_decode(const char *p, size_t n);

#define ADMIN_GET (EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)
#define ADMIN_ALLOW_GET "GET, HEAD"

static const struct admin_endpoint admin_endpoints[] = {
	{ "/healthz", ADMIN_GET, ADMIN_ALLOW_GET, admin_healthz },
	{ "/readyz", ADMIN_GET, ADMIN_ALLOW_GET, admin_readyz },
	{ "/metrics", ADMIN_GET, ADMIN_ALLOW_GET, admin_metrics },
	{ "/upstreams", ADMIN_GET, ADMIN_ALLOW_GET, admin_upstreams },
	{ "/upstreams/{}/breaker", EVHTTP_REQ_POST, "POST", admin_breaker },
	{ "/routes", ADMIN_GET, ADMIN_ALLOW_GET, admin_routes },
	{ "/explain", ADMIN_GET, ADMIN_ALLOW_GET, admin_explain },
	{ "/migration", ADMIN_GET, ADMIN_ALLOW_GET, admin_migration },
	{ "/reload", EVHTTP_REQ_POST, "POST", admin_reload },
	{ "/shadow/mismatches", ADMIN_GET, ADMIN_ALLOW_GET, admin_shadow_mismatches },
};

/*
 * Bind conf->addr here, on the caller's thread, so a bad address is the
 * caller's error at once; then serve on a new thread. Returns NULL with
 * errno set on failure, having logged nothing.
 */
struct admin *
admin_start(const struct admin_conf *conf, struct admin_view *view)
{
	struct event_config *ec;
	struct admin *a;
	int fd, e;

	if ((fd = admin_listen(conf)) == -1)
		return NULL;
	errno = 0; /* for the libevent calls below that may not set it */

	a = xcalloc(1, sizeof(*a));
	a->view = view;
	a->cmd_fd[0] = a->cmd_fd[1] = -1;
	a->address = xstrdup(conf->address != NULL ? conf->address : "-");
	if (conf->token != NULL) {
		a->token = xstrdup(conf->token);
		a->token_len = strlen(a->token);
	}

	ec = event_config_new();
	if (ec == NULL)
		goto fail_fd;
	event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
	a->base = event_base_new_with_config(ec);
	event_config_free(ec);
	if (a->base == NULL)
		goto fail_fd;

	if ((a->http = evhttp_new(a->base)) == NULL)
		goto fail_fd;
	evhttp_set_allowed_methods(a->http, ADMIN_ALL_METHODS);
	evhttp_set_timeout(a->http, ADMIN_TIMEOUT_S);
	evhttp_set_max_headers_size(a->http, ADMIN_MAX_HEADERS_SIZE);
	evhttp_set_max_body_size(a->http, ADMIN_MAX_BODY_SIZE);
	evhttp_set_gencb(a->http, admin_cb, a);
	/* From here on evhttp owns fd and closes it in evhttp_free(). */
	if (evhttp_accept_socket_with_handle(a->http, fd) == NULL)
		goto fail_fd;
	fd = -1;

	if (pipe2(a->cmd_fd, O_NONBLOCK | O_CLOEXEC) == -1)
		goto fail;
	a->cmd_ev = event_new(a->base, a->cmd_fd[0], EV_READ | EV_PERSIST,
	    admin_cmdcb, a);
	if (a->cmd_ev == NULL || event_add(a->cmd_ev, NULL) == -1)
		goto fail;

	if ((e = pthread_create(&a->thread, NULL, admin_main, a)) != 0) {
		errno = e;
		goto fail;
	}
	a->thread_started = true;
	return a;

fail_fd:
	if (errno == 0)
		errno = ENOMEM;
	if (fd != -1) {
		e = errno;
		close(fd);
		errno = e;
	}
fail:
	e = errno;
	admin_free(a);
	errno = e;
	return NULL;
}

void
admin_stop(struct admin *a)
{
	char cmd = 'q';

	if (a == NULL)
		return;
	if (a->thread_started) {
		/* The pipe is never full: one byte, read at once. */
		while (write(a->cmd_fd[1], &cmd, 1) == -1 && errno == EINTR)
			;
		pthread_join(a->thread, NULL);
		a->thread_started = false;
	}
	admin_free(a);
}

/* A non-blocking listening socket on conf->addr, or -1 with errno. */
static int
admin_listen(const struct admin_conf *conf)
{
	int one = 1, fd, e;

	if (conf->addrlen == 0) {
		errno = EINVAL;
		return -1;
	}
	fd = socket(conf->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) == -1 ||
	    bind(fd, (const struct sockaddr *)&conf->addr, conf->addrlen) == -1 ||
	    listen(fd, ADMIN_BACKLOG) == -1) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Free everything; the thread is not running (never started, or joined). */
static void
admin_free(struct admin *a)
{
	if (a->cmd_ev != NULL) {
		event_free(a->cmd_ev);
		a->cmd_ev = NULL;
	}
	if (a->http != NULL) {
		evhttp_free(a->http);
		a->http = NULL;
	}
	if (a->base != NULL) {
		event_base_free(a->base);
		a->base = NULL;
	}
	for (int i = 0; i < 2; i++) {
		if (a->cmd_fd[i] != -1) {
			close(a->cmd_fd[i]);
			a->cmd_fd[i] = -1;
		}
	}
	if (a->token != NULL) {
		explicit_bzero(a->token, a->token_len);
		free(a->token);
		a->token = NULL;
	}
	free(a->address);
	a->address = NULL;
	free(a);
}

static void *
admin_main(void *arg)
{
	struct admin *a = arg;

	log_debug("admin_start", "address=%s auth=%s", a->address,
	    a->token != NULL ? "token" : "none");
	event_base_dispatch(a->base);
	/* /explain may have run a regex route on this thread. */
	route_thread_cleanup();
	log_debug("admin_exit", "address=%s", a->address);
	return NULL;
}

static void
admin_cmdcb(evutil_socket_t fd, short what, void *arg)
{
	struct admin *a = arg;
	char buf[16];

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	event_base_loopbreak(a->base);
}

static void
admin_cb(struct evhttp_request *req, void *arg)
{
	struct admin_call call = { .a = arg, .req = req };
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	const struct admin_endpoint *ep = NULL;

	call.method = admin_method_name(cmd);
	call.path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	if (call.path == NULL)
		call.path = "";

	if (!admin_authorised(call.a, req)) {
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer");
		admin_reply_error(&call, 401, "unauthorized");
		return;
	}
	for (size_t i = 0; i < sizeof(admin_endpoints) / sizeof(admin_endpoints[0]); i++) {
		if (admin_path_match(admin_endpoints[i].path, call.path)) {
			ep = &admin_endpoints[i];
			break;
		}
	}
	if (ep == NULL) {
		admin_reply_error(&call, 404, "not found");
		return;
	}
	if ((ep->methods & (int)cmd) == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
		    ep->allow);
		admin_reply_error(&call, 405, "method not allowed");
		return;
	}
	/* A reload may swap the generation meanwhile: this call keeps its own. */
	call.cfg = config_current_get(call.a->view->current);
	ep->fn(&call);
	config_unref(call.cfg);
}

/*
 * With a token, exactly one "Authorization: Bearer <token>" header. The
 * scheme compares case-insensitively (RFC 9110 section 11.1); the token in
 * constant time over its whole length.
 */
static bool
admin_authorised(const struct admin *a, struct evhttp_request *req)
{
	static const char scheme[] = "Bearer ";
	const size_t slen = sizeof(scheme) - 1;
	struct evkeyvalq *h = evhttp_request_get_input_headers(req);
	const char *value = NULL;
	struct evkeyval *kv;
	size_t vlen;

	if (a->token == NULL)
		return true;
	TAILQ_FOREACH(kv, h, next) {
		if (strcasecmp(kv->key, "Authorization") != 0)
			continue;
		if (value != NULL)
			return false; /* two of them: ambiguous, refuse */
		value = kv->value;
	}
	if (value == NULL)
		return false;
	vlen = strlen(value);
	if (vlen < slen || strncasecmp(value, scheme, slen) != 0)
		return false;
	return admin_token_eq(value + slen, vlen - slen, a->token, a->token_len);
}

/*
 * p == t, looking at every byte of t whatever p is: the time depends on
 * the token's length only, never on where a guess goes wrong.
 */
static bool
admin_token_eq(const char *p, size_t plen, const char *t, size_t tlen)
{
	volatile unsigned char diff = plen != tlen;

	for (size_t i = 0; i < tlen; i++) {
		unsigned char c = i < plen ? (unsigned char)p[i] : 0;
		diff |= c ^ (unsigned char)t[i];
	}
	return diff == 0 && tlen > 0;
}

static const char *
admin_method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET: return "GET";
	case EVHTTP_REQ_POST: return "POST";
	case EVHTTP_REQ_HEAD: return "HEAD";
	case EVHTTP_REQ_PUT: return "PUT";
	case EVHTTP_REQ_DELETE: return "DELETE";
	case EVHTTP_REQ_OPTIONS: return "OPTIONS";
	case EVHTTP_REQ_TRACE: return "TRACE";
	case EVHTTP_REQ_CONNECT: return "CONNECT";
	case EVHTTP_REQ_PATCH: return "PATCH";
	}
	return "?";
}

/* Log-safe copy: no spaces, quotes or control bytes in a key=value line. */
static void
admin_log_safe(char *dst, size_t dstlen, const char *src)
{
	size_t i;

	for (i = 0; i + 1 < dstlen && src[i] != '\0'; i++) {
		unsigned char c = (unsigned char)src[i];
		dst[i] = (c <= 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '?' : (char)c;
	}
	dst[i] = '\0';
}

/* Send `status` with `body`, and log the call. */
static void
admin_reply(struct admin_call *call, int status, const char *ctype,
    const char *body, size_t len)
{
	struct evkeyvalq *oh = evhttp_request_get_output_headers(call->req);

	evhttp_add_header(oh, "Content-Type", ctype);
	evhttp_add_header(oh, "Cache-Control", "no-store");
	if (evhttp_request_get_command(call->req) == EVHTTP_REQ_HEAD) {
		/*
		 * evhttp 2.1 leaves Content-Length out of a HEAD answer but
		 * still writes any body it is given, which would corrupt the
		 * next response on the connection: give the length, not the body.
		 */
		char clen[24];

		snprintf(clen, sizeof(clen), "%zu", len);
		evhttp_add_header(oh, "Content-Length", clen);
	} else if (len > 0) {
		evbuffer_add(evhttp_request_get_output_buffer(call->req), body, len);
	}
	if (log_debug_enabled()) {
		struct evhttp_connection *conn =
		    evhttp_request_get_connection(call->req);
		char *peer = NULL, path[256];
		ev_uint16_t port = 0;

		if (conn != NULL)
			evhttp_connection_get_peer(conn, &peer, &port);
		admin_log_safe(path, sizeof(path), call->path);
		log_debug("admin_call", "client=%s%s%s:%u method=%s path=%s status=%d",
		    peer != NULL && strchr(peer, ':') != NULL ? "[" : "",
		    peer != NULL ? peer : "-",
		    peer != NULL && strchr(peer, ':') != NULL ? "]" : "",
		    (unsigned)port, call->method, path, status);
	}
	evhttp_send_reply(call->req, status, NULL, NULL);
}

static void
admin_reply_sb(struct admin_call *call, int status, const char *ctype,
    struct strbuf *body)
{
	admin_reply(call, status, ctype, body->s, body->len);
	strbuf_free(body);
}

/* {"error":"msg"} */
static void
admin_reply_error(struct admin_call *call, int status, const char *msg)
{
	struct strbuf b;

	strbuf_init(&b);
	strbuf_adds(&b, "{\"error\":");
	strbuf_add_json_str(&b, msg);
	strbuf_adds(&b, "}\n");
	admin_reply_sb(call, status, ADMIN_CT_JSON, &b);
}

static void
admin_healthz(struct admin_call *call)
{
	admin_reply(call, 200, ADMIN_CT_TEXT, "ok\n", 3);
}

static void
admin_readyz(struct admin_call *call)
{
	atomic_bool *d = call->a->view->draining;

	if (d != NULL && atomic_load(d))
		admin_reply(call, 503, ADMIN_CT_TEXT, "draining\n", 9);
	else
		admin_reply(call, 200, ADMIN_CT_TEXT, "ready\n", 6);
}

static void
admin_metrics(struct admin_call *call)
{
	const struct admin_view *v = call->a->view;
	struct strbuf out, extra;

	strbuf_init(&out);
	strbuf_init(&extra);
	if (v->extra_metrics != NULL)
		v->extra_metrics(&extra, v->extra_arg);
	upstream_rt_render_metrics(&extra, call->cfg);
	metrics_render(&out, call->cfg, v->metrics, v->nworkers,
	    extra.len > 0 ? extra.s : NULL);
	strbuf_free(&extra);
	admin_reply_sb(call, 200, ADMIN_CT_METRICS, &out);
}

/* `pattern` with "{}" standing for one non-empty path segment. */
static bool
admin_path_match(const char *pattern, const char *path)
{
	while (*pattern != '\0') {
		if (pattern[0] == '{' && pattern[1] == '}') {
			size_t n = strcspn(path, "/");

			if (n == 0)
				return false;
			path += n;
			pattern += 2;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *path == '\0';
}

/* One upstream's runtime part of /upstreams: health, breaker, window, bulkhead, budget. */
static void
admin_upstream_state(struct strbuf *b, const struct upstream_conf *up)
{
	struct upstream_rt *rt = up->rt;
	uint64_t now = clock_now_ms();
	struct breaker_snapshot bs;
	struct budget_snapshot gs;

	breaker_snapshot(&rt->breaker, now, &bs);
	budget_snapshot(&rt->budget, now, &gs);
	strbuf_adds(b, ",\"breaker\":{\"state\":");
	strbuf_add_json_str(b, breaker_state_name(bs.state));
	strbuf_addf(b, ",\"mode\":\"%s\",\"consecutive_failures\":%u,"
	    "\"open_period_ms\":%" PRIu64 ",\"probes_in_flight\":%u,"
	    "\"dry_run_rejects\":%" PRIu64 "}",
	    bs.dry_run ? "dry_run" : "enforce", bs.consecutive, bs.open_period_ms,
	    bs.probes_in_flight, bs.dry_run_rejects);
	strbuf_addf(b, ",\"window\":{\"requests\":%u,\"failures\":%u,"
	    "\"slow\":%u,\"throttled\":%u}", bs.calls, bs.failures, bs.slow,
	    bs.throttled);
	if (bs.state == BREAKER_OPEN)
		strbuf_addf(b, ",\"seconds_until_half_open\":%.3f",
		    (double)bs.half_open_in_ms / 1000.0);
	else
		strbuf_adds(b, ",\"seconds_until_half_open\":null");
	strbuf_addf(b, ",\"bulkhead\":{\"active\":%u,\"pending\":%u,"
	    "\"max_connections\":%u,\"max_pending\":%u}",
	    atomic_load(&rt->busy), atomic_load(&rt->pending),
	    up->max_connections, up->max_pending);
	strbuf_addf(b, ",\"retry_budget\":{\"first_tries\":%" PRIu64
	    ",\"retries\":%" PRIu64 ",\"exhausted\":%" PRIu64 "}",
	    gs.firsts, gs.retries, gs.exhausted);
}

/*
 * {"upstreams":[{"name":..,"servers":[{"address":..,"weight":N,
 * "healthy":B}],"breaker":{"state":..,"mode":..,...},"window":{"requests":N,
 * "failures":N,"slow":N,"throttled":N},"seconds_until_half_open":null|S,"bulkhead":{..},
 * "retry_budget":{..}}]}
 */
static void
admin_upstreams(struct admin_call *call)
{
	const struct config *cfg = call->cfg;
	struct strbuf b;

	strbuf_init(&b);
	strbuf_adds(&b, "{\"upstreams\":[");
	for (size_t i = 0; i < cfg->nupstreams; i++) {
		const struct upstream_conf *up = &cfg->upstreams[i];

		strbuf_adds(&b, i > 0 ? ",{\"name\":" : "{\"name\":");
		strbuf_add_json_str(&b, up->name);
		strbuf_adds(&b, ",\"servers\":[");
		for (size_t j = 0; j < up->nservers; j++) {
			strbuf_adds(&b, j > 0 ? ",{\"address\":" : "{\"address\":");
			strbuf_add_json_str(&b, up->servers[j].address);
			strbuf_addf(&b, ",\"weight\":%u,\"healthy\":%s",
			    up->servers[j].weight,
			    up->rt == NULL || upstream_rt_server_up(up->rt, j) ?
				"true" : "false");
			if (up->rt != NULL && up->rt->servers[j].last_check_ms > 0) {
				strbuf_adds(&b, ",\"last_error\":");
				strbuf_add_json_str(&b, up->rt->servers[j].last_error);
			}
			strbuf_adds(&b, "}");
		}
		strbuf_adds(&b, "]");
		if (up->rt != NULL)
			admin_upstream_state(&b, up);
		strbuf_adds(&b, "}");
	}
	strbuf_adds(&b, "]}\n");
	admin_reply_sb(call, 200, ADMIN_CT_JSON, &b);
}

/* The value of {"state":"..."} (the body's only key), or NULL. */
static const char *
admin_breaker_body(const char *p, size_t n, char *val, size_t vlen)
{
	const char *end = p + n;
	size_t k = 0;

#define ADMIN_SKIP_WS() while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')) p++
	ADMIN_SKIP_WS();
	if (p >= end || *p++ != '{')
		return NULL;
	ADMIN_SKIP_WS();
	if ((size_t)(end - p) < 7 || memcmp(p, "\"state\"", 7) != 0)
		return NULL;
	p += 7;
	ADMIN_SKIP_WS();
	if (p >= end || *p++ != ':')
		return NULL;
	ADMIN_SKIP_WS();
	if (p >= end || *p++ != '"')
		return NULL;
	while (p < end && *p != '"' && k + 1 < vlen)
		val[k++] = *p++;
	val[k] = '\0';
	if (p >= end || *p++ != '"')
		return NULL;
	ADMIN_SKIP_WS();
	if (p >= end || *p++ != '}')
		return NULL;
	ADMIN_SKIP_WS();
#undef ADMIN_SKIP_WS
	return p == end ? val : NULL;
}

/*
 * POST /upstreams/NAME/breaker {"state":"open"|"closed"|"auto"}: force
 * the breaker or hand it back; logged with the caller's address.
 */
static void
admin_breaker(struct admin_call *call)
{
	const struct config *cfg = call->cfg;
	struct evbuffer *in = evhttp_request_get_input_buffer(call->req);
	struct evhttp_connection *conn = evhttp_request_get_connection(call->req);
	const char *name = call->path + strlen("/upstreams/");
	size_t nlen = strcspn(name, "/");
	const struct upstream_conf *up = NULL;
	char val[16], who[80];
	const char *state, *peer = "-";
	ev_uint16_t port = 0;
	enum breaker_force f;
	size_t blen = evbuffer_get_length(in);
	struct breaker_snapshot bs;
	struct strbuf b;

	for (size_t i = 0; i < cfg->nupstreams; i++)
		if (strlen(cfg->upstreams[i].name) == nlen &&
		    strncmp(cfg->upstreams[i].name, name, nlen) == 0)
			up = &cfg->upstreams[i];
	if (up == NULL || up->rt == NULL) {
		admin_reply_error(call, 404, "no such upstream");
		return;
	}
	state = blen > 1024 ? NULL : admin_breaker_body(
	    (const char *)evbuffer_pullup(in, (ssize_t)blen), blen, val,
	    sizeof(val));
	if (state != NULL && strcmp(state, "open") == 0)
		f = BREAKER_FORCE_OPEN;
	else if (state != NULL && strcmp(state, "closed") == 0)
		f = BREAKER_FORCE_CLOSED;
	else if (state != NULL && strcmp(state, "auto") == 0)
		f = BREAKER_FORCE_AUTO;
	else {
		admin_reply_error(call, 400,
		    "expected a body {\"state\":\"open\"|\"closed\"|\"auto\"}");
		return;
	}
	if (conn != NULL)
		evhttp_connection_get_peer(conn, (char **)&peer, &port);
	snprintf(who, sizeof(who), "%s:%u", peer != NULL ? peer : "-",
	    (unsigned)port);
	log_info("breaker_forced", "upstream=%s state=%s client=%s", up->name,
	    state, who);
	upstream_rt_force(up->rt, f, who);
	breaker_snapshot(&up->rt->breaker, clock_now_ms(), &bs);
	strbuf_init(&b);
	strbuf_adds(&b, "{\"upstream\":");
	strbuf_add_json_str(&b, up->name);
	strbuf_adds(&b, ",\"state\":");
	strbuf_add_json_str(&b, breaker_state_name(bs.state));
	strbuf_adds(&b, "}\n");
	admin_reply_sb(call, 200, ADMIN_CT_JSON, &b);
}

/*
 * {"routes":[{"name":..,"active":B,"hits":N,"targets":[{"upstream":..,
 * "requests":N,"share":F}]}]}; a respond route has "targets":[] and
 * "respond":STATUS. hits counts every request of the route, so a target's
 * share is its requests over hits (0.0 before the first request).
 */
static void
admin_routes(struct admin_call *call)
{
	const struct admin_view *v = call->a->view;
	const struct config *cfg = call->cfg;
	struct strbuf b;

	strbuf_init(&b);
	strbuf_adds(&b, "{\"routes\":[");
	for (size_t i = 0; i < cfg->nroutes; i++) {
		const struct route_conf *r = &cfg->routes[i];
		uint64_t hits = metrics_sum_requests(v->metrics, v->nworkers, r->id,
		    METRICS_NONE);

		strbuf_adds(&b, i > 0 ? ",{\"name\":" : "{\"name\":");
		strbuf_add_json_str(&b, r->name);
		strbuf_addf(&b, ",\"active\":%s,\"hits\":%llu,\"targets\":[",
		    r->active ? "true" : "false", (unsigned long long)hits);
		for (size_t k = 0; k < r->ntargets; k++) {
			const struct route_target *tg = &r->targets[k];
			uint64_t n = metrics_sum_requests(v->metrics, v->nworkers,
			    r->id, tg->upstream->id);

			strbuf_adds(&b, k > 0 ? ",{\"upstream\":" : "{\"upstream\":");
			strbuf_add_json_str(&b, tg->upstream->name);
			strbuf_addf(&b, ",\"weight\":%u,\"requests\":%llu,\"share\":",
			    tg->weight, (unsigned long long)n);
			strbuf_add_share(&b, n, hits);
			strbuf_adds(&b, "}");
		}
		strbuf_adds(&b, "]");
		if (r->has_respond)
			strbuf_addf(&b, ",\"respond\":%d", r->respond.status);
		strbuf_adds(&b, "}");
	}
	strbuf_adds(&b, "]}\n");
	admin_reply_sb(call, 200, ADMIN_CT_JSON, &b);
}

static void
admin_migration(struct admin_call *call)
{
	const struct admin_view *v = call->a->view;
	struct strbuf b;

	strbuf_init(&b);
	migration_render(&b, call->cfg, v->metrics, v->migration, v->nworkers);
	admin_reply_sb(call, 200, ADMIN_CT_JSON, &b);
}

/* POST /reload: as SIGHUP; 200 "configuration OK" and the changes, or 400 and the errors. */
static void
admin_reload(struct admin_call *call)
{
	const struct admin_view *v = call->a->view;
	struct strbuf b;
	int rc;

	strbuf_init(&b);
	if (v->reload == NULL) {
		admin_reply_error(call, 503, "reload not available");
		strbuf_free(&b);
		return;
	}
	rc = v->reload(v->reload_arg, &b);
	admin_reply_sb(call, rc == 0 ? 200 : 400, ADMIN_CT_TEXT, &b);
}

static void
admin_shadow_mismatches(struct admin_call *call)
{
	const struct admin_view *v = call->a->view;
	struct strbuf b;

	strbuf_init(&b);
	if (v->shadow_log != NULL)
		shadow_log_render(v->shadow_log, &b);
	else
		strbuf_adds(&b, "{\"total\":0,\"kept\":0,\"mismatches\":[]}\n");
	admin_reply_sb(call, 200, ADMIN_CT_JSON, &b);
}

/*
 * One "name=value" of /explain's query string, p[0..len). Returns 0, or -1
 * with the reason appended to `err`.
 */
static int
admin_explain_param(const char *p, size_t len, struct admin_explain_args *ea,
    struct strbuf *err)
{
	const char *eq = memchr(p, '=', len);
	char *name, *value, *colon, *v;
	struct strbuf line;
	int rc = -1;

	name = admin_query_decode(p, eq != NULL ? (size_t)(eq - p) : len);
	value = eq != NULL ? admin_query_decode(eq + 1, len - (size_t)(eq - p) - 1) :
			     xstrdup("");
	if (name == NULL || value == NULL) {
		strbuf_adds(err, "bad query string: invalid %-escape or %00\n");
	} else if (strcmp(name, "method") == 0 || strcmp(name, "url") == 0) {
		char **slot = name[0] == 'm' ? &ea->method : &ea->url;

		if (*slot != NULL) {
			strbuf_addf(err, "parameter %s given twice\n", name);
		} else {
			*slot = value;
			value = NULL;
			rc = 0;
		}
	} else if (strcmp(name, "h") == 0) {
		if ((colon = strchr(value, ':')) == NULL || colon == value) {
			strbuf_adds(err, "h must be Name:value\n");
		} else if (ea->nheaders == ADMIN_EXPLAIN_MAX_HEADERS) {
			strbuf_addf(err, "at most %d h= parameters\n",
			    ADMIN_EXPLAIN_MAX_HEADERS);
		} else {
			for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
				;
			strbuf_init(&line);
			strbuf_add(&line, value, (size_t)(colon - value));
			strbuf_adds(&line, ": ");
			strbuf_adds(&line, v);
			ea->headers[ea->nheaders++] = strbuf_detach(&line);
			rc = 0;
		}
	} else {
		strbuf_adds(err, "unknown parameter ");
		strbuf_adds(err, name);
		strbuf_adds(err, "\n");
	}
	free(name);
	free(value);
	return rc;
}

/*
 * GET /explain?method=M&url=U[&h=Name:value]...: route_explain() against
 * the running generation. Parameters are form-decoded ('+' and %XX);
 * each h= becomes the header line "Name: value". 200 with the trace and
 * X-Cutover-Matched when it matched or did not; 400 with the reason for
 * a bad query or a URL or header route_explain refuses.
 */
static void
admin_explain(struct admin_call *call)
{
	static const char usage[] =
	    "usage: /explain?method=M&url=U[&h=Name:value]...\n";
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(call->req);
	const char *q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	struct admin_explain_args ea = { .nheaders = 0 };
	struct strbuf out;
	int status = 400, r;

	strbuf_init(&out);
	while (q != NULL && *q != '\0') {
		const char *end = strchr(q, '&');
		size_t len = end != NULL ? (size_t)(end - q) : strlen(q);

		if (len > 0 && admin_explain_param(q, len, &ea, &out) == -1)
			break;
		q = end != NULL ? end + 1 : NULL;
	}
	if (out.len == 0 && (ea.method == NULL || *ea.method == '\0'))
		strbuf_adds(&out, "missing parameter method\n");
	else if (out.len == 0 && (ea.url == NULL || *ea.url == '\0'))
		strbuf_adds(&out, "missing parameter url\n");
	if (out.len > 0) {
		strbuf_adds(&out, usage);
	} else {
		r = route_explain(call->cfg, ea.method, ea.url,
		    (const char *const *)ea.headers, ea.nheaders, &out);
		if (r == 0 || r == 1) {
			status = 200;
			evhttp_add_header(evhttp_request_get_output_headers(call->req),
			    "X-Cutover-Matched", r == 0 ? "true" : "false");
		}
	}
	for (size_t i = 0; i < ea.nheaders; i++)
		free(ea.headers[i]);
	free(ea.method);
	free(ea.url);
	admin_reply_sb(call, status, ADMIN_CT_TEXT, &out);
}

/*
 * application/x-www-form-urlencoded decoding of p[0..n): '+' is a space,
 * %XX a byte. Returns a new string, or NULL for a malformed escape or a
 * NUL byte (which a C string cannot carry).
 */
static char *
admin_query_decode(const char *p, size_t n)
{
	char *s = xmalloc(n + 1), *d = s;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == '+') {
			*d++ = ' ';
		} else if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				goto bad;
			hi = http_hex_digit((unsigned char)p[i + 1]);
			lo = http_hex_digit((unsigned char)p[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			*d++ = (char)(hi << 4 | lo);
			i += 2;
		} else {
			*d++ = (char)c;
		}
	}
	*d = '\0';
	return s;
bad:
	free(s);
	return NULL;
}
