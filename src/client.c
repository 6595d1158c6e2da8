/*
 * client: an accepted connection, its timers and its keep-alive loop.
 * Request heads are parsed here; everything after the head belongs to the
 * transaction (txn.c).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cutover/accesslog.h"
#include "cutover/client.h"
#include "cutover/clock.h"
#include "cutover/http_parse.h"
#include "cutover/http_reply.h"
#include "cutover/log.h"
#include "cutover/metrics.h"
#include "cutover/reqid.h"
#include "cutover/strbuf.h"
#include "cutover/timer.h"
#include "cutover/tunnel.h"
#include "cutover/upstream_conn.h"
#include "cutover/worker.h"

/* How long a closing connection keeps draining the client's bytes. */
#define CLIENT_LINGER_MS 2000
/* Our own answers queued for a client that does not read them. */
#define CLIENT_OUTPUT_MAX (256 * 1024)

static void client_on_read(struct stream *s, void *arg);
static void client_on_drain(struct stream *s, void *arg);
static void client_on_event(struct stream *s, enum stream_event ev, void *arg);
static void client_timercb(evutil_socket_t fd, short what, void *arg);
static void client_arm_timer(struct client *c, uint64_t ms);
static void client_read_head(struct client *c);
static void client_account_error(struct client *c, int status, const char *id,
    size_t in, size_t out);

static const struct stream_ops client_ops = {
	.on_read = client_on_read,
	.on_drain = client_on_drain,
	.on_event = client_on_event,
};

static const char *const client_state_names[] = {
	[CLIENT_S_IDLE] = "idle",
	[CLIENT_S_HEAD] = "head",
	[CLIENT_S_BUSY] = "busy",
	[CLIENT_S_TUNNEL] = "tunnel",
	[CLIENT_S_CLOSING] = "closing",
};

void
client_accept(struct worker *w, size_t listener, SSL *ssl, int fd,
    const struct sockaddr *sa)
{
	struct client *c = xcalloc(1, sizeof(*c));

	c->w = w;
	c->listener = listener;
	metrics_connection(w->metrics, listener, 1);
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    c->addr, sizeof(c->addr));
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
		    c->addr, sizeof(c->addr));
	else
		strcpy(c->addr, "unknown");
	stream_init(&c->s, w->base, fd, &client_ops, c);
	if (ssl != NULL) {
		c->tls = true;
		stream_tls_start(&c->s, ssl);
	}
	evtimer_assign(&c->timer, w->base, client_timercb, c);
	TAILQ_INSERT_TAIL(&w->clients, c, entry);
	w->nclients++;
	/* The first request's head is timed from the accept. */
	c->state = CLIENT_S_HEAD;
	client_arm_timer(c, w->cfg->client_timeouts.header_ms);
	stream_set_timeouts(&c->s, 0, w->cfg->client_timeouts.send_ms);
	stream_read_start(&c->s);
}

void
client_set_state(struct client *c, enum client_state st)
{
	static const unsigned char ok[5][5] = {
		/* to:         IDLE HEAD BUSY TUNNEL CLOSING */
		[CLIENT_S_IDLE] = { 0, 1, 0, 0, 1 },
		[CLIENT_S_HEAD] = { 0, 0, 1, 0, 1 },
		[CLIENT_S_BUSY] = { 1, 0, 0, 1, 1 },
		[CLIENT_S_TUNNEL] = { 0, 0, 0, 0, 1 },
		[CLIENT_S_CLOSING] = { 0, 0, 0, 0, 0 },
	};

	if (!ok[c->state][st])
		fatal("client: bad transition %s -> %s",
		    client_state_names[c->state], client_state_names[st]);
	if (log_debug_enabled())
		log_debug("client_state", "client=%s from=%s to=%s", c->addr,
		    client_state_names[c->state], client_state_names[st]);
	c->state = st;
}

static void
client_arm_timer(struct client *c, uint64_t ms)
{
	timer_arm(&c->timer, ms);
}

void
client_close(struct client *c, const char *reason)
{
	struct worker *w = c->w;

	log_debug("client_close", "client=%s requests=%llu reason=\"%s\"",
	    c->addr, (unsigned long long)c->nrequests, reason);
	client_release_txn(c);
	if (c->tunnel != NULL)
		upconn_close(c->tunnel, reason);
	/* After the connection: its pool may belong to this generation only. */
	config_unref(c->tunnel_cfg);
	evtimer_del(&c->timer);
	stream_close(&c->s);
	metrics_connection(w->metrics, c->listener, -1);
	TAILQ_REMOVE(&w->clients, c, entry);
	free(c);
	worker_client_gone(w);
}

void
client_finish(struct client *c, const char *reason)
{
	if (c->state == CLIENT_S_CLOSING)
		return;
	log_debug("client_finish", "client=%s reason=\"%s\"", c->addr, reason);
	client_set_state(c, CLIENT_S_CLOSING);
	client_release_txn(c);
	/*
	 * Lingering close: send what we have, half-close, and keep reading
	 * (and dropping) the client's bytes for a while, so unread request
	 * bytes do not turn our close into a reset that loses the response.
	 */
	stream_set_timeouts(&c->s, 0, c->w->cfg->client_timeouts.send_ms);
	stream_shutdown_wr(&c->s);
	stream_flush(&c->s);
	evbuffer_drain(c->s.in, evbuffer_get_length(c->s.in));
	stream_read_start(&c->s);
	if (stream_out_pending(&c->s) > 0) {
		/* The send timeout guards the flush; the linger starts after it. */
		evtimer_del(&c->timer);
		stream_watch_drain(&c->s, 0);
		return;
	}
	/* Never freed here: callers up the stack still hold c. */
	client_arm_timer(c, c->peer_eof ? 1 : CLIENT_LINGER_MS);
}

/*
 * An answer of ours that ends the connection. Inside a transaction it
 * carries the request's ID and is accounted with it; before one (a head we
 * could not parse) it gets a fresh ID and its own log line.
 */
void
client_error(struct client *c, int status, const char *detail)
{
	const struct correlation_conf *cc = &c->w->cfg->correlation;
	struct http_reply_opts o = { .close = true, .client_minor = 1 };
	char fresh[REQID_UUID_LEN + 1];

	log_debug("client_error", "client=%s status=%d detail=\"%s\"", c->addr,
	    status, detail ? detail : "");
	if (c->txn != NULL) {
		o.request_id = c->txn->reqid;
		o.head_only = c->txn->meth == HTTP_M_HEAD;
		if (c->txn->cfg != NULL)
			c->txn->status = status;
	} else {
		if (cc->generate == REQID_GEN_UUID4)
			reqid_uuid4(fresh, &c->w->rng);
		else
			reqid_uuid7(fresh, clock_unix_ms(), &c->w->rng);
		o.request_id = fresh;
	}
	o.id_header = cc->echo ? cc->header : NULL;
	{
		size_t before = evbuffer_get_length(c->s.out);

		http_reply_error_opts(c->s.out, status, detail, &o);
		if (c->txn == NULL)
			client_account_error(c, status, fresh,
			    evbuffer_get_length(c->s.in),
			    evbuffer_get_length(c->s.out) - before);
	}
	client_finish(c, http_reply_error_text(status));
}

/* The access-log line and count for an answer given before any request was parsed. */
static void
client_account_error(struct client *c, int status, const char *id, size_t in,
    size_t out)
{
	struct accesslog_entry e;

	memset(&e, 0, sizeof(e));
	e.ts_unix_us = clock_unix_ms() * 1000u;
	e.request_id = id;
	e.client = c->addr;
	e.status = status;
	e.bytes_in = in;
	e.bytes_out = out;
	e.upstream_us = -1;
	metrics_request(c->w->metrics, METRICS_NONE, METRICS_NONE, status, 0);
	accesslog_write(c->w->alog, &e);
}

void
client_release_txn(struct client *c)
{
	if (c->txn == NULL)
		return;
	txn_abort(c->txn, "released");
	txn_account(c->txn);
	worker_txn_put(c->w, c->txn);
	c->txn = NULL;
}

void
client_txn_done(struct client *c, bool keepalive)
{
	client_release_txn(c);
	c->nrequests++;
	/* A half-closed client still gets answers to what it already sent (S10). */
	if (!keepalive || c->w->draining ||
	    (c->peer_eof && evbuffer_get_length(c->s.in) == 0)) {
		client_finish(c, "response complete");
		return;
	}
	client_set_state(c, CLIENT_S_IDLE);
	stream_set_timeouts(&c->s, 0, c->w->cfg->client_timeouts.send_ms);
	client_arm_timer(c, c->w->cfg->client_timeouts.idle_ms);
	stream_read_start(&c->s);
	if (!c->in_process && evbuffer_get_length(c->s.in) > 0)
		client_process(c);
}

void
client_drain(struct client *c)
{
	switch (c->state) {
	case CLIENT_S_IDLE:
		client_close(c, "draining");
		break;
	case CLIENT_S_HEAD:
		if (evbuffer_get_length(c->s.in) == 0)
			client_close(c, "draining");
		break;
	case CLIENT_S_BUSY:
		if (c->txn != NULL)
			c->txn->keepalive = false;
		break;
	case CLIENT_S_TUNNEL:
	case CLIENT_S_CLOSING:
		break;
	}
}

/*
 * Run the connection forward over whatever input is buffered. Requests
 * answered synchronously (errors, respond routes) loop here rather than
 * recursing, so a long pipeline costs no stack.
 */
bool
client_process(struct client *c)
{
	c->in_process = true;
	for (;;) {
		enum client_state before = c->state;
		size_t len_before = evbuffer_get_length(c->s.in);

		if (c->state == CLIENT_S_IDLE) {
			if (len_before == 0)
				break;
			client_set_state(c, CLIENT_S_HEAD);
			client_arm_timer(c, c->w->cfg->client_timeouts.header_ms);
		}
		if (c->state != CLIENT_S_HEAD)
			break;
		if (stream_out_pending(&c->s) >= CLIENT_OUTPUT_MAX) {
			/*
			 * A pipelining client that does not read its answers
			 * gets no more until it does (resumed in on_drain).
			 */
			stream_read_stop(&c->s);
			stream_watch_drain(&c->s, CLIENT_OUTPUT_MAX / 4);
			break;
		}
		client_read_head(c);
		/* client_read_head may have freed c only via client_close, which it never calls. */
		if (c->state == before && evbuffer_get_length(c->s.in) == len_before)
			break;
	}
	c->in_process = false;
	/* Half-closed and nothing complete left to answer: done. */
	if (c->peer_eof && stream_out_pending(&c->s) < CLIENT_OUTPUT_MAX &&
	    (c->state == CLIENT_S_IDLE || c->state == CLIENT_S_HEAD)) {
		if (stream_out_pending(&c->s) > 0)
			client_finish(c, "client closed");
		else
			client_close(c, "client closed");
		return false;
	}
	return true;
}

static void
client_read_head(struct client *c)
{
	struct worker *w = c->w;
	const struct limits_conf *lim = &w->cfg->limits;
	struct http_limits hl = {
		.max_header_bytes = (size_t)lim->max_header_bytes,
		.max_target_bytes = (size_t)lim->max_target_bytes,
		.max_headers = (size_t)lim->max_headers,
	};
	struct http_head h;
	struct http_error err;
	size_t len = evbuffer_get_length(c->s.in);
	size_t want = len;
	const char *p;

	/* Never linearise more than a head can be: the rest may be body. */
	if (want > hl.max_header_bytes + 1)
		want = hl.max_header_bytes + 1;
	p = (const char *)evbuffer_pullup(c->s.in, (ssize_t)want);
	http_head_init(&h, w->req_fields, w->max_fields);
	h.scan_pos = c->scan_pos;
	switch (http_parse_request(p, want, &h, &hl, &err)) {
	case HTTP_PARSE_AGAIN:
		c->scan_pos = h.scan_pos;
		if (evbuffer_get_length(c->s.in) > hl.max_header_bytes)
			client_error(c, 431, "request head too large");
		return;
	case HTTP_PARSE_ERROR:
		c->scan_pos = 0;
		client_error(c, err.status, err.reason);
		return;
	case HTTP_PARSE_DONE:
		break;
	}
	c->scan_pos = 0;
	evtimer_del(&c->timer);
	client_set_state(c, CLIENT_S_BUSY);
	c->txn = worker_txn_get(w, c);
	txn_start(c->txn, &h);
}

static void
client_on_read(struct stream *s, void *arg)
{
	struct client *c = arg;

	switch (c->state) {
	case CLIENT_S_IDLE:
	case CLIENT_S_HEAD:
		if (stream_plain_on_tls(s)) {
			client_error(c, 400, "plain HTTP request sent to a TLS port");
			break;
		}
		client_process(c);
		break;
	case CLIENT_S_BUSY:
		txn_client_read(c->txn);
		break;
	case CLIENT_S_TUNNEL:
		break; /* tunnel.c owns the callbacks in this state */
	case CLIENT_S_CLOSING:
		evbuffer_drain(c->s.in, evbuffer_get_length(c->s.in));
		break;
	}
}

static void
client_on_drain(struct stream *s, void *arg)
{
	struct client *c = arg;

	(void)s;
	switch (c->state) {
	case CLIENT_S_BUSY:
		txn_client_drain(c->txn);
		break;
	case CLIENT_S_IDLE:
	case CLIENT_S_HEAD:
		stream_read_start(&c->s);
		client_process(c);
		break;
	case CLIENT_S_CLOSING:
		if (c->peer_eof)
			client_close(c, "closed after flush");
		else
			client_arm_timer(c, CLIENT_LINGER_MS);
		break;
	case CLIENT_S_TUNNEL:
		break;
	}
}

static void
client_on_event(struct stream *s, enum stream_event ev, void *arg)
{
	struct client *c = arg;

	(void)s;
	switch (ev) {
	case STREAM_EV_EOF:
		c->peer_eof = true;
		if (c->state == CLIENT_S_IDLE || c->state == CLIENT_S_HEAD) {
			/* Answers what is complete, then finishes or closes. */
			(void)client_process(c);
		} else if (c->state == CLIENT_S_CLOSING) {
			if (stream_out_pending(&c->s) == 0)
				client_close(c, "client closed");
		} else if (c->state == CLIENT_S_BUSY) {
			/* A half-closed client still gets its response (S10). */
			txn_client_read(c->txn);
		}
		break;
	case STREAM_EV_ERROR:
		client_close(c, "client connection error");
		break;
	case STREAM_EV_WRITE_TIMEOUT:
		client_close(c, "client too slow reading (send timeout)");
		break;
	case STREAM_EV_READ_TIMEOUT:
		if (c->state == CLIENT_S_BUSY && !c->txn->resp_started) {
			client_error(c, 408, "request body timeout");
		} else {
			client_close(c, "client read timeout");
		}
		break;
	case STREAM_EV_CONNECTED:
		break;
	}
}

static void
client_timercb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = arg;

	(void)fd;
	(void)what;
	switch (c->state) {
	case CLIENT_S_IDLE:
		client_close(c, "idle timeout");
		break;
	case CLIENT_S_HEAD:
		/* A client that sent nothing at all just goes; a slow one hears why. */
		if (evbuffer_get_length(c->s.in) == 0 && c->nrequests == 0 &&
		    c->s.bytes_in == 0)
			client_close(c, "header timeout, nothing sent");
		else
			client_error(c, 408, "request head timeout");
		break;
	case CLIENT_S_CLOSING:
		client_close(c, "linger over");
		break;
	case CLIENT_S_BUSY:
	case CLIENT_S_TUNNEL:
		break;
	}
}
