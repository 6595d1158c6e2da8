/*
 * upstream_conn: connections to upstream servers, and their life in the
 * pool. An idle connection keeps reading: any byte or EOF from the server
 * while no request is outstanding means it is no longer usable, so it is
 * closed at once and can never be handed to a request.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "cutover/log.h"
#include "cutover/metrics.h"
#include "cutover/pool.h"
#include "cutover/strbuf.h"
#include "cutover/tls.h"
#include "cutover/upstream_conn.h"
#include "cutover/upstream_rt.h"
#include "cutover/worker.h"

static void upconn_idle_read(struct stream *s, void *arg);
static void upconn_idle_drain(struct stream *s, void *arg);
static void upconn_idle_event(struct stream *s, enum stream_event ev, void *arg);

static const struct stream_ops upconn_idle_ops = {
	.on_read = upconn_idle_read,
	.on_drain = upconn_idle_drain,
	.on_event = upconn_idle_event,
};

struct upstream_conn *
upconn_connect(struct worker *w, struct pool_server *ps,
    const struct upstream_tls_conf *tls, const struct stream_ops *ops,
    void *arg)
{
	struct upstream_conn *uc;
	SSL *ssl = NULL;

	if (tls->enabled) {
		/* The name sent is the name checked: `sni`, else the server's host. */
		const char *name = tls->sni != NULL ? tls->sni : ps->host;

		if (tls->ctx == NULL ||
		    (ssl = tls_client_ssl(tls->ctx, name, name,
			&ps->tls_session)) == NULL) {
			errno = EPROTO;
			return NULL;
		}
	}
	uc = xcalloc(1, sizeof(*uc));

	uc->w = w;
	uc->ps = ps;
	uc->state = UPCONN_CONNECTING;
	if (stream_connect(&uc->s, w->base, (const struct sockaddr *)&ps->addr,
	    ps->addrlen, ops, arg) == -1) {
		int e = errno;

		SSL_free(ssl);
		free(uc);
		errno = e;
		return NULL;
	}
	if (ssl != NULL)
		stream_tls_start(&uc->s, ssl);
	ps->nbusy++;
	metrics_upstream_conns(w->metrics, ps->up_id, 1, 0);
	return uc;
}

struct upstream_conn *
upconn_take_idle(struct pool_server *ps, const struct stream_ops *ops,
    void *arg)
{
	struct upstream_conn *uc;

	/*
	 * Has the upstream closed (or written to) an idle connection in a way
	 * our loop has not seen yet? The keep-alive race: a server closing an
	 * idle connection just as we reuse it. A FIN already here means the
	 * upstream cannot see the request we are about to write, so we take
	 * another connection instead of failing the request. One peek a reuse.
	 */
	while ((uc = TAILQ_FIRST(&ps->idle)) != NULL && stream_peer_gone(&uc->s)) {
		log_debug("upstream_idle_gone", "upstream=%s server=%s",
		    ps->rt->name, ps->address);
		upconn_close(uc, "closed by the upstream while idle");
	}
	if (uc == NULL)
		return NULL;
	TAILQ_REMOVE(&ps->idle, uc, entry);
	ps->nidle--;
	ps->nbusy++;
	metrics_upstream_conns(uc->w->metrics, ps->up_id, 1, -1);
	uc->state = UPCONN_BUSY;
	stream_set_ops(&uc->s, ops, arg);
	stream_set_timeouts(&uc->s, 0, 0);
	return uc;
}

void
upconn_release(struct upstream_conn *uc, uint64_t idle_timeout_ms)
{
	struct pool_server *ps = uc->ps;

	/* A reload replaced this upstream: its pool takes no more connections. */
	if (atomic_load(&ps->rt->retired)) {
		upconn_close(uc, "upstream replaced by a reload");
		return;
	}
	uc->txn = NULL;
	uc->state = UPCONN_IDLE;
	uc->uses++;
	ps->nbusy--;
	metrics_upstream_conns(uc->w->metrics, ps->up_id, -1, 1);
	stream_set_ops(&uc->s, &upconn_idle_ops, uc);
	stream_set_timeouts(&uc->s, idle_timeout_ms, 0);
	stream_read_start(&uc->s);
	/* Most recently used first: warm connections get reused, cold ones expire. */
	TAILQ_INSERT_HEAD(&ps->idle, uc, entry);
	ps->nidle++;
}

void
upconn_close(struct upstream_conn *uc, const char *reason)
{
	struct pool_server *ps = uc->ps;

	if (uc->state == UPCONN_IDLE) {
		TAILQ_REMOVE(&ps->idle, uc, entry);
		ps->nidle--;
		metrics_upstream_conns(uc->w->metrics, ps->up_id, 0, -1);
	} else {
		ps->nbusy--;
		metrics_upstream_conns(uc->w->metrics, ps->up_id, -1, 0);
	}
	log_debug("upstream_close", "upstream=%s server=%s reason=\"%s\"",
	    ps->rt->name, ps->address, reason);
	stream_close(&uc->s);
	free(uc);
}

static void
upconn_idle_read(struct stream *s, void *arg)
{
	(void)s;
	/* Bytes nobody asked for: the connection's framing can't be trusted. */
	upconn_close(arg, "unexpected bytes while idle");
}

static void
upconn_idle_drain(struct stream *s, void *arg)
{
	(void)s;
	(void)arg;
}

static void
upconn_idle_event(struct stream *s, enum stream_event ev, void *arg)
{
	(void)s;
	upconn_close(arg, ev == STREAM_EV_READ_TIMEOUT ? "idle timeout" :
	    "closed by upstream while idle");
}

enum http_parse_rc
upconn_parse_head(struct upstream_conn *uc, enum http_method m,
    size_t *scan_pos, struct http_head *h, struct http_error *err)
{
	struct worker *w = uc->w;
	struct evbuffer *in = uc->s.in;
	struct http_limits hl = {
		.max_header_bytes = UPCONN_MAX_RESPONSE_HEAD,
		.max_target_bytes = UPCONN_MAX_RESPONSE_HEAD,
		.max_headers = w->max_fields,
	};
	size_t len = evbuffer_get_length(in);
	enum http_parse_rc rc;
	const char *p;

	if (len > UPCONN_MAX_RESPONSE_HEAD + 1)
		len = UPCONN_MAX_RESPONSE_HEAD + 1;
	p = (const char *)evbuffer_pullup(in, (ssize_t)len);
	http_head_init(h, w->resp_fields, w->max_fields);
	h->scan_pos = *scan_pos; /* a trickled head costs linear time */
	rc = http_parse_response(p, len, h, m, &hl, err);
	*scan_pos = rc == HTTP_PARSE_AGAIN ? h->scan_pos : 0;
	return rc;
}
